/* journal_int.h — internals shared by store/journal.c (the journal proper)
 * and store/journal_check.c (the offline checker). Not an interface: nothing
 * outside store/journal*.c includes this file.
 */
#ifndef LB_JOURNAL_INT_H
#define LB_JOURNAL_INT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "../engine/event.h"

/* The columns of an event row, in the order lb__journal_row_event() reads
 * them (column 0 first). */
#define LB__EVENT_COLS                                                         \
  "seq, at_ms, source, type, api_group, kind, namespace, name, uid, "          \
  "resource_version, action_id, http_status, body, hash"

/* Every sqlite3_step / sqlite3_exec the journal issues goes through these,
 * so that lb_journal_fault_arm() can fail the nth one (SQLITE_IOERR without
 * calling SQLite). */
int lb__journal_step(sqlite3_stmt *st);
int lb__journal_exec(sqlite3 *db, const char *sql);
/* 1 if the most recent failure was the injected fault (and forgets it). */
int lb__journal_fault_take(void);

/* Fills ev (initialised, empty) from the current row of a statement that
 * selected LB__EVENT_COLS; *stored_hash gets the hash column. Strings are
 * "" for NULL/empty; body is NULL when the column is NULL. Returns 0 or
 * LB_ENOMEM (ev is then released). */
int lb__journal_row_event(sqlite3_stmt *st, struct lb_event *ev,
                          uint64_t *stored_hash);

/* What the 100-byte SQLite header of a journal file says. */
struct lb__journal_probe {
  int64_t size;       /* bytes in the file (0: empty or missing) */
  uint32_t page_size; /* 512..65536; 0 if the file is empty */
  uint32_t pages;     /* in-header database size (0: not recorded) */
};
/* Reads the file header with stdio, trusting nothing. Returns 0 (a SQLite
 * file whose size agrees with its header, or an empty file: p->size == 0),
 * LB_ENOENT (missing), LB_EIO (unreadable), LB_ECORRUPT (not SQLite, bad
 * page size) or LB_ETORN (shorter than the header says). msg gets a
 * sentence for the user on failure. */
int lb__journal_probe(const char *path, struct lb__journal_probe *p, char *msg,
                      size_t msgsz);

#endif
