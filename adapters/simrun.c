/* simrun.c — see simrun.h. */
#include "simrun.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/err.h"
#include "../engine/obj.h"

enum { OP_APPLY = 1, OP_PATCH, OP_WAIT, OP_DELETE_POD };

struct step {
  const char *desc;
  int op;
  const char *arg;  /* manifest (apply) or merge patch on CloneSet web */
  int want_pods;    /* ready pods wanted */
  int want_updated; /* pods at the update revision (-1: all) */
};

#define CS_MANIFEST(replicas, image, partition, max_unavailable)               \
  "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":\"CloneSet\","         \
  "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\","                  \
  "\"labels\":{\"app\":\"web\"}},\"spec\":{\"replicas\":" #replicas ","        \
  "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"                          \
  "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"                 \
  "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"" image "\","     \
  "\"ports\":[{\"containerPort\":80}]}]}},"                                    \
  "\"updateStrategy\":{\"type\":\"ReCreate\",\"partition\":" partition         \
  ",\"maxUnavailable\":" max_unavailable "}}}"

static const struct step demo[] = {
    {"create CloneSet default/web: 5 replicas of nginx:1.25", OP_APPLY,
     CS_MANIFEST(5, "nginx:1.25", "0", "2"), 5, -1},
    {"scale up to 8", OP_PATCH, "{\"spec\":{\"replicas\":8}}", 8, -1},
    {"roll out nginx:1.26 with partition 3 (3 pods stay old)", OP_PATCH,
     "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"nginx\","
     "\"image\":\"nginx:1.26\",\"ports\":[{\"containerPort\":80}]}]}},"
     "\"updateStrategy\":{\"partition\":3}}}",
     8, 5},
    {"lift the partition: finish the rollout", OP_PATCH,
     "{\"spec\":{\"updateStrategy\":{\"partition\":0}}}", 8, -1},
    {"scale down to 3", OP_PATCH, "{\"spec\":{\"replicas\":3}}", 3, -1},
    {NULL, 0, NULL, 0, 0}};

static const struct step scale[] = {
    {"create CloneSet default/web with 0 replicas", OP_APPLY,
     CS_MANIFEST(0, "nginx:1.25", "0", "\"20%\""), 0, -1},
    {"scale up to 40 (slow start: 1, 1, 2, 4, ...)", OP_PATCH,
     "{\"spec\":{\"replicas\":40}}", 40, -1},
    {"scale down to 10", OP_PATCH, "{\"spec\":{\"replicas\":10}}", 10, -1},
    {NULL, 0, NULL, 0, 0}};

static const struct step rollout[] = {
    {"create CloneSet default/web: 10 replicas", OP_APPLY,
     CS_MANIFEST(10, "nginx:1.25", "0", "\"20%\""), 10, -1},
    {"roll out nginx:1.26, partition 50%", OP_PATCH,
     "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"nginx\","
     "\"image\":\"nginx:1.26\"}]}},\"updateStrategy\":{\"partition\":\"50%\"}}"
     "}",
     10, 5},
    {"roll back to nginx:1.25 (partition 0)", OP_PATCH,
     "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"nginx\","
     "\"image\":\"nginx:1.25\",\"ports\":[{\"containerPort\":80}]}]}},"
     "\"updateStrategy\":{\"partition\":0}}}",
     10, -1},
    {NULL, 0, NULL, 0, 0}};

/* Small enough to fault-inject at every journal step in the quick tier. */
static const struct step mini[] = {
    {"create CloneSet default/web: 3 replicas", OP_APPLY,
     CS_MANIFEST(3, "nginx:1.25", "0", "1"), 3, -1},
    {"roll out nginx:1.26", OP_PATCH,
     "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"nginx\","
     "\"image\":\"nginx:1.26\"}]}}}}",
     3, -1},
    {"scale down to 2", OP_PATCH, "{\"spec\":{\"replicas\":2}}", 2, -1},
    {NULL, 0, NULL, 0, 0}};

/* volumeClaimTemplates (kruise-spec §3.3, e2e scenario 12): 2 claims per
 * pod; a pod deleted by hand comes back with its id and claims; scale-in
 * deletes the victim's claims; with disablePVCReuse a pod's claims leave
 * with it (handed over to it). */
#define PVC_VCTS                                                               \
  "\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"data\"},\"spec\":{"     \
  "\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{\"requests\":{"          \
  "\"storage\":\"1Gi\"}}}},{\"metadata\":{\"name\":\"logs\"},\"spec\":{"       \
  "\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{\"requests\":{"          \
  "\"storage\":\"1Gi\"}}}}]"
static const struct step pvc[] = {
    {"create CloneSet default/web: 4 replicas, 2 volumeClaimTemplates",
     OP_APPLY,
     "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":\"CloneSet\","
     "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{"
     "\"replicas\":4,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
     "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
     "\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.25\"}]}},"
     "\"updateStrategy\":{\"maxUnavailable\":1}," PVC_VCTS "}}",
     4, -1},
    {"delete a pod by hand: it comes back with its id and claims",
     OP_DELETE_POD, NULL, 4, -1},
    {"scale down to 3: the victim's claims are deleted with it", OP_PATCH,
     "{\"spec\":{\"replicas\":3}}", 3, -1},
    {"set scaleStrategy.disablePVCReuse", OP_PATCH,
     "{\"spec\":{\"scaleStrategy\":{\"disablePVCReuse\":true}}}", 3, -1},
    {"delete a pod by hand: its claims leave with it, new ones for the new "
     "pod",
     OP_DELETE_POD, NULL, 3, -1},
    {"scale down to 2: the victim's claims are handed to it", OP_PATCH,
     "{\"spec\":{\"replicas\":2}}", 2, -1},
    {NULL, 0, NULL, 0, 0}};

/* In-place rollout (§2): same pod names, each container restarted once. */
static const struct step inplace[] = {
    {"create CloneSet default/web: 4 replicas, InPlaceIfPossible", OP_APPLY,
     "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":\"CloneSet\","
     "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{"
     "\"replicas\":4,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
     "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
     "\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.25\","
     "\"ports\":[{\"containerPort\":80}]}]}},\"updateStrategy\":{\"type\":"
     "\"InPlaceIfPossible\",\"maxUnavailable\":1}}}",
     4, -1},
    {"roll out nginx:1.26 in place (pods keep their names)", OP_PATCH,
     "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"nginx\","
     "\"image\":\"nginx:1.26\",\"ports\":[{\"containerPort\":80}]}]}}}}",
     4, -1},
    {NULL, 0, NULL, 0, 0}};

const char *const lb_sim_scenarios[] = {"demo", "scale",   "rollout", "mini",
                                        "pvc",  "inplace", NULL};

static const struct step *find(const char *name) {
  return !strcmp(name, "demo")      ? demo
         : !strcmp(name, "scale")   ? scale
         : !strcmp(name, "rollout") ? rollout
         : !strcmp(name, "mini")    ? mini
         : !strcmp(name, "pvc")     ? pvc
         : !strcmp(name, "inplace") ? inplace
                                    : NULL;
}

int lb_simrun_steps(const char *name) {
  const struct step *s = find(name);
  int n = 0;
  if (!s)
    return -1;
  while (s[n].desc)
    n++;
  return n;
}

void lb_simrun_init(struct lb_simrun *d, struct lb_sim *sim,
                    struct lb_runner *run) {
  memset(d, 0, sizeof *d);
  d->sim = sim;
  d->run = run;
  d->t0 = lb_sim_now(sim);
  d->deadline_ms = 600000;
  lb_strlcpy(d->rv, "0", sizeof d->rv);
}

struct cb_ctx {
  struct lb_simrun *d;
  int source;
  int rc;
  struct lb_relist rl[LB_KIND__COUNT]; /* LIST: one snapshot per kind */
};

static void watch_cb(void *ctx, int type, char *body, size_t len,
                     int64_t at_ms) {
  struct cb_ctx *c = ctx;
  struct lb_event ev;
  int rc;
  if (c->rc) {
    free(body);
    return;
  }
  lb_event_init(&ev);
  ev.source = c->source;
  ev.type = type;
  ev.at_ms = at_ms;
  rc = lb_event_prepare(&ev, body, len);
  if (rc) {
    lb_event_release(&ev);
    if (rc != LB_EPARSE)
      c->rc = rc;
    return;
  }
  if (c->source == LB_SRC_LIST) {
    int kind = lb_kind_of(ev.api_group, ev.kind);
    if (!kind) { /* the simulator holds nothing else a reducer reads */
      lb_event_release(&ev);
      return;
    }
    c->rc = lb_relist_item(c->d->run, &c->rl[kind], &ev);
    return;
  }
  c->rc = lb_runner_push(c->d->run, &ev);
}

static int drain(struct lb_simrun *d) {
  struct cb_ctx c;
  int rc;
  memset(&c, 0, sizeof c);
  c.d = d;
  c.source = LB_SRC_WATCH;
  rc = lb_sim_watch(d->sim, d->rv, sizeof d->rv, watch_cb, &c);
  if (rc == LB_EGONE)
    return lb_simrun_resync(d);
  return rc ? rc : c.rc;
}

int lb_simrun_resync(struct lb_simrun *d) {
  struct cb_ctx c;
  int64_t now = lb_sim_now(d->sim);
  int rc = 0;
  memset(&c, 0, sizeof c);
  c.d = d;
  c.source = LB_SRC_LIST;
  for (int k = 1; k < LB_KIND__COUNT && !rc; k++)
    rc = lb_relist_begin(&c.rl[k], lb_kind_group(k), lb_kind_name(k));
  if (!rc)
    rc = lb_sim_list(d->sim, d->rv, sizeof d->rv, watch_cb, &c);
  if (!rc)
    rc = c.rc;
  for (int k = 1; k < LB_KIND__COUNT && !rc; k++)
    rc = lb_relist_end(d->run, &c.rl[k], now);
  for (int k = 1; k < LB_KIND__COUNT; k++)
    lb_relist_release(&c.rl[k]);
  if (!rc)
    rc = lb_runner_redo_inflight(d->run);
  if (!rc)
    rc = lb_runner_flush(d->run);
  return rc;
}

/* Observed truth from the simulated cluster. */
struct seen {
  int pods, ready, updated, status_ok;
  char update_rev[256];
};

static void observe(struct lb_simrun *d, struct seen *s) {
  char *cs = lb_sim_get(d->sim, "apps.kruise.io", "CloneSet", "default", "web");
  struct json_object *root = cs ? json_tokener_parse(cs) : NULL, *st, *meta, *v;
  memset(s, 0, sizeof *s);
  if (root && json_object_object_get_ex(root, "status", &st) &&
      json_object_object_get_ex(st, "updateRevision", &v))
    lb_strlcpy(s->update_rev, json_object_get_string(v), sizeof s->update_rev);
  lb_sim_count_pods(d->sim, "default", &s->ready, "controller-revision-hash",
                    s->update_rev, &s->updated);
  s->pods = lb_sim_count_pods(d->sim, "default", NULL, NULL, NULL, NULL);
  if (root && json_object_object_get_ex(root, "status", &st) &&
      json_object_object_get_ex(root, "metadata", &meta)) {
    struct json_object *g, *og, *r, *rr, *u;
    s->status_ok = json_object_object_get_ex(meta, "generation", &g) &&
                   json_object_object_get_ex(st, "observedGeneration", &og) &&
                   json_object_get_int64(g) == json_object_get_int64(og) &&
                   json_object_object_get_ex(st, "replicas", &r) &&
                   json_object_get_int(r) == s->pods &&
                   json_object_object_get_ex(st, "readyReplicas", &rr) &&
                   json_object_get_int(rr) == s->ready &&
                   json_object_object_get_ex(st, "updatedReplicas", &u) &&
                   json_object_get_int(u) == s->updated;
  }
  json_object_put(root);
  free(cs);
}

static int done(const struct step *st, const struct seen *s) {
  int want_updated = st->want_updated < 0 ? st->want_pods : st->want_updated;
  return s->pods == st->want_pods && s->ready == st->want_pods &&
         s->updated == want_updated && s->status_ok;
}

/* The first live pod of default/ by name (OP_DELETE_POD's victim). */
struct first_pod {
  char name[256];
};
static void first_pod_cb(void *ctx, int type, char *body, size_t len,
                         int64_t at_ms) {
  struct first_pod *f = ctx;
  struct json_object *o = json_tokener_parse(body), *k, *m, *n, *dt;
  (void)type;
  (void)len;
  (void)at_ms;
  if (o && json_object_object_get_ex(o, "kind", &k) &&
      !strcmp(json_object_get_string(k), "Pod") &&
      json_object_object_get_ex(o, "metadata", &m) &&
      !json_object_object_get_ex(m, "deletionTimestamp", &dt) &&
      json_object_object_get_ex(m, "name", &n) &&
      (!*f->name || strcmp(json_object_get_string(n), f->name) < 0))
    lb_strlcpy(f->name, json_object_get_string(n), sizeof f->name);
  json_object_put(o);
  free(body);
}

static int user_op(struct lb_simrun *d, const struct step *st, char **err) {
  if (st->op == OP_DELETE_POD) {
    struct first_pod f = {""};
    char rv[32];
    int rc = lb_sim_list(d->sim, rv, sizeof rv, first_pod_cb, &f);
    if (rc || !*f.name)
      return rc ? rc : LB_ENOENT;
    return lb_sim_delete(d->sim, "", "Pod", "default", f.name, err);
  }
  if (st->op == OP_APPLY)
    return lb_sim_apply(d->sim, st->arg, err);
  if (st->op == OP_PATCH)
    return lb_sim_patch(d->sim, "apps.kruise.io", "CloneSet", "default", "web",
                        "", st->arg, err);
  return 0;
}

int lb_simrun_scenario(struct lb_simrun *d, const char *name, int from,
                       char *msg, size_t msglen) {
  const struct step *steps = find(name);
  int rc;
  if (!steps) {
    snprintf(msg, msglen,
             "unknown scenario '%s' (try demo, scale, rollout, mini, pvc, "
             "inplace)",
             name);
    return LB_EINVAL;
  }
  for (int i = from; steps[i].desc; i++) {
    const struct step *st = &steps[i];
    char *err = NULL;
    struct seen s, last;
    int64_t start = lb_sim_now(d->sim);
    memset(&last, -1, sizeof last);
    if (d->progress)
      fprintf(d->progress, "[+%7.1fs] step %d: %s\n",
              (double)(start - d->t0) / 1000.0, i + 1, st->desc);
    if ((rc = user_op(d, st, &err))) {
      snprintf(msg, msglen, "step %d: %s", i + 1, err ? err : lb_strerror(rc));
      free(err);
      return rc;
    }
    for (;;) {
      int64_t now, next, wake;
      if ((rc = drain(d)) || (rc = lb_runner_flush(d->run))) {
        snprintf(msg, msglen, "step %d: pipeline error: %s", i + 1,
                 lb_strerror(rc));
        return rc;
      }
      observe(d, &s);
      if (d->progress && (s.pods != last.pods || s.ready != last.ready ||
                          s.updated != last.updated))
        fprintf(d->progress,
                "[+%7.1fs]   pods %2d  ready %2d  updated %2d%s%s%s\n",
                (double)(lb_sim_now(d->sim) - d->t0) / 1000.0, s.pods, s.ready,
                s.updated, *s.update_rev ? "  (update revision " : "",
                *s.update_rev ? s.update_rev : "", *s.update_rev ? ")" : "");
      last = s;
      if (done(st, &s))
        break;
      now = lb_sim_now(d->sim);
      if (now - start > d->deadline_ms) {
        snprintf(msg, msglen,
                 "step %d (%s) did not finish within %llds of virtual time: "
                 "pods %d ready %d updated %d, status %s",
                 i + 1, st->desc, (long long)d->deadline_ms / 1000, s.pods,
                 s.ready, s.updated, s.status_ok ? "current" : "stale");
        return LB_EAGAIN;
      }
      next = lb_sim_next_due(d->sim);
      wake = lb_engine_next_wakeup(d->run->e);
      if (wake && wake <= now && now > d->last_tick) {
        d->last_tick = now;
        if ((rc = lb_runner_tick(d->run, now)))
          return rc;
        continue;
      }
      if (wake && wake <= now)
        wake = now + 1; /* already ticked at this instant */
      if (wake && wake < next)
        next = wake;
      if (next == INT64_MAX) /* idle: let a second pass by */
        next = now + 1000;
      lb_sim_advance(d->sim, next);
    }
    d->step = i + 1;
  }
  return 0;
}
