/* fastdecode_cmp.h — the differential check shared by tests/test_fastdecode.c
 * and tests/fuzz/fuzz_fastdecode.c: one body through the fast path
 * (lb_event_prepare, lb_obj_decode_text) and through the json-c reference
 * (lb__event_prepare_reference, json_tokener_parse + lb_obj_decode), then
 * the results compared field by field. The includer defines
 * FD_FAIL(fmt, ...) (must not return). */
#ifndef LB_FASTDECODE_CMP_H
#define LB_FASTDECODE_CMP_H

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/err.h"
#include "../../engine/event.h"
#include "../../engine/fastdecode.h"
#include "../../engine/obj.h"
#include "../../engine/util.h"

static const char *fd_cmp_body; /* for messages */

static void fd_str(const char *what, const char *a, const char *b) {
  if (!a != !b || (a && strcmp(a, b)))
    FD_FAIL("%s differs: fast \"%s\", reference \"%s\"\n  body: %.2000s", what,
            a ? a : "(null)", b ? b : "(null)", fd_cmp_body);
}

static void fd_int(const char *what, long long a, long long b) {
  if (a != b)
    FD_FAIL("%s differs: fast %lld, reference %lld\n  body: %.2000s", what, a,
            b, fd_cmp_body);
}

/* Packed "a\0b\0\0" lists and "k\0v\0\0" sets compare as bytes. */
static size_t fd_packed_size(const char *p) {
  const char *q = p;
  if (!p)
    return 0;
  while (*q)
    q += strlen(q) + 1;
  return (size_t)(q - p) + 1;
}

static void fd_packed(const char *what, const char *a, const char *b) {
  size_t la = fd_packed_size(a), lb = fd_packed_size(b);
  if (la != lb || (la && memcmp(a, b, la)))
    FD_FAIL("%s differs (%zu vs %zu bytes)\n  body: %.2000s", what, la, lb,
            fd_cmp_body);
}

/* Field by field, then the canonical encoding as a catch-all. */
static void fd_cmp_obj(const struct lb_obj *a, const struct lb_obj *b) {
  if (!a != !b)
    FD_FAIL("object: fast %s, reference %s\n  body: %.2000s",
            a ? "decoded" : "NULL", b ? "decoded" : "NULL", fd_cmp_body);
  if (!a)
    return;
  fd_int("kind", a->kind, b->kind);
  fd_str("ns", a->ns, b->ns);
  fd_str("name", a->name, b->name);
  fd_str("uid", a->uid, b->uid);
  fd_str("rv", a->rv, b->rv);
  fd_str("owner_uid", a->owner_uid, b->owner_uid);
  fd_packed("labels", a->labels, b->labels);
  fd_int("created_ms", a->created_ms, b->created_ms);
  fd_int("deleting_ms", a->deleting_ms, b->deleting_ms);
  fd_int("generation", a->generation, b->generation);
  if (a->kind == LB_KIND_POD) {
    const struct lb_pod *p = (const void *)a, *q = (const void *)b;
    fd_str("node", p->node, q->node);
    fd_int("phase", p->phase, q->phase);
    fd_int("ready", p->ready, q->ready);
    fd_int("ready_ms", p->ready_ms, q->ready_ms);
    fd_int("restarts", p->restarts, q->restarts);
    fd_int("deletion_cost", p->deletion_cost, q->deletion_cost);
    fd_packed("annotations", p->annotations, q->annotations);
    fd_packed("finalizers", p->finalizers, q->finalizers);
    fd_packed("gates", p->gates, q->gates);
    fd_packed("conds", p->conds, q->conds);
    fd_int("n_ctrs", (long long)p->n_ctrs, (long long)q->n_ctrs);
    for (size_t i = 0; i < p->n_ctrs; i++) {
      fd_str("ctrs[].name", p->ctrs[i].name, q->ctrs[i].name);
      fd_str("ctrs[].image", p->ctrs[i].image, q->ctrs[i].image);
    }
    fd_int("n_csts", (long long)p->n_csts, (long long)q->n_csts);
    for (size_t i = 0; i < p->n_csts; i++) {
      const struct lb_ctr_status *x = &p->csts[i], *y = &q->csts[i];
      fd_str("csts[].name", x->name, y->name);
      fd_str("csts[].image", x->image, y->image);
      fd_str("csts[].image_id", x->image_id, y->image_id);
      fd_str("csts[].container_id", x->container_id, y->container_id);
      fd_int("csts[].ready", x->ready, y->ready);
      fd_int("csts[].started", x->started, y->started);
      fd_int("csts[].restarts", x->restarts, y->restarts);
    }
    fd_str("rev", p->rev, q->rev);
    fd_str("lc", p->lc, q->lc);
    fd_int("specified_delete", p->specified_delete, q->specified_delete);
    fd_int("unavailable_label", p->unavailable_label, q->unavailable_label);
    fd_str("ipu_ready", p->ipu_ready, q->ipu_ready);
    fd_str("kpr_ready", p->kpr_ready, q->kpr_ready);
    fd_str("ipu_state", p->ipu_state, q->ipu_state);
    fd_str("ipu_grace", p->ipu_grace, q->ipu_grace);
    fd_int("gate_ipu", p->gate_ipu, q->gate_ipu);
    fd_int("gate_kpr", p->gate_kpr, q->gate_kpr);
    fd_int("ipu_false", p->ipu_false, q->ipu_false);
    fd_int("lc_kind", p->lc_kind, q->lc_kind);
  }
  struct lb_buf ea = LB_BUF_INIT, eb = LB_BUF_INIT;
  lb_obj_encode(a, &ea);
  lb_obj_encode(b, &eb);
  fd_str("canonical encoding", ea.p, eb.p);
  lb_buf_release(&ea);
  lb_buf_release(&eb);
}

static char *fd_copy(const char *s, size_t n) {
  char *c = malloc(n + 1);
  if (!c)
    FD_FAIL("out of memory");
  memcpy(c, s, n);
  c[n] = '\0';
  return c;
}

/* Compares both paths on s[0..n) for an event of `source`. Returns 1 when
 * lb_fastdecode handled the body (as lb_event_prepare hands it over, before
 * the strip), 0 when it declined. */
static int fd_check(const char *s, size_t n, int source) {
  struct lb_event ef, er;
  struct lb_obj *o_fast = NULL, *o_ref = NULL, *o_direct = NULL;
  struct lb_fd_ident id;
  const char *why;
  int rf, rr, handled;
  char *text;
  fd_cmp_body = s;

  /* 1. lb_event_prepare (fast path first) == the json-c reference */
  lb_event_init(&ef);
  lb_event_init(&er);
  ef.source = er.source = source;
  ef.type = er.type = LB_EV_MODIFIED;
  ef.at_ms = er.at_ms = 1764064800000;
  rf = lb_event_prepare(&ef, fd_copy(s, n), n);
  rr = lb__event_prepare_reference(&er, fd_copy(s, n), n);
  fd_int("lb_event_prepare rc", rf, rr);
  if (!rf) {
    fd_str("api_group", ef.api_group, er.api_group);
    fd_str("kind", ef.kind, er.kind);
    fd_str("event ns", ef.ns, er.ns);
    fd_str("event name", ef.name, er.name);
    fd_str("event uid", ef.uid, er.uid);
    fd_str("event rv", ef.rv, er.rv);
    fd_int("body_len", (long long)ef.body_len, (long long)er.body_len);
    if (ef.body_len && memcmp(ef.body, er.body, ef.body_len))
      FD_FAIL("stored body differs\n  body: %.2000s", s);
    fd_int("event hash", (long long)ef.hash, (long long)er.hash);
    fd_cmp_obj(ef.obj, er.obj);
  }

  /* 2. lb_obj_decode_text (the engine's decode) == json-c + lb_obj_decode,
   * on the stripped text as the journal stores it */
  text = fd_copy(s, n);
  text[lb_json_strip_managed_fields(text, n)] = '\0';
  {
    int r1 = lb_obj_decode_text(text, &o_fast, &why), r2 = 0;
    struct json_object *root = json_tokener_parse(text);
    if (root)
      r2 = lb_obj_decode(root, &o_ref, &why);
    json_object_put(root);
    fd_int("lb_obj_decode_text rc", r1, r2);
    fd_cmp_obj(o_fast, o_ref);
  }

  /* 3. the fast decoder alone: when it answers, it answers right. On the
   * unstripped text (what lb_event_prepare gives it) it must agree with
   * itself on the stripped text, and the result counts as handled. */
  handled = lb_fastdecode(s, n, &id, &o_direct) == 0;
  if (handled) {
    if (!rr)
      fd_cmp_obj(o_direct, source == LB_SRC_WATCH ? er.obj : o_direct);
    lb_fd_ident_release(&id);
  }
  lb_obj_free(o_direct);
  o_direct = NULL;
  if (lb_fastdecode(text, strlen(text), &id, &o_direct) == 0) {
    if (!rr && strlen(text) == ef.body_len)
      fd_cmp_obj(o_direct, source == LB_SRC_WATCH ? er.obj : o_direct);
    lb_fd_ident_release(&id);
  } else if (o_direct) {
    FD_FAIL("declined but returned an object");
  }
  lb_obj_free(o_direct);
  lb_obj_free(o_fast);
  lb_obj_free(o_ref);
  free(text);
  lb_event_release(&ef);
  lb_event_release(&er);
  return handled;
}

#endif
