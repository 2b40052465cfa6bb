/* runner.h — the pipeline: event -> journal -> engine -> decisions ->
 * journal -> (commit) -> actuator -> outcome event -> ...
 *
 * Writer state machine (one batch at a time):
 *
 *        push(ev)                      flush()
 *   IDLE ───────► BATCH (events and ───────► COMMITTED ──submit actions──► IDLE
 *    ▲            decisions appended,          │
 *    │            actions held back)           │ commit fails
 *    │                                          ▼
 *    └──────────── restart from journal ◄──── FAILED (latched; every call
 *                  (lb_runner_recover)          returns the error)
 *
 *   | transition        | function            | invariant after           |
 *   | IDLE -> BATCH     | lb_runner_push      | journal batch open        |
 *   | BATCH -> IDLE     | lb_runner_flush     | decisions durable, then   |
 *   |                   |                     | their actions submitted   |
 *   | * -> FAILED       | any journal error   | nothing of the failed     |
 *   |                   |                     | batch was acted on        |
 * Write-ahead: an action is submitted only after the commit that holds its
 * decision. Recovery: latest snapshot + tail of the journal rebuild the
 * engine; a relist turns the cluster's current state into events (only the
 * differences); then every in-flight action whose outcome was never
 * journaled is sent again, as recorded (same id, body and preconditions).
 * Redo is safe because every action is idempotent at the server: a create
 * names its object (a repeat answers 409 AlreadyExists), a delete carries
 * the pod's uid (a repeat finds it terminating or gone), patches are
 * merge patches of absolute values. So an action takes effect once, even
 * when the crash left its first attempt on the wire.
 *
 * RESPOND actions (admission verdicts, engine/admission.h) take another
 * exit at the same point: after the commit they go to the responder
 * (r->respond, the webhook server), never to the actuator; they are not
 * counted in `actions`, are never in flight and are never redone after a
 * restart (a restarted manager does not answer requests of its previous
 * life: their connections died with it). Without a responder they are
 * dropped.
 */
#ifndef LB_RUNNER_H
#define LB_RUNNER_H

#include <stdint.h>
#include <stdio.h>

#include "../engine/engine.h"
#include "../store/journal.h"
#include "actuator.h"

enum lb_runner_state { LB_RUN_IDLE = 0, LB_RUN_BATCH, LB_RUN_FAILED };

struct lb_runner {
  struct lb_journal *j;    /* borrowed */
  struct lb_engine *e;     /* borrowed */
  struct lb_actuator *act; /* borrowed */
  int state;               /* enum lb_runner_state */
  int err;                 /* latched error in FAILED */
  struct lb_action *held;  /* actions of uncommitted decisions */
  size_t n_held, cap_held;
  int64_t snapshot_every; /* events between snapshots (0 = never) */
  int64_t since_snapshot;
  int64_t events, decisions, actions; /* counters since init */
  int64_t responses;                  /* RESPOND actions handed over */
  FILE *log;                          /* decision log lines, or NULL */
  /* Receives each committed RESPOND action (borrowed for the call), on the
   * thread that calls lb_runner_flush. NULL: RESPOND actions are dropped. */
  void (*respond)(void *ctx, const struct lb_action *a);
  void *respond_ctx;
};

/* Installs itself as the actuator's outcome callback. */
void lb_runner_init(struct lb_runner *r, struct lb_journal *j,
                    struct lb_engine *e, struct lb_actuator *act);
void lb_runner_release(struct lb_runner *r);

/* Rebuilds the engine from the journal: latest snapshot (digest checked)
 * plus the tail; the recomputed decision chain must equal the journal's.
 * Returns 0, LB_EDIVERGED, LB_ECORRUPT, ... */
int lb_runner_recover(struct lb_runner *r);

/* Journals ev (prepared; ownership of its contents moves to the runner),
 * folds it and journals the decisions. */
int lb_runner_push(struct lb_runner *r, struct lb_event *ev);
/* Convenience: builds and pushes an event from parts (body malloc'd, taken
 * over; may be NULL). */
int lb_runner_push_raw(struct lb_runner *r, int source, int type, int64_t at_ms,
                       char *body, size_t len);
/* Commits the batch and submits the held actions. */
int lb_runner_flush(struct lb_runner *r);
/* Pushes a tick if the engine wants one at or before now. */
int lb_runner_tick(struct lb_runner *r, int64_t now);
/* Re-sends every in-flight action from its journaled request (restart;
 * call after the relist). They go out at the next flush. */
int lb_runner_redo_inflight(struct lb_runner *r);
/* Commits, then writes a snapshot of the engine at the last event. */
int lb_runner_snapshot(struct lb_runner *r);

/* Relist: turns one kind's list snapshot into events. An item whose
 * resourceVersion the engine already holds is not journaled (only the
 * differences become events); the end marker LIST_END carries every listed
 * "ns/name", so the engine deletes what vanished while nobody watched. */
struct lb_relist {
  char *group, *kind;
  struct lb_buf names; /* JSON strings, comma-separated */
  int64_t listed, journaled;
};
int lb_relist_begin(struct lb_relist *rl, const char *group, const char *kind);
/* ev: prepared list item (source LB_SRC_LIST); ownership moves here. */
int lb_relist_item(struct lb_runner *r, struct lb_relist *rl,
                   struct lb_event *ev);
int lb_relist_end(struct lb_runner *r, struct lb_relist *rl, int64_t now);
void lb_relist_release(struct lb_relist *rl);

#endif
