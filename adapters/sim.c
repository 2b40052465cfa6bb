/* sim.c — the embedded simulated cluster: object store, writes with
 * Kubernetes semantics, watch log, kubelets and the actuator backend.
 * Interface and contracts: sim.h. Helpers (PRNG, merge patch,
 * managedFields, Status documents): sim_util.c.
 *
 * Everything happens in virtual time (s->now). Every state change of the
 * simulated cluster is a *timer* in one queue ordered by (due, seq) — seq is
 * an insertion counter, so ties run in the order they were scheduled — and
 * every delay is drawn from the seeded PRNG. Hence one seed + one sequence
 * of calls = one byte-identical history.
 *
 * Pod lifecycle (one kubelet per fake node sim-node-0..N-1)
 * =========================================================
 *
 *            create
 *              |
 *              v
 *     +-----------------+  SCHEDULE (schedule_ms)   +-----------------+
 *     | PENDING         |-------------------------->| SCHEDULED       |
 *     | no nodeName     |  node = least loaded,     | nodeName,hostIP |
 *     +-----------------+  ties by lowest index     | PodScheduled=T  |
 *              |     (affinity to an unknown node: +-----------------+
 *              |      stays PENDING, PodScheduled=F)        |
 *              |                                START (start_ms_)
 *              |                                            v
 *              |                                  +-----------------+
 *              |       per container:             | RUNNING         |
 *              |       RUNNING --CREADY--> READY  | phase Running,  |
 *              |       (ready_ms)                 | podIP, started  |
 *              |       READY/RUNNING --image--> KILLED (not ready)  |
 *              |       KILLED --RESTART (restart_ms)--> RUNNING     |
 *              |         (restartCount+1, new containerID/imageID)  |
 *              |                                  +-----------------+
 *              | delete                                | delete
 *              v                                       v
 *         (removed, DELETED)            TERMINATING: deletionTimestamp set,
 *                                       lifecycle timers ignored
 *                                          --GONE (terminate_ms)--> removed
 *
 * Ready (pod condition) = phase Running && every container READY (this is
 * ContainersReady) && every spec.readinessGates[].conditionType has a
 * status.conditions entry with status "True". It is recomputed by
 * lb__sim_pod_render() on every kubelet write and after every status patch.
 *
 * Transition table (timer kind -> function; a timer whose object is gone,
 * was replaced (uid), or is not in the expected state is ignored):
 *   from        event/timer      to          function
 *   (none)      create           PENDING     op_create -> pod_created
 *   PENDING     T_SCHEDULE       SCHEDULED   kubelet_schedule
 *   SCHEDULED   T_START          RUNNING     kubelet_start
 *   RUNNING     T_CREADY (ctr)   ctr READY   kubelet_cready
 *   RUNNING     image patch      ctr KILLED  kubelet_spec_changed
 *   ctr KILLED  T_RESTART (ctr)  ctr RUNNING kubelet_restart
 *   PENDING     delete           removed     op_delete -> obj_remove
 *   SCHEDULED+  delete           TERMINATING op_delete
 *   TERMINATING T_GONE           removed     kubelet_gone -> maybe_finalize
 * Invariants (pod_assert_state): PENDING has node < 0 and no containers;
 * SCHEDULED has node >= 0 and no containers; RUNNING has node >= 0; every
 * pending_ready / pending_restart names a timer that was scheduled.
 *
 * Other objects: objects with metadata.finalizers stay (deletionTimestamp
 * set) until a patch removes the last finalizer; then they are removed.
 * Removal garbage-collects objects whose ownerReferences all point at
 * objects that no longer exist (background propagation).
 */
#include "sim.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/decision.h"
#include "../engine/err.h"
#include "../engine/event.h"
#include "../engine/util.h"
#include "sim_int.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                      */

static void wres_release(struct wres *r) {
  free(r->body);
  free(r->msg);
  *r = (struct wres){0};
}

int64_t lb__sim_draw(struct lb_sim *s, const int64_t range[2]) {
  int64_t lo = range[0], hi = range[1];
  if (hi <= lo)
    return lo < 0 ? 0 : lo;
  uint64_t span = (uint64_t)(hi - lo) + 1;
  return lo + (int64_t)(lb__sim_rand(&s->rng) % span);
}

static char *make_key(const char *group, const char *kind, const char *ns,
                      const char *name) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_addf(&b, "%s\x1f%s\x1f%s\x1f%s", kind, ns, name, group ? group : "");
  if (b.err) {
    lb_buf_release(&b);
    return NULL;
  }
  return lb_buf_detach(&b, NULL);
}

static const char *const cluster_scoped[] = {"Node",
                                             "Namespace",
                                             "PersistentVolume",
                                             "ClusterRole",
                                             "ClusterRoleBinding",
                                             "CustomResourceDefinition",
                                             "StorageClass",
                                             "PriorityClass",
                                             "MutatingWebhookConfiguration",
                                             "ValidatingWebhookConfiguration",
                                             "NodeImage",
                                             "ResourceDistribution",
                                             "NodePodProbe",
                                             "APIService"};

static int is_cluster_scoped(const char *kind) {
  for (size_t i = 0; i < LB_ARRAY_SIZE(cluster_scoped); i++)
    if (!strcmp(kind, cluster_scoped[i]))
      return 1;
  return 0;
}

/* Core kinds with a status subresource; every non-core kind has one. */
static int has_status_sub(const char *group, const char *kind) {
  static const char *const core[] = {"Pod",
                                     "Node",
                                     "Service",
                                     "PersistentVolumeClaim",
                                     "PersistentVolume",
                                     "Namespace",
                                     "ReplicationController",
                                     "ResourceQuota"};
  if (group && *group)
    return 1;
  for (size_t i = 0; i < LB_ARRAY_SIZE(core); i++)
    if (!strcmp(kind, core[i]))
      return 1;
  return 0;
}

static int is_pod(const struct obj *o) {
  return !strcmp(o->kind, "Pod") && !*o->group;
}

/* Builds a failure result: Status document + message. */
static void fail(struct wres *r, int code, int err, const char *reason,
                 const struct obj *o, const char *group, const char *kind,
                 const char *name, const char *fmt, ...)
    __attribute__((format(printf, 9, 10)));
static void fail(struct wres *r, int code, int err, const char *reason,
                 const struct obj *o, const char *group, const char *kind,
                 const char *name, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (o) {
    group = o->group;
    kind = o->kind;
    name = o->name;
  }
  free(r->body);
  free(r->msg);
  r->code = code;
  r->err = err;
  r->msg = lb_strdup(msg);
  r->body = lb__sim_status_doc(code, reason, msg, group, kind, name, &r->len);
}

static int ok_body(struct wres *r, int code, const struct obj *o) {
  r->code = code;
  r->err = 0;
  r->body = lb_strndup(o->json, o->json_len);
  r->len = o->json_len;
  return r->body ? 0 : LB_ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Object store (sorted array, binary search)                         */

static size_t find_pos(const struct lb_sim *s, const char *key, int *found) {
  size_t lo = 0, hi = s->n_objs;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(s->objs[mid]->key, key);
    if (c == 0) {
      *found = 1;
      return mid;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  *found = 0;
  return lo;
}

static struct obj *find_key(const struct lb_sim *s, const char *key) {
  int found;
  size_t i = find_pos(s, key, &found);
  return found ? s->objs[i] : NULL;
}

/* group NULL matches any group (the first in key order). */
static struct obj *find(const struct lb_sim *s, const char *group,
                        const char *kind, const char *ns, const char *name) {
  if (!kind || !name)
    return NULL;
  if (!ns)
    ns = "";
  if (group) {
    char *k = make_key(group, kind, ns, name);
    struct obj *o = k ? find_key(s, k) : NULL;
    free(k);
    return o;
  }
  char *k = make_key("", kind, ns, name);
  struct obj *o = NULL;
  if (k) {
    int found;
    size_t i = find_pos(s, k, &found);
    size_t pl = strlen(k); /* prefix up to and including the last \x1f */
    if (i < s->n_objs && !strncmp(s->objs[i]->key, k, pl))
      o = s->objs[i];
  }
  free(k);
  return o;
}

static int store_insert(struct lb_sim *s, struct obj *o) {
  int found;
  size_t i = find_pos(s, o->key, &found);
  if (LB_NEVER(found))
    return LB_EEXIST;
  if (lb_reserve(&s->objs, &s->cap_objs, s->n_objs + 1, sizeof *s->objs, 64))
    return LB_ENOMEM;
  memmove(s->objs + i + 1, s->objs + i, (s->n_objs - i) * sizeof *s->objs);
  s->objs[i] = o;
  s->n_objs++;
  return 0;
}

static void store_unlink(struct lb_sim *s, struct obj *o) {
  int found;
  size_t i = find_pos(s, o->key, &found);
  if (!found || s->objs[i] != o)
    return;
  memmove(s->objs + i, s->objs + i + 1, (s->n_objs - i - 1) * sizeof *s->objs);
  s->n_objs--;
}

static void obj_free(struct obj *o) {
  if (!o)
    return;
  free(o->key);
  free(o->group);
  free(o->kind);
  free(o->ns);
  free(o->name);
  free(o->uid);
  free(o->owners);
  free(o->api_version);
  json_object_put(o->j);
  free(o->json);
  for (size_t i = 0; i < o->n_mf; i++) {
    free(o->mf[i].manager);
    free(o->mf[i].fields);
  }
  free(o->mf);
  lb__sim_pod_free(o->pod);
  free(o);
}

/* Records that `manager` wrote `fields` (consumed) at now; merged into the
 * manager's previous entry for the same subresource unless `replace`. */
void lb__sim_mf_note(struct lb_sim *s, struct obj *o, const char *manager,
                     int status, json_object *fields, int replace) {
  int oom = 0;
  struct mf *m = NULL;
  if (!fields)
    return;
  for (size_t i = 0; i < o->n_mf && !m; i++)
    if (o->mf[i].status == status && !strcmp(o->mf[i].manager, manager))
      m = &o->mf[i];
  if (m && !replace && m->fields) {
    json_object *prev = json_tokener_parse(m->fields);
    json_object *merged = lb__sim_merge(prev, fields, &oom);
    json_object_put(fields);
    fields = merged;
    if (!fields)
      return;
  }
  char *text = lb__sim_dump(fields, NULL);
  json_object_put(fields);
  if (!text)
    return;
  if (m) {
    free(m->fields);
    m->fields = text;
    m->ms = s->now;
    return;
  }
  struct mf *p = realloc(o->mf, (o->n_mf + 1) * sizeof *p);
  char *mg = lb_strdup(manager);
  if (!p || !mg) {
    if (p)
      o->mf = p;
    free(mg);
    free(text);
    return;
  }
  o->mf = p;
  o->mf[o->n_mf++] = (struct mf){mg, status, s->now, text};
}

/* metadata.managedFields as JSON text. */
static void mf_render(const struct obj *o, struct lb_buf *b) {
  lb_buf_adds(b, "[");
  for (size_t i = 0; i < o->n_mf; i++) {
    const struct mf *m = &o->mf[i];
    char t[32];
    lb_time_rfc3339(m->ms, t);
    lb_buf_adds(b, i ? ",{\"manager\":" : "{\"manager\":");
    lb_buf_add_json_str(b, m->manager);
    lb_buf_adds(b, ",\"operation\":\"Update\",\"apiVersion\":");
    lb_buf_add_json_str(b, o->api_version);
    lb_buf_addf(b,
                ",\"time\":\"%s\",\"fieldsType\":\"FieldsV1\","
                "\"fieldsV1\":%s%s}",
                t, m->fields, m->status ? ",\"subresource\":\"status\"" : "");
  }
  lb_buf_adds(b, "]");
}

/* The serialization of o with metadata.managedFields spliced in as the
 * last key of metadata (malloc'd; length in *len). */
static char *dump_with_mf(const struct obj *o, size_t *len) {
  size_t dl = 0, ml = 0;
  json_object *meta = lb__sim_member(o->j, "metadata");
  const int fl = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
  const char *d = json_object_to_json_string_length(o->j, fl, &dl);
  const char *m = json_object_to_json_string_length(meta, fl, &ml);
  const char *at = NULL;
  if (!d || !m || ml < 2 || !o->n_mf)
    return d ? lb__sim_dump(o->j, len) : NULL;
  for (const char *p = strstr(d, "\"metadata\":"); p;
       p = strstr(p + 1, "\"metadata\":"))
    if (!strncmp(p + 11, m, ml)) {
      at = p + 11 + ml - 1; /* the closing brace of metadata */
      break;
    }
  if (LB_NEVER(!at))
    return lb__sim_dump(o->j, len);
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_add(&b, d, (size_t)(at - d));
  lb_buf_adds(&b, ml > 2 ? ",\"managedFields\":" : "\"managedFields\":");
  mf_render(o, &b);
  lb_buf_add(&b, at, dl - (size_t)(at - d));
  if (b.err) {
    lb_buf_release(&b);
    return NULL;
  }
  return lb_buf_detach(&b, len);
}

/* ------------------------------------------------------------------ */
/* Watch log and commit                                               */

static int ring_push(struct lb_sim *s, int type, const char *body, size_t len) {
  char *c = lb_strndup(body, len);
  if (!c)
    return LB_ENOMEM;
  if (s->ring_n == s->ring_cap) {
    struct wev *old = &s->ring[s->ring_head];
    s->gone_rv = old->rv;
    free(old->body);
    s->ring_head = (s->ring_head + 1) % s->ring_cap;
    s->ring_n--;
  }
  size_t i = (s->ring_head + s->ring_n) % s->ring_cap;
  s->ring[i] = (struct wev){type, s->rv, s->now, c, len};
  s->ring_n++;
  return 0;
}

static int64_t counter_add(struct counter **v, size_t *n, size_t *cap,
                           const char *key, int64_t add) {
  size_t lo = 0, hi = *n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp((*v)[mid].key, key);
    if (c == 0)
      return (*v)[mid].n += add;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (!add)
    return 0;
  if (lb_reserve(v, cap, *n + 1, sizeof **v, 64))
    return 0;
  char *k = lb_strdup(key);
  if (!k)
    return 0;
  memmove(*v + lo + 1, *v + lo, (*n - lo) * sizeof **v);
  (*v)[lo] = (struct counter){k, add};
  (*n)++;
  return add;
}

static void owners_count(struct lb_sim *s, const char *list, int64_t add) {
  for (const char *p = list; p && *p;) {
    const char *e = strchr(p, '\x1f');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    char *u = lb_strndup(p, n);
    if (u)
      counter_add(&s->owned, &s->n_owned, &s->cap_owned, u, add);
    free(u);
    p += n + (e ? 1 : 0);
  }
}

/* Keeps s->owned in step with o's ownerReferences (none once deleted). */
static void owners_update(struct lb_sim *s, struct obj *o, int deleted) {
  struct lb_buf b = LB_BUF_INIT;
  json_object *refs =
      lb__sim_member(lb__sim_member(o->j, "metadata"), "ownerReferences");
  size_t n = !deleted && json_object_is_type(refs, json_type_array)
                 ? json_object_array_length(refs)
                 : 0;
  for (size_t i = 0; i < n; i++) {
    const char *u = lb__sim_str(json_object_array_get_idx(refs, i), "uid");
    if (u)
      lb_buf_addf(&b, "%s\x1f", u);
  }
  const char *now_s = b.p ? b.p : "";
  if (!b.err && strcmp(now_s, o->owners ? o->owners : "")) {
    owners_count(s, o->owners, -1);
    owners_count(s, now_s, 1);
    free(o->owners);
    o->owners = lb_buf_detach(&b, NULL);
  }
  lb_buf_release(&b);
}

/* One write: bumps the resourceVersion, renders managedFields, serializes
 * the object and appends the watch event. */
int lb__sim_commit(struct lb_sim *s, struct obj *o, int type) {
  char rv[24];
  s->rv++;
  snprintf(rv, sizeof rv, "%lld", (long long)s->rv);
  json_object *meta = lb__sim_ensure_obj(o->j, "metadata");
  lb__sim_set_str(meta, "resourceVersion", rv);
  size_t len = 0;
  char *js = dump_with_mf(o, &len);
  if (!js)
    return LB_ENOMEM;
  free(o->json);
  o->json = js;
  o->json_len = len;
  owners_update(s, o, type == LB_EV_DELETED);
  return ring_push(s, type, js, len);
}

/* ------------------------------------------------------------------ */
/* Timers                                                             */

static int timer_less(const struct timer *a, const struct timer *b) {
  return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void timer_free(struct timer *t) {
  if (!t)
    return;
  free(t->key);
  free(t->uid);
  lb_action_release(&t->act);
  free(t);
}

static int heap_push(struct lb_sim *s, struct timer *t) {
  if (lb_reserve(&s->heap, &s->cap_heap, s->n_heap + 1, sizeof *s->heap, 64))
    return LB_ENOMEM;
  size_t i = s->n_heap++;
  s->heap[i] = t;
  while (i > 0) {
    size_t up = (i - 1) / 2;
    if (!timer_less(s->heap[i], s->heap[up]))
      break;
    struct timer *x = s->heap[i];
    s->heap[i] = s->heap[up];
    s->heap[up] = x;
    i = up;
  }
  return 0;
}

static struct timer *heap_pop(struct lb_sim *s) {
  if (!s->n_heap)
    return NULL;
  struct timer *top = s->heap[0];
  s->heap[0] = s->heap[--s->n_heap];
  size_t i = 0;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < s->n_heap && timer_less(s->heap[l], s->heap[m]))
      m = l;
    if (r < s->n_heap && timer_less(s->heap[r], s->heap[m]))
      m = r;
    if (m == i)
      break;
    struct timer *x = s->heap[i];
    s->heap[i] = s->heap[m];
    s->heap[m] = x;
    i = m;
  }
  return top;
}

/* Schedules a kubelet timer for o after `delay`; returns its seq (0 on
 * allocation failure). */
uint64_t lb__sim_timer(struct lb_sim *s, struct obj *o, int kind,
                       int64_t delay) {
  struct timer *t = calloc(1, sizeof *t);
  if (!t)
    return 0;
  t->due = s->now + delay;
  t->seq = ++s->tseq;
  t->kind = kind;
  t->key = lb_strdup(o->key);
  t->uid = lb_strdup(o->uid);
  if (!t->key || !t->uid || heap_push(s, t) != 0) {
    timer_free(t);
    return 0;
  }
  return t->seq;
}

/* ------------------------------------------------------------------ */
/* Removal, finalizers, garbage collection                            */

static int op_delete(struct lb_sim *s, struct obj *o, const char *uid_pre,
                     const char *rv_pre, struct wres *r);

static int has_finalizers(const struct obj *o) {
  json_object *f =
      lb__sim_member(lb__sim_member(o->j, "metadata"), "finalizers");
  return json_object_is_type(f, json_type_array) &&
         json_object_array_length(f) > 0;
}

static int owned_by(json_object *j, const char *uid, int *others) {
  json_object *refs =
      lb__sim_member(lb__sim_member(j, "metadata"), "ownerReferences");
  size_t n = json_object_is_type(refs, json_type_array)
                 ? json_object_array_length(refs)
                 : 0;
  int hit = 0;
  *others = 0;
  for (size_t i = 0; i < n; i++) {
    const char *u = lb__sim_str(json_object_array_get_idx(refs, i), "uid");
    if (u && !strcmp(u, uid))
      hit = 1;
    else if (u)
      (*others)++;
  }
  return hit;
}

static int uid_exists(const struct lb_sim *s, const char *uid) {
  for (size_t i = 0; i < s->n_objs; i++)
    if (!strcmp(s->objs[i]->uid, uid))
      return 1;
  return 0;
}

static int gc_dependents(struct lb_sim *s, const char *uid) {
  char **keys = NULL;
  size_t n = 0;
  int rc = 0;
  if (counter_add(&s->owned, &s->n_owned, &s->cap_owned, uid, 0) <= 0)
    return 0; /* nothing points at it: skip the scan */
  for (size_t i = 0; i < s->n_objs; i++) {
    int others;
    if (!owned_by(s->objs[i]->j, uid, &others))
      continue;
    char **p = realloc(keys, (n + 1) * sizeof *p);
    if (!p) {
      rc = LB_ENOMEM;
      goto out;
    }
    keys = p;
    if (!(keys[n] = lb_strdup(s->objs[i]->key))) {
      rc = LB_ENOMEM;
      goto out;
    }
    n++;
  }
  for (size_t i = 0; i < n; i++) {
    struct obj *d = find_key(s, keys[i]);
    int others, alive = 0;
    if (!d || d->terminating)
      continue;
    owned_by(d->j, uid, &others);
    if (others) { /* keep it while another owner still exists */
      json_object *refs =
          lb__sim_member(lb__sim_member(d->j, "metadata"), "ownerReferences");
      for (size_t k = 0; k < json_object_array_length(refs); k++) {
        const char *u = lb__sim_str(json_object_array_get_idx(refs, k), "uid");
        if (u && strcmp(u, uid) && uid_exists(s, u))
          alive = 1;
      }
    }
    if (alive)
      continue;
    struct wres r = {0};
    op_delete(s, d, NULL, NULL, &r);
    wres_release(&r);
  }
out:
  for (size_t i = 0; i < n; i++)
    free(keys[i]);
  free(keys);
  return rc;
}

/* Removes o for good: DELETED event (last state, new rv), node load, GC.
 * o is freed. */
static int obj_remove(struct lb_sim *s, struct obj *o, struct wres *r) {
  int rc = lb__sim_commit(s, o, LB_EV_DELETED);
  if (!rc && r)
    rc = ok_body(r, 200, o); /* the last state, with the deletion's rv */
  char *uid = lb_strdup(o->uid);
  if (o->pod && o->pod->node >= 0 && o->pod->node < s->o.nodes)
    s->node_load[o->pod->node]--;
  store_unlink(s, o);
  obj_free(o);
  if (uid) {
    int g = gc_dependents(s, uid);
    if (!rc)
      rc = g;
    free(uid);
  } else if (!rc) {
    rc = LB_ENOMEM;
  }
  return rc;
}

int lb__sim_maybe_finalize(struct lb_sim *s, struct obj *o) {
  if (o->terminating && o->grace_done && !has_finalizers(o))
    return obj_remove(s, o, NULL);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Writes                                                             */

static void count_effect(struct lb_sim *s, int verb, const char *kind,
                         const char *ns, const char *name) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_addf(&b, "%s\x1f%s\x1f%s\x1f%s", lb_verb_name(verb), kind, ns, name);
  if (!b.err)
    counter_add(&s->eff, &s->n_eff, &s->cap_eff, b.p, 1);
  lb_buf_release(&b);
  if (verb > 0 && verb < (int)LB_ARRAY_SIZE(s->totals))
    s->totals[verb]++;
}

/* Validates a manifest's identity; fills group/ns. Returns 0 or sets r. */
static int identity(json_object *j, const char *fallback_ns,
                    const char *fallback_name, char **group, const char **kind,
                    const char **ns, const char **name, struct wres *r) {
  if (!json_object_is_type(j, json_type_object)) {
    fail(r, 400, LB_EINVAL, "BadRequest", NULL, "", "", "",
         "the object is not a JSON object; send {\"apiVersion\":...,"
         "\"kind\":...,\"metadata\":{\"name\":...}}");
    return -1;
  }
  const char *av = lb__sim_str(j, "apiVersion");
  *kind = lb__sim_str(j, "kind");
  if (!*kind || !**kind || !av || !*av) {
    fail(r, 400, LB_EINVAL, "BadRequest", NULL, "", "", "",
         "the object has no %s: \"kind\" and \"apiVersion\" must be "
         "non-empty strings",
         !*kind || !**kind ? "\"kind\"" : "\"apiVersion\"");
    return -1;
  }
  json_object *meta = lb__sim_member(j, "metadata");
  if (meta && !json_object_is_type(meta, json_type_object)) {
    fail(r, 400, LB_EINVAL, "BadRequest", NULL, "", *kind, "",
         "metadata must be a JSON object");
    return -1;
  }
  const char *slash = strrchr(av, '/');
  *group = slash ? lb_strndup(av, (size_t)(slash - av)) : lb_strdup("");
  if (!*group) {
    fail(r, 500, LB_ENOMEM, "InternalError", NULL, "", *kind, "",
         "out of memory");
    return -1;
  }
  *name = lb__sim_str(meta, "name");
  if (!*name || !**name)
    *name = fallback_name;
  *ns = lb__sim_str(meta, "namespace");
  if (is_cluster_scoped(*kind))
    *ns = "";
  else if (!*ns || !**ns)
    *ns = fallback_ns && *fallback_ns ? fallback_ns : "default";
  return 0;
}

/* Creates an object from j (consumed). user: a kubectl-side create, which
 * keeps a given status for kinds other than Pod. */
static int op_create(struct lb_sim *s, json_object *j, const char *ns_hint,
                     const char *name_hint, const char *manager, int user,
                     struct wres *r) {
  char *group = NULL;
  const char *kind, *ns, *name;
  struct obj *o = NULL;
  int rc = 0;
  char gen_name[300];
  if (identity(j, ns_hint, name_hint, &group, &kind, &ns, &name, r))
    goto out_put;
  json_object *meta = lb__sim_ensure_obj(j, "metadata");
  if (!name || !*name) {
    const char *gn = lb__sim_str(meta, "generateName");
    static const char alnum[] = "bcdfghjklmnpqrstvwxz2456789";
    if (!gn || !*gn || strlen(gn) > 250) {
      fail(r, 400, LB_EINVAL, "BadRequest", NULL, group, kind, "",
           "metadata.name or metadata.generateName is required");
      goto out_put;
    }
    for (int tries = 0; tries < 16; tries++) {
      char sfx[6];
      for (int i = 0; i < 5; i++)
        sfx[i] = alnum[lb__sim_rand(&s->rng) % (sizeof alnum - 1)];
      sfx[5] = '\0';
      snprintf(gen_name, sizeof gen_name, "%s%s", gn, sfx);
      if (!find(s, group, kind, ns, gen_name))
        break;
    }
    name = gen_name;
  }
  if (find(s, group, kind, ns, name)) {
    char *pl = lb__sim_plural(kind);
    fail(r, 409, LB_EEXIST, "AlreadyExists", NULL, group, kind, name,
         "%s%s%s \"%s\" already exists", pl ? pl : kind, *group ? "." : "",
         group, name);
    free(pl);
    goto out_put;
  }
  o = calloc(1, sizeof *o);
  if (!o)
    goto oom;
  o->group = group;
  group = NULL;
  o->kind = lb_strdup(kind);
  o->ns = lb_strdup(ns);
  o->name = lb_strdup(name);
  o->api_version = lb_strdup(lb__sim_str(j, "apiVersion"));
  o->key = make_key(o->group, kind, ns, name);
  if (!o->kind || !o->ns || !o->name || !o->api_version || !o->key)
    goto oom;
  o->status_sub = has_status_sub(o->group, kind);

  char uid[37];
  lb__sim_uuid(&s->rng, uid);
  if (!(o->uid = lb_strdup(uid)))
    goto oom;
  lb__sim_set_str(meta, "name", o->name);
  if (*o->ns)
    lb__sim_set_str(meta, "namespace", o->ns);
  else
    json_object_object_del(meta, "namespace");
  lb__sim_set_str(meta, "uid", uid);
  lb__sim_set_str(meta, "resourceVersion",
                  ""); /* set by commit; keeps key order */
  json_object_object_add(meta, "generation", json_object_new_int64(1));
  lb__sim_set_time(meta, "creationTimestamp", s->now);
  static const char *const drop[] = {"managedFields", "selfLink",
                                     "deletionTimestamp",
                                     "deletionGracePeriodSeconds"};
  for (size_t i = 0; i < LB_ARRAY_SIZE(drop); i++)
    json_object_object_del(meta, drop[i]);
  if (is_pod(o)) {
    json_object *st = json_object_new_object();
    lb__sim_set_str(st, "phase", "Pending");
    lb__sim_set_str(st, "qosClass", "BestEffort");
    json_object_object_add(j, "status", st);
    lb__sim_pod_defaults(j); /* a spec.nodeName given here binds the pod */
  } else if (o->status_sub && !user) {
    json_object_object_del(j, "status");
  }
  o->j = lb__sim_normalize(j);
  if (!o->j)
    goto oom;
  if (is_pod(o)) {
    o->pod = calloc(1, sizeof *o->pod);
    if (!o->pod)
      goto oom;
    o->pod->node = -1;
  }
  json_object_put(j);
  j = NULL;
  lb__sim_mf_note(s, o, manager, 0, lb__sim_fields_main(o->j), 1);
  if ((rc = store_insert(s, o)) != 0)
    goto oom_rc;
  if ((rc = lb__sim_commit(s, o, LB_EV_ADDED)) != 0)
    goto fail_rc;
  if (o->pod &&
      !lb__sim_timer(s, o, T_SCHEDULE, lb__sim_draw(s, s->o.schedule_ms))) {
    rc = LB_ENOMEM;
    goto fail_rc;
  }
  if (ok_body(r, 201, o))
    goto fail_nomem;
  return 0;

fail_nomem:
  rc = LB_ENOMEM;
fail_rc:
  fail(r, 500, rc, "InternalError", o, NULL, NULL, NULL,
       "Internal error occurred: %s", lb_strerror(rc));
  return rc;
oom_rc:
  obj_free(o);
  fail(r, 500, rc, "InternalError", NULL, "", "", "",
       "Internal error occurred: %s", lb_strerror(rc));
  return rc;
oom:
  obj_free(o);
  json_object_put(j);
  free(group);
  fail(r, 500, LB_ENOMEM, "InternalError", NULL, "", "", "",
       "Internal error occurred: out of memory");
  return LB_ENOMEM;
out_put:
  json_object_put(j);
  free(group);
  return r->err;
}

/* Finishes an update of o to `next` (consumed): no-op detection,
 * generation, commit, kubelet reaction, finalizers. */
static int update(struct lb_sim *s, struct obj *o, json_object *next,
                  int status_write, const char *manager, json_object *fields,
                  int replace_fields, struct wres *r) {
  int rc = 0;
  if (o->pod && status_write) {
    json_object *prev = o->j;
    o->j = next;
    if (o->pod->st >= POD_SCHEDULED || o->pod->unsched)
      lb__sim_pod_render(s, o); /* recompute Ready from the new conditions */
    o->j = prev;
  }
  if (json_object_equal(o->j, next)) {
    json_object_put(next);
    json_object_put(fields);
    return ok_body(r, 200, o);
  }
  if (!status_write && !o->pod && lb__sim_spec_changed(o->j, next))
    lb__sim_bump_generation(next);
  json_object *fresh = lb__sim_normalize(next);
  json_object_put(next);
  if (!fresh) {
    json_object_put(fields);
    fail(r, 500, LB_ENOMEM, "InternalError", o, NULL, NULL, NULL,
         "Internal error occurred: out of memory");
    return LB_ENOMEM;
  }
  json_object_put(o->j);
  o->j = fresh;
  lb__sim_mf_note(s, o, manager, status_write, fields, replace_fields);
  if ((rc = lb__sim_commit(s, o, LB_EV_MODIFIED)) != 0)
    goto fail_rc;
  if ((rc = ok_body(r, 200, o)) != 0)
    goto fail_rc;
  if (!status_write && (rc = lb__sim_kubelet_spec_changed(s, o)) != 0)
    goto fail_rc;
  return lb__sim_maybe_finalize(s, o); /* o may be freed here */
fail_rc:
  fail(r, 500, rc, "InternalError", o, NULL, NULL, NULL,
       "Internal error occurred: %s", lb_strerror(rc));
  return rc;
}

/* Precondition failures, worded as the kube-apiserver (1.20) words them. */
static void conflict_uid(struct wres *r, const struct obj *o, const char *uid) {
  fail(r, 409, LB_ECONFLICT, "Conflict", o, NULL, NULL, NULL,
       "Operation cannot be fulfilled on %s \"%s\": the UID in the "
       "precondition (%s) does not match the UID in record (%s). The object "
       "might have been deleted and then recreated",
       o->kind, o->name, uid, o->uid);
}

static void conflict_rv(struct wres *r, const struct obj *o, const char *rv) {
  const char *cur =
      lb__sim_str(lb__sim_member(o->j, "metadata"), "resourceVersion");
  fail(r, 409, LB_ECONFLICT, "Conflict", o, NULL, NULL, NULL,
       "Operation cannot be fulfilled on %s \"%s\": the ResourceVersion in "
       "the precondition (%s) does not match the ResourceVersion in record "
       "(%s). The object might have been modified",
       o->kind, o->name, rv, cur ? cur : "");
}

static void not_found(struct wres *r, const char *group, const char *kind,
                      const char *name) {
  char *pl = lb__sim_plural(kind ? kind : "");
  fail(r, 404, LB_ENOENT, "NotFound", NULL, group ? group : "", kind, name,
       "%s%s%s \"%s\" not found", pl ? pl : "", group && *group ? "." : "",
       group ? group : "", name ? name : "");
  free(pl);
}

enum { PATCH_MERGE, PATCH_STRATEGIC, PATCH_JSON };

/* A merge patch (RFC 7386), a strategic merge patch (lb__sim_smerge) or a
 * JSON patch (RFC 6902, lb__sim_jpatch), by mode. */
static int op_patch(struct lb_sim *s, struct obj *o, const char *sub,
                    const char *patch_text, const char *uid_pre,
                    const char *manager, int mode, struct wres *r) {
  int status_write = sub && !strcmp(sub, "status");
  int oom = 0;
  if (sub && *sub && !status_write) {
    fail(r, 404, LB_ENOENT, "NotFound", o, NULL, NULL, NULL,
         "the server could not find the requested resource (subresource "
         "\"%s\")",
         sub);
    return r->err;
  }
  if (status_write && !o->status_sub) {
    fail(r, 404, LB_ENOENT, "NotFound", o, NULL, NULL, NULL,
         "the server could not find the requested resource (%s has no status "
         "subresource)",
         o->kind);
    return r->err;
  }
  char *pmsg = NULL;
  int prc = 0;
  json_object *patch =
      !patch_text ? NULL
      : mode == PATCH_JSON
          ? lb__sim_parse_as(patch_text, "the JSON patch", json_type_array,
                             &pmsg, &prc)
          : lb__sim_parse(patch_text, "the merge patch", &pmsg, &prc);
  if (!patch) {
    fail(r, 400, patch_text ? prc : LB_EINVAL, "BadRequest", o, NULL, NULL,
         NULL, "%s", pmsg ? pmsg : "the merge patch is missing");
    free(pmsg);
    return r->err;
  }
  if (uid_pre && *uid_pre && strcmp(uid_pre, o->uid)) {
    json_object_put(patch);
    conflict_uid(r, o, uid_pre);
    return r->err;
  }
  const char *prv =
      mode == PATCH_JSON
          ? NULL
          : lb__sim_str(lb__sim_member(patch, "metadata"), "resourceVersion");
  const char *cur =
      lb__sim_str(lb__sim_member(o->j, "metadata"), "resourceVersion");
  if (prv && cur && strcmp(prv, cur)) {
    char *pl = lb__sim_plural(o->kind);
    json_object_put(patch);
    fail(r, 409, LB_ECONFLICT, "Conflict", o, NULL, NULL, NULL,
         "Operation cannot be fulfilled on %s%s%s \"%s\": the object has been "
         "modified; please apply your changes to the latest version and try "
         "again",
         pl ? pl : o->kind, *o->group ? "." : "", o->group, o->name);
    free(pl);
    return r->err;
  }
  json_object *next = NULL;
  if (mode == PATCH_JSON) {
    int code;
    char *msg;
    next = lb__sim_jpatch(o->j, patch, &code, &msg);
    if (!next) {
      json_object_put(patch);
      fail(r, code, code == 500 ? LB_ENOMEM : LB_EINVAL,
           code == 400   ? "BadRequest"
           : code == 422 ? "Invalid"
                         : "InternalError",
           o, NULL, NULL, NULL, "%s", msg ? msg : "the JSON patch failed");
      free(msg);
      return r->err;
    }
    json_object_put(patch);
    /* what changed, for managedFields: the new object's fields */
    patch = lb__sim_copy(next);
    if (!patch)
      oom = 1;
  } else {
    next = mode == PATCH_STRATEGIC
               ? lb__sim_smerge(lb__sim_copy(o->j), patch, &oom)
               : lb__sim_merge(lb__sim_copy(o->j), patch, &oom);
  }
  json_object *fields = NULL;
  if (next && !oom) {
    if (status_write) {
      json_object *only = lb__sim_copy(o->j);
      if (only)
        lb__sim_replace_status(only, next);
      json_object_put(next);
      next = only;
      fields = lb__sim_fields(lb__sim_member(patch, "status"), 1);
    } else {
      if (o->status_sub)
        lb__sim_replace_status(next, o->j);
      fields = lb__sim_fields_main(patch);
    }
  }
  if (!next || oom || lb__sim_set_server_meta(next, o->j)) {
    json_object_put(next);
    json_object_put(patch);
    json_object_put(fields);
    fail(r, 500, LB_ENOMEM, "InternalError", o, NULL, NULL, NULL,
         "Internal error occurred: out of memory");
    return LB_ENOMEM;
  }
  json_object_put(patch);
  if (fields && status_write) { /* fieldsV1 of the status, under f:status */
    json_object *w = json_object_new_object();
    if (w)
      json_object_object_add(w, "f:status", fields);
    else
      json_object_put(fields);
    fields = w;
  }
  return update(s, o, next, status_write, manager, fields, 0, r);
}

/* kubectl-apply-like replace of o by manifest j (consumed). */
static int op_replace(struct lb_sim *s, struct obj *o, json_object *j,
                      const char *manager, struct wres *r) {
  lb__sim_replace_status(j, o->j);
  if (lb__sim_set_server_meta(j, o->j)) {
    json_object_put(j);
    fail(r, 500, LB_ENOMEM, "InternalError", o, NULL, NULL, NULL,
         "Internal error occurred: out of memory");
    return LB_ENOMEM;
  }
  if (o->pod) {
    lb__sim_pod_defaults(j);
    const char *nn = lb__sim_str(lb__sim_member(o->j, "spec"), "nodeName");
    if (nn)
      lb__sim_set_str(lb__sim_ensure_obj(j, "spec"), "nodeName", nn);
  }
  json_object *fields = lb__sim_fields_main(j);
  return update(s, o, j, 0, manager, fields, 1, r);
}

static int op_delete(struct lb_sim *s, struct obj *o, const char *uid_pre,
                     const char *rv_pre, struct wres *r) {
  if (uid_pre && *uid_pre && strcmp(uid_pre, o->uid)) {
    conflict_uid(r, o, uid_pre);
    return r->err;
  }
  const char *cur_rv =
      lb__sim_str(lb__sim_member(o->j, "metadata"), "resourceVersion");
  if (rv_pre && *rv_pre && (!cur_rv || strcmp(rv_pre, cur_rv))) {
    conflict_rv(r, o, rv_pre);
    return r->err;
  }
  if (o->terminating)
    return ok_body(r, 200, o);
  int graceful = o->pod && (o->pod->st >= POD_SCHEDULED);
  if (!graceful && !has_finalizers(o))
    return obj_remove(s, o, r);
  json_object *meta = lb__sim_ensure_obj(o->j, "metadata");
  int64_t grace = 0;
  if (graceful) {
    json_object *g = lb__sim_member(lb__sim_member(o->j, "spec"),
                                    "terminationGracePeriodSeconds");
    grace = g ? json_object_get_int64(g) : 30;
    if (grace < 0)
      grace = 0;
  }
  lb__sim_set_time(meta, "deletionTimestamp", s->now + grace * 1000);
  json_object_object_add(meta, "deletionGracePeriodSeconds",
                         json_object_new_int64(grace));
  o->terminating = 1;
  o->grace_done = !graceful;
  int rc = lb__sim_commit(s, o, LB_EV_MODIFIED);
  if (!rc)
    rc = ok_body(r, 200, o);
  if (graceful &&
      !lb__sim_timer(s, o, T_GONE, lb__sim_draw(s, s->o.terminate_ms)) && !rc)
    rc = LB_ENOMEM;
  return rc;
}

/* ------------------------------------------------------------------ */
/* Lifecycle                                                          */

void lb_sim_opts_init(struct lb_sim_opts *o) {
  *o = (struct lb_sim_opts){0};
  o->seed = 1;
  o->start_ms = 1767225600000; /* 2026-01-01T00:00:00Z */
  o->nodes = 3;
  o->schedule_ms[0] = 10;
  o->schedule_ms[1] = 100;
  o->start_ms_[0] = 500;
  o->start_ms_[1] = 2000;
  o->ready_ms[0] = 1000;
  o->ready_ms[1] = 3000;
  o->restart_ms[0] = 500;
  o->restart_ms[1] = 1500;
  o->terminate_ms[0] = 500;
  o->terminate_ms[1] = 2000;
  o->action_ms = 5;
  o->watch_window = 4096;
  o->create_nodes = 1;
}

static int submit(struct lb_actuator *self, const struct lb_action *a);

static int create_node(struct lb_sim *s, int i) {
  char buf[1024];
  snprintf(buf, sizeof buf,
           "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":"
           "\"sim-node-%d\",\"labels\":{\"beta.kubernetes.io/arch\":\"amd64\","
           "\"beta.kubernetes.io/os\":\"linux\",\"kubernetes.io/arch\":"
           "\"amd64\",\"kubernetes.io/hostname\":\"sim-node-%d\","
           "\"kubernetes.io/os\":\"linux\"}},\"spec\":{\"podCIDR\":"
           "\"10.244.%d.0/24\"},\"status\":{\"capacity\":{\"cpu\":\"8\","
           "\"memory\":\"32Gi\",\"pods\":\"110\"},\"allocatable\":{\"cpu\":"
           "\"8\",\"memory\":\"32Gi\",\"pods\":\"110\"},\"conditions\":[{"
           "\"type\":\"Ready\",\"status\":\"True\",\"reason\":"
           "\"KubeletReady\",\"message\":\"kubelet is posting ready "
           "status\"}],\"addresses\":[{\"type\":\"InternalIP\",\"address\":"
           "\"10.0.0.%d\"},{\"type\":\"Hostname\",\"address\":"
           "\"sim-node-%d\"}],\"nodeInfo\":{\"kubeletVersion\":"
           "\"v1.30.0-sim\",\"containerRuntimeVersion\":"
           "\"containerd://1.7.0\",\"operatingSystem\":\"linux\","
           "\"architecture\":\"amd64\"}}}",
           i, i, i, 10 + i, i);
  json_object *j = json_tokener_parse(buf);
  struct wres r = {0};
  if (!j)
    return LB_ENOMEM;
  int rc = op_create(s, j, "", "", LB__SIM_MGR_KUBELET, 1, &r);
  wres_release(&r);
  return rc;
}

int lb_sim_new(const struct lb_sim_opts *o, struct lb_sim **out) {
  struct lb_sim *s;
  int rc = LB_ENOMEM;
  *out = NULL;
  if (!o || o->nodes < 0 || o->nodes > 250)
    return LB_EINVAL;
  s = calloc(1, sizeof *s);
  if (!s)
    return LB_ENOMEM;
  s->o = *o;
  s->rng = o->seed;
  s->now = o->start_ms;
  s->ring_cap = o->watch_window > 0 ? (size_t)o->watch_window : 1;
  s->ring = calloc(s->ring_cap, sizeof *s->ring);
  s->node_load = calloc((size_t)o->nodes + 1, sizeof *s->node_load);
  s->node_ipseq = calloc((size_t)o->nodes + 1, sizeof *s->node_ipseq);
  if (!s->ring || !s->node_load || !s->node_ipseq)
    goto fail_free;
  s->act.name = "sim";
  s->act.submit = submit;
  for (int i = 0; o->create_nodes && i < o->nodes; i++)
    if ((rc = create_node(s, i)) != 0)
      goto fail_free;
  *out = s;
  return 0;
fail_free:
  lb_sim_free(s);
  return rc;
}

void lb_sim_free(struct lb_sim *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->n_objs; i++)
    obj_free(s->objs[i]);
  free(s->objs);
  for (size_t i = 0; i < s->n_heap; i++)
    timer_free(s->heap[i]);
  free(s->heap);
  for (size_t i = 0; i < s->ring_n; i++)
    free(s->ring[(s->ring_head + i) % s->ring_cap].body);
  free(s->ring);
  free(s->node_load);
  free(s->node_ipseq);
  free(s->faults);
  for (size_t i = 0; i < s->n_eff; i++)
    free(s->eff[i].key);
  free(s->eff);
  for (size_t i = 0; i < s->n_owned; i++)
    free(s->owned[i].key);
  free(s->owned);
  free(s);
}

int64_t lb_sim_now(const struct lb_sim *s) { return s->now; }

int64_t lb_sim_next_due(const struct lb_sim *s) {
  return s->n_heap ? s->heap[0]->due : INT64_MAX;
}

/* ------------------------------------------------------------------ */
/* Actuator                                                           */

static struct lb_sim *sim_of(struct lb_actuator *a) {
  return (struct lb_sim *)(void *)((char *)a - offsetof(struct lb_sim, act));
}

static int submit(struct lb_actuator *self, const struct lb_action *a) {
  struct lb_sim *s = sim_of(self);
  struct timer *t = calloc(1, sizeof *t);
  if (!t)
    return LB_ENOMEM;
  if (lb_action_copy(&t->act, a) != 0) {
    free(t);
    return LB_ENOMEM;
  }
  t->kind = T_ACTION;
  t->due = s->now + (s->o.action_ms > 0 ? s->o.action_ms : 0);
  t->seq = ++s->tseq;
  s->n_submitted++;
  for (size_t i = 0; i < s->n_faults; i++)
    if (s->faults[i].nth == s->n_submitted) {
      t->fault = s->faults[i].status;
      s->faults[i] = s->faults[--s->n_faults];
      break;
    }
  if (heap_push(s, t) != 0) {
    s->n_submitted--;
    timer_free(t);
    return LB_ENOMEM;
  }
  return 0;
}

struct lb_actuator *lb_sim_actuator(struct lb_sim *s) {
  return &s->act;
}

void lb_sim_fault_action(struct lb_sim *s, int64_t nth, int status) {
  if (nth < 1)
    return;
  if (lb_reserve(&s->faults, &s->cap_faults, s->n_faults + 1, sizeof *s->faults,
                 8))
    return;
  s->faults[s->n_faults++] = (struct fault){s->n_submitted + nth, status};
}

static void fault_answer(const struct lb_action *a, int status,
                         struct wres *r) {
  const char *reason = "InternalError";
  const char *msg = "Internal error occurred: injected fault";
  switch (status) {
  case 400:
    reason = "BadRequest";
    msg = "injected fault: bad request";
    break;
  case 404:
    reason = "NotFound";
    msg = "injected fault: not found";
    break;
  case 409:
    reason = "Conflict";
    msg = "Operation cannot be fulfilled: injected conflict";
    break;
  case 410:
    reason = "Expired";
    msg = "injected fault: gone";
    break;
  case 422:
    reason = "Invalid";
    msg = "injected fault: invalid";
    break;
  case 429:
    reason = "TooManyRequests";
    msg = "Too many requests, please try again later. (injected)";
    break;
  case 503:
    reason = "ServiceUnavailable";
    msg = "injected fault";
    break;
  default:
    break;
  }
  if (status == 0) { /* transport failure: no answer at all */
    r->code = 0;
    return;
  }
  fail(r, status, LB_EFAULT, reason, NULL, a->api_group, a->kind, a->name, "%s",
       msg);
}

static void run_action(struct lb_sim *s, struct timer *t) {
  const struct lb_action *a = &t->act;
  struct wres r = {0};
  int no_op = 0; /* a repeated delete of a terminating object changes nothing */
  if (t->fault) {
    fault_answer(a, t->fault, &r);
  } else if (a->verb == LB_VERB_CREATE) {
    char *pmsg = NULL;
    int prc = 0;
    json_object *j =
        a->body ? lb__sim_parse(a->body, "the create body", &pmsg, &prc) : NULL;
    if (!j)
      fail(&r, 400, a->body ? prc : LB_EINVAL, "BadRequest", NULL, a->api_group,
           a->kind, a->name, "%s", pmsg ? pmsg : "the create body is missing");
    free(pmsg);
    if (j)
      op_create(s, j, a->ns, a->name, MGR_ACT, 0, &r);
  } else if (a->verb == LB_VERB_PATCH || a->verb == LB_VERB_SPATCH ||
             a->verb == LB_VERB_JPATCH || a->verb == LB_VERB_DELETE) {
    struct obj *o =
        find(s, a->api_group ? a->api_group : "", a->kind, a->ns, a->name);
    if (!o)
      not_found(&r, a->api_group, a->kind, a->name);
    else if (a->verb != LB_VERB_DELETE)
      op_patch(s, o, a->sub, a->body, a->uid, MGR_ACT,
               a->verb == LB_VERB_SPATCH   ? PATCH_STRATEGIC
               : a->verb == LB_VERB_JPATCH ? PATCH_JSON
                                           : PATCH_MERGE,
               &r);
    else {
      /* DeleteOptions in the body may carry preconditions of their own */
      json_object *opts = a->body ? json_tokener_parse(a->body) : NULL;
      json_object *pre = lb__sim_member(opts, "preconditions");
      const char *uid = a->uid && *a->uid ? a->uid : lb__sim_str(pre, "uid");
      no_op = o->terminating;
      op_delete(s, o, uid, lb__sim_str(pre, "resourceVersion"), &r);
      json_object_put(opts);
    }
  } else {
    fail(&r, 400, LB_EINVAL, "BadRequest", NULL, a->api_group, a->kind, a->name,
         "unknown verb %d", a->verb);
  }
  if (r.code >= 200 && r.code < 300 && !no_op)
    count_effect(s, a->verb, a->kind ? a->kind : "", a->ns ? a->ns : "",
                 a->name ? a->name : "");
  struct lb_outcome out = {a->id, r.code, r.body, r.len, s->now};
  r.body = NULL;
  if (s->act.on_outcome)
    s->act.on_outcome(s->act.ctx, a, &out);
  else
    free(out.body);
  wres_release(&r);
}

static void run_timer(struct lb_sim *s, struct timer *t) {
  if (t->kind == T_ACTION) {
    run_action(s, t);
    return;
  }
  struct obj *o = find_key(s, t->key);
  if (!o || strcmp(o->uid, t->uid))
    return; /* gone or replaced since the timer was set */
  if (t->kind == T_GONE) {
    lb__sim_kubelet_gone(s, o);
    return;
  }
  if (!o->pod)
    return;
  switch (t->kind) {
  case T_SCHEDULE:
    lb__sim_kubelet_schedule(s, o);
    break;
  case T_START:
    lb__sim_kubelet_start(s, o);
    break;
  case T_CREADY:
    lb__sim_kubelet_cready(s, o, t->seq);
    break;
  case T_RESTART:
    lb__sim_kubelet_restart(s, o, t->seq);
    break;
  default:
    (void)LB_NEVER(1);
    break;
  }
}

void lb_sim_advance(struct lb_sim *s, int64_t to_ms) {
  while (s->n_heap && s->heap[0]->due <= to_ms) {
    struct timer *t = heap_pop(s);
    if (t->due > s->now)
      s->now = t->due;
    run_timer(s, t);
    timer_free(t);
  }
  if (to_ms > s->now)
    s->now = to_ms;
}

/* ------------------------------------------------------------------ */
/* User-side operations                                               */

static int user_result(struct wres *r, char **err) {
  int rc = (r->code >= 200 && r->code < 300) ? 0 : (r->err ? r->err : LB_EIO);
  if (err)
    *err = rc && r->msg ? lb_strdup(r->msg) : NULL;
  wres_release(r);
  return rc;
}

int lb_sim_apply(struct lb_sim *s, const char *manifest, char **err) {
  struct wres r = {0};
  char *group = NULL, *msg = NULL;
  const char *kind, *ns, *name;
  int prc;
  if (err)
    *err = NULL;
  if (!manifest) {
    if (err)
      *err = lb_strdup("no manifest given");
    return LB_EINVAL;
  }
  json_object *j = lb__sim_parse(manifest, "manifest", &msg, &prc);
  if (!j) {
    if (err)
      *err = msg;
    else
      free(msg);
    return prc;
  }
  if (identity(j, "", "", &group, &kind, &ns, &name, &r)) {
    json_object_put(j);
    return user_result(&r, err);
  }
  if (!name || !*name) {
    json_object_put(j);
    free(group);
    if (err)
      *err = lb_strdup("manifest has no metadata.name (a non-empty string "
                       "is required)");
    return LB_EINVAL;
  }
  struct obj *o = find(s, group, kind, ns, name);
  free(group);
  if (o) {
    json_object *meta = lb__sim_member(j, "metadata");
    if (*o->ns)
      lb__sim_set_str(meta, "namespace", o->ns);
    op_replace(s, o, j, MGR_USER, &r);
  } else {
    op_create(s, j, "", "", MGR_USER, 1, &r);
  }
  return user_result(&r, err);
}

int lb_sim_patch(struct lb_sim *s, const char *group, const char *kind,
                 const char *ns, const char *name, const char *sub,
                 const char *merge_patch, char **err) {
  struct wres r = {0};
  if (err)
    *err = NULL;
  struct obj *o = find(s, group, kind, ns, name);
  if (!o)
    not_found(&r, group, kind, name);
  else
    op_patch(s, o, sub, merge_patch, NULL, MGR_PATCH, PATCH_MERGE, &r);
  return user_result(&r, err);
}

int lb_sim_delete(struct lb_sim *s, const char *group, const char *kind,
                  const char *ns, const char *name, char **err) {
  struct wres r = {0};
  if (err)
    *err = NULL;
  struct obj *o = find(s, group, kind, ns, name);
  if (!o)
    not_found(&r, group, kind, name);
  else
    op_delete(s, o, NULL, NULL, &r);
  return user_result(&r, err);
}

/* ------------------------------------------------------------------ */
/* Watch and list                                                     */

static int parse_rv(const char *rv, int64_t *out) {
  if (!rv[0]) {
    *out = -1;
    return 0;
  }
  int64_t v = 0;
  for (const char *p = rv; *p; p++) {
    if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10)
      return LB_EINVAL;
    v = v * 10 + (*p - '0');
  }
  *out = v == 0 ? -1 : v;
  return 0;
}

static int write_rv(char *rv, size_t rv_size, int64_t v) {
  int n = snprintf(rv, rv_size, "%lld", (long long)v);
  return (n < 0 || (size_t)n >= rv_size) ? LB_ERANGE : 0;
}

int lb_sim_watch(struct lb_sim *s, char *rv, size_t rv_size, lb_sim_event_cb cb,
                 void *ctx) {
  int64_t c;
  if (!rv || !rv_size || !memchr(rv, '\0', rv_size))
    return LB_EINVAL;
  if (parse_rv(rv, &c))
    return LB_EINVAL;
  if (c >= 0 && c < s->gone_rv)
    return LB_EGONE;
  if (c < 0)
    c = s->ring_n ? s->ring[s->ring_head].rv - 1 : s->rv;
  while (c < s->rv) {
    /* the ring holds consecutive resourceVersions */
    if (!s->ring_n || s->ring[s->ring_head].rv > c + 1)
      return LB_EGONE; /* dropped while delivering */
    size_t idx = (size_t)(c + 1 - s->ring[s->ring_head].rv);
    if (LB_NEVER(idx >= s->ring_n))
      break;
    const struct wev *e = &s->ring[(s->ring_head + idx) % s->ring_cap];
    char *body = lb_strndup(e->body, e->len);
    if (!body)
      return LB_ENOMEM;
    c = e->rv;
    if (write_rv(rv, rv_size, c))
      return LB_ERANGE;
    cb(ctx, e->type, body, e->len, e->at_ms);
  }
  return write_rv(rv, rv_size, c);
}

int lb_sim_list(struct lb_sim *s, char *rv, size_t rv_size, lb_sim_event_cb cb,
                void *ctx) {
  if (!rv || !rv_size)
    return LB_EINVAL;
  if (write_rv(rv, rv_size, s->rv))
    return LB_ERANGE;
  for (size_t i = 0; i < s->n_objs; i++) {
    const struct obj *o = s->objs[i];
    char *body = lb_strndup(o->json, o->json_len);
    if (!body)
      return LB_ENOMEM;
    cb(ctx, LB_EV_LISTED, body, o->json_len, s->now);
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Counters and inspection                                            */

int lb_sim_effects(const struct lb_sim *s, const char *verb, const char *kind,
                   const char *ns, const char *name) {
  struct lb_buf b = LB_BUF_INIT;
  int64_t n = 0;
  lb_buf_addf(&b, "%s\x1f%s\x1f%s\x1f%s", verb, kind, ns ? ns : "", name);
  if (!b.err) {
    size_t lo = 0, hi = s->n_eff;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      int c = strcmp(s->eff[mid].key, b.p);
      if (c == 0) {
        n = s->eff[mid].n;
        break;
      }
      if (c < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  }
  lb_buf_release(&b);
  return (int)n;
}

int64_t lb_sim_total(const struct lb_sim *s, const char *verb) {
  int v = lb_verb_parse(verb);
  return v > 0 && v < (int)LB_ARRAY_SIZE(s->totals) ? s->totals[v] : 0;
}

static int cond_true(json_object *j, const char *type) {
  json_object *conds =
      lb__sim_member(lb__sim_member(j, "status"), "conditions");
  size_t n = json_object_is_type(conds, json_type_array)
                 ? json_object_array_length(conds)
                 : 0;
  for (size_t i = 0; i < n; i++) {
    json_object *c = json_object_array_get_idx(conds, i);
    const char *t = lb__sim_str(c, "type"), *st = lb__sim_str(c, "status");
    if (t && st && !strcmp(t, type))
      return !strcmp(st, "True");
  }
  return 0;
}

int lb_sim_count_pods(const struct lb_sim *s, const char *ns, int *ready,
                      const char *label_key, const char *label_value,
                      int *with_label) {
  int n = 0, nr = 0, nl = 0;
  for (size_t i = 0; i < s->n_objs; i++) {
    const struct obj *o = s->objs[i];
    if (!o->pod || o->terminating || (ns && strcmp(o->ns, ns)))
      continue;
    n++;
    if (cond_true(o->j, "Ready"))
      nr++;
    if (label_key) {
      const char *v = lb__sim_str(
          lb__sim_member(lb__sim_member(o->j, "metadata"), "labels"),
          label_key);
      if (v && (!label_value || !strcmp(v, label_value)))
        nl++;
    }
  }
  if (ready)
    *ready = nr;
  if (with_label)
    *with_label = nl;
  return n;
}

char *lb_sim_get(const struct lb_sim *s, const char *group, const char *kind,
                 const char *ns, const char *name) {
  const struct obj *o = find(s, group, kind, ns, name);
  return o ? lb_strndup(o->json, o->json_len) : NULL;
}
