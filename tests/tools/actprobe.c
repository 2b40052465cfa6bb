/* actprobe.c — runs actions through the apiserver actuator (kubeact), as
 * the manager would, and prints each outcome. For end-to-end tests of the
 * verbs and preconditions against the real kube-apiserver.
 *
 *   actprobe KUBECONFIG VERB GROUP KIND NS NAME [UID] [BODY]
 *
 * VERB is an action verb (create, patch, spatch, jpatch, delete); UID is
 * the delete precondition ("" for none); BODY the request body ("" for
 * none). Prints "STATUS BODY" on one line; exits 0 when an outcome arrived.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "../../adapters/kube.h"
#include "../../adapters/kubeact.h"
#include "../../adapters/kubeconfig.h"

struct probe {
  struct lb_kube *k;
  int done;
};

static void on_outcome(void *ctx, const struct lb_action *a,
                       struct lb_outcome *o) {
  struct probe *p = ctx;
  (void)a;
  printf("%d %.*s\n", o->http_status, (int)o->body_len,
         o->body ? o->body : "");
  free(o->body);
  p->done = 1;
  lb_kube_close(p->k);
}

int main(int argc, char **argv) {
  struct lb_kubeconfig cfg;
  struct lb_kube_opts ko = LB_KUBE_OPTS_INIT;
  struct lb_kubeact ka;
  struct lb_action a;
  struct probe p = {NULL, 0};
  char *err = NULL;
  uv_loop_t loop;
  if (argc < 7) {
    fprintf(stderr, "usage: actprobe KUBECONFIG VERB GROUP KIND NS NAME "
                    "[UID] [BODY]\n");
    return 2;
  }
  if (lb_kubeconfig_load(argv[1], &cfg, &err)) {
    fprintf(stderr, "actprobe: %s\n", err ? err : "cannot load kubeconfig");
    free(err);
    return 2;
  }
  memset(&a, 0, sizeof a);
  a.id = 1;
  a.verb = lb_verb_parse(argv[2]);
  a.api_group = argv[3];
  a.kind = argv[4];
  a.ns = argv[5];
  a.name = argv[6];
  a.sub = (char *)"";
  a.uid = argc > 7 ? argv[7] : (char *)"";
  a.body = argc > 8 && *argv[8] ? argv[8] : NULL;
  if (!a.verb) {
    fprintf(stderr, "actprobe: unknown verb %s\n", argv[2]);
    return 2;
  }
  uv_loop_init(&loop);
  if (lb_kube_new(&loop, &cfg, &ko, &p.k)) {
    fprintf(stderr, "actprobe: cannot start the client\n");
    return 2;
  }
  lb_kubeact_init(&ka, &loop, p.k);
  ka.max_attempts = 1;
  ka.act.on_outcome = on_outcome;
  ka.act.ctx = &p;
  if (ka.act.submit(&ka.act, &a)) {
    fprintf(stderr, "actprobe: submit failed\n");
    return 2;
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  lb_kubeconfig_release(&cfg);
  return p.done ? 0 : 1;
}
