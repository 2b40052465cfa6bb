build-fp/adapters/kubeconfig.o: adapters/kubeconfig.c \
 adapters/kubeconfig.h adapters/../engine/err.h adapters/../engine/util.h \
 adapters/../engine/banned.h
adapters/kubeconfig.h:
adapters/../engine/err.h:
adapters/../engine/util.h:
adapters/../engine/banned.h:
