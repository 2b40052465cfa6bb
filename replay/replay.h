/* replay.h — offline tools over a journal: verify by replay, explain one
 * object's causal chain, print audit queries.
 *
 * Replay runs the live code path (lb_engine_apply) over the journaled
 * events and compares every decision it makes with the recorded one, byte
 * for byte (canonical form) and by hash chain.
 */
#ifndef LB_REPLAY_H
#define LB_REPLAY_H

#include <stdint.h>
#include <stdio.h>

#include "../engine/engine.h"
#include "../store/journal.h"

struct lb_replay_opts {
  int64_t from_snapshot;        /* <0: from the start; else latest snapshot with
                                   seq <= this value (INT64_MAX: latest) */
  int64_t to_seq;               /* <0: to the end; else stop after this event */
  struct lb_engine_opts engine; /* what-if overrides */
  int verify;                   /* compare with recorded decisions (1) */
};
#define LB_REPLAY_OPTS_INIT                                                    \
  { -1, -1, LB_ENGINE_OPTS_INIT, 1 }

struct lb_replay_result {
  int64_t events;    /* events replayed */
  int64_t decisions; /* decisions produced (and verified) */
  int64_t start_seq; /* first event replayed */
  uint64_t digest;   /* state digest at the end */
  uint64_t chain;    /* last chain value */
  /* divergence (rc == LB_EDIVERGED) */
  int64_t div_event_seq, div_decision_seq;
  char *recorded; /* canonical text, or NULL (none recorded) */
  char *replayed; /* canonical text, or NULL (none produced) */
};
void lb_replay_result_release(struct lb_replay_result *r);

/* Replays; *engine_out (if non-NULL) receives the engine (caller frees).
 * Returns 0, LB_EDIVERGED (first divergence in res), or an error. */
int lb_replay_run(struct lb_journal *j, const struct lb_replay_opts *o,
                  struct lb_replay_result *res, struct lb_engine **engine_out);

/* Prints the events -> decisions -> actions -> outcomes that touched
 * kind/ns/name, in order, with each decision's reason. Returns 0 or
 * LB_ENOENT when the journal never saw the object. */
int lb_explain(struct lb_journal *j, const char *kind, const char *ns,
               const char *name, FILE *out);

/* Runs sql and prints an aligned table (or an error). */
int lb_query_print(struct lb_journal *j, const char *sql, FILE *out);

#endif
