/* sim_kubelet.c — the simulated kubelets: pod defaults, scheduling, the
 * pod lifecycle state machine and status rendering. The state diagram and
 * transition table are at the top of sim.c; this file holds the functions
 * it names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/err.h"
#include "../engine/event.h"
#include "../engine/util.h"
#include "sim_int.h"

void lb__sim_pod_free(struct pod *p) {
  if (!p)
    return;
  for (size_t i = 0; i < p->nc; i++) {
    free(p->c[i].name);
    free(p->c[i].image);
    free(p->c[i].want);
  }
  free(p->c);
  free(p);
}

static void def_str(json_object *o, const char *k, const char *v) {
  if (!lb__sim_member(o, k))
    lb__sim_set_str(o, k, v);
}

static void def_int(json_object *o, const char *k, int64_t v) {
  if (!lb__sim_member(o, k))
    json_object_object_add(o, k, json_object_new_int64(v));
}

void lb__sim_pod_defaults(json_object *j) {
  json_object *spec = lb__sim_ensure_obj(j, "spec");
  json_object *cs = lb__sim_member(spec, "containers");
  size_t n = json_object_is_type(cs, json_type_array)
                 ? json_object_array_length(cs)
                 : 0;
  for (size_t i = 0; i < n; i++) {
    json_object *c = json_object_array_get_idx(cs, i);
    if (!json_object_is_type(c, json_type_object))
      continue;
    const char *img = lb__sim_str(c, "image");
    int latest = !img || !strchr(img, ':') || strstr(img, ":latest");
    if (!lb__sim_member(c, "resources"))
      json_object_object_add(c, "resources", json_object_new_object());
    def_str(c, "terminationMessagePath", "/dev/termination-log");
    def_str(c, "terminationMessagePolicy", "File");
    def_str(c, "imagePullPolicy", latest ? "Always" : "IfNotPresent");
  }
  def_str(spec, "restartPolicy", "Always");
  def_int(spec, "terminationGracePeriodSeconds", 30);
  def_str(spec, "dnsPolicy", "ClusterFirst");
  def_str(spec, "serviceAccountName", "default");
  def_str(spec, "serviceAccount", "default");
  if (!lb__sim_member(spec, "securityContext"))
    json_object_object_add(spec, "securityContext", json_object_new_object());
  def_str(spec, "schedulerName", "default-scheduler");
  if (!lb__sim_member(spec, "tolerations")) {
    static const char *const keys[] = {"node.kubernetes.io/not-ready",
                                       "node.kubernetes.io/unreachable"};
    json_object *tl = json_object_new_array();
    for (size_t i = 0; tl && i < 2; i++) {
      json_object *t = json_object_new_object();
      if (!t)
        break;
      lb__sim_set_str(t, "key", keys[i]);
      lb__sim_set_str(t, "operator", "Exists");
      lb__sim_set_str(t, "effect", "NoExecute");
      json_object_object_add(t, "tolerationSeconds",
                             json_object_new_int64(300));
      json_object_array_add(tl, t);
    }
    json_object_object_add(spec, "tolerations", tl);
  }
  def_int(spec, "priority", 0);
  if (!lb__sim_member(spec, "enableServiceLinks"))
    json_object_object_add(spec, "enableServiceLinks",
                           json_object_new_boolean(1));
  def_str(spec, "preemptionPolicy", "PreemptLowerPriority");
}

static void pod_assert_state(const struct obj *o) {
#ifndef NDEBUG
  const struct pod *p = o->pod;
  if (!p)
    return;
  switch (p->st) {
  case POD_PENDING:
    if (p->node >= 0 || p->nc)
      LB_BUG("pod PENDING with a node or containers");
    break;
  case POD_SCHEDULED:
    if (p->node < 0 || p->nc)
      LB_BUG("pod SCHEDULED without a node, or with containers");
    break;
  case POD_RUNNING:
    if (p->node < 0)
      LB_BUG("pod RUNNING without a node");
    break;
  default:
    LB_BUG("pod in an unknown state");
  }
#else
  (void)o;
#endif
}

static const char *const kubelet_conds[] = {"Initialized", "Ready",
                                            "ContainersReady", "PodScheduled"};

static int is_kubelet_cond(const char *type) {
  for (size_t i = 0; i < LB_ARRAY_SIZE(kubelet_conds); i++)
    if (!strcmp(type, kubelet_conds[i]))
      return 1;
  return 0;
}

static json_object *cond_new(const char *type, int status, int64_t t,
                             const char *reason, const char *message) {
  json_object *c = json_object_new_object();
  if (!c)
    return NULL;
  lb__sim_set_str(c, "type", type);
  lb__sim_set_str(c, "status", status ? "True" : "False");
  json_object_object_add(c, "lastProbeTime", NULL);
  lb__sim_set_time(c, "lastTransitionTime", t);
  if (reason)
    lb__sim_set_str(c, "reason", reason);
  if (message)
    lb__sim_set_str(c, "message", message);
  return c;
}

/* Whether every readiness gate has a True condition; else a message for
 * the first failing gate in msg. */
static int gates_ok(json_object *j, char *msg, size_t msg_size) {
  json_object *gates =
      lb__sim_member(lb__sim_member(j, "spec"), "readinessGates");
  json_object *conds =
      lb__sim_member(lb__sim_member(j, "status"), "conditions");
  size_t ng = json_object_is_type(gates, json_type_array)
                  ? json_object_array_length(gates)
                  : 0;
  size_t nc = json_object_is_type(conds, json_type_array)
                  ? json_object_array_length(conds)
                  : 0;
  for (size_t g = 0; g < ng; g++) {
    const char *want =
        lb__sim_str(json_object_array_get_idx(gates, g), "conditionType");
    const char *have = NULL;
    if (!want)
      continue;
    for (size_t i = 0; i < nc; i++) {
      json_object *c = json_object_array_get_idx(conds, i);
      const char *t = lb__sim_str(c, "type");
      if (t && !strcmp(t, want)) {
        have = lb__sim_str(c, "status");
        break;
      }
    }
    if (!have) {
      snprintf(msg, msg_size,
               "corresponding condition of pod readiness gate \"%s\" does "
               "not exist.",
               want);
      return 0;
    }
    if (strcmp(have, "True")) {
      snprintf(msg, msg_size,
               "the status of pod readiness gate \"%s\" is not \"True\", but "
               "%s",
               want, have);
      return 0;
    }
  }
  return 1;
}

static json_object *ctr_status(const struct ctr *c) {
  char buf[160];
  json_object *e = json_object_new_object();
  if (!e)
    return NULL;
  json_object *state = json_object_new_object();
  json_object *last = json_object_new_object();
  if (c->st == C_KILLED) {
    json_object *t = json_object_new_object();
    snprintf(buf, sizeof buf, "containerd://%s", c->cid);
    json_object_object_add(t, "exitCode", json_object_new_int(0));
    lb__sim_set_str(t, "reason", "Completed");
    lb__sim_set_time(t, "startedAt", c->last_started_ms);
    lb__sim_set_time(t, "finishedAt", c->last_finished_ms);
    lb__sim_set_str(t, "containerID", buf);
    json_object_object_add(state, "terminated", t);
  } else {
    json_object *r = json_object_new_object();
    lb__sim_set_time(r, "startedAt", c->started_ms);
    json_object_object_add(state, "running", r);
    if (c->last_cid[0]) {
      json_object *t = json_object_new_object();
      snprintf(buf, sizeof buf, "containerd://%s", c->last_cid);
      json_object_object_add(t, "exitCode", json_object_new_int(0));
      lb__sim_set_str(t, "reason", "Completed");
      lb__sim_set_time(t, "startedAt", c->last_started_ms);
      lb__sim_set_time(t, "finishedAt", c->last_finished_ms);
      lb__sim_set_str(t, "containerID", buf);
      json_object_object_add(last, "terminated", t);
    }
  }
  char dig[65];
  lb__sim_digest(c->image, dig);
  snprintf(buf, sizeof buf, "containerd://%s", c->cid);
  lb__sim_set_str(e, "containerID", buf);
  lb__sim_set_str(e, "image", c->image);
  struct lb_buf b = LB_BUF_INIT;
  /* imageID: docker.io/library/<image without tag>@sha256:<digest> */
  const char *img = c->image;
  const char *colon = strrchr(img, ':');
  size_t base =
      colon && !strchr(colon, '/') ? (size_t)(colon - img) : strlen(img);
  if (memchr(img, '/', base))
    lb_buf_addf(&b, "docker.io/%.*s@sha256:%s", (int)base, img, dig);
  else
    lb_buf_addf(&b, "docker.io/library/%.*s@sha256:%s", (int)base, img, dig);
  lb__sim_set_str(e, "imageID", b.p ? b.p : "");
  lb_buf_release(&b);
  json_object_object_add(e, "lastState", last);
  lb__sim_set_str(e, "name", c->name);
  json_object_object_add(e, "ready", json_object_new_boolean(c->st == C_READY));
  json_object_object_add(e, "restartCount", json_object_new_int(c->restarts));
  json_object_object_add(e, "started",
                         json_object_new_boolean(c->st != C_KILLED));
  json_object_object_add(e, "state", state);
  return e;
}

/* Rewrites the kubelet-owned parts of status from the pod's C state:
 * phase, hostIP, podIP, startTime, containerStatuses, and the conditions
 * PodScheduled, Initialized, ContainersReady, Ready (other conditions, e.g.
 * readiness gates, are kept in their order after these). */
void lb__sim_pod_render(struct lb_sim *s, struct obj *o) {
  struct pod *p = o->pod;
  json_object *st = lb__sim_ensure_obj(o->j, "status");
  char gmsg[512];
  pod_assert_state(o);
  lb__sim_set_str(st, "phase", p->st == POD_RUNNING ? "Running" : "Pending");

  int cready = p->st == POD_RUNNING && p->nc > 0;
  struct lb_buf unready = LB_BUF_INIT;
  for (size_t i = 0; i < p->nc; i++)
    if (p->c[i].st != C_READY) {
      cready = 0;
      lb_buf_addf(&unready, "%s%s", unready.len ? " " : "", p->c[i].name);
    }
  int gok = gates_ok(o->j, gmsg, sizeof gmsg);
  int ready = cready && gok;
  if (cready != p->cready) {
    p->cready = cready;
    p->t_cready = s->now;
  }
  if (ready != p->ready) {
    p->ready = ready;
    p->t_ready = s->now;
  }

  json_object *conds = json_object_new_array();
  if (p->st == POD_RUNNING) {
    char msg[600];
    snprintf(msg, sizeof msg, "containers with unready status: [%s]",
             unready.p ? unready.p : "");
    json_object_array_add(conds,
                          cond_new("Initialized", 1, p->t_start, NULL, NULL));
    if (ready)
      json_object_array_add(conds,
                            cond_new("Ready", 1, p->t_ready, NULL, NULL));
    else if (!cready)
      json_object_array_add(
          conds, cond_new("Ready", 0, p->t_ready, "ContainersNotReady", msg));
    else
      json_object_array_add(conds, cond_new("Ready", 0, p->t_ready,
                                            "ReadinessGatesNotReady", gmsg));
    json_object_array_add(conds,
                          cond_new("ContainersReady", cready, p->t_cready,
                                   cready ? NULL : "ContainersNotReady",
                                   cready ? NULL : msg));
  }
  lb_buf_release(&unready);
  if (p->st >= POD_SCHEDULED)
    json_object_array_add(conds,
                          cond_new("PodScheduled", 1, p->t_sched, NULL, NULL));
  else if (p->unsched)
    json_object_array_add(
        conds, cond_new("PodScheduled", 0, p->t_sched, "Unschedulable",
                        "0/3 nodes are available: node(s) didn't match Pod's "
                        "node affinity/selector."));
  json_object *old = lb__sim_member(st, "conditions");
  size_t no = json_object_is_type(old, json_type_array)
                  ? json_object_array_length(old)
                  : 0;
  for (size_t i = 0; i < no; i++) {
    json_object *c = json_object_array_get_idx(old, i);
    const char *t = lb__sim_str(c, "type");
    if (t && !is_kubelet_cond(t))
      json_object_array_add(conds, json_object_get(c));
  }
  json_object_object_add(st, "conditions", conds);

  if (p->node >= 0) {
    char ip[24];
    snprintf(ip, sizeof ip, "10.0.0.%d", 10 + p->node);
    lb__sim_set_str(st, "hostIP", ip);
    json_object *hl = json_object_new_array(), *h = json_object_new_object();
    lb__sim_set_str(h, "ip", ip);
    json_object_array_add(hl, h);
    json_object_object_add(st, "hostIPs", hl);
  }
  if (p->st == POD_RUNNING) {
    lb__sim_set_str(st, "podIP", p->pod_ip);
    json_object *pl = json_object_new_array(), *pi = json_object_new_object();
    lb__sim_set_str(pi, "ip", p->pod_ip);
    json_object_array_add(pl, pi);
    json_object_object_add(st, "podIPs", pl);
    lb__sim_set_time(st, "startTime", p->t_start);
    json_object *cs = json_object_new_array();
    for (size_t i = 0; i < p->nc; i++)
      json_object_array_add(cs, ctr_status(&p->c[i]));
    json_object_object_add(st, "containerStatuses", cs);
  }
  if (!lb__sim_member(st, "qosClass"))
    lb__sim_set_str(st, "qosClass", "BestEffort");
}

