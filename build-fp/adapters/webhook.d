build-fp/adapters/webhook.o: adapters/webhook.c adapters/webhook.h \
 adapters/../engine/decision.h adapters/../engine/util.h \
 adapters/../engine/banned.h adapters/../engine/event.h \
 adapters/../engine/util.h adapters/../engine/err.h \
 adapters/../engine/map.h adapters/admreview.h adapters/log.h \
 adapters/runner.h adapters/../engine/engine.h \
 adapters/../engine/decision.h adapters/../engine/event.h \
 adapters/../store/journal.h adapters/../store/../engine/decision.h \
 adapters/../store/../engine/event.h adapters/../store/../engine/util.h \
 adapters/actuator.h
adapters/webhook.h:
adapters/../engine/decision.h:
adapters/../engine/util.h:
adapters/../engine/banned.h:
adapters/../engine/event.h:
adapters/../engine/util.h:
adapters/../engine/err.h:
adapters/../engine/map.h:
adapters/admreview.h:
adapters/log.h:
adapters/runner.h:
adapters/../engine/engine.h:
adapters/../engine/decision.h:
adapters/../engine/event.h:
adapters/../store/journal.h:
adapters/../store/../engine/decision.h:
adapters/../store/../engine/event.h:
adapters/../store/../engine/util.h:
adapters/actuator.h:
