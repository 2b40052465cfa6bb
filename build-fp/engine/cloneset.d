build-fp/engine/cloneset.o: engine/cloneset.c engine/cloneset.h \
 engine/obj.h engine/util.h engine/banned.h engine/err.h engine/inplace.h \
 engine/lifecycle.h engine/map.h engine/podorder.h engine/pub.h \
 engine/reducer.h engine/decision.h engine/engine.h engine/event.h \
 engine/pvc.h engine/revision.h
engine/cloneset.h:
engine/obj.h:
engine/util.h:
engine/banned.h:
engine/err.h:
engine/inplace.h:
engine/lifecycle.h:
engine/map.h:
engine/podorder.h:
engine/pub.h:
engine/reducer.h:
engine/decision.h:
engine/engine.h:
engine/event.h:
engine/pvc.h:
engine/revision.h:
