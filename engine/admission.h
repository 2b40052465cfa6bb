/* admission.h — admission requests as events, verdicts as decisions.
 *
 * The contract between the webhook server (adapters/webhook.c) and the
 * engine. Nothing here does I/O.
 *
 *   apiserver ──HTTPS──► webhook server ──► event (source admission,
 *                        (adapters/)          type REVIEW) ──► JOURNAL
 *                              ▲                                  │
 *                              │                                  ▼
 *            HTTP 200 + AdmissionReview ◄── RESPOND action ◄── engine:
 *            (after the commit that        of the verdict lb_admission_review
 *             holds the verdict)           decision            (pure,
 * state-aware)
 *
 * The event. source = LB_SRC_ADMISSION, type = LB_EV_REVIEW; api_group,
 * kind, ns, name = the object under review (request.kind, namespace,
 * name; for CREATE with generateName the name is ""); uid = request.uid;
 * rv = ""; at_ms = when the request was received (the only clock the
 * verdict sees, e.g. for PUB disruptedPods timestamps). body =
 *
 *   {"path":"/validate-pod","review":<the AdmissionReview as received>}
 *
 * with, inside review.request.object / oldObject, metadata.managedFields
 * removed and, for Secrets, every value of data / stringData replaced by
 * "xxh3:<16 hex>" (Secret contents never reach the journal). "path" is the
 * URL path the apiserver called: it selects the webhook.
 *
 * The decision. reducer "admission", kind/ns/name = the object under
 * review, reason = the verdict in words (for a denial: the rule, the field
 * path and how to fix it, with the numbers that decided). Its first action
 * is always RESPOND: group "admission.k8s.io", kind "AdmissionReview",
 * ns "", name = request uid, body = the complete AdmissionReview response
 * to write, in the apiVersion the request used (v1 or v1beta1):
 *
 *   {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",
 *    "response":{"uid":"…","allowed":false,
 *                "status":{"code":403,"reason":"Forbidden","message":"…"}}}
 *
 * (mutating: "patchType":"JSONPatch","patch":"<base64 of a JSON Patch>").
 * Further actions may follow (e.g. a PUB status patch recording the
 * disruption that was just allowed); those are ordinary actions.
 *
 * RESPOND actions are never in flight and get no outcome event: the
 * runner hands them to the responder after the commit (write-ahead: the
 * verdict is durable before the apiserver hears it). A request that is not
 * a well-formed AdmissionReview never becomes an event: the server answers
 * 400 itself.
 *
 * Replay re-derives every verdict from the same events and state, so the
 * verdict decisions are part of the verified hash chain.
 */
#ifndef LB_ADMISSION_H
#define LB_ADMISSION_H

#include "decision.h"
#include "event.h"

struct lb_engine;

/* Folds one REVIEW event: computes the verdict from the engine state and
 * appends exactly one sealed decision to out (also for a body the engine
 * cannot read: then the verdict is a denial that says so — the server
 * answered 400 for anything it could not parse, so this is defensive).
 * Called by lb_engine_apply; returns 0 or LB_ENOMEM. */
int lb_admission_review(struct lb_engine *e, struct lb_event *ev,
                        struct lb_decisions *out);

#endif
