/* manager.h — `logbook manager`: the whole pipeline against a cluster.
 *
 *   start ──► recover journal ──► [leader election] ──leader──► RUNNING
 *                                    │  not leader: retry every 2 s
 *   RUNNING: informers (list+watch every resource) ─► runner ─► journal
 *            ─► engine ─► decisions ─► commit (once per loop iteration)
 *            ─► actuator (apiserver) ─► outcome events ─► ...
 *            once every informer has listed: re-send in-flight actions
 *   lease renewal fails for renew_deadline ──► exit 1 (a standby takes over)
 *   SIGTERM/SIGINT ──► flush, snapshot, exit 0
 *
 * /healthz, /readyz and /metrics (Prometheus text) on a loopback port.
 */
#ifndef LB_MANAGER_H
#define LB_MANAGER_H

struct lb_manager_opts {
  const char *kubeconfig;      /* NULL: search order of kubeconfig.h */
  const char *journal;         /* (logbook.db) */
  const char *metrics_bind;    /* "127.0.0.1:8080"; "" = off */
  int leader_elect;            /* (1) */
  const char *lease_namespace; /* (kruise-system) */
  const char *lease_name;      /* (logbook-manager) */
  const char *identity;        /* (hostname_pid) */
  int lease_seconds;           /* (15) */
  int renew_deadline_seconds;  /* (10) */
  double qps;                  /* (30) */
  int burst;                   /* (50) */
  int durability;              /* enum lb_durability */
};

void lb_manager_opts_init(struct lb_manager_opts *o);
/* Runs until a signal or a fatal error; returns the process exit code. */
int lb_manager_run(const struct lb_manager_opts *o);

#endif
