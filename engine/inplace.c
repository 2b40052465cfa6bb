/* inplace.c — the in-place update engine; the state machine is drawn in
 * inplace.h. */
#include "inplace.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

/* --- small JSON helpers -------------------------------------------------- */
static struct json_object *member(struct json_object *o, const char *k) {
  struct json_object *v = NULL;
  if (json_object_is_type(o, json_type_object))
    json_object_object_get_ex(o, k, &v);
  return v;
}

static const char *str_member(struct json_object *o, const char *k) {
  struct json_object *v = member(o, k);
  return json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                  : NULL;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int skipped(const char *k, const char *const *skip) {
  for (const char *const *sk = skip; sk && *sk; sk++)
    if (!strcmp(k, *sk))
      return 1;
  return 0;
}

/* The first key (in sorted order) of the union of a and b, other than the
 * NULL-terminated `skip` list, whose values differ; NULL when none. The
 * key points into a or b. */
static const char *first_diff(struct json_object *a, struct json_object *b,
                              const char *const *skip) {
  const char *keys[256];
  size_t n = 0;
  struct json_object *side[2] = {a, b};
  for (int s = 0; s < 2; s++) {
    if (!json_object_is_type(side[s], json_type_object))
      continue;
    json_object_object_foreach(side[s], k, v) {
      (void)v;
      if (n < LB_ARRAY_SIZE(keys))
        keys[n++] = k;
    }
  }
  qsort(keys, n, sizeof *keys, cmp_str);
  for (size_t i = 0; i < n; i++)
    if (!skipped(keys[i], skip) &&
        !json_object_equal(member(a, keys[i]), member(b, keys[i])))
      return keys[i];
  for (int s = 0; n == LB_ARRAY_SIZE(keys) && s < 2; s++) {
    if (!json_object_is_type(side[s], json_type_object))
      continue;
    json_object_object_foreach(side[s], k, v) { /* the keys not sorted */
      (void)v;
      if (!skipped(k, skip) && !json_object_equal(member(a, k), member(b, k)))
        return k;
    }
  }
  return NULL;
}

/* --- the diff ------------------------------------------------------------ */
void lb_inplace_diff_release(struct lb_inplace_diff *d) {
  for (size_t i = 0; i < d->n_imgs; i++) {
    free(d->imgs[i].name);
    free(d->imgs[i].image);
  }
  free(d->imgs);
  free(d->meta_patch);
  memset(d, 0, sizeof *d);
}

/* Merge patch turning map a into map b (keys sorted), into out as
 * "name":{...}; returns whether anything differs. */
static int map_patch(struct json_object *a, struct json_object *b,
                     const char *name, struct json_object *out) {
  struct json_object *p = json_object_new_object();
  int n = 0;
  if (!p)
    return 0;
  if (json_object_is_type(b, json_type_object)) {
    json_object_object_foreach(b, k, v) {
      if (!json_object_equal(v, member(a, k))) {
        json_object_object_add(p, k, json_object_get(v));
        n++;
      }
    }
  }
  if (json_object_is_type(a, json_type_object)) {
    json_object_object_foreach(a, k, v) {
      (void)v;
      if (!(json_object_is_type(b, json_type_object) &&
            json_object_object_get_ex(b, k, NULL))) {
        json_object_object_add(p, k, NULL);
        n++;
      }
    }
  }
  if (n)
    json_object_object_add(out, name, p);
  else
    json_object_put(p);
  return n > 0;
}

static int ctr_priority(struct json_object *ctr, size_t idx, int ordered) {
  struct json_object *env = member(ctr, "env");
  if (ordered)
    return -(int)idx;
  for (size_t i = 0; json_object_is_type(env, json_type_array) &&
                     i < json_object_array_length(env);
       i++) {
    struct json_object *e = json_object_array_get_idx(env, i);
    const char *n = str_member(e, "name"), *v = str_member(e, "value");
    if (n && v && !strcmp(n, LB_ENV_CONTAINER_PRIORITY))
      return atoi(v);
  }
  return LB_INPLACE_NO_PRIORITY;
}

static int add_img(struct lb_inplace_diff *d, const char *name,
                   const char *image, int priority) {
  struct lb_inplace_img *n =
      realloc(d->imgs, (d->n_imgs + 1) * sizeof *d->imgs);
  if (!n)
    return LB_ENOMEM;
  d->imgs = n;
  n[d->n_imgs].name = lb_strdup(name);
  n[d->n_imgs].image = lb_strdup(image);
  n[d->n_imgs].priority = priority;
  d->n_imgs++;
  return n[d->n_imgs - 1].name && n[d->n_imgs - 1].image ? 0 : LB_ENOMEM;
}

static int diff_containers(struct json_object *oc, struct json_object *nc,
                           int ordered, struct lb_inplace_diff *d) {
  static const char *const skip_image[] = {"image", NULL};
  size_t on = json_object_is_type(oc, json_type_array)
                  ? json_object_array_length(oc)
                  : 0;
  size_t nn = json_object_is_type(nc, json_type_array)
                  ? json_object_array_length(nc)
                  : 0;
  if (on != nn) {
    snprintf(d->why, sizeof d->why,
             "spec.containers: containers added or removed (%zu -> %zu)", on,
             nn);
    return 0;
  }
  for (size_t i = 0; i < nn; i++) {
    struct json_object *o = json_object_array_get_idx(oc, i),
                       *n = json_object_array_get_idx(nc, i);
    const char *name = str_member(n, "name"), *k;
    if (!name || !str_member(o, "name") ||
        strcmp(name, str_member(o, "name"))) {
      snprintf(d->why, sizeof d->why,
               "spec.containers[%zu]: container renamed or reordered", i);
      return 0;
    }
    if ((k = first_diff(o, n, skip_image))) {
      snprintf(d->why, sizeof d->why, "container %s: %s changed", name, k);
      return 0;
    }
    if (!json_object_equal(member(o, "image"), member(n, "image")) &&
        add_img(d, name, str_member(n, "image") ? str_member(n, "image") : "",
                ctr_priority(n, i, ordered)))
      return LB_ENOMEM;
  }
  return 0;
}

static int diff_trees(struct json_object *ot, struct json_object *nt,
                      struct lb_inplace_diff *d) {
  static const char *const skip_top[] = {"metadata", "spec", NULL};
  static const char *const skip_meta[] = {"labels", "annotations", NULL};
  static const char *const skip_spec[] = {"containers", NULL};
  struct json_object *om = member(ot, "metadata"), *nm = member(nt, "metadata");
  struct json_object *os = member(ot, "spec"), *ns = member(nt, "spec");
  const char *k;
  if ((k = first_diff(ot, nt, skip_top)))
    snprintf(d->why, sizeof d->why, "template.%s changed", k);
  else if ((k = first_diff(om, nm, skip_meta)))
    snprintf(d->why, sizeof d->why, "metadata.%s changed", k);
  else if ((k = first_diff(os, ns, skip_spec)))
    snprintf(d->why, sizeof d->why, "spec.%s changed", k);
  if (*d->why)
    return 0;
  const char *prio =
      str_member(member(nm, "annotations"), LB_ANNO_LAUNCH_PRIORITY);
  int rc = diff_containers(member(os, "containers"), member(ns, "containers"),
                           prio && !strcmp(prio, "Ordered"), d);
  if (rc || *d->why)
    return rc;
  struct json_object *mp = json_object_new_object();
  if (!mp)
    return LB_ENOMEM;
  int ch = map_patch(member(om, "labels"), member(nm, "labels"), "labels", mp);
  ch |= map_patch(member(om, "annotations"), member(nm, "annotations"),
                  "annotations", mp);
  if (ch &&
      !(d->meta_patch = lb_strdup(json_object_to_json_string_ext(
            mp, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE))))
    rc = LB_ENOMEM;
  json_object_put(mp);
  d->in_place = !rc;
  return rc;
}

int lb_inplace_diff(const char *old_template, const char *new_template,
                    struct lb_inplace_diff *out) {
  struct json_object *ot, *nt;
  int rc;
  memset(out, 0, sizeof *out);
  ot = old_template ? json_tokener_parse(old_template) : NULL;
  nt = new_template ? json_tokener_parse(new_template) : NULL;
  if (!json_object_is_type(ot, json_type_object) ||
      !json_object_is_type(nt, json_type_object)) {
    snprintf(out->why, sizeof out->why, "a template is not a JSON object");
    rc = LB_EPARSE;
  } else {
    rc = diff_trees(ot, nt, out);
  }
  json_object_put(ot);
  json_object_put(nt);
  return rc;
}

/* --- the state annotation ----------------------------------------------- */
void lb_inplace_state_release(struct lb_inplace_state *st) {
  free(st->revision);
  free(st->last);
  free(st->next);
  free(st->required_ready);
  free(st->batches);
  memset(st, 0, sizeof *st);
}

/* Packs a map of name -> (string, or object member `field`). */
static char *pack_map(struct json_object *m, const char *field) {
  struct lb_buf b = LB_BUF_INIT;
  if (json_object_is_type(m, json_type_object)) {
    json_object_object_foreach(m, k, v) {
      const char *s = field ? str_member(v, field)
                      : json_object_is_type(v, json_type_string)
                          ? json_object_get_string(v)
                          : NULL;
      lb_buf_add(&b, k, strlen(k) + 1);
      lb_buf_add(&b, s ? s : "", strlen(s ? s : "") + 1);
    }
  }
  lb_buf_add(&b, "", 1);
  return b.err ? (lb_buf_release(&b), NULL) : lb_buf_detach(&b, NULL);
}

static char *pack_strings(struct json_object *a) {
  struct lb_buf b = LB_BUF_INIT;
  for (size_t i = 0; json_object_is_type(a, json_type_array) &&
                     i < json_object_array_length(a);
       i++) {
    struct json_object *e = json_object_array_get_idx(a, i);
    if (json_object_is_type(e, json_type_string))
      lb_buf_add(&b, json_object_get_string(e),
                 strlen(json_object_get_string(e)) + 1);
  }
  lb_buf_add(&b, "", 1);
  return b.err ? (lb_buf_release(&b), NULL) : lb_buf_detach(&b, NULL);
}

int lb_inplace_state_parse(const char *json, struct lb_inplace_state *st) {
  struct json_object *root;
  int rc = 0;
  memset(st, 0, sizeof *st);
  root = json ? json_tokener_parse(json) : json_object_new_object();
  if (!json_object_is_type(root, json_type_object)) {
    json_object_put(root);
    return json ? LB_EPARSE : LB_ENOMEM;
  }
  const char *ts = str_member(root, "updateTimestamp");
  struct json_object *ui = member(root, "updateImages");
  struct json_object *b = member(root, "containerBatchesRecord");
  st->revision = lb_strdup(
      str_member(root, "revision") ? str_member(root, "revision") : "");
  if (ts && lb_time_parse(ts, &st->update_ms))
    st->update_ms = 0;
  st->update_images = ui && json_object_get_boolean(ui);
  st->last = pack_map(member(root, "lastContainerStatuses"), "imageID");
  st->next = pack_map(member(root, "nextContainerImages"), NULL);
  st->required_ready = pack_strings(
      member(member(root, "preCheckBeforeNext"), "containersRequiredReady"));
  st->batches = lb_strdup(
      json_object_is_type(b, json_type_array)
          ? json_object_to_json_string_ext(
                b, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
          : "[]");
  if (!st->revision || !st->last || !st->next || !st->required_ready ||
      !st->batches)
    rc = LB_ENOMEM;
  json_object_put(root);
  return rc;
}

static void add_kv_object(struct lb_buf *b, const char *kv, const char *field) {
  int n = 0;
  lb_buf_adds(b, "{");
  LB_KV_FOR(kv, k, v) {
    lb_buf_adds(b, n++ ? "," : "");
    lb_buf_add_json_str(b, k);
    lb_buf_adds(b, ":");
    if (field) {
      lb_buf_addf(b, "{\"%s\":", field);
      lb_buf_add_json_str(b, v);
      lb_buf_adds(b, "}");
    } else {
      lb_buf_add_json_str(b, v);
    }
  }
  lb_buf_adds(b, "}");
}

int lb_inplace_state_json(const struct lb_inplace_state *st,
                          struct lb_buf *out) {
  char ts[32];
  lb_time_rfc3339(st->update_ms, ts);
  lb_buf_adds(out, "{\"revision\":");
  lb_buf_add_json_str(out, st->revision ? st->revision : "");
  lb_buf_addf(out,
              ",\"updateTimestamp\":\"%s\",\"lastContainerStatuses\":", ts);
  add_kv_object(out, st->last, "imageID");
  if (st->update_images)
    lb_buf_adds(out, ",\"updateImages\":true");
  if (st->next && *st->next) {
    lb_buf_adds(out, ",\"nextContainerImages\":");
    add_kv_object(out, st->next, NULL);
  }
  if (st->required_ready && *st->required_ready) {
    int n = 0;
    lb_buf_adds(out, ",\"preCheckBeforeNext\":{\"containersRequiredReady\":[");
    for (const char *c = st->required_ready; *c; c += strlen(c) + 1) {
      lb_buf_adds(out, n++ ? "," : "");
      lb_buf_add_json_str(out, c);
    }
    lb_buf_adds(out, "]}");
  }
  if (st->batches && strcmp(st->batches, "[]")) {
    lb_buf_adds(out, ",\"containerBatchesRecord\":");
    lb_buf_adds(out, st->batches);
  }
  lb_buf_adds(out, "}");
  return out->err;
}

/* Both derived at decode (obj.c pod_derive). */
const char *lb_inplace_state_of(const struct lb_pod *p) { return p->ipu_state; }

const char *lb_inplace_grace_of(const struct lb_pod *p) { return p->ipu_grace; }

/* --- completion ---------------------------------------------------------- */
/* Image reference with ":latest" when it has neither tag nor digest. */
static void norm_image(const char *img, char *out, size_t n) {
  const char *slash = strrchr(img, '/');
  const char *base = slash ? slash + 1 : img;
  snprintf(out, n, "%s%s", img,
           strchr(base, ':') || strchr(img, '@') ? "" : ":latest");
}

static const char *spec_image(const struct lb_pod *p, const char *name) {
  for (size_t i = 0; i < p->n_ctrs; i++)
    if (!strcmp(p->ctrs[i].name, name))
      return p->ctrs[i].image;
  return NULL;
}

/* The batch recorded in st->last has restarted with its new images. */
static int batch_done(const struct lb_pod *p, const struct lb_inplace_state *st,
                      struct lb_buf *why) {
  LB_KV_FOR(st->last, name, image_id) {
    const struct lb_ctr_status *cs = lb_pod_cstatus(p, name);
    const char *want = spec_image(p, name);
    char a[512], b[512];
    if (!cs) {
      if (why)
        lb_buf_addf(why, "container %s has no status yet", name);
      return 0;
    }
    norm_image(want ? want : "", a, sizeof a);
    norm_image(cs->image, b, sizeof b);
    if (!strcmp(cs->image_id, image_id) && strcmp(a, b)) {
      if (why)
        lb_buf_addf(why, "container %s still runs %s (imageID unchanged)", name,
                    cs->image);
      return 0;
    }
  }
  return 1;
}

int lb_inplace_completed(const struct lb_pod *p,
                         const struct lb_inplace_state *st,
                         struct lb_buf *why) {
  if (lb_inplace_grace_of(p)) {
    if (why)
      lb_buf_adds(why, "grace period not over");
    return 0;
  }
  if (st->next && *st->next) {
    if (why)
      lb_buf_addf(why, "next batch (%s...) pending", st->next);
    return 0;
  }
  return batch_done(p, st, why);
}

static int required_ready(const struct lb_pod *p,
                          const struct lb_inplace_state *st) {
  for (const char *c = st->required_ready; c && *c; c += strlen(c) + 1) {
    const struct lb_ctr_status *cs = lb_pod_cstatus(p, c);
    if (!cs || !cs->ready)
      return 0;
  }
  return 1;
}

/* --- phases -------------------------------------------------------------- */
const char *lb_inplace_phase_name(int phase) {
  static const char *const names[] = {"none",    "started", "grace",
                                      "running", "next",    "done"};
  return phase >= 0 && phase <= LB_IPU_DONE ? names[phase] : "?";
}

static int64_t grace_due(const char *grace, const struct lb_inplace_state *st) {
  struct json_object *g = json_tokener_parse(grace);
  struct json_object *s = member(g, "graceSeconds");
  int64_t secs = s ? json_object_get_int64(s) : 0;
  json_object_put(g);
  return st->update_ms + (secs > 0 ? secs : 0) * 1000;
}

int lb_inplace_phase(const struct lb_pod *p, const char *target,
                     int64_t *due_ms) {
  struct lb_inplace_state st;
  const char *rev = lb_pod_revision(p), *grace = lb_inplace_grace_of(p);
  int not_ready = p->ipu_false, phase = LB_IPU_NONE;
  /* No state and no grace record (most pods): what the code below gives
   * for the empty state (revision "" is never mine), without parsing it. */
  if (!lb_inplace_state_of(p) && !grace)
    return not_ready ? LB_IPU_STARTED : LB_IPU_NONE;
  if (lb_inplace_state_parse(lb_inplace_state_of(p), &st)) {
    lb_inplace_state_release(&st);
    return not_ready ? LB_IPU_STARTED : LB_IPU_NONE;
  }
  int mine = *st.revision && !strcmp(st.revision, rev);
  if (grace) {
    phase = LB_IPU_GRACE;
    if (due_ms)
      *due_ms = grace_due(grace, &st);
  } else if (not_ready && (!mine || strcmp(rev, target))) {
    phase = LB_IPU_STARTED;
  } else if (mine && (not_ready || !lb_inplace_completed(p, &st, NULL))) {
    if (*st.next)
      phase = batch_done(p, &st, NULL) && required_ready(p, &st)
                  ? LB_IPU_NEXT
                  : LB_IPU_RUNNING;
    else
      phase = lb_inplace_completed(p, &st, NULL) ? LB_IPU_DONE : LB_IPU_RUNNING;
  }
  lb_inplace_state_release(&st);
  return phase;
}

void lb_inplace_assert_phase(const struct lb_pod *p, const char *target,
                             int phase) {
#ifndef NDEBUG
  int mine = 0; /* an absent state parses as revision "": never mine */
  if (lb_inplace_state_of(p)) {
    struct lb_inplace_state st;
    int rc = lb_inplace_state_parse(lb_inplace_state_of(p), &st);
    mine = !rc && *st.revision && !strcmp(st.revision, lb_pod_revision(p));
    lb_inplace_state_release(&st);
  }
  if (phase == LB_IPU_RUNNING && !mine)
    LB_BUG("in-place RUNNING without a state for the pod's revision");
  if ((phase == LB_IPU_STARTED || phase == LB_IPU_DONE) && !p->ipu_false)
    LB_BUG("in-place STARTED/DONE without InPlaceUpdateReady=False");
  (void)target;
#else
  (void)p;
  (void)target;
  (void)phase;
#endif
}

/* --- bodies -------------------------------------------------------------- */
void lb_inplace_cond_json(struct lb_buf *conds, const char *type, int status,
                          const char *reason, const char *message,
                          int64_t now) {
  char ts[32];
  lb_time_rfc3339(now, ts);
  lb_buf_adds(conds, conds->len ? ",{\"type\":" : "{\"type\":");
  lb_buf_add_json_str(conds, type);
  lb_buf_addf(conds, ",\"status\":\"%s\",\"lastTransitionTime\":\"%s\"",
              status ? "True" : "False", ts);
  if (reason) {
    lb_buf_adds(conds, ",\"reason\":");
    lb_buf_add_json_str(conds, reason);
  }
  if (message) {
    lb_buf_adds(conds, ",\"message\":");
    lb_buf_add_json_str(conds, message);
  }
  lb_buf_adds(conds, "}");
}

char *lb_inplace_status_body(const struct lb_buf *conds) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_adds(&b, "{\"status\":{\"conditions\":[");
  lb_buf_adds(&b, conds->p ? conds->p : "");
  lb_buf_adds(&b, "]}}");
  return b.err || conds->err ? (lb_buf_release(&b), NULL)
                             : lb_buf_detach(&b, NULL);
}

char *lb_inplace_start_patch(int64_t now) {
  struct lb_buf c = LB_BUF_INIT;
  char *out;
  lb_inplace_cond_json(&c, LB_COND_INPLACE_READY, 0, "StartInPlaceUpdate", NULL,
                       now);
  lb_inplace_cond_json(&c, "Ready", 0, "StartInPlaceUpdate", NULL, now);
  out = lb_inplace_status_body(&c);
  lb_buf_release(&c);
  return out;
}

int lb_inplace_ready_conds(const struct lb_pod *p, int phase, int cancelled,
                           int64_t now, struct lb_buf *conds) {
  const char *cond = p->ipu_ready;
  if (!p->gate_ipu)
    return 0;
  if (cond && !(phase == LB_IPU_DONE || (phase == LB_IPU_STARTED && cancelled)))
    return 0;
  lb_inplace_cond_json(conds, LB_COND_INPLACE_READY, 1, NULL, NULL, now);
  return 1;
}

/* Adds {"name":..,"image":..} objects of the batch to a containers list. */
static void add_containers(struct json_object *arr,
                           const struct lb_inplace_img *v, size_t n,
                           const int *take) {
  for (size_t i = 0; i < n; i++) {
    struct json_object *c;
    if (!take[i] || !(c = json_object_new_object()))
      continue;
    json_object_object_add(c, "name", json_object_new_string(v[i].name));
    json_object_object_add(c, "image", json_object_new_string(v[i].image));
    json_object_array_add(arr, c);
  }
}

/* Marks in take[] the highest-priority group of v. */
static void first_batch(const struct lb_inplace_img *v, size_t n, int *take) {
  int best = LB_INPLACE_NO_PRIORITY;
  for (size_t i = 0; i < n; i++)
    if (v[i].priority > best)
      best = v[i].priority;
  /* containers without a priority always go with the first batch */
  for (size_t i = 0; i < n; i++)
    take[i] = v[i].priority == LB_INPLACE_NO_PRIORITY || v[i].priority == best;
}

static char *finish(struct json_object *root) {
  char *out =
      root ? lb_strdup(json_object_to_json_string_ext(
                 root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE))
           : NULL;
  json_object_put(root);
  return out;
}

/* The batch record {"timestamp":..,"containers":[..]} appended to batches
 * (a JSON array text); the new text into out. */
static void append_batch(const char *batches, const struct lb_inplace_img *v,
                         size_t n, const int *take, int64_t now,
                         struct lb_buf *out) {
  char ts[32];
  int k = 0;
  lb_time_rfc3339(now, ts);
  if (batches && strcmp(batches, "[]") && strlen(batches) > 2) {
    lb_buf_add(out, batches, strlen(batches) - 1);
    lb_buf_adds(out, ",");
  } else {
    lb_buf_adds(out, "[");
  }
  lb_buf_addf(out, "{\"timestamp\":\"%s\",\"containers\":[", ts);
  for (size_t i = 0; i < n; i++)
    if (take[i]) {
      lb_buf_adds(out, k++ ? "," : "");
      lb_buf_add_json_str(out, v[i].name);
    }
  lb_buf_adds(out, "]}]");
}

/* Fills st for a first batch of d applied to p. */
static int initial_state(const struct lb_pod *p,
                         const struct lb_inplace_diff *d, const char *rev,
                         const int *take, int64_t now,
                         struct lb_inplace_state *st) {
  struct lb_buf last = LB_BUF_INIT, next = LB_BUF_INIT, req = LB_BUF_INIT,
                bat = LB_BUF_INIT;
  memset(st, 0, sizeof *st);
  for (size_t i = 0; i < d->n_imgs; i++) {
    const struct lb_ctr_status *cs = lb_pod_cstatus(p, d->imgs[i].name);
    const char *id = cs ? cs->image_id : "";
    struct lb_buf *to = take[i] ? &last : &next;
    lb_buf_add(to, d->imgs[i].name, strlen(d->imgs[i].name) + 1);
    lb_buf_add(to, take[i] ? id : d->imgs[i].image,
               strlen(take[i] ? id : d->imgs[i].image) + 1);
    if (take[i])
      lb_buf_add(&req, d->imgs[i].name, strlen(d->imgs[i].name) + 1);
  }
  lb_buf_add(&last, "", 1);
  lb_buf_add(&req, "", 1);
  lb_buf_add(&next, "", 1);
  append_batch("[]", d->imgs, d->n_imgs, take, now, &bat);
  st->revision = lb_strdup(rev);
  st->update_ms = now;
  st->update_images = d->n_imgs > 0;
  st->last = lb_buf_detach(&last, NULL);
  st->required_ready = lb_buf_detach(&req, NULL);
  st->next = lb_buf_detach(&next, NULL);
  st->batches = lb_buf_detach(&bat, NULL);
  if (!*st->next) /* a single batch: nothing to check before the next */
    *st->required_ready = '\0';
  return st->revision && st->last && st->required_ready && st->next &&
                 st->batches
             ? 0
             : LB_ENOMEM;
}

static void add_str(struct json_object *o, const char *k, const char *v) {
  json_object_object_add(o, k, json_object_new_string(v));
}

static struct json_object *ensure(struct json_object *o, const char *k) {
  struct json_object *v = member(o, k);
  if (!json_object_is_type(v, json_type_object)) {
    v = json_object_new_object();
    json_object_object_add(o, k, v);
  }
  return v;
}

char *lb_inplace_update_patch(const struct lb_pod *p,
                              const struct lb_inplace_diff *d, const char *rev,
                              int grace_seconds, int64_t now) {
  struct lb_inplace_state st;
  struct lb_buf sj = LB_BUF_INIT;
  int *take = calloc(d->n_imgs + 1, sizeof *take);
  struct json_object *root = json_object_new_object(), *meta, *labels, *annos;
  const char *dash = strrchr(rev, '-');
  char ts[32];
  if (!take || !root) {
    free(take);
    json_object_put(root);
    return NULL;
  }
  first_batch(d->imgs, d->n_imgs, take);
  meta = d->meta_patch ? json_tokener_parse(d->meta_patch) : NULL;
  if (!meta)
    meta = json_object_new_object();
  json_object_object_add(root, "metadata", meta);
  labels = ensure(meta, "labels");
  annos = ensure(meta, "annotations");
  add_str(labels, "controller-revision-hash", rev);
  add_str(labels, "pod-template-hash", dash ? dash + 1 : rev);
  add_str(labels, "lifecycle.apps.kruise.io/state", "Updating");
  lb_time_rfc3339(now, ts);
  add_str(annos, "lifecycle.apps.kruise.io/timestamp", ts);
  if (initial_state(p, d, rev, take, now, &st) ||
      lb_inplace_state_json(&st, &sj)) {
    lb_inplace_state_release(&st);
    lb_buf_release(&sj);
    free(take);
    json_object_put(root);
    return NULL;
  }
  add_str(annos, LB_ANNO_INPLACE_STATE, sj.p);
  struct json_object *ctrs = json_object_new_array();
  add_containers(ctrs, d->imgs, d->n_imgs, take);
  if (grace_seconds > 0 && json_object_array_length(ctrs) > 0) {
    struct json_object *g = json_object_new_object(),
                       *imgs = json_object_new_object();
    for (size_t i = 0; i < json_object_array_length(ctrs); i++) {
      struct json_object *c = json_object_array_get_idx(ctrs, i);
      json_object_object_add(imgs, str_member(c, "name"),
                             json_object_get(member(c, "image")));
    }
    add_str(g, "revision", rev);
    json_object_object_add(g, "containerImages", imgs);
    json_object_object_add(g, "graceSeconds",
                           json_object_new_int(grace_seconds));
    add_str(annos, LB_ANNO_INPLACE_GRACE,
            json_object_to_json_string_ext(
                g, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(g);
    json_object_put(ctrs);
  } else if (json_object_array_length(ctrs) > 0) {
    struct json_object *spec = json_object_new_object();
    json_object_object_add(spec, "containers", ctrs);
    json_object_object_add(root, "spec", spec);
  } else {
    json_object_put(ctrs);
  }
  lb_inplace_state_release(&st);
  lb_buf_release(&sj);
  free(take);
  return finish(root);
}

char *lb_inplace_grace_patch(const struct lb_pod *p) {
  const char *g = lb_inplace_grace_of(p);
  struct json_object *gj = g ? json_tokener_parse(g) : NULL;
  struct json_object *root = json_object_new_object(), *annos, *imgs;
  const char *rev = str_member(gj, "revision");
  if (!root) {
    json_object_put(gj);
    return NULL;
  }
  annos = ensure(ensure(root, "metadata"), "annotations");
  json_object_object_add(annos,
                         lb_kv_get(p->annotations, LB_ANNO_INPLACE_GRACE)
                             ? LB_ANNO_INPLACE_GRACE
                             : LB_LEGACY_GRACE,
                         NULL);
  imgs = member(gj, "containerImages");
  if (rev && !strcmp(rev, lb_pod_revision(p)) &&
      json_object_is_type(imgs, json_type_object)) {
    struct json_object *ctrs = json_object_new_array();
    json_object_object_foreach(imgs, k, v) {
      struct json_object *c = json_object_new_object();
      add_str(c, "name", k);
      json_object_object_add(c, "image", json_object_get(v));
      json_object_array_add(ctrs, c);
    }
    json_object_object_add(ensure(root, "spec"), "containers", ctrs);
  }
  json_object_put(gj);
  return finish(root);
}

/* Priorities of containers in a template (for the next batch). */
static int template_priority(struct json_object *t, const char *name) {
  struct json_object *cs = member(member(t, "spec"), "containers");
  const char *prio = str_member(member(member(t, "metadata"), "annotations"),
                                LB_ANNO_LAUNCH_PRIORITY);
  for (size_t i = 0; json_object_is_type(cs, json_type_array) &&
                     i < json_object_array_length(cs);
       i++) {
    struct json_object *c = json_object_array_get_idx(cs, i);
    const char *n = str_member(c, "name");
    if (n && !strcmp(n, name))
      return ctr_priority(c, i, prio && !strcmp(prio, "Ordered"));
  }
  return LB_INPLACE_NO_PRIORITY;
}

/* The next batch as an img list (all of st->next with priorities). */
static int next_imgs(const struct lb_inplace_state *st, const char *tmpl,
                     struct lb_inplace_diff *v) {
  struct json_object *t = tmpl ? json_tokener_parse(tmpl) : NULL;
  int rc = 0;
  memset(v, 0, sizeof *v);
  LB_KV_FOR(st->next, name, image) {
    if (!rc)
      rc = add_img(v, name, image, template_priority(t, name));
  }
  json_object_put(t);
  return rc;
}

static int next_state(const struct lb_pod *p, struct lb_inplace_state *st,
                      const struct lb_inplace_diff *v, const int *take,
                      int64_t now) {
  struct lb_buf last = LB_BUF_INIT, next = LB_BUF_INIT, req = LB_BUF_INIT,
                bat = LB_BUF_INIT;
  LB_KV_FOR(st->last, k, val) {
    int again = 0;
    for (size_t i = 0; i < v->n_imgs; i++)
      again |= take[i] && !strcmp(v->imgs[i].name, k);
    if (!again) {
      lb_buf_add(&last, k, strlen(k) + 1);
      lb_buf_add(&last, val, strlen(val) + 1);
    }
  }
  for (size_t i = 0; i < v->n_imgs; i++) {
    const struct lb_ctr_status *cs = lb_pod_cstatus(p, v->imgs[i].name);
    const char *s = take[i] ? (cs ? cs->image_id : "") : v->imgs[i].image;
    struct lb_buf *to = take[i] ? &last : &next;
    lb_buf_add(to, v->imgs[i].name, strlen(v->imgs[i].name) + 1);
    lb_buf_add(to, s, strlen(s) + 1);
    if (take[i])
      lb_buf_add(&req, v->imgs[i].name, strlen(v->imgs[i].name) + 1);
  }
  lb_buf_add(&last, "", 1);
  lb_buf_add(&next, "", 1);
  lb_buf_add(&req, "", 1);
  append_batch(st->batches, v->imgs, v->n_imgs, take, now, &bat);
  free(st->last);
  free(st->next);
  free(st->required_ready);
  free(st->batches);
  st->last = lb_buf_detach(&last, NULL);
  st->next = lb_buf_detach(&next, NULL);
  st->required_ready = lb_buf_detach(&req, NULL);
  st->batches = lb_buf_detach(&bat, NULL);
  if (!st->last || !st->next || !st->required_ready || !st->batches)
    return LB_ENOMEM;
  if (!*st->next)
    *st->required_ready = '\0';
  return 0;
}

char *lb_inplace_next_patch(const struct lb_pod *p, const char *template_json,
                            int64_t now) {
  struct lb_inplace_state st;
  struct lb_inplace_diff v;
  struct lb_buf sj = LB_BUF_INIT;
  struct json_object *root = NULL, *ctrs;
  int *take = NULL;
  memset(&v, 0, sizeof v);
  if (lb_inplace_state_parse(lb_inplace_state_of(p), &st) ||
      next_imgs(&st, template_json, &v) ||
      !(take = calloc(v.n_imgs + 1, sizeof *take)))
    goto out;
  first_batch(v.imgs, v.n_imgs, take);
  if (next_state(p, &st, &v, take, now) || lb_inplace_state_json(&st, &sj))
    goto out;
  root = json_object_new_object();
  add_str(ensure(ensure(root, "metadata"), "annotations"),
          LB_ANNO_INPLACE_STATE, sj.p);
  ctrs = json_object_new_array();
  add_containers(ctrs, v.imgs, v.n_imgs, take);
  json_object_object_add(ensure(root, "spec"), "containers", ctrs);
out:
  free(take);
  lb_buf_release(&sj);
  lb_inplace_state_release(&st);
  lb_inplace_diff_release(&v);
  return finish(root);
}
