/* test_podorder.c — table tests for the update ordering strategies
 * (engine/podorder.c; kruise-spec §1.5, §3.4 step 4).
 *
 * Every row is a CloneSet with pods p00, p01, ... whose default-order
 * attributes are equal unless marked, so the default order is name order
 * and an expected order is written as pod numbers ("4,0,1,2,3,5"), the
 * way upstream's tests write indexes. Each row runs with its candidates
 * and the CloneSet's pod list in several initial orders: the result must
 * not depend on them. The scatter rows marked "upstream" are the vectors
 * of openkruise/kruise pkg/util/updatesort/scatter_sort_test.go. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/cloneset.h"
#include "../engine/decision.h"
#include "../engine/engine.h"
#include "../engine/err.h"
#include "../engine/event.h"
#include "../engine/obj.h"
#include "../engine/podorder.h"
#include "test.h"

#define MAXP 16

/* Pod spec: optional markers, then "k=v,k=v" labels (items without '='
 * are ignored, as upstream's test helper does).
 *   '-'  not an update candidate (counts for scatter density only)
 *   'x'  not active (Succeeded): neither candidate nor counted
 *   '^'  unscheduled (sorts first in the default order) */
struct row {
  const char *name;
  const char *priority, *scatter; /* canonical JSON or NULL */
  const char *pods[MAXP];
  const char *want; /* candidate numbers, first = updated first */
  const char *why;  /* substring of the malformed-strategy message, or NULL */
};

static char *pack_labels(const char *spec) {
  struct lb_buf b = LB_BUF_INIT;
  const char *p = spec;
  while (*p) {
    size_t n = strcspn(p, ",");
    const char *eq = memchr(p, '=', n);
    if (eq) {
      lb_buf_add(&b, p, (size_t)(eq - p));
      lb_buf_add(&b, "", 1);
      lb_buf_add(&b, eq + 1, n - (size_t)(eq - p) - 1);
      lb_buf_add(&b, "", 1);
    }
    p += n + (p[n] == ',');
  }
  lb_buf_add(&b, "", 1);
  ASSERT(!b.err);
  return lb_buf_detach(&b, NULL);
}

struct fixture {
  struct lb_pod pods[MAXP];
  struct lb_pod *owned[MAXP];
  struct lb_cs_podinfo pi[MAXP];
  struct lb_cs_podinfo *cand[MAXP];
  char names[MAXP][24];
  struct lb_cloneset cs;
  size_t n, nc;
};

/* Builds the row; `perm` picks the initial order of both the candidate
 * array and the CloneSet's pod list: 0 as written, 1 reversed, 2..
 * rotated by perm. */
static void build(struct fixture *f, const struct row *r, int perm) {
  memset(f, 0, sizeof *f);
  while (f->n < MAXP && r->pods[f->n])
    f->n++;
  for (size_t i = 0; i < f->n; i++) {
    const char *s = r->pods[i];
    struct lb_pod *p = &f->pods[i];
    int cand = 1;
    snprintf(f->names[i], sizeof f->names[i], "p%02zu", i);
    p->o.kind = LB_KIND_POD;
    p->o.name = f->names[i];
    p->o.created_ms = 5000;
    p->node = (char *)"n1";
    p->phase = LB_PH_RUNNING;
    p->ready = 1;
    p->ready_ms = 1000;
    for (;; s++) {
      if (*s == '-')
        cand = 0;
      else if (*s == 'x')
        cand = 0, p->phase = LB_PH_SUCCEEDED;
      else if (*s == '^')
        p->node = NULL;
      else
        break;
    }
    p->o.labels = pack_labels(s);
    f->pi[i].pod = p;
    f->pi[i].available = 1;
    if (cand)
      f->cand[f->nc++] = &f->pi[i];
  }
  for (size_t i = 0; i < f->n; i++) {
    size_t j = perm == 0   ? i
               : perm == 1 ? f->n - 1 - i
                           : (i + (size_t)perm) % f->n;
    f->owned[i] = &f->pods[j];
  }
  if (perm == 1) {
    for (size_t i = 0; i < f->nc / 2; i++) {
      struct lb_cs_podinfo *t = f->cand[i];
      f->cand[i] = f->cand[f->nc - 1 - i];
      f->cand[f->nc - 1 - i] = t;
    }
  } else if (perm > 1 && f->nc) {
    struct lb_cs_podinfo *tmp[MAXP];
    for (size_t i = 0; i < f->nc; i++)
      tmp[i] = f->cand[(i + (size_t)perm) % f->nc];
    memcpy(f->cand, tmp, f->nc * sizeof *tmp);
  }
  f->cs.o.kind = LB_KIND_CLONESET;
  f->cs.o.name = (char *)"cs";
  f->cs.priority_json = (char *)r->priority;
  f->cs.scatter_json = (char *)r->scatter;
  f->cs.pods = f->owned;
  f->cs.n_pods = f->n;
}

static void release(struct fixture *f) {
  for (size_t i = 0; i < f->n; i++)
    free(f->pods[i].o.labels);
}

static void run_row(const struct row *r) {
  for (int perm = 0; perm < 4; perm++) {
    struct fixture f;
    struct lb_buf got = LB_BUF_INIT;
    char why[256];
    build(&f, r, perm);
    memset(why, 'Z', sizeof why); /* must be overwritten */
    ASSERT_OK(lb_podorder_cs_update(f.cand, f.nc, &f.cs, why, sizeof why));
    for (size_t i = 0; i < f.nc; i++)
      lb_buf_addf(&got, "%s%ld", i ? "," : "",
                  strtol(f.cand[i]->pod->o.name + 1, NULL, 10));
    if (strcmp(got.p ? got.p : "", r->want) != 0)
      lb_test_fail(__FILE__, __LINE__,
                   "row \"%s\" (initial order %d): order %s, want %s", r->name,
                   perm, got.p ? got.p : "", r->want);
    if (r->why ? !strstr(why, r->why) : why[0] != '\0')
      lb_test_fail(__FILE__, __LINE__, "row \"%s\": why \"%.*s\", want %s%s%s",
                   r->name, (int)strnlen(why, sizeof why), why,
                   r->why ? "\"" : "", r->why ? r->why : "none",
                   r->why ? "\"" : "");
    lb_buf_release(&got);
    release(&f);
  }
}

/* ---- trailing integers (orderPriority values) --------------------------- */
TEST(podorder_suffix_int_table) {
  static const struct {
    const char *in;
    int64_t want;
  } rows[] = {
      {"o-10", 10},
      {"o-5", 5},
      {"5", 5},
      {"007", 7},
      {"a1b2", 2},
      {"abc", 0},
      {"", 0},
      {"12-", 0},
      {"sts-0", 0},
      {"x-9223372036854775807", INT64_MAX},
      {"9223372036854775808", 0}, /* overflows: upstream's ParseInt fails */
      {"99999999999999999999999", 0},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++)
    if (lb_podorder_suffix_int(rows[i].in) != rows[i].want)
      lb_test_fail(__FILE__, __LINE__, "suffix of \"%s\" = %lld, want %lld",
                   rows[i].in, (long long)lb_podorder_suffix_int(rows[i].in),
                   (long long)rows[i].want);
}

/* ---- weightPriority ----------------------------------------------------- */
#define W3                                                                     \
  "{\"weightPriority\":["                                                      \
  "{\"matchSelector\":{\"matchLabels\":{\"zone\":\"a\"}},\"weight\":50},"      \
  "{\"matchSelector\":{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":"  \
  "\"In\",\"values\":[\"gold\",\"silver\"]}]},\"weight\":30},"                 \
  "{\"matchSelector\":{\"matchExpressions\":[{\"key\":\"canary\","             \
  "\"operator\":\"Exists\"}]},\"weight\":10}]}"

TEST(podorder_weight_priority_table) {
  static const struct row rows[] = {
      {"sum of matching terms, heavier first; ties keep the default order",
       W3,
       NULL,
       {"", "zone=a", "tier=gold", "zone=a,tier=silver", "canary=1,tier=bronze",
        "zone=a,tier=gold,canary=x", "zone=b,tier=silver"},
       "5,3,1,2,6,4,0",
       NULL},
      {"NotIn and DoesNotExist match pods without the key",
       "{\"weightPriority\":[{\"matchSelector\":{\"matchExpressions\":[{"
       "\"key\":"
       "\"env\",\"operator\":\"NotIn\",\"values\":[\"prod\"]}]},\"weight\":20},"
       "{\"matchSelector\":{\"matchExpressions\":[{\"key\":\"gpu\","
       "\"operator\":"
       "\"DoesNotExist\"}]},\"weight\":5}]}",
       NULL,
       {"env=prod", "env=dev,gpu=1", "gpu=1", "env=prod,gpu=1", "env=test"},
       "4,1,2,0,3",
       NULL},
      {"matchLabels and matchExpressions in one selector must both match",
       "{\"weightPriority\":[{\"matchSelector\":{\"matchExpressions\":[{"
       "\"key\":"
       "\"tier\",\"operator\":\"In\",\"values\":[\"gold\"]}],\"matchLabels\":{"
       "\"zone\":\"a\"}},\"weight\":100}]}",
       NULL,
       {"zone=a", "tier=gold", "zone=a,tier=gold", "zone=b,tier=gold"},
       "2,0,1,3",
       NULL},
      {"weight 0 changes nothing",
       "{\"weightPriority\":[{\"matchSelector\":{\"matchLabels\":{\"zone\":"
       "\"a\"}},\"weight\":0}]}",
       NULL,
       {"", "zone=a", "", "zone=a"},
       "0,1,2,3",
       NULL},
      {"default order first: unscheduled before scheduled among equals",
       "{\"weightPriority\":[{\"matchSelector\":{\"matchLabels\":{\"zone\":"
       "\"a\"}},\"weight\":1}]}",
       NULL,
       {"zone=a", "^", "", "^zone=a"},
       "3,0,1,2",
       NULL},
      {"empty priority strategy is no strategy",
       "{}",
       NULL,
       {"zone=a", "", "zone=b"},
       "0,1,2",
       NULL},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++)
    run_row(&rows[i]);
}

/* ---- orderPriority ------------------------------------------------------ */
TEST(podorder_order_priority_table) {
  static const struct row rows[] = {
      {"higher trailing integer first; pods without the key first",
       "{\"orderPriority\":[{\"orderedKey\":\"rank\"}]}",
       NULL,
       {"rank=o-5", "rank=o-10", "", "rank=7", "rank=abc", "other=9"},
       "2,5,1,3,0,4",
       NULL},
      {"earlier term first, a pod goes by the first key it carries",
       "{\"orderPriority\":[{\"orderedKey\":\"first\"},{\"orderedKey\":"
       "\"second\"}]}",
       NULL,
       {"second=9", "first=1", "first=2,second=100", "", "second=s-20"},
       "3,2,1,4,0",
       NULL},
      {"equal values keep the default order",
       "{\"orderPriority\":[{\"orderedKey\":\"rank\"}]}",
       NULL,
       {"rank=a-1", "^rank=b-1", "rank=1", "^", ""},
       "3,4,1,0,2",
       NULL},
      {"overflowing suffix counts as 0",
       "{\"orderPriority\":[{\"orderedKey\":\"rank\"}]}",
       NULL,
       {"rank=99999999999999999999", "rank=1", "rank=0"},
       "1,0,2",
       NULL},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++)
    run_row(&rows[i]);
}

/* ---- scatter ------------------------------------------------------------ */
#define A "labelA=AAA"
#define B "labelB=BBB"
#define C "labelC=CCC"
#define SA "[{\"key\":\"labelA\",\"value\":\"AAA\"}]"
#define SB "[{\"key\":\"labelB\",\"value\":\"BBB\"}]"
#define SAB                                                                    \
  "[{\"key\":\"labelA\",\"value\":\"AAA\"},{\"key\":\"labelB\",\"value\":"     \
  "\"BBB\"}]"
#define SBA                                                                    \
  "[{\"key\":\"labelB\",\"value\":\"BBB\"},{\"key\":\"labelA\",\"value\":"     \
  "\"AAA\"}]"
#define SABC                                                                   \
  "[{\"key\":\"labelA\",\"value\":\"AAA\"},{\"key\":\"labelB\",\"value\":"     \
  "\"BBB\"},{\"key\":\"labelC\",\"value\":\"CCC\"}]"

/* upstream TestScatterPodsByRule: one term, every pod a candidate. These
 * are the vectors of the test file that goes with the v1alpha1-era
 * scatter_sort.go implemented here (round-half-up group sizes). A later
 * upstream test file expects 2,0,3,1,4,5 and 2,0,4,1,5,3,6,7,8 for the two
 * "more scattered" rows marked (*), i.e. matched groups of 1; the source
 * of that change was not available, so this follows the code. */
TEST(podorder_scatter_upstream_by_rule_table) {
  static const struct row rows[] = {
      {"no label", NULL, SA, {""}, "0", NULL},
      {"only one scattered pod", NULL, SA, {A}, "0", NULL},
      {"odd scattered + odd ordinary", NULL, SA, {A, "bbb"}, "0,1", NULL},
      {"even scattered + even ordinary",
       NULL,
       SA,
       {"", "", "", "", A, A},
       "4,0,1,2,3,5",
       NULL},
      {"odd scattered + odd ordinary (3+3)",
       NULL,
       SA,
       {"", "", "", A, A, A},
       "3,0,1,4,2,5",
       NULL},
      {"even scattered + odd ordinary",
       NULL,
       SA,
       {"", "", "", A, "", "", A},
       "3,0,1,2,4,5,6",
       NULL},
      {"odd scattered + even ordinary",
       NULL,
       SA,
       {"", "", "", "", "", "", A, A, A},
       "6,0,1,2,7,3,4,5,8",
       NULL},
      {"even scattered + even ordinary, more scattered (*)",
       NULL,
       SA,
       {"", "", A, A, A, A},
       "2,3,0,4,1,5",
       NULL},
      {"even scattered + odd ordinary, more scattered (*)",
       NULL,
       SA,
       {"", "", A, "", A, A, A, A, A},
       "2,4,0,5,6,1,7,3,8",
       NULL},
      {"odd scattered + even ordinary, more scattered",
       NULL,
       SA,
       {"", A, "", A, "", "", A, A, A},
       "1,0,3,2,6,4,7,5,8",
       NULL},
      {"invalid label",
       NULL,
       SA,
       {"", "", "", "", "ee", "a", "", A, A, A "," B},
       "7,0,1,2,3,8,4,5,6,9",
       NULL},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++)
    run_row(&rows[i]);
}

/* upstream TestSort: several terms; pods past the candidates only count for
 * the density ('-'), a nil pod is an inactive one ('x'). */
TEST(podorder_scatter_upstream_sort_table) {
  static const struct row rows[] = {
      {"a scattered pod + an ordinary pod", NULL, SA, {A "," B}, "0", NULL},
      {"all ordinary pods",
       NULL,
       "[]",
       {"", "", "", "", "", ""},
       "0,1,2,3,4,5",
       NULL},
      {"one pod one label",
       NULL,
       SA,
       {"", "", "", "", A, A},
       "4,0,1,2,3,5",
       NULL},
      {"one pod more labels",
       NULL,
       SB,
       {"", "", "", "", "sdfb=eee", "dsf=same", B, A, A, A "," B},
       "6,0,1,2,3,4,5,7,8,9",
       NULL},
      {"2 dimensions + one pod one label",
       NULL,
       SAB,
       {B, B, "", "", A, A},
       "0,4,2,3,5,1",
       NULL},
      {"2 dimensions + one pod more labels",
       NULL,
       SAB,
       {"", "", "", B, A "," B, A},
       "4,0,1,2,5,3",
       NULL},
      {"2 dimensions + same label, sequence A + B",
       NULL,
       SBA,
       {"", "", "", "", "sdfb=eee", "dsf=same", B, A, A, B},
       "7,6,0,1,2,3,4,5,9,8",
       NULL},
      {"2 dimensions + same label, sequence B + A",
       NULL,
       SAB,
       {"", "", "", "", "sdfb=eee", "dsf=same", B, A, A, B},
       "6,7,0,1,2,3,4,5,8,9",
       NULL},
      {"2 dimensions + same pod same label, even + even",
       NULL,
       SAB,
       {"", "", "", "", "sdfb=eee", "dsf=same", A "," B, "", "", B "," A},
       "6,0,1,2,3,4,5,7,8,9",
       NULL},
      {"2 dimensions + same pod same label, even + odd",
       NULL,
       SAB,
       {"", "", "", "sdfb=eee", "dsf=same", A "," B, "", "", B "," A},
       "5,0,1,2,3,4,6,7,8",
       NULL},
      {"2 dimensions + same pod same label, odd + odd, 2 non-candidates",
       NULL,
       SAB,
       {"", "", "", A, "sdfb=eee", "dsf=same", A "," B, "", "-", "-"},
       "3,0,1,2,4,5,7,6",
       NULL},
      {"2 dimensions + same pod same label, odd + odd, 1 non-candidate",
       NULL,
       SAB,
       {"", "", "", A, "", "", "sdfb=eee", "dsf=same", A "," B, "", "",
        "-" B "," A},
       "0,1,2,4,3,5,6,7,9,10,8",
       NULL},
      {"2 dimensions, even + even, more scattered",
       NULL,
       SAB,
       {"", "", "", A, "sdfb=eee," A, "dsf=same", A "," B, "", "", B "," A},
       "6,3,0,1,4,2,5,7,8,9",
       NULL},
      {"2 dimensions, even + odd, more scattered",
       NULL,
       SAB,
       {"", A, A, "sdfb=eee", "dsf=same", A "," B, "", "", B "," A},
       "5,1,0,3,2,4,6,7,8",
       NULL},
      {"2 dimensions, odd + odd, more scattered, 2 non-candidates",
       NULL,
       SAB,
       {A, "", "", A, "sdfb=eee," A, "dsf=same", A "," B, "", "-", "-" B "," A},
       "1,0,2,3,5,4,7,6",
       NULL},
      {"2 dimensions, odd + odd, more scattered, 1 non-candidate",
       NULL,
       SAB,
       {"", "", A, A, "", A, "sdfb=eee", "dsf=same", A "," B, "", "",
        "-" B "," A},
       "0,2,1,4,3,6,7,5,9,10,8",
       NULL},
      {"3 dimensions + one pod one label",
       NULL,
       SABC,
       {"", A, A, B, B, C, C, C, C, C},
       "3,1,5,0,6,7,8,9,2,4",
       NULL},
      {"3 dimensions + one pod more labels",
       NULL,
       SABC,
       {"", A, A "," C, B "," C, B, "", "", C, C, C},
       "3,2,0,7,8,5,6,9,1,4",
       NULL},
      {"continuous sort 1",
       NULL,
       SA,
       {"", "", "", "", A, A, "-" A},
       "0,1,4,2,3,5",
       NULL},
      {"continuous sort 2 (density from non-candidates)",
       NULL,
       SA,
       {A, A, "", "", "", "", "", "-", "-", "-" A},
       "2,0,3,4,5,6,1",
       NULL},
      {"nil pod in the list (an inactive pod here)",
       NULL,
       SABC,
       {"", A, A "," C, B "," C, B, "x", "", "", C, C, C},
       "3,2,0,8,9,6,7,10,1,4",
       NULL},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++)
    run_row(&rows[i]);
}

/* Derived by hand from the algorithm (see each row's comment). */
TEST(podorder_scatter_hand_derived_table) {
  static const struct row rows[] = {
      /* matched 0,2,4 / unmatched 1,3,5,6; keep 4 last; totals 2:4 equal
       * the candidates' 2:4 -> update groups: 2 groups of 1 matched + 2
       * unmatched: [0][1,3][2][5,6] then 4. */
      {"even density: groups from the candidates",
       NULL,
       "[{\"key\":\"zone\",\"value\":\"a\"}]",
       {"zone=a", "", "zone=a", "", "zone=a", "", ""},
       "0,1,3,2,5,6,4",
       NULL},
      /* six more zone=a pods outside the candidates: totals 8:4 (after the
       * kept one) are denser than 2:4 -> total groups of 2 matched + 1
       * unmatched; groups = min(2/2, 4/1) = 1, remainder 4 - 1 = 3
       * unmatched go first: [1,3,5][0,2][6] then 4. */
      {"dense term elsewhere: unmatched remainder first",
       NULL,
       "[{\"key\":\"zone\",\"value\":\"a\"}]",
       {"zone=a", "", "zone=a", "", "zone=a", "", "", "-zone=a", "-zone=a",
        "-zone=a", "-zone=a", "-zone=a", "-zone=a"},
       "1,3,5,0,2,6,4",
       NULL},
      /* inactive pods do not count: same as the first row */
      {"inactive pods do not count for the density",
       NULL,
       "[{\"key\":\"zone\",\"value\":\"a\"}]",
       {"zone=a", "", "zone=a", "", "zone=a", "", "", "xzone=a", "xzone=a",
        "xzone=a", "xzone=a", "xzone=a", "xzone=a"},
       "0,1,3,2,5,6,4",
       NULL},
      /* value "" matches pods without the key (upstream reads a missing
       * label as ""): matched 2,4, keep 4; 1:4 -> [2][0,1,3,5] then 4. */
      {"empty value matches pods without the key",
       NULL,
       "[{\"key\":\"zone\",\"value\":\"\"}]",
       {"zone=a", "zone=a", "", "zone=a", "", "zone=a"},
       "2,0,1,3,5,4",
       NULL},
      /* terms by candidate count: rack=r1 (3) before zone=a (2) although
       * written second. rack: matched 0,1,2 keep 2; 2:3 -> 2 groups of
       * 1 + round(1.5)=2: [0][3,4][1][5] then 2 -> 0,3,4,1,5,2. zone=a
       * (pods 3,5): matched 3,5 keep 5; 1:4 -> [3][0,4,1,2] then 5. */
      {"terms go by candidate count, larger first",
       NULL,
       "[{\"key\":\"zone\",\"value\":\"a\"},{\"key\":\"rack\",\"value\":"
       "\"r1\"}]",
       {"rack=r1", "rack=r1", "rack=r1", "zone=a", "", "zone=a"},
       "3,0,4,1,2,5",
       NULL},
      {"a term no candidate carries is skipped",
       NULL,
       "[{\"key\":\"zone\",\"value\":\"none\"},{\"key\":\"zone\",\"value\":"
       "\"a\"}]",
       {"", "", "", "", "zone=a", "zone=a"},
       "4,0,1,2,3,5",
       NULL},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++)
    run_row(&rows[i]);
}

/* ---- PreparingUpdate and the whole pipeline ------------------------------ */
#define PU "lifecycle.apps.kruise.io/state=PreparingUpdate"
TEST(podorder_preparing_update_first_table) {
  static const struct row rows[] = {
      {"PreparingUpdate first, both blocks stable",
       NULL,
       NULL,
       {"", PU, "", PU, ""},
       "1,3,0,2,4",
       NULL},
      {"other lifecycle states do not move",
       NULL,
       NULL,
       {"lifecycle.apps.kruise.io/state=Normal",
        "lifecycle.apps.kruise.io/state=PreparingDelete", PU},
       "2,0,1",
       NULL},
      {"after priority: PreparingUpdate beats weight",
       "{\"weightPriority\":[{\"matchSelector\":{\"matchLabels\":{\"zone\":"
       "\"a\"}},\"weight\":10}]}",
       NULL,
       {"zone=a", "", "zone=a", "", PU},
       "4,0,2,1,3",
       NULL},
      /* default 0..5; weight moves 5 (w1) first: 5,0,1,2,3,4; scatter
       * zone=a (1,3,5 -> candidates 5,1,3), keep 3 last; 2:3 -> update
       * groups 2 x (1 + 2): [5][0,2][1][4] then 3; PreparingUpdate 2
       * first: 2,5,0,1,4,3. */
      {"default, then priority, then scatter, then PreparingUpdate",
       "{\"weightPriority\":[{\"matchSelector\":{\"matchLabels\":{\"w\":"
       "\"1\"}},\"weight\":10}]}",
       "[{\"key\":\"zone\",\"value\":\"a\"}]",
       {"", "zone=a", PU, "zone=a", "", "zone=a,w=1"},
       "2,5,0,1,4,3",
       NULL},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++)
    run_row(&rows[i]);
}

/* ---- malformed strategies ------------------------------------------------ */
#define WP(sel, w)                                                             \
  "{\"weightPriority\":[{\"matchSelector\":" sel ",\"weight\":" w "}]}"
#define OK_SCATTER "[{\"key\":\"zone\",\"value\":\"a\"}]"
/* With any valid strategy these pods would not stay in default order. */
#define PODS                                                                   \
  { "", "", "zone=a", "", "zone=a,w=1", "zone=a", PU }
TEST(podorder_malformed_table) {
  static const struct row rows[] = {
      {"priority not JSON", "{weightPriority", NULL, PODS, "6,0,1,2,3,4,5",
       "updateStrategy.priorityStrategy: not valid JSON"},
      {"priority not an object", "[1]", NULL, PODS, "6,0,1,2,3,4,5",
       "priorityStrategy: expected an object"},
      {"both weight and order",
       "{\"orderPriority\":[{\"orderedKey\":\"w\"}],\"weightPriority\":[{"
       "\"matchSelector\":{\"matchLabels\":{\"w\":\"1\"}},\"weight\":1}]}",
       NULL, PODS, "6,0,1,2,3,4,5",
       "only one of weightPriority and orderPriority can be used"},
      {"weightPriority not a list", "{\"weightPriority\":{}}", NULL, PODS,
       "6,0,1,2,3,4,5", "weightPriority: expected a list"},
      {"weight above 100", WP("{\"matchLabels\":{\"w\":\"1\"}}", "101"), NULL,
       PODS, "6,0,1,2,3,4,5",
       "weightPriority[0].weight: must be an integer in the range 0-100"},
      {"weight negative", WP("{\"matchLabels\":{\"w\":\"1\"}}", "-1"), NULL,
       PODS, "6,0,1,2,3,4,5", "weight: must be an integer"},
      {"weight a string", WP("{\"matchLabels\":{\"w\":\"1\"}}", "\"5\""), NULL,
       PODS, "6,0,1,2,3,4,5", "weight: must be an integer"},
      {"empty selector", WP("{}", "5"), NULL, PODS, "6,0,1,2,3,4,5",
       "weightPriority[0].matchSelector: selector can not be empty"},
      {"empty matchLabels and expressions",
       WP("{\"matchExpressions\":[],\"matchLabels\":{}}", "5"), NULL, PODS,
       "6,0,1,2,3,4,5", "selector can not be empty"},
      {"missing selector", "{\"weightPriority\":[{\"weight\":5}]}", NULL, PODS,
       "6,0,1,2,3,4,5", "weightPriority[0].matchSelector: expected an object"},
      {"matchLabels value not a string", WP("{\"matchLabels\":{\"w\":1}}", "5"),
       NULL, PODS, "6,0,1,2,3,4,5",
       "matchLabels: keys must be non-empty and values strings"},
      {"bad operator",
       WP("{\"matchExpressions\":[{\"key\":\"w\",\"operator\":\"Equals\"}]}",
          "5"),
       NULL, PODS, "6,0,1,2,3,4,5",
       "matchExpressions[0].operator: must be In, NotIn, Exists or "
       "DoesNotExist"},
      {"In without values",
       WP("{\"matchExpressions\":[{\"key\":\"w\",\"operator\":\"In\"}]}", "5"),
       NULL, PODS, "6,0,1,2,3,4,5",
       "matchExpressions[0].values: In needs at least one value"},
      {"Exists with values",
       WP("{\"matchExpressions\":[{\"key\":\"w\",\"operator\":\"Exists\","
          "\"values\":[\"1\"]}]}",
          "5"),
       NULL, PODS, "6,0,1,2,3,4,5", "values: Exists takes no values"},
      {"expression without key",
       WP("{\"matchExpressions\":[{\"operator\":\"Exists\"}]}", "5"), NULL,
       PODS, "6,0,1,2,3,4,5", "matchExpressions[0].key: must be a non-empty"},
      {"second term bad, first good",
       "{\"weightPriority\":[{\"matchSelector\":{\"matchLabels\":{\"w\":\"1\"}"
       "},\"weight\":5},{\"matchSelector\":{},\"weight\":5}]}",
       NULL, PODS, "6,0,1,2,3,4,5", "weightPriority[1].matchSelector"},
      {"empty orderedKey", "{\"orderPriority\":[{\"orderedKey\":\"\"}]}", NULL,
       PODS, "6,0,1,2,3,4,5", "orderPriority[0].orderedKey"},
      {"scatter not a list", NULL, "{\"key\":\"zone\",\"value\":\"a\"}", PODS,
       "6,0,1,2,3,4,5", "updateStrategy.scatterStrategy: expected a list"},
      {"scatter not JSON", NULL, "[{", PODS, "6,0,1,2,3,4,5",
       "updateStrategy.scatterStrategy: not valid JSON"},
      {"scatter empty key", NULL, "[{\"key\":\"\",\"value\":\"a\"}]", PODS,
       "6,0,1,2,3,4,5", "scatterStrategy[0].key: must be a non-empty string"},
      {"scatter value not a string", NULL, "[{\"key\":\"zone\",\"value\":1}]",
       PODS, "6,0,1,2,3,4,5", "scatterStrategy[0].value: expected a string"},
      {"scatter duplicate term", NULL,
       "[{\"key\":\"zone\",\"value\":\"a\"},{\"key\":\"rack\",\"value\":\"b\"},"
       "{\"key\":\"zone\",\"value\":\"a\"}]",
       PODS, "6,0,1,2,3,4,5",
       "scatterStrategy[2]: duplicate term zone=a (also term 0)"},
      {"bad priority disables a good scatter too", "{\"weightPriority\":7}",
       OK_SCATTER, PODS, "6,0,1,2,3,4,5", "weightPriority: expected a list"},
      {"bad scatter disables a good priority too",
       WP("{\"matchLabels\":{\"w\":\"1\"}}", "5"), "[{\"key\":\"\"}]", PODS,
       "6,0,1,2,3,4,5", "scatterStrategy[0].key"},
      /* and the same strategies, valid, do reorder */
      {"control: valid priority reorders",
       WP("{\"matchLabels\":{\"w\":\"1\"}}", "5"), NULL, PODS, "6,4,0,1,2,3,5",
       NULL},
      {"control: JSON null is absent", "null", "null", PODS, "6,0,1,2,3,4,5",
       NULL},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++)
    run_row(&rows[i]);
}

/* ---- determinism --------------------------------------------------------- */
/* Twelve pods mixing every criterion; many shuffles of the candidates and
 * of the pod list (a fixed LCG) must all give the first run's order. */
TEST(podorder_deterministic_over_input_orders) {
  static const struct row r = {
      "mixed",
      "{\"weightPriority\":[{\"matchSelector\":{\"matchLabels\":{\"w\":\"1\"}"
      "},\"weight\":10},{\"matchSelector\":{\"matchExpressions\":[{\"key\":"
      "\"z\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]}]},\"weight\":3}]}",
      "[{\"key\":\"z\",\"value\":\"a\"},{\"key\":\"r\",\"value\":\"1\"}]",
      {"z=a", "^z=b,r=1", "w=1,z=a", "r=1", "", "^", PU ",z=a", "z=a,r=1",
       "w=1", "-z=a", "xz=b", "r=1,z=b", "z=a", "^w=1,r=1"},
      NULL,
      NULL};
  struct fixture f;
  char first[128] = "", got[128];
  uint32_t seed = 12345;
  for (int round = 0; round < 200; round++) {
    size_t len = 0;
    char why[64];
    build(&f, &r, 0);
    /* Fisher-Yates with a fixed generator: reproducible shuffles */
    for (size_t i = f.nc; i > 1; i--) {
      seed = seed * 1103515245u + 12345u;
      size_t j = (seed >> 8) % i;
      struct lb_cs_podinfo *t = f.cand[i - 1];
      f.cand[i - 1] = f.cand[j];
      f.cand[j] = t;
    }
    for (size_t i = f.n; i > 1; i--) {
      seed = seed * 1103515245u + 12345u;
      size_t j = (seed >> 8) % i;
      struct lb_pod *t = f.owned[i - 1];
      f.owned[i - 1] = f.owned[j];
      f.owned[j] = t;
    }
    ASSERT_OK(lb_podorder_cs_update(f.cand, f.nc, &f.cs, why, sizeof why));
    ASSERT_EQ_STR(why, "");
    for (size_t i = 0; i < f.nc; i++)
      len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", i ? "," : "",
                              f.cand[i]->pod->o.name + 1);
    if (round == 0)
      memcpy(first, got, sizeof first);
    else
      ASSERT_EQ_STR(got, first);
    release(&f);
  }
  /* Worked by hand: default 1,5,13,0,2,3,4,6,7,8,11,12; weights -> 2,13,8,
   * 1,0,6,7,11,12,5,3,4; z=a (5 candidates, tie with r=1: spec order
   * first; 6 of 13 active pods, pod 10 is inactive) is denser overall than
   * among the candidates -> 3 unmatched first, 4 groups of 1+1, 12 last:
   * 13,8,1,2,11,0,5,6,3,7,4,12; r=1 -> groups of 1+2, 7 last:
   * 13,8,2,1,0,5,11,6,4,3,12,7; then PreparingUpdate pod 6 first. */
  ASSERT_EQ_STR(first, "06,13,08,02,01,00,05,11,04,03,12,07");
}

/* ---- decoding ------------------------------------------------------------ */
TEST(podorder_parse_fields) {
  struct lb_podorder po;
  char why[128];
  ASSERT_OK(lb_podorder_parse(&po, W3, SAB, why, sizeof why));
  ASSERT_EQ_STR(why, "");
  ASSERT_EQ_INT(po.n_weights, 3);
  ASSERT_EQ_INT(po.weights[0].weight, 50);
  ASSERT_EQ_INT(po.weights[1].weight, 30);
  ASSERT_EQ_INT(po.weights[2].match.n_reqs, 1);
  ASSERT_EQ_INT(po.weights[2].match.reqs[0].op, LB_SEL_EXISTS);
  ASSERT_EQ_INT(po.n_order_keys, 0);
  ASSERT_EQ_INT(po.n_scatter, 2);
  ASSERT_EQ_STR(po.scatter[1].key, "labelB");
  ASSERT_EQ_STR(po.scatter[1].value, "BBB");
  char *l = pack_labels("zone=a,tier=gold,canary=");
  ASSERT_EQ_INT(lb_podorder_weight_of(&po, l), 90);
  free(l);
  lb_podorder_release(&po);
  ASSERT_EQ_INT(po.n_weights, 0);

  ASSERT_OK(lb_podorder_parse(
      &po,
      "{\"orderPriority\":[{\"orderedKey\":\"a\"},{\"orderedKey\":\"b\"}]}",
      NULL, why, sizeof why));
  int term;
  int64_t order;
  l = pack_labels("b=x-12,c=3");
  lb_podorder_order_of(&po, l, &term, &order);
  ASSERT_EQ_INT(term, 1);
  ASSERT_EQ_INT(order, 12);
  free(l);
  l = pack_labels("c=3");
  lb_podorder_order_of(&po, l, &term, &order);
  ASSERT_EQ_INT(term, -1);
  free(l);
  lb_podorder_release(&po);

  /* an error leaves nothing behind, and why may be absent */
  ASSERT_EQ_INT(
      lb_podorder_parse(&po, "{\"weightPriority\":[{}]}", NULL, NULL, 0),
      LB_EPARSE);
  ASSERT_EQ_INT(po.n_weights, 0);
  lb_podorder_release(&po);
  /* a short buffer truncates the message */
  ASSERT_EQ_INT(lb_podorder_parse(&po, "x", NULL, why, 10), LB_EPARSE);
  ASSERT_EQ_STR(why, "updateStr");
  lb_podorder_release(&po);
}

/* The generic sorters work on labels + indexes, without a CloneSet. */
TEST(podorder_generic_sorters) {
  struct lb_podorder po;
  char *l[6];
  const char *specs[6] = {"", "", "", "", A, A};
  size_t idx[5] = {0, 1, 2, 3, 4}; /* pod 5 is not a candidate */
  for (int i = 0; i < 6; i++)
    l[i] = pack_labels(specs[i]);
  ASSERT_OK(lb_podorder_parse(&po, NULL, SA, NULL, 0));
  /* one matched candidate: nothing to scatter */
  ASSERT_OK(lb_podorder_scatter_sort(&po, (const char *const *)l, 6, idx, 5));
  for (size_t i = 0; i < 5; i++)
    ASSERT_EQ_INT(idx[i], i);
  lb_podorder_release(&po);
  ASSERT_OK(lb_podorder_parse(
      &po, "{\"orderPriority\":[{\"orderedKey\":\"labelA\"}]}", NULL, NULL, 0));
  ASSERT_OK(lb_podorder_priority_sort(&po, (const char *const *)l, idx, 5));
  ASSERT_EQ_INT(idx[0], 0); /* unkeyed first, in incoming order */
  ASSERT_EQ_INT(idx[3], 3);
  ASSERT_EQ_INT(idx[4], 4);
  lb_podorder_release(&po);
  for (int i = 0; i < 6; i++)
    free(l[i]);
}

/* ---- through the reducer ------------------------------------------------- */
/* The CloneSet reducer orders its update candidates with this module: with
 * orderPriority the pod with the highest value is recreated first; with a
 * malformed strategy the reason says so and the default (name) order
 * applies. */
static void reducer_pick(const char *prio, const char *want_pod,
                         const char *want_reason) {
  static const char *pods[][2] = {
      {"web-a", "o-1"}, {"web-b", "o-10"}, {"web-c", "o-5"}, {"web-d", "o-2"}};
  struct lb_engine *e;
  struct lb_decisions ds;
  struct lb_event ev;
  struct lb_buf b = LB_BUF_INIT;
  int64_t seq = 0;
  memset(&ds, 0, sizeof ds);
  ASSERT_OK(lb_engine_new(NULL, &e));
  for (size_t i = 0; i < LB_ARRAY_SIZE(pods); i++) {
    lb_buf_reset(&b);
    lb_buf_addf(
        &b,
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
        "\"namespace\":\"default\",\"uid\":\"uid-%s\",\"resourceVersion\":"
        "\"%zu\",\"creationTimestamp\":\"1970-01-01T00:00:01Z\",\"labels\":{"
        "\"app\":\"web\",\"" LB_LABEL_REVISION
        "\":\"web-old\",\"" LB_LABEL_LIFECYCLE
        "\":\"Normal\",\"ord\":\"%s\"},\"ownerReferences\":[{\"apiVersion\":"
        "\"apps.kruise.io/v1alpha1\",\"kind\":\"CloneSet\",\"name\":\"web\","
        "\"uid\":\"cs-uid-1\",\"controller\":true}]},\"spec\":{\"nodeName\":"
        "\"n1\"},\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":"
        "\"Ready\",\"status\":\"True\",\"lastTransitionTime\":"
        "\"1970-01-01T00:00:01Z\"}]}}",
        pods[i][0], pods[i][0], i + 10, pods[i][1]);
    ASSERT(!b.err);
    lb_event_init(&ev);
    ev.seq = ++seq;
    ev.at_ms = 2000;
    ev.source = LB_SRC_WATCH;
    ev.type = LB_EV_ADDED;
    ASSERT_OK(lb_event_prepare(&ev, lb_strdup(b.p), b.len));
    ASSERT_OK(lb_engine_apply(e, &ev, &ds));
    lb_event_release(&ev);
  }
  ASSERT_EQ_INT(ds.n, 0);
  lb_buf_reset(&b);
  lb_buf_addf(
      &b,
      "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":\"CloneSet\","
      "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":"
      "\"cs-uid-1\",\"resourceVersion\":\"100\",\"generation\":1},\"spec\":{"
      "\"replicas\":4,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
      "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
      "\"containers\":[{\"image\":\"nginx:1\",\"name\":\"c\"}]}},"
      "\"updateStrategy\":{\"maxUnavailable\":1,\"priorityStrategy\":%s}},"
      "\"status\":{\"currentRevision\":\"web-old\"}}",
      prio);
  ASSERT(!b.err);
  lb_event_init(&ev);
  ev.seq = ++seq;
  ev.at_ms = 100000;
  ev.source = LB_SRC_WATCH;
  ev.type = LB_EV_ADDED;
  ASSERT_OK(lb_event_prepare(&ev, lb_strdup(b.p), b.len));
  ASSERT_OK(lb_engine_apply(e, &ev, &ds));
  lb_event_release(&ev);
  ASSERT_EQ_INT(ds.n, 1);
  const struct lb_decision *d = &ds.v[0];
  int patches = 0;
  for (size_t i = 0; i < d->n_actions; i++)
    if (d->actions[i].verb == LB_VERB_PATCH &&
        !strcmp(d->actions[i].kind, "Pod")) {
      patches++;
      if (strcmp(d->actions[i].name, want_pod))
        lb_test_fail(__FILE__, __LINE__, "patched %s, want %s; reason: %s",
                     d->actions[i].name, want_pod, d->reason);
    }
  ASSERT_EQ_INT(patches, 1);
  ASSERT_CONTAINS(d->reason, want_reason);
  lb_buf_release(&b);
  lb_decisions_release(&ds);
  free(ds.v);
  lb_engine_free(e);
}

TEST(podorder_reducer_uses_priority) {
  reducer_pick("{\"orderPriority\":[{\"orderedKey\":\"ord\"}]}", "web-b",
               "(web-b) labelled");
  reducer_pick("{\"weightPriority\":[{\"matchSelector\":{\"matchLabels\":{"
               "\"ord\":\"o-5\"}},\"weight\":7}]}",
               "web-c", "(web-c) labelled");
}

TEST(podorder_reducer_malformed_strategy_explains) {
  reducer_pick("{\"orderPriority\":[{\"orderedKey\":\"ord\"}],"
               "\"weightPriority\":[{\"matchSelector\":{\"matchLabels\":{"
               "\"ord\":\"o-5\"}},\"weight\":7}]}",
               "web-a",
               "update order: updateStrategy.priorityStrategy: only one of "
               "weightPriority and orderPriority can be used; using the "
               "default order");
}
