build-fp/adapters/informer.o: adapters/informer.c adapters/informer.h \
 adapters/kube.h adapters/kubeconfig.h adapters/resources.h \
 adapters/watchparse.h adapters/../engine/err.h \
 adapters/../engine/event.h adapters/../engine/util.h \
 adapters/../engine/banned.h adapters/log.h
adapters/informer.h:
adapters/kube.h:
adapters/kubeconfig.h:
adapters/resources.h:
adapters/watchparse.h:
adapters/../engine/err.h:
adapters/../engine/event.h:
adapters/../engine/util.h:
adapters/../engine/banned.h:
adapters/log.h:
