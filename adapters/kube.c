/* kube.c — see kube.h. The libcurl multi interface is driven by libuv:
 * curl tells us which sockets to watch (on_socket) and when to time out
 * (on_curl_timer); libuv tells curl when a socket is ready (on_poll). */
#define _GNU_SOURCE
#include "kube.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../engine/err.h"
#include "../engine/util.h"

enum { RQ_QUEUED = 1, RQ_RUNNING, RQ_DONE };

struct lb_kube_req {
  struct lb_kube *k;
  CURL *easy;
  struct curl_slist *headers;
  char *method, *url, *body;
  struct lb_buf resp;
  int streaming, state;
  lb_kube_data_cb data;
  lb_kube_done_cb done;
  void *ctx;
  int64_t retry_after_ms;
  char errbuf[CURL_ERROR_SIZE];
  struct lb_kube_req *next, *prev; /* queue or active list */
};

struct lb_kube {
  uv_loop_t *loop;
  CURLM *multi;
  uv_timer_t curl_timer, bucket_timer;
  struct lb_kube_opts o;
  char *server, *auth_header, *ca_file;
  struct curl_blob ca, cert, key;
  char *cert_file, *key_file;
  double tokens;
  uint64_t refill_ms;
  struct lb_kube_req *q_head, *q_tail; /* waiting for a token */
  size_t n_queued;                     /* their number */
  struct lb_kube_req *active;          /* running */
  int closing, open_handles;
  long stall_s; /* a silent stream is dead after this long */
  struct lb_kube_stats stats;
};

struct sock {
  uv_poll_t poll;
  curl_socket_t fd;
  struct lb_kube *k;
};

static void maybe_free(struct lb_kube *k);

static void handle_closed(uv_handle_t *h) {
  struct lb_kube *k = h->data;
  k->open_handles--;
  maybe_free(k);
}

static void sock_closed(uv_handle_t *h) {
  struct sock *s = (struct sock *)h;
  struct lb_kube *k = s->k;
  free(s);
  k->open_handles--;
  maybe_free(k);
}

/* --- request completion -------------------------------------------------- */
static void list_remove(struct lb_kube_req **head, struct lb_kube_req *r) {
  if (r->prev)
    r->prev->next = r->next;
  else if (*head == r)
    *head = r->next;
  if (r->next)
    r->next->prev = r->prev;
  r->next = r->prev = NULL;
}

static void req_free(struct lb_kube_req *r) {
  if (r->easy)
    curl_easy_cleanup(r->easy);
  curl_slist_free_all(r->headers);
  free(r->method);
  free(r->url);
  free(r->body);
  lb_buf_release(&r->resp);
  free(r);
}

static void finish(struct lb_kube_req *r, int status, const char *err) {
  struct lb_kube *k = r->k;
  struct lb_kube_result res;
  memset(&res, 0, sizeof res);
  res.status = status;
  res.retry_after_ms = r->retry_after_ms;
  res.curl_error = err ? err : "";
  if (!r->streaming && r->resp.len) {
    res.body = lb_buf_detach(&r->resp, &res.len);
  }
  k->stats.by_class[status >= 100 && status < 600 ? status / 100 : 0]++;
  if (!status)
    k->stats.transport_errors++;
  r->state = RQ_DONE;
  if (r->done)
    r->done(r->ctx, &res);
  else
    free(res.body);
  req_free(r);
}

static void check_done(struct lb_kube *k) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(k->multi, &left))) {
    struct lb_kube_req *r = NULL;
    long code = 0, conns = 0;
    if (m->msg != CURLMSG_DONE)
      continue;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
    curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
    if (curl_easy_getinfo(m->easy_handle, CURLINFO_NUM_CONNECTS, &conns) ==
        CURLE_OK)
      k->stats.connects += conns;
    CURLcode cc = m->data.result;
    curl_multi_remove_handle(k->multi, m->easy_handle);
    list_remove(&k->active, r);
    if (cc != CURLE_OK)
      finish(r, 0, r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc));
    else
      finish(r, (int)code, NULL);
  }
}

/* --- libuv <-> libcurl ---------------------------------------------------- */
static void on_poll(uv_poll_t *h, int status, int events) {
  struct sock *s = (struct sock *)h;
  int flags = 0, running;
  if (status < 0)
    flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE)
    flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE)
    flags |= CURL_CSELECT_OUT;
  struct lb_kube *k = s->k;
  curl_multi_socket_action(k->multi, s->fd, flags, &running);
  check_done(k);
}

static int on_socket(CURL *e, curl_socket_t fd, int action, void *userp,
                     void *socketp) {
  struct lb_kube *k = userp;
  struct sock *s = socketp;
  (void)e;
  if (action == CURL_POLL_REMOVE) {
    if (s) {
      uv_poll_stop(&s->poll);
      curl_multi_assign(k->multi, fd, NULL);
      uv_close((uv_handle_t *)&s->poll, sock_closed);
    }
    return 0;
  }
  if (!s) {
    s = calloc(1, sizeof *s);
    if (!s)
      return -1;
    s->fd = fd;
    s->k = k;
    if (uv_poll_init_socket(k->loop, &s->poll, fd)) {
      free(s);
      return -1;
    }
    k->open_handles++;
    curl_multi_assign(k->multi, fd, s);
  }
  int ev = 0;
  if (action & CURL_POLL_IN)
    ev |= UV_READABLE;
  if (action & CURL_POLL_OUT)
    ev |= UV_WRITABLE;
  uv_poll_start(&s->poll, ev, on_poll);
  return 0;
}

static void on_curl_timeout(uv_timer_t *t) {
  struct lb_kube *k = t->data;
  int running;
  curl_multi_socket_action(k->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done(k);
}

static int on_curl_timer(CURLM *m, long timeout_ms, void *userp) {
  struct lb_kube *k = userp;
  (void)m;
  if (timeout_ms < 0)
    uv_timer_stop(&k->curl_timer);
  else
    uv_timer_start(&k->curl_timer, on_curl_timeout, (uint64_t)timeout_ms, 0);
  return 0;
}

/* --- easy handles ------------------------------------------------------------
 */
static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  struct lb_kube_req *r = ud;
  size_t len = size * n;
  if (r->streaming) {
    if (r->data && r->data(r->ctx, p, len))
      return 0; /* abort */
    return len;
  }
  if (lb_buf_add(&r->resp, p, len))
    return 0;
  return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  struct lb_kube_req *r = ud;
  size_t len = size * n;
  if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) {
    char tmp[32];
    size_t l = len - 12 < sizeof tmp - 1 ? len - 12 : sizeof tmp - 1;
    memcpy(tmp, p + 12, l);
    tmp[l] = '\0';
    long v = strtol(tmp, NULL, 10);
    if (v >= 0 && v < 86400)
      r->retry_after_ms = v * 1000;
  }
  return len;
}

static int start(struct lb_kube_req *r) {
  struct lb_kube *k = r->k;
  CURL *e = curl_easy_init();
  if (!e)
    return LB_ENOMEM;
  r->easy = e;
  curl_easy_setopt(e, CURLOPT_URL, r->url);
  curl_easy_setopt(e, CURLOPT_PRIVATE, r);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, k->o.connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (k->ca_file)
    curl_easy_setopt(e, CURLOPT_CAINFO, k->ca_file);
  else if (k->ca.data)
    curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &k->ca);
  if (k->cert_file) {
    curl_easy_setopt(e, CURLOPT_SSLCERT, k->cert_file);
    curl_easy_setopt(e, CURLOPT_SSLKEY, k->key_file);
  } else if (k->cert.data) {
    curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &k->cert);
    curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &k->key);
  }
  if (r->streaming) {
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 0L);
    /* a watch that goes silent (no event, no bookmark) for this long is
     * presumed dead and reconnected by its owner */
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, k->stall_s);
  } else {
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, k->o.request_timeout_ms);
  }
  if (r->body) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
  }
  r->state = RQ_RUNNING;
  r->next = k->active;
  if (k->active)
    k->active->prev = r;
  k->active = r;
  k->stats.requests++;
  if (curl_multi_add_handle(k->multi, e) != CURLM_OK) {
    list_remove(&k->active, r);
    return LB_ENOMEM;
  }
  return 0;
}

/* --- token bucket ------------------------------------------------------------
 */
static void refill(struct lb_kube *k) {
  uint64_t now = uv_now(k->loop);
  k->tokens += (double)(now - k->refill_ms) * k->o.qps / 1000.0;
  if (k->tokens > k->o.burst)
    k->tokens = k->o.burst;
  k->refill_ms = now;
}

static void pump(struct lb_kube *k);

static void on_bucket(uv_timer_t *t) { pump(t->data); }

static void pump(struct lb_kube *k) {
  refill(k);
  while (k->q_head && k->tokens >= 1.0) {
    struct lb_kube_req *r = k->q_head;
    list_remove(&k->q_head, r);
    if (!k->q_head)
      k->q_tail = NULL;
    k->n_queued--;
    k->tokens -= 1.0;
    if (start(r))
      finish(r, 0, "out of memory starting a request");
  }
  if (k->q_head) {
    uint64_t wait = (uint64_t)((1.0 - k->tokens) * 1000.0 / k->o.qps) + 1;
    k->stats.throttled++;
    uv_timer_start(&k->bucket_timer, on_bucket, wait, 0);
  }
}

static struct lb_kube_req *req_new(struct lb_kube *k, const char *method,
                                   const char *path, const char *ctype,
                                   const char *body) {
  struct lb_kube_req *r = calloc(1, sizeof *r);
  struct lb_buf url = LB_BUF_INIT, ct = LB_BUF_INIT;
  if (!r)
    return NULL;
  r->k = k;
  r->retry_after_ms = -1;
  lb_buf_addf(&url, "%s%s", k->server, path);
  r->url = lb_buf_detach(&url, NULL);
  r->method = lb_strdup(method);
  r->body = body ? lb_strdup(body) : NULL;
  lb_buf_addf(&ct, "Content-Type: %s", ctype ? ctype : "application/json");
  r->headers = curl_slist_append(NULL, "Accept: application/json");
  if (r->headers && k->auth_header)
    r->headers = curl_slist_append(r->headers, k->auth_header);
  if (r->headers && body)
    r->headers = curl_slist_append(r->headers, ct.p);
  lb_buf_release(&ct);
  if (!r->url || !r->method || (body && !r->body) || !r->headers) {
    req_free(r);
    return NULL;
  }
  return r;
}

int lb_kube_request(struct lb_kube *k, const char *method, const char *path,
                    const char *content_type, const char *body,
                    lb_kube_done_cb done, void *ctx, struct lb_kube_req **h) {
  struct lb_kube_req *r;
  if (k->closing)
    return LB_EAGAIN;
  if (!(r = req_new(k, method, path, content_type, body)))
    return LB_ENOMEM;
  r->done = done;
  r->ctx = ctx;
  r->state = RQ_QUEUED;
  r->prev = k->q_tail;
  if (k->q_tail)
    k->q_tail->next = r;
  else
    k->q_head = r;
  k->q_tail = r;
  k->n_queued++;
  if (h)
    *h = r;
  pump(k);
  return 0;
}

int lb_kube_stream(struct lb_kube *k, const char *path, lb_kube_data_cb data,
                   lb_kube_done_cb done, void *ctx, struct lb_kube_req **h) {
  struct lb_kube_req *r;
  int rc;
  if (k->closing)
    return LB_EAGAIN;
  if (!(r = req_new(k, "GET", path, NULL, NULL)))
    return LB_ENOMEM;
  r->streaming = 1;
  r->data = data;
  r->done = done;
  r->ctx = ctx;
  refill(k);
  k->tokens -= 1.0; /* a watch costs one token; it may go negative */
  if ((rc = start(r))) {
    req_free(r);
    return rc;
  }
  if (h)
    *h = r;
  return 0;
}

void lb_kube_cancel(struct lb_kube_req *r) {
  struct lb_kube *k = r->k;
  if (r->state == RQ_QUEUED) {
    list_remove(&k->q_head, r);
    k->n_queued--;
    if (k->q_tail == r)
      k->q_tail = NULL;
    /* recompute the tail */
    for (struct lb_kube_req *x = k->q_head; x; x = x->next)
      k->q_tail = x;
  } else if (r->state == RQ_RUNNING) {
    curl_multi_remove_handle(k->multi, r->easy);
    list_remove(&k->active, r);
  } else {
    return;
  }
  finish(r, 0, "cancelled");
}

void lb_kube_stats(const struct lb_kube *k, struct lb_kube_stats *out) {
  *out = k->stats;
}

size_t lb_kube_queued(const struct lb_kube *k) { return k->n_queued; }

/* --- lifecycle
 * ---------------------------------------------------------------- */
static int blob_of(struct curl_blob *b, const char *pem, size_t len) {
  if (!pem)
    return 0;
  b->data = malloc(len);
  if (!b->data)
    return LB_ENOMEM;
  memcpy(b->data, pem, len);
  b->len = len;
  b->flags = CURL_BLOB_COPY;
  return 0;
}

int lb_kube_new(uv_loop_t *loop, const struct lb_kubeconfig *cfg,
                const struct lb_kube_opts *o, struct lb_kube **out) {
  static int global_done;
  struct lb_kube *k;
  struct lb_kube_opts dflt = LB_KUBE_OPTS_INIT;
  if (!global_done) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT))
      return LB_ENOMEM;
    global_done = 1;
  }
  if (!(k = calloc(1, sizeof *k)))
    return LB_ENOMEM;
  k->loop = loop;
  k->o = o ? *o : dflt;
  if (k->o.qps <= 0)
    k->o.qps = dflt.qps;
  if (k->o.burst < 1)
    k->o.burst = 1;
  k->tokens = k->o.burst;
  /* Watches ask the server to end them after 60 s (timeoutSeconds), and
   * bookmarks arrive about once a minute, so 75 s of silence means a dead
   * connection (e.g. accepted by an apiserver that then went away). */
  const char *stall = getenv("LB_WATCH_STALL_SECONDS");
  k->stall_s = stall && atol(stall) > 0 ? atol(stall) : 75;
  k->refill_ms = uv_now(loop);
  k->server = lb_strdup(cfg->server);
  if (cfg->token) {
    struct lb_buf b = LB_BUF_INIT;
    lb_buf_addf(&b, "Authorization: Bearer %s", cfg->token);
    k->auth_header = lb_buf_detach(&b, NULL);
  }
  k->ca_file = lb_strdup(cfg->ca_file);
  k->cert_file = lb_strdup(cfg->cert_file);
  k->key_file = lb_strdup(cfg->key_file);
  if (!k->server || blob_of(&k->ca, cfg->ca_pem, cfg->ca_pem_len) ||
      blob_of(&k->cert, cfg->cert_pem, cfg->cert_pem_len) ||
      blob_of(&k->key, cfg->key_pem, cfg->key_pem_len) ||
      !(k->multi = curl_multi_init())) {
    k->closing = 1;
    maybe_free(k);
    return LB_ENOMEM;
  }
  curl_multi_setopt(k->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(k->multi, CURLMOPT_SOCKETDATA, k);
  curl_multi_setopt(k->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
  curl_multi_setopt(k->multi, CURLMOPT_TIMERDATA, k);
  uv_timer_init(loop, &k->curl_timer);
  uv_timer_init(loop, &k->bucket_timer);
  k->curl_timer.data = k->bucket_timer.data = k;
  k->open_handles = 2;
  *out = k;
  return 0;
}

static void maybe_free(struct lb_kube *k) {
  if (!k->closing || k->open_handles > 0)
    return;
  free(k->server);
  free(k->auth_header);
  free(k->ca_file);
  free(k->cert_file);
  free(k->key_file);
  free(k->ca.data);
  free(k->cert.data);
  free(k->key.data);
  free(k);
}

void lb_kube_close(struct lb_kube *k) {
  if (!k || k->closing)
    return;
  k->closing = 1;
  while (k->q_head)
    lb_kube_cancel(k->q_head);
  while (k->active)
    lb_kube_cancel(k->active);
  if (k->multi)
    curl_multi_cleanup(k->multi);
  k->multi = NULL;
  uv_close((uv_handle_t *)&k->curl_timer, handle_closed);
  uv_close((uv_handle_t *)&k->bucket_timer, handle_closed);
}

char *lb_kube_path(const char *group, const char *version, const char *resource,
                   const char *ns, const char *name, const char *sub) {
  struct lb_buf b = LB_BUF_INIT;
  if (!group || !*group)
    lb_buf_addf(&b, "/api/%s", version);
  else
    lb_buf_addf(&b, "/apis/%s/%s", group, version);
  if (ns && *ns)
    lb_buf_addf(&b, "/namespaces/%s", ns);
  lb_buf_addf(&b, "/%s", resource);
  if (name && *name)
    lb_buf_addf(&b, "/%s", name);
  if (sub && *sub)
    lb_buf_addf(&b, "/%s", sub);
  return b.err ? (lb_buf_release(&b), NULL) : lb_buf_detach(&b, NULL);
}
