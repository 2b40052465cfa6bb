# lib.sh — helpers for the end-to-end tests against the kit's real
# kube-apiserver. Sourced by tests/e2e/run.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
K=${K:-$(cd "$ROOT/../shared/real-cluster" && pwd)}
LOGBOOK=${LOGBOOK:-$ROOT/build/logbook}
WORK=${WORK:-/tmp/logbook-e2e}
export KUBECONFIG=${KUBECONFIG:-/opt/kube/kubeconfig}
KUBECONFIG_ADMIN=$KUBECONFIG
export NS=${NS:-e2e-$(date +%s)}
PASS=0
FAIL=0
FAILED=()

log() { printf '[e2e %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# wait_for DESC TIMEOUT_S CMD... : polls CMD until it succeeds
wait_for() {
  local desc=$1 timeout=$2 start
  shift 2
  start=$(date +%s)
  until "$@" >/dev/null 2>&1; do
    if (($(date +%s) - start > timeout)); then
      log "TIMEOUT after ${timeout}s waiting for: $desc"
      return 1
    fi
    sleep 0.5
  done
}

# jp KIND NAME JSONPATH : one field of an object in namespace default
# kit SCRIPT: runs a script of the real-cluster kit. Its daemons (etcd,
# kube-apiserver, kubelet ...) outlive this run, so they are started with
# every descriptor above stderr closed: a caller's `flock LOCK make e2e`
# lock must not stay held by etcd after the run.
kit() {
  (
    for fd in /proc/self/fd/*; do
      n=${fd##*/}
      [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-" 2>/dev/null
    done
    bash "$K/$1"
  )
}

jp() { kubectl get "$1" "$2" -n "${NS:-default}" -o "jsonpath=$3" 2>/dev/null; }

# status_is CS REPLICAS UPDATED : CloneSet status settled at these numbers
status_is() {
  local cs=$1 want=$2 upd=$3 s
  s=$(jp clone "$cs" '{.status.observedGeneration}/{.metadata.generation} {.status.replicas} {.status.readyReplicas} {.status.availableReplicas} {.status.updatedReplicas}')
  set -- $s
  [ "${1%/*}" = "${1#*/}" ] && [ "$2" = "$want" ] && [ "$3" = "$want" ] &&
    [ "$4" = "$want" ] && [ "$5" = "$upd" ] &&
    [ "$(live_pods "$cs")" = "$want" ] && [ "$(ready_pods "$cs")" = "$want" ]
}

# pods of a CloneSet that are not terminating
live_pods() {
  kubectl get pods -n "${NS:-default}" -l "app=$1" -o json |
    jq '[.items[] | select(.metadata.deletionTimestamp == null)] | length'
}
live_pods_are() { [ "$(live_pods "$1")" = "$2" ]; } # CS N
ready_pods() {
  kubectl get pods -n "${NS:-default}" -l "app=$1" -o json |
    jq '[.items[] | select(.metadata.deletionTimestamp == null) |
         select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length'
}
pods_at() { # CS REVISION
  kubectl get pods -n "${NS:-default}" -l "app=$1,controller-revision-hash=$2" -o json |
    jq '[.items[] | select(.metadata.deletionTimestamp == null)] | length'
}

cloneset() { # NAME REPLICAS IMAGE [PARTITION] [MAXUNAVAILABLE]
  cat <<YAML
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata:
  name: $1
  namespace: ${NS:-default}
spec:
  replicas: $2
  selector:
    matchLabels: {app: $1}
  template:
    metadata:
      labels: {app: $1}
    spec:
      containers:
      - name: main
        image: $3
        imagePullPolicy: IfNotPresent
  updateStrategy:
    type: ReCreate
    partition: ${4:-0}
    maxUnavailable: ${5:-1}
YAML
}

set_image() { # CS IMAGE [PARTITION]
  kubectl patch clone "$1" -n "${NS:-default}" --type merge -p \
    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"$2\",\"imagePullPolicy\":\"IfNotPresent\"}]}},\"updateStrategy\":{\"partition\":${3:-0}}}}" >/dev/null
}

# --- processes under test ----------------------------------------------------
MANAGER_SUP=
NODESIM_PID=
# metrics/readyz port of the manager under test; another run on this
# machine (e.g. a private kit) may hold the default
MPORT=${E2E_METRICS_PORT:-18080}
export LB_WATCH_STALL_SECONDS=${LB_WATCH_STALL_SECONDS:-15}
# The manager runs under a supervisor that restarts it whenever it exits,
# as its Deployment would (it exits on purpose when it loses its lease).
start_manager() { # [KUBECONFIG] [JOURNAL]
  if [ -z "$MANAGER_SUP" ]; then
    rm -f "$WORK/manager.stop"
    (
      while [ ! -f "$WORK/manager.stop" ]; do
        if [ -f "$WORK/manager.hold" ]; then # hold_manager: stay down
          sleep 0.2
          continue
        fi
        # shellcheck disable=SC2086 # MANAGER_ARGS: extra flags, word-split
        "$LOGBOOK" manager --kubeconfig "${1:-$KUBECONFIG}" --journal "${2:-$WORK/manager.db}" \
          --identity e2e-manager --metrics-bind "127.0.0.1:$MPORT" ${MANAGER_ARGS:-} >>"$WORK/manager.log" 2>&1 &
        echo $! >"$WORK/manager.pid"
        wait $! || true
        echo "supervisor: manager exited" >>"$WORK/manager.log"
        sleep 0.5
      done
    ) &
    MANAGER_SUP=$!
  fi
  # our manager, not whatever else answers on the port
  wait_for "manager /readyz" 90 bash -c "kill -0 \$(cat '$WORK/manager.pid') && curl -sf 127.0.0.1:$MPORT/readyz"
}
# The pid of the manager this run started (never another run's: pgrep by
# name would find managers of other checkouts on the same machine).
manager_pid() {
  local p
  p=$(cat "$WORK/manager.pid" 2>/dev/null) || return 0
  kill -0 "$p" 2>/dev/null && echo "$p"
  return 0
}
crash_manager() { # SIGNAL: the supervisor restarts it
  local pid
  pid=$(manager_pid)
  [ -n "$pid" ] && kill "-${1:-KILL}" "$pid"
  wait_for "manager $pid gone" 30 bash -c "! kill -0 $pid 2>/dev/null"
}
# The manager down (and kept down by its supervisor) until release_manager;
# usable inside a test's subshell, unlike stop_manager/start_manager.
hold_manager() {
  touch "$WORK/manager.hold"
  local pid
  pid=$(manager_pid)
  [ -z "$pid" ] || kill -TERM "$pid"
  [ -z "$pid" ] || wait_for "manager $pid gone" 30 bash -c "! kill -0 $pid 2>/dev/null"
}
release_manager() {
  rm -f "$WORK/manager.hold"
  wait_for "manager /readyz" 90 bash -c "kill -0 \$(cat '$WORK/manager.pid') && curl -sf 127.0.0.1:$MPORT/readyz"
}
stop_manager() {
  [ -n "$MANAGER_SUP" ] || return 0
  touch "$WORK/manager.stop"
  local pid
  pid=$(manager_pid)
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
  wait "$MANAGER_SUP" 2>/dev/null || true
  MANAGER_SUP=
}
start_nodesim() {
  "$LOGBOOK" nodesim --kubeconfig "$KUBECONFIG_ADMIN" --nodes 3 >>"$WORK/nodesim.log" 2>&1 &
  NODESIM_PID=$!
}
stop_nodesim() {
  [ -n "$NODESIM_PID" ] || return 0
  kill "$NODESIM_PID" 2>/dev/null || true
  wait "$NODESIM_PID" 2>/dev/null || true
  NODESIM_PID=
}
metric() { curl -sf "127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

# every journal must replay clean
replay_ok() { # JOURNAL
  "$LOGBOOK" journal check "$1" >/dev/null && "$LOGBOOK" replay "$1" | tee -a "$WORK/replay.log" | grep -q '^verified '
}

# No action executed twice: no pod object deleted by two decisions (deletes
# carry the pod's uid as a precondition; a re-sent action after a restart is
# the same action row), and no name created by two successful decisions
# unless the pod of that name was deleted in between (instance-id reuse).
no_double_actions() { # JOURNAL
  local dup
  dup=$("$LOGBOOK" query "$1" "SELECT precondition_uid FROM actions WHERE kind='Pod' AND verb='delete' GROUP BY precondition_uid HAVING count(*) > 1" | sed -n '3,$p' | grep -v '^(' || true)
  [ -z "$dup" ] || { log "pods deleted by two decisions: $dup"; return 1; }
  dup=$("$LOGBOOK" query "$1" "SELECT a.name FROM actions a WHERE a.kind='Pod' AND a.verb='create' AND a.http_status BETWEEN 200 AND 299 GROUP BY a.name HAVING count(*) > 1 + (SELECT count(*) FROM events e WHERE e.kind='Pod' AND e.type='DELETED' AND e.name=a.name)" | sed -n '3,$p' | grep -v '^(' || true)
  [ -z "$dup" ] || { log "pods created twice: $dup"; return 1; }
}

run_test() { # NAME FUNCTION
  local rc
  log "=== $1"
  # not `if (...)`: errexit is ignored inside a condition, and a failing
  # step must fail the test
  set +e
  (
    set -e
    [ -z "${E2E_TRACE:-}" ] || set -x
    "$2"
  )
  rc=$?
  set -e
  rm -f "$WORK/manager.hold" # a test that failed while holding it down
  if [ "$rc" = 0 ]; then
    PASS=$((PASS + 1))
    log "ok   $1"
  else
    FAIL=$((FAIL + 1))
    FAILED+=("$1")
    log "FAIL $1 (logs: $WORK/manager.log $WORK/nodesim.log)"
  fi
}

replay_journals() {
  local j n=0
  for j in "$WORK"/*.db; do
    replay_ok "$j" || { log "journal $j does not replay clean"; return 1; }
    n=$((n + 1))
  done
  [ "$n" -gt 0 ]
  no_double_actions "$WORK/manager.db"
}

journal_count() { # SQL returning one number
  "$LOGBOOK" query "$WORK/manager.db" "$1" | sed -n 3p | tr -d ' '
}
