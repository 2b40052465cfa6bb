/* kubeact.c — see kubeact.h. */
#include "kubeact.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/err.h"
#include "../engine/util.h"
#include "log.h"
#include "resources.h"

struct call {
  struct lb_kubeact *ka;
  struct lb_action a; /* our copy */
  char *path, *body;
  const char *method, *ctype;
  int attempts;
  int backoff_ms;
  uv_timer_t timer;
};

static void send_call(struct call *c);

static void call_closed(uv_handle_t *h) {
  struct call *c = h->data;
  lb_action_release(&c->a);
  free(c->path);
  free(c->body);
  free(c);
}

static void final(struct call *c, struct lb_kube_result *res) {
  struct lb_kubeact *ka = c->ka;
  struct lb_outcome out = {c->a.id, res->status, res->body, res->len,
                           lb_wall_ms()};
  int cls = res->status >= 100 && res->status < 600 ? res->status / 100 : 0;
  if (c->a.verb > 0 && c->a.verb < (int)LB_ARRAY_SIZE(ka->done_by_verb))
    ka->done_by_verb[c->a.verb][cls]++;
  res->body = NULL;
  ka->inflight--;
  if (ka->act.on_outcome)
    ka->act.on_outcome(ka->act.ctx, &c->a, &out);
  else
    free(out.body);
  uv_close((uv_handle_t *)&c->timer, call_closed);
}

static void on_timer(uv_timer_t *t) { send_call(t->data); }

static void on_done(void *ctx, struct lb_kube_result *res) {
  struct call *c = ctx;
  struct lb_kubeact *ka = c->ka;
  int retryable = res->status == 429 || res->status >= 500 || res->status == 0;
  if (!retryable || c->attempts >= ka->max_attempts) {
    final(c, res);
    return;
  }
  /* journal the failed attempt, then wait */
  struct lb_outcome out = {c->a.id, res->status, res->body, res->len,
                           lb_wall_ms()};
  res->body = NULL;
  if (!out.body && res->curl_error && *res->curl_error) {
    struct lb_buf b = LB_BUF_INIT;
    lb_buf_adds(&b, "{\"kind\":\"Status\",\"message\":");
    lb_buf_add_json_str(&b, res->curl_error);
    lb_buf_adds(&b, "}");
    out.body = lb_buf_detach(&b, &out.body_len);
  }
  ka->retries++;
  if (ka->act.on_retry)
    ka->act.on_retry(ka->act.ctx, &c->a, &out);
  else
    free(out.body);
  c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : 200;
  if (c->backoff_ms > 30000)
    c->backoff_ms = 30000;
  int64_t wait = c->backoff_ms;
  if (res->retry_after_ms > wait)
    wait = res->retry_after_ms;
  lb_log("warn", "action will be retried",
         "action=%lld verb=%s target=%s/%s status=%d attempt=%d wait_ms=%lld",
         (long long)c->a.id, lb_verb_name(c->a.verb), c->a.ns, c->a.name,
         res->status, c->attempts, (long long)wait);
  uv_timer_start(&c->timer, on_timer, (uint64_t)wait, 0);
}

static void send_call(struct call *c) {
  c->attempts++;
  if (lb_kube_request(c->ka->k, c->method, c->path, c->ctype, c->body, on_done,
                      c, NULL)) {
    struct lb_kube_result res = {0, NULL, 0, -1, "client is closing"};
    c->attempts = c->ka->max_attempts;
    final(c, &res);
  }
}

/* DeleteOptions: the action's body (NULL, or DeleteOptions such as
 * {"preconditions":{"resourceVersion":"7"}} or a propagationPolicy) with
 * kind/apiVersion set and the uid precondition added. NULL on allocation
 * failure; a body that is not a JSON object is replaced (the engine never
 * writes one). */
static char *delete_options(const struct lb_action *a) {
  json_object *o = a->body ? json_tokener_parse(a->body) : NULL;
  json_object *pre = NULL;
  char *out;
  if (!json_object_is_type(o, json_type_object)) {
    json_object_put(o);
    o = json_object_new_object();
  }
  if (!o)
    return NULL;
  json_object_object_add(o, "kind", json_object_new_string("DeleteOptions"));
  json_object_object_add(o, "apiVersion", json_object_new_string("v1"));
  if (a->uid && *a->uid) {
    if (!json_object_object_get_ex(o, "preconditions", &pre) ||
        !json_object_is_type(pre, json_type_object)) {
      pre = json_object_new_object();
      json_object_object_add(o, "preconditions", pre);
    }
    if (pre)
      json_object_object_add(pre, "uid", json_object_new_string(a->uid));
  }
  out = lb_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
  json_object_put(o);
  return out;
}

static int submit(struct lb_actuator *self, const struct lb_action *a) {
  struct lb_kubeact *ka = (struct lb_kubeact *)self;
  const struct lb_resource *res = lb_resource_of(a->api_group, a->kind);
  struct call *c = calloc(1, sizeof *c);
  if (!c)
    return LB_ENOMEM;
  c->ka = ka;
  if (lb_action_copy(&c->a, a)) {
    free(c);
    return LB_ENOMEM;
  }
  uv_timer_init(ka->loop, &c->timer);
  c->timer.data = c;
  ka->inflight++;
  if (!res) {
    struct lb_buf b = LB_BUF_INIT;
    lb_buf_addf(&b,
                "{\"kind\":\"Status\",\"message\":\"no API resource "
                "known for %s/%s\"}",
                a->api_group, a->kind);
    struct lb_kube_result r = {0, NULL, 0, -1, ""};
    r.body = lb_buf_detach(&b, &r.len);
    final(c, &r);
    return 0;
  }
  switch (a->verb) {
  case LB_VERB_CREATE:
    c->method = "POST";
    c->path = lb_kube_path(res->group, res->version, res->resource, a->ns, "",
                           a->sub);
    c->body = lb_strdup(a->body ? a->body : "{}");
    break;
  case LB_VERB_PATCH:
  case LB_VERB_SPATCH:
  case LB_VERB_JPATCH:
    c->method = "PATCH";
    c->ctype = a->verb == LB_VERB_SPATCH
                   ? "application/strategic-merge-patch+json"
               : a->verb == LB_VERB_JPATCH ? "application/json-patch+json"
                                           : "application/merge-patch+json";
    c->path = lb_kube_path(res->group, res->version, res->resource, a->ns,
                           a->name, a->sub);
    c->body = lb_strdup(a->body ? a->body : "{}");
    break;
  case LB_VERB_DELETE:
    c->method = "DELETE";
    c->path = lb_kube_path(res->group, res->version, res->resource, a->ns,
                           a->name, "");
    c->body = delete_options(a);
    break;
  default: {
    struct lb_buf b = LB_BUF_INIT;
    lb_buf_addf(&b,
                "{\"kind\":\"Status\",\"message\":\"verb %s is not sent to "
                "the apiserver\"}",
                lb_verb_name(a->verb));
    struct lb_kube_result r = {0, NULL, 0, -1, ""};
    r.body = lb_buf_detach(&b, &r.len);
    final(c, &r);
    return 0;
  }
  }
  if (!c->path || !c->body) {
    struct lb_kube_result r = {0, NULL, 0, -1, "out of memory"};
    final(c, &r);
    return LB_ENOMEM;
  }
  send_call(c);
  return 0;
}

void lb_kubeact_init(struct lb_kubeact *ka, uv_loop_t *loop,
                     struct lb_kube *k) {
  memset(ka, 0, sizeof *ka);
  ka->act.name = "apiserver";
  ka->act.submit = submit;
  ka->k = k;
  ka->loop = loop;
  ka->max_attempts = 8;
}
