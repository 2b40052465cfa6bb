/* test_admission.c — admission verdicts (engine/admission.c) through the
 * engine's public API: REVIEW events in, RESPOND decisions out. Tables for
 * CloneSet validation and defaulting, the pod mutators, deletion protection
 * (§6), PodUnavailableBudget validation and the §7 pod decrement; v1beta1
 * answered in v1beta1; JSON Patch decodes and applies; replay of the same
 * events gives the same verdicts, also from a snapshot. */
#include <json-c/json.h>

#include "../engine/engine.h"
#include "../engine/err.h"
#include "../engine/obj.h"
#include "../engine/util.h"
#include "admtest.h"
#include "test.h"

#define CS_PATH_V "/validate-apps-kruise-io-v1alpha1-cloneset"
#define CS_PATH_M "/mutate-apps-kruise-io-v1alpha1-cloneset"
#define PUB_PATH "/validate-policy-kruise-io-v1alpha1-podunavailablebudget"
#define DEL_PATH "/validate-builtin-deletion-protection"

/* ---- CloneSet validation ------------------------------------------------ */
/* NULL = omitted; tlabels NULL = {"app":"web"} */
static char *cs(const char *replicas, const char *selector, const char *tlabels,
                const char *tspec_extra, const char *us, const char *ss) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_adds(&b, "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":"
                  "\"CloneSet\",\"metadata\":{\"name\":\"web\",\"namespace\":"
                  "\"default\"},\"spec\":{\"template\":{\"metadata\":{"
                  "\"labels\":");
  lb_buf_adds(&b, tlabels ? tlabels : "{\"app\":\"web\"}");
  lb_buf_adds(&b, "},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
                  "\"nginx\"}]");
  lb_buf_adds(&b, tspec_extra ? tspec_extra : "");
  lb_buf_adds(&b, "}}");
  if (replicas)
    lb_buf_addf(&b, ",\"replicas\":%s", replicas);
  if (selector)
    lb_buf_addf(&b, ",\"selector\":%s", selector);
  if (us)
    lb_buf_addf(&b, ",\"updateStrategy\":%s", us);
  if (ss)
    lb_buf_addf(&b, ",\"scaleStrategy\":%s", ss);
  lb_buf_adds(&b, "}}");
  ASSERT(!b.err);
  return lb_buf_detach(&b, NULL);
}

#define SEL "{\"matchLabels\":{\"app\":\"web\"}}"

TEST(admission_cloneset_validation_table) {
  static const struct {
    const char *name, *replicas, *selector, *tlabels, *tspec, *us, *ss;
    const char *old_selector; /* non-NULL: UPDATE from this selector */
    int allowed;
    const char *want; /* substring of the message */
  } t[] = {
      {"valid", "3", SEL, NULL, NULL, NULL, NULL, NULL, 1, NULL},
      {"valid update", "3", SEL, NULL, NULL, NULL, NULL, SEL, 1, NULL},
      {"selector missing", "3", NULL, NULL, NULL, NULL, NULL, NULL, 0,
       "spec.selector: Required value"},
      {"selector empty", "3", "{}", NULL, NULL, NULL, NULL, NULL, 0,
       "spec.selector: Invalid value: empty selector"},
      {"selector not matching", "3", "{\"matchLabels\":{\"app\":\"api\"}}",
       NULL, NULL, NULL, NULL, NULL, 0,
       "spec.template.metadata.labels: Invalid value: `selector` does not "
       "match template `labels`"},
      {"selector expression not matching", "3",
       "{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"Exists\"}]}",
       NULL, NULL, NULL, NULL, NULL, 0, "spec.template.metadata.labels"},
      {"selector bad operator", "3",
       "{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"Is\"}]}", NULL,
       NULL, NULL, NULL, NULL, 0,
       "spec.selector.matchExpressions[0]: Unsupported value: operator "
       "\"Is\""},
      {"selector immutable", "3", SEL, "{\"app\":\"web\",\"tier\":\"a\"}", NULL,
       NULL, NULL, "{\"matchLabels\":{\"tier\":\"a\"}}", 0,
       "spec.selector: Forbidden: field is immutable"},
      {"replicas negative", "-1", SEL, NULL, NULL, NULL, NULL, NULL, 0,
       "spec.replicas: Invalid value: -1: must be greater than or equal to 0"},
      {"replicas not a number", "\"3\"", SEL, NULL, NULL, NULL, NULL, NULL, 0,
       "spec.replicas: Invalid value: must be an integer"},
      {"partition negative", "3", SEL, NULL, NULL, "{\"partition\":-1}", NULL,
       NULL, 0, "spec.updateStrategy.partition: Invalid value: -1"},
      {"partition over 100%", "3", SEL, NULL, NULL, "{\"partition\":\"150%\"}",
       NULL, NULL, 0,
       "spec.updateStrategy.partition: Invalid value: \"150%\": a percent "
       "must be between 0% and 100%"},
      {"partition 100% ok", "3", SEL, NULL, NULL, "{\"partition\":\"100%\"}",
       NULL, NULL, 1, NULL},
      {"maxUnavailable malformed", "3", SEL, NULL, NULL,
       "{\"maxUnavailable\":\"abc\"}", NULL, NULL, 0,
       "spec.updateStrategy.maxUnavailable: Invalid value: \"abc\": must be "
       "an integer or a percent"},
      {"maxUnavailable wrong type", "3", SEL, NULL, NULL,
       "{\"maxUnavailable\":true}", NULL, NULL, 0,
       "spec.updateStrategy.maxUnavailable: Invalid value: true"},
      {"maxSurge over 100%", "3", SEL, NULL, NULL, "{\"maxSurge\":\"101%\"}",
       NULL, NULL, 0, "spec.updateStrategy.maxSurge: Invalid value: \"101%\""},
      {"maxSurge with InPlaceOnly", "3", SEL, NULL, NULL,
       "{\"type\":\"InPlaceOnly\",\"maxSurge\":1}", NULL, NULL, 0,
       "spec.updateStrategy.maxSurge: Invalid value: 1: must be 0 with "
       "updateStrategy.type InPlaceOnly"},
      {"maxSurge 0 with InPlaceOnly ok", "3", SEL, NULL, NULL,
       "{\"type\":\"InPlaceOnly\",\"maxSurge\":0}", NULL, NULL, 1, NULL},
      {"both below 1", "3", SEL, NULL, NULL,
       "{\"maxUnavailable\":0,\"maxSurge\":0}", NULL, NULL, 0,
       "maxUnavailable resolves to 0 and maxSurge to 0 for 3 replicas: they "
       "may not both be less than 1"},
      {"percent rounds up to 1", "3", SEL, NULL, NULL,
       "{\"maxUnavailable\":\"10%\",\"maxSurge\":0}", NULL, NULL, 1, NULL},
      {"surge percent rounds up", "3", SEL, NULL, NULL,
       "{\"maxUnavailable\":0,\"maxSurge\":\"10%\"}", NULL, NULL, 1, NULL},
      {"both 0 with 0 replicas ok", "0", SEL, NULL, NULL,
       "{\"maxUnavailable\":0,\"maxSurge\":0}", NULL, NULL, 1, NULL},
      {"weight and order", "3", SEL, NULL, NULL,
       "{\"priorityStrategy\":{\"weightPriority\":[{\"weight\":50,"
       "\"matchSelector\":{\"matchLabels\":{\"a\":\"b\"}}}],\"orderPriority\":"
       "[{\"orderedKey\":\"k\"}]}}",
       NULL, NULL, 0,
       "spec.updateStrategy.priorityStrategy: Invalid value: weightPriority "
       "and orderPriority are both set"},
      {"weight over 100", "3", SEL, NULL, NULL,
       "{\"priorityStrategy\":{\"weightPriority\":[{\"weight\":101,"
       "\"matchSelector\":{\"matchLabels\":{\"a\":\"b\"}}}]}}",
       NULL, NULL, 0,
       "spec.updateStrategy.priorityStrategy.weightPriority[0]: Invalid "
       "value: weight must be an integer between 0 and 100"},
      {"scatter duplicate", "3", SEL, NULL, NULL,
       "{\"scatterStrategy\":[{\"key\":\"z\",\"value\":\"a\"},{\"key\":\"z\","
       "\"value\":\"a\"}]}",
       NULL, NULL, 0,
       "spec.updateStrategy.scatterStrategy[1]: Duplicate value"},
      {"restartPolicy Never", "3", SEL, NULL, ",\"restartPolicy\":\"Never\"",
       NULL, NULL, NULL, 0,
       "spec.template.spec.restartPolicy: Unsupported value: \"Never\""},
      {"restartPolicy Always ok", "3", SEL, NULL,
       ",\"restartPolicy\":\"Always\"", NULL, NULL, NULL, 1, NULL},
      {"activeDeadlineSeconds", "3", SEL, NULL, ",\"activeDeadlineSeconds\":30",
       NULL, NULL, NULL, 0,
       "spec.template.spec.activeDeadlineSeconds: Forbidden"},
      {"podsToDelete duplicates", "3", SEL, NULL, NULL, NULL,
       "{\"podsToDelete\":[\"web-a\",\"web-b\",\"web-a\"]}", NULL, 0,
       "spec.scaleStrategy.podsToDelete[2]: Duplicate value: \"web-a\""},
      {"scaleStrategy.maxUnavailable negative", "3", SEL, NULL, NULL, NULL,
       "{\"maxUnavailable\":-2}", NULL, 0,
       "spec.scaleStrategy.maxUnavailable: Invalid value: -2"},
      {"unknown update type", "3", SEL, NULL, NULL, "{\"type\":\"Rolling\"}",
       NULL, NULL, 0,
       "spec.updateStrategy.type: Unsupported value: \"Rolling\""},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(t); i++) {
    struct adm h;
    struct adm_resp r;
    char *obj = cs(t[i].replicas, t[i].selector, t[i].tlabels, t[i].tspec,
                   t[i].us, t[i].ss);
    char *old = t[i].old_selector
                    ? cs(t[i].replicas, t[i].old_selector, t[i].tlabels,
                         t[i].tspec, t[i].us, t[i].ss)
                    : NULL;
    struct adm_req q = {.path = CS_PATH_V,
                        .op = old ? "UPDATE" : "CREATE",
                        .group = "apps.kruise.io",
                        .version = "v1alpha1",
                        .kind = "CloneSet",
                        .resource = "clonesets",
                        .ns = "default",
                        .name = "web",
                        .obj = obj,
                        .old = old};
    adm_init(&h, NULL);
    adm_parse(adm_review(&h, 1000, &q), &r);
    if (r.allowed != t[i].allowed)
      lb_test_fail(__FILE__, __LINE__, "%s: allowed %d, want %d: %s", t[i].name,
                   r.allowed, t[i].allowed, r.message);
    if (!t[i].allowed) {
      ASSERT_EQ_INT(r.code, 403);
      ASSERT_EQ_STR(r.reason, "Forbidden");
      ASSERT_CONTAINS(r.message, "CloneSet web is invalid");
      if (!strstr(r.message, t[i].want))
        lb_test_fail(__FILE__, __LINE__, "%s: message lacks \"%s\":\n  %s",
                     t[i].name, t[i].want, r.message);
    }
    adm_resp_release(&r);
    adm_free(&h);
    free(obj);
    free(old);
  }
}

TEST(admission_cloneset_errors_are_all_listed) {
  struct adm h;
  struct adm_resp r;
  char *obj = cs("-1", SEL, NULL, NULL, "{\"type\":\"X\"}", NULL);
  struct adm_req q = {.path = CS_PATH_V,
                      .op = "CREATE",
                      .group = "apps.kruise.io",
                      .kind = "CloneSet",
                      .resource = "clonesets",
                      .ns = "default",
                      .name = "web",
                      .obj = obj};
  adm_init(&h, NULL);
  const struct lb_decision *d = adm_review(&h, 1000, &q);
  adm_parse(d, &r);
  ASSERT(!r.allowed);
  ASSERT_CONTAINS(r.message, "spec.replicas: Invalid value: -1");
  ASSERT_CONTAINS(r.message, "; spec.updateStrategy.type: Unsupported");
  /* the decision's reason carries the verdict for `logbook explain` */
  ASSERT_CONTAINS(d->reason, CS_PATH_V " CREATE CloneSet default/web by "
                                       "alice: denied (403)");
  ASSERT_CONTAINS(d->reason, "spec.replicas");
  adm_resp_release(&r);
  adm_free(&h);
  free(obj);
}

/* ---- CloneSet defaulting ------------------------------------------------ */
static struct json_object *at_path(struct json_object *o, const char *p) {
  char buf[256], *save = buf, *tok;
  snprintf(buf, sizeof buf, "%s", p);
  while (o && (tok = save)) {
    char *dot = strchr(tok, '.');
    if (dot)
      *dot = '\0';
    save = dot ? dot + 1 : NULL;
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(o, tok, &v))
      return NULL;
    o = v;
  }
  return o;
}

static void expect_json(struct json_object *doc, const char *path,
                        const char *want) {
  struct json_object *v = at_path(doc, path);
  if (!v)
    lb_test_fail(__FILE__, __LINE__, "%s missing", path);
  const char *got = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
  if (strcmp(got, want))
    lb_test_fail(__FILE__, __LINE__, "%s: %s, want %s", path, got, want);
}

TEST(admission_cloneset_defaults_apply_as_json_patch) {
  static const struct {
    const char *us, *api;
    const char *checks[12][2]; /* path, JSON value */
    int no_patch;
  } t[] = {
      {NULL,
       "admission.k8s.io/v1",
       {{"spec.replicas", "1"},
        {"spec.revisionHistoryLimit", "10"},
        {"spec.updateStrategy.type", "\"ReCreate\""},
        {"spec.updateStrategy.partition", "0"},
        {"spec.updateStrategy.maxUnavailable", "\"20%\""},
        {"spec.updateStrategy.maxSurge", "0"},
        {"spec.template.spec.restartPolicy", "\"Always\""},
        {"spec.template.spec.dnsPolicy", "\"ClusterFirst\""},
        {"spec.template.spec.terminationGracePeriodSeconds", "30"}},
       0},
      {"{\"type\":\"InPlaceIfPossible\",\"maxUnavailable\":2}",
       "admission.k8s.io/v1beta1",
       {{"spec.updateStrategy.type", "\"InPlaceIfPossible\""},
        {"spec.updateStrategy.maxUnavailable", "2"},
        {"spec.updateStrategy.partition", "0"},
        {"spec.updateStrategy.maxSurge", "0"},
        {"spec.updateStrategy.inPlaceUpdateStrategy", "{}"}},
       0},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(t); i++) {
    struct adm h;
    struct adm_resp r;
    char *obj = cs(NULL, SEL, NULL, NULL, t[i].us, NULL);
    struct adm_req q = {.path = CS_PATH_M,
                        .api = t[i].api,
                        .op = "CREATE",
                        .group = "apps.kruise.io",
                        .kind = "CloneSet",
                        .resource = "clonesets",
                        .ns = "default",
                        .name = "web",
                        .obj = obj};
    adm_init(&h, NULL);
    adm_parse(adm_review(&h, 1000, &q), &r);
    ASSERT(r.allowed);
    ASSERT_EQ_STR(r.api, t[i].api); /* answered in the request's version */
    ASSERT(r.has_patch);
    char *patched = adm_apply_patch(obj, r.patch);
    if (!patched)
      lb_test_fail(__FILE__, __LINE__, "patch does not apply: %s", r.patch);
    struct json_object *doc = json_tokener_parse(patched);
    for (size_t c = 0; c < 12 && t[i].checks[c][0]; c++)
      expect_json(doc, t[i].checks[c][0], t[i].checks[c][1]);
    /* defaulting is idempotent: the defaulted object needs no patch */
    struct adm_resp r2;
    q.obj = patched;
    adm_parse(adm_review(&h, 1001, &q), &r2);
    ASSERT(r2.allowed);
    ASSERT(!r2.has_patch);
    json_object_put(doc);
    free(patched);
    adm_resp_release(&r);
    adm_resp_release(&r2);
    adm_free(&h);
    free(obj);
  }
}

/* ---- pod mutators ------------------------------------------------------- */
TEST(admission_pod_readiness_gates_table) {
  static const struct {
    const char *owner_api, *owner_kind, *gates; /* existing gates JSON */
    const char *want;                           /* conditionTypes, "," */
  } t[] = {
      {"apps.kruise.io/v1alpha1", "CloneSet", NULL,
       "InPlaceUpdateReady,KruisePodReady"},
      {"apps.kruise.io/v1beta1", "StatefulSet", NULL,
       "InPlaceUpdateReady,KruisePodReady"},
      {"apps.kruise.io/v1alpha1", "BroadcastJob", NULL, "KruisePodReady"},
      {"apps.kruise.io/v1alpha1", "CloneSet",
       "[{\"conditionType\":\"KruisePodReady\"}]",
       "KruisePodReady,InPlaceUpdateReady"},
      {"apps.kruise.io/v1alpha1", "CloneSet",
       "[{\"conditionType\":\"InPlaceUpdateReady\"},{\"conditionType\":"
       "\"KruisePodReady\"}]",
       NULL},
      {"apps/v1", "ReplicaSet", NULL, NULL},
      {NULL, NULL, NULL, NULL},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(t); i++) {
    struct adm h;
    struct adm_resp r;
    struct lb_buf b = LB_BUF_INIT;
    lb_buf_adds(&b, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
                    "\"generateName\":\"web-\",\"namespace\":\"default\"");
    if (t[i].owner_kind)
      lb_buf_addf(&b,
                  ",\"ownerReferences\":[{\"apiVersion\":\"%s\",\"kind\":"
                  "\"%s\",\"name\":\"w\",\"uid\":\"u1\",\"controller\":true}]",
                  t[i].owner_api, t[i].owner_kind);
    lb_buf_adds(&b, "},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
                    "\"x\"}]");
    if (t[i].gates)
      lb_buf_addf(&b, ",\"readinessGates\":%s", t[i].gates);
    lb_buf_adds(&b, "}}");
    struct adm_req q = {
        .path = "/mutate-pod", .op = "CREATE", .ns = "default", .obj = b.p};
    adm_init(&h, NULL);
    adm_parse(adm_review(&h, 1000, &q), &r);
    ASSERT(r.allowed);
    if (!t[i].want) {
      ASSERT(!r.has_patch);
    } else {
      ASSERT(r.has_patch);
      char *patched = adm_apply_patch(b.p, r.patch);
      ASSERT(patched);
      struct json_object *doc = json_tokener_parse(patched);
      struct json_object *rg = at_path(doc, "spec.readinessGates");
      struct lb_buf got = LB_BUF_INIT;
      for (size_t g = 0; rg && g < json_object_array_length(rg); g++)
        lb_buf_addf(&got, "%s%s", g ? "," : "",
                    json_object_get_string(at_path(
                        json_object_array_get_idx(rg, g), "conditionType")));
      if (!got.p || strcmp(got.p, t[i].want))
        lb_test_fail(__FILE__, __LINE__, "case %zu: gates %s, want %s", i,
                     got.p ? got.p : "(none)", t[i].want);
      lb_buf_release(&got);
      json_object_put(doc);
      free(patched);
    }
    adm_resp_release(&r);
    adm_free(&h);
    lb_buf_release(&b);
  }
}

static const char *pub_json(const char *name, const char *spec,
                            const char *annotations) {
  static char buf[4][2048];
  static int k;
  char *o = buf[k++ % 4];
  snprintf(o, 2048,
           "{\"apiVersion\":\"policy.kruise.io/v1alpha1\",\"kind\":"
           "\"PodUnavailableBudget\",\"metadata\":{\"name\":\"%s\","
           "\"namespace\":\"default\",\"uid\":\"pub-%s\",\"generation\":1%s%s"
           "},\"spec\":%s}",
           name, name, annotations ? ",\"annotations\":" : "",
           annotations ? annotations : "", spec);
  return o;
}

TEST(admission_pod_related_pub_annotation) {
  struct adm h;
  struct adm_resp r;
  adm_init(&h, NULL);
  adm_watch(&h, 500, LB_EV_ADDED,
            pub_json("web-pub",
                     "{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
                     "\"maxUnavailable\":1}",
                     NULL));
  const char *covered =
      "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p1\","
      "\"namespace\":\"default\",\"labels\":{\"app\":\"web\"},"
      "\"annotations\":{\"a\":\"b\"}},\"spec\":{\"containers\":[]}}";
  const char *bare =
      "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p2\","
      "\"namespace\":\"default\",\"labels\":{\"app\":\"web\"}},\"spec\":{}}";
  const char *other =
      "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p3\","
      "\"namespace\":\"default\",\"labels\":{\"app\":\"db\"}},\"spec\":{}}";
  const char *docs[] = {covered, bare, other};
  for (int i = 0; i < 3; i++) {
    struct adm_req q = {
        .path = "/mutate-pod", .op = "CREATE", .ns = "default", .obj = docs[i]};
    adm_parse(adm_review(&h, 1000 + i, &q), &r);
    ASSERT(r.allowed);
    if (i == 2) {
      ASSERT(!r.has_patch);
    } else {
      char *patched = adm_apply_patch(docs[i], r.patch);
      ASSERT(patched);
      struct json_object *doc = json_tokener_parse(patched);
      struct json_object *ann = at_path(doc, "metadata.annotations");
      struct json_object *v = NULL;
      ASSERT(json_object_object_get_ex(ann, "kruise.io/related-pub", &v));
      ASSERT_EQ_STR(json_object_get_string(v), "web-pub");
      json_object_put(doc);
      free(patched);
    }
    adm_resp_release(&r);
  }
  adm_free(&h);
}

/* ---- deletion protection (§6) ------------------------------------------- */
static char *obj_with_label(const char *api, const char *kind, const char *ns,
                            const char *name, const char *mode,
                            const char *extra_meta, const char *spec) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_addf(&b,
              "{\"apiVersion\":\"%s\",\"kind\":\"%s\",\"metadata\":{\"name\":"
              "\"%s\"",
              api, kind, name);
  if (*ns)
    lb_buf_addf(&b, ",\"namespace\":\"%s\"", ns);
  if (mode)
    lb_buf_addf(&b,
                ",\"labels\":{\"policy.kruise.io/delete-protection\":\"%s\"}",
                mode);
  lb_buf_addf(&b, "%s}", extra_meta ? extra_meta : "");
  if (spec)
    lb_buf_addf(&b, ",\"spec\":%s", spec);
  lb_buf_adds(&b, "}");
  return lb_buf_detach(&b, NULL);
}

#define PVC(name, ns, phase, extra)                                            \
  "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{"   \
  "\"name\":\"" name "\",\"namespace\":\"" ns "\",\"uid\":\"pvc-" name         \
  "\"" extra "},\"status\":{\"phase\":\"" phase "\"}}"

TEST(admission_deletion_protection_table) {
  static const struct {
    const char *name;
    const char *path, *api, *group, *kind, *resource, *ns, *oname;
    const char *mode, *extra_meta, *spec;
    const char *state[3]; /* objects in the engine first */
    int protection, crd_gate;
    int allowed;
    const char *want;
  } t[] = {
      {"namespace Always",
       DEL_PATH,
       "v1",
       "",
       "Namespace",
       "namespaces",
       "",
       "team-a",
       "Always",
       NULL,
       NULL,
       {NULL},
       1,
       1,
       0,
       "forbidden by ResourcesProtectionDeletion: Namespace team-a has label "
       "policy.kruise.io/delete-protection=Always; remove the label to delete "
       "it (kubectl label namespaces team-a "
       "policy.kruise.io/delete-protection-)"},
      {"namespace Cascading with an active pod",
       DEL_PATH,
       "v1",
       "",
       "Namespace",
       "namespaces",
       "",
       "team-a",
       "Cascading",
       NULL,
       NULL,
       {"POD:team-a:p1:Running"},
       1,
       1,
       0,
       "forbidden by ResourcesProtectionDeletion: Namespace team-a has label "
       "policy.kruise.io/delete-protection=Cascading and 1 active pod(s) (e.g. "
       "p1)"},
      {"namespace Cascading, pod done, Bound PVC",
       DEL_PATH,
       "v1",
       "",
       "Namespace",
       "namespaces",
       "",
       "team-a",
       "Cascading",
       NULL,
       NULL,
       {"POD:team-a:p1:Succeeded", PVC("data", "team-a", "Bound", "")},
       1,
       1,
       0,
       "1 Bound PersistentVolumeClaim(s) (e.g. data)"},
      {"namespace Cascading, Pending PVC and terminating Bound PVC",
       DEL_PATH,
       "v1",
       "",
       "Namespace",
       "namespaces",
       "",
       "team-a",
       "Cascading",
       NULL,
       NULL,
       {PVC("a", "team-a", "Pending", ""),
        PVC("b", "team-a", "Bound",
            ",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"")},
       1,
       1,
       1,
       NULL},
      {"namespace Cascading, pods elsewhere",
       DEL_PATH,
       "v1",
       "",
       "Namespace",
       "namespaces",
       "",
       "team-a",
       "Cascading",
       NULL,
       NULL,
       {"POD:team-b:p1:Running", PVC("c", "team-b", "Bound", "")},
       1,
       1,
       1,
       NULL},
      {"namespace already terminating",
       DEL_PATH,
       "v1",
       "",
       "Namespace",
       "namespaces",
       "",
       "team-a",
       "Always",
       ",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"",
       NULL,
       {NULL},
       1,
       1,
       1,
       NULL},
      {"namespace without label",
       DEL_PATH,
       "v1",
       "",
       "Namespace",
       "namespaces",
       "",
       "team-a",
       NULL,
       NULL,
       NULL,
       {"POD:team-a:p:Running"},
       1,
       1,
       1,
       NULL},
      {"namespace label other value",
       DEL_PATH,
       "v1",
       "",
       "Namespace",
       "namespaces",
       "",
       "team-a",
       "Never",
       NULL,
       NULL,
       {NULL},
       1,
       1,
       1,
       NULL},
      {"protection off",
       DEL_PATH,
       "v1",
       "",
       "Namespace",
       "namespaces",
       "",
       "team-a",
       "Always",
       NULL,
       NULL,
       {NULL},
       0,
       1,
       1,
       NULL},
      {"deployment Cascading replicas 3",
       DEL_PATH,
       "apps/v1",
       "apps",
       "Deployment",
       "deployments",
       "default",
       "web",
       "Cascading",
       NULL,
       "{\"replicas\":3}",
       {NULL},
       1,
       1,
       0,
       "Deployment default/web has label "
       "policy.kruise.io/delete-protection=Cascading and spec.replicas 3 > 0; "
       "scale it to 0 first"},
      {"deployment Cascading replicas 0",
       DEL_PATH,
       "apps/v1",
       "apps",
       "Deployment",
       "deployments",
       "default",
       "web",
       "Cascading",
       NULL,
       "{\"replicas\":0}",
       {NULL},
       1,
       1,
       1,
       NULL},
      {"replicaset Cascading default replicas",
       DEL_PATH,
       "apps/v1",
       "apps",
       "ReplicaSet",
       "replicasets",
       "default",
       "web",
       "Cascading",
       NULL,
       "{}",
       {NULL},
       1,
       1,
       0,
       "spec.replicas 1 > 0"},
      {"statefulset Always",
       DEL_PATH,
       "apps/v1",
       "apps",
       "StatefulSet",
       "statefulsets",
       "default",
       "db",
       "Always",
       NULL,
       "{\"replicas\":0}",
       {NULL},
       1,
       1,
       0,
       "forbidden by ResourcesProtectionDeletion"},
      {"cloneset Cascading on its own path",
       CS_PATH_V,
       "apps.kruise.io/v1alpha1",
       "apps.kruise.io",
       "CloneSet",
       "clonesets",
       "default",
       "web",
       "Cascading",
       NULL,
       "{\"replicas\":2}",
       {NULL},
       1,
       1,
       0,
       "CloneSet default/web has label "
       "policy.kruise.io/delete-protection=Cascading and spec.replicas 2"},
      {"advanced statefulset Cascading",
       DEL_PATH,
       "apps.kruise.io/v1beta1",
       "apps.kruise.io",
       "StatefulSet",
       "statefulsets",
       "default",
       "db",
       "Cascading",
       NULL,
       "{\"replicas\":1}",
       {NULL},
       1,
       1,
       0,
       "spec.replicas 1 > 0"},
      {"uniteddeployment Cascading 0",
       DEL_PATH,
       "apps.kruise.io/v1alpha1",
       "apps.kruise.io",
       "UnitedDeployment",
       "uniteddeployments",
       "default",
       "ud",
       "Cascading",
       NULL,
       "{\"replicas\":0}",
       {NULL},
       1,
       1,
       1,
       NULL},
      {"service Cascading not enforced",
       DEL_PATH,
       "v1",
       "",
       "Service",
       "services",
       "default",
       "svc",
       "Cascading",
       NULL,
       "{}",
       {NULL},
       1,
       1,
       1,
       NULL},
      {"service Always",
       DEL_PATH,
       "v1",
       "",
       "Service",
       "services",
       "default",
       "svc",
       "Always",
       NULL,
       "{}",
       {NULL},
       1,
       1,
       0,
       "forbidden by ResourcesProtectionDeletion: Service default/svc"},
      {"ingress Always",
       DEL_PATH,
       "networking.k8s.io/v1",
       "networking.k8s.io",
       "Ingress",
       "ingresses",
       "default",
       "ing",
       "Always",
       NULL,
       "{}",
       {NULL},
       1,
       1,
       0,
       "remove the label"},
      {"CRD Cascading, gate off",
       DEL_PATH,
       "apiextensions.k8s.io/v1",
       "apiextensions.k8s.io",
       "CustomResourceDefinition",
       "customresourcedefinitions",
       "",
       "clonesets.apps.kruise.io",
       "Cascading",
       NULL,
       "{\"group\":\"apps.kruise.io\",\"names\":{\"kind\":\"CloneSet\"}}",
       {NULL},
       1,
       0,
       0,
       "DeletionProtectionForCRDCascadingGate"},
      {"CRD Cascading, CRs remain",
       DEL_PATH,
       "apiextensions.k8s.io/v1",
       "apiextensions.k8s.io",
       "CustomResourceDefinition",
       "customresourcedefinitions",
       "",
       "clonesets.apps.kruise.io",
       "Cascading",
       NULL,
       "{\"group\":\"apps.kruise.io\",\"names\":{\"kind\":\"CloneSet\"}}",
       {"CS:team-z:web"},
       1,
       1,
       0,
       "1 CloneSet object(s) are not terminating (e.g. web)"},
      {"CRD Cascading, no CRs",
       DEL_PATH,
       "apiextensions.k8s.io/v1",
       "apiextensions.k8s.io",
       "CustomResourceDefinition",
       "customresourcedefinitions",
       "",
       "clonesets.apps.kruise.io",
       "Cascading",
       NULL,
       "{\"group\":\"apps.kruise.io\",\"names\":{\"kind\":\"CloneSet\"}}",
       {NULL},
       1,
       1,
       1,
       NULL},
      {"CRD Cascading, untracked kind",
       DEL_PATH,
       "apiextensions.k8s.io/v1",
       "apiextensions.k8s.io",
       "CustomResourceDefinition",
       "customresourcedefinitions",
       "",
       "widgets.example.io",
       "Cascading",
       NULL,
       "{\"group\":\"example.io\",\"names\":{\"kind\":\"Widget\"}}",
       {NULL},
       1,
       1,
       0,
       "logbook does not track Widget.example.io objects"},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(t); i++) {
    struct adm h;
    struct adm_resp r;
    struct lb_engine_opts o = LB_ENGINE_OPTS_INIT;
    o.deletion_protection = t[i].protection;
    o.crd_cascading = t[i].crd_gate;
    adm_init(&h, &o);
    for (int s = 0; s < 3 && t[i].state[s]; s++) {
      char ns[64], name[64], phase[32];
      if (sscanf(t[i].state[s], "POD:%63[^:]:%63[^:]:%31s", ns, name, phase) ==
          3) {
        char *p = adm_pod(ns, name, NULL, NULL, NULL, NULL, NULL, 1, phase);
        adm_watch(&h, 100, LB_EV_ADDED, p);
        free(p);
      } else if (sscanf(t[i].state[s], "CS:%63[^:]:%63s", ns, name) == 2) {
        char *c = cs("1", SEL, NULL, NULL, NULL, NULL);
        char *n = lb_strdup(c); /* move it to ns */
        struct json_object *j = json_tokener_parse(c);
        json_object_object_add(at_path(j, "metadata"), "namespace",
                               json_object_new_string(ns));
        json_object_object_add(at_path(j, "metadata"), "uid",
                               json_object_new_string("cs-z"));
        adm_watch(&h, 100, LB_EV_ADDED,
                  json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
        json_object_put(j);
        free(c);
        free(n);
      } else {
        adm_watch(&h, 100, LB_EV_ADDED, t[i].state[s]);
      }
    }
    char *old = obj_with_label(t[i].api, t[i].kind, t[i].ns, t[i].oname,
                               t[i].mode, t[i].extra_meta, t[i].spec);
    struct adm_req q = {.path = t[i].path,
                        .op = "DELETE",
                        .group = t[i].group,
                        .kind = t[i].kind,
                        .resource = t[i].resource,
                        .ns = t[i].ns,
                        .name = t[i].oname,
                        .old = old};
    adm_parse(adm_review(&h, 1000, &q), &r);
    if (r.allowed != t[i].allowed)
      lb_test_fail(__FILE__, __LINE__, "%s: allowed %d, want %d: %s", t[i].name,
                   r.allowed, t[i].allowed, r.message);
    if (!r.allowed) {
      ASSERT_EQ_INT(r.code, 403);
      ASSERT_CONTAINS(r.message, "forbidden by ResourcesProtectionDeletion");
      if (!strstr(r.message, t[i].want))
        lb_test_fail(__FILE__, __LINE__, "%s: message lacks \"%s\":\n  %s",
                     t[i].name, t[i].want, r.message);
    }
    adm_resp_release(&r);
    adm_free(&h);
    free(old);
  }
}

/* ---- PodUnavailableBudget validation ------------------------------------ */
TEST(admission_pub_validation_table) {
  static const struct {
    const char *name, *spec, *old_spec, *existing; /* existing PUB spec */
    int allowed;
    const char *want;
  } t[] = {
      {"selector + maxUnavailable",
       "{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"maxUnavailable\":"
       "1}",
       NULL, NULL, 1, NULL},
      {"targetRef + minAvailable percent",
       "{\"targetRef\":{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":"
       "\"CloneSet\",\"name\":\"web\"},\"minAvailable\":\"50%\"}",
       NULL, NULL, 1, NULL},
      {"maxUnavailable 0 allowed",
       "{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"maxUnavailable\":"
       "0}",
       NULL, NULL, 1, NULL},
      {"both selector and targetRef",
       "{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"targetRef\":{"
       "\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"web\"},"
       "\"maxUnavailable\":1}",
       NULL, NULL, 0,
       "spec.selector: Forbidden: selector and targetRef are mutually "
       "exclusive"},
      {"neither selector nor targetRef", "{\"maxUnavailable\":1}", NULL, NULL,
       0, "one of spec.selector or spec.targetRef is required"},
      {"targetRef without name",
       "{\"targetRef\":{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\"},"
       "\"maxUnavailable\":1}",
       NULL, NULL, 0, "spec.targetRef.name: Required value"},
      {"both maxUnavailable and minAvailable",
       "{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"maxUnavailable\":"
       "1,\"minAvailable\":1}",
       NULL, NULL, 0,
       "spec.maxUnavailable: Forbidden: maxUnavailable and minAvailable are "
       "mutually exclusive"},
      {"neither maxUnavailable nor minAvailable",
       "{\"selector\":{\"matchLabels\":{\"app\":\"web\"}}}", NULL, NULL, 0,
       "one of spec.maxUnavailable or spec.minAvailable is required"},
      {"minAvailable over 100%",
       "{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"minAvailable\":"
       "\"120%\"}",
       NULL, NULL, 0, "spec.minAvailable: Invalid value: \"120%\""},
      {"maxUnavailable negative",
       "{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"maxUnavailable\":"
       "-1}",
       NULL, NULL, 0, "spec.maxUnavailable: Invalid value: -1"},
      {"empty selector", "{\"selector\":{},\"maxUnavailable\":1}", NULL, NULL,
       0, "spec.selector: Invalid value: an empty selector"},
      {"selector immutable",
       "{\"selector\":{\"matchLabels\":{\"app\":\"api\"}},\"maxUnavailable\":"
       "1}",
       "{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"maxUnavailable\":"
       "1}",
       NULL, 0, "spec.selector: Forbidden: field is immutable"},
      {"same workload twice",
       "{\"targetRef\":{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":"
       "\"CloneSet\",\"name\":\"web\"},\"maxUnavailable\":1}",
       NULL,
       "{\"targetRef\":{\"apiVersion\":\"apps.kruise.io/v1beta1\",\"kind\":"
       "\"CloneSet\",\"name\":\"web\"},\"maxUnavailable\":2}",
       0,
       "spec.targetRef: Forbidden: PodUnavailableBudget other already "
       "targets CloneSet web"},
      {"overlapping selectors",
       "{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"maxUnavailable\":"
       "1}",
       NULL,
       "{\"selector\":{\"matchLabels\":{\"app\":\"web\",\"tier\":\"fe\"}},"
       "\"maxUnavailable\":1}",
       0,
       "spec.selector: Forbidden: overlaps the selector of "
       "PodUnavailableBudget other"},
      {"disjoint selectors",
       "{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"maxUnavailable\":"
       "1}",
       NULL,
       "{\"selector\":{\"matchLabels\":{\"app\":\"db\"}},\"maxUnavailable\":"
       "1}",
       1, NULL},
      {"selector excluded by NotIn",
       "{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"maxUnavailable\":"
       "1}",
       NULL,
       "{\"selector\":{\"matchExpressions\":[{\"key\":\"app\",\"operator\":"
       "\"NotIn\",\"values\":[\"web\"]}]},\"maxUnavailable\":1}",
       1, NULL},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(t); i++) {
    struct adm h;
    struct adm_resp r;
    adm_init(&h, NULL);
    if (t[i].existing)
      adm_watch(&h, 100, LB_EV_ADDED, pub_json("other", t[i].existing, NULL));
    char *obj = lb_strdup(pub_json("mine", t[i].spec, NULL));
    char *old =
        t[i].old_spec ? lb_strdup(pub_json("mine", t[i].old_spec, NULL)) : NULL;
    struct adm_req q = {.path = PUB_PATH,
                        .op = old ? "UPDATE" : "CREATE",
                        .group = "policy.kruise.io",
                        .version = "v1alpha1",
                        .kind = "PodUnavailableBudget",
                        .resource = "podunavailablebudgets",
                        .ns = "default",
                        .name = "mine",
                        .obj = obj,
                        .old = old};
    adm_parse(adm_review(&h, 1000, &q), &r);
    if (r.allowed != t[i].allowed)
      lb_test_fail(__FILE__, __LINE__, "%s: allowed %d, want %d: %s", t[i].name,
                   r.allowed, t[i].allowed, r.message);
    if (!r.allowed && !strstr(r.message, t[i].want))
      lb_test_fail(__FILE__, __LINE__, "%s: message lacks \"%s\":\n  %s",
                   t[i].name, t[i].want, r.message);
    adm_resp_release(&r);
    adm_free(&h);
    free(obj);
    free(old);
  }
}

/* ---- PodUnavailableBudget on pods (§7) ---------------------------------- */
#define RELATED "{\"kruise.io/related-pub\":\"web-pub\"}"

/* A PUB over app=web with `spec_tail` (e.g. "\"maxUnavailable\":1") and
 * n ready pods p0..p(n-1), all annotated with it. */
static void pub_world(struct adm *h, const char *spec_tail,
                      const char *pub_annotations, int n) {
  char spec[512];
  snprintf(spec, sizeof spec,
           "{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},%s}", spec_tail);
  adm_watch(h, 100, LB_EV_ADDED, pub_json("web-pub", spec, pub_annotations));
  for (int i = 0; i < n; i++) {
    char name[16];
    snprintf(name, sizeof name, "p%d", i);
    char *p = adm_pod("default", name, "{\"app\":\"web\"}", RELATED, NULL, NULL,
                      NULL, 1, "Running");
    adm_watch(h, 100, LB_EV_ADDED, p);
    free(p);
  }
}

static int verdict(struct adm *h, int64_t at, const char *op, const char *sub,
                   const char *pod, int dry_run, struct adm_resp *r,
                   int *status_patch) {
  struct adm_req q = {.path = sub && !strcmp(sub, "eviction")
                                  ? "/validate-pod-eviction"
                                  : "/validate-pod",
                      .op = op,
                      .sub = sub,
                      .kind = "Pod",
                      .resource = "pods",
                      .ns = "default",
                      .dry_run = dry_run};
  struct json_object *j = json_tokener_parse(pod);
  q.name = json_object_get_string(at_path(j, "metadata.name"));
  if (!strcmp(op, "DELETE"))
    q.old = pod;
  else if (!strcmp(op, "UPDATE"))
    q.old = pod;
  else
    q.obj = "{\"apiVersion\":\"policy/v1beta1\",\"kind\":\"Eviction\","
            "\"metadata\":{\"name\":\"x\"}}";
  char *newpod = NULL;
  if (!strcmp(op, "UPDATE")) { /* the update: a new image */
    json_object_object_add(
        json_object_array_get_idx(at_path(j, "spec.containers"), 0), "image",
        json_object_new_string("img:2"));
    newpod = lb_strdup(json_object_to_json_string(j));
    q.obj = newpod;
  }
  const struct lb_decision *d = adm_review(h, at, &q);
  adm_parse(d, r);
  *status_patch = 0;
  for (size_t i = 1; i < d->n_actions; i++)
    if (!strcmp(d->actions[i].kind, "PodUnavailableBudget") &&
        !strcmp(d->actions[i].sub, "status"))
      (*status_patch)++;
  json_object_put(j);
  free(newpod);
  return r->allowed;
}

TEST(admission_pub_pod_rules_table) {
  static const struct {
    const char *name, *spec_tail, *pub_ann;
    int n_pods;
    const char *op, *sub;
    const char *pod_ann; /* annotations of the pod under review */
    int ready, dry_run, allowed, patched;
    const char *want;
  } t[] = {
      {"delete within budget", "\"maxUnavailable\":1", NULL, 3, "DELETE", NULL,
       RELATED, 1, 0, 1, 1, "recorded in disruptedPods"},
      {"delete with budget 0", "\"maxUnavailable\":0", NULL, 3, "DELETE", NULL,
       RELATED, 1, 0, 0, 0,
       "pub unavailable allowed is negative: PodUnavailableBudget "
       "default/web-pub refuses DELETE of pod p0: desiredAvailable 3 "
       "(totalReplicas 3 - maxUnavailable 0), currentAvailable 3, "
       "unavailableAllowed 0"},
      {"eviction with budget 0 is 403 too", "\"minAvailable\":3", NULL, 3,
       "CREATE", "eviction", RELATED, 1, 0, 0, 0, "refuses EVICT of pod p0"},
      {"eviction within budget", "\"minAvailable\":2", NULL, 3, "CREATE",
       "eviction", RELATED, 1, 0, 1, 1, "recorded in disruptedPods"},
      {"update within budget", "\"maxUnavailable\":\"34%\"", NULL, 3, "UPDATE",
       NULL, RELATED, 1, 0, 1, 1, "recorded in unavailablePods"},
      {"update with budget 0", "\"maxUnavailable\":\"0%\"", NULL, 3, "UPDATE",
       NULL, RELATED, 1, 0, 0, 0, "refuses UPDATE of pod p0"},
      {"no related-pub annotation", "\"maxUnavailable\":0", NULL, 3, "DELETE",
       NULL, NULL, 1, 0, 1, 0, "has no kruise.io/related-pub annotation"},
      {"no-protect annotation", "\"maxUnavailable\":0", NULL, 3, "DELETE", NULL,
       "{\"kruise.io/related-pub\":\"web-pub\",\"pub.kruise.io/no-protect\":"
       "\"true\"}",
       1, 0, 1, 0, "annotated pub.kruise.io/no-protect=true"},
      {"pod not ready", "\"maxUnavailable\":0", NULL, 3, "DELETE", NULL,
       RELATED, 0, 0, 1, 0, "is not ready"},
      /* ready 2: ready and terminating (the kubelet's final delete) */
      {"final delete of a terminating pod", "\"maxUnavailable\":0", NULL, 3,
       "DELETE", NULL, RELATED, 2, 0, 1, 0, "is already terminating"},
      {"PUB missing", "\"maxUnavailable\":0", NULL, 3, "DELETE", NULL,
       "{\"kruise.io/related-pub\":\"gone\"}", 1, 0, 1, 0,
       "PodUnavailableBudget default/gone does not exist"},
      {"desiredAvailable 0", "\"maxUnavailable\":\"100%\"", NULL, 3, "DELETE",
       NULL, RELATED, 1, 0, 1, 0, "desiredAvailable is 0"},
      {"operation not protected", "\"maxUnavailable\":0",
       "{\"kruise.io/pub-protect-operations\":\"UPDATE,EVICT\"}", 3, "DELETE",
       NULL, RELATED, 1, 0, 1, 0, "does not protect DELETE"},
      {"protected operation in the list", "\"maxUnavailable\":0",
       "{\"kruise.io/pub-protect-operations\":\"DELETE\"}", 3, "DELETE", NULL,
       RELATED, 1, 0, 0, 0, "unavailable allowed is negative"},
      {"dry run not recorded", "\"maxUnavailable\":1", NULL, 3, "DELETE", NULL,
       RELATED, 1, 1, 1, 0, "dry run: not recorded"},
      {"protect-total-replicas override", "\"maxUnavailable\":1",
       "{\"pub.kruise.io/protect-total-replicas\":\"4\"}", 3, "DELETE", NULL,
       RELATED, 1, 0, 0, 0,
       "desiredAvailable 3 (totalReplicas 4 - maxUnavailable 1 from "
       "pub.kruise.io/protect-total-replicas), currentAvailable 3, "
       "unavailableAllowed 0"},
      {"delete of a subresource", "\"maxUnavailable\":0", NULL, 3, "DELETE",
       "status", RELATED, 1, 0, 1, 0, "no policy applies"},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(t); i++) {
    struct adm h;
    struct adm_resp r;
    int patched;
    adm_init(&h, NULL);
    pub_world(&h, t[i].spec_tail, t[i].pub_ann, t[i].n_pods);
    /* the reviewed pod p0, as the request (and, for eviction, the engine)
     * has it */
    char *p0 = adm_pod("default", "p0", "{\"app\":\"web\"}", t[i].pod_ann, NULL,
                       NULL, NULL, t[i].ready, "Running");
    if (t[i].ready == 2) {
      struct json_object *pj = json_tokener_parse(p0);
      json_object_object_add(at_path(pj, "metadata"), "deletionTimestamp",
                             json_object_new_string("2026-11-25T00:00:00Z"));
      free(p0);
      p0 = lb_strdup(json_object_to_json_string(pj));
      json_object_put(pj);
    }
    adm_watch(&h, 200, LB_EV_ADDED, p0);
    int ok =
        verdict(&h, 1000, t[i].op, t[i].sub, p0, t[i].dry_run, &r, &patched);
    const struct lb_decision *d = &h.ds.v[h.ds.n - 1];
    for (size_t k = h.ds.n; k-- > 0;)
      if (!strcmp(h.ds.v[k].reducer, "admission")) {
        d = &h.ds.v[k];
        break;
      }
    if (ok != t[i].allowed)
      lb_test_fail(__FILE__, __LINE__, "%s: allowed %d, want %d: %s | %s",
                   t[i].name, ok, t[i].allowed, r.message, d->reason);
    if (patched != t[i].patched)
      lb_test_fail(__FILE__, __LINE__, "%s: %d status patch(es), want %d",
                   t[i].name, patched, t[i].patched);
    const char *where = ok ? d->reason : r.message;
    if (!strstr(where, t[i].want))
      lb_test_fail(__FILE__, __LINE__, "%s: lacks \"%s\":\n  %s", t[i].name,
                   t[i].want, where);
    if (!ok) {
      ASSERT_EQ_INT(r.code, 403);
      ASSERT_EQ_STR(r.reason, "Forbidden");
    }
    adm_resp_release(&r);
    adm_free(&h);
    free(p0);
  }
}

TEST(admission_pub_update_only_when_unavailability_changes) {
  struct adm h;
  struct adm_resp r;
  adm_init(&h, NULL);
  pub_world(&h, "\"maxUnavailable\":0", NULL, 2);
  char *p0 = adm_pod("default", "p0", "{\"app\":\"web\"}", RELATED, NULL, NULL,
                     NULL, 1, "Running");
  /* metadata-only change: no check */
  char *relabel = adm_pod("default", "p0", "{\"app\":\"web\",\"x\":\"y\"}",
                          RELATED, NULL, NULL, NULL, 1, "Running");
  struct adm_req q = {.path = "/validate-pod",
                      .op = "UPDATE",
                      .ns = "default",
                      .name = "p0",
                      .obj = relabel,
                      .old = p0};
  adm_parse(adm_review(&h, 1000, &q), &r);
  ASSERT(r.allowed);
  adm_resp_release(&r);
  /* an unavailable-pod.kruise.io/ label added: checked, budget 0 */
  char *unav = adm_pod("default", "p0",
                       "{\"app\":\"web\",\"unavailable-pod.kruise.io/drain\":"
                       "\"true\"}",
                       RELATED, NULL, NULL, NULL, 1, "Running");
  q.obj = unav;
  adm_parse(adm_review(&h, 1001, &q), &r);
  ASSERT(!r.allowed);
  ASSERT_CONTAINS(r.message, "pub unavailable allowed is negative");
  adm_resp_release(&r);
  /* UpdateGate off: not checked */
  adm_free(&h);
  struct lb_engine_opts o = LB_ENGINE_OPTS_INIT;
  o.pub_update_gate = 0;
  adm_init(&h, &o);
  pub_world(&h, "\"maxUnavailable\":0", NULL, 2);
  adm_parse(adm_review(&h, 1002, &q), &r);
  ASSERT(r.allowed);
  adm_resp_release(&r);
  adm_free(&h);
  free(p0);
  free(relabel);
  free(unav);
}

TEST(admission_pub_ledger_two_reviews_one_batch) {
  struct adm h;
  struct adm_resp r;
  int patched;
  adm_init(&h, NULL);
  pub_world(&h, "\"maxUnavailable\":1", NULL, 3);
  char *p0 = adm_pod("default", "p0", "{\"app\":\"web\"}", RELATED, NULL, NULL,
                     NULL, 1, "Running");
  char *p1 = adm_pod("default", "p1", "{\"app\":\"web\"}", RELATED, NULL, NULL,
                     NULL, 1, "Running");
  /* a dry run first: allowed, not recorded */
  ASSERT(verdict(&h, 1000, "DELETE", NULL, p0, 1, &r, &patched));
  ASSERT_EQ_INT(patched, 0);
  adm_resp_release(&r);
  /* same instant, no outcome in between: the second sees the first */
  ASSERT(verdict(&h, 1000, "DELETE", NULL, p0, 0, &r, &patched));
  ASSERT_EQ_INT(patched, 1);
  adm_resp_release(&r);
  ASSERT(!verdict(&h, 1000, "DELETE", NULL, p1, 0, &r, &patched));
  ASSERT_CONTAINS(r.message, "currentAvailable 2, unavailableAllowed 0");
  ASSERT_CONTAINS(r.message, "disruptedPods 1");
  adm_resp_release(&r);
  /* the recorded pod itself passes again (e.g. a retried DELETE) */
  ASSERT(verdict(&h, 1001, "DELETE", NULL, p0, 0, &r, &patched));
  ASSERT_EQ_INT(patched, 0);
  adm_resp_release(&r);
  adm_free(&h);
  free(p0);
  free(p1);
}

/* ---- envelope ----------------------------------------------------------- */
TEST(admission_malformed_and_unknown_path) {
  struct adm h;
  struct adm_resp r;
  struct lb_decisions ds = {0};
  adm_init(&h, NULL);
  /* unknown path: allowed, says so */
  struct adm_req q = {.path = "/validate-nothing",
                      .op = "CREATE",
                      .ns = "default",
                      .name = "x",
                      .obj = "{}"};
  const struct lb_decision *d = adm_review(&h, 1000, &q);
  adm_parse(d, &r);
  ASSERT(r.allowed);
  ASSERT_CONTAINS(d->reason, "no admission policy is registered for "
                             "/validate-nothing");
  adm_resp_release(&r);
  /* a body without a request: denied 400 with a reason, one decision */
  struct lb_event ev;
  lb_event_init(&ev);
  ev.seq = ++h.seq;
  ev.at_ms = 2000;
  ev.source = LB_SRC_ADMISSION;
  ev.type = LB_EV_REVIEW;
  ASSERT_OK(lb_event_set(&ev.uid, "u-bad"));
  const char *body = "{\"path\":\"/validate-pod\",\"review\":{}}";
  ASSERT_OK(lb_event_prepare(&ev, lb_strdup(body), strlen(body)));
  ASSERT_OK(lb_engine_apply(h.e, &ev, &ds));
  lb_event_release(&ev);
  ASSERT_EQ_INT(ds.n, 1);
  adm_parse(&ds.v[0], &r);
  ASSERT(!r.allowed);
  ASSERT_EQ_INT(r.code, 400);
  ASSERT_EQ_STR(r.uid, "u-bad");
  ASSERT_CONTAINS(r.message, "could not read this AdmissionReview");
  adm_resp_release(&r);
  lb_decisions_release(&ds);
  free(ds.v);
  adm_free(&h);
}

/* ---- replay determinism ------------------------------------------------- */
struct recorded {
  int type; /* 0 watch, 1 review */
  int64_t at;
  char *body;
  struct adm_req q;
};

static void run_script(struct adm *h, size_t from, size_t to) {
  char *p[4];
  for (int i = 0; i < 4; i++) {
    char name[8];
    snprintf(name, sizeof name, "p%d", i);
    p[i] = adm_pod("default", name, "{\"app\":\"web\"}", RELATED, NULL, NULL,
                   NULL, 1, "Running");
  }
  char *cset = cs("3", SEL, NULL, NULL, NULL, NULL);
  char *old_ns =
      obj_with_label("v1", "Namespace", "", "default", "Cascading", NULL, NULL);
  for (size_t step = from; step < to; step++) {
    int64_t at = 1000 + (int64_t)step * 500;
    struct adm_req q = {.ns = "default"};
    switch (step) {
    case 0:
      adm_watch(h, at, LB_EV_ADDED,
                pub_json("web-pub",
                         "{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
                         "\"maxUnavailable\":2}",
                         NULL));
      continue;
    case 1:
    case 2:
    case 3:
    case 4:
      adm_watch(h, at, LB_EV_ADDED, p[step - 1]);
      continue;
    case 5:
    case 6:
    case 7:
      q.path = "/validate-pod";
      q.op = "DELETE";
      q.name = step == 5 ? "p0" : step == 6 ? "p1" : "p2";
      q.old = p[step - 5];
      break;
    case 8:
      q.path = CS_PATH_M;
      q.op = "CREATE";
      q.group = "apps.kruise.io";
      q.kind = "CloneSet";
      q.name = "web";
      q.obj = cset;
      break;
    case 9:
      q.path = DEL_PATH;
      q.op = "DELETE";
      q.kind = "Namespace";
      q.ns = "";
      q.name = "default";
      q.old = old_ns;
      break;
    default:
      adm_tick(h, at + 30000); /* the ledger expires */
      continue;
    }
    adm_review(h, at, &q);
  }
  for (int i = 0; i < 4; i++)
    free(p[i]);
  free(cset);
  free(old_ns);
}

TEST(admission_replay_same_verdicts_and_snapshot_halves) {
  struct adm a, b, c;
  adm_init(&a, NULL);
  adm_init(&b, NULL);
  run_script(&a, 0, 11);
  run_script(&b, 0, 11);
  ASSERT_EQ_INT(a.ds.n, b.ds.n);
  int denials = 0;
  for (size_t i = 0; i < a.ds.n; i++) {
    ASSERT_EQ_STR(a.ds.v[i].canonical, b.ds.v[i].canonical);
    denials += !!strstr(a.ds.v[i].canonical, "\\\"allowed\\\":false") ||
               !!strstr(a.ds.v[i].canonical, "\"allowed\":false");
  }
  ASSERT(denials >= 2); /* p2's delete and the namespace */
  ASSERT_EQ_U64(lb_engine_chain(a.e), lb_engine_chain(b.e));
  ASSERT_EQ_U64(lb_engine_digest(a.e), lb_engine_digest(b.e));
  /* halves: snapshot after the reviews of p0 and p1, restore, go on */
  adm_init(&c, NULL);
  run_script(&c, 0, 7);
  char *blob;
  size_t len;
  ASSERT_OK(lb_engine_snapshot(c.e, &blob, &len));
  struct adm d;
  adm_init(&d, NULL);
  ASSERT_OK(lb_engine_restore(d.e, blob, len));
  ASSERT_EQ_U64(lb_engine_digest(d.e), lb_engine_digest(c.e));
  d.seq = c.seq;
  size_t before = d.ds.n;
  run_script(&d, 7, 11);
  /* the second half decides exactly what the whole run decided */
  size_t tail = a.ds.n - c.ds.n;
  ASSERT_EQ_INT(d.ds.n - before, tail);
  for (size_t i = 0; i < tail; i++)
    ASSERT_EQ_STR(d.ds.v[before + i].canonical, a.ds.v[c.ds.n + i].canonical);
  ASSERT_EQ_U64(lb_engine_chain(d.e), lb_engine_chain(a.e));
  ASSERT_EQ_U64(lb_engine_digest(d.e), lb_engine_digest(a.e));
  free(blob);
  adm_free(&a);
  adm_free(&b);
  adm_free(&c);
  adm_free(&d);
}
