build-fp/engine/inplace.o: engine/inplace.c engine/inplace.h engine/obj.h \
 engine/util.h engine/banned.h engine/err.h
engine/inplace.h:
engine/obj.h:
engine/util.h:
engine/banned.h:
engine/err.h:
