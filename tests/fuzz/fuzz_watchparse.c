/* fuzz_watchparse.c — libFuzzer target for adapters/watchparse.c
 * (`make fuzz`; kept out of the test binary).
 *
 * Input: byte 0 seeds the chunking, byte 1 picks max_line, the rest is the
 * stream. The oracle is differential: feeding the stream whole, in
 * pseudo-random chunks and (for short inputs) one byte at a time must give
 * the same events, byte for byte, and the same final code. Every object
 * handed out must be a JSON object that occurs verbatim in the input. The
 * validator without json-c is checked against json-c itself: mode 3 feeds
 * the stream whole with p.reference set (json-c validates every line) and
 * must give what mode 0 gave. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../adapters/watchparse.h"
#include "../../engine/err.h"

struct ev {
  int type;
  char *obj;
  size_t len;
};
struct run {
  struct ev *ev;
  size_t n, cap;
  const uint8_t *in;
  size_t in_len;
};

static void die(const char *what) {
  fprintf(stderr, "fuzz_watchparse: %s\n", what);
  abort();
}

static int occurs(const uint8_t *h, size_t hn, const char *n, size_t nn) {
  for (size_t i = 0; i + nn <= hn; i++)
    if (memcmp(h + i, n, nn) == 0)
      return 1;
  return 0;
}

static int collect(void *ctx, int type, char *obj, size_t len) {
  struct run *r = ctx;
  json_object *o;
  if (type < LB_W_ADDED || type > LB_W_ERROR)
    die("bad type");
  if (obj[len] != '\0' || len < 2 || obj[0] != '{' || obj[len - 1] != '}')
    die("object not delimited");
  if (!occurs(r->in, r->in_len, obj, len))
    die("object bytes are not in the input");
  o = json_tokener_parse(obj);
  if (!o || !json_object_is_type(o, json_type_object))
    die("object does not parse as a JSON object");
  json_object_put(o);
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 8;
    struct ev *e = realloc(r->ev, cap * sizeof *e);
    if (!e)
      die("oom");
    r->ev = e;
    r->cap = cap;
  }
  r->ev[r->n++] = (struct ev){type, obj, len};
  return 0;
}

static void run_free(struct run *r) {
  for (size_t i = 0; i < r->n; i++)
    free(r->ev[i].obj);
  free(r->ev);
}

/* mode 0: whole; 1: byte at a time; 2: random sizes; 3: whole, json-c
 * validating every line. */
static int feed(struct run *r, const uint8_t *d, size_t n, size_t max_line,
                uint32_t seed, int mode) {
  struct lb_watchparse p;
  size_t at = 0;
  int rc = 0;
  lb_watchparse_init(&p, collect, r);
  if (max_line)
    p.max_line = max_line;
  p.reference = mode == 3;
  while (at < n && !rc) {
    size_t step = n - at;
    if (mode == 1)
      step = 1;
    else if (mode == 2) {
      seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
      step = 1 + seed % 33;
      if (step > n - at)
        step = n - at;
    }
    rc = lb_watchparse_feed(&p, (const char *)d + at, step);
    at += step;
  }
  if (!rc)
    rc = lb_watchparse_finish(&p);
  if (rc != 0 && rc != LB_EPARSE && rc != LB_ERANGE)
    die("unexpected error code");
  if (rc && lb_watchparse_feed(&p, "\n", 1) != rc)
    die("error not latched");
  lb_watchparse_release(&p);
  return rc;
}

static void same(const struct run *a, int ra, const struct run *b, int rb) {
  if (ra != rb)
    die("chunking or the validator changed the result code");
  if (a->n != b->n)
    die("chunking or the validator changed the number of events");
  for (size_t i = 0; i < a->n; i++)
    if (a->ev[i].type != b->ev[i].type || a->ev[i].len != b->ev[i].len ||
        memcmp(a->ev[i].obj, b->ev[i].obj, a->ev[i].len) != 0)
      die("chunking or the validator changed an event");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct run a = {0}, b = {0}, c = {0}, r = {0};
  size_t max_line;
  uint32_t seed;
  int ra, rb, rc, rr;
  if (size < 2)
    return 0;
  seed = 0x9e3779b9u ^ data[0];
  max_line = data[1] < 128 ? 0 : (size_t)(data[1] - 100); /* 0 = default */
  data += 2;
  size -= 2;
  a.in = b.in = c.in = r.in = data;
  a.in_len = b.in_len = c.in_len = r.in_len = size;
  ra = feed(&a, data, size, max_line, seed, 0);
  rb = feed(&b, data, size, max_line, seed, 2);
  same(&a, ra, &b, rb);
  rr = feed(&r, data, size, max_line, seed, 3);
  same(&a, ra, &r, rr);
  if (size <= 4096) {
    rc = feed(&c, data, size, max_line, seed, 1);
    same(&a, ra, &c, rc);
  }
  run_free(&a);
  run_free(&b);
  run_free(&c);
  run_free(&r);
  return 0;
}
