-- journal.sql — the logbook journal schema (format 1).
--
-- The one definition of the journal's tables, indexes and audit views. The
-- Makefile embeds this file into the binary as `lb_schema_sql`; store/journal.c
-- runs it once, inside the transaction that creates a new journal, and its
-- header comment specifies what a valid row is. Any change here bumps
-- LB_JOURNAL_FORMAT (store/journal.h) and meta 'format'.
--
-- Times are integer milliseconds since the Unix epoch (UTC). 64-bit hashes are
-- stored as the signed int64 with the same bits; print them with
-- printf('%016x', hash).

-- Every input that can influence a decision, in the order it was folded.
-- seq is dense (1, 2, 3, ...): a missing seq is damage, not a deletion.
CREATE TABLE IF NOT EXISTS events (
  seq              INTEGER PRIMARY KEY,        -- ordering key, assigned at append
  at_ms            INTEGER NOT NULL,           -- recorded time (sim: virtual)
  source           TEXT    NOT NULL,           -- watch|list|admission|outcome|cri|tick|cli
  type             TEXT    NOT NULL,           -- ADDED|MODIFIED|DELETED|LISTED|LIST_END|TICK|OUTCOME
  api_group        TEXT    NOT NULL DEFAULT '',-- '' = core group
  kind             TEXT    NOT NULL DEFAULT '',
  namespace        TEXT    NOT NULL DEFAULT '',
  name             TEXT    NOT NULL DEFAULT '',
  uid              TEXT    NOT NULL DEFAULT '',
  resource_version TEXT    NOT NULL DEFAULT '',
  action_id        INTEGER,                    -- outcome: the action answered
  http_status      INTEGER,                    -- outcome: HTTP status, 0 = transport error
  body             TEXT,                       -- JSON, managedFields stripped; NULL = none
  hash             INTEGER NOT NULL            -- lb_event_hash() of the row
);
CREATE INDEX IF NOT EXISTS events_object ON events(kind, namespace, name, seq);
CREATE INDEX IF NOT EXISTS events_admission ON events(seq)
  WHERE source = 'admission';

-- One reconcile of one object by one reducer, hash-chained in seq order.
CREATE TABLE IF NOT EXISTS decisions (
  seq        INTEGER PRIMARY KEY,              -- decision sequence (engine-assigned)
  event_seq  INTEGER NOT NULL,                 -- the event whose fold caused it
  reducer    TEXT,
  kind       TEXT,
  namespace  TEXT,
  name       TEXT,
  reason     TEXT,
  n_actions  INTEGER,
  canonical  TEXT    NOT NULL,                 -- canonical JSON (engine/decision.h)
  chain      INTEGER NOT NULL                  -- xxh3(le64(prev chain) || canonical)
);
CREATE INDEX IF NOT EXISTS decisions_event ON decisions(event_seq);
CREATE INDEX IF NOT EXISTS decisions_object
  ON decisions(kind, namespace, name, seq);

-- One row per action of a decision; updated in place by its outcome event.
CREATE TABLE IF NOT EXISTS actions (
  id               INTEGER PRIMARY KEY,        -- engine-assigned, increasing
  decision_seq     INTEGER NOT NULL,
  verb             TEXT,                       -- create|patch|spatch|jpatch|delete|respond
  api_group        TEXT,
  kind             TEXT,
  namespace        TEXT,
  name             TEXT,
  subresource      TEXT,                       -- '' or 'status'
  precondition_uid TEXT,                       -- delete precondition, or ''
  request          TEXT,                       -- request body JSON, NULL for delete
  state            TEXT    NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'done', 'failed')), -- respond: 'done' at insert
  http_status      INTEGER,
  error            TEXT,                       -- Status.message of a failure
  attempts         INTEGER NOT NULL DEFAULT 0,
  outcome_seq      INTEGER,                    -- the outcome event
  finished_ms      INTEGER                     -- at_ms of the outcome event
);
CREATE INDEX IF NOT EXISTS actions_decision ON actions(decision_seq);
CREATE INDEX IF NOT EXISTS actions_object ON actions(kind, namespace, name);
CREATE INDEX IF NOT EXISTS actions_pending ON actions(id)
  WHERE state = 'pending';

-- Engine state after event `seq` (restart = latest snapshot + the tail).
CREATE TABLE IF NOT EXISTS snapshots (
  seq    INTEGER PRIMARY KEY,
  state  BLOB    NOT NULL,
  digest INTEGER NOT NULL,                     -- engine state digest
  bytes  INTEGER
);

-- format (LB_JOURNAL_FORMAT), created (RFC 3339), cluster identity, ...
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT
);

-- ---------------------------------------------------------------------------
-- Audit views. Bodies are parsed only when they are valid JSON, so one damaged
-- row never makes a whole view fail.

-- pod_history: every event that touched a Pod, with its phase and revision.
--   SELECT time, source, type, phase, revision FROM pod_history
--    WHERE namespace = 'default' AND name = 'web-abcde' ORDER BY seq;
CREATE VIEW IF NOT EXISTS pod_history AS
SELECT seq,
       strftime('%Y-%m-%dT%H:%M:%fZ', at_ms / 1000.0, 'unixepoch') AS time,
       source,
       type,
       namespace,
       name,
       json_extract(CASE WHEN json_valid(body) THEN body END,
                    '$.status.phase') AS phase,
       json_extract(CASE WHEN json_valid(body) THEN body END,
                    '$.metadata.labels."controller-revision-hash"') AS revision,
       resource_version
  FROM events
 WHERE kind = 'Pod';

-- decisions_explained: why each decision was taken, and when.
--   SELECT seq, time, reason, n_actions FROM decisions_explained
--    WHERE kind = 'CloneSet' AND name = 'web' ORDER BY seq;
CREATE VIEW IF NOT EXISTS decisions_explained AS
SELECT d.seq AS seq,
       d.event_seq AS event_seq,
       strftime('%Y-%m-%dT%H:%M:%fZ', e.at_ms / 1000.0, 'unixepoch') AS time,
       d.reducer AS reducer,
       d.kind AS kind,
       d.namespace AS namespace,
       d.name AS name,
       d.reason AS reason,
       d.n_actions AS n_actions,
       printf('%016x', d.chain) AS chain
  FROM decisions d
  LEFT JOIN events e ON e.seq = d.event_seq;

-- action_log: every action with its decision and outcome; latency_ms is from
-- the triggering event to the outcome (NULL while pending).
--   SELECT id, verb, namespace, name, state, latency_ms FROM action_log
--    WHERE state != 'done' ORDER BY id;
CREATE VIEW IF NOT EXISTS action_log AS
SELECT a.id AS id,
       a.decision_seq AS decision_seq,
       d.reducer AS reducer,
       a.verb AS verb,
       a.kind AS kind,
       a.namespace AS namespace,
       a.name AS name,
       a.subresource AS subresource,
       a.state AS state,
       a.http_status AS http_status,
       a.error AS error,
       a.attempts AS attempts,
       a.outcome_seq AS outcome_seq,
       a.finished_ms - e.at_ms AS latency_ms
  FROM actions a
  LEFT JOIN decisions d ON d.seq = a.decision_seq
  LEFT JOIN events e ON e.seq = d.event_seq;

-- failed_actions: actions the API server refused or that never reached it.
--   SELECT id, verb, name, http_status, error FROM failed_actions ORDER BY id;
CREATE VIEW IF NOT EXISTS failed_actions AS
SELECT * FROM action_log WHERE state = 'failed';

-- rollout_timeline: the CloneSet reducer's decisions per workload, with the
-- number of pods it created, deleted and patched in each.
--   SELECT time, reason, creates, deletes, patches FROM rollout_timeline
--    WHERE namespace = 'default' AND name = 'web' ORDER BY seq;
CREATE VIEW IF NOT EXISTS rollout_timeline AS
SELECT d.kind AS kind,
       d.namespace AS namespace,
       d.name AS name,
       d.seq AS seq,
       strftime('%Y-%m-%dT%H:%M:%fZ', e.at_ms / 1000.0, 'unixepoch') AS time,
       d.reason AS reason,
       count(CASE WHEN a.verb = 'create' THEN 1 END) AS creates,
       count(CASE WHEN a.verb = 'delete' THEN 1 END) AS deletes,
       count(CASE WHEN a.verb = 'patch' THEN 1 END) AS patches
  FROM decisions d
  LEFT JOIN events e ON e.seq = d.event_seq
  LEFT JOIN actions a ON a.decision_seq = d.seq
 WHERE d.reducer = 'cloneset'
 GROUP BY d.seq;

-- admission_denials: admission requests a webhook refused — who, what, why.
-- One row per REVIEW event (source 'admission': body {"path", "review"},
-- engine/admission.h) whose verdict decision (reducer 'admission') holds a
-- RESPOND action (its request = the AdmissionReview response written to
-- the apiserver) with response.allowed false.
--   SELECT time, user, operation, kind, namespace, name, message
--     FROM admission_denials ORDER BY seq;
CREATE VIEW IF NOT EXISTS admission_denials AS
SELECT e.seq AS seq,
       strftime('%Y-%m-%dT%H:%M:%fZ', e.at_ms / 1000.0, 'unixepoch') AS time,
       json_extract(CASE WHEN json_valid(e.body) THEN e.body END,
                    '$.path') AS webhook,
       json_extract(CASE WHEN json_valid(e.body) THEN e.body END,
                    '$.review.request.userInfo.username') AS user,
       json_extract(CASE WHEN json_valid(e.body) THEN e.body END,
                    '$.review.request.operation') AS operation,
       e.kind AS kind,
       e.namespace AS namespace,
       e.name AS name,
       e.uid AS request_uid,
       json_extract(CASE WHEN json_valid(a.request) THEN a.request END,
                    '$.response.status.code') AS code,
       json_extract(CASE WHEN json_valid(a.request) THEN a.request END,
                    '$.response.status.message') AS message,
       d.reason AS reason,
       d.seq AS decision_seq
  FROM events e
  JOIN decisions d ON d.event_seq = e.seq AND d.reducer = 'admission'
  JOIN actions a ON a.decision_seq = d.seq AND a.verb = 'respond'
 WHERE e.source = 'admission'
   AND e.type = 'REVIEW'
   AND json_extract(CASE WHEN json_valid(a.request) THEN a.request END,
                    '$.response.allowed') = 0;
