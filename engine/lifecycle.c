/* lifecycle.c — pod lifecycle hooks and the KruisePodReady writer; the
 * state machine is drawn in lifecycle.h. */
#include "lifecycle.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "inplace.h"

/* --- parsing ------------------------------------------------------------ */
static int parse_hook(struct json_object *j, struct lb_lifecycle_hook *h,
                      const char **why) {
  struct json_object *lh = NULL, *fh = NULL, *mn = NULL;
  struct lb_buf l = LB_BUF_INIT, f = LB_BUF_INIT;
  if (!j || json_object_is_type(j, json_type_null))
    return 0;
  if (!json_object_is_type(j, json_type_object)) {
    *why = "spec.lifecycle: a hook must be an object";
    return LB_EPARSE;
  }
  h->set = 1;
  json_object_object_get_ex(j, "labelsHandler", &lh);
  json_object_object_get_ex(j, "finalizersHandler", &fh);
  json_object_object_get_ex(j, "markPodNotReady", &mn);
  h->mark_not_ready = mn && json_object_get_boolean(mn);
  if (json_object_is_type(lh, json_type_object)) {
    json_object_object_foreach(lh, k, v) {
      const char *s = json_object_is_type(v, json_type_string)
                          ? json_object_get_string(v)
                          : "";
      lb_buf_add(&l, k, strlen(k) + 1);
      lb_buf_add(&l, s, strlen(s) + 1);
    }
  }
  for (size_t i = 0; json_object_is_type(fh, json_type_array) &&
                     i < json_object_array_length(fh);
       i++) {
    struct json_object *e = json_object_array_get_idx(fh, i);
    if (json_object_is_type(e, json_type_string) && *json_object_get_string(e))
      lb_buf_add(&f, json_object_get_string(e),
                 strlen(json_object_get_string(e)) + 1);
  }
  lb_buf_add(&l, "", 1);
  lb_buf_add(&f, "", 1);
  if (l.err || f.err) {
    lb_buf_release(&l);
    lb_buf_release(&f);
    return LB_ENOMEM;
  }
  h->labels = lb_buf_detach(&l, NULL);
  h->finalizers = lb_buf_detach(&f, NULL);
  return 0;
}

int lb_lifecycle_parse(const char *json, struct lb_lifecycle *out,
                       const char **why) {
  struct json_object *root, *v;
  int rc = 0;
  memset(out, 0, sizeof *out);
  *why = NULL;
  if (!json || !*json)
    return 0;
  root = json_tokener_parse(json);
  if (!json_object_is_type(root, json_type_object)) {
    json_object_put(root);
    *why = "spec.lifecycle must be an object";
    return LB_EPARSE;
  }
  if (!rc && json_object_object_get_ex(root, "preDelete", &v))
    rc = parse_hook(v, &out->pre_delete, why);
  if (!rc && json_object_object_get_ex(root, "inPlaceUpdate", &v))
    rc = parse_hook(v, &out->in_place_update, why);
  if (!rc && json_object_object_get_ex(root, "preNormal", &v))
    rc = parse_hook(v, &out->pre_normal, why);
  json_object_put(root);
  return rc;
}

static void hook_release(struct lb_lifecycle_hook *h) {
  free(h->labels);
  free(h->finalizers);
  memset(h, 0, sizeof *h);
}

void lb_lifecycle_release(struct lb_lifecycle *lc) {
  hook_release(&lc->pre_delete);
  hook_release(&lc->in_place_update);
  hook_release(&lc->pre_normal);
}

/* --- hooked checks ------------------------------------------------------ */
const char *lb_lifecycle_state(const struct lb_pod *p) {
  return p->lc ? p->lc : ""; /* derived at decode (obj.c pod_derive) */
}

static int has_finalizer(const struct lb_pod *p, const char *f) {
  for (const char *x = p->finalizers; x && *x; x += strlen(x) + 1)
    if (!strcmp(x, f))
      return 1;
  return 0;
}

static int has_label(const struct lb_pod *p, const char *k, const char *v) {
  const char *have = lb_kv_get(p->o.labels, k);
  return have && !strcmp(have, v);
}

int lb_lifecycle_hooked(const struct lb_lifecycle_hook *h,
                        const struct lb_pod *p) {
  if (!h->set)
    return 0;
  for (const char *f = h->finalizers; f && *f; f += strlen(f) + 1)
    if (has_finalizer(p, f))
      return 1;
  LB_KV_FOR(h->labels, k, v) {
    if (has_label(p, k, v))
      return 1;
  }
  return 0;
}

int lb_lifecycle_all_hooked(const struct lb_lifecycle_hook *h,
                            const struct lb_pod *p) {
  if (!h->set)
    return 0;
  for (const char *f = h->finalizers; f && *f; f += strlen(f) + 1)
    if (!has_finalizer(p, f))
      return 0;
  LB_KV_FOR(h->labels, k, v) {
    if (!has_label(p, k, v))
      return 0;
  }
  return 1;
}

int lb_lifecycle_marks_not_ready(const struct lb_lifecycle *lc) {
  return (lc->pre_delete.set && lc->pre_delete.mark_not_ready) ||
         (lc->in_place_update.set && lc->in_place_update.mark_not_ready) ||
         (lc->pre_normal.set && lc->pre_normal.mark_not_ready);
}

void lb_lifecycle_describe_hooked(const struct lb_lifecycle_hook *h,
                                  const struct lb_pod *p, struct lb_buf *out) {
  int n = 0;
  LB_KV_FOR(h->labels, k, v) {
    if (has_label(p, k, v))
      lb_buf_addf(out, "%s%s=%s", n++ ? "," : "labels ", k, v);
  }
  int m = 0;
  for (const char *f = h->finalizers; f && *f; f += strlen(f) + 1)
    if (has_finalizer(p, f))
      lb_buf_addf(out, "%s%s",
                  m++ ? ","
                  : n ? "; finalizers "
                      : "finalizers ",
                  f);
}

/* --- writes ------------------------------------------------------------- */
static int missing_finalizers(const struct lb_lifecycle_hook *h,
                              const struct lb_pod *p) {
  for (const char *f = h->finalizers; f && *f; f += strlen(f) + 1)
    if (!has_finalizer(p, f))
      return 1;
  return 0;
}

char *lb_lifecycle_state_patch(const struct lb_pod *p, const char *state,
                               int64_t now,
                               const struct lb_lifecycle_hook *reapply) {
  struct lb_buf b = LB_BUF_INIT;
  char ts[32];
  int fin = reapply && missing_finalizers(reapply, p);
  lb_time_rfc3339(now, ts);
  lb_buf_adds(&b, "{\"metadata\":{");
  if (fin) { /* a merge patch replaces the list: guard against races */
    lb_buf_adds(&b, "\"resourceVersion\":");
    lb_buf_add_json_str(&b, p->o.rv ? p->o.rv : "");
    lb_buf_adds(&b, ",\"finalizers\":[");
    int n = 0;
    for (const char *f = p->finalizers; f && *f; f += strlen(f) + 1, n++) {
      lb_buf_adds(&b, n ? "," : "");
      lb_buf_add_json_str(&b, f);
    }
    for (const char *f = reapply->finalizers; f && *f; f += strlen(f) + 1)
      if (!has_finalizer(p, f)) {
        lb_buf_adds(&b, n++ ? "," : "");
        lb_buf_add_json_str(&b, f);
      }
    lb_buf_adds(&b, "],");
  }
  lb_buf_adds(&b, "\"labels\":{\"lifecycle.apps.kruise.io/state\":");
  lb_buf_add_json_str(&b, state);
  if (reapply) {
    LB_KV_FOR(reapply->labels, k, v) {
      lb_buf_adds(&b, ",");
      lb_buf_add_json_str(&b, k);
      lb_buf_adds(&b, ":");
      lb_buf_add_json_str(&b, v);
    }
  }
  lb_buf_addf(&b,
              "},\"annotations\":{\"lifecycle.apps.kruise.io/timestamp\":"
              "\"%s\"}}}",
              ts);
  return b.err ? (lb_buf_release(&b), NULL) : lb_buf_detach(&b, NULL);
}

static const char *after_update(const struct lb_lifecycle *lc,
                                const struct lb_pod *p) {
  return lc->in_place_update.set &&
                 !lb_lifecycle_all_hooked(&lc->in_place_update, p)
             ? LB_LC_UPDATED
             : LB_LC_NORMAL;
}

const char *lb_lifecycle_refresh_state(const struct lb_lifecycle *lc,
                                       const struct lb_pod *p,
                                       int at_update_rev, int completed) {
  const int s = p->lc_kind; /* lb_lifecycle_state(p), derived at decode */
  if (s == LB_LCK_PREPARING_NORMAL)
    return !lc->pre_normal.set || lb_lifecycle_all_hooked(&lc->pre_normal, p)
               ? LB_LC_NORMAL
               : NULL;
  if (s == LB_LCK_PREPARING_UPDATE) /* rolled back meanwhile (#1156) */
    return at_update_rev ? after_update(lc, p) : NULL;
  if (s == LB_LCK_UPDATING)
    return completed ? after_update(lc, p) : NULL;
  if (s == LB_LCK_UPDATED)
    return !lc->in_place_update.set ||
                   lb_lifecycle_all_hooked(&lc->in_place_update, p)
               ? LB_LC_NORMAL
               : NULL;
  return NULL;
}

int lb_lifecycle_before_update(const struct lb_lifecycle *lc,
                               const struct lb_pod *p,
                               const struct lb_lifecycle_hook **reapply) {
  const char *s = lb_lifecycle_state(p);
  const struct lb_lifecycle_hook *h = &lc->in_place_update;
  *reapply = NULL;
  if (!*s || !strcmp(s, LB_LC_PREPARING_NORMAL) || !strcmp(s, LB_LC_NORMAL))
    return lb_lifecycle_hooked(h, p) ? LB_LIFECYCLE_MOVE : LB_LIFECYCLE_PROCEED;
  if (!strcmp(s, LB_LC_UPDATED)) {
    *reapply = h->set ? h : NULL;
    return LB_LIFECYCLE_MOVE;
  }
  if (!strcmp(s, LB_LC_PREPARING_UPDATE))
    return lb_lifecycle_hooked(h, p) ? LB_LIFECYCLE_WAIT : LB_LIFECYCLE_PROCEED;
  if (!strcmp(s, LB_LC_UPDATING))
    return LB_LIFECYCLE_PROCEED;
  return LB_LIFECYCLE_WAIT; /* PreparingDelete or unknown: never updated */
}

/* --- KruisePodReady ----------------------------------------------------- */
/* The not-ready key the lifecycle puts on a pod in `state`, or NULL. */
static const char *podready_key(const struct lb_lifecycle *lc,
                                const char *state) {
  if (!strcmp(state, LB_LC_PREPARING_DELETE) && lc->pre_delete.set &&
      lc->pre_delete.mark_not_ready)
    return "preDeleteHook";
  if ((!strcmp(state, LB_LC_PREPARING_UPDATE) ||
       !strcmp(state, LB_LC_UPDATING)) &&
      lc->in_place_update.set && lc->in_place_update.mark_not_ready)
    return "preUpdateHook";
  return NULL;
}

int lb_lifecycle_podready_message(const struct lb_lifecycle *lc,
                                  const char *state, struct lb_buf *msg) {
  const char *key = podready_key(lc, state);
  if (!key) {
    lb_buf_adds(msg, "[]");
    return 0;
  }
  lb_buf_addf(msg, "[{\"userAgent\":\"Lifecycle\",\"key\":\"%s\"}]", key);
  return 1;
}

int lb_lifecycle_podready_due(const struct lb_lifecycle *lc,
                              const struct lb_pod *p) {
  const char *have = p->kpr_ready;
  if (!p->gate_kpr)
    return 0;
  return !have ||
         strcmp(have, podready_key(lc, lb_lifecycle_state(p)) ? "False"
                                                              : "True") != 0;
}

int lb_lifecycle_podready_conds(const struct lb_lifecycle *lc,
                                const struct lb_pod *p, int64_t now,
                                struct lb_buf *conds) {
  struct lb_buf msg = LB_BUF_INIT;
  int keys, appended = 0;
  if (lb_lifecycle_podready_due(lc, p)) {
    keys = lb_lifecycle_podready_message(lc, lb_lifecycle_state(p), &msg);
    lb_inplace_cond_json(conds, LB_COND_KRUISE_POD_READY, !keys, NULL,
                         msg.p ? msg.p : "[]", now);
    if (keys) /* drain traffic now; kubelet recomputes Ready later */
      lb_inplace_cond_json(conds, "Ready", 0, "KruisePodNotReady", NULL, now);
    appended = 1;
  }
  lb_buf_release(&msg);
  return appended;
}
