build-fp/adapters/kubeact.o: adapters/kubeact.c adapters/kubeact.h \
 adapters/actuator.h adapters/../engine/decision.h \
 adapters/../engine/util.h adapters/../engine/banned.h adapters/kube.h \
 adapters/kubeconfig.h adapters/../engine/err.h adapters/../engine/util.h \
 adapters/log.h adapters/resources.h
adapters/kubeact.h:
adapters/actuator.h:
adapters/../engine/decision.h:
adapters/../engine/util.h:
adapters/../engine/banned.h:
adapters/kube.h:
adapters/kubeconfig.h:
adapters/../engine/err.h:
adapters/../engine/util.h:
adapters/log.h:
adapters/resources.h:
