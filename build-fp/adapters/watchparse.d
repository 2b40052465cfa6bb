build-fp/adapters/watchparse.o: adapters/watchparse.c \
 adapters/watchparse.h adapters/../engine/err.h adapters/../engine/util.h \
 adapters/../engine/banned.h
adapters/watchparse.h:
adapters/../engine/err.h:
adapters/../engine/util.h:
adapters/../engine/banned.h:
