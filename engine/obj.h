/* obj.h — compact structs for the objects reducers read.
 *
 * Decoded once from the JSON body of an event (json-c tree freed right
 * after); only decision-relevant fields are kept. Strings are owned by the
 * object. A label set is a packed string "k\0v\0k\0v\0\0" (lb_kv_*).
 * Every object encodes to a canonical JSON text (lb_obj_encode) used for
 * the state digest and for snapshots; lb_obj_restore() is its inverse.
 */
#ifndef LB_OBJ_H
#define LB_OBJ_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct json_object;

#define LB_KINDS(X)                                                            \
  X(POD, "", "Pod")                                                            \
  X(CLONESET, "apps.kruise.io", "CloneSet")                                    \
  X(CREV, "apps", "ControllerRevision")                                        \
  X(PVC, "", "PersistentVolumeClaim")                                          \
  X(PUB, "policy.kruise.io", "PodUnavailableBudget")                           \
  X(DEPLOY, "apps", "Deployment")                                              \
  X(RS, "apps", "ReplicaSet")                                                  \
  X(STS, "apps", "StatefulSet")                                                \
  X(ASTS, "apps.kruise.io", "StatefulSet")                                     \
  X(UD, "apps.kruise.io", "UnitedDeployment")                                  \
  X(IPJ, "apps.kruise.io", "ImagePullJob")

enum lb_kind {
  LB_KIND_NONE = 0,
#define X(e, g, k) LB_KIND_##e,
  LB_KINDS(X)
#undef X
      LB_KIND__COUNT
};
int lb_kind_of(const char *api_group, const char *kind); /* or NONE */
const char *lb_kind_name(int kind);                      /* "Pod" */
const char *lb_kind_group(int kind);                     /* "" */

/* --- packed label/annotation sets ------------------------------------- */
const char *lb_kv_get(const char *kv, const char *key); /* value or NULL */
size_t lb_kv_size(const char *kv); /* bytes incl. terminator; 1 if empty */
/* Sets (val != NULL) or removes (val == NULL) key in the sorted packed set
 * *kv (reallocated; NULL is an empty set). Returns 0 or LB_ENOMEM. */
int lb_kv_set(char **kv, const char *key, const char *val);
size_t lb_kv_count(const char *kv);
#define LB_KV_FOR(kv, k, v)                                                    \
  for (const char *k = (kv), *v = (kv) ? (kv) + strlen(kv) + 1 : NULL;         \
       k && *k; k = v + strlen(v) + 1, v = *k ? k + strlen(k) + 1 : NULL)

/* --- IntOrString -------------------------------------------------------- */
struct lb_intstr {
  int set;    /* 0 = absent */
  int is_pct; /* value is a percentage */
  int val;    /* the number (percent value when is_pct) */
};
/* "25%" / 3 -> intstr; LB_EPARSE on garbage */
int lb_intstr_from_json(struct json_object *j, struct lb_intstr *out);
/* Resolves against total, rounding a percentage up or down. */
int lb_intstr_resolve(const struct lb_intstr *v, int total, int round_up);

/* --- label selector ----------------------------------------------------- */
enum { LB_SEL_IN = 1, LB_SEL_NOTIN, LB_SEL_EXISTS, LB_SEL_NOTEXISTS };
struct lb_selreq {
  char *key;
  int op;
  char *values; /* packed "a\0b\0\0" */
};
struct lb_selector {
  char *match_labels; /* packed kv */
  struct lb_selreq *reqs;
  size_t n_reqs;
  int empty; /* selects everything ({}), distinct from absent */
};
int lb_selector_matches(const struct lb_selector *s, const char *labels);
/* "a=b,c in (x,y)" — Kubernetes' string form, for status.labelSelector */
int lb_selector_string(const struct lb_selector *s, struct lb_buf *out);

/* --- objects ------------------------------------------------------------ */
enum lb_phase {
  LB_PH_UNKNOWN = 0,
  LB_PH_PENDING,
  LB_PH_RUNNING,
  LB_PH_SUCCEEDED,
  LB_PH_FAILED
};

struct lb_obj {
  int kind;            /* enum lb_kind */
  char *ns, *name;     /* identity */
  char *uid, *rv;      /* metadata.uid, metadata.resourceVersion */
  char *owner_uid;     /* controller ownerReference uid, or NULL */
  char *labels;        /* packed kv (never NULL) */
  int64_t created_ms;  /* creationTimestamp */
  int64_t deleting_ms; /* deletionTimestamp, 0 = not terminating */
  int64_t generation;  /* metadata.generation */
  /* engine bookkeeping, not decoded */
  struct lb_cloneset *owner; /* owning CloneSet (linked by controller uid) */
  size_t owner_idx;          /* index in owner->pods or owner->owned */
};

/* A container of the pod spec, and its status (matched by name). */
struct lb_ctr {
  char *name, *image;
};
struct lb_ctr_status {
  char *name, *image, *image_id, *container_id;
  int ready, started, restarts;
};

struct lb_cloneset;
struct lb_cs_agg;
struct lb_pod {
  struct lb_obj o;
  char *node;            /* spec.nodeName, NULL = unscheduled */
  int phase;             /* enum lb_phase */
  int ready;             /* condition Ready == True */
  int64_t ready_ms;      /* lastTransitionTime of Ready (when it went True) */
  int restarts;          /* max restartCount over containers */
  int64_t deletion_cost; /* controller.kubernetes.io/pod-deletion-cost */
  char *annotations;     /* packed kv, only keys under kruise prefixes and
                            controller.kubernetes.io/ (see obj.c) */
  char *finalizers;      /* packed list */
  char *gates;           /* spec.readinessGates[].conditionType, packed */
  char *conds;           /* status.conditions: packed kv type -> status */
  struct lb_ctr *ctrs;   /* spec.containers */
  size_t n_ctrs;
  struct lb_ctr_status *csts; /* status.containerStatuses */
  size_t n_csts;
  /* derived from labels once at decode (pointers into `labels`), because
   * every reconcile reads them for every pod */
  const char *rev;       /* controller-revision-hash, or "" */
  const char *lc;        /* lifecycle.apps.kruise.io/state, or "" */
  int specified_delete;  /* apps.kruise.io/specified-delete present */
  int unavailable_label; /* some unavailable-pod.kruise.io/ label present */
  /* also derived once at decode (pointers into `conds`/`annotations`, NULL
   * = absent), for the same reason: the in-place and lifecycle checks of
   * every pod on every reconcile */
  const char *ipu_ready;  /* condition InPlaceUpdateReady */
  const char *kpr_ready;  /* condition KruisePodReady */
  const char *ipu_state;  /* in-place update state annotation (or legacy) */
  const char *ipu_grace;  /* in-place update grace annotation (or legacy) */
  unsigned char gate_ipu; /* readiness gate InPlaceUpdateReady */
  unsigned char gate_kpr; /* readiness gate KruisePodReady */
  unsigned char
      ipu_false;         /* ipu_ready is "False" (in-place update under way) */
  unsigned char lc_kind; /* enum lb_lc_kind of `lc` */
  /* engine bookkeeping, not decoded: the class bits this pod was counted
   * with in its owner's aggregates (cloneset.h LB_CSC_*) */
  unsigned short cs_class;
};

/* The lifecycle state label as a number (lifecycle.h LB_LC_* names). */
enum lb_lc_kind {
  LB_LCK_NONE = 0, /* label absent or "" */
  LB_LCK_PREPARING_NORMAL,
  LB_LCK_NORMAL,
  LB_LCK_PREPARING_UPDATE,
  LB_LCK_UPDATING,
  LB_LCK_UPDATED,
  LB_LCK_PREPARING_DELETE,
  LB_LCK_OTHER /* any other value */
};

enum lb_cs_update {
  LB_CSU_RECREATE = 0,
  LB_CSU_INPLACE_IF_POSSIBLE,
  LB_CSU_INPLACE_ONLY
};

struct lb_cs_status {
  int64_t observed_generation;
  int replicas, ready, available, updated, updated_ready, updated_available;
  int expected_updated;
  char *current_revision, *update_revision, *label_selector;
  int collision_count;
};

/* Engine bookkeeping of every object a reducer reconciles (CloneSet,
 * PodUnavailableBudget): in-flight action counts by class, the next wakeup
 * and the hash of the last recorded reason. Not decoded; kept across
 * updates of the object; part of the canonical encoding (snapshots). */
#define LB_OWNER_FIELDS                                                        \
  int inflight_pods;    /* pod create/delete/patch actions in flight */        \
  int inflight_status;  /* status patches in flight */                         \
  int inflight_revs;    /* other actions (ControllerRevisions, PVCs) */        \
  int64_t wakeup_ms;    /* reconcile again at this time (0 = none) */          \
  uint64_t last_reason; /* hash of the last recorded reason */
struct lb_owner {
  LB_OWNER_FIELDS
};

struct lb_cloneset {
  struct lb_obj o;
  int replicas;                /* spec.replicas, default 1 */
  struct lb_selector selector; /* spec.selector */
  char *template_json;         /* spec.template, compact JSON */
  char *rev_data_memo; /* lb_rev_data() of template_json, computed once per
                          object (a pure function of it; not encoded) */
  int update_type;     /* enum lb_cs_update */
  struct lb_intstr partition, max_unavailable, max_surge;
  int paused;
  char *pods_to_delete;                   /* packed list "a\0b\0\0" */
  struct lb_intstr scale_max_unavailable; /* unset = unlimited */
  int min_ready_seconds;
  int revision_history_limit;
  int inplace_grace_seconds;  /* updateStrategy.inPlaceUpdateStrategy */
  int disable_pvc_reuse;      /* scaleStrategy.disablePVCReuse */
  char *lifecycle_json;       /* spec.lifecycle, canonical JSON or NULL */
  char *vct_json;             /* spec.volumeClaimTemplates, or NULL */
  char *priority_json;        /* updateStrategy.priorityStrategy, or NULL */
  char *scatter_json;         /* updateStrategy.scatterStrategy, or NULL */
  char *predownload_annos;    /* the metadata.annotations apps.kruise.io/
                                 image-predownload-* (packed kv; never NULL
                                 once decoded; cloneset_predownload.c) */
  struct lb_cs_status status; /* as last observed */
  /* engine bookkeeping, not decoded */
  struct lb_pod **pods; /* owned pods, sorted by name */
  size_t n_pods, cap_pods;
  struct lb_obj **owned; /* owned ControllerRevisions, PVCs and
                            ImagePullJobs, unordered */
  size_t n_owned, cap_owned;
  int failed_verb; /* verb of an own action whose outcome just failed; set
                      by the fold, read and cleared by the reconcile of the
                      same event (FailedScale/FailedUpdate), never kept */
  /* derived counts over the pods (cloneset_agg.c), kept by the fold; never
   * encoded, rebuilt when absent */
  struct lb_cs_agg *agg;
  union { /* the engine reads .own; cloneset.c reads the fields directly */
    struct lb_owner own;
    struct {
      LB_OWNER_FIELDS
    };
  };
};

/* A PersistentVolumeClaim (owned by a CloneSet or not). */
struct lb_pvc {
  struct lb_obj o;
  int bound; /* status.phase == Bound */
};

/* Deployment, ReplicaSet, StatefulSet (apps), Advanced StatefulSet,
 * UnitedDeployment: only what PUB counting and deletion protection read. */
struct lb_workload {
  struct lb_obj o;
  int replicas; /* spec.replicas, default 1 */
};

/* PodUnavailableBudget (kruise-spec §7). A pod record is a packed kv
 * "pod\0<epoch ms>\0...": the observed status maps as decoded, and the
 * engine's ledger (see pub.h) which is the authority for the verdicts. */
enum { LB_PUB_OP_DELETE = 1, LB_PUB_OP_UPDATE = 2, LB_PUB_OP_EVICT = 4 };
struct lb_pub_status {
  int64_t observed_generation;
  int desired_available, current_available, unavailable_allowed;
  int total_replicas;
  char *disrupted, *unavailable; /* packed kv pod -> ms (as observed) */
};
struct lb_pub {
  struct lb_obj o;
  struct lb_selector selector; /* spec.selector (absent: match_labels NULL) */
  int has_selector;
  char *target_api_version, *target_kind, *target_name; /* spec.targetRef */
  struct lb_intstr max_unavailable, min_available;
  int protect_ops;   /* LB_PUB_OP_* mask (annotation; default all) */
  int protect_total; /* pub.kruise.io/protect-total-replicas, -1 = none */
  struct lb_pub_status status; /* as last observed */
  /* engine bookkeeping, not decoded (but encoded: snapshots) */
  char *led_disrupted, *led_unavailable; /* the ledger: packed kv */
  union {
    struct lb_owner own;
    struct {
      LB_OWNER_FIELDS
    };
  };
};

/* An ImagePullJob (apps.kruise.io/v1alpha1) is a bare struct lb_obj: the
 * CloneSet reducer reads only its name, uid, controller owner, labels and
 * deletionTimestamp (cloneset_predownload.c). Appended last to LB_KINDS so
 * the kind numbers in existing snapshots keep their meaning. */

struct lb_crev {
  struct lb_obj o;
  int64_t revision; /* .revision */
  char *data;       /* .data compact JSON */
};

/* The engine bookkeeping of a reconciled object, or NULL for kinds
 * without a reducer. */
struct lb_owner *lb_obj_owner(struct lb_obj *o);

/* Decodes a parsed object into a compact struct of its kind, or *out =
 * NULL when the kind is not modelled. api_group/kind come from apiVersion
 * and kind. Returns 0, LB_EPARSE (a field has the wrong type: message in
 * *why, static) or LB_ENOMEM. */
int lb_obj_decode(struct json_object *root, struct lb_obj **out,
                  const char **why);
/* The same from JSON text (NUL-terminated; read as json_tokener_parse()
 * would): engine/fastdecode.c when it handles the text, else json-c and
 * lb_obj_decode(). *out = NULL when the text is not JSON. */
int lb_obj_decode_text(const char *text, struct lb_obj **out, const char **why);
/* Frees the struct and its contents (not the engine bookkeeping arrays'
 * targets). NULL is fine. */
void lb_obj_free(struct lb_obj *o);
/* Canonical JSON of the decoded fields (engine bookkeeping excluded). */
int lb_obj_encode(const struct lb_obj *o, struct lb_buf *out);
/* Inverse of lb_obj_encode. */
int lb_obj_restore(struct json_object *enc, struct lb_obj **out);

/* Pod helpers */
/* The status of container `name`, or NULL. */
const struct lb_ctr_status *lb_pod_cstatus(const struct lb_pod *p,
                                           const char *name);
/* Condition status ("True", "False", ...) of a type, or NULL. */
const char *lb_pod_cond(const struct lb_pod *p, const char *type);
/* The status of container `name`, or NULL. */
const struct lb_ctr_status *lb_pod_cstatus(const struct lb_pod *p,
                                           const char *name);
/* Condition status "True"/"False"/... of a type, or NULL. */
const char *lb_pod_cond(const struct lb_pod *p, const char *type);
int lb_pod_active(const struct lb_pod *p); /* not terminating, not done */
/* Pod revision label value, or "" */
const char *lb_pod_revision(const struct lb_pod *p);

#endif
