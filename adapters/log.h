/* log.h — structured log lines on stderr:
 *   ts=2026-11-25T13:31:02.123Z level=info msg="..." key=value ...
 * (logfmt). The wall clock is read here, in adapters/, never in engine/. */
#ifndef LB_LOG_H
#define LB_LOG_H

/* kv is a printf format for the key=value tail (may be ""). */
void lb_log(const char *level, const char *msg, const char *kv, ...)
    __attribute__((format(printf, 3, 4)));
/* Wall clock, ms since the epoch. */
long long lb_wall_ms(void);

#endif
