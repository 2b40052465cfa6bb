/* manager.c — see manager.h. */
#define _GNU_SOURCE
#include "manager.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "../engine/err.h"
#include "../engine/obj.h"
#include "../engine/util.h"
#include "../store/journal.h"
#include "informer.h"
#include "kube.h"
#include "kubeact.h"
#include "kubeconfig.h"
#include "log.h"
#include "resources.h"
#include "runner.h"
#include "webhook.h"
#include "webhookcfg.h"

#define MAX_RES 64

struct mgr {
  const struct lb_manager_opts *o;
  uv_loop_t *loop;
  struct lb_kubeconfig cfg;
  struct lb_kube *k;
  struct lb_kubeact ka;
  struct lb_journal *j;
  struct lb_engine *e;
  struct lb_runner run;
  struct lb_informer inf[MAX_RES];
  struct lb_relist rl[MAX_RES];
  int n_inf, first_lists_done, redone, leader, running, exit_code, stopping;
  uv_check_t flush_check;
  uv_timer_t flush_timer; /* end of the group commit window */
  int flush_ms;           /* its length */
  uv_timer_t tick_timer, lease_timer;
  uv_signal_t sigterm, sigint;
  uv_tcp_t http;
  /* lease */
  char lease_rv[64];
  long long last_renew_ms;
  int64_t lease_transitions;
  /* metrics */
  /* admission webhooks */
  struct lb_webhook *wh;
  struct lb_whcfg *whcfg;
  char *wh_cert, *wh_key, *wh_ca;
  uv_timer_t cert_timer; /* self-generated certificates: renew in time */
  double commit_ms_sum;
  int64_t commits, commit_buckets[8]; /* <=1,2,5,10,25,50,100,+Inf ms */
};

static const double bucket_le[] = {1, 2, 5, 10, 25, 50, 100};

static void fatal(struct mgr *m, int code, const char *why);

/* --- flushing (group commit once per loop iteration) --------------------- */
static void schedule_tick(struct mgr *m);

static void flush(struct mgr *m) {
  if (m->run.state != LB_RUN_BATCH)
    return;
  long long t0 = lb_wall_ms();
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  int rc = lb_runner_flush(&m->run);
  clock_gettime(CLOCK_MONOTONIC, &b);
  (void)t0;
  double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 +
              (double)(b.tv_nsec - a.tv_nsec) / 1e6;
  m->commits++;
  m->commit_ms_sum += ms;
  int i = 0;
  while (i < 7 && ms > bucket_le[i])
    i++;
  m->commit_buckets[i]++;
  if (rc) {
    fatal(m, 1, lb_strerror(rc));
    return;
  }
  schedule_tick(m);
}

/* Group commit. A batch is committed (fsync'd under `batched`) at the end
 * of the loop iteration when one of its held actions could go out at once —
 * an admission verdict, or any action while the rate limiter's queue is
 * empty — since an action waits for its commit (write-ahead). Otherwise
 * (only watch events and outcomes, or actions that would queue behind
 * others for a token anyway) the batch stays open until
 * lb_journal_should_flush() says so: flush_ms after its first event, or
 * flush_events events. During a QPS-bound rollout that groups ~10 events
 * per commit instead of ~1.5 and cuts the fsyncs and the WAL page rewrites
 * (16 KB index leaves) by as much; what a crash can lose is unchanged in
 * kind — an uncommitted batch, none of whose actions ran — and bounded by
 * the window (docs/PERFORMANCE.md, update of 2026-12-04). */
static int flush_due(struct mgr *m) {
  if (lb_journal_should_flush(m->j, lb_wall_ms()))
    return 1;
  for (size_t i = 0; i < m->run.n_held; i++)
    if (m->run.held[i].verb == LB_VERB_RESPOND)
      return 1;
  return m->run.n_held && lb_kube_queued(m->k) == 0;
}

static void on_flush_timer(uv_timer_t *t) { flush(t->data); }

static void on_check(uv_check_t *h) {
  struct mgr *m = h->data;
  if (m->run.state != LB_RUN_BATCH)
    return;
  if (flush_due(m)) {
    uv_timer_stop(&m->flush_timer);
    flush(m);
  } else if (!uv_is_active((uv_handle_t *)&m->flush_timer)) {
    uv_timer_start(&m->flush_timer, on_flush_timer, (uint64_t)m->flush_ms + 1,
                   0);
  }
}

/* --- timers as journaled ticks -------------------------------------------- */
static void on_tick(uv_timer_t *t) {
  struct mgr *m = t->data;
  if (!m->running)
    return;
  int64_t w = lb_engine_next_wakeup(m->e);
  long long now = lb_wall_ms();
  if (w && w > now) { /* the loop's monotonic timer ran ahead of the wall
                         clock: wait the rest, never drop the wakeup */
    schedule_tick(m);
    return;
  }
  int rc = lb_runner_tick(&m->run, now);
  if (rc)
    fatal(m, 1, lb_strerror(rc));
}

static void schedule_tick(struct mgr *m) {
  int64_t w = lb_engine_next_wakeup(m->e);
  if (!w || !m->running)
    return;
  long long now = lb_wall_ms();
  uv_timer_start(&m->tick_timer, on_tick, w > now ? (uint64_t)(w - now) + 1 : 0,
                 0);
}

/* --- informer sink -------------------------------------------------------- */
static int idx_of(struct mgr *m, struct lb_informer *inf) {
  return (int)(inf - m->inf);
}

static void on_webhook_fail(void *ctx, int rc) {
  fatal(ctx, 1, lb_strerror(rc));
}

static void on_cert_timer(uv_timer_t *t);

/* The webhook Service selects only the pod that serves (deploy/manager.yaml):
 * the leader labels its own pod (POD_NAME/POD_NAMESPACE from the downward
 * API) once its webhook server listens, and every manager clears the label
 * at start-up, since a restarted container keeps its pod's labels but starts
 * as a standby. Housekeeping, like the webhook configurations: logged, not
 * journaled. Without POD_NAME (out of cluster, tests) nothing is written. */
#define LB_LABEL_SERVING "logbook.kruise.io/webhook-serving"

static void on_serving_label(void *ctx, struct lb_kube_result *res) {
  const char *value = ctx;
  if (res->status >= 200 && res->status < 300)
    lb_log("info", "webhook serving label set on own pod", "value=%s", value);
  else
    lb_log("warn", "cannot label own pod for the webhook Service",
           "status=%d value=%s body=\"%.200s\"", res->status, value,
           res->body ? res->body : "");
  free(res->body);
  res->body = NULL;
}

static void set_serving_label(struct mgr *m, int serving) {
  const char *pod = getenv("POD_NAME"), *ns = getenv("POD_NAMESPACE");
  char body[160], *path;
  if (!pod || !*pod || !ns || !*ns || m->o->webhook_port <= 0)
    return;
  snprintf(body, sizeof body, "{\"metadata\":{\"labels\":{\"%s\":%s}}}",
           LB_LABEL_SERVING, serving ? "\"true\"" : "null");
  path = lb_kube_path("", "v1", "pods", ns, pod, "");
  if (path)
    lb_kube_request(m->k, "PATCH", path, "application/merge-patch+json", body,
                    on_serving_label, (void *)(serving ? "true" : "null"),
                    NULL);
  free(path);
}

/* The leader has listed everything: its engine can judge requests now. */
static void start_webhooks(struct mgr *m) {
  struct lb_webhook_opts wo;
  struct lb_whcfg_opts co;
  char *err = NULL, url[300];
  int rc;
  if (m->o->webhook_port <= 0 || m->wh)
    return;
  lb_webhook_opts_init(&wo);
  wo.host = m->o->webhook_host ? m->o->webhook_host : "0.0.0.0";
  wo.port = m->o->webhook_port;
  wo.cert_file = m->wh_cert;
  wo.key_file = m->wh_key;
  if ((rc = lb_webhook_start(m->loop, &wo, NULL, NULL, &m->wh, &err))) {
    lb_log("error", "cannot start the webhook server", "error=\"%s\"",
           err ? err : lb_strerror(rc));
    free(err);
    fatal(m, 1, "webhook server");
    return;
  }
  lb_webhook_attach(m->wh, &m->run, on_webhook_fail, m);
  lb_log("info", "webhook server listening", "host=%s port=%d", wo.host,
         lb_webhook_port(m->wh));
  set_serving_label(m, 1);
  if (!m->o->webhook_cert) {
    const char *env = getenv("LB_WEBHOOK_CERT_CHECK_SECONDS");
    uint64_t every =
        env && atol(env) > 0 ? (uint64_t)atol(env) * 1000 : 12ull * 3600 * 1000;
    uv_timer_start(&m->cert_timer, on_cert_timer, every, every);
  }
  if (!m->o->webhook_register)
    return;
  memset(&co, 0, sizeof co);
  co.url_base = m->o->webhook_url_base;
  if (co.url_base && !strcmp(co.url_base, "auto")) {
    snprintf(url, sizeof url, "https://127.0.0.1:%d", lb_webhook_port(m->wh));
    co.url_base = url;
  }
  co.svc_ns = m->o->webhook_service_ns;
  co.svc_name = m->o->webhook_service_name;
  co.svc_port = 443;
  co.ca_pem = m->wh_ca;
  co.ns_label = m->o->webhook_ns_label;
  if (lb_whcfg_start(m->loop, m->k, &co, &m->whcfg))
    fatal(m, 1, "out of memory");
}

static char *read_all(const char *path) {
  FILE *f = fopen(path, "r");
  struct lb_buf b = LB_BUF_INIT;
  char buf[4096];
  size_t n;
  if (!f)
    return NULL;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    lb_buf_add(&b, buf, n);
  fclose(f);
  return b.err ? (lb_buf_release(&b), NULL) : lb_buf_detach(&b, NULL);
}

/* Self-generated certificates are renewed 30 days before they expire
 * (webhookcfg.h): check every 12 h (LB_WEBHOOK_CERT_CHECK_SECONDS), reload
 * the server when the serving certificate changed, and publish a new CA
 * (with the old one, for the switch-over) in the caBundle. */
static void on_cert_timer(uv_timer_t *t) {
  struct mgr *m = t->data;
  struct lb_whcert_opts co = {m->o->webhook_cert_dir, m->o->webhook_service_ns,
                              m->o->webhook_service_name, m->o->webhook_host};
  char *cert = NULL, *key = NULL, *ca = NULL, *err = NULL;
  char *before = read_all(m->wh_cert), *after;
  if (!m->wh || m->stopping) {
    free(before);
    return;
  }
  if (lb_whcert_ensure(&co, &cert, &key, &ca, &err)) {
    lb_log("error", "cannot renew the webhook certificate", "error=\"%s\"",
           err ? err : "");
    free(err);
    free(before);
    return;
  }
  after = read_all(m->wh_cert);
  if (m->wh_ca && strcmp(ca, m->wh_ca)) {
    struct lb_buf both = LB_BUF_INIT;
    lb_buf_adds(&both, ca);
    lb_buf_adds(&both, m->wh_ca);
    if (!both.err) {
      free(m->wh_ca);
      m->wh_ca = lb_buf_detach(&both, NULL);
      if (m->whcfg)
        lb_whcfg_set_ca(m->whcfg, m->wh_ca);
      lb_log("info",
             "webhook CA renewed; caBundle holds the new and the old "
             "CA",
             "dir=%s", co.dir);
    }
    lb_buf_release(&both);
  }
  if (!before || !after || strcmp(before, after)) {
    lb_webhook_reload(m->wh);
    lb_log("info", "webhook serving certificate renewed; reloading", "cert=%s",
           m->wh_cert);
  }
  free(before);
  free(after);
  free(cert);
  free(key);
  free(ca);
}

static void maybe_redo(struct mgr *m) {
  if (m->redone || m->first_lists_done < m->n_inf)
    return;
  m->redone = 1;
  size_t n = lb_engine_inflight_count(m->e);
  int rc = lb_runner_redo_inflight(&m->run);
  if (rc)
    fatal(m, 1, lb_strerror(rc));
  lb_log("info", "initial lists done; ready",
         "resources=%d inflight_redone=%zu events=%lld", m->n_inf, n,
         (long long)m->run.events);
  start_webhooks(m);
}

static void sink_item(void *ctx, struct lb_informer *inf, int type, char *body,
                      size_t len) {
  struct mgr *m = ctx;
  struct lb_event ev;
  int rc;
  lb_event_init(&ev);
  ev.source = type == LB_EV_LISTED ? LB_SRC_LIST : LB_SRC_WATCH;
  ev.type = type;
  ev.at_ms = lb_wall_ms();
  rc = lb_event_prepare(&ev, body, len);
  if (rc) {
    lb_event_release(&ev);
    lb_log("warn", "dropping an unparseable object", "resource=%s error=%s",
           inf->res->resource, lb_err_name(rc));
    return;
  }
  if (type == LB_EV_LISTED)
    rc = lb_relist_item(&m->run, &m->rl[idx_of(m, inf)], &ev);
  else
    rc = lb_runner_push(&m->run, &ev);
  if (rc)
    fatal(m, 1, lb_strerror(rc));
}

static void sink_list_begin(void *ctx, struct lb_informer *inf) {
  struct mgr *m = ctx;
  int i = idx_of(m, inf);
  lb_relist_release(&m->rl[i]);
  if (lb_relist_begin(&m->rl[i], inf->res->group, inf->res->kind))
    fatal(m, 1, "out of memory");
}

static void sink_list_end(void *ctx, struct lb_informer *inf) {
  struct mgr *m = ctx;
  int i = idx_of(m, inf);
  int rc = lb_relist_end(&m->run, &m->rl[i], lb_wall_ms());
  lb_log("info", "listed", "resource=%s items=%lld journaled=%lld rv=%s",
         inf->res->resource, (long long)m->rl[i].listed,
         (long long)m->rl[i].journaled, inf->rv);
  lb_relist_release(&m->rl[i]);
  if (rc) {
    fatal(m, 1, lb_strerror(rc));
    return;
  }
  if (inf->relists == 1) {
    m->first_lists_done++;
    maybe_redo(m);
  }
}

static void start_pipeline(struct mgr *m) {
  struct lb_informer_sink sink = {sink_item, sink_list_begin, sink_list_end, m};
  m->running = 1;
  m->n_inf = lb_n_resources < MAX_RES ? lb_n_resources : MAX_RES;
  for (int i = 0; i < m->n_inf; i++) {
    lb_informer_init(&m->inf[i], m->loop, m->k, &lb_resources[i], &sink);
    lb_informer_start(&m->inf[i]);
  }
  schedule_tick(m);
}

/* --- leader election over a coordination.k8s.io/v1 Lease -------------------
 */
static void micro_time(long long ms, char out[40]) {
  char t[32];
  lb_time_rfc3339(ms, t);
  t[19] = '\0';
  snprintf(out, 40, "%.19s.%03d000Z", t, (int)(ms % 1000));
}

static void lease_try(struct mgr *m);

static void on_lease_timer(uv_timer_t *t) { lease_try(t->data); }

static void lease_again(struct mgr *m, uint64_t ms) {
  if (!m->stopping)
    uv_timer_start(&m->lease_timer, on_lease_timer, ms, 0);
}

static char *lease_body(struct mgr *m, const char *acquire) {
  struct lb_buf b = LB_BUF_INIT;
  char now[40];
  micro_time(lb_wall_ms(), now);
  lb_buf_adds(&b,
              "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
              "\"metadata\":{\"name\":");
  lb_buf_add_json_str(&b, m->o->lease_name);
  lb_buf_adds(&b, ",\"namespace\":");
  lb_buf_add_json_str(&b, m->o->lease_namespace);
  if (*m->lease_rv) {
    lb_buf_adds(&b, ",\"resourceVersion\":");
    lb_buf_add_json_str(&b, m->lease_rv);
  }
  lb_buf_adds(&b, "},\"spec\":{\"holderIdentity\":");
  lb_buf_add_json_str(&b, m->o->identity);
  lb_buf_addf(&b,
              ",\"leaseDurationSeconds\":%d,\"acquireTime\":\"%s\","
              "\"renewTime\":\"%s\",\"leaseTransitions\":%lld}}",
              m->o->lease_seconds, acquire ? acquire : now, now,
              (long long)m->lease_transitions);
  return b.err ? (lb_buf_release(&b), NULL) : lb_buf_detach(&b, NULL);
}

static char acquire_time[40];

static void became_leader(struct mgr *m) {
  m->last_renew_ms = lb_wall_ms();
  if (!m->leader) {
    m->leader = 1;
    lb_log("info", "became leader", "lease=%s/%s identity=%s",
           m->o->lease_namespace, m->o->lease_name, m->o->identity);
    start_pipeline(m);
  }
  lease_again(m, 2000);
}

static void remember_rv(struct mgr *m, const char *body) {
  struct json_object *root = body ? json_tokener_parse(body) : NULL, *md, *rv;
  if (root && json_object_object_get_ex(root, "metadata", &md) &&
      json_object_object_get_ex(md, "resourceVersion", &rv))
    lb_strlcpy(m->lease_rv, json_object_get_string(rv), sizeof m->lease_rv);
  json_object_put(root);
}

/* A lease read or write failed: a leader past its renew deadline stops (a
 * standby takes over); otherwise try again soon. */
static void lease_failed(struct mgr *m) {
  if (m->leader && lb_wall_ms() - m->last_renew_ms >
                       (long long)m->o->renew_deadline_seconds * 1000) {
    fatal(m, 1, "lost the leader lease (renew deadline passed)");
    return;
  }
  lease_again(m, m->leader ? 500 : 2000);
}

static void on_lease_write(void *ctx, struct lb_kube_result *res) {
  struct mgr *m = ctx;
  if (res->status == 200 || res->status == 201) {
    remember_rv(m, res->body);
    free(res->body);
    became_leader(m);
    return;
  }
  lb_log("info", "lease write refused", "status=%d body=\"%.200s\"",
         res->status, res->body ? res->body : "");
  free(res->body);
  m->lease_rv[0] = '\0';
  lease_failed(m);
}

static void write_lease(struct mgr *m, int create) {
  char *path =
      lb_kube_path("coordination.k8s.io", "v1", "leases", m->o->lease_namespace,
                   create ? "" : m->o->lease_name, "");
  if (!acquire_time[0]) /* re-acquiring our own lease after a restart */
    micro_time(lb_wall_ms(), acquire_time);
  char *body = lease_body(m, acquire_time);
  if (!path || !body ||
      lb_kube_request(m->k, create ? "POST" : "PUT", path, NULL, body,
                      on_lease_write, m, NULL))
    lease_again(m, 2000);
  free(path);
  free(body);
}

static void on_lease_get(void *ctx, struct lb_kube_result *res) {
  struct mgr *m = ctx;
  struct json_object *root = NULL, *spec, *v;
  if (res->status == 404) {
    free(res->body);
    m->lease_rv[0] = '\0';
    micro_time(lb_wall_ms(), acquire_time);
    write_lease(m, 1);
    return;
  }
  if (res->status != 200 || !(root = json_tokener_parse(res->body))) {
    lb_log("warn", "cannot read the lease", "status=%d error=\"%s\"",
           res->status, res->curl_error);
    free(res->body);
    lease_failed(m);
    return;
  }
  remember_rv(m, res->body);
  free(res->body);
  const char *holder = "", *renew = NULL;
  int64_t duration = m->o->lease_seconds, renew_ms = 0;
  if (json_object_object_get_ex(root, "spec", &spec)) {
    if (json_object_object_get_ex(spec, "holderIdentity", &v))
      holder = json_object_get_string(v);
    if (json_object_object_get_ex(spec, "leaseDurationSeconds", &v))
      duration = json_object_get_int64(v);
    if (json_object_object_get_ex(spec, "renewTime", &v))
      renew = json_object_get_string(v);
    if (json_object_object_get_ex(spec, "leaseTransitions", &v))
      m->lease_transitions = json_object_get_int64(v);
  }
  if (renew)
    lb_time_parse(renew, &renew_ms);
  int mine = !strcmp(holder, m->o->identity);
  int expired = lb_wall_ms() > renew_ms + duration * 1000;
  if (mine || expired || !*holder) {
    if (!mine) {
      m->lease_transitions++;
      micro_time(lb_wall_ms(), acquire_time);
    }
    json_object_put(root);
    write_lease(m, 0);
    return;
  }
  json_object_put(root);
  if (m->leader) {
    fatal(m, 1, "another manager holds the lease");
    return;
  }
  lease_again(m, 2000);
}

static void lease_try(struct mgr *m) {
  char *path = lb_kube_path("coordination.k8s.io", "v1", "leases",
                            m->o->lease_namespace, m->o->lease_name, "");
  if (!path ||
      lb_kube_request(m->k, "GET", path, NULL, NULL, on_lease_get, m, NULL))
    lease_again(m, 2000);
  free(path);
}

/* --- /healthz /readyz /metrics -------------------------------------------- */
struct conn {
  uv_tcp_t tcp;
  struct mgr *m;
  char buf[2048];
  size_t len;
  uv_write_t wr;
  char *out;
};

static void conn_closed(uv_handle_t *h) {
  struct conn *c = h->data;
  free(c->out);
  free(c);
}

