/* engine.c — state fold, dirty tracking, reducer dispatch, decisions,
 * in-flight actions, digest and snapshots. See engine.h for the contract. */
#include "engine.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "admission.h"
#include "cloneset.h"
#include "err.h"
#include "map.h"
#include "obj.h"
#include "reducer.h"

#define TOMBSTONES 4096 /* deleted uids remembered (FIFO) */

enum { CLS_POD = 0, CLS_STATUS, CLS_REV };

struct inflight {
  int64_t id;
  int verb, cls;
  char *kind, *ns, *name; /* target */
  char *owner_key;        /* the object whose reducer decided it */
};

struct lb_engine {
  struct lb_engine_opts opts;
  struct lb_map objs;       /* "Kind/ns/name" -> struct lb_obj * */
  struct lb_map owners;     /* CloneSet uid -> struct lb_cloneset * */
  struct lb_map reconciled; /* key -> object of a kind with a reducer (its
                               struct lb_owner: timers, in-flight counts) */
  struct lb_map workloads;  /* uid -> workload object (CloneSet, Deployment,
                               ReplicaSet, StatefulSets, UnitedDeployment) */
  struct lb_map pubs;       /* key -> struct lb_pub * */
  struct lb_map inflight;   /* decimal id -> struct inflight * */
  struct lb_map tomb_set;   /* uid -> (void *)1 */
  char *tomb[TOMBSTONES];   /* FIFO ring of uids */
  size_t tomb_head, tomb_n;
  struct lb_map dirty; /* keys to reconcile after this event */
  int64_t last_seq, dseq, action_seq;
  uint64_t chain;
};

static void key_of(char *out, size_t n, const char *kind, const char *ns,
                   const char *name) {
  snprintf(out, n, "%s/%s/%s", kind, ns ? ns : "", name ? name : "");
}
#define KEYLEN 800

static int check_all; /* lb_engine_check_all(): a debugging switch */

void lb_engine_check_all(int on) { check_all = on; }

int lb_engine_new(const struct lb_engine_opts *opts, struct lb_engine **out) {
  struct lb_engine *e = calloc(1, sizeof *e);
  struct lb_engine_opts dflt = LB_ENGINE_OPTS_INIT;
  if (!e)
    return LB_ENOMEM;
  e->opts = opts ? *opts : dflt;
  e->opts.check_aggregates |= check_all;
  lb_map_init(&e->objs);
  lb_map_init(&e->owners);
  lb_map_init(&e->reconciled);
  lb_map_init(&e->workloads);
  lb_map_init(&e->pubs);
  lb_map_init(&e->inflight);
  lb_map_init(&e->tomb_set);
  lb_map_init(&e->dirty);
  *out = e;
  return 0;
}

static void inflight_free(struct inflight *f) {
  if (!f)
    return;
  free(f->kind);
  free(f->ns);
  free(f->name);
  free(f->owner_key);
  free(f);
}

void lb_engine_free(struct lb_engine *e) {
  size_t i = 0;
  void *v;
  if (!e)
    return;
  while (lb_map_next(&e->objs, &i, NULL, &v))
    lb_obj_free(v);
  i = 0;
  while (lb_map_next(&e->inflight, &i, NULL, &v))
    inflight_free(v);
  for (size_t t = 0; t < e->tomb_n; t++)
    free(e->tomb[(e->tomb_head + t) % TOMBSTONES]);
  lb_map_release(&e->objs);
  lb_map_release(&e->owners);
  lb_map_release(&e->reconciled);
  lb_map_release(&e->workloads);
  lb_map_release(&e->pubs);
  lb_map_release(&e->inflight);
  lb_map_release(&e->tomb_set);
  lb_map_release(&e->dirty);
  free(e);
}

/* --- helpers ------------------------------------------------------------ */
static int mark_dirty(struct lb_engine *e, const char *key) {
  return lb_map_put(&e->dirty, key, (void *)1, NULL);
}

static int mark_obj(struct lb_engine *e, const struct lb_obj *o) {
  char key[KEYLEN];
  key_of(key, sizeof key, lb_kind_name(o->kind), o->ns, o->name);
  return mark_dirty(e, key);
}

static int is_workload(int kind) {
  return kind == LB_KIND_CLONESET || kind == LB_KIND_DEPLOY ||
         kind == LB_KIND_RS || kind == LB_KIND_STS || kind == LB_KIND_ASTS ||
         kind == LB_KIND_UD;
}

/* A pod or workload changed in ns: every PUB there may count it (marking
 * is order-independent, so the hash-order walk is fine). */
static int mark_pubs(struct lb_engine *e, const char *ns) {
  size_t i = 0;
  const char *k;
  void *v;
  int rc = 0;
  if (!e->pubs.n)
    return 0;
  while (!rc && lb_map_next(&e->pubs, &i, &k, &v))
    if (!strcmp(((struct lb_obj *)v)->ns, ns))
      rc = mark_dirty(e, k);
  return rc;
}

/* Index maps beside objs: reconciled kinds, workloads by uid, PUBs. */
static int index_add(struct lb_engine *e, const char *key, struct lb_obj *o) {
  int rc = 0;
  if (lb_obj_owner(o))
    rc = lb_map_put(&e->reconciled, key, o, NULL);
  if (!rc && is_workload(o->kind) && *o->uid)
    rc = lb_map_put(&e->workloads, o->uid, o, NULL);
  if (!rc && o->kind == LB_KIND_PUB)
    rc = lb_map_put(&e->pubs, key, o, NULL);
  return rc;
}
static void index_del(struct lb_engine *e, const char *key, struct lb_obj *o) {
  if (lb_map_get(&e->reconciled, key) == o)
    lb_map_del(&e->reconciled, key);
  if (*o->uid && lb_map_get(&e->workloads, o->uid) == o)
    lb_map_del(&e->workloads, o->uid);
  if (lb_map_get(&e->pubs, key) == o)
    lb_map_del(&e->pubs, key);
}

/* The PUB ledger survives updates of the object: the engine's records
 * (pub.h) merged with what the apiserver now holds; a pod recorded twice
 * keeps the later time. */
static int merge_ledger(char **into, const char *from) {
  LB_KV_FOR(from, k, v) {
    const char *have = lb_kv_get(*into, k);
    if ((!have || strtoll(have, NULL, 10) < strtoll(v, NULL, 10)) &&
        lb_kv_set(into, k, v))
      return LB_ENOMEM;
  }
  return 0;
}

static int tombstone(struct lb_engine *e, const char *uid) {
  char *u;
  if (!uid || !*uid || lb_map_get(&e->tomb_set, uid))
    return 0;
  if (!(u = lb_strdup(uid)))
    return LB_ENOMEM;
  if (e->tomb_n == TOMBSTONES) {
    char *old = e->tomb[e->tomb_head];
    lb_map_del(&e->tomb_set, old);
    free(old);
    e->tomb_head = (e->tomb_head + 1) % TOMBSTONES;
    e->tomb_n--;
  }
  e->tomb[(e->tomb_head + e->tomb_n) % TOMBSTONES] = u;
  e->tomb_n++;
  return lb_map_put(&e->tomb_set, u, (void *)1, NULL);
}

/* resourceVersions are opaque, but every apiserver we talk to uses
 * decimal etcd revisions; compare only when both are numbers. */
static int rv_older(const char *a, const char *b) {
  char *ea, *eb;
  unsigned long long x, y;
  if (!a || !b || !*a || !*b)
    return 0;
  x = strtoull(a, &ea, 10);
  y = strtoull(b, &eb, 10);
  return !*ea && !*eb && x < y;
}

/* Ownership index: a CloneSet keeps its pods in c->pods (sorted by name)
 * and its other owned objects (ControllerRevisions, PVCs) in c->owned (a
 * set: every use sorts); each object remembers its slot. */
/* Pods are kept sorted by name (insertion by binary search), so every
 * reconcile walks them in a deterministic order without sorting; other
 * owned objects are an unordered set. */
static size_t pod_slot(const struct lb_cloneset *c, const char *name) {
  size_t lo = 0, hi = c->n_pods;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(c->pods[mid]->o.name, name) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static int cs_link(struct lb_cloneset *c, struct lb_obj *o) {
  if (o->kind == LB_KIND_POD) {
    if (lb_reserve(&c->pods, &c->cap_pods, c->n_pods + 1, sizeof *c->pods, 16))
      return LB_ENOMEM;
    size_t at = pod_slot(c, o->name);
    memmove(&c->pods[at + 1], &c->pods[at], (c->n_pods - at) * sizeof *c->pods);
    c->pods[at] = (struct lb_pod *)o;
    c->n_pods++;
    lb__cs_agg_pod_add(c, (struct lb_pod *)o);
    /* invariant: strictly increasing names (checked at the neighbours) */
    if (LB_NEVER((at > 0 && strcmp(c->pods[at - 1]->o.name, o->name) >= 0) ||
                 (at + 1 < c->n_pods &&
                  strcmp(o->name, c->pods[at + 1]->o.name) >= 0)))
      return LB_EINVAL;
    for (size_t i = at; i < c->n_pods; i++)
      c->pods[i]->o.owner_idx = i;
  } else {
    if (lb_reserve(&c->owned, &c->cap_owned, c->n_owned + 1, sizeof *c->owned,
                   16))
      return LB_ENOMEM;
    o->owner_idx = c->n_owned;
    c->owned[c->n_owned++] = o;
  }
  o->owner = c;
  return 0;
}

static void cs_unlink(struct lb_obj *o) {
  struct lb_cloneset *c = o->owner;
  if (!c)
    return;
  if (o->kind == LB_KIND_POD) {
    size_t at = o->owner_idx;
    lb__cs_agg_pod_del(c, (struct lb_pod *)o);
    c->n_pods--;
    memmove(&c->pods[at], &c->pods[at + 1], (c->n_pods - at) * sizeof *c->pods);
    for (size_t i = at; i < c->n_pods; i++)
      c->pods[i]->o.owner_idx = i;
  } else {
    struct lb_obj *last = c->owned[--c->n_owned];
    c->owned[o->owner_idx] = last;
    last->owner_idx = o->owner_idx;
  }
  o->owner = NULL;
}

/* Moves old's slot to o (same owner), so the arrays never reallocate on
 * the hot path of an update. */
static void cs_replace(struct lb_obj *old, struct lb_obj *o) {
  struct lb_cloneset *c = old->owner;
  o->owner = c;
  o->owner_idx = old->owner_idx;
  if (o->kind == LB_KIND_POD) {
    lb__cs_agg_pod_del(c, (struct lb_pod *)old);
    c->pods[o->owner_idx] = (struct lb_pod *)o;
    lb__cs_agg_pod_add(c, (struct lb_pod *)o);
  } else
    c->owned[o->owner_idx] = o;
  old->owner = NULL;
}

static void unlink_obj(struct lb_engine *e, struct lb_obj *o) {
  if (o->kind == LB_KIND_CLONESET) {
    struct lb_cloneset *c = (struct lb_cloneset *)o;
    lb__cs_agg_free(c->agg); /* nothing left to count */
    c->agg = NULL;
    while (c->n_pods)
      cs_unlink(&c->pods[c->n_pods - 1]->o);
    while (c->n_owned)
      cs_unlink(c->owned[c->n_owned - 1]);
    if (lb_map_get(&e->owners, o->uid) == c)
      lb_map_del(&e->owners, o->uid);
    return;
  }
  if (o->owner)
    mark_obj(e, &o->owner->o);
  cs_unlink(o);
}

static int remove_key(struct lb_engine *e, const char *key) {
  struct lb_obj *o = lb_map_del(&e->objs, key);
  int rc;
  if (!o)
    return 0;
  unlink_obj(e, o);
  index_del(e, key, o);
  rc = o->kind == LB_KIND_POD || is_workload(o->kind) ? mark_pubs(e, o->ns) : 0;
  if (!rc)
    rc = tombstone(e, o->uid);
  lb_obj_free(o);
  return rc;
}

/* keep gets fresh's decoded fields and keeps its engine bookkeeping;
 * fresh gets keep's old decoded fields and no bookkeeping (free it). */
static void cs_take_fields(struct lb_cloneset *keep,
                           struct lb_cloneset *fresh) {
  struct lb_cloneset t = *fresh;
  t.o.owner = keep->o.owner;
  t.o.owner_idx = keep->o.owner_idx;
  t.pods = keep->pods;
  t.n_pods = keep->n_pods;
  t.cap_pods = keep->cap_pods;
  t.owned = keep->owned;
  t.n_owned = keep->n_owned;
  t.cap_owned = keep->cap_owned;
  t.agg = keep->agg; /* the reconcile checks what it was built for */
  t.own = keep->own; /* in-flight counts, wakeup, last reason */
  if (!t.rev_data_memo && keep->rev_data_memo && t.template_json &&
      keep->template_json && !strcmp(t.template_json, keep->template_json)) {
    t.rev_data_memo = keep->rev_data_memo; /* a function of the template */
    keep->rev_data_memo = NULL;
  }
  *fresh = *keep;
  fresh->pods = NULL;
  fresh->owned = NULL;
  fresh->agg = NULL;
  fresh->n_pods = fresh->cap_pods = fresh->n_owned = fresh->cap_owned = 0;
  *keep = t;
}

/* Takes ownership of o. */
static int upsert(struct lb_engine *e, struct lb_obj *o) {
  char key[KEYLEN];
  struct lb_obj *old;
  int rc;
  key_of(key, sizeof key, lb_kind_name(o->kind), o->ns, o->name);
  if (*o->uid && lb_map_get(&e->tomb_set, o->uid)) {
    lb_obj_free(o); /* a late event about a deleted object */
    return 0;
  }
  old = lb_map_get(&e->objs, key);
  if (old && !strcmp(old->uid, o->uid) && rv_older(o->rv, old->rv)) {
    lb_obj_free(o); /* stale: we already saw a newer version */
    return 0;
  }
  if (old && strcmp(old->uid, o->uid)) { /* same name, new object */
    if ((rc = remove_key(e, key)))
      goto fail;
    old = NULL;
  }
  if (old && o->kind == LB_KIND_CLONESET) {
    /* A newer version of a known CloneSet (every status write comes back
     * as one): its decoded fields move into the struct the pods, the
     * indexes and the in-flight bookkeeping already point to, instead of
     * re-pointing every pod at a new struct (O(pods) per event). */
    cs_take_fields((struct lb_cloneset *)old, (struct lb_cloneset *)o);
    lb_obj_free(o); /* now holds the previous decoded fields */
    rc = mark_pubs(e, old->ns);
    return rc ? rc : mark_obj(e, old);
  }
  if ((rc = lb_map_put(&e->objs, key, o, NULL)))
    goto fail;
  if (old)
    index_del(e, key, old);
  if ((rc = index_add(e, key, o)))
    goto fail_unmap;
  if ((o->kind == LB_KIND_POD || is_workload(o->kind)) &&
      (rc = mark_pubs(e, o->ns)))
    goto fail_unmap;
  if (o->kind == LB_KIND_PUB) {
    struct lb_pub *p = (struct lb_pub *)o, *op = (struct lb_pub *)old;
    if (op) { /* keep the engine's bookkeeping and ledger */
      p->own = op->own;
      if ((rc = merge_ledger(&p->led_disrupted, op->led_disrupted)) ||
          (rc = merge_ledger(&p->led_unavailable, op->led_unavailable)))
        goto fail_unmap;
    }
    rc = mark_obj(e, o);
  } else if (o->kind == LB_KIND_CLONESET) {
    struct lb_cloneset *c = (struct lb_cloneset *)o,
                       *oc = (struct lb_cloneset *)old;
    if (oc) { /* keep the engine's bookkeeping */
      c->pods = oc->pods;
      c->n_pods = oc->n_pods;
      c->cap_pods = oc->cap_pods;
      c->owned = oc->owned;
      c->n_owned = oc->n_owned;
      c->cap_owned = oc->cap_owned;
      c->agg = oc->agg; /* the reconcile checks what it was built for */
      oc->pods = NULL;
      oc->owned = NULL;
      oc->agg = NULL;
      oc->n_pods = oc->cap_pods = oc->n_owned = oc->cap_owned = 0;
      c->inflight_pods = oc->inflight_pods;
      c->inflight_status = oc->inflight_status;
      c->inflight_revs = oc->inflight_revs;
      c->wakeup_ms = oc->wakeup_ms;
      c->last_reason = oc->last_reason;
      for (size_t i = 0; i < c->n_pods; i++)
        c->pods[i]->o.owner = c;
      for (size_t i = 0; i < c->n_owned; i++)
        c->owned[i]->owner = c;
    } else {
      /* adopt objects seen before their owner (order-independent: the
       * arrays are sets; every use sorts them) */
      size_t i = 0;
      void *v;
      while (lb_map_next(&e->objs, &i, NULL, &v)) {
        struct lb_obj *po = v;
        if (po != o && po->owner_uid && !po->owner &&
            po->kind != LB_KIND_CLONESET && !strcmp(po->owner_uid, o->uid) &&
            (rc = cs_link(c, po)))
          goto fail_unmap;
      }
    }
    if (*o->uid && (rc = lb_map_put(&e->owners, o->uid, c, NULL)))
      goto fail_unmap;
    rc = mark_obj(e, o);
  } else {
    struct lb_cloneset *c =
        o->owner_uid ? lb_map_get(&e->owners, o->owner_uid) : NULL;
    if (old && old->owner && old->owner == c) {
      cs_replace(old, o);
    } else {
      if (old)
        unlink_obj(e, old);
      if (c && (rc = cs_link(c, o)))
        goto fail_unmap;
    }
    if (c)
      rc = mark_obj(e, &c->o);
  }
  lb_obj_free(old);
  return rc;
fail_unmap:
  index_del(e, key, o);
  if (old) {
    lb_map_put(&e->objs, key, old, NULL);
    index_add(e, key, old);
  } else {
    lb_map_del(&e->objs, key);
  }
fail:
  lb_obj_free(o);
  return rc;
}

/* LIST_END body: {"items":["ns/name",...]} — everything of that kind not
 * listed is gone. */
static int list_end(struct lb_engine *e, const struct lb_event *ev) {
  struct json_object *root = NULL, *items = NULL;
  struct lb_map seen;
  const char **keys;
  int kind = lb_kind_of(ev->api_group, ev->kind), rc = 0;
  if (!kind || !ev->body)
    return 0;
  root = json_tokener_parse(ev->body);
  if (!root || !json_object_object_get_ex(root, "items", &items) ||
      !json_object_is_type(items, json_type_array)) {
    json_object_put(root);
    return 0; /* malformed marker: journaled, ignored */
  }
  lb_map_init(&seen);
  for (size_t i = 0; i < json_object_array_length(items) && !rc; i++) {
    char key[KEYLEN];
    snprintf(key, sizeof key, "%s/%s", ev->kind,
             json_object_get_string(json_object_array_get_idx(items, i)));
    rc = lb_map_put(&seen, key, (void *)1, NULL);
  }
  keys = rc ? NULL : lb_map_sorted(&e->objs);
  if (!rc && !keys)
    rc = LB_ENOMEM;
  size_t kl = strlen(ev->kind);
  for (size_t i = 0; keys && keys[i] && !rc; i++) {
    if (!strncmp(keys[i], ev->kind, kl) && keys[i][kl] == '/' &&
        !lb_map_get(&seen, keys[i])) {
      char key[KEYLEN];
      lb_strlcpy(key, keys[i], sizeof key); /* keys[i] dies with the entry */
      rc = remove_key(e, key);
    }
  }
  free(keys);
  lb_map_release(&seen);
  json_object_put(root);
  return rc;
}

static int fold_outcome(struct lb_engine *e, struct lb_event *ev) {
  char id[32], key[KEYLEN];
  struct inflight *f;
  int rc = 0, ok = ev->http_status >= 200 && ev->http_status < 300;
  snprintf(id, sizeof id, "%lld", (long long)ev->action_id);
  f = lb_map_del(&e->inflight, id);
  if (!f)
    return 0; /* not ours any more (abandoned at restart): journaled only */
  struct lb_obj *owner = lb_map_get(&e->objs, f->owner_key);
  struct lb_owner *w = lb_obj_owner(owner);
  if (w) {
    int *cnt = f->cls == CLS_POD      ? &w->inflight_pods
               : f->cls == CLS_STATUS ? &w->inflight_status
                                      : &w->inflight_revs;
    if (LB_ALWAYS(*cnt > 0))
      (*cnt)--;
  }
  if (!ok && owner && owner->kind == LB_KIND_CLONESET)
    ((struct lb_cloneset *)owner)->failed_verb = f->verb;
  if (owner)
    rc = mark_dirty(e, f->owner_key);
  if (!rc && ok && ev->obj && f->verb == LB_VERB_DELETE &&
      !ev->obj->deleting_ms) {
    /* deleted at once (no grace, no finalizer): the body is its last state */
    key_of(key, sizeof key, f->kind, f->ns, f->name);
    rc = remove_key(e, key);
  } else if (!rc && ok && ev->obj) {
    struct lb_obj *o = ev->obj;
    ev->obj = NULL;
    rc = upsert(e, o);
  } else if (!rc && f->verb == LB_VERB_DELETE &&
             (ev->http_status == 404 || (ok && !ev->obj))) {
    key_of(key, sizeof key, f->kind, f->ns, f->name);
    rc = remove_key(e, key);
  }
  inflight_free(f);
  return rc;
}

static int fire_timers(struct lb_engine *e, int64_t now) {
  size_t i = 0;
  void *v;
  int rc = 0;
  while (!rc && lb_map_next(&e->reconciled, &i, NULL, &v)) {
    struct lb_owner *w = lb_obj_owner(v);
    if (w->wakeup_ms && w->wakeup_ms <= now)
      rc = mark_obj(e, v);
  }
  return rc;
}

static int fold(struct lb_engine *e, struct lb_event *ev) {
  char key[KEYLEN];
  int kind;
  switch (ev->source) {
  case LB_SRC_WATCH:
  case LB_SRC_LIST:
    if (ev->type == LB_EV_LIST_END)
      return list_end(e, ev);
    kind = lb_kind_of(ev->api_group, ev->kind);
    if (!kind)
      return 0;
    if (ev->type == LB_EV_DELETED) {
      key_of(key, sizeof key, ev->kind, ev->ns, ev->name);
      return remove_key(e, key);
    }
    if (ev->obj) {
      struct lb_obj *o = ev->obj;
      ev->obj = NULL;
      return upsert(e, o);
    }
    return 0;
  case LB_SRC_OUTCOME:
    return ev->type == LB_EV_OUTCOME ? fold_outcome(e, ev) : 0;
  case LB_SRC_TICK:
    return fire_timers(e, ev->at_ms);
  default:
    return 0;
  }
}

/* --- reducer context ---------------------------------------------------- */
struct lb_obj *lb_rctx_get(struct lb_rctx *c, int kind, const char *ns,
                           const char *name) {
  char key[KEYLEN];
  key_of(key, sizeof key, lb_kind_name(kind), ns, name);
  struct lb_obj *o = lb_map_get(&c->e->objs, key);
  return o && o->kind == kind ? o : NULL;
}

struct lb_action *lb_rctx_action(struct lb_rctx *c, int verb, int kind,
                                 const char *ns, const char *name,
                                 const char *sub, char *body) {
  struct lb_decision *d = c->d;
  struct lb_action *a, *na;
  na = realloc(d->actions, (d->n_actions + 1) * sizeof *na);
  if (!na) {
    free(body);
    return NULL;
  }
  d->actions = na;
  a = &d->actions[d->n_actions];
  memset(a, 0, sizeof *a);
  a->verb = verb;
  a->api_group = lb_strdup(lb_kind_group(kind));
  a->kind = lb_strdup(lb_kind_name(kind));
  a->ns = lb_strdup(ns ? ns : "");
  a->name = lb_strdup(name ? name : "");
  a->sub = lb_strdup(sub ? sub : "");
  a->uid = lb_strdup("");
  a->body = body;
  d->n_actions++;
  if (!a->api_group || !a->kind || !a->ns || !a->name || !a->sub || !a->uid)
    return NULL;
  return a;
}

void lb_rctx_reasonf(struct lb_rctx *c, const char *fmt, ...) {
  va_list ap;
  char tmp[1024];
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (c->reason.len)
    lb_buf_adds(&c->reason, "; ");
  lb_buf_adds(&c->reason, tmp);
}

static int cmp_obj_name(const void *a, const void *b) {
  const struct lb_obj *x = *(const struct lb_obj *const *)a,
                      *y = *(const struct lb_obj *const *)b;
  int c = strcmp(x->name, y->name);
  return c ? c : strcmp(x->ns, y->ns);
}

int lb_rctx_list(struct lb_rctx *c, int kind, const char *ns,
                 struct lb_obj ***out, size_t *n) {
  size_t i = 0, k = 0, cap = 16;
  void *v;
  struct lb_obj **arr = malloc(cap * sizeof *arr);
  /* PUBs have their own index: workloads ask on every pod they disrupt */
  const struct lb_map *m = kind == LB_KIND_PUB ? &c->e->pubs : &c->e->objs;
  if (!arr)
    return LB_ENOMEM;
  while (lb_map_next(m, &i, NULL, &v)) {
    struct lb_obj *o = v;
    if (o->kind != kind || (ns && strcmp(o->ns, ns)))
      continue;
    if (k + 1 >= cap) {
      struct lb_obj **na = realloc(arr, 2 * cap * sizeof *arr);
      if (!na) {
        free(arr);
        return LB_ENOMEM;
      }
      arr = na;
      cap *= 2;
    }
    arr[k++] = o;
  }
  qsort(arr, k, sizeof *arr, cmp_obj_name);
  *out = arr;
  *n = k;
  return 0;
}

struct lb_obj *lb_rctx_workload(struct lb_rctx *c, const char *uid) {
  return uid && *uid ? lb_map_get(&c->e->workloads, uid) : NULL;
}

int lb_rctx_mark(struct lb_rctx *c, const struct lb_obj *o) {
  return mark_obj(c->e, o);
}

void lb_rctx_init(struct lb_rctx *c, struct lb_engine *e,
                  const struct lb_event *ev, struct lb_decision *d) {
  memset(c, 0, sizeof *c);
  c->e = e;
  c->opts = &e->opts;
  c->ev = ev;
  c->now = ev->at_ms;
  c->d = d;
  lb_buf_init(&c->reason);
}

static int add_inflight(struct lb_engine *e, const struct lb_action *a,
                        const char *owner_key, struct lb_obj *owner) {
  char id[32];
  struct inflight *f = calloc(1, sizeof *f);
  if (!f)
    return LB_ENOMEM;
  f->id = a->id;
  f->verb = a->verb;
  f->cls = !strcmp(a->kind, "Pod")     ? CLS_POD
           : !strcmp(a->sub, "status") ? CLS_STATUS
                                       : CLS_REV;
  f->kind = lb_strdup(a->kind);
  f->ns = lb_strdup(a->ns);
  f->name = lb_strdup(a->name);
  f->owner_key = lb_strdup(owner_key);
  snprintf(id, sizeof id, "%lld", (long long)a->id);
  if (!f->kind || !f->ns || !f->name || !f->owner_key ||
      lb_map_put(&e->inflight, id, f, NULL)) {
    inflight_free(f);
    return LB_ENOMEM;
  }
  struct lb_owner *w = lb_obj_owner(owner);
  if (w) {
    int *cnt = f->cls == CLS_POD      ? &w->inflight_pods
               : f->cls == CLS_STATUS ? &w->inflight_status
                                      : &w->inflight_revs;
    (*cnt)++;
  }
  return 0;
}

static const struct lb_reducer *reducer_for(int kind) {
  for (size_t i = 0; i < lb_n_reducers; i++)
    if (lb_reducers[i].kind == kind)
      return &lb_reducers[i];
  return NULL;
}

/* Numbers, seals and chains d (identity and reason filled by the caller),
 * puts its actions in flight (all but RESPOND) and moves it to out. On
 * success d is emptied; on error the caller still owns it. */
int lb_engine_emit(struct lb_engine *e, const struct lb_event *ev,
                   struct lb_decision *d, const char *owner_key,
                   struct lb_obj *owner, struct lb_decisions *out) {
  int rc;
  d->seq = e->dseq + 1;
  d->event_seq = ev->seq;
  for (size_t i = 0; i < d->n_actions; i++)
    d->actions[i].id = e->action_seq + 1 + (int64_t)i;
  if ((rc = lb_decision_seal(d, e->chain)))
    return rc;
  if (lb_reserve(&out->v, &out->cap, out->n + 1, sizeof *out->v, 4))
    return LB_ENOMEM;
  for (size_t i = 0; i < d->n_actions && !rc; i++)
    if (d->actions[i].verb != LB_VERB_RESPOND)
      rc = add_inflight(e, &d->actions[i], owner_key, owner);
  if (rc)
    return rc;
  e->action_seq += (int64_t)d->n_actions;
  e->dseq = d->seq;
  e->chain = d->chain;
  out->v[out->n++] = *d;
  memset(d, 0, sizeof *d);
  return 0;
}

static int run_reducer(struct lb_engine *e, struct lb_event *ev,
                       const char *key, struct lb_decisions *out) {
  struct lb_obj *o = lb_map_get(&e->objs, key);
  const struct lb_reducer *r = o ? reducer_for(o->kind) : NULL;
  struct lb_decision d;
  struct lb_rctx c;
  uint64_t rh;
  int rc;
  if (!r)
    return 0;
  memset(&d, 0, sizeof d);
  memset(&c, 0, sizeof c);
  c.e = e;
  c.opts = &e->opts;
  c.ev = ev;
  c.now = ev->at_ms;
  c.d = &d;
  lb_buf_init(&c.reason);
  rc = r->reconcile(&c, o);
  if (!rc)
    rc = c.reason.err;
  if (rc)
    goto out;
  struct lb_owner *w = lb_obj_owner(o);
  if (LB_NEVER(!w)) {
    rc = LB_EINVAL;
    goto out;
  }
  rh = XXH3_64bits(c.reason.p ? c.reason.p : "", c.reason.len);
  w->wakeup_ms = c.wakeup_ms;
  if (!d.n_actions && rh == w->last_reason)
    goto out; /* nothing new to say */
  w->last_reason = rh;
  d.reducer = lb_strdup(r->name);
  d.kind = lb_strdup(lb_kind_name(o->kind));
  d.ns = lb_strdup(o->ns);
  d.name = lb_strdup(o->name);
  d.reason = lb_buf_detach(&c.reason, NULL);
  if (!d.reducer || !d.kind || !d.ns || !d.name || !d.reason) {
    rc = LB_ENOMEM;
    goto out;
  }
  rc = lb_engine_emit(e, ev, &d, key, o, out);
out:
  lb_buf_release(&c.reason);
  lb_decision_release(&d);
  return rc;
}

/* Every CloneSet's aggregates against a recount (order-free: each check
 * stands alone and decides nothing). */
static int check_aggregates(struct lb_engine *e) {
  size_t i = 0;
  void *v;
  int rc = 0;
  while (!rc && lb_map_next(&e->owners, &i, NULL, &v))
    rc = lb__cs_agg_check(v);
  return rc;
}

int lb_engine_apply(struct lb_engine *e, struct lb_event *ev,
                    struct lb_decisions *out) {
  const char **keys;
  int rc;
  if (LB_NEVER(ev->seq <= e->last_seq))
    return LB_EINVAL;
  e->last_seq = ev->seq;
  if (!ev->obj && ev->body &&
      (ev->source == LB_SRC_WATCH || ev->source == LB_SRC_LIST ||
       ev->source == LB_SRC_OUTCOME) &&
      lb_kind_of(ev->api_group, ev->kind)) {
    const char *why;
    rc = lb_obj_decode_text(ev->body, &ev->obj, &why);
    if (rc == LB_ENOMEM)
      return rc;
  }
  if ((rc = fold(e, ev)))
    return rc;
  if (e->opts.check_aggregates && (rc = check_aggregates(e)))
    return rc;
  if (ev->source == LB_SRC_ADMISSION && ev->type == LB_EV_REVIEW &&
      (rc = lb_admission_review(e, ev, out)))
    return rc;
  /* A reconcile may mark another owner (a CloneSet recording a disruption
   * in a PUB's ledger): run rounds until nothing is dirty. Each round is
   * sorted by key; the bound only guards against a reducer bug. */
  for (int round = 0; e->dirty.n && !rc; round++) {
    struct lb_map now = e->dirty;
    if (LB_NEVER(round == 8))
      break;
    lb_map_init(&e->dirty);
    keys = lb_map_sorted(&now);
    if (!keys) {
      lb_map_release(&now);
      return LB_ENOMEM;
    }
    for (size_t i = 0; keys[i] && !rc; i++)
      rc = run_reducer(e, ev, keys[i], out);
    free(keys);
    lb_map_release(&now);
  }
  lb_map_release(&e->dirty);
  return rc;
}

/* --- queries ------------------------------------------------------------ */
uint64_t lb_engine_chain(const struct lb_engine *e) { return e->chain; }
int64_t lb_engine_last_seq(const struct lb_engine *e) { return e->last_seq; }
int64_t lb_engine_decision_seq(const struct lb_engine *e) { return e->dseq; }
size_t lb_engine_inflight_count(const struct lb_engine *e) {
  return e->inflight.n;
}

int64_t lb_engine_next_wakeup(const struct lb_engine *e) {
  size_t i = 0;
  void *v;
  int64_t best = 0;
  while (lb_map_next(&e->reconciled, &i, NULL, &v)) {
    const struct lb_owner *w = lb_obj_owner(v);
    if (w->wakeup_ms && (!best || w->wakeup_ms < best))
      best = w->wakeup_ms;
  }
  return best;
}

size_t lb_engine_count(const struct lb_engine *e, int kind) {
  size_t i = 0, n = 0;
  void *v;
  while (lb_map_next(&e->objs, &i, NULL, &v))
    n += ((struct lb_obj *)v)->kind == kind;
  return n;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

int lb_engine_inflight_ids(const struct lb_engine *e, int64_t **ids,
                           size_t *n) {
  size_t i = 0, k = 0;
  void *v;
  *ids = malloc((e->inflight.n + 1) * sizeof **ids);
  if (!*ids)
    return LB_ENOMEM;
  while (lb_map_next(&e->inflight, &i, NULL, &v))
    (*ids)[k++] = ((struct inflight *)v)->id;
  qsort(*ids, k, sizeof **ids, cmp_i64);
  *n = k;
  return 0;
}

static void enc_inflight(const struct inflight *f, struct lb_buf *b) {
  lb_buf_addf(b,
              "{\"id\":%lld,\"verb\":%d,\"cls\":%d,\"kind\":", (long long)f->id,
              f->verb, f->cls);
  lb_buf_add_json_str(b, f->kind);
  lb_buf_adds(b, ",\"ns\":");
  lb_buf_add_json_str(b, f->ns);
  lb_buf_adds(b, ",\"name\":");
  lb_buf_add_json_str(b, f->name);
  lb_buf_adds(b, ",\"owner\":");
  lb_buf_add_json_str(b, f->owner_key);
  lb_buf_adds(b, "}");
}

uint64_t lb_engine_digest(const struct lb_engine *e) {
  struct lb_buf b = LB_BUF_INIT;
  uint64_t sum = 0;
  size_t i = 0;
  void *v;
  while (lb_map_next(&e->objs, &i, NULL, &v)) {
    lb_buf_reset(&b);
    lb_obj_encode(v, &b);
    sum += XXH3_64bits(b.p, b.len);
  }
  i = 0;
  while (lb_map_next(&e->inflight, &i, NULL, &v)) {
    lb_buf_reset(&b);
    enc_inflight(v, &b);
    sum += XXH3_64bits(b.p, b.len);
  }
  for (size_t t = 0; t < e->tomb_n; t++) {
    const char *u = e->tomb[(e->tomb_head + t) % TOMBSTONES];
    sum += XXH3_64bits_withSeed(u, strlen(u), 1);
  }
  lb_buf_reset(&b);
  lb_buf_addf(&b, "%lld/%lld/%lld/%016llx", (long long)e->last_seq,
              (long long)e->dseq, (long long)e->action_seq,
              (unsigned long long)e->chain);
  sum += XXH3_64bits(b.p, b.len);
  lb_buf_release(&b);
  return sum;
}

/* --- snapshots ---------------------------------------------------------- */
int lb_engine_snapshot(const struct lb_engine *e, char **blob, size_t *len) {
  struct lb_buf b = LB_BUF_INIT;
  const char **keys = lb_map_sorted(&e->objs);
  if (!keys)
    return LB_ENOMEM;
  lb_buf_addf(&b,
              "{\"v\":1,\"last_seq\":%lld,\"dseq\":%lld,\"action_seq\":%lld,"
              "\"chain\":\"%016llx\",\"objs\":[",
              (long long)e->last_seq, (long long)e->dseq,
              (long long)e->action_seq, (unsigned long long)e->chain);
  for (size_t i = 0; keys[i]; i++) {
    lb_buf_adds(&b, i ? "," : "");
    lb_obj_encode(lb_map_get(&e->objs, keys[i]), &b);
  }
  free(keys);
  lb_buf_adds(&b, "],\"inflight\":[");
  int64_t *ids;
  size_t n;
  if (lb_engine_inflight_ids(e, &ids, &n)) {
    lb_buf_release(&b);
    return LB_ENOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)ids[i]);
    lb_buf_adds(&b, i ? "," : "");
    enc_inflight(lb_map_get(&e->inflight, id), &b);
  }
  free(ids);
  lb_buf_adds(&b, "],\"tomb\":[");
  for (size_t t = 0; t < e->tomb_n; t++) {
    lb_buf_adds(&b, t ? "," : "");
    lb_buf_add_json_str(&b, e->tomb[(e->tomb_head + t) % TOMBSTONES]);
  }
  lb_buf_adds(&b, "]}");
  if (b.err) {
    lb_buf_release(&b);
    return LB_ENOMEM;
  }
  *blob = lb_buf_detach(&b, len);
  return 0;
}

int lb_engine_restore(struct lb_engine *e, const char *blob, size_t len) {
  struct json_tokener *tok = json_tokener_new();
  struct json_object *root, *a, *v;
  int rc = 0;
  if (!tok)
    return LB_ENOMEM;
  root = json_tokener_parse_ex(tok, blob, (int)len);
  json_tokener_free(tok);
  if (!root || !json_object_object_get_ex(root, "v", &v) ||
      json_object_get_int(v) != 1) {
    json_object_put(root);
    return LB_ECORRUPT;
  }
  if (e->objs.n || e->last_seq) {
    json_object_put(root);
    return LB_EINVAL; /* restore only into a fresh engine */
  }
  static const char *const arrays[] = {"objs", "inflight", "tomb"};
  for (size_t i = 0; i < LB_ARRAY_SIZE(arrays); i++) {
    if (!json_object_object_get_ex(root, arrays[i], &a) ||
        !json_object_is_type(a, json_type_array)) {
      json_object_put(root);
      return LB_ECORRUPT;
    }
  }
  e->last_seq = json_object_get_int64(json_object_object_get(root, "last_seq"));
  e->dseq = json_object_get_int64(json_object_object_get(root, "dseq"));
  e->action_seq =
      json_object_get_int64(json_object_object_get(root, "action_seq"));
  const char *ch =
      json_object_get_string(json_object_object_get(root, "chain"));
  e->chain = ch ? strtoull(ch, NULL, 16) : 0;
  /* clonesets first so pods link to them */
  a = json_object_object_get(root, "objs");
  for (int pass = 0; pass < 2 && !rc; pass++) {
    for (size_t i = 0; i < json_object_array_length(a) && !rc; i++) {
      struct json_object *enc = json_object_array_get_idx(a, i);
      int is_cs = json_object_get_int(json_object_object_get(enc, "k")) ==
                  LB_KIND_CLONESET;
      struct lb_obj *o;
      if (is_cs != (pass == 0))
        continue;
      if ((rc = lb_obj_restore(enc, &o)))
        break;
      uint64_t lr = 0;
      int64_t wk = 0;
      struct lb_owner *w = lb_obj_owner(o);
      char key[KEYLEN];
      if (w) {
        lr = w->last_reason;
        wk = w->wakeup_ms;
      }
      key_of(key, sizeof key, lb_kind_name(o->kind), o->ns, o->name);
      rc = upsert(e, o);
      if (!rc && w) { /* the engine bookkeeping as it was snapshotted */
        w = lb_obj_owner(lb_map_get(&e->objs, key));
        if (w) {
          w->last_reason = lr;
          w->wakeup_ms = wk;
        }
      }
    }
  }
  a = json_object_object_get(root, "inflight");
  for (size_t i = 0; i < json_object_array_length(a) && !rc; i++) {
    struct json_object *f = json_object_array_get_idx(a, i);
    struct lb_action act;
    memset(&act, 0, sizeof act);
    act.id = json_object_get_int64(json_object_object_get(f, "id"));
    act.verb = json_object_get_int(json_object_object_get(f, "verb"));
    int cls = json_object_get_int(json_object_object_get(f, "cls"));
    act.kind =
        (char *)json_object_get_string(json_object_object_get(f, "kind"));
    act.ns = (char *)json_object_get_string(json_object_object_get(f, "ns"));
    act.name =
        (char *)json_object_get_string(json_object_object_get(f, "name"));
    act.sub = (char *)(cls == CLS_STATUS ? "status" : "");
    const char *owner =
        json_object_get_string(json_object_object_get(f, "owner"));
    if (!act.kind || !act.ns || !act.name || !owner) {
      rc = LB_ECORRUPT;
      break;
    }
    if (cls == CLS_REV && !strcmp(act.kind, "Pod"))
      rc = LB_ECORRUPT;
    else
      rc = add_inflight(e, &act, owner, lb_map_get(&e->objs, owner));
  }
  a = json_object_object_get(root, "tomb");
  for (size_t i = 0; i < json_object_array_length(a) && !rc; i++)
    rc = tombstone(e, json_object_get_string(json_object_array_get_idx(a, i)));
  lb_map_release(&e->dirty); /* restoring decides nothing */
  json_object_put(root);
  return rc;
}

char *lb_engine_describe(const struct lb_engine *e, const char *kind,
                         const char *ns, const char *name) {
  char key[KEYLEN];
  struct lb_buf b = LB_BUF_INIT;
  struct lb_obj *o;
  key_of(key, sizeof key, kind, ns, name);
  o = lb_map_get(&e->objs, key);
  if (!o)
    return NULL;
  lb_obj_encode(o, &b);
  return b.err ? (lb_buf_release(&b), NULL) : lb_buf_detach(&b, NULL);
}

const char *lb_engine_rv(const struct lb_engine *e, const char *kind,
                         const char *ns, const char *name) {
  char key[KEYLEN];
  struct lb_obj *o;
  key_of(key, sizeof key, kind, ns, name);
  o = lb_map_get(&e->objs, key);
  return o ? o->rv : NULL;
}
