build-fp/adapters/admreview.o: adapters/admreview.c adapters/admreview.h \
 adapters/../engine/event.h adapters/../engine/err.h \
 adapters/../engine/util.h adapters/../engine/banned.h
adapters/admreview.h:
adapters/../engine/event.h:
adapters/../engine/err.h:
adapters/../engine/util.h:
adapters/../engine/banned.h:
