#include "map.h"

#include <stdlib.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "err.h"
#include "util.h"

#define DELETED ((char *)1)

void lb_map_init(struct lb_map *m) { memset(m, 0, sizeof *m); }

void lb_map_release(struct lb_map *m) {
  for (size_t i = 0; i < m->cap; i++)
    if (m->slots[i].key && m->slots[i].key != DELETED)
      free(m->slots[i].key);
  free(m->slots);
  lb_map_init(m);
}

static size_t find(const struct lb_map *m, const char *key, uint64_t h,
                   int *found) {
  size_t mask = m->cap - 1, i = (size_t)h & mask, tomb = (size_t)-1;
  for (;;) {
    struct lb_map_slot *s = &m->slots[i];
    if (!s->key) {
      *found = 0;
      return tomb != (size_t)-1 ? tomb : i;
    }
    if (s->key == DELETED) {
      if (tomb == (size_t)-1)
        tomb = i;
    } else if (s->hash == h && !strcmp(s->key, key)) {
      *found = 1;
      return i;
    }
    i = (i + 1) & mask;
  }
}

static int grow(struct lb_map *m) {
  size_t cap = m->cap ? m->cap * 2 : 64;
  struct lb_map_slot *old = m->slots, *ns;
  size_t oldcap = m->cap;
  if (m->n * 4 < m->cap) /* mostly tombstones: rehash at the same size */
    cap = m->cap;
  ns = calloc(cap, sizeof *ns);
  if (!ns)
    return LB_ENOMEM;
  m->slots = ns;
  m->cap = cap;
  m->used = m->n;
  for (size_t i = 0; i < oldcap; i++) {
    if (old[i].key && old[i].key != DELETED) {
      int f;
      size_t j = find(m, old[i].key, old[i].hash, &f);
      ns[j] = old[i];
    }
  }
  free(old);
  return 0;
}

void *lb_map_get(const struct lb_map *m, const char *key) {
  int f;
  size_t i;
  if (!m->cap)
    return NULL;
  i = find(m, key, XXH3_64bits(key, strlen(key)), &f);
  return f ? m->slots[i].val : NULL;
}

int lb_map_put(struct lb_map *m, const char *key, void *val, void **old) {
  uint64_t h = XXH3_64bits(key, strlen(key));
  int f;
  size_t i;
  if (old)
    *old = NULL;
  if ((m->used + 1) * 4 >= m->cap * 3 && grow(m))
    return LB_ENOMEM;
  i = find(m, key, h, &f);
  if (f) {
    if (old)
      *old = m->slots[i].val;
    m->slots[i].val = val;
    return 0;
  }
  char *k = lb_strdup(key);
  if (!k)
    return LB_ENOMEM;
  if (m->slots[i].key != DELETED)
    m->used++;
  m->slots[i] = (struct lb_map_slot){k, h, val};
  m->n++;
  return 0;
}

void *lb_map_del(struct lb_map *m, const char *key) {
  int f;
  size_t i;
  void *v;
  if (!m->cap)
    return NULL;
  i = find(m, key, XXH3_64bits(key, strlen(key)), &f);
  if (!f)
    return NULL;
  v = m->slots[i].val;
  free(m->slots[i].key);
  m->slots[i].key = DELETED;
  m->slots[i].val = NULL;
  m->n--;
  return v;
}

int lb_map_next(const struct lb_map *m, size_t *i, const char **key,
                void **val) {
  for (; *i < m->cap; (*i)++) {
    const struct lb_map_slot *s = &m->slots[*i];
    if (s->key && s->key != DELETED) {
      if (key)
        *key = s->key;
      if (val)
        *val = s->val;
      (*i)++;
      return 1;
    }
  }
  return 0;
}

static int cmp_key(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **lb_map_sorted(const struct lb_map *m) {
  const char **keys = malloc((m->n + 1) * sizeof *keys);
  size_t n = 0, i = 0;
  const char *k;
  if (!keys)
    return NULL;
  while (lb_map_next(m, &i, &k, NULL))
    keys[n++] = k;
  qsort(keys, n, sizeof *keys, cmp_key);
  keys[n] = NULL;
  return keys;
}
