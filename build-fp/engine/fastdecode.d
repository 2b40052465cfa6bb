build-fp/engine/fastdecode.o: engine/fastdecode.c engine/fastdecode.h \
 engine/err.h engine/obj.h engine/util.h engine/banned.h engine/obj_int.h
engine/fastdecode.h:
engine/err.h:
engine/obj.h:
engine/util.h:
engine/banned.h:
engine/obj_int.h:
