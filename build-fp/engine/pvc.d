build-fp/engine/pvc.o: engine/pvc.c engine/pvc.h engine/obj.h \
 engine/util.h engine/banned.h engine/cloneset.h engine/err.h \
 engine/reducer.h engine/decision.h engine/engine.h engine/event.h
engine/pvc.h:
engine/obj.h:
engine/util.h:
engine/banned.h:
engine/cloneset.h:
engine/err.h:
engine/reducer.h:
engine/decision.h:
engine/engine.h:
engine/event.h:
