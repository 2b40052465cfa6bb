/* webhook.c — see webhook.h for the threading model and the connection
 * state machine. */
#define _GNU_SOURCE
#include "webhook.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../engine/err.h"
#include "../engine/map.h"
#include "admreview.h"
#include "log.h"
#include "runner.h"

#define HEAD_MAX (16 * 1024)
#define N_BUCKETS 11
static const double bucket_ms[N_BUCKETS] = {0.25, 0.5, 1,   2,   5,   10,
                                            25,   50,  100, 250, 1000};

static const struct {
  const char *name, *path;
} paths[] = {
#define X(e, n, p) {n, p},
    LB_WEBHOOK_PATHS(X)
#undef X
};

int lb_webhook_path_index(const char *path, size_t len) {
  for (int i = 0; i < LB_WH__N; i++)
    if (strlen(paths[i].path) == len && !memcmp(paths[i].path, path, len))
      return i;
  return -1;
}
const char *lb_webhook_path_of(int i) {
  return i >= 0 && i < LB_WH__N ? paths[i].path : "";
}
const char *lb_webhook_name_of(int i) {
  return i >= 0 && i < LB_WH__N ? paths[i].name : "";
}

void lb_webhook_opts_init(struct lb_webhook_opts *o) {
  memset(o, 0, sizeof *o);
  o->host = "0.0.0.0";
  o->max_body = 4u << 20;
  o->read_timeout_ms = 10000;
  o->verdict_timeout_ms = 10000;
  o->idle_timeout_ms = 120000;
  o->max_conns = 1024;
}

enum { C_HANDSHAKE = 1, C_READING, C_DISPATCHED, C_CLOSING };

struct conn {
  uv_tcp_t tcp;
  struct lb_webhook *wh;
  SSL *ssl;
  BIO *rbio, *wbio;
  int state;
  int refs;      /* requests of this connection on the main loop */
  int closed;    /* tcp handle closed (CLOSED) */
  int keepalive; /* after the current response */
  int draining;  /* a closing response is queued: ignore further input */
  int continued; /* 100 Continue sent for the current request */
  int lingering; /* closing response written, FIN sent: reading to EOF so
                    the client (maybe still sending) reads the response */
  uv_shutdown_t shut;
  uint64_t serial;
  uint64_t deadline; /* uv_now ms: handshake / request / verdict / idle */
  uint64_t t_ready;  /* uv_hrtime when the request was fully read */
  int path_idx;
  struct lb_buf in; /* plaintext received, not yet consumed */
  struct conn *next, *prev;
};

struct lb_webhook_req {
  struct conn *conn; /* I/O thread's; only compared/used there */
  uint64_t serial;
  int path_idx;
  uint64_t t_ready;
  struct lb_event ev;
  char uid[129];
  int status;                  /* response: 200, or an error status */
  char *body;                  /* response body (malloc'd) */
  const char *ctype;           /* static */
  struct lb_webhook_req *next; /* queue / same-uid FIFO link */
};

struct lb_webhook {
  struct lb_webhook_opts o;
  char *cert_file, *key_file; /* owned copies behind o.cert_file/key_file */
  /* main loop */
  uv_loop_t *main;
  uv_async_t main_async;
  lb_webhook_sink sink;
  void *sink_ctx;
  struct lb_map pending; /* uid -> oldest req; FIFO via req->next */
  struct lb_runner *runner;
  void (*on_fail)(void *ctx, int rc);
  void *fail_ctx;
  int64_t dropped_verdicts;
  /* I/O thread */
  uv_loop_t io;
  uv_thread_t thread;
  int thread_started;
  uv_async_t io_async;
  uv_tcp_t listener;
  uv_timer_t sweep;
  SSL_CTX *ctx;
  struct conn *conns;
  int n_conns;
  int port;
  /* shared, under mu */
  uv_mutex_t mu;
  struct lb_webhook_req *inbox, *inbox_tail, *outbox, *outbox_tail;
  int stop;
  int reload;                       /* lb_webhook_reload asked */
  int64_t reloads, reload_failures; /* certificate reloads */
  int64_t by_verdict[LB_WH__N][3];  /* allowed, denied, error */
  int64_t hist[LB_WH__N][N_BUCKETS + 1];
  double lat_sum[LB_WH__N];
  int64_t http_errors[6]; /* 400 404 405/411/431 413 500 503 */
  int64_t conns_open, conns_total, handshake_failures, timeouts;
};

static void enqueue(struct lb_webhook_req **head, struct lb_webhook_req **tail,
                    struct lb_webhook_req *r) {
  r->next = NULL;
  if (*tail)
    (*tail)->next = r;
  else
    *head = r;
  *tail = r;
}

static void req_free(struct lb_webhook_req *r) {
  lb_event_release(&r->ev);
  free(r->body);
  free(r);
}

/* ======================= I/O thread ===================================== */
static void assert_conn(const struct conn *c) {
#ifndef NDEBUG
  if (c->state < C_HANDSHAKE || c->state > C_CLOSING)
    LB_BUG("webhook connection in an unknown state");
  if (c->state == C_READING && c->ssl && !SSL_is_init_finished(c->ssl))
    LB_BUG("webhook READING before the TLS handshake finished");
  if (c->refs < 0)
    LB_BUG("webhook connection with negative refs");
  if (c->state == C_DISPATCHED && c->refs < 1)
    LB_BUG("webhook DISPATCHED without a request on the main loop");
#else
  (void)c;
#endif
}

static void conn_free(struct conn *c) {
  SSL_free(c->ssl); /* frees both BIOs */
  lb_buf_release(&c->in);
  free(c);
}

static void conn_unlink_free(struct conn *c) {
  struct lb_webhook *wh = c->wh;
  if (c->prev)
    c->prev->next = c->next;
  else
    wh->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  conn_free(c);
}

/* CLOSED: freed now, or (a request of it is still on the main loop) kept
 * in the list until that request comes back through on_io_async. */
static void on_conn_closed(uv_handle_t *h) {
  struct conn *c = h->data;
  struct lb_webhook *wh = c->wh;
  c->closed = 1;
  wh->n_conns--;
  uv_mutex_lock(&wh->mu);
  wh->conns_open--;
  uv_mutex_unlock(&wh->mu);
  if (c->refs == 0)
    conn_unlink_free(c);
}

static void conn_close(struct conn *c) {
  if (c->state == C_CLOSING)
    return;
  c->state = C_CLOSING;
  uv_read_stop((uv_stream_t *)&c->tcp);
  uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

struct wr {
  uv_write_t req;
  struct conn *c;
  int close_after;
  char data[];
};

static void on_shutdown(uv_shutdown_t *s, int status) {
  (void)s;
  (void)status; /* the connection closes at EOF or at the deadline */
}

/* Lingering close: a client still sending its body (e.g. after a 413) would
 * get a reset instead of the response if we closed at once. */
static void linger(struct conn *c) {
  c->lingering = 1;
  c->deadline = uv_now(&c->wh->io) + 2000;
  if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown))
    conn_close(c);
}

static void on_written(uv_write_t *w, int status) {
  struct wr *x = (struct wr *)w;
  struct conn *c = x->c;
  if (c->state != C_CLOSING) {
    if (status < 0)
      conn_close(c);
    else if (x->close_after && !c->lingering)
      linger(c);
  }
  free(x);
}

/* Sends whatever TLS produced; close_after closes once it is written. */
static void flush_tls(struct conn *c, int close_after) {
  size_t n = (size_t)BIO_pending(c->wbio);
  if (c->state == C_CLOSING)
    return;
  if (!n) {
    if (close_after && !c->lingering)
      linger(c);
    return;
  }
  struct wr *x = malloc(sizeof *x + n);
  if (!x) {
    conn_close(c);
    return;
  }
  x->c = c;
  x->close_after = close_after;
  int got = BIO_read(c->wbio, x->data, (int)n);
  uv_buf_t b = uv_buf_init(x->data, got > 0 ? (unsigned)got : 0);
  if (uv_write(&x->req, (uv_stream_t *)&c->tcp, &b, 1, on_written)) {
    free(x);
    conn_close(c);
  }
}

static int status_slot(int status) {
  switch (status) {
  case 400:
    return 0;
  case 404:
    return 1;
  case 413:
    return 3;
  case 500:
    return 4;
  case 503:
    return 5;
  default:
    return 2;
  }
}

static const char *status_text(int s) {
  switch (s) {
  case 200:
    return "OK";
  case 400:
    return "Bad Request";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 411:
    return "Length Required";
  case 413:
    return "Payload Too Large";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 501:
    return "Not Implemented";
  case 503:
    return "Service Unavailable";
  default:
    return "Error";
  }
}

static void send_response(struct conn *c, int status, const char *ctype,
                          const char *body, size_t len, int keepalive) {
  char head[256];
  if (c->state == C_CLOSING)
    return;
  int hl = snprintf(head, sizeof head,
                    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
                    "Content-Length: %zu\r\n%s\r\n",
                    status, status_text(status), ctype, len,
                    keepalive ? "" : "Connection: close\r\n");
  if (!keepalive)
    c->draining = 1;
  if (SSL_write(c->ssl, head, hl) <= 0 ||
      (len && SSL_write(c->ssl, body, (int)len) <= 0)) {
    conn_close(c);
    return;
  }
  if (status != 200) {
    uv_mutex_lock(&c->wh->mu);
    c->wh->http_errors[status_slot(status)]++;
    uv_mutex_unlock(&c->wh->mu);
  }
  flush_tls(c, !keepalive);
}

static void send_error(struct conn *c, int status, const char *reason,
                       int keepalive) {
  char body[512];
  int n = snprintf(body, sizeof body, "logbook webhook: %s\n", reason);
  send_response(c, status, "text/plain; charset=utf-8", body,
                n < (int)sizeof body ? (size_t)n : sizeof body - 1, keepalive);
}

static void record(struct lb_webhook *wh, int idx, int verdict, uint64_t t0) {
  double ms = (double)(uv_hrtime() - t0) / 1e6;
  int b = 0;
  if (idx < 0 || idx >= LB_WH__N)
    return;
  while (b < N_BUCKETS && ms > bucket_ms[b])
    b++;
  uv_mutex_lock(&wh->mu);
  wh->by_verdict[idx][verdict]++;
  wh->hist[idx][b]++;
  wh->lat_sum[idx] += ms;
  uv_mutex_unlock(&wh->mu);
}

static void process(struct conn *c);
static int make_ctx(const struct lb_webhook_opts *o, SSL_CTX **out, char **err);

/* Ends the current request: keep-alive connections read the next one. */
static void request_done(struct conn *c) {
  if (c->state == C_CLOSING)
    return;
  c->serial++;
  if (!c->keepalive)
    return; /* flush_tls closes after the write */
  c->state = C_READING;
  c->deadline = uv_now(&c->wh->io) + (uint64_t)c->wh->o.idle_timeout_ms;
  process(c);
}

static int hdr_eq(const char *line, size_t len, const char *name,
                  const char **val, size_t *vlen) {
  size_t n = strlen(name);
  if (len <= n || line[n] != ':' || strncasecmp(line, name, n))
    return 0;
  size_t i = n + 1;
  while (i < len && (line[i] == ' ' || line[i] == '\t'))
    i++;
  size_t e = len;
  while (e > i && (line[e - 1] == ' ' || line[e - 1] == '\t'))
    e--;
  *val = line + i;
  *vlen = e - i;
  return 1;
}

static int token_in(const char *v, size_t n, const char *tok) {
  size_t tl = strlen(tok);
  for (size_t i = 0; i + tl <= n; i++)
    if (!strncasecmp(v + i, tok, tl))
      return 1;
  return 0;
}

/* Hands a complete, decoded request to the main loop. */
static void dispatch(struct conn *c, const char *body, size_t blen) {
  struct lb_webhook *wh = c->wh;
  struct lb_webhook_req *r = calloc(1, sizeof *r);
  struct lb_admreview_info info;
  char why[256];
  int rc;
  if (!r) {
    send_error(c, 503, "out of memory", 0);
    return;
  }
  lb_event_init(&r->ev);
  rc = lb_admreview_event(paths[c->path_idx].path, body, blen, lb_wall_ms(),
                          &r->ev, &info, why, sizeof why);
  if (rc) {
    free(r);
    record(wh, c->path_idx, 2, c->t_ready);
    send_error(c, rc == LB_ENOMEM ? 503 : 400, why, c->keepalive);
    request_done(c);
    return;
  }
  r->conn = c;
  r->serial = c->serial;
  r->path_idx = c->path_idx;
  r->t_ready = c->t_ready;
  lb_strlcpy(r->uid, info.uid, sizeof r->uid);
  c->refs++;
  c->state = C_DISPATCHED;
  c->deadline = uv_now(&wh->io) + (uint64_t)wh->o.verdict_timeout_ms;
  uv_mutex_lock(&wh->mu);
  enqueue(&wh->inbox, &wh->inbox_tail, r);
  uv_mutex_unlock(&wh->mu);
  uv_async_send(&wh->main_async);
}

/* Parses what is buffered: at most one request at a time. */
static void process(struct conn *c) {
  struct lb_webhook *wh = c->wh;
  char *p, *eoh, *line, *end;
  size_t head_len, clen = 0;
  int have_len = 0, chunked = 0, http10 = 0, conn_close_hdr = 0, conn_keep = 0,
      expect = 0;
  if (c->state != C_READING || !c->in.len || c->draining)
    return;
  p = c->in.p;
  eoh = memmem(p, c->in.len, "\r\n\r\n", 4);
  if (!eoh) {
    if (c->in.len > HEAD_MAX)
      send_error(c, 431, "request head larger than 16 KiB", 0);
    else if (c->deadline > uv_now(&wh->io) + (uint64_t)wh->o.read_timeout_ms)
      c->deadline = uv_now(&wh->io) + (uint64_t)wh->o.read_timeout_ms;
    return; /* first bytes of a request: the read timeout starts */
  }
  head_len = (size_t)(eoh - p) + 4;
  if (head_len > HEAD_MAX) {
    send_error(c, 431, "request head larger than 16 KiB", 0);
    return;
  }
  /* request line */
  end = memmem(p, head_len, "\r\n", 2);
  char *sp1 = memchr(p, ' ', (size_t)(end - p));
  char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1)) : NULL;
  if (!sp1 || !sp2) {
    send_error(c, 400, "malformed HTTP request line", 0);
    return;
  }
  size_t vlen0 = (size_t)(end - sp2 - 1);
  if (vlen0 == 8 && !memcmp(sp2 + 1, "HTTP/1.0", 8))
    http10 = 1;
  else if (!(vlen0 == 8 && !memcmp(sp2 + 1, "HTTP/1.1", 8))) {
    send_error(c, 400, "only HTTP/1.0 and HTTP/1.1 are served", 0);
    return;
  }
  const char *target = sp1 + 1;
  size_t tlen = (size_t)(sp2 - target);
  const char *q = memchr(target, '?', tlen);
  if (q)
    tlen = (size_t)(q - target);
  /* headers */
  for (line = end + 2; line < eoh + 2;) {
    char *le = memmem(line, (size_t)(eoh + 2 - line), "\r\n", 2);
    const char *v;
    size_t vl;
    if (!le)
      break;
    size_t ll = (size_t)(le - line);
    if (hdr_eq(line, ll, "Content-Length", &v, &vl)) {
      size_t x = 0;
      if (!vl || vl > 12) {
        send_error(c, 400, "bad Content-Length", 0);
        return;
      }
      for (size_t i = 0; i < vl; i++) {
        if (v[i] < '0' || v[i] > '9') {
          send_error(c, 400, "bad Content-Length", 0);
          return;
        }
        x = x * 10 + (size_t)(v[i] - '0');
      }
      if (have_len && x != clen) {
        send_error(c, 400, "conflicting Content-Length headers", 0);
        return;
      }
      clen = x;
      have_len = 1;
    } else if (hdr_eq(line, ll, "Transfer-Encoding", &v, &vl)) {
      chunked = 1;
    } else if (hdr_eq(line, ll, "Connection", &v, &vl)) {
      conn_close_hdr |= token_in(v, vl, "close");
      conn_keep |= token_in(v, vl, "keep-alive");
    } else if (hdr_eq(line, ll, "Expect", &v, &vl)) {
      expect = token_in(v, vl, "100-continue");
    }
    line = le + 2;
  }
  c->keepalive = http10 ? conn_keep && !conn_close_hdr : !conn_close_hdr;
  int is_get = sp1 - p == 3 && !memcmp(p, "GET", 3);
  int is_post = sp1 - p == 4 && !memcmp(p, "POST", 4);
  if (is_get && tlen == 8 && !memcmp(target, "/healthz", 8) && !clen &&
      !chunked) {
    memmove(c->in.p, c->in.p + head_len, c->in.len - head_len);
    c->in.len -= head_len;
    send_response(c, 200, "text/plain", "ok\n", 3, c->keepalive);
    request_done(c);
    return;
  }
  c->path_idx = lb_webhook_path_index(target, tlen);
  if (c->path_idx < 0) {
    char why[200];
    snprintf(why, sizeof why, "no webhook is served at %.*s",
             (int)(tlen < 120 ? tlen : 120), target);
    send_error(c, 404, why, 0);
    return;
  }
  if (!is_post) {
    send_error(c, 405, "admission webhooks take POST", 0);
    return;
  }
  if (chunked) {
    send_error(c, 501, "chunked request bodies are not supported", 0);
    return;
  }
  if (!have_len) {
    send_error(c, 411, "Content-Length is required", 0);
    return;
  }
  if (clen > wh->o.max_body) {
    char why[160];
    snprintf(why, sizeof why,
             "request body of %zu bytes is larger than the limit of %zu "
             "bytes",
             clen, wh->o.max_body);
    record(wh, c->path_idx, 2, uv_hrtime());
    send_error(c, 413, why, 0);
    return;
  }
  if (c->in.len < head_len + clen) {
    if (expect && !c->continued) {
      c->continued = 1;
      static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
      if (SSL_write(c->ssl, cont, sizeof cont - 1) > 0)
        flush_tls(c, 0);
    }
    if (c->deadline > uv_now(&wh->io) + (uint64_t)wh->o.read_timeout_ms)
      c->deadline = uv_now(&wh->io) + (uint64_t)wh->o.read_timeout_ms;
    return; /* wait for the body */
  }
  c->t_ready = uv_hrtime();
  c->continued = 0;
  /* consume the request; the body is decoded from a private copy */
  char *body = malloc(clen + 1);
  if (!body) {
    send_error(c, 503, "out of memory", 0);
    return;
  }
  memcpy(body, c->in.p + head_len, clen);
  body[clen] = '\0';
  memmove(c->in.p, c->in.p + head_len + clen, c->in.len - head_len - clen);
  c->in.len -= head_len + clen;
  if (!c->in.len && c->in.cap > 65536)
    lb_buf_release(&c->in); /* an idle connection keeps no big buffer */
  dispatch(c, body, clen);
  free(body);
}

static void drive_tls(struct conn *c) {
  char buf[16384];
  if (c->state == C_HANDSHAKE) {
    int r = SSL_do_handshake(c->ssl);
    if (r != 1) {
      int e = SSL_get_error(c->ssl, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        flush_tls(c, 0);
        return;
      }
      uv_mutex_lock(&c->wh->mu);
      c->wh->handshake_failures++;
      uv_mutex_unlock(&c->wh->mu);
      ERR_clear_error();
      flush_tls(c, 1); /* the alert, then close */
      return;
    }
    c->state = C_READING;
    c->deadline = uv_now(&c->wh->io) + (uint64_t)c->wh->o.idle_timeout_ms;
    flush_tls(c, 0);
  }
  for (;;) {
    int n = SSL_read(c->ssl, buf, sizeof buf);
    if (n <= 0) {
      int e = SSL_get_error(c->ssl, n);
      ERR_clear_error();
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        break;
      /* close_notify or a TLS error */
      flush_tls(c, 1);
      return;
    }
    if (c->in.len + (size_t)n > c->wh->o.max_body + HEAD_MAX * 2 &&
        c->state != C_READING) {
      conn_close(c); /* flooding while a request is being answered */
      return;
    }
    if (lb_buf_add(&c->in, buf, (size_t)n)) {
      conn_close(c);
      return;
    }
  }
  flush_tls(c, 0);
  process(c);
}

static void on_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b) {
  (void)h;
  sz = sz > 65536 ? 65536 : sz;
  b->base = malloc(sz);
  b->len = b->base ? sz : 0;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  struct conn *c = s->data;
  if (n < 0) {
    free(b->base);
    conn_close(c);
    return;
  }
  if (n > 0 && c->state != C_CLOSING && !c->draining) {
    if (BIO_write(c->rbio, b->base, (int)n) != (int)n)
      conn_close(c);
    else
      drive_tls(c);
  }
  free(b->base);
}

static void on_connection(uv_stream_t *server, int status) {
  struct lb_webhook *wh = server->data;
  struct conn *c;
  if (status < 0)
    return;
  if (!(c = calloc(1, sizeof *c)))
    return; /* cannot accept without memory: the kernel queue holds it */
  c->wh = wh;
  uv_tcp_init(&wh->io, &c->tcp);
  c->tcp.data = c;
  c->state = C_HANDSHAKE;
  c->next = wh->conns;
  if (wh->conns)
    wh->conns->prev = c;
  wh->conns = c;
  wh->n_conns++;
  uv_mutex_lock(&wh->mu);
  wh->conns_open++;
  wh->conns_total++;
  uv_mutex_unlock(&wh->mu);
  if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
    conn_close(c);
    return;
  }
  if (wh->n_conns > wh->o.max_conns) {
    conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  c->ssl = SSL_new(wh->ctx);
  c->rbio = BIO_new(BIO_s_mem());
  c->wbio = BIO_new(BIO_s_mem());
  if (!c->ssl || !c->rbio || !c->wbio) {
    BIO_free(c->rbio);
    BIO_free(c->wbio);
    c->rbio = c->wbio = NULL;
    conn_close(c);
    return;
  }
  BIO_set_mem_eof_return(c->rbio, -1);
  BIO_set_mem_eof_return(c->wbio, -1);
  SSL_set_bio(c->ssl, c->rbio, c->wbio);
  SSL_set_accept_state(c->ssl);
  c->deadline = uv_now(&wh->io) + (uint64_t)wh->o.read_timeout_ms;
  if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read))
    conn_close(c);
}

static void on_sweep(uv_timer_t *t) {
  struct lb_webhook *wh = t->data;
  uint64_t now = uv_now(&wh->io);
  struct conn *c = wh->conns, *next;
  for (; c; c = next) {
    next = c->next;
    if (c->state == C_CLOSING || (c->draining && !c->lingering) ||
        c->deadline > now)
      continue;
    if (c->lingering) {
      conn_close(c);
      continue;
    }
    assert_conn(c);
    uv_mutex_lock(&wh->mu);
    wh->timeouts++;
    uv_mutex_unlock(&wh->mu);
    if (c->state == C_DISPATCHED) {
      char why[128];
      snprintf(why, sizeof why, "no verdict within %d ms",
               wh->o.verdict_timeout_ms);
      record(wh, c->path_idx, 2, c->t_ready);
      send_error(c, 503, why, c->keepalive);
      request_done(c); /* serial bumped: the late verdict is dropped */
    } else {
      conn_close(c); /* handshake, request or keep-alive idle timeout */
    }
  }
}

static void close_all(uv_handle_t *h, void *arg) {
  struct lb_webhook *wh = arg;
  if (uv_is_closing(h))
    return;
  if (h->type == UV_TCP && h != (uv_handle_t *)&wh->listener) {
    conn_close(h->data);
    return;
  }
  uv_close(h, NULL);
}

static void on_io_async(uv_async_t *a) {
  struct lb_webhook *wh = a->data;
  struct lb_webhook_req *r, *next;
  int stop;
  uv_mutex_lock(&wh->mu);
  r = wh->outbox;
  wh->outbox = wh->outbox_tail = NULL;
  stop = wh->stop;
  int reload = wh->reload;
  wh->reload = 0;
  uv_mutex_unlock(&wh->mu);
  if (reload && !stop) {
    /* new connections get the new certificate; open ones keep theirs
     * (each SSL holds a reference to the context it was made from) */
    SSL_CTX *ctx;
    char *err = NULL;
    int rc = make_ctx(&wh->o, &ctx, &err);
    if (!rc) {
      SSL_CTX_free(wh->ctx);
      wh->ctx = ctx;
    } else {
      lb_log("error",
             "cannot reload the webhook certificate; keeping the "
             "old one",
             "error=\"%s\"", err ? err : lb_strerror(rc));
    }
    free(err);
    uv_mutex_lock(&wh->mu);
    if (rc)
      wh->reload_failures++;
    else
      wh->reloads++;
    uv_mutex_unlock(&wh->mu);
  }
  for (; r; r = next) {
    struct conn *c = r->conn;
    next = r->next;
    c->refs--;
    if (c->closed) {
      if (!c->refs)
        conn_unlink_free(c);
    } else if (c->state == C_DISPATCHED && c->serial == r->serial) {
      if (r->status == 200) {
        int denied = r->body && strstr(r->body, "\"allowed\":false") != NULL;
        record(wh, r->path_idx, denied, r->t_ready);
        send_response(c, 200, "application/json", r->body,
                      r->body ? strlen(r->body) : 0, c->keepalive);
      } else {
        record(wh, r->path_idx, 2, r->t_ready);
        send_error(c, r->status, r->body ? r->body : "error", c->keepalive);
      }
      request_done(c);
    }
    req_free(r);
  }
  if (stop) {
    uv_walk(&wh->io, close_all, wh);
  }
}

static void io_main(void *arg) {
  struct lb_webhook *wh = arg;
  uv_run(&wh->io, UV_RUN_DEFAULT);
}

/* ======================= main loop ====================================== */
const char *lb_webhook_req_uid(const struct lb_webhook_req *req) {
  return req->uid;
}

static void to_io(struct lb_webhook *wh, struct lb_webhook_req *r) {
  if (wh->stop) { /* the I/O thread is gone (stop ran in a sink callback) */
    req_free(r);
    return;
  }
  lb_event_release(&r->ev); /* the main loop's part is done */
  uv_mutex_lock(&wh->mu);
  enqueue(&wh->outbox, &wh->outbox_tail, r);
  uv_mutex_unlock(&wh->mu);
  uv_async_send(&wh->io_async);
}

void lb_webhook_fail(struct lb_webhook *wh, struct lb_webhook_req *req,
                     int status, const char *reason) {
  req->status = status;
  free(req->body);
  req->body = lb_strdup(reason);
  to_io(wh, req);
}

int lb_webhook_pending(struct lb_webhook *wh, struct lb_webhook_req *req) {
  struct lb_webhook_req *head = lb_map_get(&wh->pending, req->uid);
  req->next = NULL;
  if (head) {
    while (head->next)
      head = head->next;
    head->next = req;
    return 0;
  }
  return lb_map_put(&wh->pending, req->uid, req, NULL);
}

/* Removes and returns the oldest pending request of uid. */
static struct lb_webhook_req *take_pending(struct lb_webhook *wh,
                                           const char *uid) {
  struct lb_webhook_req *head = lb_map_get(&wh->pending, uid);
  if (!head)
    return NULL;
  if (head->next) {
    if (lb_map_put(&wh->pending, uid, head->next, NULL))
      return NULL; /* cannot happen: the key exists, no growth */
  } else {
    lb_map_del(&wh->pending, uid);
  }
  head->next = NULL;
  return head;
}

void lb_webhook_respond(void *ctx, const struct lb_action *a) {
  struct lb_webhook *wh = ctx;
  struct lb_webhook_req *r;
  if (a->verb != LB_VERB_RESPOND)
    return;
  r = take_pending(wh, a->name ? a->name : "");
  if (!r) {
    wh->dropped_verdicts++; /* e.g. answered by a timeout already */
    return;
  }
  r->status = 200;
  r->body = lb_strdup(a->body ? a->body : "");
  if (!r->body)
    r->status = 503;
  to_io(wh, r);
}

static void on_main_async(uv_async_t *a) {
  struct lb_webhook *wh = a->data;
  struct lb_webhook_req *r, *next;
  uv_mutex_lock(&wh->mu);
  r = wh->inbox;
  wh->inbox = wh->inbox_tail = NULL;
  uv_mutex_unlock(&wh->mu);
  for (; r; r = next) {
    next = r->next;
    r->next = NULL;
    if (wh->stop) /* a sink callback stopped the server (fatal error) */
      req_free(r);
    else if (wh->sink)
      wh->sink(wh->sink_ctx, r, &r->ev);
    else
      lb_webhook_fail(wh, r, 503, "the admission pipeline is not running");
  }
}

/* --- wiring to the runner ------------------------------------------------ */
static void runner_sink(void *ctx, struct lb_webhook_req *req,
                        struct lb_event *ev) {
  struct lb_webhook *wh = ctx;
  struct lb_runner *r = wh->runner;
  size_t n0 = r->n_held;
  int rc, found = 0;
  if (r->state == LB_RUN_FAILED) {
    lb_webhook_fail(wh, req, 503, "the journal is unavailable");
    return;
  }
  if ((rc = lb_webhook_pending(wh, req))) {
    lb_webhook_fail(wh, req, 503, "out of memory");
    return;
  }
  /* stamped on the loop that orders events, as watch events are: the
   * journal's at_ms then never steps back between neighbouring events */
  ev->at_ms = lb_wall_ms();
  ev->hash = lb_event_hash(ev);
  rc = lb_runner_push(r, ev); /* takes the event's contents */
  if (!rc)
    for (size_t i = n0; i < r->n_held && !found; i++)
      found = r->held[i].verb == LB_VERB_RESPOND && r->held[i].name &&
              !strcmp(r->held[i].name, req->uid);
  if (rc || !found) {
    /* not answerable: take it back out (it is the newest of its uid) */
    struct lb_webhook_req *h = lb_map_get(&wh->pending, req->uid), *prev = NULL;
    while (h && h != req) {
      prev = h;
      h = h->next;
    }
    if (h == req) {
      if (prev)
        prev->next = NULL;
      else
        lb_map_del(&wh->pending, req->uid);
    }
    lb_webhook_fail(wh, req, rc ? 503 : 500,
                    rc ? "the journal is unavailable"
                       : "the engine produced no verdict for this request");
    if (rc && wh->on_fail)
      wh->on_fail(wh->fail_ctx, rc);
  }
}

void lb_webhook_attach(struct lb_webhook *wh, struct lb_runner *r,
                       void (*on_fail)(void *ctx, int rc), void *ctx) {
  wh->runner = r;
  wh->on_fail = on_fail;
  wh->fail_ctx = ctx;
  wh->sink = runner_sink;
  wh->sink_ctx = wh;
  r->respond = lb_webhook_respond;
  r->respond_ctx = wh;
}

/* --- start / stop -------------------------------------------------------- */
static char *ssl_error(const char *what, const char *file) {
  struct lb_buf b = LB_BUF_INIT;
  char e[256];
  unsigned long code = ERR_get_error();
  ERR_error_string_n(code, e, sizeof e);
  lb_buf_addf(&b, "%s %s: %s", what, file ? file : "", code ? e : "");
  ERR_clear_error();
  return lb_buf_detach(&b, NULL);
}

/* A server TLS context from the certificate chain and key files. */
static int make_ctx(const struct lb_webhook_opts *o, SSL_CTX **out,
                    char **err) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) {
    *err = ssl_error("cannot create a TLS context", "");
    return LB_ENOMEM;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1) {
    *err = ssl_error("cannot load the webhook certificate", o->cert_file);
    SSL_CTX_free(ctx);
    return LB_EINVAL;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    *err = ssl_error("cannot load the webhook key (or it does not match the "
                     "certificate)",
                     o->key_file);
    SSL_CTX_free(ctx);
    return LB_EINVAL;
  }
  *out = ctx;
  return 0;
}

static void wh_free(struct lb_webhook *wh) {
  lb_map_release(&wh->pending);
  if (wh->ctx)
    SSL_CTX_free(wh->ctx);
  uv_mutex_destroy(&wh->mu);
  free(wh->cert_file);
  free(wh->key_file);
  free(wh);
}

int lb_webhook_start(uv_loop_t *main_loop, const struct lb_webhook_opts *o,
                     lb_webhook_sink sink, void *ctx, struct lb_webhook **out,
                     char **err) {
  struct lb_webhook *wh = calloc(1, sizeof *wh);
  struct sockaddr_storage ss;
  struct sockaddr_in6 a6;
  struct sockaddr_in a4;
  int rc, namelen = sizeof ss;
  *err = NULL;
  if (!wh)
    return LB_ENOMEM;
  wh->o = *o;
  /* own copies: lb_webhook_reload re-reads the files later */
  wh->o.cert_file = wh->cert_file = lb_strdup(o->cert_file);
  wh->o.key_file = wh->key_file = lb_strdup(o->key_file);
  wh->o.host = NULL; /* used only here */
  if (!wh->cert_file || !wh->key_file) {
    free(wh->cert_file);
    free(wh->key_file);
    free(wh);
    return LB_ENOMEM;
  }
  wh->main = main_loop;
  wh->sink = sink;
  wh->sink_ctx = ctx;
  lb_map_init(&wh->pending);
  if (uv_mutex_init(&wh->mu)) {
    free(wh->cert_file);
    free(wh->key_file);
    free(wh);
    return LB_ENOMEM;
  }
  if ((rc = make_ctx(o, &wh->ctx, err))) {
    wh_free(wh);
    return rc;
  }
  if (uv_loop_init(&wh->io)) {
    wh_free(wh);
    return LB_ENOMEM;
  }
  uv_tcp_init(&wh->io, &wh->listener);
  wh->listener.data = wh;
  uv_async_init(&wh->io, &wh->io_async, on_io_async);
  wh->io_async.data = wh;
  uv_timer_init(&wh->io, &wh->sweep);
  wh->sweep.data = wh;
  if (uv_ip4_addr(o->host, o->port, &a4) == 0)
    rc = uv_tcp_bind(&wh->listener, (const struct sockaddr *)&a4, 0);
  else if (uv_ip6_addr(o->host, o->port, &a6) == 0)
    rc = uv_tcp_bind(&wh->listener, (const struct sockaddr *)&a6, 0);
  else
    rc = UV_EINVAL;
  if (!rc)
    rc = uv_listen((uv_stream_t *)&wh->listener, 511, on_connection);
  if (!rc)
    rc = uv_tcp_getsockname(&wh->listener, (struct sockaddr *)&ss, &namelen);
  if (rc) {
    struct lb_buf b = LB_BUF_INIT;
    lb_buf_addf(&b, "cannot listen on %s:%d for webhooks: %s", o->host, o->port,
                uv_strerror(rc));
    *err = lb_buf_detach(&b, NULL);
    uv_walk(&wh->io, close_all, wh);
    uv_run(&wh->io, UV_RUN_DEFAULT);
    uv_loop_close(&wh->io);
    wh_free(wh);
    return LB_EIO;
  }
  wh->port = ss.ss_family == AF_INET6
                 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                 : ntohs(((struct sockaddr_in *)&ss)->sin_port);
  uv_timer_start(&wh->sweep, on_sweep, 100, 100);
  uv_async_init(main_loop, &wh->main_async, on_main_async);
  wh->main_async.data = wh;
  if (uv_thread_create(&wh->thread, io_main, wh)) {
    uv_close((uv_handle_t *)&wh->main_async, NULL);
    uv_walk(&wh->io, close_all, wh);
    uv_run(&wh->io, UV_RUN_DEFAULT);
    uv_loop_close(&wh->io);
    wh_free(wh);
    return LB_ENOMEM;
  }
  wh->thread_started = 1;
  *out = wh;
  return 0;
}

int lb_webhook_port(const struct lb_webhook *wh) { return wh->port; }

void lb_webhook_reload(struct lb_webhook *wh) {
  uv_mutex_lock(&wh->mu);
  wh->reload = 1;
  uv_mutex_unlock(&wh->mu);
  uv_async_send(&wh->io_async);
}

static void free_list(struct lb_webhook_req *r) {
  while (r) {
    struct lb_webhook_req *n = r->next;
    req_free(r);
    r = n;
  }
}

static void on_main_async_closed(uv_handle_t *h) { wh_free(h->data); }

void lb_webhook_stop(struct lb_webhook *wh) {
  size_t i = 0;
  void *v;
  if (!wh)
    return;
  uv_mutex_lock(&wh->mu);
  wh->stop = 1;
  uv_mutex_unlock(&wh->mu);
  uv_async_send(&wh->io_async);
  uv_thread_join(&wh->thread);
  /* the I/O loop has ended: everything below is ours alone */
  uv_loop_close(&wh->io);
  free_list(wh->inbox);
  free_list(wh->outbox);
  wh->inbox = wh->outbox = NULL;
  while (lb_map_next(&wh->pending, &i, NULL, &v))
    free_list(v);
  lb_map_release(&wh->pending);
  lb_map_init(&wh->pending);
  /* connections whose requests were still out: all closed now */
  for (struct conn *c = wh->conns; c;) {
    struct conn *n = c->next;
    conn_free(c);
    c = n;
  }
  wh->conns = NULL;
  if (wh->runner && wh->runner->respond_ctx == wh) {
    wh->runner->respond = NULL;
    wh->runner->respond_ctx = NULL;
  }
  uv_close((uv_handle_t *)&wh->main_async, on_main_async_closed);
}

void lb_webhook_metrics(struct lb_webhook *wh, struct lb_buf *b) {
  static const char *verdicts[] = {"allowed", "denied", "error"};
  static const int codes[] = {400, 404, 0, 413, 500, 503};
  uv_mutex_lock(&wh->mu);
  lb_buf_adds(b, "# HELP logbook_admission_requests_total Admission requests "
                 "answered, by webhook and verdict (error = not a verdict: "
                 "400, 413, 500, 503).\n# TYPE "
                 "logbook_admission_requests_total counter\n");
  for (int i = 0; i < LB_WH__N; i++)
    for (int v = 0; v < 3; v++)
      lb_buf_addf(b,
                  "logbook_admission_requests_total{webhook=\"%s\","
                  "verdict=\"%s\"} %lld\n",
                  paths[i].name, verdicts[v], (long long)wh->by_verdict[i][v]);
  lb_buf_adds(b, "# HELP logbook_admission_duration_seconds From the request "
                 "fully read to the response handed to the socket.\n# TYPE "
                 "logbook_admission_duration_seconds histogram\n");
  for (int i = 0; i < LB_WH__N; i++) {
    int64_t cum = 0;
    for (int k = 0; k < N_BUCKETS; k++) {
      cum += wh->hist[i][k];
      lb_buf_addf(b,
                  "logbook_admission_duration_seconds_bucket{webhook=\"%s\","
                  "le=\"%g\"} %lld\n",
                  paths[i].name, bucket_ms[k] / 1000.0, (long long)cum);
    }
    cum += wh->hist[i][N_BUCKETS];
    lb_buf_addf(b,
                "logbook_admission_duration_seconds_bucket{webhook=\"%s\","
                "le=\"+Inf\"} %lld\n"
                "logbook_admission_duration_seconds_sum{webhook=\"%s\"} %g\n"
                "logbook_admission_duration_seconds_count{webhook=\"%s\"} "
                "%lld\n",
                paths[i].name, (long long)cum, paths[i].name,
                wh->lat_sum[i] / 1000.0, paths[i].name, (long long)cum);
  }
  lb_buf_adds(b, "# HELP logbook_webhook_http_errors_total Webhook responses "
                 "other than 200, by status (other = 405/411/431/501).\n"
                 "# TYPE logbook_webhook_http_errors_total counter\n");
  for (int i = 0; i < 6; i++) {
    if (codes[i])
      lb_buf_addf(b, "logbook_webhook_http_errors_total{code=\"%d\"} %lld\n",
                  codes[i], (long long)wh->http_errors[i]);
    else
      lb_buf_addf(b, "logbook_webhook_http_errors_total{code=\"other\"} %lld\n",
                  (long long)wh->http_errors[i]);
  }
  lb_buf_addf(b,
              "# HELP logbook_webhook_connections Open webhook connections.\n"
              "# TYPE logbook_webhook_connections gauge\n"
              "logbook_webhook_connections %lld\n"
              "# HELP logbook_webhook_connections_total Accepted.\n"
              "# TYPE logbook_webhook_connections_total counter\n"
              "logbook_webhook_connections_total %lld\n"
              "# HELP logbook_webhook_timeouts_total Handshake, read, idle "
              "or verdict timeouts.\n"
              "# TYPE logbook_webhook_timeouts_total counter\n"
              "logbook_webhook_timeouts_total %lld\n"
              "# HELP logbook_webhook_tls_handshake_failures_total Failed "
              "handshakes.\n"
              "# TYPE logbook_webhook_tls_handshake_failures_total counter\n"
              "logbook_webhook_tls_handshake_failures_total %lld\n"
              "# HELP logbook_admission_verdicts_dropped_total Verdicts whose "
              "request was no longer pending.\n"
              "# TYPE logbook_admission_verdicts_dropped_total counter\n"
              "logbook_admission_verdicts_dropped_total %lld\n"
              "# HELP logbook_webhook_cert_reloads_total Serving certificate "
              "reloads, by result.\n"
              "# TYPE logbook_webhook_cert_reloads_total counter\n"
              "logbook_webhook_cert_reloads_total{result=\"ok\"} %lld\n"
              "logbook_webhook_cert_reloads_total{result=\"failed\"} %lld\n",
              (long long)wh->conns_open, (long long)wh->conns_total,
              (long long)wh->timeouts, (long long)wh->handshake_failures,
              (long long)wh->dropped_verdicts, (long long)wh->reloads,
              (long long)wh->reload_failures);
  uv_mutex_unlock(&wh->mu);
}
