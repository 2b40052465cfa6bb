/* test_cloneset_sim.c — OpenKruise CloneSet acceptance scenarios driven
 * through the reducer against the in-test API server (tests/ipsim.c):
 * scenario 5 (specified scale-down held by a preDelete hook, then scale up,
 * with the exclude-preparing-delete label), scenario 13
 * (PreparingUpdateAsUpdate: a recreated pod comes back at the current
 * revision), and the FailedScale / FailedUpdate status conditions. */
#include <json-c/json.h>

#include "../engine/decision.h"
#include "../engine/engine.h"
#include "../engine/err.h"
#include "../engine/obj.h"
#include "../engine/util.h"
#include "../replay/replay.h"
#include "../store/journal.h"
#include "ipsim.h"
#include "test.h"

#define HOOK_KEY "example.com/hook"
#define UNHOOK_PATCH "{\"metadata\":{\"labels\":{\"" HOOK_KEY "\":null}}}"
#define LC_LABEL "lifecycle.apps.kruise.io/state"

/* A CloneSet with CloneSet labels `cs_labels` (JSON members, may be ""),
 * template labels app=web plus `tmpl_labels` (members, "" or ",..."), and
 * `spec_extra` appended to spec (",\"lifecycle\":{...}"). */
static char *manifest(int gen, int replicas, const char *image,
                      const char *cs_labels, const char *tmpl_labels,
                      const char *spec_extra) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_addf(&b,
              "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":"
              "\"CloneSet\",\"metadata\":{\"name\":\"web\",\"namespace\":\"" NS
              "\",\"uid\":\"cs-uid\",\"resourceVersion\":\"%d\","
              "\"generation\":%d,\"labels\":{%s}},\"spec\":{\"replicas\":%d,"
              "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":"
              "{\"metadata\":{\"labels\":{\"app\":\"web\"%s}},\"spec\":{"
              "\"containers\":[{\"name\":\"c\",\"image\":\"%s\"}]}}%s}}",
              gen * 10, gen, cs_labels, replicas, tmpl_labels, image,
              spec_extra);
  ASSERT(!b.err);
  return lb_buf_detach(&b, NULL);
}

static void put(struct ipsim *s, char *m) {
  ip_put_cs(s, m);
  free(m);
  ip_settle(s);
}

static json_object *cs_status(const struct ipsim *s) {
  return jm(jm(s->objs, "CloneSet/web"), "status");
}

static int cs_status_int(const struct ipsim *s, const char *f) {
  return json_object_get_int(jm(cs_status(s), f));
}

/* ---- scenario 5 ---------------------------------------------------------- */
/* replicas 3 (pods hooked by preDelete from the template); replicas 2 with
 * podsToDelete [first pod] -> PreparingDelete; replicas 3 again; then the
 * hook is removed. Returns the number of pods right after the scale-up. */
static int scenario5(int exclude, struct ipsim *s, char names[][64]) {
  const char *csl =
      exclude ? "\"apps.kruise.io/cloneset-scaling-exclude-preparing-delete\":"
                "\"true\""
              : "";
  const char *lc = ",\"lifecycle\":{\"preDelete\":{\"labelsHandler\":{"
                   "\"" HOOK_KEY "\":\"true\"}}}";
  char extra[512], victim[64];
  ip_init(s);
  put(s, manifest(1, 3, "nginx:1", csl, ",\"" HOOK_KEY "\":\"true\"", lc));
  ASSERT_EQ_INT(pod_names(s, names, 8), 3);
  lb_strlcpy(victim, names[0], sizeof victim);
  snprintf(extra, sizeof extra,
           "%s,\"scaleStrategy\":{\"podsToDelete\":[\"%s\"]}", lc, victim);
  put(s, manifest(2, 2, "nginx:1", csl, ",\"" HOOK_KEY "\":\"true\"", extra));
  ASSERT_EQ_INT(pod_names(s, names, 8), 3);
  ASSERT_EQ_STR(pod_label(s, victim, LC_LABEL), "PreparingDelete");
  put(s, manifest(3, 3, "nginx:1", csl, ",\"" HOOK_KEY "\":\"true\"", extra));
  int after_scale_up = pod_names(s, names, 8);
  ASSERT_EQ_INT(cs_status_int(s, "replicas"), after_scale_up);
  ASSERT_EQ_STR(pod_label(s, victim, LC_LABEL), "PreparingDelete");
  ip_user_patch(s, victim, UNHOOK_PATCH);
  ip_settle(s);
  ASSERT(pod_label(s, victim, LC_LABEL) == NULL); /* deleted */
  return after_scale_up;
}

TEST(cloneset_scenario05_specified_delete_then_scale_up_exclude_label) {
  struct ipsim s;
  char names[8][64];
  /* with the label: the held pod is left out of the count, so scaling
   * back to 3 creates one (status.replicas 4), and after the hook lets
   * go 3 remain, 2 of them the originals */
  ASSERT_EQ_INT(scenario5(1, &s, names), 4);
  ASSERT(decisions_with(&s, "1 PreparingDelete pod(s) not counted "
                            "(apps.kruise.io/cloneset-scaling-exclude-"
                            "preparing-delete)") >= 1);
  ASSERT(decisions_with(&s, "-> PreparingDelete (preDelete hook)") == 1);
  ASSERT(decisions_with(&s, "deleted (hook released)") == 1);
  ASSERT_EQ_INT(pod_names(&s, names, 7), 3);
  ASSERT_EQ_INT(cs_status_int(&s, "replicas"), 3);
  ip_free(&s);
  /* without the label: PreparingDelete pods still count, replicas 3 is
   * already met by 3 pods, nothing is created; after the hook lets go the
   * scale-up creates the third pod */
  ASSERT_EQ_INT(scenario5(0, &s, names), 3);
  ASSERT_EQ_INT(decisions_with(&s, "not counted"), 0);
  ASSERT_EQ_INT(pod_names(&s, names, 7), 3);
  ip_free(&s);
}

TEST(cloneset_scenario05_keeps_two_originals) {
  struct ipsim s;
  char names[8][64], orig[3][64];
  const char *csl =
      "\"apps.kruise.io/cloneset-scaling-exclude-preparing-delete\":\"true\"";
  const char *lc = ",\"lifecycle\":{\"preDelete\":{\"labelsHandler\":{"
                   "\"" HOOK_KEY "\":\"true\"}}}";
  char extra[512];
  ip_init(&s);
  put(&s, manifest(1, 3, "nginx:1", csl, ",\"" HOOK_KEY "\":\"true\"", lc));
  ASSERT_EQ_INT(pod_names(&s, orig, 3), 3);
  snprintf(extra, sizeof extra,
           "%s,\"scaleStrategy\":{\"podsToDelete\":[\"%s\"]}", lc, orig[1]);
  put(&s, manifest(2, 2, "nginx:1", csl, ",\"" HOOK_KEY "\":\"true\"", extra));
  put(&s, manifest(3, 3, "nginx:1", csl, ",\"" HOOK_KEY "\":\"true\"", extra));
  ASSERT_EQ_INT(pod_names(&s, names, 8), 4);
  ip_user_patch(&s, orig[1], UNHOOK_PATCH);
  ip_settle(&s);
  ASSERT_EQ_INT(pod_names(&s, names, 8), 3);
  int kept = 0;
  for (int i = 0; i < 3; i++)
    for (int k = 0; k < 3; k++)
      kept += !strcmp(names[i], orig[k]);
  ASSERT_EQ_INT(kept, 2);
  ASSERT(pod_label(&s, orig[1], LC_LABEL) == NULL);
  for (int i = 0; i < 3; i++)
    ASSERT_EQ_STR(pod_label(&s, names[i], LC_LABEL), "Normal");
  ip_free(&s);
}

/* ---- scenario 13 --------------------------------------------------------- */
/* replicas 3, partition 2, in place with an inPlaceUpdate hook every pod
 * carries: the image change sends one pod to PreparingUpdate, where the
 * hook holds it. A user then deletes an old Normal pod. Returns the
 * revision label of the replacement (into rev) and the update revision. */
