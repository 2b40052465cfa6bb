/* informer.h — list + watch of one resource against the kube-apiserver.
 *
 *            start
 *              │
 *              ▼          page done, continue token
 *   ┌──────► LISTING ─────────────────────────┐ (next page)
 *   │          │ last page: list_end(rv)      │
 *   │          ▼                              │
 *   │      WATCHING ──event──► sink, rv = event rv (BOOKMARK: rv only)
 *   │          │ stream ends: timeout/EOF/cut/5xx/transport
 *   │          ▼
 *   │      BACKOFF (0.5 s doubling to 30 s, reset by a healthy watch)
 *   │          │ timer ──► WATCHING from rv
 *   └── 410 Gone (ERROR event or HTTP 410, or expired continue) ─ relist
 *
 *   | transition            | function        | invariant                  |
 *   | start -> LISTING      | lb_informer_start / list_page | rv cleared   |
 *   | LISTING -> WATCHING   | on_list_done    | list_end delivered         |
 *   | WATCHING -> BACKOFF   | on_watch_done   | restarts++                 |
 *   | any -> LISTING        | relist()        | relists++                  |
 *
 * The sink receives list items (type LB_EV_LISTED; apiVersion/kind are
 * inserted into an item that lacks them), the end of a list snapshot, and
 * watch events (LB_EV_ADDED/MODIFIED/DELETED) with the object's raw bytes.
 */
#ifndef LB_INFORMER_H
#define LB_INFORMER_H

#include <stdint.h>
#include <uv.h>

#include "kube.h"
#include "resources.h"
#include "watchparse.h"

struct lb_informer;

struct lb_informer_sink {
  /* body malloc'd, callee owns */
  void (*item)(void *ctx, struct lb_informer *inf, int type, char *body,
               size_t len);
  void (*list_begin)(void *ctx, struct lb_informer *inf);
  void (*list_end)(void *ctx, struct lb_informer *inf);
  void *ctx;
};

enum {
  LB_INF_IDLE = 0,
  LB_INF_LISTING,
  LB_INF_WATCHING,
  LB_INF_BACKOFF,
  LB_INF_STOPPED
};

struct lb_informer {
  struct lb_kube *k;
  const struct lb_resource *res;
  struct lb_informer_sink sink;
  int state;
  char rv[64];
  char *cont;              /* continue token of the list in progress */
  struct lb_kube_req *req; /* list page or watch in flight */
  struct lb_watchparse wp;
  uv_timer_t timer;
  int backoff_ms;
  int64_t relists, restarts, events;
  int synced; /* a full list has been delivered */
  int closing;
  void (*on_closed)(struct lb_informer *inf);
};

int lb_informer_init(struct lb_informer *inf, uv_loop_t *loop,
                     struct lb_kube *k, const struct lb_resource *res,
                     const struct lb_informer_sink *sink);
void lb_informer_start(struct lb_informer *inf);
/* Stops; on_closed runs when the timer handle is closed. */
void lb_informer_close(struct lb_informer *inf,
                       void (*on_closed)(struct lb_informer *inf));

#endif
