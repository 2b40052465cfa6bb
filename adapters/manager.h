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
 *
 * Admission webhooks (webhook_port > 0): the serving certificate is
 * ensured at start (webhookcfg.h); once the leader's informers have listed
 * everything the HTTPS server starts (webhook.h: its own I/O thread; each
 * request becomes a REVIEW event through the runner, the committed
 * RESPOND answers it) and then the webhook configurations are applied
 * (url = webhook_url_base + path, else by Service). A standby does not
 * serve webhooks (its engine has no state to judge by).
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
  int flush_ms; /* group commit window for batches that hold no action ready
                   to go out (0 = 100 ms); see manager.c flush_due() */
  /* admission webhooks */
  int webhook_port;                 /* (0 = off) */
  const char *webhook_host;         /* listen address (0.0.0.0) */
  const char *webhook_url_base;     /* "https://127.0.0.1:PORT"; NULL = by
                                       Service */
  const char *webhook_cert_dir;     /* generated CA + cert (webhook-certs) */
  const char *webhook_cert;         /* given serving cert (PEM) or NULL */
  const char *webhook_key;          /* its key */
  const char *webhook_ca;           /* caBundle file (default: the cert) */
  const char *webhook_service_ns;   /* (kruise-system) */
  const char *webhook_service_name; /* (logbook-webhook-service) */
  const char *webhook_ns_label;     /* "k=v" extra namespaceSelector (tests) */
  int webhook_register;             /* apply the configurations (1) */
};

void lb_manager_opts_init(struct lb_manager_opts *o);
/* Runs until a signal or a fatal error; returns the process exit code. */
int lb_manager_run(const struct lb_manager_opts *o);

#endif
