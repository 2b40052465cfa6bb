/* test_pvc.c — CloneSet PersistentVolumeClaims (engine/pvc.h): naming,
 * instance-id reuse order and the creatable count by table; then the
 * reducer through the engine API: claims before the pod, claims deleted
 * with the pod, ids reused after a pod went, waiting for a terminating
 * pod, and disablePVCReuse. Helpers copied from test_engine.c. */
#include <json-c/json.h>

#include "../engine/cloneset.h"
#include "../engine/decision.h"
#include "../engine/engine.h"
#include "../engine/err.h"
#include "../engine/event.h"
#include "../engine/obj.h"
#include "../engine/pvc.h"
#include "../engine/util.h"
#include "test.h"

#define NS "default"
#define CS_UID "cs-uid-1"
#define ID_LABEL LB_LABEL_INSTANCE_ID

/* ---- pure tables -----------------------------------------------------------
 */
TEST(pvc_name_table) {
  static const struct {
    const char *vct, *cs, *id, *want;
    size_t n;
    int rc;
  } rows[] = {
      {"data", "web", "abcde", "data-web-abcde", 64, 0},
      {"logs", "my-set", "x2z9k", "logs-my-set-x2z9k", 64, 0},
      {"d", "w", "i", "d-w-i", 6, 0},
      {"data", "web", "abcde", "data-web", 9, LB_ERANGE},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++) {
    char out[64];
    ASSERT_EQ_INT(
        lb_pvc_name(rows[i].vct, rows[i].cs, rows[i].id, out, rows[i].n),
        rows[i].rc);
    ASSERT_EQ_STR(out, rows[i].want);
  }
  char *names;
  ASSERT_OK(
      lb_pvc_template_names("[{\"metadata\":{\"name\":\"data\"}},{\"spec\":{}},"
                            "{\"metadata\":{\"name\":\"logs\"}}]",
                            &names));
  ASSERT_EQ_STR(names, "data");
  ASSERT_EQ_STR(names + 5, "logs");
  ASSERT_EQ_INT(names[10], 0);
  free(names);
  ASSERT_OK(lb_pvc_template_names(NULL, &names));
  ASSERT_EQ_INT(names[0], 0);
  free(names);
  ASSERT_EQ_INT(lb_pvc_template_count("not json"), 0);
}

/* A CloneSet built by hand: owned PVCs "id[:T]" (T = terminating) and
 * pods "id:A" (active) / "id:T" (terminating). */
struct fake {
  struct lb_cloneset cs;
  struct lb_obj pvcs[8], *owned[8];
  struct lb_pod pods[8], *pp[8];
  char lbl[16][64];
};

static void fake_labels(char *dst, const char *id) {
  size_t k = strlen(ID_LABEL) + 1;
  memcpy(dst, ID_LABEL, k);
  memcpy(dst + k, id, 5);
  dst[k + 5] = '\0';
  dst[k + 6] = '\0';
}

static void fake_build(struct fake *f, const char *const *pvcs,
                       const char *const *pods, int disable) {
  memset(f, 0, sizeof *f);
  f->cs.o.kind = LB_KIND_CLONESET;
  f->cs.o.name = (char *)"web";
  f->cs.disable_pvc_reuse = disable;
  int l = 0;
  for (size_t i = 0; pvcs && pvcs[i]; i++, l++) {
    struct lb_obj *o = &f->pvcs[i];
    fake_labels(f->lbl[l], pvcs[i]);
    o->kind = LB_KIND_PVC;
    o->name = (char *)pvcs[i];
    o->labels = f->lbl[l];
    o->deleting_ms = strstr(pvcs[i], ":T") ? 5 : 0;
    f->owned[f->cs.n_owned++] = o;
  }
  for (size_t i = 0; pods && pods[i]; i++, l++) {
    struct lb_pod *p = &f->pods[i];
    fake_labels(f->lbl[l], pods[i]);
    p->o.kind = LB_KIND_POD;
    p->o.name = (char *)pods[i];
    p->o.labels = f->lbl[l];
    p->phase = LB_PH_RUNNING;
    p->o.deleting_ms = strstr(pods[i], ":T") ? 5 : 0;
    f->pp[f->cs.n_pods++] = p;
  }
  f->cs.owned = f->owned;
  f->cs.pods = f->pp;
}

TEST(pvc_id_reuse_order_table) {
  static const struct {
    const char *what;
    const char *pvcs[8], *pods[8];
    int disable;
    const char *reuse; /* comma-joined, sorted */
    size_t blocked;
    int want, creatable;
  } rows[] = {
      {"no claims", {0}, {"aaaaa:A"}, 0, "", 0, 2, 2},
      {"claims of active pods are not orphans",
       {"aaaaa", "aaaaa"},
       {"aaaaa:A"},
       0,
       "",
       0,
       1,
       1},
      {"orphans sorted by id, deduped",
       {"zzzzz", "ccccc", "zzzzz", "ccccc", "mmmmm"},
       {"aaaaa:A"},
       0,
       "ccccc,mmmmm,zzzzz",
       0,
       2,
       2},
      {"terminating claim is not reused",
       {"ccccc:T", "ddddd"},
       {0},
       0,
       "ddddd",
       0,
       1,
       1},
      {"id of a terminating pod is blocked",
       {"ccccc", "ddddd"},
       {"ccccc:T"},
       0,
       "ddddd",
       1,
       1,
       1},
      {"blocked ids are waited for, fresh ones only beyond",
       {"ccccc", "ddddd"},
       {"ccccc:T", "ddddd:T"},
       0,
       "",
       2,
       3,
       1},
      {"all blocked, want 1: wait", {"ccccc"}, {"ccccc:T"}, 0, "", 1, 1, 0},
      {"disablePVCReuse: nothing reused", {"ccccc"}, {0}, 1, "", 0, 1, 1},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++) {
    struct fake f;
    struct lb_pvc_plan plan;
    char got[128] = "";
    fake_build(&f, rows[i].pvcs, rows[i].pods, rows[i].disable);
    ASSERT_OK(lb_pvc_plan_ids(&f.cs, &plan));
    for (size_t k = 0; k < plan.n_reuse; k++) {
      if (k)
        lb_strlcpy(got + strlen(got), ",", sizeof got - strlen(got));
      lb_strlcpy(got + strlen(got), plan.reuse[k], sizeof got - strlen(got));
    }
    if (strcmp(got, rows[i].reuse) || plan.n_blocked != rows[i].blocked ||
        lb_pvc_creatable(&plan, rows[i].want) != rows[i].creatable)
      lb_test_fail(__FILE__, __LINE__,
                   "%s: reuse \"%s\" (want \"%s\"), blocked %zu (want %zu), "
                   "creatable %d (want %d)",
                   rows[i].what, got, rows[i].reuse, plan.n_blocked,
                   rows[i].blocked, lb_pvc_creatable(&plan, rows[i].want),
                   rows[i].creatable);
    lb_pvc_plan_release(&plan);
  }
  /* an id carried by any claim is taken (fresh ids avoid it) */
  struct fake f;
  const char *pv[] = {"ccccc", NULL};
  fake_build(&f, pv, NULL, 0);
  ASSERT(lb_pvc_id_taken(&f.cs, "ccccc"));
  ASSERT(!lb_pvc_id_taken(&f.cs, "ddddd"));
}

/* ---- engine helpers (from test_engine.c) ----------------------------------
 */
struct h {
  struct lb_engine *e;
  struct lb_decisions ds;
  int64_t seq;
};

static void h_init(struct h *h) {
  memset(h, 0, sizeof *h);
  ASSERT_OK(lb_engine_new(NULL, &h->e));
}
static void h_free(struct h *h) {
  lb_decisions_release(&h->ds);
  free(h->ds.v);
  lb_engine_free(h->e);
}
static size_t h_watch(struct h *h, int64_t at, int type, const char *body) {
  struct lb_event ev;
  size_t first = h->ds.n;
  lb_event_init(&ev);
  ev.seq = ++h->seq;
  ev.at_ms = at;
  ev.source = LB_SRC_WATCH;
  ev.type = type;
  ASSERT_OK(lb_event_prepare(&ev, lb_strdup(body), strlen(body)));
  ASSERT_OK(lb_engine_apply(h->e, &ev, &h->ds));
  lb_event_release(&ev);
  return first;
}
/* Outcome of action a (status, body), as the actuator reports it. */
static size_t h_answer(struct h *h, int64_t at, const struct lb_action *a,
                       int status, const char *body) {
  struct lb_event ev;
  size_t first = h->ds.n;
  ASSERT_OK(lb_action_answer_init(&ev, a, LB_EV_OUTCOME, status));
  ev.seq = ++h->seq;
  ev.at_ms = at;
  ASSERT_OK(lb_event_prepare(&ev, body ? lb_strdup(body) : NULL,
                             body ? strlen(body) : 0));
  ASSERT_OK(lb_engine_apply(h->e, &ev, &h->ds));
  lb_event_release(&ev);
  return first;
}
static void h_watchf(struct h *h, int type, char *body) {
  h_watch(h, 1000, type, body);
  free(body);
}

static int count_actions(const struct lb_decision *d, int verb,
                         const char *kind) {
  int n = 0;
  for (size_t i = 0; i < d->n_actions; i++)
    n += d->actions[i].verb == verb && !strcmp(d->actions[i].kind, kind);
  return n;
}
static const struct lb_action *find_named(const struct lb_decision *d, int verb,
                                          const char *kind, const char *name,
                                          size_t *idx) {
  for (size_t i = 0; i < d->n_actions; i++)
    if (d->actions[i].verb == verb && !strcmp(d->actions[i].kind, kind) &&
        (!name || !strcmp(d->actions[i].name, name))) {
      if (idx)
        *idx = i;
      return &d->actions[i];
    }
  return NULL;
}

/* Dotted path ('|'-separated) lookup in a JSON text; malloc'd string. */
static char *jpath(const char *json, const char *path) {
  json_object *root = json_tokener_parse(json), *cur = root;
  char buf[256], *save = buf, *out = NULL;
  lb_strlcpy(buf, path, sizeof buf);
  while (cur && save) {
    char *dot = strchr(save, '|');
    if (dot)
      *dot = '\0';
    json_object *next = NULL;
    if (json_object_is_type(cur, json_type_array))
      next = json_object_array_get_idx(cur, (size_t)atoi(save));
    else if (!json_object_object_get_ex(cur, save, &next))
      next = NULL;
    cur = next;
    save = dot ? dot + 1 : NULL;
  }
  if (cur)
    out = lb_strdup(
        json_object_is_type(cur, json_type_string)
            ? json_object_get_string(cur)
            : json_object_to_json_string_ext(cur, JSON_C_TO_STRING_PLAIN));
  json_object_put(root);
  return out;
}
#define ASSERT_JPATH(json, path, want)                                         \
  do {                                                                         \
    char *v_ = jpath((json), (path));                                          \
    if (!v_ || strcmp(v_, (want)) != 0)                                        \
      lb_test_fail(__FILE__, __LINE__, "%s = %s, want %s", (path),             \
                   v_ ? v_ : "(absent)", (want));                              \
    free(v_);                                                                  \
  } while (0)

/* ---- object builders --------------------------------------------------------
 */
#define VCTS                                                                   \
  ",\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"data\",\"labels\":{"   \
  "\"tier\":\"db\"}},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"           \
  "\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}},{\"metadata\":{"       \
  "\"name\":\"logs\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"          \
  "\"resources\":{\"requests\":{\"storage\":\"2Gi\"}}}}]"

static char *cs_json(int replicas, const char *extra) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_addf(
      &b,
      "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":\"CloneSet\","
      "\"metadata\":{\"name\":\"web\",\"namespace\":\"" NS
      "\",\"uid\":\"" CS_UID "\",\"resourceVersion\":\"5\",\"generation\":1},"
      "\"spec\":{\"replicas\":%d,"
      "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{"
      "\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{"
      "\"image\":\"nginx:1\",\"name\":\"c\"}],\"volumes\":[{\"name\":\"data\","
      "\"emptyDir\":{}},{\"name\":\"cfg\",\"emptyDir\":{}}]}}" VCTS "%s}}",
      replicas, extra ? extra : "");
  return lb_buf_detach(&b, NULL);
}

/* state: "R" running+ready on a node, "P" pending unscheduled, "T"
 * terminating */
static char *pod_json(const char *id, const char *state) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_addf(&b,
              "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
              "\"web-%s\",\"namespace\":\"" NS "\",\"uid\":\"uid-pod-%s\","
              "\"resourceVersion\":\"7\",\"creationTimestamp\":"
              "\"1970-01-01T00:00:01Z\",%s\"labels\":{\"app\":\"web\","
              "\"" ID_LABEL "\":\"%s\",\"" LB_LABEL_LIFECYCLE "\":\"Normal\"},"
              "\"ownerReferences\":[{\"uid\":\"" CS_UID "\",\"controller\":"
              "true}]},\"spec\":{%s},\"status\":{\"phase\":\"%s\"%s}}",
              id, id,
              *state == 'T' ? "\"deletionTimestamp\":\"1970-01-01T00:00:01Z\","
                            : "",
              id, *state == 'P' ? "" : "\"nodeName\":\"n1\"",
              *state == 'P' ? "Pending" : "Running",
              *state == 'R' ? ",\"conditions\":[{\"type\":\"Ready\",\"status\":"
                              "\"True\",\"lastTransitionTime\":"
                              "\"1970-01-01T00:00:01Z\"}]"
                            : "");
  return lb_buf_detach(&b, NULL);
}

static char *pvc_json(const char *vct, const char *id) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_addf(&b,
              "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\","
              "\"metadata\":{\"name\":\"%s-web-%s\",\"namespace\":\"" NS "\","
              "\"uid\":\"uid-%s-%s\",\"resourceVersion\":\"8\",\"labels\":{"
              "\"app\":\"web\",\"" ID_LABEL "\":\"%s\"},\"ownerReferences\":[{"
              "\"uid\":\"" CS_UID "\",\"controller\":true}]},\"spec\":{}}",
              vct, id, vct, id, id);
  return lb_buf_detach(&b, NULL);
}

static void add_claims(struct h *h, const char *id) {
  h_watchf(h, LB_EV_ADDED, pvc_json("data", id));
  h_watchf(h, LB_EV_ADDED, pvc_json("logs", id));
}

/* ---- reducer through the engine -------------------------------------------
 */
TEST(pvc_scale_up_creates_claims_before_pod) {
  struct h h;
  h_init(&h);
  char *cj = cs_json(2, NULL);
  size_t first = h_watch(&h, 100000, LB_EV_ADDED, cj);
  free(cj);
  ASSERT_EQ_INT(h.ds.n, first + 1);
  const struct lb_decision *d = &h.ds.v[first];
  ASSERT_EQ_INT(count_actions(d, LB_VERB_CREATE, "Pod"), 1);
  ASSERT_EQ_INT(count_actions(d, LB_VERB_CREATE, "PersistentVolumeClaim"), 2);
  size_t ipod, idata, ilogs;
  const struct lb_action *pod =
      find_named(d, LB_VERB_CREATE, "Pod", NULL, &ipod);
  const char *id = pod->name + 4;
  char data[64], logs[64];
  snprintf(data, sizeof data, "data-web-%s", id);
  snprintf(logs, sizeof logs, "logs-web-%s", id);
  const struct lb_action *pd =
      find_named(d, LB_VERB_CREATE, "PersistentVolumeClaim", data, &idata);
  const struct lb_action *pl =
      find_named(d, LB_VERB_CREATE, "PersistentVolumeClaim", logs, &ilogs);
  ASSERT(pd && pl);
  ASSERT(idata < ipod && ilogs < ipod); /* claims before the pod */
  ASSERT_EQ_STR(pd->api_group, "");
  ASSERT_JPATH(pd->body, "kind", "PersistentVolumeClaim");
  ASSERT_JPATH(pd->body, "metadata|name", data);
  ASSERT_JPATH(pd->body, "metadata|namespace", NS);
  ASSERT_JPATH(pd->body, "metadata|labels|app", "web");
  ASSERT_JPATH(pd->body, "metadata|labels|tier", "db");
  ASSERT_JPATH(pd->body, "metadata|labels|" ID_LABEL, id);
  ASSERT_JPATH(pd->body, "metadata|ownerReferences|0|uid", CS_UID);
  ASSERT_JPATH(pd->body, "metadata|ownerReferences|0|controller", "true");
  ASSERT_JPATH(pd->body, "metadata|ownerReferences|0|kind", "CloneSet");
  ASSERT_JPATH(pd->body, "spec|resources|requests|storage", "1Gi");
  ASSERT_JPATH(pl->body, "spec|resources|requests|storage", "2Gi");
  /* the pod mounts them: template volume "data" replaced, "cfg" kept */
  ASSERT_JPATH(pod->body, "spec|volumes|0|name", "data");
  ASSERT_JPATH(pod->body, "spec|volumes|0|persistentVolumeClaim|claimName",
               data);
  ASSERT_JPATH(pod->body, "spec|volumes|1|name", "logs");
  ASSERT_JPATH(pod->body, "spec|volumes|1|persistentVolumeClaim|claimName",
               logs);
  ASSERT_JPATH(pod->body, "spec|volumes|2|name", "cfg");
  char *v3 = jpath(pod->body, "spec|volumes|3");
  ASSERT(!v3);
  h_free(&h);
}

TEST(pvc_scale_down_deletes_pod_and_its_claims) {
  struct h h;
  h_init(&h);
  h_watchf(&h, LB_EV_ADDED, pod_json("aaaaa", "R"));
  h_watchf(&h, LB_EV_ADDED, pod_json("bbbbb", "P"));
  add_claims(&h, "aaaaa");
  add_claims(&h, "bbbbb");
  size_t first = h.ds.n;
  char *cj = cs_json(1, NULL);
  h_watch(&h, 100000, LB_EV_ADDED, cj);
  free(cj);
  ASSERT_EQ_INT(h.ds.n, first + 1);
  const struct lb_decision *d = &h.ds.v[first];
  ASSERT_CONTAINS(d->reason, "deleting 1 (web-bbbbb)");
  ASSERT_EQ_INT(count_actions(d, LB_VERB_DELETE, "Pod"), 1);
  ASSERT_EQ_INT(count_actions(d, LB_VERB_DELETE, "PersistentVolumeClaim"), 2);
  size_t ipod, i1, i2;
  ASSERT(find_named(d, LB_VERB_DELETE, "Pod", "web-bbbbb", &ipod));
  const struct lb_action *a1 = find_named(
      d, LB_VERB_DELETE, "PersistentVolumeClaim", "data-web-bbbbb", &i1);
  const struct lb_action *a2 = find_named(
      d, LB_VERB_DELETE, "PersistentVolumeClaim", "logs-web-bbbbb", &i2);
  ASSERT(a1 && a2);
  ASSERT_EQ_STR(a1->uid, "uid-data-bbbbb"); /* uid precondition */
  ASSERT(i1 < ipod && i2 < ipod);
  h_free(&h);
}

TEST(pvc_recreate_reuses_instance_id_and_claims) {
  struct h h;
  h_init(&h);
  h_watchf(&h, LB_EV_ADDED, pod_json("aaaaa", "R"));
  add_claims(&h, "aaaaa");
  add_claims(&h, "zzzzz"); /* orphans: their pods went */
  add_claims(&h, "ccccc");
  size_t first = h.ds.n;
  char *cj = cs_json(3, NULL);
  h_watch(&h, 100000, LB_EV_ADDED, cj);
  free(cj);
  const struct lb_decision *d = &h.ds.v[first];
  /* slow start: batch 1 of 2; the lowest orphan id first */
  ASSERT_EQ_INT(count_actions(d, LB_VERB_CREATE, "Pod"), 1);
  ASSERT(find_named(d, LB_VERB_CREATE, "Pod", "web-ccccc", NULL));
  ASSERT_EQ_INT(count_actions(d, LB_VERB_CREATE, "PersistentVolumeClaim"), 0);
  const struct lb_action *p =
      find_named(d, LB_VERB_CREATE, "Pod", "web-ccccc", NULL);
  ASSERT_JPATH(p->body, "metadata|labels|" ID_LABEL, "ccccc");
  ASSERT_JPATH(p->body, "spec|volumes|0|persistentVolumeClaim|claimName",
               "data-web-ccccc");
  h_free(&h);
}

TEST(pvc_reuse_waits_for_terminating_pod) {
  struct h h;
  h_init(&h);
  h_watchf(&h, LB_EV_ADDED, pod_json("ccccc", "T"));
  add_claims(&h, "ccccc");
  size_t first = h.ds.n;
  char *cj = cs_json(1, NULL);
  h_watch(&h, 100000, LB_EV_ADDED, cj);
  free(cj);
  const struct lb_decision *d = &h.ds.v[first];
  ASSERT_EQ_INT(count_actions(d, LB_VERB_CREATE, "Pod"), 0);
  ASSERT_CONTAINS(d->reason, "wait for their terminating pod");
  /* while a revision or claim action is in flight, ids are not chosen */
  struct lb_action crev;
  ASSERT_OK(lb_action_copy(
      &crev, find_named(d, LB_VERB_CREATE, "ControllerRevision", NULL, NULL)));
  char *pj0 = pod_json("ccccc", "T");
  first = h_watch(&h, 100500, LB_EV_DELETED, pj0);
  free(pj0);
  ASSERT_EQ_INT(h.ds.n, first + 1);
  ASSERT_EQ_INT(count_actions(&h.ds.v[first], LB_VERB_CREATE, "Pod"), 0);
  ASSERT_CONTAINS(h.ds.v[first].reason, "claim actions are in flight");
  /* the revision lands: the id and its claims come back */
  first = h_answer(&h, 101000, &crev, 409, NULL);
  lb_action_release(&crev);
  ASSERT_EQ_INT(h.ds.n, first + 1);
  d = &h.ds.v[first];
  ASSERT(find_named(d, LB_VERB_CREATE, "Pod", "web-ccccc", NULL));
  ASSERT_EQ_INT(count_actions(d, LB_VERB_CREATE, "PersistentVolumeClaim"), 0);
  h_free(&h);
}

TEST(pvc_disable_reuse_hands_over_and_deletes) {
  struct h h;
  h_init(&h);
  h_watchf(&h, LB_EV_ADDED, pod_json("ccccc", "T"));
  add_claims(&h, "ccccc"); /* of an inactive pod: handed to it */
  add_claims(&h, "ddddd"); /* no pod at all: deleted */
  size_t first = h.ds.n;
  char *cj = cs_json(1, ",\"scaleStrategy\":{\"disablePVCReuse\":true}");
  h_watch(&h, 100000, LB_EV_ADDED, cj);
  free(cj);
  const struct lb_decision *d = &h.ds.v[first];
  const struct lb_action *a = find_named(
      d, LB_VERB_PATCH, "PersistentVolumeClaim", "data-web-ccccc", NULL);
  ASSERT(a);
  ASSERT_JPATH(a->body, "metadata|ownerReferences|0|kind", "Pod");
  ASSERT_JPATH(a->body, "metadata|ownerReferences|0|name", "web-ccccc");
  ASSERT_JPATH(a->body, "metadata|ownerReferences|0|uid", "uid-pod-ccccc");
  char *one = jpath(a->body, "metadata|ownerReferences|1");
  ASSERT(!one);
  ASSERT(find_named(d, LB_VERB_PATCH, "PersistentVolumeClaim", "logs-web-ccccc",
                    NULL));
  ASSERT(find_named(d, LB_VERB_DELETE, "PersistentVolumeClaim",
                    "data-web-ddddd", NULL));
  ASSERT(find_named(d, LB_VERB_DELETE, "PersistentVolumeClaim",
                    "logs-web-ddddd", NULL));
  ASSERT_CONTAINS(d->reason, "disablePVCReuse");
  /* the replacement gets a fresh id and fresh claims, without waiting */
  const struct lb_action *p = find_named(d, LB_VERB_CREATE, "Pod", NULL, NULL);
  ASSERT(p);
  ASSERT(strcmp(p->name, "web-ccccc") && strcmp(p->name, "web-ddddd"));
  ASSERT_EQ_INT(count_actions(d, LB_VERB_CREATE, "PersistentVolumeClaim"), 2);
  h_free(&h);
}
