/* test_sim.c — the embedded simulated cluster (adapters/sim.h). */
#include <json-c/json.h>

#include "../adapters/sim.h"
#include "../engine/decision.h"
#include "../engine/err.h"
#include "../engine/event.h"
#include "../engine/util.h"
#include "test.h"

/* ---- helpers ---------------------------------------------------------- */

struct ev {
  int type;
  char *body;
  size_t len;
  int64_t at;
};

struct evs {
  struct ev v[8192];
  size_t n;
};

static void collect(void *ctx, int type, char *body, size_t len,
                    int64_t at_ms) {
  struct evs *e = ctx;
  if (e->n == LB_ARRAY_SIZE(e->v)) {
    free(body);
    return;
  }
  e->v[e->n++] = (struct ev){type, body, len, at_ms};
}

static void evs_release(struct evs *e) {
  for (size_t i = 0; i < e->n; i++)
    free(e->v[i].body);
  e->n = 0;
}

struct outs {
  int64_t id[256];
  int status[256];
  char *body[256];
  int64_t at[256];
  size_t n;
};

static void on_out(void *ctx, const struct lb_action *a, struct lb_outcome *o) {
  struct outs *s = ctx;
  ASSERT_EQ_INT(a->id, o->action_id);
  if (s->n == 256) {
    free(o->body);
    return;
  }
  s->id[s->n] = o->action_id;
  s->status[s->n] = o->http_status;
  s->body[s->n] = o->body;
  s->at[s->n] = o->at_ms;
  s->n++;
}

static void outs_release(struct outs *s) {
  for (size_t i = 0; i < s->n; i++)
    free(s->body[i]);
  s->n = 0;
}

/* Value at a dotted path ("status.phase", "spec.containers.0.image") as a
 * string (caller frees), or NULL. */
static char *jget(const char *json, const char *path) {
  json_object *root = json ? json_tokener_parse(json) : NULL, *cur = root;
  char buf[256];
  char *out = NULL;
  lb_strlcpy(buf, path, sizeof buf);
  char *save = buf;
  while (cur && save) {
    char *dot = strchr(save, '.');
    if (dot)
      *dot = '\0';
    if (json_object_is_type(cur, json_type_array)) {
      cur = json_object_array_get_idx(cur, (size_t)atoi(save));
    } else if (!json_object_object_get_ex(cur, save, &cur)) {
      cur = NULL;
    }
    save = dot ? dot + 1 : NULL;
  }
  if (cur)
    out = lb_strdup(json_object_is_type(cur, json_type_string)
                        ? json_object_get_string(cur)
                        : json_object_to_json_string_ext(
                              cur, JSON_C_TO_STRING_PLAIN |
                                       JSON_C_TO_STRING_NOSLASHESCAPE));
  else if (root && json_object_is_type(root, json_type_object) && !cur)
    out = NULL;
  json_object_put(root);
  return out;
}

/* Condition status of a pod ("True"/"False"), or "" (static buffer). */
static const char *cond(const char *json, const char *type) {
  static char res[16];
  res[0] = '\0';
  json_object *root = json_tokener_parse(json), *st, *cs;
  if (json_object_object_get_ex(root, "status", &st) &&
      json_object_object_get_ex(st, "conditions", &cs)) {
    for (size_t i = 0; i < json_object_array_length(cs); i++) {
      json_object *c = json_object_array_get_idx(cs, i), *t, *v;
      if (json_object_object_get_ex(c, "type", &t) &&
          !strcmp(json_object_get_string(t), type) &&
          json_object_object_get_ex(c, "status", &v))
        lb_strlcpy(res, json_object_get_string(v), sizeof res);
    }
  }
  json_object_put(root);
  return res;
}

static int path_is(const char *json, const char *path, const char *want) {
  char *v = jget(json, path);
  int ok = v && !strcmp(v, want);
  free(v);
  return ok;
}

static int has_path(const char *json, const char *path) {
  char *v = jget(json, path);
  free(v);
  return v != NULL;
}

static int pod_exists(struct lb_sim *s, const char *name) {
  char *p = lb_sim_get(s, "", "Pod", "default", name);
  free(p);
  return p != NULL;
}

static void opts_fixed(struct lb_sim_opts *o) {
  lb_sim_opts_init(o);
  o->seed = 42;
  o->schedule_ms[0] = 10, o->schedule_ms[1] = 20;
  o->start_ms_[0] = 100, o->start_ms_[1] = 200;
  o->ready_ms[0] = 300, o->ready_ms[1] = 400;
  o->restart_ms[0] = 50, o->restart_ms[1] = 60;
  o->terminate_ms[0] = 70, o->terminate_ms[1] = 80;
}

static const char POD[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
    "\"namespace\":\"default\",\"labels\":{\"app\":\"web\"}%s},\"spec\":{"
    "\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.25\",\"ports\":[{"
    "\"containerPort\":80,\"protocol\":\"TCP\"}]}]%s}}";

static void apply_pod(struct lb_sim *s, const char *name, const char *meta,
                      const char *spec) {
  char buf[2048], *err = NULL;
  snprintf(buf, sizeof buf, POD, name, meta ? meta : "", spec ? spec : "");
  int rc = lb_sim_apply(s, buf, &err);
  if (rc)
    lb_test_fail(__FILE__, __LINE__, "apply %s: %s (%s)", name, lb_err_name(rc),
                 err ? err : "");
  free(err);
}

static char *get_pod(struct lb_sim *s, const char *name) {
  return lb_sim_get(s, "", "Pod", "default", name);
}

/* Advances one due step at a time until pred holds (or limit); returns the
 * virtual time at which it first held, or -1. */
static int64_t run_until(struct lb_sim *s, const char *name,
                         int (*pred)(const char *), int64_t limit) {
  for (;;) {
    char *p = get_pod(s, name);
    int ok = p && pred(p);
    free(p);
    if (ok)
      return lb_sim_now(s);
    int64_t due = lb_sim_next_due(s);
    if (due == INT64_MAX || due > limit)
      return -1;
    lb_sim_advance(s, due);
  }
}

static int is_scheduled(const char *p) {
  return path_is(p, "spec.nodeName", "sim-node-0") ||
         path_is(p, "spec.nodeName", "sim-node-1") ||
         path_is(p, "spec.nodeName", "sim-node-2");
}
static int is_running(const char *p) {
  return path_is(p, "status.phase", "Running");
}
static int is_ready(const char *p) { return !strcmp(cond(p, "Ready"), "True"); }
static int restarted(const char *p) {
  return path_is(p, "status.containerStatuses.0.restartCount", "1") &&
         path_is(p, "status.containerStatuses.0.started", "true");
}

static struct lb_action act(int64_t id, int verb, const char *kind,
                            const char *name, const char *sub, const char *uid,
                            const char *body) {
  struct lb_action a = {0};
  a.id = id;
  a.verb = verb;
  a.api_group = (char *)"";
  a.kind = (char *)kind;
  a.ns = (char *)"default";
  a.name = (char *)name;
  a.sub = (char *)(sub ? sub : "");
  a.uid = (char *)(uid ? uid : "");
  a.body = (char *)body;
  return a;
}

/* ---- tests ------------------------------------------------------------ */

TEST(sim_pod_lifecycle_ready) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  opts_fixed(&o);
  ASSERT_OK(lb_sim_new(&o, &s));
  int64_t t0 = lb_sim_now(s);
  apply_pod(s, "web-0", NULL, NULL);
  char *p = get_pod(s, "web-0");
  ASSERT(path_is(p, "status.phase", "Pending"));
  ASSERT(path_is(p, "metadata.generation", "1"));
  ASSERT(path_is(p, "metadata.creationTimestamp", "2026-01-01T00:00:00Z"));
  char *uid = jget(p, "metadata.uid");
  ASSERT_EQ_INT(strlen(uid), 36);
  free(uid);
  free(p);

  int64_t ts = run_until(s, "web-0", is_scheduled, t0 + 100000);
  ASSERT(ts >= t0 + 10 && ts <= t0 + 20);
  p = get_pod(s, "web-0");
  ASSERT_EQ_STR(cond(p, "PodScheduled"), "True");
  ASSERT(path_is(p, "status.hostIP", "10.0.0.10"));
  free(p);

  int64_t tr = run_until(s, "web-0", is_running, t0 + 100000);
  ASSERT(tr - ts >= 100 && tr - ts <= 200);
  p = get_pod(s, "web-0");
  ASSERT_EQ_STR(cond(p, "Initialized"), "True");
  ASSERT_EQ_STR(cond(p, "ContainersReady"), "False");
  ASSERT_EQ_STR(cond(p, "Ready"), "False");
  ASSERT(path_is(p, "status.containerStatuses.0.ready", "false"));
  ASSERT(path_is(p, "status.containerStatuses.0.started", "true"));
  ASSERT(path_is(p, "status.containerStatuses.0.restartCount", "0"));
  ASSERT(path_is(p, "status.containerStatuses.0.name", "nginx"));
  char *iid = jget(p, "status.containerStatuses.0.imageID");
  ASSERT(!strncmp(iid, "docker.io/library/nginx@sha256:", 31));
  ASSERT_EQ_INT(strlen(iid), 31 + 64);
  free(iid);
  char *cid = jget(p, "status.containerStatuses.0.containerID");
  ASSERT(!strncmp(cid, "containerd://", 13));
  ASSERT_EQ_INT(strlen(cid), 13 + 64);
  free(cid);
  char *ip = jget(p, "status.podIP");
  ASSERT(!strncmp(ip, "10.244.", 7));
  free(ip);
  ASSERT(has_path(p, "status.containerStatuses.0.state.running.startedAt"));
  free(p);

  int64_t tready = run_until(s, "web-0", is_ready, t0 + 100000);
  ASSERT(tready - tr >= 300 && tready - tr <= 400);
  p = get_pod(s, "web-0");
  ASSERT_EQ_STR(cond(p, "ContainersReady"), "True");
  ASSERT(path_is(p, "status.containerStatuses.0.ready", "true"));
  free(p);
  int ready = 0;
  ASSERT_EQ_INT(lb_sim_count_pods(s, "default", &ready, NULL, NULL, NULL), 1);
  ASSERT_EQ_INT(ready, 1);
  ASSERT_EQ_INT(lb_sim_next_due(s), INT64_MAX);
  lb_sim_free(s);
}

TEST(sim_scheduling_spreads_least_loaded) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  opts_fixed(&o);
  ASSERT_OK(lb_sim_new(&o, &s));
  char name[16];
  for (int i = 0; i < 6; i++) {
    snprintf(name, sizeof name, "p-%d", i);
    apply_pod(s, name, NULL, NULL);
  }
  lb_sim_advance(s, lb_sim_now(s) + 10000);
  int per[3] = {0};
  for (int i = 0; i < 6; i++) {
    snprintf(name, sizeof name, "p-%d", i);
    char *p = get_pod(s, name), *n = jget(p, "spec.nodeName");
    ASSERT(n && !strncmp(n, "sim-node-", 9));
    per[n[9] - '0']++;
    free(n);
    free(p);
  }
  ASSERT_EQ_INT(per[0], 2);
  ASSERT_EQ_INT(per[1], 2);
  ASSERT_EQ_INT(per[2], 2);
  /* required node affinity on metadata.name */
  apply_pod(s, "ds-1", NULL,
            ",\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgno"
            "redDuringExecution\":{\"nodeSelectorTerms\":[{\"matchFields\":[{"
            "\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":["
            "\"sim-node-2\"]}]}]}}}");
  apply_pod(s, "ds-x", NULL, ",\"nodeName\":\"other-node\"");
  lb_sim_advance(s, lb_sim_now(s) + 10000);
  char *p = get_pod(s, "ds-1");
  ASSERT(path_is(p, "spec.nodeName", "sim-node-2"));
  ASSERT(is_ready(p));
  free(p);
  p = get_pod(s, "ds-x");
  ASSERT(path_is(p, "status.phase", "Pending"));
  free(p);
  lb_sim_free(s);
}

TEST(sim_readiness_gates_hold_ready) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  opts_fixed(&o);
  ASSERT_OK(lb_sim_new(&o, &s));
  apply_pod(s, "g", NULL,
            ",\"readinessGates\":[{\"conditionType\":\"InPlaceUpdateReady\"}]");
  lb_sim_advance(s, lb_sim_now(s) + 5000);
  char *p = get_pod(s, "g");
  ASSERT_EQ_STR(cond(p, "ContainersReady"), "True");
  ASSERT_EQ_STR(cond(p, "Ready"), "False");
  ASSERT_CONTAINS(p, "ReadinessGatesNotReady");
  free(p);
  char *err = NULL;
  ASSERT_OK(lb_sim_patch(s, "", "Pod", "default", "g", "status",
                         "{\"status\":{\"conditions\":[{\"type\":"
                         "\"InPlaceUpdateReady\",\"status\":\"False\"}]}}",
                         &err));
  p = get_pod(s, "g");
  ASSERT_EQ_STR(cond(p, "Ready"), "False");
  ASSERT_EQ_STR(cond(p, "PodScheduled"), "True"); /* kubelet re-adds its own */
  free(p);
  /* merge patch replaces the list: send the gate condition True */
  ASSERT_OK(lb_sim_patch(s, "", "Pod", "default", "g", "status",
                         "{\"status\":{\"conditions\":[{\"type\":"
                         "\"InPlaceUpdateReady\",\"status\":\"True\"}]}}",
                         &err));
  p = get_pod(s, "g");
  ASSERT_EQ_STR(cond(p, "Ready"), "True");
  ASSERT_EQ_STR(cond(p, "InPlaceUpdateReady"), "True");
  ASSERT_EQ_STR(cond(p, "ContainersReady"), "True");
  free(p);
  int ready;
  lb_sim_count_pods(s, "default", &ready, NULL, NULL, NULL);
  ASSERT_EQ_INT(ready, 1);
  lb_sim_free(s);
}

TEST(sim_image_change_restarts_container) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  opts_fixed(&o);
  ASSERT_OK(lb_sim_new(&o, &s));
  apply_pod(s, "web-0", NULL, NULL);
  lb_sim_advance(s, lb_sim_now(s) + 5000);
  char *p = get_pod(s, "web-0");
  ASSERT(is_ready(p));
  char *cid0 = jget(p, "status.containerStatuses.0.containerID");
  char *iid0 = jget(p, "status.containerStatuses.0.imageID");
  free(p);
  char *err = NULL;
  ASSERT_OK(lb_sim_patch(s, "", "Pod", "default", "web-0", "",
                         "{\"spec\":{\"containers\":[{\"name\":\"nginx\","
                         "\"image\":\"nginx:1.26\"}]}}",
                         &err));
  int64_t t_patch = lb_sim_now(s);
  p = get_pod(s, "web-0");
  ASSERT_EQ_STR(cond(p, "Ready"), "False"); /* immediately */
  ASSERT(path_is(p, "status.containerStatuses.0.ready", "false"));
  ASSERT(path_is(p, "status.containerStatuses.0.image", "nginx:1.25"));
  ASSERT(path_is(p, "metadata.generation", "1")); /* pods stay at 1 */
  free(p);
  int64_t t_run = run_until(s, "web-0", restarted, t_patch + 10000);
  ASSERT(t_run - t_patch >= 50 && t_run - t_patch <= 60);
  p = get_pod(s, "web-0");
  ASSERT(path_is(p, "status.containerStatuses.0.ready", "false"));
  ASSERT(path_is(p, "status.containerStatuses.0.image", "nginx:1.26"));
  char *cid1 = jget(p, "status.containerStatuses.0.containerID");
  char *iid1 = jget(p, "status.containerStatuses.0.imageID");
  ASSERT(strcmp(cid0, cid1) != 0);
  ASSERT(strcmp(iid0, iid1) != 0);
  char *last = jget(p, "status.containerStatuses.0.lastState.terminated."
                       "containerID");
  ASSERT_EQ_STR(last, cid0);
  free(last);
  free(p);
  int64_t t_ready = run_until(s, "web-0", is_ready, t_run + 10000);
  ASSERT(t_ready - t_run >= 300 && t_ready - t_run <= 400);
  p = get_pod(s, "web-0");
  ASSERT(path_is(p, "status.containerStatuses.0.restartCount", "1"));
  free(p);
  free(cid0);
  free(cid1);
  free(iid0);
  free(iid1);
  lb_sim_free(s);
}

TEST(sim_actions_execute_after_latency_in_fifo_order) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  struct outs out = {0};
  opts_fixed(&o);
  o.action_ms = 7;
  ASSERT_OK(lb_sim_new(&o, &s));
  struct lb_actuator *a = lb_sim_actuator(s);
  a->on_outcome = on_out;
  a->ctx = &out;
  ASSERT_EQ_STR(a->name, "sim");
  char body[512];
  snprintf(body, sizeof body, POD, "x", "", "");
  int64_t t0 = lb_sim_now(s);
  ASSERT_EQ_INT(lb_sim_next_due(s), INT64_MAX);
  struct lb_action c = act(1, LB_VERB_CREATE, "Pod", "x", NULL, NULL, body);
  ASSERT_OK(a->submit(a, &c));
  struct lb_action pt = act(2, LB_VERB_PATCH, "Pod", "x", NULL, NULL,
                            "{\"metadata\":{\"labels\":{\"step\":\"two\"}}}");
  ASSERT_OK(a->submit(a, &pt));
  ASSERT_EQ_INT(lb_sim_next_due(s), t0 + 7);
  lb_sim_advance(s, t0 + 6);
  ASSERT_EQ_INT(out.n, 0);
  lb_sim_advance(s, t0 + 7);
  ASSERT_EQ_INT(out.n, 2);
  ASSERT_EQ_INT(out.id[0], 1);
  ASSERT_EQ_INT(out.status[0], 201);
  ASSERT_EQ_INT(out.at[0], t0 + 7);
  ASSERT_EQ_INT(out.id[1], 2);
  ASSERT_EQ_INT(out.status[1], 200);
  ASSERT(path_is(out.body[1], "metadata.labels.step", "two"));
  ASSERT_EQ_INT(lb_sim_effects(s, "create", "Pod", "default", "x"), 1);
  ASSERT_EQ_INT(lb_sim_effects(s, "patch", "Pod", "default", "x"), 1);
  ASSERT_EQ_INT(lb_sim_total(s, "create"), 1);
  outs_release(&out);
  lb_sim_free(s);
}

TEST(sim_create_duplicate_409_counted_once) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  struct outs out = {0};
  opts_fixed(&o);
  ASSERT_OK(lb_sim_new(&o, &s));
  struct lb_actuator *a = lb_sim_actuator(s);
  a->on_outcome = on_out;
  a->ctx = &out;
  char body[512];
  snprintf(body, sizeof body, POD, "dup", "", "");
  struct lb_action c1 = act(1, LB_VERB_CREATE, "Pod", "dup", NULL, NULL, body);
  struct lb_action c2 = act(2, LB_VERB_CREATE, "Pod", "dup", NULL, NULL, body);
  ASSERT_OK(a->submit(a, &c1));
  ASSERT_OK(a->submit(a, &c2));
  lb_sim_advance(s, lb_sim_now(s) + 100);
  ASSERT_EQ_INT(out.n, 2);
  ASSERT_EQ_INT(out.status[0], 201);
  ASSERT_EQ_INT(out.status[1], 409);
  ASSERT(path_is(out.body[1], "kind", "Status"));
  ASSERT(path_is(out.body[1], "reason", "AlreadyExists"));
  ASSERT(path_is(out.body[1], "code", "409"));
  ASSERT(path_is(out.body[1], "status", "Failure"));
  ASSERT_CONTAINS(out.body[1], "pods \\\"dup\\\" already exists");
  ASSERT_EQ_INT(lb_sim_effects(s, "create", "Pod", "default", "dup"), 1);
  /* user-side apply of an existing object is an update, not an error */
  outs_release(&out);
  lb_sim_free(s);
}

TEST(sim_delete_uid_precondition_and_not_found) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  struct outs out = {0};
  opts_fixed(&o);
  ASSERT_OK(lb_sim_new(&o, &s));
  struct lb_actuator *a = lb_sim_actuator(s);
  a->on_outcome = on_out;
  a->ctx = &out;
  apply_pod(s, "victim", NULL, NULL);
  char *p = get_pod(s, "victim"), *uid = jget(p, "metadata.uid");
  free(p);
  struct lb_action d1 = act(1, LB_VERB_DELETE, "Pod", "victim", NULL,
                            "00000000-0000-4000-8000-000000000000", NULL);
  struct lb_action d2 =
      act(2, LB_VERB_DELETE, "Pod", "victim", NULL, uid, NULL);
  struct lb_action d3 =
      act(3, LB_VERB_DELETE, "Pod", "victim", NULL, uid, NULL);
  ASSERT_OK(a->submit(a, &d1));
  ASSERT_OK(a->submit(a, &d2));
  ASSERT_OK(a->submit(a, &d3));
  lb_sim_advance(s, lb_sim_now(s) + 5);
  ASSERT_EQ_INT(out.n, 3);
  ASSERT_EQ_INT(out.status[0], 409);
  ASSERT(path_is(out.body[0], "reason", "Conflict"));
  ASSERT_CONTAINS(out.body[0], "the UID in the precondition");
  ASSERT_EQ_INT(out.status[1], 200); /* unscheduled: gone at once */
  ASSERT_EQ_INT(out.status[2], 404);
  ASSERT(path_is(out.body[2], "reason", "NotFound"));
  ASSERT_EQ_INT(lb_sim_effects(s, "delete", "Pod", "default", "victim"), 1);
  ASSERT(!pod_exists(s, "victim"));
  free(uid);
  outs_release(&out);
  lb_sim_free(s);
}

TEST(sim_graceful_delete_of_scheduled_pod) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  struct evs *e = calloc(1, sizeof *e);
  char rv[32] = "";
  opts_fixed(&o);
  ASSERT_OK(lb_sim_new(&o, &s));
  apply_pod(s, "bye", NULL, NULL);
  lb_sim_advance(s, lb_sim_now(s) + 5000);
  ASSERT_OK(lb_sim_watch(s, rv, sizeof rv, collect, e));
  evs_release(e);
  char *err = NULL;
  ASSERT_OK(lb_sim_delete(s, "", "Pod", "default", "bye", &err));
  int64_t td = lb_sim_now(s);
  char *p = get_pod(s, "bye");
  ASSERT(p != NULL);
  char *dts = jget(p, "metadata.deletionTimestamp");
  ASSERT(dts != NULL);
  free(dts);
  ASSERT(path_is(p, "metadata.deletionGracePeriodSeconds", "30"));
  free(p);
  ASSERT_EQ_INT(lb_sim_count_pods(s, "default", NULL, NULL, NULL, NULL), 0);
  /* deleting again is a no-op answer */
  ASSERT_OK(lb_sim_delete(s, "", "Pod", "default", "bye", &err));
  lb_sim_advance(s, td + 69);
  ASSERT(pod_exists(s, "bye"));
  lb_sim_advance(s, td + 80);
  ASSERT(!pod_exists(s, "bye"));
  ASSERT_OK(lb_sim_watch(s, rv, sizeof rv, collect, e));
  ASSERT_EQ_INT(e->n, 2);
  ASSERT_EQ_INT(e->v[0].type, LB_EV_MODIFIED);
  ASSERT_EQ_INT(e->v[1].type, LB_EV_DELETED);
  ASSERT(e->v[1].at >= td + 70 && e->v[1].at <= td + 80);
  ASSERT_CONTAINS(e->v[1].body, "deletionTimestamp");
  ASSERT_EQ_INT(lb_sim_delete(s, "", "Pod", "default", "bye", &err), LB_ENOENT);
  ASSERT_CONTAINS(err, "not found");
  free(err);
  evs_release(e);
  free(e);
  lb_sim_free(s);
}

TEST(sim_merge_patch_semantics) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  opts_fixed(&o);
  ASSERT_OK(lb_sim_new(&o, &s));
  char *err = NULL;
  ASSERT_OK(lb_sim_apply(
      s,
      "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
      "\"cm\",\"labels\":{\"a\":\"1\",\"b\":\"2\"}},\"data\":{\"k\":\"v\","
      "\"nested\":\"x\"},\"extra\":{\"deep\":{\"x\":1,\"y\":2},\"list\":[1,2,"
      "3]}}",
      &err));
  ASSERT_OK(lb_sim_patch(s, "", "ConfigMap", "default", "cm", "",
                         "{\"metadata\":{\"labels\":{\"a\":null,\"c\":\"3\"}},"
                         "\"extra\":{\"deep\":{\"y\":null,\"z\":3},\"list\":["
                         "9]},\"data\":null}",
                         &err));
  char *c = lb_sim_get(s, "", "ConfigMap", "default", "cm");
  char *labels = jget(c, "metadata.labels");
  ASSERT_EQ_STR(labels, "{\"b\":\"2\",\"c\":\"3\"}");
  char *extra = jget(c, "extra");
  ASSERT_EQ_STR(extra, "{\"deep\":{\"x\":1,\"z\":3},\"list\":[9]}");
  char *data = jget(c, "data");
  ASSERT(data == NULL);
  free(labels);
  free(extra);
  free(c);
  /* the patch cannot change identity */
  ASSERT_OK(lb_sim_patch(s, "", "ConfigMap", "default", "cm", "",
                         "{\"metadata\":{\"uid\":\"x\",\"name\":\"other\"}}",
                         &err));
  c = lb_sim_get(s, "", "ConfigMap", "default", "cm");
  ASSERT(path_is(c, "metadata.name", "cm"));
  ASSERT(!path_is(c, "metadata.uid", "x"));
  /* resourceVersion in a patch is a precondition */
  ASSERT_EQ_INT(lb_sim_patch(s, "", "ConfigMap", "default", "cm", "",
                             "{\"metadata\":{\"resourceVersion\":\"1\"},"
                             "\"x\":1}",
                             &err),
                LB_ECONFLICT);
  ASSERT_CONTAINS(err, "has been modified");
  free(err);
  err = NULL;
  /* a no-op patch writes nothing */
  char *rv0 = jget(c, "metadata.resourceVersion");
  ASSERT_OK(lb_sim_patch(s, "", "ConfigMap", "default", "cm", "",
                         "{\"metadata\":{\"labels\":{\"b\":\"2\"}}}", &err));
  char *c2 = lb_sim_get(s, "", "ConfigMap", "default", "cm");
  ASSERT(path_is(c2, "metadata.resourceVersion", rv0));
  free(rv0);
  free(c);
  free(c2);
  ASSERT_EQ_INT(
      lb_sim_patch(s, "", "ConfigMap", "default", "cm", "", "{not json", &err),
      LB_EPARSE);
  free(err);
  ASSERT_EQ_INT(
      lb_sim_patch(s, "", "ConfigMap", "default", "cm", "", "[1]", &err),
      LB_EINVAL);
  free(err);
  ASSERT_EQ_INT(
      lb_sim_patch(s, "", "ConfigMap", "default", "nope", "", "{}", &err),
      LB_ENOENT);
  free(err);
  lb_sim_free(s);
}

static const char CLONESET[] =
    "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":\"CloneSet\","
    "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{"
    "\"replicas\":%d,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
    "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
    "\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.25\"}]}}}%s}";

TEST(sim_status_subresource_isolation) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  opts_fixed(&o);
  ASSERT_OK(lb_sim_new(&o, &s));
  char buf[1024], *err = NULL;
  snprintf(buf, sizeof buf, CLONESET, 3, "");
  ASSERT_OK(lb_sim_apply(s, buf, &err));
  /* status via the main resource is ignored */
  ASSERT_OK(lb_sim_patch(s, "apps.kruise.io", "CloneSet", "default", "web", "",
                         "{\"status\":{\"replicas\":3},\"spec\":{\"paused\":"
                         "false}}",
                         &err));
  char *c = lb_sim_get(s, "apps.kruise.io", "CloneSet", "default", "web");
  ASSERT(!has_path(c, "status.replicas"));
  ASSERT(path_is(c, "spec.paused", "false"));
  free(c);
  /* spec via the status subresource is ignored */
  ASSERT_OK(lb_sim_patch(s, "apps.kruise.io", "CloneSet", "default", "web",
                         "status",
                         "{\"status\":{\"replicas\":3,\"observedGeneration\":"
                         "2},\"spec\":{\"replicas\":9}}",
                         &err));
  c = lb_sim_get(s, "apps.kruise.io", "CloneSet", "default", "web");
  ASSERT(path_is(c, "status.replicas", "3"));
  ASSERT(path_is(c, "spec.replicas", "3"));
  free(c);
  /* apply keeps status */
  snprintf(buf, sizeof buf, CLONESET, 4, "");
  ASSERT_OK(lb_sim_apply(s, buf, &err));
  c = lb_sim_get(s, NULL, "CloneSet", "default", "web");
  ASSERT(path_is(c, "status.replicas", "3"));
  ASSERT(path_is(c, "spec.replicas", "4"));
  free(c);
  /* a ConfigMap has no status subresource */
  ASSERT_OK(lb_sim_apply(s,
                         "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                         "\"metadata\":{\"name\":\"cm\"}}",
                         &err));
  ASSERT_EQ_INT(lb_sim_patch(s, "", "ConfigMap", "default", "cm", "status",
                             "{\"status\":{}}", &err),
                LB_ENOENT);
  free(err);
  lb_sim_free(s);
}

TEST(sim_generation_bump) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  opts_fixed(&o);
  ASSERT_OK(lb_sim_new(&o, &s));
  char buf[1024], *err = NULL;
  snprintf(buf, sizeof buf, CLONESET, 3, "");
  ASSERT_OK(lb_sim_apply(s, buf, &err));
  char *c = lb_sim_get(s, "apps.kruise.io", "CloneSet", "default", "web");
  ASSERT(path_is(c, "metadata.generation", "1"));
  free(c);
  ASSERT_OK(lb_sim_patch(s, "apps.kruise.io", "CloneSet", "default", "web", "",
                         "{\"metadata\":{\"labels\":{\"x\":\"y\"}}}", &err));
  ASSERT_OK(lb_sim_patch(s, "apps.kruise.io", "CloneSet", "default", "web",
                         "status", "{\"status\":{\"replicas\":1}}", &err));
  c = lb_sim_get(s, "apps.kruise.io", "CloneSet", "default", "web");
  ASSERT(path_is(c, "metadata.generation", "1"));
  free(c);
  ASSERT_OK(lb_sim_patch(s, "apps.kruise.io", "CloneSet", "default", "web", "",
                         "{\"spec\":{\"replicas\":5}}", &err));
  c = lb_sim_get(s, "apps.kruise.io", "CloneSet", "default", "web");
  ASSERT(path_is(c, "metadata.generation", "2"));
  free(c);
  snprintf(buf, sizeof buf, CLONESET, 6, "");
  ASSERT_OK(lb_sim_apply(s, buf, &err));
  c = lb_sim_get(s, "apps.kruise.io", "CloneSet", "default", "web");
  ASSERT(path_is(c, "metadata.generation", "3"));
  ASSERT(path_is(c, "status.replicas", "1"));
  ASSERT(path_is(c, "metadata.creationTimestamp", "2026-01-01T00:00:00Z"));
  free(c);
  snprintf(buf, sizeof buf, CLONESET, 6, ""); /* same again: no write */
  ASSERT_OK(lb_sim_apply(s, buf, &err));
  c = lb_sim_get(s, "apps.kruise.io", "CloneSet", "default", "web");
  ASSERT(path_is(c, "metadata.generation", "3"));
  free(c);
  lb_sim_free(s);
}

TEST(sim_watch_resume_and_gone) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  struct evs *e = calloc(1, sizeof *e);
  opts_fixed(&o);
  o.watch_window = 8;
  o.create_nodes = 0;
  ASSERT_OK(lb_sim_new(&o, &s));
  char *err = NULL, buf[256];
  for (int i = 0; i < 5; i++) {
    snprintf(buf, sizeof buf,
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{"
             "\"name\":\"cm-%d\"}}",
             i);
    ASSERT_OK(lb_sim_apply(s, buf, &err));
  }
  char rv[32] = "";
  ASSERT_OK(lb_sim_watch(s, rv, sizeof rv, collect, e));
  ASSERT_EQ_INT(e->n, 5);
  ASSERT_EQ_STR(rv, "5");
  for (size_t i = 0; i < e->n; i++) {
    ASSERT_EQ_INT(e->v[i].type, LB_EV_ADDED);
    char want[24];
    snprintf(want, sizeof want, "%zu", i + 1);
    ASSERT(path_is(e->v[i].body, "metadata.resourceVersion", want));
  }
  evs_release(e);
  ASSERT_OK(lb_sim_watch(s, rv, sizeof rv, collect, e));
  ASSERT_EQ_INT(e->n, 0);
  ASSERT_OK(lb_sim_patch(s, "", "ConfigMap", "default", "cm-1", "",
                         "{\"data\":{\"a\":\"b\"}}", &err));
  ASSERT_OK(lb_sim_delete(s, "", "ConfigMap", "default", "cm-2", &err));
  char resume[32] = "3";
  ASSERT_OK(lb_sim_watch(s, rv, sizeof rv, collect, e));
  ASSERT_EQ_INT(e->n, 2);
  ASSERT_EQ_INT(e->v[0].type, LB_EV_MODIFIED);
  ASSERT_EQ_INT(e->v[1].type, LB_EV_DELETED);
  ASSERT(path_is(e->v[1].body, "metadata.name", "cm-2"));
  ASSERT(path_is(e->v[1].body, "metadata.resourceVersion", "7"));
  ASSERT_EQ_STR(rv, "7");
  evs_release(e);
  ASSERT_OK(lb_sim_watch(s, resume, sizeof resume, collect, e));
  ASSERT_EQ_INT(e->n, 4); /* rv 4..7 */
  evs_release(e);
  for (int i = 0; i < 10; i++) {
    snprintf(buf, sizeof buf, "{\"data\":{\"n\":\"%d\"}}", i);
    ASSERT_OK(
        lb_sim_patch(s, "", "ConfigMap", "default", "cm-0", "", buf, &err));
  }
  char old[32] = "3";
  ASSERT_EQ_INT(lb_sim_watch(s, old, sizeof old, collect, e), LB_EGONE);
  ASSERT_EQ_INT(e->n, 0);
  /* rv 17 now; window 8 keeps 10..17: cursor 9 is fine, 8 is gone */
  char nine[32] = "9", eight[32] = "8";
  ASSERT_EQ_INT(lb_sim_watch(s, eight, sizeof eight, collect, e), LB_EGONE);
  ASSERT_OK(lb_sim_watch(s, nine, sizeof nine, collect, e));
  ASSERT_EQ_INT(e->n, 8);
  ASSERT_EQ_STR(nine, "17");
  evs_release(e);
  char bad[32] = "x1";
  ASSERT_EQ_INT(lb_sim_watch(s, bad, sizeof bad, collect, e), LB_EINVAL);
  /* relist */
  char lrv[32];
  ASSERT_OK(lb_sim_list(s, lrv, sizeof lrv, collect, e));
  ASSERT_EQ_STR(lrv, "17");
  ASSERT_EQ_INT(e->n, 4);
  evs_release(e);
  free(e);
  lb_sim_free(s);
}

TEST(sim_list_sorted) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  struct evs *e = calloc(1, sizeof *e);
  opts_fixed(&o);
  ASSERT_OK(lb_sim_new(&o, &s));
  const char *names[] = {"zeta", "alpha", "mid", "beta"};
  const char *nss[] = {"b", "a", "b", "a"};
  char buf[512], *err = NULL;
  for (int i = 0; i < 4; i++) {
    snprintf(buf, sizeof buf,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
             "\"%s\",\"namespace\":\"%s\"},\"spec\":{\"containers\":[{"
             "\"name\":\"c\",\"image\":\"busybox\"}]}}",
             names[i], nss[i]);
    ASSERT_OK(lb_sim_apply(s, buf, &err));
    snprintf(buf, sizeof buf,
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{"
             "\"name\":\"%s\",\"namespace\":\"%s\"}}",
             names[i], nss[i]);
    ASSERT_OK(lb_sim_apply(s, buf, &err));
  }
  char rv[32];
  ASSERT_OK(lb_sim_list(s, rv, sizeof rv, collect, e));
  ASSERT_EQ_INT(e->n, 3 + 8);
  const char *want[] = {
      "ConfigMap/a/alpha", "ConfigMap/a/beta", "ConfigMap/b/mid",
      "ConfigMap/b/zeta",  "Node//sim-node-0", "Node//sim-node-1",
      "Node//sim-node-2",  "Pod/a/alpha",      "Pod/a/beta",
      "Pod/b/mid",         "Pod/b/zeta"};
  for (size_t i = 0; i < e->n; i++) {
    char *k = jget(e->v[i].body, "kind"),
         *n = jget(e->v[i].body, "metadata.name");
    char *ns = jget(e->v[i].body, "metadata.namespace");
    char got[128];
    snprintf(got, sizeof got, "%s/%s/%s", k, ns ? ns : "", n);
    ASSERT_EQ_STR(got, want[i]);
    ASSERT_EQ_INT(e->v[i].type, LB_EV_LISTED);
    free(k);
    free(n);
    free(ns);
  }
  char expect_rv[16];
  snprintf(expect_rv, sizeof expect_rv, "%d", 3 + 8);
  ASSERT_EQ_STR(rv, expect_rv);
  evs_release(e);
  free(e);
  lb_sim_free(s);
}

