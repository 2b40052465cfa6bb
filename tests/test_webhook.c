/* test_webhook.c — the admission webhook: AdmissionReview decoding (the
 * event of engine/admission.h, managedFields and Secret redaction, the 400
 * reasons), the runner's responder (RESPOND after the commit, never in
 * flight, never redone), the HTTPS server on loopback (verdicts, 400 / 404
 * / 413 / timeouts, keep-alive, the server stays up), certificates, the
 * webhook configurations, and the admission_denials view. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "../adapters/admreview.h"
#include "../adapters/runner.h"
#include "../adapters/webhook.h"
#include "../adapters/webhookcfg.h"
#include "../engine/engine.h"
#include "../engine/err.h"
#include "../store/journal.h"
#include "test.h"

#define REVIEW(api, uid, req_rest)                                             \
  "{\"apiVersion\":\"" api "\",\"kind\":\"AdmissionReview\",\"request\":{"     \
  "\"uid\":\"" uid "\"," req_rest "}}"

#define POD_KIND                                                               \
  "\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},"             \
  "\"resource\":{\"group\":\"\",\"version\":\"v1\",\"resource\":\"pods\"}"

static const char pod_create[] = REVIEW(
    "admission.k8s.io/v1", "u-1",
    POD_KIND ",\"namespace\":\"ns1\",\"name\":\"web-a\",\"operation\":"
             "\"CREATE\",\"userInfo\":{\"username\":\"alice\"},\"object\":{"
             "\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-a\","
             "\"managedFields\":[{\"manager\":\"kubectl\"}],\"labels\":{"
             "\"app\":\"web\"}},\"spec\":{}},\"oldObject\":{\"metadata\":{"
             "\"managedFields\":[],\"name\":\"web-a\"}}");

static int decode(const char *body, struct lb_event *ev,
                  struct lb_admreview_info *info, char *why) {
  lb_event_init(ev);
  return lb_admreview_event("/mutate-pod", body, strlen(body), 1000, ev, info,
                            why, 256);
}

TEST(admreview_pod_create_event) {
  struct lb_event ev;
  struct lb_admreview_info info;
  char why[256];
  ASSERT_OK(decode(pod_create, &ev, &info, why));
  ASSERT_EQ_INT(ev.source, LB_SRC_ADMISSION);
  ASSERT_EQ_INT(ev.type, LB_EV_REVIEW);
  ASSERT_EQ_INT(ev.at_ms, 1000);
  ASSERT_EQ_STR(ev.api_group, "");
  ASSERT_EQ_STR(ev.kind, "Pod");
  ASSERT_EQ_STR(ev.ns, "ns1");
  ASSERT_EQ_STR(ev.name, "web-a");
  ASSERT_EQ_STR(ev.uid, "u-1");
  ASSERT_EQ_STR(ev.rv, "");
  ASSERT_EQ_STR(info.uid, "u-1");
  ASSERT_EQ_STR(info.api_version, "admission.k8s.io/v1");
  ASSERT_EQ_STR(info.operation, "CREATE");
  ASSERT_EQ_INT(info.secret, 0);
  ASSERT_EQ_U64(ev.hash, lb_event_hash(&ev));
  /* byte-exact apart from managedFields, in object and oldObject */
  ASSERT_EQ_STR(ev.body,
                "{\"path\":\"/mutate-pod\",\"review\":" REVIEW(
                    "admission.k8s.io/v1", "u-1",
                    POD_KIND
                    ",\"namespace\":\"ns1\",\"name\":\"web-a\",\"operation\":"
                    "\"CREATE\",\"userInfo\":{\"username\":\"alice\"},"
                    "\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":"
                    "\"web-a\",\"labels\":{\"app\":\"web\"}},\"spec\":{}},"
                    "\"oldObject\":{\"metadata\":{\"name\":\"web-a\"}}") "}");
  ASSERT_EQ_INT(ev.body_len, strlen(ev.body));
  lb_event_release(&ev);
}

TEST(admreview_v1beta1_and_generate_name) {
  struct lb_event ev;
  struct lb_admreview_info info;
  char why[256];
  ASSERT_OK(decode(REVIEW("admission.k8s.io/v1beta1", "u-2",
                          POD_KIND ",\"namespace\":\"ns1\",\"operation\":"
                                   "\"CREATE\",\"object\":{\"metadata\":{"
                                   "\"generateName\":\"web-\"}}"),
                   &ev, &info, why));
  ASSERT_EQ_STR(info.api_version, "admission.k8s.io/v1beta1");
  ASSERT_EQ_STR(ev.name, "");
  ASSERT_EQ_STR(ev.kind, "Pod");
  lb_event_release(&ev);
}

TEST(admreview_refusals_name_the_reason) {
  static const struct {
    const char *body;
    int rc;
    const char *why;
  } cases[] = {
      {"", LB_EPARSE, "not valid JSON"},
      {"{\"kind\":", LB_EPARSE, "not valid JSON"},
      {"not json", LB_EPARSE, "not valid JSON"},
      {"{'kind':'AdmissionReview'}", LB_EPARSE, "not valid JSON"},
      {"{\"kind\":\"AdmissionReview\"} x", LB_EPARSE, "JSON"},
      {"[1,2]", LB_EINVAL, "not a JSON object"},
      {"{\"kind\":\"Pod\"}", LB_EINVAL, "not an AdmissionReview"},
      {"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"v1\"}", LB_EINVAL,
       "unsupported AdmissionReview apiVersion"},
      {"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/"
       "v1\"}",
       LB_EINVAL, "no \"request\""},
      {"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/"
       "v1\",\"request\":[]}",
       LB_EINVAL, "no \"request\""},
      {REVIEW("admission.k8s.io/v1", "", POD_KIND ",\"operation\":\"CREATE\""),
       LB_EINVAL, "request.uid is missing or empty"},
      {"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/"
       "v1\",\"request\":{\"kind\":{\"kind\":\"Pod\"},\"operation\":"
       "\"CREATE\"}}",
       LB_EINVAL, "request.uid is missing"},
      {"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/"
       "v1\",\"request\":{\"uid\":7,\"kind\":{\"kind\":\"Pod\"}}}",
       LB_EINVAL, "request.uid is missing"},
      {REVIEW("admission.k8s.io/v1", "u", "\"operation\":\"CREATE\""),
       LB_EINVAL, "request.kind.kind is missing"},
      {REVIEW("admission.k8s.io/v1", "u", POD_KIND ",\"operation\":\"PATCH\""),
       LB_EINVAL, "operation must be"},
      /* found by fuzz_admission: a second "metadata" (the one a parser
       * keeps) would smuggle managedFields past the strip */
      {REVIEW("admission.k8s.io/v1", "u",
              POD_KIND ",\"operation\":\"CREATE\",\"object\":{\"metadata\":"
                       "{\"managedFields\":[]},\"metadata\":{"
                       "\"managedFields\":[1]}}"),
       LB_EINVAL, "more than one \"metadata\" member"},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
    struct lb_event ev;
    struct lb_admreview_info info;
    char why[256] = "";
    int rc = decode(cases[i].body, &ev, &info, why);
    if (rc != cases[i].rc || !strstr(why, cases[i].why))
      lb_test_fail(__FILE__, __LINE__, "case %zu (%s): rc %s why \"%s\"", i,
                   cases[i].body, lb_err_name(rc), why);
    ASSERT(ev.body == NULL && ev.kind == NULL); /* released */
  }
}

TEST(admreview_secret_values_never_kept) {
  static const char body[] =
      REVIEW("admission.k8s.io/v1", "s-1",
             "\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Secret\"},"
             "\"namespace\":\"ns1\",\"name\":\"db\",\"operation\":\"UPDATE\","
             "\"object\":{\"kind\":\"Secret\",\"metadata\":{\"name\":\"db\"},"
             "\"data\":{\"password\":\"aHVudGVyMg==\",\"user\":\"cm9vdA==\"},"
             "\"stringData\":{\"token\":\"s3cr\\u0065t\"},\"type\":\"Opaque\"},"
             "\"oldObject\":{\"kind\":\"Secret\",\"data\":{\"password\":"
             "\"b2xkcGFzcw==\",\"n\":null},\"data\":{\"dup\":\"ZHVw\"}}");
  struct lb_event ev;
  struct lb_admreview_info info;
  char why[256], h[22], want[64];
  ASSERT_OK(decode(body, &ev, &info, why));
  ASSERT_EQ_INT(info.secret, 1);
  ASSERT(!strstr(ev.body, "aHVudGVyMg=="));
  ASSERT(!strstr(ev.body, "cm9vdA=="));
  ASSERT(!strstr(ev.body, "s3cr"));
  ASSERT(!strstr(ev.body, "b2xkcGFzcw=="));
  ASSERT(!strstr(ev.body, "ZHVw")); /* a duplicate "data" member too */
  lb_admreview_redact("aHVudGVyMg==", 12, h);
  snprintf(want, sizeof want, "\"password\":\"%s\"", h);
  ASSERT_CONTAINS(ev.body, want);
  lb_admreview_redact("s3cret", 6, h); /* the decoded string is hashed */
  snprintf(want, sizeof want, "\"token\":\"%s\"", h);
  ASSERT_CONTAINS(ev.body, want);
  ASSERT_CONTAINS(ev.body, "\"n\":null");
  ASSERT_CONTAINS(ev.body, "\"type\":\"Opaque\"");
  ASSERT_EQ_INT(strlen(h), 21);
  ASSERT(!strncmp(h, "xxh3:", 5));
  /* the event is still valid JSON that the engine reads */
  struct json_object *o = json_tokener_parse(ev.body);
  ASSERT(o != NULL);
  json_object_put(o);
  lb_event_release(&ev);

  /* a Secret recognised by the object's own kind (request.kind says
   * otherwise) is redacted as well */
  static const char sneaky[] =
      REVIEW("admission.k8s.io/v1", "s-2",
             POD_KIND ",\"operation\":\"UPDATE\",\"object\":{\"kind\":"
                      "\"Secret\",\"data\":{\"k\":\"dmFsdWU=\"}},"
                      "\"oldObject\":{\"data\":{\"k\":\"b2xk\"}}");
  ASSERT_OK(decode(sneaky, &ev, &info, why));
  ASSERT(!strstr(ev.body, "dmFsdWU="));
  /* found by fuzz_admission: oldObject without a kind of its own */
  ASSERT(!strstr(ev.body, "b2xk"));
  lb_event_release(&ev);
}

/* --- the runner's responder ---------------------------------------------- */
struct responses {
  int n;
  char body[4][512];
};

static void collect(void *ctx, const struct lb_action *a) {
  struct responses *r = ctx;
  ASSERT_EQ_INT(a->verb, LB_VERB_RESPOND);
  if (r->n < 4)
    lb_strlcpy(r->body[r->n], a->body, sizeof r->body[0]);
  r->n++;
}

static int submits;
static int count_submit(struct lb_actuator *self, const struct lb_action *a) {
  (void)self;
  (void)a;
  submits++;
  return 0;
}

TEST(runner_respond_after_commit_never_inflight_never_redone) {
  struct lb_journal_opts jo = LB_JOURNAL_OPTS_INIT;
  struct lb_journal *j;
  struct lb_engine *e;
  struct lb_runner r;
  struct lb_actuator act = {"test", count_submit, NULL, NULL, NULL};
  struct responses got = {0};
  struct lb_event ev;
  struct lb_admreview_info info;
  char why[256];
  jo.durability = LB_DUR_OFF;
  ASSERT_OK(lb_journal_open("j.db", &jo, &j));
  ASSERT_OK(lb_engine_new(NULL, &e));
  lb_runner_init(&r, j, e, &act);
  r.respond = collect;
  r.respond_ctx = &got;
  ASSERT_OK(decode(pod_create, &ev, &info, why));
  ASSERT_OK(lb_runner_push(&r, &ev));
  ASSERT_EQ_INT(got.n, 0); /* write-ahead: nothing before the commit */
  ASSERT_OK(lb_runner_flush(&r));
  ASSERT_EQ_INT(got.n, 1);
  ASSERT_CONTAINS(got.body[0], "\"uid\":\"u-1\"");
  ASSERT_CONTAINS(got.body[0], "\"kind\":\"AdmissionReview\"");
  ASSERT_EQ_INT(submits, 0);
  ASSERT_EQ_INT(r.actions, 0);
  ASSERT_EQ_INT(r.responses, 1);
  ASSERT_EQ_INT(lb_engine_inflight_count(e), 0);
  lb_runner_release(&r);
  lb_engine_free(e);
  lb_journal_close(j);

  /* restart: recover + redo answers nothing of the previous life */
  ASSERT_OK(lb_journal_open("j.db", &jo, &j));
  ASSERT_OK(lb_engine_new(NULL, &e));
  lb_runner_init(&r, j, e, &act);
  r.respond = collect;
  r.respond_ctx = &got;
  ASSERT_OK(lb_runner_recover(&r));
  ASSERT_OK(lb_runner_redo_inflight(&r));
  ASSERT_OK(lb_runner_flush(&r));
  ASSERT_EQ_INT(got.n, 1);
  ASSERT_EQ_INT(submits, 0);
  lb_runner_release(&r);
  lb_engine_free(e);
  lb_journal_close(j);
}

/* --- the server on loopback ---------------------------------------------- */
struct srv {
  struct lb_journal *j;
  struct lb_engine *e;
  struct lb_runner run;
  struct lb_webhook *wh;
  uv_check_t check;
  uv_async_t done;
  char ca[512];
  int port;
};

static void srv_check(uv_check_t *h) {
  struct srv *s = h->data;
  if (s->run.state == LB_RUN_BATCH)
    ASSERT_OK(lb_runner_flush(&s->run));
}

static void srv_fail(void *ctx, int rc) {
  (void)ctx;
  lb_test_fail(__FILE__, __LINE__, "runner failed: %s", lb_err_name(rc));
}

static void srv_done(uv_async_t *a) { uv_stop(a->loop); }

static void srv_start(struct srv *s, size_t max_body, int read_timeout_ms) {
  struct lb_journal_opts jo = LB_JOURNAL_OPTS_INIT;
  struct lb_webhook_opts wo;
  struct lb_whcert_opts co = {"certs", "kruise-system",
                              "logbook-webhook-service", NULL};
  char *cert, *key, *ca, *err = NULL;
  memset(s, 0, sizeof *s);
  ASSERT_OK(lb_whcert_ensure(&co, &cert, &key, &ca, &err));
  snprintf(s->ca, sizeof s->ca, "%s/certs/ca.crt", lb_test_dir());
  jo.durability = LB_DUR_OFF;
  ASSERT_OK(lb_journal_open("j.db", &jo, &s->j));
  ASSERT_OK(lb_engine_new(NULL, &s->e));
  lb_runner_init(&s->run, s->j, s->e, NULL);
  lb_webhook_opts_init(&wo);
  wo.host = "127.0.0.1";
  wo.cert_file = cert;
  wo.key_file = key;
  wo.max_body = max_body;
  wo.read_timeout_ms = read_timeout_ms;
  if (lb_webhook_start(uv_default_loop(), &wo, NULL, NULL, &s->wh, &err))
    lb_test_fail(__FILE__, __LINE__, "start: %s", err ? err : "?");
  lb_webhook_attach(s->wh, &s->run, srv_fail, s);
  s->port = lb_webhook_port(s->wh);
  ASSERT(s->port > 0);
  uv_check_init(uv_default_loop(), &s->check);
  s->check.data = s;
  uv_check_start(&s->check, srv_check);
  uv_async_init(uv_default_loop(), &s->done, srv_done);
  free(cert);
  free(key);
  free(ca);
}

static void srv_stop(struct srv *s) {
  lb_webhook_stop(s->wh);
  uv_close((uv_handle_t *)&s->check, NULL);
  uv_close((uv_handle_t *)&s->done, NULL);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  ASSERT_EQ_INT(uv_loop_close(uv_default_loop()), 0);
  lb_runner_release(&s->run);
  lb_engine_free(s->e);
  lb_journal_close(s->j);
}

static int count_cb(void *ctx, int nc, const char *const *nm,
                    const char *const *v) {
  (void)nc;
  (void)nm;
  if (v && v[0])
    *(long *)ctx = atol(v[0]);
  return 0;
}

static long count(struct srv *s, const char *sql) {
  long n = -1;
  struct lb_journal *j;
  struct lb_journal_opts jo = LB_JOURNAL_OPTS_INIT;
  (void)s;
  jo.readonly = 1;
  ASSERT_OK(lb_journal_open("j.db", &jo, &j));
  ASSERT_OK(lb_journal_query(j, sql, count_cb, &n));
  lb_journal_close(j);
  return n;
}

struct http {
  long code;
  struct lb_buf body;
  long connects;
};

static size_t wr(char *p, size_t s, size_t n, void *ud) {
  lb_buf_add(ud, p, s * n);
  return s * n;
}

/* One request on the shared handle (keep-alive). */
static void post(CURL *c, int port, const char *ca, const char *path,
                 const char *body, size_t len, struct http *out) {
  char url[256];
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: "
                                                 "application/json");
  snprintf(url, sizeof url, "https://127.0.0.1:%d%s", port, path);
  lb_buf_reset(&out->body);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CAINFO, ca);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, wr);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  if (body) {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 0L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
  } else {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }
  out->code = 0;
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK)
    out->code = -(long)rc;
  else
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->code);
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &out->connects);
  curl_slist_free_all(h);
}

struct script {
  struct srv *s;
  int fails;
  char msg[1024];
};

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond) && !sc->fails++)                                               \
      snprintf(sc->msg, sizeof sc->msg, "%s:%d: %s (HTTP %ld: %s)", __FILE__,  \
               __LINE__, #cond, h.code, h.body.p ? h.body.p : "");             \
  } while (0)

/* Raw TLS client: sends `send`, then reads until the server closes;
 * returns the milliseconds that took (or -1). */
static long raw_tls(int port, const char *ca, const char *send, char *got,
                    size_t got_len) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  SSL *ssl;
  struct sockaddr_in a;
  struct timespec t0, t1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  size_t n = 0;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(0x7f000001);
  SSL_CTX_load_verify_locations(ctx, ca, NULL);
  if (connect(fd, (struct sockaddr *)&a, sizeof a))
    return -1;
  ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_connect(ssl) != 1)
    return -1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (*send)
    SSL_write(ssl, send, (int)strlen(send));
  for (;;) {
    int r = SSL_read(ssl, got + n, (int)(got_len - 1 - n));
    if (r <= 0)
      break;
    n += (size_t)r;
  }
  got[n] = '\0';
  clock_gettime(CLOCK_MONOTONIC, &t1);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(fd);
  return (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
}

static void client(void *arg) {
  struct script *sc = arg;
  struct srv *s = sc->s;
  CURL *c = curl_easy_init();
  struct http h = {0, LB_BUF_INIT, 0};
  char big[70000], got[4096];

  /* a verdict: 200 + the AdmissionReview of the engine */
  post(c, s->port, s->ca, "/mutate-pod", pod_create, strlen(pod_create), &h);
  CHECK(h.code == 200);
  CHECK(h.body.p && strstr(h.body.p, "\"uid\":\"u-1\""));
  CHECK(h.body.p && strstr(h.body.p, "\"allowed\":true"));
  CHECK(h.connects == 1);
  /* malformed JSON: 400 with the reason, same connection kept */
  post(c, s->port, s->ca, "/validate-pod", "{\"kind\":", 8, &h);
  CHECK(h.code == 400);
  CHECK(h.body.p && strstr(h.body.p, "not valid JSON"));
  CHECK(h.connects == 0);
  /* not an AdmissionReview */
  post(c, s->port, s->ca, "/validate-pod", "{\"kind\":\"Pod\"}", 14, &h);
  CHECK(h.code == 400);
  CHECK(h.body.p && strstr(h.body.p, "not an AdmissionReview"));
  /* missing uid */
  static const char nouid[] =
      "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
      "\"request\":{\"kind\":{\"kind\":\"Pod\"},\"operation\":\"CREATE\"}}";
  post(c, s->port, s->ca, "/mutate-pod", nouid, sizeof nouid - 1, &h);
  CHECK(h.code == 400);
  CHECK(h.body.p && strstr(h.body.p, "request.uid"));
  /* oversized: 413 with the limit */
  memset(big, ' ', sizeof big);
  post(c, s->port, s->ca, "/mutate-pod", big, sizeof big, &h);
  CHECK(h.code == 413);
  CHECK(h.body.p && strstr(h.body.p, "larger than the limit of 65536"));
  /* unknown path */
  post(c, s->port, s->ca, "/mutate-nothing", pod_create, strlen(pod_create),
       &h);
  CHECK(h.code == 404);
  CHECK(h.body.p &&
        strstr(h.body.p, "no webhook is served at /mutate-nothing"));
  post(c, s->port, s->ca, "/healthz", NULL, 0, &h);
  CHECK(h.code == 200);
  /* a request that never completes is cut after the read timeout */
  long ms = raw_tls(s->port, s->ca,
                    "POST /mutate-pod HTTP/1.1\r\nHost: x\r\n"
                    "Content-Length: 100\r\n\r\n{",
                    got, sizeof got);
  CHECK(ms >= 0 && ms < 3000);
  CHECK(got[0] == '\0');
  /* HTTP/1.0 without keep-alive, raw: answered, then closed by the server */
  char req10[2048];
  snprintf(req10, sizeof req10,
           "POST /validate-pod HTTP/1.0\r\nContent-Length: %zu\r\n\r\n%s",
           strlen(pod_create), pod_create);
  ms = raw_tls(s->port, s->ca, req10, got, sizeof got);
  CHECK(ms >= 0 && ms < 3000);
  CHECK(strstr(got, "HTTP/1.1 200 OK") && strstr(got, "Connection: close") &&
        strstr(got, "\"uid\":\"u-1\""));
  /* the server is still up and answering after all that */
  static const char second[] =
      REVIEW("admission.k8s.io/v1beta1", "u-2",
             POD_KIND ",\"namespace\":\"ns1\",\"operation\":\"DELETE\"");
  post(c, s->port, s->ca, "/validate-pod", second, sizeof second - 1, &h);
  CHECK(h.code == 200);
  CHECK(h.body.p && strstr(h.body.p, "admission.k8s.io/v1beta1") &&
        strstr(h.body.p, "\"uid\":\"u-2\""));
  curl_easy_cleanup(c);
  lb_buf_release(&h.body);
  uv_async_send(&s->done);
}

TEST_TIMEOUT(webhook_server_answers_and_refuses, 60) {
  struct srv s;
  struct script sc;
  uv_thread_t th;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  srv_start(&s, 65536, 500);
  memset(&sc, 0, sizeof sc);
  sc.s = &s;
  uv_thread_create(&th, client, &sc);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  uv_thread_join(&th);
  if (sc.fails)
    lb_test_fail(__FILE__, __LINE__, "%d failed checks; first: %s", sc.fails,
                 sc.msg);
  srv_stop(&s);
  /* only the well-formed requests became events, each with its verdict */
  ASSERT_EQ_INT(count(&s, "SELECT count(*) FROM events"), 3);
  ASSERT_EQ_INT(count(&s, "SELECT count(*) FROM events WHERE "
                          "source='admission' AND type='REVIEW'"),
                3);
  ASSERT_EQ_INT(count(&s, "SELECT count(*) FROM actions WHERE "
                          "verb='respond'"),
                3);
  /* a verdict is done once committed: never listed as pending */
  ASSERT_EQ_INT(count(&s, "SELECT count(*) FROM actions WHERE "
                          "verb='respond' AND state='done'"),
                3);
  ASSERT_EQ_INT(count(&s, "SELECT count(*) FROM events WHERE "
                          "json_extract(body,'$.path')='/validate-pod'"),
                2);
  curl_global_cleanup();
}

/* Concurrent clients on their own connections: every request gets the
 * verdict with its own uid. */
struct many {
  struct srv *s;
  int id, bad;
};

static void many_client(void *arg) {
  struct many *m = arg;
  CURL *c = curl_easy_init();
  struct http h = {0, LB_BUF_INIT, 0};
  for (int i = 0; i < 20; i++) {
    char uid[64], body[1024], want[80];
    snprintf(uid, sizeof uid, "c%d-%d", m->id, i);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":"
             "\"AdmissionReview\",\"request\":{\"uid\":\"%s\"," POD_KIND
             ",\"operation\":\"CREATE\",\"namespace\":\"n\"}}",
             uid);
    snprintf(want, sizeof want, "\"uid\":\"%s\"", uid);
    post(c, m->s->port, m->s->ca, "/mutate-pod", body, strlen(body), &h);
    if (h.code != 200 || !h.body.p || !strstr(h.body.p, want))
      m->bad++;
  }
  curl_easy_cleanup(c);
  lb_buf_release(&h.body);
}

static void many_main(void *arg) {
  struct many *ms = arg;
  uv_thread_t th[8];
  for (int i = 0; i < 8; i++)
    uv_thread_create(&th[i], many_client, &ms[i]);
  for (int i = 0; i < 8; i++)
    uv_thread_join(&th[i]);
  uv_async_send(&ms[0].s->done);
}

TEST_TIMEOUT(webhook_server_concurrent_clients, 60) {
  struct srv s;
  struct many ms[8];
  uv_thread_t th;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  srv_start(&s, 1 << 20, 5000);
  for (int i = 0; i < 8; i++)
    ms[i] = (struct many){&s, i, 0};
  uv_thread_create(&th, many_main, ms);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  uv_thread_join(&th);
  for (int i = 0; i < 8; i++)
    ASSERT_EQ_INT(ms[i].bad, 0);
  srv_stop(&s);
  ASSERT_EQ_INT(count(&s, "SELECT count(*) FROM actions WHERE "
                          "verb='respond'"),
                160);
  curl_global_cleanup();
}

/* --- certificates and configurations -------------------------------------- */
static char *slurp(const char *p) {
  FILE *f = fopen(p, "r");
  static char buf[8192];
  size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
  if (f)
    fclose(f);
  buf[n] = '\0';
  return lb_strdup(buf);
}

TEST(whcert_generates_then_reuses) {
  struct lb_whcert_opts co = {"c", "kruise-system", "svc", "10.1.2.3"};
  char *cert, *key, *ca, *err = NULL, *ca2, *leaf1, *leaf2;
  ASSERT_OK(lb_whcert_ensure(&co, &cert, &key, &ca, &err));
  ASSERT_CONTAINS(ca, "BEGIN CERTIFICATE");
  ASSERT_EQ_STR(cert, "c/tls.crt");
  leaf1 = slurp("c/tls.crt");
  free(cert);
  free(key);
  ASSERT_OK(lb_whcert_ensure(&co, &cert, &key, &ca2, &err));
  leaf2 = slurp("c/tls.crt");
  ASSERT_EQ_STR(ca, ca2);      /* the caBundle stays */
  ASSERT_EQ_STR(leaf1, leaf2); /* still valid: reused */
  struct stat st;
  ASSERT_OK(stat("c/tls.key", &st));
  ASSERT_EQ_INT(st.st_mode & 0777, 0600);
  free(cert);
  free(key);
  free(ca2);
  free(leaf2);
  /* a new SAN wanted: new leaf, same CA */
  co.host = "logbook.example";
  ASSERT_OK(lb_whcert_ensure(&co, &cert, &key, &ca2, &err));
  leaf2 = slurp("c/tls.crt");
  ASSERT_EQ_STR(ca, ca2);
  ASSERT(strcmp(leaf1, leaf2) != 0);
  free(cert);
  free(key);
  free(ca);
  free(ca2);
  free(leaf1);
  free(leaf2);
}

