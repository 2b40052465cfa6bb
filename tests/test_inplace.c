/* test_inplace.c — the in-place update engine (engine/inplace.c; kruise-spec
 * §2): table tests of the revision diff, the state annotation's exact field
 * names, the completion check and the phases; then the CloneSet reducer
 * through the engine API against a small in-test API server with a
 * kubelet ("ipsim") that restarts a container when its image changes:
 * an InPlaceIfPossible rollout keeps pod names and uids, respects
 * maxUnavailable and partition, honours gracePeriodSeconds with ticks,
 * and InPlaceOnly refuses what it cannot do in place. */
#include <json-c/json.h>

#include "../adapters/sim_int.h"
#include "../engine/cloneset.h"
#include "../engine/decision.h"
#include "../engine/engine.h"
#include "../engine/err.h"
#include "../engine/event.h"
#include "../engine/inplace.h"
#include "../engine/lifecycle.h"
#include "../engine/obj.h"
#include "../engine/util.h"
#include "ipsim.h"
#include "test.h"

/* ---- diff table ---------------------------------------------------------- */
#define T(meta, ctrs, extra)                                                   \
  "{\"metadata\":{" meta "},\"spec\":{\"containers\":[" ctrs "]" extra "}}"
#define C1(img) "{\"name\":\"app\",\"image\":\"" img "\"}"
#define C2(img) "{\"name\":\"side\",\"image\":\"" img "\"}"
#define LBL(v) "\"labels\":{\"app\":\"web\",\"v\":\"" v "\"}"

struct drow {
  const char *name, *old_t, *new_t;
  int in_place;
  const char *imgs; /* "app=nginx:2,side=x" in order, "" none */
  const char *meta; /* expected meta patch or NULL */
  const char *why;  /* substring of the reason when not in place */
};

static const struct drow diff_rows[] = {
    {"image only", T(LBL("1"), C1("nginx:1"), ""),
     T(LBL("1"), C1("nginx:2"), ""), 1, "app=nginx:2", NULL, NULL},
    {"image and labels", T(LBL("1"), C1("nginx:1"), ""),
     T(LBL("2"), C1("nginx:2"), ""), 1, "app=nginx:2",
     "{\"labels\":{\"v\":\"2\"}}", NULL},
    {"annotations only (added and removed)",
     T(LBL("1") ",\"annotations\":{\"a\":\"1\"}", C1("nginx:1"), ""),
     T(LBL("1") ",\"annotations\":{\"b\":\"2\"}", C1("nginx:1"), ""), 1, "",
     "{\"annotations\":{\"b\":\"2\",\"a\":null}}", NULL},
    {"env change is not in place", T(LBL("1"), C1("nginx:1"), ""),
     T(LBL("1"),
       "{\"name\":\"app\",\"image\":\"nginx:1\",\"env\":[{\"name\":\"A\","
       "\"value\":\"1\"}]}",
       ""),
     0, "", NULL, "container app: env changed"},
    {"container added is not in place", T(LBL("1"), C1("nginx:1"), ""),
     T(LBL("1"), C1("nginx:1") "," C2("busybox"), ""), 0, "", NULL,
     "containers added or removed (1 -> 2)"},
    {"volumes change is not in place", T(LBL("1"), C1("nginx:1"), ""),
     T(LBL("1"), C1("nginx:2"), ",\"volumes\":[{\"name\":\"v\"}]"), 0, "", NULL,
     "spec.volumes changed"},
    {"two images, priorities from env",
     T(LBL("1"),
       "{\"name\":\"app\",\"image\":\"a:1\"},{\"name\":\"side\",\"image\":"
       "\"s:1\",\"env\":[{\"name\":\"KRUISE_CONTAINER_PRIORITY\",\"value\":"
       "\"10\"}]}",
       ""),
     T(LBL("1"),
       "{\"name\":\"app\",\"image\":\"a:2\"},{\"name\":\"side\",\"image\":"
       "\"s:2\",\"env\":[{\"name\":\"KRUISE_CONTAINER_PRIORITY\",\"value\":"
       "\"10\"}]}",
       ""),
     1, "app=a:2@-,side=s:2@10", NULL, NULL},
    {"key order does not matter",
     "{\"spec\":{\"containers\":[{\"image\":\"n:1\",\"name\":\"app\"}]},"
     "\"metadata\":{}}",
     "{\"metadata\":{},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":"
     "\"n:1\"}]}}",
     1, "", NULL, NULL},
};

TEST(inplace_diff_table) {
  for (size_t r = 0; r < LB_ARRAY_SIZE(diff_rows); r++) {
    const struct drow *row = &diff_rows[r];
    struct lb_inplace_diff d;
    struct lb_buf got = LB_BUF_INIT;
    ASSERT_OK(lb_inplace_diff(row->old_t, row->new_t, &d));
    if (d.in_place != row->in_place)
      lb_test_fail(__FILE__, __LINE__, "row \"%s\": in_place %d, want %d (%s)",
                   row->name, d.in_place, row->in_place, d.why);
    int with_prio = strchr(row->imgs, '@') != NULL;
    for (size_t i = 0; i < d.n_imgs; i++) {
      lb_buf_addf(&got, "%s%s=%s", i ? "," : "", d.imgs[i].name,
                  d.imgs[i].image);
      if (with_prio && d.imgs[i].priority == LB_INPLACE_NO_PRIORITY)
        lb_buf_adds(&got, "@-");
      else if (with_prio)
        lb_buf_addf(&got, "@%d", d.imgs[i].priority);
    }
    if (strcmp(got.p ? got.p : "", row->imgs))
      lb_test_fail(__FILE__, __LINE__, "row \"%s\": images \"%s\", want \"%s\"",
                   row->name, got.p ? got.p : "", row->imgs);
    if (row->meta)
      ASSERT_EQ_STR(d.meta_patch, row->meta);
    else if (d.in_place)
      ASSERT(d.meta_patch == NULL);
    if (row->why)
      ASSERT_CONTAINS(d.why, row->why);
    lb_buf_release(&got);
    lb_inplace_diff_release(&d);
  }
  struct lb_inplace_diff d;
  ASSERT_EQ_INT(lb_inplace_diff("[1]", "{}", &d), LB_EPARSE);
  lb_inplace_diff_release(&d);
}

/* ---- pods ---------------------------------------------------------------- */
/* A compact pod from parts: labels and annotations as JSON members,
 * containers "name=image", statuses "name=image=imageID=ready", and the
 * InPlaceUpdateReady condition ("" = none). */
static struct lb_pod *mkpod(const char *rev, const char *annos,
                            const char *ctrs, const char *csts,
                            const char *cond) {
  struct lb_buf b = LB_BUF_INIT;
  char tmp[256];
  lb_buf_addf(&b,
              "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
              "\"web-a\",\"namespace\":\"default\",\"uid\":\"u1\","
              "\"resourceVersion\":\"7\",\"labels\":{"
              "\"controller-revision-hash\":\"%s\"},\"annotations\":{%s}},"
              "\"spec\":{\"readinessGates\":[{\"conditionType\":"
              "\"InPlaceUpdateReady\"}],\"containers\":[",
              rev, annos);
  lb_strlcpy(tmp, ctrs, sizeof tmp);
  int n = 0;
  for (char *save = tmp, *t; (t = save) && *t;) {
    char *c = strchr(t, ',');
    save = c ? c + 1 : NULL;
    if (c)
      *c = '\0';
    char *eq = strchr(t, '=');
    *eq = '\0';
    lb_buf_addf(&b, "%s{\"name\":\"%s\",\"image\":\"%s\"}", n++ ? "," : "", t,
                eq + 1);
    if (!save)
      break;
  }
  lb_buf_adds(&b, "]},\"status\":{\"phase\":\"Running\",\"conditions\":[");
  if (*cond)
    lb_buf_addf(&b, "{\"type\":\"InPlaceUpdateReady\",\"status\":\"%s\"}",
                cond);
  lb_buf_adds(&b, "],\"containerStatuses\":[");
  lb_strlcpy(tmp, csts, sizeof tmp);
  n = 0;
  for (char *save = tmp, *t; (t = save) && *t;) {
    char *c = strchr(t, ',');
    save = c ? c + 1 : NULL;
    if (c)
      *c = '\0';
    char *f[4] = {t, NULL, NULL, NULL};
    for (int i = 1; i < 4; i++) {
      f[i] = strchr(f[i - 1], '=');
      ASSERT(f[i]);
      *f[i]++ = '\0';
    }
    lb_buf_addf(&b,
                "%s{\"name\":\"%s\",\"image\":\"%s\",\"imageID\":\"%s\","
                "\"ready\":%s}",
                n++ ? "," : "", f[0], f[1], f[2], f[3]);
    if (!save)
      break;
  }
  lb_buf_adds(&b, "]}}");
  ASSERT(!b.err);
  struct json_object *root = json_tokener_parse(b.p);
  struct lb_obj *o = NULL;
  const char *why;
  ASSERT(root);
  ASSERT_OK(lb_obj_decode(root, &o, &why));
  json_object_put(root);
  lb_buf_release(&b);
  ASSERT(o && o->kind == LB_KIND_POD);
  return (struct lb_pod *)o;
}

/* An annotation member with the state JSON escaped as a string. */
static void state_member(const char *key, const char *json, char *out,
                         size_t n) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_add_json_str(&b, key);
  lb_buf_adds(&b, ":");
  lb_buf_add_json_str(&b, json);
  lb_strlcpy(out, b.p, n);
  lb_buf_release(&b);
}

/* ---- the state annotation ------------------------------------------------ */
TEST(inplace_state_json_exact_field_names) {
  struct lb_pod *p = mkpod("web-1", "", "app=a:1,side=s:1",
                           "app=a:1=id-a1=true,side=s:1=id-s1=true", "False");
  struct lb_inplace_diff d;
  ASSERT_OK(lb_inplace_diff(
      T(LBL("1"),
        "{\"name\":\"app\",\"image\":\"a:1\",\"env\":[{\"name\":"
        "\"KRUISE_CONTAINER_PRIORITY\",\"value\":\"0\"}]},{\"name\":\"side\","
        "\"image\":\"s:1\",\"env\":[{\"name\":\"KRUISE_CONTAINER_PRIORITY\","
        "\"value\":\"1\"}]}",
        ""),
      T(LBL("1"),
        "{\"name\":\"app\",\"image\":\"a:2\",\"env\":[{\"name\":"
        "\"KRUISE_CONTAINER_PRIORITY\",\"value\":\"0\"}]},{\"name\":\"side\","
        "\"image\":\"s:2\",\"env\":[{\"name\":\"KRUISE_CONTAINER_PRIORITY\","
        "\"value\":\"1\"}]}",
        ""),
      &d));
  ASSERT_EQ_INT(d.in_place, 1);
  /* 2026-01-01T00:00:00Z */
  char *body = lb_inplace_update_patch(p, &d, "web-2", 0, 1767225600000);
  ASSERT(body);
  struct json_object *root = json_tokener_parse(body), *m, *a, *st, *l, *s;
  ASSERT(json_object_object_get_ex(root, "metadata", &m));
  ASSERT(json_object_object_get_ex(m, "annotations", &a));
  ASSERT(json_object_object_get_ex(a, LB_ANNO_INPLACE_STATE, &st));
  /* the higher priority container goes first, the other waits in next* */
  ASSERT_EQ_STR(
      json_object_get_string(st),
      "{\"revision\":\"web-2\",\"updateTimestamp\":\"2026-01-01T00:00:00Z\","
      "\"lastContainerStatuses\":{\"side\":{\"imageID\":\"id-s1\"}},"
      "\"updateImages\":true,\"nextContainerImages\":{\"app\":\"a:2\"},"
      "\"preCheckBeforeNext\":{\"containersRequiredReady\":[\"side\"]},"
      "\"containerBatchesRecord\":[{\"timestamp\":\"2026-01-01T00:00:00Z\","
      "\"containers\":[\"side\"]}]}");
  ASSERT(json_object_object_get_ex(m, "labels", &l));
  ASSERT_EQ_STR(json_object_to_json_string_ext(
                    l, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                "{\"controller-revision-hash\":\"web-2\",\"pod-template-hash\":"
                "\"2\",\"lifecycle.apps.kruise.io/state\":\"Updating\"}");
  ASSERT(json_object_object_get_ex(root, "spec", &s));
  ASSERT_EQ_STR(json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN),
                "{\"containers\":[{\"name\":\"side\",\"image\":\"s:2\"}]}");
  /* parse -> print is the identity */
  struct lb_inplace_state ps;
  struct lb_buf again = LB_BUF_INIT;
  ASSERT_OK(lb_inplace_state_parse(json_object_get_string(st), &ps));
  ASSERT_OK(lb_inplace_state_json(&ps, &again));
  ASSERT_EQ_STR(again.p, json_object_get_string(st));
  ASSERT_EQ_INT(ps.update_ms, 1767225600000);
  lb_buf_release(&again);
  lb_inplace_state_release(&ps);
  json_object_put(root);
  free(body);
  lb_inplace_diff_release(&d);
  lb_obj_free(&p->o);
}

/* ---- completion and phases ----------------------------------------------- */
struct crow {
  const char *name;
  const char *rev, *cond, *ctrs, *csts, *state, *grace;
  const char *target;
  int completed, phase;
};

#define ST1                                                                    \
  "{\"revision\":\"web-2\",\"updateTimestamp\":\"2026-01-01T00:00:00Z\","      \
  "\"lastContainerStatuses\":{\"app\":{\"imageID\":\"id-1\"}},"                \
  "\"updateImages\":true}"

static const struct crow crows[] = {
    {"imageID unchanged, old image still running", "web-2", "False", "app=n:2",
     "app=n:1=id-1=false", ST1, NULL, "web-2", 0, LB_IPU_RUNNING},
    {"imageID changed: done", "web-2", "False", "app=n:2", "app=n:2=id-2=true",
     ST1, NULL, "web-2", 1, LB_IPU_DONE},
    {"same imageID but status image equals spec (retag): done", "web-2",
     "False", "app=n:2", "app=n:2=id-1=true", ST1, NULL, "web-2", 1,
     LB_IPU_DONE},
    {"untagged spec image matches :latest status", "web-2", "False", "app=n",
     "app=n:latest=id-1=true", ST1, NULL, "web-2", 1, LB_IPU_DONE},
    {"recorded container without status: not done", "web-2", "False", "app=n:2",
     "", ST1, NULL, "web-2", 0, LB_IPU_RUNNING},
    {"condition False before step 2: started", "web-1", "False", "app=n:1",
     "app=n:1=id-1=true", NULL, NULL, "web-2", 0, LB_IPU_STARTED},
    {"old state of the current revision does not count as done", "web-2",
     "False", "app=n:2", "app=n:2=id-2=true", ST1, NULL, "web-3", 1,
     LB_IPU_STARTED},
    {"finished and True: none", "web-2", "True", "app=n:2", "app=n:2=id-2=true",
     ST1, NULL, "web-2", 1, LB_IPU_NONE},
    {"grace record: grace", "web-2", "False", "app=n:1", "app=n:1=id-1=true",
     ST1,
     "{\"revision\":\"web-2\",\"containerImages\":{\"app\":\"n:2\"},"
     "\"graceSeconds\":30}",
     "web-2", 0, LB_IPU_GRACE},
};

TEST(inplace_completion_and_phase_table) {
  for (size_t r = 0; r < LB_ARRAY_SIZE(crows); r++) {
    const struct crow *row = &crows[r];
    char annos[1024] = "", g[512];
    if (row->state)
      state_member(LB_ANNO_INPLACE_STATE, row->state, annos, sizeof annos);
    if (row->grace) {
      state_member(LB_ANNO_INPLACE_GRACE, row->grace, g, sizeof g);
      lb_strlcpy(annos + strlen(annos), ",", sizeof annos - strlen(annos));
      lb_strlcpy(annos + strlen(annos), g, sizeof annos - strlen(annos));
    }
    struct lb_pod *p = mkpod(row->rev, annos, row->ctrs, row->csts, row->cond);
    struct lb_inplace_state st;
    struct lb_buf why = LB_BUF_INIT;
    int64_t due = 0;
    ASSERT_OK(lb_inplace_state_parse(lb_inplace_state_of(p), &st));
    int c = row->state ? lb_inplace_completed(p, &st, &why) : 0;
    int ph = lb_inplace_phase(p, row->target, &due);
    if (c != row->completed || ph != row->phase)
      lb_test_fail(__FILE__, __LINE__,
                   "row \"%s\": completed %d phase %s, want %d %s (%s)",
                   row->name, c, lb_inplace_phase_name(ph), row->completed,
                   lb_inplace_phase_name(row->phase), why.p ? why.p : "");
    if (!c && row->state)
      ASSERT(why.len > 0); /* says what it waits for */
    if (ph == LB_IPU_GRACE)
      ASSERT_EQ_INT(due, 1767225600000 + 30000);
    lb_inplace_assert_phase(p, row->target, ph);
    lb_buf_release(&why);
    lb_inplace_state_release(&st);
    lb_obj_free(&p->o);
  }
}

TEST(inplace_grace_and_next_patches) {
  char annos[1024], g[512];
  state_member(LB_ANNO_INPLACE_STATE, ST1, annos, sizeof annos);
  state_member(LB_ANNO_INPLACE_GRACE,
               "{\"revision\":\"web-2\",\"containerImages\":{\"app\":\"n:2\"},"
               "\"graceSeconds\":30}",
               g, sizeof g);
  lb_strlcpy(annos + strlen(annos), ",", sizeof annos - strlen(annos));
  lb_strlcpy(annos + strlen(annos), g, sizeof annos - strlen(annos));
  struct lb_pod *p =
      mkpod("web-2", annos, "app=n:1", "app=n:1=id-1=true", "False");
  char *body = lb_inplace_grace_patch(p);
  ASSERT_EQ_STR(body, "{\"metadata\":{\"annotations\":{\"apps.kruise.io/"
                      "inplace-update-grace\":null}},\"spec\":{\"containers\":"
                      "[{\"name\":\"app\",\"image\":\"n:2\"}]}}");
  free(body);
  lb_obj_free(&p->o);
  /* next batch: app restarted and ready -> side goes */
  state_member(LB_ANNO_INPLACE_STATE,
               "{\"revision\":\"web-2\",\"updateTimestamp\":"
               "\"2026-01-01T00:00:00Z\",\"lastContainerStatuses\":{\"app\":{"
               "\"imageID\":\"id-1\"}},\"updateImages\":true,"
               "\"nextContainerImages\":{\"side\":\"s:2\"},"
               "\"preCheckBeforeNext\":{\"containersRequiredReady\":[\"app\"]}"
               "}",
               annos, sizeof annos);
  p = mkpod("web-2", annos, "app=n:2,side=s:1",
            "app=n:2=id-2=false,side=s:1=id-s=true", "False");
  ASSERT_EQ_INT(lb_inplace_phase(p, "web-2", NULL), LB_IPU_RUNNING);
  lb_obj_free(&p->o);
  p = mkpod("web-2", annos, "app=n:2,side=s:1",
            "app=n:2=id-2=true,side=s:1=id-s=true", "False");
  ASSERT_EQ_INT(lb_inplace_phase(p, "web-2", NULL), LB_IPU_NEXT);
  body = lb_inplace_next_patch(p, NULL, 1767225660000);
  ASSERT_CONTAINS(body, "\\\"side\\\":{\\\"imageID\\\":\\\"id-s\\\"}");
  ASSERT_CONTAINS(body, "\"spec\":{\"containers\":[{\"name\":\"side\","
                        "\"image\":\"s:2\"}]}");
  ASSERT(!strstr(body, "nextContainerImages"));
  free(body);
  lb_obj_free(&p->o);
}

TEST(inplace_start_and_ready_conditions) {
  char *b = lb_inplace_start_patch(1767225600000);
  ASSERT_EQ_STR(b, "{\"status\":{\"conditions\":[{\"type\":"
                   "\"InPlaceUpdateReady\",\"status\":\"False\","
                   "\"lastTransitionTime\":\"2026-01-01T00:00:00Z\",\"reason\":"
                   "\"StartInPlaceUpdate\"},{\"type\":\"Ready\",\"status\":"
                   "\"False\",\"lastTransitionTime\":\"2026-01-01T00:00:00Z\","
                   "\"reason\":\"StartInPlaceUpdate\"}]}}");
  free(b);
  struct lb_pod *p = mkpod("web-1", "", "app=n:1", "app=n:1=id=true", "");
  struct lb_buf c = LB_BUF_INIT;
  ASSERT_EQ_INT(lb_inplace_ready_conds(p, LB_IPU_NONE, 0, 0, &c), 1);
  ASSERT_CONTAINS(c.p, "\"InPlaceUpdateReady\",\"status\":\"True\"");
  lb_buf_release(&c);
  lb_obj_free(&p->o);
  p = mkpod("web-1", "", "app=n:1", "app=n:1=id=true", "True");
  ASSERT_EQ_INT(lb_inplace_ready_conds(p, LB_IPU_NONE, 0, 0, &c), 0);
  lb_obj_free(&p->o);
  p = mkpod("web-1", "", "app=n:1", "app=n:1=id=true", "False");
  ASSERT_EQ_INT(lb_inplace_ready_conds(p, LB_IPU_STARTED, 0, 0, &c), 0);
  ASSERT_EQ_INT(lb_inplace_ready_conds(p, LB_IPU_STARTED, 1, 0, &c), 1);
  lb_buf_release(&c);
  lb_obj_free(&p->o);
}

/* ---- the reducer against ipsim --------------------------------------------
 */
static void rollout(const char *us, const char *env2, int replicas,
                    struct ipsim *s, struct lb_buf *before,
                    struct lb_buf *after) {
  ip_init(s);
  char *m = cs_manifest(1, replicas, "nginx:1", "", us);
  ip_put_cs(s, m);
  free(m);
  ip_settle(s);
  pods_summary(s, before);
  s->max_unavailable_seen = 0;
  m = cs_manifest(2, replicas, "nginx:2", env2, us);
  ip_put_cs(s, m);
  free(m);
  ip_settle(s);
  pods_summary(s, after);
}

TEST(inplace_reducer_rollout_keeps_pods) {
  struct ipsim s;
  struct lb_buf before = LB_BUF_INIT, after = LB_BUF_INIT;
  rollout("\"type\":\"InPlaceIfPossible\",\"maxUnavailable\":1", "", 3, &s,
          &before, &after);
  ASSERT_EQ_INT(count_in(before.p, "=nginx:1=0="), 3);
  ASSERT_EQ_INT(count_in(before.p, "=Normal\n"), 3);
  /* same names and uids, every container restarted once, lifecycle back
   * to Normal, all at the new revision */
  ASSERT_EQ_INT(count_in(after.p, "=nginx:2=1="), 3);
  ASSERT_EQ_INT(count_in(after.p, "=Normal\n"), 3);
  for (const char *l = before.p; *l; l = strchr(l, '\n') + 1) {
    char name_uid[128];
    const char *e = strchr(strchr(l, '=') + 1, '=');
    snprintf(name_uid, sizeof name_uid, "%.*s", (int)(e - l), l);
    ASSERT_CONTAINS(after.p, name_uid);
  }
  ASSERT_EQ_INT(lb_engine_count(s.e, LB_KIND_POD), 3);
  ASSERT_EQ_INT(s.max_unavailable_seen, 1); /* maxUnavailable 1 */
  ASSERT(decisions_with(&s, "InPlaceUpdateReady=False (step 1 of 3)") == 3);
  ASSERT(decisions_with(&s, "1 image(s) (step 2 of 3)") == 3);
  ASSERT(decisions_with(&s, "InPlaceUpdateReady=True (in-place update done)") ==
         3);
  ASSERT(decisions_with(&s, "Updating -> Normal") == 3);
  ASSERT_EQ_INT(decisions_with(&s, "by recreate"), 0);
  for (size_t i = 0; i < s.ds.n; i++) /* never a pod deleted */
    for (size_t k = 0; k < s.ds.v[i].n_actions; k++)
      ASSERT(s.ds.v[i].actions[k].verb != LB_VERB_DELETE);
  lb_buf_release(&before);
  lb_buf_release(&after);
  ip_free(&s);
}

TEST(inplace_reducer_partition_respected) {
  struct ipsim s;
  struct lb_buf before = LB_BUF_INIT, after = LB_BUF_INIT;
  rollout("\"type\":\"InPlaceIfPossible\",\"maxUnavailable\":2,\"partition\":1",
          "", 3, &s, &before, &after);
  ASSERT_EQ_INT(count_in(after.p, "=nginx:2=1="), 2);
  ASSERT_EQ_INT(count_in(after.p, "=nginx:1=0="), 1);
  ASSERT_LE_INT(s.max_unavailable_seen, 2);
  ASSERT(decisions_with(&s, "update holds at partition 1") >= 1);
  lb_buf_release(&before);
  lb_buf_release(&after);
  ip_free(&s);
}

TEST(inplace_reducer_env_change_falls_back_to_recreate) {
  struct ipsim s;
  struct lb_buf before = LB_BUF_INIT, after = LB_BUF_INIT;
  rollout("\"type\":\"InPlaceIfPossible\",\"maxUnavailable\":1",
          ",\"env\":[{\"name\":\"A\",\"value\":\"1\"}]", 2, &s, &before,
          &after);
  ASSERT(decisions_with(&s, "recreated: container c: env changed") >= 1);
  ASSERT(decisions_with(&s, "by recreate") >= 1);
  /* new pods (restartCount 0) at nginx:2 */
  ASSERT_EQ_INT(count_in(after.p, "=nginx:2=0="), 2);
  lb_buf_release(&before);
  lb_buf_release(&after);
  ip_free(&s);
}

TEST(inplace_reducer_inplace_only_refuses_and_says_why) {
  struct ipsim s;
  struct lb_buf before = LB_BUF_INIT, after = LB_BUF_INIT;
  rollout("\"type\":\"InPlaceOnly\",\"maxUnavailable\":1",
          ",\"env\":[{\"name\":\"A\",\"value\":\"1\"}]", 2, &s, &before,
          &after);
  ASSERT(decisions_with(&s, "cannot be updated in place (InPlaceOnly): "
                            "container c: env changed; revert that template "
                            "change") >= 1);
  ASSERT_EQ_STR(after.p, before.p); /* nothing touched */
  lb_buf_release(&before);
  lb_buf_release(&after);
  ip_free(&s);
}

TEST(inplace_reducer_grace_period_with_ticks) {
  struct ipsim s;
  ip_init(&s);
  const char *us = "\"type\":\"InPlaceIfPossible\",\"maxUnavailable\":1,"
                   "\"inPlaceUpdateStrategy\":{\"gracePeriodSeconds\":30}";
  char *m = cs_manifest(1, 1, "nginx:1", "", us);
  ip_put_cs(&s, m);
  free(m);
  ip_settle(&s);
  m = cs_manifest(2, 1, "nginx:2", "", us);
  ip_put_cs(&s, m);
  free(m);
  /* answer step 1 and step 2 */
  int64_t step2_at = 0;
  for (int i = 0; i < 20 && !step2_at; i++) {
    s.now += 1000;
    ASSERT(ip_answer(&s));
    for (size_t d = 0; d < s.ds.n; d++)
      if (strstr(s.ds.v[d].reason, "after gracePeriodSeconds (step 2"))
        step2_at = s.now;
  }
  ASSERT(step2_at);
  while (lb_engine_inflight_count(s.e)) { /* the grace record lands */
    s.now += 1000;
    ASSERT(ip_answer(&s));
  }
  ASSERT_LE_INT(s.now, step2_at + 10000);
  struct lb_buf sum = LB_BUF_INIT;
  pods_summary(&s, &sum);
  ASSERT_CONTAINS(sum.p, "=nginx:1=0="); /* spec not applied yet */
  ASSERT_EQ_INT(lb_engine_next_wakeup(s.e), step2_at + 30000);
  ASSERT_CONTAINS(s.ds.v[s.ds.n - 1].reason,
                  "waits for in-place gracePeriodSeconds");
  size_t n = s.ds.n;
  s.now = step2_at + 29000; /* a tick before it is due does nothing */
  ip_tick(&s);
  ASSERT_EQ_INT(lb_engine_inflight_count(s.e), 0);
  for (size_t d = n; d < s.ds.n; d++)
    ASSERT(!strstr(s.ds.v[d].reason, "grace period over"));
  s.now = step2_at + 30000;
  ip_tick(&s);
  ASSERT_EQ_INT(decisions_with(&s, "in-place grace period over: images "
                                   "applied"),
                1);
  ip_settle(&s);
  pods_summary(&s, &sum);
  ASSERT_CONTAINS(sum.p, "=nginx:2=1=");
  ASSERT_CONTAINS(sum.p, "=Normal\n");
  lb_buf_release(&sum);
  ip_free(&s);
}

/* ---- lifecycle hooks through the reducer (§1.3, §1.4) -----------------------
 */
/* A user (or the hook's owner) merge-patches a pod; the watch tells. */

#define HOOK_LABEL "{\"metadata\":{\"labels\":{\"example.com/hook\":\"true\"}}}"
#define UNHOOK "{\"metadata\":{\"labels\":{\"example.com/hook\":null}}}"

TEST(lifecycle_reducer_pre_delete_hook_and_not_ready) {
  struct ipsim s;
  char names[8][64];
  const char *us = "\"maxUnavailable\":1},\"lifecycle\":{\"preDelete\":{"
                   "\"labelsHandler\":{\"example.com/hook\":\"true\"},"
                   "\"markPodNotReady\":true}";
  ip_init(&s);
  char *m = cs_manifest(1, 3, "nginx:1", "", us);
  ip_put_cs(&s, m);
  free(m);
  ip_settle(&s);
  ASSERT_EQ_INT(pod_names(&s, names, 8), 3);
  for (int i = 0; i < 3; i++)
    ip_user_patch(&s, names[i], HOOK_LABEL);
  ip_settle(&s);
  m = cs_manifest(2, 2, "nginx:1", "", us);
  ip_put_cs(&s, m);
  free(m);
  ip_settle(&s);
  /* the victim is kept in PreparingDelete, marked not-ready */
  ASSERT_EQ_INT(pod_names(&s, names, 8), 3);
  int victim = -1;
  for (int i = 0; i < 3; i++)
    if (!strcmp(pod_label(&s, names[i], "lifecycle.apps.kruise.io/state"),
                "PreparingDelete"))
      victim = i;
  ASSERT(victim >= 0);
  char key[128];
  snprintf(key, sizeof key, "Pod/%s", names[victim]);
  json_object *pod = jm(s.objs, key);
  ASSERT_EQ_STR(cond_of(pod, "KruisePodReady"), "False");
  json_object *cs = jm(jm(pod, "status"), "conditions");
  int found = 0;
  for (size_t i = 0; i < json_object_array_length(cs); i++) {
    json_object *c = json_object_array_get_idx(cs, i);
    if (!strcmp(json_object_get_string(jm(c, "type")), "KruisePodReady")) {
      ASSERT_EQ_STR(
          json_object_get_string(jm(c, "message")),
          "[{\"userAgent\":\"Lifecycle\",\"key\":\"preDeleteHook\"}]");
      found = 1;
    }
  }
  ASSERT(found);
  ASSERT_EQ_STR(cond_of(pod, "Ready"), "False");
  ASSERT_CONTAINS(s.ds.v[s.ds.n - 1].reason, "waits in PreparingDelete: hook "
                                             "labels example.com/hook=true "
                                             "still set");
  /* the hook lets go: the pod is deleted */
  ip_user_patch(&s, names[victim], UNHOOK);
  ip_settle(&s);
  ASSERT_EQ_INT(pod_names(&s, names, 8), 2);
  ASSERT(decisions_with(&s, "deleted (hook released)") == 1);
  ip_free(&s);
}

TEST(lifecycle_reducer_scale_up_regret) {
  struct ipsim s;
  char names[8][64];
  const char *us = "\"maxUnavailable\":1},\"lifecycle\":{\"preDelete\":{"
                   "\"labelsHandler\":{\"example.com/hook\":\"true\"}}";
  ip_init(&s);
  char *m = cs_manifest(1, 2, "nginx:1", "", us);
  ip_put_cs(&s, m);
  free(m);
  ip_settle(&s);
  ASSERT_EQ_INT(pod_names(&s, names, 8), 2);
  for (int i = 0; i < 2; i++)
    ip_user_patch(&s, names[i], HOOK_LABEL);
  m = cs_manifest(2, 1, "nginx:1", "", us);
  ip_put_cs(&s, m);
  free(m);
  ip_settle(&s);
  ASSERT(decisions_with(&s, "-> PreparingDelete (preDelete hook)") == 1);
  m = cs_manifest(3, 2, "nginx:1", "", us);
  ip_put_cs(&s, m);
  free(m);
  ip_settle(&s);
  ASSERT(decisions_with(&s, "PreparingDelete -> PreparingNormal") == 1);
  ASSERT_EQ_INT(pod_names(&s, names, 8), 2); /* no new pod was created */
  for (int i = 0; i < 2; i++)
    ASSERT_EQ_STR(pod_label(&s, names[i], "lifecycle.apps.kruise.io/state"),
                  "Normal");
  ip_free(&s);
}

TEST(lifecycle_reducer_in_place_update_hook) {
  struct ipsim s;
  char names[4][64];
  const char *us = "\"type\":\"InPlaceIfPossible\",\"maxUnavailable\":1},"
                   "\"lifecycle\":{\"inPlaceUpdate\":{\"labelsHandler\":{"
                   "\"example.com/hook\":\"true\"},\"markPodNotReady\":true}";
  ip_init(&s);
  char *m = cs_manifest(1, 1, "nginx:1", "", us);
  ip_put_cs(&s, m);
  free(m);
  ip_settle(&s);
  ASSERT_EQ_INT(pod_names(&s, names, 4), 1);
  ip_user_patch(&s, names[0], HOOK_LABEL);
  m = cs_manifest(2, 1, "nginx:2", "", us);
  ip_put_cs(&s, m);
  free(m);
  ip_settle(&s);
  ASSERT_EQ_STR(pod_label(&s, names[0], "lifecycle.apps.kruise.io/state"),
                "PreparingUpdate");
  char key[128];
  snprintf(key, sizeof key, "Pod/%s", names[0]);
  ASSERT_EQ_STR(cond_of(jm(s.objs, key), "KruisePodReady"), "False");
  ASSERT(decisions_with(&s, "waits in PreparingUpdate: hook labels "
                            "example.com/hook=true still set") >= 1);
  struct lb_buf sum = LB_BUF_INIT;
  pods_summary(&s, &sum);
  ASSERT_CONTAINS(sum.p, "=nginx:1=0=");
  /* unhooked: update in place, then Updated (not all-hooked) */
  ip_user_patch(&s, names[0], UNHOOK);
  ip_settle(&s);
  pods_summary(&s, &sum);
  ASSERT_CONTAINS(sum.p, "=nginx:2=1=");
  ASSERT_EQ_STR(pod_label(&s, names[0], "lifecycle.apps.kruise.io/state"),
                "Updated");
  ASSERT_EQ_STR(cond_of(jm(s.objs, key), "KruisePodReady"), "True");
  ASSERT(decisions_with(&s, "Updating -> Updated") == 1);
  /* the hook owner puts its label back: Normal */
  ip_user_patch(&s, names[0], HOOK_LABEL);
  ip_settle(&s);
  ASSERT_EQ_STR(pod_label(&s, names[0], "lifecycle.apps.kruise.io/state"),
                "Normal");
  lb_buf_release(&sum);
  ip_free(&s);
}

/* ---- the simulator's strategic merge patch (adapters/sim_util.c) --------- */
TEST(sim_strategic_merge_patch_semantics) {
  static const struct {
    const char *target, *patch, *want;
  } rows[] = {
      {"{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"1\"},{\"name\":"
       "\"b\",\"image\":\"1\"}]}}",
       "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"a\"},{\"name\":"
       "\"b\"}],\"containers\":[{\"name\":\"b\",\"image\":\"2\"}]}}",
       "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"1\"},{\"name\":"
       "\"b\",\"image\":\"2\"}]}}"},
      {"{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}"
       "}",
       "{\"status\":{\"conditions\":[{\"type\":\"InPlaceUpdateReady\","
       "\"status\":\"False\"},{\"type\":\"Ready\",\"status\":\"False\"}]}}",
       "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"},"
       "{\"type\":\"InPlaceUpdateReady\",\"status\":\"False\"}]}}"},
      {"{\"spec\":{\"readinessGates\":[{\"conditionType\":\"A\"},{"
       "\"conditionType\":\"B\"}]}}",
       "{\"spec\":{\"readinessGates\":[{\"conditionType\":\"A\",\"$patch\":"
       "\"delete\"}]}}",
       "{\"spec\":{\"readinessGates\":[{\"conditionType\":\"B\"}]}}"},
      {"{\"metadata\":{\"finalizers\":[\"x\",\"y\"],\"labels\":{\"a\":\"1\"}}}",
       "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"x\"],"
       "\"labels\":{\"a\":null,\"b\":\"2\"}}}",
       "{\"metadata\":{\"finalizers\":[\"y\"],\"labels\":{\"b\":\"2\"}}}"},
      {"{\"spec\":{\"tolerations\":[{\"key\":\"a\"}]}}",
       "{\"spec\":{\"tolerations\":[{\"key\":\"b\"}]}}",
       "{\"spec\":{\"tolerations\":[{\"key\":\"b\"}]}}"}, /* atomic list */
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++) {
    int oom = 0;
    json_object *t = json_tokener_parse(rows[i].target),
                *p = json_tokener_parse(rows[i].patch);
    json_object *m = lb__sim_smerge(t, p, &oom);
    ASSERT(!oom);
    ASSERT_EQ_STR(
        json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN |
                                              JSON_C_TO_STRING_NOSLASHESCAPE),
        rows[i].want);
    json_object_put(m);
    json_object_put(p);
  }
}
