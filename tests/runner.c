/* runner.c — see test.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../engine/engine.h"
#include "../engine/err.h"
#include "../engine/util.h"
#include "test.h"

struct test {
  const char *name;
  lb_test_fn fn;
  int timeout_s;
};

static struct test tests[512];
static int n_tests;
static char dir[PATH_MAX];
static char root[PATH_MAX];

void lb_test_register(const char *name, lb_test_fn fn, int timeout_s) {
  if (n_tests == (int)(sizeof(tests) / sizeof(tests[0]))) {
    fprintf(stderr, "too many tests\n");
    abort();
  }
  tests[n_tests++] = (struct test){name, fn, timeout_s};
}

const char *lb_test_dir(void) { return dir; }
const char *lb_test_root(void) { return root; }

void lb_test_fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "# %s:%d: ", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n");
  fflush(stderr);
  _exit(99);
}

static int rm_cb(const char *p, const struct stat *sb, int flag,
                 struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(p);
}

static int cmp_test(const void *a, const void *b) {
  return strcmp(((const struct test *)a)->name, ((const struct test *)b)->name);
}

static int run_one(const struct test *t, int timeout_override) {
  char tmpl[] = "/tmp/lbtest.XXXXXX";
  if (!mkdtemp(tmpl)) {
    perror("mkdtemp");
    return 0;
  }
  pid_t pid = fork();
  if (pid == 0) {
    snprintf(dir, sizeof dir, "%s", tmpl);
    if (chdir(dir) != 0)
      _exit(98);
    alarm((unsigned)(timeout_override ? timeout_override : t->timeout_s));
    t->fn();
    fflush(stdout);
    exit(0); /* not _exit: LeakSanitizer checks at exit */
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  nftw(tmpl, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 1;
  if (WIFSIGNALED(status))
    fprintf(stderr, "# %s: killed by signal %d%s\n", t->name, WTERMSIG(status),
            WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
  return 0;
}

int main(int argc, char **argv) {
  int list = 0, timeout = 0, i, first = 1;
  setenv("TZ", "UTC", 1);
  tzset();
  /* every engine of every test checks the CloneSet aggregates after each
   * fold (engine.h check_aggregates) */
  lb_engine_check_all(1);
  const char *r = getenv("LB_ROOT");
  if (r)
    snprintf(root, sizeof root, "%s", r);
  else if (!getcwd(root, sizeof root))
    snprintf(root, sizeof root, ".");
  for (; first < argc && argv[first][0] == '-'; first++) {
    if (!strcmp(argv[first], "-l"))
      list = 1;
    else if (!strcmp(argv[first], "-t") && first + 1 < argc)
      timeout = atoi(argv[++first]);
    else {
      fprintf(stderr, "usage: %s [-l] [-t SECONDS] [NAME...]\n", argv[0]);
      return 2;
    }
  }
  qsort(tests, (size_t)n_tests, sizeof tests[0], cmp_test);
  struct test *sel[512];
  int n = 0;
  for (i = 0; i < n_tests; i++) {
    int want = first >= argc;
    for (int a = first; a < argc && !want; a++)
      want = strstr(tests[i].name, argv[a]) != NULL;
    if (want)
      sel[n++] = &tests[i];
  }
  if (list) {
    for (i = 0; i < n; i++)
      printf("%s\n", sel[i]->name);
    return 0;
  }
  if (n == 0) {
    fprintf(stderr, "no test matches\n");
    return 2;
  }
  printf("1..%d\n", n);
  fflush(stdout);
  int pass = 0;
  for (i = 0; i < n; i++) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int ok = run_one(sel[i], timeout);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s =
        (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("%s %d - %s (%.2fs)\n", ok ? "ok" : "not ok", i + 1, sel[i]->name,
           s);
    fflush(stdout);
    pass += ok;
  }
  printf("# summary: %d passed, %d failed, %d total\n", pass, n - pass, n);
  return pass == n ? 0 : 1;
}

int lb_test_cli(const char *cmd, struct lb_buf *out) {
  char full[8192];
  const char *bin = getenv("LOGBOOK");
  snprintf(full, sizeof full, "%s %s > out.txt 2>&1", bin ? bin : "logbook",
           cmd);
  int st = system(full);
  FILE *f = fopen("out.txt", "r");
  lb_buf_reset(out);
  if (f) {
    char chunk[4096];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
      lb_buf_add(out, chunk, k);
    fclose(f);
  }
  if (!out->p)
    lb_buf_adds(out, "");
  ASSERT(WIFEXITED(st)); /* never killed by a signal */
  return WEXITSTATUS(st);
}
