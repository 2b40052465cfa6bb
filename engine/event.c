#include "event.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "err.h"
#include "fastdecode.h"
#include "obj.h"

const char *lb_source_name(int source) {
  switch (source) {
#define X(e, s)                                                                \
  case LB_SRC_##e:                                                             \
    return s;
    LB_SOURCES(X)
#undef X
  }
  return "?";
}

int lb_source_parse(const char *s) {
#define X(e, n)                                                                \
  if (s && !strcmp(s, n))                                                      \
    return LB_SRC_##e;
  LB_SOURCES(X)
#undef X
  return 0;
}

const char *lb_evtype_name(int type) {
  switch (type) {
#define X(e, s)                                                                \
  case LB_EV_##e:                                                              \
    return s;
    LB_EVTYPES(X)
#undef X
  }
  return "?";
}

int lb_evtype_parse(const char *s) {
#define X(e, n)                                                                \
  if (s && !strcmp(s, n))                                                      \
    return LB_EV_##e;
  LB_EVTYPES(X)
#undef X
  return 0;
}

void lb_event_init(struct lb_event *ev) { memset(ev, 0, sizeof *ev); }

void lb_event_release(struct lb_event *ev) {
  free(ev->api_group);
  free(ev->kind);
  free(ev->ns);
  free(ev->name);
  free(ev->uid);
  free(ev->rv);
  free(ev->body);
  lb_obj_free(ev->obj);
  lb_event_init(ev);
}

int lb_event_set(char **field, const char *value) {
  char *c = lb_strdup(value ? value : "");
  if (!c)
    return LB_ENOMEM;
  free(*field);
  *field = c;
  return 0;
}

static void hash_str(XXH3_state_t *st, const char *s) {
  s = s ? s : "";
  XXH3_64bits_update(st, s, strlen(s) + 1); /* NUL separates fields */
}

uint64_t lb_event_hash(const struct lb_event *ev) {
  XXH3_state_t st;
  int64_t nums[4] = {ev->at_ms, ev->action_id, ev->http_status,
                     (int64_t)ev->body_len};
  XXH3_64bits_reset(&st);
  hash_str(&st, lb_source_name(ev->source));
  hash_str(&st, lb_evtype_name(ev->type));
  hash_str(&st, ev->api_group);
  hash_str(&st, ev->kind);
  hash_str(&st, ev->ns);
  hash_str(&st, ev->name);
  hash_str(&st, ev->uid);
  hash_str(&st, ev->rv);
  for (size_t i = 0; i < LB_ARRAY_SIZE(nums); i++) {
    unsigned char le[8];
    for (int b = 0; b < 8; b++)
      le[b] = (unsigned char)((uint64_t)nums[i] >> (8 * b));
    XXH3_64bits_update(&st, le, 8);
  }
  if (ev->body && ev->body_len)
    XXH3_64bits_update(&st, ev->body, ev->body_len);
  return XXH3_64bits_digest(&st);
}

/* --- byte-exact managedFields stripping ---------------------------------
 * A tiny JSON scanner: it only needs to find value boundaries. */
static size_t skip_ws(const char *s, size_t i, size_t n) {
  while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
    i++;
  return i;
}

#define BAD ((size_t)-1) /* malformed or truncated input */

static size_t skip_string(const char *s, size_t i, size_t n) {
  /* s[i] == '"'; returns index after the closing quote, or BAD */
  for (i++; i < n; i++) {
    if (s[i] == '\\')
      i++;
    else if (s[i] == '"')
      return i + 1;
  }
  return BAD;
}

static size_t skip_value(const char *s, size_t i, size_t n) {
  int depth = 0;
  i = skip_ws(s, i, n);
  if (i >= n)
    return BAD;
  if (s[i] == '"')
    return skip_string(s, i, n);
  if (s[i] != '{' && s[i] != '[') {
    size_t start = i;
    while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' &&
           s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
      i++;
    return i > start ? i : BAD;
  }
  for (; i < n; i++) {
    char c = s[i];
    if (c == '"') {
      size_t e = skip_string(s, i, n);
      if (e == BAD)
        return BAD;
      i = e - 1;
    } else if (c == '{' || c == '[') {
      depth++;
    } else if (c == '}' || c == ']') {
      if (--depth == 0)
        return i + 1;
    }
  }
  return BAD;
}

static int key_is(const char *s, size_t start, size_t end, const char *key) {
  size_t kl = strlen(key);
  return end - start == kl + 2 && !memcmp(s + start + 1, key, kl);
}

/* Finds member `key` in the object starting at s[obj] == '{'. On success
 * sets [*mstart, *mend) to the span to delete (member plus one adjacent
 * comma) or the value span, and returns 1. */
static int find_member(const char *s, size_t obj, size_t n, const char *key,
                       size_t *vstart, size_t *mstart, size_t *mend) {
  size_t i = obj + 1, prev_end = obj + 1; /* end of previous member/brace */
  int first = 1;
  for (;;) {
    size_t kstart, kend, v, vend;
    i = skip_ws(s, i, n);
    if (i >= n || s[i] != '"')
      return 0;
    kstart = i;
    kend = skip_string(s, i, n);
    if (kend == BAD)
      return 0;
    i = skip_ws(s, kend, n);
    if (i >= n || s[i] != ':')
      return 0;
    v = skip_ws(s, i + 1, n);
    vend = skip_value(s, v, n);
    if (vend == BAD || vend >= n)
      return 0;
    i = skip_ws(s, vend, n);
    if (i >= n)
      return 0;
    if (key_is(s, kstart, kend, key)) {
      *vstart = v;
      if (s[i] == ',') { /* delete "key": value, */
        *mstart = kstart;
        *mend = skip_ws(s, i + 1, n);
      } else if (!first) { /* last member: delete the comma before it */
        *mstart = prev_end;
        *mend = vend;
      } else { /* only member */
        *mstart = kstart;
        *mend = vend;
      }
      return 1;
    }
    if (s[i] != ',')
      return 0;
    prev_end = vend;
    i++;
    first = 0;
  }
}

size_t lb_json_skip_value(const char *s, size_t i, size_t n) {
  size_t e = skip_value(s, i, n);
  return e == BAD ? n : e;
}

int lb_json_member(const char *s, size_t n, size_t obj, const char *key,
                   size_t *vstart, size_t *vend) {
  size_t ms, me;
  obj = skip_ws(s, obj, n);
  if (obj >= n || s[obj] != '{' ||
      !find_member(s, obj, n, key, vstart, &ms, &me))
    return 0;
  *vend = skip_value(s, *vstart, n);
  return *vend != BAD && *vend <= n;
}

/* check = 0 only for text already validated as one complete JSON object
 * (engine/fastdecode.c did): the completeness scan would then pass. */
static size_t strip(char *json, size_t len, int check) {
  size_t i = skip_ws(json, 0, len), vstart, ms, me, mv, mms, mme, end;
  if (i >= len || json[i] != '{')
    return len;
  if (check) {
    end = skip_value(json, i, len); /* only a complete document is touched */
    if (end == BAD || skip_ws(json, end, len) != len)
      return len;
  }
  if (!find_member(json, i, len, "metadata", &vstart, &ms, &me) ||
      json[vstart] != '{')
    return len;
  /* Remove every occurrence (duplicate keys are legal JSON). */
  while (find_member(json, vstart, len, "managedFields", &mv, &mms, &mme)) {
    memmove(json + mms, json + mme, len - mme);
    len -= mme - mms;
  }
  return len;
}

size_t lb_json_strip_managed_fields(char *json, size_t len) {
  return strip(json, len, 1);
}

static const char *jstr(struct json_object *o, const char *key) {
  struct json_object *v;
  if (o && json_object_object_get_ex(o, key, &v) &&
      json_object_is_type(v, json_type_string))
    return json_object_get_string(v);
  return NULL;
}

/* The fast path (engine/fastdecode.c): the identity and the compact object
 * straight from the text. It reads the body before the strip: the decoder
 * never reads metadata.managedFields, so the result is the same as from the
 * stripped text, and a body it validated is complete, so the strip can skip
 * its own completeness scan. Returns LB_FD_DECLINED (body untouched, not
 * stripped) when the reference must run instead. On 0 and LB_ENOMEM the
 * event owns body. */
static int prepare_fast(struct lb_event *ev, char *body, size_t len) {
  struct lb_fd_ident id;
  struct lb_obj *obj = NULL;
  int want_obj =
      !ev->obj && (ev->source == LB_SRC_WATCH || ev->source == LB_SRC_LIST ||
                   ev->source == LB_SRC_OUTCOME);
  int rc = lb_fastdecode(body, len, &id, want_obj ? &obj : NULL);
  if (rc == LB_FD_DECLINED)
    return rc;
  len = strip(body, len, 0);
  body[len] = '\0';
  ev->body = body;
  ev->body_len = len;
  if (rc)
    return rc;
  if (!ev->api_group && id.api_version) {
    const char *slash = strchr(id.api_version, '/');
    ev->api_group =
        slash ? lb_strndup(id.api_version, (size_t)(slash - id.api_version))
              : lb_strdup("");
  }
  char **fields[] = {&ev->kind, &ev->ns, &ev->name, &ev->uid, &ev->rv};
  char **got[] = {&id.kind, &id.ns, &id.name, &id.uid, &id.rv};
  for (size_t f = 0; f < LB_ARRAY_SIZE(fields); f++)
    if (!*fields[f] && *got[f]) {
      *fields[f] = *got[f]; /* detach */
      *got[f] = NULL;
    }
  if (want_obj)
    ev->obj = obj;
  lb_fd_ident_release(&id);
  return 0;
}

/* The reference path: a json-c tree. */
static int prepare_json_c(struct lb_event *ev, char *body, size_t len) {
  struct json_tokener *tok = NULL;
  struct json_object *root = NULL, *meta = NULL;
  const char *why = NULL;
  int rc = 0;

  if (body) {
    tok = json_tokener_new();
    if (!tok) {
      free(body);
      return LB_ENOMEM;
    }
    root = json_tokener_parse_ex(tok, body, (int)len);
    if (!root || json_tokener_get_error(tok) != json_tokener_success ||
        skip_ws(body, (size_t)json_tokener_get_parse_end(tok), len) != len) {
      json_object_put(root);
      json_tokener_free(tok);
      free(body);
      return LB_EPARSE;
    }
    json_tokener_free(tok);
    ev->body = body;
    ev->body_len = len;
  }
  if (root && json_object_is_type(root, json_type_object)) {
    const char *av = jstr(root, "apiVersion");
    json_object_object_get_ex(root, "metadata", &meta);
    if (!ev->api_group && av) {
      const char *slash = strchr(av, '/');
      ev->api_group =
          slash ? lb_strndup(av, (size_t)(slash - av)) : lb_strdup("");
    }
    if (!ev->kind && jstr(root, "kind"))
      ev->kind = lb_strdup(jstr(root, "kind"));
    if (!ev->ns && jstr(meta, "namespace"))
      ev->ns = lb_strdup(jstr(meta, "namespace"));
    if (!ev->name && jstr(meta, "name"))
      ev->name = lb_strdup(jstr(meta, "name"));
    if (!ev->uid && jstr(meta, "uid"))
      ev->uid = lb_strdup(jstr(meta, "uid"));
    if (!ev->rv && jstr(meta, "resourceVersion"))
      ev->rv = lb_strdup(jstr(meta, "resourceVersion"));
    if (!ev->obj && (ev->source == LB_SRC_WATCH || ev->source == LB_SRC_LIST ||
                     ev->source == LB_SRC_OUTCOME)) {
      rc = lb_obj_decode(root, &ev->obj, &why);
      if (rc == LB_EPARSE)
        rc = 0; /* undecodable objects are journaled, the engine skips them */
    }
  }
  json_object_put(root);
  return rc;
}

static int prepare(struct lb_event *ev, char *body, size_t len, int fast) {
  int rc = LB_FD_DECLINED;

  free(ev->body);
  ev->body = NULL;
  ev->body_len = 0;
  if (body) {
    char *nb = realloc(body, len + 1);
    if (!nb) {
      free(body);
      return LB_ENOMEM;
    }
    body = nb;
    body[len] = '\0';
    if (fast)
      rc = prepare_fast(ev, body, len); /* strips when it handles the body */
    if (rc == LB_FD_DECLINED) {
      len = lb_json_strip_managed_fields(body, len);
      body[len] = '\0';
    }
  }
  if (rc == LB_FD_DECLINED)
    rc = prepare_json_c(ev, body, len);
  if (rc)
    return rc;
  char **fields[] = {&ev->api_group, &ev->kind, &ev->ns,
                     &ev->name,      &ev->uid,  &ev->rv};
  for (size_t f = 0; f < LB_ARRAY_SIZE(fields); f++)
    if (!*fields[f] && !(*fields[f] = lb_strdup("")))
      return LB_ENOMEM;
  ev->hash = lb_event_hash(ev);
  return 0;
}

int lb_event_prepare(struct lb_event *ev, char *body, size_t len) {
  return prepare(ev, body, len, 1);
}

int lb__event_prepare_reference(struct lb_event *ev, char *body, size_t len) {
  return prepare(ev, body, len, 0);
}
