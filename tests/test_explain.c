/* test_explain.c — `logbook explain` answers the questions users ask of a
 * CloneSet journal (replay/explain.c): why was this pod deleted, why is it
 * not updated yet (partition, maxUnavailable), why is the rollout stuck —
 * each with the numbers that decided it. Journals come from `logbook sim`
 * (the demo scenario: 5 pods, a rollout held at partition 3 with
 * maxUnavailable 2, then finished and scaled), cut with `journal truncate`
 * at the moment a question is asked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../engine/util.h"
#include "test.h"

/* First cell of the first row of a query (trimmed), into val. */
static void query1(const char *db, const char *sql, char *val, size_t n) {
  struct lb_buf out = LB_BUF_INIT;
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "query %s \"%s\"", db, sql);
  ASSERT_EQ_INT(lb_test_cli(cmd, &out), 0);
  /* header, dashes, then the row */
  const char *p = out.p;
  for (int i = 0; i < 2 && p; i++)
    p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
  ASSERT(p && *p && *p != '(');
  size_t k = strcspn(p, " \n");
  ASSERT(k > 0 && k < n);
  memcpy(val, p, k);
  val[k] = '\0';
  lb_buf_release(&out);
}

/* demo.db, and cut.db = demo.db up to the event of the first decision
 * whose reason matches `like` */
static void journals(const char *like) {
  struct lb_buf out = LB_BUF_INIT;
  char seq[32], sql[512], cmd[256];
  ASSERT_EQ_INT(lb_test_cli("sim --journal demo.db -q --seed 1", &out), 0);
  snprintf(sql, sizeof sql,
           "SELECT event_seq FROM decisions WHERE reason LIKE '%s' ORDER BY "
           "seq LIMIT 1",
           like);
  query1("demo.db", sql, seq, sizeof seq);
  ASSERT_EQ_INT(system("cp demo.db cut.db"), 0);
  snprintf(cmd, sizeof cmd, "journal truncate cut.db --after %s --force", seq);
  ASSERT_EQ_INT(lb_test_cli(cmd, &out), 0);
  lb_buf_release(&out);
}

/* A pod alive at the end of db whose last revision label is not `rev`. */
static void old_pod(const char *db, const char *rev, char *name, size_t n) {
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT name FROM pod_history p WHERE name != '' AND seq = (SELECT "
           "max(seq) FROM pod_history q WHERE q.name = p.name) AND type != "
           "'DELETED' AND revision != '%s' AND name NOT IN (SELECT name FROM "
           "actions WHERE verb = 'delete') ORDER BY name LIMIT 1",
           rev);
  query1(db, sql, name, n);
}

static void update_revision(const char *db, char *rev, size_t n) {
  query1(db,
         "SELECT json_extract(request, '$.status.updateRevision') FROM "
         "actions WHERE kind = 'CloneSet' AND subresource = 'status' ORDER BY "
         "id DESC LIMIT 1",
         rev, n);
}

TEST(explain_why_not_updated_partition) {
  struct lb_buf out = LB_BUF_INIT;
  char rev[128], pod[128], cmd[256];
  journals("update holds at partition%");
  update_revision("cut.db", rev, sizeof rev);
  old_pod("cut.db", rev, pod, sizeof pod);
  snprintf(cmd, sizeof cmd, "explain cut.db pod/default/%s", pod);
  ASSERT_EQ_INT(lb_test_cli(cmd, &out), 0);
  ASSERT_CONTAINS(out.p, "answers:\n  why not updated yet: at revision web-");
  ASSERT_CONTAINS(out.p, "CloneSet web wants ");
  ASSERT_CONTAINS(out.p, rev);
  ASSERT_CONTAINS(out.p, "update holds at partition 3: 3 pod(s) stay at old "
                         "revisions");
  /* the rollout: numbers of the last status, and why it stands still */
  ASSERT_EQ_INT(lb_test_cli("explain cut.db cloneset/default/web", &out), 0);
  ASSERT_CONTAINS(out.p, "  rollout: replicas 8, updated 5 (expected 5)");
  ASSERT_CONTAINS(out.p, "  last acted, decision ");
  ASSERT_CONTAINS(out.p, "  since then, decision ");
  ASSERT_CONTAINS(out.p, "update holds at partition 3");
  lb_buf_release(&out);
}

TEST(explain_why_not_updated_max_unavailable) {
  struct lb_buf out = LB_BUF_INIT;
  char rev[128], pod[128], cmd[256];
  journals("update waits:%updateMaxUnavailable%");
  update_revision("cut.db", rev, sizeof rev);
  old_pod("cut.db", rev, pod, sizeof pod);
  snprintf(cmd, sizeof cmd, "explain cut.db pod/default/%s", pod);
  ASSERT_EQ_INT(lb_test_cli(cmd, &out), 0);
  ASSERT_CONTAINS(out.p, "why not updated yet: at revision web-");
  ASSERT_CONTAINS(out.p, "update waits: ");
  ASSERT_CONTAINS(out.p, "unavailable >= updateMaxUnavailable 2 "
                         "(maxUnavailable 2)");
  ASSERT_EQ_INT(lb_test_cli("explain cut.db cloneset/default/web", &out), 0);
  ASSERT_CONTAINS(out.p, "  since then, decision ");
  ASSERT_CONTAINS(out.p, "update waits: ");
  lb_buf_release(&out);
}

TEST(explain_why_deleted) {
  struct lb_buf out = LB_BUF_INIT;
  char pod[128], cmd[256];
  ASSERT_EQ_INT(lb_test_cli("sim --journal demo.db -q --seed 1", &out), 0);
  /* a pod replaced by the ReCreate rollout: labelled, then deleted */
  query1("demo.db",
         "SELECT name FROM actions WHERE kind = 'Pod' AND verb = 'patch' AND "
         "request LIKE '%specified-delete%' ORDER BY id LIMIT 1",
         pod, sizeof pod);
  snprintf(cmd, sizeof cmd, "explain demo.db pod/default/%s", pod);
  ASSERT_EQ_INT(lb_test_cli(cmd, &out), 0);
  ASSERT_CONTAINS(out.p, "  why recreated (labelled "
                         "apps.kruise.io/specified-delete): decision ");
  ASSERT_CONTAINS(out.p, "by recreate: ");
  ASSERT_CONTAINS(out.p, "updateNum ");
  ASSERT_CONTAINS(out.p, "of updateMaxUnavailable ");
  ASSERT_CONTAINS(out.p, "  why deleted: decision ");
  ASSERT_CONTAINS(out.p, "specified delete: deleting ");
  ASSERT_CONTAINS(out.p, "  gone: ");
  /* a pod removed by the final scale-down: the numbers of that decision */
  query1("demo.db",
         "SELECT a.name FROM actions a JOIN decisions d ON d.seq = "
         "a.decision_seq WHERE a.verb = 'delete' AND d.reason LIKE 'scale "
         "down:%' ORDER BY a.id LIMIT 1",
         pod, sizeof pod);
  snprintf(cmd, sizeof cmd, "explain demo.db pod/default/%s", pod);
  ASSERT_EQ_INT(lb_test_cli(cmd, &out), 0);
  ASSERT_CONTAINS(out.p, "  why deleted: decision ");
  ASSERT_CONTAINS(out.p, "scale down: replicas 3, active 8, expected 3: "
                         "remove 5 (0 from old revisions), deleteReadyLimit");
  lb_buf_release(&out);
}