TEST(sim_gc_owned_pods_on_delete) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  opts_fixed(&o);
  ASSERT_OK(lb_sim_new(&o, &s));
  char buf[1024], *err = NULL;
  snprintf(buf, sizeof buf, CLONESET, 2, "");
  ASSERT_OK(lb_sim_apply(s, buf, &err));
  char *c = lb_sim_get(s, "apps.kruise.io", "CloneSet", "default", "web");
  char *uid = jget(c, "metadata.uid");
  free(c);
  char meta[512];
  snprintf(meta, sizeof meta,
           ",\"ownerReferences\":[{\"apiVersion\":\"apps.kruise.io/v1alpha1\","
           "\"kind\":\"CloneSet\",\"name\":\"web\",\"uid\":\"%s\","
           "\"controller\":true,\"blockOwnerDeletion\":true}]",
           uid);
  apply_pod(s, "web-a", meta, NULL);
  apply_pod(s, "web-b", meta, NULL);
  apply_pod(s, "other", NULL, NULL);
  lb_sim_advance(s, lb_sim_now(s) + 5000);
  ASSERT_EQ_INT(lb_sim_count_pods(s, "default", NULL, NULL, NULL, NULL), 3);
  ASSERT_OK(
      lb_sim_delete(s, "apps.kruise.io", "CloneSet", "default", "web", &err));
  /* owned pods are terminating at once (scheduled: graceful) */
  ASSERT_EQ_INT(lb_sim_count_pods(s, "default", NULL, NULL, NULL, NULL), 1);
  lb_sim_advance(s, lb_sim_now(s) + 5000);
  ASSERT(!pod_exists(s, "web-a"));
  ASSERT(!pod_exists(s, "web-b"));
  char *p = get_pod(s, "other");
  ASSERT(p != NULL);
  free(p);
  free(uid);
  lb_sim_free(s);
}

TEST(sim_finalizers_hold_deletion) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  opts_fixed(&o);
  ASSERT_OK(lb_sim_new(&o, &s));
  char *err = NULL;
  ASSERT_OK(lb_sim_apply(s,
                         "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                         "\"metadata\":{\"name\":\"f\",\"finalizers\":["
                         "\"example.com/hold\"]}}",
                         &err));
  ASSERT_OK(lb_sim_delete(s, "", "ConfigMap", "default", "f", &err));
  char *c = lb_sim_get(s, "", "ConfigMap", "default", "f");
  ASSERT(c != NULL);
  ASSERT_CONTAINS(c, "deletionTimestamp");
  free(c);
  ASSERT_OK(lb_sim_patch(s, "", "ConfigMap", "default", "f", "",
                         "{\"metadata\":{\"finalizers\":null}}", &err));
  ASSERT(lb_sim_get(s, "", "ConfigMap", "default", "f") == NULL);
  lb_sim_free(s);
}

/* Runs a fixed scenario and returns every watch body concatenated. */
static char *scenario(uint64_t seed) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  struct outs out = {0};
  struct evs *e = calloc(1, sizeof *e);
  lb_sim_opts_init(&o);
  o.seed = seed;
  ASSERT_OK(lb_sim_new(&o, &s));
  struct lb_actuator *a = lb_sim_actuator(s);
  a->on_outcome = on_out;
  a->ctx = &out;
  char name[16], body[1024];
  for (int i = 0; i < 5; i++) {
    snprintf(name, sizeof name, "d-%d", i);
    snprintf(body, sizeof body, POD, name, "",
             i == 2 ? ",\"readinessGates\":[{\"conditionType\":\"G\"}]" : "");
    struct lb_action c =
        act(i + 1, LB_VERB_CREATE, "Pod", name, NULL, NULL, body);
    ASSERT_OK(a->submit(a, &c));
  }
  lb_sim_advance(s, lb_sim_now(s) + 3000);
  struct lb_action pt = act(10, LB_VERB_PATCH, "Pod", "d-1", NULL, NULL,
                            "{\"spec\":{\"containers\":[{\"name\":\"nginx\","
                            "\"image\":\"nginx:2\"}]}}");
  ASSERT_OK(a->submit(a, &pt));
  struct lb_action dl = act(11, LB_VERB_DELETE, "Pod", "d-3", NULL, NULL, NULL);
  ASSERT_OK(a->submit(a, &dl));
  lb_sim_advance(s, lb_sim_now(s) + 10000);
  char rv[32] = "";
  ASSERT_OK(lb_sim_watch(s, rv, sizeof rv, collect, e));
  struct lb_buf b = LB_BUF_INIT;
  for (size_t i = 0; i < e->n; i++) {
    lb_buf_addf(&b, "%d %lld ", e->v[i].type, (long long)e->v[i].at);
    lb_buf_add(&b, e->v[i].body, e->v[i].len);
    lb_buf_adds(&b, "\n");
  }
  for (size_t i = 0; i < out.n; i++)
    lb_buf_addf(&b, "out %lld %d %s\n", (long long)out.id[i], out.status[i],
                out.body[i]);
  evs_release(e);
  free(e);
  outs_release(&out);
  lb_sim_free(s);
  return lb_buf_detach(&b, NULL);
}

TEST(sim_determinism_same_seed_same_bytes) {
  char *a = scenario(7), *b = scenario(7), *c = scenario(8);
  ASSERT(a && b && c);
  ASSERT(strlen(a) > 10000);
  ASSERT_EQ_INT(strlen(a), strlen(b));
  ASSERT(strcmp(a, b) == 0);
  ASSERT(strcmp(a, c) != 0);
  ASSERT_CONTAINS(a, "\"restartCount\":1");
  free(a);
  free(b);
  free(c);
}

TEST(sim_fault_injection_answers_status) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  struct outs out = {0};
  opts_fixed(&o);
  ASSERT_OK(lb_sim_new(&o, &s));
  struct lb_actuator *a = lb_sim_actuator(s);
  a->on_outcome = on_out;
  a->ctx = &out;
  lb_sim_fault_action(s, 2, 500);
  lb_sim_fault_action(s, 3, 429);
  char body[512];
  snprintf(body, sizeof body, POD, "f1", "", "");
  struct lb_action c1 = act(1, LB_VERB_CREATE, "Pod", "f1", NULL, NULL, body);
  ASSERT_OK(a->submit(a, &c1));
  snprintf(body, sizeof body, POD, "f2", "", "");
  struct lb_action c2 = act(2, LB_VERB_CREATE, "Pod", "f2", NULL, NULL, body);
  ASSERT_OK(a->submit(a, &c2));
  struct lb_action c3 = act(3, LB_VERB_PATCH, "Pod", "f1", NULL, NULL,
                            "{\"metadata\":{\"labels\":{\"x\":\"1\"}}}");
  ASSERT_OK(a->submit(a, &c3));
  ASSERT_OK(a->submit(a, &c2));
  lb_sim_advance(s, lb_sim_now(s) + 5);
  ASSERT_EQ_INT(out.n, 4);
  ASSERT_EQ_INT(out.status[0], 201);
  ASSERT_EQ_INT(out.status[1], 500);
  ASSERT(path_is(out.body[1], "reason", "InternalError"));
  ASSERT(path_is(out.body[1], "kind", "Status"));
  ASSERT_EQ_INT(out.status[2], 429);
  ASSERT(path_is(out.body[2], "reason", "TooManyRequests"));
  ASSERT_EQ_INT(out.status[3], 201);
  ASSERT_EQ_INT(lb_sim_effects(s, "create", "Pod", "default", "f2"), 1);
  ASSERT_EQ_INT(lb_sim_effects(s, "patch", "Pod", "default", "f1"), 0);
  char *p = get_pod(s, "f1");
  ASSERT(!path_is(p, "metadata.labels.x", "1"));
  free(p);
  outs_release(&out);
  lb_sim_free(s);
}

TEST(sim_pod_body_size_and_managed_fields) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  opts_fixed(&o);
  ASSERT_OK(lb_sim_new(&o, &s));
  apply_pod(s, "web-0", NULL, NULL);
  char *p = get_pod(s, "web-0");
  size_t n0 = strlen(p);
  ASSERT_CONTAINS(p, "\"managedFields\":[{\"manager\":");
  ASSERT_CONTAINS(p, "\"fieldsType\":\"FieldsV1\"");
  free(p);
  lb_sim_advance(s, lb_sim_now(s) + 5000);
  p = get_pod(s, "web-0");
  size_t n1 = strlen(p);
  ASSERT_CONTAINS(p, "\"manager\":\"kubelet\"");
  ASSERT_CONTAINS(p, "\"subresource\":\"status\"");
  ASSERT_CONTAINS(p, "k:{\\\"name\\\":\\\"nginx\\\"}");
  ASSERT(strstr(p, "\\/") == NULL); /* no escaped slashes */
  free(p);
  ASSERT(n0 >= 1500 && n0 <= 5000);
  ASSERT(n1 >= 1500 && n1 <= 5000);
  /* the journal strips managedFields byte-exactly */
  p = get_pod(s, "web-0");
  size_t n2 = lb_json_strip_managed_fields(p, n1);
  ASSERT(n2 < n1);
  p[n2] = '\0';
  ASSERT(strstr(p, "managedFields") == NULL);
  json_object *j = json_tokener_parse(p);
  ASSERT(j != NULL);
  json_object_put(j);
  free(p);
  lb_sim_free(s);
}

TEST(sim_malformed_manifests_give_errors) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  opts_fixed(&o);
  ASSERT_OK(lb_sim_new(&o, &s));
  static const struct {
    const char *m;
    int rc;
  } cases[] = {
      {"", LB_EPARSE},
      {"{", LB_EPARSE},
      {"not json at all", LB_EPARSE},
      {"[1,2]", LB_EINVAL},
      {"42", LB_EINVAL},
      {"null", LB_EINVAL},
      {"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
       "\"t\"}} trailing",
       LB_EPARSE},
      {"{}", LB_EINVAL},
      {"{\"kind\":\"Pod\"}", LB_EINVAL},
      {"{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}", LB_EINVAL},
      {"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":[]}", LB_EINVAL},
      {"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":7}}",
       LB_EINVAL},
      {"{\"apiVersion\":1,\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\"}}",
       LB_EINVAL},
      {"{\"apiVersion\":\"v1\",\"kind\":\"\",\"metadata\":{\"name\":\"x\"}}",
       LB_EINVAL},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
    char *err = NULL;
    int rc = lb_sim_apply(s, cases[i].m, &err);
    if (rc != cases[i].rc)
      lb_test_fail(__FILE__, __LINE__, "case %zu (%s): %s", i, cases[i].m,
                   lb_err_name(rc));
    ASSERT(err != NULL && strlen(err) > 10);
    free(err);
  }
  /* odd but valid pods do not crash the kubelet */
  char *err = NULL;
  ASSERT_OK(lb_sim_apply(s,
                         "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
                         "{\"name\":\"odd\"},\"spec\":{\"containers\":[{\"n\":"
                         "1},7,{\"name\":\"x\"}]}}",
                         &err));
  ASSERT_OK(lb_sim_apply(s,
                         "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
                         "{\"name\":\"bare\"},\"spec\":7}",
                         &err));
  lb_sim_advance(s, lb_sim_now(s) + 10000);
  ASSERT_OK(lb_sim_patch(s, "", "Pod", "default", "odd", "",
                         "{\"spec\":{\"containers\":null}}", &err));
  ASSERT_OK(lb_sim_patch(s, "", "Pod", "default", "odd", "status",
                         "{\"status\":{\"conditions\":[3,{\"type\":7}]}}",
                         &err));
  lb_sim_advance(s, lb_sim_now(s) + 10000);
  ASSERT_EQ_INT(
      lb_sim_patch(s, "", "Pod", "default", "odd", "scale", "{}", &err),
      LB_ENOENT);
  free(err);
  /* malformed actions answer 400 */
  struct outs out = {0};
  struct lb_actuator *a = lb_sim_actuator(s);
  a->on_outcome = on_out;
  a->ctx = &out;
  struct lb_action bad = act(1, LB_VERB_CREATE, "Pod", "b", NULL, NULL, "{x");
  ASSERT_OK(a->submit(a, &bad));
  struct lb_action none = act(2, LB_VERB_CREATE, "Pod", "b", NULL, NULL, NULL);
  ASSERT_OK(a->submit(a, &none));
  lb_sim_advance(s, lb_sim_now(s) + 100);
  ASSERT_EQ_INT(out.n, 2);
  ASSERT_EQ_INT(out.status[0], 400);
  ASSERT_EQ_INT(out.status[1], 400);
  outs_release(&out);
  lb_sim_free(s);
}

/* JSON Patch (RFC 6902) through the actuator: every op, all-or-nothing on a
 * failed test, 400 for a body that is not a patch, status isolation. */
TEST(sim_json_patch_ops_and_test_precondition) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  struct outs out = {0};
  char *err = NULL;
  opts_fixed(&o);
  ASSERT_OK(lb_sim_new(&o, &s));
  struct lb_actuator *a = lb_sim_actuator(s);
  a->on_outcome = on_out;
  a->ctx = &out;
  ASSERT_OK(lb_sim_apply(
      s,
      "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
      "\"cm\",\"labels\":{\"a/b\":\"1\",\"t~x\":\"2\"}},\"data\":{\"k\":\"v\"},"
      "\"list\":[1,2,3]}",
      &err));
  struct lb_action ok = act(
      1, LB_VERB_JPATCH, "ConfigMap", "cm", NULL, NULL,
      "[{\"op\":\"test\",\"path\":\"/metadata/labels/a~1b\",\"value\":\"1\"},"
      "{\"op\":\"replace\",\"path\":\"/metadata/labels/a~1b\",\"value\":\"9\"},"
      "{\"op\":\"remove\",\"path\":\"/metadata/labels/t~0x\"},"
      "{\"op\":\"add\",\"path\":\"/list/1\",\"value\":7},"
      "{\"op\":\"add\",\"path\":\"/list/-\",\"value\":8},"
      "{\"op\":\"remove\",\"path\":\"/list/0\"},"
      "{\"op\":\"copy\",\"from\":\"/data/k\",\"path\":\"/data/k2\"},"
      "{\"op\":\"move\",\"from\":\"/data/k\",\"path\":\"/data/k3\"}]");
  /* the test fails: nothing of the patch may apply */
  struct lb_action bad =
      act(2, LB_VERB_JPATCH, "ConfigMap", "cm", NULL, NULL,
          "[{\"op\":\"replace\",\"path\":\"/data/k2\",\"value\":\"lost\"},"
          "{\"op\":\"test\",\"path\":\"/metadata/labels/a~1b\","
          "\"value\":\"1\"}]");
  struct lb_action missing =
      act(3, LB_VERB_JPATCH, "ConfigMap", "cm", NULL, NULL,
          "[{\"op\":\"replace\",\"path\":\"/nope/x\",\"value\":1}]");
  struct lb_action notpatch =
      act(4, LB_VERB_JPATCH, "ConfigMap", "cm", NULL, NULL, "{\"a\":1}");
  ASSERT_OK(a->submit(a, &ok));
  ASSERT_OK(a->submit(a, &bad));
  ASSERT_OK(a->submit(a, &missing));
  ASSERT_OK(a->submit(a, &notpatch));
  lb_sim_advance(s, lb_sim_now(s) + 5);
  ASSERT_EQ_INT(out.n, 4);
  if (out.status[0] != 200)
    fprintf(stderr, "# %s\n", out.body[0]);
  ASSERT_EQ_INT(out.status[0], 200);
  ASSERT_EQ_INT(out.status[1], 422);
  ASSERT_CONTAINS(out.body[1], "test failed");
  ASSERT_EQ_INT(out.status[2], 422);
  ASSERT_CONTAINS(out.body[2], "/nope/x");
  ASSERT_EQ_INT(out.status[3], 400);
  char *c = lb_sim_get(s, "", "ConfigMap", "default", "cm");
  char *labels = jget(c, "metadata.labels"), *list = jget(c, "list"),
       *data = jget(c, "data");
  ASSERT_EQ_STR(labels, "{\"a/b\":\"9\"}");
  ASSERT_EQ_STR(list, "[7,2,3,8]");
  ASSERT_EQ_STR(data, "{\"k2\":\"v\",\"k3\":\"v\"}");
  ASSERT_EQ_INT(lb_sim_effects(s, "jpatch", "ConfigMap", "default", "cm"), 1);
  free(labels);
  free(list);
  free(data);
  free(c);
  outs_release(&out);
  lb_sim_free(s);
}

/* A delete whose DeleteOptions carry a stale resourceVersion precondition
 * answers 409 and deletes nothing; the current one deletes. */
TEST(sim_delete_resource_version_precondition) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  struct outs out = {0};
  char *err = NULL;
  opts_fixed(&o);
  ASSERT_OK(lb_sim_new(&o, &s));
  struct lb_actuator *a = lb_sim_actuator(s);
  a->on_outcome = on_out;
  a->ctx = &out;
  ASSERT_OK(lb_sim_apply(s,
                         "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                         "\"metadata\":{\"name\":\"cm\"},\"data\":{}}",
                         &err));
  char *c = lb_sim_get(s, "", "ConfigMap", "default", "cm");
  char *rv = jget(c, "metadata.resourceVersion");
  char stale[64], cur[64];
  snprintf(stale, sizeof stale,
           "{\"preconditions\":{\"resourceVersion\":\"%lld\"}}", atoll(rv) - 1);
  snprintf(cur, sizeof cur, "{\"preconditions\":{\"resourceVersion\":\"%s\"}}",
           rv);
  struct lb_action d1 =
      act(1, LB_VERB_DELETE, "ConfigMap", "cm", NULL, NULL, stale);
  struct lb_action d2 =
      act(2, LB_VERB_DELETE, "ConfigMap", "cm", NULL, NULL, cur);
  ASSERT_OK(a->submit(a, &d1));
  lb_sim_advance(s, lb_sim_now(s) + 5);
  ASSERT_EQ_INT(out.n, 1);
  ASSERT_EQ_INT(out.status[0], 409);
  ASSERT_CONTAINS(out.body[0], "the ResourceVersion in the precondition");
  char *still = lb_sim_get(s, "", "ConfigMap", "default", "cm");
  ASSERT(still != NULL);
  free(still);
  ASSERT_OK(a->submit(a, &d2));
  lb_sim_advance(s, lb_sim_now(s) + 5);
  ASSERT_EQ_INT(out.n, 2);
  ASSERT_EQ_INT(out.status[1], 200);
  ASSERT(lb_sim_get(s, "", "ConfigMap", "default", "cm") == NULL);
  free(rv);
  free(c);
  outs_release(&out);
  lb_sim_free(s);
}

/* ImagePullJobs (CloneSet pre-download) are stored like any namespaced
 * kind: read back, listed, and garbage-collected with the CloneSet that
 * controls them. */
TEST(sim_imagepulljob_stored_listed_and_collected) {
  struct lb_sim_opts o;
  struct lb_sim *s;
  struct evs *e = calloc(1, sizeof *e);
  opts_fixed(&o);
  ASSERT_OK(lb_sim_new(&o, &s));
  char buf[1024], *err = NULL;
  snprintf(buf, sizeof buf, CLONESET, 4, "");
  ASSERT_OK(lb_sim_apply(s, buf, &err));
  char *c = lb_sim_get(s, "apps.kruise.io", "CloneSet", "default", "web");
  char *uid = jget(c, "metadata.uid");
  free(c);
  snprintf(buf, sizeof buf,
           "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":"
           "\"ImagePullJob\",\"metadata\":{\"name\":\"web-1-nginx\","
           "\"namespace\":\"default\",\"ownerReferences\":[{\"apiVersion\":"
           "\"apps.kruise.io/v1alpha1\",\"kind\":\"CloneSet\",\"name\":\"web\","
           "\"uid\":\"%s\",\"controller\":true,\"blockOwnerDeletion\":true}]},"
           "\"spec\":{\"image\":\"nginx:1.26\",\"parallelism\":2}}",
           uid);
  ASSERT_OK(lb_sim_apply(s, buf, &err));
  char *j =
      lb_sim_get(s, "apps.kruise.io", "ImagePullJob", "default", "web-1-nginx");
  ASSERT(j);
  char *par = jget(j, "spec.parallelism");
  ASSERT_EQ_STR(par, "2");
  free(par);
  free(j);
  char rv[32];
  ASSERT_OK(lb_sim_list(s, rv, sizeof rv, collect, e));
  int listed = 0;
  for (size_t i = 0; i < e->n; i++) {
    char *k = jget(e->v[i].body, "kind");
    listed += !strcmp(k, "ImagePullJob");
    free(k);
  }
  ASSERT_EQ_INT(listed, 1);
  ASSERT_OK(
      lb_sim_delete(s, "apps.kruise.io", "CloneSet", "default", "web", &err));
  lb_sim_advance(s, lb_sim_now(s) + 5000);
  ASSERT(lb_sim_get(s, "apps.kruise.io", "ImagePullJob", "default",
                    "web-1-nginx") == NULL);
  free(uid);
  evs_release(e);
  free(e);
  lb_sim_free(s);
}
