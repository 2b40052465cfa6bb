/* util.h — assertions, allocation helpers and a growable byte buffer.
 *
 * Three severities (SQLite style): a recoverable condition returns an LB_E*
 * code; a programmer error calls LB_BUG() (prints file:line and aborts);
 * "cannot happen but survive it" is LB_NEVER(cond) / LB_ALWAYS(cond), which
 * abort in debug builds and evaluate to the condition in release builds.
 */
#ifndef LB_UTIL_H
#define LB_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "banned.h"

void lb__bug(const char *file, int line, const char *what);
#define LB_BUG(what) lb__bug(__FILE__, __LINE__, (what))

#ifdef NDEBUG
#define LB_NEVER(c) (c)
#define LB_ALWAYS(c) (c)
#else
#define LB_NEVER(c) ((c) ? (lb__bug(__FILE__, __LINE__, #c), 1) : 0)
#define LB_ALWAYS(c) ((c) ? 1 : (lb__bug(__FILE__, __LINE__, #c), 0))
#endif

#define LB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation that aborts on failure is not used: callers get NULL and
 * return LB_ENOMEM. lb_strdup(NULL) returns NULL without error. */
char *lb_strdup(const char *s);
char *lb_strndup(const char *s, size_t n);

/* Growable byte buffer (git's strbuf). Always NUL-terminated once it holds
 * anything. `err` latches the first allocation failure so call sites can
 * append freely and check once. */
/* Growable arrays: makes room for `need` elements of `size` bytes in the
 * array whose address is `arrp` (a T **) and whose capacity is *cap,
 * doubling from `first`. 0, or LB_ENOMEM with the array and *cap
 * unchanged (also when the size would overflow). */
int lb_reserve(void *arrp, size_t *cap, size_t need, size_t size, size_t first);

struct lb_buf {
  char *p;    /* contents, NUL-terminated; NULL when empty and unallocated */
  size_t len; /* bytes used, excluding the NUL */
  size_t cap; /* bytes allocated */
  int err;    /* LB_ENOMEM after a failed growth, else 0 */
};
#define LB_BUF_INIT                                                            \
  { NULL, 0, 0, 0 }
void lb_buf_init(struct lb_buf *b);
void lb_buf_release(struct lb_buf *b);
void lb_buf_reset(struct lb_buf *b); /* len = 0, keeps the allocation */
int lb_buf_add(struct lb_buf *b, const void *p, size_t n);
int lb_buf_adds(struct lb_buf *b, const char *s);
int lb_buf_addf(struct lb_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal with quotes and escapes. */
int lb_buf_add_json_str(struct lb_buf *b, const char *s);
/* Detaches the contents (caller frees); the buffer is left empty. */
char *lb_buf_detach(struct lb_buf *b, size_t *len);

/* Safe bounded copy: always NUL-terminates, returns strlen(src). */
size_t lb_strlcpy(char *dst, const char *src, size_t n);

/* Proleptic Gregorian calendar (Howard Hinnant's algorithms): days since
 * 1970-01-01 of a civil date (m 1..12, d 1..31), and back. */
int64_t lb_days_from_civil(int64_t y, unsigned m, unsigned d);
void lb_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* Formats epoch milliseconds as RFC 3339 UTC ("2026-11-25T13:31:02Z") into
 * out (>= 21 bytes). Pure arithmetic: no gmtime(), no locale, no TZ. */
void lb_time_rfc3339(int64_t ms, char out[32]);
/* Parses RFC 3339 ("...Z" or with offset; fractional seconds allowed) into
 * epoch ms; returns 0 or LB_EPARSE. */
int lb_time_parse(const char *s, int64_t *ms);

#endif
