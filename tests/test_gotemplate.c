/* test_gotemplate.c — revision data and names against upstream's bytes.
 *
 * tests/revision/<case>.json is a CloneSet; <case>.want was written by the
 * Go oracle (tests/tools/revref: the real k8s.io/api types and
 * k8s.io/kubernetes/pkg/controller/history, regenerate with
 * `make revref`): line 1 the revision name, line 2 the data, or
 * "error: decode". tests/revision/hand/ holds what the v1.20 oracle cannot
 * produce (fields added after 1.20, Go >= 1.22 escapes), written by hand
 * from the Go struct tags cited in each case. Every case goes through the
 * engine's own CloneSet decoder first, as the reducer sees it. */
#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/cloneset.h"
#include "../engine/err.h"
#include "../engine/gotemplate.h"
#include "../engine/obj.h"
#include "../engine/revision.h"
#include "../engine/util.h"
#include "test.h"

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  struct lb_buf b = LB_BUF_INIT;
  char tmp[4096];
  size_t n;
  if (!f)
    return NULL;
  while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
    lb_buf_add(&b, tmp, n);
  fclose(f);
  return lb_buf_detach(&b, NULL);
}

static int cmp_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every <case>.json of dir; returns the number of cases. */
static int run_dir(const char *sub) {
  char dir[1024], path[1200];
  char *names[256];
  size_t nn = 0;
  snprintf(dir, sizeof dir, "%s/tests/revision%s", lb_test_root(), sub);
  DIR *d = opendir(dir);
  struct dirent *e;
  ASSERT(d != NULL);
  while ((e = readdir(d)) && nn < LB_ARRAY_SIZE(names)) {
    size_t l = strlen(e->d_name);
    if (l > 5 && !strcmp(e->d_name + l - 5, ".json"))
      names[nn++] = lb_strdup(e->d_name);
  }
  closedir(d);
  qsort(names, nn, sizeof *names, cmp_name);
  for (size_t i = 0; i < nn; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    char *in = slurp(path);
    ASSERT(in != NULL);
    snprintf(path, sizeof path, "%s/%.*s.want", dir,
             (int)(strlen(names[i]) - 5), names[i]);
    char *want = slurp(path);
    if (!want)
      lb_test_fail(__FILE__, __LINE__, "%s: missing (run make revref)", path);
    struct lb_obj *o = NULL;
    const char *why = NULL;
    int rc = lb_obj_decode_text(in, &o, &why);
    if (rc || !o || o->kind != LB_KIND_CLONESET)
      lb_test_fail(__FILE__, __LINE__, "%s: engine decode: %s", names[i],
                   why ? why : "not a CloneSet");
    struct lb_cloneset *cs = (struct lb_cloneset *)o;
    struct lb_buf got = LB_BUF_INIT;
    char *data = lb_rev_data(cs, &rc, &why);
    if (!data) {
      ASSERT_EQ_INT(rc, LB_EPARSE);
      lb_buf_adds(&got, "error: decode\n");
    } else {
      char name[300];
      lb_rev_name(cs->o.name, data, cs->status.collision_count, name,
                  sizeof name);
      lb_buf_addf(&got, "%s\n%s\n", name, data);
    }
    if (strcmp(got.p, want))
      lb_test_fail(__FILE__, __LINE__,
                   "%s differs from upstream:\n got  %s\n want %s", names[i],
                   got.p, want);
    free(data);
    lb_buf_release(&got);
    lb_obj_free(o);
    free(in);
    free(want);
    free(names[i]);
  }
  return (int)nn;
}

TEST(gotemplate_oracle_corpus) { ASSERT_LE_INT(25, run_dir("")); }

TEST(gotemplate_hand_cases) { ASSERT_LE_INT(3, run_dir("/hand")); }

/* The quantity entry point alone, so a regression names the quantity;
 * every "in" here but 5Ki also sits in a Go-checked corpus case
 * (03, 08, 26-quantities-more), so these expectations are upstream's. */
TEST(gotemplate_quantity_table) {
  static const struct {
    const char *in, *out;
  } rows[] = {
      {"0", "0"},          {"1", "1"},         {"0.5", "500m"},
      {"1.5Gi", "1536Mi"}, {"1024Ki", "1Mi"},  {"2000m", "2"},
      {"1e3", "1e3"},      {"1000e-3", "1"},   {"0.1m", "100u"},
      {"1.1n", "2n"},      {"-0.1m", "-100u"}, {"5Ki", "5Ki"},
      {"7Ei", "7Ei"},      {"1Pi", "1Pi"},     {"0.001Ki", "1024m"},
      {"12E", "12E"},      {"1000P", "1E"},    {"1e21", "1e21"},
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++) {
    struct lb_buf b = LB_BUF_INIT;
    char want[64];
    ASSERT_EQ_INT(lb_gotemplate_quantity(rows[i].in, &b), 0);
    snprintf(want, sizeof want, "\"%s\"", rows[i].out);
    if (strcmp(b.p, want))
      lb_test_fail(__FILE__, __LINE__, "quantity %s: %s, want %s", rows[i].in,
                   b.p, want);
    lb_buf_release(&b);
  }
  static const char *const bad[] = {"",    "lots", "1x",   "1e",
                                    "--1", "1Ki2", "1 Ki", ".e5x"};
  for (size_t i = 0; i < LB_ARRAY_SIZE(bad); i++) {
    struct lb_buf b = LB_BUF_INIT;
    ASSERT_EQ_INT(lb_gotemplate_quantity(bad[i], &b), LB_EPARSE);
    lb_buf_release(&b);
  }
}

TEST(gotemplate_float_format) {
  static const struct {
    double d;
    const char *out;
  } rows[] = {{0, "0"},
              {30, "30"},
              {-5, "-5"},
              {1.5, "1.5"},
              {1e21, "1e+21"},
              {1e20, "100000000000000000000"},
              {1e-7, "1e-7"},
              {1e-6, "0.000001"},
              {9223372036854775807.0, "9223372036854776000"},
              {0.1, "0.1"},
              {123456789.125, "123456789.125"}};
  for (size_t i = 0; i < LB_ARRAY_SIZE(rows); i++) {
    struct lb_buf b = LB_BUF_INIT;
    lb_gotemplate_float(rows[i].d, &b);
    ASSERT_EQ_STR(b.p, rows[i].out);
    lb_buf_release(&b);
  }
}
