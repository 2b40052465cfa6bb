/* kubeconfig.c — finds and reads the apiserver address and credentials
 * (see kubeconfig.h for the search order and what is refused).
 *
 * The YAML is loaded with libyaml's document API. Aliases become shared
 * node ids (never copies), and this file only ever walks a fixed path
 * (root -> list -> entry -> field), so hostile documents — alias bombs,
 * self-referencing anchors, deep nesting — cost no more than their size.
 * Every message starts with "FILE:LINE:" and names the field as a path
 * ("clusters[1].cluster.server") plus the entry's name.
 */
#include "kubeconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "../engine/err.h"
#include "../engine/util.h"

#define MAX_KUBECONFIG ((size_t)16 << 20)
#define MAX_FILE ((size_t)16 << 20) /* CA bundles, certificates, tokens */
#define MAX_FLOW_DEPTH 64
#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* ---- messages -------------------------------------------------------- */
static int vfail(char **err, int code, const char *fmt, va_list ap) {
  va_list cp;
  int n;
  char *m;
  if (!err || *err)
    return code; /* keep the first message */
  va_copy(cp, ap);
  n = vsnprintf(NULL, 0, fmt, cp);
  va_end(cp);
  if (n < 0)
    return code;
  m = malloc((size_t)n + 1);
  if (m) {
    vsnprintf(m, (size_t)n + 1, fmt, ap);
    *err = m;
  }
  return code;
}

static int fail(char **err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char **err, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(err, code, fmt, ap);
  va_end(ap);
  return code;
}

/* ---- files ------------------------------------------------------------ */
#define E_NOTREG (-1) /* read_all: a FIFO, device or socket */

/* Reads a whole file (at most max bytes) into a NUL-terminated buffer.
 * Returns 0, an errno value (EFBIG when larger than max) or E_NOTREG.
 * Referenced files (CA, token, keys) must be regular files: a device or
 * FIFO named there could block or never end. The kubeconfig itself may be
 * a pipe (--kubeconfig <(...)); its size is still capped. */
static int read_all(const char *path, size_t max, int allow_pipe, char **out,
                    size_t *len) {
  struct stat st;
  char *b = NULL;
  size_t n = 0, cap = 0;
  int fd, e = 0;
  *out = NULL;
  *len = 0;
  fd = open(path, O_RDONLY | O_CLOEXEC | (allow_pipe ? 0 : O_NONBLOCK));
  if (fd < 0)
    return errno;
  if (fstat(fd, &st) != 0) {
    e = errno;
    goto out_close;
  }
  if (S_ISDIR(st.st_mode) || (!allow_pipe && !S_ISREG(st.st_mode))) {
    e = S_ISDIR(st.st_mode) ? EISDIR : E_NOTREG;
    goto out_close;
  }
  for (;;) {
    ssize_t r;
    if (n + 1 >= cap) {
      size_t nc = cap ? cap * 2 : 4096;
      char *nb;
      if (nc > max + 2)
        nc = max + 2;
      if (nc <= n + 1) {
        e = EFBIG;
        goto out_free;
      }
      nb = realloc(b, nc);
      if (!nb) {
        e = ENOMEM;
        goto out_free;
      }
      b = nb;
      cap = nc;
    }
    r = read(fd, b + n, cap - n - 1);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      e = errno;
      goto out_free;
    }
    if (r == 0)
      break;
    n += (size_t)r;
    if (n > max) {
      e = EFBIG;
      goto out_free;
    }
  }
  if (!b) {
    b = malloc(1);
    if (!b) {
      e = ENOMEM;
      goto out_close;
    }
  }
  b[n] = '\0';
  *out = b;
  *len = n;
  close(fd);
  return 0;
out_free:
  free(b);
out_close:
  close(fd);
  return e;
}

static const char *file_error(int e) {
  return e == E_NOTREG ? "not a regular file" : strerror(e);
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 || (errno != ENOENT && errno != ENOTDIR);
}

static char *path_join(const char *dir, const char *name) {
  struct lb_buf b = LB_BUF_INIT;
  if (name[0] == '/' || !dir || !dir[0])
    return lb_strdup(name);
  lb_buf_adds(&b, dir);
  if (b.len && b.p[b.len - 1] != '/')
    lb_buf_add(&b, "/", 1);
  lb_buf_adds(&b, name);
  if (b.err) {
    lb_buf_release(&b);
    return NULL;
  }
  return lb_buf_detach(&b, NULL);
}

static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return lb_strdup(".");
  if (slash == path)
    return lb_strdup("/");
  return lb_strndup(path, (size_t)(slash - path));
}

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trims whitespace in place; returns the new length. */
static size_t trim(char *s, size_t n) {
  size_t b = 0;
  while (b < n && is_space(s[b]))
    b++;
  while (n > b && is_space(s[n - 1]))
    n--;
  memmove(s, s + b, n - b);
  s[n - b] = '\0';
  return n - b;
}

static int has_ctl(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
      return 1;
  return 0;
}

static int contains(const char *h, size_t hn, const char *needle) {
  size_t nn = strlen(needle);
  for (size_t i = 0; i + nn <= hn; i++)
    if (memcmp(h + i, needle, nn) == 0)
      return 1;
  return 0;
}

/* ---- base64 (RFC 4648 standard alphabet; whitespace ignored) ---------- */
static int b64val(unsigned char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

/* Returns 0, -1 on invalid input, LB_ENOMEM. *out is NUL-terminated. */
static int b64_decode(const char *s, size_t n, char **out, size_t *outlen) {
  char *o = malloc(n / 4 * 3 + 4);
  uint32_t acc = 0;
  int bits = 0;
  size_t k = 0, chars = 0, pad = 0;
  if (!o)
    return LB_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    int v;
    if (is_space((char)c))
      continue;
    if (c == '=') {
      pad++;
      continue;
    }
    v = b64val(c);
    if (v < 0 || pad)
      goto bad;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    chars++;
    if (bits >= 8) {
      bits -= 8;
      o[k++] = (char)((acc >> bits) & 0xff);
    }
  }
  if (chars % 4 == 1 || pad > 2 || (pad && (chars + pad) % 4 != 0))
    goto bad;
  o[k] = '\0';
  *out = o;
  *outlen = k;
  return 0;
bad:
  free(o);
  return -1;
}

/* ---- YAML access -------------------------------------------------------- */
struct pc {
  yaml_document_t doc;
  const char *file;     /* for messages */
  const char *base_dir; /* resolves relative paths; may be NULL */
  char **err;
};

/* Field path of the selected entries, e.g. "clusters[2].cluster". */
struct entry {
  yaml_node_t *map; /* inner mapping ("cluster:"), NULL when empty */
  yaml_node_t *item;
  char path[160];
  const char *name;
};

static yaml_node_t *node(struct pc *c, int id) {
  return yaml_document_get_node(&c->doc, id);
}

static unsigned long line_of(const yaml_node_t *n) {
  return n ? (unsigned long)n->start_mark.line + 1 : 0;
}

static const char *kind(const yaml_node_t *n) {
  switch (n->type) {
  case YAML_SCALAR_NODE:
    return "scalar";
  case YAML_SEQUENCE_NODE:
    return "list";
  case YAML_MAPPING_NODE:
    return "mapping";
  default:
    return "nothing";
  }
}

static int at(struct pc *c, const yaml_node_t *n, int code, const char *fmt,
              ...) __attribute__((format(printf, 4, 5)));
static int at(struct pc *c, const yaml_node_t *n, int code, const char *fmt,
              ...) {
  struct lb_buf b = LB_BUF_INIT;
  char *msg = NULL;
  va_list ap;
  if (!c->err || *c->err)
    return code;
  va_start(ap, fmt);
  vfail(&msg, code, fmt, ap);
  va_end(ap);
  if (n)
    lb_buf_addf(&b, "%s:%lu: %s", c->file, line_of(n), msg ? msg : "");
  else
    lb_buf_addf(&b, "%s: %s", c->file, msg ? msg : "");
  free(msg);
  if (!b.err)
    *c->err = lb_buf_detach(&b, NULL);
  lb_buf_release(&b);
  return code;
}

static int is_null(const yaml_node_t *n) {
  static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
  if (!n || n->type != YAML_SCALAR_NODE ||
      n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return 0;
  for (size_t i = 0; i < LB_ARRAY_SIZE(nulls); i++)
    if (n->data.scalar.length == strlen(nulls[i]) &&
        memcmp(n->data.scalar.value, nulls[i], n->data.scalar.length) == 0)
      return 1;
  return 0;
}

static int scalar_is(const yaml_node_t *n, const char *s) {
  return n && n->type == YAML_SCALAR_NODE &&
         n->data.scalar.length == strlen(s) &&
         memcmp(n->data.scalar.value, s, n->data.scalar.length) == 0;
}

/* *out = value of `key` in mapping m (NULL when absent or null). A key
 * given twice is refused: which one wins differs between YAML readers. */
static int map_get(struct pc *c, yaml_node_t *m, const char *path,
                   const char *key, yaml_node_t **out) {
  yaml_node_pair_t *pr;
  yaml_node_t *found = NULL, *found_key = NULL;
  *out = NULL;
  if (!m || m->type != YAML_MAPPING_NODE)
    return 0;
  for (pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
    yaml_node_t *k = node(c, pr->key);
    if (!scalar_is(k, key))
      continue;
    if (found_key)
      return at(c, k, LB_EINVAL,
                "%s%s%s: given twice (first on line %lu); keep one", path,
                *path ? "." : "", key, line_of(found_key));
    found_key = k;
    found = node(c, pr->value);
  }
  if (found && !is_null(found))
    *out = found;
  return 0;
}

/* String field: NULL when absent, null or "". */
static int get_str(struct pc *c, yaml_node_t *m, const char *path,
                   const char *what, const char *key, char **out,
                   yaml_node_t **where) {
  yaml_node_t *v;
  int rc = map_get(c, m, path, key, &v);
  *out = NULL;
  if (where)
    *where = v;
  if (rc || !v)
    return rc;
  if (v->type != YAML_SCALAR_NODE)
    return at(c, v, LB_EPARSE, "%s%s%s%s: expected a string, found a %s", path,
              *path ? "." : "", key, what, kind(v));
  if (memchr(v->data.scalar.value, '\0', v->data.scalar.length))
    return at(c, v, LB_EPARSE, "%s%s%s%s: contains a NUL character", path,
              *path ? "." : "", key, what);
  if (v->data.scalar.length == 0)
    return 0;
  *out = lb_strndup((const char *)v->data.scalar.value, v->data.scalar.length);
  return *out ? 0 : LB_ENOMEM;
}

/* YAML 1.1 booleans, as kubectl's YAML reader understands them. */
static int get_bool(struct pc *c, yaml_node_t *m, const char *path,
                    const char *what, const char *key, int *out) {
  static const char *const yes[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                    "True", "TRUE", "on",  "On",  "ON"};
  static const char *const no[] = {"n",   "N",     "no",    "No",
                                   "NO",  "false", "False", "FALSE",
                                   "off", "Off",   "OFF"};
  yaml_node_t *v;
  int rc = map_get(c, m, path, key, &v);
  *out = 0;
  if (rc || !v)
    return rc;
  if (v->type == YAML_SCALAR_NODE &&
      v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
    for (size_t i = 0; i < LB_ARRAY_SIZE(yes); i++) {
      if (scalar_is(v, yes[i])) {
        *out = 1;
        return 0;
      }
      if (scalar_is(v, no[i]))
        return 0;
    }
  }
  if (v->type == YAML_SCALAR_NODE)
    return at(c, v, LB_EPARSE,
              "%s%s%s%s: expected true or false (unquoted), found \"%.40s\"",
              path, *path ? "." : "", key, what,
              (const char *)v->data.scalar.value);
  return at(c, v, LB_EPARSE, "%s%s%s%s: expected true or false, found a %s",
            path, *path ? "." : "", key, what, kind(v));
}

/* Finds the entry of list `list` (clusters, users, contexts) whose name is
 * `name`, and its inner mapping `inner`. Returns 0 with e->item NULL when
 * there is none. */
static int find_entry(struct pc *c, yaml_node_t *root, const char *list,
                      const char *inner, const char *name, struct entry *e) {
  yaml_node_t *seq, *v;
  yaml_node_item_t *it;
  size_t i = 0;
  int rc;
  memset(e, 0, sizeof *e);
  e->name = name;
  rc = map_get(c, root, "", list, &seq);
  if (rc || !seq)
    return rc;
  if (seq->type != YAML_SEQUENCE_NODE)
    return at(c, seq, LB_EPARSE,
              "%s: expected a list of entries with name and %s, found a %s",
              list, inner, kind(seq));
  for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
       it++, i++) {
    yaml_node_t *item = node(c, *it);
    char path[64], *n = NULL;
    if (!item)
      continue;
    snprintf(path, sizeof path, "%s[%zu]", list, i);
    if (item->type != YAML_MAPPING_NODE)
      return at(c, item, LB_EPARSE,
                "%s: expected a mapping with name and %s, found a %s", path,
                inner, kind(item));
    rc = get_str(c, item, path, "", "name", &n, NULL);
    if (rc)
      return rc;
    if (!n || strcmp(n, name) != 0) {
      free(n);
      continue;
    }
    free(n);
    if (e->item)
      return at(c, item, LB_EINVAL,
                "%s: a second entry named \"%s\" (the first is %s); names "
                "must be unique",
                path, name, e->path);
    e->item = item;
    snprintf(e->path, sizeof e->path, "%s.%s", path, inner);
    rc = map_get(c, item, path, inner, &v);
    if (rc)
      return rc;
    if (v && v->type != YAML_MAPPING_NODE)
      return at(c, v, LB_EPARSE, "%s: expected a mapping, found a %s", e->path,
                kind(v));
    e->map = v;
  }
  return 0;
}

/* Reads a referenced file to check it is usable; *data optional. */
static int check_file(struct pc *c, const yaml_node_t *where, const char *field,
                      const char *what, const char *path, char **data,
                      size_t *len) {
  char *b;
  size_t n;
  int e = read_all(path, MAX_FILE, 0, &b, &n);
  if (e == ENOMEM)
    return LB_ENOMEM;
  if (e == EFBIG)
    return at(c, where, LB_EINVAL, "%s%s: %s is larger than %zu MiB", field,
              what, path, MAX_FILE >> 20);
  if (e)
    return at(c, where, LB_EIO, "%s%s: cannot read %s: %s", field, what, path,
              file_error(e));
  n = trim(b, n);
  if (n == 0) {
    free(b);
    return at(c, where, LB_EINVAL, "%s%s: %s is empty", field, what, path);
  }
  if (data) {
    *data = b;
    *len = n;
  } else {
    free(b);
  }
  return 0;
}

/* A path field, resolved against the kubeconfig's directory and checked. */
static int get_path(struct pc *c, struct entry *e, const char *key,
                    char **out) {
  yaml_node_t *where;
  char *raw, *full, field[256], what[96];
  int rc;
  *out = NULL;
  snprintf(what, sizeof what, " (of \"%s\")", e->name);
  rc = get_str(c, e->map, e->path, what, key, &raw, &where);
  if (rc || !raw)
    return rc;
  full = path_join(c->base_dir, raw);
  free(raw);
  if (!full)
    return LB_ENOMEM;
  snprintf(field, sizeof field, "%s.%s", e->path, key);
  rc = check_file(c, where, field, what, full, NULL, NULL);
  if (rc) {
    free(full);
    return rc;
  }
  *out = full;
  return 0;
}

/* An inline base64 PEM field (…-data). */
static int get_pem(struct pc *c, struct entry *e, const char *key, char **out,
                   size_t *len) {
  yaml_node_t *where;
  char *raw, what[96];
  int rc;
  *out = NULL;
  *len = 0;
  snprintf(what, sizeof what, " (of \"%s\")", e->name);
  rc = get_str(c, e->map, e->path, what, key, &raw, &where);
  if (rc || !raw)
    return rc;
  rc = b64_decode(raw, strlen(raw), out, len);
  free(raw);
  if (rc == LB_ENOMEM)
    return rc;
  if (rc)
    return at(c, where, LB_EPARSE,
              "%s.%s%s: not valid base64; it holds the base64 of a PEM file "
              "(`base64 -w0 FILE`), or use the field without -data for a path",
              e->path, key, what);
  if (!contains(*out, *len, "-----BEGIN ")) {
    free(*out);
    *out = NULL;
    *len = 0;
    return at(c, where, LB_EINVAL,
              "%s.%s%s: decodes to something that is not PEM (no "
              "\"-----BEGIN\" line)",
              e->path, key, what);
  }
  return 0;
}

/* ---- the kubeconfig itself ---------------------------------------------- */
static int server_of(struct pc *c, struct entry *cl, struct lb_kubeconfig *k,
                     int *https) {
  yaml_node_t *where;
  char what[96];
  size_t n;
  int rc;
  snprintf(what, sizeof what, " (of \"%s\")", cl->name);
  rc = get_str(c, cl->map, cl->path, what, "server", &k->server, &where);
  if (rc)
    return rc;
  if (!k->server)
    return at(c, cl->item, LB_EPARSE,
              "%s.server%s: missing; set it to the apiserver URL, e.g. "
              "https://127.0.0.1:6443",
              cl->path, what);
  n = strlen(k->server);
  while (n > 0 && k->server[n - 1] == '/')
    k->server[--n] = '\0';
  *https = strncmp(k->server, "https://", 8) == 0;
  if ((!*https && strncmp(k->server, "http://", 7) != 0) ||
      n <= (size_t)(*https ? 8 : 7) || has_ctl(k->server, n) ||
      strchr(k->server, ' '))
    return at(c, where, LB_EINVAL,
              "%s.server%s: \"%s\" is not an https:// (or http://) URL",
              cl->path, what, k->server);
  return 0;
}

static int cluster_of(struct pc *c, struct entry *cl, struct lb_kubeconfig *k) {
  yaml_node_t *ca_where, *data_where;
  char what[96];
  int https = 0, insecure = 0, rc;
  snprintf(what, sizeof what, " (of \"%s\")", cl->name);
  rc = server_of(c, cl, k, &https);
  if (rc)
    return rc;
  rc = get_bool(c, cl->map, cl->path, what, "insecure-skip-tls-verify",
                &insecure);
  if (rc)
    return rc;
  if (insecure) {
    yaml_node_t *v;
    map_get(c, cl->map, cl->path, "insecure-skip-tls-verify", &v);
    return at(c, v, LB_EINVAL,
              "%s.insecure-skip-tls-verify%s: true is refused: logbook always "
              "verifies the apiserver's certificate; remove it and set "
              "certificate-authority or certificate-authority-data",
              cl->path, what);
  }
  rc = map_get(c, cl->map, cl->path, "certificate-authority", &ca_where);
  if (!rc)
    rc = map_get(c, cl->map, cl->path, "certificate-authority-data",
                 &data_where);
  if (rc)
    return rc;
  if (ca_where && data_where)
    return at(c, data_where, LB_EINVAL,
              "%s%s: both certificate-authority and "
              "certificate-authority-data are set; keep one",
              cl->path, what);
  rc = get_path(c, cl, "certificate-authority", &k->ca_file);
  if (!rc)
    rc = get_pem(c, cl, "certificate-authority-data", &k->ca_pem,
                 &k->ca_pem_len);
  if (rc)
    return rc;
  if (https && !k->ca_file && !k->ca_pem)
    return at(
        c, cl->item, LB_EINVAL,
        "%s%s: the server is https but no CA is given; add "
        "certificate-authority (a PEM file) or certificate-authority-data "
        "(base64 PEM) so the apiserver's certificate can be verified",
        cl->path, what);
  return 0;
}

static int token_of(struct pc *c, struct entry *u, struct lb_kubeconfig *k) {
  yaml_node_t *tw, *fw;
  char what[96], *raw = NULL;
  size_t n;
  int rc;
  snprintf(what, sizeof what, " (of \"%s\")", u->name);
  rc = get_str(c, u->map, u->path, what, "token", &k->token, &tw);
  if (!rc)
    rc = get_str(c, u->map, u->path, what, "tokenFile", &raw, &fw);
  if (rc)
    goto out;
  if (k->token && raw) {
    rc = at(c, fw, LB_EINVAL,
            "%s%s: both token and tokenFile are set; keep one", u->path, what);
    goto out;
  }
  if (k->token) {
    n = trim(k->token, strlen(k->token));
    if (n == 0) {
      free(k->token);
      k->token = NULL;
    } else if (has_ctl(k->token, n)) {
      rc = at(c, tw, LB_EINVAL, "%s.token%s: contains control characters",
              u->path, what);
    }
  } else if (raw) {
    char field[256];
    k->token_file = path_join(c->base_dir, raw);
    if (!k->token_file) {
      rc = LB_ENOMEM;
      goto out;
    }
    snprintf(field, sizeof field, "%s.tokenFile", u->path);
    rc = check_file(c, fw, field, what, k->token_file, &k->token, &n);
    if (!rc && has_ctl(k->token, n))
      rc = at(c, fw, LB_EINVAL, "%s%s: token in %s contains control characters",
              field, what, k->token_file);
  }
out:
  free(raw);
  return rc;
}

/* One of a client certificate or key: file or inline data, not both. */
static int tls_part(struct pc *c, struct entry *u, const char *key,
                    const char *data_key, char **file, char **pem,
                    size_t *len) {
  yaml_node_t *fw, *dw;
  int rc = map_get(c, u->map, u->path, key, &fw);
  if (!rc)
    rc = map_get(c, u->map, u->path, data_key, &dw);
  if (rc)
    return rc;
  if (fw && dw)
    return at(c, dw, LB_EINVAL,
              "%s (of \"%s\"): both %s and %s are set; keep one", u->path,
              u->name, key, data_key);
  rc = get_path(c, u, key, file);
  if (!rc)
    rc = get_pem(c, u, data_key, pem, len);
  return rc;
}

static int user_of(struct pc *c, struct entry *u, struct lb_kubeconfig *k) {
  static const char *const unsupported[] = {"exec", "auth-provider", "username",
                                            "password"};
  int rc = token_of(c, u, k);
  if (!rc)
    rc = tls_part(c, u, "client-certificate", "client-certificate-data",
                  &k->cert_file, &k->cert_pem, &k->cert_pem_len);
  if (!rc)
    rc = tls_part(c, u, "client-key", "client-key-data", &k->key_file,
                  &k->key_pem, &k->key_pem_len);
  if (rc)
    return rc;
  if ((k->cert_file || k->cert_pem) && !(k->key_file || k->key_pem))
    return at(c, u->item, LB_EINVAL,
              "%s (of \"%s\"): a client certificate without its key; add "
              "client-key or client-key-data",
              u->path, u->name);
  if (!(k->cert_file || k->cert_pem) && (k->key_file || k->key_pem))
    return at(c, u->item, LB_EINVAL,
              "%s (of \"%s\"): a client key without its certificate; add "
              "client-certificate or client-certificate-data",
              u->path, u->name);
  if (k->token || k->cert_file || k->cert_pem)
    return 0;
  for (size_t i = 0; i < LB_ARRAY_SIZE(unsupported); i++) {
    yaml_node_t *v;
    rc = map_get(c, u->map, u->path, unsupported[i], &v);
    if (rc)
      return rc;
    if (v)
      return at(c, v, LB_EINVAL,
                "%s.%s (of \"%s\"): not supported; give the user a token, "
                "tokenFile or client-certificate + client-key",
                u->path, unsupported[i], u->name);
  }
  return 0; /* anonymous */
}

static int parse_doc(struct pc *c, struct lb_kubeconfig *k) {
  yaml_node_t *root = yaml_document_get_root_node(&c->doc), *where, *uwhere;
  struct entry cx, cl, us;
  char *cluster = NULL, *user = NULL, what[96];
  int rc;
  if (!root)
    return at(c, NULL, LB_EPARSE,
              "empty; expected a kubeconfig (kind: Config) with clusters, "
              "users, contexts and current-context");
  if (root->type != YAML_MAPPING_NODE)
    return at(c, root, LB_EPARSE,
              "top level is a %s; expected a kubeconfig mapping (kind: Config)",
              kind(root));
  rc = get_str(c, root, "", "", "current-context", &k->context, &where);
  if (rc)
    return rc;
  if (!k->context)
    return at(c, root, LB_EPARSE,
              "current-context: not set; set it to the name of one of the "
              "contexts (kubectl config use-context NAME)");
  rc = find_entry(c, root, "contexts", "context", k->context, &cx);
  if (rc)
    return rc;
  if (!cx.item)
    return at(c, where, LB_EINVAL,
              "current-context: \"%s\" is not the name of any entry of "
              "contexts",
              k->context);
  snprintf(what, sizeof what, " (of \"%s\")", k->context);
  rc = get_str(c, cx.map, cx.path, what, "cluster", &cluster, &where);
  if (!rc)
    rc = get_str(c, cx.map, cx.path, what, "user", &user, &uwhere);
  if (!rc)
    rc = get_str(c, cx.map, cx.path, what, "namespace", &k->namespace, NULL);
  if (rc)
    goto out;
  if (!cluster) {
    rc = at(c, cx.item, LB_EPARSE, "%s.cluster%s: missing", cx.path, what);
    goto out;
  }
  rc = find_entry(c, root, "clusters", "cluster", cluster, &cl);
  if (rc)
    goto out;
  if (!cl.item) {
    rc = at(c, where, LB_EINVAL,
            "%s.cluster%s: \"%s\" is not the name of any entry of clusters",
            cx.path, what, cluster);
    goto out;
  }
  rc = cluster_of(c, &cl, k);
  if (rc || !user)
    goto out; /* no user: anonymous */
  rc = find_entry(c, root, "users", "user", user, &us);
  if (rc)
    goto out;
  if (!us.item) {
    rc = at(c, uwhere, LB_EINVAL,
            "%s.user%s: \"%s\" is not the name of any entry of users", cx.path,
            what, user);
    goto out;
  }
  rc = user_of(c, &us, k);
out:
  free(cluster);
  free(user);
  return rc;
}

/* libyaml's scanner does work proportional to the flow nesting depth for
 * every token (its simple-key list has one slot per level), so deep "[[[["
 * documents take minutes. A kubeconfig nests flow collections a few levels
 * at most; brackets are counted without regard to quoting, which can only
 * over-count. Returns the 1-based line of the first too-deep bracket, or 0. */
static unsigned long too_deep(const char *s, size_t n) {
  unsigned long line = 1;
  size_t depth = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\n')
      line++;
    else if (s[i] == '[' || s[i] == '{') {
      if (++depth > MAX_FLOW_DEPTH)
        return line;
    } else if ((s[i] == ']' || s[i] == '}') && depth > 0)
      depth--;
  }
  return 0;
}

static int parse_named(const char *yaml, size_t len, const char *base_dir,
                       const char *file, struct lb_kubeconfig *out,
                       char **err) {
  struct pc c;
  yaml_parser_t parser;
  yaml_document_t extra;
  struct lb_kubeconfig k;
  unsigned long line;
  int rc;
  memset(&c, 0, sizeof c);
  memset(&k, 0, sizeof k);
  c.file = file;
  c.base_dir = base_dir;
  c.err = err;
  if (len > MAX_KUBECONFIG)
    return fail(err, LB_EPARSE, "%s: larger than %zu MiB; not a kubeconfig",
                file, MAX_KUBECONFIG >> 20);
  if ((line = too_deep(yaml, len)) != 0)
    return fail(err, LB_EPARSE,
                "%s:%lu: brackets nested deeper than %d levels; not a "
                "kubeconfig",
                file, line, MAX_FLOW_DEPTH);
  if (!yaml_parser_initialize(&parser))
    return LB_ENOMEM;
  yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
  if (!yaml_parser_load(&parser, &c.doc))
    goto fail_yaml;
  if (!yaml_parser_load(&parser, &extra)) {
    yaml_document_delete(&c.doc);
    goto fail_yaml;
  }
  if (yaml_document_get_root_node(&extra)) {
    line = (unsigned long)extra.start_mark.line + 1;
    yaml_document_delete(&extra);
    yaml_document_delete(&c.doc);
    yaml_parser_delete(&parser);
    return fail(err, LB_EPARSE,
                "%s:%lu: a second YAML document; a kubeconfig is one document",
                file, line);
  }
  yaml_document_delete(&extra);
  yaml_parser_delete(&parser);
  rc = parse_doc(&c, &k);
  yaml_document_delete(&c.doc);
  if (rc) {
    lb_kubeconfig_release(&k);
    if (err && !*err)
      fail(err, rc, "%s: %s", file, lb_strerror(rc));
    return rc;
  }
  *out = k;
  return 0;

fail_yaml:
  rc = parser.error == YAML_MEMORY_ERROR ? LB_ENOMEM : LB_EPARSE;
  if (parser.context)
    fail(err, rc, "%s:%lu:%lu: not valid YAML: %s (%s, line %lu)", file,
         (unsigned long)parser.problem_mark.line + 1,
         (unsigned long)parser.problem_mark.column + 1,
         parser.problem ? parser.problem : "error", parser.context,
         (unsigned long)parser.context_mark.line + 1);
  else
    fail(err, rc, "%s:%lu:%lu: not valid YAML: %s", file,
         (unsigned long)parser.problem_mark.line + 1,
         (unsigned long)parser.problem_mark.column + 1,
         parser.problem ? parser.problem : "error");
  yaml_parser_delete(&parser);
  return rc;
}

int lb_kubeconfig_parse(const char *yaml, size_t len, const char *base_dir,
                        struct lb_kubeconfig *out, char **err) {
  int rc;
  memset(out, 0, sizeof *out);
  if (err)
    *err = NULL;
  rc = parse_named(yaml, len, base_dir, "kubeconfig", out, err);
  if (!rc) {
    out->source = lb_strdup("kubeconfig");
    if (!out->source) {
      lb_kubeconfig_release(out);
      return LB_ENOMEM;
    }
  }
  return rc;
}

static int load_file(const char *path, struct lb_kubeconfig *out, char **err) {
  char *text, *dir;
  size_t len;
  int e = read_all(path, MAX_KUBECONFIG, 1, &text, &len), rc;
  if (e == ENOENT)
    return fail(err, LB_ENOENT, "kubeconfig %s: %s", path, file_error(e));
  if (e == ENOMEM)
    return LB_ENOMEM;
  if (e == EFBIG)
    return fail(err, LB_EPARSE, "%s: larger than %zu MiB; not a kubeconfig",
                path, MAX_KUBECONFIG >> 20);
  if (e)
    return fail(err, LB_EIO, "cannot read kubeconfig %s: %s", path,
                file_error(e));
  dir = dir_of(path);
  if (!dir) {
    free(text);
    return LB_ENOMEM;
  }
  rc = parse_named(text, len, dir, path, out, err);
  free(dir);
  free(text);
  if (!rc) {
    out->source = lb_strdup(path);
    if (!out->source) {
      lb_kubeconfig_release(out);
      return LB_ENOMEM;
    }
  }
  return rc;
}

/* ---- in cluster --------------------------------------------------------- */
static int sa_file(const char *dir, const char *name, int required, char **path,
                   char **data, size_t *len, char **err) {
  int e;
  *path = path_join(dir, name);
  if (!*path)
    return LB_ENOMEM;
  e = read_all(*path, MAX_FILE, 0, data, len);
  if (e == ENOMEM)
    return LB_ENOMEM;
  if (e == ENOENT && !required)
    return 0;
  if (e == EFBIG)
    return fail(err, LB_EINVAL, "in-cluster: %s is larger than %zu MiB", *path,
                MAX_FILE >> 20);
  if (e)
    return fail(err, LB_EIO,
                "in-cluster (KUBERNETES_SERVICE_HOST is set): cannot read "
                "service-account file %s: %s",
                *path, file_error(e));
  *len = trim(*data, *len);
  if (*len == 0 && required)
    return fail(err, LB_EINVAL, "in-cluster: service-account file %s is empty",
                *path);
  return 0;
}

static int load_incluster(const char *host, const char *port,
                          struct lb_kubeconfig *out, char **err) {
  struct lb_kubeconfig k;
  struct lb_buf url = LB_BUF_INIT;
  const char *dir = getenv("LB_SA_DIR");
  char *ns_path = NULL, *ns = NULL, *ca = NULL;
  size_t n;
  int rc;
  memset(&k, 0, sizeof k);
  if (!dir || !*dir)
    dir = SA_DIR;
  if (strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
      has_ctl(host, strlen(host)) || strpbrk(host, " /[]@"))
    return fail(err, LB_EINVAL,
                "in-cluster: KUBERNETES_SERVICE_HOST=\"%s\" / "
                "KUBERNETES_SERVICE_PORT=\"%s\" is not a host and port",
                host, port);
  rc = sa_file(dir, "token", 1, &k.token_file, &k.token, &n, err);
  if (!rc && has_ctl(k.token, n))
    rc = fail(err, LB_EINVAL, "in-cluster: %s contains control characters",
              k.token_file);
  if (!rc)
    rc = sa_file(dir, "ca.crt", 1, &k.ca_file, &ca, &n, err);
  if (!rc)
    rc = sa_file(dir, "namespace", 0, &ns_path, &ns, &n, err);
  if (rc)
    goto fail_release;
  if (ns && n)
    k.namespace = lb_strdup(ns);
  lb_buf_adds(&url, "https://");
  if (strchr(host, ':'))
    lb_buf_addf(&url, "[%s]", host);
  else
    lb_buf_adds(&url, host);
  lb_buf_addf(&url, ":%s", port);
  if (url.err) {
    rc = LB_ENOMEM;
    goto fail_release;
  }
  k.server = lb_buf_detach(&url, NULL);
  k.context = lb_strdup("");
  k.source = lb_strdup("in-cluster");
  if (!k.server || !k.context || !k.source || (ns && n && !k.namespace)) {
    rc = LB_ENOMEM;
    goto fail_release;
  }
  free(ca);
  free(ns);
  free(ns_path);
  *out = k;
  return 0;
fail_release:
  lb_buf_release(&url);
  free(ca);
  free(ns);
  free(ns_path);
  lb_kubeconfig_release(&k);
  return rc;
}

/* ---- search order ------------------------------------------------------- */
int lb_kubeconfig_load(const char *path, struct lb_kubeconfig *out,
                       char **err) {
  struct lb_buf tried = LB_BUF_INIT;
  const char *env, *host, *port, *home;
  int rc = LB_ENOENT;
  memset(out, 0, sizeof *out);
  if (err)
    *err = NULL;
  if (path)
    return load_file(path, out, err);

  env = getenv("KUBECONFIG");
  if (env && *env) {
    const char *s = env;
    lb_buf_addf(&tried, "KUBECONFIG=%s", env);
    while (*s) {
      size_t n = strcspn(s, ":");
      if (n) {
        char *one = lb_strndup(s, n);
        if (!one) {
          rc = LB_ENOMEM;
          goto out;
        }
        if (exists(one)) {
          rc = load_file(one, out, err);
          free(one);
          goto out;
        }
        free(one);
      }
      s += n;
      if (*s == ':')
        s++;
    }
  }

  host = getenv("KUBERNETES_SERVICE_HOST");
  port = getenv("KUBERNETES_SERVICE_PORT");
  if (host && *host && port && *port) {
    rc = load_incluster(host, port, out, err);
    goto out;
  }
  lb_buf_addf(&tried, "%sin-cluster (KUBERNETES_SERVICE_HOST/PORT unset)",
              tried.len ? ", " : "");

  home = getenv("HOME");
  if (home && *home) {
    char *p = path_join(home, ".kube/config");
    if (!p) {
      rc = LB_ENOMEM;
      goto out;
    }
    if (exists(p)) {
      rc = load_file(p, out, err);
      free(p);
      goto out;
    }
    lb_buf_addf(&tried, ", %s", p);
    free(p);
  }
  rc = fail(err, LB_ENOENT,
            "no kubeconfig found (tried %s); set KUBECONFIG or pass a "
            "kubeconfig path",
            tried.p ? tried.p : "nothing");
out:
  lb_buf_release(&tried);
  return rc;
}

void lb_kubeconfig_release(struct lb_kubeconfig *k) {
  free(k->server);
  free(k->ca_file);
  free(k->ca_pem);
  free(k->token);
  free(k->cert_file);
  free(k->key_file);
  free(k->cert_pem);
  free(k->key_pem);
  free(k->context);
  free(k->source);
  free(k->namespace);
  free(k->token_file);
  memset(k, 0, sizeof *k);
}
