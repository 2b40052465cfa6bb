/* admission.c — the verdict for one admission request (see admission.h).
 *
 * Skeleton: reads the envelope, answers every request "allowed" with the
 * reason that no policy is registered for its path. The webhook policies
 * (pod mutation, CR defaulting/validation, deletion protection, PUB) plug
 * in here. */
#include "admission.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "reducer.h"
#include "util.h"

static const char *str_at(struct json_object *o, const char *a, const char *b) {
  struct json_object *v;
  if (!o || !json_object_object_get_ex(o, a, &v))
    return "";
  if (b && !json_object_object_get_ex(v, b, &v))
    return "";
  return json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                  : "";
}

int lb_admission_review(struct lb_engine *e, struct lb_event *ev,
                        struct lb_decisions *out) {
  struct json_object *root = ev->body ? json_tokener_parse(ev->body) : NULL;
  struct json_object *review = NULL;
  struct lb_decision d;
  struct lb_buf resp = LB_BUF_INIT, reason = LB_BUF_INIT;
  const char *path, *api;
  int rc = 0;
  memset(&d, 0, sizeof d);
  if (root)
    json_object_object_get_ex(root, "review", &review);
  path = str_at(root, "path", NULL);
  api = str_at(review, "apiVersion", NULL);
  if (!*api)
    api = "admission.k8s.io/v1";
  lb_buf_addf(&reason, "allowed: no admission policy is registered for %s",
              *path ? path : "(no path)");
  lb_buf_adds(&resp, "{\"apiVersion\":");
  lb_buf_add_json_str(&resp, api);
  lb_buf_adds(&resp, ",\"kind\":\"AdmissionReview\",\"response\":{\"uid\":");
  lb_buf_add_json_str(&resp, ev->uid ? ev->uid : "");
  lb_buf_adds(&resp, ",\"allowed\":true}}");
  d.actions = calloc(1, sizeof *d.actions);
  if (!d.actions || resp.err || reason.err) {
    rc = LB_ENOMEM;
    goto out;
  }
  d.n_actions = 1;
  d.actions[0].verb = LB_VERB_RESPOND;
  d.actions[0].api_group = lb_strdup("admission.k8s.io");
  d.actions[0].kind = lb_strdup("AdmissionReview");
  d.actions[0].ns = lb_strdup("");
  d.actions[0].name = lb_strdup(ev->uid ? ev->uid : "");
  d.actions[0].sub = lb_strdup("");
  d.actions[0].uid = lb_strdup("");
  d.actions[0].body = lb_buf_detach(&resp, NULL);
  d.reducer = lb_strdup("admission");
  d.kind = lb_strdup(ev->kind ? ev->kind : "");
  d.ns = lb_strdup(ev->ns ? ev->ns : "");
  d.name = lb_strdup(ev->name ? ev->name : "");
  d.reason = lb_buf_detach(&reason, NULL);
  if (!d.actions[0].api_group || !d.actions[0].kind || !d.actions[0].ns ||
      !d.actions[0].name || !d.actions[0].sub || !d.actions[0].uid ||
      !d.actions[0].body || !d.reducer || !d.kind || !d.ns || !d.name ||
      !d.reason) {
    rc = LB_ENOMEM;
    goto out;
  }
  rc = lb_engine_emit(e, ev, &d, NULL, NULL, out);
out:
  json_object_put(root);
  lb_buf_release(&resp);
  lb_buf_release(&reason);
  lb_decision_release(&d);
  return rc;
}
