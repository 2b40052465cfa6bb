/* nodesim.h — `logbook nodesim`: fake kubelets for a real kube-apiserver
 * (like KWOK). It registers Nodes sim-node-0..N-1 (Ready), binds pending
 * pods to them, and reports each pod through pods/status:
 *
 *   pending ──bind──► scheduled ──start──► running (not ready)
 *      ──ready──► ready ──spec image changed──► restarting (not ready)
 *      ──restart (restartCount+1, new containerID/imageID)──► running ...
 *   deletionTimestamp set ──terminate──► DELETE (grace 0) ──► gone
 *
 * Ready is True only when every spec.readinessGates condition is True in
 * the pod's status and no container image is tagged "broken" (a pull that
 * never succeeds, for rollouts that must stop); conditions written by others
 * are preserved. Pods on nodes it does not own are left alone. Delays are drawn
 * from a seeded PRNG; wall-clock timers drive them.
 */
#ifndef LB_NODESIM_H
#define LB_NODESIM_H

#include <stdint.h>

struct lb_nodesim_opts {
  const char *kubeconfig;
  int nodes;       /* (3) */
  uint64_t seed;   /* (1) */
  int delay_ms[2]; /* [min,max] of every step (100, 600) */
};
void lb_nodesim_opts_init(struct lb_nodesim_opts *o);
int lb_nodesim_run(const struct lb_nodesim_opts *o);

#endif
