/* ipsim.h — the in-test API server of tests/ipsim.c (see there). */
#ifndef LB_TEST_IPSIM_H
#define LB_TEST_IPSIM_H

#include <json-c/json.h>
#include <stdint.h>

#include "../engine/engine.h"
#include "../engine/event.h"
#include "../engine/util.h"

#define NS "default"
#define T0 1767225600000LL

struct ipsim {
  struct lb_engine *e;
  struct lb_decisions ds;
  json_object *objs; /* "Kind/name" -> object */
  int64_t seq, now;
  int rv;
  int max_unavailable_seen; /* during the rollout */
  int fail_create;      /* answer the next pod create with this HTTP status */
  struct lb_journal *j; /* when set, every event and decision is journaled
                           (for `logbook explain` on the run) */
  int fail_patch;       /* answer the next pod patch with this HTTP status */
};

struct lb_journal;
void ip_init(struct ipsim *s);
/* Journals the run into path (created; durability off). */
void ip_journal(struct ipsim *s, const char *path);
void ip_free(struct ipsim *s);
void ip_apply(struct ipsim *s, struct lb_event *ev);
void ip_event(struct ipsim *s, int src, int type, const char *body);
json_object *jm(json_object *o, const char *k);
json_object *jensure(json_object *o, const char *k, json_type t);
/* merge patch (strategic: conditions/containers merged by key) */
void merge(json_object *dst, json_object *p, int strategic);
void set_rv(struct ipsim *s, json_object *o);
const char *cond_of(json_object *pod, const char *type);
void kubelet(json_object *pod);
const struct lb_action *ip_find(const struct ipsim *s, int64_t id);
int unavailable_pods(const struct ipsim *s);
/* Answers the lowest in-flight action; 0 when none is in flight. */
int ip_answer(struct ipsim *s);
void ip_tick(struct ipsim *s);
/* Answers until nothing is in flight (1 s of virtual time per answer). */
void ip_settle(struct ipsim *s);
char *cs_manifest(int gen, int replicas, const char *image, const char *env,
                  const char *us);
void ip_put_cs(struct ipsim *s, const char *json);
/* "name=uid=image=restarts=revision=lifecycle" lines, sorted */
void pods_summary(const struct ipsim *s, struct lb_buf *out);
int count_in(const char *hay, const char *needle);
int decisions_with(const struct ipsim *s, const char *needle);
/* Folds the outcome of action a: HTTP status with the Status document msg,
 * the object unchanged. */
void ip_status_outcome(struct ipsim *s, const struct lb_action *a, int status,
                       const char *msg);
/* `logbook explain` of kind/NS/name on the run's journal (ip_journal);
 * caller frees. */
char *ip_explain(struct ipsim *s, const char *kind, const char *name);
/* Asserts that `logbook replay db` verifies the journal (exit 0). */
void ip_replay_clean(const char *db);
/* A user (or a hook's owner) merge-patches a pod; the watch tells. */
void ip_user_patch(struct ipsim *s, const char *pod, const char *patch);
/* A user deletes a pod (gone at once); the watch tells. */
void ip_user_delete(struct ipsim *s, const char *pod);
int pod_names(const struct ipsim *s, char names[][64], int max);
const char *pod_label(const struct ipsim *s, const char *pod,
                      const char *label);

#endif
