/* main.c — the `logbook` command line. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../engine/engine.h"
#include "../engine/err.h"
#include "../replay/replay.h"
#include "../store/journal.h"
#include "manager.h"
#include "nodesim.h"
#include "runner.h"
#include "sim.h"
#include "simrun.h"
#include "webhookcfg.h"

#define LB_VERSION "0.1.0"

static const char usage[] =
    "usage: logbook <command> [options]\n"
    "\n"
    "  sim [--journal F] [--seed N] [--scenario NAME] [--fresh] [-v] [-q]\n"
    "        run a scenario (demo, scale, rollout, mini) on the embedded "
    "simulated\n"
    "        cluster through the whole pipeline; leaves a journal "
    "(logbook.db)\n"
    "  manager [--kubeconfig F] [--journal F] [--metrics-bind ADDR:PORT]\n"
    "          [--leader-elect=true|false] [--lease-namespace NS]\n"
    "          [--lease-name N] [--qps Q] [--burst B] [--durability P]\n"
    "          [--flush-ms MS (100)]\n"
    "          [--webhook-port P (0 = off)] [--webhook-host ADDR]\n"
    "          [--webhook-url-base https://127.0.0.1:P | auto]\n"
    "          [--webhook-cert-dir D] [--webhook-cert F --webhook-key F\n"
    "          [--webhook-ca F]] [--webhook-service NS/NAME]\n"
    "          [--webhook-namespace-selector KEY=VALUE]\n"
    "          [--webhook-register=true|false]\n"
    "        run the controllers (and admission webhooks) against a\n"
    "        kube-apiserver\n"
    "  webhook-config [--url-base https://H:P] [--service NS/NAME]\n"
    "          [--ca-file F] [--namespace-selector KEY=VALUE]\n"
    "        print the Mutating/ValidatingWebhookConfigurations the manager\n"
    "        applies (deploy/webhooks.yaml is this output)\n"
    "  nodesim [--kubeconfig F] [--nodes N] [--seed N]\n"
    "        fake kubelets for a real apiserver: bind pods, report them\n"
    "        Running/Ready, restart containers on image change (tests)\n"
    "  replay F [--to SEQ] [--from-snapshot] [--full-recompute]\n"
    "           [--check-aggregates]\n"
    "        re-run the reducers over journal F and verify every decision\n"
    "  explain F KIND/NS/NAME\n"
    "        events -> decisions -> actions that touched one object\n"
    "  query F \"SQL\"\n"
    "        run an audit query (views: pod_history, decisions_explained,\n"
    "        action_log, failed_actions, rollout_timeline, admission_denials)\n"
    "  journal check F            integrity: torn tail, hash chain, missing "
    "seq\n"
    "  journal dump F [--from N] [--to N]   events as JSON lines\n"
    "  journal truncate F --after SEQ --force   cut the journal after SEQ\n"
    "  version\n";

static int die_usage(const char *msg) {
  if (msg)
    fprintf(stderr, "logbook: %s\n\n", msg);
  fputs(usage, stderr);
  return 2;
}

static int parse_i64(const char *s, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end)
    return -1;
  *out = v;
  return 0;
}

static struct lb_journal *open_journal(const char *path, int readonly) {
  struct lb_journal_opts o = LB_JOURNAL_OPTS_INIT;
  struct lb_journal *j = NULL;
  o.readonly = readonly;
  if (readonly && access(path, R_OK) != 0) {
    fprintf(stderr, "logbook: cannot read journal %s: %s\n", path,
            strerror(errno));
    return NULL;
  }
  int rc = lb_journal_open(path, &o, &j);
  if (rc) {
    fprintf(stderr, "logbook: %s\n", lb_journal_open_errmsg());
    return NULL;
  }
  return j;
}

/* --- sim ----------------------------------------------------------------- */
static int cmd_sim(int argc, char **argv) {
  const char *path = "logbook.db", *scenario = "demo";
  int64_t seed = 1;
  int fresh = 0, verbose = 0, quiet = 0, rc;
  struct lb_journal_opts jo = LB_JOURNAL_OPTS_INIT;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--journal") && i + 1 < argc)
      path = argv[++i];
    else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
      if (parse_i64(argv[++i], &seed))
        return die_usage("--seed needs an integer");
    } else if (!strcmp(argv[i], "--scenario") && i + 1 < argc)
      scenario = argv[++i];
    else if (!strcmp(argv[i], "--durability") && i + 1 < argc) {
      if ((jo.durability = lb_durability_parse(argv[++i])) < 0)
        return die_usage("--durability is always, batched or off");
    } else if (!strcmp(argv[i], "--fresh"))
      fresh = 1;
    else if (!strcmp(argv[i], "-v"))
      verbose = 1;
    else if (!strcmp(argv[i], "-q"))
      quiet = 1;
    else
      return die_usage("unknown option for sim");
  }
  if (lb_simrun_steps(scenario) < 0) {
    fprintf(stderr,
            "logbook: unknown scenario '%s' (demo, scale, rollout, mini)\n",
            scenario);
    return 2;
  }
  if (access(path, F_OK) == 0) {
    if (!fresh) {
      fprintf(stderr,
              "logbook: journal %s already exists; the simulated cluster "
              "starts empty, so pass --fresh to replace it or --journal to "
              "choose another file\n",
              path);
      return 1;
    }
    char side[4096];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
  }
  struct lb_journal *j = NULL;
  if ((rc = lb_journal_open(path, &jo, &j))) {
    fprintf(stderr, "logbook: %s\n", lb_journal_open_errmsg());
    return 1;
  }
  struct lb_sim_opts so;
  struct lb_sim *sim = NULL;
  struct lb_engine *e = NULL;
  struct lb_runner run;
  struct lb_simrun drv;
  char msg[512] = "", seedtxt[32];
  lb_sim_opts_init(&so);
  so.seed = (uint64_t)seed;
  if ((rc = lb_sim_new(&so, &sim)) || (rc = lb_engine_new(NULL, &e))) {
    fprintf(stderr, "logbook: %s\n", lb_strerror(rc));
    goto out;
  }
  snprintf(seedtxt, sizeof seedtxt, "%lld", (long long)seed);
  lb_journal_meta_set(j, "source", "sim");
  lb_journal_meta_set(j, "sim.seed", seedtxt);
  lb_journal_meta_set(j, "sim.scenario", scenario);
  lb_journal_meta_set(j, "logbook.version", LB_VERSION);
  lb_runner_init(&run, j, e, lb_sim_actuator(sim));
  run.log = verbose ? stdout : NULL;
  lb_simrun_init(&drv, sim, &run);
  drv.progress = quiet ? NULL : stdout;
  if (!quiet)
    printf("logbook sim: scenario %s, seed %lld, journal %s\n", scenario,
           (long long)seed, path);
  rc = lb_simrun_resync(&drv);
  if (!rc)
    rc = lb_simrun_scenario(&drv, scenario, 0, msg, sizeof msg);
  if (!rc)
    rc = lb_runner_snapshot(&run);
  if (rc) {
    fprintf(stderr, "logbook sim: %s\n", *msg ? msg : lb_strerror(rc));
  } else if (!quiet) {
    printf("done: %" PRId64 " events, %" PRId64 " decisions, %" PRId64
           " actions journaled in %s\n"
           "chain %016" PRIx64 "  digest %016" PRIx64 "\n"
           "next: logbook replay %s\n"
           "      logbook query %s \"SELECT time, reason FROM "
           "decisions_explained LIMIT 10\"\n"
           "      logbook explain %s cloneset/default/web\n",
           run.events, run.decisions, run.actions, path, lb_engine_chain(e),
           lb_engine_digest(e), path, path, path);
  }
  lb_runner_release(&run);
out:
  lb_engine_free(e);
  lb_sim_free(sim);
  lb_journal_close(j);
  return rc ? 1 : 0;
}

/* --- manager / nodesim ------------------------------------------------- */
static int flag_value(const char *arg, const char *name, int argc, char **argv,
                      int *i, const char **out) {
  size_t n = strlen(name);
  if (strncmp(arg, name, n))
    return 0;
  if (arg[n] == '=') {
    *out = arg + n + 1;
    return 1;
  }
  if (arg[n] == '\0' && *i + 1 < argc) {
    *out = argv[++*i];
    return 1;
  }
  return 0;
}

static int cmd_manager(int argc, char **argv) {
  struct lb_manager_opts o;
  const char *v;
  lb_manager_opts_init(&o);
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (flag_value(a, "--kubeconfig", argc, argv, &i, &v))
      o.kubeconfig = v;
    else if (flag_value(a, "--journal", argc, argv, &i, &v))
      o.journal = v;
    else if (flag_value(a, "--metrics-bind", argc, argv, &i, &v))
      o.metrics_bind = v;
    else if (!strcmp(a, "--leader-elect"))
      o.leader_elect = 1;
    else if (!strncmp(a, "--leader-elect=", 15))
      o.leader_elect = !strcmp(a + 15, "true");
    else if (flag_value(a, "--lease-namespace", argc, argv, &i, &v))
      o.lease_namespace = v;
    else if (flag_value(a, "--lease-name", argc, argv, &i, &v))
      o.lease_name = v;
    else if (flag_value(a, "--identity", argc, argv, &i, &v))
      o.identity = v;
    else if (flag_value(a, "--qps", argc, argv, &i, &v)) {
      o.qps = atof(v);
      if (o.qps <= 0)
        return die_usage("--qps must be a positive number");
    } else if (flag_value(a, "--burst", argc, argv, &i, &v)) {
      o.burst = atoi(v);
      if (o.burst < 1)
        return die_usage("--burst must be at least 1");
    } else if (flag_value(a, "--durability", argc, argv, &i, &v)) {
      if ((o.durability = lb_durability_parse(v)) < 0)
        return die_usage("--durability is always, batched or off");
    } else if (flag_value(a, "--flush-ms", argc, argv, &i, &v)) {
      char *end;
      long ms = strtol(v, &end, 10);
      if (*end || ms < 1 || ms > 10000)
        return die_usage("--flush-ms must be 1..10000 (milliseconds)");
      o.flush_ms = (int)ms;
    } else if (flag_value(a, "--webhook-port", argc, argv, &i, &v)) {
      char *end;
      long p = strtol(v, &end, 10);
      if (*end || p < 0 || p > 65535)
        return die_usage("--webhook-port is a port number (0 = off)");
      o.webhook_port = (int)p;
    } else if (flag_value(a, "--webhook-host", argc, argv, &i, &v)) {
      o.webhook_host = v;
    } else if (flag_value(a, "--webhook-url-base", argc, argv, &i, &v)) {
      if (strcmp(v, "auto") && strncmp(v, "https://", 8))
        return die_usage("--webhook-url-base starts with https:// (or is "
                         "auto)");
      o.webhook_url_base = v;
    } else if (flag_value(a, "--webhook-cert-dir", argc, argv, &i, &v)) {
      o.webhook_cert_dir = v;
    } else if (flag_value(a, "--webhook-cert", argc, argv, &i, &v)) {
      o.webhook_cert = v;
    } else if (flag_value(a, "--webhook-key", argc, argv, &i, &v)) {
      o.webhook_key = v;
    } else if (flag_value(a, "--webhook-ca", argc, argv, &i, &v)) {
      o.webhook_ca = v;
    } else if (flag_value(a, "--webhook-service", argc, argv, &i, &v)) {
      static char svc[256];
      char *slash;
      lb_strlcpy(svc, v, sizeof svc);
      if (!(slash = strchr(svc, '/')) || slash == svc || !slash[1])
        return die_usage("--webhook-service is NAMESPACE/NAME");
      *slash = '\0';
      o.webhook_service_ns = svc;
      o.webhook_service_name = slash + 1;
    } else if (flag_value(a, "--webhook-namespace-selector", argc, argv, &i,
                          &v)) {
      if (!strchr(v, '=') || *v == '=')
        return die_usage("--webhook-namespace-selector is KEY=VALUE");
      o.webhook_ns_label = v;
    } else if (!strncmp(a, "--webhook-register=", 19)) {
      o.webhook_register = !strcmp(a + 19, "true");
    } else {
      fprintf(stderr, "logbook manager: unknown option %s\n", a);
      return 2;
    }
  }
  return lb_manager_run(&o);
}

static int cmd_webhook_config(int argc, char **argv) {
  struct lb_whcfg_opts o = {
      NULL, "kruise-system", "logbook-webhook-service", 443, "", NULL};
  static char svc[256];
  const char *v, *ca_file = NULL;
  char *ca = NULL;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (flag_value(a, "--url-base", argc, argv, &i, &v))
      o.url_base = v;
    else if (flag_value(a, "--ca-file", argc, argv, &i, &v))
      ca_file = v;
    else if (flag_value(a, "--namespace-selector", argc, argv, &i, &v))
      o.ns_label = v;
    else if (flag_value(a, "--service", argc, argv, &i, &v)) {
      char *slash;
      lb_strlcpy(svc, v, sizeof svc);
      if (!(slash = strchr(svc, '/')) || slash == svc || !slash[1])
        return die_usage("--service is NAMESPACE/NAME");
      *slash = '\0';
      o.svc_ns = svc;
      o.svc_name = slash + 1;
    } else {
      fprintf(stderr, "logbook webhook-config: unknown option %s\n", a);
      return 2;
    }
  }
  if (ca_file) {
    FILE *f = fopen(ca_file, "r");
    struct lb_buf b = LB_BUF_INIT;
    char buf[4096];
    size_t n;
    if (!f) {
      fprintf(stderr, "logbook webhook-config: cannot read %s\n", ca_file);
      return 1;
    }
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
      lb_buf_add(&b, buf, n);
    fclose(f);
    o.ca_pem = ca = lb_buf_detach(&b, NULL);
  }
  char *m = lb_whcfg_mutating(&o), *val = lb_whcfg_validating(&o);
  if (m && val)
    printf(
        "# generated by `logbook webhook-config` — do not edit; the manager\n"
        "# fills caBundle at start (deploy/README.md)\n---\n%s\n---\n%s\n",
        m, val);
  free(m);
  free(val);
  free(ca);
  return m && val ? 0 : 1;
}

static int cmd_nodesim(int argc, char **argv) {
  struct lb_nodesim_opts o;
  const char *v;
  lb_nodesim_opts_init(&o);
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (flag_value(a, "--kubeconfig", argc, argv, &i, &v))
      o.kubeconfig = v;
    else if (flag_value(a, "--nodes", argc, argv, &i, &v))
      o.nodes = atoi(v);
    else if (flag_value(a, "--seed", argc, argv, &i, &v))
      o.seed = (uint64_t)atoll(v);
    else {
      fprintf(stderr, "logbook nodesim: unknown option %s\n", a);
      return 2;
    }
  }
  if (o.nodes < 1 || o.nodes > 1000)
    return die_usage("--nodes must be between 1 and 1000");
  return lb_nodesim_run(&o);
}

/* --- replay -------------------------------------------------------------- */
static int cmd_replay(int argc, char **argv) {
  struct lb_replay_opts o = LB_REPLAY_OPTS_INIT;
  struct lb_replay_result res;
  const char *path = NULL;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--to") && i + 1 < argc) {
      if (parse_i64(argv[++i], &o.to_seq))
        return die_usage("--to needs a sequence number");
    } else if (!strcmp(argv[i], "--from-snapshot"))
      o.from_snapshot = INT64_MAX;
    else if (!strcmp(argv[i], "--full-recompute"))
      o.engine.full_recompute = 1;
    else if (!strcmp(argv[i], "--check-aggregates"))
      o.engine.check_aggregates = 1;
    else if (argv[i][0] == '-' || path)
      return die_usage("unknown option for replay");
    else
      path = argv[i];
  }
  if (!path)
    return die_usage("replay needs a journal file");
  struct lb_journal *j = open_journal(path, 1);
  if (!j)
    return 1;
  int rc = lb_replay_run(j, &o, &res, NULL);
  if (rc == 0) {
    printf("verified %" PRId64 " decisions over %" PRId64
           " events (from seq %" PRId64 "), digest %016" PRIx64
           ", chain %016" PRIx64 "\n",
           res.decisions, res.events, res.start_seq, res.digest, res.chain);
  } else if (rc == LB_EDIVERGED) {
    printf("DIVERGED at event seq %" PRId64 ", decision seq %" PRId64 "\n"
           "  recorded: %s\n  replayed: %s\n",
           res.div_event_seq, res.div_decision_seq,
           res.recorded ? res.recorded : "(none)",
           res.replayed ? res.replayed : "(none)");
  } else {
    fprintf(stderr, "logbook replay: %s: %s\n", lb_strerror(rc),
            lb_journal_errmsg(j));
  }
  lb_replay_result_release(&res);
  lb_journal_close(j);
  return rc ? 1 : 0;
}

