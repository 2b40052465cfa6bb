/* test_watchparse.c — adapters/watchparse.c: the watch stream splitter.
 *
 * The central property: however the transport chunks a stream (every split
 * point, random chunk sizes, one byte at a time), the same events come out
 * with byte-identical objects. Then the failure modes: cut lines, oversized
 * lines, garbage, callback errors — each latched, none a crash. */
#include <json-c/json.h>

#include "../adapters/watchparse.h"
#include "../engine/err.h"
#include "../engine/util.h"
#include "test.h"

/* ---- collecting events --------------------------------------------------- */
struct ev {
  int type;
  char *obj;
  size_t len;
};

struct sink {
  struct ev ev[64];
  int n;
  int fail_at; /* return fail_rc on this event (1-based), 0 = never */
  int fail_rc;
};

static int collect(void *ctx, int type, char *object, size_t len) {
  struct sink *s = ctx;
  if (object[len] != '\0')
    lb_test_fail(__FILE__, __LINE__, "object is not NUL-terminated");
  if (s->n == (int)LB_ARRAY_SIZE(s->ev))
    lb_test_fail(__FILE__, __LINE__, "too many events");
  s->ev[s->n++] = (struct ev){type, object, len};
  if (s->fail_at && s->n == s->fail_at)
    return s->fail_rc;
  return 0;
}

static void sink_release(struct sink *s) {
  for (int i = 0; i < s->n; i++)
    free(s->ev[i].obj);
  s->n = 0;
}

/* ---- the reference stream ------------------------------------------------ */
struct want {
  int type;
  const char *obj;
};

/* Objects whose bytes must come back exactly: odd spacing, escapes, raw
 * multi-byte UTF-8, braces and quotes inside strings, numbers json-c would
 * respell (1.50, 1e3, -0). */
static const char OBJ1[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-0\","
    "\"namespace\":\"default\",\"resourceVersion\":\"100\",\"annotations\":{"
    "\"braces\":\"{not}{an}[object]\",\"quotes\":\"say \\\"hi\\\" }\","
    "\"newline\":\"a\\nb\\r\\n\\t}\",\"backslash\":\"C:\\\\dir\\\\\","
    "\"unicode\":\"\\u00e9\\u65e5\\ud83d\\ude00\\u0022\\u007d\","
    "\"utf8\":\"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\","
    "\"object\":\"{\\\"type\\\":\\\"ADDED\\\"}\"}},\"spec\":{\"containers\":[{"
    "\"name\":\"c\",\"image\":\"busybox:v1\",\"args\":[\"}\",\"]\",\"\\\\\"]}]}"
    ","
    "\"status\":{\"n\":[1.50,1e3,-0,0.1e-2,null,true,false,[],{}]}}";
static const char OBJ2[] =
    "{ \"kind\" : \"Pod\" ,\t\"metadata\" : { \"name\" : \"web-1\" } , "
    "\"spec\" : { } }";
static const char OBJ3[] =
    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-2\",\"deletionTimestamp\":"
    "\"2026-01-01T00:00:00Z\"}}";
static const char OBJ_BOOKMARK[] =
    "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":"
    "\"12746\",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}}}";
static const char OBJ_ERROR[] =
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
    "\"Failure\",\"message\":\"too old resource version: 1 (12746)\","
    "\"reason\":\"Expired\",\"code\":410}";
/* Pretty-printed over several lines: one event, split at depth 0 only. */
static const char OBJ_PRETTY[] = "{\n  \"kind\": \"Pod\",\n  \"metadata\": {\n"
                                 "    \"name\": \"pretty\"\n  }\n}";

static const struct want WANT[] = {
    {LB_W_ADDED, OBJ1},      {LB_W_MODIFIED, OBJ2},
    {LB_W_DELETED, OBJ3},    {LB_W_BOOKMARK, OBJ_BOOKMARK},
    {LB_W_ERROR, OBJ_ERROR}, {LB_W_MODIFIED, OBJ_PRETTY},
    {LB_W_ADDED, OBJ2},
};

static char *stream(size_t *len) {
  struct lb_buf b = LB_BUF_INIT;
  lb_buf_addf(&b, "{\"type\":\"ADDED\",\"object\":%s}\n", OBJ1);
  /* "object" before "type", spaces around, blank lines after */
  lb_buf_addf(&b, "{ \"object\" : %s , \"type\" : \"MODIFIED\" }\n\n  \n",
              OBJ2);
  lb_buf_addf(&b, "{\"type\":\"DELETED\",\"object\":%s}\r\n\r\n", OBJ3);
  lb_buf_addf(&b, "{\"type\":\"BOOKMARK\",\"object\":%s}\n", OBJ_BOOKMARK);
  lb_buf_addf(&b, "{\"type\":\"ERROR\",\"object\":%s}\n", OBJ_ERROR);
  lb_buf_addf(&b, "{\n \"type\": \"MODIFIED\",\n \"object\": %s\n}\r\n",
              OBJ_PRETTY);
  /* an extra member and an escaped key spelling of "type" */
  lb_buf_addf(&b,
              "{\"t\\u0079pe\":\"ADDED\",\"x\":[\"object\"],\"object\":%s}\n",
              OBJ2);
  ASSERT_OK(b.err);
  return lb_buf_detach(&b, len);
}

static void check_events(const struct sink *s, int line) {
  if (s->n != (int)LB_ARRAY_SIZE(WANT))
    lb_test_fail(__FILE__, line, "got %d events, want %d", s->n,
                 (int)LB_ARRAY_SIZE(WANT));
  for (int i = 0; i < s->n; i++) {
    if (s->ev[i].type != WANT[i].type)
      lb_test_fail(__FILE__, line, "event %d: type %d, want %d", i,
                   s->ev[i].type, WANT[i].type);
    if (s->ev[i].len != strlen(WANT[i].obj) ||
        memcmp(s->ev[i].obj, WANT[i].obj, s->ev[i].len) != 0)
      lb_test_fail(__FILE__, line, "event %d object:\n  got  %.*s\n  want %s",
                   i, (int)s->ev[i].len, s->ev[i].obj, WANT[i].obj);
  }
}

/* Feeds data in the chunks given by cuts (ascending offsets), then finish. */
static int feed_chunks(struct sink *s, const char *d, size_t n,
                       const size_t *cuts, size_t ncuts) {
  struct lb_watchparse p;
  size_t at = 0;
  int rc = 0;
  lb_watchparse_init(&p, collect, s);
  for (size_t i = 0; i <= ncuts && !rc; i++) {
    size_t end = i < ncuts ? cuts[i] : n;
    rc = lb_watchparse_feed(&p, d + at, end - at);
    at = end;
  }
  if (!rc)
    rc = lb_watchparse_finish(&p);
  lb_watchparse_release(&p);
  return rc;
}

static uint64_t rng(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

TEST(watchparse_whole_stream) {
  struct sink s = {0};
  size_t n;
  char *d = stream(&n);
  ASSERT_OK(feed_chunks(&s, d, n, NULL, 0));
  check_events(&s, __LINE__);
  sink_release(&s);
  free(d);
}

TEST(watchparse_every_split_point) {
  size_t n;
  char *d = stream(&n);
  for (size_t k = 0; k <= n; k++) {
    struct sink s = {0};
    int rc = feed_chunks(&s, d, n, &k, 1);
    if (rc)
      lb_test_fail(__FILE__, __LINE__, "split at %zu: %s", k, lb_err_name(rc));
    check_events(&s, __LINE__);
    sink_release(&s);
  }
  free(d);
}

TEST(watchparse_every_pair_of_split_points_near_escapes) {
  /* Two cuts around every byte of the escape-heavy first event: a cut
   * inside \" then another inside the following UTF-8 sequence, etc. */
  size_t n;
  char *d = stream(&n);
  size_t first = strlen(OBJ1) + 30;
  for (size_t a = 0; a < first; a++)
    for (size_t b = a; b <= a + 8 && b < first; b++) {
      struct sink s = {0};
      size_t cuts[2] = {a, b};
      ASSERT_OK(feed_chunks(&s, d, n, cuts, 2));
      check_events(&s, __LINE__);
      sink_release(&s);
    }
  free(d);
}

TEST(watchparse_random_chunks) {
  size_t n;
  char *d = stream(&n);
  uint64_t seed = 0x9e3779b97f4a7c15ull;
  for (int round = 0; round < 500; round++) {
    struct sink s = {0};
    size_t cuts[4096], nc = 0, at = 0;
    size_t max = 1 + rng(&seed) % 64;
    while (nc < LB_ARRAY_SIZE(cuts)) {
      at += 1 + rng(&seed) % max;
      if (at >= n)
        break;
      cuts[nc++] = at;
    }
    ASSERT_OK(feed_chunks(&s, d, n, cuts, nc));
    check_events(&s, __LINE__);
    sink_release(&s);
  }
  free(d);
}

TEST(watchparse_byte_at_a_time) {
  struct lb_watchparse p;
  struct sink s = {0};
  size_t n;
  char *d = stream(&n);
  lb_watchparse_init(&p, collect, &s);
  for (size_t i = 0; i < n; i++)
    ASSERT_OK(lb_watchparse_feed(&p, d + i, 1));
  ASSERT_OK(lb_watchparse_feed(&p, d, 0)); /* empty feed is harmless */
  ASSERT_OK(lb_watchparse_finish(&p));
  check_events(&s, __LINE__);
  sink_release(&s);
  lb_watchparse_release(&p);
  free(d);
}

TEST(watchparse_objects_are_valid_json) {
  struct sink s = {0};
  size_t n;
  char *d = stream(&n);
  ASSERT_OK(feed_chunks(&s, d, n, NULL, 0));
  for (int i = 0; i < s.n; i++) {
    json_object *o = json_tokener_parse(s.ev[i].obj);
    ASSERT(o != NULL);
    ASSERT(json_object_is_type(o, json_type_object));
    json_object_put(o);
  }
  sink_release(&s);
  free(d);
}

TEST(watchparse_bookmark_and_error_events) {
  static const char in[] =
      "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"metadata\":{"
      "\"resourceVersion\":\"77\"}}}\n"
      "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":"
      "\"v1\",\"status\":\"Failure\",\"reason\":\"Expired\",\"code\":410}}\n";
  struct lb_watchparse p;
  struct sink s = {0};
  json_object *o, *code;
  lb_watchparse_init(&p, collect, &s);
  ASSERT_OK(lb_watchparse_feed(&p, in, strlen(in)));
  ASSERT_OK(lb_watchparse_finish(&p));
  ASSERT_EQ_INT(s.n, 2);
  ASSERT_EQ_INT(s.ev[0].type, LB_W_BOOKMARK);
  ASSERT_EQ_STR(s.ev[0].obj,
                "{\"kind\":\"Pod\",\"metadata\":{\"resourceVersion\":\"77\"}}");
  ASSERT_EQ_INT(s.ev[1].type, LB_W_ERROR);
  o = json_tokener_parse(s.ev[1].obj);
  ASSERT(o && json_object_object_get_ex(o, "code", &code));
  ASSERT_EQ_INT(json_object_get_int(code), 410);
  ASSERT(json_object_object_get_ex(o, "kind", &code));
  ASSERT_EQ_STR(json_object_get_string(code), "Status");
  json_object_put(o);
  sink_release(&s);
  lb_watchparse_release(&p);
}

TEST(watchparse_crlf_and_blank_lines) {
  static const char in[] = "\r\n\n   \n\t\r\n"
                           "{\"type\":\"ADDED\",\"object\":{\"a\":1}}\r\n"
                           "\r\n"
                           "{\"type\":\"DELETED\",\"object\":{\"a\":2}}\r\n"
                           "  \r\n";
  for (size_t k = 0; k <= sizeof in - 1; k++) {
    struct sink s = {0};
    ASSERT_OK(feed_chunks(&s, in, sizeof in - 1, &k, 1));
    ASSERT_EQ_INT(s.n, 2);
    ASSERT_EQ_STR(s.ev[0].obj, "{\"a\":1}");
    ASSERT_EQ_INT(s.ev[1].type, LB_W_DELETED);
    ASSERT_EQ_STR(s.ev[1].obj, "{\"a\":2}");
    sink_release(&s);
  }
}

TEST(watchparse_escaped_object_key) {
  /* "obj\u0065ct" is the key "object" to any JSON reader. */
  static const char in[] =
      "{\"type\":\"ADDED\",\"obj\\u0065ct\":{\"k\":\"v\"}}\n";
  struct sink s = {0};
  ASSERT_OK(feed_chunks(&s, in, sizeof in - 1, NULL, 0));
  ASSERT_EQ_INT(s.n, 1);
  ASSERT_EQ_STR(s.ev[0].obj, "{\"k\":\"v\"}");
  sink_release(&s);
}

TEST(watchparse_cut_mid_line_then_finish) {
  static const char in[] = "{\"type\":\"ADDED\",\"object\":{\"a\":1}}\n"
                           "{\"type\":\"MODIFIED\",\"object\":{\"a\":";
  struct lb_watchparse p;
  struct sink s = {0};
  lb_watchparse_init(&p, collect, &s);
  ASSERT_OK(lb_watchparse_feed(&p, in, sizeof in - 1));
  ASSERT_EQ_INT(s.n, 1);
  ASSERT_EQ_INT(lb_watchparse_finish(&p), LB_EPARSE);
  ASSERT_EQ_INT(lb_watchparse_finish(&p), LB_EPARSE); /* latched */
  ASSERT_EQ_INT(lb_watchparse_feed(&p, "\n", 1), LB_EPARSE);
  ASSERT_EQ_INT(s.n, 1);
  sink_release(&s);
  lb_watchparse_release(&p);

  /* A complete object without its newline is still a cut line. */
  lb_watchparse_init(&p, collect, &s);
  ASSERT_OK(lb_watchparse_feed(&p, in, 33));
  ASSERT_EQ_INT(s.n, 0);
  ASSERT_EQ_INT(lb_watchparse_finish(&p), LB_EPARSE);
  lb_watchparse_release(&p);

  /* Trailing whitespace only is not a cut line. */
  lb_watchparse_init(&p, collect, &s);
  ASSERT_OK(lb_watchparse_feed(&p, in, 34));
  ASSERT_OK(lb_watchparse_feed(&p, " \r", 2));
  ASSERT_OK(lb_watchparse_finish(&p));
  ASSERT_EQ_INT(s.n, 1);
  sink_release(&s);
  lb_watchparse_release(&p);
}

static char *event_of_len(size_t total) {
  /* {"type":"ADDED","object":{"p":"xxx…"}} is exactly `total` bytes. */
  static const char pre[] = "{\"type\":\"ADDED\",\"object\":{\"p\":\"";
  static const char post[] = "\"}}";
  size_t fill = total - (sizeof pre - 1) - (sizeof post - 1);
  char *e = malloc(total + 2);
  ASSERT(e != NULL);
  memcpy(e, pre, sizeof pre - 1);
  memset(e + sizeof pre - 1, 'x', fill);
  memcpy(e + total - (sizeof post - 1), post, sizeof post - 1);
  e[total] = '\n';
  e[total + 1] = '\0';
  return e;
}

TEST(watchparse_oversized_line_is_latched) {
  struct lb_watchparse p;
  struct sink s = {0};
  char *fits = event_of_len(100), *big = event_of_len(101);
  /* exactly max_line is fine, whole or byte by byte */
  lb_watchparse_init(&p, collect, &s);
  p.max_line = 100;
  ASSERT_OK(lb_watchparse_feed(&p, fits, 101));
  for (size_t i = 0; i < 101; i++)
    ASSERT_OK(lb_watchparse_feed(&p, fits + i, 1));
  ASSERT_EQ_INT(s.n, 2);
  /* one more byte is refused, and stays refused */
  ASSERT_EQ_INT(lb_watchparse_feed(&p, big, 102), LB_ERANGE);
  ASSERT_EQ_INT(lb_watchparse_feed(&p, fits, 101), LB_ERANGE);
  ASSERT_EQ_INT(lb_watchparse_finish(&p), LB_ERANGE);
  ASSERT_EQ_INT(s.n, 2);
  sink_release(&s);
  lb_watchparse_release(&p);

  /* the same, in small chunks: refused before the newline arrives */
  lb_watchparse_init(&p, collect, &s);
  p.max_line = 100;
  int rc = 0;
  for (size_t i = 0; i < 101 && !rc; i += 7)
    rc = lb_watchparse_feed(&p, big + i, i + 7 <= 101 ? 7 : 101 - i);
  ASSERT_EQ_INT(rc, LB_ERANGE);
  ASSERT(p.len <= 100);
  ASSERT_EQ_INT(lb_watchparse_feed(&p, "\n", 1), LB_ERANGE);
  ASSERT_EQ_INT(s.n, 0);
  lb_watchparse_release(&p);

  /* a garbage line with no newline at all stops at max_line too */
  lb_watchparse_init(&p, collect, &s);
  p.max_line = 1000;
  rc = 0;
  for (int i = 0; i < 10000 && !rc; i++)
    rc = lb_watchparse_feed(&p, "[[[[[[[[[[", 10);
  ASSERT_EQ_INT(rc, LB_ERANGE);
  ASSERT(p.cap <= 2048);
  lb_watchparse_release(&p);
  free(fits);
  free(big);
}

TEST(watchparse_large_event_default_limit) {
  struct lb_watchparse p;
  struct sink s = {0};
  size_t total = (size_t)5 << 20;
  char *e = event_of_len(total);
  lb_watchparse_init(&p, collect, &s);
  for (size_t i = 0; i < total + 1; i += 16384)
    ASSERT_OK(lb_watchparse_feed(
        &p, e + i, i + 16384 <= total + 1 ? 16384 : total + 1 - i));
  ASSERT_OK(lb_watchparse_finish(&p));
  ASSERT_EQ_INT(s.n, 1);
  ASSERT_EQ_INT(s.ev[0].len, total - 26);
  ASSERT(memcmp(s.ev[0].obj, e + 25, total - 26) == 0);
  sink_release(&s);
  lb_watchparse_release(&p);
  free(e);
}

TEST(watchparse_garbage_lines_are_eparse) {
  static const struct {
    const char *name, *in;
    size_t len; /* 0: strlen */
  } rows[] = {
      {"text", "hello\n", 0},
      {"empty object", "{}\n", 0},
      {"array", "[]\n", 0},
      {"string", "\"ADDED\"\n", 0},
      {"number", "123\n", 0},
      {"null", "null\n", 0},
      {"no object", "{\"type\":\"ADDED\"}\n", 0},
      {"no type", "{\"object\":{}}\n", 0},
      {"object is array", "{\"type\":\"ADDED\",\"object\":[]}\n", 0},
      {"object is string", "{\"type\":\"ADDED\",\"object\":\"{}\"}\n", 0},
      {"object is null", "{\"type\":\"ADDED\",\"object\":null}\n", 0},
      {"unknown type", "{\"type\":\"UPSERTED\",\"object\":{}}\n", 0},
      {"lowercase type", "{\"type\":\"added\",\"object\":{}}\n", 0},
      {"type not string", "{\"type\":1,\"object\":{}}\n", 0},
      {"duplicate object", "{\"type\":\"ADDED\",\"object\":{},\"object\":{}}\n",
       0},
      {"duplicate type",
       "{\"type\":\"ADDED\",\"type\":\"DELETED\",\"object\":{}}\n", 0},
      {"trailing garbage", "{\"type\":\"ADDED\",\"object\":{}} x\n", 0},
      {"two objects", "{\"type\":\"ADDED\",\"object\":{}}{\"a\":1}\n", 0},
      {"trailing comma", "{\"type\":\"ADDED\",\"object\":{},}\n", 0},
      {"single quotes", "{'type':'ADDED','object':{}}\n", 0},
      {"unquoted key", "{type:\"ADDED\",\"object\":{}}\n", 0},
      {"closer first", "}{\"type\":\"ADDED\",\"object\":{}}\n", 0},
      {"extra closer", "{\"type\":\"ADDED\",\"object\":{}}}\n", 0},
      {"bad escape", "{\"type\":\"ADDED\",\"object\":{\"a\":\"\\q\"}}\n", 0},
      {"raw newline in string",
       "{\"type\":\"ADDED\",\"object\":{\"a\":\"x\ny\"}}\n", 0},
      {"raw tab in string",
       "{\"type\":\"ADDED\",\"object\":{\"a\":\"x\ty\"}}\n", 0},
      {"NUL byte", "{\"type\":\"ADDED\",\"object\":{\"a\":\"x\0y\"}}\n", 43},
      {"NUL outside string", "{\"type\":\"ADDED\",\0\"object\":{}}\n", 31},
      {"invalid UTF-8",
       "{\"type\":\"ADDED\",\"object\":{\"a\":\"\xff\xfe\"}}\n", 0},
      {"truncated UTF-8",
       "{\"type\":\"ADDED\",\"object\":{\"a\":\"\xe6\x97\"}}\n", 0},
      {"lone key", "{\"type\":\"ADDED\",\"object\"}\n", 0},
      {"nested too deep for a watch", NULL, 0},
  };
  for (size_t r = 0; r < LB_ARRAY_SIZE(rows); r++) {
    struct lb_buf b = LB_BUF_INIT;
    struct sink s = {0};
    const char *in = rows[r].in;
    size_t n = rows[r].len;
    int rc;
    if (!in) {
      lb_buf_adds(&b, "{\"type\":\"ADDED\",\"object\":");
      for (int i = 0; i < 5000; i++)
        lb_buf_adds(&b, "{\"a\":");
      lb_buf_adds(&b, "1");
      for (int i = 0; i < 5000; i++)
        lb_buf_adds(&b, "}");
      lb_buf_adds(&b, "}\n");
      in = b.p;
      n = b.len;
    } else if (!n) {
      n = strlen(in);
    }
    /* whole, and byte by byte: same verdict */
    rc = feed_chunks(&s, in, n, NULL, 0);
    if (rc != LB_EPARSE)
      lb_test_fail(__FILE__, __LINE__, "row \"%s\": %s, want LB_EPARSE",
                   rows[r].name, lb_err_name(rc));
    ASSERT_EQ_INT(s.n, 0);
    {
      struct lb_watchparse p;
      lb_watchparse_init(&p, collect, &s);
      rc = 0;
      for (size_t i = 0; i < n && !rc; i++)
        rc = lb_watchparse_feed(&p, in + i, 1);
      if (!rc)
        rc = lb_watchparse_finish(&p);
      if (rc != LB_EPARSE)
        lb_test_fail(__FILE__, __LINE__, "row \"%s\" bytewise: %s",
                     rows[r].name, lb_err_name(rc));
      lb_watchparse_release(&p);
    }
    ASSERT_EQ_INT(s.n, 0);
    lb_buf_release(&b);
  }
}

TEST(watchparse_deep_but_reasonable_nesting) {
  struct lb_buf b = LB_BUF_INIT;
  struct sink s = {0};
  lb_buf_adds(&b, "{\"type\":\"ADDED\",\"object\":");
  for (int i = 0; i < 200; i++)
    lb_buf_adds(&b, "{\"a\":[");
  for (int i = 0; i < 200; i++)
    lb_buf_adds(&b, "]}");
  lb_buf_adds(&b, "}\n");
  ASSERT_OK(feed_chunks(&s, b.p, b.len, NULL, 0));
  ASSERT_EQ_INT(s.n, 1);
  ASSERT_EQ_INT(s.ev[0].len, b.len - 27);
  sink_release(&s);
  lb_buf_release(&b);
}

TEST(watchparse_error_is_latched) {
  static const char good[] = "{\"type\":\"ADDED\",\"object\":{}}\n";
  struct lb_watchparse p;
  struct sink s = {0};
  lb_watchparse_init(&p, collect, &s);
  ASSERT_OK(lb_watchparse_feed(&p, good, sizeof good - 1));
  ASSERT_EQ_INT(lb_watchparse_feed(&p, "oops\n", 5), LB_EPARSE);
  ASSERT_EQ_INT(lb_watchparse_feed(&p, good, sizeof good - 1), LB_EPARSE);
  ASSERT_EQ_INT(lb_watchparse_finish(&p), LB_EPARSE);
  ASSERT_EQ_INT(s.n, 1);
  sink_release(&s);
  lb_watchparse_release(&p);

  /* The bad line and good ones in one chunk: nothing after the bad one. */
  lb_watchparse_init(&p, collect, &s);
  {
    static const char mixed[] = "{\"type\":\"ADDED\",\"object\":{}}\n{}\n"
                                "{\"type\":\"ADDED\",\"object\":{}}\n";
    ASSERT_EQ_INT(lb_watchparse_feed(&p, mixed, sizeof mixed - 1), LB_EPARSE);
  }
  ASSERT_EQ_INT(s.n, 1);
  sink_release(&s);
  lb_watchparse_release(&p);
}

TEST(watchparse_callback_error_propagates) {
  static const char in[] = "{\"type\":\"ADDED\",\"object\":{\"n\":1}}\n"
                           "{\"type\":\"ADDED\",\"object\":{\"n\":2}}\n"
                           "{\"type\":\"ADDED\",\"object\":{\"n\":3}}\n";
  struct lb_watchparse p;
  struct sink s = {0};
  s.fail_at = 2;
  s.fail_rc = LB_EDB;
  lb_watchparse_init(&p, collect, &s);
  ASSERT_EQ_INT(lb_watchparse_feed(&p, in, sizeof in - 1), LB_EDB);
  ASSERT_EQ_INT(s.n, 2); /* the third is not delivered */
  ASSERT_EQ_INT(lb_watchparse_feed(&p, in, 10), LB_EDB);
  ASSERT_EQ_INT(lb_watchparse_finish(&p), LB_EDB);
  ASSERT_EQ_INT(s.n, 2);
  sink_release(&s);
  lb_watchparse_release(&p);
}

TEST(watchparse_null_callback_and_reinit) {
  static const char in[] = "{\"type\":\"ADDED\",\"object\":{}}\n";
  struct lb_watchparse p;
  lb_watchparse_init(&p, NULL, NULL);
  ASSERT_OK(lb_watchparse_feed(&p, in, sizeof in - 1));
  ASSERT_OK(lb_watchparse_feed(&p, in, 5));
  lb_watchparse_release(&p);
  lb_watchparse_release(&p); /* idempotent */
  lb_watchparse_init(&p, NULL, NULL);
  ASSERT_OK(lb_watchparse_finish(&p));
  lb_watchparse_release(&p);
}

/* Random bytes and random mutations of the good stream: whatever the
 * verdict, chunking never changes it, and nothing crashes or leaks. */
TEST(watchparse_random_garbage_is_chunking_invariant) {
  size_t n;
  char *d = stream(&n);
  uint64_t seed = 42;
  char *m = malloc(n);
  ASSERT(m != NULL);
  for (int round = 0; round < 3000; round++) {
    struct sink a = {0}, b = {0};
    size_t len = n, cuts[64], nc = 0;
    int ra, rb;
    memcpy(m, d, n);
    if (round % 3 == 0) {
      len = 1 + rng(&seed) % 200;
      static const char alphabet[] =
          "{}[]\":,\\\n\r abtypeobjectADDED01\xc3\xa9";
      for (size_t i = 0; i < len; i++)
        m[i] = alphabet[rng(&seed) % (sizeof alphabet - 1)];
    } else {
      int flips = 1 + (int)(rng(&seed) % 4);
      for (int f = 0; f < flips; f++)
        m[rng(&seed) % n] = (char)(rng(&seed) & 0xff);
    }
    for (size_t at = 0; nc < LB_ARRAY_SIZE(cuts);) {
      at += 1 + rng(&seed) % 97;
      if (at >= len)
        break;
      cuts[nc++] = at;
    }
    ra = feed_chunks(&a, m, len, NULL, 0);
    rb = feed_chunks(&b, m, len, cuts, nc);
    ASSERT_EQ_INT(ra, rb);
    ASSERT(ra == 0 || ra == LB_EPARSE);
    ASSERT_EQ_INT(a.n, b.n);
    for (int i = 0; i < a.n; i++) {
      ASSERT_EQ_INT(a.ev[i].type, b.ev[i].type);
      ASSERT_EQ_INT(a.ev[i].len, b.ev[i].len);
      ASSERT(memcmp(a.ev[i].obj, b.ev[i].obj, a.ev[i].len) == 0);
    }
    sink_release(&a);
    sink_release(&b);
  }
  free(m);
  free(d);
}

/* ---- the validator without json-c ----------------------------------------
 * take_line() asks fast_valid() first and json-c only when it declines; the
 * split must never change a verdict or an event. Each input is fed twice,
 * with p.reference (json-c on every line) and without, and the results are
 * compared; *fast counts the lines the fast path decided. */
static int feed_mode(struct sink *s, const char *d, size_t n, int reference,
                     size_t *fast) {
  struct lb_watchparse p;
  int rc;
  lb_watchparse_init(&p, collect, s);
  p.reference = reference;
  rc = lb_watchparse_feed(&p, d, n);
  if (!rc)
    rc = lb_watchparse_finish(&p);
  if (fast)
    *fast = p.fast_lines;
  lb_watchparse_release(&p);
  return rc;
}

static void same_as_reference(const char *d, size_t n, size_t *fast,
                              const char *what) {
  struct sink a = {0}, b = {0};
  int ra = feed_mode(&a, d, n, 1, NULL);
  int rb = feed_mode(&b, d, n, 0, fast);
  if (ra != rb || a.n != b.n)
    lb_test_fail(__FILE__, __LINE__,
                 "%s: json-c %s with %d events, fast %s "
                 "with %d",
                 what, lb_err_name(ra), a.n, lb_err_name(rb), b.n);
  for (int i = 0; i < a.n; i++)
    if (a.ev[i].type != b.ev[i].type || a.ev[i].len != b.ev[i].len ||
        memcmp(a.ev[i].obj, b.ev[i].obj, a.ev[i].len) != 0)
      lb_test_fail(__FILE__, __LINE__, "%s: event %d differs", what, i);
  sink_release(&a);
  sink_release(&b);
}

TEST(watchparse_fast_validation_edge_cases) {
  static const struct {
    const char *value; /* spliced in as the value of object.a */
    int fast;          /* 1: the fast path decides this line */
    int ok;            /* 1: it is an event */
  } rows[] = {
      {"1", 1, 1},
      {"-12.50", 1, 1},
      {"0", 1, 1},
      {"123456789012345678", 1, 1},
      {"1234567890123456789", 0, 1}, /* 19 digits: json-c's int64 corner */
      {"1e3", 0, 1},                 /* exponents: json-c decides */
      {"2E-7", 0, 1},
      {"-0", 0, 1},
      {"01", 0, 0},
      {"-01", 0, -1}, /* json-c (strict) takes it */
      {"1.", 0, -1},
      {".5", 0, 0},
      {"+1", 0, 0},
      {"-", 0, 0},
      {"tru", 0, 0},
      {"nul", 0, 0},
      {"falsey", 0, 0},
      {"[1,2,]", 0, 0},
      {"{\"k\":1,}", 0, 0},
      {"{\"k\" 1}", 0, 0},
      {"[true,false,null,{},[],\"\"]", 1, 1},
      {"\"\\u00e9\\u65e5\\ud83d\\ude00\"", 0, 1}, /* surrogate escapes */
      {"\"\\u00e9\\u65e5\\/\\b\\f\\n\\r\\t\\\"\\\\\"", 1, 1},
      {"\"\\u0000\"", 0, -1}, /* json-c's call: either way, same as it */
      {"\"\\ud800\"", 0, -1},
      {"\"\\u12\"", 0, 0},
      {"\"\\x41\"", 0, 0},
      {"\"caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"", 1, 1},
      {"\"\xc0\xaf\"", 0, -1},         /* overlong '/' */
      {"\"\xe0\x80\xaf\"", 0, -1},     /* overlong, 3 bytes */
      {"\"\xed\xa0\x80\"", 0, -1},     /* a surrogate half in UTF-8 */
      {"\"\xf4\x90\x80\x80\"", 0, -1}, /* past U+10FFFF */
      {"\"\xf8\x88\x80\x80\x80\"", 0, 0},
      {"\"\x80\"", 0, 0},
      {"\"\xc3\"", 0, 0},
  };
  for (size_t r = 0; r < LB_ARRAY_SIZE(rows); r++) {
    char line[256];
    struct sink s = {0};
    size_t fast = 0;
    int n =
        snprintf(line, sizeof line,
                 "{\"type\":\"ADDED\",\"object\":{\"a\":%s}}\n", rows[r].value);
    same_as_reference(line, (size_t)n, &fast, rows[r].value);
    if ((int)fast != rows[r].fast)
      lb_test_fail(__FILE__, __LINE__, "%s: fast path took %zu lines, want %d",
                   rows[r].value, fast, rows[r].fast);
    int rc = feed_mode(&s, line, (size_t)n, 0, NULL);
    if (rows[r].ok >= 0 && (rc == 0) != rows[r].ok)
      lb_test_fail(__FILE__, __LINE__, "%s: %s", rows[r].value,
                   lb_err_name(rc));
    sink_release(&s);
  }
}

TEST(watchparse_fast_validation_structure) {
  static const struct {
    const char *line;
    int fast;
  } rows[] = {
      {"{\"type\":\"AD\\u0044ED\",\"object\":{}}\n", 0}, /* escaped name */
      {"{\"t\\u0079pe\":\"ADDED\",\"object\":{}}\n", 1}, /* escaped key */
      {"{\"type\":\"ADDED\",\"object\":{},\"type\":\"ADDED\"}\n", 0},
      {"{\"type\":\"ADDED\",\"object\":[]}\n", 0},
      {"{\"type\":1,\"object\":{}}\n", 0},
      {"{\"type\":\"ADDEDX\",\"object\":{}}\n", 0},
      {"{\"type\":\"\",\"object\":{}}\n", 0},
      {"{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{}}}\n", 1},
      {"{\"object\":{},\"type\":\"ERROR\",\"extra\":[1,{\"b\":null}]}\n", 1},
  };
  for (size_t r = 0; r < LB_ARRAY_SIZE(rows); r++) {
    size_t fast = 0;
    same_as_reference(rows[r].line, strlen(rows[r].line), &fast, rows[r].line);
    if ((int)fast != rows[r].fast)
      lb_test_fail(__FILE__, __LINE__, "%s: fast path took %zu lines",
                   rows[r].line, fast);
  }
  /* nesting: 64 levels inside the line are the fast path's, 65 json-c's */
  for (int depth = 62; depth <= 66; depth++) {
    struct lb_buf b = LB_BUF_INIT;
    size_t fast = 0;
    lb_buf_adds(&b, "{\"type\":\"ADDED\",\"object\":{\"a\":");
    for (int i = 3; i < depth; i++)
      lb_buf_adds(&b, "[");
    lb_buf_adds(&b, "{}");
    for (int i = 3; i < depth; i++)
      lb_buf_adds(&b, "]");
    lb_buf_adds(&b, "}}\n");
    ASSERT_OK(b.err);
    same_as_reference(b.p, b.len, &fast, "nesting");
    if ((int)fast != (depth <= 64))
      lb_test_fail(__FILE__, __LINE__, "depth %d: fast path took %zu lines",
                   depth, fast);
    lb_buf_release(&b);
  }
}

/* The reference stream, and thousands of corruptions of it: byte flips,
 * and splices of the tokens the fast path treats specially. */
TEST(watchparse_fast_validation_mutations) {
  static const char *const tokens[] = {
      "1e5",      "-0",       "01",    "\\u0000",  "\\ud800",
      "\\u00e9",  "\\",       "\xc0",  "\xe0\x80", "\xed\xa0\x80",
      "\xf4\x90", "\xc3\xa9", ",",     "}",        "]",
      ":",        "\"",       "null",  "tru",      "[",
      "{",        "\\u0054",  "ADDED", "type"};
  size_t n, fast = 0, fast_total = 0;
  char *d = stream(&n);
  char *m = malloc(n + 64);
  uint64_t seed = 0x5eed0fa57ull;
  ASSERT(m != NULL);
  same_as_reference(d, n, &fast, "the reference stream");
  ASSERT_EQ_INT((int)fast, 6); /* OBJ1 spells 1e3: json-c's line */
  for (int iter = 0; iter < 4000; iter++) {
    size_t len = n, at;
    memcpy(m, d, n);
    if (iter % 2) {
      int flips = 1 + (int)(rng(&seed) % 3);
      for (int f = 0; f < flips; f++)
        m[rng(&seed) % n] = (char)(rng(&seed) & 0xff);
    } else {
      const char *t = tokens[rng(&seed) % LB_ARRAY_SIZE(tokens)];
      size_t tl = strlen(t);
      at = rng(&seed) % n;
      memmove(m + at + tl, m + at, n - at);
      memcpy(m + at, t, tl);
      len = n + tl;
    }
    same_as_reference(m, len, &fast, "a mutation");
    fast_total += fast;
  }
  ASSERT(fast_total > 4000); /* most mutants keep most lines fast */
  free(m);
  free(d);
}
