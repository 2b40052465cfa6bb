/* fielderr.h — a field-error collector for admission validation, after
 * Kubernetes' field.ErrorList: every rule that fails adds one entry naming
 * the field path, the kind of error and the rule (with how to fix it);
 * the verdict joins them. Shared by every validating webhook (CloneSet,
 * PodUnavailableBudget, and the other CRs later). Pure; no I/O.
 *
 *   struct lb_ferrs fe = LB_FERRS_INIT;
 *   if (replicas < 0)
 *     lb_ferr_add(&fe, LB_FE_INVALID, "spec.replicas", "%d: must be >= 0",
 *                 replicas);
 *   if (fe.n) deny(fe.msg.p);
 *   lb_ferrs_release(&fe);
 */
#ifndef LB_FIELDERR_H
#define LB_FIELDERR_H

#include "obj.h"
#include "util.h"

enum lb_fe_type {
  LB_FE_REQUIRED = 0, /* "Required value" */
  LB_FE_INVALID,      /* "Invalid value" */
  LB_FE_FORBIDDEN,    /* "Forbidden" */
  LB_FE_DUPLICATE,    /* "Duplicate value" */
  LB_FE_UNSUPPORTED   /* "Unsupported value" */
};

struct lb_ferrs {
  struct lb_buf msg; /* "path: Type: detail; path: ..." */
  int n;             /* entries */
};
#define LB_FERRS_INIT                                                          \
  { LB_BUF_INIT, 0 }

void lb_ferr_add(struct lb_ferrs *f, int type, const char *path,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void lb_ferrs_release(struct lb_ferrs *f);

/* IntOrString at `path` (j may be NULL: absent, *out unset): an integer
 * >= 0 or "N%" with 0 <= N <= 100. Adds an error and returns -1 when
 * malformed or out of range; 0 otherwise. */
int lb_ferr_intstr(struct lb_ferrs *f, const char *path, struct json_object *j,
                   struct lb_intstr *out);

/* A label selector at `path`: object, matchLabels strings, known
 * operators, values present for In/NotIn and absent for Exists. Returns
 * the number of errors added. */
int lb_ferr_selector(struct lb_ferrs *f, const char *path,
                     struct json_object *j);

#endif
