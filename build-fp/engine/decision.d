build-fp/engine/decision.o: engine/decision.c engine/decision.h \
 engine/util.h engine/banned.h engine/err.h
engine/decision.h:
engine/util.h:
engine/banned.h:
engine/err.h:
