build-fp/engine/reducers.o: engine/reducers.c engine/reducer.h \
 engine/decision.h engine/util.h engine/banned.h engine/engine.h \
 engine/event.h engine/obj.h
engine/reducer.h:
engine/decision.h:
engine/util.h:
engine/banned.h:
engine/engine.h:
engine/event.h:
engine/obj.h:
