/* fuzz_fastdecode.c — libFuzzer target for engine/fastdecode.c
 * (`make fuzz FUZZ_TARGETS=fastdecode`; kept out of the test binary).
 *
 * Input: byte 0 picks the event source, the rest is the body. The oracle is
 * differential (tests/fuzz/fastdecode_cmp.h): lb_event_prepare (fast path
 * first) must give the same return code, identity, stored body, hash and
 * compact object as the json-c reference (lb__event_prepare_reference), and
 * lb_obj_decode_text the same as json_tokener_parse + lb_obj_decode —
 * field by field — or both reject. Crashes and leaks are caught by
 * ASan/UBSan/LeakSanitizer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FD_FAIL(...)                                                           \
  do {                                                                         \
    fprintf(stderr, "fuzz_fastdecode: ");                                      \
    fprintf(stderr, __VA_ARGS__);                                              \
    fprintf(stderr, "\n");                                                     \
    abort();                                                                   \
  } while (0)
#include "fastdecode_cmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const int sources[] = {LB_SRC_WATCH, LB_SRC_LIST, LB_SRC_OUTCOME,
                                LB_SRC_ADMISSION};
  char *body;
  if (size < 1)
    return 0;
  body = malloc(size); /* not NUL-terminated: fd_check copies with a NUL */
  if (!body)
    return 0;
  memcpy(body, data + 1, size - 1);
  (void)fd_check(body, size - 1, sources[data[0] % 4]);
  free(body);
  return 0;
}
