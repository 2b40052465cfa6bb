/* podorder.c — update ordering strategies (kruise-spec §1.5); the
 * interface and the contracts are in podorder.h. */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "podorder.h"

/* --- decoding ----------------------------------------------------------- */
#define PRIO "updateStrategy.priorityStrategy"
#define SCAT "updateStrategy.scatterStrategy"

static int fail(char *why, size_t why_n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t why_n, const char *fmt, ...) {
  va_list ap;
  if (why_n) {
    va_start(ap, fmt);
    vsnprintf(why, why_n, fmt, ap);
    va_end(ap);
  }
  return LB_EPARSE;
}

static struct json_object *member(struct json_object *o, const char *key) {
  struct json_object *v = NULL;
  if (json_object_is_type(o, json_type_object))
    json_object_object_get_ex(o, key, &v);
  return v;
}

/* A list member: absent or null -> 0 items; anything but an array -> -1. */
static long list_len(struct json_object *v) {
  if (!v || json_object_is_type(v, json_type_null))
    return 0;
  if (!json_object_is_type(v, json_type_array))
    return -1;
  return (long)json_object_array_length(v);
}

static const char *nonempty_str(struct json_object *v) {
  if (!json_object_is_type(v, json_type_string))
    return NULL;
  const char *s = json_object_get_string(v);
  return *s ? s : NULL;
}

/* Appends "s\0" to a packed list under construction. */
static int pack_add(struct lb_buf *b, const char *s) {
  return lb_buf_add(b, s, strlen(s) + 1);
}
static char *pack_finish(struct lb_buf *b) {
  lb_buf_add(b, "", 1);
  return b->err ? (lb_buf_release(b), NULL) : lb_buf_detach(b, NULL);
}

static void selector_release(struct lb_selector *s) {
  free(s->match_labels);
  for (size_t i = 0; i < s->n_reqs; i++) {
    free(s->reqs[i].key);
    free(s->reqs[i].values);
  }
  free(s->reqs);
  memset(s, 0, sizeof *s);
}

/* weightPriority[t].matchSelector, a metav1.LabelSelector. */
static int selector_decode(struct json_object *j, struct lb_selector *s,
                           size_t t, char *why, size_t why_n) {
  static const char *ops[] = {"", "In", "NotIn", "Exists", "DoesNotExist"};
  struct json_object *ml = member(j, "matchLabels");
  struct json_object *me = member(j, "matchExpressions");
  struct lb_buf b = LB_BUF_INIT;
  long n_me = list_len(me);
  memset(s, 0, sizeof *s);
  if (!json_object_is_type(j, json_type_object))
    return fail(why, why_n,
                PRIO ".weightPriority[%zu].matchSelector: expected an object",
                t);
  if (ml && !json_object_is_type(ml, json_type_null) &&
      !json_object_is_type(ml, json_type_object))
    return fail(why, why_n,
                PRIO ".weightPriority[%zu].matchSelector.matchLabels: "
                     "expected an object of strings",
                t);
  if (n_me < 0)
    return fail(why, why_n,
                PRIO ".weightPriority[%zu].matchSelector.matchExpressions: "
                     "expected a list",
                t);
  if (json_object_is_type(ml, json_type_object)) {
    json_object_object_foreach(ml, k, v) {
      if (!*k || !json_object_is_type(v, json_type_string)) {
        lb_buf_release(&b);
        return fail(why, why_n,
                    PRIO ".weightPriority[%zu].matchSelector.matchLabels: "
                         "keys must be non-empty and values strings",
                    t);
      }
      pack_add(&b, k);
      pack_add(&b, json_object_get_string(v));
    }
  }
  if (!(s->match_labels = pack_finish(&b)))
    return LB_ENOMEM;
  if (!s->match_labels[0] && n_me == 0)
    return fail(why, why_n,
                PRIO ".weightPriority[%zu].matchSelector: selector can not be "
                     "empty",
                t);
  s->reqs = calloc((size_t)n_me + 1, sizeof *s->reqs);
  if (!s->reqs)
    return LB_ENOMEM;
  for (long i = 0; i < n_me; i++) {
    struct json_object *r = json_object_array_get_idx(me, (size_t)i);
    struct json_object *vals = member(r, "values");
    const char *key = nonempty_str(member(r, "key"));
    const char *op = nonempty_str(member(r, "operator"));
    long n_vals = list_len(vals);
    int o = 0;
    for (int x = 1; op && x < (int)LB_ARRAY_SIZE(ops); x++)
      if (!strcmp(op, ops[x]))
        o = x;
    if (!key)
      return fail(why, why_n,
                  PRIO ".weightPriority[%zu].matchSelector.matchExpressions"
                       "[%ld].key: must be a non-empty string",
                  t, i);
    if (!o)
      return fail(why, why_n,
                  PRIO
                  ".weightPriority[%zu].matchSelector.matchExpressions"
                  "[%ld].operator: must be In, NotIn, Exists or DoesNotExist",
                  t, i);
    if (n_vals < 0)
      return fail(why, why_n,
                  PRIO ".weightPriority[%zu].matchSelector.matchExpressions"
                       "[%ld].values: expected a list of strings",
                  t, i);
    if ((o == LB_SEL_IN || o == LB_SEL_NOTIN) && n_vals == 0)
      return fail(why, why_n,
                  PRIO ".weightPriority[%zu].matchSelector.matchExpressions"
                       "[%ld].values: %s needs at least one value",
                  t, i, op);
    if ((o == LB_SEL_EXISTS || o == LB_SEL_NOTEXISTS) && n_vals > 0)
      return fail(why, why_n,
                  PRIO ".weightPriority[%zu].matchSelector.matchExpressions"
                       "[%ld].values: %s takes no values",
                  t, i, op);
    for (long v = 0; v < n_vals; v++) {
      struct json_object *sv = json_object_array_get_idx(vals, (size_t)v);
      if (!json_object_is_type(sv, json_type_string)) {
        lb_buf_release(&b);
        return fail(why, why_n,
                    PRIO ".weightPriority[%zu].matchSelector.matchExpressions"
                         "[%ld].values: expected a list of strings",
                    t, i);
      }
      pack_add(&b, json_object_get_string(sv));
    }
    s->reqs[i].op = o;
    s->reqs[i].key = lb_strdup(key);
    s->n_reqs = (size_t)i + 1;
    if (!s->reqs[i].key || !(s->reqs[i].values = pack_finish(&b)))
      return LB_ENOMEM;
  }
  return 0;
}

static int priority_decode(struct lb_podorder *po, struct json_object *j,
                           char *why, size_t why_n) {
  struct json_object *wp = member(j, "weightPriority");
  struct json_object *op = member(j, "orderPriority");
  long n_w = list_len(wp), n_o = list_len(op);
  int rc;
  if (!json_object_is_type(j, json_type_object))
    return fail(why, why_n, PRIO ": expected an object");
  if (n_w < 0)
    return fail(why, why_n, PRIO ".weightPriority: expected a list");
  if (n_o < 0)
    return fail(why, why_n, PRIO ".orderPriority: expected a list");
  if (n_w > 0 && n_o > 0)
    return fail(why, why_n,
                PRIO ": only one of weightPriority and orderPriority can be "
                     "used");
  if (n_w > 0) {
    po->weights = calloc((size_t)n_w, sizeof *po->weights);
    if (!po->weights)
      return LB_ENOMEM;
    for (long i = 0; i < n_w; i++) {
      struct json_object *t = json_object_array_get_idx(wp, (size_t)i);
      struct json_object *w = member(t, "weight");
      int64_t wv;
      if (!json_object_is_type(t, json_type_object))
        return fail(why, why_n, PRIO ".weightPriority[%ld]: expected an object",
                    i);
      if (!json_object_is_type(w, json_type_int) ||
          (wv = json_object_get_int64(w)) < 0 || wv > 100)
        return fail(why, why_n,
                    PRIO ".weightPriority[%ld].weight: must be an integer in "
                         "the range 0-100",
                    i);
      po->weights[i].weight = (int)wv;
      po->n_weights = (size_t)i + 1;
      if ((rc = selector_decode(member(t, "matchSelector"),
                                &po->weights[i].match, (size_t)i, why, why_n)))
        return rc;
    }
  }
  if (n_o > 0) {
    po->order_keys = calloc((size_t)n_o, sizeof *po->order_keys);
    if (!po->order_keys)
      return LB_ENOMEM;
    for (long i = 0; i < n_o; i++) {
      struct json_object *t = json_object_array_get_idx(op, (size_t)i);
      const char *k = nonempty_str(member(t, "orderedKey"));
      if (!k)
        return fail(why, why_n,
                    PRIO ".orderPriority[%ld].orderedKey: order key must be a "
                         "non-empty string",
                    i);
      if (!(po->order_keys[i] = lb_strdup(k)))
        return LB_ENOMEM;
      po->n_order_keys = (size_t)i + 1;
    }
  }
  return 0;
}

static int scatter_decode(struct lb_podorder *po, struct json_object *j,
                          char *why, size_t why_n) {
  long n = list_len(j);
  if (n < 0)
    return fail(why, why_n, SCAT ": expected a list of {key, value}");
  if (n == 0)
    return 0;
  po->scatter = calloc((size_t)n, sizeof *po->scatter);
  if (!po->scatter)
    return LB_ENOMEM;
  for (long i = 0; i < n; i++) {
    struct json_object *t = json_object_array_get_idx(j, (size_t)i);
    struct json_object *v = member(t, "value");
    const char *key = nonempty_str(member(t, "key"));
    const char *val = "";
    if (!key)
      return fail(why, why_n, SCAT "[%ld].key: must be a non-empty string", i);
    if (v && !json_object_is_type(v, json_type_null)) {
      if (!json_object_is_type(v, json_type_string))
        return fail(why, why_n, SCAT "[%ld].value: expected a string", i);
      val = json_object_get_string(v);
    }
    for (long p = 0; p < i; p++)
      if (!strcmp(po->scatter[p].key, key) &&
          !strcmp(po->scatter[p].value, val))
        return fail(why, why_n,
                    SCAT "[%ld]: duplicate term %s=%s (also term %ld)", i, key,
                    val, p);
    po->scatter[i].key = lb_strdup(key);
    po->scatter[i].value = lb_strdup(val);
    po->n_scatter = (size_t)i + 1;
    if (!po->scatter[i].key || !po->scatter[i].value)
      return LB_ENOMEM;
  }
  return 0;
}

/* Parses one strategy text; a NULL text is absent. */
static int decode_one(struct lb_podorder *po, const char *text,
                      const char *what,
                      int (*dec)(struct lb_podorder *, struct json_object *,
                                 char *, size_t),
                      char *why, size_t why_n) {
  struct json_object *j;
  int rc;
  if (!text)
    return 0;
  j = json_tokener_parse(text);
  if (!j) /* json-c also answers NULL for "null", which means absent */
    return strcmp(text, "null") ? fail(why, why_n, "%s: not valid JSON", what)
                                : 0;
  rc = dec(po, j, why, why_n);
  json_object_put(j);
  return rc;
}

int lb_podorder_parse(struct lb_podorder *po, const char *priority_json,
                      const char *scatter_json, char *why, size_t why_n) {
  int rc;
  memset(po, 0, sizeof *po);
  if (why_n)
    why[0] = '\0';
  if ((rc = decode_one(po, priority_json, PRIO, priority_decode, why, why_n)) ||
      (rc = decode_one(po, scatter_json, SCAT, scatter_decode, why, why_n))) {
    /* A half-decoded strategy never applies: the caller falls back to its
     * default order as a whole. */
    lb_podorder_release(po);
    return rc;
  }
  return 0;
}

void lb_podorder_release(struct lb_podorder *po) {
  for (size_t i = 0; i < po->n_weights; i++)
    selector_release(&po->weights[i].match);
  free(po->weights);
  for (size_t i = 0; i < po->n_order_keys; i++)
    free(po->order_keys[i]);
  free(po->order_keys);
  for (size_t i = 0; i < po->n_scatter; i++) {
    free(po->scatter[i].key);
    free(po->scatter[i].value);
  }
  free(po->scatter);
  memset(po, 0, sizeof *po);
}

/* --- priority ----------------------------------------------------------- */
int64_t lb_podorder_suffix_int(const char *s) {
  size_t len = strlen(s), start = len;
  int64_t v = 0;
  while (start > 0 && s[start - 1] >= '0' && s[start - 1] <= '9')
    start--;
  for (size_t i = start; i < len; i++) {
    int d = s[i] - '0';
    if (v > (INT64_MAX - d) / 10)
      return 0; /* Go's ParseInt fails on overflow; upstream then uses 0 */
    v = v * 10 + d;
  }
  return v;
}

int64_t lb_podorder_weight_of(const struct lb_podorder *po,
                              const char *labels) {
  int64_t w = 0;
  for (size_t i = 0; i < po->n_weights; i++)
    if (lb_selector_matches(&po->weights[i].match, labels))
      w += po->weights[i].weight;
  return w;
}

void lb_podorder_order_of(const struct lb_podorder *po, const char *labels,
                          int *term, int64_t *order) {
  for (size_t i = 0; i < po->n_order_keys; i++) {
    const char *v = lb_kv_get(labels, po->order_keys[i]);
    if (v) {
      *term = (int)i;
      *order = lb_podorder_suffix_int(v);
      return;
    }
  }
  *term = -1;
  *order = 0;
}

struct prio_key {
  int64_t k1, k2; /* ascending: smaller sorts first */
  size_t pos;     /* incoming position: makes the sort stable and total */
  size_t idx;
};

static int cmp_prio_key(const void *a, const void *b) {
  const struct prio_key *x = a, *y = b;
  if (x->k1 != y->k1)
    return x->k1 < y->k1 ? -1 : 1;
  if (x->k2 != y->k2)
    return x->k2 < y->k2 ? -1 : 1;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

int lb_podorder_priority_sort(const struct lb_podorder *po,
                              const char *const *labels, size_t *idx,
                              size_t n) {
  struct prio_key *k;
  if ((!po->n_weights && !po->n_order_keys) || n < 2)
    return 0;
  if (!(k = calloc(n, sizeof *k)))
    return LB_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    const char *l = labels[idx[i]];
    k[i].pos = i;
    k[i].idx = idx[i];
    if (po->n_weights) {
      k[i].k1 = -lb_podorder_weight_of(po, l); /* heavier first */
    } else {
      int term;
      int64_t order;
      lb_podorder_order_of(po, l, &term, &order);
      /* Pods carrying none of the keys (term -1) sort before every keyed
       * pod, as upstream does (spec §1.5 (impl)); then earlier term first,
       * then the higher trailing integer ("o-10" before "o-5"). order is
       * never negative, so negating it cannot overflow. */
      k[i].k1 = term;
      k[i].k2 = -order;
    }
  }
  /* Ties keep the incoming (default) order. Upstream v1.8 breaks them by
   * descending index into its pod list, which is informer order and not
   * reproducible; a stable order over the name-tiebroken default order is
   * deterministic and what v1.9 moved towards. */
  qsort(k, n, sizeof *k, cmp_prio_key);
  for (size_t i = 0; i < n; i++)
    idx[i] = k[i].idx;
  free(k);
  return 0;
}

/* --- scatter ------------------------------------------------------------ */
/* upstream's getScatterTerms matches only pods that carry the key */
static int carries(const char *labels, const struct lb_podorder_scatter *t) {
  const char *v = lb_kv_get(labels, t->key);
  return v && !strcmp(v, t->value);
}
/* ...while scatterPodsByRule reads a missing label as "" (Go map default),
 * so a term with an empty value also matches pods without the key. */
static int matches(const char *labels, const struct lb_podorder_scatter *t) {
  const char *v = lb_kv_get(labels, t->key);
  return !strcmp(v ? v : "", t->value);
}

struct group {
  size_t num, matched_size, unmatched_size, unmatched_rem;
};

/* Go's math.Round(a / b) for a >= 0, b > 0: half away from zero. */
static size_t round_div(size_t a, size_t b) { return (2 * a + b) / (2 * b); }

static struct group group_of(size_t matched, size_t unmatched) {
  struct group g = {0, 0, 0, 0};
  g.num = matched < unmatched ? matched : unmatched;
  g.matched_size = round_div(matched, g.num);
  g.unmatched_size = round_div(unmatched, g.num);
  return g;
}

/* upstream calculateGroupByDensity; all four counts are >= 1 here. */
static struct group group_by_density(size_t total_m, size_t total_u,
                                     size_t upd_m, size_t upd_u) {
  struct group upd = group_of(upd_m, upd_u), tot, g = {0, 0, 0, 0};
  /* total_u / total_m >= upd_u / upd_m, exactly in integers (upstream
   * divides in float32, which agrees for any realistic pod count). */
  if ((uint64_t)total_u * upd_m >= (uint64_t)upd_u * total_m)
    return upd;
  tot = group_of(total_m, total_u);
  g.matched_size = tot.matched_size;
  g.unmatched_size = tot.unmatched_size;
  if (upd_m / g.matched_size < upd_u / g.unmatched_size)
    g.num = upd_m / g.matched_size;
  else
    g.num = upd_u / g.unmatched_size;
  g.unmatched_rem = upd_u - g.num * g.unmatched_size;
  return g;
}

/* Moves up to `size` items from src[*si..ns) to dst[*nd..). */
static void migrate(const size_t *src, size_t ns, size_t *si, size_t *dst,
                    size_t *nd, size_t size) {
  while (size-- > 0 && *si < ns)
    dst[(*nd)++] = src[(*si)++];
}

/* upstream scatterPodsByRule; scratch holds 3 * n entries. */
static void scatter_by_term(const struct lb_podorder_scatter *t,
                            const char *const *labels, size_t n_labels,
                            size_t *idx, size_t n, size_t *scratch) {
  size_t *m = scratch, *u = scratch + n, *out = scratch + 2 * n;
  size_t nm = 0, nu = 0, tm = 0, tu = 0, mi = 0, ui = 0, no = 0, last;
  struct group g;
  for (size_t i = 0; i < n; i++) {
    if (matches(labels[idx[i]], t))
      m[nm++] = idx[i];
    else
      u[nu++] = idx[i];
  }
  if (nm <= 1 || nu <= 1)
    return;
  for (size_t i = 0; i < n_labels; i++) {
    if (matches(labels[i], t))
      tm++;
    else
      tu++;
  }
  /* idx indexes into labels, so the totals include the candidates */
  if (LB_NEVER(tm < nm || tu < nu))
    return;
  /* The last matched candidate is kept for the very end. */
  last = m[--nm];
  tm--;
  g = group_by_density(tm, tu, nm, nu);
  migrate(u, nu, &ui, out, &no, g.unmatched_rem);
  for (size_t i = 0; i < g.num; i++) {
    migrate(m, nm, &mi, out, &no, g.matched_size);
    migrate(u, nu, &ui, out, &no, g.unmatched_size);
  }
  migrate(m, nm, &mi, out, &no, nm);
  migrate(u, nu, &ui, out, &no, nu);
  out[no++] = last;
  if (LB_NEVER(no != n))
    return;
  memcpy(idx, out, n * sizeof *idx);
}

struct term_count {
  size_t term, count;
};

static int cmp_term_count(const void *a, const void *b) {
  const struct term_count *x = a, *y = b;
  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;             /* more candidates first */
  return x->term < y->term ? -1 : x->term > y->term; /* then spec order */
}

int lb_podorder_scatter_sort(const struct lb_podorder *po,
                             const char *const *labels, size_t n_labels,
                             size_t *idx, size_t n) {
  struct term_count *tc;
  size_t *scratch, nt = 0;
  if (!po->n_scatter || n < 2)
    return 0;
  tc = calloc(po->n_scatter, sizeof *tc);
  scratch = calloc(3 * n, sizeof *scratch);
  if (!tc || !scratch) {
    free(tc);
    free(scratch);
    return LB_ENOMEM;
  }
  if (po->n_scatter == 1) {
    tc[nt++].term = 0; /* upstream uses a single term as is */
  } else {
    /* Terms that no candidate carries drop out (upstream builds the list
     * from matches); the rest go by candidate count, larger first. */
    for (size_t t = 0; t < po->n_scatter; t++) {
      size_t c = 0;
      for (size_t i = 0; i < n; i++)
        c += carries(labels[idx[i]], &po->scatter[t]);
      if (c)
        tc[nt++] = (struct term_count){t, c};
    }
    qsort(tc, nt, sizeof *tc, cmp_term_count);
  }
  for (size_t i = 0; i < nt; i++)
    scatter_by_term(&po->scatter[tc[i].term], labels, n_labels, idx, n,
                    scratch);
  free(scratch);
  free(tc);
  return 0;
}

