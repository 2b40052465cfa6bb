/* err.h — every error code logbook returns, in one X-macro table.
 *
 * Functions return int: 0 on success, a negative LB_E* on failure; results go
 * through out-parameters. lb_err_name() gives the symbol ("LB_ENOENT"),
 * lb_strerror() a sentence for users. Modelled on libuv's UV_ERRNO_MAP.
 */
#ifndef LB_ERR_H
#define LB_ERR_H

#define LB_ERRNO_MAP(X)                                                        \
  X(NOMEM, "out of memory")                                                    \
  X(INVAL, "invalid argument")                                                 \
  X(PARSE, "malformed JSON or object")                                         \
  X(NOENT, "no such object or file")                                           \
  X(EXIST, "already exists")                                                   \
  X(IO, "input/output error")                                                  \
  X(DB, "journal database error")                                              \
  X(CORRUPT, "journal is corrupt")                                             \
  X(TORN, "journal has a torn tail")                                           \
  X(CHAIN, "decision hash chain is broken")                                    \
  X(GAP, "journal sequence has a gap")                                         \
  X(VERSION, "journal format version is not supported")                        \
  X(DIVERGED, "replay diverged from the recorded decisions")                   \
  X(FAULT, "injected fault")                                                   \
  X(AGAIN, "nothing available yet")                                            \
  X(CONFLICT, "conflict")                                                      \
  X(RANGE, "value out of range")                                               \
  X(GONE, "resource version too old (410 Gone); relist")                       \
  X(USAGE, "bad command line")

enum {
  LB_OK = 0,
#define X(name, msg) LB_E##name,
  LB__EFIRST = -1000,
  LB_ERRNO_MAP(X)
#undef X
      LB__ELAST
};

/* Symbol of an error code, e.g. "LB_EPARSE"; "LB_OK" for 0; never NULL. */
const char *lb_err_name(int err);
/* A sentence describing the error; never NULL. */
const char *lb_strerror(int err);

#endif
