build-fp/adapters/kube.o: adapters/kube.c adapters/kube.h \
 adapters/kubeconfig.h adapters/../engine/err.h adapters/../engine/util.h \
 adapters/../engine/banned.h
adapters/kube.h:
adapters/kubeconfig.h:
adapters/../engine/err.h:
adapters/../engine/util.h:
adapters/../engine/banned.h:
