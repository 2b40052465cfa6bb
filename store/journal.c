/* journal.c — the SQLite journal (interface: journal.h).
 *
 * ===========================================================================
 * FORMAT SPECIFICATION (format 1 = LB_JOURNAL_FORMAT)
 * ===========================================================================
 *
 * Container. One SQLite 3 database file (page size 16384, set before the
 * first table is created), in WAL mode (the -wal and -shm files next to it
 * belong to it). SQLite's automatic checkpoints are off
 * (wal_autocheckpoint=0); the runner calls lb_journal_checkpoint() off the
 * hot path, and closing the last connection checkpoints and removes the WAL.
 *
 * Tables (schema/journal.sql is the one definition, embedded as
 * lb_schema_sql and run once when a journal is created):
 *   events     one row per input, the envelope of struct lb_event:
 *                seq, at_ms, source, type, api_group, kind, namespace, name,
 *                uid, resource_version, action_id, http_status, body, hash
 *              source/type are the names of engine/event.h (lb_source_name,
 *              lb_evtype_name); identity strings are '' when absent, never
 *              NULL; body is the JSON text exactly as prepared (managedFields
 *              stripped), NULL when the event has none; action_id and
 *              http_status are set for outcome events, NULL for others when 0.
 *   decisions  one row per sealed decision: seq, event_seq, reducer, kind,
 *              namespace, name, reason, n_actions, canonical, chain.
 *   actions    one row per action of a decision: id, decision_seq, verb,
 *              target (api_group, kind, namespace, name, subresource,
 *              precondition_uid), request (the action body), and its fate:
 *              state 'pending' -> 'done' | 'failed', http_status, error,
 *              attempts, outcome_seq, finished_ms.
 *   snapshots  seq (engine state after that event), state blob, digest, bytes.
 *   meta       key/value text: 'format' (this spec's version), 'created'
 *              (RFC 3339), 'first_seq' (reserved for compaction: the first
 *              event seq kept; 1 when absent), anything else callers set.
 * Audit views over these (pod_history, decisions_explained, action_log,
 * failed_actions, rollout_timeline, admission_denials) are documented with
 * example queries in schema/journal.sql.
 *
 * Ordering key. events.seq: dense and increasing from first_seq (1), assigned
 * by the journal at append (last + 1). Events are folded in seq order and in
 * nothing else. Decisions are ordered by decisions.seq (assigned by the
 * engine, strictly increasing); actions by id (engine-assigned).
 *
 * Hashes. 64-bit values are stored as the signed int64 with the same bits.
 *   events.hash      = lb_event_hash(event): xxh3-64 over the envelope
 *                      (source, type, identity, at_ms, action_id,
 *                      http_status, body length) and the body bytes; the
 *                      seq is not hashed. Recomputed by every scan.
 *   decisions.chain  = xxh3_64(le64(chain of the previous decision) ||
 *                      canonical), the first decision using 0
 *                      (lb_chain_next, engine/decision.h). canonical is the
 *                      byte-exact canonical JSON of the decision.
 *
 * A valid journal:
 *   - passes PRAGMA integrity_check and has meta 'format' <= LB_JOURNAL_FORMAT;
 *   - its file is at least as long as its header's page count says;
 *   - events.seq has no gap from first_seq to max(seq);
 *   - every events.hash equals lb_event_hash of its row;
 *   - decisions.chain, recomputed in seq order, equals the stored chain;
 *   - every decision's event_seq names an event, and every action's
 *     decision_seq a decision;
 * lb_journal_check() verifies all of this without trusting the file.
 * By construction (not checked): an action is 'done' iff its outcome had a
 * 2xx status, 'failed' iff another; error is then the Status message.
 *
 * Write path and group commit. The writer opens a transaction (BEGIN
 * IMMEDIATE) at the first append of a batch; events, decisions and action
 * rows join it; lb_journal_commit() makes the batch durable. The caller
 * commits when lb_journal_should_flush() says so (>= flush_events events, or
 * the oldest pending event's at_ms is >= flush_ms old) and always before it
 * executes any action of a decision in the batch (write-ahead). An outcome
 * event updates its action row in the same transaction. Any failure on the
 * write path rolls the whole batch back (the in-memory last seq and last
 * decision return to their values at BEGIN): the caller must stop and
 * restart from the journal, which then holds exactly the committed batches.
 *
 * Durability policies (enum lb_durability):
 *   batched (default)  group commit, synchronous=FULL: each commit is
 *                      fsync'd; an unflushed batch may be lost on a crash
 *                      (none of its actions ran).
 *   always             should_flush() is true whenever anything is pending:
 *                      one transaction per event, synchronous=FULL.
 *   off                group commit, synchronous=OFF (tests, benchmarks): a
 *                      power loss may lose committed batches.
 *
 * Recovery on open. Before SQLite sees the file, its 100-byte header is read
 * with stdio: a file that is not SQLite is refused (LB_ECORRUPT); a file
 * shorter than page_size * in-header page count is a torn tail and refused
 * (LB_ETORN) — an operator restores a copy or cuts it explicitly. SQLite
 * then replays the WAL (a partial final frame is discarded: that batch was
 * never acknowledged). A database without tables becomes a new journal (the
 * schema and meta rows are created in one transaction, so a crash leaves
 * either nothing or a whole schema); one with tables but no meta 'format'
 * is not a journal (LB_EVERSION); a newer format is refused (LB_EVERSION).
 * The last event seq and the last decision (seq, chain) are loaded.
 *
 * Versioning. meta 'format' holds LB_JOURNAL_FORMAT as decimal text; any
 * change to tables, columns, hashing or canonical forms bumps it. Older
 * formats may be migrated on open in a later version; newer ones are
 * refused.
 *
 * Snapshots. A snapshot row (seq, state, digest) is the engine state after
 * folding every event <= seq; it is written in its own transaction, outside
 * any batch, after the batch that contains event seq committed. Restart =
 * latest snapshot with seq <= wanted + replay of events > seq. Truncation
 * drops snapshots past the cut; compaction (later) never drops events that
 * no snapshot covers.
 * ===========================================================================
 *
 * The writer is a small state machine:
 *
 *      lb_journal_open            first append_* / meta_set
 *   CLOSED ---------> IDLE ----------------------------------> BATCH
 *      ^               |  ^                                      |
 *      |   close       |  |  commit ok / any failure (rollback)  |
 *      +---------------+  +--------------------------------------+
 *                                           close (rollback) -> CLOSED
 *
 *   state  in_txn  invariants
 *   IDLE   0       pending == 0; base_* == last_*; SQLite in autocommit
 *   BATCH  1       last_seq == base_seq + pending; snapshot_put,
 *                  truncate_after and checkpoint are refused
 *   transitions: batch_begin() IDLE->BATCH, lb_journal_commit() and
 *   batch_abort() BATCH->IDLE, lb_journal_close() any->CLOSED.
 */
#include "journal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../engine/err.h"
#include "journal_int.h"

extern const char lb_schema_sql[];

enum { ST_INS_EVENT, ST_OUTCOME, ST_INS_DECISION, ST_INS_ACTION, ST__N };

static const char *const stmt_sql[ST__N] = {
    [ST_INS_EVENT] = "INSERT INTO events (" LB__EVENT_COLS ") "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                     "?12, ?13, ?14)",
    /* ?1 status, ?2 body, ?3 outcome seq, ?4 at_ms, ?5 action id */
    [ST_OUTCOME] =
        "UPDATE actions SET "
        "state = CASE WHEN ?1 BETWEEN 200 AND 299 THEN 'done' ELSE 'failed' "
        "END, "
        "http_status = ?1, "
        "error = CASE WHEN ?1 BETWEEN 200 AND 299 THEN NULL ELSE coalesce("
        "json_extract(CASE WHEN json_valid(?2) THEN ?2 END, '$.message'), "
        "CASE WHEN ?1 = 0 THEN 'transport error' ELSE 'HTTP ' || ?1 END) END, "
        "attempts = attempts + 1, outcome_seq = ?3, finished_ms = ?4 "
        "WHERE id = ?5",
    [ST_INS_DECISION] = "INSERT INTO decisions (seq, event_seq, reducer, kind, "
                        "namespace, name, reason, n_actions, canonical, chain) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    /* a RESPOND (admission verdict) gets no outcome event: it is done
     * when its decision commits (engine/admission.h) */
    [ST_INS_ACTION] = "INSERT INTO actions (id, decision_seq, verb, api_group, "
                      "kind, namespace, name, subresource, precondition_uid, "
                      "request, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                      "?9, ?10, CASE ?3 WHEN 'respond' THEN 'done' ELSE "
                      "'pending' END)",
};

struct lb_journal {
  sqlite3 *db;
  char *path;
  struct lb_journal_opts opts;
  int in_txn;               /* BATCH state: a transaction is open */
  int pending;              /* events appended in the batch */
  int64_t first_pending_ms; /* at_ms of the batch's first event */
  int64_t last_seq;         /* last event seq, including the batch */
  int64_t last_dec_seq;     /* last decision seq, including the batch */
  uint64_t last_chain;      /* its chain */
  int64_t base_seq;         /* last_seq at BEGIN (restored on rollback) */
  int64_t base_dec_seq;     /* last_dec_seq at BEGIN */
  uint64_t base_chain;      /* last_chain at BEGIN */
  sqlite3_stmt *st[ST__N];  /* cached write statements, prepared lazily */
  char errmsg[512];         /* last failure, "" if none */
};

struct lb_journal_cursor {
  struct lb_journal *j;
  sqlite3_stmt *st;
};

static char open_errmsg[512];

/* --- fault injection --------------------------------------------------- */

static int64_t fault_nth;    /* fail the nth call; 0 = disarmed */
static int64_t fault_count;  /* calls seen since arming */
static int fault_fired;      /* latched until the next arm */
static int fault_unreported; /* the last failure was injected */

void lb_journal_fault_arm(int64_t nth) {
  fault_nth = nth > 0 ? nth : 0;
  fault_count = 0;
  fault_unreported = 0;
  if (nth > 0)
    fault_fired = 0;
}

int lb_journal_fault_fired(void) { return fault_fired; }

static int fault_tick(void) {
  if (fault_nth <= 0 || fault_fired)
    return 0;
  if (++fault_count < fault_nth)
    return 0;
  fault_fired = 1;
  fault_unreported = 1;
  return 1;
}

int lb__journal_fault_take(void) {
  int f = fault_unreported;
  fault_unreported = 0;
  return f;
}

int lb__journal_step(sqlite3_stmt *st) {
  return fault_tick() ? SQLITE_IOERR : sqlite3_step(st);
}

int lb__journal_exec(sqlite3 *db, const char *sql) {
  return fault_tick() ? SQLITE_IOERR : sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* --- errors ------------------------------------------------------------ */

static int seterr(struct lb_journal *j, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int seterr(struct lb_journal *j, int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(j->errmsg, sizeof j->errmsg, fmt, ap);
  va_end(ap);
  return err;
}

/* Maps a SQLite failure of `what` to an LB_E code and a message. */
static int dberr(struct lb_journal *j, int rc, const char *what) {
  int prim = rc & 0xff;
  if (lb__journal_fault_take())
    return seterr(j, LB_EFAULT, "%s: injected fault (SQLITE_IOERR) on %s", what,
                  j->path);
  if (prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB)
    return seterr(j, LB_ECORRUPT,
                  "%s: journal %s is corrupt: %s; run `logbook journal check`",
                  what, j->path,
                  j->db ? sqlite3_errmsg(j->db) : sqlite3_errstr(rc));
  if (prim == SQLITE_NOMEM)
    return seterr(j, LB_ENOMEM, "%s: out of memory", what);
  return seterr(j, LB_EDB, "%s: %s (journal %s)", what,
                j->db ? sqlite3_errmsg(j->db) : sqlite3_errstr(rc), j->path);
}

static int readonly_err(struct lb_journal *j) {
  return seterr(j, LB_EINVAL, "journal %s is open read-only", j->path);
}

const char *lb_journal_errmsg(const struct lb_journal *j) {
  return j ? j->errmsg : "";
}

const char *lb_journal_open_errmsg(void) { return open_errmsg; }

const char *lb_durability_name(int d) {
  switch (d) {
  case LB_DUR_BATCHED:
    return "batched";
  case LB_DUR_ALWAYS:
    return "always";
  case LB_DUR_OFF:
    return "off";
  }
  return "?";
}

int lb_durability_parse(const char *s) {
  if (!s)
    return -1;
  if (!strcmp(s, "batched"))
    return LB_DUR_BATCHED;
  if (!strcmp(s, "always"))
    return LB_DUR_ALWAYS;
  if (!strcmp(s, "off"))
    return LB_DUR_OFF;
  return -1;
}

/* --- small statement helpers ------------------------------------------- */

static void assert_state(const struct lb_journal *j) {
#ifndef NDEBUG
  if (!j->in_txn) {
    LB_ALWAYS(j->pending == 0);
    LB_ALWAYS(j->last_seq == j->base_seq);
    LB_ALWAYS(j->last_dec_seq == j->base_dec_seq);
  } else {
    LB_ALWAYS(j->last_seq == j->base_seq + j->pending);
    LB_ALWAYS(j->last_dec_seq >= j->base_dec_seq);
  }
#else
  (void)j;
#endif
}

static int exec(struct lb_journal *j, const char *sql, const char *what) {
  int rc = lb__journal_exec(j->db, sql);
  return rc == SQLITE_OK ? 0 : dberr(j, rc, what);
}

static int prepare(struct lb_journal *j, const char *sql, sqlite3_stmt **st,
                   const char *what) {
  int rc = sqlite3_prepare_v2(j->db, sql, -1, st, NULL);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(*st);
    *st = NULL;
    return dberr(j, rc, what);
  }
  return 0;
}

static int cached(struct lb_journal *j, int which, sqlite3_stmt **out) {
  if (!j->st[which]) {
    int err = prepare(j, stmt_sql[which], &j->st[which], "prepare");
    if (err)
      return err;
  }
  *out = j->st[which];
  return 0;
}

static int bind_str(sqlite3_stmt *st, int i, const char *s) {
  return sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC);
}

static int bind_opt_str(sqlite3_stmt *st, int i, const char *s) {
  return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC)
           : sqlite3_bind_null(st, i);
}

/* Steps a write statement once and resets it. */
static int step_done(struct lb_journal *j, sqlite3_stmt *st, const char *what) {
  int rc = lb__journal_step(st), err = 0;
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    err = dberr(j, rc, what);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return err;
}

/* Runs a query returning at most one row of one or two integers. *found is
 * 0 when there is no row or the first column is NULL. */
static int query_i64(struct lb_journal *j, const char *sql, int64_t *a,
                     int64_t *b, int *found) {
  sqlite3_stmt *st = NULL;
  int err = prepare(j, sql, &st, "query"), rc;
  if (err)
    return err;
  *found = 0;
  rc = lb__journal_step(st);
  if (rc == SQLITE_ROW) {
    if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
      *found = 1;
      *a = sqlite3_column_int64(st, 0);
      if (b)
        *b = sqlite3_column_int64(st, 1);
    }
  } else if (rc != SQLITE_DONE) {
    err = dberr(j, rc, "query");
  }
  sqlite3_finalize(st);
  return err;
}

/* --- batches ----------------------------------------------------------- */

static int batch_begin(struct lb_journal *j) {
  int err;
  if (j->in_txn)
    return 0;
  assert_state(j);
  err = exec(j, "BEGIN IMMEDIATE", "begin batch");
  if (err) {
    if (!sqlite3_get_autocommit(j->db))
      (void)lb__journal_exec(j->db, "ROLLBACK");
    lb__journal_fault_take();
    return err;
  }
  j->in_txn = 1;
  j->pending = 0;
  j->base_seq = j->last_seq;
  j->base_dec_seq = j->last_dec_seq;
  j->base_chain = j->last_chain;
  return 0;
}

/* Rolls the open batch back (keeping the message of the failure that caused
 * it) and returns to IDLE with the in-memory tail as it was at BEGIN. */
static void batch_abort(struct lb_journal *j) {
  for (int tries = 0; tries < 2 && !sqlite3_get_autocommit(j->db); tries++)
    (void)lb__journal_exec(j->db, "ROLLBACK");
  lb__journal_fault_take();
  j->in_txn = 0;
  j->pending = 0;
  j->last_seq = j->base_seq;
  j->last_dec_seq = j->base_dec_seq;
  j->last_chain = j->base_chain;
  assert_state(j);
}

/* --- open / close ------------------------------------------------------ */

static int create_schema(struct lb_journal *j) {
  char created[32], sql[256];
  struct timespec ts;
  int err;

  clock_gettime(CLOCK_REALTIME, &ts);
  lb_time_rfc3339((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, created);
  snprintf(sql, sizeof sql,
           "INSERT OR REPLACE INTO meta (key, value) VALUES "
           "('format', '%d'), ('created', '%s')",
           LB_JOURNAL_FORMAT, created);
  err = exec(j, "BEGIN IMMEDIATE", "create journal");
  if (err)
    goto fail_rollback;
  err = exec(j, lb_schema_sql, "create journal schema");
  if (err)
    goto fail_rollback;
  err = exec(j, sql, "create journal meta");
  if (err)
    goto fail_rollback;
  err = exec(j, "COMMIT", "create journal");
  if (err)
    goto fail_rollback;
  return 0;

fail_rollback:
  for (int tries = 0; tries < 2 && !sqlite3_get_autocommit(j->db); tries++)
    (void)lb__journal_exec(j->db, "ROLLBACK");
  lb__journal_fault_take();
  return err;
}

static int check_format(struct lb_journal *j) {
  int64_t fmt = 0, n = 0;
  int found = 0, err;
  sqlite3_stmt *st = NULL;
  const unsigned char *txt;
  char *end;

  err = query_i64(j,
                  "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                  "AND name = 'meta'",
                  &n, NULL, &found);
  if (err)
    return err;
  if (n == 0)
    return seterr(j, LB_EVERSION,
                  "%s is a SQLite database but not a logbook journal (no meta "
                  "table); refusing to use it",
                  j->path);
  err = prepare(j, "SELECT value FROM meta WHERE key = 'format'", &st,
                "read format");
  if (err)
    return err;
  int rc = lb__journal_step(st);
  if (rc == SQLITE_DONE) {
    err = seterr(j, LB_EVERSION,
                 "%s is a SQLite database but not a logbook journal (no meta "
                 "'format'); refusing to use it",
                 j->path);
  } else if (rc != SQLITE_ROW) {
    err = dberr(j, rc, "read format");
  } else {
    txt = sqlite3_column_text(st, 0);
    fmt = txt ? strtoll((const char *)txt, &end, 10) : 0;
    if (!txt || *end != '\0' || fmt < 1)
      err = seterr(j, LB_EVERSION,
                   "journal %s has an unreadable format version '%s'", j->path,
                   txt ? (const char *)txt : "(null)");
    else if (fmt > LB_JOURNAL_FORMAT)
      err = seterr(j, LB_EVERSION,
                   "journal %s has format %lld, newer than this logbook "
                   "(reads format <= %d); use a newer logbook",
                   j->path, (long long)fmt, LB_JOURNAL_FORMAT);
  }
  sqlite3_finalize(st);
  return err;
}

/* Loads the last event seq and last decision from the database. */
static int load_tail(struct lb_journal *j, int64_t *seq, int64_t *dseq,
                     uint64_t *chain) {
  int64_t a = 0, b = 0;
  int found, err;
  err = query_i64(j, "SELECT max(seq) FROM events", &a, NULL, &found);
  if (err)
    return err;
  *seq = found ? a : 0;
  err = query_i64(j,
                  "SELECT seq, chain FROM decisions ORDER BY seq DESC "
                  "LIMIT 1",
                  &a, &b, &found);
  if (err)
    return err;
  *dseq = found ? a : 0;
  *chain = found ? (uint64_t)b : 0;
  return 0;
}

static int set_pragmas(struct lb_journal *j, int fresh) {
  sqlite3_stmt *st = NULL;
  const unsigned char *mode;
  int err, rc;

  if (fresh) {
    err = exec(j, "PRAGMA page_size = 16384", "set page size");
    if (err)
      return err;
  }
  err = exec(j, "PRAGMA foreign_keys = OFF", "set foreign_keys");
  if (err || j->opts.readonly)
    return err;
  err = prepare(j, "PRAGMA journal_mode = WAL", &st, "set WAL mode");
  if (err)
    return err;
  rc = lb__journal_step(st);
  if (rc != SQLITE_ROW) {
    err = dberr(j, rc, "set WAL mode");
  } else {
    mode = sqlite3_column_text(st, 0);
    if (!mode || strcmp((const char *)mode, "wal") != 0)
      err = seterr(j, LB_EDB,
                   "journal %s: cannot enable WAL mode (got '%s'); is the "
                   "file on a filesystem without shared memory support?",
                   j->path, mode ? (const char *)mode : "(null)");
  }
  sqlite3_finalize(st);
  if (err)
    return err;
  err = exec(j, "PRAGMA wal_autocheckpoint = 0", "disable autocheckpoint");
  if (err)
    return err;
  return exec(j,
              j->opts.durability == LB_DUR_OFF ? "PRAGMA synchronous = OFF"
                                               : "PRAGMA synchronous = FULL",
              "set synchronous");
}

int lb_journal_open(const char *path, const struct lb_journal_opts *opts,
                    struct lb_journal **out) {
  struct lb_journal_opts defaults = LB_JOURNAL_OPTS_INIT;
  struct lb__journal_probe probe;
  struct lb_journal *j;
  int64_t ntables = 0;
  int err, rc, found, flags, fresh;

  open_errmsg[0] = '\0';
  if (!out || !path || !*path) {
    snprintf(open_errmsg, sizeof open_errmsg, "no journal path given");
    return LB_EINVAL;
  }
  *out = NULL;
  if (!opts)
    opts = &defaults;
  if (opts->durability < LB_DUR_BATCHED || opts->durability > LB_DUR_OFF ||
      opts->flush_events < 1 || opts->flush_ms < 0) {
    snprintf(open_errmsg, sizeof open_errmsg,
             "journal %s: invalid options (durability %d, flush_events %d, "
             "flush_ms %d)",
             path, opts->durability, opts->flush_events, opts->flush_ms);
    return LB_EINVAL;
  }
  err = lb__journal_probe(path, &probe, open_errmsg, sizeof open_errmsg);
  if (err == LB_ENOENT && !opts->readonly) {
    probe.size = 0;
    err = 0;
    open_errmsg[0] = '\0';
  }
  if (err)
    return err;
  if (probe.size == 0 && opts->readonly) {
    snprintf(open_errmsg, sizeof open_errmsg,
             "journal %s is empty (0 bytes): not a logbook journal", path);
    return LB_ECORRUPT;
  }

  j = calloc(1, sizeof *j);
  if (!j)
    goto fail_nomem;
  j->path = lb_strdup(path);
  if (!j->path)
    goto fail_free;
  j->opts = *opts;

  flags = opts->readonly ? SQLITE_OPEN_READONLY
                         : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  rc = sqlite3_open_v2(path, &j->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    err = dberr(j, rc, "open");
    goto fail_close_db;
  }
  sqlite3_extended_result_codes(j->db, 1);
  sqlite3_busy_timeout(j->db, 5000);

  err = query_i64(j, "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                  &ntables, NULL, &found);
  if (err)
    goto fail_close_db;
  fresh = ntables == 0;
  if (fresh && opts->readonly) {
    err = seterr(j, LB_EVERSION,
                 "%s is a SQLite database but not a logbook journal (no "
                 "tables)",
                 path);
    goto fail_close_db;
  }
  err = set_pragmas(j, fresh);
  if (err)
    goto fail_close_db;
  err = fresh ? create_schema(j) : check_format(j);
  if (err)
    goto fail_close_db;
  err = load_tail(j, &j->last_seq, &j->last_dec_seq, &j->last_chain);
  if (err)
    goto fail_close_db;
  j->base_seq = j->last_seq;
  j->base_dec_seq = j->last_dec_seq;
  j->base_chain = j->last_chain;
  *out = j;
  return 0;

fail_close_db:
  snprintf(open_errmsg, sizeof open_errmsg, "%s", j->errmsg);
  sqlite3_close_v2(j->db);
  free(j->path);
  free(j);
  return err;
fail_free:
  free(j);
fail_nomem:
  snprintf(open_errmsg, sizeof open_errmsg, "out of memory opening %s", path);
  return LB_ENOMEM;
}

void lb_journal_close(struct lb_journal *j) {
  if (!j)
    return;
  if (j->in_txn)
    batch_abort(j);
  for (int i = 0; i < ST__N; i++)
    sqlite3_finalize(j->st[i]);
  if (!j->opts.readonly)
    (void)lb__journal_exec(j->db, "PRAGMA wal_checkpoint(PASSIVE)");
  lb__journal_fault_take();
  sqlite3_close_v2(j->db);
  free(j->path);
  free(j);
}

/* --- write path -------------------------------------------------------- */

int lb_journal_append_event(struct lb_journal *j, struct lb_event *ev) {
  sqlite3_stmt *st;
  int64_t seq;
  int err, b = 0, outcome;

  if (!j || !ev)
    return LB_EINVAL;
  if (j->opts.readonly)
    return readonly_err(j);
  if (ev->body && ev->body_len > 0x7fffffffu)
    return seterr(j, LB_ERANGE, "event body of %zu bytes is too large",
                  ev->body_len);
  err = batch_begin(j);
  if (err)
    return err;
  seq = j->last_seq + 1;
  outcome = ev->source == LB_SRC_OUTCOME;

  err = cached(j, ST_INS_EVENT, &st);
  if (err)
    goto fail_abort;
  b |= sqlite3_bind_int64(st, 1, seq);
  b |= sqlite3_bind_int64(st, 2, ev->at_ms);
  b |= bind_str(st, 3, lb_source_name(ev->source));
  b |= bind_str(st, 4, lb_evtype_name(ev->type));
  b |= bind_str(st, 5, ev->api_group);
  b |= bind_str(st, 6, ev->kind);
  b |= bind_str(st, 7, ev->ns);
  b |= bind_str(st, 8, ev->name);
  b |= bind_str(st, 9, ev->uid);
  b |= bind_str(st, 10, ev->rv);
  b |= (outcome || ev->action_id) ? sqlite3_bind_int64(st, 11, ev->action_id)
                                  : sqlite3_bind_null(st, 11);
  b |= (outcome || ev->http_status) ? sqlite3_bind_int(st, 12, ev->http_status)
                                    : sqlite3_bind_null(st, 12);
  b |= ev->body ? sqlite3_bind_text(st, 13, ev->body, (int)ev->body_len,
                                    SQLITE_STATIC)
                : sqlite3_bind_null(st, 13);
  b |= sqlite3_bind_int64(st, 14, (int64_t)ev->hash);
  if (b != SQLITE_OK) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    err = seterr(j, LB_EDB, "append event: cannot bind values: %s",
                 sqlite3_errmsg(j->db));
    goto fail_abort;
  }
  err = step_done(j, st, "append event");
  if (err)
    goto fail_abort;

  if (outcome && ev->action_id > 0) {
    err = cached(j, ST_OUTCOME, &st);
    if (err)
      goto fail_abort;
    b |= sqlite3_bind_int(st, 1, ev->http_status);
    b |= ev->body ? sqlite3_bind_text(st, 2, ev->body, (int)ev->body_len,
                                      SQLITE_STATIC)
                  : sqlite3_bind_null(st, 2);
    b |= sqlite3_bind_int64(st, 3, seq);
    b |= sqlite3_bind_int64(st, 4, ev->at_ms);
    b |= sqlite3_bind_int64(st, 5, ev->action_id);
    if (b != SQLITE_OK) {
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
      err = seterr(j, LB_EDB, "record outcome: cannot bind values: %s",
                   sqlite3_errmsg(j->db));
      goto fail_abort;
    }
    err = step_done(j, st, "record outcome");
    if (err)
      goto fail_abort;
  }

  ev->seq = seq;
  j->last_seq = seq;
  if (j->pending++ == 0)
    j->first_pending_ms = ev->at_ms;
  assert_state(j);
  return 0;

fail_abort:
  batch_abort(j);
  return err;
}

static int insert_action(struct lb_journal *j, int64_t dseq,
                         const struct lb_action *a) {
  sqlite3_stmt *st;
  int err = cached(j, ST_INS_ACTION, &st), b = 0;
  if (err)
    return err;
  b |= sqlite3_bind_int64(st, 1, a->id);
  b |= sqlite3_bind_int64(st, 2, dseq);
  b |= bind_str(st, 3, lb_verb_name(a->verb));
  b |= bind_str(st, 4, a->api_group);
  b |= bind_str(st, 5, a->kind);
  b |= bind_str(st, 6, a->ns);
  b |= bind_str(st, 7, a->name);
  b |= bind_str(st, 8, a->sub);
  b |= bind_str(st, 9, a->uid);
  b |= bind_opt_str(st, 10, a->body);
  if (b != SQLITE_OK) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return seterr(j, LB_EDB, "append action %lld: cannot bind values: %s",
                  (long long)a->id, sqlite3_errmsg(j->db));
  }
  return step_done(j, st, "append action");
}

int lb_journal_append_decision(struct lb_journal *j,
                               const struct lb_decision *d) {
  sqlite3_stmt *st;
  uint64_t expect;
  int err, b = 0;

  if (!j || !d)
    return LB_EINVAL;
  if (j->opts.readonly)
    return readonly_err(j);
  if (!d->canonical || d->canonical_len > 0x7fffffffu ||
      d->n_actions > 1000000 || (d->n_actions && !d->actions))
    return seterr(j, LB_EINVAL, "append decision %lld: decision is not sealed",
                  (long long)d->seq);
  if (d->seq <= j->last_dec_seq)
    return seterr(j, LB_EINVAL,
                  "append decision %lld: seq must be greater than the last "
                  "decision's (%lld)",
                  (long long)d->seq, (long long)j->last_dec_seq);
  if (d->event_seq < 1 || d->event_seq > j->last_seq)
    return seterr(j, LB_EINVAL,
                  "append decision %lld: event seq %lld is not in the journal "
                  "(last event %lld)",
                  (long long)d->seq, (long long)d->event_seq,
                  (long long)j->last_seq);
  expect = lb_chain_next(j->last_chain, d->canonical, d->canonical_len);
  if (expect != d->chain)
    return seterr(j, LB_ECHAIN,
                  "append decision %lld: chain %016llx does not follow the "
                  "journal's last decision %lld (expected %016llx); seal it "
                  "with the chain from lb_journal_last_decision()",
                  (long long)d->seq, (unsigned long long)d->chain,
                  (long long)j->last_dec_seq, (unsigned long long)expect);

  err = batch_begin(j);
  if (err)
    return err;
  err = cached(j, ST_INS_DECISION, &st);
  if (err)
    goto fail_abort;
  b |= sqlite3_bind_int64(st, 1, d->seq);
  b |= sqlite3_bind_int64(st, 2, d->event_seq);
  b |= bind_opt_str(st, 3, d->reducer);
  b |= bind_opt_str(st, 4, d->kind);
  b |= bind_opt_str(st, 5, d->ns);
  b |= bind_opt_str(st, 6, d->name);
  b |= bind_opt_str(st, 7, d->reason);
  b |= sqlite3_bind_int64(st, 8, (int64_t)d->n_actions);
  b |= sqlite3_bind_text(st, 9, d->canonical, (int)d->canonical_len,
                         SQLITE_STATIC);
  b |= sqlite3_bind_int64(st, 10, (int64_t)d->chain);
  if (b != SQLITE_OK) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    err = seterr(j, LB_EDB, "append decision: cannot bind values: %s",
                 sqlite3_errmsg(j->db));
    goto fail_abort;
  }
  err = step_done(j, st, "append decision");
  if (err)
    goto fail_abort;
  for (size_t i = 0; i < d->n_actions; i++) {
    err = insert_action(j, d->seq, &d->actions[i]);
    if (err)
      goto fail_abort;
  }
  j->last_dec_seq = d->seq;
  j->last_chain = d->chain;
  assert_state(j);
  return 0;

fail_abort:
  batch_abort(j);
  return err;
}

int lb_journal_should_flush(const struct lb_journal *j, int64_t now_ms) {
  if (!j || !j->in_txn)
    return 0;
  if (j->pending == 0)
    return 1; /* a batch without events (meta, decisions): nothing to group */
  if (j->opts.durability == LB_DUR_ALWAYS)
    return 1;
  if (j->pending >= j->opts.flush_events)
    return 1;
  return now_ms - j->first_pending_ms >= j->opts.flush_ms;
}

int lb_journal_commit(struct lb_journal *j) {
  int err;
  if (!j)
    return LB_EINVAL;
  if (!j->in_txn)
    return 0;
  err = exec(j, "COMMIT", "commit batch");
  if (err) {
    size_t n = strlen(j->errmsg);
    snprintf(j->errmsg + n, sizeof j->errmsg - n,
             "; the batch of %d events (seq %lld..%lld) was rolled back",
             j->pending, (long long)(j->base_seq + 1), (long long)j->last_seq);
    batch_abort(j);
    return err;
  }
  j->in_txn = 0;
  j->pending = 0;
  j->base_seq = j->last_seq;
  j->base_dec_seq = j->last_dec_seq;
  j->base_chain = j->last_chain;
  assert_state(j);
  return 0;
}

int lb_journal_pending(const struct lb_journal *j) {
  return j ? j->pending : 0;
}

/* --- read path --------------------------------------------------------- */

int lb_journal_last_seq(struct lb_journal *j, int64_t *seq) {
  int64_t dseq;
  uint64_t chain;
  if (!j || !seq)
    return LB_EINVAL;
  if (!j->opts.readonly) {
    *seq = j->last_seq;
    return 0;
  }
  /* a reader sees what the writer has committed so far */
  return load_tail(j, seq, &dseq, &chain);
}

int lb_journal_last_decision(struct lb_journal *j, int64_t *seq,
                             uint64_t *chain) {
  int64_t eseq;
  if (!j || !seq || !chain)
    return LB_EINVAL;
  if (!j->opts.readonly) {
    *seq = j->last_dec_seq;
    *chain = j->last_chain;
    return 0;
  }
  return load_tail(j, &eseq, seq, chain);
}

/* A malloc'd copy of a text column ("" for NULL), and its length. */
static char *col_dup_len(sqlite3_stmt *st, int i, size_t *len) {
  const unsigned char *t = sqlite3_column_text(st, i);
  size_t n = t ? (size_t)sqlite3_column_bytes(st, i) : 0;
  char *c = malloc(n + 1);
  if (!c)
    return NULL;
  if (n)
    memcpy(c, t, n);
  c[n] = '\0';
  if (len)
    *len = n;
  return c;
}

static char *col_dup(sqlite3_stmt *st, int i) {
  return col_dup_len(st, i, NULL);
}

int lb__journal_row_event(sqlite3_stmt *st, struct lb_event *ev,
                          uint64_t *stored_hash) {
  char **strs[] = {&ev->api_group, &ev->kind, &ev->ns,
                   &ev->name,      &ev->uid,  &ev->rv};
  lb_event_init(ev);
  ev->seq = sqlite3_column_int64(st, 0);
  ev->at_ms = sqlite3_column_int64(st, 1);
  ev->source = lb_source_parse((const char *)sqlite3_column_text(st, 2));
  ev->type = lb_evtype_parse((const char *)sqlite3_column_text(st, 3));
  for (size_t i = 0; i < LB_ARRAY_SIZE(strs); i++)
    if (!(*strs[i] = col_dup(st, 4 + (int)i)))
      goto fail_release;
  ev->action_id = sqlite3_column_int64(st, 10);
  ev->http_status = sqlite3_column_int(st, 11);
  if (sqlite3_column_type(st, 12) != SQLITE_NULL) {
    if (!(ev->body = col_dup_len(st, 12, &ev->body_len)))
      goto fail_release;
  }
  *stored_hash = (uint64_t)sqlite3_column_int64(st, 13);
  ev->hash = *stored_hash;
  return 0;

fail_release:
  lb_event_release(ev);
  return LB_ENOMEM;
}

int lb_journal_scan_events(struct lb_journal *j, int64_t from, int64_t to,
                           int (*cb)(void *ctx, struct lb_event *ev),
                           void *ctx) {
  sqlite3_stmt *st = NULL;
  struct lb_event ev;
  uint64_t stored, actual;
  int err, rc;

  if (!j || !cb)
    return LB_EINVAL;
  err = prepare(j,
                "SELECT " LB__EVENT_COLS
                " FROM events WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq",
                &st, "scan events");
  if (err)
    return err;
  sqlite3_bind_int64(st, 1, from);
  sqlite3_bind_int64(st, 2, to < 0 ? INT64_MAX : to);
  for (;;) {
    rc = lb__journal_step(st);
    if (rc == SQLITE_DONE)
      break;
    if (rc != SQLITE_ROW) {
      err = dberr(j, rc, "scan events");
      break;
    }
    err = lb__journal_row_event(st, &ev, &stored);
    if (err) {
      seterr(j, err, "scan events: out of memory");
      break;
    }
    actual = lb_event_hash(&ev);
    if (actual != stored) {
      err = seterr(j, LB_ECORRUPT,
                   "journal %s: event seq %lld: stored hash %016llx, content "
                   "hashes to %016llx; run `logbook journal check`",
                   j->path, (long long)ev.seq, (unsigned long long)stored,
                   (unsigned long long)actual);
      lb_event_release(&ev);
      break;
    }
    err = cb(ctx, &ev);
    lb_event_release(&ev);
    if (err)
      break;
  }
  sqlite3_finalize(st);
  return err;
}

int lb_journal_decisions_open(struct lb_journal *j, int64_t from_seq,
                              struct lb_journal_cursor **out) {
  struct lb_journal_cursor *c;
  int err;
  if (!j || !out)
    return LB_EINVAL;
  *out = NULL;
  c = calloc(1, sizeof *c);
  if (!c)
    return seterr(j, LB_ENOMEM, "decision cursor: out of memory");
  c->j = j;
  err = prepare(j,
                "SELECT seq, event_seq, reducer, kind, namespace, name, "
                "reason, canonical, chain FROM decisions WHERE seq >= ?1 "
                "ORDER BY seq",
                &c->st, "read decisions");
  if (err) {
    free(c);
    return err;
  }
  sqlite3_bind_int64(c->st, 1, from_seq);
  *out = c;
  return 0;
}

int lb_journal_decisions_next(struct lb_journal_cursor *c,
                              struct lb_decision *out) {
  int rc;
  if (!c || !out)
    return LB_EINVAL;
  memset(out, 0, sizeof *out);
  rc = lb__journal_step(c->st);
  if (rc == SQLITE_DONE)
    return LB_ENOENT;
  if (rc != SQLITE_ROW)
    return dberr(c->j, rc, "read decisions");
  out->seq = sqlite3_column_int64(c->st, 0);
  out->event_seq = sqlite3_column_int64(c->st, 1);
  out->reducer = col_dup(c->st, 2);
  out->kind = col_dup(c->st, 3);
  out->ns = col_dup(c->st, 4);
  out->name = col_dup(c->st, 5);
  out->reason = col_dup(c->st, 6);
  out->canonical = col_dup_len(c->st, 7, &out->canonical_len);
  out->chain = (uint64_t)sqlite3_column_int64(c->st, 8);
  if (!out->reducer || !out->kind || !out->ns || !out->name || !out->reason ||
      !out->canonical) {
    lb_decision_release(out);
    return seterr(c->j, LB_ENOMEM, "read decisions: out of memory");
  }
  return 0;
}

void lb_journal_decisions_close(struct lb_journal_cursor *c) {
  if (!c)
    return;
  sqlite3_finalize(c->st);
  free(c);
}

int lb_journal_checkpoint(struct lb_journal *j) {
  if (!j)
    return LB_EINVAL;
  if (j->opts.readonly)
    return readonly_err(j);
  if (j->in_txn)
    return seterr(j, LB_EINVAL, "checkpoint: a batch is open; commit first");
  return exec(j, "PRAGMA wal_checkpoint(PASSIVE)", "checkpoint");
}

/* --- snapshots --------------------------------------------------------- */

int lb_journal_snapshot_put(struct lb_journal *j, int64_t seq, const void *blob,
                            size_t len, uint64_t digest) {
  sqlite3_stmt *st = NULL;
  int err, b = 0;
  if (!j || (!blob && len) || len > 0x7fffffffu)
    return LB_EINVAL;
  if (j->opts.readonly)
    return readonly_err(j);
  if (j->in_txn)
    return seterr(j, LB_EINVAL,
                  "snapshot at seq %lld: a batch is open; "
                  "commit it first",
                  (long long)seq);
  if (seq < 0 || seq > j->last_seq)
    return seterr(j, LB_EINVAL,
                  "snapshot at seq %lld: not in the journal (last event %lld)",
                  (long long)seq, (long long)j->last_seq);
  err = prepare(j,
                "INSERT OR REPLACE INTO snapshots (seq, state, digest, bytes) "
                "VALUES (?1, ?2, ?3, ?4)",
                &st, "write snapshot");
  if (err)
    return err;
  b |= sqlite3_bind_int64(st, 1, seq);
  b |= sqlite3_bind_blob(st, 2, blob ? blob : "", (int)len, SQLITE_STATIC);
  b |= sqlite3_bind_int64(st, 3, (int64_t)digest);
  b |= sqlite3_bind_int64(st, 4, (int64_t)len);
  if (b != SQLITE_OK)
    err = seterr(j, LB_EDB, "write snapshot: cannot bind values: %s",
                 sqlite3_errmsg(j->db));
  else
    err = step_done(j, st, "write snapshot");
  sqlite3_finalize(st);
  return err;
}

int lb_journal_snapshot_get(struct lb_journal *j, int64_t max_seq, int64_t *seq,
                            void **blob, size_t *len, uint64_t *digest) {
  sqlite3_stmt *st = NULL;
  int err, rc, n;
  if (!j || !seq || !blob || !len || !digest)
    return LB_EINVAL;
  *blob = NULL;
  *len = 0;
  err = prepare(j,
                "SELECT seq, state, digest FROM snapshots "
                "WHERE ?1 < 0 OR seq <= ?1 ORDER BY seq DESC LIMIT 1",
                &st, "read snapshot");
  if (err)
    return err;
  sqlite3_bind_int64(st, 1, max_seq);
  rc = lb__journal_step(st);
  if (rc == SQLITE_DONE) {
    err = seterr(j, LB_ENOENT, "no snapshot at or before seq %lld",
                 (long long)max_seq);
  } else if (rc != SQLITE_ROW) {
    err = dberr(j, rc, "read snapshot");
  } else {
    const void *p = sqlite3_column_blob(st, 1);
    n = sqlite3_column_bytes(st, 1);
    *blob = malloc(n > 0 ? (size_t)n : 1);
    if (!*blob) {
      err = seterr(j, LB_ENOMEM, "read snapshot: out of memory");
    } else {
      if (n > 0)
        memcpy(*blob, p, (size_t)n);
      *len = (size_t)n;
      *seq = sqlite3_column_int64(st, 0);
      *digest = (uint64_t)sqlite3_column_int64(st, 2);
    }
  }
  sqlite3_finalize(st);
  return err;
}

/* --- meta -------------------------------------------------------------- */

int lb_journal_meta_set(struct lb_journal *j, const char *key,
                        const char *value) {
  sqlite3_stmt *st = NULL;
  int err;
  if (!j || !key)
    return LB_EINVAL;
  if (j->opts.readonly)
    return readonly_err(j);
  err = prepare(j, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
                &st, "set meta");
  if (err)
    goto fail_abort;
  bind_str(st, 1, key);
  bind_opt_str(st, 2, value);
  err = step_done(j, st, "set meta");
  sqlite3_finalize(st);
  if (err)
    goto fail_abort;
  return 0;

fail_abort:
  if (j->in_txn) /* a failure inside a batch loses the batch */
    batch_abort(j);
  return err;
}

int lb_journal_meta_get(struct lb_journal *j, const char *key, char **value) {
  sqlite3_stmt *st = NULL;
  int err, rc;
  if (!j || !key || !value)
    return LB_EINVAL;
  *value = NULL;
  err = prepare(j, "SELECT value FROM meta WHERE key = ?1", &st, "read meta");
  if (err)
    return err;
  bind_str(st, 1, key);
  rc = lb__journal_step(st);
  if (rc == SQLITE_DONE ||
      (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_NULL)) {
    err = seterr(j, LB_ENOENT, "no meta '%s'", key);
  } else if (rc != SQLITE_ROW) {
    err = dberr(j, rc, "read meta");
  } else if (!(*value = col_dup(st, 0))) {
    err = seterr(j, LB_ENOMEM, "read meta: out of memory");
  }
  sqlite3_finalize(st);
  return err;
}

/* --- audit and offline tools ------------------------------------------- */

int lb_journal_query(struct lb_journal *j, const char *sql,
                     int (*cb)(void *ctx, int ncol, const char *const *names,
                               const char *const *vals),
                     void *ctx) {
  sqlite3_stmt *st = NULL;
  const char *tail = NULL, **names = NULL, **vals = NULL;
  int err = 0, rc, ncol;

  if (!j || !sql || !cb)
    return LB_EINVAL;
  rc = sqlite3_prepare_v2(j->db, sql, -1, &st, &tail);
  if (rc != SQLITE_OK)
    return seterr(j, LB_EDB, "query: %s", sqlite3_errmsg(j->db));
  if (!st)
    return seterr(j, LB_EDB, "query: no SQL statement given");
  while (tail && (*tail == ' ' || *tail == '\n' || *tail == '\t' ||
                  *tail == '\r' || *tail == ';'))
    tail++;
  if (tail && *tail) {
    err = seterr(j, LB_EDB,
                 "query: only one statement at a time (extra: %.40s)", tail);
    goto done;
  }
  if (!sqlite3_stmt_readonly(st)) {
    err = seterr(j, LB_EDB,
                 "query: only read-only statements may be run on "
                 "the journal");
    goto done;
  }
  ncol = sqlite3_column_count(st);
  names = calloc((size_t)ncol + 1, sizeof *names);
  vals = calloc((size_t)ncol + 1, sizeof *vals);
  if (!names || !vals) {
    err = seterr(j, LB_ENOMEM, "query: out of memory");
    goto done;
  }
  for (int i = 0; i < ncol; i++) {
    names[i] = sqlite3_column_name(st, i);
    if (!names[i]) {
      err = seterr(j, LB_ENOMEM, "query: out of memory");
      goto done;
    }
  }
  err = cb(ctx, ncol, names, NULL);
  while (!err) {
    rc = lb__journal_step(st);
    if (rc == SQLITE_DONE)
      break;
    if (rc != SQLITE_ROW) {
      err = dberr(j, rc, "query");
      break;
    }
    for (int i = 0; i < ncol; i++)
      vals[i] = (const char *)sqlite3_column_text(st, i);
    err = cb(ctx, ncol, names, vals);
  }
done:
  free(names);
  free(vals);
  sqlite3_finalize(st);
  return err;
}

int lb_journal_truncate_after(struct lb_journal *j, int64_t seq) {
  char sql[1024];
  int err;
  if (!j)
    return LB_EINVAL;
  if (j->opts.readonly)
    return readonly_err(j);
  if (j->in_txn)
    return seterr(j, LB_EINVAL, "truncate: a batch is open; commit first");
  if (seq < 0)
    return seterr(j, LB_EINVAL, "truncate: seq %lld is negative",
                  (long long)seq);
  snprintf(sql, sizeof sql,
           "DELETE FROM actions WHERE decision_seq IN "
           "  (SELECT seq FROM decisions WHERE event_seq > %lld);"
           "DELETE FROM decisions WHERE event_seq > %lld;"
           "UPDATE actions SET state = 'pending', http_status = NULL, "
           "  error = NULL, outcome_seq = NULL, finished_ms = NULL, "
           "  attempts = max(attempts - 1, 0) WHERE outcome_seq > %lld;"
           "DELETE FROM snapshots WHERE seq > %lld;"
           "DELETE FROM events WHERE seq > %lld;",
           (long long)seq, (long long)seq, (long long)seq, (long long)seq,
           (long long)seq);
  err = batch_begin(j);
  if (err)
    return err;
  err = exec(j, sql, "truncate");
  if (err)
    goto fail_abort;
  err = exec(j, "COMMIT", "truncate");
  if (err)
    goto fail_abort;
  j->in_txn = 0;
  err = load_tail(j, &j->last_seq, &j->last_dec_seq, &j->last_chain);
  j->base_seq = j->last_seq;
  j->base_dec_seq = j->last_dec_seq;
  j->base_chain = j->last_chain;
  return err;

fail_abort:
  batch_abort(j);
  return err;
}
