build-fp/adapters/resources.o: adapters/resources.c adapters/resources.h
adapters/resources.h:
