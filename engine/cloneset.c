/* cloneset.c — the CloneSet reducer (kruise-spec §3): revisions, scale,
 * refresh, ReCreate update and status, in one level-triggered reconcile.
 * The arithmetic and orderings live in cloneset_calc.c; the pod lifecycle
 * diagram is in cloneset.h. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cloneset.h"
#include "err.h"
#include "inplace.h"
#include "lifecycle.h"
#include "map.h"
#include "podorder.h"
#include "pub.h"
#include "pvc.h"
#include "reducer.h"
#include "revision.h"

static const char id_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

struct rec {
  struct lb_rctx *c;
  struct lb_cloneset *cs;
  char update_rev[300], current_rev[300];
  char *rev_data; /* revision data of the template (malloc'd) */
  int collision_count;
  struct lb_cs_podinfo *pi; /* active pods (none on the fast path) */
  size_t n;
  int n_active; /* active pods: r->n, or the aggregates' count */
  /* fast path: no pod needs a look in this reconcile, so pi is empty and
   * every count comes from the aggregates the fold keeps (cloneset_agg.c) */
  const struct lb_cs_agg *agg;
  int inactive; /* owned pods terminating or finished */
  struct lb_cs_calc calc;
  struct lb_cs_status st; /* computed status (borrowed strings) */
  char *label_selector;
  int ranked; /* node ranks computed (only scale-in ordering needs them) */
  int preparing_update_as_update; /* gate label on the CloneSet */
  const char *cond_type;          /* FailedScale / FailedUpdate, or NULL */
  char *cond_message;             /* its message (malloc'd) */
};

static int label_true(const struct lb_cloneset *cs, const char *key) {
  const char *v = lb_kv_get(cs->o.labels, key);
  return v && !strcmp(v, "true");
}

/* Revision data as upstream stores it, byte for byte (gotemplate.h): the
 * template through Go's typed round trip, as a strategic-merge patch
 * replacing the whole template. NULL with *rc set (LB_EPARSE: the template
 * does not decode as upstream's typed one; *why says why). */
static char *revision_data(const struct lb_cloneset *cs, int *rc,
                           const char **why) {
  return lb_rev_data(cs, rc, why);
}

#define REV_UNDECODABLE 1 /* resolve_revisions(): nothing more to do */

/* The update revision's template as text, from its revision data (so an
 * in-place diff compares like with like: both through the typed round
 * trip). Caller frees; NULL on allocation failure or bad data. */
static char *text_of(struct json_object *t) { /* puts t */
  char *s =
      t ? lb_strdup(json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN))
        : NULL;
  json_object_put(t);
  return s;
}

static char *update_template_text(const struct rec *r) {
  return text_of(lb_rev_template(r->rev_data));
}

static int resolve_revisions(struct rec *r) {
  struct lb_cloneset *cs = r->cs;
  const char *why = NULL;
  int rc;
  r->rev_data = revision_data(cs, &rc, &why);
  if (rc == LB_EPARSE) {
    /* upstream's informer cannot decode such a CloneSet and never acts on
     * it; neither do we, and we say why */
    lb_rctx_reasonf(r->c,
                    "spec.template does not decode as a Kubernetes pod "
                    "template (%s); nothing done until it is fixed",
                    why);
    return REV_UNDECODABLE;
  }
  if (rc)
    return rc;
  r->collision_count = cs->status.collision_count;
  /* Rollback (§1.1): a template equal to an owned revision, whatever its
   * name, maps to that revision instead of a new one. */
  int eq =
      lb_rev_equal_name(cs, r->rev_data, r->update_rev, sizeof r->update_rev);
  if (eq < 0)
    return eq;
  for (int tries = 0; tries < 100 && !eq; tries++) {
    struct lb_crev *existing;
    lb_rev_name(cs->o.name, r->rev_data, r->collision_count, r->update_rev,
                sizeof r->update_rev);
    existing = (struct lb_crev *)lb_rctx_get(r->c, LB_KIND_CREV, cs->o.ns,
                                             r->update_rev);
    if (!existing || !strcmp(existing->data, r->rev_data))
      break;
    r->collision_count++; /* same name, different data: probe again */
  }
  const char *cur = cs->status.current_revision;
  lb_strlcpy(r->current_rev, cur && *cur ? cur : r->update_rev,
             sizeof r->current_rev);
  return 0;
}

static void wake_at(struct rec *r, int64_t at) {
  if (!r->c->wakeup_ms || at < r->c->wakeup_ms)
    r->c->wakeup_ms = at;
}

/* A pod with an in-place grace record is unavailable whatever its Ready
 * says (lb__cs_classify: not CAND); wake the CloneSet when the grace is
 * due (when due now, refresh() applies it). */
static void grace_wakeup(struct rec *r, const struct lb_pod *p) {
  int64_t due = 0;
  if (lb_inplace_grace_of(p) &&
      lb_inplace_phase(p, r->update_rev, &due) == LB_IPU_GRACE &&
      due > r->c->now)
    wake_at(r, due);
}

static int collect(struct rec *r) {
  struct lb_cloneset *cs = r->cs;
  int64_t min_ready_ms = (int64_t)cs->min_ready_seconds * 1000;
  r->pi = calloc(cs->n_pods + 1, sizeof *r->pi);
  if (!r->pi)
    return LB_ENOMEM;
  for (size_t i = 0; i < cs->n_pods; i++) {
    struct lb_pod *p = cs->pods[i];
    unsigned b = lb__cs_classify(cs->pods_to_delete, p, r->update_rev,
                                 r->preparing_update_as_update, NULL);
    if (!(b & LB_CSC_ACTIVE)) {
      r->inactive++;
      continue;
    }
    struct lb_cs_podinfo *x = &r->pi[r->n++];
    x->pod = p;
    x->is_new = !!(b & LB_CSC_NEW);
    x->scale_new = !!(b & LB_CSC_SCALE_NEW);
    x->predeleting = !!(b & LB_CSC_PREDELETING);
    x->to_delete = !!(b & LB_CSC_TO_DELETE);
    x->ready = !!(b & LB_CSC_READY);
    /* refresh_pod() of such a pod: lb_inplace_phase() NONE or STARTED (no
     * state, no grace), no InPlaceUpdateReady to set (no gate, or the
     * condition present and not False), no KruisePodReady gate, and a
     * lifecycle state lb_lifecycle_refresh_state() never moves: no action,
     * no reason text. refresh() skips it without reading the pod again. */
    x->refresh_idle =
        !lb_inplace_state_of(p) && !lb_inplace_grace_of(p) && !p->gate_kpr &&
        (!p->gate_ipu || (p->ipu_ready && !p->ipu_false)) &&
        (p->lc_kind == LB_LCK_NONE || p->lc_kind == LB_LCK_NORMAL ||
         p->lc_kind == LB_LCK_PREPARING_DELETE || p->lc_kind == LB_LCK_OTHER);
    grace_wakeup(r, p);
    x->available = (b & LB_CSC_CAND) && r->c->now - p->ready_ms >= min_ready_ms;
    if ((b & LB_CSC_READY) && !x->available &&
        r->c->now - p->ready_ms < min_ready_ms)
      wake_at(r, p->ready_ms + min_ready_ms); /* becomes available then */
  }
  r->n_active = (int)r->n;
  /* The engine keeps cs->pods sorted by name, so every loop below sees
   * pods by name and decisions never depend on arrival order (or on a
   * snapshot restore). */
  return 0;
}

static int cmp_node(const void *a, const void *b) {
  return strcmp((*(const struct lb_cs_podinfo *const *)a)->pod->node,
                (*(const struct lb_cs_podinfo *const *)b)->pod->node);
}

/* node_rank = other active pods of the set on the same node. Computed on
 * first use: only scale-in victim ordering reads it. */
static int rank_nodes(struct rec *r) {
  struct lb_cs_podinfo **v;
  size_t n = 0;
  if (r->ranked)
    return 0;
  if (!(v = calloc(r->n + 1, sizeof *v)))
    return LB_ENOMEM;
  for (size_t i = 0; i < r->n; i++) {
    r->pi[i].node_rank = 0;
    if (r->pi[i].pod->node)
      v[n++] = &r->pi[i];
  }
  qsort(v, n, sizeof *v, cmp_node);
  for (size_t i = 0, j; i < n; i = j) {
    for (j = i + 1; j < n && !strcmp(v[j]->pod->node, v[i]->pod->node); j++)
      ;
    for (size_t k = i; k < j; k++)
      v[k]->node_rank = (int)(j - i) - 1;
  }
  free(v);
  r->ranked = 1;
  return 0;
}

/* The §3.4 numbers, pods classed new by scale_new (scale_view) or by
 * is_new. */
static void calc_in_of(const struct rec *r, int scale_view,
                       struct lb_cs_calc_in *out) {
  struct lb_cs_calc_in in;
  const struct lb_cloneset *cs = r->cs;
  memset(&in, 0, sizeof in);
  in.replicas = cs->replicas;
  in.partition = cs->partition;
  in.max_surge = cs->max_surge;
  in.max_unavailable = cs->max_unavailable;
  in.scale_max_unavailable = cs->scale_max_unavailable;
  in.paused = cs->paused;
  in.n_pods = r->n_active;
  in.exclude_predeleting = label_true(cs, LB_LABEL_EXCLUDE_PREDELETE);
  for (unsigned idx = 0; r->agg && idx < 16; idx++) {
    /* the same sums over the aggregates' classes (LB_CSC_IDX) */
    unsigned b = idx << 1;
    int n = r->agg->n[idx], pred = !!(b & LB_CSC_PREDELETING),
        del = !pred && (b & LB_CSC_TO_DELETE);
    int unavail = !pred && !del ? n - r->agg->av[idx] : 0;
    if (b & (scale_view ? LB_CSC_SCALE_NEW : LB_CSC_NEW)) {
      in.new_total += n;
      in.new_predeleting += pred ? n : 0;
      in.new_to_delete += del ? n : 0;
      in.new_unavailable += unavail;
    } else {
      in.old_total += n;
      in.old_predeleting += pred ? n : 0;
      in.old_to_delete += del ? n : 0;
      in.old_unavailable += unavail;
    }
  }
  for (size_t i = 0; i < r->n; i++) {
    const struct lb_cs_podinfo *x = &r->pi[i];
    if (scale_view ? x->scale_new : x->is_new) {
      in.new_total++;
      in.new_predeleting += x->predeleting;
      in.new_to_delete += !x->predeleting && x->to_delete;
      in.new_unavailable += !x->predeleting && !x->to_delete && !x->available;
    } else {
      in.old_total++;
      in.old_predeleting += x->predeleting;
      in.old_to_delete += !x->predeleting && x->to_delete;
      in.old_unavailable += !x->predeleting && !x->to_delete && !x->available;
    }
  }
  *out = in;
}

static void calc_with(struct rec *r, int scale_view, struct lb_cs_calc *out) {
  struct lb_cs_calc_in in;
  calc_in_of(r, scale_view, &in);
  lb_cs_calc(&in, out);
}

/* Scale counts a PreparingUpdate pod as updated under the gate
 * PreparingUpdateAsUpdate, update never does (upstream passes IsPodUpdate
 * to the scale calculation only): the update numbers come from a second
 * calculation by revision. */
static void calculate(struct rec *r) {
  calc_with(r, 1, &r->calc);
  if (r->preparing_update_as_update) {
    struct lb_cs_calc u;
    calc_with(r, 0, &u);
    r->calc.update_old_diff = u.update_old_diff;
    r->calc.update_new_diff = u.update_new_diff;
    r->calc.update_num = u.update_num;
    r->calc.update_max_unavailable = u.update_max_unavailable;
  }
}

static int cmp_victim_ptr(const void *a, const void *b) {
  return lb_cs_cmp_victim(*(const struct lb_cs_podinfo *const *)a,
                          *(const struct lb_cs_podinfo *const *)b);
}

/* --- actions ------------------------------------------------------------ */
static struct json_object *template_of_revision(struct rec *r,
                                                const char *rev) {
  struct lb_crev *cr;
  if (!strcmp(rev, r->update_rev))
    return json_tokener_parse(r->cs->template_json);
  cr = (struct lb_crev *)lb_rctx_get(r->c, LB_KIND_CREV, r->cs->o.ns, rev);
  return cr ? lb_rev_template(cr->data) : NULL;
}

/* A copy of the template spec with the readiness gates CloneSet pods
 * carry: InPlaceUpdateReady always (§3.3), and KruisePodReady, which the
 * pod webhook injects for apps.kruise.io owners (§1.4) — done here since
 * logbook has no pod webhook yet. NULL on allocation failure. */
static struct json_object *spec_with_gates(struct json_object *tspec) {
  static const char *const gates[] = {LB_COND_INPLACE_READY,
                                      LB_COND_KRUISE_POD_READY};
  struct json_object *spec = NULL, *rg = NULL;
  if (!tspec)
    spec = json_object_new_object();
  else if (json_object_deep_copy(tspec, &spec, NULL) != 0)
    return NULL;
  if (!spec)
    return NULL;
  if (!json_object_object_get_ex(spec, "readinessGates", &rg) ||
      !json_object_is_type(rg, json_type_array)) {
    rg = json_object_new_array();
    json_object_object_add(spec, "readinessGates", rg);
  }
  for (size_t g = 0; g < LB_ARRAY_SIZE(gates); g++) {
    int have = 0;
    for (size_t i = 0; i < json_object_array_length(rg); i++) {
      struct json_object *t = NULL;
      json_object_object_get_ex(json_object_array_get_idx(rg, i),
                                "conditionType", &t);
      have |= t && !strcmp(json_object_get_string(t), gates[g]);
    }
    if (!have) {
      struct json_object *o = json_object_new_object();
      json_object_object_add(o, "conditionType",
                             json_object_new_string(gates[g]));
      json_object_array_add(rg, o);
    }
  }
  return spec;
}

static char *pod_body(struct rec *r, struct json_object *tmpl, const char *rev,
                      const char *name, const char *id) {
  struct lb_cloneset *cs = r->cs;
  struct json_object *pod = json_object_new_object(), *meta, *labels, *annos,
                     *refs, *ref, *spec = NULL;
  const char *dash = strrchr(rev, '-');
  char ts[32];
  char *out;
  struct json_object *tm = NULL;
  json_object_object_get_ex(tmpl, "metadata", &tm);
  json_object_object_add(pod, "apiVersion", json_object_new_string("v1"));
  json_object_object_add(pod, "kind", json_object_new_string("Pod"));
  meta = json_object_new_object();
  json_object_object_add(pod, "metadata", meta);
  json_object_object_add(meta, "name", json_object_new_string(name));
  json_object_object_add(meta, "namespace", json_object_new_string(cs->o.ns));
  labels = json_object_new_object();
  annos = json_object_new_object();
  if (tm) {
    struct json_object *src;
    if (json_object_object_get_ex(tm, "labels", &src) &&
        json_object_is_type(src, json_type_object)) {
      json_object_object_foreach(src, k, v)
          json_object_object_add(labels, k, json_object_get(v));
    }
    if (json_object_object_get_ex(tm, "annotations", &src) &&
        json_object_is_type(src, json_type_object)) {
      json_object_object_foreach(src, k, v)
          json_object_object_add(annos, k, json_object_get(v));
    }
  }
  json_object_object_add(labels, LB_LABEL_REVISION,
                         json_object_new_string(rev));
  json_object_object_add(labels, LB_LABEL_TEMPLATE_HASH,
                         json_object_new_string(dash ? dash + 1 : rev));
  json_object_object_add(labels, LB_LABEL_INSTANCE_ID,
                         json_object_new_string(id));
  json_object_object_add(labels, LB_LABEL_LIFECYCLE,
                         json_object_new_string("PreparingNormal"));
  lb_time_rfc3339(r->c->now, ts);
  json_object_object_add(annos, LB_ANNO_LIFECYCLE_TS,
                         json_object_new_string(ts));
  json_object_object_add(meta, "labels", labels);
  json_object_object_add(meta, "annotations", annos);
  refs = json_object_new_array();
  ref = json_object_new_object();
  json_object_object_add(ref, "apiVersion",
                         json_object_new_string("apps.kruise.io/v1alpha1"));
  json_object_object_add(ref, "kind", json_object_new_string("CloneSet"));
  json_object_object_add(ref, "name", json_object_new_string(cs->o.name));
  json_object_object_add(ref, "uid", json_object_new_string(cs->o.uid));
  json_object_object_add(ref, "controller", json_object_new_boolean(1));
  json_object_object_add(ref, "blockOwnerDeletion", json_object_new_boolean(1));
  json_object_array_add(refs, ref);
  json_object_object_add(meta, "ownerReferences", refs);
  json_object_object_get_ex(tmpl, "spec", &spec);
  if (!(spec = spec_with_gates(spec))) {
    json_object_put(pod);
    return NULL;
  }
  json_object_object_add(pod, "spec", spec);
  /* PVC volumes (pvc.c): one volume per volumeClaimTemplate */
  if (lb_pvc_pod_volumes(pod, cs, id)) {
    json_object_put(pod);
    return NULL;
  }
  out = lb_strdup(json_object_to_json_string_ext(pod, JSON_C_TO_STRING_PLAIN));
  json_object_put(pod);
  return out;
}

/* Instance id: first the orphan ids of plan (claims without a pod, sorted)
 * from *next_reuse on, so a recreated pod gets its claims back; then 5
 * chars of the upstream alphabet derived from the CloneSet uid, the event
 * seq and a counter — deterministic, unique in the set, not an id any
 * claim of the set carries. */
static void new_id(struct rec *r, const struct lb_pvc_plan *plan,
                   size_t *next_reuse, unsigned *counter, char id[6],
                   char *name, size_t name_n) {
  while (plan && *next_reuse < plan->n_reuse) {
    const char *rid = plan->reuse[(*next_reuse)++];
    int dup = strlen(rid) != 5;
    snprintf(name, name_n, "%s-%s", r->cs->o.name, rid);
    for (size_t a = 0; a < r->c->d->n_actions; a++)
      dup |= !strcmp(r->c->d->actions[a].name, name);
    if (!dup && !lb_rctx_get(r->c, LB_KIND_POD, r->cs->o.ns, name)) {
      memcpy(id, rid, 6);
      return;
    }
  }
  for (;;) {
    char seedtxt[128];
    int n = snprintf(seedtxt, sizeof seedtxt, "%s:%lld:%u", r->cs->o.uid,
                     (long long)r->c->ev->seq, (*counter)++);
    uint64_t h = XXH3_64bits(seedtxt, (size_t)n);
    for (int i = 0; i < 5; i++, h /= 27)
      id[i] = id_alphabet[h % 27];
    id[5] = '\0';
    snprintf(name, name_n, "%s-%s", r->cs->o.name, id);
    if (!lb_rctx_get(r->c, LB_KIND_POD, r->cs->o.ns, name) &&
        !lb_pvc_id_taken(r->cs, id)) {
      int dup = 0; /* also unique among creations in this decision */
      for (size_t a = 0; a < r->c->d->n_actions; a++)
        dup |= !strcmp(r->c->d->actions[a].name, name);
      if (!dup)
        return;
    }
  }
}

static int create_pods(struct rec *r, int n, int n_old) {
  struct json_object *tmpl_new = NULL, *tmpl_old = NULL;
  unsigned counter = 0;
  int rc = 0, created_old = 0;
  const char *old_rev = r->current_rev;
  struct lb_pvc_plan plan; /* instance ids to reuse (pvc.c) */
  size_t next_reuse = 0;
  if ((rc = lb_pvc_plan_ids(r->cs, &plan)))
    return rc;
  if (plan.n_reuse + plan.n_blocked && r->cs->inflight_revs) {
    lb_rctx_reasonf(r->c,
                    "instance ids wait: %zu id(s) with claims and no "
                    "pod, but claim actions are in flight",
                    plan.n_reuse + plan.n_blocked);
    n = 0;
  } else if (lb_pvc_creatable(&plan, n) < n) {
    lb_rctx_reasonf(r->c,
                    "instance ids: %zu id(s) with claims wait for their "
                    "terminating pod to go; creating %d of %d now",
                    plan.n_blocked, lb_pvc_creatable(&plan, n), n);
    n = lb_pvc_creatable(&plan, n);
  }
  tmpl_new = template_of_revision(r, r->update_rev);
  if (n_old > 0) {
    tmpl_old = template_of_revision(r, old_rev);
    if (!tmpl_old) {
      lb_rctx_reasonf(r->c,
                      "current revision %s not found; creating %d "
                      "pod(s) at the update revision instead",
                      old_rev, n_old);
      n_old = 0;
    }
  }
  if (!tmpl_new) {
    rc = LB_ENOMEM;
    goto out;
  }
  for (int i = 0; i < n && !rc; i++) {
    char id[6], name[300];
    int old = created_old < n_old;
    const char *rev = old ? old_rev : r->update_rev;
    char *body;
    new_id(r, &plan, &next_reuse, &counter, id, name, sizeof name);
    body = pod_body(r, old ? tmpl_old : tmpl_new, rev, name, id);
    if (!body) {
      rc = LB_ENOMEM;
      break;
    }
    if (i == 0) { /* the selector must select what we create */
      struct json_object *root = json_tokener_parse(body);
      struct lb_obj *po = NULL;
      const char *why;
      if (root && !lb_obj_decode(root, &po, &why) && po &&
          !lb_selector_matches(&r->cs->selector, po->labels)) {
        lb_obj_free(po);
        json_object_put(root);
        free(body);
        lb_rctx_reasonf(r->c, "refusing to create pods: spec.selector does "
                              "not match the labels of spec.template; fix the "
                              "manifest");
        goto out;
      }
      lb_obj_free(po);
      json_object_put(root);
    }
    created_old += old;
    /* the pod's claims first, in the same decision (pvc.c) */
    if ((rc = lb_pvc_create_missing(r->c, r->cs, id)) < 0) {
      free(body);
      break;
    }
    rc = 0;
    if (!lb_rctx_action(r->c, LB_VERB_CREATE, LB_KIND_POD, r->cs->o.ns, name,
                        "", body))
      rc = LB_ENOMEM;
  }
out:
  lb_pvc_plan_release(&plan);
  json_object_put(tmpl_new);
  json_object_put(tmpl_old);
  return rc;
}

static int delete_pod(struct rec *r, const struct lb_pod *p) {
  /* its claims go too (pvc.c); asked first, so they are gone from the
   * watch before the pod is, and never look like orphans to reuse */
  int rc = lb_pvc_delete_for_pod(r->c, r->cs, p);
  if (rc < 0)
    return rc;
  struct lb_action *a = lb_rctx_action(r->c, LB_VERB_DELETE, LB_KIND_POD,
                                       p->o.ns, p->o.name, "", NULL);
  if (!a)
    return LB_ENOMEM;
  free(a->uid);
  return (a->uid = lb_strdup(p->o.uid)) ? 0 : LB_ENOMEM;
}

static int patch_pod(struct rec *r, const struct lb_pod *p, const char *body) {
  char *b = lb_strdup(body);
  if (!b || !lb_rctx_action(r->c, LB_VERB_PATCH, LB_KIND_POD, p->o.ns,
                            p->o.name, "", b))
    return LB_ENOMEM;
  return 0;
}

/* spec.lifecycle, parsed per use (it is small); a malformed one counts
 * as no hooks, and the reason says so. */
static int lifecycle_of(struct rec *r, struct lb_lifecycle *lc) {
  const char *why = NULL;
  int rc = lb_lifecycle_parse(r->cs->lifecycle_json, lc, &why);
  if (rc == LB_EPARSE) {
    lb_lifecycle_release(lc);
    lb_rctx_reasonf(r->c, "%s; hooks ignored: fix the manifest", why);
    rc = 0;
  }
  return rc;
}

/* A strategic merge patch on a pod (or its status); takes body. */
static int spatch_pod(struct rec *r, const struct lb_pod *p, const char *sub,
                      char *body) {
  if (!body || !lb_rctx_action(r->c, LB_VERB_SPATCH, LB_KIND_POD, p->o.ns,
                               p->o.name, sub, body))
    return LB_ENOMEM;
  return 0;
}

/* A merge patch on a pod; takes body. */
static int patch_pod_owned(struct rec *r, const struct lb_pod *p, char *body) {
  if (!body || !lb_rctx_action(r->c, LB_VERB_PATCH, LB_KIND_POD, p->o.ns,
                               p->o.name, "", body))
    return LB_ENOMEM;
  return 0;
}

/* Deletion of a preDelete-hooked pod: state PreparingDelete first (§1.3);
 * KruisePodReady follows from the state (scale_predeleting). */
static int to_preparing_delete(struct rec *r, const struct lb_pod *p) {
  return patch_pod_owned(
      r, p,
      lb_lifecycle_state_patch(p, LB_LC_PREPARING_DELETE, r->c->now, NULL));
}

/* Deletes from `v` (sorted victims first) up to `want` pods; ready pods
 * only while *ready_budget lasts. Returns pods deleted or < 0. */
static int delete_some(struct rec *r, struct lb_cs_podinfo **v, size_t n,
                       int want, int *ready_budget, const char *why) {
  int done = 0, rc;
  struct lb_buf b = LB_BUF_INIT;
  struct lb_lifecycle lc;
  if ((rc = lifecycle_of(r, &lc)))
    return rc;
  for (size_t i = 0; i < n && done < want; i++) {
    const struct lb_pod *p = v[i]->pod;
    if (p->ready) {
      if (*ready_budget <= 0)
        continue;
      (*ready_budget)--;
    }
    /* PodUnavailableBudget (pub.h), asked when the pod is deleted now (not
     * moved to PreparingDelete); a held pod keeps its ready budget */
    if (!lb_lifecycle_hooked(&lc.pre_delete, p) &&
        (rc = lb_pub_workload_allows(r->c, p, LB_PUB_OP_DELETE)) <= 0) {
      if (rc < 0) {
        lb_buf_release(&b);
        lb_lifecycle_release(&lc);
        return rc;
      }
      *ready_budget += p->ready;
      continue;
    }
    int hooked = lb_lifecycle_hooked(&lc.pre_delete, p);
    if ((rc = hooked ? to_preparing_delete(r, p) : delete_pod(r, p))) {
      lb_buf_release(&b);
      lb_lifecycle_release(&lc);
      return rc;
    }
    lb_buf_addf(&b, "%s%s%s", done ? "," : "", p->o.name,
                hooked ? " -> PreparingDelete (preDelete hook)" : "");
    done++;
  }
  if (done)
    lb_rctx_reasonf(r->c, "%s: deleting %d (%s)", why, done, b.p);
  lb_buf_release(&b);
  lb_lifecycle_release(&lc);
  return done;
}

/* Scale-up regret (§3.4 scale step 1): when replicas went back up and no
 * hook marks pods not-ready, PreparingDelete pods that were not specified
 * for deletion go back to PreparingNormal. Returns pods moved or < 0. */
static int scale_regret(struct rec *r) {
  struct lb_lifecycle lc;
  struct lb_buf b = LB_BUF_INIT;
  int rc, planned = 0, moved = 0, diff;
  if ((rc = lifecycle_of(r, &lc)))
    return rc;
  for (size_t i = 0; i < r->n; i++)
    planned += r->pi[i].predeleting || r->pi[i].to_delete;
  diff = r->cs->replicas - r->n_active + planned;
  for (size_t i = 0; i < r->n && diff > 0 && !rc; i++) {
    const struct lb_cs_podinfo *x = &r->pi[i];
    if (!x->predeleting || x->to_delete || lb_lifecycle_marks_not_ready(&lc))
      continue;
    rc = patch_pod_owned(r, x->pod,
                         lb_lifecycle_state_patch(
                             x->pod, LB_LC_PREPARING_NORMAL, r->c->now, NULL));
    lb_buf_addf(&b, "%s%s", moved++ ? "," : "", x->pod->o.name);
    diff--;
  }
  if (!rc && moved)
    lb_rctx_reasonf(r->c,
                    "scale-up regret: replicas %d, active %d, %d planned "
                    "deletion(s): %d pod(s) (%s) PreparingDelete -> "
                    "PreparingNormal",
                    r->cs->replicas, r->n_active, planned, moved, b.p);
  lb_buf_release(&b);
  lb_lifecycle_release(&lc);
  return rc ? rc : moved;
}

/* One PreparingDelete pod: 1 when an action was emitted, 0 when it waits
 * (what it waits for appended to waits), < 0 on error. */
static int predeleting_pod(struct rec *r, const struct lb_lifecycle *lc,
                           const struct lb_pod *p, struct lb_buf *acted,
                           struct lb_buf *waits) {
  struct lb_buf conds = LB_BUF_INIT;
  int rc = 0;
  if (!lb_lifecycle_hooked(&lc->pre_delete, p)) {
    lb_buf_addf(acted, "%s%s deleted (hook released)", acted->len ? ", " : "",
                p->o.name);
    return (rc = delete_pod(r, p)) ? rc : 1;
  }
  if (lb_lifecycle_podready_conds(lc, p, r->c->now, &conds)) {
    rc = spatch_pod(r, p, "status", lb_inplace_status_body(&conds));
    lb_buf_release(&conds);
    lb_buf_addf(acted, "%s%s KruisePodReady=False (preDelete markPodNotReady)",
                acted->len ? ", " : "", p->o.name);
    return rc ? rc : 1;
  }
  lb_buf_release(&conds);
  lb_buf_addf(waits, "%spod %s waits in PreparingDelete: hook ",
              waits->len ? "; " : "", p->o.name);
  lb_lifecycle_describe_hooked(&lc->pre_delete, p, waits);
  lb_buf_adds(waits, " still set");
  return 0;
}

/* PreparingDelete pods (§3.4 scale step 3). Returns actions or < 0. */
static int scale_predeleting(struct rec *r) {
  struct lb_lifecycle lc;
  struct lb_buf acted = LB_BUF_INIT, waits = LB_BUF_INIT;
  int rc, n = 0;
  if ((rc = lifecycle_of(r, &lc)))
    return rc;
  for (size_t i = 0; i < r->n && rc >= 0; i++)
    if (r->pi[i].predeleting &&
        (rc = predeleting_pod(r, &lc, r->pi[i].pod, &acted, &waits)) > 0)
      n += rc;
  if (rc >= 0 && n)
    lb_rctx_reasonf(r->c, "PreparingDelete: %s", acted.p);
  if (rc >= 0 && waits.len)
    lb_rctx_reasonf(r->c, "%s", waits.p);
  lb_buf_release(&acted);
  lb_buf_release(&waits);
  lb_lifecycle_release(&lc);
  return rc < 0 ? rc : n;
}

/* What the scale counts left out or reclassed, for the reason (into b). */
static const char *count_notes(struct rec *r, struct lb_buf *b) {
  int pd = 0, pu = 0;
  for (size_t i = 0; i < r->n; i++) {
    pd += r->pi[i].predeleting;
    pu += r->pi[i].scale_new && !r->pi[i].is_new;
  }
  lb_buf_reset(b);
  if (pd && label_true(r->cs, LB_LABEL_EXCLUDE_PREDELETE))
    lb_buf_addf(b, "; %d PreparingDelete pod(s) not counted (%s)", pd,
                LB_LABEL_EXCLUDE_PREDELETE);
  if (pu)
    lb_buf_addf(b,
                "; %d PreparingUpdate pod(s) counted as updated "
                "(PreparingUpdateAsUpdate)",
                pu);
  return b->p ? b->p : "";
}

/* Scale (§3.4 scale sequence). Returns 1 when it acted, 0 if not, <0. */
static int scale(struct rec *r) {
  struct lb_cs_calc *k = &r->calc;
  struct lb_cloneset *cs = r->cs;
  struct lb_cs_podinfo **v = calloc(r->n + 1, sizeof *v);
  size_t nv = 0;
  int rc = 0, budget = k->delete_ready_limit;
  if (!v)
    return LB_ENOMEM;
  if ((rc = scale_regret(r))) { /* §3.4 scale step 1 */
    free(v);
    return rc < 0 ? rc : 1;
  }
  if (k->scale_up == 0 && k->scale_up_limited) {
    lb_rctx_reasonf(r->c,
                    "scale up blocked: replicas %d, active %d, but "
                    "scaleStrategy.maxUnavailable %d <= unavailable %d",
                    cs->replicas, r->n_active, k->scale_max_unavailable,
                    k->total_unavailable);
    free(v);
    /* nothing was created, so (as upstream) refresh and update still run:
     * refresh is what makes the new pods Normal, hence available */
    return 0;
  }
  if (k->scale_up > 0) {
    int active = r->n_active;
    int batch =
        r->c->opts->slow_start ? (active > 0 ? active : 1) : k->scale_up;
    if (batch > r->c->opts->max_batch)
      batch = r->c->opts->max_batch;
    int n = k->scale_up < batch ? k->scale_up : batch;
    int n_old = k->scale_up_old < n ? k->scale_up_old : n;
    struct lb_buf notes = LB_BUF_INIT;
    lb_rctx_reasonf(r->c,
                    "scale up: replicas %d, active %d, expected %d (surge %d): "
                    "creating %d of %d (slow-start batch %d), %d at current "
                    "revision %s to keep partition %d%s%s",
                    cs->replicas, active, k->expected_total, k->use_surge, n,
                    k->scale_up, batch, n_old, r->current_rev, k->partition,
                    k->scale_up_limited ? "; limited by scaleStrategy."
                                          "maxUnavailable"
                                        : "",
                    count_notes(r, &notes));
    lb_buf_release(&notes);
    rc = create_pods(r, n, n_old);
    free(v);
    return rc ? rc : 1;
  }
  /* PreparingDelete pods: delete the unhooked, mark the hooked not-ready
   * (markPodNotReady), let the rest wait for their hook (§3.4 step 3). */
  if ((rc = scale_predeleting(r))) {
    free(v);
    return rc < 0 ? rc : 1;
  }
  /* Specified deletions: not-ready freely, ready within the limit. */
  for (size_t i = 0; i < r->n; i++)
    if (r->pi[i].to_delete && !r->pi[i].predeleting)
      v[nv++] = &r->pi[i];
  if (nv) {
    if ((rc = rank_nodes(r))) {
      free(v);
      return rc;
    }
    qsort(v, nv, sizeof *v, cmp_victim_ptr);
    rc = delete_some(r, v, nv, (int)nv, &budget, "specified delete");
    if (rc == 0)
      lb_rctx_reasonf(r->c,
                      "specified delete of %zu pod(s) waits: ready "
                      "pods may be deleted only within deleteReadyLimit %d "
                      "(maxUnavailable %d + surplus %d - unavailable %d)",
                      nv, k->delete_ready_limit, k->max_unavailable,
                      r->n_active - cs->replicas, k->total_unavailable);
    free(v);
    return rc < 0 ? rc : 1; /* pending specified deletion blocks the rest */
  }
  for (size_t i = 0; i < r->n; i++)
    nv += r->pi[i].predeleting;
  if (k->scale_down > 0 && nv) { /* upstream: planned deletions first */
    lb_rctx_reasonf(r->c,
                    "scale down by %d waits for %zu PreparingDelete pod(s)",
                    k->scale_down, nv);
    free(v);
    return 0;
  }
  if (k->scale_down > 0) {
    struct lb_cs_podinfo **old = v, **nw;
    size_t n_old = 0, n_new = 0;
    struct lb_cs_podinfo **tmp = calloc(r->n + 1, sizeof *tmp);
    if (!tmp) {
      free(v);
      return LB_ENOMEM;
    }
    for (size_t i = 0; i < r->n; i++) {
      if (r->pi[i].is_new)
        tmp[n_new++] = &r->pi[i];
      else
        old[n_old++] = &r->pi[i];
    }
    nw = tmp;
    if ((rc = rank_nodes(r))) {
      free(tmp);
      free(v);
      return rc;
    }
    qsort(old, n_old, sizeof *old, cmp_victim_ptr);
    qsort(nw, n_new, sizeof *nw, cmp_victim_ptr);
    lb_rctx_reasonf(r->c,
                    "scale down: replicas %d, active %d, expected %d: remove "
                    "%d (%d from old revisions), deleteReadyLimit %d",
                    cs->replicas, r->n_active, k->expected_total, k->scale_down,
                    k->scale_down_old, k->delete_ready_limit);
    int d1 = delete_some(r, old, n_old, k->scale_down_old, &budget,
                         "scale down old revision");
    int d2 = d1 < 0 ? d1
                    : delete_some(r, nw, n_new, k->scale_down - d1, &budget,
                                  "scale down");
    free(tmp);
    free(v);
    if (d1 < 0)
      return d1;
    if (d2 < 0)
      return d2;
    if (d1 + d2 == 0)
      lb_rctx_reasonf(r->c,
                      "scale down waits: every candidate is ready "
                      "and deleteReadyLimit %d is used up",
                      k->delete_ready_limit);
    return d1 + d2 > 0;
  }
  free(v);
  return 0;
}

/* The template of revision rev as JSON text (caller frees), or NULL. */
static char *template_text(struct rec *r, const char *rev) {
  return text_of(template_of_revision(r, rev));
}

/* Refresh's status step for one pod: InPlaceUpdateReady True (initial,
 * update done, or cancelled) and KruisePodReady per lifecycle state, in
 * one status spatch. Returns 1 when it acted, 0, or < 0. */
static int refresh_conds(struct rec *r, const struct lb_lifecycle *lc,
                         const struct lb_cs_podinfo *x, int phase,
                         struct lb_buf *what) {
  const struct lb_pod *p = x->pod;
  struct lb_buf conds = LB_BUF_INIT;
  int cancelled = phase == LB_IPU_STARTED &&
                  (x->is_new || r->calc.update_num <= 0 || r->cs->paused);
  int a = lb_inplace_ready_conds(p, phase, cancelled, r->c->now, &conds);
  int b = lb_lifecycle_podready_conds(lc, p, r->c->now, &conds);
  if (!a && !b)
    return 0;
  lb_buf_adds(what, p->o.name);
  if (a)
    lb_buf_addf(what, " InPlaceUpdateReady=True (%s)",
                phase == LB_IPU_DONE ? "in-place update done"
                : cancelled          ? "in-place update no longer wanted"
                                     : "initial");
  if (b) {
    struct lb_buf m = LB_BUF_INIT;
    int keys = lb_lifecycle_podready_message(lc, lb_lifecycle_state(p), &m);
    lb_buf_addf(what, " KruisePodReady=%s %s (state %s)",
                keys ? "False" : "True", m.p ? m.p : "",
                *lb_lifecycle_state(p) ? lb_lifecycle_state(p) : "none");
    lb_buf_release(&m);
  }
  int rc = spatch_pod(r, p, "status", lb_inplace_status_body(&conds));
  lb_buf_release(&conds);
  return rc ? rc : 1;
}

/* Says why an in-place update of p is not finished yet (no action). */
static void refresh_waits(struct rec *r, const struct lb_pod *p, int phase,
                          int64_t due) {
  struct lb_inplace_state st;
  struct lb_buf why = LB_BUF_INIT;
  char ts[32];
  if (phase == LB_IPU_GRACE) {
    lb_time_rfc3339(due, ts);
    lb_rctx_reasonf(r->c,
                    "pod %s waits for in-place gracePeriodSeconds %d until %s",
                    p->o.name, r->cs->inplace_grace_seconds, ts);
  } else if (phase == LB_IPU_RUNNING &&
             !lb_inplace_state_parse(lb_inplace_state_of(p), &st)) {
    lb_inplace_completed(p, &st, &why);
    lb_rctx_reasonf(r->c, "pod %s in-place update running: %s", p->o.name,
                    why.p ? why.p : "containers not ready");
    lb_inplace_state_release(&st);
  } else {
    return;
  }
  lb_buf_release(&why);
}

/* Refresh of one pod (§3.4 update step 1): at most one action — status
 * conditions first, then the in-place grace / next batch, then the
 * lifecycle state. Returns 1 when it acted, 0, or < 0. */
static int refresh_pod(struct rec *r, const struct lb_lifecycle *lc,
                       const struct lb_cs_podinfo *x, struct lb_buf *what) {
  const struct lb_pod *p = x->pod;
  int64_t due = 0;
  int phase = lb_inplace_phase(p, r->update_rev, &due), rc;
  const char *to, *from = lb_lifecycle_state(p);
  lb_inplace_assert_phase(p, r->update_rev, phase);
  if ((rc = refresh_conds(r, lc, x, phase, what)))
    return rc;
  if ((phase == LB_IPU_GRACE && due <= r->c->now) || phase == LB_IPU_NEXT) {
    char *t =
        phase == LB_IPU_NEXT ? template_text(r, lb_pod_revision(p)) : NULL;
    char *body = phase == LB_IPU_GRACE ? lb_inplace_grace_patch(p)
                                       : lb_inplace_next_patch(p, t, r->c->now);
    free(t);
    lb_buf_addf(what, "%s %s", p->o.name,
                phase == LB_IPU_GRACE ? "in-place grace period over: images "
                                        "applied"
                                      : "next container batch applied");
    return (rc = spatch_pod(r, p, "", body)) ? rc : 1;
  }
  to = lb_lifecycle_refresh_state(lc, p, x->is_new, phase == LB_IPU_NONE);
  if (!to) {
    refresh_waits(r, p, phase, due);
    return 0;
  }
  lb_buf_addf(what, "%s %s -> %s%s", p->o.name, from, to,
              !strcmp(from, LB_LC_PREPARING_NORMAL) && !lc->pre_normal.set
                  ? " (no preNormal hook)"
                  : "");
  rc = patch_pod_owned(r, p, lb_lifecycle_state_patch(p, to, r->c->now, NULL));
  return rc ? rc : 1;
}

/* Pods grouped by what happened to them, for one reason. */
struct groups {
  struct lb_buf desc[8], names[8];
  size_t n;
  int other; /* pods beyond the 8th kind of step */
};

/* item = "<name> <what happened>" */
static void group_add(struct groups *g, const char *item) {
  const char *sp = strchr(item, ' ');
  size_t i;
  if (!sp)
    return;
  for (i = 0; i < g->n; i++)
    if (!strcmp(g->desc[i].p, sp + 1))
      break;
  if (i == g->n && g->n == LB_ARRAY_SIZE(g->desc)) {
    g->other++;
    return;
  }
  if (i == g->n)
    lb_buf_adds(&g->desc[g->n++], sp + 1);
  lb_buf_addf(&g->names[i], "%s%.*s", g->names[i].len ? "," : "",
              (int)(sp - item), item);
}

static void groups_release(struct groups *g, struct lb_buf *out) {
  for (size_t i = 0; i < g->n; i++) {
    if (out)
      lb_buf_addf(out, "%s%s: %s", i ? "; " : "", g->desc[i].p, g->names[i].p);
    lb_buf_release(&g->desc[i]);
    lb_buf_release(&g->names[i]);
  }
  if (out && g->other)
    lb_buf_addf(out, "; %d more", g->other);
}

/* Refresh (§3.4 update step 1) every pod. Returns pods patched, or < 0. */
static int refresh(struct rec *r) {
  struct lb_lifecycle lc;
  struct lb_buf what = LB_BUF_INIT, out = LB_BUF_INIT;
  struct groups g;
  int n = 0, rc;
  if ((rc = lifecycle_of(r, &lc)))
    return rc;
  memset(&g, 0, sizeof g);
  for (size_t i = 0; i < r->n && rc >= 0; i++) {
    if (r->pi[i].refresh_idle)
      continue;
    lb_buf_reset(&what);
    if ((rc = refresh_pod(r, &lc, &r->pi[i], &what)) > 0) {
      n++;
      group_add(&g, what.p);
    }
  }
  groups_release(&g, &out);
  if (rc >= 0 && n)
    lb_rctx_reasonf(r->c, "refresh: %d pod(s): %s", n, out.p ? out.p : "");
  lb_buf_release(&what);
  lb_buf_release(&out);
  lb_lifecycle_release(&lc);
  return rc < 0 ? rc : n;
}

/* Stable partition: pods whose in-place update or PreparingUpdate is
 * under way first (§1.5: CloneSet moves PreparingUpdate to the front). */
static void started_first(struct lb_cs_podinfo **v, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (v[i]->pod->ipu_false || v[i]->pod->lc_kind == LB_LCK_PREPARING_UPDATE) {
      struct lb_cs_podinfo *x = v[i];
      memmove(v + k + 1, v + k, (i - k) * sizeof *v);
      v[k++] = x;
    }
  }
}

enum { UPD_HELD = 0, UPD_RECREATE, UPD_IN_PLACE };

/* "; in-place update under way: a,b" for pods whose in-place update or
 * lifecycle Updating has not finished (written into b), or "". */
static const char *updating_names(struct rec *r, struct lb_buf *b) {
  int n = 0;
  lb_buf_reset(b);
  for (size_t i = 0; i < r->n; i++) {
    const struct lb_pod *p = r->pi[i].pod;
    if (p->ipu_false || p->lc_kind == LB_LCK_UPDATING)
      lb_buf_addf(b, "%s%s",
                  n++ ? "," : "; in-place update under way: ", p->o.name);
  }
  return b->p && n ? b->p : "";
}

/* The in-place steps for one pod the diff allows (inplace.h, lifecycle.h):
 * PreparingUpdate first when hooked, then (1) InPlaceUpdateReady=False,
 * then (2) revision + images. Returns UPD_IN_PLACE, UPD_HELD or < 0. */
static int update_in_place(struct rec *r, const struct lb_lifecycle *lc,
                           const struct lb_pod *p,
                           const struct lb_inplace_diff *d, struct lb_buf *ib) {
  const struct lb_lifecycle_hook *reapply = NULL;
  const char *sep = ib->len ? ", " : "";
  int rc;
  switch (lb_lifecycle_before_update(lc, p, &reapply)) {
  case LB_LIFECYCLE_MOVE:
    lb_buf_addf(ib, "%s%s %s -> PreparingUpdate (inPlaceUpdate hook)", sep,
                p->o.name, lb_lifecycle_state(p));
    rc = patch_pod_owned(r, p,
                         lb_lifecycle_state_patch(p, LB_LC_PREPARING_UPDATE,
                                                  r->c->now, reapply));
    return rc ? rc : UPD_IN_PLACE;
  case LB_LIFECYCLE_WAIT:
    lb_buf_addf(ib, "%spod %s waits in %s: hook ", sep, p->o.name,
                lb_lifecycle_state(p));
    lb_lifecycle_describe_hooked(&lc->in_place_update, p, ib);
    lb_buf_adds(ib, " still set");
    return UPD_HELD;
  }
  if (p->gate_ipu && !p->ipu_false) {
    lb_buf_addf(ib, "%s%s InPlaceUpdateReady=False (step 1 of 3)", sep,
                p->o.name);
    rc = spatch_pod(r, p, "status", lb_inplace_start_patch(r->c->now));
    return rc ? rc : UPD_IN_PLACE;
  }
  lb_buf_addf(ib, "%s%s %zu image(s)%s%s (step 2 of 3)", sep, p->o.name,
              d->n_imgs, d->meta_patch ? " + metadata" : "",
              r->cs->inplace_grace_seconds > 0 ? " after gracePeriodSeconds"
                                               : "");
  rc = spatch_pod(r, p, "",
                  lb_inplace_update_patch(p, d, r->update_rev,
                                          r->cs->inplace_grace_seconds,
                                          r->c->now));
  return rc ? rc : UPD_IN_PLACE;
}

/* Updates one admitted pod (§3.4 update step 5): in place when the
 * strategy and the revision diff allow, else recreate by labelling
 * specified-delete (InPlaceOnly refuses and says why). Returns UPD_* or
 * < 0. */
static int update_pod(struct rec *r, const struct lb_lifecycle *lc,
                      const struct lb_pod *p, struct lb_buf *ib) {
  struct lb_inplace_diff d;
  int rc = 0;
  memset(&d, 0, sizeof d);
  if (r->cs->update_type != LB_CSU_RECREATE) {
    char *old = template_text(r, lb_pod_revision(p)), *tnew = NULL;
    if (!old)
      snprintf(d.why, sizeof d.why, "its revision %s is gone",
               *lb_pod_revision(p) ? lb_pod_revision(p) : "(none)");
    else if (!(tnew = update_template_text(r)))
      rc = LB_ENOMEM;
    else if ((rc = lb_inplace_diff(old, tnew, &d)) == LB_EPARSE)
      rc = 0;
    free(old);
    free(tnew);
    if (!rc && d.in_place)
      rc = update_in_place(r, lc, p, &d, ib);
    else if (!rc && r->cs->update_type == LB_CSU_INPLACE_ONLY) {
      lb_buf_addf(ib,
                  "%spod %s cannot be updated in place (InPlaceOnly): %s; "
                  "revert that template change or use updateStrategy.type "
                  "InPlaceIfPossible or ReCreate",
                  ib->len ? ", " : "", p->o.name, d.why);
      rc = UPD_HELD;
    }
    if (rc || d.in_place || r->cs->update_type == LB_CSU_INPLACE_ONLY) {
      lb_inplace_diff_release(&d);
      return rc;
    }
    lb_buf_addf(ib, "%s%s recreated: %s", ib->len ? ", " : "", p->o.name,
                d.why);
    lb_inplace_diff_release(&d);
  }
  rc = patch_pod(r, p,
                 "{\"metadata\":{\"labels\":{\"" LB_LABEL_SPECIFIED_DELETE
                 "\":\"true\"}}}");
  return rc ? rc : UPD_RECREATE;
}

/* Update (§3.4 update sequence, steps 2-5): in place (update_pod) or by
 * recreate, per updateStrategy.type and the revision diff. */
static int update(struct rec *r) {
  struct lb_cs_calc *k = &r->calc;
  struct lb_cloneset *cs = r->cs;
  struct lb_cs_podinfo **cand;
  size_t nc = 0;
  int unavailable = 0, admitted = 0, rc = 0;
  if (cs->paused) {
    if (k->update_num)
      lb_rctx_reasonf(r->c,
                      "update paused: %d pod(s) wait for "
                      "updateStrategy.paused=false",
                      k->update_num);
    return 0;
  }
  if (k->update_num <= 0) {
    if (k->update_num == 0 && k->partition > 0 &&
        strcmp(r->current_rev, r->update_rev))
      lb_rctx_reasonf(r->c,
                      "update holds at partition %d: %d pod(s) stay "
                      "at old revisions",
                      k->partition, k->partition);
    return 0;
  }
  if (k->update_max_unavailable < 1)
    lb_rctx_reasonf(r->c,
                    "update cannot progress: maxUnavailable resolves "
                    "to %d and maxSurge to %d; raise one of them",
                    k->max_unavailable, k->max_surge);
  cand = calloc(r->n + 1, sizeof *cand);
  if (!cand)
    return LB_ENOMEM;
  for (size_t i = 0; i < r->n; i++) {
    const struct lb_cs_podinfo *x = &r->pi[i];
    if (!x->available || x->predeleting)
      unavailable++;
    if (!x->is_new && !x->predeleting && !x->to_delete &&
        !lb_inplace_grace_of(x->pod)) /* §3.4 step 3: grace pods wait */
      cand[nc++] = &r->pi[i];
  }
  char order_why[256];
  if ((rc = lb_podorder_cs_update(cand, nc, cs, order_why, sizeof order_why))) {
    free(cand);
    return rc;
  }
  if (order_why[0])
    lb_rctx_reasonf(r->c, "update order: %s; using the default order",
                    order_why);
  started_first(cand, nc); /* in-place updates under way go on first */
  if (nc > (size_t)k->update_num)
    nc = (size_t)k->update_num;
  struct lb_buf b = LB_BUF_INIT, ib = LB_BUF_INIT;
  struct lb_lifecycle lc;
  int recreated = 0, in_place = 0, held = 0;
  if ((rc = lifecycle_of(r, &lc))) {
    free(cand);
    return rc;
  }
  for (size_t i = 0; i < nc; i++) {
    /* Updating an unavailable pod costs nothing; an available one counts
     * against updateMaxUnavailable. */
    if (cand[i]->available) {
      if (unavailable >= k->update_max_unavailable)
        break;
      unavailable++;
    }
    /* PodUnavailableBudget (pub.h, gate PodUnavailableBudgetUpdateGate) */
    int pub = lb_pub_workload_allows(r->c, cand[i]->pod, LB_PUB_OP_UPDATE);
    if (pub <= 0) {
      if (pub < 0) {
        rc = pub;
        break;
      }
      held++;
      continue;
    }
    int how = update_pod(r, &lc, cand[i]->pod, &ib);
    if (how < 0) {
      rc = how;
      break;
    }
    if (how == UPD_RECREATE)
      lb_buf_addf(&b, "%s%s", recreated++ ? "," : "", cand[i]->pod->o.name);
    in_place += how == UPD_IN_PLACE;
    held += how == UPD_HELD;
  }
  admitted = recreated + in_place;
  if (!rc && recreated)
    lb_rctx_reasonf(r->c,
                    "update to %s by recreate: %d pod(s) (%s) labelled %s; "
                    "updateNum %d, unavailable now %d of updateMaxUnavailable "
                    "%d, partition %d",
                    r->update_rev, recreated, b.p, LB_LABEL_SPECIFIED_DELETE,
                    k->update_num, unavailable, k->update_max_unavailable,
                    k->partition);
  if (!rc && ib.len)
    lb_rctx_reasonf(r->c,
                    "update to %s (%s): %s; updateNum %d, unavailable now "
                    "%d of updateMaxUnavailable %d, partition %d",
                    r->update_rev,
                    cs->update_type == LB_CSU_INPLACE_ONLY
                        ? "InPlaceOnly"
                        : "InPlaceIfPossible",
                    ib.p, k->update_num, unavailable, k->update_max_unavailable,
                    k->partition);
  lb_buf_release(&ib);
  lb_lifecycle_release(&lc);
  if (!rc && !admitted && !held)
    lb_rctx_reasonf(r->c,
                    "update waits: %d pod(s) to update but %d unavailable >= "
                    "updateMaxUnavailable %d (maxUnavailable %d)%s",
                    k->update_num, unavailable, k->update_max_unavailable,
                    k->max_unavailable, updating_names(r, &b));
  lb_buf_release(&b);
  free(cand);
  return rc ? rc : admitted;
}

static int str_eq(const char *a, const char *b) {
  return !strcmp(a ? a : "", b ? b : "");
}

/* The pod counts of the status: from the pods looked at, or from the
 * aggregates on the fast path. */
static void status_counts(const struct rec *r, struct lb_cs_status *s) {
  s->replicas = r->n_active;
  for (unsigned idx = 0; r->agg && idx < 16; idx++) {
    int is_new = !!((idx << 1) & LB_CSC_NEW);
    s->available += r->agg->av[idx];
    s->updated += is_new ? r->agg->n[idx] : 0;
    s->updated_available += is_new ? r->agg->av[idx] : 0;
  }
  if (r->agg) {
    s->ready = r->agg->ready_old + r->agg->ready_new;
    s->updated_ready = r->agg->ready_new;
  }
  for (size_t i = 0; i < r->n; i++) {
    const struct lb_cs_podinfo *x = &r->pi[i];
    int ready = x->ready; /* x->pod->ready && phase Running */
    s->ready += ready;
    s->available += x->available;
    s->updated += x->is_new;
    s->updated_ready += x->is_new && ready;
    s->updated_available += x->is_new && x->available;
  }
}

static int status(struct rec *r) {
  struct lb_cloneset *cs = r->cs;
  struct lb_cs_status *s = &r->st, *o = &cs->status;
  struct lb_buf sel = LB_BUF_INIT, body = LB_BUF_INIT;
  int rc;
  memset(s, 0, sizeof *s);
  status_counts(r, s);
  s->observed_generation = cs->o.generation;
  s->expected_updated = cs->replicas - r->calc.partition;
  s->collision_count = r->collision_count;
  s->update_revision = r->update_rev;
  s->current_revision = r->current_rev;
  if (s->updated == s->replicas && s->replicas == cs->replicas)
    s->current_revision = r->update_rev;
  lb_selector_string(&cs->selector, &sel);
  if (sel.err)
    return sel.err;
  s->label_selector = sel.p ? sel.p : (char *)"";
  if (o->observed_generation == s->observed_generation &&
      o->replicas == s->replicas && o->ready == s->ready &&
      o->available == s->available && o->updated == s->updated &&
      o->updated_ready == s->updated_ready &&
      o->updated_available == s->updated_available &&
      o->expected_updated == s->expected_updated &&
      o->collision_count == s->collision_count &&
      str_eq(o->current_revision, s->current_revision) &&
      str_eq(o->update_revision, s->update_revision) &&
      str_eq(o->label_selector, s->label_selector) && !r->cond_type) {
    lb_buf_release(&sel);
    return 0;
  }
  if (cs->inflight_status && !r->cond_type) {
    lb_buf_release(&sel);
    return 0; /* the write in flight will be followed by a fresh look */
  }           /* a condition exists only in this reconcile: written even then */
  lb_buf_addf(&body,
              "{\"status\":{\"observedGeneration\":%lld,\"replicas\":%d,"
              "\"readyReplicas\":%d,\"availableReplicas\":%d,"
              "\"updatedReplicas\":%d,\"updatedReadyReplicas\":%d,"
              "\"updatedAvailableReplicas\":%d,\"expectedUpdatedReplicas\":%d,"
              "\"collisionCount\":%d,\"currentRevision\":",
              (long long)s->observed_generation, s->replicas, s->ready,
              s->available, s->updated, s->updated_ready, s->updated_available,
              s->expected_updated, s->collision_count);
  lb_buf_add_json_str(&body, s->current_revision);
  lb_buf_adds(&body, ",\"updateRevision\":");
  lb_buf_add_json_str(&body, s->update_revision);
  lb_buf_adds(&body, ",\"labelSelector\":");
  lb_buf_add_json_str(&body, s->label_selector);
  if (r->cond_type) {
    char ts[32];
    lb_time_rfc3339(r->c->now, ts);
    lb_buf_addf(&body,
                ",\"conditions\":[{\"type\":\"%s\",\"status\":\"True\","
                "\"lastTransitionTime\":\"%s\",\"message\":",
                r->cond_type, ts);
    lb_buf_add_json_str(&body, r->cond_message);
    lb_buf_adds(&body, "}]");
  } else {
    lb_buf_adds(&body, ",\"conditions\":null"); /* as upstream's rewrite */
  }
  lb_buf_adds(&body, "}}");
  lb_buf_release(&sel);
  if ((rc = body.err)) {
    lb_buf_release(&body);
    return rc;
  }
  if (!lb_rctx_action(r->c, LB_VERB_PATCH, LB_KIND_CLONESET, cs->o.ns,
                      cs->o.name, "status", lb_buf_detach(&body, NULL)))
    return LB_ENOMEM;
  lb_rctx_reasonf(r->c,
                  "status: replicas %d ready %d available %d updated %d "
                  "updatedReady %d expectedUpdated %d current %s update %s",
                  s->replicas, s->ready, s->available, s->updated,
                  s->updated_ready, s->expected_updated, s->current_revision,
                  s->update_revision);
  return 0;
}

/* Status conditions (§3.2): upstream appends FailedScale (a pod create or
 * delete failed) or FailedUpdate (a pod update failed) to the status it
 * writes in the reconcile that hit the error, and every later status write
 * replaces the whole status, dropping them. Here the error is the failed
 * outcome being folded (final: 429/5xx are retried before an outcome is
 * journaled); a delete answered 404 already reached its goal, and a 409
 * is no error here (a create re-sent after a restart answers 409, and a
 * conflict is decided again from fresh state). The message is the
 * apiserver's Status message. */
static int failed_condition(struct rec *r, int verb) {
  const struct lb_event *ev = r->c->ev;
  struct json_object *root, *m = NULL;
  struct lb_buf b = LB_BUF_INIT;
  const char *what;
  if (!verb || ev->source != LB_SRC_OUTCOME || strcmp(ev->kind, "Pod") ||
      ev->http_status == 409 ||
      (ev->http_status == 404 && verb == LB_VERB_DELETE))
    return 0;
  r->cond_type = verb == LB_VERB_CREATE || verb == LB_VERB_DELETE
                     ? "FailedScale"
                     : "FailedUpdate";
  what = verb == LB_VERB_CREATE   ? "create"
         : verb == LB_VERB_DELETE ? "delete"
                                  : "update";
  root = ev->body ? json_tokener_parse(ev->body) : NULL;
  json_object_object_get_ex(root, "message", &m);
  if (m && json_object_is_type(m, json_type_string))
    lb_buf_addf(&b, "failed to %s pod %s: %s", what, ev->name,
                json_object_get_string(m));
  else
    lb_buf_addf(&b, "failed to %s pod %s: HTTP %d", what, ev->name,
                ev->http_status);
  json_object_put(root);
  if (b.err) {
    lb_buf_release(&b);
    return LB_ENOMEM;
  }
  r->cond_message = lb_buf_detach(&b, NULL);
  lb_rctx_reasonf(r->c, "condition %s: %s", r->cond_type, r->cond_message);
  return 0;
}

static int ensure_revision(struct rec *r) {
  struct lb_cloneset *cs = r->cs;
  struct lb_buf b = LB_BUF_INIT;
  if (cs->inflight_revs)
    return 0;
  if (lb_rctx_get(r->c, LB_KIND_CREV, cs->o.ns, r->update_rev))
    return lb_rev_bump(r->c, cs, r->update_rev); /* rollback: renumber */
  lb_buf_adds(&b, "{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\","
                  "\"metadata\":{\"name\":");
  lb_buf_add_json_str(&b, r->update_rev);
  lb_buf_adds(&b, ",\"namespace\":");
  lb_buf_add_json_str(&b, cs->o.ns);
  lb_buf_adds(&b, ",");
  if (lb_rev_meta(cs, &b) == LB_ENOMEM) { /* labels = template labels */
    lb_buf_release(&b);
    return LB_ENOMEM;
  }
  lb_buf_adds(&b, "\"ownerReferences\":[{\"apiVersion\":\"apps.kruise.io/"
                  "v1alpha1\",\"kind\":\"CloneSet\",\"name\":");
  lb_buf_add_json_str(&b, cs->o.name);
  lb_buf_adds(&b, ",\"uid\":");
  lb_buf_add_json_str(&b, cs->o.uid);
  lb_buf_addf(&b,
              ",\"controller\":true,\"blockOwnerDeletion\":true}]},"
              "\"revision\":%lld,\"data\":",
              (long long)lb_rev_next_number(cs));
  lb_buf_adds(&b, r->rev_data);
  lb_buf_adds(&b, "}");
  if (b.err) {
    lb_buf_release(&b);
    return LB_ENOMEM;
  }
  if (!lb_rctx_action(r->c, LB_VERB_CREATE, LB_KIND_CREV, cs->o.ns,
                      r->update_rev, "", lb_buf_detach(&b, NULL)))
    return LB_ENOMEM;
  lb_rctx_reasonf(r->c, "new revision %s", r->update_rev);
  return 0;
}

/* check_aggregates: the fast path's numbers (calculation inputs in both
 * views, status counts, wakeup) against a full look at every pod. */
static int check_fast(struct rec *r) {
  struct rec f = *r;
  struct lb_cs_calc_in a, b;
  struct lb_cs_status sa, sb;
  int64_t fast_wakeup = r->c->wakeup_ms;
  int rc, same = 1;
  f.agg = NULL;
  f.pi = NULL;
  f.n = 0;
  r->c->wakeup_ms = 0; /* nothing before look() sets a wakeup */
  if ((rc = collect(&f))) {
    free(f.pi);
    return rc;
  }
  for (int view = 0; view < 2; view++) {
    calc_in_of(r, view, &a);
    calc_in_of(&f, view, &b);
    same &= !memcmp(&a, &b, sizeof a);
  }
  memset(&sa, 0, sizeof sa);
  memset(&sb, 0, sizeof sb);
  status_counts(r, &sa);
  status_counts(&f, &sb);
  same &= !memcmp(&sa, &sb, sizeof sa) && r->c->wakeup_ms == fast_wakeup;
  r->c->wakeup_ms = fast_wakeup;
  free(f.pi);
  return LB_ALWAYS(same) ? 0 : LB_EINVAL;
}

/* Chooses how this reconcile sees the pods, and calculates. The fast path
 * (counts from the aggregates, no pod visited) when no step can act on or
 * say anything about a single pod: no in-place grace pending; and, unless
 * pod actions are in flight (then scale, refresh and update do not run),
 * no PreparingDelete or to-delete pod, every pod quiet for refresh, and a
 * calculation that neither scales nor updates. Else collect() looks at
 * every pod, as full_recompute always does. */
static int look(struct rec *r) {
  struct lb_cloneset *cs = r->cs;
  const struct lb_cs_agg *a;
  int rc, planned = 0, busy = cs->inflight_pods != 0;
  if (r->c->opts->full_recompute)
    goto full;
  if ((rc = lb__cs_agg_sync(cs, r->update_rev, r->preparing_update_as_update,
                            r->c->now)))
    return rc;
  a = cs->agg;
  r->n_active = 0;
  for (unsigned idx = 0; idx < 16; idx++) {
    r->n_active += a->n[idx];
    if ((idx << 1) & (LB_CSC_PREDELETING | LB_CSC_TO_DELETE))
      planned += a->n[idx];
  }
  if (a->grace || (!busy && (planned || a->not_quiet)))
    goto full;
  r->agg = a;
  calculate(r);
  if (!busy && (r->calc.scale_up > 0 || r->calc.scale_down > 0 ||
                (r->calc.update_num > 0 && !cs->paused))) {
    r->agg = NULL;
    goto full;
  }
  if (!(r->pi = calloc(1, sizeof *r->pi)))
    return LB_ENOMEM;
  if (a->n_pend) /* the first to become available (collect()'s wakeup) */
    wake_at(r, a->pend[0].due);
  return r->c->opts->check_aggregates ? check_fast(r) : 0;
full:
  r->n_active = 0;
  if ((rc = collect(r)))
    return rc;
  calculate(r);
  return 0;
}

int lb_cloneset_reconcile(struct lb_rctx *c, struct lb_obj *o) {
  struct lb_cloneset *cs = (struct lb_cloneset *)o;
  struct rec r;
  int rc, acted;
  memset(&r, 0, sizeof r);
  r.c = c;
  r.cs = cs;
  r.preparing_update_as_update =
      label_true(cs, LB_GATE_PREPARING_UPDATE_AS_UPDATE);
  int failed_verb = cs->failed_verb;
  cs->failed_verb = 0; /* fold-to-reconcile only: never state */
  if (o->deleting_ms) {
    lb_rctx_reasonf(c, "CloneSet is being deleted; its pods are left to "
                       "garbage collection");
    return 0;
  }
  if ((rc = failed_condition(&r, failed_verb)) ||
      (rc = resolve_revisions(&r)) || (rc = look(&r)))
    goto out;
  if ((rc = ensure_revision(&r)))
    goto out;
  /* revision history GC (revision.c) and, with disablePVCReuse, claims of
   * gone pods (pvc.c); both wait while their own actions are in flight */
  if ((rc = lb_rev_gc(c, cs, r.current_rev, r.update_rev)) < 0 ||
      (rc = lb_pvc_cleanup(c, cs)) < 0)
    goto out;
  /* image pre-download: creation behind the gate label, cleanup always */
  if ((rc = lb__cs_predownload(c, cs, r.current_rev, r.update_rev)))
    goto out;
  if (cs->inflight_pods) {
    lb_rctx_reasonf(c, "waiting for pod actions in flight");
  } else {
    acted = scale(&r);
    if (acted < 0) {
      rc = acted;
      goto out;
    }
    if (!acted) {
      acted = refresh(&r);
      if (acted == 0)
        acted = update(&r);
      if (acted < 0) {
        rc = acted;
        goto out;
      }
      if (!acted && !r.calc.update_num && r.n_active == cs->replicas)
        lb_rctx_reasonf(c, "steady: %d/%d pods at %s, partition %d", r.n_active,
                        cs->replicas, r.update_rev, r.calc.partition);
    }
  }
  rc = status(&r);
out:
  free(r.rev_data);
  free(r.pi);
  free(r.cond_message);
  return rc == REV_UNDECODABLE ? 0 : rc;
}
