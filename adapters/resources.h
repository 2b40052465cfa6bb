/* resources.h — the API resources logbook lists and watches, and the
 * kind -> REST path mapping the actuator uses. One table, in resources.c. */
#ifndef LB_RESOURCES_H
#define LB_RESOURCES_H

struct lb_resource {
  const char *group;    /* "" = core */
  const char *version;  /* "v1", "v1alpha1", ... */
  const char *resource; /* plural, e.g. "pods" */
  const char *kind;     /* "Pod" */
  int namespaced;
  int crd; /* served by a CRD (may be absent: 404) */
};

extern const struct lb_resource lb_resources[];
extern const int lb_n_resources;
/* By group and kind; NULL when unknown. */
const struct lb_resource *lb_resource_of(const char *group, const char *kind);

#endif
