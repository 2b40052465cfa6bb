/* explain.c — `logbook explain`: the causal chain of one object, and the
 * aligned table printer of `logbook query`. Everything is read through
 * SQL over the journal's tables, so the answer is exactly what was
 * recorded. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../engine/err.h"
#include "../engine/obj.h"
#include "replay.h"

/* SQL string literal with quotes doubled. */
static void lit(struct lb_buf *b, const char *s) {
  lb_buf_adds(b, "'");
  for (; *s; s++) {
    if (*s == '\'')
      lb_buf_adds(b, "''");
    else
      lb_buf_add(b, s, 1);
  }
  lb_buf_adds(b, "'");
}

/* "<alias>kind = '..' AND <alias>namespace = '..' AND <alias>name = '..'" */
static void where(struct lb_buf *b, const char *alias, const char *kind,
                  const char *ns, const char *name) {
  lb_buf_addf(b, "%skind = ", alias);
  lit(b, kind);
  lb_buf_addf(b, " AND %snamespace = ", alias);
  lit(b, ns);
  lb_buf_addf(b, " AND %sname = ", alias);
  lit(b, name);
}

struct lines {
  FILE *out;
  int n;
};

static int print_line(void *ctx, int ncol, const char *const *names,
                      const char *const *vals) {
  struct lines *l = ctx;
  (void)names;
  if (!vals || ncol < 3)
    return 0;
  fprintf(l->out, "%s\n", vals[2] ? vals[2] : "");
  l->n++;
  return 0;
}

int lb_explain(struct lb_journal *j, const char *kind_in, const char *ns,
               const char *name, FILE *out) {
  struct lb_buf q = LB_BUF_INIT, who = LB_BUF_INIT, who_d = LB_BUF_INIT,
                who_a = LB_BUF_INIT;
  const char *kind = kind_in;
  struct lines l = {out, 0};
  int rc;
  for (int k = 1; k < LB_KIND__COUNT; k++)
    if (!strcasecmp(kind_in, lb_kind_name(k)))
      kind = lb_kind_name(k);
  where(&who, "", kind, ns, name);
  where(&who_d, "d.", kind, ns, name);
  where(&who_a, "a.", kind, ns, name);
  lb_buf_addf(
      &q,
      /* 1. every event about the object */
      "SELECT seq AS k, 0 AS sub, printf('event %%-6d %%s  %%-7s %%-8s %%s', "
      "seq, strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', at_ms / 1000.0, 'unixepoch'), "
      "source, type, CASE "
      " WHEN source = 'outcome' THEN printf('outcome of action %%d: HTTP "
      "%%d%%s',"
      "   action_id, http_status, CASE WHEN http_status NOT BETWEEN 200 AND 299"
      "   AND json_valid(body) THEN ' ' || ifnull(json_extract(body, "
      "'$.message'), '') ELSE '' END)"
      " WHEN kind = 'Pod' AND json_valid(body) THEN printf("
      "'phase=%%s node=%%s revision=%%s lifecycle=%%s%%s%%s rv=%%s', "
      "   ifnull(json_extract(body, '$.status.phase'), '-'),"
      "   ifnull(json_extract(body, '$.spec.nodeName'), '-'),"
      "   ifnull(json_extract(body, '$.metadata.labels.\"controller-revision-"
      "hash\"'), '-'),"
      "   ifnull(json_extract(body, '$.metadata.labels.\"lifecycle.apps.kruise."
      "io/state\"'), '-'),"
      "   CASE WHEN json_extract(body, '$.metadata.labels.\"apps.kruise.io/"
      "specified-delete\"') IS NOT NULL THEN ' specified-delete' ELSE '' END,"
      "   CASE WHEN json_extract(body, '$.metadata.deletionTimestamp') IS NOT "
      "NULL THEN ' terminating' ELSE '' END, resource_version)"
      " WHEN kind = 'CloneSet' AND json_valid(body) THEN printf("
      "'generation=%%s replicas=%%s partition=%%s | status replicas=%%s "
      "ready=%%s updated=%%s rv=%%s',"
      "   json_extract(body, '$.metadata.generation'),"
      "   json_extract(body, '$.spec.replicas'),"
      "   ifnull(json_extract(body, '$.spec.updateStrategy.partition'), 0),"
      "   ifnull(json_extract(body, '$.status.replicas'), 0),"
      "   ifnull(json_extract(body, '$.status.readyReplicas'), 0),"
      "   ifnull(json_extract(body, '$.status.updatedReplicas'), 0),"
      "   resource_version)"
      " ELSE 'rv=' || resource_version END) FROM events WHERE %s"
      /* 2. decisions about it, or with an action on it */
      " UNION ALL SELECT d.event_seq, 1, printf('  decision %%d by %%s on %%s "
      "%%s/%%s, after event %%d (%%s %%s %%s %%s/%%s)' || char(10) || "
      "'    why: %%s', d.seq, d.reducer, d.kind, d.namespace, d.name, "
      "d.event_seq, e.source, e.type, e.kind, e.namespace, e.name, d.reason) "
      "FROM decisions d JOIN events e ON e.seq = d.event_seq WHERE (%s) OR "
      "d.seq IN (SELECT decision_seq FROM actions WHERE %s)"
      /* 3. the actions on it, with their outcome */
      " UNION ALL SELECT d.event_seq, 2, printf('    -> action %%d: %%s %%s%%s "
      "%%s/%%s: %%s%%s', a.id, a.verb, a.kind, CASE WHEN a.subresource != '' "
      "THEN '/' || a.subresource ELSE '' END, a.namespace, a.name, a.state, "
      "CASE WHEN a.outcome_seq IS NOT NULL THEN printf(' (HTTP %%d, outcome "
      "event %%d)', a.http_status, a.outcome_seq) ELSE ' (no outcome yet)' "
      "END) FROM actions a JOIN decisions d ON d.seq = a.decision_seq WHERE "
      "%s"
      " ORDER BY k, sub",
      who.p, who_d.p, who.p, who_a.p);
  if (q.err) {
    rc = q.err;
    goto out;
  }
  fprintf(out, "%s %s/%s: events, decisions and actions in journal order\n",
          kind, ns, name);
  rc = lb_journal_query(j, q.p, print_line, &l);
  if (rc) {
    fprintf(out, "query failed: %s\n", lb_journal_errmsg(j));
  } else if (!l.n) {
    fprintf(out, "the journal never saw %s %s/%s\n", kind, ns, name);
    rc = LB_ENOENT;
  }
out:
  lb_buf_release(&q);
  lb_buf_release(&who);
  lb_buf_release(&who_d);
  lb_buf_release(&who_a);
  return rc;
}

/* --- aligned tables ----------------------------------------------------- */
struct table {
  int ncol;
  char **cells; /* row-major, header first */
  size_t n, cap;
  int err;
};

static int collect(void *ctx, int ncol, const char *const *names,
                   const char *const *vals) {
  struct table *t = ctx;
  const char *const *src = vals ? vals : names;
  t->ncol = ncol;
  if (t->n + (size_t)ncol > t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 64;
    while (cap < t->n + (size_t)ncol)
      cap *= 2;
    char **c = realloc(t->cells, cap * sizeof *c);
    if (!c)
      return t->err = LB_ENOMEM;
    t->cells = c;
    t->cap = cap;
  }
  for (int i = 0; i < ncol; i++)
    t->cells[t->n++] = lb_strdup(src[i] ? src[i] : "NULL");
  return 0;
}

/* Display width of UTF-8 text (code points). */
static size_t width(const char *s) {
  size_t w = 0;
  for (; s && *s; s++)
    w += ((unsigned char)*s & 0xC0) != 0x80;
  return w;
}

int lb_query_print(struct lb_journal *j, const char *sql, FILE *out) {
  struct table t = {0};
  int rc = lb_journal_query(j, sql, collect, &t);
  if (!rc)
    rc = t.err;
  if (rc) {
    fprintf(stderr, "logbook query: %s\n",
            rc == LB_EDB ? lb_journal_errmsg(j) : lb_strerror(rc));
  } else if (t.ncol > 0) {
    size_t *w = calloc((size_t)t.ncol, sizeof *w), rows = t.n / (size_t)t.ncol;
    for (size_t r = 0; w && r < rows; r++)
      for (int c = 0; c < t.ncol; c++) {
        size_t x = width(t.cells[r * (size_t)t.ncol + (size_t)c]);
        if (x > w[c])
          w[c] = x;
      }
    for (size_t r = 0; w && r < rows; r++) {
      for (int c = 0; c < t.ncol; c++) {
        const char *s = t.cells[r * (size_t)t.ncol + (size_t)c];
        fprintf(out, "%s%s%*s", c ? "  " : "", s,
                c + 1 < t.ncol ? (int)(w[c] - width(s)) : 0, "");
      }
      fputc('\n', out);
      if (r == 0) {
        for (int c = 0; c < t.ncol; c++) {
          fputs(c ? "  " : "", out);
          for (size_t k = 0; k < w[c]; k++)
            fputc('-', out);
        }
        fputc('\n', out);
      }
    }
    fprintf(out, "(%zu row%s)\n", rows ? rows - 1 : 0, rows == 2 ? "" : "s");
    free(w);
  }
  for (size_t i = 0; i < t.n; i++)
    free(t.cells[i]);
  free(t.cells);
  return rc;
}
