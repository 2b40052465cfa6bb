build-fp/engine/pub.o: engine/pub.c engine/pub.h engine/obj.h \
 engine/util.h engine/banned.h engine/reducer.h engine/decision.h \
 engine/engine.h engine/event.h engine/err.h engine/fielderr.h \
 engine/inplace.h
engine/pub.h:
engine/obj.h:
engine/util.h:
engine/banned.h:
engine/reducer.h:
engine/decision.h:
engine/engine.h:
engine/event.h:
engine/err.h:
engine/fielderr.h:
engine/inplace.h:
