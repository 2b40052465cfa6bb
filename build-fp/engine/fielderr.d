build-fp/engine/fielderr.o: engine/fielderr.c engine/fielderr.h \
 engine/obj.h engine/util.h engine/banned.h
engine/fielderr.h:
engine/obj.h:
engine/util.h:
engine/banned.h:
