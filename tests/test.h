/* test.h — logbook's test runner (libuv style): one binary, one forked
 * process per test, a per-test timeout, run-by-name, TAP output with a
 * summary line CI reads:  "# summary: N passed, M failed, K total".
 *
 *   TEST(journal_roundtrip) { ASSERT_EQ_INT(lb_foo(), 0); }
 *
 * Asserts print both sides and the location, then fail the test (abort the
 * child). `build/tests [-l] [-t SECONDS] [NAME-SUBSTRING...]`.
 * Tests run with TZ=UTC and in a fresh temporary directory (cwd) that is
 * removed afterwards; lb_test_dir() returns its path.
 */
#ifndef LB_TEST_H
#define LB_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*lb_test_fn)(void);
void lb_test_register(const char *name, lb_test_fn fn, int timeout_s);
const char *lb_test_dir(void);
/* Path of the repository root (for tests/golden), from the LB_ROOT env var
 * set by the Makefile, else ".." relative to the binary's start dir. */
const char *lb_test_root(void);
/* Runs `$LOGBOOK CMD` (else `logbook CMD`) through the shell in the test's
 * directory; out gets its stdout and stderr. Returns the exit status; a
 * run killed by a signal fails the test. */
struct lb_buf;
int lb_test_cli(const char *cmd, struct lb_buf *out);
void lb_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

#define TEST_TIMEOUT(name, secs)                                               \
  static void test_##name(void);                                               \
  __attribute__((constructor)) static void reg_##name(void) {                  \
    lb_test_register(#name, test_##name, (secs));                              \
  }                                                                            \
  static void test_##name(void)
#define TEST(name) TEST_TIMEOUT(name, 60)

#define ASSERT(c)                                                              \
  do {                                                                         \
    if (!(c))                                                                  \
      lb_test_fail(__FILE__, __LINE__, "assertion failed: %s", #c);            \
  } while (0)
#define ASSERT_EQ_INT(a, b)                                                    \
  do {                                                                         \
    long long a_ = (long long)(a), b_ = (long long)(b);                        \
    if (a_ != b_)                                                              \
      lb_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_,   \
                   b_);                                                        \
  } while (0)
#define ASSERT_NE_INT(a, b)                                                    \
  do {                                                                         \
    long long a_ = (long long)(a), b_ = (long long)(b);                        \
    if (a_ == b_)                                                              \
      lb_test_fail(__FILE__, __LINE__, "%s != %s: both %lld", #a, #b, a_);     \
  } while (0)
#define ASSERT_LE_INT(a, b)                                                    \
  do {                                                                         \
    long long a_ = (long long)(a), b_ = (long long)(b);                        \
    if (!(a_ <= b_))                                                           \
      lb_test_fail(__FILE__, __LINE__, "%s <= %s: %lld > %lld", #a, #b, a_,    \
                   b_);                                                        \
  } while (0)
#define ASSERT_EQ_U64(a, b)                                                    \
  do {                                                                         \
    uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                           \
    if (a_ != b_)                                                              \
      lb_test_fail(__FILE__, __LINE__,                                         \
                   "%s == %s: %016" PRIx64 " != %016" PRIx64, #a, #b, a_, b_); \
  } while (0)
#define ASSERT_EQ_STR(a, b)                                                    \
  do {                                                                         \
    const char *a_ = (a), *b_ = (b);                                           \
    if (!a_ || !b_ || strcmp(a_, b_) != 0)                                     \
      lb_test_fail(__FILE__, __LINE__, "%s == %s:\n  \"%s\"\n  \"%s\"", #a,    \
                   #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                \
  } while (0)
#define ASSERT_CONTAINS(hay, needle)                                           \
  do {                                                                         \
    const char *h_ = (hay), *n_ = (needle);                                    \
    if (!h_ || !strstr(h_, n_))                                                \
      lb_test_fail(__FILE__, __LINE__, "%s contains \"%s\":\n  \"%s\"", #hay,  \
                   n_, h_ ? h_ : "(null)");                                    \
  } while (0)
#define ASSERT_OK(e)                                                           \
  do {                                                                         \
    int r_ = (e);                                                              \
    if (r_ != 0)                                                               \
      lb_test_fail(__FILE__, __LINE__, "%s: returned %d (%s)", #e, r_,         \
                   lb_err_name(r_));                                           \
  } while (0)

#endif
