/* cloneset.h — the CloneSet controller (kruise-spec §3): pure arithmetic
 * and orderings, exported for table tests; the reconcile is in cloneset.c.
 *
 * Pod lifecycle as driven by this reducer:
 *
 *   create ──► PreparingNormal ──refresh (no preNormal hook)──► Normal
 *                                                               │
 *            ┌──────────── update (ReCreate): label ◄───────────┤
 *            ▼             apps.kruise.io/specified-delete      │
 *   specified-delete ──delete (deleteReadyLimit)──┐             │
 *                                                 ▼             │
 *                             terminating ──► gone  ◄── scale-in victim
 *
 *   | from             | to               | performed by            |
 *   | (none)           | PreparingNormal  | scale_up()  create      |
 *   | PreparingNormal  | Normal           | refresh()   patch label |
 *   | Normal           | specified-delete | update()    patch label |
 *   | specified-delete | terminating      | scale()     delete      |
 *   | any active       | terminating      | scale_down() delete     |
 * Invariants: a pod with an action in flight is never acted on again; at
 * most one of scale / refresh / update acts in one reconcile; pods at the
 * update revision are never labelled for deletion by update().
 */
#ifndef LB_CLONESET_H
#define LB_CLONESET_H

#include <stdint.h>

#include "obj.h"

#define LB_LABEL_REVISION "controller-revision-hash"
#define LB_LABEL_TEMPLATE_HASH "pod-template-hash"
#define LB_LABEL_INSTANCE_ID "apps.kruise.io/cloneset-instance-id"
#define LB_LABEL_SPECIFIED_DELETE "apps.kruise.io/specified-delete"
#define LB_LABEL_LIFECYCLE "lifecycle.apps.kruise.io/state"
#define LB_ANNO_LIFECYCLE_TS "lifecycle.apps.kruise.io/timestamp"
/* On a CloneSet (§0.2): scale counts leave PreparingDelete pods out. */
#define LB_LABEL_EXCLUDE_PREDELETE                                             \
  "apps.kruise.io/cloneset-scaling-exclude-preparing-delete"
/* Upstream feature gates are manager flags; logbook has no journaled gate
 * settings yet, so a gate is switched on per CloneSet by the label
 * gates.logbook.io/<Gate>=true (in the journal with the object, so replay
 * sees it). PreparingUpdateAsUpdate: a PreparingUpdate pod counts as
 * updated in the scale arithmetic (§16.1 scenario 13). */
#define LB_GATE_PREPARING_UPDATE_AS_UPDATE                                     \
  "gates.logbook.io/PreparingUpdateAsUpdate"
/* PreDownloadImageForInPlaceUpdate: ImagePullJobs for an in-place rollout
 * (cloneset_predownload.c; §16.1 scenario 14). */
#define LB_GATE_PREDOWNLOAD "gates.logbook.io/PreDownloadImageForInPlaceUpdate"
/* On ControllerRevisions: pre-download decided for this revision. */
#define LB_LABEL_PREDOWNLOAD_CREATED "apps.kruise.io/pre-predownload-created"
#define LB_LABEL_PREDOWNLOAD_IGNORED "apps.kruise.io/image-predownload-ignored"

/* Partition per spec §1.2: percent rounds up; a percent other than 100%
 * that resolves to all of replicas (>1) keeps one pod for the update;
 * clamped to [0, replicas]. */
int lb_cs_partition(const struct lb_intstr *p, int replicas);

/* Inputs of the one function that drives scale and update (§3.4). */
struct lb_cs_calc_in {
  int replicas;
  struct lb_intstr partition, max_surge, max_unavailable, scale_max_unavailable;
  int paused;
  int n_pods; /* active pods */
  /* per revision class (new = at update revision, old = others) */
  int new_total, new_predeleting, new_to_delete, new_unavailable;
  int old_total, old_predeleting, old_to_delete, old_unavailable;
  /* the CloneSet label apps.kruise.io/cloneset-scaling-exclude-preparing-
   * delete=true: PreparingDelete pods are left out of the current counts
   * that scale compares with replicas (a specified deletion held by a
   * preDelete hook is then replaced at once, §16.1 scenario 5) */
  int exclude_predeleting;
};

struct lb_cs_calc {
  int partition, max_surge, max_unavailable;
  int scale_max_unavailable; /* -1 = unlimited */
  int total_unavailable;
  int update_old_diff, update_new_diff;
  int use_surge, use_surge_old;
  int expected_total, expected_old;
  int scale_up, scale_up_old, scale_up_limited;
  int scale_down, scale_down_old;
  int delete_ready_limit;
  int update_num, update_max_unavailable;
};

void lb_cs_calc(const struct lb_cs_calc_in *in, struct lb_cs_calc *out);

/* Per-pod facts the orderings need, computed once per reconcile. */
struct lb_cs_podinfo {
  struct lb_pod *pod;
  int is_new;      /* at update revision */
  int scale_new;   /* counted as new by the scale arithmetic: is_new, or
                      PreparingUpdate under PreparingUpdateAsUpdate */
  int available;   /* ready >= minReadySeconds and lifecycle Normal */
  int predeleting; /* lifecycle PreparingDelete */
  int to_delete;   /* specified-delete label or in podsToDelete */
  int node_rank;   /* other pods of the set on the same node */
  /* set by the CloneSet reconcile's collect(), for its later passes */
  int ready;        /* Ready and Running */
  int refresh_idle; /* refresh_pod() would find nothing to do or say */
};
/* qsort comparators: scale-in victims first; update candidates first. */
int lb_cs_cmp_victim(const void *a, const void *b);
int lb_cs_cmp_update(const void *a, const void *b);

/* Upstream HashControllerRevision-style name suffix: FNV-1 32-bit (Go's
 * fnv.New32) of data and the collision count, encoded in the safe
 * alphabet. out >= 16 bytes. */
void lb_cs_revision_hash(const char *data, int collision_count, char *out,
                         size_t n);

/* On CloneSets (kruise-spec §0.2): image pre-download tuning. */
#define LB_ANNO_PREDOWNLOAD_PARALLELISM                                        \
  "apps.kruise.io/image-predownload-parallelism"
#define LB_ANNO_PREDOWNLOAD_TIMEOUT                                            \
  "apps.kruise.io/image-predownload-timeout-seconds"
#define LB_ANNO_PREDOWNLOAD_MIN_READY                                          \
  "apps.kruise.io/image-predownload-min-updated-ready-pods"

/* The three annotations as the pre-download uses them. A value that is
 * absent takes the default silently; one that is present but unusable
 * takes the default too and is named, with the rule it broke, in `notes`
 * (for the decision's reason). */
struct lb_cs_pd_opts {
  int parallelism;       /* ImagePullJob spec.parallelism: >= 1, default 1 */
  int timeout_seconds;   /* spec.pullPolicy.timeoutSeconds: >= 1, default 300 */
  int min_updated_ready; /* updated ready pods before the jobs are created,
                            resolved against replicas (percent rounds up);
                            default 0 */
  char notes[512];       /* "" when every present value was used */
};
/* annos: a packed kv (NULL = none); replicas: spec.replicas. Never fails. */
void lb_cs_predownload_opts(const char *annos, int replicas,
                            struct lb_cs_pd_opts *out);

struct lb_rctx;
/* Image pre-download (cloneset_predownload.c), called on every reconcile:
 * - current == update revision: deletes the CloneSet's ImagePullJobs (the
 *   ones whose controller owner is this CloneSet, any revision);
 * - otherwise, with the gate label, while the update revision carries
 *   neither predownload label: waits for min-updated-ready-pods, then
 *   either creates one ImagePullJob per changed container and labels the
 *   revision pre-predownload-created, or labels it image-predownload-ignored
 *   (ReCreate, replicas <= 3, one batch, not in place).
 * Every step says why in the reason. Returns 0 or LB_ENOMEM. */
int lb__cs_predownload(struct lb_rctx *c, struct lb_cloneset *cs,
                       const char *current_rev, const char *update_rev);

#endif
