/* reducers.c — the registry of controllers. Add a line per reducer. */
#include "reducer.h"

const struct lb_reducer lb_reducers[] = {
    {"cloneset", LB_KIND_CLONESET, lb_cloneset_reconcile},
    {"pub", LB_KIND_PUB, lb_pub_reconcile},
};
const size_t lb_n_reducers = sizeof lb_reducers / sizeof lb_reducers[0];
