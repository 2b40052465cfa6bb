/* revision.c — see revision.h. */
#include "revision.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloneset.h"
#include "err.h"
#include "gotemplate.h"
#include "reducer.h"

static int cmp_rev(const void *a, const void *b) {
  const struct lb_crev *x = *(const struct lb_crev *const *)a,
                       *y = *(const struct lb_crev *const *)b;
  if (x->revision != y->revision)
    return x->revision < y->revision ? -1 : 1;
  return strcmp(x->o.name, y->o.name);
}

int lb_rev_owned(const struct lb_cloneset *cs, struct lb_crev ***out,
                 size_t *n) {
  size_t k = 0;
  *out = calloc(cs->n_owned + 1, sizeof **out);
  *n = 0;
  if (!*out)
    return LB_ENOMEM;
  for (size_t i = 0; i < cs->n_owned; i++)
    if (cs->owned[i]->kind == LB_KIND_CREV)
      (*out)[k++] = (struct lb_crev *)cs->owned[i];
  qsort(*out, k, sizeof **out, cmp_rev);
  *n = k;
  return 0;
}

int64_t lb_rev_max(struct lb_crev *const *v, size_t n) {
  int64_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (v[i]->revision > m)
      m = v[i]->revision;
  return m;
}

struct lb_crev *lb_rev_find_equal(struct lb_crev *const *v, size_t n,
                                  const char *data) {
  struct lb_crev *best = NULL;
  for (size_t i = 0; i < n; i++)
    if (v[i]->data && data && !strcmp(v[i]->data, data) &&
        (!best || cmp_rev(&v[i], &best) > 0))
      best = v[i];
  return best;
}

struct json_object *lb_rev_template(const char *data) {
  struct json_object *d = data ? json_tokener_parse(data) : NULL, *spec, *t;
  if (!d || !json_object_object_get_ex(d, "spec", &spec) ||
      !json_object_object_get_ex(spec, "template", &t)) {
    json_object_put(d);
    return NULL;
  }
  json_object_get(t);
  json_object_put(d);
  json_object_object_del(t, "$patch");
  return t;
}

const char *lb_rev_short_hash(const char *name) {
  const char *dash = strrchr(name, '-');
  return dash ? dash + 1 : name;
}

size_t lb_rev_gc_select(size_t n, const int *live, int limit, int *doomed) {
  size_t dead = 0, marked = 0;
  for (size_t i = 0; i < n; i++) {
    doomed[i] = 0;
    dead += !live[i];
  }
  if (limit < 0)
    limit = 0;
  for (size_t i = 0; i < n && dead > (size_t)limit; i++) {
    if (live[i])
      continue;
    doomed[i] = 1;
    dead--;
    marked++;
  }
  return marked;
}

int lb_rev_equal_name(const struct lb_cloneset *cs, const char *data, char *out,
                      size_t n) {
  struct lb_crev **v, *eq;
  size_t nv;
  if (lb_rev_owned(cs, &v, &nv))
    return LB_ENOMEM;
  eq = lb_rev_find_equal(v, nv, data);
  if (eq)
    lb_strlcpy(out, eq->o.name, n);
  free(v);
  return eq != NULL;
}

int64_t lb_rev_next_number(const struct lb_cloneset *cs) {
  int64_t m = 0;
  for (size_t i = 0; i < cs->n_owned; i++)
    if (cs->owned[i]->kind == LB_KIND_CREV &&
        ((const struct lb_crev *)cs->owned[i])->revision > m)
      m = ((const struct lb_crev *)cs->owned[i])->revision;
  return m + 1;
}

void lb_rev_vct_hash(const struct lb_cloneset *cs, char *out, size_t n) {
  lb_cs_revision_hash(cs->vct_json ? cs->vct_json : "[]", 0, out, n);
}

void lb_rev_name(const char *cs_name, const char *data, int collision,
                 char *out, size_t n) {
  char hash[16];
  size_t k = strlen(cs_name);
  lb_cs_revision_hash(data, collision, hash, sizeof hash);
  snprintf(out, n, "%.*s-%s", (int)(k > 223 ? 223 : k), cs_name, hash);
}

char *lb_rev_data(const struct lb_cloneset *cs, int *rc, const char **why) {
  struct lb_cloneset *m = (struct lb_cloneset *)cs; /* the memo only */
  struct lb_buf b = LB_BUF_INIT;
  char *s;
  if (!m->rev_data_memo) {
    *rc = lb_gotemplate_revision_data_text(cs->template_json, &b, why);
    if (!*rc && b.err)
      *rc = b.err;
    if (*rc) { /* not memoised: a failure is recomputed, with its why */
      lb_buf_release(&b);
      return NULL;
    }
    m->rev_data_memo = lb_buf_detach(&b, NULL);
  }
  s = m->rev_data_memo ? lb_strdup(m->rev_data_memo) : NULL;
  *rc = s ? 0 : LB_ENOMEM;
  return s;
}

int lb_rev_meta(const struct lb_cloneset *cs, struct lb_buf *b) {
  struct json_object *t = json_tokener_parse(cs->template_json), *m, *l;
  char hash[16];
  int first = 1;
  if (!t)
    return LB_EPARSE;
  lb_buf_adds(b, "\"labels\":{");
  if (json_object_object_get_ex(t, "metadata", &m) &&
      json_object_object_get_ex(m, "labels", &l) &&
      json_object_is_type(l, json_type_object)) {
    /* canonical template JSON: keys already sorted */
    json_object_object_foreach(l, k, v) {
      if (!json_object_is_type(v, json_type_string))
        continue;
      lb_buf_adds(b, first ? "" : ",");
      lb_buf_add_json_str(b, k);
      lb_buf_adds(b, ":");
      lb_buf_add_json_str(b, json_object_get_string(v));
      first = 0;
    }
  }
  json_object_put(t);
  lb_rev_vct_hash(cs, hash, sizeof hash);
  lb_buf_adds(b, "},\"annotations\":{\"" LB_ANNO_VCT_HASH "\":");
  lb_buf_add_json_str(b, hash);
  lb_buf_adds(b, "},");
  return b->err;
}

int lb_rev_bump(struct lb_rctx *c, const struct lb_cloneset *cs,
                const char *update_rev) {
  struct lb_crev **v;
  size_t n;
  char body[64];
  if (lb_rev_owned(cs, &v, &n))
    return LB_ENOMEM;
  int64_t max = lb_rev_max(v, n);
  struct lb_crev *u = NULL;
  int tie = 0;
  for (size_t i = 0; i < n; i++) {
    if (!strcmp(v[i]->o.name, update_rev))
      u = v[i];
    else if (v[i]->revision == max)
      tie = 1;
  }
  /* Already the newest (alone at the top): nothing to say. */
  if (!u || (u->revision == max && !tie)) {
    free(v);
    return 0;
  }
  snprintf(body, sizeof body, "{\"revision\":%lld}", (long long)(max + 1));
  char *b = lb_strdup(body);
  if (!b || !lb_rctx_action(c, LB_VERB_PATCH, LB_KIND_CREV, cs->o.ns,
                            update_rev, "", b)) {
    free(v);
    return LB_ENOMEM;
  }
  lb_rctx_reasonf(c,
                  "rollback: template equals revision %s (.revision %lld); "
                  "reusing it as revision %lld",
                  update_rev, (long long)u->revision, (long long)(max + 1));
  free(v);
  return 0;
}

/* A revision is live when it is the current or update revision or any
 * owned pod (active or not) still carries it. */
static int is_live(const struct lb_cloneset *cs, const struct lb_crev *r,
                   const char *current_rev, const char *update_rev) {
  const char *sh = lb_rev_short_hash(r->o.name);
  if (!strcmp(r->o.name, current_rev) || !strcmp(r->o.name, update_rev))
    return 1;
  /* the fold's count of pods by revision hash (cloneset_agg.c), when kept:
   * the same question without visiting every pod */
  int n = lb__cs_agg_rev_pods(cs, sh);
  if (n >= 0)
    return n > 0;
  for (size_t i = 0; i < cs->n_pods; i++) {
    const char *pr = lb_pod_revision(cs->pods[i]);
    if (*pr && (!strcmp(pr, r->o.name) || !strcmp(lb_rev_short_hash(pr), sh)))
      return 1;
  }
  return 0;
}

int lb_rev_gc(struct lb_rctx *c, const struct lb_cloneset *cs,
              const char *current_rev, const char *update_rev) {
  struct lb_crev **v;
  size_t n, marked, done = 0;
  int *live, *doomed, rc = 0;
  struct lb_buf names = LB_BUF_INIT;
  if (cs->inflight_revs)
    return 0;
  if (lb_rev_owned(cs, &v, &n))
    return LB_ENOMEM;
  live = calloc(n + 1, sizeof *live);
  doomed = calloc(n + 1, sizeof *doomed);
  if (!live || !doomed) {
    rc = LB_ENOMEM;
    goto out;
  }
  for (size_t i = 0; i < n; i++)
    live[i] = is_live(cs, v[i], current_rev, update_rev) ||
              v[i]->o.deleting_ms != 0; /* already going: not counted */
  marked = lb_rev_gc_select(n, live, cs->revision_history_limit, doomed);
  for (size_t i = 0; i < n && marked; i++) {
    struct lb_action *a;
    if (!doomed[i])
      continue;
    a = lb_rctx_action(c, LB_VERB_DELETE, LB_KIND_CREV, cs->o.ns, v[i]->o.name,
                       "", NULL);
    if (!a) {
      rc = LB_ENOMEM;
      goto out;
    }
    free(a->uid);
    if (!(a->uid = lb_strdup(v[i]->o.uid))) {
      rc = LB_ENOMEM;
      goto out;
    }
    lb_buf_addf(&names, "%s%s", done ? "," : "", v[i]->o.name);
    done++;
  }
  if (done)
    lb_rctx_reasonf(c,
                    "revision history: deleting %zu dead revision(s) (%s), "
                    "oldest first, to keep revisionHistoryLimit %d",
                    done, names.p, cs->revision_history_limit);
  rc = names.err;
out:
  lb_buf_release(&names);
  free(live);
  free(doomed);
  free(v);
  return rc < 0 ? rc : (int)done;
}
