build-fp/engine/admission.o: engine/admission.c engine/admission.h \
 engine/decision.h engine/util.h engine/banned.h engine/event.h \
 engine/err.h engine/fielderr.h engine/obj.h engine/inplace.h \
 engine/lifecycle.h engine/pub.h engine/reducer.h engine/engine.h
engine/admission.h:
engine/decision.h:
engine/util.h:
engine/banned.h:
engine/event.h:
engine/err.h:
engine/fielderr.h:
engine/obj.h:
engine/inplace.h:
engine/lifecycle.h:
engine/pub.h:
engine/reducer.h:
engine/engine.h:
