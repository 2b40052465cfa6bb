/* test_cloneset_agg.c — the CloneSet aggregates (engine/cloneset_agg.c)
 * against the full recompute: random event sequences (readiness flaps,
 * restarts, label and lifecycle changes, in-place records, deletions,
 * CloneSet spec edits, ticks crossing minReadySeconds, time going back,
 * action outcomes) applied to two engines, one with full_recompute; after
 * every event both must have made the same decisions (same count, same
 * hash chain) and hold the same state digest. */
#include "../engine/cloneset.h"
#include "../engine/decision.h"
#include "../engine/engine.h"
#include "../engine/err.h"
#include "../engine/event.h"
#include "../engine/inplace.h"
#include "../engine/lifecycle.h"
#include "../engine/obj.h"
#include "../engine/util.h"
#include "test.h"

#define NS "default"
#define CS_UID "cs-agg-uid"
#define NPODS 14

static uint64_t rng;
static unsigned rnd(unsigned n) { /* xorshift64*, deterministic per seed */
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return (unsigned)((rng * 0x2545F4914F6CDD1Dull) >> 33) % n;
}

static const char *const images[] = {"nginx:1", "nginx:2"};
static const char *const lcs[] = {
    NULL,       "PreparingNormal", "Normal",
    "Normal",   "Normal",          "PreparingUpdate",
    "Updating", "Updated",         "PreparingDelete",
    "Odd"};
static const char *const lifecycles[] = {
    "",
    ",\"lifecycle\":{\"preDelete\":{\"labelsHandler\":{\"hook\":\"true\"}}}",
    ",\"lifecycle\":{\"preDelete\":{\"labelsHandler\":{\"hook\":\"true\"},"
    "\"markPodNotReady\":true},\"inPlaceUpdate\":{\"labelsHandler\":{"
    "\"hook\":\"true\"},\"markPodNotReady\":true}}",
    ",\"lifecycle\":{\"preNormal\":{\"labelsHandler\":{\"hook\":\"true\"}}}",
    ",\"lifecycle\":\"broken\""};

struct pod {
  int exists, rv, rev, lc, phase, ready, deleting, spec_del, unavail, hook;
  int gate_ipu, gate_kpr, ipu, kpr, restarts, node, ipstate, grace, owned;
  int64_t ready_ms;
};

struct cs {
  int exists, rv, gen, replicas, image, partition, max_unavail, max_surge;
  int paused, min_ready, lifecycle, utype, puau, exclude, del_mask;
  int history;
};

struct world {
  struct pod p[NPODS];
  struct cs c;
  int64_t at, seq;
  struct lb_engine *fast, *full;
  struct lb_decisions df, dl;
};

static void rev_name(int image, char *out, size_t n) {
  char data[512], hash[16];
  snprintf(data, sizeof data,
           "{\"spec\":{\"template\":{\"$patch\":\"replace\",\"metadata\":{"
           "\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{"
           "\"image\":\"%s\",\"name\":\"c\"}]}}}}",
           images[image]);
  lb_cs_revision_hash(data, 0, hash, sizeof hash);
  snprintf(out, n, "web-%s", hash);
}

static const char *tf(int v) { return v == 1 ? "True" : "False"; }

static char *pod_json(int i, const struct pod *p) {
  struct lb_buf b = LB_BUF_INIT;
  char ts[32], rev[64];
  static const char *const phases[] = {"Pending", "Running",   "Running",
                                       "Running", "Succeeded", "Failed"};
  lb_time_rfc3339(p->ready_ms, ts);
  lb_buf_addf(&b,
              "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
              "\"web-p%02d\",\"namespace\":\"" NS "\",\"uid\":\"uid-%02d\","
              "\"resourceVersion\":\"%d\",\"creationTimestamp\":"
              "\"2026-01-01T00:00:%02dZ\",\"labels\":{\"app\":\"web\"",
              i, i, p->rv, i);
  if (p->rev < 2) {
    rev_name(p->rev, rev, sizeof rev);
    lb_buf_addf(&b, ",\"" LB_LABEL_REVISION "\":\"%s\"", rev);
  } else if (p->rev == 2) {
    lb_buf_adds(&b, ",\"" LB_LABEL_REVISION "\":\"web-other\"");
  }
  if (lcs[p->lc])
    lb_buf_addf(&b, ",\"" LB_LABEL_LIFECYCLE "\":\"%s\"", lcs[p->lc]);
  if (p->spec_del)
    lb_buf_adds(&b, ",\"" LB_LABEL_SPECIFIED_DELETE "\":\"true\"");
  if (p->unavail)
    lb_buf_adds(&b, ",\"unavailable-pod.kruise.io/x\":\"true\"");
  if (p->hook)
    lb_buf_adds(&b, ",\"hook\":\"true\"");
  lb_buf_adds(&b, "}");
  if (p->ipstate || p->grace) {
    rev_name(p->rev & 1, rev, sizeof rev);
    lb_buf_adds(&b, ",\"annotations\":{");
    if (p->ipstate)
      lb_buf_addf(&b,
                  "\"" LB_ANNO_INPLACE_STATE
                  "\":\"{\\\"revision\\\":\\\"%s\\\","
                  "\\\"updateTimestamp\\\":\\\"2026-01-01T00:00:00Z\\\","
                  "\\\"lastContainerStatuses\\\":{\\\"c\\\":{\\\"imageID\\\":"
                  "\\\"old\\\"}}}\"",
                  rev);
    if (p->grace)
      lb_buf_addf(&b,
                  "%s\"" LB_ANNO_INPLACE_GRACE
                  "\":\"{\\\"revision\\\":\\\"%s\\\""
                  ",\\\"containerImages\\\":{\\\"c\\\":\\\"nginx:2\\\"},"
                  "\\\"graceSeconds\\\":%d}\"",
                  p->ipstate ? "," : "", rev, p->grace);
    lb_buf_adds(&b, "}");
  }
  if (p->deleting)
    lb_buf_adds(&b, ",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"");
  if (p->owned)
    lb_buf_adds(&b, ",\"ownerReferences\":[{\"apiVersion\":\"apps.kruise.io/"
                    "v1alpha1\",\"kind\":\"CloneSet\",\"name\":\"web\",\"uid\":"
                    "\"" CS_UID "\",\"controller\":true}]");
  lb_buf_adds(&b, "},\"spec\":{");
  if (p->node)
    lb_buf_addf(&b, "\"nodeName\":\"node-%d\",", p->node);
  lb_buf_adds(&b, "\"readinessGates\":[");
  if (p->gate_ipu)
    lb_buf_adds(&b, "{\"conditionType\":\"" LB_COND_INPLACE_READY "\"}");
  if (p->gate_kpr)
    lb_buf_addf(&b, "%s{\"conditionType\":\"" LB_COND_KRUISE_POD_READY "\"}",
                p->gate_ipu ? "," : "");
  lb_buf_addf(&b,
              "],\"containers\":[{\"name\":\"c\",\"image\":\"%s\"}]},"
              "\"status\":{\"phase\":\"%s\",\"containerStatuses\":[{\"name\":"
              "\"c\",\"image\":\"%s\",\"imageID\":\"id-%d\",\"ready\":%s,"
              "\"restartCount\":%d}],\"conditions\":[{\"type\":\"Ready\","
              "\"status\":\"%s\",\"lastTransitionTime\":\"%s\"}",
              images[p->rev & 1], phases[p->phase], images[p->rev & 1],
              p->rev & 1, p->ready ? "true" : "false", p->restarts,
              p->ready ? "True" : "False", ts);
  if (p->ipu)
    lb_buf_addf(&b,
                ",{\"type\":\"" LB_COND_INPLACE_READY "\",\"status\":\"%s\"}",
                tf(p->ipu));
  if (p->kpr)
    lb_buf_addf(
        &b, ",{\"type\":\"" LB_COND_KRUISE_POD_READY "\",\"status\":\"%s\"}",
        tf(p->kpr));
  lb_buf_adds(&b, "]}}");
  ASSERT(!b.err);
  return lb_buf_detach(&b, NULL);
}

static char *cs_json(const struct cs *c) {
  struct lb_buf b = LB_BUF_INIT;
  static const char *const utypes[] = {"ReCreate", "InPlaceIfPossible",
                                       "InPlaceOnly"};
  lb_buf_addf(&b,
              "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":"
              "\"CloneSet\",\"metadata\":{\"name\":\"web\",\"namespace\":\"" NS
              "\",\"uid\":\"" CS_UID "\",\"resourceVersion\":\"%d\","
              "\"generation\":%d,\"labels\":{\"x\":\"y\"",
              c->rv, c->gen);
  if (c->puau)
    lb_buf_adds(&b, ",\"" LB_GATE_PREPARING_UPDATE_AS_UPDATE "\":\"true\"");
  if (c->exclude)
    lb_buf_adds(&b, ",\"" LB_LABEL_EXCLUDE_PREDELETE "\":\"true\"");
  lb_buf_addf(&b,
              "}},\"spec\":{\"replicas\":%d,\"minReadySeconds\":%d,"
              "\"revisionHistoryLimit\":%d,"
              "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{"
              "\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
              "\"containers\":[{\"image\":\"%s\",\"name\":\"c\"}]}},"
              "\"updateStrategy\":{\"type\":\"%s\",\"partition\":%d,"
              "\"maxUnavailable\":%d,\"maxSurge\":%d,\"paused\":%s},"
              "\"scaleStrategy\":{\"podsToDelete\":[",
              c->replicas, c->min_ready, c->history, images[c->image],
              utypes[c->utype], c->partition, c->max_unavail, c->max_surge,
              c->paused ? "true" : "false");
  for (int i = 0, n = 0; i < NPODS; i++)
    if (c->del_mask & (1 << i))
      lb_buf_addf(&b, "%s\"web-p%02d\"", n++ ? "," : "", i);
  lb_buf_addf(&b, "]}%s}}", lifecycles[c->lifecycle]);
  ASSERT(!b.err);
  return lb_buf_detach(&b, NULL);
}

static void both(struct world *w, int src, int type, const char *body,
                 const struct lb_action *answer, int status);

/* A ControllerRevision of the CloneSet: k = 0, 1 the two images' (their
 * real names and data), 2 "web-other" (a revision label some pods carry),
 * 3.. dead ones. */
static void put_crev(struct world *w, int k) {
  char name[64], body[1024];
  const char *image = k < 2 ? images[k] : "nginx:0";
  if (k < 2)
    rev_name(k, name, sizeof name);
  else
    snprintf(name, sizeof name, k == 2 ? "web-other" : "web-dead%d", k);
  snprintf(body, sizeof body,
           "{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\","
           "\"metadata\":{\"name\":\"%s\",\"namespace\":\"" NS "\",\"uid\":"
           "\"crev-%s\",\"resourceVersion\":\"%lld\",\"ownerReferences\":[{"
           "\"uid\":\"" CS_UID "\",\"controller\":true}]},\"revision\":%d,"
           "\"data\":{\"spec\":{\"template\":{\"$patch\":\"replace\","
           "\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
           "\"containers\":[{\"image\":\"%s\",\"name\":\"c\"}]}}}}}",
           name, name, (long long)w->seq + 1000, k + 1, image);
  both(w, LB_SRC_WATCH, LB_EV_ADDED, body, NULL, 0);
}

/* The same event into both engines; then the same decisions and state. */
static void both(struct world *w, int src, int type, const char *body,
                 const struct lb_action *answer, int status) {
  struct lb_event ev;
  size_t nf = w->df.n, nl = w->dl.n;
  w->seq++;
  for (int k = 0; k < 2; k++) {
    if (answer) {
      ASSERT_OK(lb_action_answer_init(&ev, answer, type, status));
    } else {
      lb_event_init(&ev);
      ev.type = type;
    }
    ev.seq = w->seq;
    ev.at_ms = w->at;
    ev.source = src;
    char *b = body ? lb_strdup(body) : NULL;
    ASSERT_OK(lb_event_prepare(&ev, b, body ? strlen(body) : 0));
    ASSERT_OK(lb_engine_apply(k ? w->full : w->fast, &ev, k ? &w->dl : &w->df));
    lb_event_release(&ev);
  }
  if (w->df.n - nf != w->dl.n - nl ||
      lb_engine_chain(w->fast) != lb_engine_chain(w->full)) {
    for (size_t i = nf; i < w->df.n; i++)
      fprintf(stderr, "fast: %s\n", w->df.v[i].reason);
    for (size_t i = nl; i < w->dl.n; i++)
      fprintf(stderr, "full: %s\n", w->dl.v[i].reason);
  }
  ASSERT_EQ_INT(w->df.n - nf, w->dl.n - nl);
  ASSERT_EQ_U64(lb_engine_chain(w->fast), lb_engine_chain(w->full));
  ASSERT_EQ_U64(lb_engine_digest(w->fast), lb_engine_digest(w->full));
}

static void put_pod(struct world *w, int i) {
  char *j = pod_json(i, &w->p[i]);
  w->p[i].rv = (int)++w->seq + 1000; /* any increasing number */
  free(j);
  j = pod_json(i, &w->p[i]);
  both(w, LB_SRC_WATCH, w->p[i].exists ? LB_EV_MODIFIED : LB_EV_ADDED, j, NULL,
       0);
  w->p[i].exists = 1;
  free(j);
}

static void put_cs(struct world *w) {
  w->c.rv = (int)w->seq + 1000;
  w->c.gen++;
  char *j = cs_json(&w->c);
  both(w, LB_SRC_WATCH, w->c.exists ? LB_EV_MODIFIED : LB_EV_ADDED, j, NULL, 0);
  w->c.exists = 1;
  free(j);
}

/* Mostly a settled pod (so that many reconciles find nothing to do on
 * any pod), else anything. */
static void new_pod(struct pod *p, int64_t at, int image) {
  memset(p, 0, sizeof *p);
  if (rnd(4)) {
    p->rev = image;
    p->lc = 2;             /* Normal */
    p->phase = 1 + rnd(3); /* Running */
    p->ready = 1;
    p->ready_ms = at - rnd(8000);
    p->gate_ipu = p->gate_kpr = p->ipu = p->kpr = rnd(3) != 0;
    p->node = 1 + rnd(2);
    p->owned = 1;
    p->ipstate = rnd(10) == 0;
    return;
  }
  p->rev = rnd(4);
  p->lc = rnd(10);
  p->phase = rnd(6);
  p->ready = rnd(4) != 0;
  p->ready_ms = at - rnd(8000);
  p->gate_ipu = rnd(2);
  p->gate_kpr = rnd(2);
  p->ipu = rnd(5) ? 1 : rnd(3);
  p->kpr = rnd(5) ? 1 : rnd(3);
  p->node = rnd(3);
  p->owned = rnd(12) != 0;
  p->ipstate = rnd(8) == 0;
}

/* One random change of pod i (present or not). */
static void mutate_pod(struct world *w, int i) {
  struct pod *p = &w->p[i];
  if (!p->exists) {
    new_pod(p, w->at, w->c.image);
    put_pod(w, i);
    return;
  }
  switch (rnd(16)) {
  case 0:
  case 1:
  case 2:
  case 3:
  case 4: /* readiness flap */
    p->ready = !p->ready;
    if (p->ready)
      p->ready_ms = w->at - rnd(3) * 1000;
    break;
  case 5:
    p->restarts++;
    break;
  case 6:
    p->lc = rnd(3) ? 2 : rnd(10);
    break;
  case 7:
    p->rev = rnd(4);
    break;
  case 8:
    p->spec_del = !p->spec_del;
    break;
  case 9:
    p->unavail = !p->unavail;
    break;
  case 10:
    p->phase = rnd(6);
    break;
  case 11:
    p->deleting = 1;
    break;
  case 12:
    p->ipu = rnd(3);
    p->kpr = rnd(3);
    break;
  case 13:
    p->grace = rnd(3) == 0 ? 1 + (int)rnd(3) : 0;
    p->ipstate = rnd(3) == 0;
    break;
  case 14:
    p->hook = !p->hook;
    p->gate_kpr = rnd(2);
    break;
  default: { /* deleted */
    char body[256];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
             "\"web-p%02d\",\"namespace\":\"" NS "\",\"uid\":\"uid-%02d\"}}",
             i, i);
    both(w, LB_SRC_WATCH, LB_EV_DELETED, body, NULL, 0);
    p->exists = 0;
    return;
  }
  }
  put_pod(w, i);
}

static int active_pods(const struct world *w) {
  int n = 0;
  for (int i = 0; i < NPODS; i++)
    n += w->p[i].exists && !w->p[i].deleting && w->p[i].phase < 4;
  return n;
}

static void mutate_cs(struct world *w) {
  struct cs *c = &w->c;
  switch (rnd(12)) {
  case 0:
  case 1:
    c->replicas = rnd(3) ? active_pods(w) : (int)rnd(NPODS);
    break;
  case 2:
    c->image = !c->image;
    break;
  case 3:
    c->partition = (int)rnd(5);
    break;
  case 4:
    c->max_unavail = (int)rnd(4);
    c->max_surge = (int)rnd(3);
    break;
  case 5:
    c->paused = !c->paused;
    break;
  case 6:
    c->min_ready = rnd(2) ? 0 : 1 + (int)rnd(6);
    break;
  case 7:
    c->lifecycle = (int)rnd(LB_ARRAY_SIZE(lifecycles));
    break;
  case 8:
    c->utype = (int)rnd(3);
    break;
  case 9:
    c->puau = !c->puau;
    c->exclude = rnd(2);
    c->history = (int)rnd(3);
    break;
  case 10:
    c->del_mask = rnd(3) ? 0 : 1 << rnd(NPODS);
    break;
  default:
    break; /* same spec, new resourceVersion (a status write coming back) */
  }
  put_cs(w);
}

/* Answers the actions of every decision the fast engine made so far and
 * has not had answered (the full engine decided the same: the chains are
 * equal); a sixth of them fail. */
static void answer(struct world *w, size_t *next) {
  for (size_t end = w->df.n; *next < end;) {
    size_t n = w->df.v[*next].n_actions;
    if (!n) {
      (*next)++;
      continue;
    }
    for (size_t a = 0; a < n; a++) {
      /* a copy: answering appends decisions (w->df.v moves) */
      const struct lb_action *src = &w->df.v[*next].actions[a];
      struct lb_action c;
      memset(&c, 0, sizeof c);
      c.id = src->id;
      c.verb = src->verb;
      c.api_group = lb_strdup(src->api_group);
      c.kind = lb_strdup(src->kind);
      c.ns = lb_strdup(src->ns);
      c.name = lb_strdup(src->name);
      int status = rnd(6) ? 200 : 500, i = -1;
      both(w, LB_SRC_OUTCOME, LB_EV_OUTCOME, NULL, &c, status);
      /* the patch took effect (roughly: the pod settles) half the time */
      if (status == 200 && !strcmp(c.kind, "Pod") &&
          (c.verb == LB_VERB_PATCH || c.verb == LB_VERB_SPATCH) &&
          sscanf(c.name, "web-p%d", &i) == 1 && i >= 0 && i < NPODS &&
          w->p[i].exists && rnd(2)) {
        struct pod *p = &w->p[i];
        p->lc = p->lc == 8 ? 8 : 2;
        p->ipu = p->kpr = 1;
        p->grace = 0;
        put_pod(w, i);
      }
      free(c.api_group);
      free(c.kind);
      free(c.ns);
      free(c.name);
    }
    (*next)++;
  }
}

static void run_seed(uint64_t seed, int steps, int check) {
  struct world w;
  struct lb_engine_opts fo = LB_ENGINE_OPTS_INIT, lo = LB_ENGINE_OPTS_INIT;
  size_t next = 0;
  memset(&w, 0, sizeof w);
  rng = seed * 0x9E3779B97F4A7C15ull + 1;
  lb_engine_check_all(0);
  fo.check_aggregates = check;
  lo.full_recompute = 1;
  ASSERT_OK(lb_engine_new(&fo, &w.fast));
  ASSERT_OK(lb_engine_new(&lo, &w.full));
  w.at = 1767225600000; /* 2026-01-01 */
  w.c.replicas = 6;
  w.c.max_unavail = 2;
  w.c.history = 1;
  /* pods first (adopted when the CloneSet arrives), or the CloneSet first */
  int cs_first = (int)rnd(2);
  if (cs_first)
    put_cs(&w);
  for (int i = 0; i < 6; i++) {
    new_pod(&w.p[i], w.at, w.c.image);
    w.p[i].owned = 1;
    put_pod(&w, i);
  }
  if (!cs_first)
    put_cs(&w);
  for (int s = 0; s < steps; s++) {
    unsigned r = rnd(100);
    if (rnd(10) == 0)
      w.at -= rnd(3000); /* time goes back now and then */
    else
      w.at += rnd(2500);
    if (r < 45)
      mutate_pod(&w, (int)rnd(NPODS));
    else if (r < 52)
      mutate_cs(&w);
    else if (r < 58)
      both(&w, LB_SRC_TICK, LB_EV_TICK, NULL, NULL, 0);
    else if (r < 60)
      put_crev(&w, (int)rnd(6));
    else
      answer(&w, &next);
  }
  lb_decisions_release(&w.df);
  lb_decisions_release(&w.dl);
  free(w.df.v);
  free(w.dl.v);
  lb_engine_free(w.fast);
  lb_engine_free(w.full);
}

/* Decisions alone (no aggregate check): a drift in the fold shows as a
 * different decision. */
TEST_TIMEOUT(cloneset_agg_differential_random, 120) {
  for (uint64_t seed = 1; seed <= 40; seed++)
    run_seed(seed, 300, 0);
}

/* The same with check_aggregates on in the fast engine: a drift stops at
 * the event that caused it. */
TEST_TIMEOUT(cloneset_agg_differential_random_checked, 120) {
  for (uint64_t seed = 101; seed <= 125; seed++)
    run_seed(seed, 300, 1);
}
