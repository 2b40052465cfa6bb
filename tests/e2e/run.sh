#!/usr/bin/env bash
# run.sh — end-to-end tests of `logbook manager` against the real
# kube-apiserver of ../shared/real-cluster (light setup: etcd +
# kube-apiserver over HTTPS with a token), with `logbook nodesim` playing
# the kubelets. Usage: tests/e2e/run.sh [TEST...]   (make e2e)
# Every test's journal must pass `logbook journal check` and `logbook replay`.
source "$(dirname "$0")/lib.sh"

cleanup() {
  stop_manager
  webhook_cleanup
  stop_nodesim
  if [ -n "${PROXY_PID:-}" ]; then kill "$PROXY_PID" 2>/dev/null || true; fi
  if [ -z "${E2E_KEEP_CLUSTER:-}" ]; then kit down.sh >/dev/null 2>&1 || true; fi
}

setup() {
  rm -rf "$WORK"
  mkdir -p "$WORK"
  command -v kubectl >/dev/null || apt-get install -y -qq kubernetes-client >/dev/null
  command -v jq >/dev/null || apt-get install -y -qq jq >/dev/null
  if [ -z "${E2E_KEEP_CLUSTER:-}" ] || ! curl -sf --cacert /opt/kube/pki/ca.crt \
      -H "Authorization: Bearer $(cat /opt/kube/pki/admin.token)" \
      https://127.0.0.1:6443/readyz >/dev/null 2>&1; then
    kit setup.sh
    kit up.sh
  fi
  kubectl apply -f "$ROOT/deploy/crds/" >/dev/null
  # each run in a fresh namespace, so reruns on a kept cluster start clean
  # (the light setup has no garbage collector for old pods)
  KUBECONFIG_ADMIN=$KUBECONFIG
  kubectl create namespace "$NS" >/dev/null
  # the whole suite runs through logbook's admission webhooks (webhook.sh
  # registers them for namespaces with this label only)
  kubectl label namespace "$NS" "logbook-e2e-webhook=$NS" >/dev/null
  cp "$KUBECONFIG_ADMIN" "$WORK/user.kubeconfig"
  kubectl --kubeconfig "$WORK/user.kubeconfig" config set-context --current --namespace "$NS" >/dev/null
  export KUBECONFIG=$WORK/user.kubeconfig
  kubectl create namespace kruise-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  for crd in clonesets.apps.kruise.io statefulsets.apps.kruise.io; do
    kubectl wait --for condition=established --timeout=60s "crd/$crd" >/dev/null
  done
  start_nodesim
  MANAGER_ARGS=$WEBHOOK_ARGS # tests/e2e/webhook.sh
  # the manager's "own pod", as the downward API gives it in a cluster: the
  # leader labels it for the webhook Service (t_webhook_serving_label)
  kubectl create namespace "$NS-mgr" >/dev/null
  kubectl run e2e-manager-pod -n "$NS-mgr" --image=nginx:1.25 --restart=Never \
    --labels=logbook.kruise.io/webhook-serving=stale >/dev/null
  export POD_NAME=e2e-manager-pod POD_NAMESPACE=$NS-mgr
  start_manager "$KUBECONFIG_ADMIN"
}

# 1. create, scale up and down through the scale subresource
t_create_scale() {
  cloneset e1 4 nginx:1.25 | kubectl apply -f - >/dev/null
  wait_for "e1 4 ready" 60 status_is e1 4 4
  local rev pod
  rev=$(jp clone e1 '{.status.updateRevision}')
  [[ $rev == e1-* ]]
  [ "$(pods_at e1 "$rev")" = 4 ]
  pod=$(kubectl get pods -l app=e1 -o jsonpath='{.items[0].metadata.name}')
  [[ $(jp pod "$pod" '{.metadata.labels.apps\.kruise\.io/cloneset-instance-id}') =~ ^[bcdfghjklmnpqrstvwxz2456789]{5}$ ]]
  [ "$pod" = "e1-$(jp pod "$pod" '{.metadata.labels.apps\.kruise\.io/cloneset-instance-id}')" ]
  [ "$(jp pod "$pod" '{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].controller}')" = "CloneSet/true" ]
  [ "$(jp clone e1 '{.status.labelSelector}')" = "app=e1" ]
  kubectl get controllerrevision "$rev" >/dev/null
  kubectl scale clone e1 --replicas=7 >/dev/null
  wait_for "e1 scaled to 7" 60 status_is e1 7 7
  kubectl scale clone e1 --replicas=2 >/dev/null
  wait_for "e1 scaled to 2" 60 status_is e1 2 2
}

