/* faultproxy — a fault-injecting HTTPS proxy on loopback, for end-to-end tests
 * of logbook against the real kube-apiserver (../shared/real-cluster/).
 *
 * Build:  make build/faultproxy          (links -lssl -lcrypto; not part of the
 * test binary)
 *
 * Usage:
 *   faultproxy --listen 127.0.0.1:PORT --upstream 127.0.0.1:6443 \
 *              --cert SERVING.crt --key SERVING.key --upstream-ca CA.crt \
 *              [--control 127.0.0.1:CPORT] [-v]
 *
 *   On the kit: --cert /opt/kube/pki/serving.crt --key
 * /opt/kube/pki/serving.key
 *   --upstream-ca /opt/kube/pki/ca.crt; clients keep trusting ca.crt and point
 * at https://127.0.0.1:PORT instead of :6443. PORT 0 (either port) picks a free
 *   port; the first line on stdout is always
 *       faultproxy: listen 127.0.0.1:P1 control 127.0.0.1:P2 upstream HOST:PORT
 *   (flushed), so a test can start the proxy and read its ports.
 *
 * What it does:
 *   - terminates TLS from the client (no ALPN: HTTP/1.1 only; no client
 *     certificates — authenticate with a bearer token), reads HTTP/1.1 requests
 *     (Content-Length and chunked bodies, keep-alive, pipelining, Expect:
 *     100-continue answered by the proxy), and forwards each one over its own
 *     upstream TLS connection (one per client connection, verified against
 *     --upstream-ca, hostname/IP checked). Request headers pass through —
 *     Authorization included — except hop-by-hop ones (Connection, Keep-Alive,
 *     Proxy-*, TE, Trailer, Upgrade, Expect) and Host, which names the
 * upstream. Upgrade (exec, port-forward) is not supported.
 *   - streams responses through as bytes arrive, chunk framing untouched, so
 *     watches (chunked, long-lived) work; a watch is a request whose query has
 *     watch=true|1 or whose path has a /watch/ segment, answered 200.
 *   - answers 502 with a Kubernetes Status body when the upstream is
 * unreachable.
 *
 * Control port (plain HTTP, loopback; default: listen port + 1). Parameters are
 * key=value words separated by spaces, newlines or '&', in the body and/or the
 * query string:
 *   POST /fault      status=409 [method=PATCH]
 * [path_prefix=/apis/apps.kruise.io] [count=2] [retry_after=1]
 * [reason=AlreadyExists] [watch=true|false] The next `count` (default 1; -1 =
 * until cleared) requests that match (method case-insensitive, default any;
 * path_prefix a prefix of the request target, default any; watch=true only
 *                    watch requests, false only others) are answered with
 * `status` and a Status JSON body (reason from the code, or `reason=`), plus
 * Retry-After and details.retryAfterSeconds when retry_after is given, without
 * being forwarded. status=0 closes the client connection instead of answering.
 * Rules are tried in the order they were added; the request body is read and
 * discarded. GET /fault       the rules still armed, as JSON. DELETE /fault
 * disarm all rules. POST /cut-watch  [after_ms=N] — every watch response open
 * at this moment is cut in the middle of its next event line: the proxy
 * forwards the chunk header and the first half of the next chunk's bytes, then
 * closes the client connection (no TLS close_notify). With after_ms, a watch
 * that has received no event N ms after the request is closed between events
 * instead. POST /drop       close every client connection (and its upstream
 * connection). GET /stats
 * {"requests":..,"forwarded":..,"faults":..,"watches_open":..,
 *                    "watches_total":..,"watches_cut":..,
 *                    "connections_open":..,"connections_total":..,"dropped":..,
 *                    "upstream_errors":..,"bad_requests":..,"rules":..}
 *   POST /reset      disarm all rules and zero the counters.
 *   Every answer is JSON with Connection: close.
 *
 * Examples (kit):
 *   T=$(cat /opt/kube/pki/admin.token); CA=/opt/kube/pki/ca.crt
 *   curl --cacert $CA -H "Authorization: Bearer $T"
 * https://127.0.0.1:7443/api/v1/namespaces curl -d 'status=429 method=GET
 * path_prefix=/api/v1 count=1 retry_after=2' 127.0.0.1:7444/fault
 *   curl -N --cacert $CA -H "Authorization: Bearer $T" \
 *        'https://127.0.0.1:7443/api/v1/namespaces?watch=true' &  curl -XPOST
 * 127.0.0.1:7444/cut-watch
 *
 * Design: one detached thread per client connection with blocking OpenSSL I/O;
 * while a response streams, the thread poll()s the upstream and the client
 * socket (200 ms ticks) so a vanished client, /drop and after_ms are noticed.
 * /drop works by shutdown(2) on the sockets of every registered connection
 * (under the registry lock); each thread then fails its next read and cleans
 * up after itself. Malformed input gets 400 and a closed connection, never a
 * crash: every parse is bounded by the buffer it reads.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define IOBUF (128 * 1024) /* per direction per connection */
#define MAXHDR (64 * 1024) /* request/response header block limit */
#define MAXLINE 4096       /* chunk-size and trailer line limit */
#define MAXRULES 64
#define IDLE_MS                                                                \
  (10 * 60 * 1000) /* keep-alive idle limit per client connection */

/* Return codes of the I/O helpers: >= 0 fine, negative = close the connection.
 */
enum { FP_OK = 0, FP_EOF = -1, FP_ERR = -2, FP_CUT = -3, FP_ABORT = -4 };

/* ---- configuration and global state ------------------------------------- */

static struct {
  char up_host[256];
  char up_port[16];
  int verbose;
} cfg;

static SSL_CTX *srv_ctx; /* client-facing (we are the server) */
static SSL_CTX *up_ctx;  /* upstream-facing (we are the client) */

struct rule {
  int status;       /* 0 = close the connection */
  char method[16];  /* "" = any */
  char prefix[512]; /* "" = any */
  char reason[64];  /* "" = from status */
  long count;       /* remaining; -1 = unlimited */
  int retry_after;  /* seconds; -1 = none */
  int watch;        /* -1 any, 0 non-watch only, 1 watch only */
};

struct conn {
  int cfd, ufd; /* written by the owner under reg_mu; -1 when closed */
  struct conn *prev, *next; /* registry */
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER; /* conns, rules */
static struct conn reg = {-1, -1, &reg, &reg};
static struct rule rules[MAXRULES];
static int nrules;

static atomic_long st_requests, st_forwarded, st_faults, st_watches_open,
    st_watches_total, st_watches_cut, st_conns_open, st_conns_total, st_dropped,
    st_upstream_errors, st_bad_requests;
static atomic_ulong cut_gen;         /* bumped by POST /cut-watch */
static atomic_llong cut_deadline_ms; /* 0 = wait for the next event */

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void logf_(const char *fmt, ...) {
  va_list ap;
  char line[1024];
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  fprintf(stderr, "faultproxy: %s\n", line);
}
#define VLOG(...)                                                              \
  do {                                                                         \
    if (cfg.verbose)                                                           \
      logf_(__VA_ARGS__);                                                      \
  } while (0)

/* ---- growable string ------------------------------------------------------
 */

struct sb {
  char *p;
  size_t n, cap;
  int oom;
};

static void sb_add(struct sb *b, const char *s, size_t n) {
  if (b->oom)
    return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n + 1)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = 0;
}
static void sb_adds(struct sb *b, const char *s) { sb_add(b, s, strlen(s)); }
static void sb_addf(struct sb *b, const char *fmt, ...) {
  char tmp[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  sb_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}
static void sb_json_str(struct sb *b, const char *s) {
  sb_add(b, "\"", 1);
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') {
      char e[2] = {'\\', (char)ch};
      sb_add(b, e, 2);
    } else if (ch < 0x20) {
      sb_addf(b, "\\u%04x", ch);
    } else {
      sb_add(b, s, 1);
    }
  }
  sb_add(b, "\"", 1);
}

/* ---- buffered TLS reader ----------------------------------------------------
 */

struct io {
  SSL *ssl;
  int fd;
  unsigned char buf[IOBUF];
  size_t off, len;
};

static size_t io_avail(const struct io *io) { return io->len - io->off; }

static void io_compact(struct io *io) {
  if (io->off == 0)
    return;
  memmove(io->buf, io->buf + io->off, io->len - io->off);
  io->len -= io->off;
  io->off = 0;
}

static int ssl_write_all(SSL *ssl, const void *p, size_t n) {
  const char *s = p;
  while (n > 0) {
    int chunk = n > (1 << 30) ? (1 << 30) : (int)n;
    int w = SSL_write(ssl, s, chunk);
    if (w <= 0)
      return FP_ERR;
    s += w;
    n -= (size_t)w;
  }
  return FP_OK;
}

/* Reads more bytes from the client (blocking, with an idle limit). */
static int client_fill(struct io *io, int timeout_ms) {
  io_compact(io);
  if (io->len == sizeof io->buf)
    return FP_ERR;
  if (SSL_pending(io->ssl) == 0 && timeout_ms > 0) {
    struct pollfd p = {io->fd, POLLIN, 0};
    int r;
    do
      r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r <= 0)
      return FP_EOF;
  }
  int n = SSL_read(io->ssl, io->buf + io->len, (int)(sizeof io->buf - io->len));
  if (n <= 0)
    return FP_EOF;
  io->len += (size_t)n;
  return n;
}

/* ---- per-request transfer context ------------------------------------------
 */

struct xfer {
  struct conn *c;
  struct io *cio;    /* client side */
  struct io *uio;    /* upstream side */
  int watch;         /* this response is a watch stream */
  unsigned long gen; /* cut_gen when the watch started */
  int client_quiet;  /* stop polling the client (its buffer is full) */
};

static int cut_pending(const struct xfer *x) {
  return x->watch && atomic_load(&cut_gen) != x->gen;
}

/* Waits until the upstream has bytes, watching the client meanwhile.
 * Returns 1, or FP_ABORT (client gone), FP_CUT (after_ms expired), FP_ERR. */
static int wait_upstream(struct xfer *x) {
  for (;;) {
    struct pollfd p[2] = {{x->uio->fd, POLLIN, 0}, {x->cio->fd, POLLIN, 0}};
    int np = x->client_quiet ? 1 : 2;
    int r = poll(p, (nfds_t)np, 200);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return FP_ERR;
    }
    if (cut_pending(x)) {
      long long d = atomic_load(&cut_deadline_ms);
      if (d && now_ms() >= d)
        return FP_CUT;
    }
    if (np == 2 && p[1].revents) {
      if (p[1].revents & (POLLHUP | POLLERR | POLLNVAL))
        return FP_ABORT;
      /* The client sent something mid-response: keep it for the next
       * request (pipelining), or notice that it went away. */
      io_compact(x->cio);
      if (x->cio->len == sizeof x->cio->buf) {
        x->client_quiet = 1;
      } else {
        int n = SSL_read(x->cio->ssl, x->cio->buf + x->cio->len,
                         (int)(sizeof x->cio->buf - x->cio->len));
        if (n <= 0)
          return FP_ABORT;
        x->cio->len += (size_t)n;
      }
    }
    if (p[0].revents)
      return 1;
  }
}

/* Reads more bytes from the upstream. Returns n > 0 or a negative R_. */
static int upstream_fill(struct xfer *x) {
  struct io *io = x->uio;
  io_compact(io);
  if (io->len == sizeof io->buf)
    return FP_ERR;
  for (;;) {
    if (SSL_pending(io->ssl) == 0) {
      int w = wait_upstream(x);
      if (w < 0)
        return w;
    }
    int n =
        SSL_read(io->ssl, io->buf + io->len, (int)(sizeof io->buf - io->len));
    if (n > 0) {
      io->len += (size_t)n;
      return n;
    }
    int e = SSL_get_error(io->ssl, n);
    if (e == SSL_ERROR_WANT_READ)
      continue; /* a non-data record (ticket) */
    return e == SSL_ERROR_ZERO_RETURN || n == 0 ? FP_EOF : FP_ERR;
  }
}

static int fill(struct xfer *x, struct io *io) {
  if (io == x->uio)
    return upstream_fill(x);
  return client_fill(io, 0);
}

static int forward(SSL *dst, const void *p, size_t n) {
  if (!dst || n == 0)
    return FP_OK;
  return ssl_write_all(dst, p, n);
}

/* Ensures a complete line (ending in LF) is buffered; *len includes the LF. */
static int io_line(struct xfer *x, struct io *io, size_t *len) {
  for (;;) {
    unsigned char *s = io->buf + io->off;
    unsigned char *nl = memchr(s, '\n', io_avail(io));
    if (nl) {
      *len = (size_t)(nl - s) + 1;
      return FP_OK;
    }
    if (io_avail(io) >= MAXLINE)
      return FP_ERR;
    int r = fill(x, io);
    if (r < 0)
      return r == FP_EOF ? FP_ERR : r;
  }
}

/* Relays a chunked body, framing untouched; dst NULL discards. On a watch
 * with a cut pending, forwards half of the next chunk's payload and returns
 * FP_CUT. */
static int relay_chunked(struct xfer *x, struct io *src, SSL *dst) {
  for (;;) {
    size_t ll;
    int r = io_line(x, src, &ll);
    if (r)
      return r;
    const char *line = (const char *)src->buf + src->off;
    unsigned long long size = 0;
    size_t i = 0, digits = 0;
    for (; i < ll; i++) {
      char ch = line[i];
      int v = ch >= '0' && ch <= '9'   ? ch - '0'
              : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
              : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                       : -1;
      if (v < 0)
        break;
      if (++digits > 15)
        return FP_ERR;
      size = size * 16 + (unsigned)v;
    }
    if (!digits || (line[i] != ';' && line[i] != '\r' && line[i] != '\n' &&
                    line[i] != ' '))
      return FP_ERR;
    if ((r = forward(dst, line, ll)))
      return r;
    src->off += ll;
    if (size == 0) { /* trailers up to an empty line */
      for (;;) {
        if ((r = io_line(x, src, &ll)))
          return r;
        line = (const char *)src->buf + src->off;
        if ((r = forward(dst, line, ll)))
          return r;
        src->off += ll;
        if (ll == 1 || (ll == 2 && line[0] == '\r'))
          return FP_OK;
      }
    }
    unsigned long long remaining = size;
    while (remaining > 0) {
      if (io_avail(src) == 0 && (r = fill(x, src)) < 0)
        return r == FP_EOF ? FP_ERR : r;
      size_t k = io_avail(src) < remaining ? io_avail(src) : (size_t)remaining;
      if (src == x->uio && cut_pending(x)) {
        size_t part = (size_t)(remaining / 2);
        if (part > k)
          part = k;
        forward(dst, src->buf + src->off, part);
        return FP_CUT;
      }
      if ((r = forward(dst, src->buf + src->off, k)))
        return r;
      src->off += k;
      remaining -= k;
    }
    if ((r = io_line(x, src, &ll)))
      return r; /* the CRLF after the data */
    if (ll > 2 || (ll == 2 && src->buf[src->off] != '\r'))
      return FP_ERR;
    if ((r = forward(dst, src->buf + src->off, ll)))
      return r;
    src->off += ll;
  }
}

/* Relays exactly n bytes (n < 0: until EOF, which is then FP_OK). */
static int relay_length(struct xfer *x, struct io *src, SSL *dst, long long n) {
  while (n != 0) {
    if (io_avail(src) == 0) {
      int r = fill(x, src);
      if (r == FP_EOF && n < 0)
        return FP_OK;
      if (r < 0)
        return r == FP_EOF ? FP_ERR : r;
    }
    size_t k = io_avail(src);
    if (n > 0 && (long long)k > n)
      k = (size_t)n;
    if (src == x->uio && cut_pending(x)) {
      forward(dst, src->buf + src->off, k / 2);
      return FP_CUT;
    }
    int r = forward(dst, src->buf + src->off, k);
    if (r)
      return r;
    src->off += k;
    if (n > 0)
      n -= (long long)k;
  }
  return FP_OK;
}

/* ---- HTTP header parsing
 * ------------------------------------------------------- */

/* Finds the end of a header block in the buffered bytes; returns its length
 * (including the blank line) or 0 if not complete yet. */
static size_t header_end(const struct io *io) {
  const unsigned char *s = io->buf + io->off;
  size_t n = io_avail(io);
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '\n')
      continue;
    if (i + 1 < n && s[i + 1] == '\n')
      return i + 2;
    if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n')
      return i + 3;
  }
  return 0;
}

struct hdrs {
  char *
      block; /* NUL-terminated copy of the header block, lines split in place */
  char *first[3]; /* request: method, target, version / response: version, code,
                     reason */
  char *name[256];
  char *value[256];
  int n;
};

static int token_char(int ch) {
  return ch > 0x20 && ch < 0x7f && !strchr("()<>@,;:\\\"/[]?={}", ch);
}

/* Splits a header block. Returns 0, or -1 when malformed. */
static int parse_headers(struct hdrs *h, const unsigned char *p, size_t n,
                         int request) {
  memset(h, 0, sizeof *h);
  h->block = malloc(n + 1);
  if (!h->block)
    return -1;
  memcpy(h->block, p, n);
  h->block[n] = 0;
  if (memchr(h->block, 0, n))
    return -1;
  char *save = h->block, *line;
  int lineno = 0;
  while ((line = save) && *line) {
    char *nl = strchr(line, '\n');
    if (!nl)
      return -1;
    *nl = 0;
    save = nl + 1;
    if (nl > line && nl[-1] == '\r')
      nl[-1] = 0;
    if (!*line)
      break; /* the blank line */
    if (lineno++ == 0) {
      char *a = line, *b = strchr(a, ' ');
      if (!b)
        return -1;
      *b++ = 0;
      char *c = strchr(b, ' ');
      if (c)
        *c++ = 0;
      else if (request)
        return -1;
      h->first[0] = a, h->first[1] = b, h->first[2] = c ? c : b + strlen(b);
      if (request) {
        for (char *q = a; *q; q++)
          if (!token_char((unsigned char)*q))
            return -1;
        if (!*a || strlen(a) >= 16 || b[0] != '/' || strchr(h->first[2], ' '))
          return -1;
        for (char *q = b; *q; q++)
          if ((unsigned char)*q <= 0x20 || (unsigned char)*q == 0x7f)
            return -1;
        if (strcmp(h->first[2], "HTTP/1.1") && strcmp(h->first[2], "HTTP/1.0"))
          return -1;
      } else {
        if (strncmp(a, "HTTP/1.", 7) || strlen(b) != 3)
          return -1;
        for (int i = 0; i < 3; i++)
          if (b[i] < '0' || b[i] > '9')
            return -1;
      }
      continue;
    }
    if (*line == ' ' || *line == '\t')
      return -1; /* obsolete line folding */
    char *colon = strchr(line, ':');
    if (!colon || colon == line)
      return -1;
    for (char *q = line; q < colon; q++)
      if (!token_char((unsigned char)*q))
        return -1;
    *colon = 0;
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
      v++;
    char *e = v + strlen(v);
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
      *--e = 0;
    if (h->n == (int)(sizeof h->name / sizeof h->name[0]))
      return -1;
    h->name[h->n] = line;
    h->value[h->n++] = v;
  }
  return lineno ? 0 : -1;
}

static const char *hget(const struct hdrs *h, const char *name) {
  for (int i = 0; i < h->n; i++)
    if (!strcasecmp(h->name[i], name))
      return h->value[i];
  return NULL;
}

/* Is `tok` one of the comma-separated tokens of header `name`? */
static int hhas(const struct hdrs *h, const char *name, const char *tok) {
  size_t tl = strlen(tok);
  for (int i = 0; i < h->n; i++) {
    if (strcasecmp(h->name[i], name))
      continue;
    const char *s = h->value[i];
    while (*s) {
      while (*s == ' ' || *s == ',' || *s == '\t')
        s++;
      const char *e = s;
      while (*e && *e != ',')
        e++;
      const char *t = e;
      while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
        t--;
      if ((size_t)(t - s) == tl && !strncasecmp(s, tok, tl))
        return 1;
      s = e;
    }
  }
  return 0;
}

/* Body framing: 0 none, 1 Content-Length (*len), 2 chunked; -1 bad. */
static int body_framing(const struct hdrs *h, long long *len) {
  const char *te = hget(h, "Transfer-Encoding");
  *len = 0;
  if (te) {
    if (!strcasecmp(te, "chunked"))
      return 2;
    return -1;
  }
  int have = 0;
  for (int i = 0; i < h->n; i++) {
    if (strcasecmp(h->name[i], "Content-Length"))
      continue;
    const char *v = h->value[i];
    long long n = 0;
    if (!*v)
      return -1;
    for (; *v; v++) {
      if (*v < '0' || *v > '9' || n > (1LL << 50))
        return -1;
      n = n * 10 + (*v - '0');
    }
    if (have && n != *len)
      return -1;
    *len = n;
    have = 1;
  }
  return have ? 1 : 0;
}

static int is_watch_target(const char *target) {
  const char *q = strchr(target, '?');
  size_t pathlen = q ? (size_t)(q - target) : strlen(target);
  const char *w = memmem(target, pathlen, "/watch/", 7);
  if (w)
    return 1;
  if (!q)
    return 0;
  for (const char *s = q + 1; *s;) {
    const char *e = strchr(s, '&');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if ((n == 10 && !strncmp(s, "watch=true", 10)) ||
        (n == 7 && !strncmp(s, "watch=1", 7)))
      return 1;
    if (!e)
      break;
    s = e + 1;
  }
  return 0;
}

/* ---- canned answers
 * ------------------------------------------------------------ */

static const char *status_text(int code) {
  switch (code) {
  case 200:
    return "OK";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 406:
    return "Not Acceptable";
  case 408:
    return "Request Timeout";
  case 409:
    return "Conflict";
  case 410:
    return "Gone";
  case 413:
    return "Request Entity Too Large";
  case 415:
    return "Unsupported Media Type";
  case 422:
    return "Unprocessable Entity";
  case 429:
    return "Too Many Requests";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 501:
    return "Not Implemented";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Unavailable";
  case 504:
    return "Gateway Timeout";
  default:
    return "Status";
  }
}

/* metav1.StatusReason for a code, as the apiserver would say it. */
static const char *k8s_reason(int code) {
  switch (code) {
  case 400:
    return "BadRequest";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "NotFound";
  case 405:
    return "MethodNotAllowed";
  case 406:
    return "NotAcceptable";
  case 409:
    return "Conflict";
  case 410:
    return "Expired";
  case 413:
    return "RequestEntityTooLarge";
  case 415:
    return "UnsupportedMediaType";
  case 422:
    return "Invalid";
  case 429:
    return "TooManyRequests";
  case 500:
    return "InternalError";
  case 503:
    return "ServiceUnavailable";
  case 504:
    return "Timeout";
  default:
    return "";
  }
}

/* Writes a Status JSON answer. */
static int send_status(SSL *ssl, int code, const char *reason, const char *msg,
                       int retry_after, int close_after) {
  struct sb body = {0}, head = {0};
  sb_addf(&body, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                 "\"status\":\"Failure\",\"message\":");
  sb_json_str(&body, msg);
  sb_adds(&body, ",\"reason\":");
  sb_json_str(&body, reason && *reason ? reason : k8s_reason(code));
  if (retry_after >= 0)
    sb_addf(&body, ",\"details\":{\"retryAfterSeconds\":%d}", retry_after);
  sb_addf(&body, ",\"code\":%d}\n", code);
  sb_addf(&head,
          "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
          "Cache-Control: no-cache, private\r\nContent-Length: %zu\r\n",
          code, status_text(code), body.n);
  if (retry_after >= 0)
    sb_addf(&head, "Retry-After: %d\r\n", retry_after);
  if (close_after)
    sb_adds(&head, "Connection: close\r\n");
  sb_adds(&head, "\r\n");
  int r = FP_ERR;
  if (!head.oom && !body.oom && head.p && body.p)
    r = ssl_write_all(ssl, head.p, head.n) ? FP_ERR
                                           : ssl_write_all(ssl, body.p, body.n);
  free(head.p);
  free(body.p);
  return r;
}

/* ---- faults
 * ---------------------------------------------------------------------- */

/* Takes one use of the first matching rule; copies it to *out. */
static int take_fault(const char *method, const char *target, int watch,
                      struct rule *out) {
  int hit = 0;
  pthread_mutex_lock(&reg_mu);
  for (int i = 0; i < nrules; i++) {
    struct rule *r = &rules[i];
    if (r->method[0] && strcasecmp(r->method, method))
      continue;
    if (r->prefix[0] && strncmp(target, r->prefix, strlen(r->prefix)))
      continue;
    if (r->watch >= 0 && r->watch != watch)
      continue;
    *out = *r;
    hit = 1;
    if (r->count > 0 && --r->count == 0) {
      memmove(r, r + 1, sizeof *r * (size_t)(nrules - i - 1));
      nrules--;
    }
    break;
  }
  pthread_mutex_unlock(&reg_mu);
  return hit;
}

/* ---- connections
 * ----------------------------------------------------------------- */

static void conn_register(struct conn *c) {
  pthread_mutex_lock(&reg_mu);
  c->next = &reg;
  c->prev = reg.prev;
  reg.prev->next = c;
  reg.prev = c;
  pthread_mutex_unlock(&reg_mu);
}

static void conn_unregister(struct conn *c) {
  pthread_mutex_lock(&reg_mu);
  c->prev->next = c->next;
  c->next->prev = c->prev;
  pthread_mutex_unlock(&reg_mu);
}

static void close_fd(int *fdp) {
  pthread_mutex_lock(&reg_mu);
  int fd = *fdp;
  *fdp = -1;
  if (fd >= 0)
    close(fd);
  pthread_mutex_unlock(&reg_mu);
}

static void set_fd(int *fdp, int fd) {
  pthread_mutex_lock(&reg_mu);
  *fdp = fd;
  pthread_mutex_unlock(&reg_mu);
}

static int drop_all(void) {
  int n = 0;
  pthread_mutex_lock(&reg_mu);
  for (struct conn *c = reg.next; c != &reg; c = c->next) {
    if (c->cfd >= 0)
      shutdown(c->cfd, SHUT_RDWR), n++;
    if (c->ufd >= 0)
      shutdown(c->ufd, SHUT_RDWR);
  }
  pthread_mutex_unlock(&reg_mu);
  return n;
}

static void upstream_close(struct conn *c, struct io *uio) {
  if (uio->ssl)
    SSL_free(uio->ssl);
  uio->ssl = NULL;
  close_fd(&c->ufd);
  uio->fd = -1;
  uio->off = uio->len = 0;
}

/* Is the idle upstream connection still usable? */
static int upstream_alive(struct io *uio) {
  if (!uio->ssl)
    return 0;
  struct pollfd p = {uio->fd, POLLIN, 0};
  return poll(&p, 1, 0) == 0 && io_avail(uio) == 0 &&
         SSL_pending(uio->ssl) == 0;
}

static int upstream_open(struct conn *c, struct io *uio, char *err,
                         size_t errlen) {
  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_socktype = SOCK_STREAM;
  int g = getaddrinfo(cfg.up_host, cfg.up_port, &hints, &ai);
  if (g) {
    snprintf(err, errlen, "resolve %.200s: %s", cfg.up_host, gai_strerror(g));
    return -1;
  }
  int fd = -1;
  for (struct addrinfo *a = ai; a; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0)
      continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
      break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(ai);
  if (fd < 0) {
    snprintf(err, errlen, "connect %.200s:%s: %s", cfg.up_host, cfg.up_port,
             strerror(errno));
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  set_fd(&c->ufd, fd);
  uio->fd = fd;
  uio->off = uio->len = 0;
  uio->ssl = SSL_new(up_ctx);
  if (!uio->ssl)
    goto fail;
  unsigned char ip[16];
  if (inet_pton(AF_INET, cfg.up_host, ip) == 1 ||
      inet_pton(AF_INET6, cfg.up_host, ip) == 1) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(uio->ssl), cfg.up_host);
  } else {
    SSL_set_tlsext_host_name(uio->ssl, cfg.up_host);
    SSL_set1_host(uio->ssl, cfg.up_host);
  }
  SSL_set_fd(uio->ssl, fd);
  if (SSL_connect(uio->ssl) != 1)
    goto fail;
  return 0;
fail:
  snprintf(err, errlen, "TLS to upstream: %s",
           ERR_reason_error_string(ERR_peek_last_error())
               ? ERR_reason_error_string(ERR_get_error())
               : "handshake failed");
  ERR_clear_error();
  upstream_close(c, uio);
  return -1;
}

/* Builds the request header sent upstream. */
static int build_upstream_request(struct sb *out, const struct hdrs *h) {
  sb_addf(out, "%s %s %s\r\n", h->first[0], h->first[1], h->first[2]);
  static const char *const drop[] = {"Host",
                                     "Connection",
                                     "Keep-Alive",
                                     "Proxy-Connection",
                                     "Proxy-Authorization",
                                     "Proxy-Authenticate",
                                     "TE",
                                     "Trailer",
                                     "Upgrade",
                                     "Expect"};
  for (int i = 0; i < h->n; i++) {
    int skip = 0;
    for (size_t j = 0; j < sizeof drop / sizeof drop[0]; j++)
      if (!strcasecmp(h->name[i], drop[j]))
        skip = 1;
    if (skip)
      continue;
    sb_adds(out, h->name[i]);
    sb_adds(out, ": ");
    sb_adds(out, h->value[i]);
    sb_adds(out, "\r\n");
  }
  if (strchr(cfg.up_host, ':'))
    sb_addf(out, "Host: [%s]:%s\r\n\r\n", cfg.up_host, cfg.up_port);
  else
    sb_addf(out, "Host: %s:%s\r\n\r\n", cfg.up_host, cfg.up_port);
  return out->oom ? -1 : 0;
}

/* Reads a header block from io into *h (consumed from the buffer). */
static int read_header_block(struct xfer *x, struct io *io, struct hdrs *h,
                             int request, int idle_ms) {
  size_t n;
  while (!(n = header_end(io))) {
    if (io_avail(io) >= MAXHDR)
      return FP_ERR;
    int r = io == x->uio ? upstream_fill(x) : client_fill(io, idle_ms);
    if (r < 0)
      return r;
  }
  int bad = parse_headers(h, io->buf + io->off, n, request);
  io->off += n;
  return bad ? FP_ERR : FP_OK;
}

/* Serves one client connection. */
static void serve(struct conn *c, SSL *cssl) {
  /* Header blocks live until the next request (or the end), so the
   * method/target pointers stay valid through the whole exchange. */
  struct hdrs req, resp;
  memset(&req, 0, sizeof req);
  memset(&resp, 0, sizeof resp);
  struct io *cio = calloc(1, sizeof *cio), *uio = calloc(1, sizeof *uio);
  if (!cio || !uio)
    goto out;
  cio->ssl = cssl;
  cio->fd = c->cfd;
  uio->fd = -1;
  for (;;) {
    struct xfer x = {c, cio, uio, 0, 0, 0};
    free(req.block);
    free(resp.block);
    memset(&req, 0, sizeof req);
    memset(&resp, 0, sizeof resp);
    int r = read_header_block(&x, cio, &req, 1, IDLE_MS);
    if (r < 0) {
      if (req.block || io_avail(cio) >= MAXHDR) { /* malformed or oversized */
        atomic_fetch_add(&st_bad_requests, 1);
        send_status(cssl, io_avail(cio) >= MAXHDR ? 431 : 400, "BadRequest",
                    "faultproxy: malformed request", -1, 1);
      }
      goto out;
    }
    atomic_fetch_add(&st_requests, 1);
    const char *method = req.first[0], *target = req.first[1];
    int http10 = !strcmp(req.first[2], "HTTP/1.0");
    int client_close = hhas(&req, "Connection", "close") ||
                       (http10 && !hhas(&req, "Connection", "keep-alive"));
    long long blen;
    int framing = body_framing(&req, &blen);
    if (framing < 0) {
      atomic_fetch_add(&st_bad_requests, 1);
      send_status(cssl, 400, "BadRequest",
                  "faultproxy: bad Content-Length/Transfer-Encoding", -1, 1);
      goto out;
    }
    if (framing && hhas(&req, "Expect", "100-continue") &&
        ssl_write_all(cssl, "HTTP/1.1 100 Continue\r\n\r\n", 25)) {
      goto out;
    }
    int watch = is_watch_target(target);
    struct rule f;
    if (take_fault(method, target, watch, &f)) {
      atomic_fetch_add(&st_faults, 1);
      VLOG("%s %s -> injected %d", method, target, f.status);
      r = framing == 2 ? relay_chunked(&x, cio, NULL)
                       : relay_length(&x, cio, NULL, blen);
      if (r < 0 || f.status == 0) {
        goto out;
      }
      char msg[128];
      snprintf(msg, sizeof msg, "faultproxy: injected %d for %s", f.status,
               method);
      r = send_status(cssl, f.status, f.reason, msg, f.retry_after,
                      client_close);
      if (r < 0 || client_close)
        goto out;
      continue;
    }

    /* Forward. */
    char err[512];
    if (!upstream_alive(uio)) {
      upstream_close(c, uio);
      if (upstream_open(c, uio, err, sizeof err)) {
        atomic_fetch_add(&st_upstream_errors, 1);
        logf_("%s %s: %s", method, target, err);
        if (framing == 2)
          relay_chunked(&x, cio, NULL);
        else
          relay_length(&x, cio, NULL, blen);
        send_status(cssl, 502, "ServiceUnavailable", err, -1, 1);
        goto out;
      }
    }
    struct sb head = {0};
    r = build_upstream_request(&head, &req)
            ? FP_ERR
            : ssl_write_all(uio->ssl, head.p, head.n);
    free(head.p);
    if (r == FP_OK)
      r = framing == 2   ? relay_chunked(&x, cio, uio->ssl)
          : framing == 1 ? relay_length(&x, cio, uio->ssl, blen)
                         : FP_OK;
    int is_head = !strcmp(method, "HEAD");
    if (r < 0)
      goto out;
    atomic_fetch_add(&st_forwarded, 1);

    /* Response header(s); 1xx are passed on and followed by the real one. */
    int code;
    for (;;) {
      r = read_header_block(&x, uio, &resp, 0, 0);
      if (r < 0) {
        atomic_fetch_add(&st_upstream_errors, 1);
        if (r != FP_ABORT)
          send_status(
              cssl, 502, "ServiceUnavailable",
              "faultproxy: upstream closed or sent a malformed response", -1,
              1);
        goto out;
      }
      code = atoi(resp.first[1]);
      if (code >= 200 || code == 101)
        break;
      /* pass 1xx on verbatim */
      struct sb h1 = {0};
      sb_addf(&h1, "%s %s %s\r\n\r\n", resp.first[0], resp.first[1],
              resp.first[2]);
      r = h1.oom ? FP_ERR : ssl_write_all(cssl, h1.p, h1.n);
      free(h1.p);
      free(resp.block);
      memset(&resp, 0, sizeof resp);
      if (r < 0)
        goto out;
    }
    if (code == 101) { /* we never ask for an upgrade */
      goto out;
    }
    long long rlen;
    int rframing = body_framing(&resp, &rlen);
    if (is_head || code == 204 || code == 304)
      rframing = 0;
    else if (rframing < 0 && hget(&resp, "Transfer-Encoding"))
      rframing = 3; /* until close */
    else if (rframing == 0)
      rframing = 3;
    if (rframing < 0) {
      atomic_fetch_add(&st_upstream_errors, 1);
      send_status(cssl, 502, "ServiceUnavailable",
                  "faultproxy: bad upstream framing", -1, 1);
      goto out;
    }
    int upstream_close_after =
        hhas(&resp, "Connection", "close") || rframing == 3;
    /* Re-serialise the header block: status line + headers as received. */
    struct sb rh = {0};
    sb_addf(&rh, "%s %s %s\r\n", resp.first[0], resp.first[1], resp.first[2]);
    for (int i = 0; i < resp.n; i++)
      sb_addf(&rh, "%s: %s\r\n", resp.name[i], resp.value[i]);
    if (client_close && !hhas(&resp, "Connection", "close"))
      sb_adds(&rh, "Connection: close\r\n");
    sb_adds(&rh, "\r\n");
    r = rh.oom ? FP_ERR : ssl_write_all(cssl, rh.p, rh.n);
    free(rh.p);
    if (r < 0)
      goto out;
    VLOG("%s %s -> %d%s", method, target, code,
         watch && code == 200 ? " (watch)" : "");

    x.watch = watch && code == 200;
    if (x.watch) {
      x.gen = atomic_load(&cut_gen);
      atomic_fetch_add(&st_watches_open, 1);
      atomic_fetch_add(&st_watches_total, 1);
    }
    r = rframing == 2   ? relay_chunked(&x, uio, cssl)
        : rframing == 1 ? relay_length(&x, uio, cssl, rlen)
        : rframing == 3 ? relay_length(&x, uio, cssl, -1)
                        : FP_OK;
    if (x.watch)
      atomic_fetch_sub(&st_watches_open, 1);
    if (r == FP_CUT) {
      atomic_fetch_add(&st_watches_cut, 1);
      logf_("cut watch %s", target);
      goto out;
    }
    if (r < 0 || rframing == 3)
      goto out;
    if (upstream_close_after)
      upstream_close(c, uio);
    if (client_close) {
      SSL_shutdown(cssl);
      goto out;
    }
  }
out:
  free(req.block);
  free(resp.block);
  if (uio)
    upstream_close(c, uio);
  free(cio);
  free(uio);
}

static void *conn_thread(void *arg) {
  struct conn *c = arg;
  atomic_fetch_add(&st_conns_open, 1);
  atomic_fetch_add(&st_conns_total, 1);
  conn_register(c);
  SSL *ssl = SSL_new(srv_ctx);
  if (ssl) {
    struct timeval tv = {10, 0}, zero = {0, 0};
    setsockopt(c->cfd, SOL_SOCKET, SO_RCVTIMEO, &tv,
               sizeof tv); /* handshake limit */
    SSL_set_fd(ssl, c->cfd);
    if (SSL_accept(ssl) == 1) {
      setsockopt(c->cfd, SOL_SOCKET, SO_RCVTIMEO, &zero, sizeof zero);
      serve(c, ssl);
    } else {
      VLOG("TLS handshake with client failed");
    }
    SSL_free(ssl);
  }
  ERR_clear_error();
  conn_unregister(c);
  close_fd(&c->cfd);
  close_fd(&c->ufd);
  free(c);
  atomic_fetch_sub(&st_conns_open, 1);
  return NULL;
}

/* ---- control port
 * ------------------------------------------------------------------ */

static int parse_long(const char *s, long lo, long hi, long *out) {
  char *e;
  errno = 0;
  long v = strtol(s, &e, 10);
  if (errno || e == s || *e || v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

/* Parses key=value words into a rule (and after_ms). Returns NULL or an error.
 */
static const char *parse_params(char *s, struct rule *r, long *after_ms) {
  static char err[160];
  for (char *w = s; *w;) {
    size_t n = strcspn(w, " \t\r\n&");
    char save = w[n];
    w[n] = 0;
    if (n) {
      char *eq = strchr(w, '=');
      if (!eq) {
        snprintf(err, sizeof err, "expected key=value, got '%.60s'", w);
        return err;
      }
      *eq = 0;
      const char *k = w, *v = eq + 1;
      long l;
      if (!strcmp(k, "status")) {
        if (parse_long(v, 0, 599, &l) || (l && l < 100))
          return "status must be 0 or 100..599";
        r->status = (int)l;
      } else if (!strcmp(k, "method")) {
        if (!*v || strlen(v) >= sizeof r->method)
          return "bad method";
        for (const char *q = v; *q; q++)
          if (!token_char((unsigned char)*q))
            return "bad method";
        snprintf(r->method, sizeof r->method, "%s", strcmp(v, "*") ? v : "");
      } else if (!strcmp(k, "path_prefix")) {
        if (strlen(v) >= sizeof r->prefix)
          return "path_prefix too long";
        snprintf(r->prefix, sizeof r->prefix, "%s", v);
      } else if (!strcmp(k, "count")) {
        if (parse_long(v, -1, 1000000000, &l) || l == 0)
          return "count must be -1 or >= 1";
        r->count = l;
      } else if (!strcmp(k, "retry_after")) {
        if (parse_long(v, 0, 86400, &l))
          return "retry_after must be 0..86400";
        r->retry_after = (int)l;
      } else if (!strcmp(k, "reason")) {
        if (strlen(v) >= sizeof r->reason)
          return "reason too long";
        snprintf(r->reason, sizeof r->reason, "%s", v);
      } else if (!strcmp(k, "watch")) {
        if (!strcmp(v, "true") || !strcmp(v, "1"))
          r->watch = 1;
        else if (!strcmp(v, "false") || !strcmp(v, "0"))
          r->watch = 0;
        else
          return "watch must be true or false";
      } else if (!strcmp(k, "after_ms")) {
        if (parse_long(v, 0, 86400000, &l))
          return "after_ms must be 0..86400000";
        *after_ms = l;
      } else {
        snprintf(err, sizeof err, "unknown parameter '%.60s'", k);
        return err;
      }
    }
    w[n] = save;
    w += n + (save ? 1 : 0);
  }
  return NULL;
}

static void rule_json(struct sb *b, const struct rule *r) {
  sb_addf(b, "{\"status\":%d,\"method\":", r->status);
  sb_json_str(b, r->method[0] ? r->method : "*");
  sb_adds(b, ",\"path_prefix\":");
  sb_json_str(b, r->prefix);
  sb_addf(b, ",\"count\":%ld,\"retry_after\":%d,\"reason\":", r->count,
          r->retry_after);
  sb_json_str(b, r->reason[0] ? r->reason : k8s_reason(r->status));
  sb_addf(b, ",\"watch\":%s}",
          r->watch < 0 ? "null"
          : r->watch   ? "true"
                       : "false");
}

static void control_reply(int fd, int code, const char *body) {
  char head[256];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                   "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                   code, status_text(code), strlen(body));
  if (send(fd, head, (size_t)n, MSG_NOSIGNAL) == n)
    send(fd, body, strlen(body), MSG_NOSIGNAL);
}

static void control_handle(int fd) {
  char buf[16384];
  size_t len = 0, hend = 0;
  struct timeval tv = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (;;) { /* header */
    if (len == sizeof buf - 1)
      return control_reply(fd, 431, "{\"error\":\"too large\"}\n");
    ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
    if (n <= 0)
      return;
    len += (size_t)n;
    buf[len] = 0;
    char *e = strstr(buf, "\r\n\r\n");
    if (e) {
      hend = (size_t)(e - buf) + 4;
      break;
    }
    e = strstr(buf, "\n\n");
    if (e) {
      hend = (size_t)(e - buf) + 2;
      break;
    }
  }
  size_t clen = 0;
  for (char *p = buf; p && p < buf + hend;
       p = strchr(p, '\n'), p = p ? p + 1 : p) {
    if (!strncasecmp(p, "Content-Length:", 15)) {
      long l;
      char tmp[32];
      size_t k = strcspn(p + 15, "\r\n");
      if (k >= sizeof tmp)
        return control_reply(fd, 400, "{\"error\":\"bad Content-Length\"}\n");
      memcpy(tmp, p + 15, k);
      tmp[k] = 0;
      char *t = tmp;
      while (*t == ' ')
        t++;
      if (parse_long(t, 0, (long)(sizeof buf - 1 - hend), &l))
        return control_reply(
            fd, 413, "{\"error\":\"bad or too large Content-Length\"}\n");
      clen = (size_t)l;
    }
  }
  while (len < hend + clen) {
    ssize_t n = recv(fd, buf + len, hend + clen - len, 0);
    if (n <= 0)
      return;
    len += (size_t)n;
  }
  buf[hend + clen] = 0;
  char method[16], target[512];
  if (sscanf(buf, "%15s %511s", method, target) != 2)
    return control_reply(fd, 400, "{\"error\":\"bad request line\"}\n");
  char *query = strchr(target, '?');
  if (query)
    *query++ = 0;
  char params[16384 + 512];
  snprintf(params, sizeof params, "%s %s", query ? query : "", buf + hend);

  struct sb out = {0};
  int code = 200;
  if (!strcmp(target, "/fault") && !strcmp(method, "POST")) {
    struct rule r = {.status = -1, .count = 1, .retry_after = -1, .watch = -1};
    long after = -1;
    const char *e = parse_params(params, &r, &after);
    if (!e && r.status < 0)
      e = "status= is required";
    if (e) {
      code = 400;
      sb_adds(&out, "{\"error\":");
      sb_json_str(&out, e);
      sb_adds(&out, "}\n");
    } else {
      pthread_mutex_lock(&reg_mu);
      if (nrules == MAXRULES) {
        code = 409;
        sb_adds(&out, "{\"error\":\"too many rules; DELETE /fault first\"}\n");
      } else {
        rules[nrules++] = r;
        sb_adds(&out, "{\"armed\":");
        rule_json(&out, &r);
        sb_addf(&out, ",\"rules\":%d}\n", nrules);
      }
      pthread_mutex_unlock(&reg_mu);
    }
  } else if (!strcmp(target, "/fault") && !strcmp(method, "GET")) {
    pthread_mutex_lock(&reg_mu);
    sb_adds(&out, "[");
    for (int i = 0; i < nrules; i++) {
      if (i)
        sb_adds(&out, ",");
      rule_json(&out, &rules[i]);
    }
    pthread_mutex_unlock(&reg_mu);
    sb_adds(&out, "]\n");
  } else if (!strcmp(target, "/fault") && !strcmp(method, "DELETE")) {
    pthread_mutex_lock(&reg_mu);
    sb_addf(&out, "{\"cleared\":%d}\n", nrules);
    nrules = 0;
    pthread_mutex_unlock(&reg_mu);
  } else if (!strcmp(target, "/cut-watch") && !strcmp(method, "POST")) {
    struct rule dummy = {0};
    long after = -1;
    const char *e = parse_params(params, &dummy, &after);
    if (e) {
      code = 400;
      sb_adds(&out, "{\"error\":");
      sb_json_str(&out, e);
      sb_adds(&out, "}\n");
    } else {
      atomic_store(&cut_deadline_ms, after >= 0 ? now_ms() + after : 0);
      atomic_fetch_add(&cut_gen, 1);
      long open = atomic_load(&st_watches_open);
      logf_("cut-watch requested (%ld open watches)", open);
      sb_addf(&out, "{\"watches_open\":%ld,\"after_ms\":%ld}\n", open, after);
    }
  } else if (!strcmp(target, "/drop") && !strcmp(method, "POST")) {
    int n = drop_all();
    atomic_fetch_add(&st_dropped, n);
    logf_("dropped %d client connections", n);
    sb_addf(&out, "{\"dropped\":%d}\n", n);
  } else if (!strcmp(target, "/stats") && !strcmp(method, "GET")) {
    pthread_mutex_lock(&reg_mu);
    int nr = nrules;
    pthread_mutex_unlock(&reg_mu);
    sb_addf(
        &out,
        "{\"requests\":%ld,\"forwarded\":%ld,\"faults\":%ld,\"watches_open\":%"
        "ld,"
        "\"watches_total\":%ld,\"watches_cut\":%ld,\"connections_open\":%ld,"
        "\"connections_total\":%ld,\"dropped\":%ld,\"upstream_errors\":%ld,"
        "\"bad_requests\":%ld,\"rules\":%d}\n",
        atomic_load(&st_requests), atomic_load(&st_forwarded),
        atomic_load(&st_faults), atomic_load(&st_watches_open),
        atomic_load(&st_watches_total), atomic_load(&st_watches_cut),
        atomic_load(&st_conns_open), atomic_load(&st_conns_total),
        atomic_load(&st_dropped), atomic_load(&st_upstream_errors),
        atomic_load(&st_bad_requests), nr);
  } else if (!strcmp(target, "/reset") && !strcmp(method, "POST")) {
    pthread_mutex_lock(&reg_mu);
    nrules = 0;
    pthread_mutex_unlock(&reg_mu);
    atomic_long *all[] = {
        &st_requests,      &st_forwarded,       &st_faults,
        &st_watches_total, &st_watches_cut,     &st_conns_total,
        &st_dropped,       &st_upstream_errors, &st_bad_requests};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
      atomic_store(all[i], 0);
    sb_adds(&out, "{\"reset\":true}\n");
  } else {
    code = 404;
    sb_adds(&out, "{\"error\":\"use POST /fault, GET /fault, DELETE /fault, "
                  "POST /cut-watch, "
                  "POST /drop, GET /stats, POST /reset\"}\n");
  }
  control_reply(fd, out.oom ? 500 : code, out.p && !out.oom ? out.p : "{}\n");
  free(out.p);
}

static void *control_thread(void *arg) {
  int lfd = *(int *)arg;
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE ||
          errno == ENFILE) {
        if (errno == EMFILE || errno == ENFILE)
          usleep(100000);
        continue;
      }
      logf_("control accept: %s", strerror(errno));
      continue;
    }
    control_handle(fd);
    close(fd);
  }
  return NULL;
}

/* ---- startup
 * ------------------------------------------------------------------------- */

static int split_hostport(const char *s, char *host, size_t hl, char *port,
                          size_t pl) {
  const char *colon = strrchr(s, ':');
  if (!colon || colon == s || !colon[1])
    return -1;
  const char *h = s;
  size_t n = (size_t)(colon - s);
  if (*h == '[' && n >= 2 && h[n - 1] == ']')
    h++, n -= 2;
  if (n >= hl || strlen(colon + 1) >= pl)
    return -1;
  memcpy(host, h, n);
  host[n] = 0;
  snprintf(port, pl, "%s", colon + 1);
  for (const char *p = port; *p; p++)
    if (*p < '0' || *p > '9')
      return -1;
  return atoi(port) > 65535 ? -1 : 0;
}

static int listen_on(const char *spec, char *bound, size_t bl) {
  char host[256], port[16];
  if (split_hostport(spec, host, sizeof host, port, sizeof port)) {
    fprintf(stderr, "faultproxy: '%s' is not HOST:PORT\n", spec);
    return -1;
  }
  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  if (getaddrinfo(host, port, &hints, &ai)) {
    fprintf(stderr,
            "faultproxy: '%s': host must be a numeric address (127.0.0.1)\n",
            spec);
    return -1;
  }
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  if (fd >= 0)
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128)) {
    fprintf(stderr, "faultproxy: listen on %s: %s\n", spec, strerror(errno));
    if (fd >= 0)
      close(fd);
    freeaddrinfo(ai);
    return -1;
  }
  freeaddrinfo(ai);
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  char h[INET6_ADDRSTRLEN] = "?", p[16] = "?";
  if (!getsockname(fd, (struct sockaddr *)&ss, &sl))
    getnameinfo((struct sockaddr *)&ss, sl, h, sizeof h, p, sizeof p,
                NI_NUMERICHOST | NI_NUMERICSERV);
  snprintf(bound, bl, strchr(h, ':') ? "[%s]:%s" : "%s:%s", h, p);
  return fd;
}

static void ssl_die(const char *what, const char *file) {
  fprintf(stderr, "faultproxy: %s %s: ", what, file);
  ERR_print_errors_fp(stderr);
  fputc('\n', stderr);
  exit(1);
}

static const char usage[] = "usage: faultproxy --listen 127.0.0.1:PORT "
                            "--upstream HOST:PORT --cert SERVING.crt\n"
                            "                  --key SERVING.key --upstream-ca "
                            "CA.crt [--control 127.0.0.1:CPORT] [-v]\n"
                            "control (plain HTTP): POST /fault 'status=409 "
                            "method=PATCH path_prefix=/apis count=2\n"
                            "  retry_after=1', GET|DELETE /fault, POST "
                            "/cut-watch [after_ms=N], POST /drop,\n"
                            "  GET /stats, POST /reset. Details at the top of "
                            "tests/tools/faultproxy.c.\n";

int main(int argc, char **argv) {
  const char *listen_s = NULL, *upstream = NULL, *cert = NULL, *key = NULL,
             *ca = NULL, *control = NULL;
  for (int i = 1; i < argc; i++) {
    const char **dst = NULL;
    if (!strcmp(argv[i], "--listen"))
      dst = &listen_s;
    else if (!strcmp(argv[i], "--upstream"))
      dst = &upstream;
    else if (!strcmp(argv[i], "--cert"))
      dst = &cert;
    else if (!strcmp(argv[i], "--key"))
      dst = &key;
    else if (!strcmp(argv[i], "--upstream-ca"))
      dst = &ca;
    else if (!strcmp(argv[i], "--control"))
      dst = &control;
    else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
      cfg.verbose = 1;
      continue;
    } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      fputs(usage, stdout);
      return 0;
    } else {
      fprintf(stderr, "faultproxy: unknown argument '%s'\n%s", argv[i], usage);
      return 2;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "faultproxy: %s needs a value\n%s", argv[i], usage);
      return 2;
    }
    *dst = argv[++i];
  }
  if (!listen_s || !upstream || !cert || !key || !ca) {
    fprintf(stderr,
            "faultproxy: --listen, --upstream, --cert, --key and --upstream-ca "
            "are required\n%s",
            usage);
    return 2;
  }
  if (split_hostport(upstream, cfg.up_host, sizeof cfg.up_host, cfg.up_port,
                     sizeof cfg.up_port)) {
    fprintf(stderr, "faultproxy: --upstream '%s' is not HOST:PORT\n", upstream);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);

  srv_ctx = SSL_CTX_new(TLS_server_method());
  up_ctx = SSL_CTX_new(TLS_client_method());
  if (!srv_ctx || !up_ctx)
    ssl_die("SSL_CTX_new", "");
  SSL_CTX_set_min_proto_version(srv_ctx, TLS1_2_VERSION);
  SSL_CTX_set_min_proto_version(up_ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(srv_ctx, cert) != 1)
    ssl_die("cannot load --cert", cert);
  if (SSL_CTX_use_PrivateKey_file(srv_ctx, key, SSL_FILETYPE_PEM) != 1)
    ssl_die("cannot load --key", key);
  if (SSL_CTX_check_private_key(srv_ctx) != 1)
    ssl_die("--key does not match --cert", key);
  /* No server-side session cache: nothing shared between connection threads
   * inside OpenSSL, and every test connection does a full handshake. */
  SSL_CTX_set_session_cache_mode(srv_ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(srv_ctx, SSL_OP_NO_TICKET);
  if (SSL_CTX_load_verify_locations(up_ctx, ca, NULL) != 1)
    ssl_die("cannot load --upstream-ca", ca);
  SSL_CTX_set_verify(up_ctx, SSL_VERIFY_PEER, NULL);
  SSL_CTX_clear_mode(up_ctx,
                     SSL_MODE_AUTO_RETRY); /* let poll() see non-data records */

  char lbound[300], cbound[300], cspec[300];
  int lfd = listen_on(listen_s, lbound, sizeof lbound);
  if (lfd < 0)
    return 1;
  if (!control) { /* default: listen port + 1 */
    char h[256], p[16];
    split_hostport(lbound, h, sizeof h, p, sizeof p);
    snprintf(cspec, sizeof cspec, strchr(h, ':') ? "[%s]:%d" : "%s:%d", h,
             atoi(p) == 0 || atoi(p) == 65535 ? 0 : atoi(p) + 1);
    control = cspec;
  }
  int cfd = listen_on(control, cbound, sizeof cbound);
  if (cfd < 0)
    return 1;
  pthread_t ct;
  if (pthread_create(&ct, NULL, control_thread, &cfd)) {
    fprintf(stderr, "faultproxy: cannot start the control thread\n");
    return 1;
  }
  pthread_detach(ct);
  printf("faultproxy: listen %s control %s upstream %s:%s\n", lbound, cbound,
         cfg.up_host, cfg.up_port);
  fflush(stdout);

  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM)
        usleep(100000);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct conn *c = calloc(1, sizeof *c);
    pthread_t t;
    pthread_attr_t attr;
    if (!c) {
      close(fd);
      continue;
    }
    c->cfd = fd;
    c->ufd = -1;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 512 * 1024);
    if (pthread_create(&t, &attr, conn_thread, c)) {
      close(fd);
      free(c);
    }
    pthread_attr_destroy(&attr);
  }
}
