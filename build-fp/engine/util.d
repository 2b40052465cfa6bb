build-fp/engine/util.o: engine/util.c engine/util.h engine/banned.h \
 engine/err.h
engine/util.h:
engine/banned.h:
engine/err.h:
