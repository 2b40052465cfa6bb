build-fp/engine/engine.o: engine/engine.c engine/engine.h \
 engine/decision.h engine/util.h engine/banned.h engine/event.h \
 engine/admission.h engine/err.h engine/map.h engine/obj.h \
 engine/reducer.h
engine/engine.h:
engine/decision.h:
engine/util.h:
engine/banned.h:
engine/event.h:
engine/admission.h:
engine/err.h:
engine/map.h:
engine/obj.h:
engine/reducer.h:
