/* fuzz_admission.c — libFuzzer target for the AdmissionReview decoder
 * (adapters/admreview.c; `make fuzz FUZZ_TARGETS=admission`).
 *
 * Input: an HTTP request body. Oracle: the decoder never crashes or leaks;
 * a refusal always carries a reason; an accepted body yields an event whose
 * body is valid JSON {"path","review"} with the same request.uid, no
 * metadata.managedFields left in request.object / oldObject, and, for a
 * Secret, only "xxh3:<16 hex>" (or null) values in data / stringData;
 * decoding the produced review again gives the same bytes when nothing was
 * redacted (stripping is idempotent). */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../adapters/admreview.h"
#include "../../engine/err.h"
#include "../../engine/event.h"

static void die(const char *what, const uint8_t *in, size_t n) {
  fprintf(stderr, "fuzz_admission: %s\ninput: %.*s\n", what, (int)n,
          (const char *)in);
  abort();
}

static struct json_object *get(struct json_object *o, const char *k) {
  struct json_object *v = NULL;
  if (o && json_object_is_type(o, json_type_object))
    json_object_object_get_ex(o, k, &v);
  return v;
}

static int redacted_map(struct json_object *m) {
  if (!m || !json_object_is_type(m, json_type_object))
    return 1;
  json_object_object_foreach(m, k, v) {
    (void)k;
    if (!v)
      continue;
    if (!json_object_is_type(v, json_type_string))
      return 0;
    const char *s = json_object_get_string(v);
    if (strlen(s) != 21 || strncmp(s, "xxh3:", 5))
      return 0;
  }
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct lb_event ev;
  struct lb_admreview_info info;
  char why[256] = "";
  lb_event_init(&ev);
  int rc = lb_admreview_event("/validate-pod", (const char *)data, size, 1, &ev,
                              &info, why, sizeof why);
  if (rc) {
    if (!why[0])
      die("refused without a reason", data, size);
    if (ev.body || ev.kind)
      die("refused event not released", data, size);
    return 0;
  }
  struct json_object *root = json_tokener_parse(ev.body);
  if (!root)
    die("event body is not JSON", data, size);
  struct json_object *review = get(root, "review"), *req = get(review, "request");
  const char *path = json_object_get_string(get(root, "path"));
  if (!path || strcmp(path, "/validate-pod"))
    die("path lost", data, size);
  if (!req || strcmp(json_object_get_string(get(req, "uid")), info.uid) ||
      strcmp(ev.uid, info.uid))
    die("uid differs", data, size);
  const char *objs[] = {"object", "oldObject"};
  for (int i = 0; i < 2; i++) {
    struct json_object *o = get(req, objs[i]);
    if (get(get(o, "metadata"), "managedFields"))
      die("managedFields kept", data, size);
    if (info.secret &&
        (!redacted_map(get(o, "data")) || !redacted_map(get(o, "stringData"))))
      die("a Secret value was kept", data, size);
  }
  if (!info.secret) {
    /* again, from the produced review bytes: identical */
    const char *r = strstr(ev.body, ",\"review\":");
    struct lb_event ev2;
    struct lb_admreview_info info2;
    if (!r)
      die("no review member", data, size);
    r += 10;
    lb_event_init(&ev2);
    if (lb_admreview_event("/validate-pod", r, strlen(r) - 1, 1, &ev2, &info2,
                           why, sizeof why))
      die("the produced review is refused", data, size);
    if (strcmp(ev.body, ev2.body))
      die("decoding is not idempotent", data, size);
    lb_event_release(&ev2);
  }
  json_object_put(root);
  lb_event_release(&ev);
  return 0;
}
