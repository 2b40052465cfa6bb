/* inplace.h — the in-place update engine (kruise-spec §2), shared by every
 * workload that updates pods in place (CloneSet now; Advanced StatefulSet,
 * Advanced DaemonSet and SidecarSet later). Pure: no clock, no I/O; every
 * function returns patch bodies for the caller to emit as actions.
 *
 * The update of one pod is a level-triggered state machine across
 * reconciles: each reconcile looks at the pod as the engine last saw it
 * (lb_inplace_phase) and emits at most one action for it; the engine's
 * in-flight accounting holds the workload until its outcome is folded.
 *
 *   update() picks the pod and lb_inplace_diff() says in place
 *          │ (1) status spatch: InPlaceUpdateReady=False
 *          ▼     (reason StartInPlaceUpdate) and Ready=False
 *   NONE ─► STARTED  (condition False, revision label still old)
 *    ▲      │ (2) spatch: revision labels, lifecycle Updating,
 *    │      │     inplace-update-state, metadata changes, and either
 *    │      ├── grace > 0: the grace record ──► GRACE
 *    │      │                  (now >= ts + grace: spatch the images,
 *    │      │                   drop the record) ──┐
 *    │      └── grace = 0: first priority batch ───┴──► RUNNING ◄──┐
 *    │                      batch restarted, next* pending │       │
 *    │                                                     ▼       │
 *    │                            NEXT ─(2b) spatch next batch ────┘
 *    │                      completion check holds (RUNNING ─►) DONE
 *    └── (3) status spatch InPlaceUpdateReady=True ◄─────────────┘
 *        (lifecycle Updating -> Updated/Normal follows, lifecycle.h)
 *
 *   | phase   | seen on the pod                   | next step, by        |
 *   | NONE    | condition not False, no grace     | (1) start_patch,     |
 *   |         |                                   |     update()         |
 *   | STARTED | condition False, revision not the | (2) update_patch,    |
 *   |         | target                            |     update()         |
 *   | GRACE   | inplace-update-grace annotation   | grace_patch when due,|
 *   |         |                                   |     refresh()        |
 *   | RUNNING | state of this revision, not done  | wait for the kubelet |
 *   | NEXT    | batch done, nextContainerImages   | (2b) next_patch,     |
 *   |         |                                   |     refresh()        |
 *   | DONE    | condition False, state complete   | (3) ready_conds,     |
 *   |         |                                   |     refresh()        |
 * (lb_inplace_* functions; update()/refresh() are CloneSet's callers.)
 * A pod that is STARTED but no longer wanted (its revision is the target
 * again, or the update was paused / reached its partition) goes back to
 * NONE by (3) as well ("cancelled"). Invariants (lb_inplace_assert_phase):
 * GRACE and RUNNING pods carry a state annotation whose revision equals
 * their revision label; STARTED and DONE pods have the condition False; a
 * pod in any phase but NONE counts as unavailable.
 *
 * Completion (§2, fallback rule; runtime-containers-meta needs the node
 * daemon): no grace record, no next* pending, and every container recorded
 * in lastContainerStatuses shows a status whose imageID differs from the
 * recorded one or whose image equals the spec image.
 */
#ifndef LB_INPLACE_H
#define LB_INPLACE_H

#include <stddef.h>
#include <stdint.h>

#include "obj.h"

#define LB_COND_INPLACE_READY "InPlaceUpdateReady"
#define LB_ANNO_INPLACE_STATE "apps.kruise.io/inplace-update-state"
#define LB_ANNO_INPLACE_GRACE "apps.kruise.io/inplace-update-grace"
/* the same annotations under their pre-prefix names (read, never written) */
#define LB_LEGACY_STATE "inplace-update-state"
#define LB_LEGACY_GRACE "inplace-update-grace"
#define LB_ENV_CONTAINER_PRIORITY "KRUISE_CONTAINER_PRIORITY"
#define LB_ANNO_LAUNCH_PRIORITY "apps.kruise.io/container-launch-priority"

/* --- the revision diff -------------------------------------------------- */
struct lb_inplace_img {
  char *name;   /* container name */
  char *image;  /* new image */
  int priority; /* launch priority (§11): higher updates first, or
                   LB_INPLACE_NO_PRIORITY: then it goes with the first
                   batch, as upstream's nil priority does */
};
#define LB_INPLACE_NO_PRIORITY (-2147483647 - 1)

struct lb_inplace_diff {
  int in_place;  /* only image replacements and metadata changes */
  char why[256]; /* not in place: the first disqualifying change */
  struct lb_inplace_img *imgs; /* containers whose image changes, by order */
  size_t n_imgs;
  char *meta_patch; /* {"labels":{..},"annotations":{..}} merge patch of the
                       template metadata (removed keys null), or NULL */
};

/* Diffs two pod templates (JSON text; key order does not matter). Only
 * spec.containers[i].image replacements (same names, same order) and
 * changes of metadata.labels / metadata.annotations are in place; anything
 * else sets in_place = 0 with a reason in why. Returns 0, LB_EPARSE (a
 * template is not a JSON object) or LB_ENOMEM. Release with
 * lb_inplace_diff_release (also after an error). */
int lb_inplace_diff(const char *old_template, const char *new_template,
                    struct lb_inplace_diff *out);
void lb_inplace_diff_release(struct lb_inplace_diff *d);

/* --- apps.kruise.io/inplace-update-state ------------------------------- */
struct lb_inplace_state {
  char *revision;       /* "revision" */
  int64_t update_ms;    /* "updateTimestamp" (RFC 3339) */
  char *last;           /* "lastContainerStatuses": packed kv name->imageID */
  int update_images;    /* "updateImages" */
  char *next;           /* "nextContainerImages": packed kv name->image */
  char *required_ready; /* "preCheckBeforeNext.containersRequiredReady" */
  char *batches;        /* "containerBatchesRecord" JSON array text */
};
/* Parses the annotation (json may be NULL: all empty). 0, LB_EPARSE or
 * LB_ENOMEM; release even on error. */
int lb_inplace_state_parse(const char *json, struct lb_inplace_state *st);
void lb_inplace_state_release(struct lb_inplace_state *st);
/* The annotation text with upstream's field names (InPlaceUpdateState):
 * revision, updateTimestamp, lastContainerStatuses{name:{imageID}},
 * updateImages, nextContainerImages, preCheckBeforeNext
 * {containersRequiredReady}, containerBatchesRecord[{timestamp,
 * containers}]; empty members omitted as Go's omitempty does. */
int lb_inplace_state_json(const struct lb_inplace_state *st,
                          struct lb_buf *out);
/* The state of a pod (from either key, the legacy unprefixed one too), or
 * NULL (borrowed). */
const char *lb_inplace_state_of(const struct lb_pod *p);
const char *lb_inplace_grace_of(const struct lb_pod *p);

/* Completion check (above). Returns 1 when complete; else 0 with what is
 * still awaited appended to why (may be NULL). */
int lb_inplace_completed(const struct lb_pod *p,
                         const struct lb_inplace_state *st, struct lb_buf *why);

/* --- phases and steps --------------------------------------------------- */
enum lb_inplace_phase {
  LB_IPU_NONE = 0,
  LB_IPU_STARTED,
  LB_IPU_GRACE,
  LB_IPU_RUNNING,
  LB_IPU_NEXT,
  LB_IPU_DONE
};
const char *lb_inplace_phase_name(int phase);
/* Where p is (table above) when `target` is the revision updates go to.
 * For GRACE, *due_ms (may be NULL) gets the time the spec is applied. */
int lb_inplace_phase(const struct lb_pod *p, const char *target,
                     int64_t *due_ms);
/* Debug check of the invariants of a phase (LB_BUG on violation). */
void lb_inplace_assert_phase(const struct lb_pod *p, const char *target,
                             int phase);

/* Appends one condition object to conds (comma-separated list). */
void lb_inplace_cond_json(struct lb_buf *conds, const char *type, int status,
                          const char *reason, const char *message, int64_t now);
/* Wraps a condition list as a status strategic-merge patch (caller frees;
 * NULL on allocation failure). */
char *lb_inplace_status_body(const struct lb_buf *conds);

/* (1) status spatch body: InPlaceUpdateReady=False reason
 * StartInPlaceUpdate and Ready=False. Caller frees. */
char *lb_inplace_start_patch(int64_t now);
/* (3) conditions to append when p has the gate and the condition should
 * become True (absent: initialise; DONE; or STARTED but cancelled).
 * Returns 1 when appended. */
int lb_inplace_ready_conds(const struct lb_pod *p, int phase, int cancelled,
                           int64_t now, struct lb_buf *conds);

/* (2) the pod spatch applying diff `d` to p for revision `rev` at now:
 * revision labels (controller-revision-hash = rev, pod-template-hash =
 * text after its last '-'), lifecycle Updating (+ timestamp), the state
 * annotation, the metadata patch, and either the first priority batch of
 * images (grace_seconds 0) or the grace record. Caller frees. */
char *lb_inplace_update_patch(const struct lb_pod *p,
                              const struct lb_inplace_diff *d, const char *rev,
                              int grace_seconds, int64_t now);
/* GRACE due: spatch applying the recorded images and removing the grace
 * record (only removing it when its revision is stale). Caller frees. */
char *lb_inplace_grace_patch(const struct lb_pod *p);
/* NEXT: spatch with the next priority batch of nextContainerImages
 * (priorities read from the pod's target template JSON; NULL = one batch)
 * and the updated state. Caller frees. */
char *lb_inplace_next_patch(const struct lb_pod *p, const char *template_json,
                            int64_t now);

#endif
