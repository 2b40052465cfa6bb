#!/usr/bin/env bash
# node.sh — the heavy end-to-end variant (make e2e-node): the kit's real
# kubelet + containerd + kube-scheduler + kube-controller-manager (NODE=1),
# no node simulator. Pods of a CloneSet really run from the kit's local
# images (docker.io/local/busybox:v1 and :v2, different content), a
# ReCreate rollout replaces them, and the journal must replay clean.
source "$(dirname "$0")/lib.sh"

cleanup() {
  stop_manager
  if [ -z "${E2E_KEEP_CLUSTER:-}" ]; then kit down.sh >/dev/null 2>&1 || true; fi
}

setup() {
  rm -rf "$WORK"
  mkdir -p "$WORK"
  command -v kubectl >/dev/null || apt-get install -y -qq kubernetes-client >/dev/null
  command -v jq >/dev/null || apt-get install -y -qq jq >/dev/null
  NODE=1 kit setup.sh
  NODE=1 kit up.sh
  kubectl apply -f "$ROOT/deploy/crds/" >/dev/null
  kubectl wait --for condition=established --timeout=60s crd/clonesets.apps.kruise.io >/dev/null
  kubectl create namespace kruise-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  KUBECONFIG_ADMIN=$KUBECONFIG
  kubectl create namespace "$NS" >/dev/null
  cp "$KUBECONFIG_ADMIN" "$WORK/user.kubeconfig"
  kubectl --kubeconfig "$WORK/user.kubeconfig" config set-context --current --namespace "$NS" >/dev/null
  export KUBECONFIG=$WORK/user.kubeconfig
  start_manager "$KUBECONFIG_ADMIN"
}

images_are() { # CS IMAGE: every live pod's running container reports IMAGE
  local n
  n=$(kubectl get pods -l "app=$1" -o json | jq --arg img "$2" \
    '[.items[] | select(.metadata.deletionTimestamp == null) |
      select(.status.containerStatuses[0].image != $img or (.status.containerStatuses[0].ready | not))] | length')
  [ "$n" = 0 ]
}

t_node_create_rollout_scale() {
  cloneset n1 2 docker.io/local/busybox:v1 | kubectl apply -f - >/dev/null
  wait_for "n1: 2 pods Ready on the real kubelet" 120 status_is n1 2 2
  images_are n1 docker.io/local/busybox:v1
  local old
  old=$(kubectl get pods -l app=n1 -o jsonpath='{.items[*].metadata.uid}')
  [ -n "$old" ]
  set_image n1 docker.io/local/busybox:v2
  wait_for "n1 recreated at v2" 180 status_is n1 2 2
  wait_for "n1 containers run v2" 60 images_are n1 docker.io/local/busybox:v2
  # ReCreate: every pod is new
  local now
  now=$(kubectl get pods -l app=n1 -o json |
    jq -r '.items[] | select(.metadata.deletionTimestamp == null) | .metadata.uid')
  for uid in $old; do
    if grep -q "$uid" <<<"$now"; then
      log "pod $uid survived a ReCreate rollout"
      return 1
    fi
  done
  kubectl scale clone n1 --replicas=1 >/dev/null
  wait_for "n1 scaled to 1" 120 status_is n1 1 1
}

# §16.1 scenario 6: in-place image update by the real kubelet — same pod
# (uid), new container, restartCount 1, InPlaceUpdateReady back to True
t_node_06_inplace_image() {
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata: {name: n6}
spec:
  replicas: 2
  selector: {matchLabels: {app: n6}}
  template:
    metadata: {labels: {app: n6}}
    spec: {containers: [{name: main, image: docker.io/local/busybox:v1, imagePullPolicy: IfNotPresent}]}
  updateStrategy: {type: InPlaceIfPossible, maxUnavailable: 1}
YAML
  wait_for "n6 2 ready" 120 status_is n6 2 2
  local uids cids
  uids=$(kubectl get pods -l app=n6 -o json | jq -r '[.items[].metadata.uid] | sort | join(",")')
  cids=$(kubectl get pods -l app=n6 -o json | jq -r '[.items[].status.containerStatuses[0].containerID] | sort | join(",")')
  set_image n6 docker.io/local/busybox:v2
  wait_for "n6 updated in place" 180 status_is n6 2 2
  wait_for "n6 containers run v2" 60 images_are n6 docker.io/local/busybox:v2
  [ "$(kubectl get pods -l app=n6 -o json | jq -r '[.items[].metadata.uid] | sort | join(",")')" = "$uids" ]
  [ "$(kubectl get pods -l app=n6 -o json | jq -r '[.items[].status.containerStatuses[0].containerID] | sort | join(",")')" != "$cids" ]
  kubectl get pods -l app=n6 -o json | jq -e '
    all(.items[]; .status.containerStatuses[0].restartCount == 1 and
      any(.status.conditions[]; .type == "InPlaceUpdateReady" and .status == "True") and
      (.metadata.annotations["apps.kruise.io/inplace-update-state"] | fromjson | .revision != null))' >/dev/null
  [ "$(jp clone n6 '{.status.updatedReadyReplicas}')" = 2 ]
}

# §16.1 scenario 8: two containers with priorities are updated in two
# batches, the higher priority first (a container without a priority would
# go with the first batch, as upstream's)
t_node_08_inplace_priority_batches() {
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata: {name: n8}
spec:
  replicas: 1
  selector: {matchLabels: {app: n8}}
  template:
    metadata: {labels: {app: n8}}
    spec:
      containers:
      - name: low
        image: docker.io/local/busybox:v1
        imagePullPolicy: IfNotPresent
        env: [{name: KRUISE_CONTAINER_PRIORITY, value: "1"}]
      - name: high
        image: docker.io/local/busybox:v1
        imagePullPolicy: IfNotPresent
        env: [{name: KRUISE_CONTAINER_PRIORITY, value: "10"}]
  updateStrategy: {type: InPlaceIfPossible}
YAML
  wait_for "n8 ready" 120 status_is n8 1 1
  kubectl patch clone n8 --type merge -p '{"spec":{"template":{"spec":{"containers":[
    {"name":"low","image":"docker.io/local/busybox:v2","imagePullPolicy":"IfNotPresent",
     "env":[{"name":"KRUISE_CONTAINER_PRIORITY","value":"1"}]},
    {"name":"high","image":"docker.io/local/busybox:v2","imagePullPolicy":"IfNotPresent",
     "env":[{"name":"KRUISE_CONTAINER_PRIORITY","value":"10"}]}]}}}}' >/dev/null
  wait_for "n8 updated in place" 180 status_is n8 1 1
  local pod
  pod=$(kubectl get pods -l app=n8 -o jsonpath='{.items[0].metadata.name}')
  kubectl get pod "$pod" -o json | jq -e '
    (.metadata.annotations["apps.kruise.io/inplace-update-state"] | fromjson) as $s |
    ($s.containerBatchesRecord | length) == 2 and
    $s.containerBatchesRecord[0].containers == ["high"] and
    $s.containerBatchesRecord[1].containers == ["low"] and
    all(.status.containerStatuses[]; .restartCount == 1)' >/dev/null
}

# §16.1 scenario 7: image and env from a label change together: the pod is
# updated in place (same uid, new containerID, restartCount 1) and the
# restarted container sees the new label value
t_node_07_inplace_image_and_env_from_label() {
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata: {name: n7}
spec:
  replicas: 1
  selector: {matchLabels: {app: n7}}
  template:
    metadata: {labels: {app: n7, test-env: foo}}
    spec:
      containers:
      - name: main
        image: docker.io/local/busybox:v1
        imagePullPolicy: IfNotPresent
        env: [{name: TEST_ENV, valueFrom: {fieldRef: {fieldPath: "metadata.labels['test-env']"}}}]
  updateStrategy: {type: InPlaceIfPossible}
YAML
  wait_for "n7 ready" 120 status_is n7 1 1
  local pod uid cid
  pod=$(kubectl get pods -l app=n7 -o jsonpath='{.items[0].metadata.name}')
  uid=$(jp pod "$pod" '{.metadata.uid}')
  cid=$(jp pod "$pod" '{.status.containerStatuses[0].containerID}')
  [ "$(kubectl exec "$pod" -c main -- sh -c 'echo $TEST_ENV')" = foo ]
  kubectl patch clone n7 --type merge -p '{"spec":{"template":{"metadata":{"labels":{"test-env":"bar"}},"spec":{"containers":[
    {"name":"main","image":"docker.io/local/busybox:v2","imagePullPolicy":"IfNotPresent",
     "env":[{"name":"TEST_ENV","valueFrom":{"fieldRef":{"fieldPath":"metadata.labels['"'"'test-env'"'"']"}}}]}]}}}}' >/dev/null
  wait_for "n7 updated in place" 180 status_is n7 1 1
  wait_for "n7 runs v2" 60 images_are n7 docker.io/local/busybox:v2
  [ "$(jp pod "$pod" '{.metadata.uid}')" = "$uid" ]
  [ "$(jp pod "$pod" '{.status.containerStatuses[0].containerID}')" != "$cid" ]
  [ "$(jp pod "$pod" '{.status.containerStatuses[0].restartCount}')" = 1 ]
  [ "$(jp pod "$pod" '{.metadata.labels.test-env}')" = bar ]
  [ "$(kubectl exec "$pod" -c main -- sh -c 'echo $TEST_ENV')" = bar ]
}

# §16.1 scenario 9: two containers with priorities; the first batch's new
# image cannot start (a local name that does not exist, pull policy Never:
# nothing is fetched), so the second container is never touched: its image
# waits in nextContainerImages and one batch is recorded
t_node_09_inplace_broken_first_batch() {
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata: {name: n9}
spec:
  replicas: 1
  selector: {matchLabels: {app: n9}}
  template:
    metadata: {labels: {app: n9}}
    spec:
      containers:
      - name: high
        image: docker.io/local/busybox:v1
        imagePullPolicy: Never
        env: [{name: KRUISE_CONTAINER_PRIORITY, value: "10"}]
      - name: low
        image: docker.io/local/busybox:v1
        imagePullPolicy: Never
        env: [{name: KRUISE_CONTAINER_PRIORITY, value: "1"}]
  updateStrategy: {type: InPlaceIfPossible}
YAML
  wait_for "n9 ready" 120 status_is n9 1 1
  local pod
  pod=$(kubectl get pods -l app=n9 -o jsonpath='{.items[0].metadata.name}')
  kubectl patch clone n9 --type merge -p '{"spec":{"template":{"spec":{"containers":[
    {"name":"high","image":"docker.io/local/busybox:no-such-tag","imagePullPolicy":"Never",
     "env":[{"name":"KRUISE_CONTAINER_PRIORITY","value":"10"}]},
    {"name":"low","image":"docker.io/local/busybox:v2","imagePullPolicy":"Never",
     "env":[{"name":"KRUISE_CONTAINER_PRIORITY","value":"1"}]}]}}}}' >/dev/null
  wait_for "n9 first batch applied" 60 bash -c "kubectl get pod $pod -o json | jq -e '.spec.containers[] | select(.name == \"high\") | .image == \"docker.io/local/busybox:no-such-tag\"' >/dev/null"
  sleep 20
  kubectl get pod "$pod" -o json | jq -e '
    (.metadata.annotations["apps.kruise.io/inplace-update-state"] | fromjson) as $s |
    ($s.containerBatchesRecord | length) == 1 and
    $s.containerBatchesRecord[0].containers == ["high"] and
    $s.nextContainerImages.low == "docker.io/local/busybox:v2" and
    (.spec.containers[] | select(.name == "low") | .image) == "docker.io/local/busybox:v1" and
    (.status.containerStatuses[] | select(.name == "low") | .restartCount) == 0' >/dev/null
}

# §16.1 scenario 10: image changes of two containers plus an annotation one
# of them reads as env, in ordered batches (the higher priority first)
t_node_10_inplace_env_from_annotation_batches() {
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata: {name: n10}
spec:
  replicas: 1
  selector: {matchLabels: {app: n10}}
  template:
    metadata: {labels: {app: n10}, annotations: {test-env: foo}}
    spec:
      containers:
      - name: app
        image: docker.io/local/busybox:v1
        imagePullPolicy: IfNotPresent
        env:
        - {name: KRUISE_CONTAINER_PRIORITY, value: "10"}
        - {name: TEST_ENV, valueFrom: {fieldRef: {fieldPath: "metadata.annotations['test-env']"}}}
      - name: side
        image: docker.io/local/busybox:v1
        imagePullPolicy: IfNotPresent
        env: [{name: KRUISE_CONTAINER_PRIORITY, value: "1"}]
  updateStrategy: {type: InPlaceIfPossible}
YAML
  wait_for "n10 ready" 120 status_is n10 1 1
  local pod
  pod=$(kubectl get pods -l app=n10 -o jsonpath='{.items[0].metadata.name}')
  kubectl patch clone n10 --type merge -p '{"spec":{"template":{"metadata":{"annotations":{"test-env":"bar"}},"spec":{"containers":[
    {"name":"app","image":"docker.io/local/busybox:v2","imagePullPolicy":"IfNotPresent",
     "env":[{"name":"KRUISE_CONTAINER_PRIORITY","value":"10"},
            {"name":"TEST_ENV","valueFrom":{"fieldRef":{"fieldPath":"metadata.annotations['"'"'test-env'"'"']"}}}]},
    {"name":"side","image":"docker.io/local/busybox:v2","imagePullPolicy":"IfNotPresent",
     "env":[{"name":"KRUISE_CONTAINER_PRIORITY","value":"1"}]}]}}}}' >/dev/null
  wait_for "n10 updated in place" 180 status_is n10 1 1
  kubectl get pod "$pod" -o json | jq -e '
    (.metadata.annotations["apps.kruise.io/inplace-update-state"] | fromjson) as $s |
    ($s.containerBatchesRecord | length) == 2 and
    $s.containerBatchesRecord[0].containers == ["app"] and
    $s.containerBatchesRecord[1].containers == ["side"] and
    .metadata.annotations["test-env"] == "bar" and
    all(.status.containerStatuses[]; .restartCount == 1)' >/dev/null
  [ "$(kubectl exec "$pod" -c app -- sh -c 'echo $TEST_ENV')" = bar ]
}

trap cleanup EXIT
setup
ALL=(t_node_create_rollout_scale t_node_06_inplace_image t_node_07_inplace_image_and_env_from_label
  t_node_08_inplace_priority_batches t_node_09_inplace_broken_first_batch
  t_node_10_inplace_env_from_annotation_batches)
TESTS=("${@:-${ALL[@]}}")
[ $# -gt 0 ] || TESTS=("${ALL[@]}")
for t in "${TESTS[@]}"; do run_test "$t" "$t"; done
stop_manager
run_test journal_replays_clean replay_journals
log "summary: $PASS passed, $FAIL failed ${FAILED[*]:-}"
[ "$FAIL" = 0 ]
