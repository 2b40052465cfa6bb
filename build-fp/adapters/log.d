build-fp/adapters/log.o: adapters/log.c adapters/log.h \
 adapters/../engine/util.h adapters/../engine/banned.h
adapters/log.h:
adapters/../engine/util.h:
adapters/../engine/banned.h:
