build-fp/engine/lifecycle.o: engine/lifecycle.c engine/lifecycle.h \
 engine/obj.h engine/util.h engine/banned.h engine/err.h engine/inplace.h
engine/lifecycle.h:
engine/obj.h:
engine/util.h:
engine/banned.h:
engine/err.h:
engine/inplace.h:
