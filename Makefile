# logbook — one Makefile. Knobs: SANITIZE=address,undefined  DEBUG=1  V=1
#   make            build build/logbook
#   make run        install missing Debian packages, build, run the demo (logbook sim)
#   make test       quick tier (unit, golden, property, fault loops)
#   make bench      benchmarks -> docs/PERFORMANCE-bench.md (+ rollout section of docs/PERFORMANCE.md)
#   make check-layers / make format-check / make valgrind
CC      ?= cc
PKGS    := sqlite3 libuv json-c libcurl libxxhash yaml-0.1 openssl
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
BENCH_SRC   := bench/bench.c
GEN_SRC     := $(B)/gen/schema_sql.c

LIB_OBJ   := $(patsubst %.c,$(B)/%.o,$(ENGINE_SRC) $(STORE_SRC) $(REPLAY_SRC) $(ADAPT_SRC)) $(B)/gen/schema_sql.o
MAIN_OBJ  := $(B)/adapters/main.o
TEST_OBJ  := $(patsubst %.c,$(B)/%.o,$(TEST_SRC))
BENCH_OBJ := $(patsubst %.c,$(B)/%.o,$(BENCH_SRC))

.DEFAULT_GOAL := all
.PHONY: e2e e2e-node
# End-to-end against the real kube-apiserver of ../shared/real-cluster (builds
# it once, ~8-11 min on a fresh machine; starts and stops it).
e2e: deps
	$(MAKE) $(B)/logbook $(B)/faultproxy $(B)/actprobe
	LOGBOOK=$(CURDIR)/$(B)/logbook tests/e2e/run.sh $(T)
# The heavy variant: real kubelet + containerd (NODE=1 setup of the kit).
e2e-node: deps
	$(MAKE) $(B)/logbook
	LOGBOOK=$(CURDIR)/$(B)/logbook tests/e2e/node.sh $(T)

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

$(B)/logbook-bench: $(BENCH_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Runs single actions through the apiserver actuator (tests/tools/actprobe.c).
$(B)/actprobe: $(B)/tests/tools/actprobe.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Admission webhook latency: 200 concurrent TLS requests on loopback.
$(B)/logbook-webhook-bench: $(B)/bench/webhook_bench.o $(LIB_OBJ)
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
	$(MAKE) $(B)/logbook-bench $(B)/logbook-webhook-bench $(B)/logbook
	LB_ROOT=$(CURDIR) $(B)/logbook-bench
	$(B)/logbook-webhook-bench
	LB_WHBENCH_DURABILITY=off $(B)/logbook-webhook-bench
	@if [ -x /opt/kube/bin/kube-apiserver ] && $(MAKE) bench-cluster BENCH_LOCK_WAIT=120; then :; \
	else echo "bench: no kit, the kit busy for 2 min, or bench-cluster failed; keeping the last rollout results"; \
	  bench/rollout.sh --splice-only; fi

# 1,000-pod CloneSet rolled in place vs ReCreate on the kit's real apiserver
# (bench/rollout.sh; results spliced into docs/PERFORMANCE.md). Shares the
# kit and its ports with the end-to-end tests, hence the lock; -o keeps the
# lock's fd out of the kit's daemons when the script starts them (else they
# would hold the lock for as long as they run).
.PHONY: bench-cluster
bench-cluster: deps
	$(MAKE) $(B)/logbook
	flock -o $(if $(BENCH_LOCK_WAIT),-w $(BENCH_LOCK_WAIT)) /tmp/logbook-e2e.lock \
	  env LOGBOOK=$(CURDIR)/$(B)/logbook bench/rollout.sh

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

# make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="watchparse kubeconfig"]: libFuzzer
# (clang, ASan+UBSan) on tests/fuzz/fuzz_<target>.c, for a bounded time each,
# from a seed corpus written here; findings land in build/fuzz/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= watchparse fastdecode
FUZZ_PKGS := clang libclang-rt-14-dev
FUZZ_FLAGS = $(WARN) -O1 -g -D_POSIX_C_SOURCE=200809L \
             -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
.PHONY: fuzz
fuzz:
	@missing=""; for p in $(FUZZ_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi
	$(MAKE) $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
	@mkdir -p build/fuzz/corpus-watchparse build/fuzz/corpus-kubeconfig build/fuzz/corpus-admission build/fuzz/corpus-fastdecode build/fuzz/corpus-gotemplate
	@cd build/fuzz/corpus-gotemplate && for f in ../../../tests/revision/*.json ../../../tests/revision/hand/*.json; do \
	  n=$$(basename $$f .json); { printf '\000'; cat $$f; } >seed-$$n; done && \
	  for q in 0.5 1.5Gi +1 007 1e-20 16Ei 1000E 1.Ki -1023Ki; do printf '\001%s' $$q >seed-q$$q; done
	@cd build/fuzz/corpus-admission && \
	printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"n","name":"p","operation":"CREATE","object":{"kind":"Pod","metadata":{"name":"p","managedFields":[{"m":1}],"labels":{"a":"b"}}},"oldObject":null}}' >seed-pod && \
	printf '{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u2","kind":{"group":"","version":"v1","kind":"Secret"},"operation":"UPDATE","object":{"kind":"Secret","metadata":{"managedFields":[],"name":"s"},"data":{"k":"dmFs","n":null},"stringData":{"x":"y\\u0041"}},"oldObject":{"data":{"k":"b2xk"},"data":{"d":"ZA=="}}}}' >seed-secret && \
	printf '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"","kind":{}}}' >seed-nouid && \
	printf '{"kind":"AdmissionReview" , "request" : { "uid" : "\\u0075", "kind":{"kind":"K"}, "operation":"DELETE", "object" : { } } , "apiVersion" : "admission.k8s.io/v1" }  ' >seed-spaces
		@cd build/fuzz/corpus-fastdecode && \
	printf '\000{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"n","uid":"u","resourceVersion":"1","labels":{"controller-revision-hash":"r","a":"b"},"annotations":{"controller.kubernetes.io/pod-deletion-cost":"-3","apps.kruise.io/x":"y"},"ownerReferences":[{"uid":"o","controller":true}],"finalizers":["f"],"creationTimestamp":"2026-11-25T10:00:00Z","generation":2,"managedFields":[{"m":1}]},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"i"}],"readinessGates":[{"conditionType":"g"}]},"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-11-25T10:00:05Z"}],"containerStatuses":[{"name":"c","ready":true,"started":1,"restartCount":3,"image":"i","imageID":"d","containerID":"x"}]}}' >seed-pod && \
	printf '\001 { "kind" : "Pod" , "apiVersion" : "v1" , "metadata" : { "name" : "a\\u00e9\\ud83d\\ude00\\/" , "name" : null , "labels" : { "k" : "v" , "k" : "w" } } }\n' >seed-escapes-dups && \
	printf '\002{"apiVersion":"apps.kruise.io/v1alpha1","kind":"CloneSet","metadata":{"name":"c"},"spec":{"template":{}}}' >seed-cloneset && \
	printf '\003{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a","x":[1.5,-0,1e3,01,NaN,]}}' >seed-extensions
	@cd build/fuzz/corpus-watchparse && \
	printf '\000\000{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a"}}}\n' >seed-added && \
	printf '\007\000{"type":"MODIFIED","object":{"s":"q\\"}{[\\\\ \\u00e9 \303\251"}}\r\n\n{"object":{},"type":"DELETED"}\n' >seed-escapes && \
	printf '\001\000{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}\n{"type":"ERROR","object":{"kind":"Status","code":410}}\n' >seed-bookmark-error && \
	printf '\002\200{"type":"ADDED","object":{"p":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}\n' >seed-maxline && \
	printf '\003\000{\n "type": "ADDED",\n "object": {\n  "a": [1, 2.50, -0, null]\n }\n}\n  \n{"type":"ADDED","obj' >seed-pretty-cut
	@cd build/fuzz/corpus-kubeconfig && \
	printf 'clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\n    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\nusers:\n- name: u\n  user:\n    token: abc\ncontexts:\n- name: x\n  context: {cluster: c, user: u, namespace: n}\ncurrent-context: x\n' >seed-full && \
	printf 'a: &a {server: "http://h"}\nclusters: [{name: c, cluster: *a}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n' >seed-alias
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "fuzz: running fuzz_$$t for $(FUZZ_SECONDS)s"; \
	  (cd build/fuzz && ./fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	    -print_final_stats=1 corpus-$$t); \
	done

# The AdmissionReview decoder needs the (pure) engine for lb_event_prepare.
build/fuzz/fuzz_admission: tests/fuzz/fuzz_admission.c adapters/admreview.c adapters/admreview.h $(ENGINE_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) $(shell pkg-config --cflags json-c libxxhash) -o $@ \
	  $(filter %.c,$^) $(shell pkg-config --libs json-c libxxhash) -lm
FUZZ_FD_SRC := tests/fuzz/fuzz_fastdecode.c $(ENGINE_SRC)
build/fuzz/fuzz_fastdecode: $(FUZZ_FD_SRC) tests/fuzz/fastdecode_cmp.h engine/fastdecode.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) $(shell pkg-config --cflags json-c libxxhash) -o $@ \
	  $(FUZZ_FD_SRC) $(shell pkg-config --libs json-c libxxhash) -lm

build/fuzz/fuzz_gotemplate: tests/fuzz/fuzz_gotemplate.c engine/gotemplate.c engine/gotemplate.h engine/util.c engine/err.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) $(shell pkg-config --cflags json-c) -o $@ \
	  $(filter %.c,$^) $(shell pkg-config --libs json-c) -lm

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c adapters/%.c adapters/%.h engine/util.c engine/err.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) $(shell pkg-config --cflags json-c yaml-0.1) -o $@ \
	  $(filter %.c,$^) $(shell pkg-config --libs json-c yaml-0.1)

# make revref: rewrite tests/revision/*.want with the Go oracle
# (tests/tools/revref: the real k8s.io/api types and history package of the
# Kubernetes source tree the real-cluster kit unpacks; Go from golang-go;
# offline). make revref-check: run it into a scratch copy and diff against
# the committed goldens. Neither is part of `make test`.
.PHONY: revref revref-check
revref:
	tests/tools/revref.sh
revref-check:
	tests/tools/revref.sh --check

clean:
	rm -rf build build-san

-include $(shell find $(B) -name '*.d' 2>/dev/null)
