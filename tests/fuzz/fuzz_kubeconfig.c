/* fuzz_kubeconfig.c — libFuzzer target for lb_kubeconfig_parse
 * (`make fuzz FUZZ_TARGETS=kubeconfig`; kept out of the test binary).
 * The input is the YAML text. Relative paths resolve under a directory
 * that does not exist; absolute ones may name real files, which are only
 * read (non-regular files are refused before reading). The oracle: 0 with
 * a server and no message, or a negative code with a message that starts
 * with "kubeconfig" — and no sanitizer report or leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../adapters/kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct lb_kubeconfig k;
  char *err = NULL;
  int rc = lb_kubeconfig_parse((const char *)data, size,
                               "/nonexistent-fuzz-dir", &k, &err);
  if (rc == 0 ? (!k.server || err != NULL)
              : (rc > 0 || k.server ||
                 (err && strncmp(err, "kubeconfig", 10) != 0))) {
    fprintf(stderr, "fuzz_kubeconfig: contract broken: rc=%d err=%s\n", rc,
            err ? err : "(null)");
    abort();
  }
  lb_kubeconfig_release(&k);
  free(err);
  return 0;
}
