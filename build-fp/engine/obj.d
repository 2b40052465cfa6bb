build-fp/engine/obj.o: engine/obj.c engine/obj.h engine/util.h \
 engine/banned.h engine/err.h engine/fastdecode.h engine/inplace.h \
 engine/lifecycle.h engine/obj_int.h
engine/obj.h:
engine/util.h:
engine/banned.h:
engine/err.h:
engine/fastdecode.h:
engine/inplace.h:
engine/lifecycle.h:
engine/obj_int.h:
