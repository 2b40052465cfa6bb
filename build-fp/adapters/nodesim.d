build-fp/adapters/nodesim.o: adapters/nodesim.c adapters/nodesim.h \
 adapters/../engine/err.h adapters/../engine/event.h \
 adapters/../engine/map.h adapters/../engine/util.h \
 adapters/../engine/banned.h adapters/informer.h adapters/kube.h \
 adapters/kubeconfig.h adapters/resources.h adapters/watchparse.h \
 adapters/log.h
adapters/nodesim.h:
adapters/../engine/err.h:
adapters/../engine/event.h:
adapters/../engine/map.h:
adapters/../engine/util.h:
adapters/../engine/banned.h:
adapters/informer.h:
adapters/kube.h:
adapters/kubeconfig.h:
adapters/resources.h:
adapters/watchparse.h:
adapters/log.h:
