/* admtest.h — helpers shared by test_admission.c and test_pub.c: an engine
 * fed with watch events and admission reviews (as the webhook server will
 * journal them, admission.h), the parsed AdmissionReview response, and a
 * small JSON Patch applier to check that mutations decode and apply. */
#ifndef LB_ADMTEST_H
#define LB_ADMTEST_H

#include <stdint.h>

#include "../engine/decision.h"
#include "../engine/engine.h"

struct adm {
  struct lb_engine *e;
  struct lb_decisions ds;
  int64_t seq;
  int rv; /* resourceVersion counter for objects built by tests */
};
void adm_init(struct adm *h, const struct lb_engine_opts *opts);
void adm_free(struct adm *h);
/* A watch event (ADDED/MODIFIED: upsert; DELETED) with body; returns the
 * index of its first decision. */
size_t adm_watch(struct adm *h, int64_t at, int type, const char *body);
size_t adm_tick(struct adm *h, int64_t at);
/* The 2xx outcome of action a (body may be NULL). */
size_t adm_answer(struct adm *h, int64_t at, const struct lb_action *a,
                  const char *body);

/* One admission request. NULL strings are omitted. */
struct adm_req {
  const char *path; /* "/validate-pod" */
  const char *api;  /* NULL = admission.k8s.io/v1 */
  const char *op;   /* "DELETE" */
  const char *sub;  /* subResource */
  const char *group, *version, *kind, *resource;
  const char *ns, *name;
  const char *obj, *old; /* JSON */
  const char *options;   /* JSON */
  int dry_run;
};
/* Applies the REVIEW event; returns its verdict decision (reducer
 * "admission"), asserting there is exactly one. */
const struct lb_decision *adm_review(struct adm *h, int64_t at,
                                     const struct adm_req *q);
/* The raw event body the server would journal for q (caller frees). */
char *adm_review_body(const struct adm_req *q, const char *uid);

struct adm_resp {
  char api[64], uid[96], reason[64];
  int allowed, code, has_patch;
  char message[8192];
  char *patch; /* decoded JSON Patch text (malloc'd) or NULL */
};
/* Parses the RESPOND action (first action) of d; asserts its shape. */
void adm_parse(const struct lb_decision *d, struct adm_resp *out);
void adm_resp_release(struct adm_resp *r);
/* Applies JSON Patch `patch` (add / replace / remove ops) to doc; returns
 * the patched document as JSON text (caller frees), or NULL when an
 * operation does not apply. */
char *adm_apply_patch(const char *doc, const char *patch);

/* Builders (caller frees). */
char *adm_pod(const char *ns, const char *name, const char *labels_json,
              const char *annotations_json, const char *owner_api,
              const char *owner_kind, const char *owner_uid, int ready,
              const char *phase);

#endif
