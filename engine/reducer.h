/* reducer.h — what a reducer sees and how it speaks (internal to engine/).
 *
 * A reducer reconciles one object of its kind from the whole state and the
 * event time. It reads state through lb_rctx_* lookups, appends actions,
 * and writes a reason that carries the numbers that decided. It returns 0
 * or LB_ENOMEM. It must not keep pointers into state across calls.
 */
#ifndef LB_REDUCER_H
#define LB_REDUCER_H

#include "decision.h"
#include "engine.h"
#include "obj.h"

struct lb_rctx {
  struct lb_engine *e;
  const struct lb_engine_opts *opts;
  const struct lb_event *ev; /* the event being folded */
  int64_t now;               /* ev->at_ms: the only clock */
  struct lb_decision *d;     /* decision under construction */
  struct lb_buf reason;
  int64_t wakeup_ms; /* set by the reducer: reconcile again then */
};

struct lb_reducer {
  const char *name; /* "cloneset" */
  int kind;         /* kind it reconciles (LB_KIND_*) */
  int (*reconcile)(struct lb_rctx *c, struct lb_obj *o);
};

/* The registry (reducers.c): one entry per controller file. */
extern const struct lb_reducer lb_reducers[];
extern const size_t lb_n_reducers;

int lb_cloneset_reconcile(struct lb_rctx *c, struct lb_obj *o);
int lb_pub_reconcile(struct lb_rctx *c, struct lb_obj *o); /* pub.c */

/* Numbers, seals and chains d (identity and reason filled by the caller),
 * puts its actions in flight (all but RESPOND; owner_key/owner: whom the
 * outcome wakes, may be NULL) and moves it to out. On success d is
 * emptied; on error the caller still owns it. */
int lb_engine_emit(struct lb_engine *e, const struct lb_event *ev,
                   struct lb_decision *d, const char *owner_key,
                   struct lb_obj *owner, struct lb_decisions *out);

/* Lookups */
struct lb_obj *lb_rctx_get(struct lb_rctx *c, int kind, const char *ns,
                           const char *name);
/* Appends an action targeting (kind, ns, name); takes ownership of body
 * (may be NULL). Returns the action or NULL on allocation failure. */
struct lb_action *lb_rctx_action(struct lb_rctx *c, int verb, int kind,
                                 const char *ns, const char *name,
                                 const char *sub, char *body);
void lb_rctx_reasonf(struct lb_rctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Every object of `kind` in ns (NULL: all namespaces), sorted by
 * (name, namespace) into a malloc'd array of borrowed pointers (caller
 * frees *out). Walks the whole state: for rare paths (admission, PUB). */
int lb_rctx_list(struct lb_rctx *c, int kind, const char *ns,
                 struct lb_obj ***out, size_t *n);
/* A workload (CloneSet, Deployment, ReplicaSet, StatefulSets,
 * UnitedDeployment) by uid, or NULL. */
struct lb_obj *lb_rctx_workload(struct lb_rctx *c, const char *uid);
/* Marks o for a reconcile in this same fold (after the current one). */
int lb_rctx_mark(struct lb_rctx *c, const struct lb_obj *o);
/* A context for code that reads state outside a reducer (admission). */
void lb_rctx_init(struct lb_rctx *c, struct lb_engine *e,
                  const struct lb_event *ev, struct lb_decision *d);

#endif
