/* bench.c — logbook's benchmarks (`make bench`), results written to
 * docs/PERFORMANCE-bench.md (docs/PERFORMANCE.md is hand-written).
 *
 *   1. ingest    realistic Pod watch bodies (1.5-5 KB with managedFields)
 *                through lb_event_prepare + lb_journal_append_event with
 *                group commit; durability "batched" (the durable number) and
 *                "off"; plus a per-stage breakdown (strip/parse/decode/insert)
 *   2. replay    a journal of LB_BENCH_EVENTS (default 1,000,000) events,
 *                built through the live engine, replayed with verify on
 *   3. decision  lb_engine_apply latency (p50/p99/max) at 10k pods in one
 *                CloneSet, parse excluded (events prepared beforehand)
 *   4. memory    resident bytes per tracked pod after folding 100k pods
 *
 * Environment: LB_ROOT (repo root, set by the Makefile), LB_BENCH_EVENTS
 * (replay journal size), LB_BENCH_QUICK=1 (smaller runs, no doc written
 * unless LB_BENCH_DOC=1), LB_BENCH_DIR (scratch directory, default /tmp),
 * LB_BENCH_ONLY (comma list of sections to run: memory,ingest,decision,
 * replay; the doc is never written then), LB_BENCH_INGEST (events per
 * ingest run), LB_BENCH_TOGGLES, LB_BENCH_MEM_PODS, LB_BENCH_DECISION_PODS,
 * LB_BENCH_ROLLOUTS, LB_BENCH_REPLAY_PODS, LB_BENCH_REPLAY_CS,
 * LB_BENCH_BUILD_CAP_S (seconds spent building the replay journal at most),
 * LB_BENCH_KEEP=1 (keep the replay journal as LB_BENCH_DIR/replay-kept.db),
 * LB_BENCH_FULL_RECOMPUTE=1 (engines of the replay and decision sections
 * with lb_engine_opts.full_recompute: every CloneSet reconcile visits every
 * pod, as before the aggregates; same decisions).
 *
 * The bench reads the wall clock and the monotonic clock: it is not part of
 * the deterministic core and is not built by `make test`.
 */
#define _GNU_SOURCE
#include <json-c/json.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "../engine/decision.h"
/* the simulator's strategic merge (adapters/sim_util.c), reused here */
json_object *lb__sim_smerge(json_object *target, json_object *patch, int *oom);
#include "../engine/engine.h"
#include "../engine/err.h"
#include "../engine/event.h"
#include "../engine/fastdecode.h"
#include "../engine/obj.h"
#include "../engine/util.h"
#include "../replay/replay.h"
#include "../store/journal.h"

/* ---- clocks, rng, small helpers --------------------------------------- */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t split_ns; /* ns in the CloneSet reducer (LB_BENCH_SPLIT) */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) { /* splitmix64: deterministic bodies per run */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static void die(const char *what, int rc) {
  fprintf(stderr, "bench: %s: %s (%s)\n", what, lb_err_name(rc),
          lb_strerror(rc));
  exit(1);
}

static void die_j(const char *what, int rc, struct lb_journal *j) {
  fprintf(stderr, "bench: %s: %s: %s\n", what, lb_err_name(rc),
          j ? lb_journal_errmsg(j) : lb_journal_open_errmsg());
  exit(1);
}

static long env_long(const char *name, long dflt) {
  const char *v = getenv(name);
  if (!v || !*v)
    return dflt;
  char *end;
  long n = strtol(v, &end, 10);
  return *end || n <= 0 ? dflt : n;
}

/* Engine options of the replay and decision sections. */
static const struct lb_engine_opts *bench_opts(void) {
  static struct lb_engine_opts o = LB_ENGINE_OPTS_INIT;
  o.full_recompute = env_long("LB_BENCH_FULL_RECOMPUTE", 0) != 0;
  return &o;
}

/* Resident set size in bytes (/proc/self/statm, field 2). */
static size_t rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long size = 0, res = 0;
  if (!f)
    return 0;
  if (fscanf(f, "%lu %lu", &size, &res) != 2)
    res = 0;
  fclose(f);
  return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

static size_t heap_in_use(void) {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

struct lat { /* latencies in ns, summarized */
  size_t n;
  double p50_us, p90_us, p99_us, max_us, mean_us;
};

static struct lat summarize(int64_t *v, size_t n) {
  struct lat l;
  double sum = 0;
  memset(&l, 0, sizeof l);
  l.n = n;
  if (!n)
    return l;
  qsort(v, n, sizeof *v, cmp_i64);
  for (size_t i = 0; i < n; i++)
    sum += (double)v[i];
  l.p50_us = (double)v[(n - 1) * 50 / 100] / 1e3;
  l.p90_us = (double)v[(n - 1) * 90 / 100] / 1e3;
  l.p99_us = (double)v[(n - 1) * 99 / 100] / 1e3;
  l.max_us = (double)v[n - 1] / 1e3;
  l.mean_us = sum / (double)n / 1e3;
  return l;
}

/* ---- realistic bodies -------------------------------------------------- */

static void fmt_uid(char out[40], uint64_t a, uint64_t b) {
  snprintf(out, 40, "%08x-%04x-4%03x-8%03x-%012llx", (unsigned)(a >> 32),
           (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
           (unsigned)(b >> 48) & 0xfff,
           (unsigned long long)(b & 0xffffffffffffull));
}

static void fmt_hex(char *out, size_t n, uint64_t seed) {
  uint64_t s = seed;
  for (size_t i = 0; i + 1 < n; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    out[i] = "0123456789abcdef"[(s >> 59) & 15];
  }
  out[n - 1] = '\0';
}

struct pod {
  char name[48], uid[40], ns[24];
  const char *cs_name, *cs_uid, *rev; /* owner (may be NULL) */
  int64_t rv;
  int node, ncont, ready, restarts;
  int64_t created_ms, ready_ms, started_ms;
  const char *image;
  uint64_t seed;
  int spec_del, gone; /* labelled apps.kruise.io/specified-delete; deleted */
};

static void pod_init(struct pod *p, const char *ns, const char *cs_name,
                     const char *cs_uid, const char *rev, int idx, int64_t t0) {
  static const char alpha[] = "bcdfghjklmnpqrstvwxz2456789";
  char id[8];
  uint64_t r = rnd();
  memset(p, 0, sizeof p[0]);
  for (int i = 0; i < 5; i++)
    id[i] = alpha[(r >> (i * 6)) % 27];
  id[5] = '\0';
  snprintf(p->name, sizeof p->name, "%s-%s%06d", cs_name ? cs_name : "pod", id,
           idx); /* fixed-width index: world_pod() finds it */
  snprintf(p->ns, sizeof p->ns, "%s", ns);
  fmt_uid(p->uid, rnd(), rnd());
  p->cs_name = cs_name;
  p->cs_uid = cs_uid;
  p->rev = rev;
  p->node = (int)(rnd() % 50);
  r = rnd() % 10; /* 1 (60%), 2 (30%) or 3 (10%) containers */
  p->ncont = 1 + (r >= 6) + (r >= 9);
  p->ready = 1;
  p->created_ms = t0 - 600000 - (int64_t)(rnd() % 100000);
  p->started_ms = p->created_ms + 2000;
  p->ready_ms = p->created_ms + 5000;
  p->image = "nginx:1.25.3";
  p->seed = rnd();
}

static void ts(char out[32], int64_t ms) { lb_time_rfc3339(ms, out); }

/* A Pod as `kubectl get pod -o json` shows one owned by a CloneSet, with
 * managedFields from kruise-manager and kubelet. */
static void pod_json(struct lb_buf *b, const struct pod *p) {
  char created[32], started[32], readyt[32], cid[65], imgid[65], ipa[32];
  static const char *const cname[] = {"app", "istio-proxy", "log-agent"};
  static const char *const cimg[] = {NULL, "docker.io/istio/proxyv2:1.20.1",
                                     "docker.io/fluent/fluent-bit:2.2.0"};
  ts(created, p->created_ms);
  ts(started, p->started_ms);
  ts(readyt, p->ready_ms);
  snprintf(ipa, sizeof ipa, "10.244.%d.%d", p->node, (int)(p->seed % 250) + 2);
  lb_buf_reset(b);
  lb_buf_addf(b,
              "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{"
              "\"name\":\"%s\",\"generateName\":\"%s-\",\"namespace\":\"%s\","
              "\"uid\":\"%s\",\"resourceVersion\":\"%lld\","
              "\"creationTimestamp\":\"%s\",\"labels\":{\"app\":\"%s\","
              "\"apps.kruise.io/cloneset-instance-id\":\"%.5s\","
              "\"controller-revision-hash\":\"%s\","
              "\"lifecycle.apps.kruise.io/state\":\"Normal\","
              "\"pod-template-hash\":\"%s\",\"tier\":\"frontend\"%s},"
              "\"annotations\":{\"lifecycle.apps.kruise.io/timestamp\":\"%s\","
              "\"kubectl.kubernetes.io/default-container\":\"app\","
              "\"prometheus.io/scrape\":\"true\",\"prometheus.io/port\":"
              "\"9090\"}",
              p->name, p->cs_name ? p->cs_name : "pod", p->ns, p->uid,
              (long long)p->rv, created, p->cs_name ? p->cs_name : "pod",
              p->name + strlen(p->cs_name ? p->cs_name : "pod") + 1,
              p->rev ? p->rev : "none", p->rev ? p->rev : "none",
              p->spec_del ? ",\"apps.kruise.io/specified-delete\":\"true\""
                          : "",
              created);
  if (p->cs_uid)
    lb_buf_addf(b,
                ",\"ownerReferences\":[{\"apiVersion\":\"apps.kruise.io/"
                "v1alpha1\",\"kind\":\"CloneSet\",\"name\":\"%s\",\"uid\":"
                "\"%s\",\"controller\":true,\"blockOwnerDeletion\":true}]",
                p->cs_name, p->cs_uid);
  /* managedFields: what lb_event_prepare strips */
  lb_buf_addf(b,
              ",\"managedFields\":[{\"manager\":\"kruise-manager\","
              "\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\":\"%s\","
              "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata\":{"
              "\"f:annotations\":{\".\":{},\"f:kubectl.kubernetes.io/"
              "default-container\":{},\"f:lifecycle.apps.kruise.io/"
              "timestamp\":{},\"f:prometheus.io/port\":{},\"f:prometheus.io/"
              "scrape\":{}},\"f:generateName\":{},\"f:labels\":{\".\":{},"
              "\"f:app\":{},\"f:apps.kruise.io/cloneset-instance-id\":{},"
              "\"f:controller-revision-hash\":{},\"f:lifecycle.apps.kruise.io/"
              "state\":{},\"f:pod-template-hash\":{},\"f:tier\":{}},"
              "\"f:ownerReferences\":{\".\":{},\"k:{\\\"uid\\\":\\\"%s\\\"}\":"
              "{}}},\"f:spec\":{\"f:containers\":{",
              created, p->cs_uid ? p->cs_uid : "");
  for (int c = 0; c < p->ncont; c++)
    lb_buf_addf(b,
                "%s\"k:{\\\"name\\\":\\\"%s\\\"}\":{\".\":{},\"f:image\":{},"
                "\"f:imagePullPolicy\":{},\"f:name\":{},\"f:ports\":{\".\":{},"
                "\"k:{\\\"containerPort\\\":%d,\\\"protocol\\\":\\\"TCP\\\"}\":"
                "{}},\"f:resources\":{}}",
                c ? "," : "", cname[c], 8080 + c);
  lb_buf_addf(b,
              "},\"f:dnsPolicy\":{},\"f:enableServiceLinks\":{},"
              "\"f:restartPolicy\":{},\"f:schedulerName\":{},"
              "\"f:securityContext\":{},\"f:terminationGracePeriodSeconds\":{}"
              "}}},{\"manager\":\"kubelet\",\"operation\":\"Update\","
              "\"apiVersion\":\"v1\",\"time\":\"%s\",\"fieldsType\":"
              "\"FieldsV1\",\"fieldsV1\":{\"f:status\":{\"f:conditions\":{"
              "\"k:{\\\"type\\\":\\\"Ready\\\"}\":{\".\":{},"
              "\"f:lastProbeTime\":{},\"f:lastTransitionTime\":{},"
              "\"f:status\":{},\"f:type\":{}}},\"f:containerStatuses\":{},"
              "\"f:hostIP\":{},\"f:phase\":{},\"f:podIP\":{},\"f:podIPs\":{"
              "\".\":{},\"k:{\\\"ip\\\":\\\"%s\\\"}\":{\".\":{},\"f:ip\":{}}},"
              "\"f:startTime\":{}}},\"subresource\":\"status\"}]},",
              readyt, ipa);
  /* spec */
  lb_buf_addf(b, "\"spec\":{\"containers\":[");
  for (int c = 0; c < p->ncont; c++)
    lb_buf_addf(b,
                "%s{\"name\":\"%s\",\"image\":\"%s\",\"ports\":[{"
                "\"containerPort\":%d,\"protocol\":\"TCP\"}],\"resources\":{"
                "\"limits\":{\"cpu\":\"500m\",\"memory\":\"256Mi\"},"
                "\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"}},"
                "\"terminationMessagePath\":"
                "\"/dev/termination-log\",\"terminationMessagePolicy\":"
                "\"File\",\"imagePullPolicy\":\"IfNotPresent\"}",
                c ? "," : "", cname[c], c ? cimg[c] : p->image, 8080 + c);
  lb_buf_addf(b,
              "],\"restartPolicy\":\"Always\","
              "\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":"
              "\"ClusterFirst\",\"serviceAccountName\":\"default\","
              "\"serviceAccount\":\"default\",\"nodeName\":\"node-%02d\","
              "\"securityContext\":{},\"schedulerName\":\"default-scheduler\","
              "\"priority\":0,"
              "\"enableServiceLinks\":true,\"preemptionPolicy\":"
              "\"PreemptLowerPriority\"},",
              p->node);
  /* status */
  const char *rs = p->ready ? "True" : "False";
  lb_buf_addf(b,
              "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":"
              "\"Initialized\",\"status\":\"True\",\"lastProbeTime\":null,"
              "\"lastTransitionTime\":\"%s\"},{\"type\":\"Ready\",\"status\":"
              "\"%s\",\"lastProbeTime\":null,\"lastTransitionTime\":\"%s\"},"
              "{\"type\":\"ContainersReady\",\"status\":\"%s\","
              "\"lastProbeTime\":null,\"lastTransitionTime\":\"%s\"},"
              "{\"type\":\"PodScheduled\",\"status\":\"True\","
              "\"lastProbeTime\":null,\"lastTransitionTime\":\"%s\"}],"
              "\"hostIP\":\"10.0.0.%d\",\"podIP\":\"%s\",\"podIPs\":[{\"ip\":"
              "\"%s\"}],\"startTime\":\"%s\",\"containerStatuses\":[",
              created, rs, readyt, rs, readyt, created, p->node + 10, ipa, ipa,
              created);
  for (int c = 0; c < p->ncont; c++) {
    fmt_hex(cid, sizeof cid, p->seed + (uint64_t)c * 7 + (uint64_t)p->rv);
    fmt_hex(imgid, sizeof imgid, (uint64_t)c * 31 + 5);
    lb_buf_addf(b,
                "%s{\"name\":\"%s\",\"state\":{\"running\":{\"startedAt\":"
                "\"%s\"}},\"lastState\":{},\"ready\":%s,\"restartCount\":%d,"
                "\"image\":\"%s%s\",\"imageID\":\"%s@sha256:%s\","
                "\"containerID\":\"containerd://%s\",\"started\":true}",
                c ? "," : "", cname[c], started, p->ready ? "true" : "false",
                p->restarts, c ? "" : "docker.io/library/",
                c ? cimg[c] : p->image, c ? cimg[c] : "docker.io/library/nginx",
                imgid, cid);
  }
  lb_buf_adds(b, "],\"qosClass\":\"Burstable\"}}");
  if (b->err)
    die("pod_json", b->err);
}

struct cs {
  char name[32], uid[40], ns[24];
  char rev[64];
  int64_t rv, generation;
  int replicas;
  const char *image;
  char status[1024]; /* status object JSON as last patched, or "" */
};

static void cs_json(struct lb_buf *b, const struct cs *c) {
  lb_buf_reset(b);
  lb_buf_addf(
      b,
      "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":\"CloneSet\","
      "\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"uid\":\"%s\","
      "\"resourceVersion\":\"%lld\",\"generation\":%lld,"
      "\"creationTimestamp\":\"2025-11-25T10:00:00Z\",\"labels\":{\"app\":"
      "\"%s\"}},\"spec\":{\"replicas\":%d,\"selector\":{\"matchLabels\":{"
      "\"app\":\"%s\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":"
      "\"%s\",\"tier\":\"frontend\"}},\"spec\":{\"containers\":[{\"name\":"
      "\"app\",\"image\":\"%s\",\"ports\":[{\"containerPort\":8080}]}]}},"
      "\"updateStrategy\":{\"type\":\"ReCreate\",\"partition\":0,"
      "\"maxUnavailable\":\"20%%\"},\"revisionHistoryLimit\":10}%s%s}",
      c->name, c->ns, c->uid, (long long)c->rv, (long long)c->generation,
      c->name, c->replicas, c->name, c->name, c->image,
      c->status[0] ? ",\"status\":" : "", c->status);
  if (b->err)
    die("cs_json", b->err);
}

/* Prepares a watch event from a copy of json. */
static void mk_event(struct lb_event *ev, int type, int64_t at,
                     const char *json, size_t len) {
  char *body = malloc(len + 1);
  int rc;
  if (!body)
    die("malloc", LB_ENOMEM);
  memcpy(body, json, len);
  lb_event_init(ev);
  ev->source = LB_SRC_WATCH;
  ev->type = type;
  ev->at_ms = at;
  if ((rc = lb_event_prepare(ev, body, len)))
    die("lb_event_prepare", rc);
}

/* The objects the bench plays the API server for: outcomes of actions
 * return what a server would (the patched or created object), so the
 * engine's write-through fold sees its own writes and settles. */
struct world {
  struct cs *css;
  int n_cs;
  struct pod *pods;
  int n_pods;
  int64_t rv;
};

static struct pod *world_pod(struct world *w, const char *name) {
  size_t n = strlen(name);
  if (n < 6)
    return NULL;
  for (size_t i = n - 6; i < n; i++)
    if (name[i] < '0' || name[i] > '9')
      return NULL;
  long idx = strtol(name + n - 6, NULL, 10);
  if (idx < 0 || idx >= w->n_pods || strcmp(w->pods[idx].name, name))
    return NULL;
  return &w->pods[idx];
}

static struct cs *world_cs(struct world *w, const char *name) {
  for (int i = 0; i < w->n_cs; i++)
    if (!strcmp(w->css[i].name, name))
      return &w->css[i];
  return NULL;
}

/* Objects the engine created (pods of a rollout, revisions): kept as JSON
 * so later patches return the patched object. */
struct extra {
  char *name, *kind, *json;
};
static struct extra *extras;
static size_t n_extras, cap_extras;

static struct extra *extra_find(const char *kind, const char *name) {
  for (size_t i = n_extras; i-- > 0;)
    if (!strcmp(extras[i].name, name) && !strcmp(extras[i].kind, kind))
      return &extras[i];
  return NULL;
}

static void extra_drop(struct extra *x) {
  free(x->name);
  free(x->kind);
  free(x->json);
  *x = extras[--n_extras];
}

static void extras_clear(void) {
  while (n_extras)
    extra_drop(&extras[n_extras - 1]);
}

/* RFC 7386 merge patch of p into t (objects only; enough for labels). */
static void merge_patch(struct json_object *t, struct json_object *p) {
  json_object_object_foreach(p, k, v) {
    struct json_object *cur = NULL;
    if (!v) {
      json_object_object_del(t, k);
    } else if (json_object_is_type(v, json_type_object) &&
               json_object_object_get_ex(t, k, &cur) &&
               json_object_is_type(cur, json_type_object)) {
      merge_patch(cur, v);
    } else {
      json_object_object_add(t, k, json_object_get(v));
    }
  }
}

/* Applies a create or a patch to the extra store; writes the resulting
 * object to buf (empty when unknown). */
static void extra_write(struct world *w, const struct lb_action *a,
                        struct lb_buf *buf) {
  struct extra *x = extra_find(a->kind, a->name);
  struct json_object *root, *meta = NULL;
  char rv[32], uid[40];
  if (a->verb == LB_VERB_CREATE) {
    root = json_tokener_parse(a->body);
    if (!root)
      return;
    if (json_object_object_get_ex(root, "metadata", &meta)) {
      fmt_uid(uid, rnd(), rnd());
      json_object_object_add(meta, "uid", json_object_new_string(uid));
    }
  } else {
    struct json_object *patch = a->body ? json_tokener_parse(a->body) : NULL;
    root = x ? json_tokener_parse(x->json) : NULL;
    if (!root || !patch) {
      json_object_put(root);
      json_object_put(patch);
      return;
    }
    if (a->verb == LB_VERB_SPATCH) { /* strategic merge, as the sim does */
      int oom = 0;
      root = lb__sim_smerge(root, patch, &oom);
      if (!root || oom) {
        json_object_put(root);
        json_object_put(patch);
        return;
      }
    } else {
      merge_patch(root, patch);
    }
    json_object_put(patch);
    json_object_object_get_ex(root, "metadata", &meta);
  }
  if (meta) {
    snprintf(rv, sizeof rv, "%lld", (long long)++w->rv);
    json_object_object_add(meta, "resourceVersion", json_object_new_string(rv));
  }
  const char *txt =
      json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
  lb_buf_adds(buf, txt);
  if (!x) {
    if (n_extras == cap_extras) {
      size_t cap = cap_extras ? cap_extras * 2 : 256;
      struct extra *n = realloc(extras, cap * sizeof *n);
      if (!n)
        die("realloc", LB_ENOMEM);
      extras = n;
      cap_extras = cap;
    }
    x = &extras[n_extras++];
    x->name = lb_strdup(a->name);
    x->kind = lb_strdup(a->kind);
    x->json = NULL;
  }
  free(x->json);
  x->json = lb_strdup(txt);
  json_object_put(root);
}

/* A 200 outcome for action a, carrying the object the server would
 * return (prepared: parse and decode happen here, untimed). */
static void synth_outcome(struct world *w, const struct lb_action *a,
                          int64_t at, struct lb_event *ev, struct lb_buf *buf) {
  int rc;
  lb_event_init(ev);
  ev->source = LB_SRC_OUTCOME;
  ev->type = LB_EV_OUTCOME;
  ev->at_ms = at;
  ev->action_id = a->id;
  ev->http_status = 200;
  if ((rc = lb_event_set(&ev->api_group, a->api_group)) ||
      (rc = lb_event_set(&ev->kind, a->kind)) ||
      (rc = lb_event_set(&ev->ns, a->ns)) ||
      (rc = lb_event_set(&ev->name, a->name)))
    die("outcome", rc);
  lb_buf_reset(buf);
  if (a->verb == LB_VERB_CREATE && a->body) {
    extra_write(w, a, buf);
  } else if (a->verb == LB_VERB_PATCH && !strcmp(a->kind, "CloneSet") &&
             !strcmp(a->sub, "status") && a->body &&
             !strncmp(a->body, "{\"status\":", 10)) {
    struct cs *c = world_cs(w, a->name);
    size_t n = strlen(a->body) - 11; /* inner object, without the last } */
    if (c && n < sizeof c->status) {
      memcpy(c->status, a->body + 10, n);
      c->status[n] = '\0';
      c->rv = ++w->rv;
      cs_json(buf, c);
    }
  } else if ((a->verb == LB_VERB_PATCH || a->verb == LB_VERB_SPATCH) &&
             !strcmp(a->kind, "Pod")) {
    struct pod *p = world_pod(w, a->name);
    if (p && !p->gone) {
      if (a->body && strstr(a->body, "specified-delete"))
        p->spec_del = 1;
      p->rv = ++w->rv;
      pod_json(buf, p);
    } else if (!p) {
      extra_write(w, a, buf);
    }
  } else if (a->verb == LB_VERB_DELETE && !strcmp(a->kind, "Pod")) {
    struct pod *p = world_pod(w, a->name);
    struct extra *x = extra_find(a->kind, a->name);
    if (p)
      p->gone = 1;
    if (x)
      extra_drop(x);
  }
  if (buf->err)
    die("synth_outcome", buf->err);
  char *body = buf->len ? lb_strndup(buf->p, buf->len) : NULL;
  if (buf->len && !body)
    die("malloc", LB_ENOMEM);
  if ((rc = lb_event_prepare(ev, body, buf->len)))
    die("outcome prepare", rc);
}

/* The update revision name the engine derives for a CloneSet body: a dry
 * run on a scratch engine (so pods can carry the right label). */
static void discover_revision(struct cs *c) {
  struct lb_engine *e;
  struct lb_decisions ds = {0};
  struct lb_event ev;
  struct lb_buf b = LB_BUF_INIT;
  int rc;
  if ((rc = lb_engine_new(NULL, &e)))
    die("lb_engine_new", rc);
  cs_json(&b, c);
  mk_event(&ev, LB_EV_ADDED, 1000, b.p, b.len);
  ev.seq = 1;
  if ((rc = lb_engine_apply(e, &ev, &ds)))
    die("lb_engine_apply", rc);
  c->rev[0] = '\0';
  for (size_t i = 0; i < ds.n; i++)
    for (size_t a = 0; a < ds.v[i].n_actions; a++)
      if (!strcmp(ds.v[i].actions[a].kind, "ControllerRevision"))
        snprintf(c->rev, sizeof c->rev, "%s", ds.v[i].actions[a].name);
  if (!c->rev[0]) {
    fprintf(stderr, "bench: no ControllerRevision decided for %s\n", c->name);
    exit(1);
  }
  lb_decisions_release(&ds);
  lb_event_release(&ev);
  lb_buf_release(&b);
  lb_engine_free(e);
}

static void cs_init(struct cs *c, const char *ns, const char *name,
                    int replicas) {
  memset(c, 0, sizeof *c);
  snprintf(c->ns, sizeof c->ns, "%s", ns);
  snprintf(c->name, sizeof c->name, "%s", name);
  fmt_uid(c->uid, rnd(), rnd());
  c->replicas = replicas;
  c->generation = 1;
  c->rv = 1;
  c->image = "nginx:1.25.3";
  discover_revision(c);
}

/* ---- 1. ingest --------------------------------------------------------- */

struct pool { /* realistic bodies kept in memory */
  char **body;
  size_t *len;
  size_t n, bytes;
  size_t min_len, max_len;
};

static void pool_build(struct pool *pl, size_t n) {
  struct lb_buf b = LB_BUF_INIT;
  struct cs c;
  memset(pl, 0, sizeof *pl);
  pl->body = calloc(n, sizeof *pl->body);
  pl->len = calloc(n, sizeof *pl->len);
  if (!pl->body || !pl->len)
    die("malloc", LB_ENOMEM);
  memset(&c, 0, sizeof c);
  snprintf(c.name, sizeof c.name, "frontend");
  fmt_uid(c.uid, rnd(), rnd());
  snprintf(c.rev, sizeof c.rev, "frontend-7d9f8c6b5");
  pl->min_len = SIZE_MAX;
  for (size_t i = 0; i < n; i++) {
    struct pod p;
    pod_init(&p, "shop", c.name, c.uid, c.rev, (int)i, 1764064800000);
    p.rv = 100000 + (int64_t)i;
    p.ready = (rnd() % 4) != 0;
    p.restarts = (int)(rnd() % 3);
    pod_json(&b, &p);
    pl->body[i] = lb_strndup(b.p, b.len);
    if (!pl->body[i])
      die("malloc", LB_ENOMEM);
    pl->len[i] = b.len;
    pl->bytes += b.len;
    if (b.len < pl->min_len)
      pl->min_len = b.len;
    if (b.len > pl->max_len)
      pl->max_len = b.len;
  }
  pl->n = n;
  lb_buf_release(&b);
}

static void pool_free(struct pool *pl) {
  for (size_t i = 0; i < pl->n; i++)
    free(pl->body[i]);
  free(pl->body);
  free(pl->len);
}

struct ingest_res {
  const char *durability;
  int flush_events, flush_ms;
  long events, commits;
  double secs, ev_per_s, mb_per_s, in_bytes, stored_bytes;
};

static char scratch[512];
/* The directory the scratch directory was made in (LB_BENCH_DIR or /tmp). */
static const char *dir_of_scratch(void) {
  const char *d = getenv("LB_BENCH_DIR");
  return d && *d ? d : "/tmp";
}

static void rm_journal(const char *path) {
  char p[700];
  unlink(path);
  snprintf(p, sizeof p, "%s-wal", path);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", path);
  unlink(p);
}

static struct ingest_res bench_ingest(const struct pool *pl, int durability,
                                      long total) {
  struct ingest_res r;
  struct lb_journal_opts o = LB_JOURNAL_OPTS_INIT;
  struct lb_journal *j;
  char path[600];
  const long chunk = 20000; /* bodies copied (untimed) per round */
  char **bodies = calloc((size_t)chunk, sizeof *bodies);
  size_t *lens = calloc((size_t)chunk, sizeof *lens);
  int rc;
  memset(&r, 0, sizeof r);
  if (!bodies || !lens)
    die("malloc", LB_ENOMEM);
  o.durability = durability;
  r.durability = lb_durability_name(durability);
  r.flush_events = o.flush_events;
  r.flush_ms = o.flush_ms;
  snprintf(path, sizeof path, "%s/ingest-%s.db", scratch, r.durability);
  rm_journal(path);
  if ((rc = lb_journal_open(path, &o, &j)))
    die_j("lb_journal_open", rc, NULL);
  size_t k = 0;
  for (long done = 0; done < total;) {
    long m = total - done < chunk ? total - done : chunk;
    for (long i = 0; i < m; i++, k = (k + 1) % pl->n) {
      bodies[i] = malloc(pl->len[k] + 1); /* +1: prepare adds the NUL */
      if (!bodies[i])
        die("malloc", LB_ENOMEM);
      memcpy(bodies[i], pl->body[k], pl->len[k]);
      lens[i] = pl->len[k];
      r.in_bytes += (double)lens[i];
    }
    double t0 = now_s();
    for (long i = 0; i < m; i++) {
      struct lb_event ev;
      lb_event_init(&ev);
      ev.source = LB_SRC_WATCH;
      ev.type = LB_EV_MODIFIED;
      ev.at_ms = wall_ms();
      if ((rc = lb_event_prepare(&ev, bodies[i], lens[i])))
        die("lb_event_prepare", rc);
      r.stored_bytes += (double)ev.body_len;
      if ((rc = lb_journal_append_event(j, &ev)))
        die_j("lb_journal_append_event", rc, j);
      lb_event_release(&ev);
      if (lb_journal_should_flush(j, wall_ms())) {
        if ((rc = lb_journal_commit(j)))
          die_j("lb_journal_commit", rc, j);
        r.commits++;
      }
    }
    if (lb_journal_pending(j)) {
      if ((rc = lb_journal_commit(j)))
        die_j("lb_journal_commit", rc, j);
      r.commits++;
    }
    r.secs += now_s() - t0;
    done += m;
  }
  r.events = total;
  r.ev_per_s = (double)total / r.secs;
  r.mb_per_s = r.in_bytes / r.secs / 1e6;
  lb_journal_close(j);
  rm_journal(path);
  free(bodies);
  free(lens);
  return r;
}

struct breakdown { /* µs per event, per stage */
  double copy, strip, parse, decode, fast, prepare, insert_off, insert_batched;
  double body_in, body_stripped;
};

static struct breakdown bench_breakdown(const struct pool *pl) {
  struct breakdown bd;
  size_t n = pl->n < 4000 ? pl->n : 4000;
  char **tmp = calloc(n, sizeof *tmp);
  size_t *tl = calloc(n, sizeof *tl);
  struct lb_event *evs = calloc(n, sizeof *evs);
  double t0;
  int rc;
  memset(&bd, 0, sizeof bd);
  if (!tmp || !tl || !evs)
    die("malloc", LB_ENOMEM);
  t0 = now_s();
  for (size_t i = 0; i < n; i++) {
    tmp[i] = malloc(pl->len[i] + 1);
    if (!tmp[i])
      die("malloc", LB_ENOMEM);
    memcpy(tmp[i], pl->body[i], pl->len[i]);
    tmp[i][pl->len[i]] = '\0';
    bd.body_in += (double)pl->len[i];
  }
  bd.copy = (now_s() - t0) / (double)n * 1e6;
  t0 = now_s();
  for (size_t i = 0; i < n; i++) {
    tl[i] = lb_json_strip_managed_fields(tmp[i], pl->len[i]);
    tmp[i][tl[i]] = '\0';
  }
  bd.strip = (now_s() - t0) / (double)n * 1e6;
  {
    int64_t tp = 0, td = 0, tf = 0, nf = 0;
    for (size_t i = 0; i < n; i++) {
      struct lb_obj *o = NULL;
      const char *why;
      int64_t a0 = now_ns();
      struct json_tokener *tok = json_tokener_new();
      struct json_object *root = json_tokener_parse_ex(tok, tmp[i], (int)tl[i]);
      json_tokener_free(tok);
      int64_t a1 = now_ns();
      if ((rc = lb_obj_decode(root, &o, &why)))
        die("lb_obj_decode", rc);
      int64_t a2 = now_ns();
      json_object_put(root); /* freeing the tree counts as parse */
      int64_t a3 = now_ns();
      lb_obj_free(o);
      tp += (a1 - a0) + (a3 - a2);
      td += (a2 - a1) + (now_ns() - a3);
      /* the fast path: identity + compact object, results freed */
      struct lb_fd_ident id;
      int64_t f0 = now_ns();
      if ((rc = lb_fastdecode(tmp[i], tl[i], &id, &o)) == 0) {
        lb_fd_ident_release(&id);
        lb_obj_free(o);
      }
      tf += now_ns() - f0;
      nf += rc == 0;
      bd.body_stripped += (double)tl[i];
      free(tmp[i]);
    }
    bd.parse = (double)tp / (double)n / 1e3;
    bd.decode = (double)td / (double)n / 1e3;
    bd.fast = (double)tf / (double)n / 1e3;
    if (nf != (int64_t)n)
      fprintf(stderr, "bench: fast path declined %lld of %zu bodies\n",
              (long long)(n - (size_t)nf), n);
  }
  bd.body_in /= (double)n;
  bd.body_stripped /= (double)n;
  /* whole prepare, then the insert alone (off, then batched) */
  for (size_t i = 0; i < n; i++) {
    tmp[i] = malloc(pl->len[i] + 1);
    if (!tmp[i])
      die("malloc", LB_ENOMEM);
    memcpy(tmp[i], pl->body[i], pl->len[i]);
  }
  t0 = now_s();
  for (size_t i = 0; i < n; i++) {
    lb_event_init(&evs[i]);
    evs[i].source = LB_SRC_WATCH;
    evs[i].type = LB_EV_MODIFIED;
    evs[i].at_ms = 1764064800000 + (int64_t)i;
    if ((rc = lb_event_prepare(&evs[i], tmp[i], pl->len[i])))
      die("lb_event_prepare", rc);
  }
  bd.prepare = (now_s() - t0) / (double)n * 1e6;
  for (int pass = 0; pass < 2; pass++) {
    struct lb_journal_opts o = LB_JOURNAL_OPTS_INIT;
    struct lb_journal *j;
    char path[600];
    o.durability = pass ? LB_DUR_BATCHED : LB_DUR_OFF;
    snprintf(path, sizeof path, "%s/breakdown.db", scratch);
    rm_journal(path);
    if ((rc = lb_journal_open(path, &o, &j)))
      die_j("lb_journal_open", rc, NULL);
    t0 = now_s();
    for (size_t i = 0; i < n; i++) {
      evs[i].seq = 0;
      if ((rc = lb_journal_append_event(j, &evs[i])))
        die_j("append", rc, j);
      if (lb_journal_pending(j) >= o.flush_events &&
          (rc = lb_journal_commit(j)))
        die_j("commit", rc, j);
    }
    if ((rc = lb_journal_commit(j)))
      die_j("commit", rc, j);
    double us = (now_s() - t0) / (double)n * 1e6;
    if (pass)
      bd.insert_batched = us;
    else
      bd.insert_off = us;
    lb_journal_close(j);
    rm_journal(path);
  }
  for (size_t i = 0; i < n; i++)
    lb_event_release(&evs[i]);
  free(evs);
  free(tmp);
  free(tl);
  return bd;
}

/* ---- 2. replay --------------------------------------------------------- */

struct builder { /* the live path without an actuator: journal + engine */
  struct lb_journal *j;
  struct lb_engine *e;
  struct world *w;
  struct lb_buf obuf;
  int64_t at;
  long events, decisions, actions;
  /* outcomes owed for actions decided (answered after each event) */
  struct lb_action *owed;
  size_t n_owed, cap_owed;
};

static void push(struct builder *b, struct lb_event *ev) {
  struct lb_decisions ds = {0};
  int rc;
  if ((rc = lb_journal_append_event(b->j, ev)))
    die_j("append event", rc, b->j);
  if ((rc = lb_engine_apply(b->e, ev, &ds)))
    die("lb_engine_apply", rc);
  b->events++;
  for (size_t i = 0; i < ds.n; i++) {
    if ((rc = lb_journal_append_decision(b->j, &ds.v[i])))
      die_j("append decision", rc, b->j);
    b->decisions++;
    for (size_t a = 0; a < ds.v[i].n_actions; a++) {
      if (b->n_owed == b->cap_owed) {
        size_t cap = b->cap_owed ? b->cap_owed * 2 : 64;
        struct lb_action *n = realloc(b->owed, cap * sizeof *n);
        if (!n)
          die("realloc", LB_ENOMEM);
        b->owed = n;
        b->cap_owed = cap;
      }
      if ((rc = lb_action_copy(&b->owed[b->n_owed++], &ds.v[i].actions[a])))
        die("lb_action_copy", rc);
      b->actions++;
    }
  }
  lb_decisions_release(&ds);
  lb_event_release(ev);
  if (lb_journal_pending(b->j) >= 4096 && (rc = lb_journal_commit(b->j)))
    die_j("commit", rc, b->j);
}

/* Answers owed actions (and what their outcomes cause) until none is
 * owed or the journal holds `limit` events. */
static void answer(struct builder *b, long limit) {
  while (b->n_owed) {
    size_t n = b->n_owed;
    struct lb_action *v = b->owed;
    b->owed = NULL;
    b->n_owed = b->cap_owed = 0;
    for (size_t i = 0; i < n; i++) {
      struct lb_event ev;
      if (b->events < limit) {
        synth_outcome(b->w, &v[i], ++b->at, &ev, &b->obuf);
        push(b, &ev);
      }
      lb_action_release(&v[i]);
    }
    free(v);
  }
}

struct replay_res {
  long events, decisions, actions, pods, clonesets;
  double build_s, replay_s, ev_per_s;
  double reducer_s; /* of replay_s, in the CloneSet reducer (split builds) */
  double file_mb;
  int verify_rc, capped;
  uint64_t digest;
};

static struct replay_res bench_replay(long target, int n_pods, int n_cs,
                                      double build_cap_s) {
  struct replay_res r;
  struct builder b;
  struct world w;
  struct lb_journal_opts o = LB_JOURNAL_OPTS_INIT;
  struct lb_buf buf = LB_BUF_INIT;
  char path[600];
  int rc;
  memset(&r, 0, sizeof r);
  memset(&b, 0, sizeof b);
  memset(&w, 0, sizeof w);
  w.css = calloc((size_t)n_cs, sizeof *w.css);
  w.pods = calloc((size_t)n_pods, sizeof *w.pods);
  if (!w.css || !w.pods)
    die("malloc", LB_ENOMEM);
  w.n_cs = n_cs;
  w.n_pods = n_pods;
  w.rv = 1000;
  b.w = &w;
  r.pods = n_pods;
  r.clonesets = n_cs;
  o.durability = LB_DUR_OFF;
  o.flush_events = 4096;
  snprintf(path, sizeof path, "%s/replay.db", scratch);
  rm_journal(path);
  if ((rc = lb_journal_open(path, &o, &b.j)))
    die_j("lb_journal_open", rc, NULL);
  if ((rc = lb_engine_new(bench_opts(), &b.e)))
    die("lb_engine_new", rc);
  b.at = 1764064800000;
  double t0 = now_s();
  int per = n_pods / n_cs;
  for (int c = 0; c < n_cs; c++) {
    char name[32];
    snprintf(name, sizeof name, "web%d", c);
    cs_init(&w.css[c], "prod", name, per);
  }
  /* pods first (nothing reconciles without the owner), then each
   * CloneSet adopts its pods */
  for (int i = 0; i < n_pods; i++) {
    struct cs *c = &w.css[i % n_cs];
    struct lb_event ev;
    pod_init(&w.pods[i], "prod", c->name, c->uid, c->rev, i, b.at);
    w.pods[i].rv = ++w.rv;
    pod_json(&buf, &w.pods[i]);
    mk_event(&ev, LB_EV_ADDED, ++b.at, buf.p, buf.len);
    push(&b, &ev);
  }
  for (int c = 0; c < n_cs; c++) {
    struct lb_event ev;
    w.css[c].rv = ++w.rv;
    cs_json(&buf, &w.css[c]);
    mk_event(&ev, LB_EV_ADDED, ++b.at, buf.p, buf.len);
    push(&b, &ev);
  }
  answer(&b, target);
  /* steady churn: readiness flaps, restarts, resyncs (same state, new
   * rv); every decided action is answered with the object written */
  while (b.events < target) {
    if ((b.events & 1023) == 0 && now_s() - t0 > build_cap_s) {
      r.capped = 1;
      break;
    }
    struct pod *p = &w.pods[rnd() % (uint64_t)n_pods];
    struct lb_event ev;
    uint64_t what = rnd() % 10;
    b.at += 1 + (int64_t)(rnd() % 5);
    if (what < 6) {
      p->ready = !p->ready;
      if (p->ready)
        p->ready_ms = b.at;
    } else if (what < 7) {
      p->restarts++;
    }
    p->rv = ++w.rv;
    pod_json(&buf, p);
    mk_event(&ev, LB_EV_MODIFIED, b.at, buf.p, buf.len);
    push(&b, &ev);
    answer(&b, target);
  }
  for (size_t i = 0; i < b.n_owed; i++)
    lb_action_release(&b.owed[i]);
  free(b.owed);
  lb_buf_release(&b.obuf);
  if ((rc = lb_journal_commit(b.j)))
    die_j("commit", rc, b.j);
  r.build_s = now_s() - t0;
  r.events = b.events;
  r.actions = b.actions;
  lb_engine_free(b.e);
  lb_journal_close(b.j);
  {
    FILE *f = fopen(path, "rb");
    if (f) {
      fseek(f, 0, SEEK_END);
      r.file_mb = (double)ftell(f) / 1e6;
      fclose(f);
    }
  }
  /* replay, verify on */
  struct lb_journal_opts ro = LB_JOURNAL_OPTS_INIT;
  struct lb_replay_opts rop = LB_REPLAY_OPTS_INIT;
  rop.engine = *bench_opts();
  struct lb_replay_result res;
  struct lb_journal *j;
  ro.readonly = 1;
  if ((rc = lb_journal_open(path, &ro, &j)))
    die_j("lb_journal_open (replay)", rc, NULL);
  t0 = now_s();
  int64_t s0 = split_ns;
  rc = lb_replay_run(j, &rop, &res, NULL);
  r.replay_s = now_s() - t0;
  r.reducer_s = (double)(split_ns - s0) * 1e-9;
  r.verify_rc = rc;
  if (rc)
    fprintf(stderr, "bench: replay: %s at event %lld\n", lb_err_name(rc),
            (long long)res.div_event_seq);
  r.decisions = res.decisions;
  r.digest = res.digest;
  r.ev_per_s = (double)res.events / r.replay_s;
  if (res.events != r.events)
    fprintf(stderr, "bench: replay saw %lld events of %ld\n",
            (long long)res.events, r.events);
  lb_replay_result_release(&res);
  lb_journal_close(j);
  if (getenv("LB_BENCH_KEEP")) { /* for `logbook replay` under a profiler */
    char keep[700];
    snprintf(keep, sizeof keep, "%s/replay-kept.db", dir_of_scratch());
    rm_journal(keep);
    if (rename(path, keep) == 0)
      printf("replay   journal kept: %s\n", keep);
  }
  rm_journal(path);
  lb_buf_release(&buf);
  free(w.css);
  free(w.pods);
  extras_clear();
  return r;
}

/* ---- 3. decision latency ----------------------------------------------- */

/* LB_BENCH_SPLIT builds (see docs/PERFORMANCE.md) link with
 * -Wl,--wrap=lb_cloneset_reconcile: the registry's call to the CloneSet
 * reducer lands here and is timed, so a flap's lb_engine_apply splits into
 * the reducer and the engine's generic part (fold, dirty set, emit/seal). */
#ifdef LB_BENCH_SPLIT
struct lb_rctx;
int __real_lb_cloneset_reconcile(struct lb_rctx *c, struct lb_obj *o);
int __wrap_lb_cloneset_reconcile(struct lb_rctx *c, struct lb_obj *o);
int __wrap_lb_cloneset_reconcile(struct lb_rctx *c, struct lb_obj *o) {
  int64_t t0 = now_ns();
  int rc = __real_lb_cloneset_reconcile(c, o);
  split_ns += now_ns() - t0;
  return rc;
}
#endif

struct decision_res {
  int pods;
  struct lat toggle, outcome, rollout, cascade;
  struct lat toggle_reducer, toggle_generic; /* LB_BENCH_SPLIT builds */
  long toggle_decisions, rollout_decisions, rollout_actions;
  long cascade_decisions;
  double build_s;
};

struct lats { /* growable latency sample */
  int64_t *v;
  size_t n, cap;
};

static void lats_add(struct lats *l, int64_t ns) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 1024;
    int64_t *n = realloc(l->v, cap * sizeof *n);
    if (!n)
      die("realloc", LB_ENOMEM);
    l->v = n;
    l->cap = cap;
  }
  l->v[l->n++] = ns;
}

struct dctx {
  struct lb_engine *e;
  struct world *w;
  struct lb_buf buf;
  int64_t seq, at;
};

/* Timed lb_engine_apply of a prepared event; returns decisions made. */
static long apply_timed(struct dctx *d, struct lb_event *ev, struct lats *l,
                        struct lb_decisions *ds) {
  size_t before = ds->n;
  ev->seq = ++d->seq;
  int64_t t0 = now_ns();
  int rc = lb_engine_apply(d->e, ev, ds);
  int64_t dt = now_ns() - t0;
  if (rc)
    die("lb_engine_apply", rc);
  if (l)
    lats_add(l, dt);
  if (getenv("LB_BENCH_TRACE"))
    for (size_t i = before; i < ds->n; i++)
      fprintf(stderr, "ev %lld %s %s/%s -> %s (%zu actions)\n",
              (long long)ev->seq, ev->kind, ev->ns, ev->name, ds->v[i].reason,
              ds->v[i].n_actions);
  lb_event_release(ev);
  return (long)(ds->n - before);
}

/* Answers every action in *pend (and what the answers cause) with
 * prepared outcome events, timing each apply into l. */
static long settle(struct dctx *d, struct lb_decisions *pend, struct lats *l) {
  struct lb_decisions more = {0};
  long made = 0;
  while (pend->n) {
    for (size_t i = 0; i < pend->n; i++)
      for (size_t a = 0; a < pend->v[i].n_actions; a++) {
        struct lb_event oe;
        synth_outcome(d->w, &pend->v[i].actions[a], ++d->at, &oe, &d->buf);
        made += apply_timed(d, &oe, l, &more);
      }
    lb_decisions_release(pend);
    struct lb_decisions t = *pend;
    *pend = more;
    more = t;
  }
  lb_decisions_release(&more);
  free(more.v);
  return made;
}

static struct decision_res bench_decision(int n_pods, long n_toggle,
                                          int n_rollout) {
  struct decision_res r;
  struct dctx d;
  struct world w;
  struct cs c;
  struct lb_event *evs = calloc((size_t)n_toggle, sizeof *evs);
  struct lats lt = {0}, lo = {0}, lr = {0}, lc = {0}, lrd = {0}, lgn = {0};
  struct lb_decisions pend = {0};
  int rc;
  memset(&r, 0, sizeof r);
  memset(&d, 0, sizeof d);
  memset(&w, 0, sizeof w);
  w.pods = calloc((size_t)n_pods, sizeof *w.pods);
  if (!w.pods || !evs)
    die("malloc", LB_ENOMEM);
  w.css = &c;
  w.n_cs = 1;
  w.n_pods = n_pods;
  w.rv = 5000;
  d.w = &w;
  d.at = 1764064800000;
  r.pods = n_pods;
  if ((rc = lb_engine_new(bench_opts(), &d.e)))
    die("lb_engine_new", rc);
  cs_init(&c, "prod", "big", n_pods);
  double t0 = now_s();
  for (int i = 0; i < n_pods; i++) {
    struct lb_event ev;
    pod_init(&w.pods[i], "prod", c.name, c.uid, c.rev, i, d.at);
    w.pods[i].rv = ++w.rv;
    pod_json(&d.buf, &w.pods[i]);
    mk_event(&ev, LB_EV_ADDED, ++d.at, d.buf.p, d.buf.len);
    apply_timed(&d, &ev, NULL, &pend);
  }
  /* the CloneSet adopts its pods; settle what it decides (revision,
   * status) */
  {
    struct lb_event ev;
    c.rv = ++w.rv;
    cs_json(&d.buf, &c);
    mk_event(&ev, LB_EV_ADDED, ++d.at, d.buf.p, d.buf.len);
    apply_timed(&d, &ev, NULL, &pend);
    settle(&d, &pend, NULL);
  }
  r.build_s = now_s() - t0;
  /* readiness flaps of random pods, prepared (parsed+decoded) up front */
  for (long i = 0; i < n_toggle; i++) {
    struct pod *p = &w.pods[rnd() % (uint64_t)n_pods];
    d.at += 1 + (int64_t)(rnd() % 3);
    p->ready = !p->ready;
    if (p->ready)
      p->ready_ms = d.at;
    p->rv = ++w.rv;
    pod_json(&d.buf, p);
    mk_event(&evs[i], LB_EV_MODIFIED, d.at, d.buf.p, d.buf.len);
  }
  for (long i = 0; i < n_toggle; i++) {
    int64_t s0 = split_ns;
    r.toggle_decisions += apply_timed(&d, &evs[i], &lt, &pend);
    lats_add(&lrd, split_ns - s0);
    lats_add(&lgn, lt.v[lt.n - 1] - (split_ns - s0));
    settle(&d, &pend, &lo);
  }
  /* rollouts: a template change (image flip) is one reconcile that
   * decides a new revision and labels up to maxUnavailable pods; the
   * cascade (patch outcomes, deletes, creates, status) is timed apart */
  for (int i = 0; i < n_rollout; i++) {
    struct lb_event ev;
    c.image = (i % 2 == 0) ? "nginx:1.26.0" : "nginx:1.25.3";
    c.generation++;
    c.rv = ++w.rv;
    cs_json(&d.buf, &c);
    mk_event(&ev, LB_EV_MODIFIED, ++d.at, d.buf.p, d.buf.len);
    size_t n0 = pend.n;
    r.rollout_decisions += apply_timed(&d, &ev, &lr, &pend);
    for (size_t k = n0; k < pend.n; k++)
      r.rollout_actions += (long)pend.v[k].n_actions;
    r.cascade_decisions += settle(&d, &pend, &lc);
  }
  r.toggle_reducer = summarize(lrd.v, lrd.n);
  r.toggle_generic = summarize(lgn.v, lgn.n);
  r.toggle = summarize(lt.v, lt.n);
  r.outcome = summarize(lo.v, lo.n);
  r.rollout = summarize(lr.v, lr.n);
  r.cascade = summarize(lc.v, lc.n);
  lb_decisions_release(&pend);
  free(pend.v);
  lb_engine_free(d.e);
  lb_buf_release(&d.buf);
  free(w.pods);
  free(evs);
  free(lt.v);
  free(lrd.v);
  free(lgn.v);
  free(lo.v);
  free(lr.v);
  free(lc.v);
  extras_clear();
  return r;
}

/* ---- 4. memory per tracked pod ----------------------------------------- */

struct mem_res {
  long pods;
  double rss_per_pod, heap_per_pod, compact_enc_per_pod;
  double secs;
};

static struct mem_res bench_memory(long n_pods, int n_cs) {
  struct mem_res r;
  struct lb_engine *e;
  struct lb_buf buf = LB_BUF_INIT, enc = LB_BUF_INIT;
  struct cs *css = calloc((size_t)n_cs, sizeof *css);
  int64_t seq = 0, at = 1764064800000;
  int rc;
  memset(&r, 0, sizeof r);
  if (!css)
    die("malloc", LB_ENOMEM);
  for (int c = 0; c < n_cs; c++) {
    char name[32];
    snprintf(name, sizeof name, "mem%d", c);
    cs_init(&css[c], "mem", name, (int)(n_pods / n_cs));
  }
  malloc_trim(0);
  size_t rss0 = rss_bytes(), heap0 = heap_in_use();
  double t0 = now_s();
  if ((rc = lb_engine_new(NULL, &e)))
    die("lb_engine_new", rc);
  double enc_total = 0;
  for (long i = 0; i < n_pods; i++) {
    struct cs *c = &css[i % n_cs];
    struct pod p;
    struct lb_event ev;
    struct lb_decisions ds = {0};
    pod_init(&p, "mem", c->name, c->uid, c->rev, (int)i, at);
    p.rv = 10 + i;
    pod_json(&buf, &p);
    mk_event(&ev, LB_EV_ADDED, ++at, buf.p, buf.len);
    if (i < 1000 && ev.obj) {
      lb_buf_reset(&enc);
      lb_obj_encode(ev.obj, &enc);
      enc_total += (double)enc.len;
    }
    ev.seq = ++seq;
    if ((rc = lb_engine_apply(e, &ev, &ds)))
      die("lb_engine_apply", rc);
    lb_decisions_release(&ds);
    lb_event_release(&ev);
  }
  for (int c = 0; c < n_cs; c++) {
    struct lb_event ev;
    struct lb_decisions ds = {0};
    cs_json(&buf, &css[c]);
    mk_event(&ev, LB_EV_ADDED, ++at, buf.p, buf.len);
    ev.seq = ++seq;
    if ((rc = lb_engine_apply(e, &ev, &ds)))
      die("lb_engine_apply", rc);
    lb_decisions_release(&ds);
    lb_event_release(&ev);
  }
  lb_buf_release(&buf);
  lb_buf_release(&enc);
  size_t rss1 = rss_bytes(), heap1 = heap_in_use();
  r.secs = now_s() - t0;
  r.pods = n_pods;
  if (lb_engine_count(e, LB_KIND_POD) != (size_t)n_pods)
    fprintf(stderr, "bench: engine tracks %zu pods, expected %ld\n",
            lb_engine_count(e, LB_KIND_POD), n_pods);
  r.rss_per_pod = ((double)rss1 - (double)rss0) / (double)n_pods;
  r.heap_per_pod = ((double)heap1 - (double)heap0) / (double)n_pods;
  r.compact_enc_per_pod = enc_total / 1000.0;
  lb_engine_free(e);
  free(css);
  return r;
}

/* ---- machine, doc ------------------------------------------------------ */

static void read_line_after(const char *file, const char *key, char *out,
                            size_t n) {
  FILE *f = fopen(file, "r");
  char line[512];
  snprintf(out, n, "?");
  if (!f)
    return;
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, key, strlen(key))) {
      char *v = strchr(line, ':');
      v = v ? v + 1 : line + strlen(key);
      while (*v == ' ' || *v == '\t')
        v++;
      v[strcspn(v, "\n")] = '\0';
      snprintf(out, n, "%s", v);
      break;
    }
  }
  fclose(f);
}

static void cc_version(char *out, size_t n) {
  FILE *p = popen("cc --version 2>/dev/null", "r");
  snprintf(out, n, "%s", "gcc " __VERSION__);
  if (p) {
    char line[256];
    if (fgets(line, sizeof line, p)) {
      line[strcspn(line, "\n")] = '\0';
      snprintf(out, n, "%s", line);
    }
    pclose(p);
  }
}

static const char *verdict(int ok) { return ok ? "**PASS**" : "**MISS**"; }

/* The "where the time goes" section, from this run's own numbers. */
static void
write_analysis(FILE *f, const struct breakdown *bd, const struct ingest_res *ib,
               const struct ingest_res *io, const struct replay_res *rr,
               const struct decision_res *dr, const struct mem_res *mr) {
  double per_ev = 1e6 / ib->ev_per_s;
  double cpu = bd->prepare + bd->insert_batched;
  fprintf(f, "## Where the time goes\n\n");
  fprintf(f,
          "**Ingest** (%s). One durable event costs %.1f us end to end "
          "(%.0f events/s). Measured stage by stage: strip %.1f us, json-c "
          "parse %.1f us (tokenizer + tree allocation + free), compact "
          "decode %.1f us, whole prepare %.1f us (%.0f%% of the CPU "
          "path); SQLite insert with a commit every %d events %.1f us "
          "(off) and %.1f us (batched, the fsync amortized over the "
          "batch). prepare + insert = %.1f us, i.e. a single-threaded "
          "ceiling of about %.0f events/s measured on 4,000 events; the "
          "long run loses another %.1f us/event. Part of that is the "
          "fsync of each commit, but the run with durability off also "
          "stays below the ceiling (%.0f events/s), so the rest is not "
          "yet attributed: candidates are the WAL growing over the run "
          "(the journal turns automatic checkpoints off and nothing "
          "checkpoints during this loop) and other load on the shared "
          "machine. The parse is the largest single stage, and it "
          "builds a json-c tree (every member and string allocated) only "
          "to read ~20 fields from it.\n\n",
          ib->ev_per_s >= 20000 ? "PASS" : "MISS", per_ev, ib->ev_per_s,
          bd->strip, bd->parse, bd->decode, bd->prepare,
          100.0 * bd->prepare / cpu, ib->flush_events, bd->insert_off,
          bd->insert_batched, cpu, 1e6 / cpu,
          per_ev - cpu > 0 ? per_ev - cpu : 0.0, io->ev_per_s);
  double per_pod_ns = dr->toggle.p50_us * 1e3 / (double)dr->pods;
  fprintf(f,
          "**Decision latency** (%s). A readiness flap of one pod costs "
          "p50 %.0f us at %d pods: %.0f ns per pod in the CloneSet, "
          "because every event that marks the CloneSet dirty runs a full "
          "reconcile: `collect()` walks and sorts all %d pods and "
          "recomputes every counter (revision, lifecycle, availability, "
          "node spread), and `status()` recounts them, even when one "
          "pod's Ready bit is all that changed. The outcome of the status "
          "write that follows costs the same again (p50 %.0f us), since "
          "folding it marks the owner dirty. The latency is linear (or "
          "n log n) in the pods of the owner, so the 50 us budget is met "
          "only up to roughly %.0f pods per CloneSet.\n\n",
          dr->toggle.p99_us <= 50 ? "PASS" : "MISS", dr->toggle.p50_us,
          dr->pods, per_pod_ns, dr->pods, dr->outcome.p50_us,
          per_pod_ns > 0 ? 50e3 / per_pod_ns : 0.0);
  double per_ev_replay = 1e6 / rr->ev_per_s;
  fprintf(f,
          "**Replay** (%s). %.1f us per event: each event's body is "
          "parsed again by json-c inside `lb_engine_apply` (about %.0f us "
          "at these body sizes, see the parse stage above) and every pod "
          "event reconciles its owner, whose %ld pods cost about %.0f ns "
          "each (%.0f us per reconcile); %ld decisions were compared with "
          "the journal. The reconcile, not SQLite, dominates: the scan "
          "itself is a sequential read of a %.0f MB file in the page "
          "cache.%s\n\n",
          rr->verify_rc == 0 && rr->replay_s * 1e6 / (double)rr->events <= 20
              ? "PASS"
              : "MISS",
          per_ev_replay, bd->parse + bd->decode,
          rr->pods / (rr->clonesets ? rr->clonesets : 1), per_pod_ns,
          per_pod_ns *
              (double)(rr->pods / (rr->clonesets ? rr->clonesets : 1)) / 1e3,
          rr->decisions, rr->file_mb,
          rr->capped ? " The journal build was capped by time "
                       "(LB_BENCH_BUILD_CAP_S): the 1M figure is the "
                       "measured per-event replay cost times 1,000,000."
                     : "");
  fprintf(f,
          "**Memory** (%s). %.0f bytes resident per tracked pod (%.0f B "
          "malloc'd): the compact struct with its strings (labels packed, "
          "uid, rv, node, owner uid), one map entry keyed by "
          "\"Pod/ns/name\", and a slot in the owner's pod array.\n\n",
          mr->rss_per_pod <= 2048 ? "PASS" : "MISS", mr->rss_per_pod,
          mr->heap_per_pod);
  fprintf(f, "## Proposed fixes (not applied: engine/ and store/ are owned "
             "elsewhere)\n\n"
             "1. **Incremental CloneSet aggregates** (decision latency, "
             "replay). Keep per-owner counters (active, ready, available, "
             "updated, updatedReady, per-node counts, PreparingNormal, "
             "specified-delete) updated in `upsert()`/`unlink_obj()` from the "
             "old and new pod, and let `status()`/`calculate()` read them; "
             "build and sort the candidate list only when `scale()` or "
             "`update()` will act (when the counters say pods are missing, "
             "surplus, to delete or to update). A readiness flap then costs "
             "O(1) plus the status decision; the decisions stay identical, so "
             "golden journals do not change.\n"
             "2. **Reconcile once per batch, not per event** (replay, "
             "ingest with decisions). The engine is level-triggered: "
             "collecting dirty owners over a group-commit batch and "
             "reconciling each once at the batch end gives the same "
             "final state with far fewer reconciles during churn. This "
             "changes which event a decision is attributed to, so it needs a "
             "journal format note.\n"
             "3. **Do not re-parse on replay** of events whose kind is not "
             "modelled, and decode with a streaming pass (strip + decode in "
             "one walk over the bytes, e.g. json-c's tokenizer in SAX style "
             "or a small purpose-built scanner) instead of building a full "
             "json-c tree per event: the parse stage is the largest cost "
             "of both ingest and replay.\n"
             "4. **Use the second core for ingest**: prepare (strip, parse, "
             "decode, hash) in a worker thread feeding the single SQLite "
             "writer through a bounded queue; on this 2-core machine the "
             "ceiling becomes 1e6 / max(prepare, insert) instead of 1e6 / "
             "(prepare + insert).\n");
}