static int cmd_explain(int argc, char **argv) {
  if (argc != 2)
    return die_usage("explain needs a journal and KIND/NS/NAME");
  char *spec = lb_strdup(argv[1]), *kind = spec, *name, *s1, *s2;
  const char *ns = "";
  s1 = strchr(spec, '/');
  if (!s1) {
    free(spec);
    return die_usage("object must be KIND/NAMESPACE/NAME (or KIND/NAME)");
  }
  *s1 = '\0';
  s2 = strchr(s1 + 1, '/');
  if (s2) {
    *s2 = '\0';
    ns = s1 + 1;
    name = s2 + 1;
  } else {
    name = s1 + 1;
  }
  struct lb_journal *j = open_journal(argv[0], 1);
  int rc = j ? lb_explain(j, kind, ns, name, stdout) : 1;
  lb_journal_close(j);
  free(spec);
  return rc ? 1 : 0;
}

static int cmd_query(int argc, char **argv) {
  if (argc != 2)
    return die_usage("query needs a journal and one SQL statement");
  struct lb_journal *j = open_journal(argv[0], 1);
  int rc = j ? lb_query_print(j, argv[1], stdout) : 1;
  lb_journal_close(j);
  return rc ? 1 : 0;
}

static int dump_one(void *ctx, struct lb_event *ev) {
  (void)ctx;
  printf("{\"seq\":%" PRId64 ",\"at_ms\":%" PRId64
         ",\"source\":\"%s\",\"type\":\"%s\",\"kind\":\"%s\","
         "\"namespace\":\"%s\",\"name\":\"%s\",\"rv\":\"%s\"",
         ev->seq, ev->at_ms, lb_source_name(ev->source),
         lb_evtype_name(ev->type), ev->kind, ev->ns, ev->name, ev->rv);
  if (ev->action_id)
    printf(",\"action_id\":%" PRId64 ",\"http_status\":%d", ev->action_id,
           ev->http_status);
  printf(",\"body\":%s}\n", ev->body && ev->body_len ? ev->body : "null");
  return 0;
}

static int cmd_journal(int argc, char **argv) {
  if (argc < 2)
    return die_usage("journal needs check, dump or truncate and a file");
  const char *sub = argv[0], *path = argv[1];
  if (!strcmp(sub, "check")) {
    struct lb_buf rep = LB_BUF_INIT;
    int rc = lb_journal_check(path, &rep);
    fputs(rep.p ? rep.p : "", rc ? stderr : stdout);
    if (rc)
      fprintf(stderr, "journal check: %s (%s)\n", lb_strerror(rc),
              lb_err_name(rc));
    lb_buf_release(&rep);
    return rc ? 1 : 0;
  }
  if (!strcmp(sub, "dump")) {
    int64_t from = 1, to = -1;
    for (int i = 2; i < argc; i++) {
      if (!strcmp(argv[i], "--from") && i + 1 < argc) {
        if (parse_i64(argv[++i], &from))
          return die_usage("--from needs a number");
      } else if (!strcmp(argv[i], "--to") && i + 1 < argc) {
        if (parse_i64(argv[++i], &to))
          return die_usage("--to needs a number");
      } else
        return die_usage("unknown option for journal dump");
    }
    struct lb_journal *j = open_journal(path, 1);
    int rc = j ? lb_journal_scan_events(j, from, to, dump_one, NULL) : 1;
    if (j && rc)
      fprintf(stderr, "logbook: %s: %s\n", lb_strerror(rc),
              lb_journal_errmsg(j));
    lb_journal_close(j);
    return rc ? 1 : 0;
  }
  if (!strcmp(sub, "truncate")) {
    int64_t after = -1;
    int force = 0;
    for (int i = 2; i < argc; i++) {
      if (!strcmp(argv[i], "--after") && i + 1 < argc) {
        if (parse_i64(argv[++i], &after) || after < 0)
          return die_usage("--after needs a sequence number");
      } else if (!strcmp(argv[i], "--force"))
        force = 1;
      else
        return die_usage("unknown option for journal truncate");
    }
    if (after < 0 || !force)
      return die_usage("truncate needs --after SEQ and --force: it deletes "
                       "every event after SEQ and what came from them");
    struct lb_journal *j = open_journal(path, 0);
    int rc = j ? lb_journal_truncate_after(j, after) : 1;
    if (j && rc)
      fprintf(stderr, "logbook: %s: %s\n", lb_strerror(rc),
              lb_journal_errmsg(j));
    else if (j)
      fprintf(stderr,
              "logbook: TRUNCATED %s after seq %" PRId64
              ": later events, decisions, actions and snapshots deleted\n",
              path, after);
    lb_journal_close(j);
    return rc ? 1 : 0;
  }
  return die_usage("journal subcommands: check, dump, truncate");
}

int main(int argc, char **argv) {
  if (argc < 2)
    return die_usage(NULL);
  const char *cmd = argv[1];
  if (!strcmp(cmd, "sim"))
    return cmd_sim(argc - 2, argv + 2);
  if (!strcmp(cmd, "webhook-config"))
    return cmd_webhook_config(argc - 2, argv + 2);
  if (!strcmp(cmd, "manager"))
    return cmd_manager(argc - 2, argv + 2);
  if (!strcmp(cmd, "nodesim"))
    return cmd_nodesim(argc - 2, argv + 2);
  if (!strcmp(cmd, "replay"))
    return cmd_replay(argc - 2, argv + 2);
  if (!strcmp(cmd, "explain"))
    return cmd_explain(argc - 2, argv + 2);
  if (!strcmp(cmd, "query"))
    return cmd_query(argc - 2, argv + 2);
  if (!strcmp(cmd, "journal"))
    return cmd_journal(argc - 2, argv + 2);
  if (!strcmp(cmd, "version")) {
    printf("logbook %s (journal format %d)\n", LB_VERSION, LB_JOURNAL_FORMAT);
    return 0;
  }
  if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
    fputs(usage, stdout);
    return 0;
  }
  return die_usage("unknown command");
}