/* --- CloneSet update order ---------------------------------------------- */
static int cmp_update_ptr(const void *a, const void *b) {
  return lb_cs_cmp_update(*(const struct lb_cs_podinfo *const *)a,
                          *(const struct lb_cs_podinfo *const *)b);
}

static int cmp_name_ptr(const void *a, const void *b) {
  return strcmp((*(const struct lb_pod *const *)a)->o.name,
                (*(const struct lb_pod *const *)b)->o.name);
}

static int preparing_update(const struct lb_cs_podinfo *x) {
  const char *s = lb_kv_get(x->pod->o.labels, LB_LABEL_LIFECYCLE);
  return s && !strcmp(s, "PreparingUpdate");
}

/* Priority then scatter over cand (already in default order). */
static int apply_strategies(const struct lb_podorder *po,
                            struct lb_cs_podinfo **cand, size_t n,
                            const struct lb_cloneset *cs) {
  size_t cap = n + cs->n_pods, nl = 0;
  const char **labels = calloc(cap + 1, sizeof *labels);
  const struct lb_pod **byname = calloc(n + 1, sizeof *byname);
  size_t *idx = calloc(n + 1, sizeof *idx);
  struct lb_cs_podinfo **tmp = calloc(n + 1, sizeof *tmp);
  int rc = LB_ENOMEM;
  if (!labels || !byname || !idx || !tmp)
    goto out;
  /* labels = the candidates, then every other active pod of the set (the
   * scatter density is over all of them, as upstream's pod list). */
  for (size_t i = 0; i < n; i++) {
    labels[nl++] = cand[i]->pod->o.labels;
    byname[i] = cand[i]->pod;
    idx[i] = i;
  }
  qsort(byname, n, sizeof *byname, cmp_name_ptr);
  for (size_t i = 0; i < cs->n_pods; i++) {
    const struct lb_pod *p = cs->pods[i];
    if (lb_pod_active(p) &&
        !bsearch(&p, byname, n, sizeof *byname, cmp_name_ptr))
      labels[nl++] = p->o.labels;
  }
  if ((rc = lb_podorder_priority_sort(po, labels, idx, n)) ||
      (rc = lb_podorder_scatter_sort(po, labels, nl, idx, n)))
    goto out;
  for (size_t i = 0; i < n; i++)
    tmp[i] = cand[idx[i]];
  memcpy(cand, tmp, n * sizeof *cand);
out:
  free(tmp);
  free(idx);
  free(byname);
  free(labels);
  return rc;
}

int lb_podorder_cs_update(struct lb_cs_podinfo **cand, size_t n,
                          const struct lb_cloneset *cs, char *why,
                          size_t why_n) {
  struct lb_podorder po;
  size_t front = 0;
  int rc;
  if (why_n)
    why[0] = '\0';
  qsort(cand, n, sizeof *cand, cmp_update_ptr);
  rc = lb_podorder_parse(&po, cs->priority_json, cs->scatter_json, why, why_n);
  if (rc == 0)
    rc = apply_strategies(&po, cand, n, cs);
  lb_podorder_release(&po);
  if (rc == LB_ENOMEM)
    return rc;
  /* PreparingUpdate first, stable: a rotate of each such pod to the end of
   * the front block keeps both blocks in order. */
  for (size_t i = 0; i < n; i++) {
    if (preparing_update(cand[i])) {
      struct lb_cs_podinfo *x = cand[i];
      memmove(&cand[front + 1], &cand[front], (i - front) * sizeof *cand);
      cand[front++] = x;
    }
  }
  return 0;
}
