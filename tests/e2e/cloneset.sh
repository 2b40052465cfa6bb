# cloneset.sh — OpenKruise's CloneSet acceptance scenarios (kruise-spec
# §16.1, from test/e2e/apps/cloneset.go at v1.8.4) on the light setup with
# the node simulator. Sourced by run.sh.

creation_gaps_at_least() { # CS SECONDS: consecutive pod creations >= SECONDS apart
  kubectl get pods -l "app=$1" -o json | jq -e --argjson min "$2" '
    [.items[].metadata.creationTimestamp | fromdateiso8601] | sort |
    [range(1; length) as $i | .[$i] - .[$i - 1]] | all(. >= $min)' >/dev/null
}

# 1. scales in normal cases: replicas 3, defaults (ReCreate, maxUnavailable 20%)
t_kruise_01_scales_normal() {
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata: {name: k1}
spec:
  replicas: 3
  selector: {matchLabels: {app: k1}}
  template:
    metadata: {labels: {app: k1}}
    spec: {containers: [{name: main, image: nginx:1.25}]}
YAML
  wait_for "k1 3 ready" 60 status_is k1 3 3
  [ "$(jp clone k1 '{.status.readyReplicas}')" = 3 ]
  [ "$(jp clone k1 '{.status.expectedUpdatedReplicas}')" = 3 ]
}

# 2. minReadySeconds 10 and scaleStrategy.maxUnavailable 1: one pod at a
# time, each at least 10 s after the previous became available
t_kruise_02_min_ready_and_scale_max_unavailable() {
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata: {name: k2}
spec:
  replicas: 4
  minReadySeconds: 10
  scaleStrategy: {maxUnavailable: 1}
  selector: {matchLabels: {app: k2}}
  template:
    metadata: {labels: {app: k2}}
    spec: {containers: [{name: main, image: nginx:1.25}]}
YAML
  wait_for "k2 4 available" 120 status_is k2 4 4
  creation_gaps_at_least k2 10
  # the journal says why: the limit, and ticks that made pods available
  [ "$(journal_count "SELECT count(*) FROM events WHERE source='tick'")" -ge 3 ]
}

# 3. pods are created and become ready while paused (paused blocks updates)
t_kruise_03_paused_still_scales() {
  cloneset k3 3 nginx:1.25 | kubectl apply -f - >/dev/null
  kubectl patch clone k3 --type merge -p '{"spec":{"updateStrategy":{"paused":true}}}' >/dev/null
  wait_for "k3 3 ready while paused" 60 status_is k3 3 3
  local rev
  rev=$(jp clone k3 '{.status.updateRevision}')
  set_image k3 nginx:1.26
  sleep 5
  # paused: the new revision exists, no pod moved to it
  [ "$(pods_at k3 "$(jp clone k3 '{.status.updateRevision}')")" = 0 ]
  [ "$(jp clone k3 '{.status.updateRevision}')" != "$rev" ]
  kubectl patch clone k3 --type merge -p '{"spec":{"updateStrategy":{"paused":false}}}' >/dev/null
  wait_for "k3 updated after unpausing" 90 status_is k3 3 3
}

# 11. partition "99%" of 4 replicas: exactly one pod updated, and it stays so
t_kruise_11_partition_99_percent() {
  cloneset k11 4 nginx:1.25 | kubectl apply -f - >/dev/null
  wait_for "k11 4 ready" 60 status_is k11 4 4
  kubectl patch clone k11 --type merge -p '{"spec":{"updateStrategy":{"partition":"99%"},"template":{"spec":{"containers":[{"name":"main","image":"nginx:1.26","imagePullPolicy":"IfNotPresent"}]}}}}' >/dev/null
  wait_for "k11 one pod updated" 60 status_is k11 4 1
  [ "$(jp clone k11 '{.status.expectedUpdatedReplicas}')" = 1 ]
  sleep 10
  status_is k11 4 1
}

ALL+=(t_kruise_01_scales_normal t_kruise_02_min_ready_and_scale_max_unavailable
  t_kruise_03_paused_still_scales t_kruise_11_partition_99_percent)

# 4. specified delete with a preDelete hook: the pod waits in
# PreparingDelete (no replacement) until the hook label is removed
t_kruise_04_specified_delete_with_pre_delete_hook() {
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata: {name: k4}
spec:
  replicas: 3
  lifecycle:
    preDelete:
      labelsHandler: {example.com/hold: "true"}
  selector: {matchLabels: {app: k4}}
  template:
    metadata: {labels: {app: k4, example.com/hold: "true"}}
    spec: {containers: [{name: main, image: nginx:1.25}]}
YAML
  wait_for "k4 3 ready" 60 status_is k4 3 3
  local pods victim
  pods=$(kubectl get pods -l app=k4 -o jsonpath='{.items[*].metadata.name}')
  victim=${pods%% *}
  kubectl label pod "$victim" apps.kruise.io/specified-delete=true >/dev/null
  wait_for "$victim PreparingDelete" 30 bash -c \
    "[ \"\$(kubectl get pod $victim -o jsonpath='{.metadata.labels.lifecycle\\.apps\\.kruise\\.io/state}')\" = PreparingDelete ]"
  sleep 5
  # held by the hook: not deleted, not replaced
  [ -z "$(jp pod "$victim" '{.metadata.deletionTimestamp}')" ]
  [ "$(kubectl get pods -l app=k4 --no-headers | wc -l)" = 3 ]
  kubectl label pod "$victim" example.com/hold- >/dev/null
  wait_for "$victim deleted after the hook is released" 60 bash -c \
    "! kubectl get pod $victim -o name >/dev/null 2>&1 || [ -n \"\$(kubectl get pod $victim -o jsonpath='{.metadata.deletionTimestamp}')\" ]"
  wait_for "k4 back to 3 ready" 60 status_is k4 3 3
  local kept=0 p
  for p in $pods; do
    [ "$p" = "$victim" ] && continue
    kubectl get pod "$p" >/dev/null 2>&1 && kept=$((kept + 1))
  done
  [ "$kept" = 2 ]
}

# 12. volumeClaimTemplates: PVCs per instance id, reused when a pod is
# recreated; with disablePVCReuse a recreated pod gets new PVCs
owned_pvcs() { # CS: "id:name" of PVCs controlled by the CloneSet
  kubectl get pvc -o json | jq -r --arg cs "$1" '.items[] |
    select(.metadata.deletionTimestamp == null) |
    select(any(.metadata.ownerReferences[]?; .kind == "CloneSet" and .name == $cs and .controller)) |
    .metadata.labels["apps.kruise.io/cloneset-instance-id"] + ":" + .metadata.name' | sort
}
live_ids() { # CS
  kubectl get pods -l "app=$1" -o json | jq -r '.items[] |
    select(.metadata.deletionTimestamp == null) |
    .metadata.labels["apps.kruise.io/cloneset-instance-id"]' | sort
}
pvcs_match_pods() { # CS: 2 PVCs per live pod, ids equal, 8 in all
  local ids
  ids=$(owned_pvcs "$1" | cut -d: -f1 | uniq)
  [ "$(owned_pvcs "$1" | wc -l)" = 8 ] && [ "$ids" = "$(live_ids "$1")" ]
}
t_kruise_12_pvc_reuse_and_disable_pvc_reuse() {
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata: {name: k12}
spec:
  replicas: 4
  selector: {matchLabels: {app: k12}}
  template:
    metadata: {labels: {app: k12}}
    spec:
      containers:
      - name: main
        image: nginx:1.25
        volumeMounts: [{name: data1, mountPath: /d1}, {name: data2, mountPath: /d2}]
  volumeClaimTemplates:
  - metadata: {name: data1}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
  - metadata: {name: data2}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
YAML
  wait_for "k12 4 ready" 90 status_is k12 4 4
  wait_for "k12 8 PVCs matching the pods" 30 pvcs_match_pods k12
  local before victim
  before=$(owned_pvcs k12)
  victim=$(kubectl get pods -l app=k12 -o jsonpath='{.items[0].metadata.name}')
  kubectl delete pod "$victim" --wait=false >/dev/null
  wait_for "k12 recreated" 90 status_is k12 4 4
  wait_for "k12 PVCs reused" 30 pvcs_match_pods k12
  [ "$(owned_pvcs k12)" = "$before" ] # same claims: the id was reused
  kubectl get pod "$victim" >/dev/null # same name came back
  kubectl patch clone k12 --type merge -p '{"spec":{"scaleStrategy":{"disablePVCReuse":true}}}' >/dev/null
  victim=$(kubectl get pods -l app=k12 -o jsonpath='{.items[1].metadata.name}')
  local vid=${victim#k12-}
  kubectl delete pod "$victim" --wait=false >/dev/null
  wait_for "k12 recreated without reuse" 90 status_is k12 4 4
  wait_for "k12 PVCs match the new pods" 30 pvcs_match_pods k12
  ! live_ids k12 | grep -qx "$vid" || return 1 # a new id, new claims
}

ALL+=(t_kruise_04_specified_delete_with_pre_delete_hook
  t_kruise_12_pvc_reuse_and_disable_pvc_reuse)

lc_state() { jp pod "$1" '{.metadata.labels.lifecycle\.apps\.kruise\.io/state}'; }

# 5. specified scale-down held by a preDelete hook, then scale up, with the
# CloneSet label apps.kruise.io/cloneset-scaling-exclude-preparing-delete:
# the held pod is left out of the count, so replicas 3 creates a fourth pod
# (status.replicas 4); after the hook is released 3 remain, 2 originals
t_kruise_05_specified_scale_down_then_up_exclude_preparing_delete() {
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata:
  name: k5
  labels: {apps.kruise.io/cloneset-scaling-exclude-preparing-delete: "true"}
spec:
  replicas: 3
  lifecycle:
    preDelete:
      labelsHandler: {example.com/hold: "true"}
  selector: {matchLabels: {app: k5}}
  template:
    metadata: {labels: {app: k5, example.com/hold: "true"}}
    spec: {containers: [{name: main, image: nginx:1.25}]}
YAML
  wait_for "k5 3 ready" 60 status_is k5 3 3
  local pods victim
  pods=$(kubectl get pods -l app=k5 -o jsonpath='{.items[*].metadata.name}')
  victim=${pods%% *}
  kubectl patch clone k5 --type merge -p "{\"spec\":{\"replicas\":2,\"scaleStrategy\":{\"podsToDelete\":[\"$victim\"]}}}" >/dev/null
  wait_for "$victim PreparingDelete" 30 bash -c "[ \"\$(kubectl get pod $victim -o jsonpath='{.metadata.labels.lifecycle\\.apps\\.kruise\\.io/state}')\" = PreparingDelete ]"
  kubectl patch clone k5 --type merge -p '{"spec":{"replicas":3}}' >/dev/null
  wait_for "k5 status.replicas 4" 60 bash -c "[ \"\$(kubectl get clone k5 -o jsonpath='{.status.replicas}')\" = 4 ]"
  [ "$(live_pods k5)" = 4 ]
  [ "$(lc_state "$victim")" = PreparingDelete ]
  kubectl label pod "$victim" example.com/hold- >/dev/null
  wait_for "$victim deleted after the hook is released" 60 bash -c \
    "! kubectl get pod $victim -o name >/dev/null 2>&1 || [ -n \"\$(kubectl get pod $victim -o jsonpath='{.metadata.deletionTimestamp}')\" ]"
  wait_for "k5 back to 3 ready" 60 status_is k5 3 3
  local kept=0 p
  for p in $pods; do
    [ "$p" = "$victim" ] && continue
    kubectl get pod "$p" >/dev/null 2>&1 && kept=$((kept + 1))
  done
  [ "$kept" = 2 ]
}

# 13. PreparingUpdateAsUpdate (switched on per CloneSet by the label
# gates.logbook.io/PreparingUpdateAsUpdate=true): partition 2 of 3, one pod
# held in PreparingUpdate by an inPlaceUpdate hook; a deleted old pod is
# recreated at the current revision, so the partition still holds
t_kruise_13_preparing_update_as_update() {
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata:
  name: k13
  labels: {gates.logbook.io/PreparingUpdateAsUpdate: "true"}
spec:
  replicas: 3
  updateStrategy: {type: InPlaceIfPossible, partition: 2, maxUnavailable: 1}
  lifecycle:
    inPlaceUpdate:
      labelsHandler: {example.com/hold: "true"}
  selector: {matchLabels: {app: k13}}
  template:
    metadata: {labels: {app: k13, example.com/hold: "true"}}
    spec: {containers: [{name: main, image: nginx:1.25, imagePullPolicy: IfNotPresent}]}
YAML
  wait_for "k13 3 ready" 60 status_is k13 3 3
  local old new pods held="" victim="" p
  old=$(jp clone k13 '{.status.updateRevision}')
  set_image k13 nginx:1.26 2
  wait_for "k13 one pod PreparingUpdate" 60 bash -c "kubectl get pods -l app=k13 -o json | jq -e '[.items[] | select(.metadata.labels[\"lifecycle.apps.kruise.io/state\"] == \"PreparingUpdate\")] | length == 1' >/dev/null"
  new=$(jp clone k13 '{.status.updateRevision}')
  [ "$new" != "$old" ]
  pods=$(kubectl get pods -l app=k13 -o jsonpath='{.items[*].metadata.name}')
  for p in $pods; do
    if [ "$(lc_state "$p")" = PreparingUpdate ]; then held=$p; elif [ -z "$victim" ]; then victim=$p; fi
  done
  [ -n "$held" ] && [ -n "$victim" ]
  kubectl delete pod "$victim" --wait=false >/dev/null
  wait_for "k13 replacement created" 60 bash -c "[ \"\$(kubectl get pods -l app=k13 -o json | jq '[.items[] | select(.metadata.deletionTimestamp == null)] | length')\" = 3 ] && ! kubectl get pod $victim >/dev/null 2>&1"
  sleep 3
  # the replacement is at the current (old) revision; nothing at the new one
  [ "$(pods_at k13 "$old")" = 3 ]
  [ "$(pods_at k13 "$new")" = 0 ]
  [ "$(lc_state "$held")" = PreparingUpdate ]
  [ "$(journal_count "SELECT count(*) FROM decisions WHERE name='k13' AND reason LIKE '%PreparingUpdate pod(s) counted as updated (PreparingUpdateAsUpdate)%'")" -ge 1 ]
}

# status conditions: a LimitRange (pure admission, no controller needed)
# refuses the pods (403), the CloneSet reports FailedScale with the
# apiserver's message; once the LimitRange is gone the pods come and the
# next status write drops the condition
t_cloneset_failed_scale_condition() {
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: v1
kind: LimitRange
metadata: {name: kq-max}
spec:
  limits: [{type: Container, max: {cpu: 100m}}]
YAML
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata: {name: kq}
spec:
  replicas: 3
  selector: {matchLabels: {app: kq}}
  template:
    metadata: {labels: {app: kq}}
    spec:
      containers:
      - {name: main, image: nginx:1.25, resources: {requests: {cpu: 200m}, limits: {cpu: 200m}}}
YAML
  wait_for "kq FailedScale" 60 bash -c "[ \"\$(kubectl get clone kq -o jsonpath='{.status.conditions[?(@.type==\"FailedScale\")].status}')\" = True ]"
  jp clone kq '{.status.conditions[0].message}' | grep -q 'failed to create pod kq-.*forbidden'
  [ "$(live_pods kq)" = 0 ]
  kubectl delete limitrange kq-max >/dev/null
  wait_for "kq 3 ready after the LimitRange is gone" 90 status_is kq 3 3
  wait_for "kq conditions cleared" 30 bash -c "[ -z \"\$(kubectl get clone kq -o jsonpath='{.status.conditions}')\" ]"
  [ "$(journal_count "SELECT count(*) FROM decisions WHERE name='kq' AND reason LIKE '%condition FailedScale: failed to create pod%'")" -ge 1 ]
}

ALL+=(t_kruise_05_specified_scale_down_then_up_exclude_preparing_delete
  t_kruise_13_preparing_update_as_update t_cloneset_failed_scale_condition)

# 14. image pre-download (gate PreDownloadImageForInPlaceUpdate, per
# CloneSet: gates.logbook.io/PreDownloadImageForInPlaceUpdate=true): an
# in-place rollout of 4 pods, one at a time, held at partition 2, creates
# the ImagePullJob <update-revision>-main for the new image once one pod is
# updated and ready (image-predownload-min-updated-ready-pods 1), with the
# annotations' parallelism 2 and timeout 120 s, selecting the CloneSet's
# pods not yet at that revision, owned by the CloneSet; the revision is
# labelled apps.kruise.io/pre-predownload-created. The job stays while the
# revisions differ and is deleted once the rollout converges.
t_kruise_14_image_predownload() {
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata:
  name: k14
  labels: {gates.logbook.io/PreDownloadImageForInPlaceUpdate: "true"}
  annotations:
    apps.kruise.io/image-predownload-parallelism: "2"
    apps.kruise.io/image-predownload-timeout-seconds: "120"
    apps.kruise.io/image-predownload-min-updated-ready-pods: "1"
spec:
  replicas: 4
  updateStrategy: {type: InPlaceIfPossible, maxUnavailable: 1}
  selector: {matchLabels: {app: k14}}
  template:
    metadata: {labels: {app: k14}, annotations: {example.com/owner: team-a}}
    spec: {containers: [{name: main, image: nginx:1.25, imagePullPolicy: IfNotPresent}]}
YAML
  wait_for "k14 4 ready" 60 status_is k14 4 4
  [ -z "$(kubectl get imagepulljobs -o name)" ]
  set_image k14 nginx:1.26 2
  local rev q
  wait_for "k14 new revision" 30 bash -c "[ \"\$(kubectl get clone k14 -o jsonpath='{.status.updateRevision}')\" != \"\$(kubectl get clone k14 -o jsonpath='{.status.currentRevision}')\" ]"
  rev=$(jp clone k14 '{.status.updateRevision}')
  wait_for "ImagePullJob $rev-main" 90 kubectl get imagepulljob "$rev-main"
  # it waited for one updated ready pod, then used the annotations
  q="SELECT count(*) FROM decisions WHERE name='k14' AND reason LIKE"
  [ "$(journal_count "$q '%image pre-download waits for $rev: %apps.kruise.io/image-predownload-min-updated-ready-pods asks 1%'")" -ge 1 ]
  [ "$(journal_count "$q '%image pre-download for $rev: ImagePullJob $rev-main (nginx:1.26); parallelism 2, timeoutSeconds 120, min updated ready 1 (have %'")" = 1 ]
  [ "$(jp clone k14 '{.status.updatedReadyReplicas}')" -ge 1 ]
  [ "$(jp imagepulljob "$rev-main" '{.spec.image}')" = nginx:1.26 ]
  [ "$(jp imagepulljob "$rev-main" '{.spec.parallelism} {.spec.pullPolicy.timeoutSeconds} {.spec.pullPolicy.backoffLimit} {.spec.completionPolicy.ttlSecondsAfterFinished}')" = "2 120 1 600" ]
  [ "$(jp imagepulljob "$rev-main" '{.spec.podSelector.matchLabels.app}')" = k14 ]
  [ "$(jp imagepulljob "$rev-main" '{.spec.podSelector.matchExpressions[0].key} {.spec.podSelector.matchExpressions[0].operator} {.spec.podSelector.matchExpressions[0].values[0]}')" = "controller-revision-hash NotIn $rev" ]
  [ "$(jp imagepulljob "$rev-main" '{.metadata.labels.app} {.spec.sandboxConfig.labels.app} {.spec.sandboxConfig.annotations.example\.com/owner}')" = "k14 k14 team-a" ]
  [ "$(jp imagepulljob "$rev-main" '{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}')" = CloneSet/k14/true ]
  [ "$(jp controllerrevision "$rev" '{.metadata.labels.apps\.kruise\.io/pre-predownload-created}')" = true ]
  [ "$(kubectl get imagepulljobs -o name | wc -l)" = 1 ]
  # held at partition 2: the revisions differ, the job stays
  wait_for "k14 2 of 4 updated" 90 status_is k14 4 2
  [ "$(kubectl get imagepulljobs -o name)" = "imagepulljob.apps.kruise.io/$rev-main" ]
  set_image k14 nginx:1.26 0
  wait_for "k14 rolled in place" 90 status_is k14 4 4
  wait_for "k14 revisions converged" 30 bash -c "[ \"\$(kubectl get clone k14 -o jsonpath='{.status.currentRevision}')\" = $rev ]"
  wait_for "ImagePullJob $rev-main deleted" 30 bash -c "[ -z \"\$(kubectl get imagepulljobs -o name)\" ]"
  [ "$(journal_count "$q '%image pre-download over: revisions converged at $rev, deleting ImagePullJob $rev-main%'")" = 1 ]
}
ALL+=(t_kruise_14_image_predownload)
