/* admreview.h — AdmissionReview request decoding: HTTP body -> REVIEW event.
 *
 * Pure (json-c, xxHash, libc; no I/O, no clock), so it runs on the webhook
 * server's I/O thread, in unit tests and under libFuzzer
 * (tests/fuzz/fuzz_admission.c). It implements the event half of the
 * contract in engine/admission.h:
 *
 *   body ──json-c parse──► well-formed AdmissionReview? ──no──► LB_EPARSE /
 *                                │ yes                          LB_EINVAL +
 *                                ▼                              reason (400)
 *   copy review bytes, for every request.object / request.oldObject:
 *     - drop metadata.managedFields (byte-exact, every duplicate)
 *     - Secret (request.kind or the object's own kind): every value of
 *       data / stringData -> "xxh3:<16 hex>" of the decoded string
 *   ──► {"path":P,"review":<edited bytes>} ──lb_event_prepare──► event
 *
 * A well-formed AdmissionReview here: one JSON object (trailing whitespace
 * only), "kind":"AdmissionReview", "apiVersion" admission.k8s.io/v1 or
 * admission.k8s.io/v1beta1, "request" an object with a non-empty string
 * "uid" (at most 128 bytes), "kind" an object whose "kind" is a non-empty
 * string, and "operation" one of CREATE, UPDATE, DELETE, CONNECT. Nothing
 * else is checked: the verdict (engine/admission.c) reads the rest.
 * Every other byte of the review is kept as received.
 */
#ifndef LB_ADMREVIEW_H
#define LB_ADMREVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/event.h"

/* What the server needs to know about a decoded request (copied strings,
 * NUL-terminated, truncated to the array size). */
struct lb_admreview_info {
  char uid[129];        /* request.uid */
  char api_version[32]; /* "admission.k8s.io/v1" or ".../v1beta1" */
  char operation[16];   /* CREATE | UPDATE | DELETE | CONNECT */
  int secret;           /* 1 when Secret values were redacted */
};

/* Builds the event body {"path":path,"review":...} from an HTTP body of len
 * bytes (need not be NUL-terminated). On success *out (malloc'd, caller
 * frees) and *out_len are set and info is filled. Errors: LB_EPARSE (not
 * JSON), LB_EINVAL (JSON but not a well-formed AdmissionReview), LB_ENOMEM;
 * then why (>= 1 byte) holds a sentence for the 400 response. */
int lb_admreview_transform(const char *path, const char *body, size_t len,
                           char **out, size_t *out_len,
                           struct lb_admreview_info *info, char *why,
                           size_t why_len);

/* transform + the event of engine/admission.h: source admission, type
 * REVIEW, identity from request.kind / namespace / name, uid = request.uid,
 * rv "", at_ms as given; prepared (hash set). ev must be initialised; on
 * error it is released. Same errors as lb_admreview_transform. */
int lb_admreview_event(const char *path, const char *body, size_t len,
                       int64_t at_ms, struct lb_event *ev,
                       struct lb_admreview_info *info, char *why,
                       size_t why_len);

/* xxh3-64 redaction of one value: writes "xxh3:<16 lowercase hex>" into
 * out (>= 22 bytes). */
void lb_admreview_redact(const char *value, size_t len, char out[22]);

#endif
