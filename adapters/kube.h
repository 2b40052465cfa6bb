/* kube.h — the kube-apiserver HTTP client: libcurl multi driven by one
 * libuv loop, TLS verified against the configured CA, bearer token or
 * client certificate, a client-side token bucket (QPS/burst) in front of
 * every non-streaming request.
 *
 * Request lifecycle:
 *
 *   lb_kube_request ──► QUEUED ──token──► RUNNING ──curl done──► DONE (cb)
 *                          │ (bucket empty: uv timer)     │
 *                          └──── lb_kube_close ──► cancelled (cb with
 *                                                  status 0, LB_EAGAIN)
 *
 * Streams (watches) skip the bucket's queue after one token, deliver body
 * bytes as they arrive, and end with the same done callback; a stream that
 * stays silent for LB_WATCH_STALL_SECONDS (env, default 75) is cut. Callbacks
 * run on the loop thread. Handles are owned by the client; a request handle is
 * valid until its done callback returns.
 */
#ifndef LB_KUBE_H
#define LB_KUBE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "kubeconfig.h"

struct lb_kube_opts {
  double qps;              /* token refill per second (30) */
  int burst;               /* bucket size (50) */
  long connect_timeout_ms; /* (5000) */
  long request_timeout_ms; /* non-streaming requests (30000) */
};
#define LB_KUBE_OPTS_INIT                                                      \
  { 30.0, 50, 5000, 30000 }

struct lb_kube;
struct lb_kube_req;

/* Result of one request. body is malloc'd (the callback owns it) and may be
 * NULL; status 0 = transport failure (curl_error says why). */
struct lb_kube_result {
  int status;
  char *body;
  size_t len;
  int64_t retry_after_ms; /* from Retry-After, or -1 */
  const char *curl_error; /* borrowed; "" when none */
};
typedef void (*lb_kube_done_cb)(void *ctx, struct lb_kube_result *res);
/* Streaming data; return non-zero to abort the transfer. */
typedef int (*lb_kube_data_cb)(void *ctx, const char *data, size_t n);

int lb_kube_new(uv_loop_t *loop, const struct lb_kubeconfig *cfg,
                const struct lb_kube_opts *o, struct lb_kube **out);
/* Cancels everything (done callbacks run with status 0) and frees the
 * client once libuv handles are closed; the loop must run until then. */
void lb_kube_close(struct lb_kube *k);

/* method "GET" "POST" "PUT" "PATCH" "DELETE"; path starts with "/";
 * content_type may be NULL (JSON); body may be NULL (copied). */
int lb_kube_request(struct lb_kube *k, const char *method, const char *path,
                    const char *content_type, const char *body,
                    lb_kube_done_cb done, void *ctx, struct lb_kube_req **h);
/* A long-lived GET (watch): data as it arrives, then done. */
int lb_kube_stream(struct lb_kube *k, const char *path, lb_kube_data_cb data,
                   lb_kube_done_cb done, void *ctx, struct lb_kube_req **h);
/* Aborts a request or stream; its done callback runs (status 0). */
void lb_kube_cancel(struct lb_kube_req *r);

/* Counters for /metrics. */
struct lb_kube_stats {
  int64_t requests, throttled, transport_errors;
  int64_t connects;    /* new connections (TCP + TLS handshake) opened */
  int64_t by_class[6]; /* status/100: [0]=transport, [2]=2xx ... [5]=5xx */
};
void lb_kube_stats(const struct lb_kube *k, struct lb_kube_stats *out);
/* Requests waiting for a token of the rate limiter (not yet sent). */
size_t lb_kube_queued(const struct lb_kube *k);

/* Path of a resource: "/api/v1/namespaces/NS/pods[/NAME][/SUB]" or
 * "/apis/GROUP/VERSION/...". ns "" = cluster-wide. Returns malloc'd. */
char *lb_kube_path(const char *group, const char *version, const char *resource,
                   const char *ns, const char *name, const char *sub);

#endif
