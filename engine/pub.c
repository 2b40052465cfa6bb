/* pub.c — PodUnavailableBudget: status controller, ledger, admission check
 * (see pub.h for the diagram and the counting rules). */
#include "pub.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fielderr.h"
#include "inplace.h"

/* --- helpers ------------------------------------------------------------ */
static void group_of(const char *api_version, char *out, size_t n) {
  const char *slash = api_version ? strchr(api_version, '/') : NULL;
  size_t l = slash ? (size_t)(slash - api_version) : 0;
  if (l >= n)
    l = n - 1;
  memcpy(out, api_version ? api_version : "", l);
  out[l] = '\0';
}

static int replicas_of(const struct lb_obj *o) {
  if (o->kind == LB_KIND_CLONESET)
    return ((const struct lb_cloneset *)o)->replicas;
  if (o->kind > LB_KIND_PUB)
    return ((const struct lb_workload *)o)->replicas;
  return 0;
}

/* State consistent (§7): no in-place update under way. */
static int consistent(const struct lb_pod *pod) { return !pod->ipu_false; }

static int counts_available(const struct lb_pod *pod) {
  return lb_pod_active(pod) && pod->ready && consistent(pod) &&
         !pod->unavailable_label;
}

static int64_t at_of(const char *v) { return v ? strtoll(v, NULL, 10) : 0; }

static void wake(struct lb_rctx *c, int64_t at) {
  if (at > 0 && (!c->wakeup_ms || at < c->wakeup_ms))
    c->wakeup_ms = at;
}

int lb_pub_desired(const struct lb_pub *p, int total) {
  int d = 0;
  if (p->max_unavailable.set) {
    d = total - lb_intstr_resolve(&p->max_unavailable, total, 1);
  } else if (p->min_available.set) {
    d = p->min_available.is_pct ? lb_intstr_resolve(&p->min_available, total, 1)
                                : p->min_available.val;
  }
  return d < 0 ? 0 : d;
}

/* The tracked kind a targetRef names, or NONE. */
static int target_kind(const struct lb_pub *p) {
  char g[128];
  group_of(p->target_api_version, g, sizeof g);
  int k = lb_kind_of(g, p->target_kind);
  return k == LB_KIND_CLONESET || k > LB_KIND_PUB ? k : LB_KIND_NONE;
}

int lb_pub_covers(struct lb_rctx *c, const struct lb_pub *p,
                  const struct lb_pod *pod) {
  if (strcmp(pod->o.ns, p->o.ns))
    return 0;
  if (p->target_kind && *p->target_kind) {
    int k = target_kind(p);
    const struct lb_obj *w = lb_rctx_workload(c, pod->o.owner_uid);
    for (int depth = 0; w && depth < 4; depth++) {
      if (w->kind == k && !strcmp(w->name, p->target_name))
        return 1;
      w = lb_rctx_workload(c, w->owner_uid);
    }
    return 0;
  }
  return p->has_selector && lb_selector_matches(&p->selector, pod->o.labels);
}

struct lb_pub *lb_pub_for_pod(struct lb_rctx *c, const struct lb_pod *pod) {
  struct lb_obj **v;
  size_t n;
  struct lb_pub *found = NULL;
  if (lb_rctx_list(c, LB_KIND_PUB, pod->o.ns, &v, &n))
    return NULL;
  for (size_t i = 0; i < n && !found; i++)
    if (!v[i]->deleting_ms && lb_pub_covers(c, (struct lb_pub *)v[i], pod))
      found = (struct lb_pub *)v[i];
  free(v);
  return found;
}

