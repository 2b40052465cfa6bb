#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "../engine/util.h"

long long lb_wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lb_log(const char *level, const char *msg, const char *kv, ...) {
  char ts[32];
  long long ms = lb_wall_ms();
  va_list ap;
  lb_time_rfc3339(ms, ts);
  ts[19] = '\0'; /* drop the Z, add milliseconds */
  fprintf(stderr, "ts=%s.%03lldZ level=%s msg=\"%s\"", ts, ms % 1000, level,
          msg);
  if (kv && *kv) {
    fputc(' ', stderr);
    va_start(ap, kv);
    vfprintf(stderr, kv, ap);
    va_end(ap);
  }
  fputc('\n', stderr);
}
