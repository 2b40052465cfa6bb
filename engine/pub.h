/* pub.h — PodUnavailableBudget (kruise-spec §7): the status controller,
 * the disruption ledger, the admission check and the check workloads call
 * before they disrupt a pod. Pure engine code.
 *
 * Upstream serializes concurrent webhook calls with a per-PUB mutex and
 * conflict retries on the status. Here the engine is single-threaded and
 * journaled, so the mutex becomes the engine's own ledger:
 *
 *   review (DELETE / eviction / UPDATE of a covered pod)
 *     │ lb_pub_check: calc from state + ledger ──► allowed <= 0 ─► deny 403
 *     │                                          "pub unavailable allowed
 *     ▼                                           is negative"
 *   record pod in the PUB's ledger at ev->at_ms   (engine state, at once:
 *     │                                            the next review of the
 *     │                                            same batch sees it)
 *     ▼
 *   decision [RESPOND allowed, PATCH pub/status]  (one decision: the status
 *     │                                            write is journaled with
 *     │                                            the verdict)
 *     ▼
 *   PUB reducer (every later fold): ledger entries expire (disrupted 20 s,
 *   unavailable 10 s, or when the pod is gone/terminating) ──► status patch
 *   when the numbers or maps differ from what the apiserver holds; wakeup
 *   at the earliest expiry.
 *
 *   | ledger entry        | added by                       | removed when | |
 * disruptedPods[pod]  | lb_pub_check DELETE/EVICT,     | pod inactive/gone,| |
 * | lb_pub_workload_allows DELETE  | or at + 20 s      | |
 * unavailablePods[pod]| lb_pub_check UPDATE,           | pod inactive/gone,| |
 * | lb_pub_workload_allows UPDATE  | or at + 10 s      | Invariant: a pod in
 * either map is never counted available; the ledger is a superset of the
 * observed status maps (engine.c merges them on update).
 *
 * Expected replica count (totalReplicas): the annotation
 * pub.kruise.io/protect-total-replicas when set; else for a targetRef the
 * target's spec.replicas (CloneSet, Deployment, ReplicaSet, StatefulSet,
 * Advanced StatefulSet, UnitedDeployment from engine state; any other kind
 * is not tracked: no pods covered, the reason says so); for a selector the
 * sum of spec.replicas over the distinct top owners of the selected pods
 * (a ReplicaSet owned by a Deployment counts as its Deployment), plus one
 * per pod without a controller; a pod whose owner chain reaches an owner
 * not in state (deleted — a ReplicaSet whose Deployment is gone — or a kind
 * logbook does not track, e.g. DaemonSet, Job, Argo Rollout) adds nothing:
 * use the annotation for those.
 */
#ifndef LB_PUB_H
#define LB_PUB_H

#include "obj.h"
#include "reducer.h"

#define LB_ANNO_RELATED_PUB "kruise.io/related-pub"
#define LB_ANNO_PUB_NO_PROTECT "pub.kruise.io/no-protect"
#define LB_PUB_DISRUPTED_MS 20000   /* disruptedPods expiry */
#define LB_PUB_UNAVAILABLE_MS 10000 /* unavailablePods expiry */
#define LB_PUB_MAX_RECORDS 2000     /* disrupted + unavailable */

/* The numbers of one PUB at c->now. */
struct lb_pub_calc {
  int total;          /* expected replicas (totalReplicas) */
  int desired;        /* desiredAvailable */
  int current;        /* currentAvailable */
  int allowed;        /* unavailableAllowed = max(current - desired, 0) */
  int covered;        /* active pods covered */
  int untargetable;   /* targetRef names a kind the engine does not track */
  int64_t recheck_ms; /* earliest ledger expiry, 0 = none */
  char *disrupted, *unavailable; /* ledger after expiry (packed kv) */
};

/* desiredAvailable per §7 (maxUnavailable ceil, minAvailable as-is or
 * percent ceil; >= 0). */
int lb_pub_desired(const struct lb_pub *p, int total);
/* Whether the PUB covers pod (targetRef owner chain or selector). */
int lb_pub_covers(struct lb_rctx *c, const struct lb_pub *p,
                  const struct lb_pod *pod);
/* The first PUB (by name) in the pod's namespace covering it, or NULL. */
struct lb_pub *lb_pub_for_pod(struct lb_rctx *c, const struct lb_pod *pod);
/* Computes k (caller releases). Returns 0 or LB_ENOMEM. */
int lb_pub_calc(struct lb_rctx *c, const struct lb_pub *p,
                struct lb_pub_calc *k);
void lb_pub_calc_release(struct lb_pub_calc *k);
/* Merge patch for pub/status: the numbers, the maps (removed entries as
 * null), observedGeneration. Caller frees; NULL on allocation failure. */
char *lb_pub_status_patch(const struct lb_pub *p, const struct lb_pub_calc *k);
/* Whether the status the apiserver holds already says k. */
int lb_pub_status_equal(const struct lb_pub *p, const struct lb_pub_calc *k);

/* The webhook decrement (§7). pod is the pod evaluated (the old pod for
 * UPDATE), op one LB_PUB_OP_*. Returns 1 allowed, 0 denied, < 0 error;
 * why gets the rule and numbers. When allowed by recording a disruption
 * (not dry_run), *recorded = the PUB whose ledger now holds the pod (the
 * caller adds its status patch to the verdict decision). */
int lb_pub_check(struct lb_rctx *c, const struct lb_pod *pod, int op,
                 int dry_run, struct lb_pub **recorded, struct lb_buf *why);

/* For workload reducers, before they delete (op DELETE) or update (op
 * UPDATE) a pod: the same check when the matching gate is on; a recorded
 * disruption marks the PUB for reconcile (it writes the status). Returns 1
 * go on, 0 hold (the reason says why and a wakeup in 1 s is set), < 0
 * error. */
int lb_pub_workload_allows(struct lb_rctx *c, const struct lb_pod *pod, int op);

/* Validation of a PUB under review (CREATE/UPDATE): selector XOR
 * targetRef, maxUnavailable XOR minAvailable, ranges, immutability of
 * selector/targetRef, no other PUB on the same workload or an overlapping
 * selector. obj/old are the review's objects (old NULL on CREATE). */
struct lb_ferrs;
struct json_object;
int lb_pub_validate(struct lb_rctx *c, struct json_object *obj,
                    struct json_object *old, struct lb_ferrs *fe);

#endif
