#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

void lb__bug(const char *file, int line, const char *what) {
  fprintf(stderr, "logbook: BUG at %s:%d: %s\n", file, line, what);
  abort();
}

char *lb_strdup(const char *s) { return s ? lb_strndup(s, strlen(s)) : NULL; }

char *lb_strndup(const char *s, size_t n) {
  char *p;
  if (!s)
    return NULL;
  p = malloc(n + 1);
  if (!p)
    return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

void lb_buf_init(struct lb_buf *b) { *b = (struct lb_buf)LB_BUF_INIT; }

void lb_buf_release(struct lb_buf *b) {
  free(b->p);
  lb_buf_init(b);
}

void lb_buf_reset(struct lb_buf *b) {
  b->len = 0;
  if (b->p)
    b->p[0] = '\0';
}

int lb_reserve(void *arrp, size_t *cap, size_t need, size_t size,
               size_t first) {
  void *arr;
  size_t nc;
  if (need <= *cap)
    return 0;
  nc = *cap ? *cap : first ? first : 1;
  while (nc < need) {
    if (nc > SIZE_MAX / 2)
      return LB_ENOMEM;
    nc *= 2;
  }
  if (size && nc > SIZE_MAX / size)
    return LB_ENOMEM;
  memcpy(&arr, arrp, sizeof arr); /* T ** seen as void **, without aliasing */
  if (!(arr = realloc(arr, nc * size)))
    return LB_ENOMEM;
  memcpy(arrp, &arr, sizeof arr);
  *cap = nc;
  return 0;
}

static int grow(struct lb_buf *b, size_t extra) {
  size_t want, cap;
  char *p;
  if (b->err)
    return b->err;
  want = b->len + extra + 1;
  if (want <= b->cap)
    return 0;
  cap = b->cap ? b->cap : 64;
  while (cap < want)
    cap *= 2;
  p = realloc(b->p, cap);
  if (!p)
    return b->err = LB_ENOMEM;
  b->p = p;
  b->cap = cap;
  return 0;
}

int lb_buf_add(struct lb_buf *b, const void *p, size_t n) {
  if (grow(b, n))
    return b->err;
  if (n)
    memcpy(b->p + b->len, p, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}

int lb_buf_adds(struct lb_buf *b, const char *s) {
  return lb_buf_add(b, s, strlen(s));
}

int lb_buf_addf(struct lb_buf *b, const char *fmt, ...) {
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return b->err = LB_EINVAL;
  if (grow(b, (size_t)n))
    return b->err;
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}

int lb_buf_add_json_str(struct lb_buf *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *u = (const unsigned char *)(s ? s : "");
  lb_buf_add(b, "\"", 1);
  for (; *u; u++) {
    switch (*u) {
    case '"':
      lb_buf_add(b, "\\\"", 2);
      break;
    case '\\':
      lb_buf_add(b, "\\\\", 2);
      break;
    case '\n':
      lb_buf_add(b, "\\n", 2);
      break;
    case '\r':
      lb_buf_add(b, "\\r", 2);
      break;
    case '\t':
      lb_buf_add(b, "\\t", 2);
      break;
    default:
      if (*u < 0x20) {
        char e[6] = {'\\', 'u', '0', '0', hex[*u >> 4], hex[*u & 15]};
        lb_buf_add(b, e, 6);
      } else {
        lb_buf_add(b, u, 1);
      }
    }
  }
  return lb_buf_add(b, "\"", 1);
}

char *lb_buf_detach(struct lb_buf *b, size_t *len) {
  char *p = b->p;
  if (len)
    *len = b->len;
  if (!p)
    p = lb_strdup("");
  lb_buf_init(b);
  return p;
}

size_t lb_strlcpy(char *dst, const char *src, size_t n) {
  size_t l = strlen(src);
  if (n) {
    size_t c = l < n - 1 ? l : n - 1;
    memcpy(dst, src, c);
    dst[c] = '\0';
  }
  return l;
}

/* Days from civil date, and back (Howard Hinnant's algorithms). */
int64_t lb_days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

void lb_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void lb_time_rfc3339(int64_t ms, char out[32]) {
  int64_t s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int64_t z = (s >= 0 ? s : s - 86399) / 86400;
  int64_t secs = s - z * 86400, y;
  unsigned m, d;
  lb_civil_from_days(z, &y, &m, &d);
  if (y < 0 || y > 9999)
    y = y < 0 ? 0 : 9999; /* RFC 3339 has four-digit years */
  snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)y % 10000u,
           m % 13u, d % 32u, (unsigned)(secs / 3600) % 24u,
           (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
}

static int digits(const char **p, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if ((*p)[i] < '0' || (*p)[i] > '9')
      return -1;
    v = v * 10 + ((*p)[i] - '0');
  }
  *p += n;
  *out = v;
  return 0;
}

int lb_time_parse(const char *s, int64_t *ms) {
  int Y, M, D, h, m, sec, frac_ms = 0, off = 0;
  const char *p = s;
  if (!s || digits(&p, 4, &Y) || *p++ != '-' || digits(&p, 2, &M) ||
      *p++ != '-' || digits(&p, 2, &D) || (*p != 'T' && *p != 't'))
    return LB_EPARSE;
  p++;
  if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &m) || *p++ != ':' ||
      digits(&p, 2, &sec))
    return LB_EPARSE;
  if (*p == '.') {
    int scale = 100;
    for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
      frac_ms += (*p - '0') * scale;
  }
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int sign = *p == '-' ? -1 : 1, oh, om;
    p++;
    if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
      return LB_EPARSE;
    off = sign * (oh * 3600 + om * 60);
  } else {
    return LB_EPARSE;
  }
  if (*p || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
    return LB_EPARSE;
  *ms = (lb_days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 +
         m * 60 + sec - off) *
            1000 +
        frac_ms;
  return 0;
}
