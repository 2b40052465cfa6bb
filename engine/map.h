/* map.h — string-keyed hash map (open addressing, xxh3).
 *
 * Lookup only. Iteration order is hash order, so callers that let order
 * influence a decision must sort (lb_map_sorted); the engine uses raw
 * iteration only for order-independent work (sums, linking). Keys are
 * copied; values are borrowed pointers.
 */
#ifndef LB_MAP_H
#define LB_MAP_H

#include <stddef.h>
#include <stdint.h>

struct lb_map_slot {
  char *key; /* NULL = empty; (char*)1 = deleted */
  uint64_t hash;
  void *val;
};

struct lb_map {
  struct lb_map_slot *slots;
  size_t cap;  /* power of two, or 0 */
  size_t n;    /* live entries */
  size_t used; /* live + deleted */
};

void lb_map_init(struct lb_map *m);
void lb_map_release(struct lb_map *m); /* frees keys, not values */
void *lb_map_get(const struct lb_map *m, const char *key);
/* Inserts or replaces; *old (if non-NULL) gets the previous value or NULL.
 * Returns 0 or LB_ENOMEM. */
int lb_map_put(struct lb_map *m, const char *key, void *val, void **old);
/* Removes; returns the value or NULL. */
void *lb_map_del(struct lb_map *m, const char *key);
/* Iteration: for (size_t i = 0; lb_map_next(m, &i, &k, &v);) */
int lb_map_next(const struct lb_map *m, size_t *i, const char **key,
                void **val);
/* Keys sorted with strcmp into a malloc'd array of borrowed pointers
 * (caller frees the array). NULL on allocation failure when n > 0. */
const char **lb_map_sorted(const struct lb_map *m);

#endif
