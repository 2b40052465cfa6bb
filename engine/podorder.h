/* podorder.h — update ordering strategies (kruise-spec §1.5), shared by the
 * workload controllers: updateStrategy.priorityStrategy (weightPriority or
 * orderPriority) and updateStrategy.scatterStrategy, decoded from the
 * canonical JSON the object decoder keeps, plus the CloneSet update
 * candidate order that combines them (§3.4 update sequence, step 4).
 *
 * Everything here is pure: no clock, no randomness, no I/O, and every order
 * is total (ties fall back to the order the caller passed in, which for the
 * CloneSet is the default order, itself broken by pod name).
 *
 * The generic sorters work like upstream's pkg/util/updatesort Sorter: a
 * label set per pod (`labels[0..n_labels)`, packed kv as in obj.h) and the
 * candidates to order as indexes into it (`idx[0..n)`), permuted in place.
 */
#ifndef LB_PODORDER_H
#define LB_PODORDER_H

#include <stddef.h>
#include <stdint.h>

#include "cloneset.h"
#include "obj.h"

struct lb_podorder_weight {
  int weight;               /* 0..100 */
  struct lb_selector match; /* matchSelector, never empty */
};

struct lb_podorder_scatter {
  char *key;   /* non-empty */
  char *value; /* may be ""; matched literally ("*" is not special here) */
};

/* Decoded strategies. At most one of weights / order_keys is non-empty. */
struct lb_podorder {
  struct lb_podorder_weight *weights; /* priorityStrategy.weightPriority */
  size_t n_weights;
  char **order_keys; /* priorityStrategy.orderPriority[].orderedKey */
  size_t n_order_keys;
  struct lb_podorder_scatter *scatter; /* scatterStrategy, in spec order */
  size_t n_scatter;
};

/* Decodes the canonical JSON of priorityStrategy and scatterStrategy (either
 * may be NULL = absent) into *po, which the caller provides (not allocated
 * here). Validation follows upstream's webhook: exactly one of
 * weightPriority / orderPriority, weight 0..100, matchSelector non-empty
 * with valid operators (In/NotIn need values, Exists/DoesNotExist take
 * none), orderedKey non-empty; scatter keys non-empty, no duplicate
 * key/value pair.
 * Returns 0 (why[0] = '\0'); LB_EPARSE when a strategy is malformed: why
 * holds a sentence naming the field and the problem (for a decision
 * reason) and *po is left empty, i.e. neither strategy applies; or
 * LB_ENOMEM. why may be NULL when why_n is 0. Release with
 * lb_podorder_release() in every case. */
int lb_podorder_parse(struct lb_podorder *po, const char *priority_json,
                      const char *scatter_json, char *why, size_t why_n);
/* Frees the contents; *po is left empty and may be parsed into again. */
void lb_podorder_release(struct lb_podorder *po);

/* Sum of the weights of the weightPriority terms whose selector matches. */
int64_t lb_podorder_weight_of(const struct lb_podorder *po, const char *labels);
/* orderPriority position of a label set: *term = index of the first term
 * whose key the labels carry (-1 when none), *order = the trailing integer
 * of that label's value ("o-10" -> 10; no trailing digits or overflow ->
 * 0, as upstream's getIntFromStringSuffix). */
void lb_podorder_order_of(const struct lb_podorder *po, const char *labels,
                          int *term, int64_t *order);
/* The trailing decimal integer of s, or 0 (none, or it overflows int64). */
int64_t lb_podorder_suffix_int(const char *s);

/* Stable sort of idx[0..n) by priority: higher weight first, or by
 * orderPriority term (pods with none of the keys first, then earlier term
 * first) and, within a term, higher trailing integer first. Equal pods keep
 * their incoming order. No-op without a priority strategy. Returns 0 or
 * LB_ENOMEM (idx unchanged). */
int lb_podorder_priority_sort(const struct lb_podorder *po,
                              const char *const *labels, size_t *idx, size_t n);
/* Scatters idx[0..n) by the scatter terms (upstream scatter_sort.go):
 * terms ordered by how many candidates carry them (more first, then spec
 * order); for each, the matching candidates but the last are interleaved
 * with the others in groups sized by the density of the term over all
 * labels[0..n_labels) (every pod of the workload; idx must index into it),
 * and the last matching candidate goes to the end. No-op without terms.
 * Returns 0 or LB_ENOMEM (idx unchanged). */
int lb_podorder_scatter_sort(const struct lb_podorder *po,
                             const char *const *labels, size_t n_labels,
                             size_t *idx, size_t n);

/* Orders CloneSet update candidates as upstream's SortUpdateIndexes does:
 * the default order (lb_cs_cmp_update), then cs->priority_json, then
 * cs->scatter_json (density counted over the active pods in cs->pods plus
 * the candidates), then pods in lifecycle state PreparingUpdate first
 * (stable). cand[] is borrowed and permuted in place.
 * A malformed strategy is not an error: why receives the problem (why[0]
 * is '\0' otherwise) and the order is the default one (PreparingUpdate
 * first still applies); the caller should say so in its reason.
 * Returns 0 or LB_ENOMEM (cand then holds the default order). */
int lb_podorder_cs_update(struct lb_cs_podinfo **cand, size_t n,
                          const struct lb_cloneset *cs, char *why,
                          size_t why_n);

#endif
