build-fp/gen/schema_sql.o: build-fp/gen/schema_sql.c
