build-fp/engine/cloneset_calc.o: engine/cloneset_calc.c engine/cloneset.h \
 engine/obj.h engine/util.h engine/banned.h
engine/cloneset.h:
engine/obj.h:
engine/util.h:
engine/banned.h:
