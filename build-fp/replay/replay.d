build-fp/replay/replay.o: replay/replay.c replay/replay.h \
 replay/../engine/engine.h replay/../engine/decision.h \
 replay/../engine/util.h replay/../engine/banned.h \
 replay/../engine/event.h replay/../store/journal.h \
 replay/../store/../engine/decision.h replay/../store/../engine/event.h \
 replay/../store/../engine/util.h replay/../engine/err.h
replay/replay.h:
replay/../engine/engine.h:
replay/../engine/decision.h:
replay/../engine/util.h:
replay/../engine/banned.h:
replay/../engine/event.h:
replay/../store/journal.h:
replay/../store/../engine/decision.h:
replay/../store/../engine/event.h:
replay/../store/../engine/util.h:
replay/../engine/err.h:
