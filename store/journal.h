/* journal.h — the SQLite journal: the whole interface of store/journal.c.
 *
 * One writer appends events and decisions inside a group-commit batch; the
 * batch becomes durable at lb_journal_commit(). Actions of a decision must
 * not be executed before the commit that contains the decision (write-ahead).
 * Readers scan events and decisions in seq order. The file format, the
 * durability policies and recovery are specified at the top of journal.c.
 *
 * Threading: a handle is used from one thread. Errors: 0 or a negative LB_E*
 * code; lb_journal_errmsg() then describes the last failure in words.
 */
#ifndef LB_JOURNAL_H
#define LB_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/decision.h"
#include "../engine/event.h"
#include "../engine/util.h"

#define LB_JOURNAL_FORMAT 1 /* meta 'format'; bump on any schema change */

/* Durability policy (Redis appendfsync):
 *   always   every event is its own transaction, synchronous=FULL
 *   batched  group commit (flush by count or elapsed ms), synchronous=FULL:
 *            each commit is fsync'd; an unflushed batch may be lost on a
 *            crash, and nothing in it has been acted on  (DEFAULT)
 *   off      group commit, synchronous=OFF: fast, for tests and benchmarks;
 *            a power loss may lose committed batches */
enum lb_durability { LB_DUR_BATCHED = 0, LB_DUR_ALWAYS, LB_DUR_OFF };
const char *lb_durability_name(int d);
int lb_durability_parse(const char *s); /* enum value, or -1 */

struct lb_journal_opts {
  int durability;   /* enum lb_durability */
  int flush_events; /* commit when this many events are pending (256) */
  int flush_ms;     /* ... or when the oldest pending is this old (5) */
  int readonly;     /* open for reading only; never creates */
};
#define LB_JOURNAL_OPTS_INIT                                                   \
  { LB_DUR_BATCHED, 256, 5, 0 }

struct lb_journal;

/* Opens (creating when missing unless readonly) and verifies format version.
 * A file that is not a logbook journal, has a newer format, or is damaged is
 * refused with LB_EVERSION / LB_ECORRUPT / LB_ETORN and a message. */
int lb_journal_open(const char *path, const struct lb_journal_opts *opts,
                    struct lb_journal **out);
/* Rolls back an open batch, checkpoints, closes; NULL is fine. */
void lb_journal_close(struct lb_journal *j);
/* The message of the last failure on j ("" if none). Borrowed. */
const char *lb_journal_errmsg(const struct lb_journal *j);
/* Message of the last lb_journal_open failure (static buffer). */
const char *lb_journal_open_errmsg(void);

/* --- write path --------------------------------------------------------- */
/* Appends ev (prepared) into the current batch, assigning ev->seq = last+1.
 * An outcome event also marks its action row done/failed. Any failure of
 * an append rolls the whole batch back (as a failed commit does): the
 * caller must stop and restart from the journal. */
int lb_journal_append_event(struct lb_journal *j, struct lb_event *ev);
/* Appends a sealed decision and one row per action (state 'pending').
 * Refused before anything is written (the batch stays intact) when d is
 * not sealed or d->seq is not above the last decision's (LB_EINVAL), its
 * event_seq is not in the journal (LB_EINVAL), or d->chain does not follow
 * the journal's last decision (LB_ECHAIN: seal with the chain from
 * lb_journal_last_decision). SQLite failures roll the batch back. */
int lb_journal_append_decision(struct lb_journal *j,
                               const struct lb_decision *d);
/* Non-zero when the batch should be committed now by count or by age
 * (now_ms is the caller's clock, compared with the at_ms of the batch's
 * first event). Always non-zero with a batch open under LB_DUR_ALWAYS, or
 * when the open batch holds no event (only decisions or meta). */
int lb_journal_should_flush(const struct lb_journal *j, int64_t now_ms);
/* Commits the batch (no-op without one). On failure the batch is rolled
 * back and lost: the caller must stop and restart from the journal. */
int lb_journal_commit(struct lb_journal *j);
int lb_journal_pending(const struct lb_journal *j); /* events in batch */

/* --- read path ---------------------------------------------------------- */
/* The writer's values include its open batch; a read-only handle reads
 * what has been committed so far. */
int lb_journal_last_seq(struct lb_journal *j, int64_t *seq); /* 0 if empty */
int lb_journal_last_decision(struct lb_journal *j, int64_t *seq,
                             uint64_t *chain); /* 0,0 if none */
/* Calls cb for each event with from <= seq <= to (to < 0: to the end), in
 * seq order. The event is prepared (identity, body, hash; obj NULL) and
 * owned by the scanner: cb may move its fields out, the rest is released
 * after cb returns. A non-zero return from cb stops the scan and is
 * returned. A stored event whose hash does not match is LB_ECORRUPT. */
int lb_journal_scan_events(struct lb_journal *j, int64_t from, int64_t to,
                           int (*cb)(void *ctx, struct lb_event *ev),
                           void *ctx);

/* Decision cursor, in decision seq order starting at from_seq. Fills seq,
 * event_seq, reducer, kind, ns, name, reason, canonical(_len), chain;
 * actions are not decoded (n_actions = 0). Returns 0, LB_ENOENT at the end,
 * or an error. `out` is overwritten (not released) by each call and
 * released by the caller. */
struct lb_journal_cursor;
int lb_journal_decisions_open(struct lb_journal *j, int64_t from_seq,
                              struct lb_journal_cursor **out);
int lb_journal_decisions_next(struct lb_journal_cursor *c,
                              struct lb_decision *out);
void lb_journal_decisions_close(struct lb_journal_cursor *c);

/* Passive WAL checkpoint; called by the runner off the hot path (the
 * journal disables SQLite's automatic checkpoints). LB_EINVAL while a batch
 * is open. */
int lb_journal_checkpoint(struct lb_journal *j);

/* --- snapshots ---------------------------------------------------------- */
/* Records a snapshot of engine state taken after event `seq`. Must be
 * called with no open batch; commits on its own. */
int lb_journal_snapshot_put(struct lb_journal *j, int64_t seq, const void *blob,
                            size_t len, uint64_t digest);
/* Latest snapshot with seq <= max_seq (max_seq < 0: any). Caller frees
 * *blob. LB_ENOENT when there is none. */
int lb_journal_snapshot_get(struct lb_journal *j, int64_t max_seq, int64_t *seq,
                            void **blob, size_t *len, uint64_t *digest);

/* --- meta --------------------------------------------------------------- */
/* Joins the open batch if there is one (and a failure then loses the
 * batch), else is committed at once. value NULL stores SQL NULL. */
int lb_journal_meta_set(struct lb_journal *j, const char *key,
                        const char *value);
/* *value is malloc'd (caller frees); LB_ENOENT when absent. */
int lb_journal_meta_get(struct lb_journal *j, const char *key, char **value);

/* --- audit and offline tools -------------------------------------------- */
/* Runs one SQL statement (the connection is opened read-only for queries
 * by the CLI). cb is called once with vals == NULL (the header: column
 * names), then once per row with the values as text (SQL NULL -> NULL).
 * A non-zero return from cb stops and is returned. SQL errors return
 * LB_EDB with the SQLite message in lb_journal_errmsg(); so do more than
 * one statement, and statements that would modify the journal (refused on
 * every handle: queries are for audit). */
int lb_journal_query(struct lb_journal *j, const char *sql,
                     int (*cb)(void *ctx, int ncol, const char *const *names,
                               const char *const *vals),
                     void *ctx);
/* Integrity check of a journal file, without trusting it: SQLite's
 * integrity check, torn tail (file shorter than its header says, or a
 * partial WAL frame), missing seq, per-event hash, decision hash chain.
 * Appends a human report to `report` (one finding per line, the first
 * naming the seq or page where it broke). Returns 0 when clean, else the
 * code of the first finding (LB_ETORN, LB_EGAP, LB_ECORRUPT, LB_ECHAIN,
 * LB_EVERSION, LB_ENOENT). Never crashes on any file content. */
int lb_journal_check(const char *path, struct lb_buf *report);
/* Deletes every event > seq and the decisions/actions/snapshots that came
 * from them, and returns actions whose outcome was cut to 'pending' (an
 * explicit, loud operator tool). LB_EINVAL while a batch is open. */
int lb_journal_truncate_after(struct lb_journal *j, int64_t seq);

/* --- fault injection (tests) -------------------------------------------- */
/* Arms a fault: the nth SQLite step/exec/commit issued by any journal from
 * now on fails as SQLITE_IOERR (n >= 1; 0 disarms). The fault is transient:
 * it fires once, later calls reach SQLite. The failing call returns
 * LB_EFAULT. Arming n >= 1 resets lb_journal_fault_fired(); disarming
 * keeps it. */
void lb_journal_fault_arm(int64_t nth);
int lb_journal_fault_fired(void); /* 1 once the armed fault has fired */

#endif
