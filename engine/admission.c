/* admission.c — the verdict for one admission request (see admission.h).
 *
 *   REVIEW event ──► decode (review.request: uid, kind, resource,
 *   │                subResource, operation, namespace, name, userInfo,
 *   │                dryRun, options, object, oldObject)
 *   ▼
 *   routes[] by body "path" ──► handler: allow / deny (field path, rule,
 *   │                           fix) / JSON Patch ops
 *   ▼
 *   decision: RESPOND (AdmissionReview in the request's apiVersion)
 *             [+ PATCH PodUnavailableBudget/status when a disruption was
 *              recorded in the PUB ledger, pub.h]
 *
 * A new webhook is one line in routes[]; a new pod mutation (SidecarSet
 * injection, WorkloadSpread, launch priority) one line in pod_mutators[];
 * a new CR's validation uses the field-error collector (fielderr.h) as
 * validate_cloneset does. Pure: the clock is ev->at_ms; no environment;
 * every list is walked in the order the JSON or a sort gives. */
#include "admission.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fielderr.h"
#include "inplace.h"
#include "lifecycle.h"
#include "obj.h"
#include "pub.h"
#include "reducer.h"
#include "util.h"

#define LB_LABEL_DELETE_PROTECTION "policy.kruise.io/delete-protection"

/* One request under review. */
struct review {
  struct lb_rctx c;    /* state lookups; c.d is the verdict decision */
  struct lb_event *ev; /* the REVIEW event */
  struct json_object *root, *req;
  const char *path, *api, *uid, *op, *sub, *ns, *name, *user;
  const char *group, *kind, *resource; /* request.kind / resource */
  struct json_object *obj, *old;       /* NULL when absent or null */
  int dry_run;
  /* verdict */
  int denied, code;
  const char *status_reason;
  struct lb_buf msg;  /* denial message */
  struct lb_buf ops;  /* JSON Patch operations, comma-separated */
  struct lb_buf why;  /* decision reason */
  struct lb_pub *pub; /* PUB whose ledger recorded a disruption */
};

/* --- JSON helpers -------------------------------------------------------- */
static struct json_object *jget(struct json_object *o, const char *k) {
  struct json_object *v = NULL;
  if (o && json_object_is_type(o, json_type_object))
    json_object_object_get_ex(o, k, &v);
  return v && !json_object_is_type(v, json_type_null) ? v : NULL;
}
static const char *jstr(struct json_object *o, const char *k) {
  struct json_object *v = jget(o, k);
  return v && json_object_is_type(v, json_type_string)
             ? json_object_get_string(v)
             : "";
}
static const char *label_of(struct json_object *obj, const char *key) {
  struct json_object *l = jget(jget(obj, "metadata"), "labels");
  struct json_object *v = jget(l, key);
  return v && json_object_is_type(v, json_type_string)
             ? json_object_get_string(v)
             : NULL;
}

/* --- verdict helpers ----------------------------------------------------- */
static void whyf(struct review *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void whyf(struct review *r, const char *fmt, ...) {
  char tmp[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  lb_buf_addf(&r->why, "%s%s", r->why.len ? "; " : "", tmp);
}

static void deny(struct review *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void deny(struct review *r, int code, const char *fmt, ...) {
  char tmp[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  r->denied = 1;
  r->code = code;
  r->status_reason = code == 400 ? "BadRequest" : "Forbidden";
  lb_buf_addf(&r->msg, "%s%s", r->msg.len ? "; " : "", tmp);
}

/* JSON pointer of a path segment (RFC 6901: ~ -> ~0, / -> ~1). */
static void add_pointer_seg(struct lb_buf *b, const char *seg) {
  lb_buf_adds(b, "/");
  for (const char *p = seg; *p; p++) {
    if (*p == '~')
      lb_buf_adds(b, "~0");
    else if (*p == '/')
      lb_buf_adds(b, "~1");
    else
      lb_buf_add(b, p, 1);
  }
}

/* Appends {"op":"add","path":<path>,"value":<value_json>}; path is a
 * sequence of segments, NULL-terminated. */
static void patch_add(struct review *r, const char *value_json, ...) {
  va_list ap;
  const char *seg;
  lb_buf_adds(&r->ops, r->ops.len ? ",{\"op\":\"add\",\"path\":\""
                                  : "{\"op\":\"add\",\"path\":\"");
  va_start(ap, value_json);
  while ((seg = va_arg(ap, const char *)))
    add_pointer_seg(&r->ops, seg);
  va_end(ap);
  lb_buf_adds(&r->ops, "\",\"value\":");
  lb_buf_adds(&r->ops, value_json);
  lb_buf_adds(&r->ops, "}");
}

static void base64(struct lb_buf *b, const char *s, size_t n) {
  static const char t[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)(unsigned char)s[i] << 16;
    if (i + 1 < n)
      v |= (unsigned)(unsigned char)s[i + 1] << 8;
    if (i + 2 < n)
      v |= (unsigned char)s[i + 2];
    char q[4] = {t[(v >> 18) & 63], t[(v >> 12) & 63],
                 i + 1 < n ? t[(v >> 6) & 63] : '=',
                 i + 2 < n ? t[v & 63] : '='};
    lb_buf_add(b, q, 4);
  }
}

/* Decodes a review object into a compact object of the engine's kinds
 * (pods created with generateName get a placeholder name). */
static int decode(struct json_object *o, struct lb_obj **out) {
  const char *why;
  struct json_object *meta = jget(o, "metadata");
  *out = NULL;
  if (!o)
    return 0;
  if (meta && !*jstr(meta, "name"))
    json_object_object_add(meta, "name", json_object_new_string("(generated)"));
  int rc = lb_obj_decode(o, out, &why);
  return rc == LB_EPARSE ? 0 : rc;
}

/* --- the pod mutating webhook (§0.3 mpod, CREATE) ------------------------ */
/* The controller ownerReference of obj: group and kind (borrowed). */
static int controller_of(struct json_object *obj, char *group, size_t gn,
                         const char **kind) {
  struct json_object *refs = jget(jget(obj, "metadata"), "ownerReferences");
  size_t n = refs && json_object_is_type(refs, json_type_array)
                 ? json_object_array_length(refs)
                 : 0;
  for (size_t i = 0; i < n; i++) {
    struct json_object *ref = json_object_array_get_idx(refs, i);
    struct json_object *c = jget(ref, "controller");
    if (c && json_object_get_boolean(c)) {
      const char *av = jstr(ref, "apiVersion"), *slash = strchr(av, '/');
      size_t l = slash ? (size_t)(slash - av) : 0;
      if (l >= gn)
        l = gn - 1;
      memcpy(group, av, l);
      group[l] = '\0';
      *kind = jstr(ref, "kind");
      return 1;
    }
  }
  return 0;
}

static int has_gate(struct json_object *rg, const char *type) {
  size_t n = rg && json_object_is_type(rg, json_type_array)
                 ? json_object_array_length(rg)
                 : 0;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(jstr(json_object_array_get_idx(rg, i), "conditionType"), type))
      return 1;
  return 0;
}

/* Readiness gates: InPlaceUpdateReady for pods of in-place capable kruise
 * workloads (§2), KruisePodReady for every pod whose controller is in
 * apps.kruise.io (§1.4). */
static int mut_readiness_gates(struct review *r, const struct lb_pod *pod) {
  char group[128];
  const char *kind = "", *want[2];
  size_t nw = 0;
  struct json_object *spec = jget(r->obj, "spec"),
                     *rg = jget(spec, "readinessGates");
  (void)pod;
  if (!controller_of(r->obj, group, sizeof group, &kind) ||
      strcmp(group, "apps.kruise.io"))
    return 0;
  if ((!strcmp(kind, "CloneSet") || !strcmp(kind, "StatefulSet") ||
       !strcmp(kind, "DaemonSet")) &&
      !has_gate(rg, LB_COND_INPLACE_READY))
    want[nw++] = LB_COND_INPLACE_READY;
  if (!has_gate(rg, LB_COND_KRUISE_POD_READY))
    want[nw++] = LB_COND_KRUISE_POD_READY;
  if (!nw)
    return 0;
  if (!rg) {
    struct lb_buf v = LB_BUF_INIT;
    lb_buf_adds(&v, "[");
    for (size_t i = 0; i < nw; i++)
      lb_buf_addf(&v, "%s{\"conditionType\":\"%s\"}", i ? "," : "", want[i]);
    lb_buf_adds(&v, "]");
    patch_add(r, v.p ? v.p : "[]", "spec", "readinessGates", NULL);
    lb_buf_release(&v);
  } else {
    for (size_t i = 0; i < nw; i++) {
      char v[96];
      snprintf(v, sizeof v, "{\"conditionType\":\"%s\"}", want[i]);
      patch_add(r, v, "spec", "readinessGates", "-", NULL);
    }
  }
  whyf(r, "readiness gate%s %s%s%s (controller %s %s)", nw > 1 ? "s" : "",
       want[0], nw > 1 ? ", " : "", nw > 1 ? want[1] : "", group, kind);
  return 0;
}

/* kruise.io/related-pub when a PodUnavailableBudget covers the pod. */
static int mut_related_pub(struct review *r, const struct lb_pod *pod) {
  struct json_object *ann;
  struct lb_pub *pub;
  char v[512];
  if (!pod || lb_kv_get(pod->annotations, LB_ANNO_RELATED_PUB))
    return 0;
  if (!(pub = lb_pub_for_pod(&r->c, pod)))
    return 0;
  ann = jget(jget(r->obj, "metadata"), "annotations");
  if (!ann) {
    struct lb_buf b = LB_BUF_INIT;
    lb_buf_adds(&b, "{\"" LB_ANNO_RELATED_PUB "\":");
    lb_buf_add_json_str(&b, pub->o.name);
    lb_buf_adds(&b, "}");
    patch_add(r, b.p ? b.p : "{}", "metadata", "annotations", NULL);
    lb_buf_release(&b);
  } else {
    struct lb_buf b = LB_BUF_INIT;
    lb_buf_add_json_str(&b, pub->o.name);
    snprintf(v, sizeof v, "%s", b.p ? b.p : "\"\"");
    lb_buf_release(&b);
    patch_add(r, v, "metadata", "annotations", LB_ANNO_RELATED_PUB, NULL);
  }
  whyf(r, "%s=%s (PodUnavailableBudget covers the pod)", LB_ANNO_RELATED_PUB,
       pub->o.name);
  return 0;
}

/* Ordered as upstream (§0.3 mpod): readiness gates, WorkloadSpread,
 * SidecarSet injection, launch priority, related-pub, ... Each appends
 * JSON Patch operations against the pod as received. */
static const struct pod_mutator {
  const char *name;
  int (*fn)(struct review *r, const struct lb_pod *pod);
} pod_mutators[] = {
    {"readiness-gates", mut_readiness_gates},
    {"related-pub", mut_related_pub},
};

static int mutate_pod(struct review *r) {
  struct lb_obj *o = NULL;
  int rc;
  if (strcmp(r->op, "CREATE") || *r->sub || !r->obj) {
    whyf(r, "pod mutation applies to CREATE only");
    return 0;
  }
  if ((rc = decode(r->obj, &o)))
    return rc;
  struct lb_pod *pod = o && o->kind == LB_KIND_POD ? (struct lb_pod *)o : NULL;
  for (size_t i = 0; i < LB_ARRAY_SIZE(pod_mutators) && !rc; i++)
    rc = pod_mutators[i].fn(r, pod);
  lb_obj_free(o);
  if (!r->ops.len)
    whyf(r, "no pod mutation applies");
  return rc;
}

/* --- PodUnavailableBudget on pods (§7 webhook decrement) ----------------- */
static int dry_run_option(struct json_object *opts) {
  struct json_object *dr = jget(opts, "dryRun");
  return dr && json_object_is_type(dr, json_type_array) &&
         json_object_array_length(dr) > 0;
}

static int pub_verdict(struct review *r, const struct lb_pod *pod, int op) {
  struct lb_buf w = LB_BUF_INIT;
  struct lb_pub *rec = NULL;
  int rc = lb_pub_check(&r->c, pod, op, r->dry_run, &rec, &w);
  if (rc < 0) {
    lb_buf_release(&w);
    return rc;
  }
  if (rc == 0)
    deny(r, 403, "%s", w.p ? w.p : "");
  else
    whyf(r, "%s", w.p ? w.p : "");
  r->pub = rec;
  lb_buf_release(&w);
  return 0;
}

/* Whether an update can make the pod unavailable: spec changed, or an
 * unavailable-pod.kruise.io/ label was added. */
static int unavailable_changed(struct json_object *old,
                               struct json_object *nw) {
  if (!json_object_equal(jget(old, "spec"), jget(nw, "spec")))
    return 1;
  struct json_object *nl = jget(jget(nw, "metadata"), "labels"),
                     *ol = jget(jget(old, "metadata"), "labels");
  if (nl && json_object_is_type(nl, json_type_object)) {
    json_object_object_foreach(nl, k, v) {
      (void)v;
      if (!strncmp(k, "unavailable-pod.kruise.io/", 26) && !jget(ol, k))
        return 1;
    }
  }
  return 0;
}

static int validate_pod(struct review *r) {
  struct lb_obj *o = NULL;
  int rc = 0, op;
  struct json_object *subject;
  if (!strcmp(r->op, "DELETE") && !*r->sub) {
    op = LB_PUB_OP_DELETE;
    subject = r->old;
    r->dry_run |= dry_run_option(jget(r->req, "options"));
    if (!r->c.opts->pub_delete_gate) {
      whyf(r, "PodUnavailableBudgetDeleteGate is off");
      return 0;
    }
  } else if (!strcmp(r->op, "CREATE") && !strcmp(r->sub, "eviction")) {
    op = LB_PUB_OP_EVICT;
    subject = NULL; /* the pod as the engine holds it */
    r->dry_run |= dry_run_option(jget(r->obj, "deleteOptions")) ||
                  dry_run_option(jget(r->req, "options"));
    if (!r->c.opts->pub_delete_gate) {
      whyf(r, "PodUnavailableBudgetDeleteGate is off");
      return 0;
    }
  } else if (!strcmp(r->op, "UPDATE") && !*r->sub) {
    op = LB_PUB_OP_UPDATE;
    subject = r->old;
    r->dry_run |= dry_run_option(jget(r->req, "options"));
    if (!r->c.opts->pub_update_gate) {
      whyf(r, "PodUnavailableBudgetUpdateGate is off");
      return 0;
    }
    const char *np = "";
    struct json_object *ann = jget(jget(r->obj, "metadata"), "annotations");
    if (ann)
      np = jstr(ann, LB_ANNO_RELATED_PUB);
    if (!*np) {
      whyf(r, "updated pod has no %s annotation", LB_ANNO_RELATED_PUB);
      return 0;
    }
    if (!unavailable_changed(r->old, r->obj)) {
      whyf(r, "the update changes neither spec nor unavailable-pod labels");
      return 0;
    }
  } else {
    whyf(r, "%s%s%s of a pod: no policy applies", r->op, *r->sub ? " " : "",
         r->sub);
    return 0;
  }
  if (op == LB_PUB_OP_EVICT) {
    const struct lb_pod *pod =
        (const struct lb_pod *)lb_rctx_get(&r->c, LB_KIND_POD, r->ns, r->name);
    if (!pod) {
      whyf(r, "pod %s/%s is not known to the engine: nothing to protect", r->ns,
           r->name);
      return 0;
    }
    return pub_verdict(r, pod, op);
  }
  if ((rc = decode(subject, &o)))
    return rc;
  if (!o || o->kind != LB_KIND_POD) {
    whyf(r, "no pod in the request's oldObject");
    lb_obj_free(o);
    return 0;
  }
  rc = pub_verdict(r, (struct lb_pod *)o, op);
  lb_obj_free(o);
  return rc;
}

/* --- deletion protection (§6) -------------------------------------------- */
static int is_protected_workload(const char *group, const char *kind) {
  return (!strcmp(group, "apps") &&
          (!strcmp(kind, "Deployment") || !strcmp(kind, "ReplicaSet") ||
           !strcmp(kind, "StatefulSet"))) ||
         (!strcmp(group, "apps.kruise.io") &&
          (!strcmp(kind, "CloneSet") || !strcmp(kind, "StatefulSet") ||
           !strcmp(kind, "UnitedDeployment")));
}

static const char *what(struct review *r, char *buf, size_t n) {
  snprintf(buf, n, "%s %s%s%s", r->kind, *r->ns ? r->ns : "", *r->ns ? "/" : "",
           r->name);
  return buf;
}

static int namespace_in_use(struct review *r, const char *ns) {
  struct lb_obj **v;
  size_t n;
  int pods = 0, pvcs = 0, rc;
  const char *first_pod = NULL, *first_pvc = NULL;
  char w[512];
  if ((rc = lb_rctx_list(&r->c, LB_KIND_POD, ns, &v, &n)))
    return rc;
  for (size_t i = 0; i < n; i++)
    if (lb_pod_active((struct lb_pod *)v[i]) && !pods++)
      first_pod = v[i]->name;
  if (pods)
    deny(r, 403,
         "forbidden by ResourcesProtectionDeletion: %s has label "
         "%s=Cascading and %d active pod(s) (e.g. %s); delete the pods "
         "(and their workloads) first, or remove the label",
         what(r, w, sizeof w), LB_LABEL_DELETE_PROTECTION, pods, first_pod);
  free(v);
  if ((rc = lb_rctx_list(&r->c, LB_KIND_PVC, ns, &v, &n)))
    return rc;
  for (size_t i = 0; i < n; i++)
    if (((struct lb_pvc *)v[i])->bound && !v[i]->deleting_ms && !pvcs++)
      first_pvc = v[i]->name;
  if (pvcs)
    deny(r, 403,
         "forbidden by ResourcesProtectionDeletion: %s has label "
         "%s=Cascading and %d Bound PersistentVolumeClaim(s) (e.g. %s); "
         "delete the claims first, or remove the label",
         what(r, w, sizeof w), LB_LABEL_DELETE_PROTECTION, pvcs, first_pvc);
  free(v);
  if (!pods && !pvcs)
    whyf(r, "Cascading namespace %s holds no active pod and no Bound PVC", ns);
  return 0;
}

static int crd_in_use(struct review *r) {
  struct json_object *spec = jget(r->old, "spec");
  const char *group = jstr(spec, "group"),
             *kind = jstr(jget(spec, "names"), "kind");
  char w[512];
  if (!r->c.opts->crd_cascading) {
    deny(r, 403,
         "forbidden by ResourcesProtectionDeletion: %s has label "
         "%s=Cascading, which for a CustomResourceDefinition needs the "
         "feature gate DeletionProtectionForCRDCascadingGate (off); remove "
         "the label or set it to Always",
         what(r, w, sizeof w), LB_LABEL_DELETE_PROTECTION);
    return 0;
  }
  int k = lb_kind_of(group, kind);
  if (!k) {
    deny(r, 403,
         "forbidden by ResourcesProtectionDeletion: %s has label "
         "%s=Cascading, and logbook does not track %s.%s objects, so it "
         "cannot tell whether any remain; delete them and remove the label",
         what(r, w, sizeof w), LB_LABEL_DELETE_PROTECTION, kind, group);
    return 0;
  }
  struct lb_obj **v;
  size_t n, live = 0;
  const char *first = NULL;
  int rc = lb_rctx_list(&r->c, k, NULL, &v, &n);
  if (rc)
    return rc;
  for (size_t i = 0; i < n; i++)
    if (!v[i]->deleting_ms && !live++)
      first = v[i]->name;
  if (live)
    deny(r, 403,
         "forbidden by ResourcesProtectionDeletion: %s has label "
         "%s=Cascading and %zu %s object(s) are not terminating (e.g. %s); "
         "delete them first, or remove the label",
         what(r, w, sizeof w), LB_LABEL_DELETE_PROTECTION, live, kind, first);
  else
    whyf(r, "Cascading CRD: no %s object remains", kind);
  free(v);
  return 0;
}

static int protect_deletion(struct review *r) {
  char w[512];
  const char *mode;
  if (!r->c.opts->deletion_protection) {
    whyf(r, "ResourcesDeletionProtection is off");
    return 0;
  }
  if (!r->old) {
    whyf(r, "DELETE without oldObject: nothing to check");
    return 0;
  }
  if (*jstr(jget(r->old, "metadata"), "deletionTimestamp")) {
    whyf(r, "%s is already being deleted", what(r, w, sizeof w));
    return 0;
  }
  mode = label_of(r->old, LB_LABEL_DELETE_PROTECTION);
  if (!mode || (strcmp(mode, "Always") && strcmp(mode, "Cascading"))) {
    whyf(r, "%s has no %s label of Always or Cascading", what(r, w, sizeof w),
         LB_LABEL_DELETE_PROTECTION);
    return 0;
  }
  if (!strcmp(mode, "Always")) {
    deny(r, 403,
         "forbidden by ResourcesProtectionDeletion: %s has label %s=Always; "
         "remove the label to delete it (kubectl label %s %s %s-)",
         what(r, w, sizeof w), LB_LABEL_DELETE_PROTECTION, r->resource, r->name,
         LB_LABEL_DELETE_PROTECTION);
    return 0;
  }
  if (is_protected_workload(r->group, r->kind)) {
    struct json_object *rep = jget(jget(r->old, "spec"), "replicas");
    int64_t n = rep ? json_object_get_int64(rep) : 1;
    if (n > 0)
      deny(r, 403,
           "forbidden by ResourcesProtectionDeletion: %s has label "
           "%s=Cascading and spec.replicas %lld > 0; scale it to 0 first "
           "(kubectl scale %s %s --replicas=0) or remove the label",
           what(r, w, sizeof w), LB_LABEL_DELETE_PROTECTION, (long long)n,
           r->resource, r->name);
    else
      whyf(r, "Cascading %s has spec.replicas 0", r->kind);
    return 0;
  }
  if (!*r->group && !strcmp(r->kind, "Namespace"))
    return namespace_in_use(r, r->name);
  if (!strcmp(r->group, "apiextensions.k8s.io") &&
      !strcmp(r->kind, "CustomResourceDefinition"))
    return crd_in_use(r);
  whyf(r, "%s: Cascading protects only workloads, namespaces and CRDs",
       r->kind);
  return 0;
}

static int validate_deletion(struct review *r) {
  if (strcmp(r->op, "DELETE")) {
    whyf(r, "deletion protection checks DELETE only");
    return 0;
  }
  return protect_deletion(r);
}

/* --- CloneSet defaulting (§3.1) and validation --------------------------- */
static int mutate_cloneset(struct review *r) {
  struct json_object *spec, *us, *tspec;
  if ((strcmp(r->op, "CREATE") && strcmp(r->op, "UPDATE")) || !r->obj) {
    whyf(r, "CloneSet defaults apply on CREATE and UPDATE");
    return 0;
  }
  if (!(spec = jget(r->obj, "spec"))) {
    whyf(r, "no spec: validation will refuse it");
    return 0;
  }
  if (!jget(spec, "replicas"))
    patch_add(r, "1", "spec", "replicas", NULL);
  if (!jget(spec, "revisionHistoryLimit"))
    patch_add(r, "10", "spec", "revisionHistoryLimit", NULL);
  us = jget(spec, "updateStrategy");
  const char *type = *jstr(us, "type") ? jstr(us, "type") : "ReCreate";
  int in_place =
      !strcmp(type, "InPlaceIfPossible") || !strcmp(type, "InPlaceOnly");
  if (!us) {
    patch_add(r,
              "{\"type\":\"ReCreate\",\"partition\":0,"
              "\"maxUnavailable\":\"20%\",\"maxSurge\":0}",
              "spec", "updateStrategy", NULL);
  } else {
    if (!*jstr(us, "type"))
      patch_add(r, "\"ReCreate\"", "spec", "updateStrategy", "type", NULL);
    if (!jget(us, "partition"))
      patch_add(r, "0", "spec", "updateStrategy", "partition", NULL);
    if (!jget(us, "maxUnavailable"))
      patch_add(r, "\"20%\"", "spec", "updateStrategy", "maxUnavailable", NULL);
    if (!jget(us, "maxSurge"))
      patch_add(r, "0", "spec", "updateStrategy", "maxSurge", NULL);
    if (in_place && !jget(us, "inPlaceUpdateStrategy"))
      patch_add(r, "{}", "spec", "updateStrategy", "inPlaceUpdateStrategy",
                NULL);
  }
  /* pod template defaults (upstream core defaults, pod level), on create
   * and when the template changed */
  tspec = jget(jget(spec, "template"), "spec");
  int tmpl_changed = !strcmp(r->op, "CREATE") ||
                     !json_object_equal(jget(jget(r->old, "spec"), "template"),
                                        jget(spec, "template"));
  if (tspec && tmpl_changed) {
    if (!jget(tspec, "restartPolicy"))
      patch_add(r, "\"Always\"", "spec", "template", "spec", "restartPolicy",
                NULL);
    if (!jget(tspec, "dnsPolicy"))
      patch_add(r, "\"ClusterFirst\"", "spec", "template", "spec", "dnsPolicy",
                NULL);
    if (!jget(tspec, "schedulerName"))
      patch_add(r, "\"default-scheduler\"", "spec", "template", "spec",
                "schedulerName", NULL);
    if (!jget(tspec, "terminationGracePeriodSeconds"))
      patch_add(r, "30", "spec", "template", "spec",
                "terminationGracePeriodSeconds", NULL);
  }
  whyf(r, r->ops.len ? "CloneSet defaults applied"
                     : "CloneSet defaults "
                       "already present");
  return 0;
}

static void validate_priority(struct lb_ferrs *fe, struct json_object *ps) {
  struct json_object *wp = jget(ps, "weightPriority"),
                     *op = jget(ps, "orderPriority");
  char p[160];
  if (wp && op)
    lb_ferr_add(fe, LB_FE_INVALID, "spec.updateStrategy.priorityStrategy",
                "weightPriority and orderPriority are both set: use only "
                "one of them");
  size_t n = wp && json_object_is_type(wp, json_type_array)
                 ? json_object_array_length(wp)
                 : 0;
  for (size_t i = 0; i < n; i++) {
    struct json_object *t = json_object_array_get_idx(wp, i);
    struct json_object *w = jget(t, "weight"), *ms = jget(t, "matchSelector");
    snprintf(p, sizeof p,
             "spec.updateStrategy.priorityStrategy.weightPriority[%zu]", i);
    if (!w || !json_object_is_type(w, json_type_int) ||
        json_object_get_int64(w) < 0 || json_object_get_int64(w) > 100)
      lb_ferr_add(fe, LB_FE_INVALID, p,
                  "weight must be an integer between 0 and 100");
    if (!ms || (!jget(ms, "matchLabels") && !jget(ms, "matchExpressions")))
      lb_ferr_add(fe, LB_FE_REQUIRED, p,
                  "matchSelector must be a non-empty label selector");
  }
  n = op && json_object_is_type(op, json_type_array)
          ? json_object_array_length(op)
          : 0;
  for (size_t i = 0; i < n; i++) {
    snprintf(p, sizeof p,
             "spec.updateStrategy.priorityStrategy.orderPriority[%zu]."
             "orderedKey",
             i);
    if (!*jstr(json_object_array_get_idx(op, i), "orderedKey"))
      lb_ferr_add(fe, LB_FE_REQUIRED, p, "orderedKey must be a label key");
  }
}

static void validate_scatter(struct lb_ferrs *fe, struct json_object *ss) {
  size_t n = ss && json_object_is_type(ss, json_type_array)
                 ? json_object_array_length(ss)
                 : 0;
  char p[128];
  for (size_t i = 0; i < n; i++) {
    struct json_object *t = json_object_array_get_idx(ss, i);
    snprintf(p, sizeof p, "spec.updateStrategy.scatterStrategy[%zu]", i);
    if (!*jstr(t, "key") || !*jstr(t, "value"))
      lb_ferr_add(fe, LB_FE_REQUIRED, p, "key and value must be non-empty");
    for (size_t j = 0; j < i; j++) {
      struct json_object *u = json_object_array_get_idx(ss, j);
      if (!strcmp(jstr(t, "key"), jstr(u, "key")) &&
          !strcmp(jstr(t, "value"), jstr(u, "value")))
        lb_ferr_add(fe, LB_FE_DUPLICATE, p, "%s=%s repeats term %zu",
                    jstr(t, "key"), jstr(t, "value"), j);
    }
  }
}

/* The CloneSet spec rules of §3.1; fe collects every failure. */
static int cloneset_rules(struct json_object *obj, struct json_object *old,
                          struct lb_ferrs *fe) {
  struct json_object *spec = jget(obj, "spec"), *sel = jget(spec, "selector"),
                     *tmpl = jget(spec, "template"),
                     *us = jget(spec, "updateStrategy"),
                     *ss = jget(spec, "scaleStrategy");
  struct json_object *rep = jget(spec, "replicas");
  struct lb_intstr part, mu, ms, smu;
  int64_t replicas = 1;
  if (!spec) {
    lb_ferr_add(fe, LB_FE_REQUIRED, "spec", "a CloneSet needs a spec");
    return 0;
  }
  if (rep && !json_object_is_type(rep, json_type_int))
    lb_ferr_add(fe, LB_FE_INVALID, "spec.replicas", "must be an integer");
  else if (rep && (replicas = json_object_get_int64(rep)) < 0)
    lb_ferr_add(fe, LB_FE_INVALID, "spec.replicas",
                "%lld: must be greater than or equal to 0",
                (long long)replicas);
  /* selector: required, non-empty, valid, matching the template labels */
  if (!sel) {
    lb_ferr_add(fe, LB_FE_REQUIRED, "spec.selector",
                "a CloneSet needs a selector matching its template labels");
  } else if (!lb_ferr_selector(fe, "spec.selector", sel)) {
    struct json_object *ml = jget(sel, "matchLabels"),
                       *me = jget(sel, "matchExpressions");
    if ((!ml || !json_object_object_length(ml)) &&
        (!me || !json_object_array_length(me))) {
      lb_ferr_add(fe, LB_FE_INVALID, "spec.selector",
                  "empty selector is invalid for a CloneSet: add matchLabels");
    } else if (tmpl) {
      /* the engine's own selector matching, on a probe CloneSet whose
       * labels are the template's */
      struct json_object *wrap = json_object_new_object();
      struct json_object *tl = jget(jget(tmpl, "metadata"), "labels");
      struct lb_obj *probe = NULL;
      const char *why = NULL;
      if (!wrap)
        return LB_ENOMEM;
      json_object_object_add(wrap, "apiVersion",
                             json_object_new_string("apps.kruise.io/v1alpha1"));
      json_object_object_add(wrap, "kind", json_object_new_string("CloneSet"));
      struct json_object *m = json_object_new_object(),
                         *sp = json_object_new_object();
      json_object_object_add(m, "name", json_object_new_string("probe"));
      if (tl)
        json_object_object_add(m, "labels", json_object_get(tl));
      json_object_object_add(wrap, "metadata", m);
      json_object_object_add(sp, "selector", json_object_get(sel));
      json_object_object_add(sp, "template", json_object_new_object());
      json_object_object_add(wrap, "spec", sp);
      int rc = lb_obj_decode(wrap, &probe, &why);
      json_object_put(wrap);
      if (rc == LB_ENOMEM)
        return rc;
      if (probe && probe->kind == LB_KIND_CLONESET &&
          !lb_selector_matches(&((struct lb_cloneset *)probe)->selector,
                               probe->labels))
        lb_ferr_add(fe, LB_FE_INVALID, "spec.template.metadata.labels",
                    "`selector` does not match template `labels`: every "
                    "selector term must hold for the template's labels");
      lb_obj_free(probe);
    }
  }
  if (old && !json_object_equal(jget(jget(old, "spec"), "selector"), sel))
    lb_ferr_add(fe, LB_FE_FORBIDDEN, "spec.selector",
                "field is immutable: delete and recreate the CloneSet to "
                "change it");
  /* template */
  if (!tmpl) {
    lb_ferr_add(fe, LB_FE_REQUIRED, "spec.template",
                "a CloneSet needs a pod template");
  } else {
    struct json_object *tspec = jget(tmpl, "spec");
    const char *rp = jstr(tspec, "restartPolicy");
    if (*rp && strcmp(rp, "Always"))
      lb_ferr_add(fe, LB_FE_UNSUPPORTED, "spec.template.spec.restartPolicy",
                  "\"%s\": supported values: \"Always\"", rp);
    if (jget(tspec, "activeDeadlineSeconds"))
      lb_ferr_add(fe, LB_FE_FORBIDDEN,
                  "spec.template.spec.activeDeadlineSeconds",
                  "activeDeadlineSeconds in a CloneSet is not supported: "
                  "remove it");
  }
  /* updateStrategy */
  const char *type = jstr(us, "type");
  if (*type && strcmp(type, "ReCreate") && strcmp(type, "InPlaceIfPossible") &&
      strcmp(type, "InPlaceOnly"))
    lb_ferr_add(fe, LB_FE_UNSUPPORTED, "spec.updateStrategy.type",
                "\"%s\": supported values: \"ReCreate\", "
                "\"InPlaceIfPossible\", \"InPlaceOnly\"",
                type);
  int e1 = lb_ferr_intstr(fe, "spec.updateStrategy.partition",
                          jget(us, "partition"), &part);
  int e2 = lb_ferr_intstr(fe, "spec.updateStrategy.maxUnavailable",
                          jget(us, "maxUnavailable"), &mu);
  int e3 = lb_ferr_intstr(fe, "spec.updateStrategy.maxSurge",
                          jget(us, "maxSurge"), &ms);
  lb_ferr_intstr(fe, "spec.scaleStrategy.maxUnavailable",
                 jget(ss, "maxUnavailable"), &smu);
  (void)e1;
  if (!e3 && ms.set && ms.val > 0 && !strcmp(type, "InPlaceOnly"))
    lb_ferr_add(fe, LB_FE_INVALID, "spec.updateStrategy.maxSurge",
                "%d%s: must be 0 with updateStrategy.type InPlaceOnly (an "
                "in-place update creates no surge pod)",
                ms.val, ms.is_pct ? "%" : "");
  if (!e2 && !e3 && replicas > 0) {
    if (!mu.set)
      mu = (struct lb_intstr){1, 1, 20};
    int surge = lb_intstr_resolve(&ms, (int)replicas, 1);
    int unav = lb_intstr_resolve(&mu, (int)replicas, surge == 0);
    if (unav < 1 && surge < 1)
      lb_ferr_add(fe, LB_FE_INVALID, "spec.updateStrategy.maxUnavailable",
                  "maxUnavailable resolves to %d and maxSurge to %d for %lld "
                  "replicas: they may not both be less than 1, or no pod "
                  "could ever be updated; raise one of them",
                  unav, surge, (long long)replicas);
  }
  validate_priority(fe, jget(us, "priorityStrategy"));
  validate_scatter(fe, jget(us, "scatterStrategy"));
  /* scaleStrategy.podsToDelete: no duplicates */
  struct json_object *ptd = jget(ss, "podsToDelete");
  size_t n = ptd && json_object_is_type(ptd, json_type_array)
                 ? json_object_array_length(ptd)
                 : 0;
  for (size_t i = 0; i < n; i++) {
    const char *a = json_object_get_string(json_object_array_get_idx(ptd, i));
    for (size_t j = 0; j < i; j++) {
      const char *b = json_object_get_string(json_object_array_get_idx(ptd, j));
      if (a && b && !strcmp(a, b)) {
        char p[96];
        snprintf(p, sizeof p, "spec.scaleStrategy.podsToDelete[%zu]", i);
        lb_ferr_add(fe, LB_FE_DUPLICATE, p, "\"%s\" is listed twice", a);
        break;
      }
    }
  }
  static const char *const nonneg[] = {"revisionHistoryLimit",
                                       "minReadySeconds"};
  for (size_t i = 0; i < LB_ARRAY_SIZE(nonneg); i++) {
    struct json_object *v = jget(spec, nonneg[i]);
    char p[64];
    snprintf(p, sizeof p, "spec.%s", nonneg[i]);
    if (v && (!json_object_is_type(v, json_type_int) ||
              json_object_get_int64(v) < 0))
      lb_ferr_add(fe, LB_FE_INVALID, p,
                  "must be an integer greater than or equal to 0");
  }
  return 0;
}

static int refuse_invalid(struct review *r, struct lb_ferrs *fe) {
  if (fe->msg.err)
    return LB_ENOMEM;
  if (fe->n)
    deny(r, 403, "%s %s is invalid: %s", r->kind, r->name,
         fe->msg.p ? fe->msg.p : "");
  else
    whyf(r, "%s spec valid", r->kind);
  return 0;
}

static int validate_cloneset(struct review *r) {
  struct lb_ferrs fe = LB_FERRS_INIT;
  int rc;
  if (!strcmp(r->op, "DELETE"))
    return protect_deletion(r);
  if ((strcmp(r->op, "CREATE") && strcmp(r->op, "UPDATE")) || !r->obj) {
    whyf(r, "%s of a CloneSet: nothing to validate", r->op);
    return 0;
  }
  rc = cloneset_rules(r->obj, !strcmp(r->op, "UPDATE") ? r->old : NULL, &fe);
  if (!rc)
    rc = refuse_invalid(r, &fe);
  lb_ferrs_release(&fe);
  return rc;
}

static int validate_pub(struct review *r) {
  struct lb_ferrs fe = LB_FERRS_INIT;
  int rc;
  if ((strcmp(r->op, "CREATE") && strcmp(r->op, "UPDATE")) || !r->obj) {
    whyf(r, "%s of a PodUnavailableBudget: nothing to validate", r->op);
    return 0;
  }
  rc = lb_pub_validate(&r->c, r->obj, !strcmp(r->op, "UPDATE") ? r->old : NULL,
                       &fe);
  if (!rc)
    rc = refuse_invalid(r, &fe);
  lb_ferrs_release(&fe);
  return rc;
}

/* --- dispatch ------------------------------------------------------------ */
static const struct route {
  const char *path;
  int (*fn)(struct review *r);
} routes[] = {
    {"/mutate-pod", mutate_pod},
    {"/validate-pod", validate_pod},
    {"/validate-pod-eviction", validate_pod},
    {"/mutate-apps-kruise-io-v1alpha1-cloneset", mutate_cloneset},
    {"/validate-apps-kruise-io-v1alpha1-cloneset", validate_cloneset},
    {"/validate-policy-kruise-io-v1alpha1-podunavailablebudget", validate_pub},
    {"/validate-builtin-deletion-protection", validate_deletion},
};

/* Reads the envelope; returns 0 when the review is well formed. */
static int read_review(struct review *r) {
  struct json_object *review = NULL, *kind, *res, *dr;
  r->root = r->ev->body ? json_tokener_parse(r->ev->body) : NULL;
  r->path = jstr(r->root, "path");
  review = jget(r->root, "review");
  r->api = jstr(review, "apiVersion");
  if (strcmp(r->api, "admission.k8s.io/v1") &&
      strcmp(r->api, "admission.k8s.io/v1beta1"))
    r->api = "admission.k8s.io/v1";
  r->req = jget(review, "request");
  r->uid = *jstr(r->req, "uid") ? jstr(r->req, "uid")
                                : (r->ev->uid ? r->ev->uid : "");
  r->op = jstr(r->req, "operation");
  r->sub = jstr(r->req, "subResource");
  r->ns = jstr(r->req, "namespace");
  r->name = jstr(r->req, "name");
  r->user = jstr(jget(r->req, "userInfo"), "username");
  kind = jget(r->req, "kind");
  res = jget(r->req, "resource");
  r->group = jstr(kind, "group");
  r->kind = jstr(kind, "kind");
  r->resource = *jstr(res, "resource") ? jstr(res, "resource") : r->kind;
  r->obj = jget(r->req, "object");
  r->old = jget(r->req, "oldObject");
  dr = jget(r->req, "dryRun");
  r->dry_run = dr && json_object_get_boolean(dr);
  if (!*r->name) /* e.g. CREATE with generateName */
    r->name = jstr(jget(r->obj, "metadata"), "name");
  if (!r->root || !r->req || !*r->op)
    return -1;
  return 0;
}

static int respond(struct review *r, struct lb_buf *out) {
  lb_buf_adds(out, "{\"apiVersion\":");
  lb_buf_add_json_str(out, r->api);
  lb_buf_adds(out, ",\"kind\":\"AdmissionReview\",\"response\":{\"uid\":");
  lb_buf_add_json_str(out, r->uid);
  if (r->denied) {
    lb_buf_addf(out,
                ",\"allowed\":false,\"status\":{\"code\":%d,\"reason\":\"%s\","
                "\"message\":",
                r->code, r->status_reason);
    lb_buf_add_json_str(out, r->msg.p ? r->msg.p : "");
    lb_buf_adds(out, "}}}");
  } else if (r->ops.len) {
    struct lb_buf patch = LB_BUF_INIT;
    lb_buf_adds(&patch, "[");
    lb_buf_add(&patch, r->ops.p, r->ops.len);
    lb_buf_adds(&patch, "]");
    lb_buf_adds(out, ",\"allowed\":true,\"patchType\":\"JSONPatch\","
                     "\"patch\":\"");
    if (patch.p)
      base64(out, patch.p, patch.len);
    lb_buf_adds(out, "\"}}");
    if (patch.err)
      out->err = patch.err;
    lb_buf_release(&patch);
  } else {
    lb_buf_adds(out, ",\"allowed\":true}}");
  }
  return out->err;
}

static int fill_action(struct lb_action *a, const char *uid, char *body) {
  memset(a, 0, sizeof *a);
  a->verb = LB_VERB_RESPOND;
  a->api_group = lb_strdup("admission.k8s.io");
  a->kind = lb_strdup("AdmissionReview");
  a->ns = lb_strdup("");
  a->name = lb_strdup(uid);
  a->sub = lb_strdup("");
  a->uid = lb_strdup("");
  a->body = body;
  return a->api_group && a->kind && a->ns && a->name && a->sub && a->uid &&
                 a->body
             ? 0
             : LB_ENOMEM;
}

int lb_admission_review(struct lb_engine *e, struct lb_event *ev,
                        struct lb_decisions *out) {
  struct review r;
  struct lb_decision d;
  struct lb_buf resp = LB_BUF_INIT, reason = LB_BUF_INIT;
  char owner_key[800] = "";
  int rc = 0;
  memset(&r, 0, sizeof r);
  memset(&d, 0, sizeof d);
  r.ev = ev;
  lb_rctx_init(&r.c, e, ev, &d);
  if (read_review(&r)) {
    deny(&r, 400,
         "logbook could not read this AdmissionReview (%s): it needs "
         "request.uid, request.operation and the webhook path",
         !r.root  ? "body is not JSON"
         : !r.req ? "no request"
                  : "no operation");
  } else {
    const struct route *route = NULL;
    for (size_t i = 0; i < LB_ARRAY_SIZE(routes) && !route; i++)
      if (!strcmp(routes[i].path, r.path))
        route = &routes[i];
    if (route)
      rc = route->fn(&r);
    else
      whyf(&r, "no admission policy is registered for %s",
           *r.path ? r.path : "(no path)");
  }
  if (rc)
    goto out;
  /* RESPOND first (admission.h), then the PUB status the verdict wrote */
  if ((rc = respond(&r, &resp)))
    goto out;
  d.actions = calloc(1, sizeof *d.actions);
  if (!d.actions) {
    rc = LB_ENOMEM;
    goto out;
  }
  d.n_actions = 1;
  if ((rc = fill_action(&d.actions[0], r.uid, lb_buf_detach(&resp, NULL))))
    goto out;
  if (r.pub) {
    struct lb_pub_calc k;
    if ((rc = lb_pub_calc(&r.c, r.pub, &k)))
      goto out;
    char *body = lb_pub_status_patch(r.pub, &k);
    lb_pub_calc_release(&k);
    if (!body || !lb_rctx_action(&r.c, LB_VERB_PATCH, LB_KIND_PUB, r.pub->o.ns,
                                 r.pub->o.name, "status", body)) {
      rc = LB_ENOMEM;
      goto out;
    }
    snprintf(owner_key, sizeof owner_key, "%s/%s/%s", lb_kind_name(LB_KIND_PUB),
             r.pub->o.ns, r.pub->o.name);
  }
  lb_buf_addf(&reason, "%s %s %s%s%s %s%s%s by %s: %s", r.path, r.op, r.kind,
              *r.sub ? "/" : "", r.sub, *r.ns ? r.ns : "", *r.ns ? "/" : "",
              r.name, *r.user ? r.user : "(unknown)",
              r.denied ? "denied" : "allowed");
  if (r.denied)
    lb_buf_addf(&reason, " (%d): %s", r.code, r.msg.p ? r.msg.p : "");
  if (r.why.len)
    lb_buf_addf(&reason, "%s%s", r.denied ? "; " : ": ", r.why.p);
  if (r.dry_run)
    lb_buf_adds(&reason, " [dry run]");
  d.reducer = lb_strdup("admission");
  d.kind = lb_strdup(ev->kind ? ev->kind : "");
  d.ns = lb_strdup(ev->ns ? ev->ns : "");
  d.name = lb_strdup(ev->name ? ev->name : "");
  d.reason = lb_buf_detach(&reason, NULL);
  if (!d.reducer || !d.kind || !d.ns || !d.name || !d.reason) {
    rc = LB_ENOMEM;
    goto out;
  }
  rc = lb_engine_emit(e, ev, &d, *owner_key ? owner_key : NULL,
                      r.pub ? &r.pub->o : NULL, out);
  /* the PUB reconciles in this fold too: it arms the ledger's expiry */
  if (!rc && r.pub)
    rc = lb_rctx_mark(&r.c, &r.pub->o);
out:
  json_object_put(r.root);
  lb_buf_release(&resp);
  lb_buf_release(&reason);
  lb_buf_release(&r.msg);
  lb_buf_release(&r.ops);
  lb_buf_release(&r.why);
  lb_buf_release(&r.c.reason);
  lb_decision_release(&d);
  return rc;
}
