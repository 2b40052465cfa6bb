/* decision.h — what reducers decide, and the decision hash chain.
 *
 * A decision records one reconcile of one object by one reducer: the reason
 * (with the numbers that decided it) and zero or more actions. A decision
 * without actions is recorded only when its reason changed since the last
 * decision for the same object (so "why is it stuck" has an answer without
 * journaling every no-op).
 *
 * Canonical form (hashed and stored, byte-exact, keys in this order):
 *   {"seq":N,"event_seq":N,"reducer":"cloneset","kind":"CloneSet",
 *    "ns":"default","name":"web","reason":"...","actions":[A,...]}
 * with each action A:
 *   {"id":N,"verb":"create","group":"","kind":"Pod","ns":"default",
 *    "name":"web-abcde","sub":"","uid":"","body":<JSON or null>}
 * Hash chain: chain(d) = xxh3_64(le64(chain(prev)) || canonical(d)); the
 * chain of the first decision uses prev = 0.
 */
#ifndef LB_DECISION_H
#define LB_DECISION_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Append-only: verb numbers are stored in snapshots (in-flight actions). */
#define LB_VERBS(X)                                                            \
  X(CREATE, "create")                                                          \
  X(PATCH, "patch")   /* JSON merge patch (RFC 7386) */                        \
  X(DELETE, "delete") /* with uid precondition when uid is set */              \
  X(SPATCH, "spatch") /* strategic merge patch (Pods: lists merged by key) */  \
  X(JPATCH, "jpatch") /* JSON patch (RFC 6902) */                              \
  X(RESPOND, "respond") /* admission response: body = AdmissionReview          \
                           (group admission.k8s.io, name = request uid);       \
                           answered by the webhook server, never in            \
                           flight, no outcome event */

enum lb_verb {
  LB_VERB_NONE = 0,
#define X(e, s) LB_VERB_##e,
  LB_VERBS(X)
#undef X
};
const char *lb_verb_name(int verb);
int lb_verb_parse(const char *s);

struct lb_action {
  int64_t id;      /* unique, increasing, assigned by the engine */
  int verb;        /* enum lb_verb */
  char *api_group; /* target group ("" = core) */
  char *kind;      /* target kind */
  char *ns;        /* target namespace */
  char *name;      /* target name */
  char *sub;       /* subresource: "" or "status" */
  char *uid;       /* delete precondition uid, or "" */
  char *body;      /* request body JSON (create: object; patch/spatch/
                      jpatch: patch; delete: NULL or DeleteOptions, e.g.
                      {"preconditions":{"resourceVersion":"7"}}, merged
                      with the uid precondition) */
};

struct lb_decision {
  int64_t seq;       /* decision sequence, assigned by the engine */
  int64_t event_seq; /* the event whose fold caused this reconcile */
  char *reducer;     /* "cloneset" */
  char *kind;        /* object reconciled */
  char *ns;
  char *name;
  char *reason; /* human-readable, with the deciding numbers */
  struct lb_action *actions;
  size_t n_actions;
  char *canonical; /* canonical JSON, set by lb_decision_seal */
  size_t canonical_len;
  uint64_t chain; /* hash chain value, set by lb_decision_seal */
};

void lb_action_release(struct lb_action *a);
void lb_decision_release(struct lb_decision *d);
/* Deep copy; returns 0 or LB_ENOMEM. */
int lb_action_copy(struct lb_action *dst, const struct lb_action *src);

/* Builds d->canonical and d->chain from prev_chain. Returns 0 or LB_ENOMEM. */
int lb_decision_seal(struct lb_decision *d, uint64_t prev_chain);
/* Chain value of a canonical text after prev_chain. */
uint64_t lb_chain_next(uint64_t prev_chain, const char *canonical, size_t len);

/* A list of decisions produced by one lb_engine_apply(). */
struct lb_decisions {
  struct lb_decision *v;
  size_t n, cap;
};
void lb_decisions_release(struct lb_decisions *ds); /* frees all, n = 0 */

struct lb_event;
/* Initialises ev as an answer to action a: source OUTCOME, the given type
 * (LB_EV_OUTCOME, LB_EV_RETRY) and HTTP status, a's id and a's target
 * identity (whatever the body will say). The caller sets seq and at_ms
 * and prepares the body. 0, or LB_ENOMEM with ev released. */
int lb_action_answer_init(struct lb_event *ev, const struct lb_action *a,
                          int type, int http_status);

#endif
