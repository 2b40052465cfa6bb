/* fastdecode.h — the compact object and the event identity straight from
 * the JSON text, without building a json-c tree.
 *
 * The fast path for the hot kinds (Pod; and any object whose kind is not
 * modelled). json-c + lb_obj_decode() stay the reference decoder: the fast
 * path either produces exactly what the reference would, or it declines
 * and the caller runs the reference. It declines whenever the text is not
 * plain strict JSON (RFC 8259) or holds something it does not model:
 *
 *   - any syntax json-c accepts as an extension (comments, single quotes,
 *     trailing commas, NaN, leading zeros, raw control characters, ...),
 *     and any malformed input: the reference then reports the error;
 *   - nesting deeper than LB_FD_MAX_DEPTH (json-c refuses > 32), texts
 *     over LB_FD_MAX_BYTES;
 *   - an escape in an object key (allowed only inside metadata.managedFields,
 *     which is never read: lb_event_prepare hands over the body before
 *     stripping it), \u0000, an unpaired surrogate;
 *   - a number with an exponent, an integer of more than 18 digits, a
 *     number literal longer than 40 bytes (json-c's int64/uint64/strtod
 *     corners);
 *   - a top-level value that is not an object, trailing bytes other than
 *     whitespace;
 *   - a modelled kind other than Pod (CloneSet, ControllerRevision, PVC,
 *     and kinds added later), or a Pod the reference would refuse
 *     (LB_EPARSE: the reference then produces the message).
 *
 * Equivalence with the reference is tested by tests/test_fastdecode.c
 * (differential, generated and hand-written bodies) and fuzzed by
 * tests/fuzz/fuzz_fastdecode.c (`make fuzz FUZZ_TARGETS=fastdecode`).
 * Pure: no I/O, no global state; besides the results it allocates one
 * array of 4 bytes per input byte for the duration of the call (the end
 * of every object and array, so that extraction never rescans).
 */
#ifndef LB_FASTDECODE_H
#define LB_FASTDECODE_H

#include <stddef.h>

struct lb_obj;

#define LB_FD_MAX_DEPTH 24                /* deeper documents are declined */
#define LB_FD_MAX_BYTES ((size_t)1 << 26) /* larger ones too (64 MiB) */
#define LB_FD_DECLINED 1 /* positive: not handled; run the reference */

/* What lb_event_prepare reads from the top level: each member is a
 * malloc'd copy (caller frees), NULL when absent or not a string, exactly
 * as json-c's string getters would see them. */
struct lb_fd_ident {
  char *api_version; /* apiVersion */
  char *kind;        /* kind */
  char *ns;          /* metadata.namespace */
  char *name;        /* metadata.name */
  char *uid;         /* metadata.uid */
  char *rv;          /* metadata.resourceVersion */
};
void lb_fd_ident_release(struct lb_fd_ident *id);

/* Decodes s[0..n) (need not be NUL-terminated; never read past n).
 * `id` (may be NULL) receives the identity; with `obj` non-NULL the
 * compact object is decoded into *obj (NULL when there is no apiVersion
 * and kind, or the kind is not modelled), as lb_obj_decode() would.
 * Returns 0, LB_FD_DECLINED (nothing is returned: *obj NULL, id zeroed)
 * or LB_ENOMEM. */
int lb_fastdecode(const char *s, size_t n, struct lb_fd_ident *id,
                  struct lb_obj **obj);

#endif
