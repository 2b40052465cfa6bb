/* cloneset_agg.c — per-CloneSet aggregates kept by the fold (cloneset.h):
 * the counts collect() would find, so that a reconcile in which no pod needs
 * a look (the steady state: a readiness flap, a restart, a status write
 * coming back) costs O(1) instead of O(pods).
 *
 * Time: availability depends on the reconcile's `now`. A Ready pod is
 * available from due = ready_ms + minReadySeconds on. Ready pods with due <=
 * settled_at are in the counters av[]; the others wait in pend[] sorted by
 * (due, name). lb__cs_agg_sync(now) moves the due ones over (now >=
 * settled_at), or rebuilds when time went back before max_due (a counted
 * pod would not be available yet); pend[0].due is then the minReadySeconds
 * wakeup collect() would compute. Everything here is a
 * function of the folded events: no clock, no hash order. */
#include <stdlib.h>
#include <string.h>

#include "cloneset.h"
#include "err.h"
#include "inplace.h"
#include "lifecycle.h"

static int is_to_delete(const char *pods_to_delete, const struct lb_pod *p) {
  if (p->specified_delete)
    return 1;
  for (const char *n = pods_to_delete; n && *n; n += strlen(n) + 1)
    if (!strcmp(n, p->o.name))
      return 1;
  return 0;
}

unsigned lb__cs_classify(const char *pods_to_delete, const struct lb_pod *p,
                         const char *update_rev, int puau,
                         const struct lb_lifecycle *lc) {
  unsigned b = LB_CSC_ACTIVE;
  if (!lb_pod_active(p))
    return 0;
  int is_new = !strcmp(lb_pod_revision(p), update_rev);
  int grace = lb_inplace_grace_of(p) != NULL;
  int ready = p->ready && p->phase == LB_PH_RUNNING;
  /* held_unavailable() in cloneset.c: unavailable whatever Ready says */
  int held = p->ipu_false || grace || p->unavailable_label;
  if (is_new)
    b |= LB_CSC_NEW;
  if (is_new || (puau && p->lc_kind == LB_LCK_PREPARING_UPDATE))
    b |= LB_CSC_SCALE_NEW;
  if (p->lc_kind == LB_LCK_PREPARING_DELETE)
    b |= LB_CSC_PREDELETING;
  if (is_to_delete(pods_to_delete, p))
    b |= LB_CSC_TO_DELETE;
  if (ready)
    b |= LB_CSC_READY;
  if (ready && (p->lc_kind == LB_LCK_NONE || p->lc_kind == LB_LCK_NORMAL) &&
      !held)
    b |= LB_CSC_CAND;
  if (grace)
    b |= LB_CSC_GRACE;
  if (lc) {
    b |= LB_CSC_LC;
    /* refresh_pod() with phase NONE: refresh_conds() appends nothing
     * (InPlaceUpdateReady present or no gate; KruisePodReady as its state
     * asks), no grace or next batch, lb_lifecycle_refresh_state() keeps
     * the state and refresh_waits() is silent. Anything else (a state for
     * the pod's revision not completed, InPlaceUpdateReady False, a grace
     * record) is not quiet: the reconcile then looks at every pod. */
    if (!grace && !p->ipu_false && (!p->gate_ipu || p->ipu_ready) &&
        lb_inplace_phase(p, update_rev, NULL) == LB_IPU_NONE &&
        !lb_lifecycle_podready_due(lc, p) &&
        !lb_lifecycle_refresh_state(lc, p, is_new, 1))
      b |= LB_CSC_QUIET;
  }
  return b;
}

static int64_t due_of(const struct lb_cs_agg *a, const struct lb_pod *p) {
  return p->ready_ms + (int64_t)a->min_ready_seconds * 1000;
}

static int cmp_key(int64_t due, const char *name,
                   const struct lb_cs_pending *e) {
  if (due != e->due)
    return due < e->due ? -1 : 1;
  return strcmp(name, e->pod->o.name);
}

static int cmp_pend(const void *x, const void *y) {
  const struct lb_cs_pending *a = x;
  return cmp_key(a->due, a->pod->o.name, y);
}

/* First entry not less than (due, name). */
static size_t pend_lower(const struct lb_cs_agg *a, int64_t due,
                         const char *name) {
  size_t lo = 0, hi = a->n_pend;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cmp_key(due, name, &a->pend[mid]) > 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static const char *short_hash(const char *rev) {
  const char *dash = strrchr(rev, '-');
  return dash ? dash + 1 : rev; /* as lb_rev_short_hash() */
}

/* The owned pod's revision in revs[] (any pod, active or not). */
static int count_rev(struct lb_cs_agg *a, const struct lb_pod *p, int sign) {
  const char *rev = lb_pod_revision(p), *sh;
  size_t i;
  if (!*rev)
    return 0;
  sh = short_hash(rev);
  for (i = 0; i < a->n_revs && strcmp(a->revs[i].hash, sh); i++)
    ;
  if (sign < 0) {
    if (LB_NEVER(i == a->n_revs))
      return LB_EINVAL;
    if (--a->revs[i].n == 0) {
      free(a->revs[i].hash);
      a->revs[i] = a->revs[--a->n_revs];
    }
    return 0;
  }
  if (i == a->n_revs) {
    if (lb_reserve(&a->revs, &a->cap_revs, a->n_revs + 1, sizeof *a->revs, 4))
      return LB_ENOMEM;
    if (!(a->revs[i].hash = lb_strdup(sh)))
      return LB_ENOMEM;
    a->revs[i].n = 0;
    a->n_revs++;
  }
  a->revs[i].n++;
  return 0;
}

/* append: during a rebuild (sorted once at the end). Returns 0 or
 * LB_ENOMEM / LB_EINVAL (the aggregates are then invalid). */
static int count(struct lb_cs_agg *a, const struct lb_pod *p, unsigned b,
                 int sign, int append) {
  int rc = count_rev(a, p, sign);
  if (rc || !(b & LB_CSC_ACTIVE))
    return rc;
  unsigned idx = LB_CSC_IDX(b);
  a->n[idx] += sign;
  if (b & LB_CSC_READY) {
    if (b & LB_CSC_NEW)
      a->ready_new += sign;
    else
      a->ready_old += sign;
  }
  a->not_quiet += !(b & LB_CSC_QUIET) ? sign : 0;
  a->grace += (b & LB_CSC_GRACE) ? sign : 0;
  if (!(b & LB_CSC_READY))
    return 0;
  int64_t due = due_of(a, p);
  if (due <= a->settled_at) {
    a->av[idx] += (b & LB_CSC_CAND) ? sign : 0;
    if (due > a->max_due)
      a->max_due = due;
    return 0;
  }
  size_t at = append ? a->n_pend : pend_lower(a, due, p->o.name);
  if (sign < 0) {
    if (LB_NEVER(at >= a->n_pend || a->pend[at].pod != p))
      return LB_EINVAL;
    memmove(&a->pend[at], &a->pend[at + 1],
            (a->n_pend - at - 1) * sizeof *a->pend);
    a->n_pend--;
    return 0;
  }
  if (lb_reserve(&a->pend, &a->cap_pend, a->n_pend + 1, sizeof *a->pend, 16))
    return LB_ENOMEM;
  memmove(&a->pend[at + 1], &a->pend[at], (a->n_pend - at) * sizeof *a->pend);
  a->pend[at].due = due;
  a->pend[at].pod = p;
  a->pend[at].bits = b;
  a->n_pend++;
  return 0;
}

void lb__cs_agg_pod_add(struct lb_cloneset *cs, struct lb_pod *p) {
  struct lb_cs_agg *a = cs->agg;
  if (!a || !a->valid)
    return;
  p->cs_class = (unsigned short)lb__cs_classify(a->pods_to_delete, p, a->rev,
                                                a->puau, a->lc);
  if (count(a, p, p->cs_class, 1, 0))
    a->valid = 0;
}

void lb__cs_agg_pod_del(struct lb_cloneset *cs, struct lb_pod *p) {
  struct lb_cs_agg *a = cs->agg;
  if (!a || !a->valid)
    return;
  if (count(a, p, p->cs_class, -1, 0))
    a->valid = 0;
}

static void params_release(struct lb_cs_agg *a) {
  free(a->rev);
  free(a->pods_to_delete);
  free(a->lifecycle_json);
  if (a->lc)
    lb_lifecycle_release(a->lc);
  free(a->lc);
  a->rev = a->pods_to_delete = a->lifecycle_json = NULL;
  a->lc = NULL;
}

static void revs_release(struct lb_cs_agg *a) {
  for (size_t i = 0; i < a->n_revs; i++)
    free(a->revs[i].hash);
  free(a->revs);
  a->revs = NULL;
  a->n_revs = a->cap_revs = 0;
}

void lb__cs_agg_free(struct lb_cs_agg *a) {
  if (!a)
    return;
  params_release(a);
  revs_release(a);
  free(a->pend);
  free(a);
}

int lb__cs_agg_rev_pods(const struct lb_cloneset *cs, const char *sh) {
  const struct lb_cs_agg *a = cs->agg;
  if (!a || !a->valid)
    return -1;
  for (size_t i = 0; i < a->n_revs; i++)
    if (!strcmp(a->revs[i].hash, sh))
      return a->revs[i].n;
  return 0;
}

/* Bytes of a packed list without its final terminator; NULL and the empty
 * list are both 0. */
static size_t packed_len(const char *s) {
  const char *q = s;
  if (!s)
    return 0;
  while (*q)
    q += strlen(q) + 1;
  return (size_t)(q - s);
}

static char *packed_dup(const char *s) {
  size_t n = packed_len(s);
  char *d = malloc(n + 1);
  if (d) {
    if (n)
      memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

static int same_text(const char *a, const char *b) {
  return !strcmp(a ? a : "", b ? b : "");
}

static int same_inputs(const struct lb_cs_agg *a, const struct lb_cloneset *cs,
                       const char *rev, int puau) {
  size_t n = packed_len(cs->pods_to_delete);
  return !strcmp(a->rev, rev) && a->puau == puau &&
         a->min_ready_seconds == cs->min_ready_seconds &&
         packed_len(a->pods_to_delete) == n &&
         (!n || !memcmp(a->pods_to_delete, cs->pods_to_delete, n)) &&
         same_text(a->lifecycle_json, cs->lifecycle_json);
}

/* Fills a (zeroed except pend's buffer) from every pod of cs for these
 * inputs, settled at now. store: also record each pod's class. */
static int build(struct lb_cs_agg *a, const struct lb_cloneset *cs,
                 const char *rev, int puau, const char *pods_to_delete,
                 const char *lifecycle_json, int min_ready_seconds, int64_t now,
                 int store) {
  const char *why;
  int rc;
  if (!(a->rev = lb_strdup(rev)) ||
      !(a->pods_to_delete = packed_dup(pods_to_delete)) ||
      (lifecycle_json && !(a->lifecycle_json = lb_strdup(lifecycle_json))) ||
      !(a->lc = calloc(1, sizeof *a->lc)))
    return LB_ENOMEM;
  a->puau = puau;
  a->min_ready_seconds = min_ready_seconds;
  a->settled_at = a->max_due = now;
  /* as lifecycle_of() in cloneset.c: a malformed lifecycle has no hooks */
  rc = lb_lifecycle_parse(lifecycle_json, a->lc, &why);
  if (rc == LB_EPARSE) {
    lb_lifecycle_release(a->lc);
    rc = 0;
  }
  if (rc)
    return rc;
  for (size_t i = 0; i < cs->n_pods; i++) {
    struct lb_pod *p = cs->pods[i];
    unsigned b = lb__cs_classify(a->pods_to_delete, p, rev, puau, a->lc);
    if (store)
      p->cs_class = (unsigned short)b;
    if ((rc = count(a, p, b, 1, 1)))
      return rc;
  }
  if (a->n_pend > 1)
    qsort(a->pend, a->n_pend, sizeof *a->pend, cmp_pend);
  return 0;
}

static int rebuild(struct lb_cloneset *cs, const char *rev, int puau,
                   int64_t now) {
  struct lb_cs_agg *a = cs->agg;
  struct lb_cs_pending *pend = a->pend;
  size_t cap = a->cap_pend;
  params_release(a);
  revs_release(a);
  memset(a, 0, sizeof *a);
  a->pend = pend; /* keep the buffer */
  a->cap_pend = cap;
  int rc = build(a, cs, rev, puau, cs->pods_to_delete, cs->lifecycle_json,
                 cs->min_ready_seconds, now, 1);
  a->valid = !rc;
  return rc;
}

int lb__cs_agg_sync(struct lb_cloneset *cs, const char *update_rev, int puau,
                    int64_t now) {
  struct lb_cs_agg *a = cs->agg;
  if (!a && !(a = cs->agg = calloc(1, sizeof *a)))
    return LB_ENOMEM;
  if (!a->valid || now < a->max_due || !same_inputs(a, cs, update_rev, puau))
    return rebuild(cs, update_rev, puau, now);
  if (now < a->settled_at) /* time went back, but not before any settled */
    return 0;              /* due: av[] and pend[] are right for now too */
  size_t k = 0;
  while (k < a->n_pend && a->pend[k].due <= now) {
    if (a->pend[k].bits & LB_CSC_CAND)
      a->av[LB_CSC_IDX(a->pend[k].bits)]++;
    if (a->pend[k].due > a->max_due)
      a->max_due = a->pend[k].due;
    k++;
  }
  if (k) {
    memmove(a->pend, a->pend + k, (a->n_pend - k) * sizeof *a->pend);
    a->n_pend -= k;
  }
  a->settled_at = now;
  return 0;
}

int lb__cs_agg_check(const struct lb_cloneset *cs) {
  const struct lb_cs_agg *a = cs->agg;
  struct lb_cs_agg f;
  int rc, same;
  if (!a || !a->valid)
    return 0;
  memset(&f, 0, sizeof f);
  rc = build(&f, cs, a->rev, a->puau, a->pods_to_delete, a->lifecycle_json,
             a->min_ready_seconds, a->settled_at, 0);
  if (rc) {
    params_release(&f);
    revs_release(&f);
    free(f.pend);
    return rc;
  }
  same = !memcmp(f.n, a->n, sizeof f.n) && !memcmp(f.av, a->av, sizeof f.av) &&
         f.ready_old == a->ready_old && f.ready_new == a->ready_new &&
         f.not_quiet == a->not_quiet && f.grace == a->grace &&
         f.n_pend == a->n_pend;
  for (size_t i = 0; same && i < f.n_pend; i++)
    same = f.pend[i].due == a->pend[i].due && f.pend[i].pod == a->pend[i].pod &&
           f.pend[i].bits == a->pend[i].bits;
  same = same && f.n_revs == a->n_revs;
  for (size_t i = 0; same && i < f.n_revs; i++)
    same = lb__cs_agg_rev_pods(cs, f.revs[i].hash) == f.revs[i].n;
  for (size_t i = 0; same && i < cs->n_pods; i++)
    same =
        cs->pods[i]->cs_class ==
        lb__cs_classify(a->pods_to_delete, cs->pods[i], a->rev, a->puau, f.lc);
  params_release(&f);
  revs_release(&f);
  free(f.pend);
  return LB_ALWAYS(same) ? 0 : LB_EINVAL;
}