/* A kubelet status write: render, note the manager, commit MODIFIED. */
static int kubelet_write(struct lb_sim *s, struct obj *o) {
  lb__sim_pod_render(s, o);
  json_object *f = json_object_new_object();
  if (f)
    json_object_object_add(f, "f:status",
                           lb__sim_fields(lb__sim_member(o->j, "status"), 1));
  lb__sim_mf_note(s, o, LB__SIM_MGR_KUBELET, 1, f, 1);
  return lb__sim_commit(s, o, LB_EV_MODIFIED);
}

/* ------------------------------------------------------------------ */
/* Kubelet transitions                                                */

static int node_index(const struct lb_sim *s, const char *name) {
  int i;
  if (!name || strncmp(name, "sim-node-", 9))
    return -1;
  char *end;
  long v = strtol(name + 9, &end, 10);
  if (*end || end == name + 9 || v < 0 || v >= s->o.nodes)
    return -1;
  i = (int)v;
  return i;
}

/* The node a pod must go to from spec.nodeName or a required node
 * affinity on metadata.name: -2 when none is required. */
static int required_node(const struct lb_sim *s, json_object *spec) {
  const char *nn = lb__sim_str(spec, "nodeName");
  if (nn && *nn)
    return node_index(s, nn);
  json_object *terms = lb__sim_member(
      lb__sim_member(
          lb__sim_member(lb__sim_member(spec, "affinity"), "nodeAffinity"),
          "requiredDuringSchedulingIgnoredDuringExecution"),
      "nodeSelectorTerms");
  json_object *t0 = json_object_is_type(terms, json_type_array)
                        ? json_object_array_get_idx(terms, 0)
                        : NULL;
  json_object *mf = lb__sim_member(t0, "matchFields");
  size_t n = json_object_is_type(mf, json_type_array)
                 ? json_object_array_length(mf)
                 : 0;
  for (size_t i = 0; i < n; i++) {
    json_object *m = json_object_array_get_idx(mf, i);
    const char *k = lb__sim_str(m, "key");
    json_object *vals = lb__sim_member(m, "values");
    if (k && !strcmp(k, "metadata.name") &&
        json_object_is_type(vals, json_type_array) &&
        json_object_array_length(vals) > 0) {
      json_object *v0 = json_object_array_get_idx(vals, 0);
      return node_index(s, json_object_get_string(v0));
    }
  }
  return -2;
}

int lb__sim_kubelet_schedule(struct lb_sim *s, struct obj *o) {
  struct pod *p = o->pod;
  if (p->st != POD_PENDING || o->terminating)
    return 0;
  json_object *spec = lb__sim_ensure_obj(o->j, "spec");
  int node = required_node(s, spec);
  if (node == -1 || s->o.nodes <= 0) {
    if (p->unsched)
      return 0;
    p->unsched = 1;
    p->t_sched = s->now;
    return kubelet_write(s, o);
  }
  if (node == -2) {
    node = 0;
    for (int i = 1; i < s->o.nodes; i++)
      if (s->node_load[i] < s->node_load[node])
        node = i;
  }
  char nn[32];
  snprintf(nn, sizeof nn, "sim-node-%d", node);
  lb__sim_set_str(spec, "nodeName", nn);
  p->node = node;
  p->st = POD_SCHEDULED;
  p->unsched = 0;
  p->t_sched = s->now;
  s->node_load[node]++;
  int rc = kubelet_write(s, o);
  if (!lb__sim_timer(s, o, T_START, lb__sim_draw(s, s->o.start_ms_)) && !rc)
    rc = LB_ENOMEM;
  return rc;
}

int lb__sim_kubelet_start(struct lb_sim *s, struct obj *o) {
  struct pod *p = o->pod;
  if (p->st != POD_SCHEDULED || o->terminating)
    return 0;
  json_object *cs = lb__sim_member(lb__sim_member(o->j, "spec"), "containers");
  size_t n = json_object_is_type(cs, json_type_array)
                 ? json_object_array_length(cs)
                 : 0;
  struct ctr *c = n ? calloc(n, sizeof *c) : NULL;
  if (n && !c)
    return LB_ENOMEM;
  int seq = s->node_ipseq[p->node]++;
  snprintf(p->pod_ip, sizeof p->pod_ip, "10.244.%d.%d", p->node, 2 + seq % 250);
  uint64_t ready_seq =
      lb__sim_timer(s, o, T_CREADY, lb__sim_draw(s, s->o.ready_ms));
  for (size_t i = 0; i < n; i++) {
    json_object *e = json_object_array_get_idx(cs, i);
    const char *nm = lb__sim_str(e, "name");
    const char *img = lb__sim_str(e, "image");
    c[i].name = lb_strdup(nm ? nm : "");
    c[i].image = lb_strdup(img ? img : "");
    c[i].want = lb_strdup(img ? img : "");
    lb__sim_hex64(&s->rng, c[i].cid);
    c[i].st = C_RUNNING;
    c[i].started_ms = s->now;
    c[i].pending_ready = ready_seq;
  }
  p->c = c;
  p->nc = n;
  for (size_t i = 0; i < n; i++)
    if (!c[i].name || !c[i].image || !c[i].want)
      return LB_ENOMEM;
  p->st = POD_RUNNING;
  p->t_start = s->now;
  return kubelet_write(s, o);
}

int lb__sim_kubelet_cready(struct lb_sim *s, struct obj *o, uint64_t seq) {
  struct pod *p = o->pod;
  int changed = 0;
  if (p->st != POD_RUNNING || o->terminating)
    return 0;
  for (size_t i = 0; i < p->nc; i++)
    if (p->c[i].pending_ready == seq && p->c[i].st == C_RUNNING) {
      p->c[i].st = C_READY;
      p->c[i].pending_ready = 0;
      changed = 1;
    }
  return changed ? kubelet_write(s, o) : 0;
}

int lb__sim_kubelet_restart(struct lb_sim *s, struct obj *o, uint64_t seq) {
  struct pod *p = o->pod;
  int changed = 0;
  if (p->st != POD_RUNNING || o->terminating)
    return 0;
  uint64_t ready_seq = 0;
  for (size_t i = 0; i < p->nc; i++) {
    struct ctr *c = &p->c[i];
    if (c->pending_restart != seq || c->st != C_KILLED)
      continue;
    if (!ready_seq)
      ready_seq = lb__sim_timer(s, o, T_CREADY, lb__sim_draw(s, s->o.ready_ms));
    char *img = lb_strdup(c->want);
    if (!img)
      return LB_ENOMEM;
    free(c->image);
    c->image = img;
    memcpy(c->last_cid, c->cid, sizeof c->cid);
    lb__sim_hex64(&s->rng, c->cid);
    c->st = C_RUNNING;
    c->restarts++;
    c->started_ms = s->now;
    c->pending_restart = 0;
    c->pending_ready = ready_seq;
    changed = 1;
  }
  return changed ? kubelet_write(s, o) : 0;
}

/* After a spec write on a pod: containers whose image changed are killed
 * now and restarted after restart_ms with the new image. */
int lb__sim_kubelet_spec_changed(struct lb_sim *s, struct obj *o) {
  struct pod *p = o->pod;
  int changed = 0;
  if (!p || p->st != POD_RUNNING || o->terminating)
    return 0;
  json_object *cs = lb__sim_member(lb__sim_member(o->j, "spec"), "containers");
  size_t n = json_object_is_type(cs, json_type_array)
                 ? json_object_array_length(cs)
                 : 0;
  uint64_t restart_seq = 0;
  for (size_t i = 0; i < p->nc; i++) {
    struct ctr *c = &p->c[i];
    const char *img = NULL;
    for (size_t k = 0; k < n; k++) {
      json_object *e = json_object_array_get_idx(cs, k);
      const char *nm = lb__sim_str(e, "name");
      if (nm && !strcmp(nm, c->name)) {
        img = lb__sim_str(e, "image");
        break;
      }
    }
    if (!img || !strcmp(img, c->want))
      continue;
    char *w = lb_strdup(img);
    if (!w)
      return LB_ENOMEM;
    free(c->want);
    c->want = w;
    if (c->st == C_KILLED)
      continue; /* the pending restart picks up the newest image */
    if (!restart_seq)
      restart_seq =
          lb__sim_timer(s, o, T_RESTART, lb__sim_draw(s, s->o.restart_ms));
    c->last_started_ms = c->started_ms;
    c->last_finished_ms = s->now;
    c->st = C_KILLED;
    c->pending_ready = 0;
    c->pending_restart = restart_seq;
    changed = 1;
  }
  return changed ? kubelet_write(s, o) : 0;
}

int lb__sim_kubelet_gone(struct lb_sim *s, struct obj *o) {
  if (!o->terminating)
    return 0;
  o->grace_done = 1;
  return lb__sim_maybe_finalize(s, o);
}
