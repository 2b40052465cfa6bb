/* sim_int.h — internals shared by the simulator's files (sim.c: store,
 * writes, kubelets, watch, actuator; sim_util.c: PRNG, ids, JSON merge
 * patch, managedFields, Status documents; sim_kubelet.c: the pod state
 * machine). Not part of any interface. */
#ifndef LB_SIM_INT_H
#define LB_SIM_INT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "../engine/decision.h"
#include "actuator.h"
#include "sim.h"

/* splitmix64 step: the only source of randomness in the simulator. */
uint64_t lb__sim_rand(uint64_t *state);
/* A version-4-shaped UUID (36 chars + NUL) from the PRNG. */
void lb__sim_uuid(uint64_t *state, char out[37]);
/* 64 hex digits (+ NUL) from the PRNG. */
void lb__sim_hex64(uint64_t *state, char out[65]);
/* 64 hex digits derived only from `s` (a stand-in for an image digest). */
void lb__sim_digest(const char *s, char out[65]);

/* RFC 7386 merge: returns the merged document, consuming `target` (may be
 * NULL) and borrowing `patch`. NULL when the result is JSON null or on
 * allocation failure (then *oom is set). */
json_object *lb__sim_merge(json_object *target, json_object *patch, int *oom);
/* Strategic merge patch (the subset Pods need): RFC 7386, except that
 * lists of objects merge element-wise by key ("name" for containers,
 * initContainers, env, volumes; containerPort/mountPath (else name) for
 * ports/volumeMounts; "type" for conditions; "conditionType" for
 * readinessGates), an element {"<key>":..,"$patch":"delete"} removes its
 * match, {"$patch":"replace"} replaces an object, "$deleteFromPrimitiveList/
 * <field>" removes values from a list of strings, other "$" directives
 * ($setElementOrder, $retainKeys) are ignored. Same ownership as
 * lb__sim_merge. */
json_object *lb__sim_smerge(json_object *target, json_object *patch, int *oom);
/* JSON Patch (RFC 6902, sim_jpatch.c): the patched copy of doc (borrowed),
 * or NULL with *code (400 not a patch, 422 an operation failed, 500 out of
 * memory) and *msg (malloc'd). All or nothing. */
json_object *lb__sim_jpatch(json_object *doc, json_object *ops, int *code,
                            char **msg);
/* Deep copy (NULL for NULL or on allocation failure). */
json_object *lb__sim_copy(json_object *v);
/* The managedFields "fieldsV1" description of v. `top` omits the "."
 * entry as the apiserver does for the outermost level; `meta` restricts a
 * metadata object to the fields a client sets. */
json_object *lb__sim_fields(json_object *v, int top);
/* Main-resource fieldsV1 of a whole object or a patch: metadata (labels,
 * annotations, ownerReferences, finalizers) and everything but status. */
json_object *lb__sim_fields_main(json_object *obj);

/* Lower-case plural resource name of a kind ("CloneSet" -> "clonesets");
 * malloc'd. */
char *lb__sim_plural(const char *kind);
/* A Kubernetes Status document (malloc'd JSON, length in *len). */
char *lb__sim_status_doc(int code, const char *reason, const char *message,
                         const char *group, const char *kind, const char *name,
                         size_t *len);
/* Plain JSON text of v (malloc'd, length in *len), or NULL. */
char *lb__sim_dump(json_object *v, size_t *len);

/* Sets member k (replacing it) to a string / an RFC 3339 time. */
void lb__sim_set_str(json_object *o, const char *k, const char *v);
void lb__sim_set_time(json_object *o, const char *k, int64_t ms);
/* Member k as an object, created (replacing a non-object) if needed. */
json_object *lb__sim_ensure_obj(json_object *o, const char *k);
/* A copy of j in the apiserver's key order (apiVersion, kind, metadata
 * with its well-known keys first, the rest, status); NULL on OOM. */
json_object *lb__sim_normalize(json_object *j);
/* Whether anything outside metadata and status differs. */
int lb__sim_spec_changed(json_object *a, json_object *b);
/* Copies the server-owned metadata (name, namespace, uid, rv, generation,
 * timestamps), apiVersion and kind from src into dst. 0 or LB_ENOMEM. */
int lb__sim_set_server_meta(json_object *dst, json_object *src);
/* dst.status = copy of src.status (or no status). */
void lb__sim_replace_status(json_object *dst, json_object *src);
/* metadata.generation += 1. */
void lb__sim_bump_generation(json_object *j);

/* Parses text that must be exactly one JSON object. On failure returns
 * NULL with *rc = LB_EPARSE (not JSON, trailing data) or LB_EINVAL (not an
 * object) or LB_ENOMEM, and *msg (malloc'd) naming `what`. */
/* lb__sim_parse for a document of type want (json_type_array, ...). */
json_object *lb__sim_parse_as(const char *text, const char *what,
                              json_type want, char **msg, int *rc);
json_object *lb__sim_parse(const char *text, const char *what, char **msg,
                           int *rc);
/* Typed getters that tolerate missing or mistyped members. */
json_object *lb__sim_member(json_object *o, const char *key);
const char *lb__sim_str(json_object *o, const char *key);

/* ---- the simulator's state (sim.c owns it; sim_kubelet.c moves pods) ---- */
#define LB__SIM_MGR_KUBELET "kubelet"

enum { POD_PENDING, POD_SCHEDULED, POD_RUNNING };
enum { C_RUNNING, C_READY, C_KILLED };

struct ctr {
  char *name;
  char *image;       /* running image */
  char *want;        /* image in spec (target of a restart) */
  char cid[65];      /* containerID hex */
  char last_cid[65]; /* previous containerID ("" = never restarted) */
  int st;            /* C_* */
  int restarts;
  int64_t started_ms;
  int64_t last_started_ms, last_finished_ms;
  uint64_t pending_ready;   /* seq of the T_CREADY timer, 0 = none */
  uint64_t pending_restart; /* seq of the T_RESTART timer, 0 = none */
};

struct pod {
  int st;      /* POD_* */
  int node;    /* index into nodes, -1 when unscheduled */
  int unsched; /* scheduling failed (affinity to an unknown node) */
  char pod_ip[20];
  int64_t t_sched, t_start;
  int cready, ready; /* last rendered ContainersReady / Ready */
  int64_t t_cready, t_ready;
  struct ctr *c;
  size_t nc;
};

struct mf { /* one metadata.managedFields entry */
  char *manager;
  int status; /* subresource "status" */
  int64_t ms;
  char *fields; /* fieldsV1 as JSON text (trees of {} cost ~0.7 KB
                   per leaf in json-c) */
};

struct obj {
  char *key; /* kind \x1f ns \x1f name \x1f group: sort order */
  char *group, *kind, *ns, *name, *uid;
  char *api_version;
  json_object *j; /* the object, without managedFields */
  char *json;     /* last committed serialization (with managedFields) */
  char *owners;   /* ownerReferences uids, each followed by \x1f */
  size_t json_len;
  int status_sub;  /* has a status subresource */
  int terminating; /* deletionTimestamp set */
  int grace_done;  /* the kubelet finished (or no kubelet involved) */
  struct mf *mf;
  size_t n_mf;
  struct pod *pod; /* kind Pod only */
};

enum { T_ACTION = 1, T_SCHEDULE, T_START, T_CREADY, T_RESTART, T_GONE };

struct timer {
  int64_t due;
  uint64_t seq;         /* insertion counter: ties and container tokens */
  int kind;             /* T_* */
  char *key, *uid;      /* object the kubelet timer is for */
  struct lb_action act; /* T_ACTION */
  int fault;            /* T_ACTION: answer this status without effect */
};

struct wev {
  int type;
  int64_t rv, at_ms;
  char *body;
  size_t len;
};

struct counter {
  char *key;
  int64_t n;
};

struct fault {
  int64_t nth;
  int status;
};

struct lb_sim {
  struct lb_sim_opts o;
  uint64_t rng;
  int64_t now;
  int64_t rv;
  struct obj **objs; /* sorted by key */
  size_t n_objs, cap_objs;
  struct timer **heap; /* min-heap on (due, seq) */
  size_t n_heap, cap_heap;
  uint64_t tseq;
  struct wev *ring; /* the last watch_window events */
  size_t ring_cap, ring_head, ring_n;
  int64_t gone_rv; /* highest rv dropped from the ring */
  int *node_load;
  int *node_ipseq;
  struct lb_actuator act;
  int64_t n_submitted;
  struct fault *faults;
  size_t n_faults, cap_faults;
  struct counter *owned; /* owner uid -> live references to it */
  size_t n_owned, cap_owned;
  struct counter *eff; /* sorted by key */
  size_t n_eff, cap_eff;
  int64_t totals[8]; /* by enum lb_verb */
};

/* Result of one write, shaped like an HTTP answer. */
struct wres {
  int code;   /* 200, 201, 400, 404, 409, 500 */
  int err;    /* LB_E* equivalent for user-side calls */
  char *body; /* object or Status JSON (malloc'd) */
  size_t len;
  char *msg; /* Status message (malloc'd) on failure */
};

static const char MGR_USER[] = "kubectl-client-side-apply";
static const char MGR_PATCH[] = "kubectl-patch";
static const char MGR_ACT[] = "logbook";
static const char MGR_KUBELET[] = "kubelet";

/* sim.c: shared mechanics */
int64_t lb__sim_draw(struct lb_sim *s, const int64_t range[2]);
/* One write: rv+1, managedFields rendered, serialized, watch event. */
int lb__sim_commit(struct lb_sim *s, struct obj *o, int type);
/* Schedules a kubelet timer for o after delay; returns its seq (0 = OOM). */
uint64_t lb__sim_timer(struct lb_sim *s, struct obj *o, int kind,
                       int64_t delay);
/* Records that manager wrote `fields` (consumed) now. */
void lb__sim_mf_note(struct lb_sim *s, struct obj *o, const char *manager,
                     int status, json_object *fields, int replace);
/* Removes a terminating object whose kubelet and finalizers are done. */
int lb__sim_maybe_finalize(struct lb_sim *s, struct obj *o);

/* sim_kubelet.c: the pod state machine (diagram at the top of sim.c) */
void lb__sim_pod_free(struct pod *p);
void lb__sim_pod_defaults(json_object *j);
void lb__sim_pod_render(struct lb_sim *s, struct obj *o);
int lb__sim_kubelet_schedule(struct lb_sim *s, struct obj *o);
int lb__sim_kubelet_start(struct lb_sim *s, struct obj *o);
int lb__sim_kubelet_cready(struct lb_sim *s, struct obj *o, uint64_t seq);
int lb__sim_kubelet_restart(struct lb_sim *s, struct obj *o, uint64_t seq);
int lb__sim_kubelet_spec_changed(struct lb_sim *s, struct obj *o);
int lb__sim_kubelet_gone(struct lb_sim *s, struct obj *o);

#endif
