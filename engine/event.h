/* event.h — the event model: everything that can influence a decision.
 *
 * An event is an envelope (source, type, object identity, resourceVersion,
 * the time it was recorded) plus the raw JSON body exactly as received, minus
 * metadata.managedFields. The journal stores events in `seq` order; the engine
 * folds them one at a time. `at_ms` is the only clock a reducer ever sees.
 *
 * Sources (this X-macro list is the one definition; the journal stores the
 * names as text):
 *   watch      a watch event from the cluster (ADDED / MODIFIED / DELETED)
 *   list       one item of a list snapshot (LISTED), or the end marker of
 *              a snapshot (LIST_END, body = {"kind":K,"names":[...]})
 *   admission  an admission request (issue 5)
 *   outcome    the result of one action: action_id, http_status, body = the
 *              object the server returned, or a Status document on error
 *   cri        a CRI result from the node daemon (later issues)
 *   tick       a timer firing: no body; at_ms is the time
 *   cli        an operator command recorded for audit
 */
#ifndef LB_EVENT_H
#define LB_EVENT_H

#include <stddef.h>
#include <stdint.h>

#define LB_SOURCES(X)                                                          \
  X(WATCH, "watch")                                                            \
  X(LIST, "list")                                                              \
  X(ADMISSION, "admission")                                                    \
  X(OUTCOME, "outcome")                                                        \
  X(CRI, "cri")                                                                \
  X(TICK, "tick")                                                              \
  X(CLI, "cli")

enum lb_source {
  LB_SRC_NONE = 0,
#define X(e, s) LB_SRC_##e,
  LB_SOURCES(X)
#undef X
};

#define LB_EVTYPES(X)                                                          \
  X(ADDED, "ADDED")                                                            \
  X(MODIFIED, "MODIFIED")                                                      \
  X(DELETED, "DELETED")                                                        \
  X(LISTED, "LISTED")                                                          \
  X(LIST_END, "LIST_END")                                                      \
  X(TICK, "TICK")                                                              \
  X(OUTCOME, "OUTCOME")                                                        \
  X(RETRY, "RETRY") /* an attempt that will be retried: journaled, not folded  \
                     */                                                        \
  X(REVIEW, "REVIEW") /* admission request (engine/admission.h) */

enum lb_evtype {
  LB_EV_NONE = 0,
#define X(e, s) LB_EV_##e,
  LB_EVTYPES(X)
#undef X
};

const char *lb_source_name(int source); /* "watch"; "?" if unknown */
int lb_source_parse(const char *s);     /* LB_SRC_*, or 0 */
const char *lb_evtype_name(int type);   /* "ADDED"; "?" if unknown */
int lb_evtype_parse(const char *s);     /* LB_EV_*, or 0 */

/* One event. Strings are owned by the event (lb_event_release frees them);
 * empty fields are "" never NULL after lb_event_prepare(). */
struct lb_event {
  int64_t seq;        /* journal sequence, assigned at append; 0 before */
  int64_t at_ms;      /* recorded time, ms since the epoch (sim: virtual) */
  int source;         /* enum lb_source */
  int type;           /* enum lb_evtype */
  char *api_group;    /* "" for the core group, "apps.kruise.io", ... */
  char *kind;         /* "Pod", "CloneSet", ... */
  char *ns;           /* namespace, "" for cluster-scoped */
  char *name;         /* object name */
  char *uid;          /* metadata.uid */
  char *rv;           /* metadata.resourceVersion */
  int64_t action_id;  /* outcome: the action answered; else 0 */
  int http_status;    /* outcome: HTTP status (0 = transport error) */
  char *body;         /* JSON bytes (managedFields stripped); may be NULL */
  size_t body_len;    /* bytes in body */
  uint64_t hash;      /* lb_event_hash() of the above, set by prepare */
  struct lb_obj *obj; /* decoded compact object (engine-owned cache); NULL
                         until decoded; freed by lb_event_release */
};

void lb_event_init(struct lb_event *ev);
void lb_event_release(struct lb_event *ev);

/* Takes ownership of `body` (malloc'd, len bytes, need not be
 * NUL-terminated; a NUL is added). Strips metadata.managedFields, parses the
 * body once, fills the identity fields that are still NULL from
 * metadata (and apiVersion/kind), decodes the compact object into ev->obj and
 * computes ev->hash. `source`, `type`, `at_ms` (and for outcomes `action_id`,
 * `http_status`, and the target identity) must be set by the caller first.
 * Returns 0, LB_EPARSE (body is not valid JSON: the event is left unusable,
 * body freed) or LB_ENOMEM. A body that is valid JSON but not an object we
 * model is fine: ev->obj stays NULL. */
int lb_event_prepare(struct lb_event *ev, char *body, size_t len);
/* The same through json-c only (the reference the fast path of
 * engine/fastdecode.c is tested against); for tests and benchmarks. */
int lb__event_prepare_reference(struct lb_event *ev, char *body, size_t len);

/* Sets a string field (copy); returns 0 or LB_ENOMEM. */
int lb_event_set(char **field, const char *value);

/* xxh3-64 of the canonical envelope and the body. Stored with the event in
 * the journal and checked by `logbook journal check`. */
uint64_t lb_event_hash(const struct lb_event *ev);

/* Removes every `"managedFields": <value>` member found directly inside the
 * top-level "metadata" object, in place, byte-exactly (all other bytes keep
 * their order and spelling). Returns the new length. Input that is not a
 * well-formed JSON object is returned unchanged. */
size_t lb_json_strip_managed_fields(char *json, size_t len);

/* Minimal span scanning over JSON text (no allocation, never reads past
 * n). lb_json_skip_value returns the index just after the value starting
 * at or after i (n on malformed input). lb_json_member finds `key` among
 * the members of the object starting at `obj` and sets [*vstart, *vend) to
 * its value; returns 1 when found. */
size_t lb_json_skip_value(const char *s, size_t i, size_t n);
int lb_json_member(const char *s, size_t n, size_t obj, const char *key,
                   size_t *vstart, size_t *vend);

#endif