static void scenario13(int gate, char *rev, char *update_rev, size_t n) {
  struct ipsim s;
  char names[8][64], before[8][64];
  const char *csl = gate ? "\"gates.logbook.io/PreparingUpdateAsUpdate\":"
                           "\"true\""
                         : "";
  const char *extra =
      ",\"updateStrategy\":{\"type\":\"InPlaceIfPossible\",\"partition\":2,"
      "\"maxUnavailable\":1},\"lifecycle\":{\"inPlaceUpdate\":{"
      "\"labelsHandler\":{\"" HOOK_KEY "\":\"true\"}}}";
  ip_init(&s);
  put(&s, manifest(1, 3, "nginx:1", csl, ",\"" HOOK_KEY "\":\"true\"", extra));
  ASSERT_EQ_INT(pod_names(&s, before, 8), 3);
  put(&s, manifest(2, 3, "nginx:2", csl, ",\"" HOOK_KEY "\":\"true\"", extra));
  int prep = -1, victim = -1;
  for (int i = 0; i < 3; i++) {
    if (!strcmp(pod_label(&s, before[i], LC_LABEL), "PreparingUpdate"))
      prep = i;
    else if (victim < 0)
      victim = i;
  }
  ASSERT(prep >= 0 && victim >= 0);
  lb_strlcpy(update_rev,
             json_object_get_string(jm(cs_status(&s), "updateRevision")), n);
  ASSERT(strcmp(update_rev,
                pod_label(&s, before[victim], "controller-revision-hash")));
  ip_user_delete(&s, before[victim]);
  ip_settle(&s);
  ASSERT_EQ_INT(pod_names(&s, names, 8), 3);
  rev[0] = '\0';
  for (int i = 0; i < 3; i++) {
    int old = 0;
    for (int k = 0; k < 3; k++)
      old |= !strcmp(names[i], before[k]);
    if (!old)
      lb_strlcpy(rev, pod_label(&s, names[i], "controller-revision-hash"), n);
  }
  ASSERT(rev[0]);
  /* the held pod is still held, and still counts as not updated */
  ASSERT_EQ_STR(pod_label(&s, before[prep], LC_LABEL), "PreparingUpdate");
  ASSERT_EQ_INT(cs_status_int(&s, "updatedReplicas"),
                strcmp(rev, update_rev) ? 0 : 1);
  if (gate)
    ASSERT(decisions_with(&s, "1 PreparingUpdate pod(s) counted as updated "
                              "(PreparingUpdateAsUpdate)") >= 1);
  ip_free(&s);
}

TEST(cloneset_scenario13_preparing_update_as_update) {
  char rev[128], upd[128];
  scenario13(1, rev, upd, sizeof rev);
  ASSERT(strcmp(rev, upd) != 0); /* back at the current revision */
  scenario13(0, rev, upd, sizeof rev);
  ASSERT_EQ_STR(rev, upd); /* without the gate: at the update revision */
}

/* ---- FailedScale / FailedUpdate ------------------------------------------ */
static const struct lb_action *status_write_with(const struct ipsim *s,
                                                 const char *needle) {
  const struct lb_action *last = NULL;
  for (size_t i = 0; i < s->ds.n; i++)
    for (size_t k = 0; k < s->ds.v[i].n_actions; k++) {
      const struct lb_action *a = &s->ds.v[i].actions[k];
      if (!strcmp(a->kind, "CloneSet") && !strcmp(a->sub, "status") &&
          strstr(a->body, needle))
        last = a;
    }
  return last;
}

TEST(cloneset_condition_failed_scale_then_cleared) {
  struct ipsim s;
  char names[8][64];
  ip_init(&s);
  s.fail_create = 403;
  put(&s, manifest(1, 2, "nginx:1", "", "", ""));
  ASSERT_EQ_INT(pod_names(&s, names, 8), 2); /* created on the next try */
  const struct lb_action *a = status_write_with(&s, "FailedScale");
  ASSERT(a);
  json_object *b = json_tokener_parse(a->body);
  json_object *c =
      json_object_array_get_idx(jm(jm(b, "status"), "conditions"), 0);
  ASSERT_EQ_STR(json_object_get_string(jm(c, "type")), "FailedScale");
  ASSERT_EQ_STR(json_object_get_string(jm(c, "status")), "True");
  ASSERT(jm(c, "lastTransitionTime"));
  ASSERT_CONTAINS(json_object_get_string(jm(c, "message")),
                  "failed to create pod web-");
  ASSERT_CONTAINS(json_object_get_string(jm(c, "message")),
                  "is forbidden: exceeded quota");
  json_object_put(b);
  ASSERT(decisions_with(&s, "condition FailedScale: failed to create pod") ==
         1);
  /* the next status write replaced the status: the condition is gone */
  ASSERT(jm(cs_status(&s), "conditions") == NULL);
  ASSERT_EQ_INT(cs_status_int(&s, "replicas"), 2);
  ip_free(&s);
}

TEST(cloneset_condition_failed_update) {
  struct ipsim s;
  const char *us = ",\"updateStrategy\":{\"type\":\"InPlaceIfPossible\","
                   "\"maxUnavailable\":1}";
  ip_init(&s);
  put(&s, manifest(1, 1, "nginx:1", "", "", us));
  s.fail_patch = 422;
  put(&s, manifest(2, 1, "nginx:2", "", "", us));
  ASSERT(status_write_with(&s, "\"FailedUpdate\""));
  ASSERT(decisions_with(&s, "condition FailedUpdate: failed to update pod") ==
         1);
  ASSERT_EQ_INT(decisions_with(&s, "FailedScale"), 0);
  /* and the update still finished on a later try */
  struct lb_buf sum = LB_BUF_INIT;
  pods_summary(&s, &sum);
  ASSERT_CONTAINS(sum.p, "=nginx:2=1=");
  lb_buf_release(&sum);
  ip_free(&s);
}

/* ---- in place with env from metadata and priorities (7, 9, 10) ----------- */
/* A CloneSet whose template has containers `ctrs` (JSON array members)
 * and metadata `meta` (members after the labels object, "" or ",..."). */
static char *manifest_ctrs(int gen, const char *labels_extra, const char *meta,
                           const char *ctrs) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_addf(&b,
              "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":"
              "\"CloneSet\",\"metadata\":{\"name\":\"web\",\"namespace\":\"" NS
              "\",\"uid\":\"cs-uid\",\"resourceVersion\":\"%d\","
              "\"generation\":%d},\"spec\":{\"replicas\":1,"
              "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":"
              "{\"metadata\":{\"labels\":{\"app\":\"web\"%s}%s},\"spec\":{"
              "\"containers\":[%s]}},\"updateStrategy\":{\"type\":"
              "\"InPlaceIfPossible\",\"maxUnavailable\":1}}}",
              gen * 10, gen, labels_extra, meta, ctrs);
  ASSERT(!b.err);
  return lb_buf_detach(&b, NULL);
}

static json_object *the_pod(const struct ipsim *s, char *name, size_t n) {
  char names[4][64];
  ASSERT_EQ_INT(pod_names(s, names, 4), 1);
  lb_strlcpy(name, names[0], n);
  char key[128];
  snprintf(key, sizeof key, "Pod/%s", names[0]);
  return jm(s->objs, key);
}

static json_object *ctr_status(json_object *pod, const char *name) {
  json_object *css = jm(jm(pod, "status"), "containerStatuses");
  for (size_t i = 0; css && i < json_object_array_length(css); i++) {
    json_object *c = json_object_array_get_idx(css, i);
    if (!strcmp(json_object_get_string(jm(c, "name")), name))
      return c;
  }
  return NULL;
}

#define ENV_LABEL                                                              \
  ",\"env\":[{\"name\":\"TEST_ENV\",\"valueFrom\":{\"fieldRef\":{"             \
  "\"fieldPath\":\"metadata.labels['test-env']\"}}}]"
#define ENV_ANNO                                                               \
  ",\"env\":[{\"name\":\"TEST_ENV\",\"valueFrom\":{\"fieldRef\":{"             \
  "\"fieldPath\":\"metadata.annotations['test-env']\"}}}]"
#define ENV_ANNO_PRIO(n)                                                       \
  ",\"env\":[{\"name\":\"TEST_ENV\",\"valueFrom\":{\"fieldRef\":{"             \
  "\"fieldPath\":\"metadata.annotations['test-env']\"}}},{\"name\":"           \
  "\"KRUISE_CONTAINER_PRIORITY\",\"value\":\"" n "\"}]"
#define PRIO(n)                                                                \
  ",\"env\":[{\"name\":\"KRUISE_CONTAINER_PRIORITY\",\"value\":\"" n "\"}]"

TEST(cloneset_scenario07_image_and_env_from_label_in_place) {
  struct ipsim s;
  char name[64];
  ip_init(&s);
  put(&s, manifest_ctrs(1, ",\"test-env\":\"foo\"", "",
                        "{\"name\":\"c\",\"image\":\"nginx:1\"" ENV_LABEL "}"));
  json_object *pod = the_pod(&s, name, sizeof name);
  const char *uid = json_object_get_string(jm(jm(pod, "metadata"), "uid"));
  char uid0[128];
  lb_strlcpy(uid0, uid, sizeof uid0);
  put(&s, manifest_ctrs(2, ",\"test-env\":\"bar\"", "",
                        "{\"name\":\"c\",\"image\":\"nginx:2\"" ENV_LABEL "}"));
  pod = the_pod(&s, name, sizeof name);
  /* same pod, restarted once at the new image, label renewed */
  ASSERT_EQ_STR(json_object_get_string(jm(jm(pod, "metadata"), "uid")), uid0);
  ASSERT_EQ_INT(json_object_get_int(jm(ctr_status(pod, "c"), "restartCount")),
                1);
  ASSERT_EQ_STR(json_object_get_string(ctr_status(pod, "c")
                                           ? jm(ctr_status(pod, "c"), "image")
                                           : NULL),
                "nginx:2");
  ASSERT_EQ_STR(pod_label(&s, name, "test-env"), "bar");
  ASSERT(decisions_with(&s, "1 image(s) + metadata (step 2 of 3)") == 1);
  ASSERT_EQ_INT(decisions_with(&s, "recreate"), 0);
  ip_free(&s);
}

TEST(cloneset_scenario10_two_images_env_from_annotation_ordered_batches) {
  struct ipsim s;
  char name[64];
  ip_init(&s);
  /* app reads the annotation and has the higher priority (as the
   * Ordered launch priority gives the first container) */
  put(&s, manifest_ctrs(1, "", ",\"annotations\":{\"test-env\":\"foo\"}",
                        "{\"name\":\"app\",\"image\":\"a:1\"" ENV_ANNO_PRIO(
                            "100") "},"
                                   "{\"name\":\"side\",\"image\":\"s:1\"" PRIO(
                                       "10") "}"));
  put(&s, manifest_ctrs(2, "", ",\"annotations\":{\"test-env\":\"bar\"}",
                        "{\"name\":\"app\",\"image\":\"a:2\"" ENV_ANNO_PRIO(
                            "100") "},"
                                   "{\"name\":\"side\",\"image\":\"s:2\"" PRIO(
                                       "10") "}"));
  json_object *pod = the_pod(&s, name, sizeof name);
  ASSERT_EQ_INT(json_object_get_int(jm(ctr_status(pod, "app"), "restartCount")),
                1);
  ASSERT_EQ_INT(
      json_object_get_int(jm(ctr_status(pod, "side"), "restartCount")), 1);
  ASSERT_EQ_STR(json_object_get_string(
                    jm(jm(jm(pod, "metadata"), "annotations"), "test-env")),
                "bar");
  /* two batches, the higher priority (app, with the annotation) first */
  const char *st =
      json_object_get_string(jm(jm(jm(pod, "metadata"), "annotations"),
                                "apps.kruise.io/inplace-update-state"));
  ASSERT(st);
  json_object *state = json_tokener_parse(st);
  json_object *rec = jm(state, "containerBatchesRecord");
  ASSERT_EQ_INT(json_object_array_length(rec), 2);
  ASSERT_EQ_STR(json_object_get_string(json_object_array_get_idx(
                    jm(json_object_array_get_idx(rec, 0), "containers"), 0)),
                "app");
  ASSERT_EQ_STR(json_object_get_string(json_object_array_get_idx(
                    jm(json_object_array_get_idx(rec, 1), "containers"), 0)),
                "side");
  json_object_put(state);
  ASSERT(decisions_with(&s, "next container batch applied") == 1);
  ip_free(&s);
}

TEST(cloneset_scenario09_broken_first_batch_holds_the_next) {
  struct ipsim s;
  char name[64];
  ip_init(&s);
  put(&s, manifest_ctrs(
              1, "", "",
              "{\"name\":\"app\",\"image\":\"a:1\"" PRIO(
                  "10") "},"
                        "{\"name\":\"side\",\"image\":\"s:1\"" PRIO("1") "}"));
  char *m2 = manifest_ctrs(
      2, "", "",
      "{\"name\":\"app\",\"image\":\"a:broken\"" PRIO(
          "10") "},{\"name\":\"side\",\"image\":\"s:2\"" PRIO("1") "}");
  ip_put_cs(&s, m2); /* it never settles: answered below */
  free(m2);
  for (int i = 0; i < 60; i++) { /* it never settles: answer for a while */
    s.now += 1000;
    if (!ip_answer(&s))
      ip_tick(&s);
  }
  json_object *pod = the_pod(&s, name, sizeof name);
  ASSERT_EQ_STR(json_object_get_string(jm(ctr_status(pod, "app"), "image")),
                "a:broken");
  ASSERT_EQ_INT(json_object_get_int(jm(ctr_status(pod, "app"), "restartCount")),
                1);
  /* the second container is untouched and waits in nextContainerImages */
  ASSERT_EQ_STR(json_object_get_string(jm(ctr_status(pod, "side"), "image")),
                "s:1");
  ASSERT_EQ_INT(
      json_object_get_int(jm(ctr_status(pod, "side"), "restartCount")), 0);
  const char *st =
      json_object_get_string(jm(jm(jm(pod, "metadata"), "annotations"),
                                "apps.kruise.io/inplace-update-state"));
  json_object *state = json_tokener_parse(st);
  ASSERT_EQ_STR(
      json_object_get_string(jm(jm(state, "nextContainerImages"), "side")),
      "s:2");
  ASSERT_EQ_INT(json_object_array_length(jm(state, "containerBatchesRecord")),
                1);
  json_object_put(state);
  ASSERT_EQ_INT(decisions_with(&s, "next container batch applied"), 0);
  ip_free(&s);
}

TEST(cloneset_inplace_container_without_priority_joins_first_batch) {
  struct ipsim s;
  char name[64];
  ip_init(&s);
  put(&s, manifest_ctrs(1, "", "",
                        "{\"name\":\"app\",\"image\":\"a:1\"},"
                        "{\"name\":\"side\",\"image\":\"s:1\"" PRIO("10") "}"));
  put(&s, manifest_ctrs(2, "", "",
                        "{\"name\":\"app\",\"image\":\"a:2\"},"
                        "{\"name\":\"side\",\"image\":\"s:2\"" PRIO("10") "}"));
  json_object *pod = the_pod(&s, name, sizeof name);
  const char *st =
      json_object_get_string(jm(jm(jm(pod, "metadata"), "annotations"),
                                "apps.kruise.io/inplace-update-state"));
  json_object *state = json_tokener_parse(st);
  json_object *rec = jm(state, "containerBatchesRecord");
  ASSERT_EQ_INT(json_object_array_length(rec), 1); /* one batch of both */
  ASSERT_EQ_INT(json_object_array_length(
                    jm(json_object_array_get_idx(rec, 0), "containers")),
                2);
  json_object_put(state);
  ip_free(&s);
}

/* ---- `logbook explain` on journaled runs: paused, hook ------------------- */

TEST(explain_why_not_updated_paused) {
  struct ipsim s;
  char names[4][64];
  const char *us = ",\"updateStrategy\":{\"maxUnavailable\":1}";
  const char *paused = ",\"updateStrategy\":{\"maxUnavailable\":1,"
                       "\"paused\":true}";
  ip_init(&s);
  ip_journal(&s, "paused.db");
  put(&s, manifest(1, 2, "nginx:1", "", "", us));
  put(&s, manifest(2, 2, "nginx:2", "", "", paused));
  ASSERT_EQ_INT(pod_names(&s, names, 4), 2);
  char *out = ip_explain(&s, "Pod", names[0]);
  ASSERT_CONTAINS(out, "answers:\n  why not updated yet: at revision web-");
  ASSERT_CONTAINS(out, "update paused: 2 pod(s) wait for "
                       "updateStrategy.paused=false");
  free(out);
  out = ip_explain(&s, "CloneSet", "web");
  ASSERT_CONTAINS(out, "  since then, decision ");
  ASSERT_CONTAINS(out, "update paused: 2 pod(s)");
  free(out);
  ip_free(&s);
  /* the journal of the run replays clean */
  ip_replay_clean("paused.db");
}

TEST(explain_why_not_updated_hook) {
  struct ipsim s;
  char names[4][64];
  const char *extra = ",\"updateStrategy\":{\"type\":\"InPlaceIfPossible\","
                      "\"maxUnavailable\":1},\"lifecycle\":{\"inPlaceUpdate\":"
                      "{\"labelsHandler\":{\"" HOOK_KEY "\":\"true\"}}}";
  ip_init(&s);
  ip_journal(&s, "hook.db");
  put(&s, manifest(1, 1, "nginx:1", "", ",\"" HOOK_KEY "\":\"true\"", extra));
  put(&s, manifest(2, 1, "nginx:2", "", ",\"" HOOK_KEY "\":\"true\"", extra));
  ASSERT_EQ_INT(pod_names(&s, names, 4), 1);
  char *out = ip_explain(&s, "Pod", names[0]);
  ASSERT_CONTAINS(out, "why not updated yet: at revision web-");
  ASSERT_CONTAINS(out, "waits in PreparingUpdate: hook labels "
                       "example.com/hook=true still set");
  free(out);
  ip_free(&s);
}
