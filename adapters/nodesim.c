/* nodesim.c — see nodesim.h. A test tool; the manager never links it in. */
#define _GNU_SOURCE
#include "nodesim.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "../engine/err.h"
#include "../engine/event.h"
#include "../engine/map.h"
#include "../engine/util.h"
#include "informer.h"
#include "kube.h"
#include "kubeconfig.h"
#include "log.h"
#include "resources.h"

enum {
  SP_PENDING = 0,
  SP_SCHEDULED,
  SP_RUNNING,
  SP_READY,
  SP_RESTARTING,
  SP_TERMINATING,
  SP_GONE
};

#define MAXC 16
struct ctr {
  char name[128], image[512], status_image[512], id[80];
  int restarts;
};

struct spod {
  struct ns *sim;
  char key[600], ns[256], name[256], uid[64], node[64];
  int state, armed, n_ctr, delete_sent;
  int patching, again, gone; /* one status patch in flight per pod, so two
                                reports can never land out of order */
  struct ctr c[MAXC];
  long long started_ms;
  struct json_object *last; /* last object seen */
  uv_timer_t timer;
};

struct ns {
  const struct lb_nodesim_opts *o;
  uv_loop_t *loop;
  struct lb_kubeconfig cfg;
  struct lb_kube *k;
  struct lb_informer pods;
  struct lb_map by_key;
  uint64_t rng;
  int next_node;
  uv_signal_t sig;
};

