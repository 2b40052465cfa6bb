build-fp/adapters/manager.o: adapters/manager.c adapters/manager.h \
 adapters/../engine/err.h adapters/../engine/obj.h \
 adapters/../engine/util.h adapters/../engine/banned.h \
 adapters/../engine/util.h adapters/../store/journal.h \
 adapters/../store/../engine/decision.h \
 adapters/../store/../engine/util.h adapters/../store/../engine/event.h \
 adapters/../store/../engine/util.h adapters/informer.h adapters/kube.h \
 adapters/kubeconfig.h adapters/resources.h adapters/watchparse.h \
 adapters/kubeact.h adapters/actuator.h adapters/../engine/decision.h \
 adapters/log.h adapters/runner.h adapters/../engine/engine.h \
 adapters/../engine/decision.h adapters/../engine/event.h \
 adapters/webhook.h adapters/../engine/event.h adapters/webhookcfg.h
adapters/manager.h:
adapters/../engine/err.h:
adapters/../engine/obj.h:
adapters/../engine/util.h:
adapters/../engine/banned.h:
adapters/../engine/util.h:
adapters/../store/journal.h:
adapters/../store/../engine/decision.h:
adapters/../store/../engine/util.h:
adapters/../store/../engine/event.h:
adapters/../store/../engine/util.h:
adapters/informer.h:
adapters/kube.h:
adapters/kubeconfig.h:
adapters/resources.h:
adapters/watchparse.h:
adapters/kubeact.h:
adapters/actuator.h:
adapters/../engine/decision.h:
adapters/log.h:
adapters/runner.h:
adapters/../engine/engine.h:
adapters/../engine/decision.h:
adapters/../engine/event.h:
adapters/webhook.h:
adapters/../engine/event.h:
adapters/webhookcfg.h:
