/* replay.c — verify by replay (see replay.h). */
#include "replay.h"

#include <stdlib.h>
#include <string.h>

#include "../engine/err.h"

void lb_replay_result_release(struct lb_replay_result *r) {
  free(r->recorded);
  free(r->replayed);
  r->recorded = r->replayed = NULL;
}

struct rctx {
  struct lb_engine *e;
  struct lb_journal_cursor *cur;
  const struct lb_replay_opts *o;
  struct lb_replay_result *res;
  int rc;
};

static int diverge(struct rctx *c, int64_t event_seq, int64_t dseq,
                   const char *rec, const char *rep) {
  c->res->div_event_seq = event_seq;
  c->res->div_decision_seq = dseq;
  c->res->recorded = rec ? lb_strdup(rec) : NULL;
  c->res->replayed = rep ? lb_strdup(rep) : NULL;
  return c->rc = LB_EDIVERGED;
}

static int one(void *ctx, struct lb_event *ev) {
  struct rctx *c = ctx;
  struct lb_decisions ds = {0};
  int rc = lb_engine_apply(c->e, ev, &ds);
  if (rc) {
    lb_decisions_release(&ds);
    return c->rc = rc;
  }
  c->res->events++;
  for (size_t i = 0; i < ds.n && c->o->verify; i++) {
    struct lb_decision rec;
    memset(&rec, 0, sizeof rec);
    rc = lb_journal_decisions_next(c->cur, &rec);
    if (rc == LB_ENOENT) {
      rc = diverge(c, ev->seq, ds.v[i].seq, NULL, ds.v[i].canonical);
    } else if (rc == 0 &&
               (rec.chain != ds.v[i].chain || rec.event_seq != ev->seq ||
                strcmp(rec.canonical, ds.v[i].canonical))) {
      rc = diverge(c, ev->seq, ds.v[i].seq, rec.canonical, ds.v[i].canonical);
    }
    lb_decision_release(&rec);
    if (rc) {
      lb_decisions_release(&ds);
      return c->rc = rc;
    }
  }
  c->res->decisions += (int64_t)ds.n;
  lb_decisions_release(&ds);
  return 0;
}

int lb_replay_run(struct lb_journal *j, const struct lb_replay_opts *o,
                  struct lb_replay_result *res, struct lb_engine **engine_out) {
  struct rctx c;
  int64_t snap_seq = 0;
  int rc;
  memset(res, 0, sizeof *res);
  memset(&c, 0, sizeof c);
  c.o = o;
  c.res = res;
  if ((rc = lb_engine_new(&o->engine, &c.e)))
    return rc;
  if (o->from_snapshot >= 0) {
    void *blob;
    size_t len;
    uint64_t digest;
    rc = lb_journal_snapshot_get(j, o->from_snapshot, &snap_seq, &blob, &len,
                                 &digest);
    if (rc == 0) {
      rc = lb_engine_restore(c.e, blob, len);
      free(blob);
      if (!rc && lb_engine_digest(c.e) != digest)
        rc = LB_ECORRUPT;
    } else if (rc == LB_ENOENT) {
      rc = 0, snap_seq = 0;
    }
    if (rc)
      goto out;
  }
  res->start_seq = snap_seq + 1;
  if (o->verify && (rc = lb_journal_decisions_open(
                        j, lb_engine_decision_seq(c.e) + 1, &c.cur)))
    goto out;
  rc = lb_journal_scan_events(j, snap_seq + 1, o->to_seq, one, &c);
  if (!rc)
    rc = c.rc;
  if (!rc && o->verify) { /* a recorded decision nobody reproduced? */
    struct lb_decision rec;
    memset(&rec, 0, sizeof rec);
    int nr = lb_journal_decisions_next(c.cur, &rec);
    if (nr == 0 && (o->to_seq < 0 || rec.event_seq <= o->to_seq))
      rc = diverge(&c, rec.event_seq, rec.seq, rec.canonical, NULL);
    else if (nr != 0 && nr != LB_ENOENT)
      rc = nr;
    lb_decision_release(&rec);
  }
  res->digest = lb_engine_digest(c.e);
  res->chain = lb_engine_chain(c.e);
out:
  if (c.cur)
    lb_journal_decisions_close(c.cur);
  if (engine_out && !rc)
    *engine_out = c.e;
  else
    lb_engine_free(c.e);
  return rc;
}