static void after_write(uv_write_t *w, int status) {
  (void)status;
  struct conn *c = w->data;
  uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

/* Ready: a leader once every informer has listed; a standby as soon as it
 * is up (it is healthy and waiting to take over — reporting it unready
 * would block a Deployment's rolling update forever). */
static int ready(struct mgr *m) {
  return m->leader ? m->running && m->redone : !m->stopping;
}

static void metrics(struct mgr *m, struct lb_buf *b) {
  struct lb_kube_stats ks;
  int64_t restarts = 0, relists = 0;
  static const char *cls[] = {"transport", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (int i = 0; i < m->n_inf; i++) {
    restarts += m->inf[i].restarts;
    relists += m->inf[i].relists;
  }
  lb_buf_addf(b,
              "# HELP logbook_events_journaled_total Events appended to the "
              "journal.\n# TYPE logbook_events_journaled_total counter\n"
              "logbook_events_journaled_total %lld\n"
              "# HELP logbook_decisions_total Decisions recorded.\n"
              "# TYPE logbook_decisions_total counter\n"
              "logbook_decisions_total %lld\n"
              "# HELP logbook_actions_submitted_total Actions sent to the "
              "actuator.\n# TYPE logbook_actions_submitted_total counter\n"
              "logbook_actions_submitted_total %lld\n"
              "# HELP logbook_actions_total Final action outcomes by verb and "
              "result.\n# TYPE logbook_actions_total counter\n",
              (long long)m->run.events, (long long)m->run.decisions,
              (long long)m->run.actions);
  for (int v = 1; v < (int)LB_ARRAY_SIZE(m->ka.done_by_verb); v++)
    for (int c = 0; c < 6; c++)
      if (m->ka.done_by_verb[v][c])
        lb_buf_addf(
            b, "logbook_actions_total{verb=\"%s\",result=\"%s\"} %lld\n",
            lb_verb_name(v), cls[c], (long long)m->ka.done_by_verb[v][c]);
  lb_buf_addf(b,
              "# HELP logbook_action_retries_total Attempts retried after "
              "429/5xx/transport errors.\n# TYPE logbook_action_retries_total "
              "counter\nlogbook_action_retries_total %lld\n"
              "# HELP logbook_watch_restarts_total Watch streams restarted.\n"
              "# TYPE logbook_watch_restarts_total counter\n"
              "logbook_watch_restarts_total %lld\n"
              "# HELP logbook_relists_total Full lists (start, 410 Gone).\n"
              "# TYPE logbook_relists_total counter\nlogbook_relists_total "
              "%lld\n# HELP logbook_journal_commit_seconds Journal commit "
              "latency.\n# TYPE logbook_journal_commit_seconds histogram\n",
              (long long)m->ka.retries, (long long)restarts,
              (long long)relists);
  int64_t cum = 0;
  for (int i = 0; i < 7; i++) {
    cum += m->commit_buckets[i];
    lb_buf_addf(b, "logbook_journal_commit_seconds_bucket{le=\"%g\"} %lld\n",
                bucket_le[i] / 1000.0, (long long)cum);
  }
  cum += m->commit_buckets[7];
  lb_buf_addf(b,
              "logbook_journal_commit_seconds_bucket{le=\"+Inf\"} %lld\n"
              "logbook_journal_commit_seconds_sum %g\n"
              "logbook_journal_commit_seconds_count %lld\n",
              (long long)cum, m->commit_ms_sum / 1000.0, (long long)m->commits);
  lb_kube_stats(m->k, &ks);
  lb_buf_addf(b,
              "# HELP logbook_api_requests_total HTTP requests to the "
              "apiserver.\n# TYPE logbook_api_requests_total counter\n"
              "logbook_api_requests_total %lld\n"
              "# HELP logbook_api_connections_total Connections opened to "
              "the apiserver (each one a TCP and TLS handshake).\n"
              "# TYPE logbook_api_connections_total counter\n"
              "logbook_api_connections_total %lld\n"
              "# HELP logbook_api_throttled_total Requests delayed by the "
              "client-side rate limiter.\n# TYPE logbook_api_throttled_total "
              "counter\nlogbook_api_throttled_total %lld\n"
              "# HELP logbook_leader 1 while this process holds the lease.\n"
              "# TYPE logbook_leader gauge\nlogbook_leader %d\n",
              (long long)ks.requests, (long long)ks.connects,
              (long long)ks.throttled, m->leader);
  if (m->wh)
    lb_webhook_metrics(m->wh, b);
}

static void respond(struct conn *c, int status, const char *ctype,
                    const char *body) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_addf(&b,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
              "Connection: close\r\n\r\n%s",
              status,
              status == 200   ? "OK"
              : status == 404 ? "Not Found"
                              : "Service Unavailable",
              ctype, strlen(body), body);
  c->out = lb_buf_detach(&b, NULL);
  uv_buf_t buf = uv_buf_init(c->out, (unsigned)strlen(c->out));
  c->wr.data = c;
  if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &buf, 1, after_write))
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void on_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf) {
  struct conn *c = h->data;
  (void)sz;
  *buf = uv_buf_init(c->buf + c->len, (unsigned)(sizeof c->buf - 1 - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  struct conn *c = s->data;
  (void)buf;
  if (n < 0 || (n == 0 && c->len == sizeof c->buf - 1)) {
    uv_close((uv_handle_t *)s, conn_closed);
    return;
  }
  c->len += (size_t)n;
  c->buf[c->len] = '\0';
  if (!strstr(c->buf, "\r\n\r\n") && c->len < sizeof c->buf - 1)
    return;
  uv_read_stop(s);
  struct mgr *m = c->m;
  if (!strncmp(c->buf, "GET /healthz ", 13)) {
    respond(c, 200, "text/plain", "ok\n");
  } else if (!strncmp(c->buf, "GET /readyz ", 12)) {
    int ok = ready(m);
    respond(c, ok ? 200 : 503, "text/plain",
            ok          ? "ok\n"
            : m->leader ? "syncing\n"
                        : "standby\n");
  } else if (!strncmp(c->buf, "GET /metrics ", 13)) {
    struct lb_buf b = LB_BUF_INIT;
    metrics(m, &b);
    respond(c, 200, "text/plain; version=0.0.4", b.p ? b.p : "");
    lb_buf_release(&b);
  } else {
    respond(c, 404, "text/plain", "not found\n");
  }
}

static void on_connection(uv_stream_t *server, int status) {
  struct mgr *m = server->data;
  struct conn *c;
  if (status < 0 || !(c = calloc(1, sizeof *c)))
    return;
  c->m = m;
  uv_tcp_init(m->loop, &c->tcp);
  c->tcp.data = c;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) ||
      uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read))
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static int start_http(struct mgr *m) {
  char host[64];
  int port;
  struct sockaddr_in addr;
  const char *colon = strrchr(m->o->metrics_bind, ':');
  if (!colon || (size_t)(colon - m->o->metrics_bind) >= sizeof host)
    return LB_EINVAL;
  memcpy(host, m->o->metrics_bind, (size_t)(colon - m->o->metrics_bind));
  host[colon - m->o->metrics_bind] = '\0';
  port = atoi(colon + 1);
  if (uv_ip4_addr(host, port, &addr))
    return LB_EINVAL;
  uv_tcp_init(m->loop, &m->http);
  m->http.data = m;
  if (uv_tcp_bind(&m->http, (const struct sockaddr *)&addr, 0) ||
      uv_listen((uv_stream_t *)&m->http, 64, on_connection))
    return LB_EIO;
  return 0;
}

