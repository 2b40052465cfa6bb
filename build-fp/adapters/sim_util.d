build-fp/adapters/sim_util.o: adapters/sim_util.c adapters/sim_int.h \
 adapters/../engine/decision.h adapters/../engine/util.h \
 adapters/../engine/banned.h adapters/actuator.h adapters/sim.h \
 adapters/../engine/err.h adapters/../engine/util.h
adapters/sim_int.h:
adapters/../engine/decision.h:
adapters/../engine/util.h:
adapters/../engine/banned.h:
adapters/actuator.h:
adapters/sim.h:
adapters/../engine/err.h:
adapters/../engine/util.h:
