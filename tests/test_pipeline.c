/* test_pipeline.c — the whole loop on the simulated cluster: determinism
 * over many seeds (live == replay), replay in two halves around a
 * snapshot, fault injection at the journal boundary with restart, golden
 * journals, and the CLI on damaged journals. */
#include <inttypes.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../adapters/runner.h"
#include "../adapters/sim.h"
#include "../adapters/simrun.h"
#include "../engine/err.h"
#include "../engine/obj.h"
#include "../replay/replay.h"
#include "../store/journal.h"
#include "test.h"

struct harness {
  struct lb_sim *sim; /* survives controller restarts, like a cluster */
  struct lb_journal *j;
  struct lb_engine *e;
  struct lb_runner run;
  struct lb_simrun drv;
  int started;
};

static struct lb_sim *new_sim(uint64_t seed) {
  struct lb_sim_opts o;
  struct lb_sim *s = NULL;
  lb_sim_opts_init(&o);
  o.seed = seed;
  ASSERT_OK(lb_sim_new(&o, &s));
  return s;
}

/* Opens the journal and builds engine + runner; recover = rebuild from
 * the journal first. Returns the first error (open or recovery). */
static int h_start(struct harness *h, const char *path, int recover,
                   int64_t snapshot_every) {
  struct lb_journal_opts jo = LB_JOURNAL_OPTS_INIT;
  int rc;
  jo.durability = LB_DUR_OFF;
  h->j = NULL;
  h->e = NULL;
  h->started = 0;
  if ((rc = lb_journal_open(path, &jo, &h->j)))
    return rc;
  ASSERT_OK(lb_engine_new(NULL, &h->e));
  lb_runner_init(&h->run, h->j, h->e, lb_sim_actuator(h->sim));
  h->run.snapshot_every = snapshot_every;
  lb_simrun_init(&h->drv, h->sim, &h->run);
  h->started = 1;
  if (recover && (rc = lb_runner_recover(&h->run)))
    return rc;
  return 0;
}

static void h_stop(struct harness *h) {
  if (h->started)
    lb_runner_release(&h->run);
  lb_engine_free(h->e);
  lb_journal_close(h->j);
  h->e = NULL;
  h->j = NULL;
  h->started = 0;
}

static int run_scenario(struct harness *h, const char *scenario, int from) {
  char msg[512] = "";
  int rc = lb_simrun_resync(&h->drv);
  if (!rc)
    rc = lb_simrun_scenario(&h->drv, scenario, from, msg, sizeof msg);
  if (rc && rc != LB_EFAULT && rc != LB_EDB && *msg)
    fprintf(stderr, "# scenario: %s\n", msg);
  return rc;
}

/* Live run; returns chain and digest of the live engine. */
static void live_run(const char *path, uint64_t seed, const char *scenario,
                     int64_t snapshot_every, uint64_t *chain, uint64_t *digest,
                     int64_t *decisions) {
  struct harness h = {0};
  h.sim = new_sim(seed);
  ASSERT_OK(h_start(&h, path, 0, snapshot_every));
  ASSERT_OK(run_scenario(&h, scenario, 0));
  ASSERT_OK(lb_runner_flush(&h.run));
  *chain = lb_engine_chain(h.e);
  *digest = lb_engine_digest(h.e);
  *decisions = lb_engine_decision_seq(h.e);
  h_stop(&h);
  lb_sim_free(h.sim);
}

static struct lb_journal *open_ro(const char *path) {
  struct lb_journal_opts o = LB_JOURNAL_OPTS_INIT;
  struct lb_journal *j = NULL;
  o.readonly = 1;
  ASSERT_OK(lb_journal_open(path, &o, &j));
  return j;
}

static void replay_equals(const char *path, int64_t from_snapshot,
                          uint64_t chain, uint64_t digest, int64_t decisions) {
  struct lb_replay_opts o = LB_REPLAY_OPTS_INIT;
  struct lb_replay_result res;
  struct lb_journal *j = open_ro(path);
  o.from_snapshot = from_snapshot;
  int rc = lb_replay_run(j, &o, &res, NULL);
  if (rc == LB_EDIVERGED)
    fprintf(stderr, "# diverged at event %" PRId64 "\n#  rec %s\n#  rep %s\n",
            res.div_event_seq, res.recorded ? res.recorded : "-",
            res.replayed ? res.replayed : "-");
  ASSERT_OK(rc);
  ASSERT_EQ_U64(res.chain, chain);
  ASSERT_EQ_U64(res.digest, digest);
  if (from_snapshot < 0)
    ASSERT_EQ_INT(res.decisions, decisions);
  lb_replay_result_release(&res);
  lb_journal_close(j);
}

static void check_clean(const char *path) {
  struct lb_buf rep = LB_BUF_INIT;
  int rc = lb_journal_check(path, &rep);
  if (rc)
    fprintf(stderr, "# check: %s\n", rep.p);
  ASSERT_OK(rc);
  lb_buf_release(&rep);
}

/* Property: for many seeds, sim run -> replay reproduces every decision,
 * the chain and the digest; the same seed gives the same journal. */
TEST_TIMEOUT(pipeline_replay_matches_live_over_seeds, 120) {
  uint64_t first_chain = 0;
  int distinct = 0;
  for (uint64_t seed = 1; seed <= 40; seed++) {
    char path[64];
    uint64_t chain, digest;
    int64_t n;
    snprintf(path, sizeof path, "seed%" PRIu64 ".db", seed);
    live_run(path, seed, seed % 2 ? "demo" : "rollout", 0, &chain, &digest, &n);
    ASSERT(n > 20);
    check_clean(path);
    replay_equals(path, -1, chain, digest, n);
    if (seed == 1)
      first_chain = chain;
    else if (seed % 2 && chain != first_chain)
      distinct++;
  }
  /* the seed drives kubelet timing, so different seeds differ */
  ASSERT(distinct >= 15);
}

TEST(pipeline_same_seed_same_journal) {
  uint64_t c1, d1, c2, d2;
  int64_t n1, n2;
  live_run("a.db", 7, "demo", 0, &c1, &d1, &n1);
  live_run("b.db", 7, "demo", 0, &c2, &d2, &n2);
  ASSERT_EQ_U64(c1, c2);
  ASSERT_EQ_U64(d1, d2);
  ASSERT_EQ_INT(n1, n2);
}

/* Replay in two halves with a snapshot in between = one replay. */
TEST(pipeline_replay_two_halves_same_digest) {
  uint64_t chain, digest;
  int64_t n, last;
  struct lb_replay_opts o = LB_REPLAY_OPTS_INIT;
  struct lb_replay_result res;
  struct lb_engine *e = NULL;
  struct lb_journal_opts jo = LB_JOURNAL_OPTS_INIT;
  struct lb_journal *j;
  char *blob;
  size_t len;
  live_run("h.db", 3, "demo", 0, &chain, &digest, &n);
  j = open_ro("h.db");
  ASSERT_OK(lb_journal_last_seq(j, &last));
  o.to_seq = last / 2;
  ASSERT_OK(lb_replay_run(j, &o, &res, &e)); /* first half */
  ASSERT_EQ_INT(lb_engine_last_seq(e), last / 2);
  ASSERT_OK(lb_engine_snapshot(e, &blob, &len));
  uint64_t half_digest = lb_engine_digest(e);
  lb_engine_free(e);
  lb_replay_result_release(&res);
  lb_journal_close(j);
  ASSERT_OK(lb_journal_open("h.db", &jo, &j));
  ASSERT_OK(lb_journal_snapshot_put(j, last / 2, blob, len, half_digest));
  lb_journal_close(j);
  free(blob);
  /* second half from the snapshot verifies the remaining decisions */
  replay_equals("h.db", INT64_MAX, chain, digest, n);
  /* and the restored state equals the state at that point */
  struct lb_engine *e2 = NULL;
  ASSERT_OK(lb_engine_new(NULL, &e2));
  j = open_ro("h.db");
  void *b2;
  int64_t sseq;
  uint64_t sd;
  ASSERT_OK(lb_journal_snapshot_get(j, INT64_MAX, &sseq, &b2, &len, &sd));
  ASSERT_EQ_INT(sseq, last / 2);
  ASSERT_OK(lb_engine_restore(e2, b2, len));
  ASSERT_EQ_U64(lb_engine_digest(e2), half_digest);
  free(b2);
  lb_engine_free(e2);
  lb_journal_close(j);
}

/* Periodic snapshots written by the live runner are good start points. */
TEST(pipeline_live_snapshots_replay) {
  uint64_t chain, digest;
  int64_t n;
  live_run("s.db", 5, "scale", 100, &chain, &digest, &n);
  struct lb_journal *j = open_ro("s.db");
  void *blob;
  size_t len;
  int64_t sseq;
  uint64_t sd;
  ASSERT_OK(lb_journal_snapshot_get(j, INT64_MAX, &sseq, &blob, &len, &sd));
  ASSERT(sseq > 100);
  free(blob);
  lb_journal_close(j);
  replay_equals("s.db", INT64_MAX, chain, digest, n);
  replay_equals("s.db", -1, chain, digest, n);
}

struct names {
  char **v;
  size_t n;
};
static int collect_name(void *ctx, int ncol, const char *const *names,
                        const char *const *vals) {
  struct names *c = ctx;
  (void)names;
  (void)ncol;
  if (!vals)
    return 0;
  c->v = realloc(c->v, (c->n + 1) * sizeof *c->v);
  c->v[c->n++] = lb_strdup(vals[0]);
  return 0;
}

struct rvcheck {
  struct lb_engine *e;
  int n, mismatched;
};
static void rv_cb(void *ctx, int type, char *body, size_t len, int64_t at) {
  struct rvcheck *c = ctx;
  struct lb_event ev;
  (void)type;
  lb_event_init(&ev);
  ev.source = LB_SRC_LIST;
  ev.type = LB_EV_LISTED;
  ev.at_ms = at;
  if (lb_event_prepare(&ev, body, len) == 0 &&
      lb_kind_of(ev.api_group, ev.kind)) {
    const char *have = lb_engine_rv(c->e, ev.kind, ev.ns, ev.name);
    c->n++;
    if (!have || strcmp(have, ev.rv)) {
      fprintf(stderr, "# engine has %s %s/%s at rv %s, cluster at %s\n",
              ev.kind, ev.ns, ev.name, have ? have : "(missing)", ev.rv);
      c->mismatched++;
    }
  }
  lb_event_release(&ev);
}

/* After the run, the engine's view equals the cluster: no event lost. */
static void assert_engine_matches_cluster(struct harness *h) {
  struct rvcheck c = {h->e, 0, 0};
  char rv[32];
  ASSERT_OK(lb_sim_list(h->sim, rv, sizeof rv, rv_cb, &c));
  ASSERT_EQ_INT(c.mismatched, 0);
  ASSERT_EQ_INT((int64_t)(lb_engine_count(h->e, LB_KIND_POD) +
                          lb_engine_count(h->e, LB_KIND_CLONESET) +
                          lb_engine_count(h->e, LB_KIND_CREV)),
                c.n);
}

/* Each pod named by an action was created and deleted at most once in
 * the cluster: no action ever executed twice. */
static void assert_no_double_effects(struct harness *h, const char *path) {
  struct lb_journal *j = open_ro(path);
  struct names nm = {0};
  ASSERT_OK(lb_journal_query(
      j, "SELECT DISTINCT name FROM actions WHERE kind = 'Pod'", collect_name,
      &nm));
  ASSERT(nm.n > 0);
  for (size_t i = 0; i < nm.n; i++) {
    ASSERT_LE_INT(lb_sim_effects(h->sim, "create", "Pod", "default", nm.v[i]),
                  1);
    ASSERT_LE_INT(lb_sim_effects(h->sim, "delete", "Pod", "default", nm.v[i]),
                  1);
    free(nm.v[i]);
  }
  free(nm.v);
  lb_journal_close(j);
}

/* Fault injection at the journal boundary: fail the Nth SQLite step or
 * commit for N = 1, 2, ...; each run ends cleanly (success or an error);
 * a restart recovers from the journal and finishes the scenario with no
 * event lost and no action executed twice. Stops when no fault fired. */
static void fault_loop(const char *scenario, int stride, int max_runs) {
  int fired_runs = 0, swallowed = 0, n;
  for (n = 1; n < 100000; n += stride) {
    struct harness h = {0};
    char path[64];
    int rc, fired, from;
    snprintf(path, sizeof path, "f%d.db", n);
    h.sim = new_sim(11);
    lb_journal_fault_arm(n);
    rc = h_start(&h, path, 0, 50);
    if (!rc)
      rc = run_scenario(&h, scenario, 0);
    if (!rc)
      rc = lb_runner_snapshot(&h.run);
    fired = lb_journal_fault_fired();
    lb_journal_fault_arm(0);
    from = h.drv.step;
    h_stop(&h);
    if (!fired) {
      ASSERT_OK(rc);
      lb_sim_free(h.sim);
      break;
    }
    /* a clean error, or success when the fault hit a best-effort step
     * (a WAL checkpoint); either way the restart below must converge */
    if (rc)
      ASSERT(rc == LB_EFAULT || rc == LB_EDB);
    else
      swallowed++;
    fired_runs++;
    /* restart: recover from whatever the journal holds */
    ASSERT_OK(h_start(&h, path, 1, 50));
    ASSERT_OK(run_scenario(&h, scenario, from));
    ASSERT_OK(lb_runner_flush(&h.run));
    assert_engine_matches_cluster(&h);
    uint64_t chain = lb_engine_chain(h.e), digest = lb_engine_digest(h.e);
    int64_t nd = lb_engine_decision_seq(h.e);
    h_stop(&h);
    check_clean(path);
    replay_equals(path, -1, chain, digest, nd);
    assert_no_double_effects(&h, path);
    lb_sim_free(h.sim);
    unlink(path);
    if (max_runs && fired_runs >= max_runs)
      break;
  }
  ASSERT(fired_runs > 10);
  ASSERT(swallowed * 10 < fired_runs); /* nearly every fault is an error */
  printf("# fault loop (%s, stride %d): %d faults injected (%d in "
         "best-effort steps), last n=%d\n",
         scenario, stride, fired_runs, swallowed, n);
}

TEST_TIMEOUT(pipeline_fault_injection_every_step, 300) {
  fault_loop("mini", 1, 0);
}

/* --- golden journals ---------------------------------------------------- */
struct gold {
  struct lb_buf out;
};

static void golden_text(const char *path, struct lb_buf *out) {
  struct lb_journal *j = open_ro(path);
  struct lb_journal_cursor *cur;
  struct lb_decision d;
  ASSERT_OK(lb_journal_decisions_open(j, 1, &cur));
  memset(&d, 0, sizeof d);
  while (lb_journal_decisions_next(cur, &d) == 0) {
    struct json_object *root = json_tokener_parse(d.canonical), *acts;
    int creates = 0, deletes = 0, patches = 0;
    ASSERT(root != NULL);
    ASSERT(json_object_object_get_ex(root, "actions", &acts));
    for (size_t i = 0; i < json_object_array_length(acts); i++) {
      struct json_object *a = json_object_array_get_idx(acts, i), *v;
      json_object_object_get_ex(a, "verb", &v);
      const char *verb = json_object_get_string(v);
      creates += !strcmp(verb, "create");
      deletes += !strcmp(verb, "delete");
      patches += !strcmp(verb, "patch") || !strcmp(verb, "spatch");
    }
    json_object_put(root);
    lb_buf_addf(out, "d%" PRId64 " e%" PRId64 " %s %s/%s +%d -%d ~%d: %s\n",
                d.seq, d.event_seq, d.reducer, d.ns, d.name, creates, deletes,
                patches, d.reason);
    lb_decision_release(&d);
  }
  lb_journal_decisions_close(cur);
  uint64_t chain;
  int64_t ds;
  ASSERT_OK(lb_journal_last_decision(j, &ds, &chain));
  lb_buf_addf(out, "chain %016" PRIx64 "\n", chain);
  lb_journal_close(j);
}

static void golden(const char *scenario, uint64_t seed, const char *file) {
  char path[64], gpath[4096];
  uint64_t chain, digest;
  int64_t n;
  struct lb_buf got = LB_BUF_INIT;
  snprintf(path, sizeof path, "%s.db", scenario);
  snprintf(gpath, sizeof gpath, "%s/tests/golden/%s", lb_test_root(), file);
  live_run(path, seed, scenario, 0, &chain, &digest, &n);
  golden_text(path, &got);
  if (getenv("LB_GOLDEN_UPDATE")) {
    FILE *f = fopen(gpath, "w");
    ASSERT(f != NULL);
    fputs(got.p, f);
    fclose(f);
    fprintf(stderr, "# wrote %s: review it with git diff\n", gpath);
  }
  FILE *f = fopen(gpath, "r");
  if (!f)
    lb_test_fail(__FILE__, __LINE__,
                 "golden file %s is missing: generate it with "
                 "LB_GOLDEN_UPDATE=1 make test T=golden, review, commit",
                 gpath);
  struct lb_buf want = LB_BUF_INIT;
  char chunk[4096];
  size_t k;
  while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
    lb_buf_add(&want, chunk, k);
  fclose(f);
  if (want.len != got.len || memcmp(want.p, got.p, got.len)) {
    const char *a = want.p ? want.p : "", *b = got.p;
    int line = 1;
    while (*a && *a == *b) {
      line += *a == '\n';
      a++, b++;
    }
    while (a > want.p && a[-1] != '\n')
      a--, b--;
    lb_test_fail(__FILE__, __LINE__,
                 "%s differs from golden %s at line %d:\n  want: %.300s\n"
                 "  got:  %.300s\n(if the change is intended: "
                 "LB_GOLDEN_UPDATE=1 make test T=golden, review, commit)",
                 scenario, gpath, line, a, b);
  }
  lb_buf_release(&want);
  lb_buf_release(&got);
}

TEST(golden_demo_seed1) { golden("demo", 1, "demo-seed1.txt"); }
TEST(golden_rollout_seed2) { golden("rollout", 2, "rollout-seed2.txt"); }

/* --- the CLI on good and damaged journals -------------------------------- */

static void copy_prefix(const char *src, const char *dst, long keep) {
  FILE *in = fopen(src, "rb"), *o = fopen(dst, "wb");
  char buf[4096];
  long done = 0;
  size_t k;
  ASSERT(in && o);
  while (done < keep && (k = fread(buf, 1, sizeof buf, in)) > 0) {
    if (done + (long)k > keep)
      k = (size_t)(keep - done);
    fwrite(buf, 1, k, o);
    done += (long)k;
  }
  fclose(in);
  fclose(o);
}

TEST(cli_sim_replay_query_explain) {
  struct lb_buf out = LB_BUF_INIT;
  ASSERT_EQ_INT(lb_test_cli("sim --journal c.db -q --seed 4", &out), 0);
  ASSERT_EQ_INT(lb_test_cli("sim --journal c.db -q", &out), 1);
  ASSERT_CONTAINS(out.p, "already exists");
  ASSERT_EQ_INT(lb_test_cli("replay c.db", &out), 0);
  ASSERT_CONTAINS(out.p, "verified ");
  ASSERT_EQ_INT(lb_test_cli("journal check c.db", &out), 0);
  ASSERT_CONTAINS(out.p, "ok: ");
  const char *views[] = {"pod_history",      "decisions_explained",
                         "action_log",       "failed_actions",
                         "rollout_timeline", "admission_denials"};
  for (size_t i = 0; i < sizeof views / sizeof views[0]; i++) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "query c.db \"SELECT count(*) AS n FROM %s\"",
             views[i]);
    ASSERT_EQ_INT(lb_test_cli(cmd, &out), 0);
    ASSERT_CONTAINS(out.p, "(1 row)");
  }
  ASSERT_EQ_INT(
      lb_test_cli("query c.db \"SELECT seq, reason FROM decisions_explained "
                  "WHERE reason LIKE 'scale up%' LIMIT 2\"",
                  &out),
      0);
  ASSERT_CONTAINS(out.p, "scale up: replicas 5");
  ASSERT_EQ_INT(lb_test_cli("query c.db \"SELEC 1\"", &out), 1);
  ASSERT_CONTAINS(out.p, "syntax error");
  ASSERT_EQ_INT(lb_test_cli("query c.db \"DELETE FROM events\"", &out), 1);
  ASSERT_EQ_INT(lb_test_cli("explain c.db cloneset/default/web", &out), 0);
  ASSERT_CONTAINS(out.p, "why: ");
  ASSERT_EQ_INT(lb_test_cli("explain c.db pod/default/nope", &out), 1);
  ASSERT_CONTAINS(out.p, "never saw");
  /* a deleted pod's explanation names the decision that deleted it */
  struct lb_journal *j = open_ro("c.db");
  struct names nm = {0};
  ASSERT_OK(lb_journal_query(j,
                             "SELECT name FROM actions WHERE verb = "
                             "'delete' ORDER BY id LIMIT 1",
                             collect_name, &nm));
  lb_journal_close(j);
  ASSERT_EQ_INT(nm.n, 1);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "explain c.db pod/default/%s", nm.v[0]);
  ASSERT_EQ_INT(lb_test_cli(cmd, &out), 0);
  ASSERT_CONTAINS(out.p, "-> action");
  ASSERT_CONTAINS(out.p, ": delete Pod default/");
  ASSERT_CONTAINS(out.p, "DELETED");
  free(nm.v[0]);
  free(nm.v);
  lb_buf_release(&out);
}

TEST(cli_refuses_damaged_journals) {
  struct lb_buf out = LB_BUF_INIT;
  struct stat st;
  ASSERT_EQ_INT(
      lb_test_cli("sim --journal good.db -q --scenario rollout", &out), 0);
  ASSERT_OK(stat("good.db", &st));
  /* truncated at many offsets: a clear refusal, never a crash */
  for (long keep = 0; keep < st.st_size; keep += st.st_size / 9 + 1) {
    copy_prefix("good.db", "cut.db", keep);
    int rc = lb_test_cli("replay cut.db", &out);
    ASSERT_EQ_INT(rc, 1);
    ASSERT(strlen(out.p) > 10);
    rc = lb_test_cli("journal check cut.db", &out);
    ASSERT_EQ_INT(rc, 1);
  }
  copy_prefix("good.db", "cut.db", st.st_size - 1000);
  lb_test_cli("journal check cut.db", &out);
  ASSERT_CONTAINS(out.p, "torn tail");
  /* garbage */
  FILE *f = fopen("junk.db", "wb");
  for (int i = 0; i < 40000; i++)
    fputc((i * 7919) & 0xff, f);
  fclose(f);
  ASSERT_EQ_INT(lb_test_cli("replay junk.db", &out), 1);
  ASSERT_EQ_INT(lb_test_cli("journal check junk.db", &out), 1);
  ASSERT_EQ_INT(lb_test_cli("replay missing.db", &out), 1);
  ASSERT_CONTAINS(out.p, "missing.db");
  /* a tampered decision: check names the broken chain, replay diverges */
  ASSERT_EQ_INT(system("sqlite3 good.db \"UPDATE decisions SET canonical = "
                       "replace(canonical, 'scale', 'SCALE') WHERE seq = 3\""),
                0);
  ASSERT_EQ_INT(lb_test_cli("journal check good.db", &out), 1);
  ASSERT_CONTAINS(out.p, "decision seq 3");
  ASSERT_EQ_INT(lb_test_cli("replay good.db", &out), 1);
  ASSERT_CONTAINS(out.p, "DIVERGED at event seq");
  lb_buf_release(&out);
}

/* ---- volumeClaimTemplates: scenario "pvc" (kruise-spec §16.1 no. 12) ---- */
struct pvc_view {
  char pods[16][8]; /* instance ids of live pods */
  int n_pods, n_pvcs, pvc_of_live_pod;
  char pvcs[32][8];
};
static void pvc_view_cb(void *ctx, int type, char *body, size_t len,
                        int64_t at) {
  struct pvc_view *v = ctx;
  json_object *o = json_tokener_parse(body), *k, *m, *l, *id, *dt;
  (void)type;
  (void)len;
  (void)at;
  if (o && json_object_object_get_ex(o, "kind", &k) &&
      json_object_object_get_ex(o, "metadata", &m) &&
      json_object_object_get_ex(m, "labels", &l) &&
      json_object_object_get_ex(l, "apps.kruise.io/cloneset-instance-id",
                                &id)) {
    const char *kind = json_object_get_string(k);
    if (!strcmp(kind, "Pod") &&
        !json_object_object_get_ex(m, "deletionTimestamp", &dt) &&
        v->n_pods < 16)
      lb_strlcpy(v->pods[v->n_pods++], json_object_get_string(id), 8);
    else if (!strcmp(kind, "PersistentVolumeClaim") && v->n_pvcs < 32)
      lb_strlcpy(v->pvcs[v->n_pvcs++], json_object_get_string(id), 8);
  }
  json_object_put(o);
  free(body);
}

static int64_t count_rows(const char *path, const char *sql) {
  struct lb_journal *j = open_ro(path);
  struct names nm = {0};
  ASSERT_OK(lb_journal_query(j, sql, collect_name, &nm));
  for (size_t i = 0; i < nm.n; i++)
    free(nm.v[i]);
  free(nm.v);
  lb_journal_close(j);
  return (int64_t)nm.n;
}

TEST_TIMEOUT(pipeline_pvc_scenario_replays, 120) {
  struct harness h = {0};
  uint64_t chain, digest;
  int64_t n;
  char rv[32];
  struct pvc_view v;
  h.sim = new_sim(4);
  ASSERT_OK(h_start(&h, "pvc.db", 0, 0));
  ASSERT_OK(run_scenario(&h, "pvc", 0));
  ASSERT_OK(lb_runner_flush(&h.run));
  chain = lb_engine_chain(h.e);
  digest = lb_engine_digest(h.e);
  n = lb_engine_decision_seq(h.e);
  /* let terminating pods go (their handed-over claims with them) */
  lb_sim_advance(h.sim, lb_sim_now(h.sim) + 120000);
  memset(&v, 0, sizeof v);
  ASSERT_OK(lb_sim_list(h.sim, rv, sizeof rv, pvc_view_cb, &v));
  ASSERT_EQ_INT(v.n_pods, 2);
  ASSERT_EQ_INT(v.n_pvcs, 4); /* 2 per live pod, none left over */
  for (int i = 0; i < v.n_pvcs; i++) {
    int found = 0;
    for (int p = 0; p < v.n_pods; p++)
      found |= !strcmp(v.pvcs[i], v.pods[p]);
    if (!found)
      lb_test_fail(__FILE__, __LINE__, "claim of id %s has no live pod",
                   v.pvcs[i]);
  }
  h_stop(&h);
  lb_sim_free(h.sim);
  /* the journal tells the story: claims created with pods, a pod name
   * created twice (id reused after the hand delete), claims handed over
   * with disablePVCReuse, claims deleted with scale-in */
  ASSERT(count_rows("pvc.db",
                    "SELECT id FROM actions WHERE kind = "
                    "'PersistentVolumeClaim' AND verb = 'create'") >= 10);
  ASSERT_EQ_INT(count_rows("pvc.db",
                           "SELECT name FROM actions WHERE kind = 'Pod' AND "
                           "verb = 'create' GROUP BY name HAVING count(*) > 1"),
                1);
  ASSERT_EQ_INT(count_rows("pvc.db", "SELECT id FROM actions WHERE kind = "
                                     "'PersistentVolumeClaim' AND verb = "
                                     "'patch'"),
                4);
  ASSERT_EQ_INT(count_rows("pvc.db", "SELECT id FROM actions WHERE kind = "
                                     "'PersistentVolumeClaim' AND verb = "
                                     "'delete'"),
                2);
  check_clean("pvc.db");
  replay_equals("pvc.db", -1, chain, digest, n);
}

/* --- in-place update on the simulator (§2) -------------------------------- */
struct ip_view {
  int pods, restarted, at_rev;
  char rev[128];
};

static void ip_view_cb(void *ctx, int type, char *body, size_t len,
                       int64_t at) {
  struct ip_view *v = ctx;
  struct json_object *o = json_tokener_parse(body), *k, *m, *l, *r, *st, *cs;
  (void)type;
  (void)len;
  (void)at;
  if (o && json_object_object_get_ex(o, "kind", &k) &&
      !strcmp(json_object_get_string(k), "Pod")) {
    v->pods++;
    if (json_object_object_get_ex(o, "metadata", &m) &&
        json_object_object_get_ex(m, "labels", &l) &&
        json_object_object_get_ex(l, "controller-revision-hash", &r) &&
        !strcmp(json_object_get_string(r), v->rev))
      v->at_rev++;
    if (json_object_object_get_ex(o, "status", &st) &&
        json_object_object_get_ex(st, "containerStatuses", &cs)) {
      struct json_object *c0 = json_object_array_get_idx(cs, 0), *rc, *img;
      if (json_object_object_get_ex(c0, "restartCount", &rc) &&
          json_object_get_int(rc) == 1 &&
          json_object_object_get_ex(c0, "image", &img) &&
          !strcmp(json_object_get_string(img), "nginx:1.26"))
        v->restarted++;
    }
  }
  json_object_put(o);
  free(body);
}

TEST_TIMEOUT(pipeline_inplace_scenario_replays, 120) {
  struct harness h = {0};
  uint64_t chain, digest;
  int64_t n;
  char rv[32];
  struct ip_view v;
  h.sim = new_sim(5);
  ASSERT_OK(h_start(&h, "ip.db", 0, 0));
  ASSERT_OK(run_scenario(&h, "inplace", 0));
  ASSERT_OK(lb_runner_flush(&h.run));
  chain = lb_engine_chain(h.e);
  digest = lb_engine_digest(h.e);
  n = lb_engine_decision_seq(h.e);
  memset(&v, 0, sizeof v);
  char *cs = lb_sim_get(h.sim, "apps.kruise.io", "CloneSet", "default", "web");
  struct json_object *root = json_tokener_parse(cs), *st, *ur;
  ASSERT(json_object_object_get_ex(root, "status", &st) &&
         json_object_object_get_ex(st, "updateRevision", &ur));
  lb_strlcpy(v.rev, json_object_get_string(ur), sizeof v.rev);
  json_object_put(root);
  free(cs);
  ASSERT_OK(lb_sim_list(h.sim, rv, sizeof rv, ip_view_cb, &v));
  ASSERT_EQ_INT(v.pods, 4);
  ASSERT_EQ_INT(v.at_rev, 4);
  ASSERT_EQ_INT(v.restarted, 4); /* same pods, container restarted once */
  h_stop(&h);
  lb_sim_free(h.sim);
  /* the journal: 4 pods created (none recreated), none deleted, each
   * updated by a strategic merge patch */
  ASSERT_EQ_INT(count_rows("ip.db", "SELECT id FROM actions WHERE kind = "
                                    "'Pod' AND verb = 'create'"),
                4);
  ASSERT_EQ_INT(count_rows("ip.db", "SELECT id FROM actions WHERE kind = "
                                    "'Pod' AND verb = 'delete'"),
                0);
  ASSERT(count_rows("ip.db", "SELECT id FROM actions WHERE kind = 'Pod' AND "
                             "verb = 'spatch'") >= 12);
  check_clean("ip.db");
  replay_equals("ip.db", -1, chain, digest, n);
}
