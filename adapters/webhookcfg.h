/* webhookcfg.h — serving certificates and the webhook configurations that
 * logbook owns.
 *
 * Certificates (OpenSSL, ECDSA P-256, SHA-256): lb_whcert_ensure() keeps
 * in a directory
 *   ca.crt ca.key     a self-signed CA (10 years)     — the caBundle
 *   tls.crt tls.key   the serving certificate (1 year) signed by it, SAN
 *                     IP:127.0.0.1, DNS:localhost, DNS:<svc>,
 *                     DNS:<svc>.<ns>, DNS:<svc>.<ns>.svc,
 *                     DNS:<svc>.<ns>.svc.cluster.local (+ --webhook-host
 *                     when it is a name or an address other than 0.0.0.0)
 * reusing what is there while it is valid for 30 more days, signed by the
 * CA on disk and carries every SAN; else a new serving certificate (from
 * the existing CA if that is valid, so the caBundle stays the same). Keys
 * are written 0600, every file through a temp file and rename.
 *
 * Configurations: MutatingWebhookConfiguration
 * "logbook-mutating-webhook-configuration" (mpod, mcloneset) and
 * ValidatingWebhookConfiguration "logbook-validating-webhook-configuration"
 * (vpod, vpodeviction, vcloneset, vpub, vbuiltin), admissionregistration.k8s.io
 * /v1, admissionReviewVersions ["v1","v1beta1"], sideEffects None,
 * failurePolicy Fail, timeoutSeconds 10 (kruise-spec §0.3; paths in
 * webhook.h). clientConfig is url = <url-base><path> when a URL base is
 * given (tests: https://127.0.0.1:PORT), else service {namespace, name,
 * path, port 443} (real clusters), with the caBundle.
 *
 * Applying them is adapter-side housekeeping, not an engine decision: it
 * does not depend on cluster state, changes nothing the reducers read, and
 * must happen before (and independently of) any admission event; so it goes
 * straight through the apiserver client (kube.c) and is logged, not
 * journaled. lb_whcfg_start() applies both (JSON merge patch of the whole
 * object — the webhooks list is replaced — and POST when it is missing),
 * retries every 5 s until both succeeded, then re-applies every 5 minutes
 * (env LB_WEBHOOK_REAPPLY_SECONDS overrides, for tests) so an edited or
 * stale caBundle is put back.
 */
#ifndef LB_WEBHOOKCFG_H
#define LB_WEBHOOKCFG_H

#include <uv.h>

#include "kube.h"

struct lb_whcert_opts {
  const char *dir;      /* created 0700 when missing */
  const char *svc_ns;   /* kruise-system */
  const char *svc_name; /* logbook-webhook-service */
  const char *host;     /* extra SAN (IP or DNS); NULL, "", 0.0.0.0 = none */
};
/* Ensures the files; *cert_file, *key_file and *ca_pem are malloc'd.
 * Returns 0, or LB_EIO / LB_ENOMEM with *err (malloc'd) saying what. */
int lb_whcert_ensure(const struct lb_whcert_opts *o, char **cert_file,
                     char **key_file, char **ca_pem, char **err);

struct lb_whcfg_opts {
  const char *url_base; /* "https://127.0.0.1:9443", or NULL: service */
  const char *svc_ns;   /* service reference when url_base is NULL */
  const char *svc_name;
  int svc_port;         /* (443) */
  const char *ca_pem;   /* CA certificate(s) PEM -> caBundle */
  const char *ns_label; /* "key=value": every webhook's namespaceSelector
                           also requires it (tests on a shared cluster);
                           NULL = none */
};
/* The two configuration objects as JSON (malloc'd), or NULL (ENOMEM). */
char *lb_whcfg_mutating(const struct lb_whcfg_opts *o);
char *lb_whcfg_validating(const struct lb_whcfg_opts *o);

struct lb_whcfg; /* the applier: a timer and two requests */
/* Starts applying on loop through k (borrowed; must outlive the applier
 * until lb_whcfg_stop). o's strings are copied. */
int lb_whcfg_start(uv_loop_t *loop, struct lb_kube *k,
                   const struct lb_whcfg_opts *o, struct lb_whcfg **out);
/* A new CA (the certificate was regenerated): rebuilds both objects and
 * applies them now. ca_pem is copied. Returns 0 or LB_ENOMEM. */
int lb_whcfg_set_ca(struct lb_whcfg *w, const char *ca_pem);
/* Both configurations applied at least once. */
int lb_whcfg_applied(const struct lb_whcfg *w);
/* Stops the timer; frees once outstanding requests have returned (they
 * are cancelled when the kube client closes). NULL is fine. */
void lb_whcfg_stop(struct lb_whcfg *w);

#endif
