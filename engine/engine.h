/* engine.h — the deterministic core: fold events into state, run reducers,
 * emit sealed, hash-chained decisions.
 *
 *   event ──► fold (upsert/delete compact object, resolve in-flight action,
 *   │          fire due timers) ──► mark dirty owners
 *   └──────► for each dirty owner, sorted by key: reducer(state, now) ──►
 *              decision (actions get ids, become in-flight) ──► seal/chain
 *
 * Pure: no clock (now = ev->at_ms), no randomness, no I/O, no environment,
 * and no decision depends on hash order (dirty owners and every candidate
 * list are sorted with total orders). Replaying the same events from the
 * same state yields byte-identical decisions and the same digest.
 *
 * In-flight actions are state: a reducer never repeats an action whose
 * outcome has not been folded (this replaces controller-runtime's
 * "expectations"). An outcome with a 2xx status and an object body is
 * folded like a watch event (write-through), so the next reconcile sees
 * its own write even before the watch delivers it; older resourceVersions
 * never overwrite newer ones, and deleted uids are remembered (bounded
 * tombstones) so a late event cannot resurrect an object.
 */
#ifndef LB_ENGINE_H
#define LB_ENGINE_H

#include <stdint.h>

#include "decision.h"
#include "event.h"

struct lb_engine;

/* Options that change decisions (a what-if replay overrides them). */
struct lb_engine_opts {
  int slow_start; /* create pods in batches 1,2,4,... (1) */
  int max_batch;  /* cap on one batch of pod creations (500) */
  /* admission (kruise-spec §0.1 gates; logbook's defaults differ from
   * v1.8.4's, which ship them off, and match OpenKruise's e2e setup) */
  int deletion_protection; /* ResourcesDeletionProtection (1) */
  int crd_cascading;       /* DeletionProtectionForCRDCascadingGate (1) */
  int pub_delete_gate;     /* PodUnavailableBudgetDeleteGate (1) */
  int pub_update_gate;     /* PodUnavailableBudgetUpdateGate (1) */
  /* How, never what: these two change no decision (the tests prove it).
   * full_recompute: every CloneSet reconcile looks at every pod, ignoring
   * the aggregates the fold keeps (cloneset_agg.c) (0). check_aggregates:
   * after every fold, recompute the aggregates from all pods and compare,
   * and compare a fast reconcile's numbers with a full look; a difference
   * is a bug (LB_ALWAYS) and lb_engine_apply returns LB_EINVAL (0). */
  int full_recompute;
  int check_aggregates;
};
#define LB_ENGINE_OPTS_INIT                                                    \
  { 1, 500, 1, 1, 1, 1, 0, 0 }
/* Turns check_aggregates on for every engine this process creates from
 * now on, whatever its opts (the test runner does, so `make test` checks
 * every fold). Not for production use: it costs O(pods) per event. */
void lb_engine_check_all(int on);

int lb_engine_new(const struct lb_engine_opts *opts, struct lb_engine **out);
void lb_engine_free(struct lb_engine *e);

/* Folds ev and appends the resulting sealed decisions to out. ev must be
 * prepared (identity set); its compact object is decoded here when absent
 * and then owned by the engine (ev->obj becomes NULL). ev->seq must be
 * greater than every event applied before. Returns 0 or LB_ENOMEM (the
 * engine is then unusable: rebuild it from the journal). */
int lb_engine_apply(struct lb_engine *e, struct lb_event *ev,
                    struct lb_decisions *out);

/* Order-independent digest of the whole state (objects, in-flight actions,
 * tombstones, counters, chain). */
uint64_t lb_engine_digest(const struct lb_engine *e);
uint64_t lb_engine_chain(const struct lb_engine *e);
int64_t lb_engine_last_seq(const struct lb_engine *e);     /* event seq */
int64_t lb_engine_decision_seq(const struct lb_engine *e); /* last decision */
/* Earliest time a reducer asked to be woken (journal a tick then); 0 when
 * nothing waits. */
int64_t lb_engine_next_wakeup(const struct lb_engine *e);
size_t lb_engine_count(const struct lb_engine *e, int kind);
size_t lb_engine_inflight_count(const struct lb_engine *e);
/* In-flight action ids in increasing order (caller frees *ids). */
int lb_engine_inflight_ids(const struct lb_engine *e, int64_t **ids, size_t *n);

/* Snapshot: a self-contained serialization of the whole state (caller
 * frees *blob); restore into a fresh engine reproduces the same digest. */
int lb_engine_snapshot(const struct lb_engine *e, char **blob, size_t *len);
int lb_engine_restore(struct lb_engine *e, const char *blob, size_t len);

/* resourceVersion of an object as the engine holds it (borrowed), or NULL
 * when unknown; used to turn a relist into only the differences. */
const char *lb_engine_rv(const struct lb_engine *e, const char *kind,
                         const char *ns, const char *name);

/* Compact JSON of one object's state as the engine sees it, for
 * `logbook explain` (caller frees); NULL when unknown. */
char *lb_engine_describe(const struct lb_engine *e, const char *kind,
                         const char *ns, const char *name);

#endif
