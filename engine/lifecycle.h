/* lifecycle.h — pod lifecycle hooks (kruise-spec §1.3) and the lifecycle
 * writer of the KruisePodReady readiness gate (§1.4), shared by every
 * workload that has spec.lifecycle (CloneSet now; Advanced StatefulSet and
 * Advanced DaemonSet (preDelete only) later). Pure: no clock, no I/O.
 *
 * State machine of label lifecycle.apps.kruise.io/state (each write also
 * sets annotation lifecycle.apps.kruise.io/timestamp = RFC 3339 of now):
 *
 *            create
 *              │
 *              ▼        no preNormal hook, or all-hooked
 *      PreparingNormal ─────────────────────────────────► Normal ◄────────┐
 *              ▲                                          │    │         │
 *              │ scale-up regret            delete,       │    │ in-place│
 *              │ (no markPodNotReady,       preDelete-    │    │ update, │
 *              │  not specified)            hooked        │    │ hooked  │
 *      PreparingDelete ◄──────────────────────────────────┘    ▼         │
 *              │ unhooked                             PreparingUpdate    │
 *              ▼                                 unhooked │    ▲         │
 *          (deleted)        in-place update, not hooked ──┤    │ further │
 *                                                         ▼    │ update  │
 *                                                     Updating │         │
 *                           completed, all-hooked ────────┼────┼────────►┤
 *                           completed, not all-hooked     ▼    │         │
 *                                                      Updated ┘         │
 *                                      all-hooked again ─────────────────┘
 *
 *   | from            | to              | when                | caller        |
 *   | (none)          | PreparingNormal | created             | pod_body      |
 *   | PreparingNormal | Normal          | refresh_state()     | refresh_pod   |
 *   | Normal, ""      | PreparingUpdate | MOVE (hooked)       | update_in_pl. |
 *   | Updated         | PreparingUpdate | MOVE + handlers     | update_in_pl. |
 *   | PreparingUpdate | Updating        | PROCEED (unhooked)  | update_in_pl. |
 *   | PreparingUpdate | Updated/Normal  | at update revision  | refresh_pod   |
 *   | Updating        | Updated/Normal  | update completed    | refresh_pod   |
 *   | Updated         | Normal          | all-hooked, no hook | refresh_pod   |
 *   | any active      | PreparingDelete | delete, hooked      | delete_some   |
 *   | PreparingDelete | PreparingNormal | scale-up regret     | scale_regret  |
 *   | PreparingDelete | (deleted)       | unhooked            | scale_predel. |
 * KruisePodReady follows the state: refresh_conds() and scale_predeleting()
 * write lb_lifecycle_podready_conds(). Callers are in cloneset.c
 * (update_in_pl. = update_in_place, scale_predel. = scale_predeleting).
 * Invariants: a pod whose state is set and not Normal is unavailable; a
 * PreparingDelete pod is never updated; KruisePodReady carries the key
 * preDeleteHook exactly while PreparingDelete (preDelete.markPodNotReady)
 * and preUpdateHook while PreparingUpdate/Updating (inPlaceUpdate.
 * markPodNotReady); the condition follows the state (written after it).
 */
#ifndef LB_LIFECYCLE_H
#define LB_LIFECYCLE_H

#include <stdint.h>

#include "obj.h"

#define LB_LC_PREPARING_NORMAL "PreparingNormal"
#define LB_LC_NORMAL "Normal"
#define LB_LC_PREPARING_UPDATE "PreparingUpdate"
#define LB_LC_UPDATING "Updating"
#define LB_LC_UPDATED "Updated"
#define LB_LC_PREPARING_DELETE "PreparingDelete"
#define LB_COND_KRUISE_POD_READY "KruisePodReady"

/* One hook: LifecycleHook{labelsHandler, finalizersHandler, markPodNotReady} */
struct lb_lifecycle_hook {
  int set;            /* the hook is configured */
  char *labels;       /* labelsHandler, packed kv (never NULL once parsed) */
  char *finalizers;   /* finalizersHandler, packed list */
  int mark_not_ready; /* markPodNotReady */
};

struct lb_lifecycle {
  struct lb_lifecycle_hook pre_delete, in_place_update, pre_normal;
};

/* Parses spec.lifecycle JSON (NULL or "" = no hooks). Returns 0, LB_EPARSE
 * (not an object; *why static) or LB_ENOMEM. Release with
 * lb_lifecycle_release even on error. */
int lb_lifecycle_parse(const char *json, struct lb_lifecycle *out,
                       const char **why);
void lb_lifecycle_release(struct lb_lifecycle *lc);

/* The pod's state label, "" when absent (borrowed). */
const char *lb_lifecycle_state(const struct lb_pod *p);
/* Hooked: the pod carries ANY handler label (exact value) or finalizer.
 * All-hooked: it carries ALL of them. An unset hook is neither. */
int lb_lifecycle_hooked(const struct lb_lifecycle_hook *h,
                        const struct lb_pod *p);
int lb_lifecycle_all_hooked(const struct lb_lifecycle_hook *h,
                            const struct lb_pod *p);
/* Whether any hook has markPodNotReady (then no scale-up regret). */
int lb_lifecycle_marks_not_ready(const struct lb_lifecycle *lc);
/* Names the handlers still on the pod, for reasons: "labels a=b; finalizers
 * f" (appended to out). */
void lb_lifecycle_describe_hooked(const struct lb_lifecycle_hook *h,
                                  const struct lb_pod *p, struct lb_buf *out);

/* Merge-patch body moving p to `state` at now (label + timestamp). With
 * `reapply` (may be NULL) also its handler labels and, when the pod lacks
 * some, the full finalizer list with a resourceVersion precondition.
 * Caller frees; NULL on allocation failure. */
char *lb_lifecycle_state_patch(const struct lb_pod *p, const char *state,
                               int64_t now,
                               const struct lb_lifecycle_hook *reapply);

/* The state refresh moves p to, or NULL: PreparingNormal -> Normal; a
 * PreparingUpdate pod already at the update revision -> Updated/Normal;
 * Updating with the update completed -> Updated (not all-hooked) / Normal;
 * Updated -> Normal when all-hooked (or no inPlaceUpdate hook). */
const char *lb_lifecycle_refresh_state(const struct lb_lifecycle *lc,
                                       const struct lb_pod *p,
                                       int at_update_rev, int completed);

/* What an in-place update of p needs from the lifecycle first. */
enum {
  LB_LIFECYCLE_PROCEED = 0, /* go on with the update (state -> Updating) */
  LB_LIFECYCLE_MOVE,        /* write PreparingUpdate first (*reapply) */
  LB_LIFECYCLE_WAIT         /* hooked in PreparingUpdate: wait */
};
int lb_lifecycle_before_update(const struct lb_lifecycle *lc,
                               const struct lb_pod *p,
                               const struct lb_lifecycle_hook **reapply);

/* KruisePodReady (§1.4): the lifecycle's not-ready keys for `state`
 * written as the condition message, a JSON list of {userAgent,key} ("[]"
 * when none), appended to msg; returns the number of keys. */
int lb_lifecycle_podready_message(const struct lb_lifecycle *lc,
                                  const char *state, struct lb_buf *msg);
/* Appends to conds (a comma-separated list of condition objects, for a
 * status strategic-merge patch) the KruisePodReady condition p should have
 * when its status differs from what the pod shows (absent counts as
 * different; only pods with the gate). Setting it False also flips Ready
 * False. Returns 1 when something was appended. */
int lb_lifecycle_podready_conds(const struct lb_lifecycle *lc,
                                const struct lb_pod *p, int64_t now,
                                struct lb_buf *conds);
/* Whether lb_lifecycle_podready_conds would append anything for p (the
 * pod has the gate and its KruisePodReady differs from what its state
 * asks): the same rule without the body, for the CloneSet aggregates. */
int lb_lifecycle_podready_due(const struct lb_lifecycle *lc,
                              const struct lb_pod *p);

#endif
