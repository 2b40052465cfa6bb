build-fp/adapters/sim_kubelet.o: adapters/sim_kubelet.c \
 adapters/../engine/err.h adapters/../engine/event.h \
 adapters/../engine/util.h adapters/../engine/banned.h adapters/sim_int.h \
 adapters/../engine/decision.h adapters/../engine/util.h \
 adapters/actuator.h adapters/sim.h
adapters/../engine/err.h:
adapters/../engine/event.h:
adapters/../engine/util.h:
adapters/../engine/banned.h:
adapters/sim_int.h:
adapters/../engine/decision.h:
adapters/../engine/util.h:
adapters/actuator.h:
adapters/sim.h:
