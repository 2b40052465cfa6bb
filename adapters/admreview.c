/* admreview.c — see admreview.h. */
#include "admreview.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "../engine/err.h"
#include "../engine/util.h"

void lb_admreview_redact(const char *value, size_t len, char out[22]) {
  snprintf(out, 22, "xxh3:%016llx",
           (unsigned long long)XXH3_64bits(value, len));
}

/* --- a span scanner over text json-c already accepted (strict mode) ------ */
static size_t ws(const char *s, size_t i, size_t n) {
  while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
    i++;
  return i;
}

/* One member of the object whose '{' is at or before *i: key span [*ks,*ke)
 * (quotes included), value span [*vs,*ve). Returns 1, or 0 at the end. */
static int next_member(const char *s, size_t n, size_t *i, size_t *ks,
                       size_t *ke, size_t *vs, size_t *ve) {
  size_t p = ws(s, *i, n);
  if (p < n && (s[p] == '{' || s[p] == ','))
    p = ws(s, p + 1, n);
  if (p >= n || s[p] != '"')
    return 0;
  *ks = p;
  *ke = lb_json_skip_value(s, p, n);
  p = ws(s, *ke, n);
  if (p >= n || s[p] != ':')
    return 0;
  *vs = ws(s, p + 1, n);
  *ve = lb_json_skip_value(s, *vs, n);
  if (*ve >= n)
    return 0;
  *i = *ve;
  return 1;
}

/* Decoded string of the JSON string text s[a,b); NULL if not a string. The
 * caller puts the returned object. */
static struct json_object *decode_str(const char *s, size_t a, size_t b) {
  struct json_tokener *tok = json_tokener_new();
  struct json_object *o;
  if (!tok)
    return NULL;
  o = json_tokener_parse_ex(tok, s + a, (int)(b - a));
  json_tokener_free(tok);
  if (o && !json_object_is_type(o, json_type_string)) {
    json_object_put(o);
    o = NULL;
  }
  return o;
}

/* Key span equals name (escapes decoded when present). */
static int key_eq(const char *s, size_t ks, size_t ke, const char *name) {
  size_t nl = strlen(name);
  if (!memchr(s + ks, '\\', ke - ks))
    return ke - ks == nl + 2 && !memcmp(s + ks + 1, name, nl);
  struct json_object *o = decode_str(s, ks, ke);
  int eq = o && !strcmp(json_object_get_string(o), name);
  json_object_put(o);
  return eq;
}

static int value_is_str(const char *s, size_t vs, size_t ve, const char *str) {
  return s[vs] == '"' && key_eq(s, vs, ve, str);
}

/* Replacements of spans of one buffer, in increasing, disjoint order. */
struct edits {
  struct edit {
    size_t a, b;
    char *with;
    size_t len;
  } * v;
  size_t n, cap;
};

static int edit_add(struct edits *e, size_t a, size_t b, char *with,
                    size_t len) {
  if (!with)
    return LB_ENOMEM;
  if (lb_reserve(&e->v, &e->cap, e->n + 1, sizeof *e->v, 8)) {
    free(with);
    return LB_ENOMEM;
  }
  e->v[e->n++] = (struct edit){a, b, with, len};
  return 0;
}

static void edits_release(struct edits *e) {
  for (size_t i = 0; i < e->n; i++)
    free(e->v[i].with);
  free(e->v);
  memset(e, 0, sizeof *e);
}

/* Appends s[a,b) with the edits applied. */
static void apply(struct lb_buf *out, const char *s, size_t a, size_t b,
                  const struct edits *e) {
  size_t p = a;
  for (size_t i = 0; i < e->n; i++) {
    lb_buf_add(out, s + p, e->v[i].a - p);
    lb_buf_add(out, e->v[i].with, e->v[i].len);
    p = e->v[i].b;
  }
  lb_buf_add(out, s + p, b - p);
}

/* Every value of data / stringData of the object text t[0,n) -> hash. */
static int redact_secret(char **t, size_t *n) {
  struct edits ed = {0};
  struct lb_buf out = LB_BUF_INIT;
  size_t i = ws(*t, 0, *n), ks, ke, vs, ve;
  int rc = 0;
  if (i >= *n || (*t)[i] != '{')
    return 0;
  while (!rc && next_member(*t, *n, &i, &ks, &ke, &vs, &ve)) {
    size_t j = vs, ks2, ke2, vs2, ve2;
    if ((*t)[vs] != '{' ||
        !(key_eq(*t, ks, ke, "data") || key_eq(*t, ks, ke, "stringData")))
      continue;
    while (!rc && next_member(*t, *n, &j, &ks2, &ke2, &vs2, &ve2)) {
      char h[22], q[26];
      struct json_object *str;
      if (!strncmp(*t + vs2, "null", 4) && ve2 - vs2 == 4)
        continue;
      str = decode_str(*t, vs2, ve2);
      if (str)
        lb_admreview_redact(json_object_get_string(str),
                            (size_t)json_object_get_string_len(str), h);
      else
        lb_admreview_redact(*t + vs2, ve2 - vs2, h);
      json_object_put(str);
      snprintf(q, sizeof q, "\"%s\"", h);
      rc = edit_add(&ed, vs2, ve2, lb_strdup(q), strlen(q));
    }
  }
  if (!rc && ed.n) {
    apply(&out, *t, 0, *n, &ed);
    if (out.err) {
      rc = LB_ENOMEM;
    } else {
      free(*t);
      *t = lb_buf_detach(&out, n);
    }
  }
  lb_buf_release(&out);
  edits_release(&ed);
  return rc;
}

static int object_is_secret(const char *t, size_t n) {
  size_t i = ws(t, 0, n), ks, ke, vs, ve;
  while (next_member(t, n, &i, &ks, &ke, &vs, &ve))
    if (key_eq(t, ks, ke, "kind") && value_is_str(t, vs, ve, "Secret"))
      return 1;
  return 0;
}

/* The edited copy of one request.object / oldObject value s[vs,ve). */
static int edit_object(const char *s, size_t vs, size_t ve, int secret,
                       struct edits *ed, int *redacted) {
  size_t n = ve - vs, i = ws(s, vs, ve), ks, ke, mvs, mve;
  int metas = 0;
  char *t;
  int rc = 0;
  /* managedFields is stripped from the one "metadata" member; a second one
   * (which a JSON parser would keep instead) cannot be stripped safely */
  while (next_member(s, ve, &i, &ks, &ke, &mvs, &mve))
    metas += key_eq(s, ks, ke, "metadata");
  if (metas > 1)
    return LB_EINVAL;
  t = malloc(n + 1);
  if (!t)
    return LB_ENOMEM;
  memcpy(t, s + vs, n);
  t[n] = '\0';
  n = lb_json_strip_managed_fields(t, n);
  if (secret) {
    *redacted = 1;
    rc = redact_secret(&t, &n);
  }
  if (rc) {
    free(t);
    return rc;
  }
  return edit_add(ed, vs, ve, t, n);
}

static const char *jstr(struct json_object *o, const char *k) {
  struct json_object *v;
  if (o && json_object_object_get_ex(o, k, &v) &&
      json_object_is_type(v, json_type_string))
    return json_object_get_string(v);
  return NULL;
}

static int bad(char *why, size_t why_len, int rc, const char *msg) {
  if (why && why_len)
    lb_strlcpy(why, msg, why_len);
  return rc;
}

struct decoded {
  struct json_object *root, *req;
  const char *group, *kind, *ns, *name;
};

static int validate(const char *body, size_t len, struct decoded *d,
                    struct lb_admreview_info *info, char *why, size_t wl) {
  struct json_tokener *tok;
  struct json_object *k;
  const char *s;
  size_t end;
  memset(d, 0, sizeof *d);
  if (len > 0x7fffffff)
    return bad(why, wl, LB_EINVAL, "request body too large");
  if (!(tok = json_tokener_new()))
    return bad(why, wl, LB_ENOMEM, "out of memory");
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
  d->root = json_tokener_parse_ex(tok, body, (int)len);
  end = d->root ? (size_t)json_tokener_get_parse_end(tok) : 0;
  json_tokener_free(tok);
  if (!d->root)
    return bad(why, wl, LB_EPARSE, "request body is not valid JSON");
  if (ws(body, end, len) != len)
    return bad(why, wl, LB_EPARSE,
               "request body has bytes after the JSON document");
  if (!json_object_is_type(d->root, json_type_object))
    return bad(why, wl, LB_EINVAL, "request body is not a JSON object");
  s = jstr(d->root, "kind");
  if (!s || strcmp(s, "AdmissionReview"))
    return bad(why, wl, LB_EINVAL,
               "not an AdmissionReview: \"kind\" must be \"AdmissionReview\"");
  s = jstr(d->root, "apiVersion");
  if (!s || (strcmp(s, "admission.k8s.io/v1") &&
             strcmp(s, "admission.k8s.io/v1beta1")))
    return bad(why, wl, LB_EINVAL,
               "unsupported AdmissionReview apiVersion: want "
               "admission.k8s.io/v1 or admission.k8s.io/v1beta1");
  lb_strlcpy(info->api_version, s, sizeof info->api_version);
  if (!json_object_object_get_ex(d->root, "request", &d->req) ||
      !json_object_is_type(d->req, json_type_object))
    return bad(why, wl, LB_EINVAL, "AdmissionReview has no \"request\" object");
  s = jstr(d->req, "uid");
  if (!s || !*s)
    return bad(why, wl, LB_EINVAL,
               "AdmissionReview request.uid is missing or empty");
  if (strlen(s) >= sizeof info->uid)
    return bad(why, wl, LB_EINVAL,
               "AdmissionReview request.uid is longer than 128 bytes");
  lb_strlcpy(info->uid, s, sizeof info->uid);
  if (!json_object_object_get_ex(d->req, "kind", &k) ||
      !json_object_is_type(k, json_type_object) || !jstr(k, "kind") ||
      !*jstr(k, "kind"))
    return bad(why, wl, LB_EINVAL,
               "AdmissionReview request.kind.kind is missing");
  d->group = jstr(k, "group") ? jstr(k, "group") : "";
  d->kind = jstr(k, "kind");
  s = jstr(d->req, "operation");
  if (!s || (strcmp(s, "CREATE") && strcmp(s, "UPDATE") &&
             strcmp(s, "DELETE") && strcmp(s, "CONNECT")))
    return bad(why, wl, LB_EINVAL,
               "AdmissionReview request.operation must be CREATE, UPDATE, "
               "DELETE or CONNECT");
  lb_strlcpy(info->operation, s, sizeof info->operation);
  d->ns = jstr(d->req, "namespace") ? jstr(d->req, "namespace") : "";
  d->name = jstr(d->req, "name") ? jstr(d->req, "name") : "";
  return 0;
}

static int request_is_secret(const struct decoded *d) {
  struct json_object *r;
  if (!*d->group && !strcmp(d->kind, "Secret"))
    return 1;
  if (json_object_object_get_ex(d->req, "resource", &r) &&
      jstr(r, "resource") && !strcmp(jstr(r, "resource"), "secrets") &&
      (!jstr(r, "group") || !*jstr(r, "group")))
    return 1;
  return 0;
}

static int transform(const char *path, const char *body, size_t len,
                     struct decoded *d, char **out, size_t *out_len,
                     struct lb_admreview_info *info, char *why, size_t wl) {
  struct edits ed = {0};
  struct lb_buf b = LB_BUF_INIT;
  size_t i, ks, ke, vs, ve, start, stop;
  int rc, secret;
  memset(info, 0, sizeof *info);
  if ((rc = validate(body, len, d, info, why, wl)))
    return rc;
  secret = request_is_secret(d);
  start = ws(body, 0, len);
  stop = lb_json_skip_value(body, start, len);
  /* A request about a Secret — by request.kind / resource, or because
   * object or oldObject (any duplicate) says kind Secret — has data and
   * stringData redacted in both objects. */
  i = start;
  while (!secret && next_member(body, len, &i, &ks, &ke, &vs, &ve)) {
    size_t j = vs, ks2, ke2, vs2, ve2;
    if (body[vs] != '{' || !key_eq(body, ks, ke, "request"))
      continue;
    while (!secret && next_member(body, len, &j, &ks2, &ke2, &vs2, &ve2))
      if (body[vs2] == '{' && (key_eq(body, ks2, ke2, "object") ||
                               key_eq(body, ks2, ke2, "oldObject")))
        secret = object_is_secret(body + vs2, ve2 - vs2);
  }
  /* every "request" member (duplicates included), every object/oldObject */
  i = start;
  while (!rc && next_member(body, len, &i, &ks, &ke, &vs, &ve)) {
    size_t j = vs, ks2, ke2, vs2, ve2;
    if (body[vs] != '{' || !key_eq(body, ks, ke, "request"))
      continue;
    while (!rc && next_member(body, len, &j, &ks2, &ke2, &vs2, &ve2))
      if (body[vs2] == '{' && (key_eq(body, ks2, ke2, "object") ||
                               key_eq(body, ks2, ke2, "oldObject")))
        rc = edit_object(body, vs2, ve2, secret, &ed, &info->secret);
  }
  if (!rc) {
    lb_buf_adds(&b, "{\"path\":");
    lb_buf_add_json_str(&b, path ? path : "");
    lb_buf_adds(&b, ",\"review\":");
    apply(&b, body, start, stop, &ed);
    lb_buf_adds(&b, "}");
    rc = b.err;
  }
  edits_release(&ed);
  if (rc) {
    lb_buf_release(&b);
    return bad(why, wl, rc,
               rc == LB_EINVAL ? "request.object or request.oldObject has "
                                 "more than one \"metadata\" member"
                               : "out of memory");
  }
  *out = lb_buf_detach(&b, out_len);
  return 0;
}

int lb_admreview_transform(const char *path, const char *body, size_t len,
                           char **out, size_t *out_len,
                           struct lb_admreview_info *info, char *why,
                           size_t why_len) {
  struct decoded d;
  int rc = transform(path, body, len, &d, out, out_len, info, why, why_len);
  json_object_put(d.root);
  return rc;
}

int lb_admreview_event(const char *path, const char *body, size_t len,
                       int64_t at_ms, struct lb_event *ev,
                       struct lb_admreview_info *info, char *why,
                       size_t why_len) {
  struct decoded d;
  char *out = NULL;
  size_t out_len = 0;
  int rc = transform(path, body, len, &d, &out, &out_len, info, why, why_len);
  if (!rc) {
    ev->source = LB_SRC_ADMISSION;
    ev->type = LB_EV_REVIEW;
    ev->at_ms = at_ms;
    if ((rc = lb_event_set(&ev->api_group, d.group)) ||
        (rc = lb_event_set(&ev->kind, d.kind)) ||
        (rc = lb_event_set(&ev->ns, d.ns)) ||
        (rc = lb_event_set(&ev->name, d.name)) ||
        (rc = lb_event_set(&ev->uid, info->uid)) ||
        (rc = lb_event_set(&ev->rv, ""))) {
      free(out);
    } else {
      rc = lb_event_prepare(ev, out, out_len);
    }
    if (rc)
      bad(why, why_len, rc,
          rc == LB_ENOMEM ? "out of memory" : "cannot journal the request");
  }
  json_object_put(d.root);
  if (rc)
    lb_event_release(ev);
  return rc;
}
