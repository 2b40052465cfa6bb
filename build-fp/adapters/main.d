build-fp/adapters/main.o: adapters/main.c adapters/../engine/engine.h \
 adapters/../engine/decision.h adapters/../engine/util.h \
 adapters/../engine/banned.h adapters/../engine/event.h \
 adapters/../engine/err.h adapters/../replay/replay.h \
 adapters/../replay/../engine/engine.h \
 adapters/../replay/../store/journal.h \
 adapters/../replay/../store/../engine/decision.h \
 adapters/../replay/../store/../engine/event.h \
 adapters/../replay/../store/../engine/util.h adapters/../store/journal.h \
 adapters/manager.h adapters/nodesim.h adapters/runner.h \
 adapters/actuator.h adapters/../engine/decision.h adapters/sim.h \
 adapters/simrun.h adapters/webhookcfg.h adapters/kube.h \
 adapters/kubeconfig.h
adapters/../engine/engine.h:
adapters/../engine/decision.h:
adapters/../engine/util.h:
adapters/../engine/banned.h:
adapters/../engine/event.h:
adapters/../engine/err.h:
adapters/../replay/replay.h:
adapters/../replay/../engine/engine.h:
adapters/../replay/../store/journal.h:
adapters/../replay/../store/../engine/decision.h:
adapters/../replay/../store/../engine/event.h:
adapters/../replay/../store/../engine/util.h:
adapters/../store/journal.h:
adapters/manager.h:
adapters/nodesim.h:
adapters/runner.h:
adapters/actuator.h:
adapters/../engine/decision.h:
adapters/sim.h:
adapters/simrun.h:
adapters/webhookcfg.h:
adapters/kube.h:
adapters/kubeconfig.h:
