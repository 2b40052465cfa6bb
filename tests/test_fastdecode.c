/* test_fastdecode.c — engine/fastdecode.c against the json-c reference:
 * every body goes through both paths (tests/fuzz/fastdecode_cmp.h) and the
 * events, identities and compact objects must be equal field by field.
 * Bodies: hand-written corner cases, tens of thousands of generated Pod
 * bodies (realistic shapes with random whitespace, escapes, unicode,
 * missing, extra, duplicate, null and wrongly typed fields), byte-level
 * mutations of them, and every body of two simulated-cluster journals. */
#include <json-c/json.h>

#include "../adapters/runner.h"
#include "../adapters/sim.h"
#include "../adapters/simrun.h"
#include "../engine/engine.h"
#include "../store/journal.h"
#include "test.h"

#define FD_FAIL(...) lb_test_fail(__FILE__, __LINE__, __VA_ARGS__)
#include "fuzz/fastdecode_cmp.h"

static int check(const char *s) { return fd_check(s, strlen(s), LB_SRC_WATCH); }

/* ---- hand-written corner cases ----------------------------------------- */

#define POD_HEAD "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","

TEST(fastdecode_handles_plain_pod) {
  ASSERT_EQ_INT(check(POD_HEAD "\"metadata\":{\"name\":\"a\",\"namespace\":"
                               "\"ns\",\"uid\":\"u\",\"resourceVersion\":\"7\","
                               "\"labels\":{\"b\":\"2\",\"a\":\"1\"}},"
                               "\"status\":{\"phase\":\"Running\"}}"),
                1);
  /* unmodelled kinds and objects without a kind are handled too */
  ASSERT_EQ_INT(check("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                      "\"metadata\":{\"name\":\"c\"}}"),
                1);
  ASSERT_EQ_INT(check("{\"kind\":\"Status\",\"code\":409,\"message\":\"x\"}"),
                1);
  ASSERT_EQ_INT(check("{}"), 1);
  ASSERT_EQ_INT(check(" \n{ \"metadata\" : { \"name\" : \"a\" } }\r\n\t"), 1);
}

TEST(fastdecode_same_values_as_json_c) {
  static const char *const bodies[] = {
      /* escapes and unicode in values */
      POD_HEAD "\"metadata\":{\"name\":\"a\\u00e9\\ud83d\\ude00\\/\\\"\\\\"
               "\\b\\f\\n\\r\\t\",\"namespace\":\"\xc3\xa9t\xc3\xa9\","
               "\"labels\":{\"k\":\"v\\u0041\\u07ff\\u0800\\uFFFF\"}}}",
      /* duplicate keys: the last wins, null reads as absent */
      POD_HEAD "\"metadata\":{\"name\":\"a\",\"name\":\"b\",\"uid\":\"u\","
               "\"uid\":null,\"labels\":{\"x\":\"1\",\"y\":\"2\",\"x\":\"3\"}},"
               "\"status\":{\"phase\":\"Failed\",\"phase\":\"Running\"}}",
      "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"kind\":null,"
      "\"metadata\":{\"name\":\"a\"}}",
      POD_HEAD "\"metadata\":7,\"metadata\":{\"name\":\"a\"}}",
      /* truthiness of ready/started/controller */
      POD_HEAD "\"metadata\":{\"name\":\"a\",\"ownerReferences\":["
               "{\"uid\":\"n\",\"controller\":0},{\"uid\":\"s\",\"controller\":"
               "\"\"},{\"uid\":\"d\",\"controller\":0.0},{\"uid\":\"z\","
               "\"controller\":-0},{\"uid\":\"o\",\"controller\":{}},"
               "{\"uid\":7,\"controller\":true},{\"uid\":\"w\",\"controller\":"
               "0.5}]},\"status\":{\"containerStatuses\":[{\"ready\":\"x\","
               "\"started\":2,\"restartCount\":3},{\"ready\":[],\"started\":"
               "null,\"restartCount\":1.5},{\"restartCount\":\"9\"},7,null,"
               "{\"restartCount\":-4,\"name\":\"c\",\"image\":5}]}}",
      /* conditions: Ready anywhere, duplicates by type, odd entries */
      POD_HEAD
      "\"metadata\":{\"name\":\"a\"},\"status\":{\"conditions\":["
      "{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":"
      "\"2026-11-25T10:00:00Z\"},{\"type\":\"Ready\",\"status\":"
      "\"False\"},{\"type\":\"X\",\"status\":1},null,\"s\",{\"type\":"
      "\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"bad\"}]}}",
      /* annotations: kept prefixes only, non-strings skipped, cost */
      POD_HEAD "\"metadata\":{\"name\":\"a\",\"annotations\":{\"apps.kruise.io/"
               "x\":\"1\",\"other/y\":\"2\",\"kruise.io/z\":3,"
               "\"controller.kubernetes.io/pod-deletion-cost\":\"-12\","
               "\"inplace-update-state\":\"{\\\"a\\\":1}\"}}}",
      POD_HEAD "\"metadata\":{\"name\":\"a\",\"annotations\":{"
               "\"controller.kubernetes.io/pod-deletion-cost\":\"12x\"}}}",
      POD_HEAD "\"metadata\":{\"name\":\"a\",\"annotations\":{"
               "\"controller.kubernetes.io/pod-deletion-cost\":7}}}",
      POD_HEAD "\"metadata\":{\"name\":\"a\",\"annotations\":[1]}}",
      /* finalizers, readiness gates */
      POD_HEAD "\"metadata\":{\"name\":\"a\",\"finalizers\":[\"f\",\"\",3,"
               "null,\"g\\u0041\"]},\"spec\":{\"nodeName\":\"\","
               "\"readinessGates\":[{\"conditionType\":\"c1\"},{},"
               "{\"conditionType\":\"\"},\"x\",{\"conditionType\":\"c2\"}]}}",
      /* containers of every shape */
      POD_HEAD "\"metadata\":{\"name\":\"a\"},\"spec\":{\"containers\":["
               "{\"name\":\"c\",\"image\":\"i\"},{},7,null,[]]}}",
      POD_HEAD "\"metadata\":{\"name\":\"a\"},\"spec\":{\"containers\":{}}}",
      /* times */
      POD_HEAD "\"metadata\":{\"name\":\"a\",\"creationTimestamp\":"
               "\"2026-11-25T10:00:00.123+02:00\",\"deletionTimestamp\":"
               "\"garbage\",\"generation\":-3}}",
      /* refused by the reference: the fast path must decline */
      POD_HEAD "\"metadata\":{\"name\":\"\"}}",
      POD_HEAD "\"metadata\":{}}",
      POD_HEAD "\"metadata\":{\"name\":\"a\",\"labels\":{\"k\":1}}}",
      POD_HEAD "\"metadata\":{\"name\":\"a\",\"labels\":[]}}",
      POD_HEAD "\"metadata\":{\"name\":\"a\",\"generation\":1.0}}",
      POD_HEAD "\"metadata\":{\"name\":\"a\",\"generation\":\"1\"}}",
      /* json-c extensions and malformed text */
      POD_HEAD "\"metadata\":{\"name\":\"a\",}}",
      POD_HEAD "\"metadata\":{\"name\":'a'}}",
      POD_HEAD "/* c */\"metadata\":{\"name\":\"a\"}}",
      POD_HEAD "\"metadata\":{\"name\":\"a\",\"generation\":01}}",
      POD_HEAD "\"metadata\":{\"name\":\"a\",\"generation\":1e3}}",
      POD_HEAD "\"metadata\":{\"name\":\"a\",\"generation\":"
               "99999999999999999999}}",
      POD_HEAD "\"metadata\":{\"name\":\"a\",\"x\":NaN}}",
      POD_HEAD "\"metadata\":{\"name\":\"a\\u0000b\"}}",
      POD_HEAD "\"metadata\":{\"name\":\"a\\ud800\"}}",
      POD_HEAD "\"metadata\":{\"name\":\"a\\x\"}}",
      POD_HEAD "\"metadata\":{\"n\\u0061me\":\"a\"}}",
      POD_HEAD "\"metadata\":{\"name\":\"a\tb\"}}",
      POD_HEAD "\"metadata\":{\"name\":\"a\"}} trailing",
      POD_HEAD "\"metadata\":{\"name\":\"a\"}}\v",
      POD_HEAD "\"metadata\":{\"name\":\"a\"}",
      POD_HEAD "\"metadata\":{\"name\":\"a\"",
      POD_HEAD "\"metadata\":{\"name\":TRUE}}",
      "[1,2]",
      "\"just a string\"",
      "",
      "   ",
      "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
      "]]]]}",
      "{\"a\":[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]}",
      /* other modelled kinds go to the reference */
      "{\"apiVersion\":\"apps.kruise.io/v1alpha1\",\"kind\":\"CloneSet\","
      "\"metadata\":{\"name\":\"c\"},\"spec\":{\"template\":{}}}",
      "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\","
      "\"metadata\":{\"name\":\"c\"}}",
      /* a group longer than lb_obj_decode's buffer */
      "{\"apiVersion\":"
      "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
      "xxxxxxxxxxxxxxxxxxxxx/v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
      "\"a\"}}",
  };
  for (size_t i = 0; i < LB_ARRAY_SIZE(bodies); i++)
    check(bodies[i]);
  /* a NUL byte inside the text */
  static const char nul[] = POD_HEAD "\"metadata\":{\"name\":\"a\0b\"}}";
  fd_check(nul, sizeof nul - 1, LB_SRC_WATCH);
  /* sources that do not decode still read the identity */
  static const char adm[] = POD_HEAD "\"metadata\":{\"name\":\"a\"}}";
  fd_check(adm, sizeof adm - 1, LB_SRC_ADMISSION);
}

TEST(fastdecode_declines_what_it_does_not_model) {
  struct lb_obj *o = (struct lb_obj *)1;
  ASSERT_EQ_INT(lb_fastdecode("{\"a\":1,}", 8, NULL, &o), LB_FD_DECLINED);
  ASSERT(o == NULL);
  ASSERT_EQ_INT(lb_fastdecode(NULL, 0, NULL, &o), LB_FD_DECLINED);
  ASSERT_EQ_INT(lb_fastdecode("{\"apiVersion\":\"apps.kruise.io/v1alpha1\","
                              "\"kind\":\"CloneSet\"}",
                              57, NULL, &o),
                LB_FD_DECLINED);
  ASSERT_EQ_INT(lb_fastdecode("{\"a\":1}", 7, NULL, &o), 0);
  ASSERT(o == NULL);
}

/* ---- generated Pod bodies ---------------------------------------------- */

struct gen {
  struct lb_buf b;
  uint64_t r;
  int pretty, escape, mutate; /* per body: whitespace, escapes, odd values */
  int first[64];              /* per nesting level: no member written yet */
  int depth;
};

static uint64_t grnd(struct gen *g) {
  uint64_t z = (g->r += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static int one_in(struct gen *g, int n) { return grnd(g) % (uint64_t)n == 0; }

static void gws(struct gen *g) {
  static const char *const ws[] = {" ", "\n  ", "\t", "\r\n", "  "};
  if (g->pretty && one_in(g, 3))
    lb_buf_adds(&g->b, ws[grnd(g) % LB_ARRAY_SIZE(ws)]);
}

static void gstr_raw(struct gen *g, const char *s, int may_escape) {
  lb_buf_adds(&g->b, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char e[16];
    if (*p == '"' || *p == '\\') {
      snprintf(e, sizeof e, "\\%c", *p);
    } else if (*p < 0x20) {
      snprintf(e, sizeof e, "\\u%04x", *p);
    } else if (may_escape && g->escape && *p < 0x80 && one_in(g, 6)) {
      static const char *const fmt[] = {"\\u%04x", "\\u%04X"};
      if (*p == '/' && one_in(g, 2))
        snprintf(e, sizeof e, "\\/");
      else
        snprintf(e, sizeof e, fmt[grnd(g) % 2], *p);
    } else {
      e[0] = (char)*p;
      e[1] = '\0';
    }
    lb_buf_adds(&g->b, e);
  }
  if (may_escape && g->escape && one_in(g, 5)) {
    static const char *const tails[] = {
        "\\u00e9",      "\\ud83d\\ude00", "\xc3\xa9", "\\n",
        "\\t\\b\\f\\r", "\xe2\x82\xac",   "\\u2028"};
    lb_buf_adds(&g->b, tails[grnd(g) % LB_ARRAY_SIZE(tails)]);
  }
  lb_buf_adds(&g->b, "\"");
}

static void gsep(struct gen *g) {
  if (!g->first[g->depth])
    lb_buf_adds(&g->b, ",");
  g->first[g->depth] = 0;
  gws(g);
}

static void gkey(struct gen *g, const char *k) {
  gsep(g);
  gstr_raw(g, k, g->mutate && one_in(g, 200)); /* rarely: an escaped key */
  gws(g);
  lb_buf_adds(&g->b, ":");
  gws(g);
}

static void gopen(struct gen *g, const char *c) {
  lb_buf_adds(&g->b, c);
  g->first[++g->depth] = 1;
  gws(g);
}
static void gclose(struct gen *g, const char *c) {
  g->depth--;
  gws(g);
  lb_buf_adds(&g->b, c);
}

/* A value of some other type than the field wants. */
static void godd(struct gen *g) {
  static const char *const odd[] = {"null",
                                    "true",
                                    "false",
                                    "0",
                                    "-0",
                                    "7",
                                    "-12",
                                    "1.5",
                                    "0.0",
                                    "\"\"",
                                    "\"x\"",
                                    "{}",
                                    "[]",
                                    "[1,\"a\"]",
                                    "{\"a\":{\"b\":[null]}}",
                                    "123456789012345678",
                                    "-0.000"};
  lb_buf_adds(&g->b, odd[grnd(g) % LB_ARRAY_SIZE(odd)]);
}

/* A string field: usually the string, sometimes absent-as-null or odd. */
static void gsval(struct gen *g, const char *v) {
  if (g->mutate && one_in(g, 25))
    godd(g);
  else
    gstr_raw(g, v, 1);
}

static void gfield(struct gen *g, const char *k, const char *v) {
  if (g->mutate && one_in(g, 30))
    return; /* missing */
  gkey(g, k);
  gsval(g, v);
  if (g->mutate && one_in(g, 40)) { /* duplicate, second value wins */
    gkey(g, k);
    gsval(g, one_in(g, 2) ? v : "dup");
  }
}

static void gnum(struct gen *g, const char *k, long long v) {
  if (g->mutate && one_in(g, 30))
    return;
  gkey(g, k);
  if (g->mutate && one_in(g, 20))
    godd(g);
  else
    lb_buf_addf(&g->b, "%lld", v);
}

static void gbool(struct gen *g, const char *k, int v) {
  gkey(g, k);
  if (g->mutate && one_in(g, 10))
    godd(g);
  else
    lb_buf_adds(&g->b, v ? "true" : "false");
}

static void gextra(struct gen *g) { /* members nobody reads */
  if (!one_in(g, 3))
    return;
  gkey(g, one_in(g, 2) ? "extra" : "x-unused");
  switch (grnd(g) % 4) {
  case 0:
    lb_buf_adds(&g->b, "{\"deep\":[[[{\"a\":[1,2.25,-3,true,null]}]]]}");
    break;
  case 1:
    lb_buf_adds(&g->b, "[\"s\\\"q\",{},[],0.125]");
    break;
  case 2:
    gstr_raw(g, "some \"quoted\" text / with \\ backslash", 1);
    break;
  default:
    lb_buf_adds(&g->b, "-987654321");
  }
}

/* metadata.managedFields as the apiserver sends it: keys with escaped
 * quotes, deep fieldsV1 */
static void gmanaged(struct gen *g) {
  static const char *const mf[] = {
      "[{\"manager\":\"kubelet\",\"operation\":\"Update\",\"fieldsType\":"
      "\"FieldsV1\",\"fieldsV1\":{\"f:status\":{\"f:conditions\":{\"k:{"
      "\\\"type\\\":\\\"Ready\\\"}\":{\".\":{},\"f:status\":{}}}}}}]",
      "[{\"manager\":\"kruise-manager\",\"fieldsV1\":{\"f:spec\":{"
      "\"f:containers\":{\"k:{\\\"name\\\":\\\"app\\\"}\":{\"f:ports\":{"
      "\"k:{\\\"containerPort\\\":8080,\\\"protocol\\\":\\\"TCP\\\"}\":"
      "{\".\":{}}}}}}},\"time\":\"2026-11-25T10:00:00Z\"}]",
      "null", "[]", "{\"x\\u0041\":[[[[[[[[1]]]]]]]]}"};
  gkey(g, "managedFields");
  lb_buf_adds(&g->b, mf[grnd(g) % LB_ARRAY_SIZE(mf)]);
}

static const char *pick(struct gen *g, const char *const *v, size_t n) {
  return v[grnd(g) % n];
}
#define PICK(g, arr) pick((g), (arr), LB_ARRAY_SIZE(arr))

static void gen_pod(struct gen *g) {
  static const char *const phases[] = {"Running", "Pending", "Succeeded",
                                       "Failed",  "Unknown", "running"};
  static const char *const times[] = {"2026-11-25T10:00:00Z",
                                      "2026-11-25T10:00:00.5Z",
                                      "2026-11-25T12:00:00+02:00",
                                      "not a time",
                                      "",
                                      "2026-02-30T00:00:00Z"};
  static const char *const label_keys[] = {
      "app",
      "controller-revision-hash",
      "lifecycle.apps.kruise.io/state",
      "apps.kruise.io/specified-delete",
      "unavailable-pod.kruise.io/x",
      "apps.kruise.io/cloneset-instance-id",
      "tier",
      "z",
      "a/b"};
  static const char *const ann_keys[] = {
      "apps.kruise.io/inplace-update-state",
      "lifecycle.apps.kruise.io/timestamp",
      "controller.kubernetes.io/pod-deletion-cost",
      "kruise.io/x",
      "pub.kruise.io/y",
      "crr.apps.kruise.io/z",
      "inplace-update-grace",
      "kubectl.kubernetes.io/last-applied-configuration",
      "prometheus.io/scrape"};
  static const char *const costs[] = {
      "10", "-5", "0", "x", "12abc", "", "99999999999999999999"};
  static const char *const ctypes[] = {"Ready", "Initialized",
                                       "ContainersReady", "PodScheduled",
                                       "apps.kruise.io/x"};
  char buf[64];
  int kind = (int)(grnd(g) % 20);

  g->depth = 0;
  g->first[0] = 1;
  gws(g);
  gopen(g, "{");
  if (kind != 0)
    gfield(g, "apiVersion",
           kind == 1   ? "apps/v1"
           : kind == 2 ? "policy/v1"
                       : "v1");
  if (kind != 3)
    gfield(g, "kind", kind == 4 ? "ConfigMap" : "Pod");
  gextra(g);
  gkey(g, "metadata");
  if (g->mutate && one_in(g, 60)) {
    godd(g);
  } else {
    gopen(g, "{");
    if (one_in(g, 3))
      gmanaged(g); /* what lb_event_prepare strips: first */
    snprintf(buf, sizeof buf, "pod-%llu",
             (unsigned long long)(grnd(g) % 100000));
    gfield(g, "name", g->mutate && one_in(g, 50) ? "" : buf);
    gfield(g, "namespace", one_in(g, 2) ? "default" : "prod-\xc3\xa9");
    gfield(g, "uid", "0b7c1f5e-8f5d-4b8e-9c1a-2f3e4d5c6b7a");
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)(grnd(g) % 1000000));
    gfield(g, "resourceVersion", buf);
    gnum(g, "generation", (long long)(grnd(g) % 5));
    gfield(g, "creationTimestamp", PICK(g, times));
    if (one_in(g, 4))
      gfield(g, "deletionTimestamp", PICK(g, times));
    if (!one_in(g, 10)) {
      gkey(g, "labels");
      if (g->mutate && one_in(g, 50)) {
        godd(g);
      } else {
        gopen(g, "{");
        for (int i = 0, n = (int)(grnd(g) % 7); i < n; i++) {
          const char *k = PICK(g, label_keys);
          gkey(g, k);
          if (g->mutate && one_in(g, 60))
            godd(g);
          else
            gstr_raw(g, one_in(g, 3) ? "Normal" : "v-1.2_3", 1);
        }
        gclose(g, "}");
      }
    }
    if (!one_in(g, 6)) {
      gkey(g, "annotations");
      if (g->mutate && one_in(g, 40)) {
        godd(g);
      } else {
        gopen(g, "{");
        for (int i = 0, n = (int)(grnd(g) % 6); i < n; i++) {
          const char *k = PICK(g, ann_keys);
          gkey(g, k);
          if (g->mutate && one_in(g, 15))
            godd(g);
          else if (!strcmp(k, "controller.kubernetes.io/pod-deletion-cost"))
            gstr_raw(g, PICK(g, costs), 1);
          else
            gstr_raw(g, "{\"k\":[1,2],\"s\":\"v\"}", 1);
        }
        gclose(g, "}");
      }
    }
    if (!one_in(g, 5)) {
      gkey(g, "ownerReferences");
      gopen(g, "[");
      for (int i = 0, n = (int)(grnd(g) % 3) + 1; i < n; i++) {
        gsep(g);
        gopen(g, "{");
        gfield(g, "apiVersion", "apps.kruise.io/v1alpha1");
        gfield(g, "kind", "CloneSet");
        snprintf(buf, sizeof buf, "owner-%d", i);
        gfield(g, "uid", buf);
        if (!one_in(g, 4))
          gbool(g, "controller", one_in(g, 2));
        gclose(g, "}");
      }
      gclose(g, "]");
    }
    if (one_in(g, 3)) {
      gkey(g, "finalizers");
      gopen(g, "[");
      for (int i = 0, n = (int)(grnd(g) % 3); i < n; i++) {
        gsep(g);
        if (g->mutate && one_in(g, 8))
          godd(g);
        else
          gstr_raw(g, one_in(g, 5) ? "" : "apps.kruise.io/finalizer", 1);
      }
      gclose(g, "]");
    }
    gextra(g);
    if (one_in(g, 3))
      gmanaged(g); /* ... last, or both */
    gclose(g, "}");
  }
  if (!one_in(g, 15)) {
    gkey(g, "spec");
    gopen(g, "{");
    gkey(g, "containers");
    gopen(g, "[");
    for (int i = 0, n = (int)(grnd(g) % 3) + 1; i < n; i++) {
      gsep(g);
      if (g->mutate && one_in(g, 30)) {
        godd(g);
        continue;
      }
      gopen(g, "{");
      snprintf(buf, sizeof buf, "c%d", i);
      gfield(g, "name", buf);
      gfield(g, "image", "docker.io/library/nginx:1.25.3");
      gextra(g);
      gclose(g, "}");
    }
    gclose(g, "]");
    if (!one_in(g, 3))
      gfield(g, "nodeName", one_in(g, 10) ? "" : "node-07");
    if (one_in(g, 3)) {
      gkey(g, "readinessGates");
      gopen(g, "[");
      for (int i = 0, n = (int)(grnd(g) % 3); i < n; i++) {
        gsep(g);
        gopen(g, "{");
        gfield(g, "conditionType",
               one_in(g, 2) ? "InPlaceUpdateReady" : "KruisePodReady");
        gclose(g, "}");
      }
      gclose(g, "]");
    }
    gextra(g);
    gclose(g, "}");
  }
  if (!one_in(g, 15)) {
    gkey(g, "status");
    gopen(g, "{");
    gfield(g, "phase", PICK(g, phases));
    gkey(g, "conditions");
    gopen(g, "[");
    for (int i = 0, n = (int)(grnd(g) % 6); i < n; i++) {
      gsep(g);
      gopen(g, "{");
      gfield(g, "type", PICK(g, ctypes));
      gfield(g, "status", one_in(g, 3) ? "False" : "True");
      gkey(g, "lastProbeTime");
      lb_buf_adds(&g->b, "null");
      gfield(g, "lastTransitionTime", PICK(g, times));
      gclose(g, "}");
    }
    gclose(g, "]");
    if (!one_in(g, 4)) {
      gkey(g, "containerStatuses");
      gopen(g, "[");
      for (int i = 0, n = (int)(grnd(g) % 3) + 1; i < n; i++) {
        gsep(g);
        gopen(g, "{");
        snprintf(buf, sizeof buf, "c%d", i);
        gfield(g, "name", buf);
        gkey(g, "state");
        lb_buf_adds(&g->b, "{\"running\":{\"startedAt\":\"2026-11-25T10:00:"
                           "02Z\"}}");
        gbool(g, "ready", one_in(g, 2));
        gnum(g, "restartCount", (long long)(grnd(g) % 4));
        gfield(g, "image", "docker.io/library/nginx:1.25.3");
        gfield(g, "imageID", "docker.io/library/nginx@sha256:0123abcd");
        gfield(g, "containerID", "containerd://4f1e2d3c");
        gbool(g, "started", one_in(g, 2));
        gclose(g, "}");
      }
      gclose(g, "]");
    }
    gclose(g, "}");
  }
  if (one_in(g, 10)) { /* what lb_event_prepare strips */
    gkey(g, "managedFields");
    lb_buf_adds(&g->b, "[{\"manager\":\"kubelet\"}]");
  }
  gextra(g);
  gclose(g, "}");
  gws(g);
}

TEST_TIMEOUT(fastdecode_generated_pods_differential, 300) {
  struct gen g;
  long handled = 0, total = 0, plain_handled = 0, plain = 0;
  memset(&g, 0, sizeof g);
  g.r = 42;
  for (int i = 0; i < 20000; i++) {
    g.pretty = one_in(&g, 2);
    g.escape = one_in(&g, 2);
    g.mutate = !one_in(&g, 4);
    lb_buf_reset(&g.b);
    gen_pod(&g);
    ASSERT_EQ_INT(g.b.err, 0);
    int h = fd_check(g.b.p, g.b.len, LB_SRC_WATCH);
    handled += h;
    total++;
    if (!g.mutate && !g.escape) {
      if (!h && getenv("LB_FD_DEBUG"))
        fprintf(stderr, "# declined: %s\n", g.b.p);
      plain++;
      plain_handled += h;
    }
  }
  lb_buf_release(&g.b);
  fprintf(stderr,
          "# %ld of %ld generated bodies decoded by the fast path "
          "(%ld of %ld without mutations or escapes)\n",
          handled, total, plain_handled, plain);
  /* the comparison must exercise the fast path, not only its declines */
  ASSERT(handled * 10 >= total * 7);
  ASSERT_EQ_INT(plain_handled, plain);
}

TEST_TIMEOUT(fastdecode_mutated_bytes_differential, 300) {
  struct gen g;
  static const char ins[] = "{}[]\",:\\ \n0-.etnfu\x01\x7f\xc3";
  memset(&g, 0, sizeof g);
  g.r = 7;
  for (int i = 0; i < 4000; i++) {
    g.pretty = one_in(&g, 2);
    g.escape = one_in(&g, 2);
    g.mutate = one_in(&g, 2);
    lb_buf_reset(&g.b);
    gen_pod(&g);
    size_t n = g.b.len;
    char *s = fd_copy(g.b.p, n);
    for (int k = 0, m = 1 + (int)(grnd(&g) % 3); k < m && n; k++) {
      size_t at = grnd(&g) % n;
      switch (grnd(&g) % 3) {
      case 0: /* truncate */
        n = at;
        break;
      case 1: /* replace a byte */
        s[at] = ins[grnd(&g) % (sizeof ins - 1)];
        break;
      default: /* delete a byte */
        memmove(s + at, s + at + 1, n - at - 1);
        n--;
      }
    }
    fd_check(s, n, LB_SRC_WATCH);
    free(s);
  }
  lb_buf_release(&g.b);
}

/* ---- every body of simulated-cluster journals --------------------------- */

struct scan {
  long bodies, handled;
};

static int scan_one(void *ctx, struct lb_event *ev) {
  struct scan *sc = ctx;
  if (ev->body) {
    sc->bodies++;
    sc->handled += fd_check(ev->body, ev->body_len, ev->source);
  }
  return 0;
}

static void sim_journal(const char *path, uint64_t seed, const char *scenario,
                        struct scan *sc) {
  struct lb_sim_opts so;
  struct lb_sim *sim;
  struct lb_journal_opts jo = LB_JOURNAL_OPTS_INIT;
  struct lb_journal *j;
  struct lb_engine *e;
  struct lb_runner run;
  struct lb_simrun drv;
  char msg[512] = "";
  lb_sim_opts_init(&so);
  so.seed = seed;
  ASSERT_OK(lb_sim_new(&so, &sim));
  jo.durability = LB_DUR_OFF;
  ASSERT_OK(lb_journal_open(path, &jo, &j));
  ASSERT_OK(lb_engine_new(NULL, &e));
  lb_runner_init(&run, j, e, lb_sim_actuator(sim));
  lb_simrun_init(&drv, sim, &run);
  ASSERT_OK(lb_simrun_resync(&drv));
  ASSERT_OK(lb_simrun_scenario(&drv, scenario, 0, msg, sizeof msg));
  ASSERT_OK(lb_runner_flush(&run));
  lb_runner_release(&run);
  lb_engine_free(e);
  lb_journal_close(j);
  lb_sim_free(sim);
  jo.readonly = 1;
  ASSERT_OK(lb_journal_open(path, &jo, &j));
  ASSERT_OK(lb_journal_scan_events(j, 1, -1, scan_one, sc));
  lb_journal_close(j);
}

TEST_TIMEOUT(fastdecode_sim_journal_bodies_differential, 300) {
  struct scan sc = {0, 0};
  sim_journal("demo.db", 1, "demo", &sc);
  sim_journal("rollout.db", 2, "rollout", &sc);
  fprintf(stderr, "# %ld journal bodies, %ld decoded by the fast path\n",
          sc.bodies, sc.handled);
  ASSERT(sc.bodies > 100);
  ASSERT(sc.handled * 2 > sc.bodies);
}
