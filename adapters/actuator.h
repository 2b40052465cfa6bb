/* actuator.h — how decided actions reach the world, and how their outcomes
 * come back.
 *
 * The runner hands each action of a *committed* decision to submit(). The
 * backend executes it (the simulated cluster now; the kube-apiserver over
 * libcurl next) and later reports exactly one outcome per action through
 * the on_outcome callback the runner installed. The outcome becomes an
 * `outcome` event in the journal: HTTP status plus the body the server
 * returned (the object, or a Status document on error).
 *
 * Backends must be idempotent-safe rather than retrying blindly: a create
 * whose name exists answers 409, a delete whose uid precondition fails
 * answers 409, and the reducer decides again from fresh state.
 */
#ifndef LB_ACTUATOR_H
#define LB_ACTUATOR_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/decision.h"

struct lb_outcome {
  int64_t action_id; /* the action answered */
  int http_status;   /* 200/201/404/409/...; 0 = transport failure */
  char *body;        /* returned object or Status JSON (malloc'd; the
                        callback takes ownership); may be NULL */
  size_t body_len;
  int64_t at_ms; /* when the outcome was observed (backend clock) */
};

typedef void (*lb_outcome_cb)(void *ctx, const struct lb_action *a,
                              struct lb_outcome *out);

struct lb_actuator {
  const char *name; /* "sim", "apiserver" */
  /* Queues a for execution; a is borrowed (copy what is kept). Returns 0 or
   * LB_ENOMEM; execution errors are reported as outcomes, never here. */
  int (*submit)(struct lb_actuator *self, const struct lb_action *a);
  lb_outcome_cb on_outcome; /* set by the runner */
  /* An attempt that failed in a retryable way (429, 5xx, transport) and
   * will be retried by the backend: journaled as a RETRY event, which the
   * engine does not fold (the action stays in flight). May be NULL. */
  lb_outcome_cb on_retry;
  void *ctx; /* passed to on_outcome */
};

#endif
