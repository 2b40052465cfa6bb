build-fp/store/journal.o: store/journal.c store/journal.h \
 store/../engine/decision.h store/../engine/util.h \
 store/../engine/banned.h store/../engine/event.h store/../engine/util.h \
 store/../engine/err.h store/journal_int.h
store/journal.h:
store/../engine/decision.h:
store/../engine/util.h:
store/../engine/banned.h:
store/../engine/event.h:
store/../engine/util.h:
store/../engine/err.h:
store/journal_int.h:
