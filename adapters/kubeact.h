/* kubeact.h — the actuator backed by the kube-apiserver.
 *
 *   submit ──► REQUEST ──2xx/4xx (not 429)──► outcome (final)
 *                │
 *                └─429 / 5xx / transport──► RETRY event, wait
 *                     max(Retry-After, backoff 200 ms doubling to 30 s)
 *                     ──► REQUEST again (same body, same preconditions)
 *                     after 8 attempts ──► outcome (final, last status)
 *
 * A 409 Conflict is final: the reducer decides again from fresh state
 * (never a blind retry). Retrying 429/5xx/transport failures is safe
 * because every action is idempotent at the server (see runner.h).
 * Verbs: create = POST to the collection; patch / spatch / jpatch = PATCH
 * with application/merge-patch+json, strategic-merge-patch+json or
 * json-patch+json (on the subresource when set); delete = DELETE with
 * DeleteOptions: the action's body (e.g. a resourceVersion precondition)
 * plus the uid precondition. RESPOND never reaches this backend.
 */
#ifndef LB_KUBEACT_H
#define LB_KUBEACT_H

#include <stdint.h>
#include <uv.h>

#include "actuator.h"
#include "kube.h"

struct lb_kubeact {
  struct lb_actuator act; /* first: the runner sees this */
  struct lb_kube *k;
  uv_loop_t *loop;
  int max_attempts;           /* (8) */
  int inflight;               /* requests not yet finally answered */
  int64_t done_by_verb[8][6]; /* [verb][status class] final outcomes */
  int64_t retries;
};

void lb_kubeact_init(struct lb_kubeact *ka, uv_loop_t *loop, struct lb_kube *k);

#endif
