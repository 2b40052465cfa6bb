/* cloneset_predownload.c — image pre-download for in-place updates
 * (kruise-spec §2 "Image pre-download", gate PreDownloadImageForInPlaceUpdate,
 * §16.1 scenario 14), after upstream v1.8.4's cloneset_controller.go (the
 * block before syncCloneSet), cloneset_predownload_image.go and
 * util/imagejob/utilfunction. While a CloneSet rolls to a new revision in
 * place, one apps.kruise.io/v1alpha1 ImagePullJob per changed container,
 * named <update-revision>-<container>, pulls the new image onto the nodes
 * that run pods not yet at the update revision. The update revision is
 * then labelled apps.kruise.io/pre-predownload-created (or, when
 * pre-download does not apply, apps.kruise.io/image-predownload-ignored) so
 * it is decided once per revision. Once the revisions converge the jobs
 * are deleted.
 *
 *   every reconcile (lb__cs_predownload)
 *   ├─ current == update ─► delete every ImagePullJob this CloneSet
 *   │                       controls, of any revision, not already
 *   │                       terminating                     delete_jobs()
 *   └─ current != update, gate label on, revision unlabelled
 *      ├─ updated ready < min-updated-ready-pods ─► wait (reason only)
 *      ├─ ReCreate, replicas <= 3, one batch, or not in place
 *      │                 ─► patch label image-predownload-ignored
 *      └─ otherwise ─► create the jobs + patch label pre-predownload-created
 *
 * Nothing is deleted while the revisions differ (a rollout A -> B -> C
 * keeps B's jobs until C converges), as upstream. The deletion does not
 * look at the gate label: the jobs are this CloneSet's, and a gate
 * switched off mid-rollout must not leave them behind (upstream's gate is
 * a manager flag; with it off nothing is cleaned). A job of the same name
 * that already exists is left as it is (upstream ignores AlreadyExists);
 * the reason says whether it is this CloneSet's. Upstream's jobs also
 * carry ttlSecondsAfterFinished 600, so do these. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloneset.h"
#include "err.h"
#include "event.h"
#include "inplace.h"
#include "reducer.h"
#include "revision.h"

#define MIN_REPLICAS 3 /* upstream minimumReplicasToPreDownloadImage */

static struct json_object *containers_of(struct json_object *tmpl) {
  struct json_object *spec, *c;
  if (tmpl && json_object_object_get_ex(tmpl, "spec", &spec) &&
      json_object_object_get_ex(spec, "containers", &c) &&
      json_object_is_type(c, json_type_array))
    return c;
  return NULL;
}

static const char *str_member(struct json_object *o, const char *k) {
  struct json_object *v;
  return json_object_object_get_ex(o, k, &v) &&
                 json_object_is_type(v, json_type_string)
             ? json_object_get_string(v)
             : NULL;
}

/* --- the annotations ----------------------------------------------------- */

/* Go's strconv.Atoi: an optional sign, then one or more ASCII digits and
 * nothing else. 0, or -1 (not an integer), or -2 (beyond 18 digits: out
 * of every range used here). */
static int go_atoi(const char *s, int64_t *out) {
  int neg = 0, digits = 0;
  int64_t v = 0;
  if (*s == '+' || *s == '-')
    neg = *s++ == '-';
  for (; *s; s++, digits++) {
    if (*s < '0' || *s > '9')
      return -1;
    if (digits >= 18) {
      for (s++; *s; s++) /* still "not an integer" when it is not one */
        if (*s < '0' || *s > '9')
          return -1;
      return -2;
    }
    v = v * 10 + (*s - '0');
  }
  if (!digits)
    return -1;
  *out = neg ? -v : v;
  return 0;
}

static void note(struct lb_cs_pd_opts *o, const char *key, const char *val,
                 const char *rule, const char *used) {
  size_t n = strlen(o->notes);
  if (n < sizeof o->notes)
    snprintf(o->notes + n, sizeof o->notes - n,
             "%sannotation %s \"%.40s%s\" %s: %s", n ? "; " : "", key, val,
             strlen(val) > 40 ? "..." : "", rule, used);
}

/* Upstream reads parallelism with strconv.Atoi and the timeout with
 * ParseInt(s, 10, 32), and uses whatever parses — 0 and negatives
 * included, which give a job that never pulls (parallelism 0 means paused)
 * or fails at once. Here those are refused like non-numbers: the default
 * is used and the reason names the value. min-updated-ready-pods is
 * upstream's intstr.Parse + GetScaledValueFromIntOrPercent(replicas,
 * round up): an integer, or an integer followed by "%"; anything else
 * counts as 0 (upstream logs the error and goes on with 0). */
void lb_cs_predownload_opts(const char *annos, int replicas,
                            struct lb_cs_pd_opts *out) {
  const char *v;
  int64_t n;
  memset(out, 0, sizeof *out);
  out->parallelism = 1;
  out->timeout_seconds = 300;
  if ((v = lb_kv_get(annos, LB_ANNO_PREDOWNLOAD_PARALLELISM))) {
    if (!go_atoi(v, &n) && n >= 1 && n <= INT32_MAX)
      out->parallelism = (int)n;
    else
      note(out, LB_ANNO_PREDOWNLOAD_PARALLELISM, v,
           "is not an integer from 1 to 2147483647", "parallelism 1");
  }
  if ((v = lb_kv_get(annos, LB_ANNO_PREDOWNLOAD_TIMEOUT))) {
    if (!go_atoi(v, &n) && n >= 1 && n <= INT32_MAX)
      out->timeout_seconds = (int)n;
    else
      note(out, LB_ANNO_PREDOWNLOAD_TIMEOUT, v,
           "is not an integer from 1 to 2147483647", "timeoutSeconds 300");
  }
  if ((v = lb_kv_get(annos, LB_ANNO_PREDOWNLOAD_MIN_READY))) {
    size_t len = strlen(v);
    int rc = go_atoi(v, &n), pct = 0;
    char num[32];
    if (rc == -1 && len > 1 && len < sizeof num && v[len - 1] == '%') {
      memcpy(num, v, len - 1);
      num[len - 1] = '\0';
      rc = go_atoi(num, &n);
      pct = 1;
    }
    if (!rc && (pct || (n >= INT32_MIN && n <= INT32_MAX))) {
      if (pct) { /* ceil(n * replicas / 100); |n| capped: same verdicts */
        int64_t x = (n > 1000000000000    ? 1000000000000
                     : n < -1000000000000 ? -1000000000000
                                          : n) *
                    (int64_t)replicas; /* replicas <= 1e6: no overflow */
        x = x >= 0 ? (x + 99) / 100 : -(-x / 100);
        n = x > INT32_MAX ? INT32_MAX : x < INT32_MIN ? INT32_MIN : x;
      }
      out->min_updated_ready = (int)n;
    } else {
      note(out, LB_ANNO_PREDOWNLOAD_MIN_READY, v,
           rc == -2 || !rc ? "is out of range"
                           : "is neither an integer nor a percent",
           "0, no wait (as upstream)");
    }
  }
}

/* --- the ImagePullJobs --------------------------------------------------- */

static int label_revision(struct lb_rctx *c, const struct lb_crev *cr,
                          const char *key) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_adds(&b, "{\"metadata\":{\"labels\":{");
  lb_buf_add_json_str(&b, key);
  lb_buf_adds(&b, ":\"true\"}}}");
  if (b.err) {
    lb_buf_release(&b);
    return LB_ENOMEM;
  }
  return lb_rctx_action(c, LB_VERB_PATCH, LB_KIND_CREV, cr->o.ns, cr->o.name,
                        "", lb_buf_detach(&b, NULL))
             ? 0
             : LB_ENOMEM;
}

/* A JSON object of the string members of tmpl.metadata.<member>, with
 * extra_k: extra_v (when given) set last, replacing any member of that key. */
static void add_meta_map(struct lb_buf *b, struct json_object *tmpl,
                         const char *member, const char *extra_k,
                         const char *extra_v) {
  struct json_object *meta, *m;
  int n = 0;
  lb_buf_adds(b, "{");
  if (json_object_object_get_ex(tmpl, "metadata", &meta) &&
      json_object_object_get_ex(meta, member, &m) &&
      json_object_is_type(m, json_type_object)) {
    json_object_object_foreach(m, k, v) {
      if ((extra_k && !strcmp(k, extra_k)) ||
          !json_object_is_type(v, json_type_string))
        continue;
      lb_buf_adds(b, n++ ? "," : "");
      lb_buf_add_json_str(b, k);
      lb_buf_adds(b, ":");
      lb_buf_add_json_str(b, json_object_get_string(v));
    }
  }
  if (extra_k) {
    lb_buf_adds(b, n++ ? "," : "");
    lb_buf_add_json_str(b, extra_k);
    lb_buf_adds(b, ":");
    lb_buf_add_json_str(b, extra_v);
  }
  lb_buf_adds(b, "}");
}

static int has_meta_map(struct json_object *tmpl, const char *member) {
  struct json_object *meta, *m;
  return json_object_object_get_ex(tmpl, "metadata", &meta) &&
         json_object_object_get_ex(meta, member, &m) &&
         json_object_is_type(m, json_type_object) &&
         json_object_object_length(m) > 0;
}

/* The ImagePullJob body (upstream CreateJobForWorkload). tmpl is the
 * CloneSet's spec.template, as upstream reads it: labels = its labels plus
 * the revision hash, sandboxConfig = the same labels and its annotations,
 * pullSecrets = its imagePullSecrets. */
static char *job_body(const struct lb_cloneset *cs, const struct lb_crev *upd,
                      const char *name, const char *image,
                      struct json_object *tmpl,
                      const struct lb_cs_pd_opts *opt) {
  struct lb_buf b = LB_BUF_INIT, labels = LB_BUF_INIT;
  const char *hash = lb_rev_short_hash(upd->o.name);
  struct json_object *spec, *secrets = NULL;
  add_meta_map(&labels, tmpl, "labels", "controller.kubernetes.io/hash", hash);
  lb_buf_adds(&b, "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":"
                  "\"ImagePullJob\",\"metadata\":{\"name\":");
  lb_buf_add_json_str(&b, name);
  lb_buf_adds(&b, ",\"namespace\":");
  lb_buf_add_json_str(&b, cs->o.ns);
  lb_buf_adds(&b, ",\"labels\":");
  lb_buf_add(&b, labels.p ? labels.p : "{}", labels.p ? labels.len : 2);
  lb_buf_adds(&b, ",\"ownerReferences\":[{\"apiVersion\":\"apps.kruise.io/"
                  "v1alpha1\",\"kind\":\"CloneSet\",\"name\":");
  lb_buf_add_json_str(&b, cs->o.name);
  lb_buf_adds(&b, ",\"uid\":");
  lb_buf_add_json_str(&b, cs->o.uid);
  lb_buf_adds(&b, ",\"controller\":true,\"blockOwnerDeletion\":true}]},"
                  "\"spec\":{\"image\":");
  lb_buf_add_json_str(&b, image);
  /* pods of the CloneSet not yet at the update revision */
  lb_buf_adds(&b, ",\"podSelector\":{");
  if (cs->selector.match_labels && *cs->selector.match_labels) {
    int n = 0;
    lb_buf_adds(&b, "\"matchLabels\":{");
    LB_KV_FOR(cs->selector.match_labels, k, v) {
      lb_buf_adds(&b, n++ ? "," : "");
      lb_buf_add_json_str(&b, k);
      lb_buf_adds(&b, ":");
      lb_buf_add_json_str(&b, v);
    }
    lb_buf_adds(&b, "},");
  }
  lb_buf_adds(&b, "\"matchExpressions\":[");
  static const char *const ops[] = {"", "In", "NotIn", "Exists",
                                    "DoesNotExist"};
  for (size_t i = 0; i < cs->selector.n_reqs; i++) {
    const struct lb_selreq *q = &cs->selector.reqs[i];
    int n = 0;
    lb_buf_adds(&b, "{\"key\":");
    lb_buf_add_json_str(&b, q->key);
    lb_buf_addf(&b, ",\"operator\":\"%s\",\"values\":[",
                q->op >= 1 && q->op <= 4 ? ops[q->op] : "In");
    for (const char *v = q->values; v && *v; v += strlen(v) + 1) {
      lb_buf_adds(&b, n++ ? "," : "");
      lb_buf_add_json_str(&b, v);
    }
    lb_buf_adds(&b, "]},");
  }
  lb_buf_adds(&b, "{\"key\":\"controller-revision-hash\",\"operator\":"
                  "\"NotIn\",\"values\":[");
  lb_buf_add_json_str(&b, upd->o.name);
  lb_buf_adds(&b, ",");
  lb_buf_add_json_str(&b, hash);
  lb_buf_addf(&b,
              "]}]},\"parallelism\":%d,\"pullPolicy\":{\"backoffLimit\":1,"
              "\"timeoutSeconds\":%d},\"completionPolicy\":{\"type\":"
              "\"Always\",\"ttlSecondsAfterFinished\":600}",
              opt->parallelism, opt->timeout_seconds);
  if (json_object_object_get_ex(tmpl, "spec", &spec) &&
      json_object_object_get_ex(spec, "imagePullSecrets", &secrets) &&
      json_object_is_type(secrets, json_type_array) &&
      json_object_array_length(secrets)) {
    lb_buf_adds(&b, ",\"pullSecrets\":[");
    for (size_t i = 0; i < json_object_array_length(secrets); i++) {
      const char *s = str_member(json_object_array_get_idx(secrets, i), "name");
      lb_buf_adds(&b, i ? "," : "");
      lb_buf_add_json_str(&b, s ? s : "");
    }
    lb_buf_adds(&b, "]");
  }
  lb_buf_adds(&b, ",\"sandboxConfig\":{\"labels\":");
  lb_buf_add(&b, labels.p ? labels.p : "{}", labels.p ? labels.len : 2);
  if (has_meta_map(tmpl, "annotations")) { /* upstream: omitempty */
    lb_buf_adds(&b, ",\"annotations\":");
    add_meta_map(&b, tmpl, "annotations", NULL, NULL);
  }
  lb_buf_adds(&b, "}}}");
  if (labels.err)
    b.err = labels.err;
  lb_buf_release(&labels);
  return b.err ? (lb_buf_release(&b), NULL) : lb_buf_detach(&b, NULL);
}

static int cmp_obj_name(const void *a, const void *b) {
  return strcmp((*(const struct lb_obj *const *)a)->name,
                (*(const struct lb_obj *const *)b)->name);
}

/* Upstream DeleteJobsForWorkload: every ImagePullJob in the namespace
 * whose controller owner is this CloneSet, whatever its revision. Those
 * already terminating are left to finish. Waits while other actions of
 * the CloneSet's revisions, claims or jobs are in flight (a delete is
 * never sent twice). */
static int delete_jobs(struct lb_rctx *c, struct lb_cloneset *cs,
                       const char *rev) {
  struct lb_obj **v;
  struct lb_buf names = LB_BUF_INIT;
  size_t n = 0;
  int rc = 0;
  if (cs->inflight_revs)
    return 0;
  for (size_t i = 0; i < cs->n_owned; i++)
    n += cs->owned[i]->kind == LB_KIND_IPJ;
  if (!n)
    return 0;
  if (!(v = calloc(n, sizeof *v)))
    return LB_ENOMEM;
  n = 0;
  for (size_t i = 0; i < cs->n_owned; i++) {
    struct lb_obj *o = cs->owned[i];
    if (o->kind == LB_KIND_IPJ && !o->deleting_ms && o->owner_uid &&
        !strcmp(o->owner_uid, cs->o.uid))
      v[n++] = o;
  }
  qsort(v, n, sizeof *v, cmp_obj_name);
  for (size_t i = 0; i < n && !rc; i++) {
    struct lb_action *a = lb_rctx_action(c, LB_VERB_DELETE, LB_KIND_IPJ,
                                         v[i]->ns, v[i]->name, "", NULL);
    if (!a) {
      rc = LB_ENOMEM;
      break;
    }
    free(a->uid); /* precondition: never a same-named successor */
    if (!(a->uid = lb_strdup(v[i]->uid)))
      rc = LB_ENOMEM;
    lb_buf_addf(&names, "%s%s", i ? ", " : "", v[i]->name);
  }
  if (!rc && n)
    lb_rctx_reasonf(c,
                    "image pre-download over: revisions converged at %s, "
                    "deleting ImagePullJob %s",
                    rev, names.p);
  if (!rc && names.err)
    rc = LB_ENOMEM;
  lb_buf_release(&names);
  free(v);
  return rc;
}

/* The answer to one of our ImagePullJob actions failed: say so (the
 * decision after it shows it; 429 and 5xx were retried before it). */
static void note_outcome(struct lb_rctx *c, int converged) {
  const struct lb_event *ev = c->ev;
  if (ev->source != LB_SRC_OUTCOME || !ev->kind ||
      strcmp(ev->kind, "ImagePullJob") ||
      (ev->http_status >= 200 && ev->http_status < 300))
    return;
  if (converged)
    lb_rctx_reasonf(c, "ImagePullJob %s: delete answered HTTP %d (%s)",
                    ev->name, ev->http_status,
                    ev->http_status == 404 ? "already gone"
                    : ev->http_status == 409
                        ? "replaced meanwhile; decided again from fresh state"
                        : "tried again while it exists");
  else if (ev->http_status == 409)
    lb_rctx_reasonf(c,
                    "ImagePullJob %s already exists (HTTP 409): left as it "
                    "is, as upstream",
                    ev->name);
  else
    lb_rctx_reasonf(c,
                    "ImagePullJob %s: create answered HTTP %d; not tried "
                    "again for this revision (upstream: "
                    "FailedCreateImagePullJob, revision labelled all the "
                    "same)",
                    ev->name, ev->http_status);
}

int lb__cs_predownload(struct lb_rctx *c, struct lb_cloneset *cs,
                       const char *current_rev, const char *update_rev) {
  struct lb_crev *cur, *upd;
  struct json_object *old_t = NULL, *new_t = NULL, *spec_t = NULL;
  struct lb_cs_pd_opts opt;
  const char *why = NULL, *gate;
  int rc = 0, converged = !strcmp(current_rev, update_rev);
  note_outcome(c, converged);
  if (converged)
    return delete_jobs(c, cs, current_rev);
  gate = lb_kv_get(cs->o.labels, LB_GATE_PREDOWNLOAD);
  if (!gate || strcmp(gate, "true") || cs->inflight_revs)
    return 0;
  upd = (struct lb_crev *)lb_rctx_get(c, LB_KIND_CREV, cs->o.ns, update_rev);
  cur = (struct lb_crev *)lb_rctx_get(c, LB_KIND_CREV, cs->o.ns, current_rev);
  if (!upd || !cur || lb_kv_get(upd->o.labels, LB_LABEL_PREDOWNLOAD_CREATED) ||
      lb_kv_get(upd->o.labels, LB_LABEL_PREDOWNLOAD_IGNORED))
    return 0;
  lb_cs_predownload_opts(cs->predownload_annos, cs->replicas, &opt);
  /* upstream: status.updatedReadyReplicas as last written, 0 when that
   * status is about another update revision */
  int updated_ready = cs->status.update_revision &&
                              !strcmp(cs->status.update_revision, update_rev)
                          ? cs->status.updated_ready
                          : 0;
  if (opt.min_updated_ready > updated_ready) {
    lb_rctx_reasonf(c,
                    "image pre-download waits for %s: %d updated ready "
                    "pod(s), %s asks %d%s%s",
                    update_rev, updated_ready, LB_ANNO_PREDOWNLOAD_MIN_READY,
                    opt.min_updated_ready, *opt.notes ? "; " : "", opt.notes);
    return 0;
  }
  int partition = lb_cs_partition(&cs->partition, cs->replicas);
  struct lb_intstr mu = cs->max_unavailable;
  if (!mu.set)
    mu = (struct lb_intstr){1, 1, 20};
  int max_unavailable = lb_intstr_resolve(&mu, cs->replicas, 0);
  if (cs->update_type == LB_CSU_RECREATE)
    why = "updateStrategy.type is ReCreate";
  else if (cs->replicas <= MIN_REPLICAS)
    why = "replicas <= 3";
  else if (partition == 0 && max_unavailable >= cs->replicas)
    why = "every pod updates in one batch (partition 0, maxUnavailable >= "
          "replicas)";
  if (!why) {
    old_t = lb_rev_template(cur->data);
    new_t = lb_rev_template(upd->data);
    if (!old_t || !new_t) {
      why = "a revision's data does not parse";
    } else {
      struct lb_inplace_diff d;
      char *a = lb_strdup(
          json_object_to_json_string_ext(old_t, JSON_C_TO_STRING_PLAIN));
      char *b = lb_strdup(
          json_object_to_json_string_ext(new_t, JSON_C_TO_STRING_PLAIN));
      memset(&d, 0, sizeof d);
      rc = a && b ? lb_inplace_diff(a, b, &d) : LB_ENOMEM;
      if (rc == LB_EPARSE || (!rc && !d.in_place))
        why = "the revision cannot be updated in place";
      rc = rc == LB_EPARSE ? 0 : rc;
      lb_inplace_diff_release(&d);
      free(a);
      free(b);
    }
  }
  if (!rc && !why &&
      (!cs->template_json || !(spec_t = json_tokener_parse(cs->template_json))))
    why = "spec.template does not parse";
  if (rc)
    goto out;
  if (why) {
    lb_rctx_reasonf(c, "image pre-download skipped for %s: %s", update_rev,
                    why);
    rc = label_revision(c, upd, LB_LABEL_PREDOWNLOAD_IGNORED);
    goto out;
  }
  /* one job per container whose image changed or that is new, in the
   * order of the new template */
  struct json_object *nc = containers_of(new_t), *oc = containers_of(old_t);
  struct lb_buf names = LB_BUF_INIT, kept = LB_BUF_INIT;
  for (size_t i = 0; nc && i < json_object_array_length(nc) && !rc; i++) {
    struct json_object *ctr = json_object_array_get_idx(nc, i);
    const char *name = str_member(ctr, "name"), *img = str_member(ctr, "image");
    const struct lb_obj *ex;
    int changed = 1;
    if (!name || !img)
      continue;
    for (size_t k = 0; oc && k < json_object_array_length(oc); k++) {
      struct json_object *o = json_object_array_get_idx(oc, k);
      const char *on = str_member(o, "name"), *oi = str_member(o, "image");
      if (on && !strcmp(on, name)) {
        changed = !oi || strcmp(oi, img);
        break;
      }
    }
    if (!changed)
      continue;
    char job[600];
    snprintf(job, sizeof job, "%s-%s", update_rev, name);
    if ((ex = lb_rctx_get(c, LB_KIND_IPJ, cs->o.ns, job))) {
      /* the name is taken: upstream's create answers AlreadyExists and
       * goes on; here the state already shows whose it is */
      int ours = ex->owner_uid && !strcmp(ex->owner_uid, cs->o.uid);
      lb_buf_addf(&kept, "%sImagePullJob %s already exists (%s): left as it is",
                  kept.len ? "; " : "", job,
                  ours ? "this CloneSet's" : "not this CloneSet's");
      continue;
    }
    char *body = job_body(cs, upd, job, img, spec_t, &opt);
    if (!body || !lb_rctx_action(c, LB_VERB_CREATE, LB_KIND_IPJ, cs->o.ns, job,
                                 "", body))
      rc = LB_ENOMEM;
    lb_buf_addf(&names, "%s%s (%s)", names.len ? ", " : "", job, img);
  }
  if (!rc)
    rc = label_revision(c, upd, LB_LABEL_PREDOWNLOAD_CREATED);
  if (!rc)
    lb_rctx_reasonf(c,
                    "image pre-download for %s: ImagePullJob %s; parallelism "
                    "%d, timeoutSeconds %d, min updated ready %d (have %d); "
                    "replicas %d, partition %d, maxUnavailable %d%s%s%s%s",
                    update_rev, names.p ? names.p : "(none created)",
                    opt.parallelism, opt.timeout_seconds, opt.min_updated_ready,
                    updated_ready, cs->replicas, partition, max_unavailable,
                    kept.len ? "; " : "", kept.p ? kept.p : "",
                    *opt.notes ? "; " : "", opt.notes);
  if (!rc && (names.err || kept.err))
    rc = LB_ENOMEM;
  lb_buf_release(&names);
  lb_buf_release(&kept);
out:
  json_object_put(old_t);
  json_object_put(new_t);
  json_object_put(spec_t);
  return rc;
}