static struct json_object *hook(struct json_object *cfg, const char *name) {
  struct json_object *hooks, *h, *n;
  ASSERT(json_object_object_get_ex(cfg, "webhooks", &hooks));
  for (size_t i = 0; i < json_object_array_length(hooks); i++) {
    h = json_object_array_get_idx(hooks, i);
    if (json_object_object_get_ex(h, "name", &n) &&
        !strcmp(json_object_get_string(n), name))
      return h;
  }
  lb_test_fail(__FILE__, __LINE__, "no webhook %s", name);
}

static const char *at(struct json_object *o, const char *path) {
  char buf[256], *save = NULL;
  lb_strlcpy(buf, path, sizeof buf);
  for (char *t = strtok_r(buf, ".", &save); t; t = strtok_r(NULL, ".", &save))
    if (json_object_is_type(o, json_type_array))
      o = json_object_array_get_idx(o, (size_t)atoi(t));
    else if (!json_object_object_get_ex(o, t, &o))
      return NULL;
  return json_object_get_string(o);
}

TEST(whcfg_inventory_and_client_config) {
  struct lb_whcfg_opts o = {
      "https://127.0.0.1:9443", NULL, NULL, 0, "-----BEGIN CERTIFICATE-----\n",
      "logbook-e2e=on"};
  char *mj = lb_whcfg_mutating(&o), *vj = lb_whcfg_validating(&o);
  struct json_object *m = json_tokener_parse(mj), *v = json_tokener_parse(vj);
  ASSERT(m && v);
  ASSERT_EQ_STR(at(m, "apiVersion"), "admissionregistration.k8s.io/v1");
  ASSERT_EQ_STR(at(m, "metadata.name"),
                "logbook-mutating-webhook-configuration");
  struct json_object *mpod = hook(m, "mpod.logbook.kruise.io");
  ASSERT_EQ_STR(at(mpod, "clientConfig.url"),
                "https://127.0.0.1:9443/mutate-pod");
  ASSERT_EQ_STR(at(mpod, "clientConfig.caBundle"),
                "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==");
  ASSERT_EQ_STR(at(mpod, "failurePolicy"), "Fail");
  ASSERT_EQ_STR(at(mpod, "sideEffects"), "None");
  ASSERT_EQ_STR(at(mpod, "admissionReviewVersions.0"), "v1");
  ASSERT_EQ_STR(at(mpod, "admissionReviewVersions.1"), "v1beta1");
  ASSERT_EQ_STR(at(mpod, "rules.0.resources.0"), "pods");
  ASSERT_EQ_STR(at(mpod, "rules.0.operations.0"), "CREATE");
  ASSERT_EQ_STR(at(mpod, "namespaceSelector.matchExpressions.0.key"),
                "control-plane");
  ASSERT_EQ_STR(at(mpod, "namespaceSelector.matchExpressions.0.operator"),
                "DoesNotExist");
  ASSERT_EQ_STR(at(mpod, "namespaceSelector.matchLabels.logbook-e2e"), "on");
  hook(m, "mcloneset.logbook.kruise.io");
  ASSERT_EQ_STR(at(hook(v, "vpod.logbook.kruise.io"), "rules.0.operations.1"),
                "DELETE");
  ASSERT_EQ_STR(
      at(hook(v, "vpodeviction.logbook.kruise.io"), "rules.0.resources.0"),
      "pods/eviction");
  ASSERT_EQ_STR(
      at(hook(v, "vcloneset.logbook.kruise.io"), "rules.0.operations.2"),
      "DELETE");
  ASSERT_EQ_STR(at(hook(v, "vpub.logbook.kruise.io"), "clientConfig.url"),
                "https://127.0.0.1:9443/"
                "validate-policy-kruise-io-v1alpha1-podunavailablebudget");
  struct json_object *vb = hook(v, "vbuiltin.logbook.kruise.io");
  ASSERT_EQ_STR(at(vb, "objectSelector.matchExpressions.0.key"),
                "policy.kruise.io/delete-protection");
  ASSERT_EQ_STR(at(vb, "objectSelector.matchExpressions.0.operator"), "Exists");
  ASSERT_EQ_STR(at(vb, "rules.2.resources.0"), "customresourcedefinitions");
  json_object_put(m);
  json_object_put(v);
  free(mj);
  free(vj);
  /* by Service, no test label */
  struct lb_whcfg_opts s = {
      NULL, "kruise-system", "logbook-webhook-service", 443, "x", NULL};
  vj = lb_whcfg_validating(&s);
  v = json_tokener_parse(vj);
  vb = hook(v, "vpod.logbook.kruise.io");
  ASSERT(at(vb, "clientConfig.url") == NULL);
  ASSERT_EQ_STR(at(vb, "clientConfig.service.namespace"), "kruise-system");
  ASSERT_EQ_STR(at(vb, "clientConfig.service.name"), "logbook-webhook-service");
  ASSERT_EQ_STR(at(vb, "clientConfig.service.path"), "/validate-pod");
  ASSERT_EQ_STR(at(vb, "clientConfig.service.port"), "443");
  ASSERT(at(vb, "namespaceSelector.matchLabels") == NULL);
  json_object_put(v);
  free(vj);
}

/* --- the admission_denials view ------------------------------------------ */
static int row_cb(void *ctx, int nc, const char *const *nm,
                  const char *const *v) {
  (void)nm;
  if (!v)
    return 0;
  for (int i = 0; i < nc; i++)
    lb_buf_addf(ctx, "%s%s", i ? "|" : "", v[i] ? v[i] : "NULL");
  lb_buf_adds(ctx, "\n");
  return 0;
}

TEST(admission_denials_view_reads_verdicts) {
  struct lb_journal_opts jo = LB_JOURNAL_OPTS_INIT;
  struct lb_journal *j;
  struct lb_event ev;
  struct lb_admreview_info info;
  char why[256];
  static const char deny[] =
      "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
      "\"response\":{\"uid\":\"u-1\",\"allowed\":false,\"status\":{\"code\":"
      "403,\"reason\":\"Forbidden\",\"message\":\"pub unavailable allowed is "
      "negative\"}}}";
  jo.durability = LB_DUR_OFF;
  ASSERT_OK(lb_journal_open("j.db", &jo, &j));
  for (int k = 0; k < 2; k++) { /* one denied, one allowed */
    struct lb_decision d;
    struct lb_action a;
    ASSERT_OK(decode(pod_create, &ev, &info, why));
    ASSERT_OK(lb_journal_append_event(j, &ev));
    memset(&d, 0, sizeof d);
    memset(&a, 0, sizeof a);
    a.id = k + 1;
    a.verb = LB_VERB_RESPOND;
    a.api_group = (char *)"admission.k8s.io";
    a.kind = (char *)"AdmissionReview";
    a.ns = (char *)"";
    a.name = (char *)"u-1";
    a.sub = (char *)"";
    a.uid = (char *)"";
    a.body = (char *)(k == 0 ? deny
                             : "{\"response\":{\"uid\":\"u-1\",\"allowed\":"
                               "true}}");
    d.seq = k + 1;
    d.event_seq = ev.seq;
    d.reducer = (char *)"admission";
    d.kind = (char *)"Pod";
    d.ns = (char *)"ns1";
    d.name = (char *)"web-a";
    d.reason = (char *)(k == 0 ? "denied: budget" : "allowed");
    d.actions = &a;
    d.n_actions = 1;
    uint64_t prev = 0;
    int64_t dseq;
    ASSERT_OK(lb_journal_last_decision(j, &dseq, &prev));
    ASSERT_OK(lb_decision_seal(&d, prev));
    ASSERT_OK(lb_journal_append_decision(j, &d));
    free(d.canonical);
    lb_event_release(&ev);
  }
  ASSERT_OK(lb_journal_commit(j));
  struct lb_buf q = LB_BUF_INIT;
  ASSERT_OK(lb_journal_query(
      j,
      "SELECT seq, time, webhook, user, operation, kind, namespace, name, "
      "code, message, reason FROM admission_denials ORDER BY seq",
      row_cb, &q));
  ASSERT_EQ_STR(q.p, "1|1970-01-01T00:00:01.000Z|/mutate-pod|alice|CREATE|"
                     "Pod|ns1|web-a|403|pub unavailable allowed is negative|"
                     "denied: budget\n");
  lb_buf_release(&q);
  lb_journal_close(j);
}

/* deploy/webhooks.yaml is the output of `logbook webhook-config`. */
TEST(deploy_webhooks_yaml_is_generated) {
  const char *bin = getenv("LOGBOOK");
  char cmd[1024], path[1024], buf[4096];
  struct lb_buf got = LB_BUF_INIT, want = LB_BUF_INIT;
  size_t n;
  FILE *p, *f;
  ASSERT(bin != NULL);
  snprintf(cmd, sizeof cmd, "%s webhook-config", bin);
  snprintf(path, sizeof path, "%s/deploy/webhooks.yaml", lb_test_root());
  ASSERT((p = popen(cmd, "r")) != NULL);
  while ((n = fread(buf, 1, sizeof buf, p)) > 0)
    lb_buf_add(&got, buf, n);
  ASSERT_EQ_INT(pclose(p), 0);
  ASSERT((f = fopen(path, "r")) != NULL);
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    lb_buf_add(&want, buf, n);
  fclose(f);
  if (!got.p || !want.p || strcmp(got.p, want.p))
    lb_test_fail(__FILE__, __LINE__,
                 "deploy/webhooks.yaml is stale: run `build/logbook "
                 "webhook-config > deploy/webhooks.yaml`");
  lb_buf_release(&got);
  lb_buf_release(&want);
}

/* A request the pipeline never answers gets 503 after the verdict timeout;
 * the verdict that comes later is dropped, the connection keeps working. */
struct slow {
  struct lb_webhook *wh;
  struct lb_webhook_req *held;
  int port;
  char ca[512];
  uv_async_t done;
  int fails;
  char msg[512];
};

static void slow_sink(void *ctx, struct lb_webhook_req *req,
                      struct lb_event *ev) {
  struct slow *s = ctx;
  lb_event_release(ev);
  ASSERT_OK(lb_webhook_pending(s->wh, req)); /* and never answered */
}

static void slow_client(void *arg) {
  struct slow *s = arg;
  CURL *c = curl_easy_init();
  struct http h = {0, LB_BUF_INIT, 0};
  post(c, s->port, s->ca, "/mutate-pod", pod_create, strlen(pod_create), &h);
  if (h.code != 503 || !h.body.p || !strstr(h.body.p, "no verdict within")) {
    s->fails++;
    snprintf(s->msg, sizeof s->msg, "HTTP %ld: %s", h.code,
             h.body.p ? h.body.p : "");
  }
  post(c, s->port, s->ca, "/healthz", NULL, 0, &h);
  if (h.code != 200 || h.connects != 0) /* same connection, still served */
    s->fails++;
  curl_easy_cleanup(c);
  lb_buf_release(&h.body);
  uv_async_send(&s->done);
}

TEST_TIMEOUT(webhook_verdict_timeout_503, 30) {
  struct slow s;
  struct lb_webhook_opts wo;
  struct lb_whcert_opts co = {"certs", "ns", "svc", NULL};
  char *cert, *key, *ca, *err = NULL;
  uv_thread_t th;
  struct lb_action a;
  memset(&s, 0, sizeof s);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  ASSERT_OK(lb_whcert_ensure(&co, &cert, &key, &ca, &err));
  snprintf(s.ca, sizeof s.ca, "%s/certs/ca.crt", lb_test_dir());
  lb_webhook_opts_init(&wo);
  wo.host = "127.0.0.1";
  wo.cert_file = cert;
  wo.key_file = key;
  wo.verdict_timeout_ms = 300;
  ASSERT_OK(
      lb_webhook_start(uv_default_loop(), &wo, slow_sink, &s, &s.wh, &err));
  s.port = lb_webhook_port(s.wh);
  uv_async_init(uv_default_loop(), &s.done, srv_done);
  uv_thread_create(&th, slow_client, &s);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  uv_thread_join(&th);
  if (s.fails)
    lb_test_fail(__FILE__, __LINE__, "%d failures; %s", s.fails, s.msg);
  /* the late verdict: taken from pending, dropped by the I/O thread */
  memset(&a, 0, sizeof a);
  a.verb = LB_VERB_RESPOND;
  a.name = (char *)"u-1";
  a.body = (char *)"{\"response\":{\"uid\":\"u-1\",\"allowed\":true}}";
  lb_webhook_respond(s.wh, &a);
  lb_webhook_respond(s.wh, &a); /* nothing pending any more: counted */
  struct lb_buf m = LB_BUF_INIT;
  lb_webhook_metrics(s.wh, &m);
  ASSERT_CONTAINS(m.p, "logbook_admission_verdicts_dropped_total 1\n");
  ASSERT_CONTAINS(m.p, "logbook_webhook_http_errors_total{code=\"503\"} 1\n");
  ASSERT_CONTAINS(m.p, "logbook_admission_requests_total{webhook=\"mpod\","
                       "verdict=\"error\"} 1\n");
  lb_buf_release(&m);
  lb_webhook_stop(s.wh);
  uv_close((uv_handle_t *)&s.done, NULL);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  ASSERT_EQ_INT(uv_loop_close(uv_default_loop()), 0);
  free(cert);
  free(key);
  free(ca);
  curl_global_cleanup();
}

/* lb_webhook_reload: new connections present the regenerated certificate. */
#include <openssl/pem.h>
struct rl {
  struct srv *s;
  uv_async_t phase;
  uv_sem_t go;
  int first_ok, second_new;
};

static X509 *peer_cert(int port, const char *ca) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  struct sockaddr_in a;
  X509 *x = NULL;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(0x7f000001);
  SSL_CTX_load_verify_locations(ctx, ca, NULL);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  if (!connect(fd, (struct sockaddr *)&a, sizeof a)) {
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) == 1)
      x = SSL_get1_peer_certificate(ssl);
    SSL_free(ssl);
  }
  SSL_CTX_free(ctx);
  close(fd);
  return x;
}

static X509 *file_cert(const char *path) {
  FILE *f = fopen(path, "r");
  X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
  if (f)
    fclose(f);
  return x;
}

static void rl_client(void *arg) {
  struct rl *r = arg;
  X509 *c1 = peer_cert(r->s->port, r->s->ca),
       *want = file_cert("certs/tls.crt");
  r->first_ok = c1 && want && !X509_cmp(c1, want);
  X509_free(c1);
  X509_free(want);
  uv_async_send(&r->phase);
  uv_sem_wait(&r->go);
  want = file_cert("certs/tls.crt"); /* the regenerated one */
  for (int i = 0; i < 50 && !r->second_new; i++) {
    X509 *c2 = peer_cert(r->s->port, r->s->ca);
    r->second_new = c2 && want && !X509_cmp(c2, want);
    X509_free(c2);
    if (!r->second_new)
      usleep(20000);
  }
  X509_free(want);
  uv_async_send(&r->s->done);
}

static void rl_phase(uv_async_t *a) {
  struct rl *r = a->data;
  struct lb_whcert_opts co = {"certs", "kruise-system",
                              "logbook-webhook-service", "10.9.8.7"};
  char *cert, *key, *ca, *err = NULL;
  /* a new SAN is wanted: a new serving certificate, same CA */
  ASSERT_OK(lb_whcert_ensure(&co, &cert, &key, &ca, &err));
  free(cert);
  free(key);
  free(ca);
  lb_webhook_reload(r->s->wh);
  uv_sem_post(&r->go);
}

TEST_TIMEOUT(webhook_reload_serves_the_new_certificate, 30) {
  struct srv s;
  struct rl r;
  uv_thread_t th;
  srv_start(&s, 65536, 5000);
  memset(&r, 0, sizeof r);
  r.s = &s;
  uv_sem_init(&r.go, 0);
  uv_async_init(uv_default_loop(), &r.phase, rl_phase);
  r.phase.data = &r;
  uv_thread_create(&th, rl_client, &r);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  uv_thread_join(&th);
  ASSERT(r.first_ok);
  ASSERT(r.second_new);
  struct lb_buf m = LB_BUF_INIT;
  lb_webhook_metrics(s.wh, &m);
  ASSERT_CONTAINS(m.p, "logbook_webhook_cert_reloads_total{result=\"ok\"} 1\n");
  lb_buf_release(&m);
  uv_close((uv_handle_t *)&r.phase, NULL);
  srv_stop(&s);
  uv_sem_destroy(&r.go);
}