/* --- shutdown
 * ----------------------------------------------------------------- */
static void close_walk(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static void informer_closed(struct lb_informer *inf) { (void)inf; }

static void stop(struct mgr *m) {
  if (m->stopping)
    return;
  m->stopping = 1;
  /* no new admission events; requests still waiting get no answer (their
   * connections close with the process) */
  lb_webhook_stop(m->wh);
  m->wh = NULL;
  lb_whcfg_stop(m->whcfg);
  m->whcfg = NULL;
  for (int i = 0; i < m->n_inf; i++)
    lb_informer_close(&m->inf[i], informer_closed);
  if (m->run.state != LB_RUN_FAILED) {
    int rc = lb_runner_snapshot(&m->run);
    if (rc)
      lb_log("error", "final snapshot failed", "error=%s", lb_err_name(rc));
  }
  m->running = 0;
  lb_kube_close(m->k);
  uv_check_stop(&m->flush_check);
  uv_timer_stop(&m->flush_timer);
  uv_timer_stop(&m->tick_timer);
  uv_timer_stop(&m->lease_timer);
  uv_timer_stop(&m->cert_timer);
  uv_signal_stop(&m->sigterm);
  uv_signal_stop(&m->sigint);
  uv_close((uv_handle_t *)&m->flush_check, NULL);
  uv_close((uv_handle_t *)&m->flush_timer, NULL);
  uv_close((uv_handle_t *)&m->tick_timer, NULL);
  uv_close((uv_handle_t *)&m->lease_timer, NULL);
  uv_close((uv_handle_t *)&m->cert_timer, NULL);
  uv_close((uv_handle_t *)&m->sigterm, NULL);
  uv_close((uv_handle_t *)&m->sigint, NULL);
  if (*m->o->metrics_bind)
    uv_close((uv_handle_t *)&m->http, NULL);
}

static void fatal(struct mgr *m, int code, const char *why) {
  lb_log("error", "stopping", "reason=\"%s\"", why);
  m->exit_code = code;
  stop(m);
}

static void on_signal(uv_signal_t *s, int signum) {
  struct mgr *m = s->data;
  lb_log("info", "signal received; stopping", "signal=%d", signum);
  stop(m);
}

void lb_manager_opts_init(struct lb_manager_opts *o) {
  static char identity[300];
  char host[256] = "logbook";
  memset(o, 0, sizeof *o);
  o->journal = "logbook.db";
  o->metrics_bind = "127.0.0.1:8080";
  o->leader_elect = 1;
  o->lease_namespace = "kruise-system";
  o->lease_name = "logbook-manager";
  gethostname(host, sizeof host - 1);
  snprintf(identity, sizeof identity, "%s_%ld", host, (long)getpid());
  o->identity = identity;
  o->lease_seconds = 15;
  o->renew_deadline_seconds = 10;
  o->qps = 30;
  o->burst = 50;
  o->webhook_host = "0.0.0.0";
  o->webhook_cert_dir = "webhook-certs";
  o->webhook_service_ns = "kruise-system";
  o->webhook_service_name = "logbook-webhook-service";
  o->webhook_register = 1;
}

/* Serving certificate: given, or generated/reused in the cert dir. */
static int webhook_certs(struct mgr *m) {
  const struct lb_manager_opts *o = m->o;
  char *err = NULL;
  int rc;
  if (o->webhook_port <= 0)
    return 0;
  if (o->webhook_cert || o->webhook_key) {
    FILE *f;
    struct lb_buf b = LB_BUF_INIT;
    char buf[4096];
    size_t n;
    if (!o->webhook_cert || !o->webhook_key) {
      fprintf(stderr, "logbook manager: --webhook-cert and --webhook-key go "
                      "together\n");
      return 1;
    }
    const char *ca = o->webhook_ca ? o->webhook_ca : o->webhook_cert;
    if (!(f = fopen(ca, "r"))) {
      fprintf(stderr, "logbook manager: cannot read the webhook CA %s\n", ca);
      return 1;
    }
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
      lb_buf_add(&b, buf, n);
    fclose(f);
    m->wh_ca = lb_buf_detach(&b, NULL);
    m->wh_cert = lb_strdup(o->webhook_cert);
    m->wh_key = lb_strdup(o->webhook_key);
    return m->wh_ca && m->wh_cert && m->wh_key ? 0 : 1;
  }
  struct lb_whcert_opts co = {o->webhook_cert_dir, o->webhook_service_ns,
                              o->webhook_service_name, o->webhook_host};
  if ((rc = lb_whcert_ensure(&co, &m->wh_cert, &m->wh_key, &m->wh_ca, &err))) {
    fprintf(stderr, "logbook manager: %s\n", err ? err : lb_strerror(rc));
    free(err);
    return 1;
  }
  return 0;
}

int lb_manager_run(const struct lb_manager_opts *o) {
  struct mgr *m = calloc(1, sizeof *m);
  struct lb_kube_opts ko = LB_KUBE_OPTS_INIT;
  struct lb_journal_opts jo = LB_JOURNAL_OPTS_INIT;
  char *err = NULL;
  int rc, code;
  if (!m)
    return 1;
  m->o = o;
  m->loop = uv_default_loop();
  if ((rc = lb_kubeconfig_load(o->kubeconfig, &m->cfg, &err))) {
    fprintf(stderr, "logbook manager: %s\n", err ? err : lb_strerror(rc));
    free(err);
    free(m);
    return 1;
  }
  jo.durability = o->durability;
  m->flush_ms = o->flush_ms > 0 ? o->flush_ms : 100;
  jo.flush_ms = m->flush_ms;
  if ((rc = lb_journal_open(o->journal, &jo, &m->j))) {
    fprintf(stderr, "logbook manager: %s\n", lb_journal_open_errmsg());
    lb_kubeconfig_release(&m->cfg);
    free(m);
    return 1;
  }
  ko.qps = o->qps;
  ko.burst = o->burst;
  if ((rc = lb_engine_new(NULL, &m->e)) ||
      (rc = lb_kube_new(m->loop, &m->cfg, &ko, &m->k))) {
    fprintf(stderr, "logbook manager: %s\n", lb_strerror(rc));
    code = 1;
    goto out;
  }
  if (webhook_certs(m)) {
    code = 1;
    goto out;
  }
  lb_kubeact_init(&m->ka, m->loop, m->k);
  lb_runner_init(&m->run, m->j, m->e, &m->ka.act);
  if ((rc = lb_runner_recover(&m->run))) {
    fprintf(stderr,
            "logbook manager: cannot rebuild state from journal %s: %s (%s); "
            "run `logbook journal check %s`\n",
            o->journal, lb_strerror(rc), lb_journal_errmsg(m->j), o->journal);
    code = 1;
    goto out;
  }
  lb_journal_meta_set(m->j, "source", "manager");
  lb_journal_meta_set(m->j, "cluster.server", m->cfg.server);
  lb_log("info", "journal recovered",
         "journal=%s events=%lld decisions=%lld "
         "inflight=%zu server=%s kubeconfig=%s",
         o->journal, (long long)lb_engine_last_seq(m->e),
         (long long)lb_engine_decision_seq(m->e),
         lb_engine_inflight_count(m->e), m->cfg.server, m->cfg.source);
  uv_check_init(m->loop, &m->flush_check);
  m->flush_check.data = m;
  uv_check_start(&m->flush_check, on_check);
  uv_timer_init(m->loop, &m->flush_timer);
  m->flush_timer.data = m;
  uv_timer_init(m->loop, &m->tick_timer);
  m->tick_timer.data = m;
  uv_timer_init(m->loop, &m->lease_timer);
  m->lease_timer.data = m;
  uv_timer_init(m->loop, &m->cert_timer);
  m->cert_timer.data = m;
  uv_signal_init(m->loop, &m->sigterm);
  uv_signal_init(m->loop, &m->sigint);
  m->sigterm.data = m->sigint.data = m;
  uv_signal_start(&m->sigterm, on_signal, SIGTERM);
  uv_signal_start(&m->sigint, on_signal, SIGINT);
  if (*o->metrics_bind && (rc = start_http(m))) {
    fprintf(stderr, "logbook manager: cannot listen on %s for metrics\n",
            o->metrics_bind);
    stop(m);
    uv_run(m->loop, UV_RUN_DEFAULT);
    code = 1;
    goto out;
  }
  set_serving_label(m, 0); /* a restarted container starts as a standby */
  if (o->leader_elect)
    lease_try(m);
  else {
    m->leader = 1;
    start_pipeline(m);
  }
  uv_run(m->loop, UV_RUN_DEFAULT);
  uv_walk(m->loop, close_walk, NULL);
  uv_run(m->loop, UV_RUN_DEFAULT);
  code = m->exit_code;
  lb_log("info", "stopped", "events=%lld decisions=%lld actions=%lld",
         (long long)m->run.events, (long long)m->run.decisions,
         (long long)m->run.actions);
out:
  lb_runner_release(&m->run);
  for (int i = 0; i < MAX_RES; i++)
    lb_relist_release(&m->rl[i]);
  lb_engine_free(m->e);
  lb_journal_close(m->j);
  lb_kubeconfig_release(&m->cfg);
  uv_loop_close(m->loop);
  free(m->wh_cert);
  free(m->wh_key);
  free(m->wh_ca);
  free(m);
  return code;
}
