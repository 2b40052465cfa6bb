build-fp/engine/cloneset_predownload.o: engine/cloneset_predownload.c \
 engine/cloneset.h engine/obj.h engine/util.h engine/banned.h \
 engine/err.h engine/inplace.h engine/reducer.h engine/decision.h \
 engine/engine.h engine/event.h engine/revision.h
engine/cloneset.h:
engine/obj.h:
engine/util.h:
engine/banned.h:
engine/err.h:
engine/inplace.h:
engine/reducer.h:
engine/decision.h:
engine/engine.h:
engine/event.h:
engine/revision.h:
