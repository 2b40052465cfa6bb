/* watchparse.c — splits a Kubernetes watch stream into events (see
 * watchparse.h for the contract and the state diagram).
 *
 * Two passes over each line, on purpose:
 *   1. split: a byte scanner that survives any chunking. It keeps three
 *      pieces of state across feed() calls (in a string, after a backslash,
 *      nesting depth) so a '\n' inside a string or object never ends a line,
 *      and it fails early on bytes JSON never allows (raw control characters
 *      in strings, closers without openers) instead of buffering up to
 *      max_line of garbage.
 *   2. validate + extract: is the line a well-formed watch event as json-c
 *      (strict, UTF-8 checked) sees it? A validator that builds nothing
 *      (fast_valid) answers yes for the lines it fully understands — a
 *      subset of what json-c accepts — and json-c decides the rest. Then a
 *      small structural scanner finds the byte span of the top-level
 *      "object" value so the callback receives the bytes exactly as the
 *      apiserver sent them (re-serializing through json-c would reorder
 *      nothing but could change number spelling and escapes, and the
 *      journal hashes raw bytes). json-c's tree for a pod with its
 *      managedFields cost ~150 us a line, 18 % of the manager's CPU in a
 *      rollout (docs/PERFORMANCE.md); p->reference forces json-c, so tests
 *      and the fuzzer compare the two paths line for line.
 *
 * Transitions (function that performs each):
 *   BUFFERING -> BUFFERING   feed()/take_line(): line complete, event emitted
 *   BUFFERING -> FAILED      split(): ERANGE, early EPARSE
 *                            take_line(): EPARSE, ENOMEM, cb error
 *                            finish(): EPARSE on a partial line
 * Invariants: BUFFERING <=> err == 0; len <= max_line; in FAILED nothing is
 * parsed and buf may hold stale bytes until release().
 */
#include "watchparse.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/err.h"
#include "../engine/util.h"

#define DEFAULT_MAX_LINE ((size_t)64 << 20)
/* Kubernetes objects (CRD schemas especially) nest deeper than json-c's
 * default of 32. */
#define JSON_MAX_DEPTH 1000
/* A buffer that grew for one huge line is given back afterwards. */
#define KEEP_BUF_CAP ((size_t)1 << 20)

static void assert_state(const struct lb_watchparse *p) {
#ifndef NDEBUG
  if (!p->err && p->len > p->max_line)
    LB_BUG("watchparse: buffered line longer than max_line");
  if (p->len > p->cap)
    LB_BUG("watchparse: len > cap");
#else
  (void)p;
#endif
}

void lb_watchparse_init(struct lb_watchparse *p, lb_watch_cb cb, void *ctx) {
  memset(p, 0, sizeof *p);
  p->max_line = DEFAULT_MAX_LINE;
  p->cb = cb;
  p->ctx = ctx;
}

void lb_watchparse_release(struct lb_watchparse *p) {
  free(p->buf);
  if (p->tok)
    json_tokener_free(p->tok);
  p->buf = NULL;
  p->tok = NULL;
  p->len = p->cap = 0;
  p->depth = 0;
  p->in_str = p->esc = 0;
}

static int is_ws(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ---- pass 2b: structural scanner over a line json-c accepted ------------
 * Every function takes [s, e) and returns the index just past what it
 * consumed, or (size_t)-1. Bounds are checked even though json-c has
 * validated the text: this code must never read past the line. */
#define BAD ((size_t)-1)

static size_t skip_ws(const char *s, size_t i, size_t e) {
  while (i < e && is_ws((unsigned char)s[i]))
    i++;
  return i;
}

/* s[i] == '"'; returns the index after the closing quote. */
static size_t skip_string(const char *s, size_t i, size_t e) {
  for (i++; i < e; i++) {
    if (s[i] == '\\')
      i++;
    else if (s[i] == '"')
      return i + 1;
  }
  return BAD;
}

static size_t skip_value(const char *s, size_t i, size_t e) {
  size_t depth = 0;
  if (i >= e)
    return BAD;
  if (s[i] != '{' && s[i] != '[' && s[i] != '"') {
    /* number, true, false, null */
    while (i < e && !is_ws((unsigned char)s[i]) && s[i] != ',' && s[i] != '}' &&
           s[i] != ']')
      i++;
    return i;
  }
  while (i < e) {
    char c = s[i];
    if (c == '"') {
      i = skip_string(s, i, e);
      if (i == BAD)
        return BAD;
      if (depth == 0)
        return i;
      continue;
    }
    if (c == '{' || c == '[')
      depth++;
    else if (c == '}' || c == ']') {
      if (depth == 0)
        return BAD;
      if (--depth == 0)
        return i + 1;
    }
    i++;
  }
  return BAD;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Does the raw string body k[0..n) (between the quotes, escapes undecoded)
 * spell the ASCII word `want`? "obj\u0065ct" is "object" to json-c, so it
 * must be to us too. */
static int key_is(const char *k, size_t n, const char *want) {
  size_t i = 0;
  for (; i < n; want++) {
    unsigned ch;
    if (!*want)
      return 0;
    if (k[i] != '\\') {
      ch = (unsigned char)k[i++];
    } else {
      if (i + 1 >= n)
        return 0;
      switch (k[i + 1]) {
      case 'u': {
        int h0, h1, h2, h3;
        if (i + 6 > n)
          return 0;
        h0 = hexval(k[i + 2]), h1 = hexval(k[i + 3]);
        h2 = hexval(k[i + 4]), h3 = hexval(k[i + 5]);
        if (h0 < 0 || h1 < 0 || h2 < 0 || h3 < 0)
          return 0;
        ch = (unsigned)(h0 << 12 | h1 << 8 | h2 << 4 | h3);
        i += 6;
        break;
      }
      case '"':
        ch = '"', i += 2;
        break;
      case '\\':
        ch = '\\', i += 2;
        break;
      case '/':
        ch = '/', i += 2;
        break;
      default:
        return 0; /* \b \f \n \r \t never occur in our keys */
      }
    }
    if (ch != (unsigned char)*want)
      return 0;
  }
  return *want == '\0';
}

/* Finds the value spans of the one top-level member named "object" and of
 * the one named "type". Returns 0, or -1 when either is absent or
 * duplicated or the text is not an object. */
static int find_object(const char *s, size_t e, size_t *off, size_t *vlen,
                       size_t *toff, size_t *tlen) {
  size_t i = skip_ws(s, 0, e);
  int n_obj = 0, n_type = 0;
  if (i >= e || s[i] != '{')
    return -1;
  i = skip_ws(s, i + 1, e);
  if (i < e && s[i] == '}')
    return -1;
  for (;;) {
    size_t ks, ke, vs, ve;
    if (i >= e || s[i] != '"')
      return -1;
    ks = i + 1;
    i = skip_string(s, i, e);
    if (i == BAD)
      return -1;
    ke = i - 1;
    i = skip_ws(s, i, e);
    if (i >= e || s[i] != ':')
      return -1;
    vs = skip_ws(s, i + 1, e);
    ve = skip_value(s, vs, e);
    if (ve == BAD || ve == vs)
      return -1;
    if (key_is(s + ks, ke - ks, "object")) {
      n_obj++;
      *off = vs;
      *vlen = ve - vs;
    } else if (key_is(s + ks, ke - ks, "type")) {
      n_type++;
      *toff = vs;
      *tlen = ve - vs;
    }
    i = skip_ws(s, ve, e);
    if (i < e && s[i] == ',') {
      i = skip_ws(s, i + 1, e);
      continue;
    }
    if (i < e && s[i] == '}')
      break;
    return -1;
  }
  return n_obj == 1 && n_type == 1 ? 0 : -1;
}

/* ---- pass 2a: one complete line ----------------------------------------- */
/* t[0..n): a type name, no escapes. 0 for anything else. */
static int event_type(const char *t, size_t n) {
  static const char *const names[] = {"ADDED", "MODIFIED", "DELETED",
                                      "BOOKMARK", "ERROR"};
  static const int types[] = {LB_W_ADDED, LB_W_MODIFIED, LB_W_DELETED,
                              LB_W_BOOKMARK, LB_W_ERROR};
  for (size_t i = 0; i < LB_ARRAY_SIZE(names); i++)
    if (strlen(names[i]) == n && !memcmp(t, names[i], n))
      return types[i];
  return 0;
}

/* ---- pass 2a: validation -------------------------------------------------
 * fast_valid(): 1 when s[0..n) is one JSON object that json-c (strict,
 * UTF-8 validated) surely accepts: strict RFC 8259 syntax, well-formed
 * UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF; json-c accepts more), nesting up to FAST_MAX_DEPTH (json-c
 * here: JSON_MAX_DEPTH). 0 means "not sure", never "invalid": it also
 * declines what it leaves to json-c on purpose — numbers with an exponent,
 * more than 18 integer digits or a leading minus zero, \u0000 and \u
 * escapes of surrogate halves. */
#define FAST_MAX_DEPTH 64

static size_t f_utf8(const unsigned char *s, size_t i, size_t n) {
  unsigned c = s[i], lo = 0x80, hi = 0xBF;
  size_t len;
  if (c < 0xC2 || c > 0xF4)
    return BAD; /* a continuation byte, an overlong lead, or past U+10FFFF */
  len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  if (c == 0xE0)
    lo = 0xA0;
  else if (c == 0xED)
    hi = 0x9F; /* surrogates */
  else if (c == 0xF0)
    lo = 0x90;
  else if (c == 0xF4)
    hi = 0x8F;
  if (i + len > n || s[i + 1] < lo || s[i + 1] > hi)
    return BAD;
  for (size_t k = 2; k < len; k++)
    if ((s[i + k] & 0xC0) != 0x80)
      return BAD;
  return i + len;
}

static size_t f_string(const char *s, size_t i, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  for (i++; i < n;) {
    unsigned c = u[i];
    if (c == '"')
      return i + 1;
    if (c >= 0x20 && c < 0x80 && c != '\\') {
      i++;
      continue;
    }
    if (c >= 0x80) {
      i = f_utf8(u, i, n);
      if (i == BAD)
        return BAD;
      continue;
    }
    if (c < 0x20 || i + 1 >= n)
      return BAD;
    switch (s[i + 1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
      i += 2;
      break;
    case 'u': {
      unsigned cp = 0;
      if (i + 6 > n)
        return BAD;
      for (size_t k = 2; k < 6; k++) {
        int h = hexval(s[i + k]);
        if (h < 0)
          return BAD;
        cp = cp << 4 | (unsigned)h;
      }
      if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
        return BAD;
      i += 6;
      break;
    }
    default:
      return BAD;
    }
  }
  return BAD;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static size_t f_number(const char *s, size_t i, size_t n) {
  size_t start = i;
  if (i < n && s[i] == '-')
    i++;
  if (i >= n || !is_digit(s[i]) || (s[i] == '0' && i > start))
    return BAD;
  if (s[i] == '0')
    i++;
  else
    while (i < n && is_digit(s[i]))
      i++;
  if (i - start > 18)
    return BAD;
  if (i < n && s[i] == '.') {
    size_t f = ++i;
    while (i < n && is_digit(s[i]))
      i++;
    if (i == f)
      return BAD;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E'))
    return BAD;
  return i;
}

static size_t f_literal(const char *s, size_t i, size_t n, const char *lit,
                        size_t l) {
  return i + l <= n && !memcmp(s + i, lit, l) ? i + l : BAD;
}

static size_t f_value(const char *s, size_t i, size_t n, int depth) {
  char close;
  if (i >= n)
    return BAD;
  switch (s[i]) {
  case '"':
    return f_string(s, i, n);
  case 't':
    return f_literal(s, i, n, "true", 4);
  case 'f':
    return f_literal(s, i, n, "false", 5);
  case 'n':
    return f_literal(s, i, n, "null", 4);
  case '{':
  case '[':
    break;
  default:
    return f_number(s, i, n);
  }
  if (++depth > FAST_MAX_DEPTH)
    return BAD;
  close = s[i] == '{' ? '}' : ']';
  i = skip_ws(s, i + 1, n);
  if (i < n && s[i] == close)
    return i + 1;
  for (;;) {
    if (close == '}') {
      if (i >= n || s[i] != '"')
        return BAD;
      i = skip_ws(s, f_string(s, i, n), n);
      if (i >= n || s[i] != ':')
        return BAD;
      i = skip_ws(s, i + 1, n);
    }
    i = f_value(s, i, n, depth);
    if (i == BAD)
      return BAD;
    i = skip_ws(s, i, n);
    if (i >= n)
      return BAD;
    if (s[i] == close)
      return i + 1;
    if (s[i] != ',')
      return BAD;
    i = skip_ws(s, i + 1, n);
  }
}

static int fast_valid(const char *s, size_t n) {
  size_t i = skip_ws(s, 0, n);
  if (i >= n || s[i] != '{')
    return 0;
  i = f_value(s, i, n, 0);
  return i != BAD && skip_ws(s, i, n) == n;
}

/* The reference: json-c decides; *type is set on success. */
static int validate(struct lb_watchparse *p, const char *s, size_t n,
                    int *type) {
  struct json_object *o, *t = NULL, *obj = NULL;
  int rc = LB_EPARSE;
  if (n > INT_MAX)
    return LB_ERANGE;
  if (!p->tok) {
    p->tok = json_tokener_new_ex(JSON_MAX_DEPTH);
    if (!p->tok)
      return LB_ENOMEM;
    json_tokener_set_flags(p->tok,
                           JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
  }
  json_tokener_reset(p->tok);
  o = json_tokener_parse_ex(p->tok, s, (int)n);
  if (!o)
    return LB_EPARSE;
  if (json_tokener_get_error(p->tok) == json_tokener_success &&
      json_tokener_get_parse_end(p->tok) == n &&
      json_object_is_type(o, json_type_object) &&
      json_object_object_get_ex(o, "type", &t) &&
      json_object_is_type(t, json_type_string) &&
      json_object_object_get_ex(o, "object", &obj) &&
      json_object_is_type(obj, json_type_object)) {
    *type = event_type(json_object_get_string(t),
                       (size_t)json_object_get_string_len(t));
    if (*type)
      rc = 0;
  }
  json_object_put(o);
  return rc;
}

static int take_line(struct lb_watchparse *p, const char *s, size_t n) {
  size_t b = 0, off = 0, vlen = 0, toff = 0, tlen = 0;
  int type = 0, rc, fast;
  char *copy;
  while (b < n && is_ws((unsigned char)s[b]))
    b++;
  while (n > b && is_ws((unsigned char)s[n - 1]))
    n--;
  if (b == n)
    return 0; /* blank line */
  s += b;
  n -= b;
  fast = !p->reference && fast_valid(s, n);
  if (!fast && (rc = validate(p, s, n, &type)))
    return p->err = rc;
  if (find_object(s, n, &off, &vlen, &toff, &tlen) != 0)
    return p->err = LB_EPARSE;
  if (fast) { /* what validate() checks of the members, on the raw bytes */
    if (s[off] != '{' || s[toff] != '"')
      return p->err = LB_EPARSE;
    if (memchr(s + toff, '\\', tlen)) { /* an escaped type name: rare */
      if ((rc = validate(p, s, n, &type)))
        return p->err = rc;
    } else if (!(type = event_type(s + toff + 1, tlen - 2))) {
      return p->err = LB_EPARSE;
    } else {
      p->fast_lines++;
    }
  }
  copy = lb_strndup(s + off, vlen);
  if (!copy)
    return p->err = LB_ENOMEM;
  if (!p->cb) {
    free(copy);
    return 0;
  }
  rc = p->cb(p->ctx, type, copy, vlen);
  if (rc)
    p->err = rc;
  return rc;
}

/* ---- pass 1: the splitter ------------------------------------------------ */
enum { SPLIT_MORE, SPLIT_EOL };

/* Scans d[*i..n): stops at a line-ending '\n' (*i at it, SPLIT_EOL), or at
 * n (SPLIT_MORE); sets p->err and returns it on a byte that can never be
 * part of a JSON text or when the line passes max_line. `have` is how many
 * bytes of the current line precede d[start]. */
static int split(struct lb_watchparse *p, const char *d, size_t n, size_t *i,
                 size_t have) {
  size_t start = *i, k;
  for (k = start; k < n; k++) {
    unsigned char c = (unsigned char)d[k];
    if (c == '\n' && !p->in_str && p->depth == 0) {
      *i = k;
      return SPLIT_EOL;
    }
    if (have + (k - start) >= p->max_line) {
      *i = k;
      return p->err = LB_ERANGE;
    }
    if (p->in_str) {
      if (c < 0x20) /* raw control characters, '\n' included */
        goto bad;
      if (p->esc)
        p->esc = 0;
      else if (c == '\\')
        p->esc = 1;
      else if (c == '"')
        p->in_str = 0;
      continue;
    }
    switch (c) {
    case '"':
      p->in_str = 1;
      break;
    case '{':
    case '[':
      p->depth++;
      break;
    case '}':
    case ']':
      if (p->depth == 0)
        goto bad;
      p->depth--;
      break;
    default:
      if (c < 0x20 && !is_ws(c))
        goto bad;
    }
  }
  *i = n;
  return SPLIT_MORE;
bad:
  *i = k;
  return p->err = LB_EPARSE;
}

static int buf_append(struct lb_watchparse *p, const char *d, size_t n) {
  if (p->len + n + 1 > p->cap) {
    size_t cap = p->cap ? p->cap : 256;
    char *nb;
    while (cap < p->len + n + 1)
      cap *= 2;
    nb = realloc(p->buf, cap);
    if (!nb)
      return p->err = LB_ENOMEM;
    p->buf = nb;
    p->cap = cap;
  }
  memcpy(p->buf + p->len, d, n);
  p->len += n;
  return 0;
}

static void line_done(struct lb_watchparse *p) {
  p->len = 0;
  p->depth = 0;
  p->in_str = p->esc = 0;
  if (p->cap > KEEP_BUF_CAP) {
    free(p->buf);
    p->buf = NULL;
    p->cap = 0;
  }
}

int lb_watchparse_feed(struct lb_watchparse *p, const char *data, size_t n) {
  size_t i = 0;
  assert_state(p);
  if (p->err)
    return p->err;
  while (i < n) {
    size_t start = i;
    int rc = split(p, data, n, &i, p->len);
    if (rc < 0)
      return rc;
    if (rc == SPLIT_MORE)
      return buf_append(p, data + start, n - start);
    if (p->len == 0) {
      /* whole line inside this chunk: no copy */
      rc = take_line(p, data + start, i - start);
    } else {
      if (buf_append(p, data + start, i - start))
        return p->err;
      rc = take_line(p, p->buf, p->len);
    }
    if (rc)
      return rc;
    line_done(p);
    i++; /* the '\n' */
  }
  assert_state(p);
  return 0;
}

int lb_watchparse_finish(struct lb_watchparse *p) {
  assert_state(p);
  if (p->err)
    return p->err;
  for (size_t i = 0; i < p->len; i++)
    if (!is_ws((unsigned char)p->buf[i]))
      return p->err = LB_EPARSE; /* the stream was cut mid-line */
  line_done(p);
  return 0;
}
