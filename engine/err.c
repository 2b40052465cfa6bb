#include "err.h"

const char *lb_err_name(int err) {
  switch (err) {
  case LB_OK:
    return "LB_OK";
#define X(name, msg)                                                           \
  case LB_E##name:                                                             \
    return "LB_E" #name;
    LB_ERRNO_MAP(X)
#undef X
  default:
    return "LB_E?";
  }
}

const char *lb_strerror(int err) {
  switch (err) {
  case LB_OK:
    return "success";
#define X(name, msg)                                                           \
  case LB_E##name:                                                             \
    return msg;
    LB_ERRNO_MAP(X)
#undef X
  default:
    return "unknown error";
  }
}
