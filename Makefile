# logbook — one Makefile. Knobs: SANITIZE=address,undefined  DEBUG=1  V=1
#   make            build build/logbook
#   make run        install missing Debian packages, build, run the demo (logbook sim)
#   make test       quick tier (unit, golden, property, fault loops)
#   make bench      benchmarks -> docs/PERFORMANCE.md
#   make check-layers / make format-check / make valgrind
CC      ?= cc
PKGS    := sqlite3 libuv json-c libcurl libxxhash yaml-0.1
DEB_PKGS := build-essential pkg-config libsqlite3-dev libuv1-dev libjson-c-dev \
            libcurl4-openssl-dev libxxhash-dev sqlite3 libyaml-dev libssl-dev
WARN    := -std=c11 -Wall -Wextra -Werror -Wvla -Wstrict-prototypes \
           -Wwrite-strings -Wformat-security -Wshadow -Wpointer-arith
OPT     ?= -O2 -g
CFLAGS  += $(WARN) $(OPT) -D_POSIX_C_SOURCE=200809L -MMD -MP
ifdef SANITIZE
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
B       ?= build-san
endif
ifdef DEBUG
OPT     := -O0 -g
endif
B       ?= build
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

ENGINE_SRC  := $(wildcard engine/*.c)
STORE_SRC   := $(wildcard store/*.c)
REPLAY_SRC  := $(wildcard replay/*.c)
ADAPT_SRC   := $(filter-out adapters/main.c,$(wildcard adapters/*.c))
TEST_SRC    := $(wildcard tests/*.c)
BENCH_SRC   := $(wildcard bench/*.c)
GEN_SRC     := $(B)/gen/schema_sql.c

LIB_OBJ   := $(patsubst %.c,$(B)/%.o,$(ENGINE_SRC) $(STORE_SRC) $(REPLAY_SRC) $(ADAPT_SRC)) $(B)/gen/schema_sql.o
MAIN_OBJ  := $(B)/adapters/main.o
TEST_OBJ  := $(patsubst %.c,$(B)/%.o,$(TEST_SRC))
BENCH_OBJ := $(patsubst %.c,$(B)/%.o,$(BENCH_SRC))

.PHONY: all run deps test test-full bench check-layers format format-check valgrind clean
all: $(B)/logbook

deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

run: deps
	$(MAKE) all
	$(B)/logbook sim --journal logbook.db --fresh

$(B)/logbook: $(MAIN_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/logbook-tests: $(TEST_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/bench: $(BENCH_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Fault-injecting HTTPS proxy for end-to-end tests (tests/tools/faultproxy.c).
$(B)/faultproxy: tests/tools/faultproxy.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -pthread -o $@ $< -lssl -lcrypto

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

# The schema is written once, in schema/journal.sql, and embedded from there.
$(B)/gen/schema_sql.c: schema/journal.sql
	@mkdir -p $(dir $@)
	{ echo '/* generated from schema/journal.sql — do not edit */'; \
	  echo 'const char lb_schema_sql[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/  "/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@

test: deps
	$(MAKE) $(B)/logbook-tests $(B)/logbook
	$(MAKE) check-layers
	LB_ROOT=$(CURDIR) LOGBOOK=$(CURDIR)/$(B)/logbook $(B)/logbook-tests $(T)

bench: deps
	$(MAKE) $(B)/bench $(B)/logbook
	LB_ROOT=$(CURDIR) $(B)/bench

# engine/ is pure: no I/O libraries, nothing from store/replay/adapters.
# store/ never includes adapters/ or replay/; replay/ never includes adapters/.
check-layers:
	@bad=0; \
	for f in engine/*.[ch]; do \
	  if grep -nE '#include *[<"](uv|curl/|sqlite3|.*\.\./(store|replay|adapters)/)' $$f; then \
	    echo "check-layers: $$f: engine/ may use only libc, json-c and xxHash"; bad=1; fi; done; \
	for f in store/*.[ch]; do \
	  if grep -nE '#include *[<"](uv|curl/|.*\.\./(replay|adapters)/)' $$f; then \
	    echo "check-layers: $$f: store/ may not use adapters/, replay/, libuv or libcurl"; bad=1; fi; done; \
	for f in replay/*.[ch]; do \
	  if grep -nE '#include *[<"](uv|curl/|sqlite3|.*\.\./adapters/)' $$f; then \
	    echo "check-layers: $$f: replay/ uses engine/ and store/ only"; bad=1; fi; done; \
	[ $$bad = 0 ] && echo "check-layers: ok"; exit $$bad

format:
	clang-format -i engine/*.[ch] store/*.[ch] replay/*.[ch] adapters/*.[ch] tests/*.[ch] bench/*.c
format-check:
	clang-format --dry-run -Werror engine/*.[ch] store/*.[ch] replay/*.[ch] adapters/*.[ch] tests/*.[ch] bench/*.c

valgrind: $(B)/logbook-tests
	LB_ROOT=$(CURDIR) valgrind --error-exitcode=1 --leak-check=full -q $(B)/logbook-tests $(T)

clean:
	rm -rf build build-san

-include $(shell find $(B) -name '*.d' 2>/dev/null)
