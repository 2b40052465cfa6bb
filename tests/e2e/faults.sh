# faults.sh — end-to-end faults through tests/tools/faultproxy: the manager
# talks to the apiserver through a TLS proxy that answers 409/429/500 on
# demand and cuts watches in the middle of an event line. Sourced by run.sh.

PROXY_PID=
PROXY_CTL=
proxy() { curl -sf -X "$1" "http://$PROXY_CTL$2" ${3:+--data "$3"} >/dev/null; }

start_proxy() {
  make -s -C "$ROOT" build/faultproxy >/dev/null
  "$ROOT/build/faultproxy" --listen 127.0.0.1:0 --control 127.0.0.1:0 \
    --upstream 127.0.0.1:6443 --cert /opt/kube/pki/serving.crt \
    --key /opt/kube/pki/serving.key --upstream-ca /opt/kube/pki/ca.crt \
    >"$WORK/proxy.out" 2>"$WORK/proxy.log" &
  PROXY_PID=$!
  wait_for "proxy ports" 10 grep -q '^faultproxy: listen' "$WORK/proxy.out"
  local line listen
  line=$(head -1 "$WORK/proxy.out")
  listen=$(echo "$line" | awk '{print $3}')
  PROXY_CTL=$(echo "$line" | awk '{print $5}')
  sed "s#https://127.0.0.1:6443#https://$listen#" "$KUBECONFIG_ADMIN" >"$WORK/proxy.kubeconfig"
  # the manager now goes through the proxy
  stop_manager
  start_manager "$WORK/proxy.kubeconfig"
  log "manager talks to the apiserver through the fault proxy at $listen"
}


t_fault_429_retry_after() {
  cloneset f1 2 nginx:1.25 | kubectl apply -f - >/dev/null
  wait_for "f1 2 ready" 60 status_is f1 2 2
  local before
  before=$(metric logbook_action_retries_total)
  proxy POST /fault "status=429 method=PATCH path_prefix=/apis/apps.kruise.io/v1alpha1/namespaces/$NS/clonesets/f1/status count=3 retry_after=1"
  kubectl scale clone f1 --replicas=4 >/dev/null
  wait_for "f1 scaled to 4 through 429s" 90 status_is f1 4 4
  [ "$(metric logbook_action_retries_total)" -ge $((before + 3)) ]
  [ "$(journal_count "SELECT count(*) FROM events WHERE type='RETRY' AND http_status=429 AND name='f1'")" -ge 3 ]
}

t_fault_500_on_create() {
  proxy POST /fault "status=500 method=POST path_prefix=/api/v1/namespaces/$NS/pods count=2"
  cloneset f2 3 nginx:1.25 | kubectl apply -f - >/dev/null
  wait_for "f2 3 ready through 500s" 90 status_is f2 3 3
  [ "$(journal_count "SELECT count(*) FROM events WHERE type='RETRY' AND http_status=500 AND kind='Pod'")" -ge 2 ]
  no_double_actions "$WORK/manager.db"
}

t_fault_409_decides_again() {
  cloneset f3 3 nginx:1.25 | kubectl apply -f - >/dev/null
  wait_for "f3 3 ready" 60 status_is f3 3 3
  proxy POST /fault "status=409 method=PATCH path_prefix=/api/v1/namespaces/$NS/pods/f3- count=1"
  set_image f3 nginx:1.26
  wait_for "f3 rolled despite a 409" 90 status_is f3 3 3
  # the 409 was a final outcome (no blind retry), and a later decision
  # acted on fresh state
  [ "$(journal_count "SELECT count(*) FROM events WHERE type='OUTCOME' AND http_status=409 AND kind='Pod' AND name LIKE 'f3-%'")" -ge 1 ]
  [ "$(journal_count "SELECT count(*) FROM events WHERE type='RETRY' AND http_status=409")" = 0 ]
}

t_watch_cut_mid_line() {
  cloneset f4 2 nginx:1.25 | kubectl apply -f - >/dev/null
  wait_for "f4 2 ready" 60 status_is f4 2 2
  local before
  before=$(metric logbook_watch_restarts_total)
  proxy POST /cut-watch
  kubectl scale clone f4 --replicas=3 >/dev/null
  wait_for "f4 scaled after the cut" 90 status_is f4 3 3
  [ "$(metric logbook_watch_restarts_total)" -gt "$before" ]
  grep -q 'cut mid-line\|transfer closed' "$WORK/manager.log"
}

# run.sh calls start_proxy (in its own shell, not a test's subshell) before
# the first test named t_fault_* or t_watch_*.
ALL+=(t_fault_429_retry_after t_fault_500_on_create t_fault_409_decides_again t_watch_cut_mid_line)
