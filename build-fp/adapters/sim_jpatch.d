build-fp/adapters/sim_jpatch.o: adapters/sim_jpatch.c \
 adapters/../engine/util.h adapters/../engine/banned.h adapters/sim_int.h \
 adapters/../engine/decision.h adapters/../engine/util.h \
 adapters/actuator.h adapters/sim.h
adapters/../engine/util.h:
adapters/../engine/banned.h:
adapters/sim_int.h:
adapters/../engine/decision.h:
adapters/../engine/util.h:
adapters/actuator.h:
adapters/sim.h:
