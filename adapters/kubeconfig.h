/* kubeconfig.h — how to reach and authenticate to a kube-apiserver.
 *
 * Sources, in order: an explicit kubeconfig path; $KUBECONFIG (first
 * existing file of a ':'-separated list); in-cluster configuration
 * (KUBERNETES_SERVICE_HOST/PORT + /var/run/secrets/kubernetes.io/
 * serviceaccount/{token,ca.crt}); ~/.kube/config. The kubeconfig is parsed
 * with libyaml; the current context selects cluster and user.
 *
 * TLS is always verified: an https server needs a CA (certificate-authority
 * file or certificate-authority-data); insecure-skip-tls-verify: true is
 * refused. Errors are LB_E* codes with a sentence in `err` saying what is
 * missing, unreadable or inconsistent and where (file, line, field).
 *
 * Read from a kubeconfig: current-context; contexts[].name, .context.
 * {cluster,user,namespace}; clusters[].name, .cluster.{server,
 * certificate-authority, certificate-authority-data,
 * insecure-skip-tls-verify}; users[].name, .user.{token, tokenFile,
 * client-certificate, client-certificate-data, client-key,
 * client-key-data}. Other keys are ignored. Relative paths resolve against
 * the kubeconfig's directory. Also refused (LB_EINVAL): both a file and
 * inline data for the same thing, both token and tokenFile, a certificate
 * without its key (or a key without its certificate), a user relying only
 * on exec / auth-provider / username+password (unsupported), a server that
 * is not http(s)://, duplicate names or keys, a token with control
 * characters. Only the first existing file of $KUBECONFIG is read (no
 * merging). CA, certificate, key and token files are read once at load to
 * check they are readable (a token file's contents become `token`).
 *
 * In cluster, the service-account directory is $LB_SA_DIR when set (tests),
 * else /var/run/secrets/kubernetes.io/serviceaccount.
 */
#ifndef LB_KUBECONFIG_H
#define LB_KUBECONFIG_H

#include <stddef.h>

struct lb_kubeconfig {
  char *server;  /* "https://127.0.0.1:6443" (no trailing slash) */
  char *ca_file; /* path, or NULL */
  char *ca_pem;  /* inline PEM (decoded certificate-authority-data), or NULL */
  size_t ca_pem_len;
  char *token; /* bearer token (token or tokenFile contents, trimmed) */
  char *cert_file, *key_file; /* client certificate and key paths */
  char *cert_pem, *key_pem;   /* or inline PEM */
  size_t cert_pem_len, key_pem_len;
  char *context;    /* the context used ("" in cluster) */
  char *source;     /* file it came from, or "in-cluster" */
  char *namespace;  /* context's namespace (in cluster: the service
                       account's namespace file), or NULL */
  char *token_file; /* where `token` was read from (tokenFile, in-cluster
                       token), or NULL; projected service-account tokens
                       rotate, so long-lived clients re-read it */
};

/* path: explicit file, or NULL for the search order above. Returns 0,
 * LB_ENOENT (nothing found), LB_EPARSE (bad YAML / missing fields), LB_EIO
 * (unreadable file), LB_EINVAL (inconsistent: unknown context, https
 * without CA, insecure-skip-tls-verify, cert without key ...). *err is
 * malloc'd (caller frees) on failure, else set to NULL. *out is zeroed
 * first, filled only on success, and always safe to release. */
int lb_kubeconfig_load(const char *path, struct lb_kubeconfig *out, char **err);
/* Parses kubeconfig YAML text (base_dir resolves relative file paths; NULL
 * leaves them relative to the working directory). Same codes and *err /
 * *out contract as lb_kubeconfig_load; messages name the text
 * "kubeconfig" and source is "kubeconfig". Referenced files are read. */
int lb_kubeconfig_parse(const char *yaml, size_t len, const char *base_dir,
                        struct lb_kubeconfig *out, char **err);
/* Frees every field and zeroes *k. */
void lb_kubeconfig_release(struct lb_kubeconfig *k);

#endif