static uint64_t rnd(struct ns *s) {
  uint64_t z = (s->rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static uint64_t delay(struct ns *s) {
  int lo = s->o->delay_ms[0], hi = s->o->delay_ms[1];
  return (uint64_t)lo + (hi > lo ? rnd(s) % (uint64_t)(hi - lo + 1) : 0);
}

static void ignore_done(void *ctx, struct lb_kube_result *res) {
  const char *what = ctx;
  if (res->status >= 300 && res->status != 404 && res->status != 409)
    lb_log("warn", "nodesim request failed", "what=%s status=%d body=%.200s",
           what, res->status, res->body ? res->body : "");
  free(res->body);
}

static void now_str(char out[32]) { lb_time_rfc3339(lb_wall_ms(), out); }

/* conditions written by others are kept; ours are replaced */
static int ours(const char *t) {
  return !strcmp(t, "PodScheduled") || !strcmp(t, "Initialized") ||
         !strcmp(t, "ContainersReady") || !strcmp(t, "Ready");
}

static int gates_true(struct json_object *pod) {
  struct json_object *spec, *gates, *st, *conds;
  if (!json_object_object_get_ex(pod, "spec", &spec) ||
      !json_object_object_get_ex(spec, "readinessGates", &gates))
    return 1;
  json_object_object_get_ex(pod, "status", &st);
  json_object_object_get_ex(st, "conditions", &conds);
  for (size_t i = 0; i < json_object_array_length(gates); i++) {
    struct json_object *g = json_object_array_get_idx(gates, i), *t;
    int ok = 0;
    if (!json_object_object_get_ex(g, "conditionType", &t))
      continue;
    for (size_t k = 0; conds && k < json_object_array_length(conds); k++) {
      struct json_object *c = json_object_array_get_idx(conds, k), *ct, *cs;
      if (json_object_object_get_ex(c, "type", &ct) &&
          json_object_object_get_ex(c, "status", &cs) &&
          !strcmp(json_object_get_string(ct), json_object_get_string(t)) &&
          !strcmp(json_object_get_string(cs), "True"))
        ok = 1;
    }
    if (!ok)
      return 0;
  }
  return 1;
}

static void cond(struct lb_buf *b, int *first, const char *type, int ok,
                 const char *ts) {
  lb_buf_addf(b,
              "%s{\"type\":\"%s\",\"status\":\"%s\",\"lastTransitionTime\":"
              "\"%s\"}",
              *first ? "" : ",", type, ok ? "True" : "False", ts);
  *first = 0;
}

static void spod_closed(uv_handle_t *h);
static void report(struct spod *p);

static void on_report_done(void *ctx, struct lb_kube_result *res) {
  struct spod *p = ctx;
  if (res->status >= 300 && res->status != 404)
    lb_log("warn", "pod status patch failed", "pod=%s/%s status=%d", p->ns,
           p->name, res->status);
  free(res->body);
  p->patching = 0;
  if (p->gone) {
    uv_close((uv_handle_t *)&p->timer, spod_closed);
    return;
  }
  if (p->again) {
    p->again = 0;
    report(p);
  }
}

/* An image tagged "broken" never becomes ready (as if the kubelet could
 * not pull it): rollouts that must stop are tested with it. */
static int broken(const struct spod *p) {
  for (int i = 0; i < p->n_ctr; i++) {
    const char *tag = strrchr(p->c[i].image, ':');
    if (tag && !strcmp(tag, ":broken"))
      return 1;
  }
  return 0;
}

static void report(struct spod *p) {
  struct ns *s = p->sim;
  if (p->patching) { /* send the latest state once this one is answered */
    p->again = 1;
    return;
  }
  struct lb_buf b = LB_BUF_INIT;
  char ts[32], start[32];
  int running = p->state == SP_RUNNING || p->state == SP_READY ||
                p->state == SP_RESTARTING;
  int ready = p->state == SP_READY && gates_true(p->last) && !broken(p);
  int first = 1;
  now_str(ts);
  lb_time_rfc3339(p->started_ms ? p->started_ms : lb_wall_ms(), start);
  lb_buf_addf(&b, "{\"status\":{\"phase\":\"%s\",\"hostIP\":\"10.213.0.%d\"",
              running ? "Running" : "Pending", 10 + (int)(p->node[9] - '0'));
  if (running)
    lb_buf_addf(&b, ",\"podIP\":\"10.244.%d.%d\",\"startTime\":\"%s\"",
                (int)(rnd(s) % 250), (int)(rnd(s) % 250) + 2, start);
  lb_buf_adds(&b, ",\"conditions\":[");
  cond(&b, &first, "PodScheduled", 1, ts);
  cond(&b, &first, "Initialized", running, ts);
  cond(&b, &first, "ContainersReady", ready, ts);
  cond(&b, &first, "Ready", ready, ts);
  struct json_object *st, *conds;
  if (json_object_object_get_ex(p->last, "status", &st) &&
      json_object_object_get_ex(st, "conditions", &conds)) {
    for (size_t i = 0; i < json_object_array_length(conds); i++) {
      struct json_object *c = json_object_array_get_idx(conds, i), *t;
      if (json_object_object_get_ex(c, "type", &t) &&
          !ours(json_object_get_string(t)))
        lb_buf_addf(&b, ",%s",
                    json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN));
    }
  }
  lb_buf_adds(&b, "]");
  if (running) {
    lb_buf_adds(&b, ",\"containerStatuses\":[");
    for (int i = 0; i < p->n_ctr; i++) {
      struct ctr *c = &p->c[i];
      uint64_t h = 1469598103934665603ull;
      for (const char *x = c->status_image; *x; x++)
        h = (h ^ (unsigned char)*x) * 1099511628211ull;
      lb_buf_addf(&b, "%s{\"name\":", i ? "," : "");
      lb_buf_add_json_str(&b, c->name);
      lb_buf_adds(&b, ",\"image\":");
      lb_buf_add_json_str(&b, c->status_image);
      lb_buf_addf(&b,
                  ",\"imageID\":\"docker.io/library/sim@sha256:%016llx\","
                  "\"containerID\":\"containerd://%s\",\"ready\":%s,"
                  "\"started\":true,\"restartCount\":%d,\"state\":{\"running\":"
                  "{\"startedAt\":\"%s\"}}}",
                  (unsigned long long)h, c->id, ready ? "true" : "false",
                  c->restarts, ts);
    }
    lb_buf_adds(&b, "]");
  }
  lb_buf_adds(&b, "}}");
  char *path = lb_kube_path("", "v1", "pods", p->ns, p->name, "status");
  if (path && !b.err &&
      !lb_kube_request(s->k, "PATCH", path, "application/merge-patch+json", b.p,
                       on_report_done, p, NULL))
    p->patching = 1;
  free(path);
  lb_buf_release(&b);
}

static void new_id(struct ns *s, char out[80]) {
  snprintf(out, 80, "%016llx%016llx", (unsigned long long)rnd(s),
           (unsigned long long)rnd(s));
}

static void step(uv_timer_t *t);

static void arm(struct spod *p) {
  if (p->armed || p->state == SP_GONE)
    return;
  p->armed = 1;
  uv_timer_start(&p->timer, step, delay(p->sim), 0);
}

static int image_changed(struct spod *p) {
  for (int i = 0; i < p->n_ctr; i++)
    if (strcmp(p->c[i].image, p->c[i].status_image))
      return 1;
  return 0;
}

static void on_report_soon(uv_timer_t *t) { report(t->data); }

/* on_pod() runs inside libcurl's write callback, where libcurl refuses to
 * start another transfer (a re-entrant multi call): a report sent from
 * there failed at once and left p->patching set for good, so the pod never
 * reported again (in-place image changes and gate changes were lost).
 * Reports decided in on_pod() go out from the loop instead. */
static void report_soon(struct spod *p) {
  uv_timer_stop(&p->timer);
  p->armed = 0;
  uv_timer_start(&p->timer, on_report_soon, 0, 0);
}

static void step(uv_timer_t *t) {
  struct spod *p = t->data;
  struct ns *s = p->sim;
  p->armed = 0;
  switch (p->state) {
  case SP_PENDING: { /* bind */
    struct lb_buf b = LB_BUF_INIT;
    snprintf(p->node, sizeof p->node, "sim-node-%d",
             s->next_node++ % s->o->nodes);
    lb_buf_adds(&b, "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":"
                    "{\"name\":");
    lb_buf_add_json_str(&b, p->name);
    lb_buf_addf(&b,
                "},\"target\":{\"apiVersion\":\"v1\",\"kind\":\"Node\","
                "\"name\":\"%s\"}}",
                p->node);
    char *path = lb_kube_path("", "v1", "pods", p->ns, p->name, "binding");
    if (path)
      lb_kube_request(s->k, "POST", path, NULL, b.p, ignore_done,
                      (void *)"binding", NULL);
    free(path);
    lb_buf_release(&b);
    p->state = SP_SCHEDULED;
    report(p);
    arm(p);
    break;
  }
  case SP_SCHEDULED:
  case SP_RESTARTING:
    for (int i = 0; i < p->n_ctr; i++) {
      if (p->state == SP_RESTARTING &&
          strcmp(p->c[i].image, p->c[i].status_image))
        p->c[i].restarts++;
      if (p->state == SP_SCHEDULED ||
          strcmp(p->c[i].image, p->c[i].status_image))
        new_id(s, p->c[i].id);
      lb_strlcpy(p->c[i].status_image, p->c[i].image,
                 sizeof p->c[i].status_image);
    }
    if (!p->started_ms)
      p->started_ms = lb_wall_ms();
    p->state = SP_RUNNING;
    report(p);
    arm(p);
    break;
  case SP_RUNNING:
    p->state = SP_READY;
    report(p);
    break;
  case SP_TERMINATING:
    if (!p->delete_sent) {
      struct lb_buf b = LB_BUF_INIT;
      lb_buf_adds(&b, "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\","
                      "\"gracePeriodSeconds\":0,\"preconditions\":{\"uid\":");
      lb_buf_add_json_str(&b, p->uid);
      lb_buf_adds(&b, "}}");
      char *path = lb_kube_path("", "v1", "pods", p->ns, p->name, "");
      if (path)
        lb_kube_request(s->k, "DELETE", path, NULL, b.p, ignore_done,
                        (void *)"pod delete", NULL);
      free(path);
      lb_buf_release(&b);
      p->delete_sent = 1;
    }
    break;
  default:
    break;
  }
}

static void spod_closed(uv_handle_t *h) {
  struct spod *p = h->data;
  json_object_put(p->last);
  free(p);
}

static const char *jstr(struct json_object *o, const char *k) {
  struct json_object *v;
  return o && json_object_object_get_ex(o, k, &v) ? json_object_get_string(v)
                                                  : NULL;
}

static void on_pod(void *ctx, struct lb_informer *inf, int type, char *body,
                   size_t len) {
  struct ns *s = ctx;
  struct json_object *root = json_tokener_parse(body), *md, *spec, *ctrs;
  (void)inf;
  (void)len;
  free(body);
  if (!root || !json_object_object_get_ex(root, "metadata", &md)) {
    json_object_put(root);
    return;
  }
  char key[600];
  const char *ns = jstr(md, "namespace"), *name = jstr(md, "name");
  snprintf(key, sizeof key, "%s/%s", ns ? ns : "", name ? name : "");
  struct spod *p = lb_map_get(&s->by_key, key);
  if (type == LB_EV_DELETED) {
    if (p) {
      lb_map_del(&s->by_key, key);
      p->state = SP_GONE;
      p->gone = 1;
      uv_timer_stop(&p->timer);
      if (!p->patching) /* else on_report_done closes it */
        uv_close((uv_handle_t *)&p->timer, spod_closed);
    }
    json_object_put(root);
    return;
  }
  json_object_object_get_ex(root, "spec", &spec);
  const char *node = jstr(spec, "nodeName");
  if (!p) {
    if (node && strncmp(node, "sim-node-", 9)) { /* someone else's node */
      json_object_put(root);
      return;
    }
    if (!(p = calloc(1, sizeof *p))) {
      json_object_put(root);
      return;
    }
    p->sim = s;
    lb_strlcpy(p->key, key, sizeof p->key);
    lb_strlcpy(p->ns, ns ? ns : "", sizeof p->ns);
    lb_strlcpy(p->name, name ? name : "", sizeof p->name);
    lb_strlcpy(p->uid, jstr(md, "uid") ? jstr(md, "uid") : "", sizeof p->uid);
    uv_timer_init(s->loop, &p->timer);
    p->timer.data = p;
    if (node) { /* already bound (we restarted): take it as running */
      lb_strlcpy(p->node, node, sizeof p->node);
      p->state = SP_SCHEDULED;
    }
    lb_map_put(&s->by_key, key, p, NULL);
  }
  json_object_put(p->last);
  p->last = root;
  /* spec containers */
  if (json_object_object_get_ex(spec, "containers", &ctrs)) {
    int n = (int)json_object_array_length(ctrs);
    p->n_ctr = n > MAXC ? MAXC : n;
    for (int i = 0; i < p->n_ctr; i++) {
      struct json_object *c = json_object_array_get_idx(ctrs, i);
      lb_strlcpy(p->c[i].name, jstr(c, "name") ? jstr(c, "name") : "",
                 sizeof p->c[i].name);
      lb_strlcpy(p->c[i].image, jstr(c, "image") ? jstr(c, "image") : "",
                 sizeof p->c[i].image);
    }
  }
  if (jstr(md, "deletionTimestamp")) {
    if (p->state != SP_TERMINATING) {
      p->state = SP_TERMINATING;
      uv_timer_stop(&p->timer);
      p->armed = 0;
    }
    arm(p);
    return;
  }
  if ((p->state == SP_READY || p->state == SP_RUNNING) && image_changed(p)) {
    /* the restart step reports it (not ready, then ready); no report from
     * here: see report_soon() */
    p->state = SP_RESTARTING;
    uv_timer_stop(&p->timer);
    p->armed = 0;
  }
  if (p->state == SP_READY) {
    /* readiness gates may have changed: recompute Ready */
    struct json_object *st, *conds;
    int want = gates_true(root) && !broken(p), have = 0;
    if (json_object_object_get_ex(root, "status", &st) &&
        json_object_object_get_ex(st, "conditions", &conds))
      for (size_t i = 0; i < json_object_array_length(conds); i++) {
        struct json_object *c = json_object_array_get_idx(conds, i);
        if (jstr(c, "type") && !strcmp(jstr(c, "type"), "Ready"))
          have = jstr(c, "status") && !strcmp(jstr(c, "status"), "True");
      }
    if (want != have)
      report_soon(p);
    return;
  }
  arm(p);
}

static void on_node_done(void *ctx, struct lb_kube_result *res) {
  struct ns *s = ctx;
  (void)s;
  if (res->status >= 300 && res->status != 409)
    lb_log("warn", "node registration failed", "status=%d", res->status);
  free(res->body);
}

static void register_nodes(struct ns *s) {
  char ts[32];
  now_str(ts);
  for (int i = 0; i < s->o->nodes; i++) {
    struct lb_buf b = LB_BUF_INIT, st = LB_BUF_INIT;
    char name[32], *path;
    snprintf(name, sizeof name, "sim-node-%d", i);
    lb_buf_addf(&b,
                "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{"
                "\"name\":\"%s\",\"labels\":{\"kubernetes.io/hostname\":"
                "\"%s\",\"type\":\"logbook-nodesim\"}}}",
                name, name);
    lb_kube_request(s->k, "POST", "/api/v1/nodes", NULL, b.p, on_node_done, s,
                    NULL);
    lb_buf_addf(&st,
                "{\"status\":{\"capacity\":{\"cpu\":\"32\",\"memory\":"
                "\"128Gi\",\"pods\":\"500\"},\"allocatable\":{\"cpu\":"
                "\"32\",\"memory\":\"128Gi\",\"pods\":\"500\"},"
                "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\","
                "\"reason\":\"KubeletReady\",\"lastHeartbeatTime\":\"%s\","
                "\"lastTransitionTime\":\"%s\"}]}}",
                ts, ts);
    path = lb_kube_path("", "v1", "nodes", "", name, "status");
    lb_kube_request(s->k, "PATCH", path, "application/merge-patch+json", st.p,
                    on_node_done, s, NULL);
    free(path);
    lb_buf_release(&b);
    lb_buf_release(&st);
  }
}

static void on_sig(uv_signal_t *h, int signum) {
  struct ns *s = h->data;
  (void)signum;
  lb_informer_close(&s->pods, NULL);
  lb_kube_close(s->k);
  uv_signal_stop(h);
  uv_close((uv_handle_t *)h, NULL);
  size_t i = 0;
  void *v;
  while (lb_map_next(&s->by_key, &i, NULL, &v)) {
    struct spod *p = v;
    uv_timer_stop(&p->timer);
    p->gone = 1;
    if (!p->patching)
      uv_close((uv_handle_t *)&p->timer, spod_closed);
  }
  lb_map_release(&s->by_key);
}

void lb_nodesim_opts_init(struct lb_nodesim_opts *o) {
  memset(o, 0, sizeof *o);
  o->nodes = 3;
  o->seed = 1;
  o->delay_ms[0] = 100;
  o->delay_ms[1] = 600;
}

int lb_nodesim_run(const struct lb_nodesim_opts *o) {
  struct ns s;
  char *err = NULL;
  int rc;
  memset(&s, 0, sizeof s);
  s.o = o;
  s.rng = o->seed;
  s.loop = uv_default_loop();
  lb_map_init(&s.by_key);
  if ((rc = lb_kubeconfig_load(o->kubeconfig, &s.cfg, &err))) {
    fprintf(stderr, "logbook nodesim: %s\n", err ? err : lb_strerror(rc));
    free(err);
    return 1;
  }
  struct lb_kube_opts ko = LB_KUBE_OPTS_INIT;
  ko.qps = 200;
  ko.burst = 400;
  if ((rc = lb_kube_new(s.loop, &s.cfg, &ko, &s.k))) {
    lb_kubeconfig_release(&s.cfg);
    return 1;
  }
  register_nodes(&s);
  struct lb_informer_sink sink = {on_pod, NULL, NULL, &s};
  lb_informer_init(&s.pods, s.loop, s.k, lb_resource_of("", "Pod"), &sink);
  lb_informer_start(&s.pods);
  uv_signal_init(s.loop, &s.sig);
  s.sig.data = &s;
  uv_signal_start(&s.sig, on_sig, SIGTERM);
  lb_log("info", "nodesim running", "nodes=%d server=%s", o->nodes,
         s.cfg.server);
  uv_run(s.loop, UV_RUN_DEFAULT);
  lb_kubeconfig_release(&s.cfg);
  uv_loop_close(s.loop);
  return 0;
}
