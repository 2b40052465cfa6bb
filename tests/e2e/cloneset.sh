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
