/* webhookcfg.c — see webhookcfg.h. */
#define _GNU_SOURCE
#include "webhookcfg.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../engine/err.h"
#include "../engine/util.h"
#include "log.h"
#include "webhook.h"

/* ===================== certificates ===================================== */
static char *path_in(const char *dir, const char *file) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_addf(&b, "%s/%s", dir, file);
  return b.err ? (lb_buf_release(&b), NULL) : lb_buf_detach(&b, NULL);
}

static char *errf(const char *fmt, const char *a, const char *b) {
  struct lb_buf m = LB_BUF_INIT;
  char e[256] = "";
  unsigned long code = ERR_get_error();
  if (code)
    ERR_error_string_n(code, e, sizeof e);
  ERR_clear_error();
  lb_buf_addf(&m, fmt, a ? a : "", b ? b : "");
  if (*e)
    lb_buf_addf(&m, " (%s)", e);
  return lb_buf_detach(&m, NULL);
}

static X509 *read_cert(const char *path) {
  FILE *f = fopen(path, "r");
  X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
  if (f)
    fclose(f);
  ERR_clear_error();
  return x;
}

static EVP_PKEY *read_key(const char *path) {
  FILE *f = fopen(path, "r");
  EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
  if (f)
    fclose(f);
  ERR_clear_error();
  return k;
}

/* Valid now and for `days` more. */
static int fresh(X509 *x, int days) {
  time_t later = time(NULL) + (time_t)days * 86400;
  return X509_cmp_current_time(X509_get0_notBefore(x)) < 0 &&
         X509_cmp_time(X509_get0_notAfter(x), &later) > 0;
}

static int write_pem(const char *path, X509 *x, EVP_PKEY *k) {
  char tmp[4096];
  FILE *f;
  int ok;
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, k ? 0600 : 0644);
  if (fd < 0 || !(f = fdopen(fd, "w"))) {
    if (fd >= 0)
      close(fd);
    return LB_EIO;
  }
  ok = x ? PEM_write_X509(f, x)
         : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
  ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
  if (fclose(f) != 0)
    ok = 0;
  if (!ok || rename(tmp, path) != 0) {
    unlink(tmp);
    return LB_EIO;
  }
  return 0;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509_EXTENSION *ext;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
  ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  if (!ext)
    return 0;
  int ok = X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  return ok;
}

/* A certificate for key, signed by (issuer, ikey); issuer NULL: self. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, int days, X509 *issuer,
                       EVP_PKEY *ikey, const char *san) {
  X509 *x = X509_new();
  unsigned char serial[16];
  BIGNUM *bn = NULL;
  int ok = x != NULL;
  ok = ok && X509_set_version(x, 2);
  ok = ok && RAND_bytes(serial, sizeof serial) == 1;
  serial[0] &= 0x7f;
  ok = ok && (bn = BN_bin2bn(serial, sizeof serial, NULL)) &&
       BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
  BN_free(bn);
  ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
       X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400);
  ok = ok && X509_set_pubkey(x, key);
  X509_NAME *name = ok ? X509_get_subject_name(x) : NULL;
  ok =
      ok &&
      X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                 (const unsigned char *)"logbook", -1, -1, 0) &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 (const unsigned char *)cn, -1, -1, 0);
  ok = ok &&
       X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
  X509 *iss = issuer ? issuer : x;
  if (!issuer) {
    ok = ok && add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE") &&
         add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign") &&
         add_ext(x, iss, NID_subject_key_identifier, "hash");
  } else {
    ok = ok && add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE") &&
         add_ext(x, iss, NID_key_usage, "critical,digitalSignature") &&
         add_ext(x, iss, NID_ext_key_usage, "serverAuth") &&
         add_ext(x, iss, NID_subject_key_identifier, "hash") &&
         add_ext(x, iss, NID_authority_key_identifier, "keyid") &&
         add_ext(x, iss, NID_subject_alt_name, san);
  }
  ok = ok && X509_sign(x, issuer ? ikey : key, EVP_sha256()) > 0;
  if (!ok) {
    X509_free(x);
    return NULL;
  }
  return x;
}

/* Every SAN entry of want ("DNS:a,IP:1.2.3.4") is in the certificate. */
static int has_sans(X509 *x, const char *want) {
  GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  char *copy = lb_strdup(want), *save = NULL, *tok;
  int all = gens && copy;
  for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && all;
       tok = strtok_r(NULL, ",", &save)) {
    int found = 0;
    for (int i = 0; i < sk_GENERAL_NAME_num(gens) && !found; i++) {
      GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
      if (!strncmp(tok, "DNS:", 4) && g->type == GEN_DNS) {
        const char *d = (const char *)ASN1_STRING_get0_data(g->d.dNSName);
        found = (size_t)ASN1_STRING_length(g->d.dNSName) == strlen(tok + 4) &&
                !memcmp(d, tok + 4, strlen(tok + 4));
      } else if (!strncmp(tok, "IP:", 3) && g->type == GEN_IPADD) {
        ASN1_OCTET_STRING *ip = a2i_IPADDRESS(tok + 3);
        found = ip && !ASN1_STRING_cmp(ip, g->d.iPAddress);
        ASN1_OCTET_STRING_free(ip);
      }
    }
    all = found;
  }
  free(copy);
  GENERAL_NAMES_free(gens);
  ERR_clear_error();
  return all;
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "r");
  struct lb_buf b = LB_BUF_INIT;
  char buf[4096];
  size_t n;
  if (!f)
    return NULL;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    lb_buf_add(&b, buf, n);
  fclose(f);
  return b.err ? (lb_buf_release(&b), NULL) : lb_buf_detach(&b, NULL);
}

int lb_whcert_ensure(const struct lb_whcert_opts *o, char **cert_file,
                     char **key_file, char **ca_pem, char **err) {
  char *ca_crt = path_in(o->dir, "ca.crt"), *ca_key = path_in(o->dir, "ca.key");
  char *crt = path_in(o->dir, "tls.crt"), *key = path_in(o->dir, "tls.key");
  struct lb_buf san = LB_BUF_INIT;
  X509 *ca = NULL, *leaf = NULL;
  EVP_PKEY *cak = NULL, *lk = NULL, *pub = NULL;
  int rc = 0;
  *err = NULL;
  *cert_file = *key_file = *ca_pem = NULL;
  if (!ca_crt || !ca_key || !crt || !key) {
    rc = LB_ENOMEM;
    goto out;
  }
  if (mkdir(o->dir, 0700) != 0 && errno != EEXIST) {
    *err = errf("cannot create the webhook certificate directory %s%s", o->dir,
                "");
    rc = LB_EIO;
    goto out;
  }
  lb_buf_addf(&san,
              "IP:127.0.0.1,DNS:localhost,DNS:%s,DNS:%s.%s,DNS:%s.%s.svc,"
              "DNS:%s.%s.svc.cluster.local",
              o->svc_name, o->svc_name, o->svc_ns, o->svc_name, o->svc_ns,
              o->svc_name, o->svc_ns);
  if (o->host && *o->host && strcmp(o->host, "0.0.0.0") &&
      strcmp(o->host, "::") && strcmp(o->host, "127.0.0.1") &&
      strcmp(o->host, "localhost") && !strchr(o->host, ',')) {
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(o->host);
    lb_buf_addf(&san, ",%s:%s", ip ? "IP" : "DNS", o->host);
    ASN1_OCTET_STRING_free(ip);
    ERR_clear_error();
  }
  if (san.err) {
    rc = LB_ENOMEM;
    goto out;
  }
  /* the CA: reuse while valid for 30 more days */
  ca = read_cert(ca_crt);
  cak = read_key(ca_key);
  if (!ca || !cak || !fresh(ca, 30) || X509_check_private_key(ca, cak) != 1) {
    X509_free(ca);
    EVP_PKEY_free(cak);
    ca = NULL;
    ERR_clear_error();
    if (!(cak = EVP_EC_gen("P-256")) ||
        !(ca = make_cert(cak, "logbook-webhook-ca", 3650, NULL, NULL, NULL))) {
      *err = errf("cannot generate the webhook CA%s%s", "", "");
      rc = LB_EIO;
      goto out;
    }
    if (write_pem(ca_key, NULL, cak) || write_pem(ca_crt, ca, NULL)) {
      *err = errf("cannot write %s or %s", ca_key, ca_crt);
      rc = LB_EIO;
      goto out;
    }
    lb_log("info", "generated a webhook CA", "dir=%s", o->dir);
  }
  leaf = read_cert(crt);
  lk = read_key(key);
  pub = ca ? X509_get_pubkey(ca) : NULL;
  if (!leaf || !lk || !fresh(leaf, 30) ||
      X509_check_private_key(leaf, lk) != 1 || !pub ||
      X509_verify(leaf, pub) != 1 || !has_sans(leaf, san.p)) {
    X509_free(leaf);
    EVP_PKEY_free(lk);
    leaf = NULL;
    ERR_clear_error();
    if (!(lk = EVP_EC_gen("P-256")) ||
        !(leaf = make_cert(lk, "logbook-webhook", 365, ca, cak, san.p))) {
      *err =
          errf("cannot generate the webhook serving certificate%s%s", "", "");
      rc = LB_EIO;
      goto out;
    }
    if (write_pem(key, NULL, lk) || write_pem(crt, leaf, NULL)) {
      *err = errf("cannot write %s or %s", key, crt);
      rc = LB_EIO;
      goto out;
    }
    lb_log("info", "generated a webhook serving certificate",
           "dir=%s san=\"%s\"", o->dir, san.p);
  }
  if (!(*ca_pem = read_file(ca_crt))) {
    *err = errf("cannot read %s%s", ca_crt, "");
    rc = LB_EIO;
    goto out;
  }
  *cert_file = crt;
  *key_file = key;
  crt = key = NULL;
out:
  ERR_clear_error();
  EVP_PKEY_free(pub);
  X509_free(ca);
  X509_free(leaf);
  EVP_PKEY_free(cak);
  EVP_PKEY_free(lk);
  lb_buf_release(&san);
  free(ca_crt);
  free(ca_key);
  free(crt);
  free(key);
  return rc;
}

/* ===================== configurations =================================== */
struct hook {
  int path;          /* LB_WH_* */
  const char *rules; /* JSON array */
  int ns_selector;   /* exclude control-plane namespaces (mpod) */
  int delete_protection_selector;
};

static const struct hook mutating[] = {
    {LB_WH_MPOD,
     "[{\"operations\":[\"CREATE\"],\"apiGroups\":[\"\"],\"apiVersions\":["
     "\"v1\"],\"resources\":[\"pods\"],\"scope\":\"Namespaced\"}]",
     1, 0},
    {LB_WH_MCLONESET,
     "[{\"operations\":[\"CREATE\",\"UPDATE\"],\"apiGroups\":[\"apps.kruise."
     "io\"],\"apiVersions\":[\"v1alpha1\"],\"resources\":[\"clonesets\"]}]",
     0, 0},
};

static const struct hook validating[] = {
    {LB_WH_VPOD,
     "[{\"operations\":[\"UPDATE\",\"DELETE\"],\"apiGroups\":[\"\"],"
     "\"apiVersions\":[\"v1\"],\"resources\":[\"pods\"]}]",
     0, 0},
    {LB_WH_VPODEVICTION,
     "[{\"operations\":[\"CREATE\"],\"apiGroups\":[\"\"],\"apiVersions\":["
     "\"v1\"],\"resources\":[\"pods/eviction\"]}]",
     0, 0},
    {LB_WH_VCLONESET,
     "[{\"operations\":[\"CREATE\",\"UPDATE\",\"DELETE\"],\"apiGroups\":["
     "\"apps.kruise.io\"],\"apiVersions\":[\"v1alpha1\"],\"resources\":["
     "\"clonesets\"]}]",
     0, 0},
    {LB_WH_VPUB,
     "[{\"operations\":[\"CREATE\",\"UPDATE\"],\"apiGroups\":[\"policy."
     "kruise.io\"],\"apiVersions\":[\"v1alpha1\"],\"resources\":["
     "\"podunavailablebudgets\"]}]",
     0, 0},
    {LB_WH_VBUILTIN,
     "[{\"operations\":[\"DELETE\"],\"apiGroups\":[\"apps\"],\"apiVersions\":"
     "[\"v1\"],\"resources\":[\"deployments\",\"replicasets\","
     "\"statefulsets\"]},"
     "{\"operations\":[\"DELETE\"],\"apiGroups\":[\"\"],\"apiVersions\":["
     "\"v1\"],\"resources\":[\"namespaces\",\"services\"]},"
     "{\"operations\":[\"DELETE\"],\"apiGroups\":[\"apiextensions.k8s.io\"],"
     "\"apiVersions\":[\"v1\",\"v1beta1\"],\"resources\":["
     "\"customresourcedefinitions\"]},"
     "{\"operations\":[\"DELETE\"],\"apiGroups\":[\"networking.k8s.io\","
     "\"extensions\"],\"apiVersions\":[\"v1\",\"v1beta1\"],\"resources\":["
     "\"ingresses\"]}]",
     0, 1},
};

static char *b64(const char *s) {
  size_t n = strlen(s);
  char *out = malloc(4 * ((n + 2) / 3) + 1);
  if (out)
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
  return out;
}

static void add_hook(struct lb_buf *b, const struct lb_whcfg_opts *o,
                     const struct hook *h, const char *ca_b64, int mutate) {
  const char *path = lb_webhook_path_of(h->path);
  lb_buf_addf(b, "{\"name\":\"%s.logbook.kruise.io\",\"clientConfig\":{",
              lb_webhook_name_of(h->path));
  if (o->url_base && *o->url_base) {
    lb_buf_adds(b, "\"url\":");
    struct lb_buf u = LB_BUF_INIT;
    lb_buf_addf(&u, "%s%s", o->url_base, path);
    lb_buf_add_json_str(b, u.p ? u.p : "");
    lb_buf_release(&u);
  } else {
    lb_buf_adds(b, "\"service\":{\"namespace\":");
    lb_buf_add_json_str(b, o->svc_ns);
    lb_buf_adds(b, ",\"name\":");
    lb_buf_add_json_str(b, o->svc_name);
    lb_buf_addf(b, ",\"path\":\"%s\",\"port\":%d}", path,
                o->svc_port ? o->svc_port : 443);
  }
  lb_buf_addf(b, ",\"caBundle\":\"%s\"},\"rules\":%s", ca_b64, h->rules);
  lb_buf_adds(b, ",\"failurePolicy\":\"Fail\",\"matchPolicy\":\"Equivalent\","
                 "\"sideEffects\":\"None\",\"timeoutSeconds\":10,"
                 "\"admissionReviewVersions\":[\"v1\",\"v1beta1\"]");
  if (mutate)
    lb_buf_adds(b, ",\"reinvocationPolicy\":\"Never\"");
  /* namespaceSelector: §0.3's control-plane exclusion for mpod, plus the
   * test label on every hook when asked */
  lb_buf_adds(b, ",\"namespaceSelector\":{");
  const char *eq = o->ns_label ? strchr(o->ns_label, '=') : NULL;
  int any = 0;
  if (eq) {
    struct lb_buf k = LB_BUF_INIT;
    lb_buf_add(&k, o->ns_label, (size_t)(eq - o->ns_label));
    lb_buf_adds(b, "\"matchLabels\":{");
    lb_buf_add_json_str(b, k.p ? k.p : "");
    lb_buf_adds(b, ":");
    lb_buf_add_json_str(b, eq + 1);
    lb_buf_adds(b, "}");
    lb_buf_release(&k);
    any = 1;
  }
  if (h->ns_selector)
    lb_buf_addf(b,
                "%s\"matchExpressions\":[{\"key\":\"control-plane\","
                "\"operator\":\"DoesNotExist\"}]",
                any ? "," : "");
  lb_buf_adds(b, "}");
  if (h->delete_protection_selector)
    lb_buf_adds(b, ",\"objectSelector\":{\"matchExpressions\":[{\"key\":"
                   "\"policy.kruise.io/delete-protection\",\"operator\":"
                   "\"Exists\"}]}");
  lb_buf_adds(b, "}");
}

static char *config(const struct lb_whcfg_opts *o, int mutate) {
  struct lb_buf b = LB_BUF_INIT;
  char *ca = b64(o->ca_pem ? o->ca_pem : "");
  const struct hook *hs = mutate ? mutating : validating;
  size_t n = mutate ? LB_ARRAY_SIZE(mutating) : LB_ARRAY_SIZE(validating);
  if (!ca)
    return NULL;
  lb_buf_addf(&b,
              "{\"apiVersion\":\"admissionregistration.k8s.io/v1\",\"kind\":"
              "\"%s\",\"metadata\":{\"name\":\"logbook-%s-webhook-"
              "configuration\",\"labels\":{\"app.kubernetes.io/name\":"
              "\"logbook\",\"app.kubernetes.io/component\":\"manager\"}},"
              "\"webhooks\":[",
              mutate ? "MutatingWebhookConfiguration"
                     : "ValidatingWebhookConfiguration",
              mutate ? "mutating" : "validating");
  for (size_t i = 0; i < n; i++) {
    if (i)
      lb_buf_adds(&b, ",");
    add_hook(&b, o, &hs[i], ca, mutate);
  }
  lb_buf_adds(&b, "]}");
  free(ca);
  return b.err ? (lb_buf_release(&b), NULL) : lb_buf_detach(&b, NULL);
}

char *lb_whcfg_mutating(const struct lb_whcfg_opts *o) { return config(o, 1); }
char *lb_whcfg_validating(const struct lb_whcfg_opts *o) {
  return config(o, 0);
}

/* --- the applier --------------------------------------------------------- */
struct lb_whcfg {
  uv_loop_t *loop;
  struct lb_kube *k;
  uv_timer_t timer;
  char *body[2];          /* mutating, validating */
  struct lb_whcfg_opts o; /* copies: url_base, svc_ns, svc_name, ns_label */
  int applied[2], outstanding, stopped, closed, ever;
};

struct apply_ctx {
  struct lb_whcfg *w;
  int which, creating;
};

static const char *resource_of(int which) {
  return which == 0 ? "mutatingwebhookconfigurations"
                    : "validatingwebhookconfigurations";
}
static const char *name_of(int which) {
  return which == 0 ? "logbook-mutating-webhook-configuration"
                    : "logbook-validating-webhook-configuration";
}

static void opts_release(struct lb_whcfg_opts *o) {
  free((char *)o->url_base);
  free((char *)o->svc_ns);
  free((char *)o->svc_name);
  free((char *)o->ns_label);
  memset(o, 0, sizeof *o);
}

static void maybe_free(struct lb_whcfg *w) {
  if (!w->closed || w->outstanding)
    return;
  free(w->body[0]);
  free(w->body[1]);
  opts_release(&w->o);
  free(w);
}

static void send_one(struct lb_whcfg *w, int which, int create);

static void on_applied(void *ctx, struct lb_kube_result *res) {
  struct apply_ctx *a = ctx;
  struct lb_whcfg *w = a->w;
  w->outstanding--;
  if (!w->stopped) {
    if (res->status == 404 && !a->creating) {
      send_one(w, a->which, 1);
    } else if (res->status >= 200 && res->status < 300) {
      if (!w->applied[a->which])
        lb_log("info", "webhook configuration applied", "name=%s status=%d",
               name_of(a->which), res->status);
      w->applied[a->which] = 1;
    } else {
      lb_log("warn", "cannot apply the webhook configuration; retrying",
             "name=%s status=%d error=\"%s\" body=\"%.200s\"",
             name_of(a->which), res->status, res->curl_error,
             res->body ? res->body : "");
    }
  }
  free(res->body);
  free(a);
  maybe_free(w);
}

static void send_one(struct lb_whcfg *w, int which, int create) {
  struct apply_ctx *a = calloc(1, sizeof *a);
  char *path =
      lb_kube_path("admissionregistration.k8s.io", "v1", resource_of(which), "",
                   create ? "" : name_of(which), "");
  if (a && path) {
    a->w = w;
    a->which = which;
    a->creating = create;
    if (!lb_kube_request(w->k, create ? "POST" : "PATCH", path,
                         create ? NULL : "application/merge-patch+json",
                         w->body[which], on_applied, a, NULL)) {
      w->outstanding++;
      a = NULL;
    }
  }
  free(a);
  free(path);
}

static void on_timer(uv_timer_t *t) {
  struct lb_whcfg *w = t->data;
  int done = w->applied[0] && w->applied[1];
  if (done)
    w->applied[0] = w->applied[1] = 0, w->ever = 1;
  for (int i = 0; i < 2; i++)
    send_one(w, i, 0);
  /* retry soon until both are in; then keep them up to date (every 5 min;
   * LB_WEBHOOK_REAPPLY_SECONDS for tests) */
  const char *env = getenv("LB_WEBHOOK_REAPPLY_SECONDS");
  uint64_t every = env && atol(env) > 0 ? (uint64_t)atol(env) * 1000 : 300000;
  uv_timer_start(&w->timer, on_timer, done ? every : 5000, 0);
}

int lb_whcfg_start(uv_loop_t *loop, struct lb_kube *k,
                   const struct lb_whcfg_opts *o, struct lb_whcfg **out) {
  struct lb_whcfg *w = calloc(1, sizeof *w);
  if (!w)
    return LB_ENOMEM;
  w->loop = loop;
  w->k = k;
  w->o.url_base = lb_strdup(o->url_base);
  w->o.svc_ns = lb_strdup(o->svc_ns);
  w->o.svc_name = lb_strdup(o->svc_name);
  w->o.svc_port = o->svc_port;
  w->o.ns_label = lb_strdup(o->ns_label);
  w->body[0] = lb_whcfg_mutating(o);
  w->body[1] = lb_whcfg_validating(o);
  if (!w->body[0] || !w->body[1] || (o->url_base && !w->o.url_base) ||
      (o->svc_ns && !w->o.svc_ns) || (o->svc_name && !w->o.svc_name) ||
      (o->ns_label && !w->o.ns_label)) {
    free(w->body[0]);
    free(w->body[1]);
    opts_release(&w->o);
    free(w);
    return LB_ENOMEM;
  }
  uv_timer_init(loop, &w->timer);
  w->timer.data = w;
  on_timer(&w->timer);
  *out = w;
  return 0;
}

int lb_whcfg_set_ca(struct lb_whcfg *w, const char *ca_pem) {
  struct lb_whcfg_opts o = w->o;
  char *m, *v;
  o.ca_pem = ca_pem;
  m = lb_whcfg_mutating(&o);
  v = lb_whcfg_validating(&o);
  if (!m || !v) {
    free(m);
    free(v);
    return LB_ENOMEM;
  }
  free(w->body[0]);
  free(w->body[1]);
  w->body[0] = m;
  w->body[1] = v;
  w->applied[0] = w->applied[1] = 0;
  if (!w->stopped)
    uv_timer_start(&w->timer, on_timer, 0, 0);
  return 0;
}

int lb_whcfg_applied(const struct lb_whcfg *w) {
  return w && ((w->applied[0] && w->applied[1]) || w->ever);
}

static void on_timer_closed(uv_handle_t *h) {
  struct lb_whcfg *w = h->data;
  w->closed = 1;
  maybe_free(w);
}

void lb_whcfg_stop(struct lb_whcfg *w) {
  if (!w)
    return;
  w->stopped = 1;
  uv_timer_stop(&w->timer);
  uv_close((uv_handle_t *)&w->timer, on_timer_closed);
}
