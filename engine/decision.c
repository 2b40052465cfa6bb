#include "decision.h"

#include <stdlib.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "err.h"
#include "event.h"

const char *lb_verb_name(int verb) {
  switch (verb) {
#define X(e, s)                                                                \
  case LB_VERB_##e:                                                            \
    return s;
    LB_VERBS(X)
#undef X
  }
  return "?";
}

int lb_verb_parse(const char *s) {
#define X(e, n)                                                                \
  if (s && !strcmp(s, n))                                                      \
    return LB_VERB_##e;
  LB_VERBS(X)
#undef X
  return 0;
}

void lb_action_release(struct lb_action *a) {
  free(a->api_group);
  free(a->kind);
  free(a->ns);
  free(a->name);
  free(a->sub);
  free(a->uid);
  free(a->body);
  memset(a, 0, sizeof *a);
}

int lb_action_copy(struct lb_action *dst, const struct lb_action *src) {
  memset(dst, 0, sizeof *dst);
  dst->id = src->id;
  dst->verb = src->verb;
  dst->api_group = lb_strdup(src->api_group ? src->api_group : "");
  dst->kind = lb_strdup(src->kind ? src->kind : "");
  dst->ns = lb_strdup(src->ns ? src->ns : "");
  dst->name = lb_strdup(src->name ? src->name : "");
  dst->sub = lb_strdup(src->sub ? src->sub : "");
  dst->uid = lb_strdup(src->uid ? src->uid : "");
  dst->body = src->body ? lb_strdup(src->body) : NULL;
  if (!dst->api_group || !dst->kind || !dst->ns || !dst->name || !dst->sub ||
      !dst->uid || (src->body && !dst->body)) {
    lb_action_release(dst);
    return LB_ENOMEM;
  }
  return 0;
}

void lb_decision_release(struct lb_decision *d) {
  for (size_t i = 0; i < d->n_actions; i++)
    lb_action_release(&d->actions[i]);
  free(d->actions);
  free(d->reducer);
  free(d->kind);
  free(d->ns);
  free(d->name);
  free(d->reason);
  free(d->canonical);
  memset(d, 0, sizeof *d);
}

void lb_decisions_release(struct lb_decisions *ds) {
  for (size_t i = 0; i < ds->n; i++)
    lb_decision_release(&ds->v[i]);
  free(ds->v);
  memset(ds, 0, sizeof *ds);
}

uint64_t lb_chain_next(uint64_t prev, const char *canonical, size_t len) {
  XXH3_state_t st;
  unsigned char le[8];
  for (int b = 0; b < 8; b++)
    le[b] = (unsigned char)(prev >> (8 * b));
  XXH3_64bits_reset(&st);
  XXH3_64bits_update(&st, le, sizeof le);
  XXH3_64bits_update(&st, canonical, len);
  return XXH3_64bits_digest(&st);
}

static void field(struct lb_buf *b, const char *key, const char *val) {
  lb_buf_addf(b, ",\"%s\":", key);
  lb_buf_add_json_str(b, val ? val : "");
}

int lb_decision_seal(struct lb_decision *d, uint64_t prev_chain) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_addf(&b, "{\"seq\":%lld,\"event_seq\":%lld", (long long)d->seq,
              (long long)d->event_seq);
  field(&b, "reducer", d->reducer);
  field(&b, "kind", d->kind);
  field(&b, "ns", d->ns);
  field(&b, "name", d->name);
  field(&b, "reason", d->reason);
  lb_buf_adds(&b, ",\"actions\":[");
  for (size_t i = 0; i < d->n_actions; i++) {
    const struct lb_action *a = &d->actions[i];
    lb_buf_addf(&b, "%s{\"id\":%lld", i ? "," : "", (long long)a->id);
    field(&b, "verb", lb_verb_name(a->verb));
    field(&b, "group", a->api_group);
    field(&b, "kind", a->kind);
    field(&b, "ns", a->ns);
    field(&b, "name", a->name);
    field(&b, "sub", a->sub);
    field(&b, "uid", a->uid);
    lb_buf_adds(&b, ",\"body\":");
    lb_buf_adds(&b, a->body ? a->body : "null");
    lb_buf_adds(&b, "}");
  }
  lb_buf_adds(&b, "]}");
  if (b.err) {
    int err = b.err;
    lb_buf_release(&b);
    return err;
  }
  free(d->canonical);
  d->canonical = lb_buf_detach(&b, &d->canonical_len);
  d->chain = lb_chain_next(prev_chain, d->canonical, d->canonical_len);
  return 0;
}

int lb_action_answer_init(struct lb_event *ev, const struct lb_action *a,
                          int type, int http_status) {
  int rc;
  lb_event_init(ev);
  ev->source = LB_SRC_OUTCOME;
  ev->type = type;
  ev->action_id = a->id;
  ev->http_status = http_status;
  if ((rc = lb_event_set(&ev->api_group, a->api_group)) ||
      (rc = lb_event_set(&ev->kind, a->kind)) ||
      (rc = lb_event_set(&ev->ns, a->ns)) ||
      (rc = lb_event_set(&ev->name, a->name)))
    lb_event_release(ev);
  return rc;
}
