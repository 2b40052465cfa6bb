/* runner.c — see runner.h for the state machine. */
#include "runner.h"

#include <stdlib.h>
#include <string.h>

#include "../engine/err.h"

static void assert_state(const struct lb_runner *r) {
#ifndef NDEBUG
  if (r->state == LB_RUN_IDLE && (r->n_held || lb_journal_pending(r->j)))
    LB_BUG("runner IDLE with held actions or an open batch");
  if (r->state == LB_RUN_FAILED && !r->err)
    LB_BUG("runner FAILED without an error");
#else
  (void)r;
#endif
}

static int fail(struct lb_runner *r, int err) {
  r->state = LB_RUN_FAILED;
  r->err = err;
  for (size_t i = 0; i < r->n_held; i++)
    lb_action_release(&r->held[i]);
  r->n_held = 0;
  return err;
}

static void outcome_event(struct lb_runner *r, const struct lb_action *a,
                          struct lb_outcome *out, int type) {
  struct lb_event ev;
  int rc;
  if ((rc = lb_action_answer_init(&ev, a, type, out->http_status))) {
    free(out->body);
    fail(r, rc);
    return;
  }
  ev.at_ms = out->at_ms;
  rc = lb_event_prepare(&ev, out->body, out->body_len);
  out->body = NULL;
  if (rc == LB_EPARSE) { /* a garbled reply is still an outcome */
    static const char garbled[] = "{\"message\":\"unparseable response body\"}";
    char *b = lb_strdup(garbled);
    rc = b ? lb_event_prepare(&ev, b, sizeof garbled - 1) : LB_ENOMEM;
  }
  if (rc) {
    lb_event_release(&ev);
    fail(r, rc);
    return;
  }
  lb_runner_push(r, &ev);
}

static void on_outcome(void *ctx, const struct lb_action *a,
                       struct lb_outcome *out) {
  outcome_event(ctx, a, out, LB_EV_OUTCOME);
}

static void on_retry(void *ctx, const struct lb_action *a,
                     struct lb_outcome *out) {
  outcome_event(ctx, a, out, LB_EV_RETRY);
}

void lb_runner_init(struct lb_runner *r, struct lb_journal *j,
                    struct lb_engine *e, struct lb_actuator *act) {
  memset(r, 0, sizeof *r);
  r->j = j;
  r->e = e;
  r->act = act;
  r->snapshot_every = 50000;
  if (act) {
    act->on_outcome = on_outcome;
    act->on_retry = on_retry;
    act->ctx = r;
  }
}

void lb_runner_release(struct lb_runner *r) {
  for (size_t i = 0; i < r->n_held; i++)
    lb_action_release(&r->held[i]);
  free(r->held);
  r->held = NULL;
  r->n_held = r->cap_held = 0;
}

static int hold(struct lb_runner *r, const struct lb_action *a) {
  if (lb_reserve(&r->held, &r->cap_held, r->n_held + 1, sizeof *r->held, 16))
    return LB_ENOMEM;
  int rc = lb_action_copy(&r->held[r->n_held], a);
  if (!rc)
    r->n_held++;
  return rc;
}

int lb_runner_push(struct lb_runner *r, struct lb_event *ev) {
  struct lb_decisions ds = {0};
  int rc;
  if (r->state == LB_RUN_FAILED) {
    lb_event_release(ev);
    return r->err;
  }
  r->state = LB_RUN_BATCH;
  if ((rc = lb_journal_append_event(r->j, ev)))
    goto failed;
  if ((rc = lb_engine_apply(r->e, ev, &ds)))
    goto failed;
  r->events++;
  r->since_snapshot++;
  for (size_t i = 0; i < ds.n; i++) {
    const struct lb_decision *d = &ds.v[i];
    if ((rc = lb_journal_append_decision(r->j, d)))
      goto failed;
    r->decisions++;
    if (r->log)
      fprintf(r->log, "  decision %lld %s %s/%s: %s%s\n", (long long)d->seq,
              d->reducer, d->ns, d->name, d->reason,
              d->n_actions ? "" : " (no action)");
    for (size_t a = 0; a < d->n_actions; a++)
      if ((rc = hold(r, &d->actions[a])))
        goto failed;
  }
  lb_decisions_release(&ds);
  lb_event_release(ev);
  return 0;
failed:
  lb_decisions_release(&ds);
  lb_event_release(ev);
  return fail(r, rc);
}

int lb_runner_push_raw(struct lb_runner *r, int source, int type, int64_t at_ms,
                       char *body, size_t len) {
  struct lb_event ev;
  int rc;
  lb_event_init(&ev);
  ev.source = source;
  ev.type = type;
  ev.at_ms = at_ms;
  rc = lb_event_prepare(&ev, body, len);
  if (rc) {
    lb_event_release(&ev);
    return rc; /* a malformed input event is refused, nothing is lost */
  }
  return lb_runner_push(r, &ev);
}

int lb_runner_flush(struct lb_runner *r) {
  int rc;
  if (r->state == LB_RUN_FAILED)
    return r->err;
  if (r->state == LB_RUN_IDLE)
    return 0;
  if ((rc = lb_journal_commit(r->j)))
    return fail(r, rc);
  r->state = LB_RUN_IDLE;
  /* The decisions are durable: now, and only now, act. */
  size_t n = r->n_held;
  struct lb_action *held = r->held;
  r->held = NULL;
  r->n_held = r->cap_held = 0;
  for (size_t i = 0; i < n; i++) {
    if (held[i].verb == LB_VERB_RESPOND) { /* answered, never in flight */
      if (r->respond)
        r->respond(r->respond_ctx, &held[i]);
      r->responses++;
    } else {
      if (r->act && r->act->submit(r->act, &held[i]) == LB_ENOMEM)
        rc = LB_ENOMEM;
      r->actions++;
    }
    lb_action_release(&held[i]);
  }
  free(held);
  if (rc)
    return fail(r, rc);
  assert_state(r);
  if (r->snapshot_every && r->since_snapshot >= r->snapshot_every)
    return lb_runner_snapshot(r);
  return 0;
}

int lb_runner_tick(struct lb_runner *r, int64_t now) {
  int64_t w = lb_engine_next_wakeup(r->e);
  if (!w || w > now)
    return 0;
  return lb_runner_push_raw(r, LB_SRC_TICK, LB_EV_TICK, now, NULL, 0);
}

struct redo_ctx {
  struct lb_runner *r;
  int found, rc;
};

static int redo_row(void *ctx, int ncol, const char *const *names,
                    const char *const *v) {
  struct redo_ctx *c = ctx;
  struct lb_action a;
  (void)names;
  if (!v)
    return 0;
  if (ncol != 9)
    return c->rc = LB_ECORRUPT;
  memset(&a, 0, sizeof a);
  a.id = strtoll(v[0], NULL, 10);
  a.verb = lb_verb_parse(v[1]);
  a.api_group = (char *)(v[2] ? v[2] : "");
  a.kind = (char *)(v[3] ? v[3] : "");
  a.ns = (char *)(v[4] ? v[4] : "");
  a.name = (char *)(v[5] ? v[5] : "");
  a.sub = (char *)(v[6] ? v[6] : "");
  a.uid = (char *)(v[7] ? v[7] : "");
  a.body = (char *)v[8];
  if (!a.verb)
    return c->rc = LB_ECORRUPT;
  c->found++;
  return c->rc = hold(c->r, &a);
}

int lb_runner_redo_inflight(struct lb_runner *r) {
  int64_t *ids;
  size_t n;
  int rc;
  if (r->state == LB_RUN_FAILED)
    return r->err;
  if ((rc = lb_engine_inflight_ids(r->e, &ids, &n)))
    return fail(r, rc);
  for (size_t i = 0; i < n && !rc; i++) {
    char sql[256];
    struct redo_ctx c = {r, 0, 0};
    snprintf(sql, sizeof sql,
             "SELECT id, verb, api_group, kind, namespace, name, subresource, "
             "precondition_uid, request FROM actions WHERE id = %lld",
             (long long)ids[i]);
    rc = lb_journal_query(r->j, sql, redo_row, &c);
    if (!rc)
      rc = c.rc;
    if (!rc && c.found != 1)
      rc = LB_ECORRUPT; /* an in-flight action the journal does not hold */
    if (!rc && r->log)
      fprintf(r->log, "  redo action %lld after restart\n", (long long)ids[i]);
  }
  free(ids);
  if (rc)
    return fail(r, rc);
  if (n)
    r->state = LB_RUN_BATCH; /* held actions go out at the next flush */
  return 0;
}

int lb_runner_snapshot(struct lb_runner *r) {
  char *blob;
  size_t len;
  int rc;
  if ((rc = lb_runner_flush(r)))
    return rc;
  if (!lb_engine_last_seq(r->e))
    return 0;
  if ((rc = lb_engine_snapshot(r->e, &blob, &len)))
    return fail(r, rc);
  rc = lb_journal_snapshot_put(r->j, lb_engine_last_seq(r->e), blob, len,
                               lb_engine_digest(r->e));
  free(blob);
  if (rc)
    return fail(r, rc);
  r->since_snapshot = 0;
  return lb_journal_checkpoint(r->j) == 0 ? 0 : 0; /* best effort */
}

struct recover_ctx {
  struct lb_engine *e;
  int rc;
};

static int recover_one(void *ctx, struct lb_event *ev) {
  struct recover_ctx *c = ctx;
  struct lb_decisions ds = {0};
  c->rc = lb_engine_apply(c->e, ev, &ds);
  lb_decisions_release(&ds);
  return c->rc;
}

int lb_runner_recover(struct lb_runner *r) {
  int64_t snap_seq = 0, last_dseq;
  uint64_t digest, last_chain;
  void *blob = NULL;
  size_t len;
  int rc = lb_journal_snapshot_get(r->j, -1, &snap_seq, &blob, &len, &digest);
  if (rc == 0) {
    rc = lb_engine_restore(r->e, blob, len);
    free(blob);
    if (rc)
      return fail(r, rc);
    if (lb_engine_digest(r->e) != digest)
      return fail(r, LB_ECORRUPT);
  } else if (rc != LB_ENOENT) {
    return fail(r, rc);
  }
  struct recover_ctx c = {r->e, 0};
  rc = lb_journal_scan_events(r->j, snap_seq + 1, -1, recover_one, &c);
  if (rc)
    return fail(r, rc);
  if ((rc = lb_journal_last_decision(r->j, &last_dseq, &last_chain)))
    return fail(r, rc);
  if (last_dseq != lb_engine_decision_seq(r->e) ||
      last_chain != lb_engine_chain(r->e))
    return fail(r, LB_EDIVERGED);
  return 0;
}

/* --- relist ------------------------------------------------------------ */
int lb_relist_begin(struct lb_relist *rl, const char *group, const char *kind) {
  memset(rl, 0, sizeof *rl);
  rl->group = lb_strdup(group ? group : "");
  rl->kind = lb_strdup(kind ? kind : "");
  return rl->group && rl->kind ? 0 : LB_ENOMEM;
}

void lb_relist_release(struct lb_relist *rl) {
  free(rl->group);
  free(rl->kind);
  lb_buf_release(&rl->names);
  memset(rl, 0, sizeof *rl);
}

int lb_relist_item(struct lb_runner *r, struct lb_relist *rl,
                   struct lb_event *ev) {
  struct lb_buf item = LB_BUF_INIT;
  const char *have;
  lb_buf_addf(&item, "%s/%s", ev->ns, ev->name);
  lb_buf_adds(&rl->names, rl->names.len ? "," : "");
  lb_buf_add_json_str(&rl->names, item.p);
  lb_buf_release(&item);
  if (rl->names.err) {
    lb_event_release(ev);
    return fail(r, LB_ENOMEM);
  }
  rl->listed++;
  have = lb_engine_rv(r->e, ev->kind, ev->ns, ev->name);
  if (have && !strcmp(have, ev->rv)) { /* unchanged: nothing to journal */
    lb_event_release(ev);
    return 0;
  }
  rl->journaled++;
  return lb_runner_push(r, ev);
}

int lb_relist_end(struct lb_runner *r, struct lb_relist *rl, int64_t now) {
  struct lb_buf body = LB_BUF_INIT;
  struct lb_event ev;
  size_t len;
  int rc;
  lb_buf_addf(&body, "{\"items\":[%s]}", rl->names.p ? rl->names.p : "");
  lb_event_init(&ev);
  ev.source = LB_SRC_LIST;
  ev.type = LB_EV_LIST_END;
  ev.at_ms = now;
  if (body.err || lb_event_set(&ev.api_group, rl->group) ||
      lb_event_set(&ev.kind, rl->kind)) {
    lb_buf_release(&body);
    lb_event_release(&ev);
    return fail(r, LB_ENOMEM);
  }
  char *b = lb_buf_detach(&body, &len);
  rc = lb_event_prepare(&ev, b, len);
  if (rc) {
    lb_event_release(&ev);
    return fail(r, rc);
  }
  return lb_runner_push(r, &ev);
}
