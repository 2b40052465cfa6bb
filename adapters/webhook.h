/* webhook.h — the admission webhook HTTPS server of `logbook manager`.
 *
 * Why a thread. TLS handshakes (an ECDSA signature each, more for RSA
 * clients), record decryption, HTTP parsing and AdmissionReview decoding
 * (two json-c passes over up to a few MiB) are CPU work proportional to the
 * traffic. On the reducer loop they would delay watch events, outcomes and
 * commits by the cost of every handshake in a burst. So the server runs on
 * a dedicated I/O thread with its own libuv loop; OpenSSL is driven through
 * memory BIOs (libuv owns the sockets). The I/O thread hands each decoded,
 * prepared REVIEW event to the main loop (mutex-protected inbox +
 * uv_async); the main loop journals it through the runner, the commit
 * releases the RESPOND action to lb_webhook_respond(), which queues the
 * answer for the I/O thread (outbox + uv_async). The main loop never
 * touches a socket or TLS state; the I/O thread never touches the runner,
 * the engine or the journal.
 *
 *   I/O thread                               main loop (reducers)
 *   accept, TLS, HTTP, decode (admreview.h)
 *     ── req{event} ──inbox──uv_async──►     sink: lb_runner_push (event,
 *                                            decision); pending[uid] = req
 *                                            check phase: lb_runner_flush
 *                                            (commit) ──► runner->respond
 *     ◄──outbox──uv_async── req{verdict} ──  lb_webhook_respond(action)
 *   write HTTP 200 + AdmissionReview
 *
 * Connection state machine (I/O thread; assert_conn() checks the
 * invariants in debug builds):
 *
 *   accept ──► HANDSHAKE ──handshake done──► READING ──full request──►
 *                  │                          ▲   │          DISPATCHED
 *                  │ TLS error, timeout       │   │ bad request:   │
 *                  ▼                          │   │ 400/404/405/   │ verdict
 *   CLOSED ◄──── CLOSING ◄── timeout, EOF, ───┘   │ 411/413/431    │ (outbox)
 *   (freed when  (uv_close;  Connection: close,   │ + reason       │ or 503
 *   no request   lingering   closing response     ▼                ▼ timeout
 *   of it is on  for 2 s     written ──────── response written (keep-alive:
 *   the main     after a                      READING again, next request)
 *   loop)        response)
 *
 *   | transition            | function        | invariant after              |
 *   | accept -> HANDSHAKE   | on_connection   | ssl, rbio/wbio set, deadline |
 *   | HANDSHAKE -> READING  | drive_tls       | SSL_is_init_finished         |
 *   | READING -> DISPATCHED | dispatch        | one req of serial s in main  |
 *   | DISPATCHED -> READING | on_io_async /   | response written; serial     |
 *   |                       | sweep (timeout) | bumped (a late verdict for   |
 *   |                       |                 | it is dropped)               |
 *   | response -> linger    | linger (after a | FIN sent, input discarded,   |
 *   |   (Connection: close) |  closing write) | closed at EOF or in 2 s      |
 *   | * -> CLOSING          | conn_close      | tcp closing, no more writes  |
 *   | CLOSING -> CLOSED     | on_conn_closed  | freed when refs == 0         |
 *
 * Limits (struct lb_webhook_opts): request head 16 KiB (431); body
 * max_body (413; default 4 MiB: an UPDATE review carries object and
 * oldObject, each up to etcd's 1.5 MiB); no Content-Length 411; chunked
 * 501; the whole request must arrive within read_timeout_ms of its first
 * byte (and the handshake within the same time) else the connection is
 * closed; a request without a verdict after verdict_timeout_ms gets 503;
 * idle keep-alive connections close after idle_timeout_ms; at most
 * max_conns connections (more are closed at accept). Malformed JSON, a
 * body that is not an AdmissionReview, a missing request.uid -> 400 with
 * the reason as text/plain; those never become events.
 *
 * Time: the event's at_ms is stamped on the main loop when it is pushed
 * (microseconds after the request was read), like every other event's, so
 * at_ms follows journal order.
 *
 * Matching: a verdict answers the oldest pending request with its uid
 * (request.uid) whose connection is still there; a connection that went
 * away makes its verdict a no-op. A request whose event the engine folded
 * without a RESPOND action gets 500 at once (the engine broke its
 * contract); a request the runner could not journal gets 503.
 */
#ifndef LB_WEBHOOK_H
#define LB_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../engine/decision.h"
#include "../engine/event.h"
#include "../engine/util.h"

/* The webhook paths the server accepts (POST) — the one list that the
 * configurations (webhookcfg.c), the policies (engine/admission*.c read
 * the event body's "path") and the metrics share. Inventory of
 * kruise-spec §0.3:
 *   name          path                                              ops
 *   mpod          /mutate-pod                     pods CREATE
 *   vpod          /validate-pod                   pods UPDATE, DELETE
 *   vpodeviction  /validate-pod-eviction          pods/eviction CREATE
 *   mcloneset     /mutate-apps-kruise-io-v1alpha1-cloneset    CREATE, UPDATE
 *   vcloneset     /validate-apps-kruise-io-v1alpha1-cloneset  CREATE, UPDATE,
 *                                                             DELETE
 *   vpub          /validate-policy-kruise-io-v1alpha1-podunavailablebudget
 *                                                 CREATE, UPDATE
 *   vbuiltin      /validate-builtin-deletion-protection   DELETE of
 *                 deployments, replicasets, statefulsets (apps),
 *                 namespaces, services, customresourcedefinitions,
 *                 ingresses — objectSelector: policy.kruise.io/
 *                 delete-protection exists */
#define LB_WEBHOOK_PATHS(X)                                                    \
  X(MPOD, "mpod", "/mutate-pod")                                               \
  X(VPOD, "vpod", "/validate-pod")                                             \
  X(VPODEVICTION, "vpodeviction", "/validate-pod-eviction")                    \
  X(MCLONESET, "mcloneset", "/mutate-apps-kruise-io-v1alpha1-cloneset")        \
  X(VCLONESET, "vcloneset", "/validate-apps-kruise-io-v1alpha1-cloneset")      \
  X(VPUB, "vpub", "/validate-policy-kruise-io-v1alpha1-podunavailablebudget")  \
  X(VBUILTIN, "vbuiltin", "/validate-builtin-deletion-protection")

enum lb_webhook_path {
#define X(e, name, path) LB_WH_##e,
  LB_WEBHOOK_PATHS(X)
#undef X
      LB_WH__N
};
/* Index of an exact path (query string excluded), or -1. */
int lb_webhook_path_index(const char *path, size_t len);
const char *lb_webhook_path_of(int idx); /* "/mutate-pod" */
const char *lb_webhook_name_of(int idx); /* "mpod" */

struct lb_webhook_opts {
  const char *host;       /* listen address ("0.0.0.0") */
  int port;               /* 0 = any free port (tests; lb_webhook_port) */
  const char *cert_file;  /* serving certificate chain, PEM */
  const char *key_file;   /* its private key, PEM */
  size_t max_body;        /* (4 MiB) */
  int read_timeout_ms;    /* handshake / whole request (10000) */
  int verdict_timeout_ms; /* request in the pipeline (10000) */
  int idle_timeout_ms;    /* keep-alive idle (120000) */
  int max_conns;          /* (1024) */
};
void lb_webhook_opts_init(struct lb_webhook_opts *o);

struct lb_webhook;
struct lb_webhook_req; /* one request on its way through the main loop */

/* Called on the main loop for each well-formed request: ev is prepared
 * (engine/admission.h); the sink takes its contents (lb_runner_push does)
 * and must eventually pass req to lb_webhook_pending (then the verdict
 * comes through lb_webhook_respond) or to lb_webhook_fail. */
typedef void (*lb_webhook_sink)(void *ctx, struct lb_webhook_req *req,
                                struct lb_event *ev);

/* Binds, listens and starts the I/O thread. main_loop is the loop the sink
 * runs on. Returns 0, LB_EIO (bind/listen; *err says why), LB_EINVAL
 * (certificate or key unusable; *err says why), LB_ENOMEM. *err is
 * malloc'd (caller frees) or NULL. */
int lb_webhook_start(uv_loop_t *main_loop, const struct lb_webhook_opts *o,
                     lb_webhook_sink sink, void *ctx, struct lb_webhook **out,
                     char **err);
int lb_webhook_port(const struct lb_webhook *wh); /* the bound port */
/* Main loop. The I/O thread re-reads the cert_file / key_file given at
 * start (copied there): new connections present the new
 * certificate, open ones keep theirs; an unusable pair is logged and the
 * old one kept (metric logbook_webhook_cert_reloads_total). */
void lb_webhook_reload(struct lb_webhook *wh);

/* Main loop. The uid of a request (request.uid). */
const char *lb_webhook_req_uid(const struct lb_webhook_req *req);
/* Main loop. Registers req as waiting for the RESPOND with its uid. */
int lb_webhook_pending(struct lb_webhook *wh, struct lb_webhook_req *req);
/* Main loop. Answers req with an HTTP error (status, text reason) now. */
void lb_webhook_fail(struct lb_webhook *wh, struct lb_webhook_req *req,
                     int status, const char *reason);
/* Main loop. A committed RESPOND action: its body goes to the oldest
 * pending request with uid a->name; nothing pending -> dropped (counted).
 * Signature fits struct lb_runner's respond hook. */
void lb_webhook_respond(void *wh, const struct lb_action *a);

/* The usual wiring (manager, bench): the sink pushes each event through
 * the runner, which journals it and folds it; a request whose fold held no
 * RESPOND for its uid gets 500, one the runner refused gets 503 and
 * on_fail(ctx, rc) is called (the runner is FAILED; the caller stops).
 * Sets r->respond. Call before requests arrive. */
struct lb_runner;
void lb_webhook_attach(struct lb_webhook *wh, struct lb_runner *r,
                       void (*on_fail)(void *ctx, int rc), void *ctx);

/* Main loop. Prometheus text: requests by webhook and verdict, latency
 * histogram (request fully read -> response handed to the socket), HTTP
 * errors by status, open connections. */
void lb_webhook_metrics(struct lb_webhook *wh, struct lb_buf *b);

/* Main loop. Stops the I/O thread (joins it), answers nothing more, frees
 * every request and connection; closes the loop's async handle and frees
 * wh in its close callback (run the main loop afterwards). NULL is fine. */
void lb_webhook_stop(struct lb_webhook *wh);

#endif
