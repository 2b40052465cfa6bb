/* pvc.h — the PersistentVolumeClaims of a CloneSet (kruise-spec §3.1
 * volumeClaimTemplates / disablePVCReuse, §3.3): naming, which instance
 * ids are reused, the claims a new pod needs, the volumes it mounts them
 * by, and what happens to claims when pods go. Pure: reads the CloneSet's
 * owned objects (sorted before any ordered loop) and appends actions
 * through the lb_rctx.
 *
 * A claim's life (one per pod per template, name <vct>-<cs>-<id>):
 *
 *   (none) ──lb_pvc_create_missing(): create, before the pod──► bound to id
 *   bound ──controller deletes the pod: lb_pvc_delete_for_pod()──► gone
 *         (with disablePVCReuse: handed to the pod, gone with it)
 *   bound ──pod gone by other hands──► orphan (PVC, no active pod with id)
 *   orphan ──scale up: id reused first (lb_pvc_plan_ids)──► bound
 *   with disablePVCReuse (lb_pvc_cleanup), instead of becoming orphans:
 *   bound, pod inactive ──patch ownerReferences = [the pod]──► released
 *                         (not ours any more; GC'd with the pod)
 *   bound, no pod at all ──delete──► gone
 *
 *   | from   | to       | performed by                                  |
 *   | none   | bound    | create_pods() -> lb_pvc_create_missing()      |
 *   | bound  | gone     | delete_pod() -> lb_pvc_delete_for_pod()       |
 *   | orphan | bound    | create_pods()/new_id() with lb_pvc_plan_ids() |
 *   | bound  | released | lb_pvc_cleanup() patch (disablePVCReuse)      |
 *   | orphan | gone     | lb_pvc_cleanup() delete (disablePVCReuse)     |
 * Invariants: a claim is created in the same decision as, and before, the
 * pod that mounts it; a claim being deleted (deletionTimestamp) is never
 * reused nor acted on again; an id whose old pod still exists (terminating)
 * is not reused until that pod is gone (its name is the pod's name); no
 * id is chosen while a claim action of the CloneSet is in flight.
 */
#ifndef LB_PVC_H
#define LB_PVC_H

#include <stddef.h>

#include "obj.h"

struct lb_rctx;
struct json_object;

/* "<vct>-<cs>-<id>" into out. Returns 0, or LB_ERANGE when it does not
 * fit (out is then truncated). */
int lb_pvc_name(const char *vct, const char *cs, const char *id, char *out,
                size_t n);
/* Names of spec.volumeClaimTemplates in order, packed "a\0b\0\0" (caller
 * frees); NULL vct_json gives an empty list. Templates without a name are
 * skipped. Returns 0 or LB_ENOMEM. */
int lb_pvc_template_names(const char *vct_json, char **out);
/* Number of templates (0 for NULL or malformed JSON). */
int lb_pvc_template_count(const char *vct_json);

/* Instance ids for pod creation. */
struct lb_pvc_plan {
  char (*reuse)[8]; /* orphan ids free to reuse, sorted */
  size_t n_reuse;
  size_t n_blocked; /* orphan ids whose old pod still exists (terminating) */
};
/* Orphan ids of cs: ids carried by an owned, not-terminating PVC and by no
 * active owned pod; none with disablePVCReuse. Returns 0 or LB_ENOMEM;
 * release with lb_pvc_plan_release. */
int lb_pvc_plan_ids(const struct lb_cloneset *cs, struct lb_pvc_plan *out);
void lb_pvc_plan_release(struct lb_pvc_plan *p);
/* How many of `want` pods may be created now: reusable ids first; fresh
 * ids only beyond the orphan ids (blocked ones are waited for). */
int lb_pvc_creatable(const struct lb_pvc_plan *p, int want);
/* Nonzero when an owned PVC already carries instance id `id`. */
int lb_pvc_id_taken(const struct lb_cloneset *cs, const char *id);

/* Reducer step: appends a create for every claim of instance `id` that
 * neither exists nor is being created in this decision. Returns the
 * number created or LB_ENOMEM. */
int lb_pvc_create_missing(struct lb_rctx *c, const struct lb_cloneset *cs,
                          const char *id);
/* The create body of claim `vct_name` for instance id: the template plus
 * name, namespace, labels (template + selector.matchLabels + instance id)
 * and the CloneSet as controller owner. Caller frees; NULL on ENOMEM or
 * when no template has that name. */
char *lb_pvc_body(const struct lb_cloneset *cs, const char *vct_name,
                  const char *id);
/* Pod body edit: replaces pod.spec with a copy in which one volume per
 * template, named like the template, references its claim (template
 * volumes of the same name are replaced; the others follow). No-op without
 * templates. Returns 0 or LB_ENOMEM. */
int lb_pvc_pod_volumes(struct json_object *pod, const struct lb_cloneset *cs,
                       const char *id);
/* Reducer step, when the controller deletes pod p: deletes (uid
 * precondition) the owned, not-terminating claims carrying p's instance
 * id, by name; with disablePVCReuse hands them to p instead (they go with
 * it all the same, and the answer to a patch, unlike the last-state body
 * a delete is answered with, cannot be mistaken for a live claim of the
 * CloneSet). Returns the number or LB_ENOMEM. */
int lb_pvc_delete_for_pod(struct lb_rctx *c, const struct lb_cloneset *cs,
                          const struct lb_pod *p);
/* Reducer step (disablePVCReuse only; nothing while pod or claim actions
 * of cs are in flight): claims whose pod is inactive are handed to that
 * pod (ownerReferences = [the pod]), claims with no pod at all are
 * deleted. Returns the number of actions or LB_ENOMEM. */
int lb_pvc_cleanup(struct lb_rctx *c, const struct lb_cloneset *cs);

#endif
