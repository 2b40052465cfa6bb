build-fp/engine/revision.o: engine/revision.c engine/revision.h \
 engine/obj.h engine/util.h engine/banned.h engine/cloneset.h \
 engine/err.h engine/reducer.h engine/decision.h engine/engine.h \
 engine/event.h
engine/revision.h:
engine/obj.h:
engine/util.h:
engine/banned.h:
engine/cloneset.h:
engine/err.h:
engine/reducer.h:
engine/decision.h:
engine/engine.h:
engine/event.h:
