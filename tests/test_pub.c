/* test_pub.c — the PodUnavailableBudget controller (engine/pub.c): status
 * arithmetic by table (percent rounding, 0, clamping, what counts as
 * available), expected replicas through owner chains and targetRef, ledger
 * expiry by ticks (20 s disrupted, 10 s unavailable), two disruptions in
 * one batch, related-pub annotation patches, the CloneSet asking the
 * budget before it deletes, and snapshot/restore of the ledger. */
#include <json-c/json.h>

#include "../engine/cloneset.h"
#include "../engine/engine.h"
#include "../engine/err.h"
#include "../engine/obj.h"
#include "../engine/util.h"
#include "admtest.h"
#include "test.h"

static char *pub(const char *spec, const char *annotations) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_adds(&b, "{\"apiVersion\":\"policy.kruise.io/v1alpha1\",\"kind\":"
                  "\"PodUnavailableBudget\",\"metadata\":{\"name\":\"pub\","
                  "\"namespace\":\"default\",\"uid\":\"pub-1\","
                  "\"generation\":2");
  if (annotations)
    lb_buf_addf(&b, ",\"annotations\":%s", annotations);
  lb_buf_addf(&b, "},\"spec\":%s}", spec);
  return lb_buf_detach(&b, NULL);
}

/* The last status patch the PUB reducer or a verdict wrote, or NULL. */
static const char *last_status(struct adm *h) {
  for (size_t i = h->ds.n; i-- > 0;)
    for (size_t a = h->ds.v[i].n_actions; a-- > 0;)
      if (!strcmp(h->ds.v[i].actions[a].kind, "PodUnavailableBudget") &&
          !strcmp(h->ds.v[i].actions[a].sub, "status"))
        return h->ds.v[i].actions[a].body;
  return NULL;
}

static int64_t st_int(const char *json, const char *key) {
  struct json_object *root = json_tokener_parse(json), *st, *v;
  int64_t out = -999;
  if (root && json_object_object_get_ex(root, "status", &st) &&
      json_object_object_get_ex(st, key, &v))
    out = json_object_get_int64(v);
  json_object_put(root);
  return out;
}

/* "p0" -> the status map value: time string, "null", or NULL if absent */
static char *st_map(const char *json, const char *map, const char *pod) {
  struct json_object *root = json_tokener_parse(json), *st, *m, *v;
  char *out = NULL;
  if (root && json_object_object_get_ex(root, "status", &st) &&
      json_object_object_get_ex(st, map, &m) &&
      json_object_object_get_ex(m, pod, &v))
    out = lb_strdup(v ? json_object_get_string(v) : "null");
  json_object_put(root);
  return out;
}

/* The PUB as the fake apiserver holds it (its status follows the patches
 * answered below), and a resourceVersion counter. */
static char *g_pub;
static int g_rv = 10;

static void pub_add(struct adm *h, int64_t at, const char *spec,
                    const char *annotations) {
  free(g_pub);
  g_pub = pub(spec, annotations);
  adm_watch(h, at, LB_EV_ADDED, g_pub);
}

/* Answers the oldest in-flight PUB status patch with 200 and the object
 * after the merge patch (the status members, null map entries removed),
 * as the apiserver does; the next patch is decided after that outcome.
 * Returns 0 when nothing was in flight. */
static int answer_status(struct adm *h, int64_t at) {
  int64_t *ids;
  size_t n;
  ASSERT_OK(lb_engine_inflight_ids(h->e, &ids, &n));
  for (size_t k = 0; k < n; k++)
    for (size_t i = 0; i < h->ds.n; i++)
      for (size_t a = 0; a < h->ds.v[i].n_actions; a++) {
        const struct lb_action *x = &h->ds.v[i].actions[a];
        if (x->id != ids[k] || strcmp(x->kind, "PodUnavailableBudget") ||
            strcmp(x->sub, "status"))
          continue;
        struct lb_action copy;
        ASSERT_OK(lb_action_copy(&copy, x));
        free(ids);
        struct json_object *obj = json_tokener_parse(g_pub);
        struct json_object *patch = json_tokener_parse(copy.body), *st, *meta;
        ASSERT(obj && patch && json_object_object_get_ex(patch, "status", &st));
        static const char *const maps[] = {"disruptedPods", "unavailablePods"};
        for (int m = 0; m < 2; m++) {
          struct json_object *mm, *clean = json_object_new_object();
          if (json_object_object_get_ex(st, maps[m], &mm)) {
            json_object_object_foreach(mm, key, val) {
              if (val)
                json_object_object_add(clean, key, json_object_get(val));
            }
          }
          json_object_object_add(st, maps[m], clean);
        }
        json_object_object_add(obj, "status", json_object_get(st));
        json_object_object_get_ex(obj, "metadata", &meta);
        json_object_object_add(meta, "resourceVersion",
                               json_object_new_string_len("", 0));
        char rv[16];
        snprintf(rv, sizeof rv, "%d", ++g_rv);
        json_object_object_add(meta, "resourceVersion",
                               json_object_new_string(rv));
        free(g_pub);
        g_pub = lb_strdup(
            json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
        json_object_put(obj);
        json_object_put(patch);
        adm_answer(h, at, &copy, g_pub);
        lb_action_release(&copy);
        return 1;
      }
  free(ids);
  return 0;
}

static void settle(struct adm *h, int64_t at) {
  for (int i = 0; i < 20 && answer_status(h, at); i++)
    ;
  ASSERT(!answer_status(h, at)); /* converged: no status write loops */
}

TEST(pub_status_arithmetic_table) {
  static const struct {
    const char *spec_tail; /* after the selector */
    int pods, ready;
    const char *extra_pod; /* a further pod (JSON labels+state) or NULL */
    int total, desired, current, allowed;
  } t[] = {
      {"\"maxUnavailable\":1", 3, 3, NULL, 3, 2, 3, 1},
      {"\"maxUnavailable\":\"25%\"", 10, 10, NULL, 10, 7, 10, 3},
      {"\"maxUnavailable\":\"25%\"", 10, 6, NULL, 10, 7, 6, 0},
      {"\"minAvailable\":\"25%\"", 10, 10, NULL, 10, 3, 10, 7},
      {"\"minAvailable\":\"30%\"", 3, 3, NULL, 3, 1, 3, 2},
      {"\"minAvailable\":5", 3, 3, NULL, 3, 5, 3, 0},
      {"\"maxUnavailable\":\"0%\"", 4, 4, NULL, 4, 4, 4, 0},
      {"\"maxUnavailable\":0", 0, 0, NULL, 0, 0, 0, 0},
      {"\"maxUnavailable\":\"100%\"", 4, 4, NULL, 4, 0, 4, 4},
      {"\"minAvailable\":\"0%\"", 2, 2, NULL, 2, 0, 2, 2},
      {"\"maxUnavailable\":5", 3, 3, NULL, 3, 0, 3, 3},
      {"\"maxUnavailable\":\"50%\"", 3, 3, NULL, 3, 1, 3, 2}, /* ceil 1.5 */
      /* a pod with an unavailable-pod label is not available */
      {"\"maxUnavailable\":1", 2, 2, "UNAV", 3, 2, 2, 0},
      /* an in-place update under way is not available */
      {"\"maxUnavailable\":1", 2, 2, "INPLACE", 3, 2, 2, 0},
      /* a terminating pod is neither counted nor expected */
      {"\"maxUnavailable\":1", 2, 2, "TERM", 2, 1, 2, 1},
      /* a pod of another app is not covered */
      {"\"maxUnavailable\":1", 2, 2, "OTHER", 2, 1, 2, 1},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(t); i++) {
    struct adm h;
    char spec[256];
    adm_init(&h, NULL);
    snprintf(spec, sizeof spec,
             "{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},%s}",
             t[i].spec_tail);
    pub_add(&h, 100, spec, NULL);
    for (int k = 0; k < t[i].pods; k++) {
      char name[16];
      snprintf(name, sizeof name, "p%02d", k);
      char *pod = adm_pod("default", name, "{\"app\":\"web\"}", NULL, NULL,
                          NULL, NULL, k < t[i].ready, "Running");
      adm_watch(&h, 200, LB_EV_ADDED, pod);
      free(pod);
    }
    if (t[i].extra_pod) {
      char *pod = NULL;
      if (!strcmp(t[i].extra_pod, "UNAV"))
        pod = adm_pod("default", "x",
                      "{\"app\":\"web\",\"unavailable-pod."
                      "kruise.io/x\":\"1\"}",
                      NULL, NULL, NULL, NULL, 1, "Running");
      else if (!strcmp(t[i].extra_pod, "OTHER"))
        pod = adm_pod("default", "x", "{\"app\":\"db\"}", NULL, NULL, NULL,
                      NULL, 1, "Running");
      else if (!strcmp(t[i].extra_pod, "TERM"))
        pod = lb_strdup(
            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
            "\"x\",\"namespace\":\"default\",\"uid\":\"ux\",\"labels\":{"
            "\"app\":\"web\"},\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"},"
            "\"spec\":{},\"status\":{\"phase\":\"Running\",\"conditions\":[{"
            "\"type\":\"Ready\",\"status\":\"True\"}]}}");
      else
        pod = lb_strdup(
            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
            "\"x\",\"namespace\":\"default\",\"uid\":\"ux\",\"labels\":{"
            "\"app\":\"web\"}},\"spec\":{},\"status\":{\"phase\":\"Running\","
            "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"},{"
            "\"type\":\"InPlaceUpdateReady\",\"status\":\"False\"}]}}");
      adm_watch(&h, 300, LB_EV_ADDED, pod);
      free(pod);
    }
    /* let the status patches land until the reducer is satisfied */
    settle(&h, 400);
    const char *st = last_status(&h);
    ASSERT(st);
    if (st_int(st, "totalReplicas") != t[i].total ||
        st_int(st, "desiredAvailable") != t[i].desired ||
        st_int(st, "currentAvailable") != t[i].current ||
        st_int(st, "unavailableAllowed") != t[i].allowed)
      lb_test_fail(__FILE__, __LINE__,
                   "case %zu (%s): got %s; want total %d desired %d current "
                   "%d allowed %d",
                   i, t[i].spec_tail, st, t[i].total, t[i].desired,
                   t[i].current, t[i].allowed);
    ASSERT_EQ_INT(st_int(st, "observedGeneration"), 2);
    adm_free(&h);
  }
}

/* Deployment -> ReplicaSet -> pods; the budget counts the Deployment's
 * replicas once, and a deleted Deployment expects nothing (scenario 22). */
TEST(pub_expected_replicas_through_owners_and_target) {
  static const char *const specs[] = {
      "{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"maxUnavailable\":"
      "0}",
      "{\"targetRef\":{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
      "\"name\":\"web\"},\"maxUnavailable\":0}",
  };
  for (size_t s = 0; s < LB_ARRAY_SIZE(specs); s++) {
    struct adm h;
    struct adm_resp r;
    adm_init(&h, NULL);
    adm_watch(&h, 100, LB_EV_ADDED,
              "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\""
              ":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"d1\"},"
              "\"spec\":{\"replicas\":2}}");
    for (int k = 0; k < 2; k++) { /* two ReplicaSets mid-rollout */
      char rs[512];
      snprintf(
          rs, sizeof rs,
          "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\""
          ":{\"name\":\"web-%d\",\"namespace\":\"default\",\"uid\":\"rs%d\","
          "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":"
          "\"Deployment\",\"name\":\"web\",\"uid\":\"d1\",\"controller\":"
          "true}]},\"spec\":{\"replicas\":%d}}",
          k, k, k);
      adm_watch(&h, 100, LB_EV_ADDED, rs);
      char name[16], uid[8];
      snprintf(name, sizeof name, "web-%d-a", k);
      snprintf(uid, sizeof uid, "rs%d", k);
      char *pod = adm_pod("default", name, "{\"app\":\"web\"}",
                          "{\"kruise.io/related-pub\":\"pub\"}", "apps/v1",
                          "ReplicaSet", uid, 1, "Running");
      adm_watch(&h, 100, LB_EV_ADDED, pod);
      free(pod);
    }
    pub_add(&h, 200, specs[s], NULL);
    const char *st = last_status(&h);
    ASSERT(st);
    ASSERT_EQ_INT(st_int(st, "totalReplicas"), 2);
    ASSERT_EQ_INT(st_int(st, "desiredAvailable"), 2);
    ASSERT_EQ_INT(st_int(st, "unavailableAllowed"), 0);
    char *pod = adm_pod("default", "web-0-a", "{\"app\":\"web\"}",
                        "{\"kruise.io/related-pub\":\"pub\"}", "apps/v1",
                        "ReplicaSet", "rs0", 1, "Running");
    struct adm_req q = {.path = "/validate-pod",
                        .op = "DELETE",
                        .ns = "default",
                        .name = "web-0-a",
                        .old = pod};
    adm_parse(adm_review(&h, 300, &q), &r);
    ASSERT(!r.allowed);
    adm_resp_release(&r);
    /* the Deployment goes: nothing is expected any more */
    adm_watch(&h, 400, LB_EV_DELETED,
              "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\""
              ":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"d1\"},"
              "\"spec\":{\"replicas\":2}}");
    const struct lb_decision *d = adm_review(&h, 500, &q);
    adm_parse(d, &r);
    ASSERT(r.allowed);
    ASSERT_CONTAINS(d->reason, "desiredAvailable is 0");
    adm_resp_release(&r);
    free(pod);
    adm_free(&h);
  }
}

TEST(pub_ledger_expires_by_ticks) {
  struct adm h;
  struct adm_resp r;
  adm_init(&h, NULL);
  pub_add(&h, 100,
          "{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
          "\"maxUnavailable\":1}",
          NULL);
  char *pods[3];
  for (int k = 0; k < 3; k++) {
    char name[8];
    snprintf(name, sizeof name, "p%d", k);
    pods[k] = adm_pod("default", name, "{\"app\":\"web\"}",
                      "{\"kruise.io/related-pub\":\"pub\"}", NULL, NULL, NULL,
                      1, "Running");
    adm_watch(&h, 100, LB_EV_ADDED, pods[k]);
  }
  settle(&h, 150);
  /* DELETE p0 at 1000: recorded for 20 s */
  struct adm_req q = {.path = "/validate-pod",
                      .op = "DELETE",
                      .ns = "default",
                      .name = "p0",
                      .old = pods[0]};
  adm_parse(adm_review(&h, 1000, &q), &r);
  ASSERT(r.allowed);
  adm_resp_release(&r);
  char *v = st_map(last_status(&h), "disruptedPods", "p0");
  ASSERT_EQ_STR(v, "1970-01-01T00:00:01Z");
  free(v);
  ASSERT_EQ_INT(st_int(last_status(&h), "unavailableAllowed"), 0);
  ASSERT_EQ_INT(lb_engine_next_wakeup(h.e), 21000);
  settle(&h, 1100);
  /* UPDATE of p1 is refused while p0's disruption holds the budget */
  struct adm_req u = {.path = "/validate-pod",
                      .op = "UPDATE",
                      .ns = "default",
                      .name = "p1",
                      .old = pods[1],
                      .obj = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
                             "\"metadata\":{\"name\":\"p1\",\"annotations\":{"
                             "\"kruise.io/related-pub\":\"pub\"}},\"spec\":{"
                             "\"containers\":[{\"name\":\"c\",\"image\":"
                             "\"img:2\"}]}}"};
  adm_parse(adm_review(&h, 2000, &u), &r);
  ASSERT(!r.allowed);
  adm_resp_release(&r);
  /* 1 ms before expiry: still held */
  size_t before = h.ds.n;
  adm_tick(&h, 20999);
  ASSERT_EQ_INT(h.ds.n, before); /* nothing new to say */
  adm_parse(adm_review(&h, 20999, &u), &r);
  ASSERT(!r.allowed);
  adm_resp_release(&r);
  /* at expiry (p0 still exists: it was not deleted) the entry goes */
  adm_tick(&h, 21000);
  v = st_map(last_status(&h), "disruptedPods", "p0");
  ASSERT_EQ_STR(v, "null");
  free(v);
  ASSERT_EQ_INT(st_int(last_status(&h), "unavailableAllowed"), 1);
  settle(&h, 21001);
  /* UPDATE now passes and is recorded in unavailablePods for 10 s */
  adm_parse(adm_review(&h, 22000, &u), &r);
  ASSERT(r.allowed);
  adm_resp_release(&r);
  v = st_map(last_status(&h), "unavailablePods", "p1");
  ASSERT_EQ_STR(v, "1970-01-01T00:00:22Z");
  free(v);
  ASSERT_EQ_INT(lb_engine_next_wakeup(h.e), 32000);
  settle(&h, 22001);
  adm_tick(&h, 32000);
  v = st_map(last_status(&h), "unavailablePods", "p1");
  ASSERT_EQ_STR(v, "null");
  free(v);
  ASSERT_EQ_INT(lb_engine_next_wakeup(h.e), 0);
  for (int k = 0; k < 3; k++)
    free(pods[k]);
  adm_free(&h);
}

TEST(pub_deleted_pod_leaves_the_ledger_at_once) {
  struct adm h;
  struct adm_resp r;
  adm_init(&h, NULL);
  pub_add(&h, 100,
          "{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
          "\"maxUnavailable\":1}",
          NULL);
  char *p0 = adm_pod("default", "p0", "{\"app\":\"web\"}",
                     "{\"kruise.io/related-pub\":\"pub\"}", NULL, NULL, NULL, 1,
                     "Running");
  char *p1 = adm_pod("default", "p1", "{\"app\":\"web\"}",
                     "{\"kruise.io/related-pub\":\"pub\"}", NULL, NULL, NULL, 1,
                     "Running");
  adm_watch(&h, 100, LB_EV_ADDED, p0);
  adm_watch(&h, 100, LB_EV_ADDED, p1);
  settle(&h, 150);
  struct adm_req q = {.path = "/validate-pod",
                      .op = "DELETE",
                      .ns = "default",
                      .name = "p0",
                      .old = p0};
  adm_parse(adm_review(&h, 1000, &q), &r);
  ASSERT(r.allowed);
  adm_resp_release(&r);
  settle(&h, 1001);
  adm_watch(&h, 1500, LB_EV_DELETED, p0);
  char *v = st_map(last_status(&h), "disruptedPods", "p0");
  ASSERT_EQ_STR(v, "null");
  free(v);
  /* one pod left, one expected less... selector: unowned pods count
   * themselves, so total 1, desired 0 */
  ASSERT_EQ_INT(st_int(last_status(&h), "totalReplicas"), 1);
  free(p0);
  free(p1);
  adm_free(&h);
}

TEST(pub_annotates_covered_pods) {
  struct adm h;
  adm_init(&h, NULL);
  for (int k = 0; k < 3; k++) {
    char name[8];
    snprintf(name, sizeof name, "p%d", k);
    char *pod = adm_pod("default", name,
                        k == 2 ? "{\"app\":\"db\"}" : "{\"app\":\"web\"}",
                        k == 1 ? "{\"kruise.io/related-pub\":\"pub\"}" : NULL,
                        NULL, NULL, NULL, 1, "Running");
    adm_watch(&h, 100, LB_EV_ADDED, pod);
    free(pod);
  }
  char *p = pub("{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
                "\"maxUnavailable\":1}",
                NULL);
  size_t first = adm_watch(&h, 200, LB_EV_ADDED, p);
  free(p);
  int patched = 0;
  for (size_t i = first; i < h.ds.n; i++)
    for (size_t a = 0; a < h.ds.v[i].n_actions; a++) {
      const struct lb_action *x = &h.ds.v[i].actions[a];
      if (!strcmp(x->kind, "Pod")) {
        ASSERT_EQ_STR(x->name, "p0"); /* p1 has it, p2 is not covered */
        ASSERT_EQ_STR(x->body, "{\"metadata\":{\"annotations\":{\"kruise.io/"
                               "related-pub\":\"pub\"}}}");
        patched++;
      }
    }
  ASSERT_EQ_INT(patched, 1);
  adm_free(&h);
}

TEST(pub_snapshot_restore_keeps_the_ledger) {
  struct adm a, b;
  struct adm_resp r;
  adm_init(&a, NULL);
  char *p = pub("{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
                "\"maxUnavailable\":1}",
                NULL);
  adm_watch(&a, 100, LB_EV_ADDED, p);
  free(p);
  char *p0 = adm_pod("default", "p0", "{\"app\":\"web\"}",
                     "{\"kruise.io/related-pub\":\"pub\"}", NULL, NULL, NULL, 1,
                     "Running");
  char *p1 = adm_pod("default", "p1", "{\"app\":\"web\"}",
                     "{\"kruise.io/related-pub\":\"pub\"}", NULL, NULL, NULL, 1,
                     "Running");
  adm_watch(&a, 100, LB_EV_ADDED, p0);
  adm_watch(&a, 100, LB_EV_ADDED, p1);
  struct adm_req q = {.path = "/validate-pod",
                      .op = "DELETE",
                      .ns = "default",
                      .name = "p0",
                      .old = p0};
  adm_parse(adm_review(&a, 1000, &q), &r);
  ASSERT(r.allowed);
  adm_resp_release(&r);
  char *blob;
  size_t len;
  ASSERT_OK(lb_engine_snapshot(a.e, &blob, &len));
  adm_init(&b, NULL);
  ASSERT_OK(lb_engine_restore(b.e, blob, len));
  ASSERT_EQ_U64(lb_engine_digest(b.e), lb_engine_digest(a.e));
  ASSERT_EQ_INT(lb_engine_next_wakeup(b.e), lb_engine_next_wakeup(a.e));
  b.seq = a.seq;
  /* both refuse p1 now: the restored ledger still holds p0 */
  struct adm_req q1 = q;
  q1.name = "p1";
  q1.old = p1;
  const struct lb_decision *da = adm_review(&a, 2000, &q1);
  const struct lb_decision *db = adm_review(&b, 2000, &q1);
  ASSERT_EQ_STR(da->canonical, db->canonical);
  adm_parse(db, &r);
  ASSERT(!r.allowed);
  adm_resp_release(&r);
  ASSERT_EQ_U64(lb_engine_digest(b.e), lb_engine_digest(a.e));
  free(blob);
  free(p0);
  free(p1);
  adm_free(&a);
  adm_free(&b);
}

/* ---- the CloneSet asks the budget --------------------------------------- */

/* A PUB, three ready pods of CloneSet web at the nginx:1 revision, then the
 * CloneSet (replicas, template image) whose first reconcile decides. */
static void cs_world(struct adm *h, const char *pub_spec, int replicas,
                     const char *image) {
  char data[512], hash[16], rev[64];
  snprintf(data, sizeof data,
           "{\"spec\":{\"template\":{\"$patch\":\"replace\",\"metadata\":{"
           "\"creationTimestamp\":null,\"labels\":{\"app\":\"web\"}},\"spec\":{"
           "\"containers\":[{"
           "\"image\":\"nginx:1\",\"name\":\"c\",\"resources\":{}}]}}}}");
  lb_cs_revision_hash(data, 0, hash, sizeof hash);
  snprintf(rev, sizeof rev, "web-%s", hash);
  pub_add(h, 100, pub_spec, NULL);
  for (int k = 0; k < 3; k++) {
    char pod[2048];
    snprintf(pod, sizeof pod,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
             "\"web-%c\",\"namespace\":\"default\",\"uid\":\"u%d\","
             "\"creationTimestamp\":\"1970-01-01T00:00:01Z\",\"labels\":{"
             "\"app\":\"web\",\"controller-revision-hash\":\"%s\","
             "\"lifecycle.apps.kruise.io/state\":\"Normal\"},"
             "\"annotations\":{\"kruise.io/related-pub\":\"pub\"},"
             "\"ownerReferences\":[{\"apiVersion\":\"apps.kruise.io/v1alpha1\","
             "\"kind\":\"CloneSet\",\"name\":\"web\",\"uid\":\"cs1\","
             "\"controller\":true}]},\"spec\":{\"nodeName\":\"n%d\","
             "\"readinessGates\":[{\"conditionType\":\"InPlaceUpdateReady\"}],"
             "\"containers\":[{\"name\":\"c\",\"image\":\"nginx:1\"}]},"
             "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":"
             "\"Ready\",\"status\":\"True\",\"lastTransitionTime\":"
             "\"1970-01-01T00:00:02Z\"},{\"type\":\"InPlaceUpdateReady\","
             "\"status\":\"True\"}]}}",
             'a' + k, k, rev, k);
    adm_watch(h, 100, LB_EV_ADDED, pod);
  }
  settle(h, 200);
  char cs[2048];
  snprintf(cs, sizeof cs,
           "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":\"CloneSet\","
           "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":"
           "\"cs1\",\"generation\":1},\"spec\":{\"replicas\":%d,\"selector\":"
           "{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{"
           "\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{"
           "\"image\":\"%s\",\"name\":\"c\"}]}}},\"status\":{"
           "\"currentRevision\":\"%s\"}}",
           replicas, image, rev);
  adm_watch(h, 10000, LB_EV_ADDED, cs);
}

static const struct lb_decision *cs_decision(struct adm *h) {
  for (size_t i = h->ds.n; i-- > 0;)
    if (!strcmp(h->ds.v[i].reducer, "cloneset"))
      return &h->ds.v[i];
  return NULL;
}

TEST(pub_cloneset_scale_down_honours_the_budget) {
  static const struct {
    const char *spec;
    int deletes;
    const char *want;
  } t[] = {
      /* targetRef: expected = CloneSet replicas 2, desired 2 - 0 = 2,
       * current 3, allowed 1: one deletion, recorded */
      {"{\"targetRef\":{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":"
       "\"CloneSet\",\"name\":\"web\"},\"maxUnavailable\":0}",
       1, "scale down"},
      /* minAvailable 3: allowed 0, the victim is held */
      {"{\"targetRef\":{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":"
       "\"CloneSet\",\"name\":\"web\"},\"minAvailable\":3}",
       0, "held: pub unavailable allowed is negative"},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(t); i++) {
    struct adm h;
    adm_init(&h, NULL);
    cs_world(&h, t[i].spec, 2, "nginx:1");
    const struct lb_decision *d = cs_decision(&h);
    ASSERT(d);
    int deletes = 0;
    for (size_t a = 0; a < d->n_actions; a++)
      deletes += d->actions[a].verb == LB_VERB_DELETE &&
                 !strcmp(d->actions[a].kind, "Pod");
    if (deletes != t[i].deletes || !strstr(d->reason, t[i].want))
      lb_test_fail(__FILE__, __LINE__, "case %zu: %d deletes: %s", i, deletes,
                   d->reason);
    if (t[i].deletes) {
      /* the PUB reducer (same fold) records the disruption in its status */
      const char *st = last_status(&h);
      ASSERT(st);
      ASSERT_CONTAINS(st, "\"disruptedPods\":{\"web-");
      ASSERT_EQ_INT(st_int(st, "unavailableAllowed"), 0);
    } else {
      ASSERT_EQ_INT(lb_engine_next_wakeup(h.e), 11000); /* retry in 1 s */
    }
    adm_free(&h);
  }
  /* the gate off: the CloneSet deletes without asking */
  struct adm h;
  struct lb_engine_opts o = LB_ENGINE_OPTS_INIT;
  o.pub_delete_gate = 0;
  adm_init(&h, &o);
  cs_world(&h, t[1].spec, 2, "nginx:1");
  ASSERT_CONTAINS(cs_decision(&h)->reason, "scale down");
  adm_free(&h);
}

/* ReCreate update (PodUnavailableBudgetUpdateGate): the CloneSet asks
 * before it labels a pod for recreation; the record is an unavailablePods
 * entry, so the later DELETE of that pod passes at once. */
TEST(pub_cloneset_update_honours_the_budget) {
  static const struct {
    const char *spec;
    int labelled;
    const char *want;
  } t[] = {
      {"{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
       "\"maxUnavailable\":1}",
       1, "update to web-"},
      {"{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
       "\"minAvailable\":3}",
       0, "held: pub unavailable allowed is negative"},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(t); i++) {
    struct adm h;
    adm_init(&h, NULL);
    cs_world(&h, t[i].spec, 3, "nginx:2");
    const struct lb_decision *d = cs_decision(&h);
    ASSERT(d);
    int labelled = 0;
    const char *who = NULL;
    for (size_t a = 0; a < d->n_actions; a++)
      if (d->actions[a].verb == LB_VERB_PATCH &&
          !strcmp(d->actions[a].kind, "Pod") &&
          strstr(d->actions[a].body, "apps.kruise.io/specified-delete")) {
        labelled++;
        who = d->actions[a].name;
      }
    if (labelled != t[i].labelled || !strstr(d->reason, t[i].want))
      lb_test_fail(__FILE__, __LINE__, "case %zu: %d labelled: %s", i, labelled,
                   d->reason);
    if (labelled) {
      const char *st = last_status(&h);
      char *v = st_map(st, "unavailablePods", who);
      ASSERT(v && strcmp(v, "null"));
      free(v);
    }
    adm_free(&h);
  }
}
