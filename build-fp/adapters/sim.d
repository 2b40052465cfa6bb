build-fp/adapters/sim.o: adapters/sim.c adapters/sim.h \
 adapters/actuator.h adapters/../engine/decision.h \
 adapters/../engine/util.h adapters/../engine/banned.h \
 adapters/../engine/err.h adapters/../engine/event.h \
 adapters/../engine/util.h adapters/sim_int.h
adapters/sim.h:
adapters/actuator.h:
adapters/../engine/decision.h:
adapters/../engine/util.h:
adapters/../engine/banned.h:
adapters/../engine/err.h:
adapters/../engine/event.h:
adapters/../engine/util.h:
adapters/sim_int.h:
