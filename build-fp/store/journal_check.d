build-fp/store/journal_check.o: store/journal_check.c \
 store/../engine/err.h store/journal.h store/../engine/decision.h \
 store/../engine/util.h store/../engine/banned.h store/../engine/event.h \
 store/../engine/util.h store/journal_int.h
store/../engine/err.h:
store/journal.h:
store/../engine/decision.h:
store/../engine/util.h:
store/../engine/banned.h:
store/../engine/event.h:
store/../engine/util.h:
store/journal_int.h:
