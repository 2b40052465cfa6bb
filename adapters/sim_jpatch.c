/* sim_jpatch.c — JSON Patch (RFC 6902) for the simulated apiserver.
 *
 * Operations add, remove, replace, move, copy and test over JSON Pointers
 * (RFC 6901: "~1" is "/", "~0" is "~", "-" is the end of an array). The
 * patch applies to a copy, all or nothing, as the kube-apiserver does: a
 * failed operation (missing path, index out of range, failed test) answers
 * 422 and changes nothing; a body that is not an array of operations
 * answers 400.
 */
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/util.h"
#include "sim_int.h"

struct jp_err {
  int code;
  char *msg;
};

static int jp_fail(struct jp_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int jp_fail(struct jp_err *e, int code, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (!e->msg) {
    e->code = code;
    e->msg = lb_strdup(tmp);
  }
  return -1;
}

/* Decodes the next reference token of pointer p (at '/') into tok;
 * returns the position after it, or NULL when p is at the end. */
static const char *next_token(const char *p, char *tok, size_t cap) {
  size_t n = 0;
  if (*p != '/')
    return NULL;
  for (p++; *p && *p != '/'; p++) {
    char c = *p;
    if (c == '~' && (p[1] == '0' || p[1] == '1'))
      c = *++p == '0' ? '~' : '/';
    if (n + 1 < cap)
      tok[n++] = c;
  }
  tok[n] = '\0';
  return p;
}

/* Array index token: digits only, no leading zero; -1 when not one. */
static long index_of(const char *tok) {
  long v = 0;
  if (!*tok || (tok[0] == '0' && tok[1]))
    return -1;
  for (; *tok; tok++) {
    if (*tok < '0' || *tok > '9' || v > INT_MAX / 10)
      return -1;
    v = v * 10 + (*tok - '0');
  }
  return v;
}

/* Resolves the parent container of path and its last token. The root
 * path "" has no parent (*parent = NULL). Returns 0 or -1 (error set). */
static int resolve_parent(json_object *doc, const char *path,
                          json_object **parent, char *last, size_t cap,
                          struct jp_err *e) {
  char tok[256];
  const char *p = path, *q;
  json_object *cur = doc;
  *parent = NULL;
  last[0] = '\0';
  if (!*path)
    return 0;
  if (*path != '/')
    return jp_fail(e, 422, "invalid JSON pointer %s: it must start with /",
                   path);
  for (;;) {
    q = next_token(p, tok, sizeof tok);
    if (!*q) {
      snprintf(last, cap, "%s", tok);
      *parent = cur;
      return 0;
    }
    if (json_object_is_type(cur, json_type_object)) {
      if (!json_object_object_get_ex(cur, tok, &cur))
        return jp_fail(e, 422, "path %s: %s does not exist", path, tok);
    } else if (json_object_is_type(cur, json_type_array)) {
      long i = index_of(tok);
      if (i < 0 || (size_t)i >= json_object_array_length(cur))
        return jp_fail(e, 422, "path %s: index %s out of range", path, tok);
      cur = json_object_array_get_idx(cur, (size_t)i);
    } else {
      return jp_fail(e, 422, "path %s: %s is not a container", path, tok);
    }
    p = q;
  }
}

static json_object *get_at(json_object *doc, const char *path,
                           struct jp_err *e) {
  json_object *parent, *v = NULL;
  char last[256];
  if (resolve_parent(doc, path, &parent, last, sizeof last, e))
    return NULL;
  if (!parent)
    return doc;
  if (json_object_is_type(parent, json_type_object)) {
    if (json_object_object_get_ex(parent, last, &v))
      return v;
  } else if (json_object_is_type(parent, json_type_array)) {
    long i = index_of(last);
    if (i >= 0 && (size_t)i < json_object_array_length(parent))
      return json_object_array_get_idx(parent, (size_t)i);
  }
  jp_fail(e, 422, "path %s does not exist", path);
  return NULL;
}

/* Rebuilds array a with v inserted at i (or element i replaced, or
 * removed when v is NULL); consumes v. */
static int array_edit(json_object *a, size_t i, json_object *v, int replace,
                      struct jp_err *e) {
  size_t n = json_object_array_length(a);
  json_object **keep = calloc(n + 1, sizeof *keep);
  size_t k = 0;
  if (!keep) {
    json_object_put(v);
    return jp_fail(e, 500, "out of memory");
  }
  for (size_t j = 0; j < n; j++) {
    if (j == i && v)
      keep[k++] = v;
    if (j == i && (replace || !v))
      continue;
    keep[k++] = json_object_get(json_object_array_get_idx(a, j));
  }
  if (i == n && v)
    keep[k++] = v;
  json_object_array_del_idx(a, 0, n);
  for (size_t j = 0; j < k; j++)
    json_object_array_add(a, keep[j]);
  free(keep);
  return 0;
}

/* add (replace = 0) or replace (replace = 1) value v (consumed) at path.
 * The root is replaced through *doc. */
static int put_at(json_object **doc, const char *path, json_object *v,
                  int replace, struct jp_err *e) {
  json_object *parent;
  char last[256];
  if (resolve_parent(*doc, path, &parent, last, sizeof last, e)) {
    json_object_put(v);
    return -1;
  }
  if (!parent) {
    json_object_put(*doc);
    *doc = v;
    return 0;
  }
  if (json_object_is_type(parent, json_type_object)) {
    if (replace && !json_object_object_get_ex(parent, last, NULL)) {
      json_object_put(v);
      return jp_fail(e, 422, "replace %s: the path does not exist", path);
    }
    json_object_object_add(parent, last, v);
    return 0;
  }
  if (json_object_is_type(parent, json_type_array)) {
    size_t n = json_object_array_length(parent);
    long i = !replace && !strcmp(last, "-") ? (long)n : index_of(last);
    if (i < 0 || (size_t)i > n || (replace && (size_t)i == n)) {
      json_object_put(v);
      return jp_fail(e, 422, "%s %s: index %s out of range",
                     replace ? "replace" : "add", path, last);
    }
    return array_edit(parent, (size_t)i, v, replace, e);
  }
  json_object_put(v);
  return jp_fail(e, 422, "%s %s: the parent is not a container",
                 replace ? "replace" : "add", path);
}

static int remove_at(json_object *doc, const char *path, struct jp_err *e) {
  json_object *parent;
  char last[256];
  if (resolve_parent(doc, path, &parent, last, sizeof last, e))
    return -1;
  if (!parent)
    return jp_fail(e, 422, "remove: the whole document cannot be removed");
  if (json_object_is_type(parent, json_type_object)) {
    if (!json_object_object_get_ex(parent, last, NULL))
      return jp_fail(e, 422, "remove %s: the path does not exist", path);
    json_object_object_del(parent, last);
    return 0;
  }
  long i = index_of(last);
  if (!json_object_is_type(parent, json_type_array) || i < 0 ||
      (size_t)i >= json_object_array_length(parent))
    return jp_fail(e, 422, "remove %s: the path does not exist", path);
  return array_edit(parent, (size_t)i, NULL, 0, e);
}

static int apply_op(json_object **doc, json_object *op, size_t k,
                    struct jp_err *e) {
  const char *name = lb__sim_str(op, "op");
  const char *path = lb__sim_str(op, "path");
  const char *from = lb__sim_str(op, "from");
  json_object *value = NULL;
  int has_value = json_object_object_get_ex(op, "value", &value);
  if (!name || !path)
    return jp_fail(e, 400, "operation %zu: \"op\" and \"path\" are required",
                   k);
  if (!strcmp(name, "test")) {
    json_object *cur = get_at(*doc, path, e);
    if (!cur && e->msg)
      return -1;
    if (!has_value || !json_object_equal(cur, value))
      return jp_fail(e, 422, "testing value %s failed: test failed", path);
    return 0;
  }
  if (!strcmp(name, "remove"))
    return remove_at(*doc, path, e);
  if (!strcmp(name, "add") || !strcmp(name, "replace")) {
    if (!has_value)
      return jp_fail(e, 400, "operation %zu (%s %s): \"value\" is required", k,
                     name, path);
    json_object *c = value ? lb__sim_copy(value) : NULL;
    if (value && !c)
      return jp_fail(e, 500, "out of memory");
    return put_at(doc, path, c, name[0] == 'r', e);
  }
  if (!strcmp(name, "move") || !strcmp(name, "copy")) {
    if (!from)
      return jp_fail(e, 400, "operation %zu (%s %s): \"from\" is required", k,
                     name, path);
    json_object *src = get_at(*doc, from, e);
    if (!src && e->msg)
      return -1;
    json_object *c = src ? lb__sim_copy(src) : NULL;
    if (src && !c)
      return jp_fail(e, 500, "out of memory");
    if (name[0] == 'm' && remove_at(*doc, from, e)) {
      json_object_put(c);
      return -1;
    }
    return put_at(doc, path, c, 0, e);
  }
  return jp_fail(e, 400, "operation %zu: unknown op \"%s\"", k, name);
}

json_object *lb__sim_jpatch(json_object *doc, json_object *ops, int *code,
                            char **msg) {
  struct jp_err e = {0, NULL};
  json_object *out;
  *code = 0;
  *msg = NULL;
  if (!json_object_is_type(ops, json_type_array)) {
    *code = 400;
    *msg = lb_strdup("a JSON patch must be an array of operations");
    return NULL;
  }
  out = lb__sim_copy(doc);
  if (!out) {
    *code = 500;
    *msg = lb_strdup("out of memory");
    return NULL;
  }
  for (size_t k = 0; k < json_object_array_length(ops); k++) {
    json_object *op = json_object_array_get_idx(ops, k);
    if (!json_object_is_type(op, json_type_object)) {
      jp_fail(&e, 400, "operation %zu is not an object", k);
      break;
    }
    if (apply_op(&out, op, k, &e))
      break;
  }
  if (e.msg || e.code) {
    json_object_put(out);
    *code = e.code ? e.code : 500;
    *msg = e.msg;
    return NULL;
  }
  return out;
}
