/* fastdecode.c — see fastdecode.h.
 *
 * Two passes over the text. validate() checks the whole document against
 * strict JSON (and the limits listed in the header) and records the spans of
 * the top-level members the decoder reads. The extraction then walks only
 * those spans with unchecked-but-bounded iterators (the text is known to be
 * valid), mirroring lb_obj_decode()'s reads one for one: json-c semantics
 * are kept where they matter — the last of duplicate keys wins, a null value
 * reads as absent, json_object_get_boolean() truthiness, strings are
 * unescaped as json-c does (\uXXXX to UTF-8, surrogate pairs to 4 bytes).
 * Anything else declines, and the caller runs the json-c reference.
 */
#include "fastdecode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "obj.h"
#include "obj_int.h"
#include "util.h"

#define BAD ((size_t)-1)
#define MAX_INT_DIGITS 18 /* always fits int64 */
#define MAX_NUM_LEN 40

struct span { /* a value's bytes [b, e) in the text; b == e: absent */
  size_t b, e;
};

static int is_ws(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static size_t skip_ws(const char *s, size_t i, size_t n) {
  while (i < n && is_ws(s[i]))
    i++;
  return i;
}

/* --- string scanning ------------------------------------------------------
 * First byte at or after i that is '"', '\\' or a control byte (< 0x20), or
 * n. Eight bytes at a time where the byte order allows (SWAR): the lowest
 * flagged byte of each test is exact, so the lowest of their union is. */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
static size_t scan_str(const char *s, size_t i, size_t n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  while (i + 8 <= n) {
    uint64_t x, q, b, t;
    memcpy(&x, s + i, 8);
    q = x ^ (ONES * '"');
    b = x ^ (ONES * '\\');
    t = ((q - ONES) & ~q) | ((b - ONES) & ~b) | ((x - ONES * 0x20) & ~x);
    t &= HIGHS;
    if (t)
      return i + (size_t)(__builtin_ctzll(t) >> 3);
    i += 8;
  }
#endif
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\' || c < 0x20)
      return i;
    i++;
  }
  return n;
}

static int hex4(const char *s, size_t i, size_t n, unsigned *out) {
  unsigned v = 0;
  if (i + 4 > n)
    return 0;
  for (size_t k = 0; k < 4; k++) {
    char c = s[i + k];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return 0;
  }
  *out = v;
  return 1;
}

/* --- pass 1: strict validation ------------------------------------------- */

enum { R_APIVERSION, R_KIND, R_METADATA, R_SPEC, R_STATUS, R__N };
static const char *const root_keys[R__N] = {"apiVersion", "kind", "metadata",
                                            "spec", "status"};

struct vstate {
  const char *s;
  size_t n;
  struct span root[R__N]; /* last occurrence; null reads as absent */
  uint32_t *ends;         /* ends[i]: end of the object/array at s[i] */
};

/* s[i] == '"'. Returns the index after the closing quote, or BAD (also for
 * \u0000 and unpaired surrogates, which are declined). *esc is set when the
 * string holds an escape. */
static size_t v_string(const char *s, size_t i, size_t n, int *esc) {
  for (i++;;) {
    unsigned cp, lo;
    i = scan_str(s, i, n);
    if (i >= n)
      return BAD;
    if (s[i] == '"')
      return i + 1;
    if (s[i] != '\\' || i + 1 >= n)
      return BAD; /* a raw control byte, or a cut escape */
    *esc = 1;
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
    case 'u':
      if (!hex4(s, i + 2, n, &cp) || cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
        return BAD;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (i + 12 > n || s[i + 6] != '\\' || s[i + 7] != 'u' ||
            !hex4(s, i + 8, n, &lo) || lo < 0xDC00 || lo > 0xDFFF)
          return BAD;
        i += 12;
      } else {
        i += 6;
      }
      break;
    default:
      return BAD;
    }
  }
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static size_t v_number(const char *s, size_t i, size_t n) {
  size_t start = i, digits;
  if (i < n && s[i] == '-')
    i++;
  if (i >= n || !is_digit(s[i]))
    return BAD;
  if (s[i] == '0') {
    i++;
  } else {
    while (i < n && is_digit(s[i]))
      i++;
  }
  digits = i - start - (s[start] == '-');
  if (i < n && s[i] == '.') {
    size_t f = ++i;
    while (i < n && is_digit(s[i]))
      i++;
    if (i == f)
      return BAD;
  } else if (digits > MAX_INT_DIGITS) {
    return BAD;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E'))
    return BAD;
  return i - start > MAX_NUM_LEN ? BAD : i;
}

static size_t v_literal(const char *s, size_t i, size_t n, const char *lit) {
  size_t l = strlen(lit);
  return i + l <= n && !memcmp(s + i, lit, l) ? i + l : BAD;
}

/* Where a container sits: escaped keys (and only they) are allowed inside
 * metadata.managedFields, whose keys ("k:{\"name\":\"app\"}") are never
 * read — the decoder sees the body before the strip (event.c). */
enum { CTX_ANY, CTX_ROOT, CTX_METADATA, CTX_MANAGED };

static size_t v_value(struct vstate *v, size_t i, int depth, int ctx);

static size_t v_object_(struct vstate *v, size_t i, int depth, int ctx);
static size_t v_array_(struct vstate *v, size_t i, int depth, int ctx);

/* The extraction never rescans a container: its end is kept here. */
static size_t v_object(struct vstate *v, size_t i, int depth, int ctx) {
  size_t e = v_object_(v, i, depth, ctx);
  if (e != BAD)
    v->ends[i] = (uint32_t)e;
  return e;
}

static size_t v_array(struct vstate *v, size_t i, int depth, int ctx) {
  size_t e = v_array_(v, i, depth, ctx);
  if (e != BAD)
    v->ends[i] = (uint32_t)e;
  return e;
}

static int raw_key_is(const char *s, size_t kb, size_t ke, const char *lit) {
  return ke - kb == strlen(lit) && !memcmp(s + kb, lit, ke - kb);
}

static size_t v_object_(struct vstate *v, size_t i, int depth, int ctx) {
  const char *s = v->s;
  size_t n = v->n;
  if (depth > LB_FD_MAX_DEPTH)
    return BAD;
  i = skip_ws(s, i + 1, n);
  if (i < n && s[i] == '}')
    return i + 1;
  for (;;) {
    size_t kb, ke, vb, ve;
    int esc = 0, child = ctx == CTX_MANAGED ? CTX_MANAGED : CTX_ANY;
    if (i >= n || s[i] != '"')
      return BAD;
    kb = i + 1;
    ke = v_string(s, i, n, &esc);
    if (ke == BAD || (esc && ctx != CTX_MANAGED))
      return BAD; /* escaped keys are declined */
    if (ctx == CTX_ROOT && raw_key_is(s, kb, ke - 1, "metadata"))
      child = CTX_METADATA;
    else if (ctx == CTX_METADATA && raw_key_is(s, kb, ke - 1, "managedFields"))
      child = CTX_MANAGED;
    i = skip_ws(s, ke, n);
    if (i >= n || s[i] != ':')
      return BAD;
    vb = skip_ws(s, i + 1, n);
    ve = v_value(v, vb, depth, child);
    if (ve == BAD)
      return BAD;
    if (ctx == CTX_ROOT) {
      for (int r = 0; r < R__N; r++)
        if (raw_key_is(s, kb, ke - 1, root_keys[r])) {
          v->root[r] =
              s[vb] == 'n' ? (struct span){0, 0} : (struct span){vb, ve};
          break;
        }
    }
    i = skip_ws(s, ve, n);
    if (i >= n)
      return BAD;
    if (s[i] == '}')
      return i + 1;
    if (s[i] != ',')
      return BAD;
    i = skip_ws(s, i + 1, n);
  }
}

static size_t v_array_(struct vstate *v, size_t i, int depth, int ctx) {
  const char *s = v->s;
  size_t n = v->n;
  if (depth > LB_FD_MAX_DEPTH)
    return BAD;
  i = skip_ws(s, i + 1, n);
  if (i < n && s[i] == ']')
    return i + 1;
  for (;;) {
    i = v_value(v, i, depth, ctx == CTX_MANAGED ? CTX_MANAGED : CTX_ANY);
    if (i == BAD)
      return BAD;
    i = skip_ws(s, i, n);
    if (i >= n)
      return BAD;
    if (s[i] == ']')
      return i + 1;
    if (s[i] != ',')
      return BAD;
    i = skip_ws(s, i + 1, n);
  }
}

static size_t v_value(struct vstate *v, size_t i, int depth, int ctx) {
  const char *s = v->s;
  size_t n = v->n;
  int esc = 0;
  if (i >= n)
    return BAD;
  switch (s[i]) {
  case '{':
    return v_object(v, i, depth + 1, ctx);
  case '[':
    return v_array(v, i, depth + 1, ctx);
  case '"':
    return v_string(s, i, n, &esc);
  case 't':
    return v_literal(s, i, n, "true");
  case 'f':
    return v_literal(s, i, n, "false");
  case 'n':
    return v_literal(s, i, n, "null");
  default:
    return v_number(s, i, n);
  }
}

/* 1 when s[0..n) is one strict JSON object and nothing but whitespace. */
static int validate(struct vstate *v) {
  size_t i = skip_ws(v->s, 0, v->n);
  memset(v->root, 0, sizeof v->root);
  if (i >= v->n || v->s[i] != '{')
    return 0;
  i = v_object(v, i, 1, CTX_ROOT);
  return i != BAD && skip_ws(v->s, i, v->n) == v->n;
}

/* --- pass 2: reading validated text -------------------------------------- */

static size_t str_end(const char *s, size_t i, size_t n) {
  for (i++;;) {
    i = scan_str(s, i, n);
    if (i >= n)
      return n;
    if (s[i] == '"')
      return i + 1;
    i += s[i] == '\\' ? 2 : 1;
  }
}

/* The index just after the value starting at s[i]. */
static size_t skip(const struct vstate *d, size_t i) {
  const char *s = d->s;
  size_t n = d->n;
  if (s[i] == '"')
    return str_end(s, i, n);
  if (s[i] == '{' || s[i] == '[')
    return d->ends[i];
  while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && !is_ws(s[i]))
    i++;
  return i;
}

static int present(struct span v) { return v.e > v.b; }
static int is_obj(const char *s, struct span v) {
  return present(v) && s[v.b] == '{';
}
static int is_arr(const char *s, struct span v) {
  return present(v) && s[v.b] == '[';
}
static int is_str(const char *s, struct span v) {
  return present(v) && s[v.b] == '"';
}
static int is_int(const char *s, struct span v) { /* json_type_int */
  return present(v) && (s[v.b] == '-' || is_digit(s[v.b])) &&
         !memchr(s + v.b, '.', v.e - v.b);
}
static int64_t int_val(const char *s, struct span v) {
  size_t i = v.b + (s[v.b] == '-');
  int64_t x = 0;
  for (; i < v.e; i++)
    x = x * 10 + (s[i] - '0');
  return s[v.b] == '-' ? -x : x;
}
/* json_object_get_boolean() of the value (absent/null: 0). */
static int truthy(const char *s, struct span v) {
  if (!present(v))
    return 0;
  switch (s[v.b]) {
  case 't':
    return 1;
  case '"':
    return v.e - v.b > 2; /* length != 0 (\u0000 is declined) */
  case '-':
  case '0':
  case '1':
  case '2':
  case '3':
  case '4':
  case '5':
  case '6':
  case '7':
  case '8':
  case '9':
    for (size_t i = v.b; i < v.e; i++) /* no exponents: nonzero digit */
      if (s[i] >= '1' && s[i] <= '9')
        return 1;
    return 0;
  default: /* false, objects, arrays */
    return 0;
  }
}

/* Object members: *pos starts at the '{'. */
static int obj_next(const struct vstate *d, size_t *pos, struct span *k,
                    struct span *v) {
  const char *s = d->s;
  size_t n = d->n;
  size_t i = skip_ws(s, *pos, n), e;
  if (i < n && (s[i] == '{' || s[i] == ','))
    i = skip_ws(s, i + 1, n);
  if (i >= n || s[i] != '"')
    return 0;
  e = str_end(s, i, n);
  k->b = i + 1;
  k->e = e - 1;
  i = skip_ws(s, e, n); /* ':' */
  i = skip_ws(s, i + 1, n);
  v->b = i;
  v->e = *pos = skip(d, i);
  return 1;
}

/* Array elements: *pos starts at the '['. */
static int arr_next(const struct vstate *d, size_t *pos, struct span *v) {
  const char *s = d->s;
  size_t n = d->n;
  size_t i = skip_ws(s, *pos, n);
  if (i < n && (s[i] == '[' || s[i] == ','))
    i = skip_ws(s, i + 1, n);
  if (i >= n || s[i] == ']')
    return 0;
  v->b = i;
  v->e = *pos = skip(d, i);
  return 1;
}

static int key_is(const char *s, struct span k, const char *lit) {
  size_t l = strlen(lit);
  return k.e - k.b == l && !memcmp(s + k.b, lit, l);
}

/* The last occurrence of each of keys[] among the members of obj (absent
 * when obj is not an object, the key is missing, or its value is null):
 * what json_object_object_get_ex() returns after json-c's parse. */
static void members(const struct vstate *d, struct span obj,
                    const char *const *keys, size_t nk, struct span *out) {
  const char *s = d->s;
  struct span k, v;
  size_t pos = obj.b;
  memset(out, 0, nk * sizeof *out);
  if (!is_obj(s, obj))
    return;
  while (obj_next(d, &pos, &k, &v))
    for (size_t j = 0; j < nk; j++)
      if (key_is(s, k, keys[j])) {
        out[j] = s[v.b] == 'n' ? (struct span){0, 0} : v;
        break;
      }
}

static struct span member(const struct vstate *d, struct span obj,
                          const char *key) {
  struct span v;
  members(d, obj, &key, 1, &v);
  return v;
}

/* --- strings --------------------------------------------------------------
 * Unescaping writes at most as many bytes as it reads (an escape of 2, 6 or
 * 12 bytes yields 1, 1-3 or 4), so the span length bounds the result. */
static size_t put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Unescapes the string value v (with its quotes) into out; returns the
 * length written (no NUL). out == NULL only measures. */
static size_t unescape(const char *s, struct span v, char *out) {
  size_t i = v.b + 1, end = v.e - 1, o = 0;
  char tmp[4];
  while (i < end) {
    const char *bs = memchr(s + i, '\\', end - i);
    size_t run = bs ? (size_t)(bs - s) - i : end - i;
    unsigned cp, lo;
    if (out)
      memcpy(out + o, s + i, run);
    o += run;
    i += run;
    if (i >= end)
      break;
    switch (s[i + 1]) {
    case 'b':
      cp = '\b';
      break;
    case 'f':
      cp = '\f';
      break;
    case 'n':
      cp = '\n';
      break;
    case 'r':
      cp = '\r';
      break;
    case 't':
      cp = '\t';
      break;
    case 'u':
      hex4(s, i + 2, end, &cp);
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        hex4(s, i + 8, end, &lo);
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        i += 6;
      }
      i += 4;
      break;
    default: /* " \ / */
      cp = (unsigned char)s[i + 1];
    }
    i += 2;
    o += put_utf8(out ? out + o : tmp, cp);
  }
  return o;
}

static int has_escape(const char *s, struct span v) {
  return memchr(s + v.b + 1, '\\', v.e - v.b - 2) != NULL;
}

/* A malloc'd NUL-terminated copy of string value v; NULL on ENOMEM. */
static char *str_dup(const char *s, struct span v) {
  char *c = malloc(v.e - v.b - 1);
  if (c)
    c[unescape(s, v, c)] = '\0';
  return c;
}

/* String value v equals lit (after unescaping). */
static int str_is(const char *s, struct span v, const char *lit) {
  size_t l = strlen(lit);
  if (!is_str(s, v))
    return 0;
  if (!has_escape(s, v))
    return v.e - v.b - 2 == l && !memcmp(s + v.b + 1, lit, l);
  char *c = str_dup(s, v);
  int eq = c && !strcmp(c, lit);
  free(c);
  return eq;
}

/* strdup of the string value, or of "" when v is not a string. */
static char *str_or_empty(const char *s, struct span v) {
  return is_str(s, v) ? str_dup(s, v) : lb_strdup("");
}

/* jtime(): RFC 3339 of a string value, 0 when absent or unparsable. */
static int64_t time_of(const char *s, struct span v, int *oom) {
  int64_t ms = 0;
  char *c;
  if (!is_str(s, v))
    return 0;
  if (!(c = str_dup(s, v))) {
    *oom = 1;
    return 0;
  }
  if (lb_time_parse(c, &ms))
    ms = 0;
  free(c);
  return ms;
}

/* --- packed sets ----------------------------------------------------------
 * pack_kv() over json-c's object: one entry per distinct key (json-c kept
 * the last value), sorted by strcmp. */
struct pair {
  const char *k; /* key bytes in the text (no quotes, no escapes) */
  size_t kl;     /* key length */
  struct span v; /* value */
  size_t idx;    /* position, to keep the last of equal keys */
};

static int key_cmp(const struct pair *x, const struct pair *y) {
  int c = memcmp(x->k, y->k, x->kl < y->kl ? x->kl : y->kl);
  return c ? c : x->kl < y->kl ? -1 : x->kl > y->kl;
}

static int cmp_pair(const void *a, const void *b) {
  const struct pair *x = a, *y = b;
  int c = key_cmp(x, y);
  return c ? c : x->idx < y->idx ? -1 : x->idx > y->idx;
}

struct pairs {
  struct pair *v;
  size_t n, cap;
  struct pair local[32];
};

static int pairs_add(struct pairs *p, const char *k, size_t kl, struct span v) {
  if (p->n == p->cap) {
    size_t cap = p->cap * 2;
    struct pair *nv = malloc(cap * sizeof *nv);
    if (!nv)
      return LB_ENOMEM;
    memcpy(nv, p->v, p->n * sizeof *nv);
    if (p->v != p->local)
      free(p->v);
    p->v = nv;
    p->cap = cap;
  }
  p->v[p->n] = (struct pair){k, kl, v, p->n};
  p->n++;
  return 0;
}

static void pairs_init(struct pairs *p) {
  p->v = p->local;
  p->n = 0;
  p->cap = LB_ARRAY_SIZE(p->local);
}

static void pairs_release(struct pairs *p) {
  if (p->v != p->local)
    free(p->v);
}

/* Sorts by key (strcmp order: the keys hold no NUL) and keeps the last of
 * equal keys, as json-c's object does. */
static void pairs_sort_dedup(struct pairs *p) {
  size_t w = 0;
  qsort(p->v, p->n, sizeof *p->v, cmp_pair);
  for (size_t i = 0; i < p->n; i++)
    if (i + 1 == p->n || key_cmp(&p->v[i], &p->v[i + 1]))
      p->v[w++] = p->v[i]; /* no later duplicate follows */
  p->n = w;
}

/* Packs "k\0v\0...\0" from deduplicated pairs whose values are strings
 * (others skipped). */
static int pairs_pack(const char *s, const struct pairs *p, char **out) {
  size_t total = 1;
  char *o;
  for (size_t i = 0; i < p->n; i++)
    if (is_str(s, p->v[i].v))
      total += p->v[i].kl + 1 + unescape(s, p->v[i].v, NULL) + 1;
  o = *out = malloc(total);
  if (!o)
    return LB_ENOMEM;
  for (size_t i = 0; i < p->n; i++) {
    if (!is_str(s, p->v[i].v))
      continue;
    memcpy(o, p->v[i].k, p->v[i].kl);
    o += p->v[i].kl;
    *o++ = '\0';
    o += unescape(s, p->v[i].v, o);
    *o++ = '\0';
  }
  *o = '\0';
  return 0;
}

/* pack_list_lax(): the non-empty strings of an array (field == NULL), or
 * the non-empty string `field` of its object elements. */
static int pack_list(const struct vstate *d, struct span a, const char *field,
                     char **out) {
  const char *s = d->s;
  size_t total = 1, pos = a.b;
  struct span x;
  char *o;
  if (is_arr(s, a))
    while (arr_next(d, &pos, &x)) {
      struct span v = field ? member(d, x, field) : x;
      if (is_str(s, v) && v.e - v.b > 2)
        total += unescape(s, v, NULL) + 1;
    }
  o = *out = malloc(total);
  if (!o)
    return LB_ENOMEM;
  pos = a.b;
  if (is_arr(s, a))
    while (arr_next(d, &pos, &x)) {
      struct span v = field ? member(d, x, field) : x;
      if (is_str(s, v) && v.e - v.b > 2) {
        o += unescape(s, v, o);
        *o++ = '\0';
      }
    }
  *o = '\0';
  return 0;
}

static size_t arr_len(const struct vstate *d, struct span a) {
  const char *s = d->s;
  size_t pos = a.b, k = 0;
  struct span x;
  if (is_arr(s, a))
    while (arr_next(d, &pos, &x))
      k++;
  return k;
}

/* --- Pod ------------------------------------------------------------------
 * Mirrors decode_meta() + decode_pod() + pod_derive() of obj.c. Returns 0,
 * LB_FD_DECLINED (the reference would refuse the object, or decides what
 * is not modelled here) or LB_ENOMEM; *p is complete only on 0. */
enum {
  M_NS,
  M_NAME,
  M_UID,
  M_RV,
  M_LABELS,
  M_ANN,
  M_CREATED,
  M_DELETING,
  M_GEN,
  M_OWNERS,
  M_FINALIZERS,
  M__N
};
static const char *const meta_keys[M__N] = {"namespace",
                                            "name",
                                            "uid",
                                            "resourceVersion",
                                            "labels",
                                            "annotations",
                                            "creationTimestamp",
                                            "deletionTimestamp",
                                            "generation",
                                            "ownerReferences",
                                            "finalizers"};

static int decode_labels(const struct vstate *d, struct span l, char **out) {
  const char *s = d->s;
  struct pairs p;
  struct span k, v;
  size_t pos = l.b;
  int rc;
  if (present(l) && !is_obj(s, l))
    return LB_FD_DECLINED; /* "metadata.labels: values must be strings" */
  pairs_init(&p);
  if (present(l))
    while (obj_next(d, &pos, &k, &v))
      if ((rc = pairs_add(&p, s + k.b, k.e - k.b, v))) {
        pairs_release(&p);
        return rc;
      }
  pairs_sort_dedup(&p);
  for (size_t i = 0; i < p.n; i++)
    if (!is_str(s, p.v[i].v)) {
      pairs_release(&p);
      return LB_FD_DECLINED; /* a non-string label value */
    }
  rc = pairs_pack(s, &p, out);
  pairs_release(&p);
  return rc;
}

/* pack_kv_filtered() and the pod-deletion-cost look-up. */
static int decode_annotations(const struct vstate *d, struct span a, char **out,
                              struct span *cost) {
  const char *s = d->s;
  struct pairs p;
  struct span k, v;
  size_t pos = a.b;
  char kb[256];
  int rc = 0;
  memset(cost, 0, sizeof *cost);
  pairs_init(&p);
  if (is_obj(s, a))
    while (!rc && obj_next(d, &pos, &k, &v)) {
      size_t kl = k.e - k.b;
      char *key = kl < sizeof kb ? kb : malloc(kl + 1);
      if (!key) {
        rc = LB_ENOMEM;
        break;
      }
      memcpy(key, s + k.b, kl);
      key[kl] = '\0';
      if (!strcmp(key, "controller.kubernetes.io/pod-deletion-cost"))
        *cost = s[v.b] == 'n' ? (struct span){0, 0} : v;
      if (lb__obj_kept_annotation(key))
        rc = pairs_add(&p, s + k.b, kl, v);
      if (key != kb)
        free(key);
    }
  if (!rc) {
    pairs_sort_dedup(&p);
    rc = pairs_pack(s, &p, out);
  }
  pairs_release(&p);
  return rc;
}

enum { C_TYPE, C_STATUS, C_LTT, C__N };
static const char *const cond_keys[C__N] = {"type", "status",
                                            "lastTransitionTime"};

/* The Ready loop and pack_conds() over status.conditions. */
static int decode_conditions(const struct vstate *d, struct span a,
                             struct lb_pod *p) {
  const char *s = d->s;
  struct pairs pr;
  struct span c, f[C__N];
  size_t pos = a.b;
  int rc = 0, oom = 0;
  pairs_init(&pr);
  if (is_arr(s, a))
    while (!rc && arr_next(d, &pos, &c)) {
      members(d, c, cond_keys, C__N, f);
      if (str_is(s, f[C_TYPE], "Ready") && str_is(s, f[C_STATUS], "True")) {
        p->ready = 1;
        p->ready_ms = time_of(s, f[C_LTT], &oom);
        if (oom)
          rc = LB_ENOMEM;
      }
      if (!rc && is_str(s, f[C_TYPE]) && is_str(s, f[C_STATUS])) {
        if (has_escape(s, f[C_TYPE]))
          rc = LB_FD_DECLINED; /* a key that needs unescaping */
        else
          rc = pairs_add(&pr, s + f[C_TYPE].b + 1,
                         f[C_TYPE].e - f[C_TYPE].b - 2, f[C_STATUS]);
      }
    }
  if (!rc) {
    pairs_sort_dedup(&pr);
    rc = pairs_pack(s, &pr, &p->conds);
  }
  pairs_release(&pr);
  return rc;
}

enum {
  K_NAME,
  K_IMAGE,
  K_IMAGEID,
  K_CID,
  K_READY,
  K_STARTED,
  K_RESTARTS,
  K__N
};
static const char *const cst_keys[K__N] = {"name",        "image", "imageID",
                                           "containerID", "ready", "started",
                                           "restartCount"};

static int64_t restart_count(const char *s, struct span v) {
  return is_int(s, v) ? int_val(s, v) : 0; /* jint(): 0 on a wrong type */
}

static int decode_containers(const struct vstate *d, struct span ctrs,
                             struct span cs, struct lb_pod *p) {
  const char *s = d->s;
  struct span x, f[K__N];
  size_t pos, k;
  if (is_arr(s, ctrs)) {
    p->ctrs = calloc(arr_len(d, ctrs) + 1, sizeof *p->ctrs);
    if (!p->ctrs)
      return LB_ENOMEM;
    for (pos = ctrs.b, k = 0; arr_next(d, &pos, &x); k++) {
      members(d, x, cst_keys, 2, f);
      p->ctrs[k].name = str_or_empty(s, f[K_NAME]);
      p->ctrs[k].image = str_or_empty(s, f[K_IMAGE]);
      p->n_ctrs = k + 1;
      if (!p->ctrs[k].name || !p->ctrs[k].image)
        return LB_ENOMEM;
    }
  }
  if (is_arr(s, cs)) {
    p->csts = calloc(arr_len(d, cs) + 1, sizeof *p->csts);
    if (!p->csts)
      return LB_ENOMEM;
    for (pos = cs.b, k = 0; arr_next(d, &pos, &x); k++) {
      struct lb_ctr_status *c = &p->csts[k];
      int64_t r;
      members(d, x, cst_keys, K__N, f);
      r = restart_count(s, f[K_RESTARTS]);
      if (r > p->restarts)
        p->restarts = (int)r;
      c->name = str_or_empty(s, f[K_NAME]);
      c->image = str_or_empty(s, f[K_IMAGE]);
      c->image_id = str_or_empty(s, f[K_IMAGEID]);
      c->container_id = str_or_empty(s, f[K_CID]);
      c->ready = truthy(s, f[K_READY]);
      c->started = truthy(s, f[K_STARTED]);
      c->restarts = (int)r;
      p->n_csts = k + 1;
      if (!c->name || !c->image || !c->image_id || !c->container_id)
        return LB_ENOMEM;
    }
  }
  return 0;
}

static int decode_owner(const struct vstate *d, struct span refs,
                        struct lb_obj *o) {
  const char *s = d->s;
  static const char *const keys[] = {"controller", "uid"};
  struct span r, f[2];
  size_t pos = refs.b;
  if (!is_arr(s, refs))
    return 0;
  while (arr_next(d, &pos, &r)) {
    members(d, r, keys, 2, f);
    if (truthy(s, f[0]) && is_str(s, f[1]))
      return (o->owner_uid = str_dup(s, f[1])) ? 0 : LB_ENOMEM;
  }
  return 0;
}

static int decode_pod(const struct vstate *v, struct lb_pod *p) {
  static const char *const spec_keys[] = {"nodeName", "readinessGates",
                                          "containers"};
  static const char *const st_keys[] = {"phase", "conditions",
                                        "containerStatuses"};
  const struct vstate *d = v;
  const char *s = v->s;
  struct lb_obj *o = &p->o;
  struct span m[M__N], sp[3], st[3], cost;
  int rc, oom = 0;

  members(d, v->root[R_METADATA], meta_keys, M__N, m);
  members(d, v->root[R_SPEC], spec_keys, 3, sp);
  members(d, v->root[R_STATUS], st_keys, 3, st);
  /* decode_meta() */
  o->ns = str_or_empty(s, m[M_NS]);
  o->name = str_or_empty(s, m[M_NAME]);
  o->uid = str_or_empty(s, m[M_UID]);
  o->rv = str_or_empty(s, m[M_RV]);
  if (!o->ns || !o->name || !o->uid || !o->rv)
    return LB_ENOMEM;
  if (!*o->name)
    return LB_FD_DECLINED; /* "metadata.name is missing" */
  if ((rc = decode_labels(d, m[M_LABELS], &o->labels)))
    return rc;
  o->created_ms = time_of(s, m[M_CREATED], &oom);
  o->deleting_ms = time_of(s, m[M_DELETING], &oom);
  if (oom)
    return LB_ENOMEM;
  if (present(m[M_GEN]) && !is_int(s, m[M_GEN]))
    return LB_FD_DECLINED; /* "metadata.generation: expected integer" */
  o->generation = present(m[M_GEN]) ? int_val(s, m[M_GEN]) : 0;
  if ((rc = decode_owner(d, m[M_OWNERS], o)))
    return rc;
  /* decode_pod() */
  if (is_str(s, sp[0]) && sp[0].e - sp[0].b > 2 &&
      !(p->node = str_dup(s, sp[0])))
    return LB_ENOMEM;
  if (!is_str(s, st[0]))
    p->phase = LB_PH_PENDING;
  else if (str_is(s, st[0], "Pending"))
    p->phase = LB_PH_PENDING;
  else if (str_is(s, st[0], "Running"))
    p->phase = LB_PH_RUNNING;
  else if (str_is(s, st[0], "Succeeded"))
    p->phase = LB_PH_SUCCEEDED;
  else if (str_is(s, st[0], "Failed"))
    p->phase = LB_PH_FAILED;
  else
    p->phase = LB_PH_UNKNOWN;
  if ((rc = decode_annotations(d, m[M_ANN], &p->annotations, &cost)))
    return rc;
  if (is_str(s, cost)) {
    char *c = str_dup(s, cost), *end;
    long long x;
    if (!c)
      return LB_ENOMEM;
    x = strtoll(c, &end, 10);
    p->deletion_cost = *end ? 0 : x; /* invalid = 0, as upstream */
    free(c);
  }
  if ((rc = pack_list(d, m[M_FINALIZERS], NULL, &p->finalizers)) ||
      (rc = pack_list(d, sp[1], "conditionType", &p->gates)) ||
      (rc = decode_conditions(d, st[1], p)) ||
      (rc = decode_containers(d, sp[2], st[2], p)))
    return rc;
  lb__obj_pod_derive(p);
  return 0;
}

/* --- entry point ---------------------------------------------------------- */

void lb_fd_ident_release(struct lb_fd_ident *id) {
  free(id->api_version);
  free(id->kind);
  free(id->ns);
  free(id->name);
  free(id->uid);
  free(id->rv);
  memset(id, 0, sizeof *id);
}

static int dup_if_str(const char *s, struct span v, char **out) {
  *out = NULL;
  return is_str(s, v) && !(*out = str_dup(s, v)) ? LB_ENOMEM : 0;
}

/* lb_obj_decode(): the kind from apiVersion's group and kind. */
static int decode_obj(const struct vstate *v, struct lb_obj **obj) {
  const char *s = v->s;
  char *av, *k, group[128] = "", *slash;
  int kind, rc;
  struct lb_pod *p;
  if (!is_str(s, v->root[R_APIVERSION]) || !is_str(s, v->root[R_KIND]))
    return 0;
  av = str_dup(s, v->root[R_APIVERSION]);
  k = str_dup(s, v->root[R_KIND]);
  if (!av || !k) {
    free(av);
    free(k);
    return LB_ENOMEM;
  }
  slash = strchr(av, '/');
  if (slash && (size_t)(slash - av) < sizeof group) {
    memcpy(group, av, (size_t)(slash - av));
    group[slash - av] = '\0';
  }
  kind = lb_kind_of(group, k);
  free(av);
  free(k);
  if (kind == LB_KIND_NONE)
    return 0;
  if (kind != LB_KIND_POD)
    return LB_FD_DECLINED;
  if (!(p = calloc(1, sizeof *p)))
    return LB_ENOMEM;
  p->o.kind = LB_KIND_POD;
  if ((rc = decode_pod(v, p))) {
    lb_obj_free(&p->o);
    return rc;
  }
  *obj = &p->o;
  return 0;
}

int lb_fastdecode(const char *s, size_t n, struct lb_fd_ident *id,
                  struct lb_obj **obj) {
  static const char *const ident_keys[] = {"namespace", "name", "uid",
                                           "resourceVersion"};
  struct vstate v = {s, n, {{0, 0}}, NULL};
  struct span m[4];
  int rc = 0;
  if (id)
    memset(id, 0, sizeof *id);
  if (obj)
    *obj = NULL;
  if (!s || n < 2 || n > LB_FD_MAX_BYTES)
    return LB_FD_DECLINED;
  if (!(v.ends = malloc(n * sizeof *v.ends)))
    return LB_ENOMEM;
  if (!validate(&v)) {
    rc = LB_FD_DECLINED;
    goto out;
  }
  if (obj && (rc = decode_obj(&v, obj)))
    goto out;
  if (id) {
    members(&v, v.root[R_METADATA], ident_keys, 4, m);
    if ((rc = dup_if_str(s, v.root[R_APIVERSION], &id->api_version)) ||
        (rc = dup_if_str(s, v.root[R_KIND], &id->kind)) ||
        (rc = dup_if_str(s, m[0], &id->ns)) ||
        (rc = dup_if_str(s, m[1], &id->name)) ||
        (rc = dup_if_str(s, m[2], &id->uid)) ||
        (rc = dup_if_str(s, m[3], &id->rv))) {
      lb_fd_ident_release(id);
      if (obj) {
        lb_obj_free(*obj);
        *obj = NULL;
      }
    }
  }
out:
  free(v.ends);
  return rc;
}
