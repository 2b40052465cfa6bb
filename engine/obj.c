/* obj.c — decoding, canonical encoding and restoring of compact objects,
 * plus the small Kubernetes helpers they need (IntOrString, selectors). */
#include "obj.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloneset.h"
#include "err.h"
#include "fastdecode.h"
#include "inplace.h"
#include "lifecycle.h"
#include "obj_int.h"

int lb_kind_of(const char *api_group, const char *kind) {
#define X(e, g, k)                                                             \
  if (api_group && kind && !strcmp(api_group, g) && !strcmp(kind, k))          \
    return LB_KIND_##e;
  LB_KINDS(X)
#undef X
  return LB_KIND_NONE;
}

const char *lb_kind_name(int kind) {
  switch (kind) {
#define X(e, g, k)                                                             \
  case LB_KIND_##e:                                                            \
    return k;
    LB_KINDS(X)
#undef X
  }
  return "";
}

const char *lb_kind_group(int kind) {
  switch (kind) {
#define X(e, g, k)                                                             \
  case LB_KIND_##e:                                                            \
    return g;
    LB_KINDS(X)
#undef X
  }
  return "";
}

/* --- packed kv ---------------------------------------------------------- */
const char *lb_kv_get(const char *kv, const char *key) {
  LB_KV_FOR(kv, k, v) {
    if (!strcmp(k, key))
      return v;
  }
  return NULL;
}

size_t lb_kv_size(const char *kv) {
  const char *p = kv;
  if (!kv)
    return 1;
  while (*p)
    p += strlen(p) + 1;
  return (size_t)(p - kv) + 1;
}

size_t lb_kv_count(const char *kv) {
  size_t n = 0;
  LB_KV_FOR(kv, k, v) {
    (void)k;
    (void)v;
    n++;
  }
  return n;
}

int lb_kv_set(char **kv, const char *key, const char *val) {
  struct lb_buf b = LB_BUF_INIT;
  int done = 0;
  LB_KV_FOR(*kv, k, v) {
    int c = strcmp(k, key);
    if (c == 0) {
      done = 1;
      if (val) {
        lb_buf_add(&b, k, strlen(k) + 1);
        lb_buf_add(&b, val, strlen(val) + 1);
      }
      continue;
    }
    if (c > 0 && !done) {
      done = 1;
      if (val) {
        lb_buf_add(&b, key, strlen(key) + 1);
        lb_buf_add(&b, val, strlen(val) + 1);
      }
    }
    lb_buf_add(&b, k, strlen(k) + 1);
    lb_buf_add(&b, v, strlen(v) + 1);
  }
  if (!done && val) {
    lb_buf_add(&b, key, strlen(key) + 1);
    lb_buf_add(&b, val, strlen(val) + 1);
  }
  lb_buf_add(&b, "", 1);
  if (b.err) {
    lb_buf_release(&b);
    return LB_ENOMEM;
  }
  free(*kv);
  *kv = lb_buf_detach(&b, NULL);
  return 0;
}

struct kvpair {
  const char *k, *v;
};
static int cmp_kvpair(const void *a, const void *b) {
  return strcmp(((const struct kvpair *)a)->k, ((const struct kvpair *)b)->k);
}

/* Packs a JSON object of strings, sorted by key. Non-string values are an
 * error. NULL/absent -> empty set. */
static int pack_kv(struct json_object *o, char **out, const char **why,
                   const char *path) {
  struct kvpair *pairs = NULL;
  size_t n = 0, total = 1;
  char *p;
  *out = NULL;
  if (o && !json_object_is_type(o, json_type_object)) {
    *why = path;
    return LB_EPARSE;
  }
  if (o) {
    pairs = calloc((size_t)json_object_object_length(o) + 1, sizeof *pairs);
    if (!pairs)
      return LB_ENOMEM;
    json_object_object_foreach(o, key, val) {
      if (!json_object_is_type(val, json_type_string)) {
        free(pairs);
        *why = path;
        return LB_EPARSE;
      }
      pairs[n].k = key;
      pairs[n].v = json_object_get_string(val);
      total += strlen(key) + strlen(pairs[n].v) + 2;
      n++;
    }
    qsort(pairs, n, sizeof *pairs, cmp_kvpair);
  }
  p = *out = malloc(total);
  if (!p) {
    free(pairs);
    return LB_ENOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    size_t kl = strlen(pairs[i].k) + 1, vl = strlen(pairs[i].v) + 1;
    memcpy(p, pairs[i].k, kl);
    memcpy(p + kl, pairs[i].v, vl);
    p += kl + vl;
  }
  *p = '\0';
  free(pairs);
  return 0;
}

/* Packs a JSON array of strings in order ("a\0b\0\0"). */
static int pack_list(struct json_object *a, char **out, const char **why,
                     const char *path) {
  size_t total = 1, n;
  char *p;
  *out = NULL;
  if (a && !json_object_is_type(a, json_type_array)) {
    *why = path;
    return LB_EPARSE;
  }
  n = a ? json_object_array_length(a) : 0;
  for (size_t i = 0; i < n; i++) {
    struct json_object *s = json_object_array_get_idx(a, i);
    if (!json_object_is_type(s, json_type_string) ||
        !*json_object_get_string(s)) {
      *why = path;
      return LB_EPARSE;
    }
    total += strlen(json_object_get_string(s)) + 1;
  }
  p = *out = malloc(total);
  if (!p)
    return LB_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    const char *s = json_object_get_string(json_object_array_get_idx(a, i));
    size_t l = strlen(s) + 1;
    memcpy(p, s, l);
    p += l;
  }
  *p = '\0';
  return 0;
}

/* --- IntOrString -------------------------------------------------------- */
int lb_intstr_from_json(struct json_object *j, struct lb_intstr *out) {
  memset(out, 0, sizeof *out);
  if (!j)
    return 0;
  if (json_object_is_type(j, json_type_int)) {
    int64_t v = json_object_get_int64(j);
    if (v < 0 || v > INT_MAX)
      return LB_EPARSE;
    *out = (struct lb_intstr){1, 0, (int)v};
    return 0;
  }
  if (json_object_is_type(j, json_type_string)) {
    const char *s = json_object_get_string(j);
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || strcmp(end, "%") != 0 || v < 0 || v > INT_MAX)
      return LB_EPARSE;
    *out = (struct lb_intstr){1, 1, (int)v};
    return 0;
  }
  return LB_EPARSE;
}

int lb_intstr_resolve(const struct lb_intstr *v, int total, int round_up) {
  int64_t x;
  if (!v->set)
    return 0;
  if (!v->is_pct)
    return v->val;
  x = (int64_t)v->val * total;
  return (int)(round_up ? (x + 99) / 100 : x / 100);
}

/* --- selectors ---------------------------------------------------------- */
static int in_list(const char *packed, const char *v) {
  for (const char *p = packed; p && *p; p += strlen(p) + 1)
    if (!strcmp(p, v))
      return 1;
  return 0;
}

int lb_selector_matches(const struct lb_selector *s, const char *labels) {
  if (!s->match_labels && !s->n_reqs && !s->empty)
    return 0; /* absent selector selects nothing */
  LB_KV_FOR(s->match_labels, k, v) {
    const char *have = lb_kv_get(labels, k);
    if (!have || strcmp(have, v))
      return 0;
  }
  for (size_t i = 0; i < s->n_reqs; i++) {
    const struct lb_selreq *r = &s->reqs[i];
    const char *have = lb_kv_get(labels, r->key);
    switch (r->op) {
    case LB_SEL_IN:
      if (!have || !in_list(r->values, have))
        return 0;
      break;
    case LB_SEL_NOTIN:
      if (have && in_list(r->values, have))
        return 0;
      break;
    case LB_SEL_EXISTS:
      if (!have)
        return 0;
      break;
    case LB_SEL_NOTEXISTS:
      if (have)
        return 0;
      break;
    }
  }
  return 1;
}

static const char *op_names[] = {"", "In", "NotIn", "Exists", "DoesNotExist"};

int lb_selector_string(const struct lb_selector *s, struct lb_buf *out) {
  int first = 1;
  LB_KV_FOR(s->match_labels, k, v) {
    lb_buf_addf(out, "%s%s=%s", first ? "" : ",", k, v);
    first = 0;
  }
  for (size_t i = 0; i < s->n_reqs; i++) {
    const struct lb_selreq *r = &s->reqs[i];
    lb_buf_adds(out, first ? "" : ",");
    first = 0;
    if (r->op == LB_SEL_EXISTS) {
      lb_buf_adds(out, r->key);
    } else if (r->op == LB_SEL_NOTEXISTS) {
      lb_buf_addf(out, "!%s", r->key);
    } else {
      lb_buf_addf(out, "%s %s (", r->key, r->op == LB_SEL_IN ? "in" : "notin");
      int f2 = 1;
      for (const char *p = r->values; p && *p; p += strlen(p) + 1, f2 = 0)
        lb_buf_addf(out, "%s%s", f2 ? "" : ",", p);
      lb_buf_adds(out, ")");
    }
  }
  return out->err;
}

static void selector_release(struct lb_selector *s) {
  free(s->match_labels);
  for (size_t i = 0; i < s->n_reqs; i++) {
    free(s->reqs[i].key);
    free(s->reqs[i].values);
  }
  free(s->reqs);
  memset(s, 0, sizeof *s);
}

static int selector_decode(struct json_object *j, struct lb_selector *s,
                           const char **why) {
  struct json_object *ml = NULL, *me = NULL;
  int rc;
  memset(s, 0, sizeof *s);
  if (!j)
    return 0;
  if (!json_object_is_type(j, json_type_object)) {
    *why = "spec.selector: expected an object";
    return LB_EPARSE;
  }
  json_object_object_get_ex(j, "matchLabels", &ml);
  json_object_object_get_ex(j, "matchExpressions", &me);
  if ((rc = pack_kv(ml, &s->match_labels, why,
                    "spec.selector.matchLabels: expected strings")))
    return rc;
  if (me && !json_object_is_type(me, json_type_array)) {
    *why = "spec.selector.matchExpressions: expected a list";
    return LB_EPARSE;
  }
  size_t n = me ? json_object_array_length(me) : 0;
  s->reqs = calloc(n + 1, sizeof *s->reqs);
  if (!s->reqs)
    return LB_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    struct json_object *r = json_object_array_get_idx(me, i), *k, *op,
                       *vals = NULL;
    int o = 0;
    if (!json_object_object_get_ex(r, "key", &k) ||
        !json_object_object_get_ex(r, "operator", &op)) {
      *why = "spec.selector.matchExpressions: key and operator are required";
      return LB_EPARSE;
    }
    for (int x = 1; x <= 4; x++)
      if (!strcmp(json_object_get_string(op), op_names[x]))
        o = x;
    if (!o) {
      *why = "spec.selector.matchExpressions: operator must be In, NotIn, "
             "Exists or DoesNotExist";
      return LB_EPARSE;
    }
    json_object_object_get_ex(r, "values", &vals);
    s->reqs[i].op = o;
    s->reqs[i].key = lb_strdup(json_object_get_string(k));
    if (!s->reqs[i].key)
      return LB_ENOMEM;
    s->n_reqs = i + 1;
    if ((rc = pack_list(vals, &s->reqs[i].values, why,
                        "spec.selector.matchExpressions.values")))
      return rc;
  }
  s->empty = !s->match_labels[0] && !s->n_reqs;
  return 0;
}

/* --- JSON helpers ------------------------------------------------------- */
static struct json_object *jget(struct json_object *o, const char *key) {
  struct json_object *v = NULL;
  if (o && json_object_is_type(o, json_type_object))
    json_object_object_get_ex(o, key, &v);
  return v;
}
static const char *jstr(struct json_object *o, const char *key) {
  struct json_object *v = jget(o, key);
  return v && json_object_is_type(v, json_type_string)
             ? json_object_get_string(v)
             : NULL;
}
static int jint(struct json_object *o, const char *key, int64_t dflt,
                int64_t *out, const char **why, const char *path) {
  struct json_object *v = jget(o, key);
  *out = dflt;
  if (!v)
    return 0;
  if (!json_object_is_type(v, json_type_int)) {
    *why = path;
    return LB_EPARSE;
  }
  *out = json_object_get_int64(v);
  return 0;
}
static int64_t jtime(struct json_object *o, const char *key) {
  int64_t ms = 0;
  const char *s = jstr(o, key);
  if (s && lb_time_parse(s, &ms))
    ms = 0;
  return ms;
}

/* Canonical JSON: object keys sorted, no whitespace. Deterministic whatever
 * order the server serialized them in. */
static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}
static void canon_json(struct json_object *o, struct lb_buf *b) {
  switch (json_object_get_type(o)) {
  case json_type_object: {
    size_t n = (size_t)json_object_object_length(o), i = 0;
    const char **keys = calloc(n + 1, sizeof *keys);
    if (!keys) {
      b->err = LB_ENOMEM;
      return;
    }
    json_object_object_foreach(o, key, val) {
      (void)val;
      keys[i++] = key;
    }
    qsort(keys, n, sizeof *keys, cmp_str);
    lb_buf_adds(b, "{");
    for (i = 0; i < n; i++) {
      lb_buf_adds(b, i ? "," : "");
      lb_buf_add_json_str(b, keys[i]);
      lb_buf_adds(b, ":");
      canon_json(jget(o, keys[i]), b);
    }
    lb_buf_adds(b, "}");
    free(keys);
    break;
  }
  case json_type_array:
    lb_buf_adds(b, "[");
    for (size_t i = 0; i < json_object_array_length(o); i++) {
      lb_buf_adds(b, i ? "," : "");
      canon_json(json_object_array_get_idx(o, i), b);
    }
    lb_buf_adds(b, "]");
    break;
  case json_type_string:
    lb_buf_add_json_str(b, json_object_get_string(o));
    break;
  default:
    lb_buf_adds(b, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
  }
}

/* --- decoding ----------------------------------------------------------- */
static int decode_meta(struct json_object *root, struct lb_obj *o,
                       const char **why) {
  struct json_object *meta = jget(root, "metadata"), *refs;
  int rc;
  o->ns = lb_strdup(jstr(meta, "namespace") ? jstr(meta, "namespace") : "");
  o->name = lb_strdup(jstr(meta, "name") ? jstr(meta, "name") : "");
  o->uid = lb_strdup(jstr(meta, "uid") ? jstr(meta, "uid") : "");
  o->rv = lb_strdup(
      jstr(meta, "resourceVersion") ? jstr(meta, "resourceVersion") : "");
  if (!o->ns || !o->name || !o->uid || !o->rv)
    return LB_ENOMEM;
  if (!*o->name) {
    *why = "metadata.name is missing";
    return LB_EPARSE;
  }
  if ((rc = pack_kv(jget(meta, "labels"), &o->labels, why,
                    "metadata.labels: values must be strings")))
    return rc;
  o->created_ms = jtime(meta, "creationTimestamp");
  o->deleting_ms = jtime(meta, "deletionTimestamp");
  if ((rc = jint(meta, "generation", 0, &o->generation, why,
                 "metadata.generation: expected integer")))
    return rc;
  refs = jget(meta, "ownerReferences");
  if (refs && json_object_is_type(refs, json_type_array)) {
    for (size_t i = 0; i < json_object_array_length(refs); i++) {
      struct json_object *r = json_object_array_get_idx(refs, i);
      struct json_object *c = jget(r, "controller");
      if (c && json_object_get_boolean(c) && jstr(r, "uid")) {
        o->owner_uid = lb_strdup(jstr(r, "uid"));
        if (!o->owner_uid)
          return LB_ENOMEM;
        break;
      }
    }
  }
  return 0;
}

/* Annotations a reducer may read; everything else (last-applied config,
 * tooling noise) is not kept per pod. */
static int kept_annotation(const char *k) {
  static const char *const prefixes[] = {
      "apps.kruise.io/", "lifecycle.apps.kruise.io/",
      "kruise.io/",      "controller.kubernetes.io/",
      "pub.kruise.io/",  "crr.apps.kruise.io/",
      "inplace-update-"};
  for (size_t i = 0; i < LB_ARRAY_SIZE(prefixes); i++)
    if (!strncmp(k, prefixes[i], strlen(prefixes[i])))
      return 1;
  return 0;
}

static int pack_kv_filtered(struct json_object *o, char **out) {
  struct json_object *f = json_object_new_object();
  const char *why;
  int rc;
  if (!f)
    return LB_ENOMEM;
  if (o && json_object_is_type(o, json_type_object)) {
    json_object_object_foreach(o, k, v) {
      if (kept_annotation(k) && json_object_is_type(v, json_type_string))
        json_object_object_add(f, k, json_object_get(v));
    }
  }
  rc = pack_kv(f, out, &why, "");
  json_object_put(f);
  return rc;
}

/* A list of strings, or of objects whose `field` is a string; anything
 * else is skipped. */
static int pack_list_lax(struct json_object *a, const char *field, char **out) {
  struct lb_buf b = LB_BUF_INIT;
  size_t n = a && json_object_is_type(a, json_type_array)
                 ? json_object_array_length(a)
                 : 0;
  for (size_t i = 0; i < n; i++) {
    struct json_object *x = json_object_array_get_idx(a, i);
    const char *v = field ? jstr(x, field)
                    : json_object_is_type(x, json_type_string)
                        ? json_object_get_string(x)
                        : NULL;
    if (v && *v)
      lb_buf_add(&b, v, strlen(v) + 1);
  }
  lb_buf_add(&b, "", 1);
  if (b.err) {
    lb_buf_release(&b);
    return LB_ENOMEM;
  }
  *out = lb_buf_detach(&b, NULL);
  return 0;
}

static int pack_conds(struct json_object *a, char **out) {
  struct json_object *f = json_object_new_object();
  const char *why;
  int rc;
  if (!f)
    return LB_ENOMEM;
  size_t n = a && json_object_is_type(a, json_type_array)
                 ? json_object_array_length(a)
                 : 0;
  for (size_t i = 0; i < n; i++) {
    struct json_object *c = json_object_array_get_idx(a, i);
    const char *t = jstr(c, "type"), *st = jstr(c, "status");
    if (t && st)
      json_object_object_add(f, t, json_object_new_string(st));
  }
  rc = pack_kv(f, out, &why, "");
  json_object_put(f);
  return rc;
}

static int decode_pod(struct json_object *root, struct lb_pod *p,
                      const char **why) {
  struct json_object *spec = jget(root, "spec"), *st = jget(root, "status");
  struct json_object *conds = jget(st, "conditions");
  struct json_object *cs = jget(st, "containerStatuses");
  const char *phase = jstr(st, "phase"), *node = jstr(spec, "nodeName");
  const char *cost = jstr(jget(jget(root, "metadata"), "annotations"),
                          "controller.kubernetes.io/pod-deletion-cost");
  if (node && *node && !(p->node = lb_strdup(node)))
    return LB_ENOMEM;
  p->phase = !phase                        ? LB_PH_UNKNOWN
             : !strcmp(phase, "Pending")   ? LB_PH_PENDING
             : !strcmp(phase, "Running")   ? LB_PH_RUNNING
             : !strcmp(phase, "Succeeded") ? LB_PH_SUCCEEDED
             : !strcmp(phase, "Failed")    ? LB_PH_FAILED
                                           : LB_PH_UNKNOWN;
  if (!phase)
    p->phase = LB_PH_PENDING;
  if (conds && json_object_is_type(conds, json_type_array)) {
    for (size_t i = 0; i < json_object_array_length(conds); i++) {
      struct json_object *c = json_object_array_get_idx(conds, i);
      const char *t = jstr(c, "type"), *s = jstr(c, "status");
      if (t && s && !strcmp(t, "Ready") && !strcmp(s, "True")) {
        p->ready = 1;
        p->ready_ms = jtime(c, "lastTransitionTime");
      }
    }
  }
  if (cs && json_object_is_type(cs, json_type_array)) {
    for (size_t i = 0; i < json_object_array_length(cs); i++) {
      int64_t r = 0;
      jint(json_object_array_get_idx(cs, i), "restartCount", 0, &r, why, "");
      if (r > p->restarts)
        p->restarts = (int)r;
    }
  }
  if (cost) {
    char *end;
    long long c = strtoll(cost, &end, 10);
    p->deletion_cost = *end ? 0 : c; /* invalid = 0, as upstream */
  }
  struct json_object *meta = jget(root, "metadata");
  int rc;
  if ((rc = pack_kv_filtered(jget(meta, "annotations"), &p->annotations)) ||
      (rc = pack_list_lax(jget(meta, "finalizers"), NULL, &p->finalizers)) ||
      (rc = pack_list_lax(jget(spec, "readinessGates"), "conditionType",
                          &p->gates)) ||
      (rc = pack_conds(conds, &p->conds)))
    return rc;
  struct json_object *ctrs = jget(spec, "containers");
  if (ctrs && json_object_is_type(ctrs, json_type_array)) {
    size_t n = json_object_array_length(ctrs);
    p->ctrs = calloc(n + 1, sizeof *p->ctrs);
    if (!p->ctrs)
      return LB_ENOMEM;
    for (size_t i = 0; i < n; i++) {
      struct json_object *c = json_object_array_get_idx(ctrs, i);
      p->ctrs[i].name = lb_strdup(jstr(c, "name") ? jstr(c, "name") : "");
      p->ctrs[i].image = lb_strdup(jstr(c, "image") ? jstr(c, "image") : "");
      p->n_ctrs = i + 1;
      if (!p->ctrs[i].name || !p->ctrs[i].image)
        return LB_ENOMEM;
    }
  }
  if (cs && json_object_is_type(cs, json_type_array)) {
    size_t n = json_object_array_length(cs);
    p->csts = calloc(n + 1, sizeof *p->csts);
    if (!p->csts)
      return LB_ENOMEM;
    for (size_t i = 0; i < n; i++) {
      struct json_object *c = json_object_array_get_idx(cs, i);
      struct lb_ctr_status *x = &p->csts[i];
      int64_t r = 0;
      x->name = lb_strdup(jstr(c, "name") ? jstr(c, "name") : "");
      x->image = lb_strdup(jstr(c, "image") ? jstr(c, "image") : "");
      x->image_id = lb_strdup(jstr(c, "imageID") ? jstr(c, "imageID") : "");
      x->container_id =
          lb_strdup(jstr(c, "containerID") ? jstr(c, "containerID") : "");
      x->ready = jget(c, "ready") && json_object_get_boolean(jget(c, "ready"));
      x->started =
          jget(c, "started") && json_object_get_boolean(jget(c, "started"));
      jint(c, "restartCount", 0, &r, why, "");
      x->restarts = (int)r;
      p->n_csts = i + 1;
      if (!x->name || !x->image || !x->image_id || !x->container_id)
        return LB_ENOMEM;
    }
  }
  (void)why;
  return 0;
}

/* Canonical JSON of an optional member (NULL when absent or null). */
static int canon_opt(struct json_object *v, char **out) {
  struct lb_buf b = LB_BUF_INIT;
  *out = NULL;
  if (!v || json_object_is_type(v, json_type_null))
    return 0;
  canon_json(v, &b);
  if (b.err) {
    lb_buf_release(&b);
    return LB_ENOMEM;
  }
  *out = lb_buf_detach(&b, NULL);
  return 0;
}

/* The image pre-download annotations of a CloneSet, kept verbatim (their
 * parsing and its messages are cloneset_predownload.c's). */
static int pack_predownload(struct json_object *root, char **out) {
  static const char *const keys[] = {
      "apps.kruise.io/image-predownload-parallelism",
      "apps.kruise.io/image-predownload-timeout-seconds",
      "apps.kruise.io/image-predownload-min-updated-ready-pods"};
  struct json_object *ann = jget(jget(root, "metadata"), "annotations");
  if (!(*out = calloc(1, 1)))
    return LB_ENOMEM;
  for (size_t i = 0; i < LB_ARRAY_SIZE(keys); i++) {
    const char *v = jstr(ann, keys[i]);
    if (v && lb_kv_set(out, keys[i], v))
      return LB_ENOMEM;
  }
  return 0;
}

static int decode_cloneset(struct json_object *root, struct lb_cloneset *c,
                           const char **why) {
  struct json_object *spec = jget(root, "spec"), *st = jget(root, "status");
  struct json_object *us = jget(spec, "updateStrategy");
  struct json_object *ss = jget(spec, "scaleStrategy");
  struct json_object *tmpl = jget(spec, "template");
  struct lb_buf b = LB_BUF_INIT;
  int64_t v;
  int rc;
  const char *t;

  if ((rc = jint(spec, "replicas", 1, &v, why,
                 "spec.replicas: expected an integer")))
    return rc;
  if (v < 0 || v > 1000000) {
    *why = "spec.replicas: must be between 0 and 1000000";
    return LB_EPARSE;
  }
  c->replicas = (int)v;
  if ((rc = selector_decode(jget(spec, "selector"), &c->selector, why)))
    return rc;
  if (!tmpl || !json_object_is_type(tmpl, json_type_object)) {
    *why = "spec.template: required object is missing";
    return LB_EPARSE;
  }
  canon_json(tmpl, &b);
  if (b.err)
    return b.err;
  c->template_json = lb_buf_detach(&b, NULL);
  t = jstr(us, "type");
  c->update_type = !t || !strcmp(t, "ReCreate") ? LB_CSU_RECREATE
                   : !strcmp(t, "InPlaceIfPossible")
                       ? LB_CSU_INPLACE_IF_POSSIBLE
                   : !strcmp(t, "InPlaceOnly") ? LB_CSU_INPLACE_ONLY
                                               : -1;
  if (c->update_type < 0) {
    *why = "spec.updateStrategy.type: must be ReCreate, InPlaceIfPossible or "
           "InPlaceOnly";
    return LB_EPARSE;
  }
  if (lb_intstr_from_json(jget(us, "partition"), &c->partition)) {
    *why = "spec.updateStrategy.partition: expected an integer or a percent";
    return LB_EPARSE;
  }
  if (lb_intstr_from_json(jget(us, "maxUnavailable"), &c->max_unavailable)) {
    *why = "spec.updateStrategy.maxUnavailable: expected an integer or a "
           "percent";
    return LB_EPARSE;
  }
  if (!c->max_unavailable.set)
    c->max_unavailable = (struct lb_intstr){1, 1, 20}; /* default "20%" */
  if (lb_intstr_from_json(jget(us, "maxSurge"), &c->max_surge)) {
    *why = "spec.updateStrategy.maxSurge: expected an integer or a percent";
    return LB_EPARSE;
  }
  c->paused = jget(us, "paused") && json_object_get_boolean(jget(us, "paused"));
  if ((rc = pack_list(jget(ss, "podsToDelete"), &c->pods_to_delete, why,
                      "spec.scaleStrategy.podsToDelete: expected pod names")))
    return rc;
  if (lb_intstr_from_json(jget(ss, "maxUnavailable"),
                          &c->scale_max_unavailable)) {
    *why = "spec.scaleStrategy.maxUnavailable: expected an integer or a "
           "percent";
    return LB_EPARSE;
  }
  if ((rc = jint(spec, "minReadySeconds", 0, &v, why,
                 "spec.minReadySeconds: expected an integer")))
    return rc;
  c->min_ready_seconds = (int)(v < 0 ? 0 : v > 86400 * 365 ? 86400 * 365 : v);
  if ((rc = jint(spec, "revisionHistoryLimit", 10, &v, why,
                 "spec.revisionHistoryLimit: expected an integer")))
    return rc;
  c->revision_history_limit = (int)(v < 0 ? 0 : v > 1000 ? 1000 : v);
  if ((rc = jint(jget(us, "inPlaceUpdateStrategy"), "gracePeriodSeconds", 0, &v,
                 why,
                 "spec.updateStrategy.inPlaceUpdateStrategy.gracePeriodSeconds:"
                 " expected an integer")))
    return rc;
  c->inplace_grace_seconds = (int)(v < 0 ? 0 : v > 86400 ? 86400 : v);
  c->disable_pvc_reuse = jget(ss, "disablePVCReuse") &&
                         json_object_get_boolean(jget(ss, "disablePVCReuse"));
  if ((rc = canon_opt(jget(spec, "lifecycle"), &c->lifecycle_json)) ||
      (rc = canon_opt(jget(spec, "volumeClaimTemplates"), &c->vct_json)) ||
      (rc = canon_opt(jget(us, "priorityStrategy"), &c->priority_json)) ||
      (rc = canon_opt(jget(us, "scatterStrategy"), &c->scatter_json)) ||
      (rc = pack_predownload(root, &c->predownload_annos)))
    return rc;

  struct lb_cs_status *s = &c->status;
  int64_t x;
#define SI(key, field)                                                         \
  jint(st, key, 0, &x, why, "");                                               \
  s->field = (int)x;
  jint(st, "observedGeneration", 0, &s->observed_generation, why, "");
  SI("replicas", replicas)
  SI("readyReplicas", ready)
  SI("availableReplicas", available)
  SI("updatedReplicas", updated)
  SI("updatedReadyReplicas", updated_ready)
  SI("updatedAvailableReplicas", updated_available)
  SI("expectedUpdatedReplicas", expected_updated)
  SI("collisionCount", collision_count)
#undef SI
  s->current_revision = lb_strdup(jstr(st, "currentRevision"));
  s->update_revision = lb_strdup(jstr(st, "updateRevision"));
  s->label_selector = lb_strdup(jstr(st, "labelSelector"));
  return 0;
}

static int decode_crev(struct json_object *root, struct lb_crev *r,
                       const char **why) {
  struct lb_buf b = LB_BUF_INIT;
  int rc = jint(root, "revision", 0, &r->revision, why,
                "revision: expected an integer");
  if (rc)
    return rc;
  canon_json(jget(root, "data") ? jget(root, "data") : NULL, &b);
  if (b.err)
    return b.err;
  r->data = lb_buf_detach(&b, NULL);
  return 0;
}

static int decode_pvc(struct json_object *root, struct lb_pvc *v) {
  const char *ph = jstr(jget(root, "status"), "phase");
  v->bound = ph && !strcmp(ph, "Bound");
  return 0;
}

static int decode_workload(struct json_object *root, struct lb_workload *w,
                           const char **why) {
  int64_t v;
  int rc = jint(jget(root, "spec"), "replicas", 1, &v, why,
                "spec.replicas: expected an integer");
  if (rc)
    return rc;
  w->replicas = (int)(v < 0 ? 0 : v > 1000000 ? 1000000 : v);
  return 0;
}

/* Status pod maps {pod: RFC 3339 time} -> packed kv pod -> epoch ms. */
static int pack_time_map(struct json_object *m, char **out) {
  *out = NULL;
  if (m && json_object_is_type(m, json_type_object)) {
    json_object_object_foreach(m, k, v) {
      int64_t ms = 0;
      char num[32];
      if (!json_object_is_type(v, json_type_string) ||
          lb_time_parse(json_object_get_string(v), &ms))
        continue;
      snprintf(num, sizeof num, "%lld", (long long)ms);
      if (lb_kv_set(out, k, num))
        return LB_ENOMEM;
    }
  }
  if (!*out && !(*out = calloc(1, 1)))
    return LB_ENOMEM;
  return 0;
}

static int decode_pub(struct json_object *root, struct lb_pub *p,
                      const char **why) {
  struct json_object *spec = jget(root, "spec"), *st = jget(root, "status");
  struct json_object *ref = jget(spec, "targetRef");
  struct json_object *ann = jget(jget(root, "metadata"), "annotations");
  const char *ops = jstr(ann, "kruise.io/pub-protect-operations");
  const char *tot = jstr(ann, "pub.kruise.io/protect-total-replicas");
  int64_t x;
  int rc;
  if (jget(spec, "selector")) {
    p->has_selector = 1;
    if ((rc = selector_decode(jget(spec, "selector"), &p->selector, why)))
      return rc;
  }
  if (ref) {
    p->target_api_version =
        lb_strdup(jstr(ref, "apiVersion") ? jstr(ref, "apiVersion") : "");
    p->target_kind = lb_strdup(jstr(ref, "kind") ? jstr(ref, "kind") : "");
    p->target_name = lb_strdup(jstr(ref, "name") ? jstr(ref, "name") : "");
    if (!p->target_api_version || !p->target_kind || !p->target_name)
      return LB_ENOMEM;
  }
  if (lb_intstr_from_json(jget(spec, "maxUnavailable"), &p->max_unavailable)) {
    *why = "spec.maxUnavailable: expected a non-negative integer or a percent";
    return LB_EPARSE;
  }
  if (lb_intstr_from_json(jget(spec, "minAvailable"), &p->min_available)) {
    *why = "spec.minAvailable: expected a non-negative integer or a percent";
    return LB_EPARSE;
  }
  p->protect_ops = LB_PUB_OP_DELETE | LB_PUB_OP_UPDATE | LB_PUB_OP_EVICT;
  if (ops && *ops) {
    p->protect_ops = 0;
    for (const char *q = ops; *q;) {
      size_t n = strcspn(q, ",");
      p->protect_ops |= n == 6 && !strncmp(q, "DELETE", 6)   ? LB_PUB_OP_DELETE
                        : n == 6 && !strncmp(q, "UPDATE", 6) ? LB_PUB_OP_UPDATE
                        : n == 5 && !strncmp(q, "EVICT", 5)  ? LB_PUB_OP_EVICT
                                                             : 0;
      q += n + (q[n] == ',');
    }
  }
  p->protect_total = -1;
  if (tot && *tot) {
    char *end;
    long v = strtol(tot, &end, 10);
    if (!*end && v >= 0 && v <= 1000000)
      p->protect_total = (int)v;
  }
  struct lb_pub_status *s = &p->status;
  jint(st, "observedGeneration", 0, &s->observed_generation, why, "");
  jint(st, "desiredAvailable", 0, &x, why, "");
  s->desired_available = (int)x;
  jint(st, "currentAvailable", 0, &x, why, "");
  s->current_available = (int)x;
  jint(st, "unavailableAllowed", 0, &x, why, "");
  s->unavailable_allowed = (int)x;
  jint(st, "totalReplicas", 0, &x, why, "");
  s->total_replicas = (int)x;
  *why = NULL;
  if ((rc = pack_time_map(jget(st, "disruptedPods"), &s->disrupted)) ||
      (rc = pack_time_map(jget(st, "unavailablePods"), &s->unavailable)))
    return rc;
  /* the ledger starts as what the apiserver holds (engine.c merges it
   * with the engine's own records on every update) */
  p->led_disrupted = lb_strndup(s->disrupted, lb_kv_size(s->disrupted));
  p->led_unavailable = lb_strndup(s->unavailable, lb_kv_size(s->unavailable));
  if (!p->led_disrupted || !p->led_unavailable)
    return LB_ENOMEM;
  memcpy(p->led_disrupted, s->disrupted, lb_kv_size(s->disrupted));
  memcpy(p->led_unavailable, s->unavailable, lb_kv_size(s->unavailable));
  return 0;
}

static void pod_derive(struct lb_pod *p) {
  const char *v;
  p->rev = (v = lb_kv_get(p->o.labels, "controller-revision-hash")) ? v : "";
  p->lc =
      (v = lb_kv_get(p->o.labels, "lifecycle.apps.kruise.io/state")) ? v : "";
  p->specified_delete =
      lb_kv_get(p->o.labels, "apps.kruise.io/specified-delete") != NULL;
  p->unavailable_label = 0;
  LB_KV_FOR(p->o.labels, k, val) {
    (void)val;
    p->unavailable_label |= !strncmp(k, "unavailable-pod.kruise.io/", 26);
  }
  p->ipu_ready = lb_kv_get(p->conds, LB_COND_INPLACE_READY);
  p->kpr_ready = lb_kv_get(p->conds, LB_COND_KRUISE_POD_READY);
  p->ipu_state = (v = lb_kv_get(p->annotations, LB_ANNO_INPLACE_STATE))
                     ? v
                     : lb_kv_get(p->annotations, LB_LEGACY_STATE);
  p->ipu_grace = (v = lb_kv_get(p->annotations, LB_ANNO_INPLACE_GRACE))
                     ? v
                     : lb_kv_get(p->annotations, LB_LEGACY_GRACE);
  p->ipu_false = p->ipu_ready && !strcmp(p->ipu_ready, "False");
  p->lc_kind =
      !*p->lc                                  ? LB_LCK_NONE
      : !strcmp(p->lc, LB_LC_PREPARING_NORMAL) ? LB_LCK_PREPARING_NORMAL
      : !strcmp(p->lc, LB_LC_NORMAL)           ? LB_LCK_NORMAL
      : !strcmp(p->lc, LB_LC_PREPARING_UPDATE) ? LB_LCK_PREPARING_UPDATE
      : !strcmp(p->lc, LB_LC_UPDATING)         ? LB_LCK_UPDATING
      : !strcmp(p->lc, LB_LC_UPDATED)          ? LB_LCK_UPDATED
      : !strcmp(p->lc, LB_LC_PREPARING_DELETE) ? LB_LCK_PREPARING_DELETE
                                               : LB_LCK_OTHER;
  p->gate_ipu = p->gate_kpr = 0;
  for (const char *g = p->gates; g && *g; g += strlen(g) + 1) {
    p->gate_ipu |= !strcmp(g, LB_COND_INPLACE_READY);
    p->gate_kpr |= !strcmp(g, LB_COND_KRUISE_POD_READY);
  }
}

static struct lb_obj *obj_alloc(int kind) {
  size_t sz = kind == LB_KIND_POD        ? sizeof(struct lb_pod)
              : kind == LB_KIND_CLONESET ? sizeof(struct lb_cloneset)
              : kind == LB_KIND_CREV     ? sizeof(struct lb_crev)
              : kind == LB_KIND_PVC      ? sizeof(struct lb_pvc)
              : kind == LB_KIND_PUB      ? sizeof(struct lb_pub)
              : kind == LB_KIND_IPJ      ? sizeof(struct lb_obj)
              : kind == LB_KIND_DEPLOY || kind == LB_KIND_RS ||
                      kind == LB_KIND_STS || kind == LB_KIND_ASTS ||
                      kind == LB_KIND_UD
                  ? sizeof(struct lb_workload)
                  : 0;
  struct lb_obj *o = sz ? calloc(1, sz) : NULL;
  if (o)
    o->kind = kind;
  return o;
}

int lb_obj_decode(struct json_object *root, struct lb_obj **out,
                  const char **why) {
  const char *av = jstr(root, "apiVersion"), *k = jstr(root, "kind");
  char group[128] = "";
  struct lb_obj *o;
  int kind, rc;
  *out = NULL;
  *why = NULL;
  if (!av || !k)
    return 0;
  const char *slash = strchr(av, '/');
  if (slash && (size_t)(slash - av) < sizeof group) {
    memcpy(group, av, (size_t)(slash - av));
    group[slash - av] = '\0';
  }
  kind = lb_kind_of(group, k);
  if (!kind)
    return 0;
  if (!(o = obj_alloc(kind)))
    return LB_ENOMEM;
  rc = decode_meta(root, o, why);
  if (!rc && kind == LB_KIND_POD) {
    rc = decode_pod(root, (struct lb_pod *)o, why);
    if (!rc)
      pod_derive((struct lb_pod *)o);
  } else if (!rc && kind == LB_KIND_CLONESET)
    rc = decode_cloneset(root, (struct lb_cloneset *)o, why);
  else if (!rc && kind == LB_KIND_CREV)
    rc = decode_crev(root, (struct lb_crev *)o, why);
  else if (!rc && kind == LB_KIND_PVC)
    rc = decode_pvc(root, (struct lb_pvc *)o);
  else if (!rc && kind == LB_KIND_PUB)
    rc = decode_pub(root, (struct lb_pub *)o, why);
  else if (!rc && kind > LB_KIND_PUB && kind != LB_KIND_IPJ)
    rc = decode_workload(root, (struct lb_workload *)o, why);
  if (rc) {
    lb_obj_free(o);
    return rc;
  }
  *out = o;
  return 0;
}

void lb_obj_free(struct lb_obj *o) {
  if (!o)
    return;
  free(o->ns);
  free(o->name);
  free(o->uid);
  free(o->rv);
  free(o->owner_uid);
  free(o->labels);
  if (o->kind == LB_KIND_POD) {
    struct lb_pod *p = (struct lb_pod *)o;
    free(p->node);
    free(p->annotations);
    free(p->finalizers);
    free(p->gates);
    free(p->conds);
    for (size_t i = 0; i < p->n_ctrs; i++) {
      free(p->ctrs[i].name);
      free(p->ctrs[i].image);
    }
    free(p->ctrs);
    for (size_t i = 0; i < p->n_csts; i++) {
      free(p->csts[i].name);
      free(p->csts[i].image);
      free(p->csts[i].image_id);
      free(p->csts[i].container_id);
    }
    free(p->csts);
  } else if (o->kind == LB_KIND_CLONESET) {
    struct lb_cloneset *c = (struct lb_cloneset *)o;
    selector_release(&c->selector);
    free(c->template_json);
    free(c->rev_data_memo);
    free(c->pods_to_delete);
    free(c->status.current_revision);
    free(c->status.update_revision);
    free(c->status.label_selector);
    free(c->lifecycle_json);
    free(c->vct_json);
    free(c->priority_json);
    free(c->scatter_json);
    free(c->predownload_annos);
    free(c->pods);
    free(c->owned);
    lb__cs_agg_free(c->agg);
  } else if (o->kind == LB_KIND_CREV) {
    free(((struct lb_crev *)o)->data);
  } else if (o->kind == LB_KIND_PUB) {
    struct lb_pub *p = (struct lb_pub *)o;
    selector_release(&p->selector);
    free(p->target_api_version);
    free(p->target_kind);
    free(p->target_name);
    free(p->status.disrupted);
    free(p->status.unavailable);
    free(p->led_disrupted);
    free(p->led_unavailable);
  }
  free(o);
}

/* --- canonical encoding ------------------------------------------------- */
static void enc_kv(struct lb_buf *b, const char *key, const char *kv) {
  int first = 1;
  lb_buf_addf(b, ",\"%s\":{", key);
  LB_KV_FOR(kv, k, v) {
    lb_buf_adds(b, first ? "" : ",");
    lb_buf_add_json_str(b, k);
    lb_buf_adds(b, ":");
    lb_buf_add_json_str(b, v);
    first = 0;
  }
  lb_buf_adds(b, "}");
}
static void enc_list(struct lb_buf *b, const char *key, const char *list) {
  lb_buf_addf(b, ",\"%s\":[", key);
  for (const char *p = list; p && *p; p += strlen(p) + 1) {
    lb_buf_adds(b, p == list ? "" : ",");
    lb_buf_add_json_str(b, p);
  }
  lb_buf_adds(b, "]");
}
static void enc_str(struct lb_buf *b, const char *key, const char *v) {
  lb_buf_addf(b, ",\"%s\":", key);
  if (v)
    lb_buf_add_json_str(b, v);
  else
    lb_buf_adds(b, "null");
}
static void enc_int(struct lb_buf *b, const char *key, int64_t v) {
  lb_buf_addf(b, ",\"%s\":%lld", key, (long long)v);
}
static void enc_intstr(struct lb_buf *b, const char *key,
                       const struct lb_intstr *v) {
  lb_buf_addf(b, ",\"%s\":[%d,%d,%d]", key, v->set, v->is_pct, v->val);
}

int lb_obj_encode(const struct lb_obj *o, struct lb_buf *b) {
  lb_buf_addf(b, "{\"k\":%d", o->kind);
  enc_str(b, "ns", o->ns);
  enc_str(b, "name", o->name);
  enc_str(b, "uid", o->uid);
  enc_str(b, "rv", o->rv);
  enc_str(b, "owner", o->owner_uid);
  enc_kv(b, "labels", o->labels);
  enc_int(b, "created", o->created_ms);
  enc_int(b, "deleting", o->deleting_ms);
  enc_int(b, "gen", o->generation);
  if (o->kind == LB_KIND_POD) {
    const struct lb_pod *p = (const struct lb_pod *)o;
    enc_str(b, "node", p->node);
    enc_int(b, "phase", p->phase);
    enc_int(b, "ready", p->ready);
    enc_int(b, "ready_ms", p->ready_ms);
    enc_int(b, "restarts", p->restarts);
    enc_int(b, "cost", p->deletion_cost);
    enc_kv(b, "annotations", p->annotations);
    enc_list(b, "finalizers", p->finalizers);
    enc_list(b, "gates", p->gates);
    enc_kv(b, "conds", p->conds);
    lb_buf_adds(b, ",\"ctrs\":[");
    for (size_t i = 0; i < p->n_ctrs; i++) {
      lb_buf_adds(b, i ? ",[" : "[");
      lb_buf_add_json_str(b, p->ctrs[i].name);
      lb_buf_adds(b, ",");
      lb_buf_add_json_str(b, p->ctrs[i].image);
      lb_buf_adds(b, "]");
    }
    lb_buf_adds(b, "],\"csts\":[");
    for (size_t i = 0; i < p->n_csts; i++) {
      const struct lb_ctr_status *x = &p->csts[i];
      lb_buf_adds(b, i ? ",[" : "[");
      lb_buf_add_json_str(b, x->name);
      lb_buf_adds(b, ",");
      lb_buf_add_json_str(b, x->image);
      lb_buf_adds(b, ",");
      lb_buf_add_json_str(b, x->image_id);
      lb_buf_adds(b, ",");
      lb_buf_add_json_str(b, x->container_id);
      lb_buf_addf(b, ",%d,%d,%d]", x->ready, x->started, x->restarts);
    }
    lb_buf_adds(b, "]");
  } else if (o->kind == LB_KIND_CLONESET) {
    const struct lb_cloneset *c = (const struct lb_cloneset *)o;
    const struct lb_cs_status *s = &c->status;
    enc_int(b, "replicas", c->replicas);
    enc_kv(b, "sel_ml", c->selector.match_labels);
    lb_buf_adds(b, ",\"sel_req\":[");
    for (size_t i = 0; i < c->selector.n_reqs; i++) {
      lb_buf_addf(b, "%s{\"op\":%d", i ? "," : "", c->selector.reqs[i].op);
      enc_str(b, "key", c->selector.reqs[i].key);
      enc_list(b, "values", c->selector.reqs[i].values);
      lb_buf_adds(b, "}");
    }
    lb_buf_adds(b, "]");
    enc_int(b, "sel_empty", c->selector.empty);
    enc_str(b, "template", c->template_json);
    enc_int(b, "utype", c->update_type);
    enc_intstr(b, "partition", &c->partition);
    enc_intstr(b, "max_unavailable", &c->max_unavailable);
    enc_intstr(b, "max_surge", &c->max_surge);
    enc_int(b, "paused", c->paused);
    enc_list(b, "pods_to_delete", c->pods_to_delete);
    enc_intstr(b, "scale_max_unavailable", &c->scale_max_unavailable);
    enc_int(b, "min_ready", c->min_ready_seconds);
    enc_int(b, "history", c->revision_history_limit);
    enc_int(b, "ip_grace", c->inplace_grace_seconds);
    enc_int(b, "no_pvc_reuse", c->disable_pvc_reuse);
    enc_str(b, "lifecycle", c->lifecycle_json);
    enc_str(b, "vct", c->vct_json);
    enc_str(b, "priority", c->priority_json);
    enc_str(b, "scatter", c->scatter_json);
    if (c->predownload_annos && *c->predownload_annos) /* digests unchanged
                                                          without them */
      enc_kv(b, "pd_annos", c->predownload_annos);
    enc_int(b, "st_gen", s->observed_generation);
    lb_buf_addf(b, ",\"st\":[%d,%d,%d,%d,%d,%d,%d,%d]", s->replicas, s->ready,
                s->available, s->updated, s->updated_ready,
                s->updated_available, s->expected_updated, s->collision_count);
    enc_str(b, "st_cur", s->current_revision);
    enc_str(b, "st_upd", s->update_revision);
    enc_str(b, "st_sel", s->label_selector);
    enc_int(b, "wakeup", c->wakeup_ms);
    lb_buf_addf(b, ",\"last_reason\":\"%016llx\"",
                (unsigned long long)c->last_reason);
  } else if (o->kind == LB_KIND_CREV) {
    const struct lb_crev *r = (const struct lb_crev *)o;
    enc_int(b, "revision", r->revision);
    enc_str(b, "data", r->data);
  } else if (o->kind == LB_KIND_PVC) {
    enc_int(b, "bound", ((const struct lb_pvc *)o)->bound);
  } else if (o->kind == LB_KIND_PUB) {
    const struct lb_pub *p = (const struct lb_pub *)o;
    const struct lb_pub_status *s = &p->status;
    enc_int(b, "has_sel", p->has_selector);
    enc_kv(b, "sel_ml", p->selector.match_labels);
    lb_buf_adds(b, ",\"sel_req\":[");
    for (size_t i = 0; i < p->selector.n_reqs; i++) {
      lb_buf_addf(b, "%s{\"op\":%d", i ? "," : "", p->selector.reqs[i].op);
      enc_str(b, "key", p->selector.reqs[i].key);
      enc_list(b, "values", p->selector.reqs[i].values);
      lb_buf_adds(b, "}");
    }
    lb_buf_adds(b, "]");
    enc_int(b, "sel_empty", p->selector.empty);
    enc_str(b, "t_api", p->target_api_version);
    enc_str(b, "t_kind", p->target_kind);
    enc_str(b, "t_name", p->target_name);
    enc_intstr(b, "max_unavailable", &p->max_unavailable);
    enc_intstr(b, "min_available", &p->min_available);
    enc_int(b, "ops", p->protect_ops);
    enc_int(b, "total", p->protect_total);
    enc_int(b, "st_gen", s->observed_generation);
    lb_buf_addf(b, ",\"st\":[%d,%d,%d,%d]", s->desired_available,
                s->current_available, s->unavailable_allowed,
                s->total_replicas);
    enc_kv(b, "st_disrupted", s->disrupted);
    enc_kv(b, "st_unavailable", s->unavailable);
    enc_kv(b, "led_disrupted", p->led_disrupted);
    enc_kv(b, "led_unavailable", p->led_unavailable);
  } else if (o->kind > LB_KIND_PUB && o->kind != LB_KIND_IPJ) {
    enc_int(b, "replicas", ((const struct lb_workload *)o)->replicas);
  }
  if (o->kind == LB_KIND_PUB) { /* engine bookkeeping (CloneSet: above) */
    const struct lb_owner *w = &((const struct lb_pub *)o)->own;
    /* in-flight counts are rebuilt from the in-flight actions at restore */
    lb_buf_addf(b, ",\"own\":[%lld,\"%016llx\"]", (long long)w->wakeup_ms,
                (unsigned long long)w->last_reason);
  }
  return lb_buf_adds(b, "}");
}

/* --- restoring ---------------------------------------------------------- */
static int r_str(struct json_object *e, const char *key, char **out) {
  struct json_object *v = jget(e, key);
  *out = NULL;
  if (!v || json_object_is_type(v, json_type_null))
    return 0;
  if (!json_object_is_type(v, json_type_string))
    return LB_ECORRUPT;
  return (*out = lb_strdup(json_object_get_string(v))) ? 0 : LB_ENOMEM;
}
static int64_t r_int(struct json_object *e, const char *key) {
  return json_object_get_int64(jget(e, key));
}
static void r_intstr(struct json_object *e, const char *key,
                     struct lb_intstr *v) {
  struct json_object *a = jget(e, key);
  memset(v, 0, sizeof *v);
  if (!json_object_is_type(a, json_type_array) ||
      json_object_array_length(a) != 3)
    return; /* damaged snapshots restore an unset value, never crash */
  v->set = json_object_get_int(json_object_array_get_idx(a, 0));
  v->is_pct = json_object_get_int(json_object_array_get_idx(a, 1));
  v->val = json_object_get_int(json_object_array_get_idx(a, 2));
}

int lb_obj_restore(struct json_object *e, struct lb_obj **out) {
  const char *why = NULL;
  int kind = (int)r_int(e, "k"), rc;
  struct lb_obj *o = obj_alloc(kind);
  *out = NULL;
  if (!o)
    return kind > LB_KIND_NONE && kind < LB_KIND__COUNT ? LB_ENOMEM
                                                        : LB_ECORRUPT;
  if ((rc = r_str(e, "ns", &o->ns)) || (rc = r_str(e, "name", &o->name)) ||
      (rc = r_str(e, "uid", &o->uid)) || (rc = r_str(e, "rv", &o->rv)) ||
      (rc = r_str(e, "owner", &o->owner_uid)) ||
      (rc = pack_kv(jget(e, "labels"), &o->labels, &why, "labels")))
    goto fail;
  if (!o->ns || !o->name || !o->uid || !o->rv) {
    rc = LB_ECORRUPT;
    goto fail;
  }
  o->created_ms = r_int(e, "created");
  o->deleting_ms = r_int(e, "deleting");
  o->generation = r_int(e, "gen");
  if (kind == LB_KIND_POD) {
    struct lb_pod *p = (struct lb_pod *)o;
    if ((rc = r_str(e, "node", &p->node)))
      goto fail;
    p->phase = (int)r_int(e, "phase");
    p->ready = (int)r_int(e, "ready");
    p->ready_ms = r_int(e, "ready_ms");
    p->restarts = (int)r_int(e, "restarts");
    p->deletion_cost = r_int(e, "cost");
    if ((rc = pack_kv(jget(e, "annotations"), &p->annotations, &why, "a")) ||
        (rc = pack_list(jget(e, "finalizers"), &p->finalizers, &why, "f")) ||
        (rc = pack_list(jget(e, "gates"), &p->gates, &why, "g")) ||
        (rc = pack_kv(jget(e, "conds"), &p->conds, &why, "c")))
      goto fail;
    struct json_object *ca = jget(e, "ctrs"), *sa = jget(e, "csts");
    if (!json_object_is_type(ca, json_type_array) ||
        !json_object_is_type(sa, json_type_array)) {
      rc = LB_ECORRUPT;
      goto fail;
    }
    size_t nc = json_object_array_length(ca), ns = json_object_array_length(sa);
    p->ctrs = calloc(nc + 1, sizeof *p->ctrs);
    p->csts = calloc(ns + 1, sizeof *p->csts);
    if (!p->ctrs || !p->csts) {
      rc = LB_ENOMEM;
      goto fail;
    }
    for (size_t i = 0; i < nc; i++) {
      struct json_object *x = json_object_array_get_idx(ca, i);
      p->ctrs[i].name =
          lb_strdup(json_object_get_string(json_object_array_get_idx(x, 0)));
      p->ctrs[i].image =
          lb_strdup(json_object_get_string(json_object_array_get_idx(x, 1)));
      p->n_ctrs = i + 1;
      if (!p->ctrs[i].name || !p->ctrs[i].image) {
        rc = LB_ECORRUPT;
        goto fail;
      }
    }
    for (size_t i = 0; i < ns; i++) {
      struct json_object *x = json_object_array_get_idx(sa, i);
      struct lb_ctr_status *c = &p->csts[i];
      if (!json_object_is_type(x, json_type_array) ||
          json_object_array_length(x) != 7) {
        rc = LB_ECORRUPT;
        goto fail;
      }
      c->name =
          lb_strdup(json_object_get_string(json_object_array_get_idx(x, 0)));
      c->image =
          lb_strdup(json_object_get_string(json_object_array_get_idx(x, 1)));
      c->image_id =
          lb_strdup(json_object_get_string(json_object_array_get_idx(x, 2)));
      c->container_id =
          lb_strdup(json_object_get_string(json_object_array_get_idx(x, 3)));
      c->ready = json_object_get_int(json_object_array_get_idx(x, 4));
      c->started = json_object_get_int(json_object_array_get_idx(x, 5));
      c->restarts = json_object_get_int(json_object_array_get_idx(x, 6));
      p->n_csts = i + 1;
      if (!c->name || !c->image || !c->image_id || !c->container_id) {
        rc = LB_ECORRUPT;
        goto fail;
      }
    }
    pod_derive(p);
  } else if (kind == LB_KIND_CLONESET) {
    struct lb_cloneset *c = (struct lb_cloneset *)o;
    struct lb_cs_status *s = &c->status;
    struct json_object *reqs = jget(e, "sel_req"), *st = jget(e, "st");
    const char *lr;
    if (!json_object_is_type(reqs, json_type_array) ||
        !json_object_is_type(st, json_type_array) ||
        json_object_array_length(st) != 8) {
      rc = LB_ECORRUPT;
      goto fail;
    }
    c->replicas = (int)r_int(e, "replicas");
    if ((rc = pack_kv(jget(e, "sel_ml"), &c->selector.match_labels, &why,
                      "sel_ml")))
      goto fail;
    size_t n = json_object_array_length(reqs);
    c->selector.reqs = calloc(n + 1, sizeof *c->selector.reqs);
    if (!c->selector.reqs) {
      rc = LB_ENOMEM;
      goto fail;
    }
    for (size_t i = 0; i < n; i++) {
      struct json_object *r = json_object_array_get_idx(reqs, i);
      c->selector.n_reqs = i + 1;
      c->selector.reqs[i].op = (int)r_int(r, "op");
      if ((rc = r_str(r, "key", &c->selector.reqs[i].key)) ||
          (rc = pack_list(jget(r, "values"), &c->selector.reqs[i].values, &why,
                          "values")))
        goto fail;
    }
    c->selector.empty = (int)r_int(e, "sel_empty");
    if ((rc = r_str(e, "template", &c->template_json)))
      goto fail;
    c->update_type = (int)r_int(e, "utype");
    r_intstr(e, "partition", &c->partition);
    r_intstr(e, "max_unavailable", &c->max_unavailable);
    r_intstr(e, "max_surge", &c->max_surge);
    c->paused = (int)r_int(e, "paused");
    if ((rc = pack_list(jget(e, "pods_to_delete"), &c->pods_to_delete, &why,
                        "pods_to_delete")))
      goto fail;
    r_intstr(e, "scale_max_unavailable", &c->scale_max_unavailable);
    c->min_ready_seconds = (int)r_int(e, "min_ready");
    c->revision_history_limit = (int)r_int(e, "history");
    c->inplace_grace_seconds = (int)r_int(e, "ip_grace");
    c->disable_pvc_reuse = (int)r_int(e, "no_pvc_reuse");
    if ((rc = r_str(e, "lifecycle", &c->lifecycle_json)) ||
        (rc = r_str(e, "vct", &c->vct_json)) ||
        (rc = r_str(e, "priority", &c->priority_json)) ||
        (rc = r_str(e, "scatter", &c->scatter_json)) ||
        (rc = pack_kv(jget(e, "pd_annos"), &c->predownload_annos, &why,
                      "pd_annos")))
      goto fail;
    s->observed_generation = r_int(e, "st_gen");
    int *fields[] = {&s->replicas,         &s->ready,
                     &s->available,        &s->updated,
                     &s->updated_ready,    &s->updated_available,
                     &s->expected_updated, &s->collision_count};
    for (size_t i = 0; i < LB_ARRAY_SIZE(fields); i++)
      *fields[i] = json_object_get_int(json_object_array_get_idx(st, i));
    if ((rc = r_str(e, "st_cur", &s->current_revision)) ||
        (rc = r_str(e, "st_upd", &s->update_revision)) ||
        (rc = r_str(e, "st_sel", &s->label_selector)))
      goto fail;
    c->wakeup_ms = r_int(e, "wakeup");
    lr = json_object_get_string(jget(e, "last_reason"));
    c->last_reason = lr ? strtoull(lr, NULL, 16) : 0;
  } else if (kind == LB_KIND_CREV) {
    struct lb_crev *r = (struct lb_crev *)o;
    r->revision = r_int(e, "revision");
    if ((rc = r_str(e, "data", &r->data)))
      goto fail;
  } else if (kind == LB_KIND_PVC) {
    ((struct lb_pvc *)o)->bound = (int)r_int(e, "bound");
  } else if (kind == LB_KIND_PUB) {
    struct lb_pub *p = (struct lb_pub *)o;
    struct lb_pub_status *s = &p->status;
    struct json_object *reqs = jget(e, "sel_req"), *st = jget(e, "st"),
                       *own = jget(e, "own");
    if (!json_object_is_type(reqs, json_type_array) ||
        !json_object_is_type(st, json_type_array) ||
        json_object_array_length(st) != 4 ||
        !json_object_is_type(own, json_type_array) ||
        json_object_array_length(own) != 2) {
      rc = LB_ECORRUPT;
      goto fail;
    }
    p->has_selector = (int)r_int(e, "has_sel");
    if ((rc = pack_kv(jget(e, "sel_ml"), &p->selector.match_labels, &why,
                      "sel_ml")))
      goto fail;
    size_t n = json_object_array_length(reqs);
    p->selector.reqs = calloc(n + 1, sizeof *p->selector.reqs);
    if (!p->selector.reqs) {
      rc = LB_ENOMEM;
      goto fail;
    }
    for (size_t i = 0; i < n; i++) {
      struct json_object *r = json_object_array_get_idx(reqs, i);
      p->selector.n_reqs = i + 1;
      p->selector.reqs[i].op = (int)r_int(r, "op");
      if ((rc = r_str(r, "key", &p->selector.reqs[i].key)) ||
          (rc = pack_list(jget(r, "values"), &p->selector.reqs[i].values, &why,
                          "values")))
        goto fail;
    }
    p->selector.empty = (int)r_int(e, "sel_empty");
    if ((rc = r_str(e, "t_api", &p->target_api_version)) ||
        (rc = r_str(e, "t_kind", &p->target_kind)) ||
        (rc = r_str(e, "t_name", &p->target_name)))
      goto fail;
    r_intstr(e, "max_unavailable", &p->max_unavailable);
    r_intstr(e, "min_available", &p->min_available);
    p->protect_ops = (int)r_int(e, "ops");
    p->protect_total = (int)r_int(e, "total");
    s->observed_generation = r_int(e, "st_gen");
    s->desired_available =
        json_object_get_int(json_object_array_get_idx(st, 0));
    s->current_available =
        json_object_get_int(json_object_array_get_idx(st, 1));
    s->unavailable_allowed =
        json_object_get_int(json_object_array_get_idx(st, 2));
    s->total_replicas = json_object_get_int(json_object_array_get_idx(st, 3));
    if ((rc = pack_kv(jget(e, "st_disrupted"), &s->disrupted, &why, "d")) ||
        (rc = pack_kv(jget(e, "st_unavailable"), &s->unavailable, &why, "u")) ||
        (rc =
             pack_kv(jget(e, "led_disrupted"), &p->led_disrupted, &why, "d")) ||
        (rc = pack_kv(jget(e, "led_unavailable"), &p->led_unavailable, &why,
                      "u")))
      goto fail;
    p->wakeup_ms = json_object_get_int64(json_object_array_get_idx(own, 0));
    const char *lr = json_object_get_string(json_object_array_get_idx(own, 1));
    p->last_reason = lr ? strtoull(lr, NULL, 16) : 0;
  } else if (kind > LB_KIND_PUB && kind != LB_KIND_IPJ) {
    ((struct lb_workload *)o)->replicas = (int)r_int(e, "replicas");
  }
  *out = o;
  return 0;
fail:
  lb_obj_free(o);
  return rc == LB_EPARSE ? LB_ECORRUPT : rc;
}

struct lb_owner *lb_obj_owner(struct lb_obj *o) {
  if (o && o->kind == LB_KIND_CLONESET)
    return &((struct lb_cloneset *)o)->own;
  if (o && o->kind == LB_KIND_PUB)
    return &((struct lb_pub *)o)->own;
  return NULL;
}

int lb_pod_active(const struct lb_pod *p) {
  return !p->o.deleting_ms && p->phase != LB_PH_SUCCEEDED &&
         p->phase != LB_PH_FAILED;
}

const char *lb_pod_revision(const struct lb_pod *p) {
  return p->rev ? p->rev : "";
}

const struct lb_ctr_status *lb_pod_cstatus(const struct lb_pod *p,
                                           const char *name) {
  for (size_t i = 0; i < p->n_csts; i++)
    if (!strcmp(p->csts[i].name, name))
      return &p->csts[i];
  return NULL;
}

const char *lb_pod_cond(const struct lb_pod *p, const char *type) {
  return lb_kv_get(p->conds, type);
}

/* --- the text entry point; rules shared with fastdecode.c -------------- */
int lb__obj_kept_annotation(const char *k) { return kept_annotation(k); }
void lb__obj_pod_derive(struct lb_pod *p) { pod_derive(p); }

int lb_obj_decode_text(const char *text, struct lb_obj **out,
                       const char **why) {
  struct json_object *root;
  int rc = lb_fastdecode(text, strlen(text), NULL, out);
  *why = NULL;
  if (rc != LB_FD_DECLINED)
    return rc;
  root = json_tokener_parse(text); /* the reference */
  rc = root ? lb_obj_decode(root, out, why) : 0;
  json_object_put(root);
  return rc;
}