# 2. a rollout held at a partition, then finished
t_partition_rollout() {
  cloneset e2 5 nginx:1.25 0 2 | kubectl apply -f - >/dev/null
  wait_for "e2 5 ready" 60 status_is e2 5 5
  local old new
  old=$(jp clone e2 '{.status.updateRevision}')
  set_image e2 nginx:1.26 2
  wait_for "e2 held at partition 2" 90 status_is e2 5 3
  new=$(jp clone e2 '{.status.updateRevision}')
  [ "$new" != "$old" ]
  [ "$(pods_at e2 "$old")" = 2 ]
  [ "$(pods_at e2 "$new")" = 3 ]
  [ "$(jp clone e2 '{.status.currentRevision}')" = "$old" ]
  [ "$(jp clone e2 '{.status.expectedUpdatedReplicas}')" = 3 ]
  kubectl patch clone e2 --type merge -p '{"spec":{"updateStrategy":{"partition":0}}}' >/dev/null
  wait_for "e2 fully rolled" 90 status_is e2 5 5
  [ "$(jp clone e2 '{.status.currentRevision}')" = "$new" ]
  [ "$(pods_at e2 "$old")" = 0 ]
}

# 3. the manager is SIGKILLed mid-rollout and restarted
t_manager_sigkill() {
  cloneset e3 6 nginx:1.25 0 2 | kubectl apply -f - >/dev/null
  wait_for "e3 6 ready" 60 status_is e3 6 6
  set_image e3 nginx:1.26
  wait_for "e3 rollout under way" 30 bash -c "[ \$(kubectl get pods -l app=e3 -o json | jq '[.items[] | select(.metadata.labels[\"controller-revision-hash\"] == \"$(jp clone e3 '{.status.updateRevision}')\")] | length') -ge 1 ]"
  crash_manager KILL
  log "manager killed; $(live_pods e3) live e3 pods; the supervisor restarts it"
  start_manager
  wait_for "e3 rollout finished after restart" 120 status_is e3 6 6
  no_double_actions "$WORK/manager.db"
}

# 4. kube-apiserver (and etcd) restarted under the manager's watches
t_apiserver_restart() {
  cloneset e4 3 nginx:1.25 | kubectl apply -f - >/dev/null
  wait_for "e4 3 ready" 60 status_is e4 3 3
  local before
  before=$(metric logbook_watch_restarts_total)
  KEEP_DATA=1 kit up.sh >/dev/null
  kubectl scale clone e4 --replicas=5 >/dev/null
  wait_for "e4 scaled to 5 after the apiserver restart" 150 status_is e4 5 5
  # the manager either rode it out (watches restarted) or lost its lease,
  # exited and came back through the supervisor; both must converge
  local after
  after=$(metric logbook_watch_restarts_total)
  [ "$after" -gt "$before" ] || grep -q "lost the leader lease" "$WORK/manager.log"
}

ALL=(t_create_scale t_partition_rollout t_manager_sigkill t_apiserver_restart)
source "$(dirname "$0")/cloneset.sh"
source "$(dirname "$0")/webhook.sh"
source "$(dirname "$0")/policy.sh"
source "$(dirname "$0")/faults.sh"
source "$(dirname "$0")/actions.sh"

trap cleanup EXIT
setup
TESTS=("${@:-${ALL[@]}}")
[ $# -gt 0 ] || TESTS=("${ALL[@]}")
for t in "${TESTS[@]}"; do
  case $t in t_fault_* | t_watch_*) [ -n "$PROXY_PID" ] || start_proxy ;; esac
  run_test "$t" "$t"
done
stop_manager
run_test journal_replays_clean replay_journals
log "summary: $PASS passed, $FAIL failed ${FAILED[*]:-}"
[ "$FAIL" = 0 ]
