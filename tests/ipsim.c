/* ipsim.c — a small in-test API server for the CloneSet reducer: it
 * answers the engine's actions (create, merge / strategic patch, delete),
 * runs a kubelet that restarts a container when its image changes and
 * reports Ready from the readiness gates, and feeds every answer back as
 * an outcome event. Shared by test_inplace.c and test_cloneset_sim.c. */
#include "ipsim.h"

#include "../engine/decision.h"
#include "../engine/err.h"
#include "../engine/util.h"
#include "../replay/replay.h"
#include "../store/journal.h"
#include "test.h"

static void merge_list(json_object *dl, json_object *pl, const char *key);

void ip_init(struct ipsim *s) {
  memset(s, 0, sizeof *s);
  ASSERT_OK(lb_engine_new(NULL, &s->e));
  s->objs = json_object_new_object();
  s->rv = 100;
  s->now = T0;
}
void ip_free(struct ipsim *s) {
  lb_journal_close(s->j);
  lb_decisions_release(&s->ds);
  free(s->ds.v);
  lb_engine_free(s->e);
  json_object_put(s->objs);
}

void ip_apply(struct ipsim *s, struct lb_event *ev) {
  size_t before = s->ds.n;
  if (s->j)
    ASSERT_OK(lb_journal_append_event(s->j, ev)); /* same seq as ours */
  ASSERT_OK(lb_engine_apply(s->e, ev, &s->ds));
  lb_event_release(ev);
  for (size_t i = before; s->j && i < s->ds.n; i++)
    ASSERT_OK(lb_journal_append_decision(s->j, &s->ds.v[i]));
  if (s->j)
    ASSERT_OK(lb_journal_commit(s->j));
}

void ip_journal(struct ipsim *s, const char *path) {
  struct lb_journal_opts o = LB_JOURNAL_OPTS_INIT;
  o.durability = LB_DUR_OFF;
  ASSERT_OK(lb_journal_open(path, &o, &s->j));
}

void ip_event(struct ipsim *s, int src, int type, const char *body) {
  struct lb_event ev;
  lb_event_init(&ev);
  ev.seq = ++s->seq;
  ev.at_ms = s->now;
  ev.source = src;
  ev.type = type;
  char *b = body ? lb_strdup(body) : NULL;
  ASSERT_OK(lb_event_prepare(&ev, b, body ? strlen(body) : 0));
  ip_apply(s, &ev);
}

json_object *jm(json_object *o, const char *k) {
  json_object *v = NULL;
  json_object_object_get_ex(o, k, &v);
  return v;
}
json_object *jensure(json_object *o, const char *k, json_type t) {
  json_object *v = jm(o, k);
  if (!v || !json_object_is_type(v, t)) {
    v = t == json_type_array ? json_object_new_array()
                             : json_object_new_object();
    json_object_object_add(o, k, v);
  }
  return v;
}

/* list merge by key (strategic) */
static void merge_list(json_object *dl, json_object *pl, const char *key) {
  for (size_t i = 0; i < json_object_array_length(pl); i++) {
    json_object *e = json_object_array_get_idx(pl, i), *t = NULL;
    for (size_t j = 0; !t && j < json_object_array_length(dl); j++)
      if (json_object_equal(jm(json_object_array_get_idx(dl, j), key),
                            jm(e, key)))
        t = json_object_array_get_idx(dl, j);
    if (t)
      merge(t, e, 1);
    else
      json_object_array_add(dl, json_object_get(e));
  }
}

void merge(json_object *dst, json_object *p, int strategic) {
  json_object_object_foreach(p, k, v) {
    const char *key = !strategic                 ? NULL
                      : !strcmp(k, "conditions") ? "type"
                      : !strcmp(k, "containers") ? "name"
                                                 : NULL;
    if (!v)
      json_object_object_del(dst, k);
    else if (key && json_object_is_type(v, json_type_array))
      merge_list(jensure(dst, k, json_type_array), v, key);
    else if (json_object_is_type(v, json_type_object))
      merge(jensure(dst, k, json_type_object), v, strategic);
    else
      json_object_object_add(dst, k, json_object_get(v));
  }
}

void set_rv(struct ipsim *s, json_object *o) {
  char rvs[16];
  snprintf(rvs, sizeof rvs, "%d", ++s->rv);
  json_object_object_add(jensure(o, "metadata", json_type_object),
                         "resourceVersion", json_object_new_string(rvs));
}

const char *cond_of(json_object *pod, const char *type) {
  json_object *cs = jm(jm(pod, "status"), "conditions");
  for (size_t i = 0; cs && i < json_object_array_length(cs); i++) {
    json_object *c = json_object_array_get_idx(cs, i);
    if (!strcmp(json_object_get_string(jm(c, "type")), type))
      return json_object_get_string(jm(c, "status"));
  }
  return NULL;
}

/* The kubelet: containers run their spec image (a changed image restarts
 * the container at once), Ready = every readiness gate True. */
void kubelet(json_object *pod) {
  json_object *st = jensure(pod, "status", json_type_object);
  json_object *spec = jm(pod, "spec"), *ctrs = jm(spec, "containers");
  json_object *css = jensure(st, "containerStatuses", json_type_array);
  char ts[32];
  lb_time_rfc3339(T0, ts);
  json_object_object_add(st, "phase", json_object_new_string("Running"));
  for (size_t i = 0; ctrs && i < json_object_array_length(ctrs); i++) {
    json_object *c = json_object_array_get_idx(ctrs, i), *x = NULL;
    const char *img = json_object_get_string(jm(c, "image"));
    char id[128];
    for (size_t j = 0; !x && j < json_object_array_length(css); j++)
      if (json_object_equal(jm(json_object_array_get_idx(css, j), "name"),
                            jm(c, "name")))
        x = json_object_array_get_idx(css, j);
    if (!x) {
      x = json_object_new_object();
      json_object_object_add(x, "name", json_object_get(jm(c, "name")));
      json_object_object_add(x, "restartCount", json_object_new_int(0));
      json_object_object_add(x, "ready", json_object_new_boolean(1));
      json_object_array_add(css, x);
    } else if (strcmp(json_object_get_string(jm(x, "image")), img)) {
      json_object_object_add(
          x, "restartCount",
          json_object_new_int(json_object_get_int(jm(x, "restartCount")) + 1));
    }
    snprintf(id, sizeof id, "id-%s", img);
    /* an image named "...broken..." never gets ready (§16.1 scenario 9) */
    json_object_object_add(x, "ready",
                           json_object_new_boolean(!strstr(img, "broken")));
    json_object_object_add(x, "image", json_object_new_string(img));
    json_object_object_add(x, "imageID", json_object_new_string(id));
  }
  int ready = 1;
  json_object *gates = jm(spec, "readinessGates");
  for (size_t i = 0; gates && i < json_object_array_length(gates); i++) {
    const char *c = cond_of(
        pod, json_object_get_string(
                 jm(json_object_array_get_idx(gates, i), "conditionType")));
    ready &= c && !strcmp(c, "True");
  }
  json_object *p = json_object_new_object(), *pc = json_object_new_array(),
              *r = json_object_new_object();
  json_object_object_add(r, "type", json_object_new_string("Ready"));
  json_object_object_add(r, "status",
                         json_object_new_string(ready ? "True" : "False"));
  json_object_object_add(r, "lastTransitionTime", json_object_new_string(ts));
  json_object_array_add(pc, r);
  json_object_object_add(p, "conditions", pc);
  merge(st, p, 1);
  json_object_put(p);
}

const struct lb_action *ip_find(const struct ipsim *s, int64_t id) {
  for (size_t i = 0; i < s->ds.n; i++)
    for (size_t k = 0; k < s->ds.v[i].n_actions; k++)
      if (s->ds.v[i].actions[k].id == id)
        return &s->ds.v[i].actions[k];
  return NULL;
}

int unavailable_pods(const struct ipsim *s) {
  int n = 0;
  json_object_object_foreach(s->objs, key, val) {
    if (strncmp(key, "Pod/", 4))
      continue;
    const char *c = cond_of(val, "InPlaceUpdateReady"),
               *r = cond_of(val, "Ready");
    json_object *lc =
        jm(jm(jm(val, "metadata"), "labels"), "lifecycle.apps.kruise.io/state");
    n += (c && !strcmp(c, "False")) || !r || strcmp(r, "True") ||
         (lc && strcmp(json_object_get_string(lc), "Normal"));
  }
  return n;
}

/* Folds the outcome of action a: HTTP status with a Status document msg,
 * the object unchanged. */
void ip_status_outcome(struct ipsim *s, const struct lb_action *a, int status,
                       const char *msg) {
  struct lb_event fev;
  ASSERT_OK(lb_action_answer_init(&fev, a, LB_EV_OUTCOME, status));
  fev.seq = ++s->seq;
  fev.at_ms = s->now;
  ASSERT_OK(lb_event_prepare(&fev, lb_strdup(msg), strlen(msg)));
  ip_apply(s, &fev);
}

/* Answers the lowest in-flight action; 0 when none is in flight. */
int ip_answer(struct ipsim *s) {
  int64_t *ids;
  size_t n;
  ASSERT_OK(lb_engine_inflight_ids(s->e, &ids, &n));
  if (!n) {
    free(ids);
    return 0;
  }
  const struct lb_action *a = ip_find(s, ids[0]);
  free(ids);
  ASSERT(a);
  char key[300];
  json_object *o = NULL;
  int status = 200;
  snprintf(key, sizeof key, "%s/%s", a->kind, a->name);
  int *fail = !strcmp(a->kind, "Pod") && a->verb == LB_VERB_CREATE
                  ? &s->fail_create
              : !strcmp(a->kind, "Pod") &&
                      (a->verb == LB_VERB_PATCH || a->verb == LB_VERB_SPATCH)
                  ? &s->fail_patch
                  : NULL;
  if (fail && *fail) { /* injected: a Status document, nothing changes */
    status = *fail;
    *fail = 0;
    char msg[512];
    snprintf(msg, sizeof msg,
             "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":"
             "\"Failure\",\"message\":\"pods \\\"%s\\\" is forbidden: "
             "exceeded quota\",\"reason\":\"Forbidden\",\"code\":%d}",
             a->name, status);
    ip_status_outcome(s, a, status, msg);
    return 1;
  }
  if (a->verb == LB_VERB_CREATE && jm(s->objs, key)) {
    status = 409; /* AlreadyExists: a Status document, nothing changes */
    char msg[512];
    snprintf(msg, sizeof msg,
             "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":"
             "\"Failure\",\"message\":\"%s \\\"%s\\\" already exists\","
             "\"reason\":\"AlreadyExists\",\"code\":409}",
             a->kind, a->name);
    ip_status_outcome(s, a, status, msg);
    return 1;
  }
  if (a->verb == LB_VERB_CREATE) {
    char uid[320], ts[32];
    o = json_tokener_parse(a->body);
    ASSERT(o);
    snprintf(uid, sizeof uid, "uid-%s", a->name);
    lb_time_rfc3339(s->now, ts);
    json_object *meta = jm(o, "metadata");
    json_object_object_add(meta, "uid", json_object_new_string(uid));
    json_object_object_add(meta, "creationTimestamp",
                           json_object_new_string(ts));
    if (!strcmp(a->kind, "Pod")) {
      json_object_object_add(jensure(o, "spec", json_type_object), "nodeName",
                             json_object_new_string("n1"));
      kubelet(o);
    }
    json_object_object_add(s->objs, key, o);
    status = 201;
  } else if (a->verb == LB_VERB_DELETE) {
    json_object_object_del(s->objs, key);
  } else if ((o = jm(s->objs, key))) {
    json_object *p = json_tokener_parse(a->body);
    ASSERT(p);
    if (!strcmp(a->sub, "status")) { /* a status write changes only status */
      json_object *only = jm(p, "status");
      if (only)
        merge(jensure(o, "status", json_type_object), only,
              a->verb == LB_VERB_SPATCH);
    } else {
      json_object_object_del(p, "status");
      merge(o, p, a->verb == LB_VERB_SPATCH);
    }
    json_object_put(p);
    if (!strcmp(a->kind, "Pod"))
      kubelet(o);
  } else {
    status = 404;
  }
  if (o && status != 404)
    set_rv(s, o);
  const char *body =
      o && status != 404 && a->verb != LB_VERB_DELETE
          ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)
          : NULL;
  struct lb_event ev;
  ASSERT_OK(lb_action_answer_init(&ev, a, LB_EV_OUTCOME, status));
  ev.seq = ++s->seq;
  ev.at_ms = s->now;
  char *b = body ? lb_strdup(body) : NULL;
  ASSERT_OK(lb_event_prepare(&ev, b, body ? strlen(body) : 0));
  ip_apply(s, &ev);
  int u = unavailable_pods(s);
  if (u > s->max_unavailable_seen)
    s->max_unavailable_seen = u;
  return 1;
}

void ip_tick(struct ipsim *s) { ip_event(s, LB_SRC_TICK, LB_EV_TICK, NULL); }

/* Answers until nothing is in flight (1 s of virtual time per answer). */
void ip_settle(struct ipsim *s) {
  for (int i = 0; i < 400; i++) {
    s->now += 1000;
    if (!ip_answer(s)) {
      ip_tick(s);
      if (!lb_engine_inflight_count(s->e))
        return;
    }
  }
  for (size_t d = s->ds.n > 6 ? s->ds.n - 6 : 0; d < s->ds.n; d++)
    fprintf(stderr, "# %s\n", s->ds.v[d].reason);
  lb_test_fail(__FILE__, __LINE__, "did not settle");
}

char *cs_manifest(int gen, int replicas, const char *image, const char *env,
                  const char *us) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_addf(&b,
              "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":"
              "\"CloneSet\",\"metadata\":{\"name\":\"web\",\"namespace\":\"" NS
              "\",\"uid\":\"cs-uid\",\"resourceVersion\":\"%d\","
              "\"generation\":%d},\"spec\":{\"replicas\":%d,\"selector\":{"
              "\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":"
              "{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{"
              "\"name\":\"c\",\"image\":\"%s\"%s}]}},\"updateStrategy\":{%s}}}",
              gen * 10, gen, replicas, image, env, us);
  return lb_buf_detach(&b, NULL);
}

void ip_put_cs(struct ipsim *s, const char *json) {
  json_object *o = json_tokener_parse(json), *old;
  ASSERT(o);
  if ((old = jm(s->objs, "CloneSet/web")) && jm(old, "status"))
    json_object_object_add(o, "status", json_object_get(jm(old, "status")));
  set_rv(s, o);
  json_object_object_add(s->objs, "CloneSet/web", o);
  s->now += 1000;
  ip_event(s, LB_SRC_WATCH, LB_EV_MODIFIED,
           json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

/* "name=uid=image=restarts=revision=lifecycle" lines of the pods, sorted. */
void pods_summary(const struct ipsim *s, struct lb_buf *out) {
  const char *keys[64];
  size_t n = 0;
  json_object_object_foreach(s->objs, key, val) {
    (void)val;
    if (!strncmp(key, "Pod/", 4) && n < 64)
      keys[n++] = key;
  }
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
      const char *t = keys[j];
      keys[j] = keys[j - 1];
      keys[j - 1] = t;
    }
  lb_buf_reset(out);
  for (size_t i = 0; i < n; i++) {
    json_object *p = jm(s->objs, keys[i]), *m = jm(p, "metadata");
    json_object *cs0 =
        json_object_array_get_idx(jm(jm(p, "status"), "containerStatuses"), 0);
    json_object *l = jm(m, "labels");
    lb_buf_addf(
        out, "%s=%s=%s=%d=%s=%s\n", keys[i] + 4,
        json_object_get_string(jm(m, "uid")),
        json_object_get_string(jm(cs0, "image")),
        json_object_get_int(jm(cs0, "restartCount")),
        json_object_get_string(jm(l, "controller-revision-hash")),
        json_object_get_string(jm(l, "lifecycle.apps.kruise.io/state")));
  }
}

int count_in(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; p && (p = strstr(p, needle)); p++)
    n++;
  return n;
}

char *ip_explain(struct ipsim *s, const char *kind, const char *name) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ASSERT(f);
  ASSERT_OK(lb_explain(s->j, kind, NS, name, f));
  fclose(f);
  return buf;
}

void ip_replay_clean(const char *db) {
  struct lb_buf out = LB_BUF_INIT;
  char cmd[512];
  snprintf(cmd, sizeof cmd, "replay %s", db);
  int rc = lb_test_cli(cmd, &out);
  if (rc)
    lb_test_fail(__FILE__, __LINE__, "logbook %s: exit %d: %s", cmd, rc, out.p);
  lb_buf_release(&out);
}

int decisions_with(const struct ipsim *s, const char *needle) {
  int n = 0;
  for (size_t i = 0; i < s->ds.n; i++)
    n += strstr(s->ds.v[i].reason, needle) != NULL;
  return n;
}

void ip_user_patch(struct ipsim *s, const char *pod, const char *patch) {
  char key[128];
  snprintf(key, sizeof key, "Pod/%s", pod);
  json_object *o = jm(s->objs, key), *p = json_tokener_parse(patch);
  ASSERT(o && p);
  merge(o, p, 0);
  json_object_put(p);
  set_rv(s, o);
  s->now += 1000;
  ip_event(s, LB_SRC_WATCH, LB_EV_MODIFIED,
           json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

/* The names of the pods, sorted, into names[] (returns how many). */
int pod_names(const struct ipsim *s, char names[][64], int max) {
  int n = 0;
  json_object_object_foreach(s->objs, key, val) {
    (void)val;
    if (!strncmp(key, "Pod/", 4) && n < max)
      lb_strlcpy(names[n++], key + 4, 64);
  }
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
      char t[64];
      memcpy(t, names[j], 64);
      memcpy(names[j], names[j - 1], 64);
      memcpy(names[j - 1], t, 64);
    }
  return n;
}

const char *pod_label(const struct ipsim *s, const char *pod,
                      const char *label) {
  char key[128];
  snprintf(key, sizeof key, "Pod/%s", pod);
  json_object *v = jm(jm(jm(jm(s->objs, key), "metadata"), "labels"), label);
  return v ? json_object_get_string(v) : NULL;
}

void ip_user_delete(struct ipsim *s, const char *pod) {
  char key[128];
  snprintf(key, sizeof key, "Pod/%s", pod);
  json_object *o = jm(s->objs, key);
  ASSERT(o);
  char *body =
      lb_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
  json_object_object_del(s->objs, key);
  s->now += 1000;
  ip_event(s, LB_SRC_WATCH, LB_EV_DELETED, body);
  free(body);
}
