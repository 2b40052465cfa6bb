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
#include "map.h"
#include "reducer.h"

static const char id_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

struct rec {
  struct lb_rctx *c;
  struct lb_cloneset *cs;
  char update_rev[300], current_rev[300];
  char *rev_data; /* revision data of the template (malloc'd) */
  int collision_count;
  struct lb_cs_podinfo *pi; /* active pods */
  size_t n;
  int inactive; /* owned pods terminating or finished */
  struct lb_cs_calc calc;
  struct lb_cs_status st; /* computed status (borrowed strings) */
  char *label_selector;
};

static const char *lifecycle(const struct lb_pod *p) {
  const char *s = lb_kv_get(p->o.labels, LB_LABEL_LIFECYCLE);
  return s ? s : "";
}

static int is_to_delete(const struct lb_cloneset *cs, const struct lb_pod *p) {
  if (lb_kv_get(p->o.labels, LB_LABEL_SPECIFIED_DELETE))
    return 1;
  for (const char *n = cs->pods_to_delete; n && *n; n += strlen(n) + 1)
    if (!strcmp(n, p->o.name))
      return 1;
  return 0;
}

/* Revision data as upstream stores it: a strategic-merge patch replacing
 * the whole template. template_json is canonical (sorted keys), so the
 * "$patch" key, which sorts first, goes right after the brace. */
static char *revision_data(const char *template_json) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_adds(&b, "{\"spec\":{\"template\":{\"$patch\":\"replace\"");
  if (strcmp(template_json, "{}") != 0) {
    lb_buf_adds(&b, ",");
    lb_buf_adds(&b, template_json + 1);
  } else {
    lb_buf_adds(&b, "}");
  }
  lb_buf_adds(&b, "}}");
  return b.err ? (lb_buf_release(&b), NULL) : lb_buf_detach(&b, NULL);
}

static int resolve_revisions(struct rec *r) {
  struct lb_cloneset *cs = r->cs;
  char hash[16];
  r->rev_data = revision_data(cs->template_json);
  if (!r->rev_data)
    return LB_ENOMEM;
  r->collision_count = cs->status.collision_count;
  for (int tries = 0; tries < 100; tries++) {
    struct lb_crev *existing;
    lb_cs_revision_hash(r->rev_data, r->collision_count, hash, sizeof hash);
    snprintf(r->update_rev, sizeof r->update_rev, "%s-%s", cs->o.name, hash);
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

static int cmp_name(const void *a, const void *b) {
  return strcmp(((const struct lb_cs_podinfo *)a)->pod->o.name,
                ((const struct lb_cs_podinfo *)b)->pod->o.name);
}

static int collect(struct rec *r, struct lb_map *nodes) {
  struct lb_cloneset *cs = r->cs;
  int64_t min_ready_ms = (int64_t)cs->min_ready_seconds * 1000;
  r->pi = calloc(cs->n_pods + 1, sizeof *r->pi);
  if (!r->pi)
    return LB_ENOMEM;
  for (size_t i = 0; i < cs->n_pods; i++) {
    struct lb_pod *p = cs->pods[i];
    const char *lc;
    if (!lb_pod_active(p)) {
      r->inactive++;
      continue;
    }
    struct lb_cs_podinfo *x = &r->pi[r->n++];
    lc = lifecycle(p);
    x->pod = p;
    x->is_new = !strcmp(lb_pod_revision(p), r->update_rev);
    x->predeleting = !strcmp(lc, "PreparingDelete");
    x->to_delete = is_to_delete(cs, p);
    x->available = p->ready && p->phase == LB_PH_RUNNING &&
                   (!*lc || !strcmp(lc, "Normal")) &&
                   r->c->now - p->ready_ms >= min_ready_ms;
    if (p->ready && p->phase == LB_PH_RUNNING && !x->available &&
        r->c->now - p->ready_ms < min_ready_ms) {
      int64_t at = p->ready_ms + min_ready_ms; /* becomes available then */
      if (!r->c->wakeup_ms || at < r->c->wakeup_ms)
        r->c->wakeup_ms = at;
    }
    if (p->node) {
      intptr_t k = (intptr_t)lb_map_get(nodes, p->node);
      if (lb_map_put(nodes, p->node, (void *)(k + 1), NULL))
        return LB_ENOMEM;
    }
  }
  /* The owner's pod array is a set whose order depends on arrival (and is
   * different after a snapshot restore); every loop below sees pods by
   * name so decisions never depend on it. */
  qsort(r->pi, r->n, sizeof *r->pi, cmp_name);
  for (size_t i = 0; i < r->n; i++) {
    struct lb_pod *p = r->pi[i].pod;
    r->pi[i].node_rank =
        p->node ? (int)(intptr_t)lb_map_get(nodes, p->node) - 1 : 0;
  }
  return 0;
}

static void calculate(struct rec *r) {
  struct lb_cs_calc_in in;
  struct lb_cloneset *cs = r->cs;
  memset(&in, 0, sizeof in);
  in.replicas = cs->replicas;
  in.partition = cs->partition;
  in.max_surge = cs->max_surge;
  in.max_unavailable = cs->max_unavailable;
  in.scale_max_unavailable = cs->scale_max_unavailable;
  in.paused = cs->paused;
  in.n_pods = (int)r->n;
  for (size_t i = 0; i < r->n; i++) {
    const struct lb_cs_podinfo *x = &r->pi[i];
    if (x->is_new) {
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
  lb_cs_calc(&in, &r->calc);
}

static int cmp_victim_ptr(const void *a, const void *b) {
  return lb_cs_cmp_victim(*(const struct lb_cs_podinfo *const *)a,
                          *(const struct lb_cs_podinfo *const *)b);
}
static int cmp_update_ptr(const void *a, const void *b) {
  return lb_cs_cmp_update(*(const struct lb_cs_podinfo *const *)a,
                          *(const struct lb_cs_podinfo *const *)b);
}

/* --- actions ------------------------------------------------------------ */
static struct json_object *template_of_revision(struct rec *r,
                                                const char *rev) {
  struct lb_crev *cr;
  struct json_object *d, *spec, *t;
  if (!strcmp(rev, r->update_rev))
    return json_tokener_parse(r->cs->template_json);
  cr = (struct lb_crev *)lb_rctx_get(r->c, LB_KIND_CREV, r->cs->o.ns, rev);
  if (!cr || !(d = json_tokener_parse(cr->data)))
    return NULL;
  if (!json_object_object_get_ex(d, "spec", &spec) ||
      !json_object_object_get_ex(spec, "template", &t)) {
    json_object_put(d);
    return NULL;
  }
  json_object_get(t);
  json_object_put(d);
  json_object_object_del(t, "$patch");
  return t;
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
  if (json_object_object_get_ex(tmpl, "spec", &spec))
    json_object_object_add(pod, "spec", json_object_get(spec));
  else
    json_object_object_add(pod, "spec", json_object_new_object());
  out = lb_strdup(json_object_to_json_string_ext(pod, JSON_C_TO_STRING_PLAIN));
  json_object_put(pod);
  return out;
}

/* Instance id: 5 chars of the upstream alphabet derived from the CloneSet
 * uid, the event seq and a counter — deterministic, unique in the set. */
static void new_id(struct rec *r, unsigned *counter, char id[6], char *name,
                   size_t name_n) {
  for (;;) {
    char seedtxt[128];
    int n = snprintf(seedtxt, sizeof seedtxt, "%s:%lld:%u", r->cs->o.uid,
                     (long long)r->c->ev->seq, (*counter)++);
    uint64_t h = XXH3_64bits(seedtxt, (size_t)n);
    for (int i = 0; i < 5; i++, h /= 27)
      id[i] = id_alphabet[h % 27];
    id[5] = '\0';
    snprintf(name, name_n, "%s-%s", r->cs->o.name, id);
    if (!lb_rctx_get(r->c, LB_KIND_POD, r->cs->o.ns, name)) {
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
    new_id(r, &counter, id, name, sizeof name);
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
    if (!lb_rctx_action(r->c, LB_VERB_CREATE, LB_KIND_POD, r->cs->o.ns, name,
                        "", body))
      rc = LB_ENOMEM;
  }
out:
  json_object_put(tmpl_new);
  json_object_put(tmpl_old);
  return rc;
}

static int delete_pod(struct rec *r, const struct lb_pod *p) {
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

/* Deletes from `v` (sorted victims first) up to `want` pods; ready pods
 * only while *ready_budget lasts. Returns pods deleted or < 0. */
static int delete_some(struct rec *r, struct lb_cs_podinfo **v, size_t n,
                       int want, int *ready_budget, const char *why) {
  int done = 0, rc;
  struct lb_buf b = LB_BUF_INIT;
  for (size_t i = 0; i < n && done < want; i++) {
    const struct lb_pod *p = v[i]->pod;
    if (p->ready) {
      if (*ready_budget <= 0)
        continue;
      (*ready_budget)--;
    }
    if ((rc = delete_pod(r, p))) {
      lb_buf_release(&b);
      return rc;
    }
    lb_buf_addf(&b, "%s%s", done ? "," : "", p->o.name);
    done++;
  }
  if (done)
    lb_rctx_reasonf(r->c, "%s: deleting %d (%s)", why, done, b.p);
  lb_buf_release(&b);
  return done;
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
  if (k->scale_up == 0 && k->scale_up_limited) {
    lb_rctx_reasonf(r->c,
                    "scale up blocked: replicas %d, active %d, but "
                    "scaleStrategy.maxUnavailable %d <= unavailable %d",
                    cs->replicas, (int)r->n, k->scale_max_unavailable,
                    k->total_unavailable);
    free(v);
    return 1; /* scaling is pending: no update in this round */
  }
  if (k->scale_up > 0) {
    int active = (int)r->n;
    int batch =
        r->c->opts->slow_start ? (active > 0 ? active : 1) : k->scale_up;
    if (batch > r->c->opts->max_batch)
      batch = r->c->opts->max_batch;
    int n = k->scale_up < batch ? k->scale_up : batch;
    int n_old = k->scale_up_old < n ? k->scale_up_old : n;
    lb_rctx_reasonf(r->c,
                    "scale up: replicas %d, active %d, expected %d (surge %d): "
                    "creating %d of %d (slow-start batch %d), %d at current "
                    "revision %s to keep partition %d%s",
                    cs->replicas, active, k->expected_total, k->use_surge, n,
                    k->scale_up, batch, n_old, r->current_rev, k->partition,
                    k->scale_up_limited ? "; limited by scaleStrategy."
                                          "maxUnavailable"
                                        : "");
    rc = create_pods(r, n, n_old);
    free(v);
    return rc ? rc : 1;
  }
  /* PreparingDelete pods with no preDelete hook configured: delete. */
  for (size_t i = 0; i < r->n; i++)
    if (r->pi[i].predeleting)
      v[nv++] = &r->pi[i];
  if (nv) {
    int big = (int)nv, inf = 1 << 30;
    rc = delete_some(r, v, nv, big, &inf, "PreparingDelete without hook");
    free(v);
    return rc < 0 ? rc : rc > 0;
  }
  /* Specified deletions: not-ready freely, ready within the limit. */
  for (size_t i = 0; i < r->n; i++)
    if (r->pi[i].to_delete)
      v[nv++] = &r->pi[i];
  if (nv) {
    qsort(v, nv, sizeof *v, cmp_victim_ptr);
    rc = delete_some(r, v, nv, (int)nv, &budget, "specified delete");
    if (rc == 0)
      lb_rctx_reasonf(r->c,
                      "specified delete of %zu pod(s) waits: ready "
                      "pods may be deleted only within deleteReadyLimit %d "
                      "(maxUnavailable %d + surplus %d - unavailable %d)",
                      nv, k->delete_ready_limit, k->max_unavailable,
                      (int)r->n - cs->replicas, k->total_unavailable);
    free(v);
    return rc < 0 ? rc : 1; /* pending specified deletion blocks the rest */
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
    qsort(old, n_old, sizeof *old, cmp_victim_ptr);
    qsort(nw, n_new, sizeof *nw, cmp_victim_ptr);
    lb_rctx_reasonf(r->c,
                    "scale down: replicas %d, active %d, expected %d: remove "
                    "%d (%d from old revisions), deleteReadyLimit %d",
                    cs->replicas, (int)r->n, k->expected_total, k->scale_down,
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

/* Refresh: move PreparingNormal pods to Normal (no preNormal hook exists
 * yet). Returns the number of pods patched, or < 0. */
static int refresh(struct rec *r) {
  char ts[32], body[256];
  int n = 0, rc;
  lb_time_rfc3339(r->c->now, ts);
  snprintf(body, sizeof body,
           "{\"metadata\":{\"labels\":{\"" LB_LABEL_LIFECYCLE
           "\":\"Normal\"},\"annotations\":{\"" LB_ANNO_LIFECYCLE_TS
           "\":\"%s\"}}}",
           ts);
  for (size_t i = 0; i < r->n; i++) {
    const struct lb_pod *p = r->pi[i].pod;
    if (!strcmp(lifecycle(p), "PreparingNormal")) {
      if ((rc = patch_pod(r, p, body)))
        return rc;
      n++;
    }
  }
  if (n)
    lb_rctx_reasonf(r->c,
                    "refresh: %d pod(s) PreparingNormal -> Normal "
                    "(no preNormal hook)",
                    n);
  return n;
}

/* ReCreate update (§3.4 update sequence, steps 2-5). */
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
    if (!x->is_new && !x->predeleting && !x->to_delete)
      cand[nc++] = &r->pi[i];
  }
  qsort(cand, nc, sizeof *cand, cmp_update_ptr);
  if (nc > (size_t)k->update_num)
    nc = (size_t)k->update_num;
  struct lb_buf b = LB_BUF_INIT;
  for (size_t i = 0; i < nc; i++) {
    /* Updating an unavailable pod costs nothing; an available one counts
     * against updateMaxUnavailable. */
    if (cand[i]->available) {
      if (unavailable >= k->update_max_unavailable)
        break;
      unavailable++;
    }
    if ((rc =
             patch_pod(r, cand[i]->pod,
                       "{\"metadata\":{\"labels\":{\"" LB_LABEL_SPECIFIED_DELETE
                       "\":\"true\"}}}")))
      break;
    lb_buf_addf(&b, "%s%s", admitted ? "," : "", cand[i]->pod->o.name);
    admitted++;
  }
  if (!rc && admitted)
    lb_rctx_reasonf(r->c,
                    "update to %s by recreate: %d pod(s) (%s) labelled %s; "
                    "updateNum %d, unavailable now %d of updateMaxUnavailable "
                    "%d, partition %d",
                    r->update_rev, admitted, b.p, LB_LABEL_SPECIFIED_DELETE,
                    k->update_num, unavailable, k->update_max_unavailable,
                    k->partition);
  else if (!rc)
    lb_rctx_reasonf(r->c,
                    "update waits: %d pod(s) to update but %d unavailable >= "
                    "updateMaxUnavailable %d (maxUnavailable %d)",
                    k->update_num, unavailable, k->update_max_unavailable,
                    k->max_unavailable);
  lb_buf_release(&b);
  free(cand);
  return rc ? rc : admitted;
}

static int str_eq(const char *a, const char *b) {
  return !strcmp(a ? a : "", b ? b : "");
}

static int status(struct rec *r) {
  struct lb_cloneset *cs = r->cs;
  struct lb_cs_status *s = &r->st, *o = &cs->status;
  struct lb_buf sel = LB_BUF_INIT, body = LB_BUF_INIT;
  int rc;
  memset(s, 0, sizeof *s);
  s->observed_generation = cs->o.generation;
  s->replicas = (int)r->n;
  for (size_t i = 0; i < r->n; i++) {
    const struct lb_cs_podinfo *x = &r->pi[i];
    int ready = x->pod->ready && x->pod->phase == LB_PH_RUNNING;
    s->ready += ready;
    s->available += x->available;
    s->updated += x->is_new;
    s->updated_ready += x->is_new && ready;
    s->updated_available += x->is_new && x->available;
  }
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
      str_eq(o->label_selector, s->label_selector)) {
    lb_buf_release(&sel);
    return 0;
  }
  if (cs->inflight_status) {
    lb_buf_release(&sel);
    return 0; /* the write in flight will be followed by a fresh look */
  }
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

static int ensure_revision(struct rec *r) {
  struct lb_cloneset *cs = r->cs;
  struct lb_crev *cur;
  struct lb_buf b = LB_BUF_INIT;
  if (lb_rctx_get(r->c, LB_KIND_CREV, cs->o.ns, r->update_rev) ||
      cs->inflight_revs)
    return 0;
  cur = (struct lb_crev *)lb_rctx_get(r->c, LB_KIND_CREV, cs->o.ns,
                                      r->current_rev);
  lb_buf_adds(&b, "{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\","
                  "\"metadata\":{\"name\":");
  lb_buf_add_json_str(&b, r->update_rev);
  lb_buf_adds(&b, ",\"namespace\":");
  lb_buf_add_json_str(&b, cs->o.ns);
  lb_buf_adds(&b, ",\"labels\":{");
  int first = 1;
  LB_KV_FOR(cs->selector.match_labels, k, v) {
    lb_buf_adds(&b, first ? "" : ",");
    lb_buf_add_json_str(&b, k);
    lb_buf_adds(&b, ":");
    lb_buf_add_json_str(&b, v);
    first = 0;
  }
  lb_buf_adds(&b, "},\"ownerReferences\":[{\"apiVersion\":\"apps.kruise.io/"
                  "v1alpha1\",\"kind\":\"CloneSet\",\"name\":");
  lb_buf_add_json_str(&b, cs->o.name);
  lb_buf_adds(&b, ",\"uid\":");
  lb_buf_add_json_str(&b, cs->o.uid);
  lb_buf_addf(&b,
              ",\"controller\":true,\"blockOwnerDeletion\":true}]},"
              "\"revision\":%lld,\"data\":",
              (long long)(cur ? cur->revision + 1 : 1));
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

int lb_cloneset_reconcile(struct lb_rctx *c, struct lb_obj *o) {
  struct lb_cloneset *cs = (struct lb_cloneset *)o;
  struct lb_map nodes;
  struct rec r;
  int rc, acted;
  memset(&r, 0, sizeof r);
  r.c = c;
  r.cs = cs;
  lb_map_init(&nodes);
  if (o->deleting_ms) {
    lb_rctx_reasonf(c, "CloneSet is being deleted; its pods are left to "
                       "garbage collection");
    return 0;
  }
  if ((rc = resolve_revisions(&r)) || (rc = collect(&r, &nodes)))
    goto out;
  calculate(&r);
  if ((rc = ensure_revision(&r)))
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
      if (!acted && !r.calc.update_num && r.n == (size_t)cs->replicas)
        lb_rctx_reasonf(c, "steady: %d/%d pods at %s, partition %d", (int)r.n,
                        cs->replicas, r.update_rev, r.calc.partition);
    }
  }
  rc = status(&r);
out:
  lb_map_release(&nodes);
  free(r.rev_data);
  free(r.pi);
  return rc;
}
