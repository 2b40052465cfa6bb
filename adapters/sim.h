/* sim.h — the embedded simulated cluster (`logbook sim`).
 *
 * An in-process stand-in for kube-apiserver + kubelets, deterministic for a
 * given seed: an object store with a global resourceVersion counter and
 * watch semantics, virtual time, and kubelets that move pods
 *   Pending(unscheduled) -> Pending(scheduled) -> Running(not ready) -> Ready
 * after configurable delays drawn from the seeded PRNG, restart a container
 * (restartCount+1, new containerID/imageID) when its image changes, and
 * finish terminating pods after a grace delay. Objects are kept as json-c
 * trees here (adapters may); bodies it emits look like what a real
 * apiserver returns (1.5-5 KB pods with managedFields, conditions,
 * containerStatuses ...).
 *
 * Time only moves when lb_sim_advance() is called. Nothing reads the wall
 * clock. The simulator is also the actuator backend (lb_sim_actuator):
 * submitted actions are executed at the next lb_sim_advance() in submission
 * order, each producing an outcome (and, on success, watch events).
 *
 * Files: sim.c (store, writes, watch, actuator; the pod state diagram and
 * transition table are at its top), sim_kubelet.c (pod lifecycle),
 * sim_util.c (PRNG, merge patch, managedFields, Status documents),
 * sim_int.h (private).
 *
 * Semantics worth knowing (they follow kube-apiserver):
 *  - Objects are keyed by (group, kind, namespace, name); list and every
 *    internal iteration are in (kind, namespace, name, group) order.
 *    Cluster-scoped kinds (Node, Namespace, CRDs, NodeImage, ...) have
 *    namespace ""; a namespaced object without one goes to "default".
 *  - Every write bumps the global resourceVersion and appends exactly one
 *    watch event, so resourceVersions in the watch log are consecutive. A
 *    patch or apply that changes nothing is answered 200 without a write
 *    (no rv bump, no event), as the apiserver does.
 *  - Status subresource: Pod, Node, Service, PVC, PV, Namespace, RC,
 *    ResourceQuota and every non-core kind. For them a main-resource write
 *    keeps .status, and a "status" patch changes only .status; for other
 *    kinds a "status" patch is 404. A merge patch carrying
 *    metadata.resourceVersion is a precondition (409 Conflict on mismatch);
 *    server fields (uid, name, namespace, creationTimestamp, generation,
 *    deletionTimestamp) cannot be patched.
 *  - metadata.generation: 1 at create, +1 on any change outside metadata
 *    and status (not for Pods, which stay at 1).
 *  - Deletion: scheduled pods get deletionTimestamp (now + grace) and
 *    vanish after terminate_ms; objects with metadata.finalizers stay until
 *    a patch empties the list; everything else is removed at once. A second
 *    delete of a terminating object answers 200 with no write. Removing an
 *    object deletes (background GC) every object whose ownerReferences
 *    name its uid and no other live owner.
 *  - Pods with spec.nodeName or a required node affinity on metadata.name
 *    (DaemonSet style) go to that node; if it is not a sim node the pod
 *    stays Pending with PodScheduled=False (Unschedulable). Others go to
 *    the least loaded node, ties to the lowest index.
 *  - A status patch on a pod cannot remove the kubelet's own conditions
 *    (PodScheduled, Initialized, ContainersReady, Ready): they are
 *    re-rendered in the same write, and Ready is recomputed from
 *    spec.readinessGates. Merge patch replaces lists, so send the full
 *    list of your own conditions; a strategic merge patch (actuator verb
 *    "spatch") merges conditions by type, containers by name, ... (see
 *    lb__sim_smerge in sim_int.h).
 *  - managedFields managers: "logbook" (actuator), "kubectl-client-side-
 *    apply" (lb_sim_apply), "kubectl-patch" (lb_sim_patch), "kubelet".
 */
#ifndef LB_SIM_H
#define LB_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "actuator.h"

struct lb_sim_opts {
  uint64_t seed;
  int64_t start_ms;        /* virtual epoch ms at start */
  int nodes;               /* fake nodes pods are bound to (3) */
  int64_t schedule_ms[2];  /* [min,max] delay create -> scheduled */
  int64_t start_ms_[2];    /* scheduled -> Running */
  int64_t ready_ms[2];     /* Running -> Ready */
  int64_t restart_ms[2];   /* image change -> container running again */
  int64_t terminate_ms[2]; /* deletion -> gone (scheduled pods) */
  int64_t action_ms;       /* latency of every API write (5) */
  int watch_window;        /* watch events kept for resuming (4096) */
  int create_nodes;        /* create Node objects sim-node-0..nodes-1 at
                              lb_sim_new, as ADDED events rv 1..nodes (1) */
};
/* Fills defaults. */
void lb_sim_opts_init(struct lb_sim_opts *o);

struct lb_sim;
int lb_sim_new(const struct lb_sim_opts *o, struct lb_sim **out);
void lb_sim_free(struct lb_sim *s);

int64_t lb_sim_now(const struct lb_sim *s);
/* Earliest virtual time at which something is scheduled to happen (kubelet
 * transition, queued action); INT64_MAX when idle. */
int64_t lb_sim_next_due(const struct lb_sim *s);
/* Runs everything due at or before to_ms, in time order (ties by the order
 * they were scheduled), then sets now = to_ms. */
void lb_sim_advance(struct lb_sim *s, int64_t to_ms);

/* kubectl-like user operations. Each returns 0 or an LB_E* code with a
 * message in *err (malloc'd, caller frees) and emits watch events. */
/* create-or-replace from a manifest (JSON); status, uid and
 * creationTimestamp are preserved on update. Unlike an actuator create, a
 * user create keeps a given .status for kinds other than Pod (handy to seed
 * fixtures). Errors: LB_EPARSE (not JSON, trailing data), LB_EINVAL (not an
 * object, no kind/apiVersion/metadata.name), LB_ENOMEM. */
int lb_sim_apply(struct lb_sim *s, const char *manifest, char **err);
/* JSON merge patch on an object (subresource "" or "status"). group NULL
 * matches any group. Errors: LB_ENOENT (no object, or no such
 * subresource), LB_EPARSE / LB_EINVAL (patch not JSON / not an object),
 * LB_ECONFLICT (metadata.resourceVersion precondition failed). */
int lb_sim_patch(struct lb_sim *s, const char *group, const char *kind,
                 const char *ns, const char *name, const char *sub,
                 const char *merge_patch, char **err);
/* Deletes (graceful for scheduled pods). group NULL matches any group.
 * LB_ENOENT when missing. */
int lb_sim_delete(struct lb_sim *s, const char *group, const char *kind,
                  const char *ns, const char *name, char **err);

/* Watch: delivers, in resourceVersion order, every event after *rv (a
 * decimal string; "" or "0" = from the oldest kept), advancing *rv. Calls
 * cb(ctx, type (LB_EV_ADDED/MODIFIED/DELETED), body, len, at_ms) with a
 * malloc'd body the callback owns. Returns 0, or LB_EGONE when *rv is older
 * than the kept window (the caller must relist), LB_EINVAL when *rv is not
 * a decimal number, LB_ERANGE when rv_size is too small. A cursor newer than
 * the last event delivers nothing. The callback may call into the
 * simulator (even write); events it causes are delivered in the same call. */
typedef void (*lb_sim_event_cb)(void *ctx, int type, char *body, size_t len,
                                int64_t at_ms);
int lb_sim_watch(struct lb_sim *s, char *rv, size_t rv_size, lb_sim_event_cb cb,
                 void *ctx);
/* Lists every object (all kinds, sorted by kind, namespace, name), calling
 * cb with type LB_EV_LISTED and at_ms = now; writes the list
 * resourceVersion to rv. The callback must not write to the simulator. */
int lb_sim_list(struct lb_sim *s, char *rv, size_t rv_size, lb_sim_event_cb cb,
                void *ctx);

/* The actuator backed by this simulator (owned by s). */
struct lb_actuator *lb_sim_actuator(struct lb_sim *s);

/* Fault injection: the nth action submitted from now (1 = the next one)
 * answers `status` (409, 429, 500, ... with a Status body whose reason
 * matches; 0 = transport failure, no body) without effect. */
void lb_sim_fault_action(struct lb_sim *s, int64_t nth, int status);

/* Counters for tests: how many times an *actuator action* with `verb`
 * ("create", "delete", "patch") on the object (kind, ns, name) executed
 * successfully (2xx; a 409 duplicate create or an injected fault does not
 * count), and in total. User-side calls (lb_sim_apply ...) and garbage
 * collection are not counted. */
int lb_sim_effects(const struct lb_sim *s, const char *verb, const char *kind,
                   const char *ns, const char *name);
int64_t lb_sim_total(const struct lb_sim *s, const char *verb);
/* Number of objects of a kind ("Pod") in ns (NULL = all namespaces) that
 * are not terminating; and of those, how many are Ready, and how many carry
 * label key=value (value NULL = any value). ready / with_label may be
 * NULL. */
int lb_sim_count_pods(const struct lb_sim *s, const char *ns, int *ready,
                      const char *label_key, const char *label_value,
                      int *with_label);
/* A copy of an object's JSON as last written (with managedFields; caller
 * frees), or NULL. group NULL matches any group. */
char *lb_sim_get(const struct lb_sim *s, const char *group, const char *kind,
                 const char *ns, const char *name);

#endif
