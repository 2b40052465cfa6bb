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

/* --- aggregates (cloneset_agg.c) ----------------------------------------
 * The counts one reconcile needs, kept per CloneSet by the fold so that a
 * reconcile with nothing to do on any pod costs O(1) instead of O(pods).
 * Derived state: not in snapshots or the digest; built from all pods by the
 * first reconcile that wants it and whenever what it was computed for (the
 * update revision, podsToDelete, minReadySeconds, spec.lifecycle, the
 * PreparingUpdateAsUpdate gate) no longer matches the CloneSet, or time went
 * back. Every rule is lb__cs_classify(), which collect() calls too. */

/* Class bits of one owned pod (0 for an inactive pod). */
enum {
  LB_CSC_ACTIVE = 1 << 0,      /* lb_pod_active */
  LB_CSC_NEW = 1 << 1,         /* at the update revision */
  LB_CSC_SCALE_NEW = 1 << 2,   /* new for the scale arithmetic */
  LB_CSC_PREDELETING = 1 << 3, /* lifecycle PreparingDelete */
  LB_CSC_TO_DELETE = 1 << 4,   /* specified-delete label or podsToDelete */
  LB_CSC_READY = 1 << 5,       /* Ready and Running */
  LB_CSC_CAND = 1 << 6,        /* available once Ready for minReadySeconds */
  LB_CSC_QUIET = 1 << 7,       /* refresh_pod() acts and says nothing,
                                  whatever the time and the calculation */
  LB_CSC_GRACE = 1 << 8,       /* in-place grace record (a timed wakeup) */
  LB_CSC_LC = 1 << 9           /* QUIET was computed (lc given) */
};
struct lb_lifecycle;
/* The class of p at update_rev, pods_to_delete the CloneSet's packed
 * scaleStrategy.podsToDelete; puau = the PreparingUpdateAsUpdate
 * gate; lc = the CloneSet's parsed lifecycle, or NULL to leave QUIET out.
 * Pure: depends on nothing else (not on time). */
unsigned lb__cs_classify(const char *pods_to_delete, const struct lb_pod *p,
                         const char *update_rev, int puau,
                         const struct lb_lifecycle *lc);

/* Index of the counters by class: NEW | SCALE_NEW | PREDELETING |
 * TO_DELETE, shifted down to 0..15. */
#define LB_CSC_IDX(bits) (((bits) >> 1) & 15u)

struct lb_cs_pending { /* a Ready pod not yet Ready for minReadySeconds */
  int64_t due;         /* ready_ms + minReadySeconds */
  const struct lb_pod *pod;
  unsigned bits;
};
struct lb_cs_agg {
  int valid; /* 0: rebuild before use (built for other inputs, or
                an allocation failed in the fold) */
  char *rev; /* update revision it was built for */
  char *pods_to_delete, *lifecycle_json; /* copies of what it was built for */
  int min_ready_seconds, puau;
  struct lb_lifecycle *lc; /* lifecycle_json parsed (malformed: no hooks) */
  int64_t settled_at;      /* Ready pods with due <= this are in av[] */
  /* >= the due of every pod in av[]: av[] is right for any now >= max_due
   * (a reconcile at an earlier now, time having gone back, rebuilds) */
  int64_t max_due;
  int n[16];  /* active pods by LB_CSC_IDX */
  int av[16]; /* available pods (as of settled_at) by LB_CSC_IDX */
  int ready_old, ready_new; /* Ready and Running, by NEW */
  int not_quiet;            /* active pods refresh may act on */
  int grace;                /* active pods with an in-place grace record */
  /* owned pods (active or not) by the short hash of their revision label
   * (what lb_rev_gc() asks: is a revision still carried by a pod) */
  struct lb_cs_revcount {
    char *hash;
    int n;
  } * revs;
  size_t n_revs, cap_revs;
  struct lb_cs_pending *pend; /* Ready pods with due > settled_at, sorted
                                 by (due, name) */
  size_t n_pend, cap_pend;
};
/* Fold hooks (engine.c): p joins or leaves cs->pods. Never fail: an
 * allocation failure only invalidates the aggregates. */
void lb__cs_agg_pod_add(struct lb_cloneset *cs, struct lb_pod *p);
void lb__cs_agg_pod_del(struct lb_cloneset *cs, struct lb_pod *p);
void lb__cs_agg_free(struct lb_cs_agg *a);
/* Makes cs->agg valid for these inputs and settled at now (pending pods
 * due by now counted available). Returns 0 or LB_ENOMEM. */
int lb__cs_agg_sync(struct lb_cloneset *cs, const char *update_rev, int puau,
                    int64_t now);
/* check_aggregates: recomputes a valid cs->agg from all pods (same inputs,
 * same settled_at) and compares; 0 when equal, LB_EINVAL (after
 * LB_ALWAYS) when the fold let them drift, LB_ENOMEM. */
int lb__cs_agg_check(const struct lb_cloneset *cs);
/* Owned pods whose revision label has this short hash (the part after the
 * last '-'), or -1 when cs->agg is not valid (then count them). */
int lb__cs_agg_rev_pods(const struct lb_cloneset *cs, const char *short_hash);

#endif
