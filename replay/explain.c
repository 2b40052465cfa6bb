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

/* Prints column 0 of every row, each on its own line. */
static int print_first(void *ctx, int ncol, const char *const *names,
                       const char *const *vals) {
  struct lines *l = ctx;
  (void)names;
  if (!vals || ncol < 1 || !vals[0])
    return 0;
  fprintf(l->out, "%s\n", vals[0]);
  l->n++;
  return 0;
}

/* Runs q (then empties it), printing column 0 of each row. */
static int answer(struct lb_journal *j, struct lines *l, struct lb_buf *q) {
  int rc = q->err ? q->err : lb_journal_query(j, q->p, print_first, l);
  lb_buf_reset(q);
  return rc;
}

/* The questions users ask of a CloneSet journal, answered from what was
 * recorded (every reason carries the numbers that decided it):
 *   Pod:      why was it deleted (the decision and its deleteReadyLimit /
 *             replicas numbers; the specified-delete label or the
 *             PreparingDelete step that came first), why is it not updated
 *             yet (its revision against the update revision, and the
 *             owner's latest word on updates: partition, paused,
 *             maxUnavailable, a hook still set);
 *   CloneSet: where the rollout stands (the last status written) and why
 *             it is stuck (the last decision that acted, then every later
 *             reason, which is recorded only when it changed). */
static int answers(struct lb_journal *j, const char *kind, const char *ns,
                   const char *name, FILE *out) {
  struct lb_buf q = LB_BUF_INIT, who_a = LB_BUF_INIT, pod = LB_BUF_INIT;
  struct lines l = {out, 0};
  int rc = 0;
  where(&who_a, "a.", kind, ns, name);
  fprintf(out, "answers:\n");
  if (!strcmp(kind, "Pod")) {
    /* the steps that led to its deletion, in order */
    lb_buf_addf(
        &q,
        "SELECT printf('  %%s: decision %%d (after event %%d): %%s', CASE "
        "WHEN a.verb = 'delete' THEN 'why deleted' WHEN a.request LIKE "
        "'%%apps.kruise.io/specified-delete%%' THEN 'why recreated (labelled "
        "apps.kruise.io/specified-delete)' ELSE 'why PreparingDelete' END, "
        "d.seq, d.event_seq, d.reason) FROM actions a JOIN decisions d ON "
        "d.seq = a.decision_seq WHERE %s AND (a.verb = 'delete' OR "
        "a.request LIKE '%%apps.kruise.io/specified-delete%%' OR (a.request "
        "LIKE '%%\"PreparingDelete\"%%' AND a.subresource = '')) ORDER BY a.id",
        who_a.p);
    if ((rc = answer(j, &l, &q)))
      goto out;
    /* the pod as last seen, its owner and the owner's update revision */
    where(&pod, "", kind, ns, name);
    lb_buf_addf(
        &q,
        "WITH p AS (SELECT seq, type, body FROM events WHERE %s AND "
        "json_valid(body) AND json_extract(body, '$.kind') = 'Pod' ORDER BY "
        "seq DESC LIMIT 1), o AS (SELECT json_extract(body, "
        "'$.metadata.ownerReferences[0].name') AS cs, json_extract(body, "
        "'$.metadata.labels.\"controller-revision-hash\"') AS rev, "
        "json_extract(body, '$.metadata.labels.\"lifecycle.apps.kruise.io/"
        "state\"') AS lc, json_extract(body, '$.metadata.deletionTimestamp') "
        "AS dts, type, seq FROM p), u AS (SELECT "
        "json_extract(a.request, '$.status.updateRevision') AS rev FROM "
        "actions a, o WHERE a.kind = 'CloneSet' AND a.namespace = ",
        pod.p);
    lit(&q, ns);
    lb_buf_adds(
        &q,
        " AND a.name = o.cs AND a.subresource = 'status' ORDER BY a.id DESC "
        "LIMIT 1), w AS (SELECT d.seq, d.reason FROM decisions d, o WHERE "
        "d.kind = 'CloneSet' AND d.namespace = ");
    lit(&q, ns);
    lb_buf_adds(
        &q,
        " AND d.name = o.cs AND (d.reason LIKE '%update%' OR d.reason LIKE "
        "'%partition%' OR d.reason LIKE '%paused%' OR d.reason LIKE "
        "'%waits in%') ORDER BY d.seq DESC LIMIT 1) SELECT CASE WHEN o.type "
        "= 'DELETED' THEN printf('  gone: deleted (event %d)', o.seq) WHEN "
        "o.dts IS NOT NULL THEN printf('  gone: terminating since %s (event "
        "%d)', o.dts, o.seq) WHEN "
        "o.rev = u.rev THEN printf('  updated: at update revision %s "
        "(lifecycle %s)', o.rev, ifnull(o.lc, '-')) ELSE printf('  why not "
        "updated yet: at revision %s, CloneSet %s wants %s; its latest word "
        "on updates, decision %d: %s', ifnull(o.rev, '-'), ifnull(o.cs, "
        "'-'), ifnull(u.rev, '-'), ifnull(w.seq, 0), ifnull(w.reason, "
        "'(none)')) END FROM o LEFT JOIN u LEFT JOIN w");
    rc = answer(j, &l, &q);
  } else if (!strcmp(kind, "CloneSet")) {
    lb_buf_addf(
        &q,
        "SELECT printf('  rollout: replicas %%d, updated %%d (expected "
        "%%d), ready %%d, available %%d; current revision %%s, update "
        "revision %%s (status written by decision %%d)', "
        "json_extract(a.request, "
        "'$.status.replicas'), json_extract(a.request, "
        "'$.status.updatedReplicas'), json_extract(a.request, "
        "'$.status.expectedUpdatedReplicas'), json_extract(a.request, "
        "'$.status.readyReplicas'), json_extract(a.request, "
        "'$.status.availableReplicas'), json_extract(a.request, "
        "'$.status.currentRevision'), json_extract(a.request, "
        "'$.status.updateRevision'), a.decision_seq) FROM actions a WHERE "
        "%s AND a.subresource = 'status' AND json_valid(a.request) ORDER BY "
        "a.id DESC LIMIT 1",
        who_a.p);
    if ((rc = answer(j, &l, &q)))
      goto out;
    where(&pod, "x.", kind, ns, name);
    lb_buf_reset(&who_a);
    where(&who_a, "d.", kind, ns, name);
    lb_buf_addf(
        &q,
        "WITH last AS (SELECT ifnull(max(x.seq), 0) AS s FROM decisions x "
        "WHERE %s AND EXISTS (SELECT 1 FROM actions a WHERE a.decision_seq = "
        "x.seq AND NOT (a.kind = 'CloneSet' AND a.subresource = 'status'))) "
        "SELECT "
        "printf('  %%s decision %%d: %%s', CASE WHEN d.seq = last.s THEN "
        "'last acted,' ELSE 'since then,' END, d.seq, "
        "d.reason) FROM decisions d, last WHERE %s AND d.seq >= last.s AND "
        "(d.seq = last.s OR d.seq IN (SELECT seq FROM decisions x WHERE %s "
        "ORDER BY seq DESC LIMIT 5)) ORDER BY d.seq",
        pod.p, who_a.p, pod.p);
    rc = answer(j, &l, &q);
  }
out:
  if (rc)
    fprintf(out, "query failed: %s\n", lb_journal_errmsg(j));
  lb_buf_release(&q);
  lb_buf_release(&who_a);
  lb_buf_release(&pod);
  return rc;
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
  } else {
    rc = answers(j, kind, ns, name, out);
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
  if (lb_reserve(&t->cells, &t->cap, t->n + (size_t)ncol, sizeof *t->cells, 64))
    return t->err = LB_ENOMEM;
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
