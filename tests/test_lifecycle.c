/* test_lifecycle.c — pod lifecycle hooks (engine/lifecycle.c; kruise-spec
 * §1.3) and the KruisePodReady message (§1.4), by tables over compact pods.
 * The hooks driven through the CloneSet reducer are in test_inplace.c
 * (they need its in-test API server). */
#include <json-c/json.h>

#include "../engine/err.h"
#include "../engine/inplace.h"
#include "../engine/lifecycle.h"
#include "../engine/obj.h"
#include "../engine/util.h"
#include "test.h"

#define LC_JSON                                                                \
  "{\"inPlaceUpdate\":{\"labelsHandler\":{\"example.com/unready\":\"true\"},"  \
  "\"markPodNotReady\":true},\"preDelete\":{\"finalizersHandler\":["           \
  "\"example.com/hold\"],\"labelsHandler\":{\"example.com/drain\":\"true\","   \
  "\"example.com/lb\":\"on\"}},\"preNormal\":{\"labelsHandler\":{"             \
  "\"example.com/ready\":\"yes\"}}}"

/* A compact pod with labels "k=v,k=v" (state under "s"), finalizers
 * "a,b" and the KruisePodReady gate and condition ("" = none). */
static struct lb_pod *lpod(const char *state, const char *labels,
                           const char *fins, const char *kpr) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_adds(&b, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
                  "\"name\":\"web-x\",\"namespace\":\"default\",\"uid\":\"u\","
                  "\"resourceVersion\":\"42\",\"labels\":{");
  lb_buf_addf(&b, "\"lifecycle.apps.kruise.io/state\":\"%s\"", state);
  const char *p = labels;
  while (*p) {
    size_t n = strcspn(p, ",");
    const char *eq = memchr(p, '=', n);
    if (eq)
      lb_buf_addf(&b, ",\"%.*s\":\"%.*s\"", (int)(eq - p), p,
                  (int)(n - (size_t)(eq - p) - 1), eq + 1);
    p += n + (p[n] == ',');
  }
  lb_buf_adds(&b, "},\"finalizers\":[");
  p = fins;
  int k = 0;
  while (*p) {
    size_t n = strcspn(p, ",");
    lb_buf_addf(&b, "%s\"%.*s\"", k++ ? "," : "", (int)n, p);
    p += n + (p[n] == ',');
  }
  lb_buf_adds(&b, "]},\"spec\":{\"readinessGates\":[{\"conditionType\":"
                  "\"KruisePodReady\"}]},\"status\":{\"conditions\":[");
  if (*kpr)
    lb_buf_addf(&b, "{\"type\":\"KruisePodReady\",\"status\":\"%s\"}", kpr);
  lb_buf_adds(&b, "]}}");
  ASSERT(!b.err);
  struct json_object *root = json_tokener_parse(b.p);
  struct lb_obj *o = NULL;
  const char *why;
  ASSERT(root);
  ASSERT_OK(lb_obj_decode(root, &o, &why));
  json_object_put(root);
  lb_buf_release(&b);
  return (struct lb_pod *)o;
}

static void lc_parse(struct lb_lifecycle *lc) {
  const char *why;
  ASSERT_OK(lb_lifecycle_parse(LC_JSON, lc, &why));
}

TEST(lifecycle_parse_and_errors) {
  struct lb_lifecycle lc;
  const char *why;
  lc_parse(&lc);
  ASSERT(lc.pre_delete.set && lc.in_place_update.set && lc.pre_normal.set);
  ASSERT_EQ_INT(lc.in_place_update.mark_not_ready, 1);
  ASSERT_EQ_INT(lc.pre_delete.mark_not_ready, 0);
  ASSERT_EQ_STR(lb_kv_get(lc.pre_delete.labels, "example.com/lb"), "on");
  ASSERT_EQ_STR(lc.pre_delete.finalizers, "example.com/hold");
  ASSERT_EQ_INT(lb_lifecycle_marks_not_ready(&lc), 1);
  lb_lifecycle_release(&lc);
  ASSERT_OK(lb_lifecycle_parse(NULL, &lc, &why));
  ASSERT(!lc.pre_delete.set && !lb_lifecycle_marks_not_ready(&lc));
  lb_lifecycle_release(&lc);
  ASSERT_EQ_INT(lb_lifecycle_parse("[1]", &lc, &why), LB_EPARSE);
  ASSERT_CONTAINS(why, "spec.lifecycle");
  lb_lifecycle_release(&lc);
  ASSERT_EQ_INT(lb_lifecycle_parse("{\"preDelete\":3}", &lc, &why), LB_EPARSE);
  lb_lifecycle_release(&lc);
}

struct hrow {
  const char *labels, *fins;
  int pre_delete_hooked, pre_delete_all;
};

static const struct hrow hrows[] = {
    {"", "", 0, 0},
    {"example.com/drain=true", "", 1, 0},
    {"example.com/drain=false", "", 0, 0}, /* exact value only */
    {"", "example.com/hold", 1, 0},
    {"example.com/drain=true,example.com/lb=on", "", 1, 0},
    {"example.com/drain=true,example.com/lb=on", "example.com/hold", 1, 1},
    {"example.com/drain=true,example.com/lb=on", "other", 1, 0},
};

TEST(lifecycle_hooked_and_all_hooked_table) {
  struct lb_lifecycle lc, none;
  const char *why;
  lc_parse(&lc);
  ASSERT_OK(lb_lifecycle_parse(NULL, &none, &why));
  for (size_t i = 0; i < LB_ARRAY_SIZE(hrows); i++) {
    struct lb_pod *p = lpod("Normal", hrows[i].labels, hrows[i].fins, "");
    if (lb_lifecycle_hooked(&lc.pre_delete, p) != hrows[i].pre_delete_hooked ||
        lb_lifecycle_all_hooked(&lc.pre_delete, p) != hrows[i].pre_delete_all)
      lb_test_fail(__FILE__, __LINE__, "row %zu (%s | %s): hooked %d all %d", i,
                   hrows[i].labels, hrows[i].fins,
                   lb_lifecycle_hooked(&lc.pre_delete, p),
                   lb_lifecycle_all_hooked(&lc.pre_delete, p));
    /* an unset hook is neither */
    ASSERT_EQ_INT(lb_lifecycle_hooked(&none.pre_delete, p), 0);
    ASSERT_EQ_INT(lb_lifecycle_all_hooked(&none.pre_delete, p), 0);
    lb_obj_free(&p->o);
  }
  struct lb_pod *p =
      lpod("PreparingDelete", "example.com/drain=true", "example.com/hold", "");
  struct lb_buf d = LB_BUF_INIT;
  lb_lifecycle_describe_hooked(&lc.pre_delete, p, &d);
  ASSERT_EQ_STR(d.p, "labels example.com/drain=true; finalizers "
                     "example.com/hold");
  lb_buf_release(&d);
  lb_obj_free(&p->o);
  lb_lifecycle_release(&lc);
  lb_lifecycle_release(&none);
}

/* refresh transitions: {state, labels, at_update_rev, completed, hooks?,
 * expected next state or NULL} */
struct trow {
  const char *state, *labels;
  int at_update, completed, with_hooks;
  const char *want;
};

static const struct trow trows[] = {
    {"PreparingNormal", "", 0, 0, 0, "Normal"}, /* no preNormal */
    {"PreparingNormal", "", 0, 0, 1, NULL},     /* waits */
    {"PreparingNormal", "example.com/ready=yes", 0, 0, 1, "Normal"},
    {"PreparingUpdate", "", 0, 0, 1, NULL},      /* update's job */
    {"PreparingUpdate", "", 1, 0, 1, "Updated"}, /* rolled back */
    {"PreparingUpdate", "example.com/unready=true", 1, 0, 1, "Normal"},
    {"Updating", "", 1, 0, 1, NULL},      /* not completed */
    {"Updating", "", 1, 1, 1, "Updated"}, /* not all-hooked */
    {"Updating", "example.com/unready=true", 1, 1, 1, "Normal"},
    {"Updating", "", 1, 1, 0, "Normal"}, /* no hook */
    {"Updated", "", 1, 1, 1, NULL},      /* waits re-hook */
    {"Updated", "example.com/unready=true", 1, 1, 1, "Normal"},
    {"Updated", "", 1, 1, 0, "Normal"},
    {"Normal", "", 1, 1, 1, NULL},
    {"PreparingDelete", "", 1, 1, 1, NULL},
};

TEST(lifecycle_refresh_transitions_table) {
  struct lb_lifecycle with, none;
  const char *why;
  lc_parse(&with);
  ASSERT_OK(lb_lifecycle_parse(NULL, &none, &why));
  for (size_t i = 0; i < LB_ARRAY_SIZE(trows); i++) {
    const struct trow *t = &trows[i];
    struct lb_pod *p = lpod(t->state, t->labels, "", "");
    const char *got = lb_lifecycle_refresh_state(t->with_hooks ? &with : &none,
                                                 p, t->at_update, t->completed);
    if ((got == NULL) != (t->want == NULL) || (got && strcmp(got, t->want)))
      lb_test_fail(__FILE__, __LINE__, "row %zu (%s, %s): got %s, want %s", i,
                   t->state, t->labels, got ? got : "(stay)",
                   t->want ? t->want : "(stay)");
    lb_obj_free(&p->o);
  }
  lb_lifecycle_release(&with);
  lb_lifecycle_release(&none);
}

TEST(lifecycle_before_update) {
  struct lb_lifecycle lc;
  const struct lb_lifecycle_hook *re;
  lc_parse(&lc);
  struct lb_pod *p = lpod("Normal", "example.com/unready=true", "", "");
  ASSERT_EQ_INT(lb_lifecycle_before_update(&lc, p, &re), LB_LIFECYCLE_MOVE);
  ASSERT(re == NULL);
  lb_obj_free(&p->o);
  p = lpod("Normal", "", "", "");
  ASSERT_EQ_INT(lb_lifecycle_before_update(&lc, p, &re), LB_LIFECYCLE_PROCEED);
  lb_obj_free(&p->o);
  p = lpod("PreparingUpdate", "example.com/unready=true", "", "");
  ASSERT_EQ_INT(lb_lifecycle_before_update(&lc, p, &re), LB_LIFECYCLE_WAIT);
  lb_obj_free(&p->o);
  p = lpod("PreparingUpdate", "", "", "");
  ASSERT_EQ_INT(lb_lifecycle_before_update(&lc, p, &re), LB_LIFECYCLE_PROCEED);
  lb_obj_free(&p->o);
  p = lpod("Updated", "", "", "");
  ASSERT_EQ_INT(lb_lifecycle_before_update(&lc, p, &re), LB_LIFECYCLE_MOVE);
  ASSERT(re == &lc.in_place_update); /* handlers are re-applied */
  char *body =
      lb_lifecycle_state_patch(p, "PreparingUpdate", 1767225600000, re);
  ASSERT_EQ_STR(body, "{\"metadata\":{\"labels\":{\"lifecycle.apps.kruise.io/"
                      "state\":\"PreparingUpdate\",\"example.com/unready\":"
                      "\"true\"},\"annotations\":{\"lifecycle.apps.kruise.io/"
                      "timestamp\":\"2026-01-01T00:00:00Z\"}}}");
  free(body);
  lb_obj_free(&p->o);
  p = lpod("PreparingDelete", "", "", "");
  ASSERT_EQ_INT(lb_lifecycle_before_update(&lc, p, &re), LB_LIFECYCLE_WAIT);
  /* finalizer handlers are re-applied with the full list and an rv guard */
  body = lb_lifecycle_state_patch(p, "PreparingDelete", 0, &lc.pre_delete);
  ASSERT_CONTAINS(body, "\"resourceVersion\":\"42\",\"finalizers\":["
                        "\"example.com/hold\"]");
  ASSERT_CONTAINS(body, "\"example.com/drain\":\"true\"");
  free(body);
  lb_obj_free(&p->o);
  lb_lifecycle_release(&lc);
}

TEST(lifecycle_kruise_pod_ready_message) {
  struct lb_lifecycle lc;
  const char *why;
  struct lb_buf m = LB_BUF_INIT, c = LB_BUF_INIT;
  lc_parse(&lc);
  ASSERT_EQ_INT(lb_lifecycle_podready_message(&lc, "PreparingUpdate", &m), 1);
  ASSERT_EQ_STR(m.p,
                "[{\"userAgent\":\"Lifecycle\",\"key\":\"preUpdateHook\"}]");
  lb_buf_reset(&m);
  ASSERT_EQ_INT(lb_lifecycle_podready_message(&lc, "Updating", &m), 1);
  lb_buf_reset(&m);
  ASSERT_EQ_INT(lb_lifecycle_podready_message(&lc, "Updated", &m), 0);
  ASSERT_EQ_STR(m.p, "[]");
  lb_buf_reset(&m);
  /* preDelete has no markPodNotReady here */
  ASSERT_EQ_INT(lb_lifecycle_podready_message(&lc, "PreparingDelete", &m), 0);
  lb_lifecycle_release(&lc);
  ASSERT_OK(lb_lifecycle_parse("{\"preDelete\":{\"markPodNotReady\":true}}",
                               &lc, &why));
  lb_buf_reset(&m);
  ASSERT_EQ_INT(lb_lifecycle_podready_message(&lc, "PreparingDelete", &m), 1);
  ASSERT_EQ_STR(m.p,
                "[{\"userAgent\":\"Lifecycle\",\"key\":\"preDeleteHook\"}]");
  /* conditions: absent -> written; matching status -> nothing */
  struct lb_pod *p = lpod("PreparingDelete", "", "", "");
  ASSERT_EQ_INT(lb_lifecycle_podready_conds(&lc, p, 1767225600000, &c), 1);
  ASSERT_EQ_STR(c.p,
                "{\"type\":\"KruisePodReady\",\"status\":\"False\","
                "\"lastTransitionTime\":\"2026-01-01T00:00:00Z\",\"message\":"
                "\"[{\\\"userAgent\\\":\\\"Lifecycle\\\",\\\"key\\\":"
                "\\\"preDeleteHook\\\"}]\"},{\"type\":\"Ready\",\"status\":"
                "\"False\",\"lastTransitionTime\":\"2026-01-01T00:00:00Z\","
                "\"reason\":\"KruisePodNotReady\"}");
  lb_obj_free(&p->o);
  lb_buf_reset(&c);
  p = lpod("PreparingDelete", "", "", "False");
  ASSERT_EQ_INT(lb_lifecycle_podready_conds(&lc, p, 0, &c), 0);
  lb_obj_free(&p->o);
  p = lpod("Normal", "", "", "False"); /* keys emptied: True, message [] */
  ASSERT_EQ_INT(lb_lifecycle_podready_conds(&lc, p, 0, &c), 1);
  ASSERT_CONTAINS(c.p, "\"status\":\"True\"");
  ASSERT_CONTAINS(c.p, "\"message\":\"[]\"");
  lb_obj_free(&p->o);
  lb_buf_release(&m);
  lb_buf_release(&c);
  lb_lifecycle_release(&lc);
}
