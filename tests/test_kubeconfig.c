/* test_kubeconfig.c — adapters/kubeconfig.c: finding the apiserver and
 * credentials. Every test runs in its own temp dir (cwd), so files are
 * written there and environment changes die with the test process. */
#include <errno.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../adapters/kubeconfig.h"
#include "../engine/err.h"
#include "../engine/util.h"
#include "test.h"

#define PEM_CA                                                                 \
  "-----BEGIN CERTIFICATE-----\nMIIBCA==\n-----END CERTIFICATE-----\n"
#define PEM_CRT                                                                \
  "-----BEGIN CERTIFICATE-----\nMIIBQQ==\n-----END CERTIFICATE-----\n"
#define PEM_KEY                                                                \
  "-----BEGIN EC PRIVATE KEY-----\nMHcCAQ==\n-----END EC PRIVATE KEY-----\n"

/* ---- helpers ------------------------------------------------------------- */
static void write_file(const char *path, const char *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f)
    lb_test_fail(__FILE__, __LINE__, "fopen %s: %s", path, strerror(errno));
  if (n && fwrite(data, 1, n, f) != n)
    lb_test_fail(__FILE__, __LINE__, "write %s", path);
  fclose(f);
}
static void put(const char *path, const char *data) {
  write_file(path, data, strlen(data));
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...) {
  va_list ap;
  int n;
  char *m;
  va_start(ap, f);
  n = vsnprintf(NULL, 0, f, ap);
  va_end(ap);
  m = malloc((size_t)n + 1);
  ASSERT(m != NULL);
  va_start(ap, f);
  vsnprintf(m, (size_t)n + 1, f, ap);
  va_end(ap);
  return m;
}

static char *b64(const char *s) {
  static const char t[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t n = strlen(s), k = 0;
  char *o = malloc(n / 3 * 4 + 5);
  const unsigned char *u = (const unsigned char *)s;
  ASSERT(o != NULL);
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)u[i] << 16;
    if (i + 1 < n)
      v |= (unsigned)u[i + 1] << 8;
    if (i + 2 < n)
      v |= u[i + 2];
    o[k++] = t[v >> 18 & 63];
    o[k++] = t[v >> 12 & 63];
    o[k++] = i + 1 < n ? t[v >> 6 & 63] : '=';
    o[k++] = i + 2 < n ? t[v & 63] : '=';
  }
  o[k] = '\0';
  return o;
}

static int parse(const char *yaml, struct lb_kubeconfig *k, char **err) {
  return lb_kubeconfig_parse(yaml, strlen(yaml), lb_test_dir(), k, err);
}

/* Parse must fail with `code` and a message holding `needle`. */
static void refuse(int line, const char *yaml, int code, const char *needle) {
  struct lb_kubeconfig k;
  char *err = NULL;
  int rc = parse(yaml, &k, &err);
  if (rc != code)
    lb_test_fail(__FILE__, line, "%s, want %s (err: %s)\n%s", lb_err_name(rc),
                 lb_err_name(code), err ? err : "(none)", yaml);
  if (!err || !strstr(err, needle) || strncmp(err, "kubeconfig", 10) != 0)
    lb_test_fail(__FILE__, line, "message \"%s\" lacks \"%s\"",
                 err ? err : "(null)", needle);
  ASSERT(k.server == NULL && k.token == NULL);
  lb_kubeconfig_release(&k);
  free(err);
}

/* One cluster "c" with the given body, one user "u", context "x". */
static char *config(const char *cluster_body, const char *user_body) {
  return fmt("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
             "%s\nusers:\n- name: u\n  user:\n%s\ncontexts:\n- name: x\n"
             "  context: {cluster: c, user: u}\ncurrent-context: x\n",
             cluster_body, user_body);
}

/* ---- the shapes that must work ------------------------------------------- */
TEST(kubeconfig_kit_shape) {
  /* exactly what shared/real-cluster/setup.sh writes */
  struct lb_kubeconfig k;
  char *err = NULL, *ca = fmt("%s/ca.crt", lb_test_dir()), *y;
  put("ca.crt", PEM_CA);
  y = fmt("apiVersion: v1\nkind: Config\nclusters:\n- name: real-cluster\n"
          "  cluster:\n    server: https://127.0.0.1:6443\n"
          "    certificate-authority: %s\nusers:\n- name: controller\n"
          "  user:\n    token: 0123456789abcdef0123456789abcdef\n"
          "contexts:\n- name: controller@real-cluster\n"
          "  context: {cluster: real-cluster, user: controller}\n"
          "current-context: controller@real-cluster\n",
          ca);
  put("controller.kubeconfig", y);
  ASSERT_OK(lb_kubeconfig_load("controller.kubeconfig", &k, &err));
  ASSERT(err == NULL);
  ASSERT_EQ_STR(k.server, "https://127.0.0.1:6443");
  ASSERT_EQ_STR(k.ca_file, ca);
  ASSERT(k.ca_pem == NULL);
  ASSERT_EQ_STR(k.token, "0123456789abcdef0123456789abcdef");
  ASSERT(k.token_file == NULL);
  ASSERT(k.cert_file == NULL && k.key_file == NULL && k.cert_pem == NULL);
  ASSERT_EQ_STR(k.context, "controller@real-cluster");
  ASSERT_EQ_STR(k.source, "controller.kubeconfig");
  ASSERT(k.namespace == NULL);
  lb_kubeconfig_release(&k);
  ASSERT(k.server == NULL);
  free(y);
  free(ca);
}

TEST(kubeconfig_ca_data_inline) {
  struct lb_kubeconfig k;
  char *err = NULL, *d = b64(PEM_CA), *body, *y;
  body = fmt("    server: https://10.1.2.3:6443/\n"
             "    certificate-authority-data: %s",
             d);
  y = config(body, "    token: tok");
  ASSERT_OK(parse(y, &k, &err));
  ASSERT_EQ_STR(k.server, "https://10.1.2.3:6443"); /* slash dropped */
  ASSERT(k.ca_file == NULL);
  ASSERT_EQ_INT(k.ca_pem_len, strlen(PEM_CA));
  ASSERT_EQ_STR(k.ca_pem, PEM_CA);
  ASSERT_EQ_STR(k.source, "kubeconfig");
  lb_kubeconfig_release(&k);
  free(y);
  free(body);

  /* base64 folded over lines (a block scalar) and without padding */
  free(d);
  d = b64(PEM_CA "\n"); /* 64 bytes: "==" padding */
  ASSERT(d[strlen(d) - 1] == '=' && d[strlen(d) - 2] == '=');
  d[strlen(d) - 2] = '\0';
  body = fmt("    server: https://h\n    certificate-authority-data: |\n"
             "      %.20s\n      %s",
             d, d + 20);
  y = config(body, "    token: tok");
  ASSERT_OK(parse(y, &k, &err));
  ASSERT_EQ_STR(k.ca_pem, PEM_CA "\n");
  lb_kubeconfig_release(&k);
  free(y);
  free(body);
  free(d);
}

TEST(kubeconfig_client_cert_key_data) {
  struct lb_kubeconfig k;
  char *err = NULL, *c = b64(PEM_CRT), *key = b64(PEM_KEY), *ca = b64(PEM_CA);
  char *cb =
      fmt("    server: https://h:6443\n    certificate-authority-data: %s", ca);
  char *ub =
      fmt("    client-certificate-data: %s\n    client-key-data: %s", c, key);
  char *y = config(cb, ub);
  ASSERT_OK(parse(y, &k, &err));
  ASSERT_EQ_STR(k.cert_pem, PEM_CRT);
  ASSERT_EQ_INT(k.cert_pem_len, strlen(PEM_CRT));
  ASSERT_EQ_STR(k.key_pem, PEM_KEY);
  ASSERT_EQ_INT(k.key_pem_len, strlen(PEM_KEY));
  ASSERT(k.token == NULL && k.cert_file == NULL && k.key_file == NULL);
  lb_kubeconfig_release(&k);
  free(y);
  free(cb);
  free(ub);
  free(c);
  free(key);
  free(ca);
}

TEST(kubeconfig_relative_paths_resolve_against_its_directory) {
  struct lb_kubeconfig k;
  char *err = NULL, *want;
  ASSERT_OK(mkdir("cfg", 0700));
  ASSERT_OK(mkdir("cfg/pki", 0700));
  ASSERT_OK(mkdir("elsewhere", 0700));
  put("cfg/pki/ca.crt", PEM_CA);
  put("cfg/pki/client.crt", PEM_CRT);
  put("cfg/pki/client.key", PEM_KEY);
  put("cfg/config",
      "clusters:\n- name: c\n  cluster:\n    server: https://h:6443\n"
      "    certificate-authority: pki/ca.crt\n"
      "users:\n- name: u\n  user:\n    client-certificate: pki/client.crt\n"
      "    client-key: ./pki/client.key\n"
      "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
      "current-context: x\n");
  /* from another working directory, relative and absolute kubeconfig paths */
  ASSERT_OK(chdir("elsewhere"));
  ASSERT_OK(lb_kubeconfig_load("../cfg/config", &k, &err));
  ASSERT_EQ_STR(k.ca_file, "../cfg/pki/ca.crt");
  ASSERT_EQ_STR(k.cert_file, "../cfg/pki/client.crt");
  ASSERT_EQ_STR(k.key_file, "../cfg/./pki/client.key");
  lb_kubeconfig_release(&k);
  want = fmt("%s/cfg/config", lb_test_dir());
  ASSERT_OK(lb_kubeconfig_load(want, &k, &err));
  free(want);
  want = fmt("%s/cfg/pki/ca.crt", lb_test_dir());
  ASSERT_EQ_STR(k.ca_file, want);
  ASSERT_EQ_INT(access(k.cert_file, R_OK), 0);
  lb_kubeconfig_release(&k);
  free(want);
}

TEST(kubeconfig_token_file) {
  struct lb_kubeconfig k;
  char *err = NULL, *y, *want;
  put("ca.crt", PEM_CA);
  put("token", "  s3cr3t-token\n\n");
  y = config("    server: https://h\n    certificate-authority: ca.crt",
             "    tokenFile: token");
  ASSERT_OK(parse(y, &k, &err));
  ASSERT_EQ_STR(k.token, "s3cr3t-token"); /* trimmed */
  want = fmt("%s/token", lb_test_dir());
  ASSERT_EQ_STR(k.token_file, want);
  lb_kubeconfig_release(&k);
  free(want);
  free(y);

  /* inline token is trimmed too */
  y = config("    server: https://h\n    certificate-authority: ca.crt",
             "    token: \" abc \"");
  ASSERT_OK(parse(y, &k, &err));
  ASSERT_EQ_STR(k.token, "abc");
  lb_kubeconfig_release(&k);
  free(y);
}

TEST(kubeconfig_current_context_selects) {
  static const char y[] =
      "apiVersion: v1\n"
      "clusters:\n"
      "- name: prod\n  cluster:\n    server: https://prod:6443\n"
      "    certificate-authority-data: "
      "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n"
      "- name: dev\n  cluster:\n    server: http://dev:8080\n"
      "users:\n"
      "- name: admin\n  user:\n    token: admin-token\n"
      "- name: dev-user\n  user:\n    token: dev-token\n"
      "contexts:\n"
      "- name: prod-admin\n  context:\n    cluster: prod\n    user: admin\n"
      "- name: dev\n  context:\n    cluster: dev\n    user: dev-user\n"
      "    namespace: team-a\n"
      "- name: dev-anon\n  context:\n    cluster: dev\n"
      "current-context: dev\n"
      "preferences: {}\n";
  struct lb_kubeconfig k;
  char *err = NULL;
  ASSERT_OK(parse(y, &k, &err));
  ASSERT_EQ_STR(k.context, "dev");
  ASSERT_EQ_STR(k.server, "http://dev:8080"); /* plain http needs no CA */
  ASSERT_EQ_STR(k.token, "dev-token");
  ASSERT_EQ_STR(k.namespace, "team-a");
  lb_kubeconfig_release(&k);

  {
    /* switch to prod-admin by rewriting the last line */
    char *y2 = fmt("%.*scurrent-context: prod-admin\npreferences: {}\n",
                   (int)(strstr(y, "current-context:") - y), y);
    ASSERT_OK(parse(y2, &k, &err));
    ASSERT_EQ_STR(k.server, "https://prod:6443");
    ASSERT_EQ_STR(k.ca_pem, "-----BEGIN CERTIFICATE-----\n");
    ASSERT_EQ_STR(k.token, "admin-token");
    ASSERT(k.namespace == NULL);
    lb_kubeconfig_release(&k);
    free(y2);
    y2 = fmt("%.*scurrent-context: dev-anon\n",
             (int)(strstr(y, "current-context:") - y), y);
    ASSERT_OK(parse(y2, &k, &err));
    ASSERT(k.token == NULL && k.cert_file == NULL); /* anonymous */
    lb_kubeconfig_release(&k);
    free(y2);
  }
}

TEST(kubeconfig_yaml_features) {
  /* JSON is YAML; anchors/aliases, quoting styles and comments work. */
  static const char json[] =
      "{\"kind\":\"Config\",\"clusters\":[{\"name\":\"c\",\"cluster\":{"
      "\"server\":\"http://h:80\"}}],\"contexts\":[{\"name\":\"x\","
      "\"context\":{\"cluster\":\"c\",\"user\":\"u\"}}],\"users\":[{\"name\":"
      "\"u\",\"user\":{\"token\":\"t\"}}],\"current-context\":\"x\"}";
  static const char aliased[] =
      "# comment\n"
      "clusters:\n- name: 'c'\n  cluster: &cl\n    server: \"http://h:80\"\n"
      "    insecure-skip-tls-verify: false\n"
      "- name: c2\n  cluster: *cl\n"
      "users:\n- name: u\n  user:\n    token: >-\n      folded\n"
      "contexts:\n- name: x\n  context: {cluster: c2, user: u}\n"
      "current-context: x\n";
  struct lb_kubeconfig k;
  char *err = NULL;
  ASSERT_OK(parse(json, &k, &err));
  ASSERT_EQ_STR(k.server, "http://h:80");
  ASSERT_EQ_STR(k.token, "t");
  lb_kubeconfig_release(&k);
  ASSERT_OK(parse(aliased, &k, &err));
  ASSERT_EQ_STR(k.server, "http://h:80");
  ASSERT_EQ_STR(k.token, "folded");
  lb_kubeconfig_release(&k);
}

/* ---- refusals ------------------------------------------------------------ */
TEST(kubeconfig_refusals) {
  char *ca = b64(PEM_CA), *crt = b64(PEM_CRT), *key = b64(PEM_KEY);
  char *notpem = b64("hello world");
  put("ca.crt", PEM_CA);
  put("empty.crt", "\n");
  put("tok", "abc\n");
  ASSERT_OK(mkdir("adir", 0700));
  const struct {
    const char *name;
    char *cluster, *user;
    int code;
    const char *needle;
  } rows[] = {
      {"insecure-skip-tls-verify",
       fmt("    server: https://h\n    certificate-authority: ca.crt\n"
           "    insecure-skip-tls-verify: true"),
       fmt("    token: t"), LB_EINVAL,
       "clusters[0].cluster.insecure-skip-tls-verify (of \"c\"): true is "
       "refused"},
      {"insecure yes (YAML 1.1)",
       fmt("    server: https://h\n    insecure-skip-tls-verify: yes"),
       fmt("    token: t"), LB_EINVAL, "insecure-skip-tls-verify"},
      {"insecure not a bool",
       fmt("    server: https://h\n    insecure-skip-tls-verify: maybe"),
       fmt("    token: t"), LB_EPARSE,
       "insecure-skip-tls-verify (of \"c\"): expected true or false "
       "(unquoted), found \"maybe\""},
      {"https without CA", fmt("    server: https://h:6443"),
       fmt("    token: t"), LB_EINVAL,
       "add certificate-authority (a PEM file) or certificate-authority-data"},
      {"missing server", fmt("    certificate-authority: ca.crt"),
       fmt("    token: t"), LB_EPARSE,
       "clusters[0].cluster.server (of \"c\"): missing"},
      {"server not a URL", fmt("    server: 127.0.0.1:6443"),
       fmt("    token: t"), LB_EINVAL, "is not an https:// (or http://) URL"},
      {"server is a mapping", fmt("    server: {url: x}"), fmt("    token: t"),
       LB_EPARSE,
       "clusters[0].cluster.server (of \"c\"): expected a string, "
       "found a mapping"},
      {"cert without key",
       fmt("    server: https://h\n    certificate-authority: ca.crt"),
       fmt("    client-certificate-data: %s", crt), LB_EINVAL,
       "users[0].user (of \"u\"): a client certificate without its key"},
      {"key without cert",
       fmt("    server: https://h\n    certificate-authority: ca.crt"),
       fmt("    client-key-data: %s", key), LB_EINVAL,
       "a client key without its certificate"},
      {"CA file missing",
       fmt("    server: https://h\n    certificate-authority: nope/ca.crt"),
       fmt("    token: t"), LB_EIO,
       "clusters[0].cluster.certificate-authority (of \"c\"): cannot read "},
      {"CA file is a directory",
       fmt("    server: https://h\n    certificate-authority: adir"),
       fmt("    token: t"), LB_EIO, "adir: Is a directory"},
      {"CA file is a device",
       fmt("    server: https://h\n    certificate-authority: /dev/null"),
       fmt("    token: t"), LB_EIO, "/dev/null: not a regular file"},
      {"CA file empty",
       fmt("    server: https://h\n    certificate-authority: empty.crt"),
       fmt("    token: t"), LB_EINVAL, "empty.crt is empty"},
      {"token file missing",
       fmt("    server: https://h\n    certificate-authority: ca.crt"),
       fmt("    tokenFile: missing-token"), LB_EIO,
       "missing-token: No such file or directory"},
      {"client key file missing",
       fmt("    server: https://h\n    certificate-authority: ca.crt"),
       fmt("    client-certificate: ca.crt\n    client-key: k.pem"), LB_EIO,
       "users[0].user.client-key (of \"u\"): cannot read"},
      {"CA file and data",
       fmt("    server: https://h\n    certificate-authority: ca.crt\n"
           "    certificate-authority-data: %s",
           ca),
       fmt("    token: t"), LB_EINVAL,
       "both certificate-authority and certificate-authority-data"},
      {"token and tokenFile",
       fmt("    server: https://h\n    certificate-authority: ca.crt"),
       fmt("    token: t\n    tokenFile: tok"), LB_EINVAL,
       "both token and tokenFile"},
      {"cert file and data",
       fmt("    server: https://h\n    certificate-authority: ca.crt"),
       fmt("    client-certificate: ca.crt\n    client-certificate-data: %s\n"
           "    client-key-data: %s",
           crt, key),
       LB_EINVAL, "both client-certificate and client-certificate-data"},
      {"bad base64",
       fmt("    server: https://h\n    certificate-authority-data: "
           "'-----BEGIN CERTIFICATE-----'"),
       fmt("    token: t"), LB_EPARSE,
       "certificate-authority-data (of \"c\"): not valid base64"},
      {"base64 of not PEM",
       fmt("    server: https://h\n    certificate-authority-data: %s", notpem),
       fmt("    token: t"), LB_EINVAL, "not PEM"},
      {"exec only",
       fmt("    server: https://h\n    certificate-authority: ca.crt"),
       fmt("    exec:\n      command: aws"), LB_EINVAL,
       "users[0].user.exec (of \"u\"): not supported"},
      {"token with control characters",
       fmt("    server: https://h\n    certificate-authority: ca.crt"),
       fmt("    token: \"a\\r\\nX-Evil: 1\""), LB_EINVAL,
       "token (of \"u\"): contains control characters"},
      {"duplicate key",
       fmt("    server: https://h\n    server: https://evil\n"
           "    certificate-authority: ca.crt"),
       fmt("    token: t"), LB_EINVAL,
       "kubeconfig:7: clusters[0].cluster.server: given twice (first on line "
       "6)"},
  };
  for (size_t r = 0; r < LB_ARRAY_SIZE(rows); r++) {
    char *y = config(rows[r].cluster, rows[r].user);
    struct lb_kubeconfig k;
    char *err = NULL;
    int rc = parse(y, &k, &err);
    if (rc != rows[r].code || !err || !strstr(err, rows[r].needle) ||
        strncmp(err, "kubeconfig:", 11) != 0)
      lb_test_fail(__FILE__, __LINE__,
                   "row \"%s\": %s (want %s)\n  message: %s\n  want: %s",
                   rows[r].name, lb_err_name(rc), lb_err_name(rows[r].code),
                   err ? err : "(null)", rows[r].needle);
    ASSERT(k.server == NULL);
    free(err);
    free(y);
    free(rows[r].cluster);
    free(rows[r].user);
  }
  free(ca);
  free(crt);
  free(key);
  free(notpem);
}

TEST(kubeconfig_refusals_contexts) {
  refuse(__LINE__,
         "clusters: [{name: c, cluster: {server: 'http://h'}}]\n"
         "contexts: [{name: x, context: {cluster: c}}]\n",
         LB_EPARSE, "current-context: not set");
  refuse(__LINE__,
         "clusters: [{name: c, cluster: {server: 'http://h'}}]\n"
         "contexts: [{name: x, context: {cluster: c}}]\n"
         "current-context: nope\n",
         LB_EINVAL,
         "kubeconfig:3: current-context: \"nope\" is not the name of any "
         "entry of contexts");
  refuse(__LINE__,
         "clusters: [{name: c, cluster: {server: 'http://h'}}]\n"
         "contexts: [{name: x, context: {cluster: d}}]\n"
         "current-context: x\n",
         LB_EINVAL,
         "contexts[0].context.cluster (of \"x\"): \"d\" is not the name of "
         "any entry of clusters");
  refuse(__LINE__,
         "clusters: [{name: c, cluster: {server: 'http://h'}}]\n"
         "contexts: [{name: x, context: {cluster: c, user: nobody}}]\n"
         "current-context: x\n",
         LB_EINVAL, "\"nobody\" is not the name of any entry of users");
  refuse(__LINE__,
         "clusters: [{name: c, cluster: {server: 'http://h'}}]\n"
         "contexts: [{name: x, context: {user: u}}]\n"
         "current-context: x\n",
         LB_EPARSE, "contexts[0].context.cluster (of \"x\"): missing");
  refuse(__LINE__,
         "clusters: [{name: c, cluster: {server: 'http://h'}}]\n"
         "contexts:\n- {name: x, context: {cluster: c}}\n"
         "- {name: x, context: {cluster: c}}\n"
         "current-context: x\n",
         LB_EINVAL, "names must be unique");
}

TEST(kubeconfig_messages_name_the_file) {
  struct lb_kubeconfig k;
  char *err = NULL;
  put("bad.yaml", "clusters:\n- name: c\n  cluster:\n    server: https://h\n"
                  "contexts: [{name: x, context: {cluster: c}}]\n"
                  "current-context: x\n");
  ASSERT_EQ_INT(lb_kubeconfig_load("bad.yaml", &k, &err), LB_EINVAL);
  ASSERT_CONTAINS(err, "bad.yaml:2: clusters[0].cluster (of \"c\"): the "
                       "server is https but no CA is given");
  free(err);
  err = NULL;
  put("broken.yaml", "clusters: [\n  {name: c,\n");
  ASSERT_EQ_INT(lb_kubeconfig_load("broken.yaml", &k, &err), LB_EPARSE);
  ASSERT_CONTAINS(err, "broken.yaml:");
  ASSERT_CONTAINS(err, "not valid YAML");
  free(err);
  err = NULL;
  ASSERT_EQ_INT(lb_kubeconfig_load("missing.yaml", &k, &err), LB_ENOENT);
  ASSERT_CONTAINS(err, "missing.yaml: No such file or directory");
  free(err);
  err = NULL;
  ASSERT_OK(mkdir("d", 0700));
  ASSERT_EQ_INT(lb_kubeconfig_load("d", &k, &err), LB_EIO);
  ASSERT_CONTAINS(err, "cannot read kubeconfig d: Is a directory");
  free(err);
  err = NULL;
  /* a kubeconfig may come through a pipe or device; /dev/null is empty */
  ASSERT_EQ_INT(lb_kubeconfig_load("/dev/null", &k, &err), LB_EPARSE);
  ASSERT_CONTAINS(err, "/dev/null: empty; expected a kubeconfig");
  free(err);
  lb_kubeconfig_release(&k);
}

/* ---- malformed YAML: never a crash, always a message --------------------- */
static void must_fail(int line, const char *name, const char *yaml,
                      size_t len) {
  struct lb_kubeconfig k;
  char *err = NULL;
  int rc = lb_kubeconfig_parse(yaml, len, ".", &k, &err);
  if (rc != LB_EPARSE && rc != LB_EINVAL)
    lb_test_fail(__FILE__, line, "case \"%s\": %s (err %s)", name,
                 lb_err_name(rc), err ? err : "(null)");
  if (!err || strncmp(err, "kubeconfig", 10) != 0)
    lb_test_fail(__FILE__, line, "case \"%s\": message %s", name,
                 err ? err : "(null)");
  lb_kubeconfig_release(&k);
  free(err);
}

TEST(kubeconfig_malformed_yaml) {
  static const struct {
    const char *name, *yaml;
    size_t len; /* 0: strlen */
  } rows[] = {
      {"empty", "", 0},
      {"whitespace", "  \n\n", 0},
      {"document marker only", "---\n", 0},
      {"comment only", "# nothing\n", 0},
      {"scalar root", "just a string\n", 0},
      {"sequence root", "- a\n- b\n", 0},
      {"unclosed flow", "clusters: [\n", 0},
      {"unclosed mapping", "{", 0},
      {"closers", "]]]}}}", 0},
      {"colon", ":", 0},
      {"tab indent", "clusters:\n\t- name: c\n", 0},
      {"bad indent", "a: b\n  c: d\n", 0},
      {"undefined alias", "current-context: *nope\n", 0},
      {"self alias", "a: &a [*a]\ncurrent-context: x\n", 0},
      {"alias as key", "&k current-context: x\n*k : y\n", 0},
      {"bad directive", "%YAML 9.9\n---\na: b\n", 0},
      {"two documents", "current-context: x\n---\ncurrent-context: y\n", 0},
      {"NUL byte", "current-context: x\0\n", 20},
      {"NUL in quoted scalar", "current-context: \"a\\0b\"\n", 0},
      {"invalid UTF-8", "current-context: \xff\xfe\n", 0},
      {"UTF-16 BOM garbage", "\xfe\xff\x00\x61", 4},
      {"binary", "\x01\x02\x03\x04", 0},
      {"current-context is a list", "current-context: [a, b]\n", 0},
      {"current-context is a map", "current-context: {a: b}\n", 0},
      {"contexts is a string", "current-context: x\ncontexts: hello\n", 0},
      {"contexts is a map", "current-context: x\ncontexts: {x: y}\n", 0},
      {"context entry is a string", "current-context: x\ncontexts: [x]\n", 0},
      {"context name is a list",
       "current-context: x\ncontexts: [{name: [x]}]\n", 0},
      {"context body is a list",
       "current-context: x\ncontexts: [{name: x, context: [c]}]\n", 0},
      {"clusters is a number",
       "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
       "clusters: 5\n",
       0},
      {"cluster body is a string",
       "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
       "clusters: [{name: c, cluster: https://h}]\n",
       0},
      {"users is a map",
       "current-context: x\ncontexts: [{name: x, context: {cluster: c, "
       "user: u}}]\nclusters: [{name: c, cluster: {server: http://h}}]\n"
       "users: {u: {token: t}}\n",
       0},
      {"token is a list",
       "current-context: x\ncontexts: [{name: x, context: {cluster: c, "
       "user: u}}]\nclusters: [{name: c, cluster: {server: http://h}}]\n"
       "users: [{name: u, user: {token: [t]}}]\n",
       0},
      {"duplicate top-level key", "current-context: x\ncurrent-context: y\n",
       0},
  };
  for (size_t r = 0; r < LB_ARRAY_SIZE(rows); r++)
    must_fail(__LINE__, rows[r].name, rows[r].yaml,
              rows[r].len ? rows[r].len : strlen(rows[r].yaml));
}

TEST(kubeconfig_alias_bomb_and_deep_nesting) {
  struct lb_buf b = LB_BUF_INIT;
  struct lb_kubeconfig k;
  char *err = NULL;
  /* billion laughs: 10^9 leaves if anything expanded aliases */
  lb_buf_adds(&b,
              "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
  for (int i = 1; i <= 9; i++)
    lb_buf_addf(&b,
                "a%d: &a%d [*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,"
                "*a%d]\n",
                i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
                i - 1, i - 1);
  lb_buf_adds(&b, "clusters: *a9\ncontexts: *a9\nusers: *a9\n"
                  "current-context: lol\n");
  ASSERT_EQ_INT(lb_kubeconfig_parse(b.p, b.len, ".", &k, &err), LB_EPARSE);
  ASSERT_CONTAINS(err, "contexts[0]: expected a mapping");
  free(err);
  lb_buf_release(&b);

  /* 100k levels of flow nesting */
  for (int i = 0; i < 100000; i++)
    lb_buf_add(&b, "[", 1);
  for (int i = 0; i < 100000; i++)
    lb_buf_add(&b, "]", 1);
  must_fail(__LINE__, "deep flow", b.p, b.len);
  ASSERT_EQ_INT(lb_kubeconfig_parse(b.p, b.len, ".", &k, &err), LB_EPARSE);
  ASSERT_CONTAINS(err, "kubeconfig:1: brackets nested deeper than 64 levels");
  free(err);
  lb_buf_reset(&b);
  /* 60 levels around a wide list stays fast and is simply not a config */
  for (int i = 0; i < 60; i++)
    lb_buf_add(&b, "[", 1);
  for (int i = 0; i < 200000; i++)
    lb_buf_add(&b, "a,", 2);
  for (int i = 0; i < 60; i++)
    lb_buf_add(&b, "]", 1);
  must_fail(__LINE__, "wide and deep flow", b.p, b.len);
  lb_buf_reset(&b);
  /* 20k levels of block nesting */
  for (int i = 0; i < 20000; i++)
    lb_buf_addf(&b, "%*sk:\n", i % 200, "");
  must_fail(__LINE__, "deep block", b.p, b.len);
  lb_buf_release(&b);
}

TEST(kubeconfig_huge_documents) {
  struct lb_buf b = LB_BUF_INIT;
  struct lb_kubeconfig k;
  char *err = NULL, *big;
  /* 50k clusters; the one we want is last */
  lb_buf_adds(&b, "clusters:\n");
  for (int i = 0; i < 50000; i++)
    lb_buf_addf(&b, "- name: c%d\n  cluster: {server: 'http://h%d:80'}\n", i,
                i);
  lb_buf_adds(&b, "contexts: [{name: x, context: {cluster: c49999}}]\n"
                  "current-context: x\n");
  ASSERT_OK(lb_kubeconfig_parse(b.p, b.len, ".", &k, &err));
  ASSERT_EQ_STR(k.server, "http://h49999:80");
  lb_kubeconfig_release(&k);
  lb_buf_release(&b);

  /* a 4 MiB token is accepted as is */
  lb_buf_adds(&b, "clusters: [{name: c, cluster: {server: 'http://h'}}]\n"
                  "users: [{name: u, user: {token: ");
  for (int i = 0; i < 4 << 20; i += 64)
    lb_buf_adds(&b, "abcdefghabcdefghabcdefghabcdefghabcdefghabcdefghabcdefgh"
                    "abcdefgh");
  lb_buf_adds(&b, "}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
                  "current-context: x\n");
  ASSERT_OK(lb_kubeconfig_parse(b.p, b.len, ".", &k, &err));
  ASSERT_EQ_INT(strlen(k.token), 4 << 20);
  lb_kubeconfig_release(&k);
  lb_buf_release(&b);

  /* past the size limit: refused before parsing */
  big = malloc(((size_t)16 << 20) + 2);
  ASSERT(big != NULL);
  memset(big, ' ', ((size_t)16 << 20) + 1);
  ASSERT_EQ_INT(lb_kubeconfig_parse(big, ((size_t)16 << 20) + 1, ".", &k, &err),
                LB_EPARSE);
  ASSERT_CONTAINS(err, "larger than 16 MiB");
  free(err);
  free(big);
}

/* Random byte mutations of a valid kubeconfig: 0 or a clean error with a
 * message, never a crash or leak (LeakSanitizer checks in build-san). */
TEST(kubeconfig_mutations_never_crash) {
  char *d = b64(PEM_CA), *body, *y;
  uint64_t s = 7;
  int ok = 0;
  put("ca.crt", PEM_CA);
  body = fmt("    server: https://h:6443\n    certificate-authority: ca.crt\n"
             "    certificate-authority-data: %s",
             d);
  y = config(body, "    token: t\n    client-certificate: ca.crt");
  size_t n = strlen(y);
  char *m = malloc(n + 1);
  ASSERT(m != NULL);
  for (int round = 0; round < 4000; round++) {
    struct lb_kubeconfig k;
    char *err = NULL;
    int rc;
    memcpy(m, y, n + 1);
    for (int f = 0; f < 1 + round % 5; f++) {
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      m[s % n] = "{}[]:,-&*!|>'\"\n #\tabcx0"[(s >> 32) % 24];
    }
    rc = lb_kubeconfig_parse(m, n, lb_test_dir(), &k, &err);
    if (rc == 0) {
      ok++;
      ASSERT(k.server != NULL && err == NULL);
    } else {
      ASSERT(rc < 0 && err != NULL && k.server == NULL);
    }
    lb_kubeconfig_release(&k);
    free(err);
  }
  ASSERT(ok < 4000);
  free(m);
  free(y);
  free(body);
  free(d);
}

/* ---- search order ---------------------------------------------------------
 */
static void clear_env(void) {
  unsetenv("KUBECONFIG");
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  unsetenv("LB_SA_DIR");
  setenv("HOME", lb_test_dir(), 1);
}

static void write_sa(const char *dir, int with_ns) {
  char *p;
  ASSERT_OK(mkdir(dir, 0700));
  p = fmt("%s/token", dir);
  put(p, "eyJhbGciOiJSUzI1NiJ9.sa-token\n");
  free(p);
  p = fmt("%s/ca.crt", dir);
  put(p, PEM_CA);
  free(p);
  if (with_ns) {
    p = fmt("%s/namespace", dir);
    put(p, "kruise-system");
    free(p);
  }
}

TEST(kubeconfig_in_cluster) {
  struct lb_kubeconfig k;
  char *err = NULL;
  clear_env();
  write_sa("sa", 1);
  setenv("LB_SA_DIR", "sa", 1);
  setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  ASSERT_OK(lb_kubeconfig_load(NULL, &k, &err));
  ASSERT_EQ_STR(k.server, "https://10.0.0.1:443");
  ASSERT_EQ_STR(k.token, "eyJhbGciOiJSUzI1NiJ9.sa-token");
  ASSERT_EQ_STR(k.token_file, "sa/token");
  ASSERT_EQ_STR(k.ca_file, "sa/ca.crt");
  ASSERT_EQ_STR(k.context, "");
  ASSERT_EQ_STR(k.source, "in-cluster");
  ASSERT_EQ_STR(k.namespace, "kruise-system");
  lb_kubeconfig_release(&k);

  /* IPv6 service host gets brackets */
  setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
  ASSERT_OK(lb_kubeconfig_load(NULL, &k, &err));
  ASSERT_EQ_STR(k.server, "https://[fd00:10:96::1]:6443");
  lb_kubeconfig_release(&k);

  /* no namespace file is fine */
  unlink("sa/namespace");
  ASSERT_OK(lb_kubeconfig_load(NULL, &k, &err));
  ASSERT(k.namespace == NULL);
  lb_kubeconfig_release(&k);
}

TEST(kubeconfig_in_cluster_refusals) {
  struct lb_kubeconfig k;
  char *err = NULL;
  clear_env();
  write_sa("sa", 0);
  setenv("LB_SA_DIR", "sa", 1);
  setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "https", 1);
  ASSERT_EQ_INT(lb_kubeconfig_load(NULL, &k, &err), LB_EINVAL);
  ASSERT_CONTAINS(err, "KUBERNETES_SERVICE_PORT=\"https\"");
  free(err);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  unlink("sa/token");
  ASSERT_EQ_INT(lb_kubeconfig_load(NULL, &k, &err), LB_EIO);
  ASSERT_CONTAINS(err, "sa/token: No such file or directory");
  free(err);
  put("sa/token", "  \n");
  ASSERT_EQ_INT(lb_kubeconfig_load(NULL, &k, &err), LB_EINVAL);
  ASSERT_CONTAINS(err, "sa/token is empty");
  free(err);
  put("sa/token", "t");
  unlink("sa/ca.crt");
  ASSERT_EQ_INT(lb_kubeconfig_load(NULL, &k, &err), LB_EIO);
  ASSERT_CONTAINS(err, "sa/ca.crt: No such file or directory");
  free(err);
  /* the default directory is used without LB_SA_DIR (absent here) */
  unsetenv("LB_SA_DIR");
  if (access("/var/run/secrets/kubernetes.io/serviceaccount/token", F_OK) !=
      0) {
    ASSERT_EQ_INT(lb_kubeconfig_load(NULL, &k, &err), LB_EIO);
    ASSERT_CONTAINS(err, "/var/run/secrets/kubernetes.io/serviceaccount/token");
    free(err);
  }
  lb_kubeconfig_release(&k);
}

static char *small_config(const char *server) {
  return fmt("clusters: [{name: c, cluster: {server: '%s'}}]\n"
             "contexts: [{name: x, context: {cluster: c}}]\n"
             "current-context: x\n",
             server);
}

TEST(kubeconfig_search_order) {
  struct lb_kubeconfig k;
  char *err = NULL, *y, *env;
  clear_env();
  ASSERT_OK(mkdir("b", 0700));
  ASSERT_OK(mkdir("c", 0700));
  ASSERT_OK(mkdir(".kube", 0700));
  y = small_config("http://b");
  put("b/config", y);
  free(y);
  y = small_config("http://c");
  put("c/config", y);
  free(y);
  y = small_config("http://home");
  put(".kube/config", y);
  free(y);
  y = small_config("http://explicit");
  put("explicit", y);
  free(y);
  write_sa("sa", 0);
  setenv("LB_SA_DIR", "sa", 1);

  /* KUBECONFIG: the first existing file of the list */
  setenv("KUBECONFIG", "missing1::missing2/config:b/config:c/config", 1);
  setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  ASSERT_OK(lb_kubeconfig_load(NULL, &k, &err));
  ASSERT_EQ_STR(k.server, "http://b");
  ASSERT_EQ_STR(k.source, "b/config");
  lb_kubeconfig_release(&k);

  /* an explicit path beats everything */
  ASSERT_OK(lb_kubeconfig_load("explicit", &k, &err));
  ASSERT_EQ_STR(k.server, "http://explicit");
  lb_kubeconfig_release(&k);

  /* KUBECONFIG names nothing that exists: in-cluster is next */
  setenv("KUBECONFIG", "missing1:missing2", 1);
  ASSERT_OK(lb_kubeconfig_load(NULL, &k, &err));
  ASSERT_EQ_STR(k.source, "in-cluster");
  lb_kubeconfig_release(&k);

  /* then ~/.kube/config */
  unsetenv("KUBERNETES_SERVICE_HOST");
  ASSERT_OK(lb_kubeconfig_load(NULL, &k, &err));
  ASSERT_EQ_STR(k.server, "http://home");
  env = fmt("%s/.kube/config", lb_test_dir());
  ASSERT_EQ_STR(k.source, env);
  free(env);
  lb_kubeconfig_release(&k);

  /* nothing at all */
  unlink(".kube/config");
  ASSERT_EQ_INT(lb_kubeconfig_load(NULL, &k, &err), LB_ENOENT);
  ASSERT_CONTAINS(err, "no kubeconfig found");
  ASSERT_CONTAINS(err, "KUBECONFIG=missing1:missing2");
  ASSERT_CONTAINS(err, ".kube/config");
  free(err);

  /* a broken first file is an error, not a reason to try the next */
  put("b/config", "clusters: [\n");
  setenv("KUBECONFIG", "b/config:c/config", 1);
  ASSERT_EQ_INT(lb_kubeconfig_load(NULL, &k, &err), LB_EPARSE);
  ASSERT_CONTAINS(err, "b/config:");
  free(err);
  lb_kubeconfig_release(&k);
}
