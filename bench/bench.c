/* bench.c — logbook's benchmarks (`make bench`), results written to
 * docs/PERFORMANCE.md.
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
 * unless LB_BENCH_DOC=1), LB_BENCH_DIR (scratch directory, default /tmp).
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
#include "../engine/engine.h"
#include "../engine/err.h"
#include "../engine/event.h"
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
};

static void pod_init(struct pod *p, const char *ns, const char *cs_name,
                     const char *cs_uid, const char *rev, int idx,
                     int64_t t0) {
  static const char alpha[] = "bcdfghjklmnpqrstvwxz2456789";
  char id[8];
  uint64_t r = rnd();
  memset(p, 0, sizeof p[0]);
  for (int i = 0; i < 5; i++)
    id[i] = alpha[(r >> (i * 6)) % 27];
  id[5] = '\0';
  snprintf(p->name, sizeof p->name, "%s-%s%d", cs_name ? cs_name : "pod", id,
           idx);
  snprintf(p->ns, sizeof p->ns, "%s", ns);
  fmt_uid(p->uid, rnd(), rnd());
  p->cs_name = cs_name;
  p->cs_uid = cs_uid;
  p->rev = rev;
  p->node = (int)(rnd() % 50);
  p->ncont = 1 + (int)(rnd() % 3); /* 1..3 containers: 1.5-5 KB bodies */
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
              "\"pod-template-hash\":\"%s\",\"tier\":\"frontend\"},"
              "\"annotations\":{\"lifecycle.apps.kruise.io/timestamp\":\"%s\","
              "\"kubectl.kubernetes.io/default-container\":\"app\","
              "\"prometheus.io/scrape\":\"true\",\"prometheus.io/port\":"
              "\"9090\"}",
              p->name, p->cs_name ? p->cs_name : "pod", p->ns, p->uid,
              (long long)p->rv, created, p->cs_name ? p->cs_name : "pod",
              p->name + strlen(p->cs_name ? p->cs_name : "pod") + 1,
              p->rev ? p->rev : "none", p->rev ? p->rev : "none", created);
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
                "{\".\":{},\"f:containerPort\":{},\"f:protocol\":{}}},"
                "\"f:resources\":{\".\":{},\"f:limits\":{\".\":{},\"f:cpu\":{},"
                "\"f:memory\":{}},\"f:requests\":{\".\":{},\"f:cpu\":{},"
                "\"f:memory\":{}}},\"f:terminationMessagePath\":{},"
                "\"f:terminationMessagePolicy\":{}}",
                c ? "," : "", cname[c], 8080 + c);
  lb_buf_addf(b,
              "},\"f:dnsPolicy\":{},\"f:enableServiceLinks\":{},"
              "\"f:restartPolicy\":{},\"f:schedulerName\":{},"
              "\"f:securityContext\":{},\"f:terminationGracePeriodSeconds\":{}"
              "}}},{\"manager\":\"kubelet\",\"operation\":\"Update\","
              "\"apiVersion\":\"v1\",\"time\":\"%s\",\"fieldsType\":"
              "\"FieldsV1\",\"fieldsV1\":{\"f:status\":{\"f:conditions\":{"
              "\"k:{\\\"type\\\":\\\"ContainersReady\\\"}\":{\".\":{},"
              "\"f:lastProbeTime\":{},\"f:lastTransitionTime\":{},"
              "\"f:status\":{},\"f:type\":{}},\"k:{\\\"type\\\":\\\""
              "Initialized\\\"}\":{\".\":{},\"f:lastProbeTime\":{},"
              "\"f:lastTransitionTime\":{},\"f:status\":{},\"f:type\":{}},"
              "\"k:{\\\"type\\\":\\\"Ready\\\"}\":{\".\":{},"
              "\"f:lastProbeTime\":{},\"f:lastTransitionTime\":{},"
              "\"f:status\":{},\"f:type\":{}}},\"f:containerStatuses\":{},"
              "\"f:hostIP\":{},\"f:phase\":{},\"f:podIP\":{},\"f:podIPs\":{"
              "\".\":{},\"k:{\\\"ip\\\":\\\"%s\\\"}\":{\".\":{},\"f:ip\":{}}},"
              "\"f:startTime\":{}}},\"subresource\":\"status\"}]},",
              readyt, ipa);
  /* spec */
  lb_buf_addf(b,
              "\"spec\":{\"volumes\":[{\"name\":\"kube-api-access-%.5s\","
              "\"projected\":{\"sources\":[{\"serviceAccountToken\":{"
              "\"expirationSeconds\":3607,\"path\":\"token\"}},{\"configMap\":"
              "{\"name\":\"kube-root-ca.crt\",\"items\":[{\"key\":\"ca.crt\","
              "\"path\":\"ca.crt\"}]}}],\"defaultMode\":420}}],"
              "\"containers\":[",
              p->uid);
  for (int c = 0; c < p->ncont; c++)
    lb_buf_addf(b,
                "%s{\"name\":\"%s\",\"image\":\"%s\",\"ports\":[{"
                "\"containerPort\":%d,\"protocol\":\"TCP\"}],\"resources\":{"
                "\"limits\":{\"cpu\":\"500m\",\"memory\":\"256Mi\"},"
                "\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"}},"
                "\"volumeMounts\":[{\"name\":\"kube-api-access-%.5s\","
                "\"readOnly\":true,\"mountPath\":\"/var/run/secrets/"
                "kubernetes.io/serviceaccount\"}],\"terminationMessagePath\":"
                "\"/dev/termination-log\",\"terminationMessagePolicy\":"
                "\"File\",\"imagePullPolicy\":\"IfNotPresent\"}",
                c ? "," : "", cname[c], c ? cimg[c] : p->image, 8080 + c,
                p->uid);
  lb_buf_addf(b,
              "],\"restartPolicy\":\"Always\","
              "\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":"
              "\"ClusterFirst\",\"serviceAccountName\":\"default\","
              "\"serviceAccount\":\"default\",\"nodeName\":\"node-%02d\","
              "\"securityContext\":{},\"schedulerName\":\"default-scheduler\","
              "\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\","
              "\"operator\":\"Exists\",\"effect\":\"NoExecute\","
              "\"tolerationSeconds\":300},{\"key\":\"node.kubernetes.io/"
              "unreachable\",\"operator\":\"Exists\",\"effect\":\"NoExecute\","
              "\"tolerationSeconds\":300}],\"priority\":0,"
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
      "\"maxUnavailable\":\"20%%\"},\"revisionHistoryLimit\":10}}",
      c->name, c->ns, c->uid, (long long)c->rv, (long long)c->generation,
      c->name, c->replicas, c->name, c->name, c->image);
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

static void mk_outcome(struct lb_event *ev, const struct lb_action *a,
                       int64_t at) {
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
      (rc = lb_event_set(&ev->name, a->name)) ||
      (rc = lb_event_prepare(ev, NULL, 0)))
    die("outcome", rc);
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
  double copy, strip, parse, decode, prepare, insert_off, insert_batched;
  double body_in, body_stripped;
};

static struct breakdown bench_breakdown(const struct pool *pl) {
  struct breakdown bd;
  size_t n = pl->n < 4000 ? pl->n : 4000;
  char **tmp = calloc(n, sizeof *tmp);
  size_t *tl = calloc(n, sizeof *tl);
  struct json_object **roots = calloc(n, sizeof *roots);
  struct lb_event *evs = calloc(n, sizeof *evs);
  double t0;
  int rc;
  memset(&bd, 0, sizeof bd);
  if (!tmp || !tl || !roots || !evs)
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
  t0 = now_s();
  for (size_t i = 0; i < n; i++) {
    struct json_tokener *tok = json_tokener_new();
    roots[i] = json_tokener_parse_ex(tok, tmp[i], (int)tl[i]);
    json_tokener_free(tok);
    bd.body_stripped += (double)tl[i];
  }
  bd.parse = (now_s() - t0) / (double)n * 1e6;
  t0 = now_s();
  for (size_t i = 0; i < n; i++) {
    struct lb_obj *o = NULL;
    const char *why;
    if ((rc = lb_obj_decode(roots[i], &o, &why)))
      die("lb_obj_decode", rc);
    lb_obj_free(o);
  }
  bd.decode = (now_s() - t0) / (double)n * 1e6;
  for (size_t i = 0; i < n; i++) {
    json_object_put(roots[i]);
    free(tmp[i]);
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
  free(roots);
  free(tmp);
  free(tl);
  return bd;
}

/* ---- 2. replay --------------------------------------------------------- */

struct builder { /* the live path without an actuator: journal + engine */
  struct lb_journal *j;
  struct lb_engine *e;
  int64_t at;
  long events, decisions, actions;
  /* outcomes owed for actions decided (answered on the next event) */
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

/* Answers every owed action with a 200 outcome (no body). */
static void answer(struct builder *b, long limit) {
  size_t n = b->n_owed;
  b->n_owed = 0;
  for (size_t i = 0; i < n; i++) {
    struct lb_event ev;
    if (b->events < limit) {
      mk_outcome(&ev, &b->owed[i], ++b->at);
      push(b, &ev);
    }
    lb_action_release(&b->owed[i]);
  }
}

struct replay_res {
  long events, decisions, actions, pods, clonesets;
  double build_s, replay_s, ev_per_s;
  double file_mb;
  int verify_rc;
  uint64_t digest;
};

static struct replay_res bench_replay(long target, int n_pods, int n_cs) {
  struct replay_res r;
  struct builder b;
  struct lb_journal_opts o = LB_JOURNAL_OPTS_INIT;
  struct lb_buf buf = LB_BUF_INIT;
  struct cs *css = calloc((size_t)n_cs, sizeof *css);
  struct pod *pods = calloc((size_t)n_pods, sizeof *pods);
  char path[600];
  int64_t rv = 1000;
  int rc;
  memset(&r, 0, sizeof r);
  memset(&b, 0, sizeof b);
  if (!css || !pods)
    die("malloc", LB_ENOMEM);
  r.pods = n_pods;
  r.clonesets = n_cs;
  o.durability = LB_DUR_OFF;
  o.flush_events = 4096;
  snprintf(path, sizeof path, "%s/replay.db", scratch);
  rm_journal(path);
  if ((rc = lb_journal_open(path, &o, &b.j)))
    die_j("lb_journal_open", rc, NULL);
  if ((rc = lb_engine_new(NULL, &b.e)))
    die("lb_engine_new", rc);
  b.at = 1764064800000;
  double t0 = now_s();
  int per = n_pods / n_cs;
  for (int c = 0; c < n_cs; c++) {
    char name[32];
    snprintf(name, sizeof name, "web%d", c);
    cs_init(&css[c], "prod", name, per);
  }
  /* pods first (nothing reconciles without the owner), then each
   * CloneSet adopts its pods */
  for (int i = 0; i < n_pods; i++) {
    struct cs *c = &css[i % n_cs];
    struct lb_event ev;
    pod_init(&pods[i], "prod", c->name, c->uid, c->rev, i, b.at);
    pods[i].rv = ++rv;
    pod_json(&buf, &pods[i]);
    mk_event(&ev, LB_EV_ADDED, ++b.at, buf.p, buf.len);
    push(&b, &ev);
  }
  for (int c = 0; c < n_cs; c++) {
    struct lb_event ev;
    css[c].rv = ++rv;
    cs_json(&buf, &css[c]);
    mk_event(&ev, LB_EV_ADDED, ++b.at, buf.p, buf.len);
    push(&b, &ev);
  }
  answer(&b, target);
  /* steady churn: readiness flaps, restarts, resyncs (same state, new
   * rv); every decided action is answered */
  while (b.events < target) {
    struct pod *p = &pods[rnd() % (uint64_t)n_pods];
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
    p->rv = ++rv;
    pod_json(&buf, p);
    mk_event(&ev, LB_EV_MODIFIED, b.at, buf.p, buf.len);
    push(&b, &ev);
    answer(&b, target);
  }
  for (size_t i = 0; i < b.n_owed; i++)
    lb_action_release(&b.owed[i]);
  free(b.owed);
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
  struct lb_replay_result res;
  struct lb_journal *j;
  ro.readonly = 1;
  if ((rc = lb_journal_open(path, &ro, &j)))
    die_j("lb_journal_open (replay)", rc, NULL);
  t0 = now_s();
  rc = lb_replay_run(j, &rop, &res, NULL);
  r.replay_s = now_s() - t0;
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
  rm_journal(path);
  lb_buf_release(&buf);
  free(css);
  free(pods);
  return r;
}

/* ---- 3. decision latency ----------------------------------------------- */

struct decision_res {
  int pods;
  struct lat toggle, outcome, rollout;
  long toggle_decisions, rollout_decisions, rollout_actions;
  double build_s;
};

static void apply_timed(struct lb_engine *e, struct lb_event *ev, int64_t *ns,
                        struct lb_decisions *ds) {
  int64_t t0 = now_ns();
  int rc = lb_engine_apply(e, ev, ds);
  *ns = now_ns() - t0;
  if (rc)
    die("lb_engine_apply", rc);
}

static struct decision_res bench_decision(int n_pods, long n_toggle,
                                          int n_rollout) {
  struct decision_res r;
  struct lb_engine *e;
  struct lb_buf buf = LB_BUF_INIT;
  struct cs c;
  struct pod *pods = calloc((size_t)n_pods, sizeof *pods);
  struct lb_event *evs = calloc((size_t)n_toggle, sizeof *evs);
  int64_t *lt = calloc((size_t)n_toggle, sizeof *lt);
  int64_t *lo = calloc((size_t)n_toggle * 4 + 16, sizeof *lo);
  int64_t *lr = calloc((size_t)n_rollout + 1, sizeof *lr);
  size_t nlo = 0;
  int64_t seq = 0, at = 1764064800000, rv = 5000;
  int rc;
  memset(&r, 0, sizeof r);
  if (!pods || !evs || !lt || !lo || !lr)
    die("malloc", LB_ENOMEM);
  r.pods = n_pods;
  if ((rc = lb_engine_new(NULL, &e)))
    die("lb_engine_new", rc);
  cs_init(&c, "prod", "big", n_pods);
  double t0 = now_s();
  for (int i = 0; i < n_pods; i++) {
    struct lb_event ev;
    struct lb_decisions ds = {0};
    pod_init(&pods[i], "prod", c.name, c.uid, c.rev, i, at);
    pods[i].rv = ++rv;
    pod_json(&buf, &pods[i]);
    mk_event(&ev, LB_EV_ADDED, ++at, buf.p, buf.len);
    ev.seq = ++seq;
    if ((rc = lb_engine_apply(e, &ev, &ds)))
      die("lb_engine_apply", rc);
    lb_decisions_release(&ds);
    lb_event_release(&ev);
  }
  /* the CloneSet adopts 10k pods; answer what it decides (status) */
  struct lb_decisions pend = {0};
  {
    struct lb_event ev;
    c.rv = ++rv;
    cs_json(&buf, &c);
    mk_event(&ev, LB_EV_ADDED, ++at, buf.p, buf.len);
    ev.seq = ++seq;
    if ((rc = lb_engine_apply(e, &ev, &pend)))
      die("lb_engine_apply", rc);
    lb_event_release(&ev);
  }
  r.build_s = now_s() - t0;
  /* resolves pend's actions through outcome events, timing each apply */
  struct lb_decisions more = {0};
#define ANSWER_PENDING(into_lat)                                               \
  do {                                                                         \
    while (pend.n) {                                                           \
      for (size_t d_ = 0; d_ < pend.n; d_++)                                   \
        for (size_t a_ = 0; a_ < pend.v[d_].n_actions; a_++) {                 \
          struct lb_event oe;                                                  \
          int64_t ns_;                                                         \
          mk_outcome(&oe, &pend.v[d_].actions[a_], ++at);                      \
          oe.seq = ++seq;                                                      \
          apply_timed(e, &oe, &ns_, &more);                                    \
          if (into_lat && nlo < (size_t)n_toggle * 4 + 16)                     \
            lo[nlo++] = ns_;                                                   \
          lb_event_release(&oe);                                               \
        }                                                                      \
      lb_decisions_release(&pend);                                             \
      struct lb_decisions t_ = pend;                                           \
      pend = more;                                                             \
      more = t_;                                                               \
    }                                                                          \
  } while (0)
  ANSWER_PENDING(0);
  /* readiness flaps of random pods, prepared (parsed+decoded) up front */
  for (long i = 0; i < n_toggle; i++) {
    struct pod *p = &pods[rnd() % (uint64_t)n_pods];
    at += 1 + (int64_t)(rnd() % 3);
    p->ready = !p->ready;
    if (p->ready)
      p->ready_ms = at;
    p->rv = ++rv;
    pod_json(&buf, p);
    mk_event(&evs[i], LB_EV_MODIFIED, at, buf.p, buf.len);
  }
  for (long i = 0; i < n_toggle; i++) {
    evs[i].seq = ++seq;
    if (evs[i].at_ms > at)
      at = evs[i].at_ms;
    apply_timed(e, &evs[i], &lt[i], &pend);
    for (size_t d = 0; d < pend.n; d++)
      r.toggle_decisions++;
    lb_event_release(&evs[i]);
    ANSWER_PENDING(1);
  }
  /* rollouts: template changes (image flips), each a full reconcile that
   * labels up to maxUnavailable pods for recreation */
  for (int i = 0; i < n_rollout; i++) {
    struct lb_event ev;
    c.image = (i % 2 == 0) ? "nginx:1.26.0" : "nginx:1.25.3";
    c.generation++;
    c.rv = ++rv;
    cs_json(&buf, &c);
    mk_event(&ev, LB_EV_MODIFIED, ++at, buf.p, buf.len);
    ev.seq = ++seq;
    apply_timed(e, &ev, &lr[i], &pend);
    r.rollout_decisions += (long)pend.n;
    for (size_t d = 0; d < pend.n; d++)
      r.rollout_actions += (long)pend.v[d].n_actions;
    lb_event_release(&ev);
    ANSWER_PENDING(0);
  }
#undef ANSWER_PENDING
  r.toggle = summarize(lt, (size_t)n_toggle);
  r.outcome = summarize(lo, nlo);
  r.rollout = summarize(lr, (size_t)n_rollout);
  lb_decisions_release(&pend);
  lb_decisions_release(&more);
  lb_engine_free(e);
  lb_buf_release(&buf);
  free(pods);
  free(evs);
  free(lt);
  free(lo);
  free(lr);
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

int main(void) {
  const char *root = getenv("LB_ROOT");
  long replay_events = env_long("LB_BENCH_EVENTS", 1000000);
  int quick = getenv("LB_BENCH_QUICK") != NULL;
  long ingest_n = env_long("LB_BENCH_INGEST", quick ? 20000 : 200000);
  long toggles = env_long("LB_BENCH_TOGGLES", quick ? 500 : 3000);
  long mem_pods = env_long("LB_BENCH_MEM_PODS", quick ? 20000 : 100000);
  int decision_pods = (int)env_long("LB_BENCH_DECISION_PODS", 10000);
  int replay_pods = (int)env_long("LB_BENCH_REPLAY_PODS", 10000);
  int replay_cs = (int)env_long("LB_BENCH_REPLAY_CS", 4);
  const char *dir = getenv("LB_BENCH_DIR");
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
  struct mem_res mr = bench_memory(mem_pods, 10);
  printf("memory   %ld pods: %.0f B/pod RSS, %.0f B/pod heap (compact "
         "encoding %.0f B) [%.1fs]\n",
         mr.pods, mr.rss_per_pod, mr.heap_per_pod, mr.compact_enc_per_pod,
         mr.secs);
  fflush(stdout);

  struct pool pl;
  pool_build(&pl, 4096);
  struct breakdown bd = bench_breakdown(&pl);
  printf("ingest   bodies %zu..%zu B (mean %.0f B, %.0f B after strip)\n",
         pl.min_len, pl.max_len, (double)pl.bytes / (double)pl.n,
         bd.body_stripped);
  printf("ingest   per event: strip %.1f us, parse %.1f us, decode %.1f us, "
         "prepare %.1f us; insert %.1f us (off) / %.1f us (batched)\n",
         bd.strip, bd.parse, bd.decode, bd.prepare, bd.insert_off,
         bd.insert_batched);
  fflush(stdout);
  struct ingest_res ib = bench_ingest(&pl, LB_DUR_BATCHED, ingest_n);
  printf("ingest   batched: %ld events in %.2fs = %.0f ev/s, %.1f MB/s "
         "(%ld commits)\n",
         ib.events, ib.secs, ib.ev_per_s, ib.mb_per_s, ib.commits);
  fflush(stdout);
  struct ingest_res io = bench_ingest(&pl, LB_DUR_OFF, ingest_n);
  printf("ingest   off:     %ld events in %.2fs = %.0f ev/s, %.1f MB/s "
         "(%ld commits)\n",
         io.events, io.secs, io.ev_per_s, io.mb_per_s, io.commits);
  fflush(stdout);

  struct decision_res dr = bench_decision(decision_pods, toggles, 10);
  printf("decision %d pods: readiness flap p50 %.1f us p99 %.1f us max "
         "%.1f us (%ld events, %ld decisions); outcome p50 %.1f p99 %.1f; "
         "rollout p50 %.1f us max %.1f us [%.1fs setup]\n",
         dr.pods, dr.toggle.p50_us, dr.toggle.p99_us, dr.toggle.max_us,
         (long)dr.toggle.n, dr.toggle_decisions, dr.outcome.p50_us,
         dr.outcome.p99_us, dr.rollout.p50_us, dr.rollout.max_us, dr.build_s);
  fflush(stdout);

  struct replay_res rr = bench_replay(replay_events, replay_pods, replay_cs);
  printf("replay   %ld events (%ld pods, %ld CloneSets, %ld decisions, %.0f "
         "MB): built in %.1fs, replayed+verified in %.2fs = %.0f ev/s "
         "(%s)\n",
         rr.events, rr.pods, rr.clonesets, rr.decisions, rr.file_mb,
         rr.build_s, rr.replay_s, rr.ev_per_s, lb_err_name(rr.verify_rc));
  fflush(stdout);
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

  if (quick && !getenv("LB_BENCH_DOC"))
    return 0;
  char docpath[1024];
  snprintf(docpath, sizeof docpath, "%s/docs/PERFORMANCE.md",
           root && *root ? root : ".");
  FILE *f = fopen(docpath, "w");
  if (!f) {
    perror(docpath);
    return 1;
  }
  fprintf(f, "# logbook performance\n\n");
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
  fprintf(f, "| durable ingest (batched, fsync per commit) | >= 20,000 "
             "events/s | %.0f events/s (%.1f MB/s) | %s |\n",
          ib.ev_per_s, ib.mb_per_s, verdict(ok_ingest));
  fprintf(f, "| replay of a 1M-event journal, verify on | <= 20 s | %.1f s "
             "(%ld events in %.2f s, %.0f events/s%s) | %s |\n",
          replay_1m, rr.events, rr.replay_s, rr.ev_per_s,
          rr.events == 1000000 ? "" : "; scaled to 1M",
          verdict(ok_replay));
  fprintf(f, "| decision latency p99, %d pods in one CloneSet, parse "
             "excluded | <= 50 us | p50 %.1f us, p99 %.1f us, max %.1f us | "
             "%s |\n",
          dr.pods, dr.toggle.p50_us, dr.toggle.p99_us, dr.toggle.max_us,
          verdict(ok_dec));
  fprintf(f, "| resident memory per tracked pod | <= 2048 B | %.0f B | %s "
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
  fprintf(f, "| batched (synchronous=FULL, fsync per commit) | %ld | %.2f | "
             "%.0f | %.1f | %ld |\n",
          ib.events, ib.secs, ib.ev_per_s, ib.mb_per_s, ib.commits);
  fprintf(f, "| off (synchronous=OFF) | %ld | %.2f | %.0f | %.1f | %ld "
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
  fprintf(f, "| events | decisions | replay s | events/s | result | digest "
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
  fprintf(f, "| Pod readiness flap (random pod) | %zu | %.1f | %.1f | "
             "%.1f | %.1f | %.1f | %ld |\n",
          dr.toggle.n, dr.toggle.p50_us, dr.toggle.p90_us, dr.toggle.p99_us,
          dr.toggle.max_us, dr.toggle.mean_us, dr.toggle_decisions);
  fprintf(f, "| outcome of a decided action | %zu | %.1f | %.1f | %.1f | "
             "%.1f | %.1f | - |\n",
          dr.outcome.n, dr.outcome.p50_us, dr.outcome.p90_us,
          dr.outcome.p99_us, dr.outcome.max_us, dr.outcome.mean_us);
  fprintf(f, "| rollout: CloneSet template change | %zu | %.1f | %.1f | "
             "%.1f | %.1f | %.1f | %ld (%ld actions) |\n\n",
          dr.rollout.n, dr.rollout.p50_us, dr.rollout.p90_us,
          dr.rollout.p99_us, dr.rollout.max_us, dr.rollout.mean_us,
          dr.rollout_decisions, dr.rollout_actions);

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
  fprintf(f, "| pods | RSS bytes/pod | heap bytes/pod |\n|---|---|---|\n| "
             "%ld | %.0f | %.0f |\n\n",
          mr.pods, mr.rss_per_pod, mr.heap_per_pod);
  fprintf(f, "## Analysis\n\n<!-- analysis -->\n");
  fclose(f);
  printf("wrote %s\n", docpath);
  return 0;
}
