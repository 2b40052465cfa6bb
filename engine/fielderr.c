/* fielderr.c — see fielderr.h. */
#include "fielderr.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {"Required value", "Invalid value",
                                         "Forbidden", "Duplicate value",
                                         "Unsupported value"};

void lb_ferr_add(struct lb_ferrs *f, int type, const char *path,
                 const char *fmt, ...) {
  char tmp[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (type < 0 || type > LB_FE_UNSUPPORTED)
    type = LB_FE_INVALID;
  lb_buf_addf(&f->msg, "%s%s: %s: %s", f->n ? "; " : "", path, type_names[type],
              tmp);
  f->n++;
}

void lb_ferrs_release(struct lb_ferrs *f) {
  lb_buf_release(&f->msg);
  f->n = 0;
}

int lb_ferr_intstr(struct lb_ferrs *f, const char *path, struct json_object *j,
                   struct lb_intstr *out) {
  memset(out, 0, sizeof *out);
  if (!j || json_object_is_type(j, json_type_null))
    return 0;
  if (json_object_is_type(j, json_type_int)) {
    int64_t v = json_object_get_int64(j);
    if (v < 0 || v > 1000000000) {
      lb_ferr_add(f, LB_FE_INVALID, path,
                  "%lld: must be greater than or equal to 0; use a "
                  "non-negative count or a percent such as \"25%%\"",
                  (long long)v);
      return -1;
    }
    *out = (struct lb_intstr){1, 0, (int)v};
    return 0;
  }
  if (json_object_is_type(j, json_type_string)) {
    const char *s = json_object_get_string(j);
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || strcmp(end, "%") != 0) {
      lb_ferr_add(f, LB_FE_INVALID, path,
                  "\"%s\": must be an integer or a percent such as \"25%%\"",
                  s);
      return -1;
    }
    if (v < 0 || v > 100) {
      lb_ferr_add(f, LB_FE_INVALID, path,
                  "\"%s\": a percent must be between 0%% and 100%%", s);
      return -1;
    }
    *out = (struct lb_intstr){1, 1, (int)v};
    return 0;
  }
  lb_ferr_add(f, LB_FE_INVALID, path,
              "%s: must be an integer or a percent string such as \"25%%\"",
              json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
  return -1;
}

static struct json_object *get(struct json_object *o, const char *k) {
  struct json_object *v = NULL;
  if (o && json_object_is_type(o, json_type_object))
    json_object_object_get_ex(o, k, &v);
  return v;
}

int lb_ferr_selector(struct lb_ferrs *f, const char *path,
                     struct json_object *j) {
  int before = f->n;
  char p[256];
  if (!json_object_is_type(j, json_type_object)) {
    lb_ferr_add(f, LB_FE_INVALID, path, "must be a label selector object");
    return f->n - before;
  }
  struct json_object *ml = get(j, "matchLabels"),
                     *me = get(j, "matchExpressions");
  if (ml && !json_object_is_type(ml, json_type_object)) {
    snprintf(p, sizeof p, "%s.matchLabels", path);
    lb_ferr_add(f, LB_FE_INVALID, p, "must be a map of strings");
  } else if (ml) {
    json_object_object_foreach(ml, k, v) {
      if (!json_object_is_type(v, json_type_string)) {
        snprintf(p, sizeof p, "%s.matchLabels.%s", path, k);
        lb_ferr_add(f, LB_FE_INVALID, p, "label values must be strings");
      }
    }
  }
  if (me && !json_object_is_type(me, json_type_array)) {
    snprintf(p, sizeof p, "%s.matchExpressions", path);
    lb_ferr_add(f, LB_FE_INVALID, p, "must be a list");
  } else if (me) {
    for (size_t i = 0; i < json_object_array_length(me); i++) {
      struct json_object *r = json_object_array_get_idx(me, i);
      struct json_object *k = get(r, "key"), *op = get(r, "operator"),
                         *vals = get(r, "values");
      const char *o = op && json_object_is_type(op, json_type_string)
                          ? json_object_get_string(op)
                          : "";
      size_t nv = vals && json_object_is_type(vals, json_type_array)
                      ? json_object_array_length(vals)
                      : 0;
      snprintf(p, sizeof p, "%s.matchExpressions[%zu]", path, i);
      if (!k || !json_object_is_type(k, json_type_string) ||
          !*json_object_get_string(k))
        lb_ferr_add(f, LB_FE_REQUIRED, p, "key is required");
      if (!strcmp(o, "In") || !strcmp(o, "NotIn")) {
        if (!nv)
          lb_ferr_add(f, LB_FE_REQUIRED, p,
                      "values must be non-empty for operator %s", o);
      } else if (!strcmp(o, "Exists") || !strcmp(o, "DoesNotExist")) {
        if (nv)
          lb_ferr_add(f, LB_FE_FORBIDDEN, p,
                      "values must be empty for operator %s", o);
      } else {
        lb_ferr_add(f, LB_FE_UNSUPPORTED, p,
                    "operator \"%s\": supported values: \"In\", \"NotIn\", "
                    "\"Exists\", \"DoesNotExist\"",
                    o);
      }
    }
  }
  return f->n - before;
}