int main(void) {
  const char *root = getenv("LB_ROOT");
  long replay_events = env_long("LB_BENCH_EVENTS", 1000000);
  int quick = getenv("LB_BENCH_QUICK") != NULL;
  long ingest_n = env_long("LB_BENCH_INGEST", quick ? 20000 : 200000);
  long toggles = env_long("LB_BENCH_TOGGLES", quick ? 500 : 3000);
  long mem_pods = env_long("LB_BENCH_MEM_PODS", quick ? 20000 : 100000);
  int decision_pods = (int)env_long("LB_BENCH_DECISION_PODS", 10000);
  int rollouts =
      getenv("LB_BENCH_ROLLOUTS") && !strcmp(getenv("LB_BENCH_ROLLOUTS"), "0")
          ? 0 /* skip the rollout cascade (minutes at 10k pods) */
          : (int)env_long("LB_BENCH_ROLLOUTS", 2);
  int replay_pods = (int)env_long("LB_BENCH_REPLAY_PODS", 10000);
  int replay_cs = (int)env_long("LB_BENCH_REPLAY_CS", 4);
  const char *dir = getenv("LB_BENCH_DIR");
  const char *only = getenv("LB_BENCH_ONLY");
#define RUN(section) (!only || strstr(only, section))
  char model[256], memtotal[64], ccv[256], date[32];
  struct utsname un;
  double t_all = now_s();

  snprintf(scratch, sizeof scratch, "%s/logbook-bench-XXXXXX",
           dir && *dir ? dir : "/tmp");
  if (!mkdtemp(scratch)) {
    perror("bench: mkdtemp");
    return 1;
  }
  read_line_after("/proc/cpuinfo", "model name", model, sizeof model);
  read_line_after("/proc/meminfo", "MemTotal", memtotal, sizeof memtotal);
  cc_version(ccv, sizeof ccv);
  uname(&un);
  lb_time_rfc3339(wall_ms(), date);
  printf("logbook bench — %s, %ld CPU(s) %s, %s RAM, Linux %s\n", date,
         sysconf(_SC_NPROCESSORS_ONLN), model, memtotal, un.release);
  printf("compiler: %s; scratch: %s\n\n", ccv, scratch);
  fflush(stdout);

  /* 4 first: the cleanest heap */
  struct mem_res mr = {0};
  if (RUN("memory")) {
    mr = bench_memory(mem_pods, 10);
    printf("memory   %ld pods: %.0f B/pod RSS, %.0f B/pod heap (compact "
           "encoding %.0f B) [%.1fs]\n",
           mr.pods, mr.rss_per_pod, mr.heap_per_pod, mr.compact_enc_per_pod,
           mr.secs);
    fflush(stdout);
  }

  struct pool pl;
  pool_build(&pl, 4096);
  if (getenv("LB_BENCH_DUMP")) { /* one body per container count */
    for (int want = 1; want <= 3; want++)
      for (size_t i = 0; i < pl.n; i++)
        if ((int)(strstr(pl.body[i], "log-agent")     ? 3
                  : strstr(pl.body[i], "istio-proxy") ? 2
                                                      : 1) == want) {
          printf("%d container(s), %zu B:\n%s\n", want, pl.len[i], pl.body[i]);
          break;
        }
    return 0;
  }
  struct breakdown bd = {0};
  struct ingest_res ib = {0}, io = {0};
  if (RUN("ingest")) {
    bd = bench_breakdown(&pl);
    printf("ingest   bodies %zu..%zu B (mean %.0f B, %.0f B after strip)\n",
           pl.min_len, pl.max_len, (double)pl.bytes / (double)pl.n,
           bd.body_stripped);
    printf("ingest   per event: strip %.1f us, json-c parse %.1f us + decode "
           "%.1f us (reference), fast decode %.1f us, prepare %.1f us; "
           "insert %.1f us (off) / %.1f us (batched)\n",
           bd.strip, bd.parse, bd.decode, bd.fast, bd.prepare, bd.insert_off,
           bd.insert_batched);
    fflush(stdout);
    ib = bench_ingest(&pl, LB_DUR_BATCHED, ingest_n);
    printf("ingest   batched: %ld events in %.2fs = %.0f ev/s, %.1f MB/s "
           "(%ld commits)\n",
           ib.events, ib.secs, ib.ev_per_s, ib.mb_per_s, ib.commits);
    fflush(stdout);
    io = bench_ingest(&pl, LB_DUR_OFF, ingest_n);
    printf("ingest   off:     %ld events in %.2fs = %.0f ev/s, %.1f MB/s "
           "(%ld commits)\n",
           io.events, io.secs, io.ev_per_s, io.mb_per_s, io.commits);
    fflush(stdout);
  }

  double t_dec = now_s();
  struct decision_res dr = {0};
  if (RUN("decision")) {
    dr = bench_decision(decision_pods, toggles, rollouts);
    printf("decision %d pods: readiness flap p50 %.1f us p99 %.1f us max "
           "%.1f us (%zu events, %ld decisions); outcome p50 %.1f p99 %.1f "
           "(%zu)\n",
           dr.pods, dr.toggle.p50_us, dr.toggle.p99_us, dr.toggle.max_us,
           dr.toggle.n, dr.toggle_decisions, dr.outcome.p50_us,
           dr.outcome.p99_us, dr.outcome.n);
#ifdef LB_BENCH_SPLIT
    printf("decision flap split: CloneSet reducer p50 %.1f us p99 %.1f us; "
           "engine generic (apply minus reducer) p50 %.1f us p99 %.1f us; "
           "mean %.1f + %.1f us\n",
           dr.toggle_reducer.p50_us, dr.toggle_reducer.p99_us,
           dr.toggle_generic.p50_us, dr.toggle_generic.p99_us,
           dr.toggle_reducer.mean_us, dr.toggle_generic.mean_us);
#endif
    printf("decision rollout: template change p50 %.1f us max %.1f us (%ld "
           "actions); cascade p50 %.1f p99 %.1f max %.1f us (%zu events, %ld "
           "decisions) [setup %.1fs, total %.1fs]\n",
           dr.rollout.p50_us, dr.rollout.max_us, dr.rollout_actions,
           dr.cascade.p50_us, dr.cascade.p99_us, dr.cascade.max_us,
           dr.cascade.n, dr.cascade_decisions, dr.build_s, now_s() - t_dec);
    fflush(stdout);
  }

  struct replay_res rr = {0};
  rr.events = 1;
  if (RUN("replay")) {
    rr = bench_replay(replay_events, replay_pods, replay_cs,
                      (double)env_long("LB_BENCH_BUILD_CAP_S", 240));
    printf("replay   %ld events (%ld pods, %ld CloneSets, %ld decisions, %.0f "
           "MB): built in %.1fs, replayed+verified in %.2fs = %.0f ev/s "
           "(%s)\n",
           rr.events, rr.pods, rr.clonesets, rr.decisions, rr.file_mb,
           rr.build_s, rr.replay_s, rr.ev_per_s, lb_err_name(rr.verify_rc));
#ifdef LB_BENCH_SPLIT
    printf("replay   split: %.2fs in the CloneSet reducer, %.2fs the rest "
           "(scan, hash check, decode, fold, emit, verify) = %.1f us/event\n",
           rr.reducer_s, rr.replay_s - rr.reducer_s,
           (rr.replay_s - rr.reducer_s) * 1e6 / (double)rr.events);
#endif
    fflush(stdout);
  }
  pool_free(&pl);
  rmdir(scratch);

  /* budgets */
  double replay_1m = rr.replay_s * 1e6 / (double)rr.events;
  int ok_ingest = ib.ev_per_s >= 20000;
  int ok_replay = rr.verify_rc == 0 && replay_1m <= 20.0;
  int ok_dec = dr.toggle.p99_us <= 50.0;
  int ok_mem = mr.rss_per_pod <= 2048.0;
  double total_s = now_s() - t_all;

  printf("\n| measurement | budget | result | verdict |\n|---|---|---|---|\n");
  printf("| durable ingest (batched) | >= 20000 ev/s | %.0f ev/s | %s |\n",
         ib.ev_per_s, ok_ingest ? "PASS" : "MISS");
  printf("| replay of 1M events | <= 20 s | %.1f s (%.0f ev/s) | %s |\n",
         replay_1m, rr.ev_per_s, ok_replay ? "PASS" : "MISS");
  printf("| decision p99 @ %d pods | <= 50 us | %.1f us | %s |\n", dr.pods,
         dr.toggle.p99_us, ok_dec ? "PASS" : "MISS");
  printf("| resident per tracked pod | <= 2048 B | %.0f B | %s |\n",
         mr.rss_per_pod, ok_mem ? "PASS" : "MISS");
  printf("total bench time %.0fs\n", total_s);

  if ((quick && !getenv("LB_BENCH_DOC")) || only)
    return 0;
  char docpath[1024];
  /* its own file: docs/PERFORMANCE.md holds hand-written analysis and the
   * rollout/webhook sections, which a run must never overwrite */
  snprintf(docpath, sizeof docpath, "%s/docs/PERFORMANCE-bench.md",
           root && *root ? root : ".");
  FILE *f = fopen(docpath, "w");
  if (!f) {
    perror(docpath);
    return 1;
  }
  fprintf(f, "# logbook performance: the latest `make bench` run\n\n"
             "The analysis, the history and the cluster and webhook "
             "benchmarks are in PERFORMANCE.md.\n\n");
  fprintf(f,
          "Generated by `make bench` (bench/bench.c) on %s. Every number "
          "below was measured by that run; re-run to refresh. Scale the "
          "replay with `LB_BENCH_EVENTS=N make bench` (default 1000000).\n\n",
          date);
  fprintf(f, "## Machine\n\n| | |\n|---|---|\n");
  fprintf(f, "| CPUs (nproc) | %ld |\n", sysconf(_SC_NPROCESSORS_ONLN));
  fprintf(f, "| model | %s |\n| RAM | %s |\n| kernel | %s %s |\n", model,
          memtotal, un.sysname, un.release);
  fprintf(f, "| compiler | %s (bench built with `-O2 -g`) |\n", ccv);
  fprintf(f, "| scratch dir | %s (journals; page cache warm) |\n",
          dir && *dir ? dir : "/tmp");
  fprintf(f, "| total bench time | %.0f s |\n\n", total_s);

  fprintf(f, "## Budgets\n\n| measurement | budget | result | verdict |\n"
             "|---|---|---|---|\n");
  fprintf(f,
          "| durable ingest (batched, fsync per commit) | >= 20,000 "
          "events/s | %.0f events/s (%.1f MB/s) | %s |\n",
          ib.ev_per_s, ib.mb_per_s, verdict(ok_ingest));
  fprintf(f,
          "| replay of a 1M-event journal, verify on | <= 20 s | %.1f s "
          "(%ld events in %.2f s, %.0f events/s%s) | %s |\n",
          replay_1m, rr.events, rr.replay_s, rr.ev_per_s,
          rr.events == 1000000 ? "" : "; scaled to 1M", verdict(ok_replay));
  fprintf(f,
          "| decision latency p99, %d pods in one CloneSet, parse "
          "excluded | <= 50 us | p50 %.1f us, p99 %.1f us, max %.1f us | "
          "%s |\n",
          dr.pods, dr.toggle.p50_us, dr.toggle.p99_us, dr.toggle.max_us,
          verdict(ok_dec));
  fprintf(f,
          "| resident memory per tracked pod | <= 2048 B | %.0f B | %s "
          "|\n\n",
          mr.rss_per_pod, verdict(ok_mem));

  fprintf(f, "## 1. Durable ingest\n\n");
  fprintf(f,
          "Bodies: %zu distinct Pod watch bodies generated in memory before "
          "timing, shaped like `kubectl get pod -o json` of a CloneSet pod "
          "(1-3 containers, conditions, containerStatuses, ownerReferences, "
          "and managedFields from kruise-manager and kubelet): %zu..%zu "
          "bytes, mean %.0f B, %.0f B after managedFields are stripped. "
          "Timed per event: `lb_event_prepare` (strip + json-c parse + "
          "compact decode + xxh3) + `lb_journal_append_event`, "
          "`lb_journal_should_flush` -> `lb_journal_commit` (group commit "
          "with the default opts: flush_events=%d, flush_ms=%d). The "
          "untimed part is copying the bodies into fresh malloc'd buffers "
          "(prepare takes ownership).\n\n",
          pl.n, pl.min_len, pl.max_len, (double)pl.bytes / (double)pl.n,
          bd.body_stripped, ib.flush_events, ib.flush_ms);
  fprintf(f, "| durability | events | seconds | events/s | MB/s (raw "
             "bodies) | commits |\n|---|---|---|---|---|---|\n");
  fprintf(f,
          "| batched (synchronous=FULL, fsync per commit) | %ld | %.2f | "
          "%.0f | %.1f | %ld |\n",
          ib.events, ib.secs, ib.ev_per_s, ib.mb_per_s, ib.commits);
  fprintf(f,
          "| off (synchronous=OFF) | %ld | %.2f | %.0f | %.1f | %ld "
          "|\n\n",
          io.events, io.secs, io.ev_per_s, io.mb_per_s, io.commits);
  fprintf(f,
          "Breakdown per event (%d events, each stage timed alone):\n\n"
          "| stage | us/event |\n|---|---|\n"
          "| strip managedFields (`lb_json_strip_managed_fields`) | %.2f |\n"
          "| json-c parse of the stripped body | %.2f |\n"
          "| compact decode (`lb_obj_decode`) | %.2f |\n"
          "| whole `lb_event_prepare` | %.2f |\n"
          "| `lb_journal_append_event` + commit every %d, off | %.2f |\n"
          "| `lb_journal_append_event` + commit every %d, batched | %.2f "
          "|\n\n",
          pl.n < 4000 ? (int)pl.n : 4000, bd.strip, bd.parse, bd.decode,
          bd.prepare, ib.flush_events, bd.insert_off, ib.flush_events,
          bd.insert_batched);

  fprintf(f, "## 2. Replay\n\n");
  fprintf(f,
          "Journal built through the live path (prepare -> append event -> "
          "`lb_engine_apply` -> append decisions; durability off, commit "
          "every 4096 events): %ld pods (ADDED) owned by %ld CloneSets, "
          "then Pod MODIFIED churn on random pods (60%% readiness flaps, "
          "10%% container restarts, 30%% resyncs with a new "
          "resourceVersion), each decided action answered with a 200 "
          "outcome event. %ld events, %ld decisions, %ld actions, "
          "%.0f MB file, built in %.1f s. Then `lb_replay_run` (verify on: "
          "every decision compared with the journal, chain recomputed) "
          "with the file in the page cache.\n\n",
          rr.pods, rr.clonesets, rr.events, rr.decisions, rr.actions,
          rr.file_mb, rr.build_s);
  fprintf(f,
          "| events | decisions | replay s | events/s | result | digest "
          "|\n|---|---|---|---|---|---|\n| %ld | %ld | %.2f | %.0f | %s | "
          "%016llx |\n\n",
          rr.events, rr.decisions, rr.replay_s, rr.ev_per_s,
          lb_err_name(rr.verify_rc), (unsigned long long)rr.digest);

  fprintf(f, "## 3. Decision latency\n\n");
  fprintf(f,
          "One engine, one CloneSet with %d pods (all Running+Ready, "
          "owned through ownerReferences, labelled with the CloneSet's "
          "update revision). Events are prepared (parsed and decoded) "
          "before timing; only `lb_engine_apply` is timed "
          "(CLOCK_MONOTONIC). Every decided action is answered with an "
          "outcome event (also timed, listed separately).\n\n",
          dr.pods);
  fprintf(f, "| workload | events | p50 us | p90 us | p99 us | max us | "
             "mean us | decisions |\n|---|---|---|---|---|---|---|---|\n");
  fprintf(f,
          "| Pod readiness flap (random pod) | %zu | %.1f | %.1f | "
          "%.1f | %.1f | %.1f | %ld |\n",
          dr.toggle.n, dr.toggle.p50_us, dr.toggle.p90_us, dr.toggle.p99_us,
          dr.toggle.max_us, dr.toggle.mean_us, dr.toggle_decisions);
  fprintf(f,
          "| outcome of a decided action | %zu | %.1f | %.1f | %.1f | "
          "%.1f | %.1f | - |\n",
          dr.outcome.n, dr.outcome.p50_us, dr.outcome.p90_us, dr.outcome.p99_us,
          dr.outcome.max_us, dr.outcome.mean_us);
  fprintf(f,
          "| rollout: CloneSet template change | %zu | %.1f | %.1f | "
          "%.1f | %.1f | %.1f | %ld (%ld actions) |\n\n",
          dr.rollout.n, dr.rollout.p50_us, dr.rollout.p90_us, dr.rollout.p99_us,
          dr.rollout.max_us, dr.rollout.mean_us, dr.rollout_decisions,
          dr.rollout_actions);

  fprintf(f, "## 4. Memory per tracked pod\n\n");
  fprintf(f,
          "RSS (/proc/self/statm) and malloc'd bytes in use (mallinfo2) "
          "before creating an engine and after folding %ld distinct pods "
          "(ADDED, 10 CloneSets adopting them), divided by the pod count. "
          "Includes the compact struct, its strings, the object map entry "
          "and the owner's pod array; the json-c trees are freed after "
          "decode. For scale: the canonical encoding of one compact pod is "
          "%.0f B.\n\n",
          mr.pods, mr.compact_enc_per_pod);
  fprintf(f,
          "| pods | RSS bytes/pod | heap bytes/pod |\n|---|---|---|\n| "
          "%ld | %.0f | %.0f |\n\n",
          mr.pods, mr.rss_per_pod, mr.heap_per_pod);
  write_analysis(f, &bd, &ib, &io, &rr, &dr, &mr);
  fclose(f);
  printf("wrote %s\n", docpath);
  return 0;
}