/* Expected replicas (pub.h). */
static int expected(struct lb_rctx *c, const struct lb_pub *p,
                    struct lb_pod **pods, size_t n, int *untargetable) {
  *untargetable = 0;
  if (p->protect_total >= 0)
    return p->protect_total;
  if (p->target_kind && *p->target_kind) {
    int k = target_kind(p);
    if (!k) {
      *untargetable = 1;
      return 0;
    }
    struct lb_obj *w = lb_rctx_get(c, k, p->o.ns, p->target_name);
    return w ? replicas_of(w) : 0;
  }
  int total = 0;
  const struct lb_obj **seen = calloc(n + 1, sizeof *seen);
  size_t ns = 0;
  if (!seen)
    return -1;
  for (size_t i = 0; i < n; i++) {
    const struct lb_obj *w = lb_rctx_workload(c, pods[i]->o.owner_uid), *up;
    if (!pods[i]->o.owner_uid) {
      total += lb_pod_active(pods[i]);
      continue;
    }
    /* up to the top owner; an owner that is gone (e.g. a ReplicaSet whose
     * Deployment was deleted, its pods about to be collected) expects
     * nothing, as upstream's controller finder */
    for (int depth = 0; w && w->owner_uid && depth < 4; depth++)
      w = (up = lb_rctx_workload(c, w->owner_uid)) ? up : NULL;
    if (!w)
      continue;
    size_t j = 0;
    while (j < ns && seen[j] != w)
      j++;
    if (j == ns) {
      seen[ns++] = w;
      total += replicas_of(w);
    }
  }
  free(seen);
  return total;
}

void lb_pub_calc_release(struct lb_pub_calc *k) {
  free(k->disrupted);
  free(k->unavailable);
  memset(k, 0, sizeof *k);
}

/* Keeps the ledger entries of `from` whose pod is active, covered and not
 * older than ttl; collects the earliest expiry. */
static int expire(struct lb_rctx *c, const struct lb_pub *p, const char *from,
                  int64_t ttl, char **out, int64_t *recheck) {
  if (!(*out = calloc(1, 1)))
    return LB_ENOMEM;
  LB_KV_FOR(from, name, v) {
    const struct lb_pod *pod =
        (const struct lb_pod *)lb_rctx_get(c, LB_KIND_POD, p->o.ns, name);
    int64_t due = at_of(v) + ttl;
    if (!pod || !lb_pod_active(pod) || !lb_pub_covers(c, p, pod) ||
        c->now >= due)
      continue;
    if (lb_kv_set(out, name, v))
      return LB_ENOMEM;
    if (!*recheck || due < *recheck)
      *recheck = due;
  }
  return 0;
}

/* Pods that may be covered, sorted by name: a CloneSet target's own pods
 * (the engine keeps them sorted), else every pod of the namespace. */
static int covered_candidates(struct lb_rctx *c, const struct lb_pub *p,
                              struct lb_obj ***v, size_t *n) {
  if (p->target_kind && *p->target_kind && target_kind(p) == LB_KIND_CLONESET) {
    const struct lb_cloneset *cs = (const struct lb_cloneset *)lb_rctx_get(
        c, LB_KIND_CLONESET, p->o.ns, p->target_name);
    *n = cs ? cs->n_pods : 0;
    if (!(*v = malloc((*n + 1) * sizeof **v)))
      return LB_ENOMEM;
    for (size_t i = 0; i < *n; i++)
      (*v)[i] = &cs->pods[i]->o;
    return 0;
  }
  return lb_rctx_list(c, LB_KIND_POD, p->o.ns, v, n);
}

int lb_pub_calc(struct lb_rctx *c, const struct lb_pub *p,
                struct lb_pub_calc *k) {
  struct lb_obj **v;
  size_t n, m = 0;
  int rc;
  memset(k, 0, sizeof *k);
  if ((rc = covered_candidates(c, p, &v, &n)))
    return rc;
  for (size_t i = 0; i < n; i++) /* covered pods, by name */
    if (lb_pub_covers(c, p, (struct lb_pod *)v[i]))
      v[m++] = v[i];
  k->total = expected(c, p, (struct lb_pod **)v, m, &k->untargetable);
  if (k->total < 0) {
    free(v);
    return LB_ENOMEM;
  }
  k->desired = lb_pub_desired(p, k->total);
  if ((rc = expire(c, p, p->led_disrupted, LB_PUB_DISRUPTED_MS, &k->disrupted,
                   &k->recheck_ms)) ||
      (rc = expire(c, p, p->led_unavailable, LB_PUB_UNAVAILABLE_MS,
                   &k->unavailable, &k->recheck_ms))) {
    free(v);
    lb_pub_calc_release(k);
    return rc;
  }
  for (size_t i = 0; i < m; i++) {
    const struct lb_pod *pod = (const struct lb_pod *)v[i];
    k->covered += lb_pod_active(pod);
    if (counts_available(pod) && !lb_kv_get(k->disrupted, pod->o.name) &&
        !lb_kv_get(k->unavailable, pod->o.name))
      k->current++;
  }
  free(v);
  k->allowed = k->current - k->desired > 0 ? k->current - k->desired : 0;
  return 0;
}

static int same_map(const char *observed, const char *ledger) {
  if (lb_kv_count(observed) != lb_kv_count(ledger))
    return 0;
  LB_KV_FOR(ledger, name, v) {
    const char *o = lb_kv_get(observed, name);
    if (!o || at_of(o) / 1000 != at_of(v) / 1000) /* status has seconds */
      return 0;
  }
  return 1;
}

int lb_pub_status_equal(const struct lb_pub *p, const struct lb_pub_calc *k) {
  const struct lb_pub_status *s = &p->status;
  return s->observed_generation == p->o.generation &&
         s->total_replicas == k->total && s->desired_available == k->desired &&
         s->current_available == k->current &&
         s->unavailable_allowed == k->allowed &&
         same_map(s->disrupted, k->disrupted) &&
         same_map(s->unavailable, k->unavailable);
}

static void add_map(struct lb_buf *b, const char *key, const char *observed,
                    const char *ledger) {
  int first = 1;
  char ts[32];
  lb_buf_addf(b, ",\"%s\":{", key);
  LB_KV_FOR(ledger, name, v) {
    lb_buf_adds(b, first ? "" : ",");
    first = 0;
    lb_buf_add_json_str(b, name);
    lb_time_rfc3339(at_of(v), ts);
    lb_buf_addf(b, ":\"%s\"", ts);
  }
  LB_KV_FOR(observed, name, v) {
    (void)v;
    if (lb_kv_get(ledger, name))
      continue;
    lb_buf_adds(b, first ? "" : ",");
    first = 0;
    lb_buf_add_json_str(b, name);
    lb_buf_adds(b, ":null"); /* merge patch: remove */
  }
  lb_buf_adds(b, "}");
}

char *lb_pub_status_patch(const struct lb_pub *p, const struct lb_pub_calc *k) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_addf(&b,
              "{\"status\":{\"currentAvailable\":%d,\"desiredAvailable\":%d",
              k->current, k->desired);
  add_map(&b, "disruptedPods", p->status.disrupted, k->disrupted);
  lb_buf_addf(&b,
              ",\"observedGeneration\":%lld,\"totalReplicas\":%d,"
              "\"unavailableAllowed\":%d",
              (long long)p->o.generation, k->total, k->allowed);
  add_map(&b, "unavailablePods", p->status.unavailable, k->unavailable);
  lb_buf_adds(&b, "}}");
  return b.err ? (lb_buf_release(&b), NULL) : lb_buf_detach(&b, NULL);
}

static void describe(struct lb_buf *b, const struct lb_pub *p,
                     const struct lb_pub_calc *k) {
  lb_buf_addf(b, "desiredAvailable %d (", k->desired);
  if (p->max_unavailable.set)
    lb_buf_addf(b, "totalReplicas %d - maxUnavailable %d%s", k->total,
                p->max_unavailable.val, p->max_unavailable.is_pct ? "%" : "");
  else if (p->min_available.set)
    lb_buf_addf(b, "minAvailable %d%s of totalReplicas %d",
                p->min_available.val, p->min_available.is_pct ? "%" : "",
                k->total);
  else
    lb_buf_adds(b, "neither maxUnavailable nor minAvailable set");
  lb_buf_addf(b,
              "%s), currentAvailable %d, unavailableAllowed %d; "
              "disruptedPods %zu, unavailablePods %zu, covered pods %d",
              p->protect_total >= 0 ? " from pub.kruise.io/protect-total-"
                                      "replicas"
                                    : "",
              k->current, k->allowed, lb_kv_count(k->disrupted),
              lb_kv_count(k->unavailable), k->covered);
}

/* --- the check (§7 webhook decrement) ------------------------------------ */
static const char *op_name(int op) {
  return op == LB_PUB_OP_DELETE   ? "DELETE"
         : op == LB_PUB_OP_UPDATE ? "UPDATE"
                                  : "EVICT";
}

/* Pod-side "allowed immediately" rules; 1 when one applies. */
static int pod_exempt(const struct lb_pod *pod, struct lb_buf *why) {
  const char *np = lb_kv_get(pod->annotations, LB_ANNO_PUB_NO_PROTECT);
  if (np && !strcmp(np, "true")) {
    lb_buf_addf(why, "pod %s is annotated %s=true", pod->o.name,
                LB_ANNO_PUB_NO_PROTECT);
    return 1;
  }
  if (pod->o.deleting_ms) {
    /* the kubelet's final delete of a terminating pod must never be held */
    lb_buf_addf(why,
                "pod %s is already terminating, so it is not counted "
                "available and its deletion costs no budget",
                pod->o.name);
    return 1;
  }
  if (!pod->ready || !consistent(pod)) {
    lb_buf_addf(why,
                "pod %s is %s, so it is not counted available and its "
                "disruption costs no budget",
                pod->o.name, !pod->ready ? "not ready" : "being updated");
    return 1;
  }
  return 0;
}

/* With pub known: 1 allowed (recorded or exempt), 0 denied. */
static int check_pub(struct lb_rctx *c, const struct lb_pod *pod,
                     struct lb_pub *pub, int op, int dry_run, int *recorded,
                     struct lb_buf *why) {
  struct lb_pub_calc k;
  int rc;
  *recorded = 0;
  if ((rc = lb_pub_calc(c, pub, &k)))
    return rc;
  if (k.desired == 0) {
    lb_buf_addf(why, "PodUnavailableBudget %s: desiredAvailable is 0 (",
                pub->o.name);
    describe(why, pub, &k);
    lb_buf_adds(why, ")");
    rc = 1;
  } else if (!(pub->protect_ops & op)) {
    lb_buf_addf(why,
                "PodUnavailableBudget %s does not protect %s "
                "(kruise.io/pub-protect-operations)",
                pub->o.name, op_name(op));
    rc = 1;
  } else if (lb_kv_get(k.disrupted, pod->o.name) ||
             lb_kv_get(k.unavailable, pod->o.name)) {
    lb_buf_addf(why, "pod %s is already recorded by PodUnavailableBudget %s",
                pod->o.name, pub->o.name);
    rc = 1;
  } else if (k.allowed <= 0) {
    lb_buf_addf(why,
                "pub unavailable allowed is negative: PodUnavailableBudget "
                "%s/%s refuses %s of pod %s: ",
                pub->o.ns, pub->o.name, op_name(op), pod->o.name);
    describe(why, pub, &k);
    lb_buf_adds(why, ". Wait until more pods are available, raise "
                     "spec.maxUnavailable (or lower spec.minAvailable), or "
                     "annotate the pod " LB_ANNO_PUB_NO_PROTECT "=\"true\"");
    rc = 0;
  } else if (lb_kv_count(k.disrupted) + lb_kv_count(k.unavailable) >
             LB_PUB_MAX_RECORDS) {
    lb_buf_addf(why,
                "PodUnavailableBudget %s: disruptedPods and unavailablePods "
                "hold more than %d pods not yet confirmed; retry later",
                pub->o.name, LB_PUB_MAX_RECORDS);
    rc = 0;
  } else {
    char num[32];
    lb_buf_addf(why,
                "PodUnavailableBudget %s allows %s of pod %s: ", pub->o.name,
                op_name(op), pod->o.name);
    describe(why, pub, &k);
    if (dry_run) {
      lb_buf_adds(why, "; dry run: not recorded");
    } else {
      snprintf(num, sizeof num, "%lld", (long long)c->now);
      rc = lb_kv_set(op == LB_PUB_OP_UPDATE ? &k.unavailable : &k.disrupted,
                     pod->o.name, num);
      if (rc) {
        lb_pub_calc_release(&k);
        return rc;
      }
      /* the ledger is the expired view plus this record */
      free(pub->led_disrupted);
      free(pub->led_unavailable);
      pub->led_disrupted = k.disrupted;
      pub->led_unavailable = k.unavailable;
      k.disrupted = k.unavailable = NULL;
      *recorded = 1;
      lb_buf_addf(why, "; recorded in %s, unavailableAllowed now %d",
                  op == LB_PUB_OP_UPDATE ? "unavailablePods" : "disruptedPods",
                  k.allowed - 1);
    }
    rc = 1;
  }
  lb_pub_calc_release(&k);
  return rc;
}

int lb_pub_check(struct lb_rctx *c, const struct lb_pod *pod, int op,
                 int dry_run, struct lb_pub **recorded, struct lb_buf *why) {
  const char *name = lb_kv_get(pod->annotations, LB_ANNO_RELATED_PUB);
  struct lb_pub *pub;
  int rec = 0, rc;
  *recorded = NULL;
  if (!name || !*name) {
    lb_buf_addf(why, "pod %s has no %s annotation: no budget applies",
                pod->o.name, LB_ANNO_RELATED_PUB);
    return 1;
  }
  if (pod_exempt(pod, why))
    return 1;
  pub = (struct lb_pub *)lb_rctx_get(c, LB_KIND_PUB, pod->o.ns, name);
  if (!pub) {
    lb_buf_addf(why, "PodUnavailableBudget %s/%s does not exist", pod->o.ns,
                name);
    return 1;
  }
  rc = check_pub(c, pod, pub, op, dry_run, &rec, why);
  if (rc == 1 && rec)
    *recorded = pub;
  return rc;
}

int lb_pub_workload_allows(struct lb_rctx *c, const struct lb_pod *pod,
                           int op) {
  struct lb_buf why = LB_BUF_INIT;
  struct lb_pub *pub;
  int rec = 0, rc;
  if ((op == LB_PUB_OP_DELETE && !c->opts->pub_delete_gate) ||
      (op == LB_PUB_OP_UPDATE && !c->opts->pub_update_gate))
    return 1;
  if (pod_exempt(pod, &why)) {
    lb_buf_release(&why);
    return 1;
  }
  lb_buf_reset(&why);
  if (!(pub = lb_pub_for_pod(c, pod))) {
    lb_buf_release(&why);
    return 1;
  }
  rc = check_pub(c, pod, pub, op, 0, &rec, &why);
  if (rc == 1 && rec)
    rc = lb_rctx_mark(c, &pub->o) ? LB_ENOMEM : 1;
  if (rc == 0) {
    lb_rctx_reasonf(c, "%s held: %s", pod->o.name, why.p ? why.p : "");
    wake(c, c->now + 1000); /* §3.4 step 5: requeue in 1 s */
  }
  lb_buf_release(&why);
  return rc;
}

/* --- the reducer -------------------------------------------------------- */
int lb_pub_reconcile(struct lb_rctx *c, struct lb_obj *o) {
  struct lb_pub *p = (struct lb_pub *)o;
  struct lb_pub_calc k;
  struct lb_buf b = LB_BUF_INIT;
  struct lb_obj **v;
  size_t n;
  int rc, annotated = 0;
  if (o->deleting_ms) {
    lb_rctx_reasonf(c, "PodUnavailableBudget is being deleted");
    return 0;
  }
  if ((rc = lb_pub_calc(c, p, &k)))
    return rc;
  /* the ledger drops what expired */
  free(p->led_disrupted);
  free(p->led_unavailable);
  p->led_disrupted = lb_strndup(k.disrupted, lb_kv_size(k.disrupted));
  p->led_unavailable = lb_strndup(k.unavailable, lb_kv_size(k.unavailable));
  if (!p->led_disrupted || !p->led_unavailable) {
    lb_pub_calc_release(&k);
    return LB_ENOMEM;
  }
  memcpy(p->led_disrupted, k.disrupted, lb_kv_size(k.disrupted));
  memcpy(p->led_unavailable, k.unavailable, lb_kv_size(k.unavailable));
  wake(c, k.recheck_ms);
  describe(&b, p, &k);
  lb_rctx_reasonf(c, "%s", b.p ? b.p : "");
  if (k.untargetable)
    lb_rctx_reasonf(c,
                    "spec.targetRef %s %s is a kind logbook does not track: "
                    "no pods covered; use a selector or a CloneSet, "
                    "Deployment, ReplicaSet, StatefulSet or UnitedDeployment",
                    p->target_api_version, p->target_kind);
  if (k.recheck_ms)
    lb_rctx_reasonf(c, "next ledger expiry in %lld ms",
                    (long long)(k.recheck_ms - c->now));
  /* kruise.io/related-pub on every covered pod that lacks it */
  if (!p->inflight_pods && !(rc = covered_candidates(c, p, &v, &n))) {
    for (size_t i = 0; i < n && !rc; i++) {
      const struct lb_pod *pod = (const struct lb_pod *)v[i];
      const char *have = lb_kv_get(pod->annotations, LB_ANNO_RELATED_PUB);
      if (!lb_pod_active(pod) || (have && *have) || !lb_pub_covers(c, p, pod))
        continue;
      struct lb_buf body = LB_BUF_INIT;
      lb_buf_adds(&body,
                  "{\"metadata\":{\"annotations\":{\"" LB_ANNO_RELATED_PUB
                  "\":");
      lb_buf_add_json_str(&body, o->name);
      lb_buf_adds(&body, "}}}");
      if (body.err ||
          !lb_rctx_action(c, LB_VERB_PATCH, LB_KIND_POD, o->ns, pod->o.name, "",
                          lb_buf_detach(&body, NULL)))
        rc = LB_ENOMEM;
      annotated++;
    }
    free(v);
    if (annotated)
      lb_rctx_reasonf(c, "annotating %d pod(s) %s=%s", annotated,
                      LB_ANNO_RELATED_PUB, o->name);
  } else if (p->inflight_pods) {
    lb_rctx_reasonf(c, "waiting for %d pod annotation patch(es) in flight",
                    p->inflight_pods);
  }
  if (!rc && p->inflight_status) {
    lb_rctx_reasonf(c, "waiting for the status patch in flight");
  } else if (!rc && !lb_pub_status_equal(p, &k)) {
    char *body = lb_pub_status_patch(p, &k);
    if (!body || !lb_rctx_action(c, LB_VERB_PATCH, LB_KIND_PUB, o->ns, o->name,
                                 "status", body))
      rc = LB_ENOMEM;
    else
      lb_rctx_reasonf(c, "status updated");
  }
  lb_buf_release(&b);
  lb_pub_calc_release(&k);
  return rc;
}

/* --- validation --------------------------------------------------------- */
static struct json_object *jget(struct json_object *o, const char *k) {
  struct json_object *v = NULL;
  if (o && json_object_is_type(o, json_type_object))
    json_object_object_get_ex(o, k, &v);
  return v;
}
static const char *jstr(struct json_object *o, const char *k) {
  struct json_object *v = jget(o, k);
  return v && json_object_is_type(v, json_type_string)
             ? json_object_get_string(v)
             : NULL;
}

/* Loose overlap of two selectors (upstream's rule, approximately): they
 * overlap unless some key is pinned to different values, or pinned in one
 * and excluded (NotIn / DoesNotExist / In without it) in the other. */
static int excludes(const struct lb_selector *s, const char *key,
                    const char *val) {
  const char *have = lb_kv_get(s->match_labels, key);
  if (have && strcmp(have, val))
    return 1;
  for (size_t i = 0; i < s->n_reqs; i++) {
    const struct lb_selreq *r = &s->reqs[i];
    int in = 0;
    if (strcmp(r->key, key))
      continue;
    for (const char *q = r->values; q && *q; q += strlen(q) + 1)
      in |= !strcmp(q, val);
    if ((r->op == LB_SEL_IN && !in) || (r->op == LB_SEL_NOTIN && in) ||
        r->op == LB_SEL_NOTEXISTS)
      return 1;
  }
  return 0;
}
static int loose_overlap(const struct lb_selector *a,
                         const struct lb_selector *b) {
  LB_KV_FOR(a->match_labels, k, v) {
    if (excludes(b, k, v))
      return 0;
  }
  LB_KV_FOR(b->match_labels, k, v) {
    if (excludes(a, k, v))
      return 0;
  }
  return 1;
}

int lb_pub_validate(struct lb_rctx *c, struct json_object *obj,
                    struct json_object *old, struct lb_ferrs *fe) {
  struct json_object *spec = jget(obj, "spec"), *sel = jget(spec, "selector"),
                     *ref = jget(spec, "targetRef");
  struct json_object *mu = jget(spec, "maxUnavailable"),
                     *ma = jget(spec, "minAvailable");
  struct lb_intstr x;
  struct lb_obj *mine = NULL;
  const char *why = NULL;
  int rc;
  if (sel && json_object_is_type(sel, json_type_null))
    sel = NULL;
  if (ref && json_object_is_type(ref, json_type_null))
    ref = NULL;
  if (sel && ref)
    lb_ferr_add(fe, LB_FE_FORBIDDEN, "spec.selector",
                "selector and targetRef are mutually exclusive: keep one of "
                "them");
  if (!sel && !ref)
    lb_ferr_add(fe, LB_FE_REQUIRED, "spec.selector",
                "one of spec.selector or spec.targetRef is required");
  if (sel && !lb_ferr_selector(fe, "spec.selector", sel) &&
      !jget(sel, "matchLabels") && !jget(sel, "matchExpressions"))
    lb_ferr_add(fe, LB_FE_INVALID, "spec.selector",
                "an empty selector would cover every pod of the namespace: "
                "add matchLabels or matchExpressions");
  if (ref) {
    static const char *const fields[] = {"apiVersion", "kind", "name"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(fields); i++) {
      const char *s = jstr(ref, fields[i]);
      if (!s || !*s) {
        char p[64];
        snprintf(p, sizeof p, "spec.targetRef.%s", fields[i]);
        lb_ferr_add(fe, LB_FE_REQUIRED, p,
                    "the target workload's %s is "
                    "required",
                    fields[i]);
      }
    }
  }
  if (mu && json_object_is_type(mu, json_type_null))
    mu = NULL;
  if (ma && json_object_is_type(ma, json_type_null))
    ma = NULL;
  if (mu && ma)
    lb_ferr_add(fe, LB_FE_FORBIDDEN, "spec.maxUnavailable",
                "maxUnavailable and minAvailable are mutually exclusive: "
                "keep one of them");
  if (!mu && !ma)
    lb_ferr_add(fe, LB_FE_REQUIRED, "spec.maxUnavailable",
                "one of spec.maxUnavailable or spec.minAvailable is required");
  lb_ferr_intstr(fe, "spec.maxUnavailable", mu, &x);
  lb_ferr_intstr(fe, "spec.minAvailable", ma, &x);
  if (old) {
    struct json_object *ospec = jget(old, "spec");
    if (!json_object_equal(jget(ospec, "selector"), jget(spec, "selector")))
      lb_ferr_add(fe, LB_FE_FORBIDDEN, "spec.selector",
                  "field is immutable: create a new PodUnavailableBudget "
                  "instead");
    if (!json_object_equal(jget(ospec, "targetRef"), jget(spec, "targetRef")))
      lb_ferr_add(fe, LB_FE_FORBIDDEN, "spec.targetRef",
                  "field is immutable: create a new PodUnavailableBudget "
                  "instead");
  }
  if (fe->n)
    return 0;
  /* conflicts with the other PUBs of the namespace */
  if ((rc = lb_obj_decode(obj, &mine, &why)) || !mine ||
      mine->kind != LB_KIND_PUB) {
    lb_obj_free(mine);
    if (rc == LB_ENOMEM)
      return rc;
    lb_ferr_add(fe, LB_FE_INVALID, "spec", "%s",
                why ? why : "not a PodUnavailableBudget");
    return 0;
  }
  struct lb_pub *me = (struct lb_pub *)mine;
  struct lb_obj **v;
  size_t n;
  if ((rc = lb_rctx_list(c, LB_KIND_PUB, mine->ns, &v, &n))) {
    lb_obj_free(mine);
    return rc;
  }
  for (size_t i = 0; i < n; i++) {
    const struct lb_pub *o = (const struct lb_pub *)v[i];
    if (!strcmp(o->o.name, mine->name))
      continue;
    if (me->target_kind && o->target_kind) {
      char g1[128], g2[128];
      group_of(me->target_api_version, g1, sizeof g1);
      group_of(o->target_api_version, g2, sizeof g2);
      if (!strcmp(g1, g2) && !strcmp(me->target_kind, o->target_kind) &&
          !strcmp(me->target_name, o->target_name))
        lb_ferr_add(fe, LB_FE_FORBIDDEN, "spec.targetRef",
                    "PodUnavailableBudget %s already targets %s %s: one "
                    "budget per workload; edit that one instead",
                    o->o.name, o->target_kind, o->target_name);
    } else if (me->has_selector && o->has_selector &&
               loose_overlap(&me->selector, &o->selector)) {
      lb_ferr_add(fe, LB_FE_FORBIDDEN, "spec.selector",
                  "overlaps the selector of PodUnavailableBudget %s: a pod "
                  "may be covered by one budget only; make the selectors "
                  "disjoint (a label key pinned to different values)",
                  o->o.name);
    }
  }
  free(v);
  lb_obj_free(mine);
  return 0;
}
