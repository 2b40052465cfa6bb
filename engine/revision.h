/* revision.h — the ControllerRevision history of a CloneSet (kruise-spec
 * §1.1): which revision a template maps to (rollback reuses an equal older
 * one), the number a new or reused revision carries, the metadata of a new
 * one, and history GC. Pure: every function reads the CloneSet's owned
 * objects (always sorted, never in arrival order) and, for the reducer
 * steps, appends actions through the lb_rctx.
 *
 * A revision's life as seen from here:
 *
 *   (none) ──ensure_revision(): create, .revision = max+1──► live
 *   live ──template goes elsewhere, no pod refers to it──► dead
 *   dead ──template comes back (equal data): lb_rev_bump() .revision=max+1──►
 *          live (rollback: the same name is reused, nothing is created)
 *   dead ──more than revisionHistoryLimit dead ones: lb_rev_gc() delete──►
 *          (gone)
 *
 *   | from | to      | performed by                          |
 *   | none | live    | cloneset.c ensure_revision() create   |
 *   | dead | live    | lb_rev_bump() patch {"revision":N}    |
 *   | dead | gone    | lb_rev_gc() delete (uid precondition) |
 * "live" = current revision, update revision, or the revision of any pod
 * the CloneSet still owns (exact name, or equal short hash).
 * Invariants: the update revision carries the highest .revision once its
 * bump landed; no revision action is decided while one is in flight
 * (cs->inflight_revs), so a bump or a delete is never issued twice.
 */
#ifndef LB_REVISION_H
#define LB_REVISION_H

#include <stddef.h>
#include <stdint.h>

#include "obj.h"
#include "util.h"

struct lb_rctx;
struct json_object;

#define LB_ANNO_VCT_HASH "kruise.io/cloneset-volumeclaimtemplate-hash"

/* The ControllerRevisions cs owns, oldest first: by .revision, then name.
 * *out is a malloc'd array of borrowed pointers (caller frees the array
 * only). Returns 0 or LB_ENOMEM. */
int lb_rev_owned(const struct lb_cloneset *cs, struct lb_crev ***out,
                 size_t *n);
/* Highest .revision of v (0 when n == 0). */
int64_t lb_rev_max(struct lb_crev *const *v, size_t n);
/* Rollback detection: of the revisions whose data equals `data`, the one
 * with the highest .revision (ties: the greatest name); NULL when none. */
struct lb_crev *lb_rev_find_equal(struct lb_crev *const *v, size_t n,
                                  const char *data);
/* Text after the last '-' of a revision name (the name when none). */
const char *lb_rev_short_hash(const char *name);

/* History GC selection over revisions sorted oldest first: live[i] != 0
 * keeps revision i; the oldest dead ones are marked doomed[i] = 1 until at
 * most `limit` dead ones remain. Returns how many were marked. */
size_t lb_rev_gc_select(size_t n, const int *live, int limit, int *doomed);

/* Rollback: the owned revision data-equal to `data`, newest first. Writes
 * its name to out and returns 1; 0 when none; LB_ENOMEM. */
int lb_rev_equal_name(const struct lb_cloneset *cs, const char *data, char *out,
                      size_t n);
/* Number for a new revision: max owned .revision + 1. */
int64_t lb_rev_next_number(const struct lb_cloneset *cs);
/* Appends the metadata members of a new revision after `"name":...,`:
 * "labels" (the template's labels) and "annotations" (the
 * volumeClaimTemplates hash), each followed by a comma. Returns 0 or
 * LB_ENOMEM / LB_EPARSE (template not JSON: cannot happen, decoded). */
int lb_rev_meta(const struct lb_cloneset *cs, struct lb_buf *b);
/* The volumeClaimTemplates hash (lb_cs_revision_hash of the canonical
 * JSON, "[]" when absent). out >= 16 bytes. */
void lb_rev_vct_hash(const struct lb_cloneset *cs, char *out, size_t n);

/* The revision name upstream gives data (history.NewControllerRevision):
 * ControllerRevisionName(cs_name, HashControllerRevision(data, &collision))
 * = the first 223 bytes of cs_name, '-', the safe-encoded FNV-1 hash.
 * out >= 240 bytes. */
void lb_rev_name(const char *cs_name, const char *data, int collision,
                 char *out, size_t n);

/* The revision data of cs's template (gotemplate.h), malloc'd; NULL with
 * *rc = LB_EPARSE (and *why) when upstream's typed decode would fail, or
 * LB_ENOMEM. Memoised in cs->rev_data_memo (the typed round trip costs
 * ~0.1 ms and every event reconciles its CloneSet); the memo is a pure
 * function of template_json, freed with cs. */
char *lb_rev_data(const struct lb_cloneset *cs, int *rc, const char **why);

/* The pod template inside revision data ("{"spec":{"template":{...}}}")
 * without its "$patch" key, as a new json-c object (caller puts); NULL
 * when data is not such a document or on allocation failure. */
struct json_object *lb_rev_template(const char *data);

/* Reducer step: when the update revision already exists (rollback) and
 * an owned revision carries a higher .revision, patches it to max + 1.
 * Returns 0 or LB_ENOMEM. The caller checks cs->inflight_revs. */
int lb_rev_bump(struct lb_rctx *c, const struct lb_cloneset *cs,
                const char *update_rev);
/* Reducer step: history GC (§1.1). Does nothing while a revision or PVC
 * action of cs is in flight. Returns revisions deleted, or LB_ENOMEM. */
int lb_rev_gc(struct lb_rctx *c, const struct lb_cloneset *cs,
              const char *current_rev, const char *update_rev);

#endif
