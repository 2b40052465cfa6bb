/* test_cloneset_calc.c — table tests for the CloneSet arithmetic and
 * orderings (engine/cloneset_calc.c; kruise-spec §1.2, §1.5, §3.4). Every
 * table row names itself; a failing row prints its name and the field. */
#include <stdlib.h>
#include <string.h>

#include "../engine/cloneset.h"
#include "../engine/err.h"
#include "../engine/obj.h"
#include "test.h"

#define UNSET                                                                  \
  { 0, 0, 0 }
#define INT(v)                                                                 \
  { 1, 0, (v) }
#define PCT(v)                                                                 \
  { 1, 1, (v) }

#define ROW_EQ(row, what, got, want)                                           \
  do {                                                                         \
    long long g_ = (long long)(got), w_ = (long long)(want);                   \
    if (g_ != w_)                                                              \
      lb_test_fail(__FILE__, __LINE__, "row \"%s\": %s = %lld, want %lld",     \
                   (row), (what), g_, w_);                                     \
  } while (0)

/* ---- partition (§1.2) -------------------------------------------------- */
TEST(cloneset_calc_partition_table) {
  static const struct {
    const char *name;
    struct lb_intstr p;
    int replicas, want;
  } rows[] = {
      {"unset -> 0", UNSET, 4, 0},
      {"int 0", INT(0), 4, 0},
      {"int 2 of 4", INT(2), 4, 2},
      {"int 4 of 4 (all old)", INT(4), 4, 4},
      {"int 5 clamps to replicas 4", INT(5), 4, 4},
      {"int 3 of 0 replicas clamps to 0", INT(3), 0, 0},
      {"0%", PCT(0), 4, 0},
      {"50% of 5 rounds up to 3", PCT(50), 5, 3},
      {"1% of 10 rounds up to 1", PCT(1), 10, 1},
      {"25% of 4 exact 1", PCT(25), 4, 1},
      {"99% of 4 -> 3 (keeps one for the update)", PCT(99), 4, 3},
      {"99% of 100 -> 99", PCT(99), 100, 99},
      {"95% of 10 -> ceil 10 -> 9", PCT(95), 10, 9},
      {"100% of 4 -> 4", PCT(100), 4, 4},
      {"150% of 4 -> 3 (any percent but 100% keeps one)", PCT(150), 4, 3},
      {"replicas 1, 99% -> 1 (no reduction when replicas is 1)", PCT(99), 1, 1},
      {"replicas 1, 50% -> 1", PCT(50), 1, 1},
      {"replicas 1, int 1 -> 1", INT(1), 1, 1},
      {"replicas 1, 0% -> 0", PCT(0), 1, 0},
      {"replicas 0, 50% -> 0", PCT(50), 0, 0},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++)
    ROW_EQ(rows[i].name, "partition",
           lb_cs_partition(&rows[i].p, rows[i].replicas), rows[i].want);
}

/* ---- IntOrString resolution -------------------------------------------- */
TEST(cloneset_calc_intstr_resolve_table) {
  static const struct {
    const char *name;
    struct lb_intstr v;
    int total, up, want;
  } rows[] = {
      {"unset", UNSET, 10, 1, 0},
      {"int ignores total", INT(3), 10, 1, 3},
      {"int ignores rounding", INT(3), 10, 0, 3},
      {"int larger than total", INT(30), 10, 1, 30},
      {"25% of 10 up", PCT(25), 10, 1, 3},
      {"25% of 10 down", PCT(25), 10, 0, 2},
      {"20% of 5 up (exact)", PCT(20), 5, 1, 1},
      {"20% of 5 down (exact)", PCT(20), 5, 0, 1},
      {"33% of 3 up", PCT(33), 3, 1, 1},
      {"33% of 3 down", PCT(33), 3, 0, 0},
      {"1% of 1 up", PCT(1), 1, 1, 1},
      {"1% of 1 down", PCT(1), 1, 0, 0},
      {"0% up", PCT(0), 7, 1, 0},
      {"100% of 7", PCT(100), 7, 0, 7},
      {"20% of 0", PCT(20), 0, 1, 0},
      {"100% of 1000000 (no overflow)", PCT(100), 1000000, 1, 1000000},
      {"99% of 2000000000 (64-bit product)", PCT(99), 2000000000, 0,
       1980000000},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++)
    ROW_EQ(rows[i].name, "resolve",
           lb_intstr_resolve(&rows[i].v, rows[i].total, rows[i].up),
           rows[i].want);
}

/* ---- lb_cs_calc (§3.4) -------------------------------------------------- */
/* Expected outputs; DC = don't care. */
#define DC (-12345)
struct calc_want {
  int partition, max_surge, max_unavailable, scale_max_unavailable;
  int total_unavailable, update_old_diff, update_new_diff;
  int use_surge, use_surge_old, expected_total, expected_old;
  int scale_up, scale_up_old, scale_up_limited;
  int scale_down, scale_down_old, delete_ready_limit;
  int update_num, update_max_unavailable;
};

static void check_calc(const char *name, const struct lb_cs_calc *g,
                       const struct calc_want *w) {
#define F(f)                                                                   \
  if (w->f != DC)                                                              \
    ROW_EQ(name, #f, g->f, w->f);
  F(partition)
  F(max_surge)
  F(max_unavailable)
  F(scale_max_unavailable)
  F(total_unavailable)
  F(update_old_diff)
  F(update_new_diff)
  F(use_surge)
  F(use_surge_old)
  F(expected_total)
  F(expected_old)
  F(scale_up)
  F(scale_up_old)
  F(scale_up_limited)
  F(scale_down)
  F(scale_down_old)
  F(delete_ready_limit)
  F(update_num)
  F(update_max_unavailable)
#undef F
}

/* in: replicas, partition, max_surge, max_unavailable, scale_max_unavailable,
 *     paused, n_pods, new{total,predeleting,to_delete,unavailable},
 *     old{total,predeleting,to_delete,unavailable}, exclude_predeleting */
TEST(cloneset_calc_diff_table) {
  static const struct {
    const char *name;
    struct lb_cs_calc_in in;
    struct calc_want w;
  } rows[] = {
      {"scale up from 0 (default maxUnavailable 20% of 3 rounds up to 1)",
       {3, UNSET, UNSET, PCT(20), UNSET, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
       {0, 0, 1, -1, 0, 0, -3, 0, 0, 3, 0, 3, 0, 0, 0, 0, 0, 0, 0}},
      {"scale up limited by scaleStrategy.maxUnavailable 2 with 1 unavailable",
       {5, UNSET, UNSET, PCT(20), INT(2), 0, 2, 2, 0, 0, 1, 0, 0, 0, 0, 0},
       {0, 0, 1, 2, 1, 0, -3, 0, 0, 5, 0, 1, 0, 1, 0, 0, DC, 0, 0}},
      {"scale up fully blocked: scaleStrategy.maxUnavailable 1, 1 unavailable",
       {5, UNSET, UNSET, PCT(20), INT(1), 0, 2, 2, 0, 0, 1, 0, 0, 0, 0, 0},
       {0, 0, 1, 1, 1, 0, -3, 0, 0, 5, 0, 0, 0, 1, 0, 0, DC, 0, 0}},
      {"scale up not limited when cap is large enough (40% of 10 = 4)",
       {10, UNSET, UNSET, PCT(20), PCT(40), 0, 7, 7, 0, 0, 0, 0, 0, 0, 0, 0},
       {0, 0, 2, 4, 0, 0, -3, 0, 0, 10, 0, 3, 0, 0, 0, 0, DC, 0, 0}},
      {"scale up keeps partition: first pods from current revision",
       {4, INT(4), UNSET, PCT(20), UNSET, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0},
       {4, 0, 1, -1, 0, 0, 0, 0, 0, 4, 4, 2, 2, 0, 0, 0, DC, 0, 0}},
      {"scale up split: partition 3, 2 old 0 new, replicas 5",
       {5, INT(3), UNSET, INT(1), UNSET, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0},
       {3, 0, 1, -1, 0, 0, -2, 0, 0, 5, 3, 3, 1, 0, 0, 0, DC, 0, 0}},
      {"scale down with old-revision share (partition 1, 2 old + 2 new, R 3)",
       {3, INT(1), UNSET, PCT(20), UNSET, 0, 4, 2, 0, 0, 0, 2, 0, 0, 0, 0},
       {1, 0, 1, -1, 0, 1, 0, 0, 0, 3, 1, 0, 0, 0, 1, 1, 2, 0, 0}},
      {"scale down excludes pods already specified for deletion",
       {3, UNSET, UNSET, INT(1), UNSET, 0, 4, 4, 0, 1, 0, 0, 0, 0, 0, 0},
       {0, 0, 1, -1, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 2, 0, 0}},
      {"scale down by 2 from new pods only",
       {2, UNSET, UNSET, INT(1), UNSET, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0},
       {0, 0, 1, -1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 3, 0, 0}},
      {"partition 2 of 4 holds 2 old pods: updateNum 2",
       {4, INT(2), UNSET, INT(1), UNSET, 0, 4, 0, 0, 0, 0, 4, 0, 0, 0, 0},
       {2, 0, 1, -1, 0, 2, -2, 0, 0, 4, 2, 0, 0, 0, 0, 0, 1, 2, 1}},
      {"partition reached: updateNum 0",
       {4, INT(2), UNSET, INT(1), UNSET, 0, 4, 2, 0, 0, 0, 2, 0, 0, 0, 0},
       {2, 0, 1, -1, 0, 0, 0, 0, 0, 4, 2, 0, 0, 0, 0, 0, 1, 0, 0}},
      {"partition 99% of 4 -> 3: one pod to update",
       {4, PCT(99), UNSET, INT(1), UNSET, 0, 4, 0, 0, 0, 0, 4, 0, 0, 0, 0},
       {3, 0, 1, -1, 0, 1, -1, 0, 0, 4, 3, 0, 0, 0, 0, 0, 1, 1, 1}},
      {"update with unavailable pods: totalUnavailable, deleteReadyLimit 0",
       {4, UNSET, UNSET, INT(1), UNSET, 0, 4, 1, 1, 0, 0, 3, 0, 0, 2, 0},
       {0, 0, 1, -1, 3, 3, -4, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 3, 1}},
      {"maxSurge 1 starts a rollout by surging one new pod",
       {4, UNSET, INT(1), INT(0), UNSET, 0, 4, 0, 0, 0, 0, 4, 0, 0, 0, 0},
       {0, 1, 0, -1, 0, 4, -4, 1, 0, 5, 0, 1, 0, 0, 0, 0, 0, 4, 0}},
      {"maxSurge 1 after surge: updateNum 3, updateMaxUnavailable 1",
       {4, UNSET, INT(1), INT(0), UNSET, 0, 5, 1, 0, 0, 1, 4, 0, 0, 0, 0},
       {0, 1, 0, -1, 1, 4, -3, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 3, 1}},
      {"maxSurge replaces a specified-delete pod first (scale surge)",
       {4, UNSET, INT(1), INT(0), UNSET, 0, 4, 4, 0, 1, 0, 0, 0, 0, 0, 0},
       {0, 1, 0, -1, 0, 0, 0, 1, 0, 5, 0, 1, 0, 0, 0, 0, 0, 0, 0}},
      {"maxSurge: scale surge for an old to-delete pod wins the tie",
       {4, UNSET, INT(1), INT(0), UNSET, 0, 4, 3, 0, 0, 0, 1, 0, 1, 0, 0},
       {0, 1, 0, -1, 0, 1, -1, 1, 1, 5, 1, 1, 0, 0, 0, 0, 0, 1, 0}},
      /* kruise#1442 (198 pods, maxSurge 25%): surge = min(S, |oldDiff|,
       * |newDiff|), so the surge shrinks to the number of old pods left and
       * the tail of the rollout runs one pod at a time. Small analogue:
       * R=8, maxSurge 25% -> 2. */
      {"#1442 analogue: 3 old left, surge stays at maxSurge 2",
       {8, UNSET, PCT(25), INT(0), UNSET, 0, 8, 5, 0, 0, 0, 3, 0, 0, 0, 0},
       {0, 2, 0, -1, 0, 3, -3, 2, 0, 10, 0, 2, 0, 0, 0, 0, 0, 3, 0}},
      {"#1442 analogue: 2 old left, surge 2",
       {8, UNSET, PCT(25), INT(0), UNSET, 0, 8, 6, 0, 0, 0, 2, 0, 0, 0, 0},
       {0, 2, 0, -1, 0, 2, -2, 2, 0, 10, 0, 2, 0, 0, 0, 0, 0, 2, 0}},
      {"#1442 analogue: 1 old left, surge shrinks to 1",
       {8, UNSET, PCT(25), INT(0), UNSET, 0, 8, 7, 0, 0, 0, 1, 0, 0, 0, 0},
       {0, 2, 0, -1, 0, 1, -1, 1, 0, 9, 0, 1, 0, 0, 0, 0, 0, 1, 0}},
      {"#1442 analogue: 8 new (1 unavailable) + 1 old: no surge, scale the old "
       "one down",
       {8, UNSET, PCT(25), INT(0), UNSET, 0, 9, 8, 0, 0, 1, 1, 0, 0, 0, 0},
       {0, 2, 0, -1, 1, 1, 0, 0, 0, 8, 0, 0, 0, 0, 1, 1, 0, 0, 0}},
      {"paused forces maxSurge 0 and maxUnavailable rounds up again",
       {5, UNSET, INT(2), PCT(30), UNSET, 1, 5, 0, 0, 0, 0, 5, 0, 0, 0, 0},
       {0, 0, 2, -1, 0, 5, -5, 0, 0, 5, 0, 0, 0, 0, 0, 0, 2, 5, 2}},
      {"maxUnavailable 30% of 5 floors to 1 when maxSurge > 0",
       {5, UNSET, PCT(10), PCT(30), UNSET, 0, 5, 0, 0, 0, 0, 5, 0, 0, 0, 0},
       {0, 1, 1, -1, 0, 5, -5, 1, 0, 6, 0, 1, 0, 0, 0, 0, DC, 5, DC}},
      {"maxUnavailable 30% of 5 rounds up to 2 without maxSurge",
       {5, UNSET, UNSET, PCT(30), UNSET, 0, 5, 0, 0, 0, 0, 5, 0, 0, 0, 0},
       {0, 0, 2, -1, 0, 5, -5, 0, 0, 5, 0, 0, 0, 0, 0, 0, 2, 5, 2}},
      {"maxSurge 10% of 5 rounds up to 1",
       {5, UNSET, PCT(10), INT(1), UNSET, 0, 5, 5, 0, 0, 0, 0, 0, 0, 0, 0},
       {0, 1, 1, -1, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 1, 0, 0}},
      {"PreparingDelete pods count as unavailable and are not active",
       {3, UNSET, UNSET, INT(1), UNSET, 0, 4, 4, 1, 0, 0, 0, 0, 0, 0, 0},
       {0, 0, 1, -1, 1, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1, 0, 1, 0, 0}},
      /* §16.1 scenario 5: replicas 2 -> 3 while a podsToDelete pod waits in
       * PreparingDelete (3 active, 1 of them PreparingDelete). */
      {"PreparingDelete counted (no label): replicas 3 = 3 pods, no scale up",
       {3, UNSET, UNSET, PCT(20), UNSET, 0, 3, 3, 1, 0, 0, 0, 0, 0, 0, 0},
       {0, 0, 1, -1, 1, 0, -1, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
      {"exclude-preparing-delete label: the held pod is replaced at once",
       {3, UNSET, UNSET, PCT(20), UNSET, 0, 3, 3, 1, 0, 0, 0, 0, 0, 0, 1},
       {0, 0, 1, -1, 1, 0, -1, 0, 0, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0}},
      {"exclude-preparing-delete label: old share leaves it out too",
       {3, INT(2), UNSET, PCT(20), UNSET, 0, 3, 1, 0, 0, 0, 2, 1, 0, 0, 1},
       {2, 0, 1, -1, 1, 0, 0, 0, 0, 3, 2, 1, 1, 0, 0, 0, 0, 0, 0}},
      {"exclude-preparing-delete label: 4 pods (1 held) at replicas 3 is "
       "steady",
       {3, UNSET, UNSET, PCT(20), UNSET, 0, 4, 4, 1, 0, 0, 0, 0, 0, 0, 1},
       {0, 0, 1, -1, 1, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 1, 0, 0}},
      {"surplus pods raise deleteReadyLimit",
       {3, UNSET, UNSET, INT(1), UNSET, 0, 5, 5, 0, 0, 1, 0, 0, 0, 0, 0},
       {0, 0, 1, -1, 1, 0, 0, 0, 0, 3, 0, 0, 0, 0, 2, 0, 2, 0, 0}},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++) {
    struct lb_cs_calc out;
    memset(&out, 0x5a, sizeof out);
    lb_cs_calc(&rows[i].in, &out);
    check_calc(rows[i].name, &out, &rows[i].w);
  }
}

/* Invariants over a grid of inputs: never scale up and down at once,
 * never negative, surge within maxSurge, old share within the total. */
TEST(cloneset_calc_invariants_grid) {
  for (int R = 0; R <= 6; R++)
    for (int nt = 0; nt <= 7; nt++)
      for (int ot = 0; ot + nt <= 8; ot++)
        for (int part = 0; part <= R + 1; part++)
          for (int surge = 0; surge <= 2; surge++)
            for (int nu = 0; nu <= nt; nu++) {
              struct lb_cs_calc_in in;
              struct lb_cs_calc o;
              char name[128];
              memset(&in, 0, sizeof in);
              in.replicas = R;
              in.partition = (struct lb_intstr)INT(part);
              in.max_surge = (struct lb_intstr)INT(surge);
              in.max_unavailable = (struct lb_intstr)INT(1);
              in.n_pods = nt + ot;
              in.new_total = nt;
              in.new_unavailable = nu;
              in.old_total = ot;
              lb_cs_calc(&in, &o);
              snprintf(name, sizeof name, "R%d new%d old%d part%d surge%d nu%d",
                       R, nt, ot, part, surge, nu);
              if (o.scale_up && o.scale_down)
                lb_test_fail(__FILE__, __LINE__, "%s: up and down", name);
              if (o.scale_up < 0 || o.scale_down < 0 || o.scale_up_old < 0 ||
                  o.scale_down_old < 0 || o.delete_ready_limit < 0 ||
                  o.use_surge < 0)
                lb_test_fail(__FILE__, __LINE__, "%s: negative", name);
              if (o.use_surge > o.max_surge || o.use_surge_old > o.use_surge)
                lb_test_fail(__FILE__, __LINE__, "%s: surge", name);
              if (o.scale_up_old > o.scale_up ||
                  o.scale_down_old > o.scale_down)
                lb_test_fail(__FILE__, __LINE__, "%s: old share", name);
              if (o.partition < 0 || o.partition > R)
                lb_test_fail(__FILE__, __LINE__, "%s: partition", name);
              if (o.scale_up !=
                  (o.expected_total > nt + ot ? o.expected_total - nt - ot : 0))
                lb_test_fail(__FILE__, __LINE__, "%s: scale_up %d", name,
                             o.scale_up);
            }
}

/* ---- orderings (§1.5, §3.4) -------------------------------------------- */
struct vp {
  const char *name;
  const char *node; /* NULL = unscheduled */
  int phase, available, ready;
  int64_t cost;
  int rank;
  int64_t ready_ms;
  int restarts;
  int64_t created;
};
/* A healthy default pod; rows override one attribute. */
#define P(n)                                                                   \
  { n, "n1", LB_PH_RUNNING, 1, 1, 0, 0, 1000, 0, 5000 }
#define PX(n, node, ph, av, rd, cost, rank, rms, rs, cr)                       \
  { n, node, ph, av, rd, cost, rank, rms, rs, cr }

struct order_row {
  const char *name;
  struct vp pods[5];
  const char *want; /* comma-joined names, first = sorted first */
};

static void run_order(const struct order_row *row,
                      int (*cmp)(const void *, const void *), int reverse) {
  struct lb_pod pods[5];
  struct lb_cs_podinfo pi[5];
  struct lb_buf got = LB_BUF_INIT;
  size_t n = 0;
  memset(pods, 0, sizeof pods);
  memset(pi, 0, sizeof pi);
  while (n < 5 && row->pods[n].name)
    n++;
  for (size_t i = 0; i < n; i++) {
    const struct vp *v = &row->pods[reverse ? n - 1 - i : i];
    pods[i].o.kind = LB_KIND_POD;
    pods[i].o.name = (char *)v->name;
    pods[i].o.created_ms = v->created;
    pods[i].node = (char *)v->node;
    pods[i].phase = v->phase;
    pods[i].ready = v->ready;
    pods[i].ready_ms = v->ready_ms;
    pods[i].restarts = v->restarts;
    pods[i].deletion_cost = v->cost;
    pi[i].pod = &pods[i];
    pi[i].available = v->available;
    pi[i].node_rank = v->rank;
  }
  qsort(pi, n, sizeof pi[0], cmp);
  for (size_t i = 0; i < n; i++)
    lb_buf_addf(&got, "%s%s", i ? "," : "", pi[i].pod->o.name);
  if (strcmp(got.p ? got.p : "", row->want) != 0)
    lb_test_fail(__FILE__, __LINE__, "row \"%s\"%s: order %s, want %s",
                 row->name, reverse ? " (input reversed)" : "", got.p,
                 row->want);
  lb_buf_release(&got);
}

TEST(cloneset_calc_victim_order_table) {
  static const struct order_row rows[] = {
      {"unscheduled first",
       {P("a"), PX("b", NULL, LB_PH_RUNNING, 1, 1, 0, 0, 1000, 0, 5000)},
       "b,a"},
      {"Pending < Unknown < Running",
       {PX("a", "n1", LB_PH_RUNNING, 0, 0, 0, 0, 0, 0, 5000),
        PX("b", "n1", LB_PH_UNKNOWN, 0, 0, 0, 0, 0, 0, 5000),
        PX("c", "n1", LB_PH_PENDING, 0, 0, 0, 0, 0, 0, 5000)},
       "c,b,a"},
      {"unavailable before available (both ready)",
       {P("a"), PX("b", "n1", LB_PH_RUNNING, 0, 1, 0, 0, 1000, 0, 5000)},
       "b,a"},
      {"not-ready before ready (both unavailable)",
       {PX("a", "n1", LB_PH_RUNNING, 0, 1, 0, 0, 1000, 0, 5000),
        PX("b", "n1", LB_PH_RUNNING, 0, 0, 0, 0, 0, 0, 5000)},
       "b,a"},
      {"lower pod-deletion-cost first (negative allowed)",
       {PX("a", "n1", LB_PH_RUNNING, 1, 1, 10, 0, 1000, 0, 5000),
        PX("b", "n1", LB_PH_RUNNING, 1, 1, -5, 0, 1000, 0, 5000), P("c")},
       "b,c,a"},
      {"higher node rank first",
       {PX("a", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 1000, 0, 5000),
        PX("b", "n1", LB_PH_RUNNING, 1, 1, 0, 3, 1000, 0, 5000),
        PX("c", "n1", LB_PH_RUNNING, 1, 1, 0, 1, 1000, 0, 5000)},
       "b,c,a"},
      {"became ready more recently first",
       {PX("a", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 1000, 0, 5000),
        PX("b", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 3000, 0, 5000),
        PX("c", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 2000, 0, 5000)},
       "b,c,a"},
      {"ready time ignored when not ready",
       {PX("b", "n1", LB_PH_RUNNING, 0, 0, 0, 0, 9000, 0, 5000),
        PX("a", "n1", LB_PH_RUNNING, 0, 0, 0, 0, 1, 0, 5000)},
       "a,b"},
      {"more restarts first",
       {PX("a", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 1000, 0, 5000),
        PX("b", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 1000, 5, 5000),
        PX("c", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 1000, 2, 5000)},
       "b,c,a"},
      {"newer creation first",
       {PX("a", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 1000, 0, 1000),
        PX("b", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 1000, 0, 3000),
        PX("c", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 1000, 0, 2000)},
       "b,c,a"},
      {"zero creation time first",
       {PX("a", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 1000, 0, 9000),
        PX("b", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 1000, 0, 0)},
       "b,a"},
      {"name breaks ties", {P("c"), P("a"), P("b")}, "a,b,c"},
      {"unscheduled beats phase, readiness and cost",
       {PX("a", "n1", LB_PH_PENDING, 0, 0, -100, 9, 0, 9, 0),
        PX("b", NULL, LB_PH_RUNNING, 1, 1, 100, 0, 1000, 0, 5000)},
       "b,a"},
      {"phase beats availability",
       {PX("a", "n1", LB_PH_RUNNING, 0, 0, 0, 0, 0, 0, 5000),
        PX("b", "n1", LB_PH_PENDING, 1, 1, 0, 0, 1000, 0, 5000)},
       "b,a"},
      {"cost beats node rank",
       {PX("a", "n1", LB_PH_RUNNING, 1, 1, 1, 5, 1000, 0, 5000),
        PX("b", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 1000, 0, 5000)},
       "b,a"},
      {"node rank beats ready time",
       {PX("a", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 9000, 0, 5000),
        PX("b", "n1", LB_PH_RUNNING, 1, 1, 0, 1, 1000, 0, 5000)},
       "b,a"},
      {"ready time beats restarts",
       {PX("a", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 1000, 9, 5000),
        PX("b", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 2000, 0, 5000)},
       "b,a"},
      {"restarts beat creation time",
       {PX("a", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 1000, 0, 9000),
        PX("b", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 1000, 1, 1000)},
       "b,a"},
      {"five pods, all criteria",
       {P("e"), PX("d", "n1", LB_PH_RUNNING, 1, 1, 0, 2, 1000, 0, 5000),
        PX("c", "n1", LB_PH_RUNNING, 1, 1, -1, 0, 1000, 0, 5000),
        PX("b", "n1", LB_PH_RUNNING, 0, 0, 0, 0, 0, 0, 5000),
        PX("a", NULL, LB_PH_PENDING, 0, 0, 0, 0, 0, 0, 5000)},
       "a,b,c,d,e"},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++) {
    run_order(&rows[i], lb_cs_cmp_victim, 0);
    run_order(&rows[i], lb_cs_cmp_victim, 1);
  }
}

TEST(cloneset_calc_update_order_table) {
  static const struct order_row rows[] = {
      {"unscheduled first",
       {P("a"), PX("b", NULL, LB_PH_RUNNING, 1, 1, 0, 0, 1000, 0, 5000)},
       "b,a"},
      {"Pending < Unknown < Running",
       {PX("a", "n1", LB_PH_RUNNING, 0, 0, 0, 0, 0, 0, 5000),
        PX("b", "n1", LB_PH_UNKNOWN, 0, 0, 0, 0, 0, 0, 5000),
        PX("c", "n1", LB_PH_PENDING, 0, 0, 0, 0, 0, 0, 5000)},
       "c,b,a"},
      {"not-ready first",
       {P("a"), PX("b", "n1", LB_PH_RUNNING, 0, 0, 0, 0, 0, 0, 5000)},
       "b,a"},
      {"ready for less time first",
       {PX("a", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 1000, 0, 5000),
        PX("b", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 3000, 0, 5000),
        PX("c", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 2000, 0, 5000)},
       "b,c,a"},
      {"more restarts first",
       {PX("a", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 1000, 1, 5000),
        PX("b", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 1000, 4, 5000)},
       "b,a"},
      {"newer first",
       {PX("a", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 1000, 0, 1000),
        PX("b", "n1", LB_PH_RUNNING, 1, 1, 0, 0, 1000, 0, 2000)},
       "b,a"},
      {"deletion cost and node rank do not matter",
       {PX("b", "n1", LB_PH_RUNNING, 1, 1, -100, 0, 1000, 0, 5000),
        PX("a", "n1", LB_PH_RUNNING, 1, 1, 100, 7, 1000, 0, 5000)},
       "a,b"},
      {"name breaks ties", {P("c"), P("b"), P("a")}, "a,b,c"},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++) {
    run_order(&rows[i], lb_cs_cmp_update, 0);
    run_order(&rows[i], lb_cs_cmp_update, 1);
  }
}

/* Total order: antisymmetric and a pod equals only itself. */
TEST(cloneset_calc_orderings_are_total) {
  struct lb_pod pods[24];
  struct lb_cs_podinfo pi[24];
  static const char *names[24] = {"p00", "p01", "p02", "p03", "p04", "p05",
                                  "p06", "p07", "p08", "p09", "p10", "p11",
                                  "p12", "p13", "p14", "p15", "p16", "p17",
                                  "p18", "p19", "p20", "p21", "p22", "p23"};
  memset(pods, 0, sizeof pods);
  memset(pi, 0, sizeof pi);
  for (int i = 0; i < 24; i++) {
    pods[i].o.name = (char *)names[i];
    pods[i].node = i % 3 ? (char *)"n1" : NULL;
    pods[i].phase = i % 4 == 0 ? LB_PH_PENDING : LB_PH_RUNNING;
    pods[i].ready = i % 2;
    pods[i].ready_ms = (i % 5) * 100;
    pods[i].restarts = i % 3;
    pods[i].o.created_ms = (i % 6) * 1000;
    pods[i].deletion_cost = i % 7 == 0 ? -1 : 0;
    pi[i].pod = &pods[i];
    pi[i].available = i % 2 && i % 3;
    pi[i].node_rank = i % 2;
  }
  int (*cmps[2])(const void *, const void *) = {lb_cs_cmp_victim,
                                                lb_cs_cmp_update};
  for (int c = 0; c < 2; c++)
    for (int i = 0; i < 24; i++)
      for (int j = 0; j < 24; j++) {
        int a = cmps[c](&pi[i], &pi[j]), b = cmps[c](&pi[j], &pi[i]);
        if (i == j)
          ASSERT_EQ_INT(a, 0);
        else
          ASSERT(a != 0 && (a < 0) == (b > 0));
      }
}

/* ---- revision hash (§1.1) ---------------------------------------------- */
static int in_alphabet(const char *s) {
  for (; *s; s++)
    if (!strchr("bcdfghjklmnpqrstvwxz2456789", *s))
      return 0;
  return 1;
}

TEST(cloneset_calc_revision_hash) {
  static const char *data[] = {
      "", "{}", "{\"spec\":{\"template\":{\"$patch\":\"replace\"}}}",
      "{\"spec\":{\"template\":{\"$patch\":\"replace\",\"spec\":{"
      "\"containers\":"
      "[{\"image\":\"nginx:1\",\"name\":\"c\"}]}}}}",
      "{\"spec\":{\"template\":{\"$patch\":\"replace\",\"spec\":{"
      "\"containers\":"
      "[{\"image\":\"nginx:2\",\"name\":\"c\"}]}}}}"};
  char seen[LB_ARRAY_SIZE(data) * 3][16];
  size_t ns = 0;
  for (size_t i = 0; i < LB_ARRAY_SIZE(data); i++) {
    for (int cc = 0; cc < 3; cc++) {
      char a[16], b[16];
      memset(a, 'X', sizeof a);
      lb_cs_revision_hash(data[i], cc, a, sizeof a);
      lb_cs_revision_hash(data[i], cc, b, sizeof b);
      ASSERT_EQ_STR(a, b);                       /* deterministic */
      ASSERT(strlen(a) >= 1 && strlen(a) <= 10); /* decimal uint32 */
      if (!in_alphabet(a))
        lb_test_fail(__FILE__, __LINE__,
                     "hash %s has a char outside the "
                     "safe alphabet",
                     a);
      for (size_t k = 0; k < ns; k++)
        if (!strcmp(seen[k], a))
          lb_test_fail(__FILE__, __LINE__, "data %zu cc %d: hash %s repeats", i,
                       cc, a);
      lb_strlcpy(seen[ns++], a, sizeof seen[0]);
    }
  }
  /* truncation to the buffer, always NUL-terminated */
  char small[4], full[16];
  lb_cs_revision_hash("abc", 0, full, sizeof full);
  memset(small, 'X', sizeof small);
  lb_cs_revision_hash("abc", 0, small, sizeof small);
  ASSERT_EQ_INT(strlen(small), 3);
  ASSERT(!strncmp(small, full, 3));
}

/* Upstream's HashControllerRevision uses Go's fnv.New32() — FNV-1, not
 * FNV-1a — over data then the decimal collision count, then
 * rand.SafeEncodeString of the decimal Sum32. Reference values computed
 * independently (Python, FNV-1 32-bit):
 *   "hello" + "0" -> 1933608213 -> "5f77b4d657"
 *   "hello" + "1" -> 1933608212 -> "5f77b4d656"
 *   "{\"spec\":{}}" + "0" -> 1575608152 -> "59c9b4d596"
 * KNOWN FAILURE (see report): the engine implements FNV-1a, so revision
 * names differ from those OpenKruise computes for the same bytes. */
TEST(cloneset_calc_revision_hash_matches_upstream_fnv1) {
  char h[16];
  lb_cs_revision_hash("hello", 0, h, sizeof h);
  ASSERT_EQ_STR(h, "5f77b4d657");
  lb_cs_revision_hash("hello", 1, h, sizeof h);
  ASSERT_EQ_STR(h, "5f77b4d656");
  lb_cs_revision_hash("{\"spec\":{}}", 0, h, sizeof h);
  ASSERT_EQ_STR(h, "59c9b4d596");
}
