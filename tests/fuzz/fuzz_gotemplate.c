/* fuzz_gotemplate.c — libFuzzer target for engine/gotemplate.c
 * (`make fuzz FUZZ_TARGETS=gotemplate`; kept out of the test binary).
 *
 * Input: byte 0 picks the entry point, the rest is its text: 0 a pod
 * template (JSON), 1 a resource quantity. Oracles: every input gives 0 or
 * LB_EPARSE (never a crash, leak or other code); the same input gives the
 * same bytes twice (determinism); the result is valid JSON; and the round
 * trip is idempotent — a template rebuilt from the data gives the data
 * again, a canonical quantity parses back to itself. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/err.h"
#include "../../engine/gotemplate.h"

#define FAIL(...)                                                              \
  do {                                                                         \
    fprintf(stderr, "fuzz_gotemplate: ");                                      \
    fprintf(stderr, __VA_ARGS__);                                              \
    fprintf(stderr, "\n");                                                     \
    abort();                                                                   \
  } while (0)

static void template_case(const char *text) {
  struct lb_buf a = LB_BUF_INIT, b = LB_BUF_INIT, c = LB_BUF_INIT;
  const char *why;
  int ra = lb_gotemplate_revision_data_text(text, &a, &why);
  int rb = lb_gotemplate_revision_data_text(text, &b, &why);
  if (ra != rb || (ra && ra != LB_EPARSE))
    FAIL("rc %d then %d", ra, rb);
  if (!ra) {
    if (strcmp(a.p, b.p))
      FAIL("not deterministic:\n%s\n%s", a.p, b.p);
    struct json_object *d = json_tokener_parse(a.p), *spec, *t;
    if (!d || !json_object_object_get_ex(d, "spec", &spec) ||
        !json_object_object_get_ex(spec, "template", &t))
      FAIL("output is not revision data: %s", a.p);
    json_object_object_del(t, "$patch");
    if (lb_gotemplate_revision_data(t, &c, &why))
      FAIL("own output does not decode (%s): %s", why, a.p);
    if (strcmp(a.p, c.p))
      FAIL("not idempotent:\n%s\n%s", a.p, c.p);
    json_object_put(d);
  }
  lb_buf_release(&a);
  lb_buf_release(&b);
  lb_buf_release(&c);
}

static void quantity_case(const char *text) {
  struct lb_buf a = LB_BUF_INIT, b = LB_BUF_INIT;
  int ra = lb_gotemplate_quantity(text, &a);
  if (ra && ra != LB_EPARSE)
    FAIL("quantity rc %d", ra);
  if (!ra) {
    char *inner = strndup(a.p + 1, a.len - 2);
    if (!inner || lb_gotemplate_quantity(inner, &b) || strcmp(a.p, b.p))
      FAIL("quantity %s -> %s -> %s", text, a.p, b.p ? b.p : "(error)");
    free(inner);
  }
  lb_buf_release(&a);
  lb_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  char *text = malloc(size);
  if (!text)
    return 0;
  memcpy(text, data + 1, size - 1);
  text[size - 1] = '\0';
  if (data[0] & 1)
    quantity_case(text);
  else
    template_case(text);
  free(text);
  return 0;
}
