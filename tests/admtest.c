/* admtest.c — see admtest.h. */
#include "admtest.h"

#include <json-c/json.h>

#include "../engine/err.h"
#include "../engine/event.h"
#include "../engine/util.h"
#include "test.h"

void adm_init(struct adm *h, const struct lb_engine_opts *opts) {
  memset(h, 0, sizeof *h);
  ASSERT_OK(lb_engine_new(opts, &h->e));
}

void adm_free(struct adm *h) {
  lb_decisions_release(&h->ds);
  free(h->ds.v);
  lb_engine_free(h->e);
}

static size_t apply(struct adm *h, struct lb_event *ev) {
  size_t first = h->ds.n;
  ASSERT_OK(lb_engine_apply(h->e, ev, &h->ds));
  lb_event_release(ev);
  return first;
}

size_t adm_watch(struct adm *h, int64_t at, int type, const char *body) {
  struct lb_event ev;
  lb_event_init(&ev);
  ev.seq = ++h->seq;
  ev.at_ms = at;
  ev.source = LB_SRC_WATCH;
  ev.type = type;
  char *b = lb_strdup(body);
  ASSERT_OK(lb_event_prepare(&ev, b, strlen(body)));
  return apply(h, &ev);
}

size_t adm_tick(struct adm *h, int64_t at) {
  struct lb_event ev;
  lb_event_init(&ev);
  ev.seq = ++h->seq;
  ev.at_ms = at;
  ev.source = LB_SRC_TICK;
  ev.type = LB_EV_TICK;
  ASSERT_OK(lb_event_prepare(&ev, NULL, 0));
  return apply(h, &ev);
}

size_t adm_answer(struct adm *h, int64_t at, const struct lb_action *a,
                  const char *body) {
  struct lb_event ev;
  ASSERT_OK(lb_action_answer_init(&ev, a, LB_EV_OUTCOME, 200));
  ev.seq = ++h->seq;
  ev.at_ms = at;
  char *b = body ? lb_strdup(body) : NULL;
  ASSERT_OK(lb_event_prepare(&ev, b, body ? strlen(body) : 0));
  return apply(h, &ev);
}

static void add_str(struct lb_buf *b, const char *key, const char *v) {
  if (!v)
    return;
  lb_buf_addf(b, ",\"%s\":", key);
  lb_buf_add_json_str(b, v);
}

char *adm_review_body(const struct adm_req *q, const char *uid) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_adds(&b, "{\"path\":");
  lb_buf_add_json_str(&b, q->path);
  lb_buf_adds(&b, ",\"review\":{\"apiVersion\":");
  lb_buf_add_json_str(&b, q->api ? q->api : "admission.k8s.io/v1");
  lb_buf_adds(&b, ",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":");
  lb_buf_add_json_str(&b, uid);
  lb_buf_adds(&b, ",\"kind\":{\"group\":");
  lb_buf_add_json_str(&b, q->group ? q->group : "");
  lb_buf_adds(&b, ",\"version\":");
  lb_buf_add_json_str(&b, q->version ? q->version : "v1");
  lb_buf_adds(&b, ",\"kind\":");
  lb_buf_add_json_str(&b, q->kind ? q->kind : "Pod");
  lb_buf_adds(&b, "},\"resource\":{\"group\":");
  lb_buf_add_json_str(&b, q->group ? q->group : "");
  lb_buf_adds(&b, ",\"version\":");
  lb_buf_add_json_str(&b, q->version ? q->version : "v1");
  lb_buf_adds(&b, ",\"resource\":");
  lb_buf_add_json_str(&b, q->resource ? q->resource : "pods");
  lb_buf_adds(&b, "}");
  add_str(&b, "subResource", q->sub);
  add_str(&b, "operation", q->op);
  add_str(&b, "namespace", q->ns);
  add_str(&b, "name", q->name);
  lb_buf_adds(&b, ",\"userInfo\":{\"username\":\"alice\"}");
  lb_buf_addf(&b, ",\"dryRun\":%s", q->dry_run ? "true" : "false");
  if (q->obj)
    lb_buf_addf(&b, ",\"object\":%s", q->obj);
  if (q->old)
    lb_buf_addf(&b, ",\"oldObject\":%s", q->old);
  if (q->options)
    lb_buf_addf(&b, ",\"options\":%s", q->options);
  lb_buf_adds(&b, "}}}");
  ASSERT(!b.err);
  return lb_buf_detach(&b, NULL);
}

const struct lb_decision *adm_review(struct adm *h, int64_t at,
                                     const struct adm_req *q) {
  struct lb_event ev;
  char uid[64];
  snprintf(uid, sizeof uid, "req-%lld", (long long)(h->seq + 1));
  char *body = adm_review_body(q, uid);
  lb_event_init(&ev);
  ev.seq = ++h->seq;
  ev.at_ms = at;
  ev.source = LB_SRC_ADMISSION;
  ev.type = LB_EV_REVIEW;
  ASSERT_OK(lb_event_set(&ev.api_group, q->group ? q->group : ""));
  ASSERT_OK(lb_event_set(&ev.kind, q->kind ? q->kind : "Pod"));
  ASSERT_OK(lb_event_set(&ev.ns, q->ns ? q->ns : ""));
  ASSERT_OK(lb_event_set(&ev.name, q->name ? q->name : ""));
  ASSERT_OK(lb_event_set(&ev.uid, uid));
  ASSERT_OK(lb_event_set(&ev.rv, ""));
  ASSERT_OK(lb_event_prepare(&ev, body, strlen(body)));
  size_t first = apply(h, &ev), found = (size_t)-1;
  for (size_t i = first; i < h->ds.n; i++)
    if (!strcmp(h->ds.v[i].reducer, "admission")) {
      ASSERT_EQ_INT(found, (size_t)-1);
      found = i;
    }
  ASSERT(found != (size_t)-1);
  return &h->ds.v[found];
}

static int b64val(int c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  return c == '+' ? 62 : c == '/' ? 63 : -1;
}

static char *b64decode(const char *s) {
  size_t n = strlen(s), k = 0;
  char *out = malloc(n + 1);
  ASSERT(out && n % 4 == 0);
  for (size_t i = 0; i < n; i += 4) {
    int v[4];
    for (int j = 0; j < 4; j++)
      v[j] = s[i + j] == '=' ? 0 : b64val(s[i + j]);
    ASSERT(v[0] >= 0 && v[1] >= 0 && v[2] >= 0 && v[3] >= 0);
    unsigned x = (unsigned)(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
    out[k++] = (char)(x >> 16);
    if (s[i + 2] != '=')
      out[k++] = (char)(x >> 8 & 255);
    if (s[i + 3] != '=')
      out[k++] = (char)(x & 255);
  }
  out[k] = '\0';
  return out;
}

void adm_parse(const struct lb_decision *d, struct adm_resp *out) {
  struct json_object *root, *resp, *v, *st;
  memset(out, 0, sizeof *out);
  ASSERT(d->n_actions >= 1);
  ASSERT_EQ_STR(lb_verb_name(d->actions[0].verb), "respond");
  ASSERT_EQ_STR(d->actions[0].api_group, "admission.k8s.io");
  root = json_tokener_parse(d->actions[0].body);
  ASSERT(root);
  ASSERT(json_object_object_get_ex(root, "apiVersion", &v));
  snprintf(out->api, sizeof out->api, "%s", json_object_get_string(v));
  ASSERT(json_object_object_get_ex(root, "kind", &v));
  ASSERT_EQ_STR(json_object_get_string(v), "AdmissionReview");
  ASSERT(json_object_object_get_ex(root, "response", &resp));
  ASSERT(json_object_object_get_ex(resp, "uid", &v));
  snprintf(out->uid, sizeof out->uid, "%s", json_object_get_string(v));
  ASSERT_EQ_STR(out->uid, d->actions[0].name);
  ASSERT(json_object_object_get_ex(resp, "allowed", &v));
  out->allowed = json_object_get_boolean(v);
  if (json_object_object_get_ex(resp, "status", &st)) {
    if (json_object_object_get_ex(st, "code", &v))
      out->code = json_object_get_int(v);
    if (json_object_object_get_ex(st, "message", &v))
      snprintf(out->message, sizeof out->message, "%s",
               json_object_get_string(v));
    if (json_object_object_get_ex(st, "reason", &v))
      snprintf(out->reason, sizeof out->reason, "%s",
               json_object_get_string(v));
  }
  if (json_object_object_get_ex(resp, "patch", &v)) {
    struct json_object *pt;
    ASSERT(json_object_object_get_ex(resp, "patchType", &pt));
    ASSERT_EQ_STR(json_object_get_string(pt), "JSONPatch");
    out->has_patch = 1;
    out->patch = b64decode(json_object_get_string(v));
    struct json_object *ops = json_tokener_parse(out->patch);
    ASSERT(ops && json_object_is_type(ops, json_type_array));
    json_object_put(ops);
  }
  json_object_put(root);
}

void adm_resp_release(struct adm_resp *r) {
  free(r->patch);
  r->patch = NULL;
}

/* RFC 6901 token unescape in place */
static void unescape(char *t) {
  char *w = t;
  for (char *p = t; *p; p++) {
    if (p[0] == '~' && p[1] == '1') {
      *w++ = '/';
      p++;
    } else if (p[0] == '~' && p[1] == '0') {
      *w++ = '~';
      p++;
    } else {
      *w++ = *p;
    }
  }
  *w = '\0';
}

static int apply_op(struct json_object *doc, struct json_object *op) {
  struct json_object *o, *p, *val = NULL;
  if (!json_object_object_get_ex(op, "op", &o) ||
      !json_object_object_get_ex(op, "path", &p))
    return -1;
  json_object_object_get_ex(op, "value", &val);
  char path[1024];
  snprintf(path, sizeof path, "%s", json_object_get_string(p));
  if (path[0] != '/')
    return -1;
  struct json_object *cur = doc;
  char *tok = path + 1, *next;
  for (;;) {
    next = strchr(tok, '/');
    if (next)
      *next = '\0';
    unescape(tok);
    if (!next)
      break;
    struct json_object *child = NULL;
    if (json_object_is_type(cur, json_type_object)) {
      if (!json_object_object_get_ex(cur, tok, &child))
        return -1;
    } else if (json_object_is_type(cur, json_type_array)) {
      child = json_object_array_get_idx(cur, (size_t)atoi(tok));
    }
    if (!child)
      return -1;
    cur = child;
    tok = next + 1;
  }
  const char *verb = json_object_get_string(o);
  if (json_object_is_type(cur, json_type_object)) {
    if (!strcmp(verb, "remove"))
      json_object_object_del(cur, tok);
    else if (!strcmp(verb, "add") || !strcmp(verb, "replace"))
      json_object_object_add(cur, tok, json_object_get(val));
    else
      return -1;
    return 0;
  }
  if (json_object_is_type(cur, json_type_array) && !strcmp(verb, "add") &&
      !strcmp(tok, "-")) {
    json_object_array_add(cur, json_object_get(val));
    return 0;
  }
  return -1;
}

char *adm_apply_patch(const char *doc, const char *patch) {
  struct json_object *d = json_tokener_parse(doc),
                     *p = json_tokener_parse(patch);
  char *out = NULL;
  if (d && p && json_object_is_type(p, json_type_array)) {
    size_t i;
    for (i = 0; i < json_object_array_length(p); i++)
      if (apply_op(d, json_object_array_get_idx(p, i)))
        break;
    if (i == json_object_array_length(p))
      out =
          lb_strdup(json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN));
  }
  json_object_put(d);
  json_object_put(p);
  return out;
}

char *adm_pod(const char *ns, const char *name, const char *labels_json,
              const char *annotations_json, const char *owner_api,
              const char *owner_kind, const char *owner_uid, int ready,
              const char *phase) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_addf(&b,
              "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
              "\"%s\",\"namespace\":\"%s\",\"uid\":\"uid-%s-%s\","
              "\"labels\":%s",
              name, ns, ns, name, labels_json ? labels_json : "{}");
  if (annotations_json)
    lb_buf_addf(&b, ",\"annotations\":%s", annotations_json);
  if (owner_kind)
    lb_buf_addf(&b,
                ",\"ownerReferences\":[{\"apiVersion\":\"%s\",\"kind\":\"%s\","
                "\"name\":\"owner\",\"uid\":\"%s\",\"controller\":true}]",
                owner_api, owner_kind, owner_uid);
  lb_buf_addf(
      &b,
      "},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"img:1\"}]"
      "},\"status\":{\"phase\":\"%s\",\"conditions\":[{\"type\":"
      "\"Ready\",\"status\":\"%s\"}]}}",
      phase ? phase : "Running", ready ? "True" : "False");
  ASSERT(!b.err);
  return lb_buf_detach(&b, NULL);
}
