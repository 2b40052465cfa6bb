/* test_revision.c — ControllerRevision history (engine/revision.h): GC
 * selection and rollback detection by table; then the reducer through the
 * engine API: a new revision's number and metadata, GC keeping
 * revisionHistoryLimit (0, 1, 10), pods keeping their revision alive, and
 * rollback reusing the old revision's name. Helpers copied from
 * test_engine.c. */
#include <json-c/json.h>

#include "../engine/cloneset.h"
#include "../engine/decision.h"
#include "../engine/engine.h"
#include "../engine/err.h"
#include "../engine/event.h"
#include "../engine/obj.h"
#include "../engine/revision.h"
#include "../engine/util.h"
#include "test.h"

#define NS "default"
#define CS_UID "cs-uid-1"

/* ---- pure tables -----------------------------------------------------------
 */
TEST(revision_gc_select_table) {
  static const struct {
    const char *live; /* per revision, oldest first: 'L' live, '.' dead */
    int limit;
    const char *doomed; /* 'x' deleted */
  } rows[] = {
      {"", 0, ""},
      {"....", 0, "xxxx"},
      {"....", 1, "xxx."},
      {"....", 10, "...."},
      {"L..L.", 0, ".xx.x"},
      {"L..L.", 1, ".xx.."},
      {"L..L.", 10, "....."},
      {".L.L.", 1, "x.x.."},
      {"LLLL", 0, "...."},
      {"............", 10, "xx.........."},
      {"..", -3, "xx"}, /* negative limit acts as 0 */
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++) {
    size_t n = strlen(rows[i].live), want = 0;
    int live[16], doomed[16];
    char got[17];
    for (size_t k = 0; k < n; k++) {
      live[k] = rows[i].live[k] == 'L';
      want += rows[i].doomed[k] == 'x';
    }
    size_t m = lb_rev_gc_select(n, live, rows[i].limit, doomed);
    for (size_t k = 0; k < n; k++)
      got[k] = doomed[k] ? 'x' : '.';
    got[n] = '\0';
    if (strcmp(got, rows[i].doomed) || m != want)
      lb_test_fail(__FILE__, __LINE__, "live %s limit %d: doomed %s, want %s",
                   rows[i].live, rows[i].limit, got, rows[i].doomed);
  }
}

TEST(revision_rollback_detection_table) {
  struct lb_crev r[4];
  struct lb_crev *v[4];
  static const struct {
    const char *name, *data;
    int64_t rev;
  } in[] = {{"web-a", "{\"x\":1}", 1},
            {"web-b", "{\"x\":2}", 2},
            {"web-c", "{\"x\":1}", 3},
            {"web-d", "{\"x\":3}", 4}};
  memset(r, 0, sizeof r);
  for (size_t i = 0; i < 4; i++) {
    r[i].o.kind = LB_KIND_CREV;
    r[i].o.name = (char *)in[i].name;
    r[i].data = (char *)in[i].data;
    r[i].revision = in[i].rev;
    v[i] = &r[i];
  }
  static const struct {
    const char *data, *want;          /* NULL: no equal revision */
  } rows[] = {{"{\"x\":1}", "web-c"}, /* newest of the equal ones */
              {"{\"x\":2}", "web-b"},
              {"{\"x\":3}", "web-d"},
              {"{\"x\":4}", NULL},
              {"", NULL}};
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++) {
    const struct lb_crev *eq = lb_rev_find_equal(v, 4, rows[i].data);
    if (!rows[i].want)
      ASSERT(!eq);
    else
      ASSERT_EQ_STR(eq ? eq->o.name : NULL, rows[i].want);
  }
  ASSERT_EQ_INT(lb_rev_max(v, 4), 4);
  ASSERT_EQ_INT(lb_rev_max(v, 0), 0);
  ASSERT_EQ_STR(lb_rev_short_hash("web-abc-5d8f"), "5d8f");
  ASSERT_EQ_STR(lb_rev_short_hash("5d8f"), "5d8f");
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
static void h_watchf(struct h *h, char *body) {
  h_watch(h, 1000, LB_EV_ADDED, body);
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
                                          const char *kind, const char *name) {
  for (size_t i = 0; i < d->n_actions; i++)
    if (d->actions[i].verb == verb && !strcmp(d->actions[i].kind, kind) &&
        (!name || !strcmp(d->actions[i].name, name)))
      return &d->actions[i];
  return NULL;
}

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
#define TEMPLATE_FMT                                                           \
  "{\"metadata\":{\"labels\":{\"app\":\"web\",\"tier\":\"fe\"}},\"spec\":{"    \
  "\"containers\":[{\"image\":\"%s\",\"name\":\"c\"}]}}"

static char *revision_data(const char *image) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_addf(
      &b,
      "{\"spec\":{\"template\":{\"$patch\":\"replace\",\"metadata\":{"
      "\"creationTimestamp\":null,\"labels\":{\"app\":\"web\",\"tier\":\"fe\"}}"
      ",\"spec\":{"
      "\"containers\":[{\"image\":\"%s\",\"name\":\"c\",\"resources\":{}}]}}}}",
      image);
  return lb_buf_detach(&b, NULL);
}

static char *cs_json(int replicas, const char *image, int history,
                     const char *extra) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_addf(&b,
              "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":"
              "\"CloneSet\",\"metadata\":{\"name\":\"web\",\"namespace\":\"" NS
              "\",\"uid\":\"" CS_UID "\",\"resourceVersion\":\"5\","
              "\"generation\":1},\"spec\":{\"replicas\":%d,\"selector\":{"
              "\"matchLabels\":{\"app\":\"web\"}},\"template\":" TEMPLATE_FMT
              ",\"revisionHistoryLimit\":%d%s}}",
              replicas, image, history, extra ? extra : "");
  return lb_buf_detach(&b, NULL);
}

static char *crev_json(const char *name, int64_t revision, const char *image) {
  struct lb_buf b = LB_BUF_INIT;
  char *data = revision_data(image);
  lb_buf_addf(&b,
              "{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\","
              "\"metadata\":{\"name\":\"%s\",\"namespace\":\"" NS "\",\"uid\":"
              "\"uid-%s\",\"resourceVersion\":\"3\",\"ownerReferences\":[{"
              "\"uid\":\"" CS_UID "\",\"controller\":true}]},\"revision\":%lld,"
              "\"data\":%s}",
              name, name, (long long)revision, data);
  free(data);
  return lb_buf_detach(&b, NULL);
}

static char *pod_json(const char *name, const char *rev) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_addf(&b,
              "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
              "\"%s\",\"namespace\":\"" NS "\",\"uid\":\"uid-%s\","
              "\"resourceVersion\":\"7\",\"labels\":{\"app\":\"web\","
              "\"" LB_LABEL_REVISION "\":\"%s\",\"" LB_LABEL_LIFECYCLE
              "\":\"Normal\"},\"ownerReferences\":[{\"uid\":\"" CS_UID
              "\",\"controller\":true}]},\"spec\":{\"nodeName\":\"n1\"},"
              "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":"
              "\"Ready\",\"status\":\"True\",\"lastTransitionTime\":"
              "\"1970-01-01T00:00:01Z\"}]}}",
              name, name, rev);
  return lb_buf_detach(&b, NULL);
}

/* ---- reducer through the engine -------------------------------------------
 */
TEST(revision_new_one_numbers_and_metadata) {
  struct h h;
  h_init(&h);
  h_watchf(&h, crev_json("web-r1", 4, "nginx:0"));
  h_watchf(&h, crev_json("web-r2", 7, "nginx:1"));
  char *cj =
      cs_json(0, "nginx:2", 10,
              ",\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"d\"}}]");
  size_t first = h_watch(&h, 100000, LB_EV_ADDED, cj);
  free(cj);
  const struct lb_decision *d = &h.ds.v[first];
  const struct lb_action *a =
      find_named(d, LB_VERB_CREATE, "ControllerRevision", NULL);
  ASSERT(a);
  ASSERT_JPATH(a->body, "revision", "8"); /* max existing + 1 */
  ASSERT_JPATH(a->body, "metadata|labels|app", "web");
  ASSERT_JPATH(a->body, "metadata|labels|tier", "fe"); /* template labels */
  char hash[16];
  lb_cs_revision_hash("[{\"metadata\":{\"name\":\"d\"}}]", 0, hash,
                      sizeof hash);
  ASSERT_JPATH(a->body, "metadata|annotations|" LB_ANNO_VCT_HASH, hash);
  ASSERT_JPATH(a->body, "metadata|ownerReferences|0|uid", CS_UID);
  h_free(&h);
}

/* Five dead revisions (no pod, neither current nor update) and one pod on
 * web-r2: GC deletes the oldest dead ones beyond the limit. */
TEST(revision_gc_keeps_history_limit) {
  static const struct {
    int limit;
    const char *deleted; /* comma-joined, oldest first */
  } rows[] = {
      {0, "web-r1,web-r3,web-r4,web-r5,web-r6"},
      {1, "web-r1,web-r3,web-r4,web-r5"},
      {3, "web-r1,web-r3"},
      {10, ""},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++) {
    struct h h;
    struct lb_buf got = LB_BUF_INIT;
    h_init(&h);
    /* names sort unlike revisions: order must come from .revision */
    h_watchf(&h, crev_json("web-r6", 6, "nginx:6"));
    h_watchf(&h, crev_json("web-r1", 1, "nginx:1"));
    h_watchf(&h, crev_json("web-r4", 4, "nginx:4"));
    h_watchf(&h, crev_json("web-r3", 3, "nginx:3"));
    h_watchf(&h, crev_json("web-r2", 2, "nginx:2"));
    h_watchf(&h, crev_json("web-r5", 5, "nginx:5"));
    h_watchf(&h, pod_json("web-aaaaa", "web-r2"));
    size_t first = h.ds.n;
    char *cj = cs_json(1, "nginx:9", rows[i].limit, NULL);
    h_watch(&h, 100000, LB_EV_ADDED, cj);
    free(cj);
    ASSERT_EQ_INT(h.ds.n, first + 1);
    const struct lb_decision *d = &h.ds.v[first];
    for (size_t k = 0; k < d->n_actions; k++) {
      const struct lb_action *a = &d->actions[k];
      if (a->verb != LB_VERB_DELETE || strcmp(a->kind, "ControllerRevision"))
        continue;
      char uid[64];
      snprintf(uid, sizeof uid, "uid-%s", a->name);
      ASSERT_EQ_STR(a->uid, uid);
      lb_buf_addf(&got, "%s%s", got.len ? "," : "", a->name);
    }
    if (strcmp(got.p ? got.p : "", rows[i].deleted))
      lb_test_fail(__FILE__, __LINE__, "limit %d: deleted \"%s\", want \"%s\"",
                   rows[i].limit, got.p ? got.p : "", rows[i].deleted);
    if (*rows[i].deleted)
      ASSERT_CONTAINS(d->reason, "revision history");
    lb_buf_release(&got);
    h_free(&h);
  }
}

/* The template goes back to an older revision's: that revision (named
 * otherwise than the hash would say) is reused and renumbered. */
TEST(revision_rollback_reuses_old_name) {
  struct h h;
  h_init(&h);
  h_watchf(&h, crev_json("web-old", 1, "nginx:1"));
  h_watchf(&h, crev_json("web-mid", 2, "nginx:2"));
  size_t first = h.ds.n;
  char *cj = cs_json(1, "nginx:1", 10,
                     "},\"status\":{\"currentRevision\":\"web-mid\"");
  h_watch(&h, 100000, LB_EV_ADDED, cj);
  free(cj);
  ASSERT_EQ_INT(h.ds.n, first + 1);
  const struct lb_decision *d = &h.ds.v[first];
  ASSERT_EQ_INT(count_actions(d, LB_VERB_CREATE, "ControllerRevision"), 0);
  const struct lb_action *a =
      find_named(d, LB_VERB_PATCH, "ControllerRevision", "web-old");
  ASSERT(a);
  ASSERT_EQ_STR(a->body, "{\"revision\":3}");
  ASSERT_CONTAINS(d->reason, "rollback");
  const struct lb_action *p = find_named(d, LB_VERB_CREATE, "Pod", NULL);
  ASSERT(p);
  ASSERT_JPATH(p->body, "metadata|labels|" LB_LABEL_REVISION, "web-old");
  const struct lb_action *st = find_named(d, LB_VERB_PATCH, "CloneSet", "web");
  ASSERT(st);
  ASSERT_JPATH(st->body, "status|updateRevision", "web-old");
  /* nothing is GC'd: web-mid is the current revision */
  ASSERT_EQ_INT(count_actions(d, LB_VERB_DELETE, "ControllerRevision"), 0);
  h_free(&h);
}

/* Already the newest: reusing it needs no renumbering. */
TEST(revision_same_template_no_bump) {
  struct h h;
  h_init(&h);
  h_watchf(&h, crev_json("web-old", 1, "nginx:0"));
  h_watchf(&h, crev_json("web-new", 2, "nginx:1"));
  size_t first = h.ds.n;
  char *cj = cs_json(0, "nginx:1", 10, NULL);
  h_watch(&h, 100000, LB_EV_ADDED, cj);
  free(cj);
  for (size_t i = first; i < h.ds.n; i++) {
    ASSERT_EQ_INT(
        count_actions(&h.ds.v[i], LB_VERB_PATCH, "ControllerRevision"), 0);
    ASSERT_EQ_INT(
        count_actions(&h.ds.v[i], LB_VERB_CREATE, "ControllerRevision"), 0);
  }
  h_free(&h);
}

/* A template upstream's typed decode refuses (a number where the image
 * string belongs): no revision, no pod, and a reason that says why; once
 * fixed, the first revision appears. */
TEST(revision_undecodable_template_is_left_alone) {
  struct h h;
  h_init(&h);
  char *bad = cs_json(2, "x\",\"image\":5,\"x\":\"", 10, NULL);
  size_t first = h_watch(&h, 100000, LB_EV_ADDED, bad);
  free(bad);
  ASSERT_EQ_INT(h.ds.n - first, 1);
  const struct lb_decision *d = &h.ds.v[first];
  ASSERT_EQ_INT(d->n_actions, 0);
  ASSERT_CONTAINS(d->reason, "does not decode as a Kubernetes pod template");
  char *good = cs_json(2, "nginx:1", 10, NULL);
  first = h_watch(&h, 101000, LB_EV_MODIFIED, good);
  free(good);
  ASSERT(h.ds.n > first);
  ASSERT_EQ_INT(
      count_actions(&h.ds.v[first], LB_VERB_CREATE, "ControllerRevision"), 1);
  h_free(&h);
}
