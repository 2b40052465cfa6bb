/* gotemplate.h — a pod template as OpenKruise's CloneSet controller stores
 * it in a ControllerRevision, byte for byte (kruise-spec §1.1).
 *
 * Upstream (kruise pkg/controller/cloneset/revision getPatch) encodes the
 * typed Go CloneSet, decodes that into a map[string]interface{} and
 * marshals {"spec":{"template":{...,"$patch":"replace"}}}. The bytes are
 * therefore those of a typed round trip through k8s.io/api core/v1 (as of
 * the v0.30 vendored by Kruise v1.8): unknown fields dropped, fields
 * without omitempty always present ("creationTimestamp":null,
 * "resources":{}, "containers":null), resource quantities canonicalised
 * (apimachinery resource.Quantity), int-or-strings kept as int or string,
 * integers through float64; then Go's map marshal: keys sorted bytewise,
 * Go string escaping (<, >, & as \u003c..., U+2028/9, invalid UTF-8 as
 * U+FFFD, '/' not escaped, \b and \f short as in Go >= 1.22).
 *
 * The type table is in gotemplate.c. Pure: no I/O, no clock; every input
 * gives the same bytes or the same error.
 */
#ifndef LB_GOTEMPLATE_H
#define LB_GOTEMPLATE_H

#include <stddef.h>

#include "util.h"

struct json_object;

/* Appends to out the revision data upstream computes for the pod template
 * tmpl (a JSON object as the apiserver returns it; borrowed). Returns 0,
 * LB_EPARSE when the typed decode fails as upstream's would (a string
 * where an integer belongs, a malformed quantity or time, an integer out of
 * range; *why says which field, static text), or LB_ENOMEM. On error out
 * may hold a partial result: reset it. */
int lb_gotemplate_revision_data(struct json_object *tmpl, struct lb_buf *out,
                                const char **why);

/* The same from JSON text (NUL-terminated); LB_EPARSE also when the text is
 * not a JSON object. */
int lb_gotemplate_revision_data_text(const char *tmpl_json, struct lb_buf *out,
                                     const char **why);

/* The canonical form of one resource quantity as Go's Quantity.MarshalJSON
 * writes it after UnmarshalJSON of the string s (e.g. "0.5" -> "500m",
 * "1024Mi" -> "1Gi", "+1" -> "+1": upstream keeps an input already in
 * canonical form as written). Returns 0 or LB_EPARSE / LB_ENOMEM. */
int lb_gotemplate_quantity(const char *s, struct lb_buf *out);

/* Appends the JSON text of a float64 as Go's encoding/json writes it
 * ("1e+21", "1e-7", "9223372036854776000"). */
int lb_gotemplate_float(double d, struct lb_buf *out);

/* Appends s (n bytes) as a JSON string literal as Go's encoding/json
 * writes it with HTML escaping. */
int lb_gotemplate_str(const char *s, size_t n, struct lb_buf *out);

#endif
