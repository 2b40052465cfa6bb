/* pvc.c — see pvc.h. */
#include "pvc.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloneset.h"
#include "err.h"
#include "reducer.h"

int lb_pvc_name(const char *vct, const char *cs, const char *id, char *out,
                size_t n) {
  int k = snprintf(out, n, "%s-%s-%s", vct, cs, id);
  return k < 0 || (size_t)k >= n ? LB_ERANGE : 0;
}

static const char *jname(struct json_object *o) {
  struct json_object *m, *nm;
  if (json_object_object_get_ex(o, "metadata", &m) &&
      json_object_object_get_ex(m, "name", &nm) &&
      json_object_is_type(nm, json_type_string) && *json_object_get_string(nm))
    return json_object_get_string(nm);
  return NULL;
}

int lb_pvc_template_names(const char *vct_json, char **out) {
  struct lb_buf b = LB_BUF_INIT;
  struct json_object *a = vct_json ? json_tokener_parse(vct_json) : NULL;
  if (a && json_object_is_type(a, json_type_array)) {
    for (size_t i = 0; i < json_object_array_length(a); i++) {
      const char *nm = jname(json_object_array_get_idx(a, i));
      if (nm)
        lb_buf_add(&b, nm, strlen(nm) + 1);
    }
  }
  json_object_put(a);
  lb_buf_add(&b, "", 1);
  if (b.err) {
    lb_buf_release(&b);
    return LB_ENOMEM;
  }
  *out = lb_buf_detach(&b, NULL);
  return 0;
}

int lb_pvc_template_count(const char *vct_json) {
  char *names = NULL;
  int n = 0;
  if (!vct_json || lb_pvc_template_names(vct_json, &names))
    return 0;
  for (const char *p = names; *p; p += strlen(p) + 1)
    n++;
  free(names);
  return n;
}

static const char *id_of(const struct lb_obj *o) {
  const char *id = lb_kv_get(o->labels, LB_LABEL_INSTANCE_ID);
  return id && *id ? id : NULL;
}

/* The owned pod carrying id that is active (want_active) or not, the
 * smallest name first; NULL when none. */
static const struct lb_pod *pod_with_id(const struct lb_cloneset *cs,
                                        const char *id, int want_active) {
  const struct lb_pod *best = NULL;
  for (size_t i = 0; i < cs->n_pods; i++) {
    const struct lb_pod *p = cs->pods[i];
    const char *pid = id_of(&p->o);
    if (!pid || strcmp(pid, id) || !lb_pod_active(p) != !want_active)
      continue;
    if (!best || strcmp(p->o.name, best->o.name) < 0)
      best = p;
  }
  return best;
}

static int cmp_obj_name(const void *a, const void *b) {
  return strcmp((*(const struct lb_obj *const *)a)->name,
                (*(const struct lb_obj *const *)b)->name);
}

/* Owned PVCs by name; caller frees the array. */
static int owned_pvcs(const struct lb_cloneset *cs, struct lb_obj ***out,
                      size_t *n) {
  size_t k = 0;
  *out = calloc(cs->n_owned + 1, sizeof **out);
  *n = 0;
  if (!*out)
    return LB_ENOMEM;
  for (size_t i = 0; i < cs->n_owned; i++)
    if (cs->owned[i]->kind == LB_KIND_PVC)
      (*out)[k++] = cs->owned[i];
  qsort(*out, k, sizeof **out, cmp_obj_name);
  *n = k;
  return 0;
}

static int cmp_id(const void *a, const void *b) {
  return strcmp((const char *)a, (const char *)b);
}

int lb_pvc_plan_ids(const struct lb_cloneset *cs, struct lb_pvc_plan *out) {
  char(*ids)[8];
  size_t n = 0;
  memset(out, 0, sizeof *out);
  if (cs->disable_pvc_reuse)
    return 0;
  ids = calloc(cs->n_owned + 1, sizeof *ids);
  if (!ids)
    return LB_ENOMEM;
  for (size_t i = 0; i < cs->n_owned; i++) {
    const struct lb_obj *o = cs->owned[i];
    const char *id = id_of(o);
    if (o->kind != LB_KIND_PVC || o->deleting_ms || !id ||
        strlen(id) >= sizeof ids[0] || pod_with_id(cs, id, 1))
      continue;
    lb_strlcpy(ids[n++], id, sizeof ids[0]);
  }
  qsort(ids, n, sizeof ids[0], cmp_id);
  /* dedupe (several claims per id), then split reusable / blocked */
  size_t k = 0;
  char prev[8] = "";
  for (size_t i = 0; i < n; i++) {
    if (!strcmp(prev, ids[i]))
      continue;
    memcpy(prev, ids[i], sizeof prev);
    if (pod_with_id(cs, ids[i], 0)) {
      out->n_blocked++;
      continue;
    }
    memmove(ids[k], ids[i], sizeof ids[0]);
    k++;
  }
  out->reuse = ids;
  out->n_reuse = k;
  return 0;
}

void lb_pvc_plan_release(struct lb_pvc_plan *p) {
  free(p->reuse);
  memset(p, 0, sizeof *p);
}

int lb_pvc_creatable(const struct lb_pvc_plan *p, int want) {
  int reuse = (size_t)want < p->n_reuse ? want : (int)p->n_reuse;
  int fresh = want - (int)p->n_reuse - (int)p->n_blocked;
  return want <= 0 ? 0 : reuse + (fresh > 0 ? fresh : 0);
}

int lb_pvc_id_taken(const struct lb_cloneset *cs, const char *id) {
  for (size_t i = 0; i < cs->n_owned; i++) {
    const char *x = id_of(cs->owned[i]);
    if (cs->owned[i]->kind == LB_KIND_PVC && x && !strcmp(x, id))
      return 1;
  }
  return 0;
}

static struct json_object *owner_ref(const struct lb_cloneset *cs) {
  struct json_object *ref = json_object_new_object();
  json_object_object_add(ref, "apiVersion",
                         json_object_new_string("apps.kruise.io/v1alpha1"));
  json_object_object_add(ref, "kind", json_object_new_string("CloneSet"));
  json_object_object_add(ref, "name", json_object_new_string(cs->o.name));
  json_object_object_add(ref, "uid", json_object_new_string(cs->o.uid));
  json_object_object_add(ref, "controller", json_object_new_boolean(1));
  json_object_object_add(ref, "blockOwnerDeletion", json_object_new_boolean(1));
  return ref;
}

char *lb_pvc_body(const struct lb_cloneset *cs, const char *vct_name,
                  const char *id) {
  struct json_object *a =
                         cs->vct_json ? json_tokener_parse(cs->vct_json) : NULL,
                     *t = NULL, *pvc, *meta, *labels, *refs, *x, *tm = NULL;
  char name[512];
  char *out = NULL;
  if (!a || !json_object_is_type(a, json_type_array) ||
      lb_pvc_name(vct_name, cs->o.name, id, name, sizeof name))
    goto out;
  for (size_t i = 0; i < json_object_array_length(a) && !t; i++) {
    const char *nm = jname(json_object_array_get_idx(a, i));
    if (nm && !strcmp(nm, vct_name))
      t = json_object_array_get_idx(a, i);
  }
  if (!t)
    goto out;
  json_object_object_get_ex(t, "metadata", &tm);
  pvc = json_object_new_object();
  json_object_object_add(pvc, "apiVersion", json_object_new_string("v1"));
  json_object_object_add(pvc, "kind",
                         json_object_new_string("PersistentVolumeClaim"));
  meta = json_object_new_object();
  json_object_object_add(pvc, "metadata", meta);
  json_object_object_add(meta, "name", json_object_new_string(name));
  json_object_object_add(meta, "namespace", json_object_new_string(cs->o.ns));
  labels = json_object_new_object();
  if (tm && json_object_object_get_ex(tm, "labels", &x) &&
      json_object_is_type(x, json_type_object)) {
    json_object_object_foreach(x, k, v)
        json_object_object_add(labels, k, json_object_get(v));
  }
  LB_KV_FOR(cs->selector.match_labels, k, v)
  json_object_object_add(labels, k, json_object_new_string(v));
  json_object_object_add(labels, LB_LABEL_INSTANCE_ID,
                         json_object_new_string(id));
  json_object_object_add(meta, "labels", labels);
  if (tm && json_object_object_get_ex(tm, "annotations", &x) &&
      json_object_is_type(x, json_type_object))
    json_object_object_add(meta, "annotations", json_object_get(x));
  refs = json_object_new_array();
  json_object_array_add(refs, owner_ref(cs));
  json_object_object_add(meta, "ownerReferences", refs);
  if (json_object_object_get_ex(t, "spec", &x))
    json_object_object_add(pvc, "spec", json_object_get(x));
  else
    json_object_object_add(pvc, "spec", json_object_new_object());
  out = lb_strdup(json_object_to_json_string_ext(pvc, JSON_C_TO_STRING_PLAIN));
  json_object_put(pvc);
out:
  json_object_put(a);
  return out;
}

static int in_decision(const struct lb_rctx *c, int verb, const char *kind,
                       const char *name) {
  for (size_t a = 0; a < c->d->n_actions; a++)
    if (c->d->actions[a].verb == verb && !strcmp(c->d->actions[a].kind, kind) &&
        !strcmp(c->d->actions[a].name, name))
      return 1;
  return 0;
}

int lb_pvc_create_missing(struct lb_rctx *c, const struct lb_cloneset *cs,
                          const char *id) {
  char *names = NULL;
  int made = 0;
  if (!cs->vct_json)
    return 0;
  if (lb_pvc_template_names(cs->vct_json, &names))
    return LB_ENOMEM;
  for (const char *vn = names; *vn; vn += strlen(vn) + 1) {
    char name[512];
    char *body;
    if (lb_pvc_name(vn, cs->o.name, id, name, sizeof name) ||
        lb_rctx_get(c, LB_KIND_PVC, cs->o.ns, name) ||
        in_decision(c, LB_VERB_CREATE, "PersistentVolumeClaim", name))
      continue;
    if (!(body = lb_pvc_body(cs, vn, id)) ||
        !lb_rctx_action(c, LB_VERB_CREATE, LB_KIND_PVC, cs->o.ns, name, "",
                        body)) {
      free(names);
      return LB_ENOMEM;
    }
    made++;
  }
  free(names);
  return made;
}

int lb_pvc_pod_volumes(struct json_object *pod, const struct lb_cloneset *cs,
                       const char *id) {
  struct json_object *spec = NULL, *copy = NULL, *vols, *old;
  char *names = NULL;
  int rc = 0;
  if (!cs->vct_json || !lb_pvc_template_count(cs->vct_json))
    return 0;
  if (lb_pvc_template_names(cs->vct_json, &names))
    return LB_ENOMEM;
  /* the template's spec is shared by every pod of the batch: copy */
  if (!json_object_object_get_ex(pod, "spec", &spec) ||
      json_object_deep_copy(spec, &copy, NULL) != 0 || !copy) {
    free(names);
    return LB_ENOMEM;
  }
  vols = json_object_new_array();
  for (const char *vn = names; *vn; vn += strlen(vn) + 1) {
    char claim[512];
    struct json_object *v = json_object_new_object(),
                       *src = json_object_new_object();
    lb_pvc_name(vn, cs->o.name, id, claim, sizeof claim);
    json_object_object_add(v, "name", json_object_new_string(vn));
    json_object_object_add(src, "claimName", json_object_new_string(claim));
    json_object_object_add(v, "persistentVolumeClaim", src);
    json_object_array_add(vols, v);
  }
  if (json_object_object_get_ex(copy, "volumes", &old) &&
      json_object_is_type(old, json_type_array)) {
    for (size_t i = 0; i < json_object_array_length(old); i++) {
      struct json_object *v = json_object_array_get_idx(old, i), *nm;
      int replaced = 0;
      if (json_object_object_get_ex(v, "name", &nm) &&
          json_object_is_type(nm, json_type_string))
        for (const char *vn = names; *vn && !replaced; vn += strlen(vn) + 1)
          replaced = !strcmp(vn, json_object_get_string(nm));
      if (!replaced)
        json_object_array_add(vols, json_object_get(v));
    }
  }
  json_object_object_add(copy, "volumes", vols);
  json_object_object_add(pod, "spec", copy);
  free(names);
  return rc;
}

static int delete_claim(struct lb_rctx *c, const struct lb_obj *o) {
  struct lb_action *a =
      lb_rctx_action(c, LB_VERB_DELETE, LB_KIND_PVC, o->ns, o->name, "", NULL);
  if (!a)
    return LB_ENOMEM;
  free(a->uid);
  return (a->uid = lb_strdup(o->uid)) ? 0 : LB_ENOMEM;
}

/* ownerReferences = [pod]: the claim is the pod's now and goes with it. */
static int hand_over(struct lb_rctx *c, const struct lb_obj *o,
                     const struct lb_pod *p) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_adds(&b, "{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":"
                  "\"v1\",\"kind\":\"Pod\",\"name\":");
  lb_buf_add_json_str(&b, p->o.name);
  lb_buf_adds(&b, ",\"uid\":");
  lb_buf_add_json_str(&b, p->o.uid);
  lb_buf_adds(&b, "}]}}");
  if (b.err || !lb_rctx_action(c, LB_VERB_PATCH, LB_KIND_PVC, o->ns, o->name,
                               "", lb_buf_detach(&b, NULL))) {
    lb_buf_release(&b);
    return LB_ENOMEM;
  }
  return 0;
}

int lb_pvc_delete_for_pod(struct lb_rctx *c, const struct lb_cloneset *cs,
                          const struct lb_pod *p) {
  const char *id = id_of(&p->o);
  struct lb_obj **v;
  size_t n;
  int done = 0, rc = 0;
  if (!id || !cs->n_owned)
    return 0;
  if (owned_pvcs(cs, &v, &n))
    return LB_ENOMEM;
  for (size_t i = 0; i < n && !rc; i++) {
    const char *x = id_of(v[i]);
    if (v[i]->deleting_ms || !x || strcmp(x, id) ||
        in_decision(c, LB_VERB_DELETE, "PersistentVolumeClaim", v[i]->name) ||
        in_decision(c, LB_VERB_PATCH, "PersistentVolumeClaim", v[i]->name))
      continue;
    /* With disablePVCReuse the claim is handed to the pod instead: it
     * goes with the pod all the same, and the answer (the claim owned by
     * the pod) leaves no stale copy that looks like ours. */
    rc = cs->disable_pvc_reuse ? hand_over(c, v[i], p) : delete_claim(c, v[i]);
    if (!rc)
      done++;
  }
  free(v);
  return rc ? rc : done;
}

int lb_pvc_cleanup(struct lb_rctx *c, const struct lb_cloneset *cs) {
  struct lb_obj **v;
  size_t n;
  int handed = 0, deleted = 0, rc = 0;
  struct lb_buf hb = LB_BUF_INIT, db = LB_BUF_INIT;
  if (!cs->disable_pvc_reuse || cs->inflight_pods || cs->inflight_revs ||
      !cs->n_owned)
    return 0;
  if (owned_pvcs(cs, &v, &n))
    return LB_ENOMEM;
  for (size_t i = 0; i < n && !rc; i++) {
    const char *id = id_of(v[i]);
    const struct lb_pod *p;
    if (v[i]->deleting_ms || !id || pod_with_id(cs, id, 1))
      continue;
    if ((p = pod_with_id(cs, id, 0))) {
      if ((rc = hand_over(c, v[i], p)))
        break;
      lb_buf_addf(&hb, "%s%s->%s", handed ? "," : "", v[i]->name, p->o.name);
      handed++;
    } else {
      if ((rc = delete_claim(c, v[i])))
        break;
      lb_buf_addf(&db, "%s%s", deleted ? "," : "", v[i]->name);
      deleted++;
    }
  }
  free(v);
  if (!rc && handed)
    lb_rctx_reasonf(c,
                    "disablePVCReuse: %d claim(s) of inactive pods handed to "
                    "their pod (%s)",
                    handed, hb.p);
  if (!rc && deleted)
    lb_rctx_reasonf(c, "disablePVCReuse: deleting %d claim(s) with no pod (%s)",
                    deleted, db.p);
  if (!rc)
    rc = hb.err ? hb.err : db.err;
  lb_buf_release(&hb);
  lb_buf_release(&db);
  return rc ? rc : handed + deleted;
}
