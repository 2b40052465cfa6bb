build-fp/engine/map.o: engine/map.c engine/map.h engine/err.h \
 engine/util.h engine/banned.h
engine/map.h:
engine/err.h:
engine/util.h:
engine/banned.h:
