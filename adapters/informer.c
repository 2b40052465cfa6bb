/* informer.c — see informer.h for the state machine. */
#include "informer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/err.h"
#include "../engine/event.h"
#include "../engine/util.h"
#include "log.h"

#define PAGE 500
#define BACKOFF_MIN 500
#define BACKOFF_MAX 30000

static void list_page(struct lb_informer *inf);
static void watch(struct lb_informer *inf);

static void assert_state(const struct lb_informer *inf) {
#ifndef NDEBUG
  if (inf->state == LB_INF_WATCHING && !inf->rv[0])
    LB_BUG("informer watching without a resourceVersion");
#else
  (void)inf;
#endif
}

static char *path_of(struct lb_informer *inf, const char *query) {
  char *base = lb_kube_path(inf->res->group, inf->res->version,
                            inf->res->resource, "", "", "");
  struct lb_buf b = LB_BUF_INIT;
  if (!base)
    return NULL;
  lb_buf_addf(&b, "%s?%s", base, query);
  free(base);
  return b.err ? (lb_buf_release(&b), NULL) : lb_buf_detach(&b, NULL);
}

/* metadata.resourceVersion of a JSON object, by span scanning */
static int rv_of(const char *s, size_t n, char *out, size_t outn) {
  size_t ms, me, vs, ve;
  if (!lb_json_member(s, n, 0, "metadata", &ms, &me) ||
      !lb_json_member(s, n, ms, "resourceVersion", &vs, &ve) || s[vs] != '"' ||
      ve - vs < 2 || ve - vs - 2 >= outn)
    return 0;
  memcpy(out, s + vs + 1, ve - vs - 2);
  out[ve - vs - 2] = '\0';
  return 1;
}

static void relist(struct lb_informer *inf) {
  inf->relists++;
  inf->rv[0] = '\0';
  free(inf->cont);
  inf->cont = NULL;
  inf->state = LB_INF_LISTING;
  list_page(inf);
}

static void on_timer(uv_timer_t *t) {
  struct lb_informer *inf = t->data;
  if (inf->closing)
    return;
  if (inf->state == LB_INF_BACKOFF)
    watch(inf);
  else
    list_page(inf); /* a failed list page is retried from scratch */
}

static void backoff(struct lb_informer *inf, int listing) {
  inf->backoff_ms = inf->backoff_ms ? inf->backoff_ms * 2 : BACKOFF_MIN;
  if (inf->backoff_ms > BACKOFF_MAX)
    inf->backoff_ms = BACKOFF_MAX;
  inf->state = listing ? LB_INF_LISTING : LB_INF_BACKOFF;
  uv_timer_start(&inf->timer, on_timer, (uint64_t)inf->backoff_ms, 0);
}

/* Inserts "apiVersion" and "kind" after the opening brace when absent
 * (list items omit them). Returns malloc'd text. */
static char *with_type(struct lb_informer *inf, const char *s, size_t n,
                       size_t *outlen) {
  size_t a, b;
  struct lb_buf buf = LB_BUF_INIT;
  size_t open = 0;
  while (open < n && s[open] != '{')
    open++;
  if (open >= n)
    return NULL;
  lb_buf_add(&buf, s, open + 1);
  if (!lb_json_member(s, n, open, "apiVersion", &a, &b)) {
    if (*inf->res->group)
      lb_buf_addf(&buf, "\"apiVersion\":\"%s/%s\",", inf->res->group,
                  inf->res->version);
    else
      lb_buf_addf(&buf, "\"apiVersion\":\"%s\",", inf->res->version);
  }
  if (!lb_json_member(s, n, open, "kind", &a, &b))
    lb_buf_addf(&buf, "\"kind\":\"%s\",", inf->res->kind);
  /* drop the comma we added if the object was empty */
  size_t rest = open + 1;
  while (rest < n && (s[rest] == ' ' || s[rest] == '\n'))
    rest++;
  if (rest < n && s[rest] == '}' && buf.len && buf.p[buf.len - 1] == ',')
    buf.len--;
  lb_buf_add(&buf, s + open + 1, n - open - 1);
  if (buf.err) {
    lb_buf_release(&buf);
    return NULL;
  }
  return lb_buf_detach(&buf, outlen);
}

static void on_list_done(void *ctx, struct lb_kube_result *res) {
  struct lb_informer *inf = ctx;
  size_t n = res->len, ms, me, is, ie, cs, ce, rs, re;
  const char *s = res->body;
  inf->req = NULL;
  if (inf->closing) {
    free(res->body);
    return;
  }
  if (res->status == 410) { /* expired continue token */
    free(res->body);
    lb_log("warn", "list continue expired; relisting", "resource=%s",
           inf->res->resource);
    relist(inf);
    return;
  }
  if (res->status != 200 || !s || !lb_json_member(s, n, 0, "items", &is, &ie) ||
      s[is] != '[') {
    lb_log("warn", "list failed", "resource=%s status=%d error=\"%s\"",
           inf->res->resource, res->status, res->curl_error);
    free(res->body);
    free(inf->cont);
    inf->cont = NULL;
    backoff(inf, 1);
    return;
  }
  if (!inf->cont && inf->sink.list_begin)
    inf->sink.list_begin(inf->sink.ctx, inf);
  /* items, raw */
  size_t i = is + 1;
  for (;;) {
    while (i < ie && (s[i] == ' ' || s[i] == '\n' || s[i] == ',' ||
                      s[i] == '\r' || s[i] == '\t'))
      i++;
    if (i >= ie || s[i] == ']')
      break;
    size_t end = lb_json_skip_value(s, i, ie);
    if (end > ie || end <= i)
      break;
    size_t len;
    char *item = with_type(inf, s + i, end - i, &len);
    if (item && inf->sink.item) {
      inf->events++;
      inf->sink.item(inf->sink.ctx, inf, LB_EV_LISTED, item, len);
    } else {
      free(item);
    }
    i = end;
  }
  /* metadata.continue and metadata.resourceVersion */
  free(inf->cont);
  inf->cont = NULL;
  if (lb_json_member(s, n, 0, "metadata", &ms, &me)) {
    if (lb_json_member(s, n, ms, "continue", &cs, &ce) && s[cs] == '"' &&
        ce - cs > 2)
      inf->cont = lb_strndup(s + cs + 1, ce - cs - 2);
    if (lb_json_member(s, n, ms, "resourceVersion", &rs, &re) && s[rs] == '"' &&
        re - rs - 2 < sizeof inf->rv) {
      memcpy(inf->rv, s + rs + 1, re - rs - 2);
      inf->rv[re - rs - 2] = '\0';
    }
  }
  free(res->body);
  if (inf->cont) {
    list_page(inf);
    return;
  }
  inf->synced = 1;
  inf->backoff_ms = 0;
  if (inf->sink.list_end)
    inf->sink.list_end(inf->sink.ctx, inf);
  watch(inf);
}

static void list_page(struct lb_informer *inf) {
  char q[1200];
  char *path;
  if (inf->cont)
    snprintf(q, sizeof q, "limit=%d&continue=%s", PAGE, inf->cont);
  else
    snprintf(q, sizeof q, "limit=%d", PAGE);
  inf->state = LB_INF_LISTING;
  path = path_of(inf, q);
  if (!path || lb_kube_request(inf->k, "GET", path, NULL, NULL, on_list_done,
                               inf, &inf->req)) {
    free(path);
    backoff(inf, 1);
    return;
  }
  free(path);
}

static int on_watch_event(void *ctx, int type, char *obj, size_t len) {
  struct lb_informer *inf = ctx;
  char rv[64];
  if (type == LB_W_ERROR) {
    /* a Status; 410 means our resourceVersion is too old */
    int gone = strstr(obj, "\"code\":410") != NULL;
    lb_log("warn", "watch error event", "resource=%s gone=%d",
           inf->res->resource, gone);
    free(obj);
    return gone ? LB_EGONE : LB_EIO;
  }
  if (rv_of(obj, len, rv, sizeof rv))
    lb_strlcpy(inf->rv, rv, sizeof inf->rv);
  if (type == LB_W_BOOKMARK) {
    free(obj);
    return 0;
  }
  inf->backoff_ms = 0; /* the watch is healthy */
  inf->events++;
  int evtype = type == LB_W_ADDED      ? LB_EV_ADDED
               : type == LB_W_MODIFIED ? LB_EV_MODIFIED
                                       : LB_EV_DELETED;
  if (inf->sink.item)
    inf->sink.item(inf->sink.ctx, inf, evtype, obj, len);
  else
    free(obj);
  return 0;
}

static int on_watch_data(void *ctx, const char *data, size_t n) {
  struct lb_informer *inf = ctx;
  return lb_watchparse_feed(&inf->wp, data, n);
}

static void on_watch_done(void *ctx, struct lb_kube_result *res) {
  struct lb_informer *inf = ctx;
  int perr = inf->wp.err;
  int tail = lb_watchparse_finish(&inf->wp);
  inf->req = NULL;
  free(res->body);
  lb_watchparse_release(&inf->wp);
  if (inf->closing)
    return;
  inf->restarts++;
  if (res->status == 410 || perr == LB_EGONE) {
    relist(inf);
    return;
  }
  if (res->status == 200 && !perr && !tail) {
    watch(inf); /* server-side timeout: resume at once */
    return;
  }
  lb_log("warn", "watch ended", "resource=%s status=%d error=\"%s\" parse=%s",
         inf->res->resource, res->status, res->curl_error,
         perr   ? lb_err_name(perr)
         : tail ? "cut mid-line"
                : "ok");
  backoff(inf, 0);
}

static void watch(struct lb_informer *inf) {
  char q[256];
  char *path;
  snprintf(q, sizeof q,
           "watch=1&allowWatchBookmarks=true&timeoutSeconds=60&"
           "resourceVersion=%s",
           inf->rv);
  inf->state = LB_INF_WATCHING;
  assert_state(inf);
  lb_watchparse_init(&inf->wp, on_watch_event, inf);
  path = path_of(inf, q);
  if (!path || lb_kube_stream(inf->k, path, on_watch_data, on_watch_done, inf,
                              &inf->req)) {
    free(path);
    lb_watchparse_release(&inf->wp);
    backoff(inf, 0);
    return;
  }
  free(path);
}

int lb_informer_init(struct lb_informer *inf, uv_loop_t *loop,
                     struct lb_kube *k, const struct lb_resource *res,
                     const struct lb_informer_sink *sink) {
  memset(inf, 0, sizeof *inf);
  inf->k = k;
  inf->res = res;
  inf->sink = *sink;
  uv_timer_init(loop, &inf->timer);
  inf->timer.data = inf;
  return 0;
}

void lb_informer_start(struct lb_informer *inf) { relist(inf); }

static void timer_closed(uv_handle_t *h) {
  struct lb_informer *inf = h->data;
  inf->state = LB_INF_STOPPED;
  free(inf->cont);
  inf->cont = NULL;
  if (inf->on_closed)
    inf->on_closed(inf);
}

void lb_informer_close(struct lb_informer *inf,
                       void (*on_closed)(struct lb_informer *inf)) {
  inf->closing = 1;
  inf->on_closed = on_closed;
  if (inf->req)
    lb_kube_cancel(inf->req);
  uv_close((uv_handle_t *)&inf->timer, timer_closed);
}
