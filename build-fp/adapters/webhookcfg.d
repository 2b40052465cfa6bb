build-fp/adapters/webhookcfg.o: adapters/webhookcfg.c \
 adapters/webhookcfg.h adapters/kube.h adapters/kubeconfig.h \
 adapters/../engine/err.h adapters/../engine/util.h \
 adapters/../engine/banned.h adapters/log.h adapters/webhook.h \
 adapters/../engine/decision.h adapters/../engine/util.h \
 adapters/../engine/event.h
adapters/webhookcfg.h:
adapters/kube.h:
adapters/kubeconfig.h:
adapters/../engine/err.h:
adapters/../engine/util.h:
adapters/../engine/banned.h:
adapters/log.h:
adapters/webhook.h:
adapters/../engine/decision.h:
adapters/../engine/util.h:
adapters/../engine/event.h:
