# shellcheck shell=bash
# policy.sh — OpenKruise's policy acceptance scenarios 22–24 (kruise-spec
# §16.1, test/e2e/policy at v1.8.4) and each rule of §6 (deletion
# protection) and §7 (PodUnavailableBudget) against the real apiserver.
# Sourced by run.sh, whose manager serves the webhooks (webhook.sh:
# registered by url, failurePolicy Fail, for namespaces labelled
# logbook-e2e-webhook=$NS), on the light setup with the node simulator.
# The Deployment variant of scenario 22 needs the kit's
# kube-controller-manager (CM=1) and is run by name only; the light suite
# covers scenario 22 with the CloneSet variant.

# The webhooks answer: deleting an Always-protected Service is refused.
t_policy_00_webhooks_active() {
  kubectl create service clusterip wh-probe -n "$NS" --tcp=80:80 >/dev/null 2>&1 || true
  kubectl label service wh-probe -n "$NS" policy.kruise.io/delete-protection=Always --overwrite >/dev/null
  wait_for "webhooks answer" 60 bash -c \
    "kubectl delete service wh-probe -n $NS 2>&1 | grep -q 'forbidden by ResourcesProtectionDeletion'"
  kubectl label service wh-probe -n "$NS" policy.kruise.io/delete-protection- >/dev/null
  kubectl delete service wh-probe -n "$NS" >/dev/null
}

# denied CMD... : the command fails and its output is kept in $WORK/denied
denied() {
  if "$@" >"$WORK/denied" 2>&1; then
    log "expected a denial: $*"
    return 1
  fi
}
says() { grep -q -- "$1" "$WORK/denied" || { log "denial lacks '$1':"; cat "$WORK/denied"; return 1; }; }

pub_field() { jp pub "$1" "{.status.$2}"; }
pub_status_is() { # PUB TOTAL DESIRED CURRENT ALLOWED
  [ "$(pub_field "$1" totalReplicas)" = "$2" ] &&
    [ "$(pub_field "$1" desiredAvailable)" = "$3" ] &&
    [ "$(pub_field "$1" currentAvailable)" = "$4" ] &&
    [ "$(pub_field "$1" unavailableAllowed)" = "$5" ]
}

pub_yaml() { # NAME SELECTOR-APP|ref:KIND/NAME FIELD VALUE
  local target
  if [ "${2#ref:}" != "$2" ]; then
    local ref=${2#ref:}
    target="targetRef: {apiVersion: apps.kruise.io/v1alpha1, kind: ${ref%/*}, name: ${ref#*/}}"
    [ "${ref%/*}" = Deployment ] && target="targetRef: {apiVersion: apps/v1, kind: Deployment, name: ${ref#*/}}"
  else
    target="selector: {matchLabels: {app: $2}}"
  fi
  cat <<YAML
apiVersion: policy.kruise.io/v1alpha1
kind: PodUnavailableBudget
metadata: {name: $1, namespace: $NS}
spec:
  $target
  $3: $4
YAML
}

evict() { # POD [DRYRUN]: pods/eviction through the API
  local dry=
  [ -n "${2:-}" ] && dry=',"deleteOptions":{"dryRun":["All"]}'
  printf '{"apiVersion":"policy/v1beta1","kind":"Eviction","metadata":{"name":"%s","namespace":"%s"}%s}' \
    "$1" "$NS" "$dry" |
    kubectl create --raw "/api/v1/namespaces/$NS/pods/$1/eviction" -f -
}

# ledger_records POD: an allowed disruption of POD was recorded by its
# verdict: the same decision patches the PUB status with POD in
# disruptedPods (the status may drop it again at once: a terminating pod
# leaves the maps, as upstream's controller does)
ledger_records() {
  [ "$(journal_count "SELECT count(*) FROM actions a JOIN decisions d ON d.seq = a.decision_seq WHERE d.reducer = 'admission' AND d.name = '$1' AND a.kind = 'PodUnavailableBudget' AND a.subresource = 'status' AND json_extract(a.request, '\$.status.disruptedPods.\"$1\"') IS NOT NULL")" -ge 1 ]
}

first_pod() { kubectl get pods -n "$NS" -l "app=$1" -o jsonpath='{.items[0].metadata.name}'; }

# 22. selector PUB over a Deployment's pods: a direct pod delete is refused;
# deleting the Deployment lowers the expected count to 0, so its own pod
# deletions pass; status totalReplicas 0 at the end.
t_policy_22_pub_selector_deployment() {
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: apps/v1
kind: Deployment
metadata: {name: d22, namespace: $NS}
spec:
  replicas: 1
  selector: {matchLabels: {app: d22}}
  template:
    metadata: {labels: {app: d22}}
    spec: {containers: [{name: main, image: nginx:1.25}]}
YAML
  if ! wait_for "d22 pod" 30 bash -c "[ -n \"\$(kubectl get pods -n $NS -l app=d22 -o name)\" ]"; then
    log "t_policy_22_pub_selector_deployment needs kube-controller-manager (the kit with CM=1)"
    kubectl delete deployment d22 -n "$NS" >/dev/null
    return 1
  fi
  pub_yaml p22 d22 maxUnavailable 0 | kubectl apply -f - >/dev/null
  wait_for "p22 status 1 1 1 0" 60 pub_status_is p22 1 1 1 0
  local pod
  pod=$(first_pod d22)
  [ "$(kubectl get pod "$pod" -n "$NS" -o jsonpath='{.metadata.annotations.kruise\.io/related-pub}')" = p22 ]
  denied kubectl delete pod "$pod" -n "$NS"
  says "pub unavailable allowed is negative"
  kubectl delete deployment d22 -n "$NS" >/dev/null
  wait_for "d22 pods gone" 90 bash -c "[ -z \"\$(kubectl get pods -n $NS -l app=d22 -o name)\" ]"
  wait_for "p22 total 0" 60 pub_status_is p22 0 0 0 0
}

# 22 (CloneSet variant, no controller-manager needed): scaling the workload
# down lowers the expected count; the CloneSet's own deletions pass.
t_policy_22_pub_selector_cloneset_scale_down() {
  cloneset c22 2 nginx:1.25 | kubectl apply -f - >/dev/null
  wait_for "c22 2 ready" 60 status_is c22 2 2
  pub_yaml p22c c22 maxUnavailable 0 | kubectl apply -f - >/dev/null
  wait_for "p22c status 2 2 2 0" 60 pub_status_is p22c 2 2 2 0
  denied kubectl delete pod "$(first_pod c22)" -n "$NS"
  says "pub unavailable allowed is negative"
  # a server-side dry run is refused too when nothing is allowed
  denied kubectl delete pod "$(first_pod c22)" -n "$NS" --dry-run=server
  kubectl scale clone c22 -n "$NS" --replicas=0 >/dev/null
  wait_for "c22 scaled to 0" 90 live_pods_are c22 0
  wait_for "p22c total 0" 60 pub_status_is p22c 0 0 0 0
}

# 23. targetRef PUB: status exact; evictions within budget pass (and are
# recorded), beyond it 403 — also for pods/eviction; a dry run is not
# recorded; the related-pub annotation lands on every pod.
t_policy_23_pub_targetref_status_and_evictions() {
  cloneset c23 4 nginx:1.25 | kubectl apply -f - >/dev/null
  wait_for "c23 4 ready" 60 status_is c23 4 4
  pub_yaml p23 ref:CloneSet/c23 maxUnavailable 1 | kubectl apply -f - >/dev/null
  wait_for "p23 status 4 3 4 1" 60 pub_status_is p23 4 3 4 1
  wait_for "related-pub on 4 pods" 60 bash -c \
    "[ \"\$(kubectl get pods -n $NS -l app=c23 -o json | jq '[.items[] | select(.metadata.annotations[\"kruise.io/related-pub\"] == \"p23\")] | length')\" = 4 ]"
  local a b
  a=$(kubectl get pods -n "$NS" -l app=c23 -o jsonpath='{.items[0].metadata.name}')
  b=$(kubectl get pods -n "$NS" -l app=c23 -o jsonpath='{.items[1].metadata.name}')
  evict "$a" dry >/dev/null # dry run: allowed, not recorded
  sleep 1
  if ledger_records "$a"; then log "a dry-run eviction was recorded"; return 1; fi
  evict "$a" >/dev/null
  # the allowed eviction is recorded in the budget's ledger
  wait_for "p23 records $a" 30 ledger_records "$a"
  denied evict "$b"
  says "pub unavailable allowed is negative"
  grep -q 403 "$WORK/denied" || says Forbidden
  # the CloneSet replaces the evicted pod; once all 4 are ready again
  # (and the record expired or the pod is gone) the budget is back
  wait_for "p23 allowed again" 90 pub_status_is p23 4 3 4 1
  # a validation rule: two budgets on one workload are refused
  pub_yaml p23b ref:CloneSet/c23 minAvailable 1 >"$WORK/p23b.yaml"
  denied kubectl apply -f "$WORK/p23b.yaml"
  says "already targets CloneSet c23"
}

# 23 (rollout variant): a ReCreate rollout to an image that never becomes
# ready, with the CloneSet's own maxUnavailable 4 (all at once) and a PUB
# of maxUnavailable 1: exactly one pod is updated, the rest are held by the
# budget; the journal says the budget held them.
t_policy_23_pub_blocks_broken_rollout() {
  cloneset c23r 4 nginx:1.25 0 4 | kubectl apply -f - >/dev/null
  wait_for "c23r 4 ready" 60 status_is c23r 4 4
  pub_yaml p23r ref:CloneSet/c23r maxUnavailable 1 | kubectl apply -f - >/dev/null
  wait_for "p23r status 4 3 4 1" 60 pub_status_is p23r 4 3 4 1
  local old new
  old=$(jp clone c23r '{.status.updateRevision}')
  set_image c23r nginx:broken
  wait_for "c23r new revision" 30 bash -c "[ \"\$(kubectl get clone c23r -n $NS -o jsonpath='{.status.updateRevision}')\" != $old ]"
  new=$(jp clone c23r '{.status.updateRevision}')
  wait_for "one c23r pod at the broken revision" 60 bash -c "[ \"\$(kubectl get pods -n $NS -l app=c23r,controller-revision-hash=$new -o name | wc -l)\" = 1 ]"
  sleep 8 # the manager reconciles many times in between; nothing more may move
  [ "$(pods_at c23r "$new")" = 1 ]
  [ "$(pods_at c23r "$old")" = 3 ]
  [ "$(pub_field p23r unavailableAllowed)" = 0 ]
  # a never-ready pod settles: no status write loop (nodesim and manager)
  local bp n
  bp=$(kubectl get pods -n "$NS" -l "app=c23r,controller-revision-hash=$new" -o jsonpath='{.items[0].metadata.name}')
  n=$(journal_count "SELECT count(*) FROM events WHERE kind='Pod' AND name='$bp'")
  log "$bp: $n events"
  [ "$n" -lt 60 ]
  # and the CloneSet's reasons say the budget held them
  [ "$(journal_count "SELECT count(*) FROM decisions WHERE reducer='cloneset' AND name='c23r' AND reason LIKE '%held: pub unavailable allowed is negative%refuses UPDATE%'")" -ge 1 ]
}

# §7 validation on the real apiserver: both selector and targetRef, neither
# maxUnavailable nor minAvailable, a percent over 100%.
t_policy_pub_validation() {
  denied bash -c "cat <<YAML | kubectl apply -f -
apiVersion: policy.kruise.io/v1alpha1
kind: PodUnavailableBudget
metadata: {name: bad1, namespace: $NS}
spec:
  selector: {matchLabels: {app: x}}
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: x}
  maxUnavailable: 1
YAML"
  says "mutually exclusive"
  pub_yaml bad2 x minAvailable '"120%"' >"$WORK/bad2.yaml"
  denied kubectl apply -f "$WORK/bad2.yaml"
  says "spec.minAvailable"
}

# 24. deletion protection: namespace (Always; Cascading with a CloneSet pod,
# then with a Bound PVC), CloneSet and Deployment (Cascading with
# replicas > 0), Service and Ingress (Always), a CRD (Cascading, a kind
# logbook does not track: refused conservatively).
t_policy_24_deletion_protection() {
  local ns=$NS-protected
  kubectl create namespace "$ns" >/dev/null
  kubectl label namespace "$ns" "logbook-e2e-webhook=$NS" >/dev/null
  kubectl label namespace "$ns" policy.kruise.io/delete-protection=Always >/dev/null
  denied kubectl delete namespace "$ns"
  says "forbidden by ResourcesProtectionDeletion"
  says "remove the label"
  kubectl label namespace "$ns" policy.kruise.io/delete-protection=Cascading --overwrite >/dev/null
  NS=$ns cloneset c24 1 nginx:1.25 | kubectl apply -f - >/dev/null
  wait_for "c24 pod" 60 bash -c "[ -n \"\$(kubectl get pods -n $ns -l app=c24 -o name)\" ]"
  denied kubectl delete namespace "$ns"
  says "active pod"
  # Cascading CloneSet with replicas > 0
  kubectl label clone c24 -n "$ns" policy.kruise.io/delete-protection=Cascading >/dev/null
  denied kubectl delete clone c24 -n "$ns"
  says "spec.replicas 1 > 0"
  kubectl scale clone c24 -n "$ns" --replicas=0 >/dev/null
  wait_for "c24 pods gone" 90 bash -c "[ -z \"\$(kubectl get pods -n $ns -l app=c24 -o name)\" ]"
  kubectl delete clone c24 -n "$ns" >/dev/null
  # a Bound PVC keeps the namespace
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: $ns}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
YAML
  kubectl get pvc data -n "$ns" -o json | jq '.status.phase = "Bound"' |
    kubectl replace --raw "/api/v1/namespaces/$ns/persistentvolumeclaims/data/status" -f - >/dev/null
  wait_for "PVC Bound" 30 bash -c "[ \"\$(kubectl get pvc data -n $ns -o jsonpath='{.status.phase}')\" = Bound ]"
  sleep 2 # the engine folds the watch event
  denied kubectl delete namespace "$ns"
  says "Bound PersistentVolumeClaim"
  kubectl patch pvc data -n "$ns" --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null
  kubectl delete pvc data -n "$ns" --wait=false >/dev/null
  wait_for "namespace deletable" 60 kubectl delete namespace "$ns" --wait=false
  # Deployment Cascading with replicas > 0 (no controller-manager needed:
  # the verdict reads spec.replicas)
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: apps/v1
kind: Deployment
metadata: {name: d24, namespace: $NS, labels: {policy.kruise.io/delete-protection: Cascading}}
spec:
  replicas: 2
  selector: {matchLabels: {app: d24}}
  template:
    metadata: {labels: {app: d24}}
    spec: {containers: [{name: main, image: nginx:1.25}]}
YAML
  denied kubectl delete deployment d24 -n "$NS"
  says "spec.replicas 2 > 0"
  kubectl scale deployment d24 -n "$NS" --replicas=0 >/dev/null
  kubectl delete deployment d24 -n "$NS" >/dev/null
  # Service: Always refused, Cascading not enforced
  kubectl create service clusterip s24 -n "$NS" --tcp=80:80 >/dev/null
  kubectl label service s24 -n "$NS" policy.kruise.io/delete-protection=Always >/dev/null
  denied kubectl delete service s24 -n "$NS"
  kubectl label service s24 -n "$NS" policy.kruise.io/delete-protection=Cascading --overwrite >/dev/null
  kubectl delete service s24 -n "$NS" >/dev/null
  # Ingress: Always
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i24, namespace: $NS, labels: {policy.kruise.io/delete-protection: Always}}
spec: {defaultBackend: {service: {name: s24, port: {number: 80}}}}
YAML
  denied kubectl delete ingress i24 -n "$NS"
  kubectl label ingress i24 -n "$NS" policy.kruise.io/delete-protection- >/dev/null
  kubectl delete ingress i24 -n "$NS" >/dev/null
  # CRD Cascading: logbook does not track Widgets, so it refuses
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.e2e.logbook.io, labels: {policy.kruise.io/delete-protection: Cascading}}
spec:
  group: e2e.logbook.io
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}]
YAML
  denied kubectl delete crd widgets.e2e.logbook.io
  says "does not track Widget.e2e.logbook.io"
  kubectl label crd widgets.e2e.logbook.io policy.kruise.io/delete-protection- >/dev/null
  kubectl delete crd widgets.e2e.logbook.io >/dev/null
  # every denial is a journaled decision
  [ "$(journal_count "SELECT count(*) FROM decisions WHERE reducer='admission' AND reason LIKE '%forbidden by ResourcesProtectionDeletion%'")" -ge 6 ]
}

# CloneSet validation and defaulting through the webhooks.
t_policy_cloneset_webhooks() {
  denied bash -c "cat <<YAML | kubectl apply -f -
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata: {name: bad, namespace: $NS}
spec:
  replicas: 2
  selector: {matchLabels: {app: other}}
  template:
    metadata: {labels: {app: bad}}
    spec: {containers: [{name: main, image: nginx:1.25}]}
YAML"
  says "spec.template.metadata.labels"
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata: {name: dflt, namespace: $NS}
spec:
  selector: {matchLabels: {app: dflt}}
  template:
    metadata: {labels: {app: dflt}}
    spec: {containers: [{name: main, image: nginx:1.25}]}
YAML
  [ "$(jp clone dflt '{.spec.replicas}')" = 1 ]
  [ "$(jp clone dflt '{.spec.updateStrategy.type}')" = ReCreate ]
  [ "$(jp clone dflt '{.spec.updateStrategy.maxUnavailable}')" = "20%" ]
  wait_for "dflt pod has both gates" 60 bash -c \
    "kubectl get pods -n $NS -l app=dflt -o json | jq -e '.items[0].spec.readinessGates | map(.conditionType) | (index(\"InPlaceUpdateReady\") != null and index(\"KruisePodReady\") != null)'"
}

# t_policy_22_pub_selector_deployment is not in the light list: Deployments
# create no pods without kube-controller-manager; run it by name on a kit
# started with CM=1.
POLICY_TESTS=(t_policy_00_webhooks_active t_policy_cloneset_webhooks t_policy_pub_validation
  t_policy_22_pub_selector_cloneset_scale_down
  t_policy_23_pub_targetref_status_and_evictions t_policy_23_pub_blocks_broken_rollout
  t_policy_24_deletion_protection)
ALL+=("${POLICY_TESTS[@]}")
