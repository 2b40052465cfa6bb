build-fp/adapters/runner.o: adapters/runner.c adapters/runner.h \
 adapters/../engine/engine.h adapters/../engine/decision.h \
 adapters/../engine/util.h adapters/../engine/banned.h \
 adapters/../engine/event.h adapters/../store/journal.h \
 adapters/../store/../engine/decision.h \
 adapters/../store/../engine/event.h adapters/../store/../engine/util.h \
 adapters/actuator.h adapters/../engine/decision.h \
 adapters/../engine/err.h
adapters/runner.h:
adapters/../engine/engine.h:
adapters/../engine/decision.h:
adapters/../engine/util.h:
adapters/../engine/banned.h:
adapters/../engine/event.h:
adapters/../store/journal.h:
adapters/../store/../engine/decision.h:
adapters/../store/../engine/event.h:
adapters/../store/../engine/util.h:
adapters/actuator.h:
adapters/../engine/decision.h:
adapters/../engine/err.h:
