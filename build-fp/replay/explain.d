build-fp/replay/explain.o: replay/explain.c replay/../engine/err.h \
 replay/../engine/obj.h replay/../engine/util.h replay/../engine/banned.h \
 replay/replay.h replay/../engine/engine.h replay/../engine/decision.h \
 replay/../engine/event.h replay/../store/journal.h \
 replay/../store/../engine/decision.h replay/../store/../engine/event.h \
 replay/../store/../engine/util.h
replay/../engine/err.h:
replay/../engine/obj.h:
replay/../engine/util.h:
replay/../engine/banned.h:
replay/replay.h:
replay/../engine/engine.h:
replay/../engine/decision.h:
replay/../engine/event.h:
replay/../store/journal.h:
replay/../store/../engine/decision.h:
replay/../store/../engine/event.h:
replay/../store/../engine/util.h:
