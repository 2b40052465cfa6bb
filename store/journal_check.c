/* journal_check.c — the offline journal checker (lb_journal_check) and the
 * header probe shared with lb_journal_open. What it verifies is the "valid
 * journal" list of the format specification at the top of journal.c.
 *
 * The checker trusts nothing in the file: the header is read with stdio
 * before SQLite sees the file, SQLite opens it read-only, and every value
 * read back is treated as possibly damaged.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../engine/err.h"
#include "journal.h"
#include "journal_int.h"

#define MAX_FINDING_LINES 50

static const unsigned char sqlite_magic[16] = "SQLite format 3";

static uint32_t be16(const unsigned char *p) {
  return (uint32_t)p[0] << 8 | (uint32_t)p[1];
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         (uint32_t)p[3];
}

static int valid_page_size(uint32_t ps) {
  return ps >= 512 && ps <= 65536 && (ps & (ps - 1)) == 0;
}

int lb__journal_probe(const char *path, struct lb__journal_probe *p, char *msg,
                      size_t msgsz) {
  unsigned char hdr[100];
  struct stat sb;
  size_t got;
  FILE *f;
  uint32_t ps;

  memset(p, 0, sizeof *p);
  f = fopen(path, "rb");
  if (!f) {
    if (errno == ENOENT) {
      snprintf(msg, msgsz, "journal %s does not exist", path);
      return LB_ENOENT;
    }
    snprintf(msg, msgsz, "cannot read journal %s: %s", path, strerror(errno));
    return LB_EIO;
  }
  if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    snprintf(msg, msgsz, "journal %s is not a regular file", path);
    fclose(f);
    return LB_EIO;
  }
  p->size = (int64_t)sb.st_size;
  got = fread(hdr, 1, sizeof hdr, f);
  fclose(f);
  if (p->size == 0)
    return 0;
  if (memcmp(hdr, sqlite_magic, got < 16 ? got : 16) != 0) {
    snprintf(msg, msgsz,
             "journal %s is not a SQLite database (bad header magic); is "
             "this the right file?",
             path);
    return LB_ECORRUPT;
  }
  if (got < sizeof hdr) {
    snprintf(msg, msgsz,
             "journal %s is truncated: %lld bytes, shorter than the 100-byte "
             "SQLite header (torn tail); restore from a copy",
             path, (long long)p->size);
    return LB_ETORN;
  }
  ps = be16(hdr + 16);
  if (ps == 1)
    ps = 65536;
  if (!valid_page_size(ps)) {
    snprintf(msg, msgsz,
             "journal %s has an invalid page size %u in its header: not a "
             "usable SQLite database",
             path, ps);
    return LB_ECORRUPT;
  }
  p->page_size = ps;
  /* The in-header size is valid only when the change counter (24) matches
   * version-valid-for (92); SQLite >= 3.7.0 always keeps them equal. */
  if (be32(hdr + 24) == be32(hdr + 92))
    p->pages = be32(hdr + 28);
  if (p->pages && (uint64_t)p->size < (uint64_t)ps * p->pages) {
    snprintf(msg, msgsz,
             "journal %s is truncated: header says %u pages of %u bytes "
             "(%llu bytes) but the file has %lld bytes (torn tail); restore "
             "from a copy or run `logbook journal check`",
             path, p->pages, ps, (unsigned long long)ps * p->pages,
             (long long)p->size);
    return LB_ETORN;
  }
  return 0;
}

/* --- the check --------------------------------------------------------- */

struct check {
  struct lb_buf *report;
  const char *path;
  sqlite3 *db;
  int first;    /* code of the first finding, 0 if none */
  int findings; /* number of findings */
  int64_t n_events, n_decisions, n_actions, n_snapshots;
};

static void line(struct check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void line(struct check *c, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  lb_buf_adds(c->report, buf);
  lb_buf_adds(c->report, "\n");
}

static void finding(struct check *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void finding(struct check *c, int code, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  if (!c->first)
    c->first = code;
  if (++c->findings > MAX_FINDING_LINES)
    return;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  line(c, "%s: %s", lb_err_name(code), buf);
}

/* A SQLite failure during the check is itself a finding. */
static void db_finding(struct check *c, int rc, const char *what) {
  int prim = rc & 0xff;
  if (lb__journal_fault_take())
    finding(c, LB_EFAULT, "%s: injected fault", what);
  else if (prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB)
    finding(c, LB_ECORRUPT, "%s: %s", what, sqlite3_errmsg(c->db));
  else
    finding(c, LB_EDB, "%s: %s", what, sqlite3_errmsg(c->db));
}

static int prep(struct check *c, const char *sql, sqlite3_stmt **st,
                const char *what) {
  int rc = sqlite3_prepare_v2(c->db, sql, -1, st, NULL);
  if (rc != SQLITE_OK) {
    db_finding(c, rc, what);
    sqlite3_finalize(*st);
    *st = NULL;
    return -1;
  }
  return 0;
}

static void check_wal(struct check *c, uint32_t db_page_size) {
  char wal[4096];
  unsigned char hdr[32];
  struct stat sb;
  FILE *f;
  uint32_t ps = db_page_size;
  size_t got;
  int64_t frame, rest;

  snprintf(wal, sizeof wal, "%s-wal", c->path);
  if (stat(wal, &sb) != 0 || sb.st_size == 0)
    return;
  if (sb.st_size < 32) {
    line(c,
         "warning: WAL %s has a partial header (%lld bytes); SQLite will "
         "ignore it on open",
         wal, (long long)sb.st_size);
    return;
  }
  f = fopen(wal, "rb");
  if (f) {
    got = fread(hdr, 1, sizeof hdr, f);
    fclose(f);
    if (got == sizeof hdr && valid_page_size(be32(hdr + 8)))
      ps = be32(hdr + 8);
  }
  frame = 24 + (int64_t)ps;
  rest = ((int64_t)sb.st_size - 32) % frame;
  if (rest != 0)
    line(c,
         "warning: WAL has a partial final frame (%lld bytes); SQLite "
         "will discard it on open",
         (long long)rest);
}

static int check_integrity(struct check *c) {
  sqlite3_stmt *st = NULL;
  const unsigned char *t;
  int rc, bad = 0;

  if (prep(c, "PRAGMA integrity_check(20)", &st, "integrity check"))
    return -1;
  while ((rc = lb__journal_step(st)) == SQLITE_ROW) {
    t = sqlite3_column_text(st, 0);
    if (t && !strcmp((const char *)t, "ok"))
      continue;
    finding(c, LB_ECORRUPT, "integrity check: %s", t ? (const char *)t : "?");
    bad = 1;
  }
  if (rc != SQLITE_DONE) {
    db_finding(c, rc, "integrity check");
    bad = 1;
  }
  sqlite3_finalize(st);
  return bad ? -1 : 0;
}

static int check_format(struct check *c) {
  sqlite3_stmt *st = NULL;
  const unsigned char *t;
  long long fmt;
  char *end;
  int rc, err = 0;

  if (sqlite3_prepare_v2(c->db, "SELECT value FROM meta WHERE key = 'format'",
                         -1, &st, NULL) != SQLITE_OK) {
    finding(c, LB_EVERSION, "not a logbook journal (no meta table: %s)",
            sqlite3_errmsg(c->db));
    sqlite3_finalize(st);
    return -1;
  }
  rc = lb__journal_step(st);
  if (rc == SQLITE_ROW) {
    t = sqlite3_column_text(st, 0);
    fmt = t ? strtoll((const char *)t, &end, 10) : 0;
    if (!t || *end || fmt < 1) {
      finding(c, LB_EVERSION, "meta 'format' is unreadable ('%s')",
              t ? (const char *)t : "(null)");
      err = -1;
    } else if (fmt > LB_JOURNAL_FORMAT) {
      finding(c, LB_EVERSION,
              "format %lld is newer than this logbook (reads <= %d)", fmt,
              LB_JOURNAL_FORMAT);
      err = -1;
    }
  } else if (rc == SQLITE_DONE) {
    finding(c, LB_EVERSION, "not a logbook journal (no meta 'format')");
    err = -1;
  } else {
    db_finding(c, rc, "read meta 'format'");
    err = -1;
  }
  sqlite3_finalize(st);
  return err;
}

static int64_t first_seq(struct check *c) {
  sqlite3_stmt *st = NULL;
  int64_t v = 1;
  if (sqlite3_prepare_v2(c->db,
                         "SELECT value FROM meta WHERE key = 'first_seq'", -1,
                         &st, NULL) != SQLITE_OK) {
    sqlite3_finalize(st);
    return 1;
  }
  if (lb__journal_step(st) == SQLITE_ROW &&
      sqlite3_column_type(st, 0) != SQLITE_NULL)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  lb__journal_fault_take();
  return v > 0 ? v : 1;
}

/* Seq contiguity and per-event hashes, in one pass. */
static int check_events(struct check *c) {
  sqlite3_stmt *st = NULL;
  struct lb_event ev;
  uint64_t stored, actual;
  int64_t expect = first_seq(c), prev = 0;
  int rc;

  if (prep(c, "SELECT " LB__EVENT_COLS " FROM events ORDER BY seq", &st,
           "read events"))
    return -1;
  while ((rc = lb__journal_step(st)) == SQLITE_ROW) {
    if (lb__journal_row_event(st, &ev, &stored) != 0) {
      finding(c, LB_ENOMEM, "read events: out of memory");
      sqlite3_finalize(st);
      return -1;
    }
    if (ev.seq > expect) {
      if (c->n_events == 0)
        finding(c, LB_EGAP, "missing seq %lld (events start at %lld)",
                (long long)expect, (long long)ev.seq);
      else
        finding(c, LB_EGAP, "missing seq %lld (events jump from %lld to %lld)",
                (long long)expect, (long long)prev, (long long)ev.seq);
    }
    actual = lb_event_hash(&ev);
    if (actual != stored)
      finding(c, LB_ECORRUPT,
              "event seq %lld: stored hash %016llx, content hashes to %016llx",
              (long long)ev.seq, (unsigned long long)stored,
              (unsigned long long)actual);
    prev = ev.seq;
    expect = ev.seq + 1;
    c->n_events++;
    lb_event_release(&ev);
  }
  if (rc != SQLITE_DONE)
    db_finding(c, rc, "read events");
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : -1;
}

static int check_decisions(struct check *c) {
  sqlite3_stmt *st = NULL;
  uint64_t prev = 0, stored, expect;
  const char *can;
  int rc;

  if (prep(c,
           "SELECT d.seq, d.event_seq, d.canonical, d.chain, "
           "EXISTS (SELECT 1 FROM events e WHERE e.seq = d.event_seq) "
           "FROM decisions d ORDER BY d.seq",
           &st, "read decisions"))
    return -1;
  while ((rc = lb__journal_step(st)) == SQLITE_ROW) {
    long long seq = sqlite3_column_int64(st, 0);
    long long eseq = sqlite3_column_int64(st, 1);
    can = (const char *)sqlite3_column_text(st, 2);
    size_t len = can ? (size_t)sqlite3_column_bytes(st, 2) : 0;
    stored = (uint64_t)sqlite3_column_int64(st, 3);
    expect = lb_chain_next(prev, can ? can : "", len);
    if (expect != stored)
      finding(c, LB_ECHAIN,
              "decision seq %lld (event seq %lld): chain %016llx recorded, "
              "%016llx expected",
              seq, eseq, (unsigned long long)stored,
              (unsigned long long)expect);
    if (!sqlite3_column_int(st, 4))
      finding(c, LB_ECORRUPT,
              "decision seq %lld refers to missing event seq "
              "%lld",
              seq, eseq);
    prev = stored; /* report each break once, not every decision after it */
    c->n_decisions++;
  }
  if (rc != SQLITE_DONE)
    db_finding(c, rc, "read decisions");
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : -1;
}

static int count(struct check *c, const char *sql, int64_t *n) {
  sqlite3_stmt *st = NULL;
  int rc;
  if (prep(c, sql, &st, "count rows"))
    return -1;
  rc = lb__journal_step(st);
  if (rc == SQLITE_ROW)
    *n = sqlite3_column_int64(st, 0);
  else
    db_finding(c, rc, "count rows");
  sqlite3_finalize(st);
  return rc == SQLITE_ROW ? 0 : -1;
}

static int check_actions(struct check *c) {
  sqlite3_stmt *st = NULL;
  int rc;

  if (prep(c,
           "SELECT a.id, a.decision_seq FROM actions a WHERE NOT EXISTS "
           "(SELECT 1 FROM decisions d WHERE d.seq = a.decision_seq) "
           "ORDER BY a.id",
           &st, "read actions"))
    return -1;
  while ((rc = lb__journal_step(st)) == SQLITE_ROW)
    finding(c, LB_ECORRUPT, "action %lld refers to missing decision seq %lld",
            (long long)sqlite3_column_int64(st, 0),
            (long long)sqlite3_column_int64(st, 1));
  if (rc != SQLITE_DONE)
    db_finding(c, rc, "read actions");
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE)
    return -1;
  if (count(c, "SELECT count(*) FROM actions", &c->n_actions))
    return -1;
  return count(c, "SELECT count(*) FROM snapshots", &c->n_snapshots);
}

int lb_journal_check(const char *path, struct lb_buf *report) {
  struct lb__journal_probe probe;
  struct check c;
  char msg[1024];
  int err, rc;

  if (!path || !report)
    return LB_EINVAL;
  memset(&c, 0, sizeof c);
  c.report = report;
  c.path = path;

  err = lb__journal_probe(path, &probe, msg, sizeof msg);
  if (err) {
    finding(&c, err, "%s", msg);
    goto summary;
  }
  if (probe.size == 0) {
    finding(&c, LB_ECORRUPT,
            "journal %s is empty (0 bytes): not a logbook "
            "journal",
            path);
    goto summary;
  }
  check_wal(&c, probe.page_size);

  rc = sqlite3_open_v2(path, &c.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                       NULL);
  if (rc != SQLITE_OK) {
    finding(&c, (rc & 0xff) == SQLITE_NOTADB ? LB_ECORRUPT : LB_EDB,
            "cannot open %s: %s", path,
            c.db ? sqlite3_errmsg(c.db) : sqlite3_errstr(rc));
    goto close_db;
  }
  sqlite3_extended_result_codes(c.db, 1);
  sqlite3_busy_timeout(c.db, 5000);
  (void)lb__journal_exec(c.db, "PRAGMA cell_size_check = ON");
  lb__journal_fault_take();

  if (check_integrity(&c) || check_format(&c))
    goto close_db;
  if (check_events(&c) || check_decisions(&c))
    goto close_db;
  check_actions(&c);

close_db:
  sqlite3_close_v2(c.db);
summary:
  if (c.findings > MAX_FINDING_LINES)
    line(&c, "... and %d more findings", c.findings - MAX_FINDING_LINES);
  if (!c.first)
    line(&c, "ok: %lld events, %lld decisions, %lld actions, %lld snapshots",
         (long long)c.n_events, (long long)c.n_decisions,
         (long long)c.n_actions, (long long)c.n_snapshots);
  else
    line(&c,
         "FAILED: %d finding%s, first %s; %lld events, %lld decisions "
         "checked",
         c.findings, c.findings == 1 ? "" : "s", lb_err_name(c.first),
         (long long)c.n_events, (long long)c.n_decisions);
  return c.first;
}
