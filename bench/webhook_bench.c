/* webhook_bench.c — admission webhook latency under concurrency
 * (build/logbook-webhook-bench, part of `make bench`).
 *
 * A server instance as the manager runs it — journal (SQLite, the chosen
 * durability), engine, runner, webhook server (webhook.c: TLS I/O thread)
 * with a flush in the loop's check phase — and, on a client thread,
 * libcurl multi with C concurrent keep-alive HTTPS connections on loopback,
 * each sending R AdmissionReview requests (pod CREATE on /mutate-pod, ~2 KB,
 * unique uids) one after the other. Latency = from handing the request to
 * curl to its complete response, measured on the client thread; the
 * first request of each connection (TLS handshake included) is reported
 * apart. Every response is checked (200, its uid); the journal must hold
 * one REVIEW event and one RESPOND action per request.
 *
 * Environment: LB_WHBENCH_CONC (comma list of concurrencies, run one after
 * the other on the same server; default "1,10,50,200"),
 * LB_WHBENCH_ROUNDS (requests per connection, 50),
 * LB_WHBENCH_DURABILITY (batched | off | always; default batched),
 * LB_BENCH_DIR (scratch, /tmp).
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "../adapters/log.h"
#include "../adapters/runner.h"
#include "../adapters/webhook.h"
#include "../adapters/webhookcfg.h"
#include "../engine/engine.h"
#include "../engine/err.h"
#include "../store/journal.h"

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long env_long(const char *k, long d) {
  const char *v = getenv(k);
  return v && atol(v) > 0 ? atol(v) : d;
}

struct client {
  int port, conc, rounds;
  const char *ca;
  int64_t *lat_ns; /* steady state */
  size_t n_lat;
  int64_t *first_ns; /* first request per connection */
  size_t n_first;
  long errors;
  double secs;
  uv_async_t *done;
};

struct slot {
  CURL *e;
  int sent;
  int64_t t0;
  char uid[64];
  char *body;
  struct lb_buf resp;
  struct curl_slist *hdr;
};

static const char pod_review[] =
    "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
    "\"request\":{\"uid\":\"%s\",\"kind\":{\"group\":\"\",\"version\":\"v1\","
    "\"kind\":\"Pod\"},\"resource\":{\"group\":\"\",\"version\":\"v1\","
    "\"resource\":\"pods\"},\"requestKind\":{\"group\":\"\",\"version\":"
    "\"v1\",\"kind\":\"Pod\"},\"requestResource\":{\"group\":\"\","
    "\"version\":\"v1\",\"resource\":\"pods\"},\"name\":\"web-%s\","
    "\"namespace\":\"bench\",\"operation\":\"CREATE\",\"userInfo\":{"
    "\"username\":\"system:serviceaccount:kruise-system:logbook\",\"groups\":"
    "[\"system:serviceaccounts\",\"system:authenticated\"]},\"object\":{"
    "\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-%s\","
    "\"namespace\":\"bench\",\"labels\":{\"app\":\"web\","
    "\"controller-revision-hash\":\"web-6b9f8c7d5\","
    "\"apps.kruise.io/cloneset-instance-id\":\"%s\"},\"annotations\":{"
    "\"kruise.io/related-pub\":\"web-pub\"},\"ownerReferences\":[{"
    "\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":\"CloneSet\","
    "\"name\":\"web\",\"uid\":\"0b3c6e1e-2f7a-4f3e-9d7c-1c2b3a4d5e6f\","
    "\"controller\":true,\"blockOwnerDeletion\":true}],\"managedFields\":[{"
    "\"manager\":\"logbook\",\"operation\":\"Update\",\"apiVersion\":\"v1\","
    "\"time\":\"2026-11-25T16:00:00Z\",\"fieldsType\":\"FieldsV1\","
    "\"fieldsV1\":{\"f:metadata\":{\"f:labels\":{\".\":{},\"f:app\":{}}}}}]},"
    "\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"nginx:1.25\","
    "\"imagePullPolicy\":\"IfNotPresent\",\"ports\":[{\"containerPort\":80,"
    "\"protocol\":\"TCP\"}],\"resources\":{\"requests\":{\"cpu\":\"100m\","
    "\"memory\":\"64Mi\"}},\"terminationMessagePath\":\"/dev/termination-log\","
    "\"terminationMessagePolicy\":\"File\"}],\"restartPolicy\":\"Always\","
    "\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\","
    "\"schedulerName\":\"default-scheduler\",\"readinessGates\":[{"
    "\"conditionType\":\"KruisePodReady\"}],\"priority\":0,"
    "\"enableServiceLinks\":true,\"preemptionPolicy\":\"PreemptLowerPriority\""
    "},\"status\":{}},\"oldObject\":null,\"dryRun\":false,\"options\":{"
    "\"apiVersion\":\"meta.k8s.io/v1\",\"kind\":\"CreateOptions\"}}}";

static size_t on_body(char *p, size_t s, size_t n, void *ud) {
  lb_buf_add(ud, p, s * n);
  return s * n;
}

static void arm(struct client *cl, struct slot *s, int idx, CURLM *m) {
  static long counter;
  struct lb_buf b = LB_BUF_INIT;
  char url[128];
  snprintf(s->uid, sizeof s->uid, "b%05d-%08ld", idx, ++counter);
  lb_buf_addf(&b, pod_review, s->uid, s->uid, s->uid, "x");
  free(s->body);
  s->body = lb_buf_detach(&b, NULL);
  lb_buf_reset(&s->resp);
  snprintf(url, sizeof url, "https://127.0.0.1:%d/mutate-pod", cl->port);
  curl_easy_setopt(s->e, CURLOPT_URL, url);
  curl_easy_setopt(s->e, CURLOPT_POSTFIELDS, s->body);
  curl_easy_setopt(s->e, CURLOPT_POSTFIELDSIZE, (long)strlen(s->body));
  s->t0 = now_ns();
  curl_multi_add_handle(m, s->e);
}

static void client_main(void *arg) {
  struct client *cl = arg;
  CURLM *m = curl_multi_init();
  struct slot *slots = calloc((size_t)cl->conc, sizeof *slots);
  int running = 0, left = cl->conc;
  int64_t t_start = now_ns();
  curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)cl->conc * 2);
  for (int i = 0; i < cl->conc; i++) {
    struct slot *s = &slots[i];
    s->e = curl_easy_init();
    s->hdr = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(s->e, CURLOPT_HTTPHEADER, s->hdr);
    curl_easy_setopt(s->e, CURLOPT_CAINFO, cl->ca);
    curl_easy_setopt(s->e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(s->e, CURLOPT_WRITEDATA, &s->resp);
    curl_easy_setopt(s->e, CURLOPT_PRIVATE, s);
    curl_easy_setopt(s->e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->e, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(s->e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(s->e, CURLOPT_TCP_NODELAY, 1L);
    arm(cl, s, i, m);
  }
  while (left > 0) {
    CURLMsg *msg;
    int q;
    curl_multi_perform(m, &running);
    while ((msg = curl_multi_info_read(m, &q))) {
      struct slot *s;
      long code = 0;
      if (msg->msg != CURLMSG_DONE)
        continue;
      int64_t dt = now_ns();
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
      dt -= s->t0;
      curl_easy_getinfo(s->e, CURLINFO_RESPONSE_CODE, &code);
      curl_multi_remove_handle(m, s->e);
      if (msg->data.result != CURLE_OK || code != 200 || !s->resp.p ||
          !strstr(s->resp.p, s->uid)) {
        if (cl->errors++ < 5)
          fprintf(stderr,
                  "webhook-bench: request %s: curl %d, HTTP %ld: %.200s\n",
                  s->uid, msg->data.result, code, s->resp.p ? s->resp.p : "");
      }
      if (s->sent++ == 0)
        cl->first_ns[cl->n_first++] = dt;
      else
        cl->lat_ns[cl->n_lat++] = dt;
      if (s->sent < cl->rounds)
        arm(cl, s, (int)(s - slots), m);
      else
        left--;
    }
    if (left > 0)
      curl_multi_poll(m, NULL, 0, 100, NULL);
  }
  cl->secs = (double)(now_ns() - t_start) / 1e9;
  for (int i = 0; i < cl->conc; i++) {
    curl_easy_cleanup(slots[i].e);
    curl_slist_free_all(slots[i].hdr);
    free(slots[i].body);
    lb_buf_release(&slots[i].resp);
  }
  free(slots);
  curl_multi_cleanup(m);
  uv_async_send(cl->done);
}

/* --- the server side: what the manager does ------------------------------ */
struct server {
  struct lb_runner run;
  struct lb_webhook *wh;
  uv_check_t check;
  int64_t commits;
  int failed;
};

static void on_check(uv_check_t *h) {
  struct server *sv = h->data;
  if (sv->run.state != LB_RUN_BATCH)
    return;
  if (lb_runner_flush(&sv->run))
    sv->failed = 1;
  sv->commits++;
}

static void on_fail(void *ctx, int rc) {
  struct server *sv = ctx;
  (void)rc;
  sv->failed = 1;
}

static void on_done(uv_async_t *a) { uv_stop(a->loop); }

static int cmp64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(int64_t *v, size_t n, double p) {
  if (!n)
    return 0;
  size_t i = (size_t)(p * (double)(n - 1) + 0.5);
  return (double)v[i] / 1e6;
}

/* Server-side latency (request fully read -> response handed to the
 * socket), from the webhook's own histogram: cumulative bucket counts of
 * mpod, read from its metrics text. */
#define NB 12
static void server_hist(struct lb_webhook *wh, double le[NB], long cum[NB]) {
  struct lb_buf b = LB_BUF_INIT;
  const char *key =
      "logbook_admission_duration_seconds_bucket{webhook=\"mpod\","
      "le=\"";
  int k = 0;
  lb_webhook_metrics(wh, &b);
  for (const char *p = b.p; p && (p = strstr(p, key)) && k < NB; k++) {
    p += strlen(key);
    le[k] = *p == '+' ? 1e9 : atof(p) * 1000.0;
    p = strchr(p, ' ');
    cum[k] = p ? atol(p + 1) : 0;
  }
  lb_buf_release(&b);
}

static double bucket_pct(const double le[NB], const long a[NB],
                         const long b[NB], double q) {
  long total = b[NB - 1] - a[NB - 1];
  for (int k = 0; k < NB; k++)
    if ((double)(b[k] - a[k]) >= q * (double)total)
      return le[k];
  return 1e9;
}

static int count_cb(void *ctx, int ncol, const char *const *names,
                    const char *const *v) {
  (void)ncol;
  (void)names;
  if (v && v[0])
    *(long *)ctx = atol(v[0]);
  return 0;
}

int main(void) {
  int conc = 0;
  int rounds = (int)env_long("LB_WHBENCH_ROUNDS", 50);
  const char *dur = getenv("LB_WHBENCH_DURABILITY");
  const char *dir = getenv("LB_BENCH_DIR");
  char scratch[512], jpath[600], cdir[600];
  struct lb_journal_opts jo = LB_JOURNAL_OPTS_INIT;
  struct lb_journal *j;
  struct lb_engine *e;
  struct server sv;
  struct lb_webhook_opts wo;
  struct lb_whcert_opts co;
  char *cert, *key, *ca_pem, *err = NULL;
  uv_loop_t *loop = uv_default_loop();
  uv_async_t done;
  uv_thread_t th;
  struct client cl;
  struct utsname un;

  snprintf(scratch, sizeof scratch, "%s/logbook-whbench-XXXXXX",
           dir && *dir ? dir : "/tmp");
  if (!mkdtemp(scratch)) {
    perror("webhook-bench: mkdtemp");
    return 1;
  }
  jo.durability = dur ? lb_durability_parse(dur) : LB_DUR_BATCHED;
  if (jo.durability < 0) {
    fprintf(stderr, "webhook-bench: LB_WHBENCH_DURABILITY is always, "
                    "batched or off\n");
    return 2;
  }
  snprintf(jpath, sizeof jpath, "%s/journal.db", scratch);
  snprintf(cdir, sizeof cdir, "%s/certs", scratch);
  co.dir = cdir;
  co.svc_ns = "kruise-system";
  co.svc_name = "logbook-webhook-service";
  co.host = NULL;
  if (lb_whcert_ensure(&co, &cert, &key, &ca_pem, &err)) {
    fprintf(stderr, "webhook-bench: %s\n", err ? err : "certificates");
    return 1;
  }
  if (lb_journal_open(jpath, &jo, &j) || lb_engine_new(NULL, &e)) {
    fprintf(stderr, "webhook-bench: cannot open %s\n", jpath);
    return 1;
  }
  memset(&sv, 0, sizeof sv);
  lb_runner_init(&sv.run, j, e, NULL);
  lb_webhook_opts_init(&wo);
  wo.host = "127.0.0.1";
  wo.port = 0;
  wo.cert_file = cert;
  wo.key_file = key;
  wo.max_conns = 4096;
  if (lb_webhook_start(loop, &wo, NULL, NULL, &sv.wh, &err)) {
    fprintf(stderr, "webhook-bench: %s\n", err ? err : "cannot start");
    return 1;
  }
  lb_webhook_attach(sv.wh, &sv.run, on_fail, &sv);
  uv_check_init(loop, &sv.check);
  sv.check.data = &sv;
  uv_check_start(&sv.check, on_check);
  uv_async_init(loop, &done, on_done);
  done.data = &sv;

  curl_global_init(CURL_GLOBAL_DEFAULT);
  uname(&un);
  snprintf(cdir, sizeof cdir, "%s/certs/ca.crt", scratch);
  const char *list = getenv("LB_WHBENCH_CONC");
  char concs[256];
  lb_strlcpy(concs, list && *list ? list : "1,10,50,200", sizeof concs);
  long total = 0, errors = 0;
  printf("webhook bench: TLS keep-alive connections on loopback, %d requests "
         "each, POST /mutate-pod (pod CREATE, %zu-byte AdmissionReview), "
         "journal durability %s, %ld CPU(s), Linux %s\n",
         rounds, sizeof pod_review + 40, lb_durability_name(jo.durability),
         sysconf(_SC_NPROCESSORS_ONLN), un.release);
  printf("| concurrent | requests | req/s | p50 ms | p90 ms | p99 ms | max ms "
         "| first request (handshake) p50 / p99 ms | server-side p50 / p99 "
         "(bucket bound) ms | errors |\n"
         "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  double le[NB];
  long h0[NB], h1[NB];
  server_hist(sv.wh, le, h0);
  fflush(stdout);
  for (char *c = concs; c && *c;) {
    char *comma = strchr(c, ',');
    if (comma)
      *comma = '\0';
    conc = atoi(c);
    c = comma ? comma + 1 : NULL;
    if (conc <= 0)
      continue;
    memset(&cl, 0, sizeof cl);
    cl.port = lb_webhook_port(sv.wh);
    cl.conc = conc;
    cl.rounds = rounds;
    cl.ca = cdir;
    cl.lat_ns = calloc((size_t)conc * (size_t)rounds, sizeof *cl.lat_ns);
    cl.first_ns = calloc((size_t)conc, sizeof *cl.first_ns);
    cl.done = &done;
    uv_thread_create(&th, client_main, &cl);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_thread_join(&th);
    qsort(cl.lat_ns, cl.n_lat, sizeof *cl.lat_ns, cmp64);
    qsort(cl.first_ns, cl.n_first, sizeof *cl.first_ns, cmp64);
    long n = (long)cl.n_lat + (long)cl.n_first;
    server_hist(sv.wh, le, h1);
    printf("| %d | %ld | %.0f | %.2f | %.2f | %.2f | %.2f | %.1f / %.1f | "
           "≤ %g / ≤ %g | %ld |\n",
           conc, n, (double)n / cl.secs, pct(cl.lat_ns, cl.n_lat, 0.5),
           pct(cl.lat_ns, cl.n_lat, 0.9), pct(cl.lat_ns, cl.n_lat, 0.99),
           pct(cl.lat_ns, cl.n_lat, 1.0), pct(cl.first_ns, cl.n_first, 0.5),
           pct(cl.first_ns, cl.n_first, 0.99), bucket_pct(le, h0, h1, 0.5),
           bucket_pct(le, h0, h1, 0.99), cl.errors);
    memcpy(h0, h1, sizeof h0);
    fflush(stdout);
    total += n;
    errors += cl.errors;
    free(cl.lat_ns);
    free(cl.first_ns);
  }
  lb_webhook_stop(sv.wh);
  sv.wh = NULL;
  uv_close((uv_handle_t *)&sv.check, NULL);
  uv_close((uv_handle_t *)&done, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  lb_runner_flush(&sv.run);

  long events = -1, responds = -1;
  lb_journal_query(j,
                   "SELECT count(*) FROM events WHERE source='admission' AND "
                   "type='REVIEW'",
                   count_cb, &events);
  lb_journal_query(j, "SELECT count(*) FROM actions WHERE verb='respond'",
                   count_cb, &responds);
  printf("journal: %ld REVIEW events, %ld RESPOND actions (want %ld each); "
         "%lld commits\n",
         events, responds, total, (long long)sv.commits);
  int bad = errors || events != total || responds != total || sv.failed;
  lb_runner_release(&sv.run);
  lb_engine_free(e);
  lb_journal_close(j);
  uv_loop_close(loop);
  free(cert);
  free(key);
  free(ca_pem);
  curl_global_cleanup();
  if (!getenv("LB_WHBENCH_KEEP")) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0)
      fprintf(stderr, "webhook-bench: could not remove %s\n", scratch);
  }
  if (bad)
    fprintf(stderr, "webhook-bench: FAILED (errors or journal mismatch)\n");
  return bad ? 1 : 0;
}
