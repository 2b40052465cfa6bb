/* cloneset_calc.c — CloneSet arithmetic and orderings (spec §1.2, §1.5,
 * §3.4). Pure functions, tested by tables in tests/test_cloneset_calc.c. */
#include <stdio.h>
#include <string.h>

#include "cloneset.h"

static int imin(int a, int b) { return a < b ? a : b; }
static int imax(int a, int b) { return a > b ? a : b; }
static int iabs(int a) { return a < 0 ? -a : a; }

int lb_cs_partition(const struct lb_intstr *p, int replicas) {
  int v;
  if (!p->set)
    return 0;
  v = lb_intstr_resolve(p, replicas, 1);
  if (p->is_pct && p->val != 100 && replicas > 1 && v >= replicas)
    v = replicas - 1;
  return imax(0, imin(v, replicas));
}

void lb_cs_calc(const struct lb_cs_calc_in *in, struct lb_cs_calc *r) {
  int R = in->replicas;
  memset(r, 0, sizeof *r);
  r->partition = lb_cs_partition(&in->partition, R);
  r->max_surge = in->paused ? 0 : lb_intstr_resolve(&in->max_surge, R, 1);
  r->max_unavailable =
      lb_intstr_resolve(&in->max_unavailable, R, r->max_surge == 0);
  r->scale_max_unavailable =
      in->scale_max_unavailable.set
          ? lb_intstr_resolve(&in->scale_max_unavailable, R, 1)
          : -1;

  int new_active = in->new_total - in->new_predeleting;
  int old_active = in->old_total - in->old_predeleting;
  int predeleting = in->new_predeleting + in->old_predeleting;
  int to_delete = in->new_to_delete + in->old_to_delete;
  r->total_unavailable =
      predeleting + in->new_unavailable + in->old_unavailable;

  r->update_old_diff = imax(old_active - r->partition, 0);
  r->update_new_diff = imin(new_active - (R - r->partition), 0);

  if (r->max_surge > 0) {
    int scale_surge = 0, scale_old_surge = 0, update_surge = 0;
    if (to_delete > 0) {
      scale_surge =
          imin(imax(r->total_unavailable + to_delete - r->max_unavailable, 0),
               to_delete);
      if (scale_surge > in->new_to_delete)
        scale_old_surge = scale_surge - in->new_to_delete;
    }
    if (r->update_old_diff > 0 && r->update_new_diff < 0)
      update_surge = imin(iabs(r->update_old_diff), iabs(r->update_new_diff));
    if (scale_surge >= update_surge) {
      r->use_surge = imin(r->max_surge, scale_surge);
      r->use_surge_old = imin(r->use_surge, scale_old_surge);
    } else {
      r->use_surge = imin(r->max_surge, update_surge);
      r->use_surge_old = 0; /* update surge is created at the new revision */
    }
  }

  int current = in->new_total + in->old_total;
  int current_old = in->old_total;
  if (in->exclude_predeleting) {
    current -= predeleting;
    current_old -= in->old_predeleting;
  }
  r->expected_total = R + r->use_surge;
  r->expected_old = r->partition + r->use_surge_old;

  if (r->expected_total > current) {
    int n = r->expected_total - current;
    if (r->scale_max_unavailable >= 0) {
      int cap = imax(r->scale_max_unavailable - r->total_unavailable, 0);
      if (cap < n) {
        n = cap;
        r->scale_up_limited = 1;
      }
    }
    r->scale_up = n;
    r->scale_up_old = imin(imax(r->expected_old - current_old, 0), n);
  } else {
    int n = current - to_delete - r->expected_total;
    if (n > 0) {
      r->scale_down = n;
      r->scale_down_old =
          imin(imax(current_old - in->old_to_delete - r->expected_old, 0), n);
    }
  }
  r->delete_ready_limit =
      imax(r->max_unavailable + (in->n_pods - R) - r->total_unavailable, 0);
  r->update_num = iabs(r->update_old_diff) <= iabs(r->update_new_diff)
                      ? r->update_old_diff
                      : -r->update_new_diff;
  if (r->update_num)
    r->update_max_unavailable = r->max_unavailable + in->n_pods - R;
}

/* --- orderings ---------------------------------------------------------- */
static int phase_rank(int ph) {
  return ph == LB_PH_PENDING ? 0 : ph == LB_PH_UNKNOWN ? 1 : 2;
}

#define CMP(x, y)                                                              \
  do {                                                                         \
    if ((x) != (y))                                                            \
      return (x) < (y) ? -1 : 1;                                               \
  } while (0)

int lb_cs_cmp_victim(const void *a, const void *b) {
  const struct lb_cs_podinfo *x = a, *y = b;
  const struct lb_pod *p = x->pod, *q = y->pod;
  CMP(p->node != NULL, q->node != NULL);           /* unscheduled first */
  CMP(phase_rank(p->phase), phase_rank(q->phase)); /* Pending<Unknown<Run */
  CMP(x->available, y->available);                 /* unavailable first */
  CMP(p->ready, q->ready);                         /* not-ready first */
  CMP(p->deletion_cost, q->deletion_cost);         /* lower cost first */
  CMP(y->node_rank, x->node_rank);                 /* higher rank first */
  if (p->ready && q->ready)
    CMP(q->ready_ms, p->ready_ms);                 /* ready more recently */
  CMP(q->restarts, p->restarts);                   /* more restarts first */
  CMP(p->o.created_ms != 0, q->o.created_ms != 0); /* zero time first */
  CMP(q->o.created_ms, p->o.created_ms);           /* newer first */
  return strcmp(p->o.name, q->o.name);
}

int lb_cs_cmp_update(const void *a, const void *b) {
  const struct lb_cs_podinfo *x = a, *y = b;
  const struct lb_pod *p = x->pod, *q = y->pod;
  CMP(p->node != NULL, q->node != NULL);
  CMP(phase_rank(p->phase), phase_rank(q->phase));
  CMP(p->ready, q->ready);
  if (p->ready && q->ready)
    CMP(q->ready_ms, p->ready_ms); /* ready for less time first */
  CMP(q->restarts, p->restarts);
  CMP(q->o.created_ms, p->o.created_ms);
  return strcmp(p->o.name, q->o.name);
}

/* --- revision hash ------------------------------------------------------ */
void lb_cs_revision_hash(const char *data, int collision_count, char *out,
                         size_t n) {
  static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  uint32_t h = 2166136261u;
  char num[32], dec[16];
  /* FNV-1 (multiply, then xor), as Go's hash/fnv.New32 used by upstream */
  for (const unsigned char *p = (const unsigned char *)data; *p; p++)
    h = (h * 16777619u) ^ *p;
  snprintf(num, sizeof num, "%d", collision_count);
  for (const unsigned char *p = (const unsigned char *)num; *p; p++)
    h = (h * 16777619u) ^ *p;
  snprintf(dec, sizeof dec, "%u", h);
  size_t i;
  for (i = 0; dec[i] && i + 1 < n; i++)
    out[i] = alphabet[(unsigned char)dec[i] % (sizeof alphabet - 1)];
  out[i] = '\0';
}
