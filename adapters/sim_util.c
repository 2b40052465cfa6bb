/* sim_util.c — helpers of the simulated cluster: the seeded PRNG and the
 * identifiers drawn from it, RFC 7386 merge patch on json-c trees, the
 * managedFields noise, and Kubernetes Status documents. See sim_int.h. */
#include "sim_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/err.h"
#include "../engine/util.h"

uint64_t lb__sim_rand(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static const char hexd[] = "0123456789abcdef";

static void hex_u64(uint64_t v, char *out) {
  for (int i = 15; i >= 0; i--) {
    out[i] = hexd[v & 15];
    v >>= 4;
  }
}

void lb__sim_uuid(uint64_t *state, char out[37]) {
  char h[32];
  uint64_t a = lb__sim_rand(state), b = lb__sim_rand(state);
  a = (a & ~0xf000ULL) | 0x4000ULL;       /* version 4 */
  b = (b & ~(3ULL << 62)) | (2ULL << 62); /* variant 10 */
  hex_u64(a, h);
  hex_u64(b, h + 16);
  size_t j = 0;
  for (size_t i = 0; i < 32; i++) {
    if (i == 8 || i == 12 || i == 16 || i == 20)
      out[j++] = '-';
    out[j++] = h[i];
  }
  out[j] = '\0';
}

void lb__sim_hex64(uint64_t *state, char out[65]) {
  for (int i = 0; i < 4; i++)
    hex_u64(lb__sim_rand(state), out + 16 * i);
  out[64] = '\0';
}

void lb__sim_digest(const char *s, char out[65]) {
  uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, then expanded */
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    h ^= *p;
    h *= 0x100000001b3ULL;
  }
  lb__sim_hex64(&h, out);
}

json_object *lb__sim_copy(json_object *v) {
  json_object *c = NULL;
  if (!v)
    return NULL;
  if (json_object_deep_copy(v, &c, NULL) != 0)
    return NULL;
  return c;
}

json_object *lb__sim_merge(json_object *target, json_object *patch, int *oom) {
  if (!json_object_is_type(patch, json_type_object)) {
    json_object_put(target);
    if (!patch)
      return NULL;
    json_object *c = lb__sim_copy(patch);
    if (!c)
      *oom = 1;
    return c;
  }
  if (!json_object_is_type(target, json_type_object)) {
    json_object_put(target);
    target = json_object_new_object();
    if (!target) {
      *oom = 1;
      return NULL;
    }
  }
  struct json_object_iterator it = json_object_iter_begin(patch);
  struct json_object_iterator end = json_object_iter_end(patch);
  while (!json_object_iter_equal(&it, &end)) {
    const char *k = json_object_iter_peek_name(&it);
    json_object *v = json_object_iter_peek_value(&it);
    json_object_iter_next(&it);
    if (!v) {
      json_object_object_del(target, k);
      continue;
    }
    json_object *cur = NULL;
    json_object_object_get_ex(target, k, &cur);
    json_object_get(cur); /* the merge consumes one reference */
    json_object *m = lb__sim_merge(cur, v, oom);
    if (!m) {
      json_object_object_del(target, k);
      continue;
    }
    json_object_object_add(target, k, m);
  }
  return target;
}

/* --- strategic merge patch (the subset Pods need) ----------------------- */

/* Merge key of a list-of-objects field, or NULL when the list is atomic
 * (replaced as a whole, as in RFC 7386). Keys follow the Kubernetes API:
 * ports merge on containerPort and volumeMounts on mountPath when those
 * members are present, else on name. */
static const char *merge_key(const char *field, json_object *elem) {
  static const char *const by_name[] = {
      "containers", "initContainers", "ephemeralContainers",
      "env",        "volumes",        "imagePullSecrets"};
  if (!strcmp(field, "ports") && lb__sim_member(elem, "containerPort"))
    return "containerPort";
  if (!strcmp(field, "volumeMounts") && lb__sim_member(elem, "mountPath"))
    return "mountPath";
  if (!strcmp(field, "ports") || !strcmp(field, "volumeMounts"))
    return "name";
  for (size_t i = 0; i < LB_ARRAY_SIZE(by_name); i++)
    if (!strcmp(field, by_name[i]))
      return "name";
  if (!strcmp(field, "conditions"))
    return "type";
  if (!strcmp(field, "readinessGates"))
    return "conditionType";
  return NULL;
}

static int key_equal(json_object *a, json_object *b, const char *key) {
  json_object *x = lb__sim_member(a, key), *y = lb__sim_member(b, key);
  return x && y && json_object_equal(x, y);
}

/* Merges the patch list p into the target list t (consumed) by `field`'s
 * merge key; an element {"<key>":..,"$patch":"delete"} removes its match. */
static json_object *smerge_list(const char *field, json_object *t,
                                json_object *p, int *oom) {
  if (!json_object_is_type(t, json_type_array)) {
    json_object_put(t);
    t = json_object_new_array();
    if (!t) {
      *oom = 1;
      return NULL;
    }
  }
  for (size_t i = 0; i < json_object_array_length(p); i++) {
    json_object *e = json_object_array_get_idx(p, i);
    const char *key = merge_key(field, e);
    const char *dir = lb__sim_str(e, "$patch");
    size_t n = json_object_array_length(t), at = n;
    if (!key || !json_object_is_type(e, json_type_object) ||
        !lb__sim_member(e, key)) {
      json_object_array_add(t, lb__sim_copy(e));
      continue;
    }
    for (size_t k = 0; k < n; k++)
      if (key_equal(json_object_array_get_idx(t, k), e, key)) {
        at = k;
        break;
      }
    if (dir && !strcmp(dir, "delete")) {
      if (at < n)
        json_object_array_del_idx(t, at, 1);
      continue;
    }
    json_object *cur =
        at < n ? json_object_get(json_object_array_get_idx(t, at)) : NULL;
    json_object *m = lb__sim_smerge(cur, e, oom);
    if (!m)
      continue;
    if (at < n)
      json_object_array_put_idx(t, at, m);
    else
      json_object_array_add(t, m);
  }
  return t;
}

/* Removes from the list target[field] every value listed in vals. */
static void delete_from_primitive(json_object *target, const char *field,
                                  json_object *vals) {
  json_object *l = lb__sim_member(target, field);
  if (!json_object_is_type(l, json_type_array) ||
      !json_object_is_type(vals, json_type_array))
    return;
  for (size_t i = json_object_array_length(l); i-- > 0;)
    for (size_t k = 0; k < json_object_array_length(vals); k++)
      if (json_object_equal(json_object_array_get_idx(l, i),
                            json_object_array_get_idx(vals, k))) {
        json_object_array_del_idx(l, i, 1);
        break;
      }
}

json_object *lb__sim_smerge(json_object *target, json_object *patch, int *oom) {
  const char *dir = lb__sim_str(patch, "$patch");
  if (!json_object_is_type(patch, json_type_object) ||
      (dir && !strcmp(dir, "replace"))) {
    json_object *c = patch ? lb__sim_copy(patch) : NULL;
    json_object_put(target);
    if (patch && !c)
      *oom = 1;
    if (json_object_is_type(c, json_type_object))
      json_object_object_del(c, "$patch");
    return c;
  }
  if (!json_object_is_type(target, json_type_object)) {
    json_object_put(target);
    if (!(target = json_object_new_object())) {
      *oom = 1;
      return NULL;
    }
  }
  json_object_object_foreach(patch, k, v) {
    static const char dfpl[] = "$deleteFromPrimitiveList/";
    if (!strncmp(k, dfpl, sizeof dfpl - 1)) {
      delete_from_primitive(target, k + sizeof dfpl - 1, v);
      continue;
    }
    if (*k == '$') /* $patch, $setElementOrder/..., $retainKeys */
      continue;
    if (!v) {
      json_object_object_del(target, k);
      continue;
    }
    json_object *cur = NULL, *m;
    json_object_object_get_ex(target, k, &cur);
    json_object_get(cur); /* the merge consumes one reference */
    if (json_object_is_type(v, json_type_array) &&
        json_object_array_length(v) > 0 &&
        merge_key(k, json_object_array_get_idx(v, 0)))
      m = smerge_list(k, cur, v, oom);
    else
      m = lb__sim_smerge(cur, v, oom);
    if (!m)
      json_object_object_del(target, k);
    else
      json_object_object_add(target, k, m);
  }
  return target;
}

json_object *lb__sim_parse(const char *text, const char *what, char **msg,
                           int *rc) {
  return lb__sim_parse_as(text, what, json_type_object, msg, rc);
}

json_object *lb__sim_parse_as(const char *text, const char *what,
                              json_type want, char **msg, int *rc) {
  struct json_tokener *tok = json_tokener_new();
  json_object *j = NULL;
  size_t len = text ? strlen(text) : 0;
  char buf[256];
  *msg = NULL;
  *rc = LB_ENOMEM;
  if (!tok)
    return NULL;
  if (!text)
    text = "";
  if (len > (size_t)INT32_MAX - 1) {
    json_tokener_free(tok);
    *msg = lb_strdup("the document is too large");
    *rc = LB_EINVAL;
    return NULL;
  }
  /* len + 1: the NUL ends a top-level scalar such as 42 or null */
  j = json_tokener_parse_ex(tok, text, (int)len + 1);
  enum json_tokener_error e = json_tokener_get_error(tok);
  size_t end = json_tokener_get_parse_end(tok);
  if (end > len)
    end = len;
  json_tokener_free(tok);
  if (e == json_tokener_continue) {
    snprintf(buf, sizeof buf, "%s is not valid JSON: unexpected end of data",
             what);
    *rc = LB_EPARSE;
  } else if (e != json_tokener_success) {
    snprintf(buf, sizeof buf, "%s is not valid JSON (at byte %zu): %s", what,
             end, json_tokener_error_desc(e));
    *rc = LB_EPARSE;
  } else if (strspn(text + end, " \t\r\n") != len - end) {
    snprintf(buf, sizeof buf,
             "%s has data after the JSON value (at byte %zu); send exactly "
             "one JSON object",
             what, end);
    *rc = LB_EPARSE;
  } else if (!json_object_is_type(j, want)) {
    snprintf(buf, sizeof buf, "%s must be a JSON %s, not %s", what,
             want == json_type_array ? "array" : "object",
             json_type_to_name(json_object_get_type(j)));
    *rc = LB_EINVAL;
  } else {
    *rc = 0;
    return j;
  }
  json_object_put(j);
  *msg = lb_strdup(buf);
  return NULL;
}

json_object *lb__sim_member(json_object *o, const char *key) {
  json_object *v = NULL;
  if (!json_object_is_type(o, json_type_object))
    return NULL;
  if (!json_object_object_get_ex(o, key, &v))
    return NULL;
  return v;
}

const char *lb__sim_str(json_object *o, const char *key) {
  json_object *v = lb__sim_member(o, key);
  return json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                  : NULL;
}

static json_object *fields_child(json_object *v);

/* The key an element of a list is known by in fieldsV1 (k:{...}), or
 * NULL when the list is atomic. */
static const char *const list_keys[] = {"name", "type",          "uid",
                                        "ip",   "containerPort", "key"};

static json_object *fields_list(json_object *arr) {
  json_object *r = json_object_new_object();
  if (!r)
    return NULL;
  size_t n = json_object_array_length(arr);
  for (size_t i = 0; i < n; i++) {
    json_object *e = json_object_array_get_idx(arr, i);
    const char *lk = NULL;
    json_object *kv = NULL;
    if (!json_object_is_type(e, json_type_object))
      break;
    for (size_t k = 0; k < LB_ARRAY_SIZE(list_keys) && !lk; k++) {
      kv = lb__sim_member(e, list_keys[k]);
      if (kv && (json_object_is_type(kv, json_type_string) ||
                 json_object_is_type(kv, json_type_int)))
        lk = list_keys[k];
    }
    if (!lk)
      break;
    char key[512];
    if (json_object_is_type(kv, json_type_int))
      snprintf(key, sizeof key, "k:{\"%s\":%lld}", lk,
               (long long)json_object_get_int64(kv));
    else
      snprintf(key, sizeof key, "k:{\"%s\":\"%s\"}", lk,
               json_object_get_string(kv));
    json_object *c = lb__sim_fields(e, 0);
    if (c)
      json_object_object_add(r, key, c);
  }
  return r;
}

static json_object *fields_child(json_object *v) {
  if (json_object_is_type(v, json_type_object))
    return lb__sim_fields(v, 0);
  if (json_object_is_type(v, json_type_array))
    return fields_list(v);
  return json_object_new_object();
}

json_object *lb__sim_fields(json_object *v, int top) {
  json_object *r = json_object_new_object();
  if (!r || !json_object_is_type(v, json_type_object))
    return r;
  if (!top)
    json_object_object_add(r, ".", json_object_new_object());
  struct json_object_iterator it = json_object_iter_begin(v);
  struct json_object_iterator end = json_object_iter_end(v);
  while (!json_object_iter_equal(&it, &end)) {
    const char *k = json_object_iter_peek_name(&it);
    json_object *c = json_object_iter_peek_value(&it);
    json_object_iter_next(&it);
    if (!c)
      continue;
    char key[300];
    snprintf(key, sizeof key, "f:%s", k);
    json_object *f = fields_child(c);
    if (f)
      json_object_object_add(r, key, f);
  }
  return r;
}

json_object *lb__sim_fields_main(json_object *obj) {
  static const char *const meta_keys[] = {
      "labels", "annotations", "ownerReferences", "finalizers", "generateName"};
  json_object *r = json_object_new_object();
  if (!r || !json_object_is_type(obj, json_type_object))
    return r;
  json_object *meta = lb__sim_member(obj, "metadata");
  json_object *fm = json_object_new_object();
  for (size_t i = 0; fm && i < LB_ARRAY_SIZE(meta_keys); i++) {
    json_object *c = lb__sim_member(meta, meta_keys[i]);
    char key[64];
    if (!c)
      continue;
    snprintf(key, sizeof key, "f:%s", meta_keys[i]);
    json_object *f = fields_child(c);
    if (f)
      json_object_object_add(fm, key, f);
  }
  if (fm && json_object_object_length(fm) > 0)
    json_object_object_add(r, "f:metadata", fm);
  else
    json_object_put(fm);
  struct json_object_iterator it = json_object_iter_begin(obj);
  struct json_object_iterator end = json_object_iter_end(obj);
  while (!json_object_iter_equal(&it, &end)) {
    const char *k = json_object_iter_peek_name(&it);
    json_object *c = json_object_iter_peek_value(&it);
    json_object_iter_next(&it);
    if (!c || !strcmp(k, "metadata") || !strcmp(k, "status") ||
        !strcmp(k, "apiVersion") || !strcmp(k, "kind"))
      continue;
    char key[300];
    snprintf(key, sizeof key, "f:%s", k);
    /* the apiserver writes no "." directly under f:spec, f:status ... */
    json_object *f = json_object_is_type(c, json_type_object)
                         ? lb__sim_fields(c, 1)
                         : fields_child(c);
    if (f)
      json_object_object_add(r, key, f);
  }
  return r;
}

char *lb__sim_plural(const char *kind) {
  size_t n = strlen(kind);
  char *p = malloc(n + 3);
  if (!p)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    char c = kind[i];
    p[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
  }
  p[n] = '\0';
  if (n > 0 && p[n - 1] == 's') {
    p[n] = 'e';
    p[n + 1] = 's';
    p[n + 2] = '\0';
  } else if (n > 1 && p[n - 1] == 'y' && !strchr("aeiou", p[n - 2])) {
    p[n - 1] = 'i';
    p[n] = 'e';
    p[n + 1] = 's';
    p[n + 2] = '\0';
  } else {
    p[n] = 's';
    p[n + 1] = '\0';
  }
  return p;
}

char *lb__sim_dump(json_object *v, size_t *len) {
  size_t n = 0;
  const char *s = json_object_to_json_string_length(
      v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
  if (!s)
    return NULL;
  char *c = lb_strndup(s, n);
  if (c && len)
    *len = n;
  return c;
}

char *lb__sim_status_doc(int code, const char *reason, const char *message,
                         const char *group, const char *kind, const char *name,
                         size_t *len) {
  json_object *o = json_object_new_object();
  char *out = NULL;
  if (!o)
    return NULL;
  json_object_object_add(o, "kind", json_object_new_string("Status"));
  json_object_object_add(o, "apiVersion", json_object_new_string("v1"));
  json_object_object_add(o, "metadata", json_object_new_object());
  json_object_object_add(o, "status", json_object_new_string("Failure"));
  json_object_object_add(o, "message", json_object_new_string(message));
  json_object_object_add(o, "reason", json_object_new_string(reason));
  if (kind && *kind) {
    json_object *d = json_object_new_object();
    char *pl = lb__sim_plural(kind);
    if (d && name && *name)
      json_object_object_add(d, "name", json_object_new_string(name));
    if (d && group && *group)
      json_object_object_add(d, "group", json_object_new_string(group));
    if (d && pl)
      json_object_object_add(d, "kind", json_object_new_string(pl));
    free(pl);
    if (d)
      json_object_object_add(o, "details", d);
  }
  json_object_object_add(o, "code", json_object_new_int(code));
  out = lb__sim_dump(o, len);
  json_object_put(o);
  return out;
}

/* ---- object shape helpers ---- */

void lb__sim_set_str(json_object *o, const char *k, const char *v) {
  json_object_object_add(o, k, json_object_new_string(v));
}

void lb__sim_set_time(json_object *o, const char *k, int64_t ms) {
  char t[32];
  lb_time_rfc3339(ms, t);
  lb__sim_set_str(o, k, t);
}

json_object *lb__sim_ensure_obj(json_object *o, const char *k) {
  json_object *v = lb__sim_member(o, k);
  if (json_object_is_type(v, json_type_object))
    return v;
  v = json_object_new_object();
  json_object_object_add(o, k, v);
  return v;
}

/* Puts the top level in the apiserver's order (apiVersion, kind, metadata,
 * the rest, status) and metadata's well-known keys first. */
json_object *lb__sim_normalize(json_object *j) {
  static const char *const meta_order[] = {"name",
                                           "generateName",
                                           "namespace",
                                           "uid",
                                           "resourceVersion",
                                           "generation",
                                           "creationTimestamp",
                                           "deletionTimestamp",
                                           "deletionGracePeriodSeconds",
                                           "labels",
                                           "annotations",
                                           "ownerReferences",
                                           "finalizers"};
  json_object *r = json_object_new_object();
  json_object *m = json_object_new_object();
  json_object *meta = lb__sim_member(j, "metadata");
  if (!r || !m) {
    json_object_put(r);
    json_object_put(m);
    return NULL;
  }
  for (size_t i = 0; i < LB_ARRAY_SIZE(meta_order); i++) {
    json_object *v = lb__sim_member(meta, meta_order[i]);
    if (v)
      json_object_object_add(m, meta_order[i], json_object_get(v));
  }
  if (!json_object_is_type(meta, json_type_object))
    meta = m; /* nothing to copy */
  json_object_object_foreach(meta, mk, mv) {
    if (mv && !lb__sim_member(m, mk))
      json_object_object_add(m, mk, json_object_get(mv));
  }
  json_object_object_add(r, "apiVersion",
                         json_object_get(lb__sim_member(j, "apiVersion")));
  json_object_object_add(r, "kind", json_object_get(lb__sim_member(j, "kind")));
  json_object_object_add(r, "metadata", m);
  json_object_object_foreach(j, k, v) {
    if (!strcmp(k, "apiVersion") || !strcmp(k, "kind") ||
        !strcmp(k, "metadata") || !strcmp(k, "status"))
      continue;
    json_object_object_add(r, k, json_object_get(v));
  }
  json_object *st = lb__sim_member(j, "status");
  if (st)
    json_object_object_add(r, "status", json_object_get(st));
  return r;
}

/* Whether anything outside metadata and status differs. */
int lb__sim_spec_changed(json_object *a, json_object *b) {
  json_object_object_foreach(a, k, v) {
    if (!strcmp(k, "metadata") || !strcmp(k, "status"))
      continue;
    json_object *w = NULL;
    if (!json_object_object_get_ex(b, k, &w) || !json_object_equal(v, w))
      return 1;
  }
  json_object_object_foreach(b, k2, v2) {
    (void)v2;
    if (strcmp(k2, "metadata") && strcmp(k2, "status") &&
        !json_object_object_get_ex(a, k2, NULL))
      return 1;
  }
  return 0;
}

int lb__sim_set_server_meta(json_object *dst, json_object *src) {
  static const char *const keep[] = {"name",
                                     "namespace",
                                     "uid",
                                     "resourceVersion",
                                     "generation",
                                     "creationTimestamp",
                                     "deletionTimestamp",
                                     "deletionGracePeriodSeconds"};
  json_object *dm = lb__sim_member(dst, "metadata");
  json_object *sm = lb__sim_member(src, "metadata");
  if (!json_object_is_type(dm, json_type_object)) {
    dm = json_object_new_object();
    if (!dm)
      return LB_ENOMEM;
    json_object_object_add(dst, "metadata", dm);
  }
  json_object_object_del(dm, "managedFields");
  json_object_object_del(dm, "selfLink");
  for (size_t i = 0; i < LB_ARRAY_SIZE(keep); i++) {
    json_object *v = lb__sim_member(sm, keep[i]);
    if (v)
      json_object_object_add(dm, keep[i], json_object_get(v));
    else
      json_object_object_del(dm, keep[i]);
  }
  json_object_object_add(dst, "apiVersion",
                         json_object_get(lb__sim_member(src, "apiVersion")));
  json_object_object_add(dst, "kind",
                         json_object_get(lb__sim_member(src, "kind")));
  return 0;
}

void lb__sim_replace_status(json_object *dst, json_object *src) {
  json_object *st = lb__sim_member(src, "status");
  if (st)
    json_object_object_add(dst, "status", lb__sim_copy(st));
  else
    json_object_object_del(dst, "status");
}

void lb__sim_bump_generation(json_object *j) {
  json_object *meta = lb__sim_ensure_obj(j, "metadata");
  json_object *g = lb__sim_member(meta, "generation");
  json_object_object_add(meta, "generation",
                         json_object_new_int64(json_object_get_int64(g) + 1));
}
