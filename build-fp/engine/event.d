build-fp/engine/event.o: engine/event.c engine/event.h engine/err.h \
 engine/fastdecode.h engine/obj.h engine/util.h engine/banned.h
engine/event.h:
engine/err.h:
engine/fastdecode.h:
engine/obj.h:
engine/util.h:
engine/banned.h:
