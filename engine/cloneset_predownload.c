/* cloneset_predownload.c — image pre-download for in-place updates
 * (kruise-spec §2 "Image pre-download", gate PreDownloadImageForInPlaceUpdate,
 * §16.1 scenario 14): while a CloneSet rolls to a new revision in place,
 * one apps.kruise.io/v1alpha1 ImagePullJob per changed container, named
 * <update-revision>-<container>, pulls the new image onto the nodes that
 * run pods not yet at the update revision. The update revision is then
 * labelled apps.kruise.io/pre-predownload-created (or, when pre-download
 * does not apply, apps.kruise.io/image-predownload-ignored) so it is
 * decided once per revision.
 *
 *   revision unlabelled ──ReCreate, replicas <= 3, one batch, or not in
 *   │                     place──► patch label image-predownload-ignored
 *   └──otherwise──► create the jobs + patch label pre-predownload-created
 *
 * Deleting the jobs once the revisions converge is not done (ImagePullJob
 * is not a kind the engine follows); upstream's jobs also carry
 * ttlSecondsAfterFinished 600. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloneset.h"
#include "err.h"
#include "inplace.h"
#include "reducer.h"
#include "revision.h"

#define MIN_REPLICAS 3 /* upstream minimumReplicasToPreDownloadImage */

/* The template of revision rev's data ("{"spec":{"template":{...}}}"). */
static struct json_object *template_of(const struct lb_crev *cr) {
  struct json_object *d = json_tokener_parse(cr->data), *spec, *t;
  if (!d || !json_object_object_get_ex(d, "spec", &spec) ||
      !json_object_object_get_ex(spec, "template", &t)) {
    json_object_put(d);
    return NULL;
  }
  json_object_get(t);
  json_object_put(d);
  json_object_object_del(t, "$patch");
  return t;
}

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

/* An action on a kind the engine does not model: group/kind as given. */
static struct lb_action *action_on(struct lb_rctx *c, int verb,
                                   const char *group, const char *kind,
                                   const char *ns, const char *name,
                                   char *body) {
  struct lb_action *a =
      lb_rctx_action(c, verb, LB_KIND_CREV, ns, name, "", body);
  if (!a)
    return NULL;
  free(a->api_group);
  free(a->kind);
  a->api_group = lb_strdup(group);
  a->kind = lb_strdup(kind);
  return a->api_group && a->kind ? a : NULL;
}

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

/* The ImagePullJob body (upstream CreateJobForWorkload). */
static char *job_body(const struct lb_cloneset *cs, const struct lb_crev *upd,
                      const char *name, const char *image,
                      struct json_object *tmpl) {
  struct lb_buf b = LB_BUF_INIT;
  const char *hash = lb_rev_short_hash(upd->o.name);
  struct json_object *meta, *labels = NULL, *spec, *secrets = NULL;
  lb_buf_adds(&b, "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":"
                  "\"ImagePullJob\",\"metadata\":{\"name\":");
  lb_buf_add_json_str(&b, name);
  lb_buf_adds(&b, ",\"namespace\":");
  lb_buf_add_json_str(&b, cs->o.ns);
  /* labels: the template's, plus the revision hash */
  lb_buf_adds(&b, ",\"labels\":{");
  if (json_object_object_get_ex(tmpl, "metadata", &meta) &&
      json_object_object_get_ex(meta, "labels", &labels) &&
      json_object_is_type(labels, json_type_object)) {
    json_object_object_foreach(labels, k, v) {
      if (!strcmp(k, "controller.kubernetes.io/hash") ||
          !json_object_is_type(v, json_type_string))
        continue;
      lb_buf_add_json_str(&b, k);
      lb_buf_adds(&b, ":");
      lb_buf_add_json_str(&b, json_object_get_string(v));
      lb_buf_adds(&b, ",");
    }
  }
  lb_buf_adds(&b, "\"controller.kubernetes.io/hash\":");
  lb_buf_add_json_str(&b, hash);
  lb_buf_adds(&b, "},\"ownerReferences\":[{\"apiVersion\":\"apps.kruise.io/"
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
  lb_buf_adds(&b, "]}]},\"parallelism\":1,\"pullPolicy\":{\"backoffLimit\":1,"
                  "\"timeoutSeconds\":300},\"completionPolicy\":{\"type\":"
                  "\"Always\",\"ttlSecondsAfterFinished\":600}");
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
  lb_buf_adds(&b, "}}");
  return b.err ? (lb_buf_release(&b), NULL) : lb_buf_detach(&b, NULL);
}

int lb__cs_predownload(struct lb_rctx *c, struct lb_cloneset *cs,
                       const char *current_rev, const char *update_rev) {
  struct lb_crev *cur, *upd;
  struct json_object *old_t = NULL, *new_t = NULL;
  const char *why = NULL;
  int rc = 0;
  if (!strcmp(current_rev, update_rev) || cs->inflight_revs)
    return 0;
  upd = (struct lb_crev *)lb_rctx_get(c, LB_KIND_CREV, cs->o.ns, update_rev);
  cur = (struct lb_crev *)lb_rctx_get(c, LB_KIND_CREV, cs->o.ns, current_rev);
  if (!upd || !cur || lb_kv_get(upd->o.labels, LB_LABEL_PREDOWNLOAD_CREATED) ||
      lb_kv_get(upd->o.labels, LB_LABEL_PREDOWNLOAD_IGNORED))
    return 0;
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
    old_t = template_of(cur);
    new_t = template_of(upd);
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
  struct lb_buf names = LB_BUF_INIT;
  for (size_t i = 0; nc && i < json_object_array_length(nc) && !rc; i++) {
    struct json_object *ctr = json_object_array_get_idx(nc, i);
    const char *name = str_member(ctr, "name"), *img = str_member(ctr, "image");
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
    char *body = job_body(cs, upd, job, img, new_t);
    if (!body || !action_on(c, LB_VERB_CREATE, "apps.kruise.io", "ImagePullJob",
                            cs->o.ns, job, body))
      rc = LB_ENOMEM;
    lb_buf_addf(&names, "%s%s (%s)", names.len ? ", " : "", job, img);
  }
  if (!rc)
    rc = label_revision(c, upd, LB_LABEL_PREDOWNLOAD_CREATED);
  if (!rc)
    lb_rctx_reasonf(c,
                    "image pre-download for %s: ImagePullJob %s; replicas %d, "
                    "partition %d, maxUnavailable %d",
                    update_rev, names.p ? names.p : "(no image changed)",
                    cs->replicas, partition, max_unavailable);
  lb_buf_release(&names);
out:
  json_object_put(old_t);
  json_object_put(new_t);
  return rc;
}
