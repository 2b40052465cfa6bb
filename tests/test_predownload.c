/* test_predownload.c — CloneSet image pre-download (kruise-spec §2, §16.1
 * scenario 14; engine/cloneset_predownload.c): the annotations as a table,
 * then the ImagePullJobs' life through the reducer against the in-test API
 * server (tests/ipsim.c): created with the annotation values, deferred by
 * min-updated-ready-pods, left alone on a name collision, deleted when the
 * revisions converge (with older revisions' jobs, and with the gate label
 * gone), explained and replayed. */
#include <json-c/json.h>
#include <stdlib.h>

#include "../engine/cloneset.h"
#include "../engine/decision.h"
#include "../engine/engine.h"
#include "../engine/err.h"
#include "../engine/obj.h"
#include "../engine/util.h"
#include "../replay/replay.h"
#include "../store/journal.h"
#include "ipsim.h"
#include "test.h"

#define GATE "\"gates.logbook.io/PreDownloadImageForInPlaceUpdate\":\"true\""
#define INPLACE                                                                \
  "\"updateStrategy\":{\"type\":\"InPlaceIfPossible\",\"maxUnavailable\":1}"

/* ---- the annotations ----------------------------------------------------- */
TEST(cloneset_predownload_annotations_table) {
  static const struct {
    const char *par, *timeout, *min; /* NULL = absent */
    int replicas;
    int want_par, want_timeout, want_min;
    const char *note; /* substring of notes, "" = no notes */
  } rows[] = {
      {NULL, NULL, NULL, 4, 1, 300, 0, ""},
      {"4", "120", "2", 4, 4, 120, 2, ""},
      {"+3", "+60", "+1", 4, 3, 60, 1, ""}, /* Go's Atoi takes a sign */
      {"2147483647", "2147483647", NULL, 4, 2147483647, 2147483647, 0, ""},
      /* parallelism: upstream uses any integer; 0 pauses the job forever
       * and a negative one is meaningless, so both are refused here */
      {"0", NULL, NULL, 4, 1, 300, 0,
       "annotation apps.kruise.io/image-predownload-parallelism \"0\" is not "
       "an integer from 1 to 2147483647: parallelism 1"},
      {"-2", NULL, NULL, 4, 1, 300, 0, "\"-2\" is not an integer from 1"},
      {"50%", NULL, NULL, 4, 1, 300, 0, "\"50%\" is not an integer"},
      {"abc", NULL, NULL, 4, 1, 300, 0, "\"abc\" is not an integer"},
      {" 3", NULL, NULL, 4, 1, 300, 0, "\" 3\" is not an integer"},
      {"3 ", NULL, NULL, 4, 1, 300, 0, "\"3 \" is not an integer"},
      {"", NULL, NULL, 4, 1, 300, 0, "parallelism \"\" is not an integer"},
      {"2147483648", NULL, NULL, 4, 1, 300, 0, "is not an integer from 1"},
      {"99999999999999999999999", NULL, NULL, 4, 1, 300, 0,
       "is not an integer from 1"},
      /* timeout: ParseInt(s, 10, 32) upstream; <= 0 refused here */
      {NULL, "0", NULL, 4, 1, 300, 0,
       "annotation apps.kruise.io/image-predownload-timeout-seconds \"0\" is "
       "not an integer from 1 to 2147483647: timeoutSeconds 300"},
      {NULL, "1e3", NULL, 4, 1, 300, 0, "\"1e3\" is not an integer"},
      {NULL, "-5", NULL, 4, 1, 300, 0, "\"-5\" is not an integer"},
      /* min updated ready: integer, or percent of replicas rounded up */
      {NULL, NULL, "50%", 5, 1, 300, 3, ""},
      {NULL, NULL, "1%", 4, 1, 300, 1, ""},
      {NULL, NULL, "0%", 4, 1, 300, 0, ""},
      {NULL, NULL, "100%", 4, 1, 300, 4, ""},
      {NULL, NULL, "200%", 4, 1, 300, 8, ""},
      {NULL, NULL, "-50%", 4, 1, 300, -2, ""},
      {NULL, NULL, "-1", 4, 1, 300, -1, ""}, /* <= anything: no wait */
      {NULL, NULL, "99999999999999%", 4, 1, 300, 2147483647, ""},
      {NULL, NULL, "abc", 4, 1, 300, 0,
       "annotation apps.kruise.io/image-predownload-min-updated-ready-pods "
       "\"abc\" is neither an integer nor a percent: 0, no wait (as "
       "upstream)"},
      {NULL, NULL, "%", 4, 1, 300, 0, "\"%\" is neither an integer"},
      {NULL, NULL, "50%%", 4, 1, 300, 0, "\"50%%\" is neither"},
      {NULL, NULL, "3.5", 4, 1, 300, 0, "\"3.5\" is neither"},
      {NULL, NULL, "", 4, 1, 300, 0, "\"\" is neither"},
      {NULL, NULL, "2147483648", 4, 1, 300, 0,
       "\"2147483648\" is out of range"},
      {NULL, NULL, "99999999999999999999999", 4, 1, 300, 0, "is out of range"},
      /* all three wrong: three notes, in that order */
      {"x", "y", "z", 4, 1, 300, 0,
       "parallelism \"x\" is not an integer from 1 to 2147483647: parallelism "
       "1; annotation apps.kruise.io/image-predownload-timeout-seconds \"y\" "
       "is not an integer from 1 to 2147483647: timeoutSeconds 300; "
       "annotation apps.kruise.io/image-predownload-min-updated-ready-pods "
       "\"z\" is neither"},
      /* a long value is cut in the note */
      {"0123456789012345678901234567890123456789xyz", NULL, NULL, 4, 1, 300, 0,
       "\"0123456789012345678901234567890123456789...\" is not"},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++) {
    char *kv = NULL;
    struct lb_cs_pd_opts o;
    if (rows[i].par)
      ASSERT_OK(lb_kv_set(&kv, LB_ANNO_PREDOWNLOAD_PARALLELISM, rows[i].par));
    if (rows[i].timeout)
      ASSERT_OK(lb_kv_set(&kv, LB_ANNO_PREDOWNLOAD_TIMEOUT, rows[i].timeout));
    if (rows[i].min)
      ASSERT_OK(lb_kv_set(&kv, LB_ANNO_PREDOWNLOAD_MIN_READY, rows[i].min));
    lb_cs_predownload_opts(kv, rows[i].replicas, &o);
    int notes_ok = *rows[i].note ? strstr(o.notes, rows[i].note) != NULL
                                 : *o.notes == '\0';
    if (o.parallelism != rows[i].want_par ||
        o.timeout_seconds != rows[i].want_timeout ||
        o.min_updated_ready != rows[i].want_min || !notes_ok)
      lb_test_fail(__FILE__, __LINE__,
                   "row %zu (%s|%s|%s): got %d %d %d notes \"%s\"", i,
                   rows[i].par ? rows[i].par : "-",
                   rows[i].timeout ? rows[i].timeout : "-",
                   rows[i].min ? rows[i].min : "-", o.parallelism,
                   o.timeout_seconds, o.min_updated_ready, o.notes);
    free(kv);
  }
  /* no annotations at all (a CloneSet built by hand: NULL set) */
  struct lb_cs_pd_opts o;
  lb_cs_predownload_opts(NULL, 4, &o);
  ASSERT_EQ_INT(o.parallelism, 1);
  ASSERT_EQ_INT(o.timeout_seconds, 300);
  ASSERT_EQ_INT(o.min_updated_ready, 0);
  ASSERT_EQ_STR(o.notes, "");
}

/* The CloneSet's annotations survive the compact object's snapshot
 * encoding (and a CloneSet without them encodes as before). */
TEST(cloneset_predownload_annotations_snapshot_roundtrip) {
  const char *with =
      "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":\"CloneSet\","
      "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"u\","
      "\"resourceVersion\":\"1\",\"annotations\":{\"apps.kruise.io/"
      "image-predownload-parallelism\":\"5\",\"unrelated\":\"x\"}},\"spec\":{"
      "\"selector\":{\"matchLabels\":{\"app\":\"w\"}},\"template\":{}}}";
  struct lb_obj *o = NULL, *back = NULL;
  const char *why;
  struct lb_buf a = LB_BUF_INIT, b = LB_BUF_INIT;
  ASSERT_OK(lb_obj_decode_text(with, &o, &why));
  ASSERT(o && o->kind == LB_KIND_CLONESET);
  const struct lb_cloneset *cs = (const struct lb_cloneset *)o;
  ASSERT_EQ_STR(
      lb_kv_get(cs->predownload_annos, LB_ANNO_PREDOWNLOAD_PARALLELISM), "5");
  ASSERT(lb_kv_get(cs->predownload_annos, "unrelated") == NULL);
  ASSERT_OK(lb_obj_encode(o, &a));
  ASSERT_CONTAINS(a.p, "\"pd_annos\":{\"apps.kruise.io/"
                       "image-predownload-parallelism\":\"5\"}");
  json_object *enc = json_tokener_parse(a.p);
  ASSERT_OK(lb_obj_restore(enc, &back));
  ASSERT_OK(lb_obj_encode(back, &b));
  ASSERT_EQ_STR(a.p, b.p);
  json_object_put(enc);
  lb_obj_free(o);
  lb_obj_free(back);
  lb_buf_release(&a);
  lb_buf_release(&b);
  /* without: no member (digests of such CloneSets unchanged) */
  const char *without =
      "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":\"CloneSet\","
      "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"u\","
      "\"resourceVersion\":\"1\"},\"spec\":{\"selector\":{\"matchLabels\":{"
      "\"app\":\"w\"}},\"template\":{}}}";
  ASSERT_OK(lb_obj_decode_text(without, &o, &why));
  ASSERT_OK(lb_obj_encode(o, &a));
  ASSERT(!strstr(a.p, "pd_annos"));
  lb_obj_free(o);
  lb_buf_release(&a);
  /* an ImagePullJob decodes as a bare object of its own kind */
  const char *job =
      "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":\"ImagePullJob\","
      "\"metadata\":{\"name\":\"web-1-c\",\"namespace\":\"default\",\"uid\":"
      "\"j\",\"resourceVersion\":\"7\",\"labels\":{\"app\":\"w\"},"
      "\"ownerReferences\":[{\"apiVersion\":\"apps.kruise.io/v1alpha1\","
      "\"kind\":\"CloneSet\",\"name\":\"web\",\"uid\":\"u\",\"controller\":"
      "true}]},\"spec\":{\"image\":\"nginx:2\"}}";
  ASSERT_OK(lb_obj_decode_text(job, &o, &why));
  ASSERT(o && o->kind == LB_KIND_IPJ);
  ASSERT_EQ_STR(o->owner_uid, "u");
  ASSERT_EQ_STR(lb_kv_get(o->labels, "app"), "w");
  ASSERT_OK(lb_obj_encode(o, &a));
  enc = json_tokener_parse(a.p);
  ASSERT_OK(lb_obj_restore(enc, &back));
  ASSERT_OK(lb_obj_encode(back, &b));
  ASSERT_EQ_STR(a.p, b.p);
  json_object_put(enc);
  lb_obj_free(o);
  lb_obj_free(back);
  lb_buf_release(&a);
  lb_buf_release(&b);
}

/* ---- through the reducer --------------------------------------------------
 */

/* A CloneSet `web` (uid cs-uid) of `replicas` pods of image, with the gate
 * label when gate, CloneSet annotations `annos` (JSON members, may be ""),
 * template annotation example.com/owner=team-a, imagePullSecrets [regcred],
 * and `us` as spec members. */
static char *pd_manifest(int gen, int replicas, const char *image, int gate,
                         const char *annos, const char *us) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_addf(&b,
              "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":"
              "\"CloneSet\",\"metadata\":{\"name\":\"web\",\"namespace\":\"" NS
              "\",\"uid\":\"cs-uid\",\"resourceVersion\":\"%d\","
              "\"generation\":%d,\"labels\":{%s},\"annotations\":{%s}},"
              "\"spec\":{\"replicas\":%d,\"selector\":{\"matchLabels\":{"
              "\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{"
              "\"app\":\"web\"},\"annotations\":{\"example.com/owner\":"
              "\"team-a\"}},\"spec\":{\"imagePullSecrets\":[{\"name\":"
              "\"regcred\"}],\"containers\":[{\"name\":\"c\","
              "\"image\":\"%s\"}]}},%s}}",
              gen * 10, gen, gate ? GATE : "", annos, replicas, image, us);
  ASSERT(!b.err);
  return lb_buf_detach(&b, NULL);
}

static void put(struct ipsim *s, char *m) {
  ip_put_cs(s, m);
  free(m);
}

static int n_jobs(const struct ipsim *s) {
  int n = 0;
  json_object_object_foreach(s->objs, key, val) {
    (void)val;
    n += !strncmp(key, "ImagePullJob/", 13);
  }
  return n;
}

static json_object *job_of(const struct ipsim *s, const char *name) {
  char key[300];
  snprintf(key, sizeof key, "ImagePullJob/%s", name);
  return jm(s->objs, key);
}

static const char *cs_str(const struct ipsim *s, const char *f) {
  return json_object_get_string(
      jm(jm(jm(s->objs, "CloneSet/web"), "status"), f));
}
static int cs_int(const struct ipsim *s, const char *f) {
  return json_object_get_int(jm(jm(jm(s->objs, "CloneSet/web"), "status"), f));
}

/* Answers one action at a time until ImagePullJob `name` exists; 0 when
 * everything settled without it. */
static int answer_until_job(struct ipsim *s, const char *name) {
  for (int i = 0; i < 400; i++) {
    if (job_of(s, name))
      return 1;
    s->now += 1000;
    if (!ip_answer(s)) {
      ip_tick(s);
      if (!lb_engine_inflight_count(s->e))
        return job_of(s, name) != NULL;
    }
  }
  return 0;
}

/* Answers one action at a time until status.updateRevision differs from
 * what it was; the new name into out. */
static void answer_until_new_revision(struct ipsim *s, char *out, size_t n) {
  char old[128];
  lb_strlcpy(old,
             cs_str(s, "updateRevision") ? cs_str(s, "updateRevision") : "",
             sizeof old);
  for (int i = 0; i < 400; i++) {
    const char *now = cs_str(s, "updateRevision");
    if (now && strcmp(now, old)) {
      lb_strlcpy(out, now, n);
      return;
    }
    s->now += 1000;
    if (!ip_answer(s))
      ip_tick(s);
  }
  lb_test_fail(__FILE__, __LINE__, "no new update revision");
}

/* The update revision a rollout of web to nginx:2 gets (deterministic: the
 * name hashes the template). */
static void v2_revision(char *out, size_t n) {
  struct ipsim s;
  ip_init(&s);
  put(&s, pd_manifest(1, 4, "nginx:1", 1, "", INPLACE));
  ip_settle(&s);
  put(&s, pd_manifest(2, 4, "nginx:2", 1, "", INPLACE));
  ip_settle(&s);
  lb_strlcpy(out, cs_str(&s, "updateRevision"), n);
  ip_free(&s);
}

static const char *rev_label(const struct ipsim *s, const char *rev,
                             const char *label) {
  char key[256];
  snprintf(key, sizeof key, "ControllerRevision/%s", rev);
  json_object *v = jm(jm(jm(jm(s->objs, key), "metadata"), "labels"), label);
  return v ? json_object_get_string(v) : NULL;
}

TEST(cloneset_scenario14_image_predownload_job) {
  struct ipsim s;
  char job[256], want[512];
  const char *annos =
      "\"apps.kruise.io/image-predownload-parallelism\":\"3\","
      "\"apps.kruise.io/image-predownload-timeout-seconds\":\"120\"";
  ip_init(&s);
  ip_journal(&s, "predownload.db");
  put(&s, pd_manifest(1, 4, "nginx:1", 1, annos, INPLACE));
  ip_settle(&s);
  ASSERT_EQ_INT(n_jobs(&s), 0); /* nothing to pull yet */
  put(&s, pd_manifest(2, 4, "nginx:2", 1, annos, INPLACE));
  /* the job appears during the rollout */
  int found = 0;
  for (int i = 0; i < 400 && !found; i++) {
    s.now += 1000;
    if (!ip_answer(&s))
      break;
    found = n_jobs(&s) == 1;
  }
  ASSERT(found);
  char upd[128]; /* a copy: the status object is replaced on writes */
  lb_strlcpy(upd, cs_str(&s, "updateRevision"), sizeof upd);
  snprintf(job, sizeof job, "%s-c", upd);
  json_object *j = job_of(&s, job), *meta = jm(j, "metadata"),
              *spec = jm(j, "spec");
  ASSERT(j);
  ASSERT_EQ_STR(json_object_get_string(jm(j, "apiVersion")),
                "apps.kruise.io/v1alpha1");
  ASSERT_EQ_STR(json_object_get_string(jm(spec, "image")), "nginx:2");
  json_object *ps = jm(spec, "podSelector");
  ASSERT_EQ_STR(json_object_get_string(jm(jm(ps, "matchLabels"), "app")),
                "web");
  json_object *ex = json_object_array_get_idx(jm(ps, "matchExpressions"), 0);
  ASSERT_EQ_STR(json_object_get_string(jm(ex, "key")),
                "controller-revision-hash");
  ASSERT_EQ_STR(json_object_get_string(jm(ex, "operator")), "NotIn");
  ASSERT_EQ_STR(
      json_object_get_string(json_object_array_get_idx(jm(ex, "values"), 0)),
      upd);
  json_object *ref = json_object_array_get_idx(jm(meta, "ownerReferences"), 0);
  ASSERT_EQ_STR(json_object_get_string(jm(ref, "kind")), "CloneSet");
  ASSERT_EQ_STR(json_object_get_string(jm(ref, "uid")), "cs-uid");
  ASSERT(json_object_get_boolean(jm(ref, "controller")));
  /* the annotation values, and upstream's fixed fields */
  ASSERT_EQ_INT(json_object_get_int(jm(spec, "parallelism")), 3);
  ASSERT_EQ_INT(
      json_object_get_int(jm(jm(spec, "pullPolicy"), "timeoutSeconds")), 120);
  ASSERT_EQ_INT(json_object_get_int(jm(jm(spec, "pullPolicy"), "backoffLimit")),
                1);
  ASSERT_EQ_STR(
      json_object_get_string(jm(jm(spec, "completionPolicy"), "type")),
      "Always");
  ASSERT_EQ_INT(json_object_get_int(jm(jm(spec, "completionPolicy"),
                                       "ttlSecondsAfterFinished")),
                600);
  /* labels: the template's plus the revision hash; sandboxConfig: the same
   * labels and the template's annotations */
  json_object *labels = jm(meta, "labels");
  ASSERT_EQ_STR(json_object_get_string(jm(labels, "app")), "web");
  const char *hash =
      json_object_get_string(jm(labels, "controller.kubernetes.io/hash"));
  ASSERT(hash && strstr(upd, hash) && strlen(hash) < strlen(upd));
  json_object *sb = jm(spec, "sandboxConfig");
  ASSERT(json_object_equal(jm(sb, "labels"), labels));
  ASSERT_EQ_STR(
      json_object_get_string(jm(jm(sb, "annotations"), "example.com/owner")),
      "team-a");
  json_object *secrets = jm(spec, "pullSecrets");
  ASSERT_EQ_INT(json_object_array_length(secrets), 1);
  ASSERT_EQ_STR(json_object_get_string(json_object_array_get_idx(secrets, 0)),
                "regcred");
  snprintf(want, sizeof want,
           "image pre-download for %s: ImagePullJob %s (nginx:2); "
           "parallelism 3, timeoutSeconds 120, min updated ready 0",
           upd, job);
  ASSERT_EQ_INT(decisions_with(&s, want), 1);
  /* the rollout goes on in place and converges: the job is deleted */
  ip_settle(&s);
  struct lb_buf sum = LB_BUF_INIT;
  pods_summary(&s, &sum);
  ASSERT_EQ_INT(count_in(sum.p, "=nginx:2=1="), 4);
  lb_buf_release(&sum);
  ASSERT_EQ_STR(cs_str(&s, "currentRevision"), upd);
  ASSERT_EQ_STR(rev_label(&s, upd, "apps.kruise.io/pre-predownload-created"),
                "true");
  ASSERT_EQ_INT(n_jobs(&s), 0);
  snprintf(want, sizeof want,
           "image pre-download over: revisions converged at %s, deleting "
           "ImagePullJob %s",
           upd, job);
  ASSERT_EQ_INT(decisions_with(&s, want), 1);
  ASSERT_EQ_INT(decisions_with(&s, "image pre-download for "), 1);
  /* `logbook explain imagepulljob/...` tells both decisions */
  char *out = ip_explain(&s, "ImagePullJob", job);
  ASSERT_CONTAINS(out, "image pre-download for ");
  ASSERT_CONTAINS(out, "image pre-download over: revisions converged");
  free(out);
  ip_free(&s);
  ip_replay_clean("predownload.db");
}

TEST(cloneset_scenario14_predownload_ignored_cases) {
  static const struct {
    const char *name, *us;
    int replicas;
    const char *why;
  } rows[] = {
      {"ReCreate", "\"updateStrategy\":{\"maxUnavailable\":1}", 4,
       "updateStrategy.type is ReCreate"},
      {"3 replicas", INPLACE, 3, "replicas <= 3"},
      {"one batch",
       "\"updateStrategy\":{\"type\":\"InPlaceIfPossible\","
       "\"maxUnavailable\":\"100%\"}",
       4, "every pod updates in one batch"},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++) {
    struct ipsim s;
    ip_init(&s);
    put(&s, pd_manifest(1, rows[i].replicas, "nginx:1", 1, "", rows[i].us));
    ip_settle(&s);
    put(&s, pd_manifest(2, rows[i].replicas, "nginx:2", 1, "", rows[i].us));
    ip_settle(&s);
    if (n_jobs(&s) != 0 || decisions_with(&s, rows[i].why) != 1)
      lb_test_fail(__FILE__, __LINE__, "row %s: %d job(s), reason %d",
                   rows[i].name, n_jobs(&s), decisions_with(&s, rows[i].why));
    ASSERT_EQ_STR(rev_label(&s, cs_str(&s, "updateRevision"),
                            "apps.kruise.io/image-predownload-ignored"),
                  "true");
    ASSERT_EQ_INT(decisions_with(&s, "ImagePullJob"), 0);
    ip_free(&s);
  }
  /* without the gate nothing is created or labelled */
  struct ipsim s;
  ip_init(&s);
  put(&s, pd_manifest(1, 4, "nginx:1", 0, "", INPLACE));
  ip_settle(&s);
  put(&s, pd_manifest(2, 4, "nginx:2", 0, "", INPLACE));
  ip_settle(&s);
  ASSERT_EQ_INT(n_jobs(&s), 0);
  ASSERT_EQ_INT(decisions_with(&s, "pre-download"), 0);
  ip_free(&s);
}

/* min-updated-ready-pods: the jobs wait for that many updated ready pods
 * (status.updatedReadyReplicas of the update revision); an unusable value
 * waits for nothing and says so. */
TEST(cloneset_predownload_min_updated_ready_defers) {
  static const struct {
    const char *min;
    int want_min; /* resolved against 4 replicas */
    const char *note;
  } rows[] = {
      {"2", 2, NULL},
      {"50%", 2, NULL},
      {"1", 1, NULL},
      {"0", 0, NULL},
      {"abc", 0, "\"abc\" is neither an integer nor a percent"},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++) {
    struct ipsim s;
    char annos[256], job[256], waits[512];
    snprintf(annos, sizeof annos,
             "\"apps.kruise.io/image-predownload-min-updated-ready-pods\":"
             "\"%s\"",
             rows[i].min);
    ip_init(&s);
    put(&s, pd_manifest(1, 4, "nginx:1", 1, annos, INPLACE));
    ip_settle(&s);
    put(&s, pd_manifest(2, 4, "nginx:2", 1, annos, INPLACE));
    char upd[128];
    answer_until_new_revision(&s, upd, sizeof upd);
    snprintf(job, sizeof job, "%s-c", upd);
    snprintf(waits, sizeof waits, "image pre-download waits for %s: ", upd);
    int appeared = answer_until_job(&s, job);
    int ready_then = cs_int(&s, "updatedReadyReplicas");
    int n_waits = decisions_with(&s, waits);
    if (!appeared || (rows[i].want_min > 0 && n_waits < 1) ||
        (rows[i].want_min == 0 && n_waits != 0) ||
        ready_then < rows[i].want_min)
      lb_test_fail(__FILE__, __LINE__,
                   "row %s: job %d, %d waiting decision(s), updatedReady %d "
                   "when it appeared",
                   rows[i].min, appeared, n_waits, ready_then);
    if (rows[i].want_min > 0) {
      char asks[600];
      snprintf(asks, sizeof asks,
               "apps.kruise.io/image-predownload-min-updated-ready-pods "
               "asks %d",
               rows[i].want_min);
      ASSERT(decisions_with(&s, asks) >= 1);
      /* before the threshold no job existed: the first waiting decision
       * came before the one creating it */
      size_t first_wait = s.ds.n, create = s.ds.n;
      for (size_t d = 0; d < s.ds.n; d++) {
        if (first_wait == s.ds.n && strstr(s.ds.v[d].reason, waits))
          first_wait = d;
        if (create == s.ds.n &&
            strstr(s.ds.v[d].reason, "image pre-download for "))
          create = d;
      }
      ASSERT(first_wait < create && create < s.ds.n);
    }
    if (rows[i].note)
      ASSERT(decisions_with(&s, rows[i].note) >= 1);
    ip_settle(&s);
    ASSERT_EQ_INT(n_jobs(&s), 0); /* converged: deleted */
    ip_free(&s);
  }
}

/* A job of that name already exists. Known to the engine: it is left as it
 * is (upstream's create answers AlreadyExists and goes on), and deleted at
 * the end only when it is this CloneSet's. Unknown (the watch is behind):
 * the create answers 409, the reason says so, the revision stays labelled. */
TEST(cloneset_predownload_job_name_collision) {
  static const struct {
    const char *owner; /* controller owner uid of the existing job */
    int told;          /* the engine saw it (watch) before the rollout */
    const char *reason;
    int left_at_end; /* jobs left once converged */
  } rows[] = {
      {"other-uid", 1, "already exists (not this CloneSet's): left as it is",
       1},
      {"other-uid", 0, "already exists (HTTP 409): left as it is, as upstream",
       1},
  };
  char upd[128], job[256];
  v2_revision(upd, sizeof upd);
  snprintf(job, sizeof job, "%s-c", upd);
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++) {
    struct ipsim s;
    char body[1024];
    ip_init(&s);
    put(&s, pd_manifest(1, 4, "nginx:1", 1, "", INPLACE));
    ip_settle(&s);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":"
             "\"ImagePullJob\",\"metadata\":{\"name\":\"%s\",\"namespace\":"
             "\"" NS "\",\"uid\":\"job-uid\",\"resourceVersion\":\"5\","
             "\"ownerReferences\":[{\"apiVersion\":\"apps.kruise.io/v1alpha1\","
             "\"kind\":\"CloneSet\",\"name\":\"web\",\"uid\":\"%s\","
             "\"controller\":true}]},\"spec\":{\"image\":\"nginx:2\"}}",
             job, rows[i].owner);
    char key[300];
    snprintf(key, sizeof key, "ImagePullJob/%s", job);
    json_object_object_add(s.objs, key, json_tokener_parse(body));
    if (rows[i].told)
      ip_event(&s, LB_SRC_WATCH, LB_EV_ADDED, body);
    put(&s, pd_manifest(2, 4, "nginx:2", 1, "", INPLACE));
    ip_settle(&s);
    ASSERT_EQ_STR(cs_str(&s, "updateRevision"), upd);
    ASSERT_EQ_STR(cs_str(&s, "currentRevision"), upd); /* converged */
    if (decisions_with(&s, rows[i].reason) != 1 ||
        n_jobs(&s) != rows[i].left_at_end)
      lb_test_fail(__FILE__, __LINE__, "row %zu: reason %d, %d job(s) left", i,
                   decisions_with(&s, rows[i].reason), n_jobs(&s));
    ASSERT_EQ_STR(rev_label(&s, upd, "apps.kruise.io/pre-predownload-created"),
                  "true");
    if (rows[i].left_at_end) /* never ours to delete */
      ASSERT_EQ_INT(decisions_with(&s, "image pre-download over"), 0);
    ip_free(&s);
  }
}

/* A -> B, then B -> C before B converged: B's job stays while the revisions
 * differ (as upstream), C gets its own, and the convergence on C deletes
 * both. Then the same with the gate label removed mid-rollout: the jobs
 * are deleted all the same. */
TEST(cloneset_predownload_older_revision_and_gate_off) {
  struct ipsim s;
  char b_job[256], c_job[256], want[1024];
  ip_init(&s);
  ip_journal(&s, "predownload-abc.db");
  put(&s, pd_manifest(1, 5, "nginx:1", 1, "", INPLACE));
  ip_settle(&s);
  put(&s, pd_manifest(2, 5, "nginx:2", 1, "", INPLACE));
  char rev[128], c_rev[128];
  answer_until_new_revision(&s, rev, sizeof rev);
  snprintf(b_job, sizeof b_job, "%s-c", rev);
  ASSERT(answer_until_job(&s, b_job));
  put(&s, pd_manifest(3, 5, "nginx:3", 1, "", INPLACE));
  answer_until_new_revision(&s, c_rev, sizeof c_rev);
  snprintf(c_job, sizeof c_job, "%s-c", c_rev);
  ASSERT(strcmp(b_job, c_job));
  ASSERT(answer_until_job(&s, c_job));
  ASSERT(job_of(&s, b_job)); /* still there: revisions still differ */
  ASSERT_EQ_STR(
      json_object_get_string(jm(jm(job_of(&s, c_job), "spec"), "image")),
      "nginx:3");
  ip_settle(&s);
  ASSERT_EQ_STR(cs_str(&s, "currentRevision"), c_rev);
  ASSERT_EQ_INT(n_jobs(&s), 0);
  const char *first = strcmp(b_job, c_job) < 0 ? b_job : c_job;
  const char *second = first == b_job ? c_job : b_job;
  snprintf(want, sizeof want,
           "image pre-download over: revisions converged at %s, deleting "
           "ImagePullJob %s, %s",
           c_rev, first, second);
  ASSERT_EQ_INT(decisions_with(&s, want), 1);
  ip_free(&s);
  ip_replay_clean("predownload-abc.db");

  /* gate label removed after the job was created */
  ip_init(&s);
  put(&s, pd_manifest(1, 4, "nginx:1", 1, "", INPLACE));
  ip_settle(&s);
  put(&s, pd_manifest(2, 4, "nginx:2", 1, "", INPLACE));
  answer_until_new_revision(&s, rev, sizeof rev);
  snprintf(b_job, sizeof b_job, "%s-c", rev);
  ASSERT(answer_until_job(&s, b_job));
  put(&s, pd_manifest(3, 4, "nginx:2", 0, "", INPLACE)); /* same template */
  ip_settle(&s);
  ASSERT_EQ_INT(n_jobs(&s), 0);
  ASSERT_EQ_INT(decisions_with(&s, "image pre-download over"), 1);
  ip_free(&s);
}

/* A delete that fails is said and tried again while the job exists. */
TEST(cloneset_predownload_delete_failure_retried) {
  struct ipsim s;
  char job[256];
  ip_init(&s);
  put(&s, pd_manifest(1, 4, "nginx:1", 1, "", INPLACE));
  ip_settle(&s);
  put(&s, pd_manifest(2, 4, "nginx:2", 1, "", INPLACE));
  char rev[128];
  answer_until_new_revision(&s, rev, sizeof rev);
  snprintf(job, sizeof job, "%s-c", rev);
  ASSERT(answer_until_job(&s, job));
  /* answer until the delete is the lowest action in flight, then fail it */
  int failed = 0;
  for (int i = 0; i < 400 && !failed; i++) {
    int64_t *ids;
    size_t n;
    ASSERT_OK(lb_engine_inflight_ids(s.e, &ids, &n));
    const struct lb_action *a = n ? ip_find(&s, ids[0]) : NULL;
    free(ids);
    if (!a) {
      s.now += 1000;
      ip_tick(&s);
      continue;
    }
    if (a->verb == LB_VERB_DELETE && !strcmp(a->kind, "ImagePullJob")) {
      ASSERT_EQ_STR(a->uid, json_object_get_string(
                                jm(jm(job_of(&s, job), "metadata"), "uid")));
      const char *st = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":"
                       "\"Failure\",\"message\":\"forbidden\",\"reason\":"
                       "\"Forbidden\",\"code\":403}";
      ip_status_outcome(&s, a, 403, st);
      failed = 1;
    } else {
      s.now += 1000;
      ip_answer(&s);
    }
  }
  ASSERT(failed);
  char want[512];
  snprintf(want, sizeof want,
           "ImagePullJob %s: delete answered HTTP 403 (tried again while it "
           "exists)",
           job);
  ASSERT_EQ_INT(decisions_with(&s, want), 1);
  ip_settle(&s);
  ASSERT_EQ_INT(n_jobs(&s), 0);
  ASSERT_EQ_INT(decisions_with(&s, "image pre-download over"), 2);
  ip_free(&s);
}

/* Our own job already there while the revision lost its label (a user
 * removed it): left as it is, the revision labelled again, and the job
 * deleted at the end. */
TEST(cloneset_predownload_own_job_exists) {
  struct ipsim s;
  char rev[128], job[256], key[300];
  ip_init(&s);
  put(&s, pd_manifest(1, 4, "nginx:1", 1, "", INPLACE));
  ip_settle(&s);
  put(&s, pd_manifest(2, 4, "nginx:2", 1, "", INPLACE));
  answer_until_new_revision(&s, rev, sizeof rev);
  snprintf(job, sizeof job, "%s-c", rev);
  ASSERT(answer_until_job(&s, job));
  for (int i = 0; i < 50 && !rev_label(&s, rev, LB_LABEL_PREDOWNLOAD_CREATED);
       i++) {
    s.now += 1000;
    ASSERT(ip_answer(&s));
  }
  ASSERT(rev_label(&s, rev, LB_LABEL_PREDOWNLOAD_CREATED));
  ASSERT(strcmp(cs_str(&s, "currentRevision"), rev)); /* still rolling */
  snprintf(key, sizeof key, "ControllerRevision/%s", rev);
  json_object *cr = jm(s.objs, key);
  json_object_object_del(jm(jm(cr, "metadata"), "labels"),
                         LB_LABEL_PREDOWNLOAD_CREATED);
  set_rv(&s, cr);
  ip_event(&s, LB_SRC_WATCH, LB_EV_MODIFIED,
           json_object_to_json_string_ext(cr, JSON_C_TO_STRING_PLAIN));
  ip_settle(&s);
  char want[512];
  snprintf(want, sizeof want,
           "ImagePullJob %s already exists (this CloneSet's): left as it is",
           job);
  ASSERT_EQ_INT(decisions_with(&s, want), 1);
  ASSERT_EQ_INT(decisions_with(&s, "image pre-download for "), 2);
  ASSERT_EQ_STR(rev_label(&s, rev, LB_LABEL_PREDOWNLOAD_CREATED), "true");
  ASSERT_EQ_INT(n_jobs(&s), 0);
  ASSERT_EQ_INT(decisions_with(&s, "image pre-download over"), 1);
  ip_free(&s);
}

/* Unusable parallelism / timeout values: the job gets the defaults and the
 * creating decision names each refused value. */
TEST(cloneset_predownload_invalid_annotations_fall_back) {
  struct ipsim s;
  char rev[128], job[256];
  const char *annos =
      "\"apps.kruise.io/image-predownload-parallelism\":\"0\","
      "\"apps.kruise.io/image-predownload-timeout-seconds\":\"2m\","
      "\"apps.kruise.io/image-predownload-min-updated-ready-pods\":\"half\"";
  ip_init(&s);
  put(&s, pd_manifest(1, 4, "nginx:1", 1, annos, INPLACE));
  ip_settle(&s);
  put(&s, pd_manifest(2, 4, "nginx:2", 1, annos, INPLACE));
  answer_until_new_revision(&s, rev, sizeof rev);
  snprintf(job, sizeof job, "%s-c", rev);
  ASSERT(answer_until_job(&s, job));
  json_object *spec = jm(job_of(&s, job), "spec");
  ASSERT_EQ_INT(json_object_get_int(jm(spec, "parallelism")), 1);
  ASSERT_EQ_INT(
      json_object_get_int(jm(jm(spec, "pullPolicy"), "timeoutSeconds")), 300);
  ASSERT_EQ_INT(decisions_with(&s, "image pre-download waits"), 0);
  ASSERT_EQ_INT(
      decisions_with(
          &s, "parallelism 1, timeoutSeconds 300, min updated ready 0 (have "),
      1);
  ASSERT_EQ_INT(decisions_with(&s, "annotation apps.kruise.io/"
                                   "image-predownload-parallelism \"0\" is "
                                   "not an integer from 1 to 2147483647: "
                                   "parallelism 1; annotation apps.kruise.io/"
                                   "image-predownload-timeout-seconds \"2m\" "
                                   "is not an integer from 1 to 2147483647: "
                                   "timeoutSeconds 300; annotation "
                                   "apps.kruise.io/image-predownload-min-"
                                   "updated-ready-pods \"half\" is neither an "
                                   "integer nor a percent: 0, no wait (as "
                                   "upstream)"),
                1);
  ip_settle(&s);
  ASSERT_EQ_INT(n_jobs(&s), 0);
  ip_free(&s);
}
