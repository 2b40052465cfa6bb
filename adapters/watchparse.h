/* watchparse.h — splits a Kubernetes watch stream into events.
 *
 * The body of a watch response is a sequence of JSON objects
 * {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}, each
 * terminated by a newline; transfer chunks may split them anywhere (inside
 * a string, an escape, a UTF-8 sequence, between \r and \n). Feed bytes as
 * they arrive; a callback gets each complete event. The parser copies the
 * raw bytes of "object" exactly as sent (no re-serialization).
 *
 *   state: BUFFERING --'\n' at depth 0--> (emit) --> BUFFERING
 *          any --line > max_line--> FAILED (LB_ERANGE, latched)
 *          any --line not a watch event--> FAILED (LB_EPARSE, latched)
 *          any --cb returns rc != 0--> FAILED (rc, latched)
 *
 * Lines end at a '\n' outside strings and at JSON nesting depth 0 (so a
 * pretty-printed object spanning lines is one event); a trailing '\r' and
 * lines holding only whitespace are ignored. A line is a watch event when
 * json-c (strict, UTF-8 validated) parses it as an object with exactly one
 * "type" (a string, one of the five above) and exactly one "object" (a JSON
 * object). Raw control characters inside strings (including a raw newline)
 * or unbalanced closing brackets fail at once, without waiting for the line
 * to end. Once FAILED, feed and finish return the latched error and drop
 * input: the caller restarts the watch.
 */
#ifndef LB_WATCHPARSE_H
#define LB_WATCHPARSE_H

#include <stddef.h>

enum lb_watch_type {
  LB_W_ADDED = 1,
  LB_W_MODIFIED,
  LB_W_DELETED,
  LB_W_BOOKMARK,
  LB_W_ERROR
};

/* object: malloc'd raw JSON of the "object" member (callee owns), len. */
typedef int (*lb_watch_cb)(void *ctx, int type, char *object, size_t len);

struct lb_watchparse {
  char *buf; /* bytes of the current, incomplete line */
  size_t len, cap;
  size_t max_line; /* refuse longer lines (default 64 MiB) */
  int err;         /* latched error */
  lb_watch_cb cb;
  void *ctx;
  size_t depth; /* '{' / '[' nesting of the current line, outside strings */
  unsigned char in_str, esc; /* inside a string; just after a backslash */
  void *tok;         /* json-c tokener, created on first use (private) */
  int reference;     /* set by tests: json-c validates every line */
  size_t fast_lines; /* lines validated without json-c (see .c) */
};

/* Never allocates; max_line may be changed afterwards, before feeding. */
void lb_watchparse_init(struct lb_watchparse *p, lb_watch_cb cb, void *ctx);
/* Frees the line buffer and tokener; p can be initialized again. */
void lb_watchparse_release(struct lb_watchparse *p);
/* Feeds n bytes; calls cb for every complete event. Returns 0, the
 * latched error, or the first non-zero cb return. Blank lines are skipped.
 * object passed to cb is NUL-terminated (len excludes the NUL). A non-zero
 * cb return is latched like a parse error: the rest of the chunk is not
 * parsed. LB_ENOMEM when the line buffer cannot grow (also latched). */
int lb_watchparse_feed(struct lb_watchparse *p, const char *data, size_t n);
/* End of stream: a non-empty partial line is LB_EPARSE ("cut mid-line",
 * latched); a partial line of only whitespace is dropped. Returns 0 or the
 * latched error. */
int lb_watchparse_finish(struct lb_watchparse *p);

#endif
