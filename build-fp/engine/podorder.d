build-fp/engine/podorder.o: engine/podorder.c engine/err.h \
 engine/podorder.h engine/cloneset.h engine/obj.h engine/util.h \
 engine/banned.h
engine/err.h:
engine/podorder.h:
engine/cloneset.h:
engine/obj.h:
engine/util.h:
engine/banned.h:
