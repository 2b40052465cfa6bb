# webhook.sh — the admission webhook server of `logbook manager` on the real
# apiserver. Sourced by run.sh, which starts the manager with
# $WEBHOOK_ARGS: it serves HTTPS on 127.0.0.1:$WH_PORT and registers its
# Mutating/ValidatingWebhookConfigurations by url with its own CA, every
# webhook restricted (namespaceSelector) to namespaces labelled
# logbook-e2e-webhook=$NS, so nothing else on the shared kit goes through
# it. Cleanup deletes the configurations.

WH_PORT=${WH_PORT:-19443}
WH_NS=$NS-wh
WH_IGN_NS=$NS-ign
WH_CERTS=$WORK/webhook-certs
export LB_WEBHOOK_REAPPLY_SECONDS=2
WEBHOOK_ARGS="--webhook-port $WH_PORT --webhook-host 127.0.0.1 --webhook-url-base https://127.0.0.1:$WH_PORT --webhook-cert-dir $WH_CERTS --webhook-namespace-selector logbook-e2e-webhook=$NS"

webhook_cleanup() {
  kubectl --kubeconfig "$KUBECONFIG_ADMIN" delete mutatingwebhookconfiguration \
    logbook-mutating-webhook-configuration logbook-e2e-ignore logbook-e2e-v1beta1 --ignore-not-found >/dev/null 2>&1 || true
  kubectl --kubeconfig "$KUBECONFIG_ADMIN" delete validatingwebhookconfiguration \
    logbook-validating-webhook-configuration --ignore-not-found >/dev/null 2>&1 || true
}

wh_pod() { # NAME NAMESPACE
  cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
  namespace: $2
  labels: {app: wh}
spec:
  containers:
  - name: main
    image: nginx:1.25
    imagePullPolicy: IfNotPresent
YAML
}

wh_curl() { # PATH [curl args...]: prints the HTTP status, body in $WORK/wh.body
  local p=$1
  shift
  curl -s -o "$WORK/wh.body" -w '%{http_code}' --cacert "$WH_CERTS/ca.crt" \
    "https://127.0.0.1:$WH_PORT$p" "$@"
}

wh_registered() {
  kubectl get mutatingwebhookconfiguration logbook-mutating-webhook-configuration \
    -o jsonpath='{.webhooks[0].clientConfig.url}' 2>/dev/null | grep -q "127.0.0.1:$WH_PORT/mutate-pod" &&
    kubectl get validatingwebhookconfiguration logbook-validating-webhook-configuration >/dev/null 2>&1
}

# wh_labelled_ns NAMESPACE LABEL-KEY: the namespace, labelled KEY=$NS
wh_labelled_ns() {
  kubectl get namespace "$1" >/dev/null 2>&1 || {
    kubectl create namespace "$1" >/dev/null
    kubectl label namespace "$1" "$2=$NS" >/dev/null
  }
}

# wh_test_config NAME FAILURE-POLICY REVIEW-VERSIONS LABEL-KEY [TIMEOUT]: a
# test-only MutatingWebhookConfiguration sending pod CREATEs in namespaces
# labelled LABEL-KEY=$NS to the manager's /mutate-pod
wh_test_config() {
  kubectl apply -f - >/dev/null <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: logbook-e2e-$1
webhooks:
- name: $1.e2e.logbook.kruise.io
  clientConfig:
    url: https://127.0.0.1:$WH_PORT/mutate-pod
    caBundle: $(base64 -w0 "$WH_CERTS/ca.crt")
  rules:
  - {operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}
  failurePolicy: $2
  sideEffects: None${5:+
  timeoutSeconds: $5}
  admissionReviewVersions: [$3]
  namespaceSelector:
    matchLabels: {$4: "$NS"}
YAML
}

wh_setup_namespaces() {
  wh_labelled_ns "$WH_NS" logbook-e2e-webhook
  wait_for "webhook configurations registered by the manager" 30 wh_registered
}

# A pod CREATE and DELETE go through mpod / vpod: REVIEW events and the
# verdict decisions with their RESPOND actions are in the journal, the
# caBundle is the manager's CA, the metrics count them.
t_webhook_pod_create_journaled() {
  wh_setup_namespaces
  local ca
  ca=$(kubectl get mutatingwebhookconfiguration logbook-mutating-webhook-configuration \
    -o jsonpath='{.webhooks[0].clientConfig.caBundle}')
  [ "$ca" = "$(base64 -w0 "$WH_CERTS/ca.crt")" ]
  [ "$(kubectl get mutatingwebhookconfiguration logbook-mutating-webhook-configuration \
    -o jsonpath='{.webhooks[0].failurePolicy}/{.webhooks[0].sideEffects}/{.webhooks[0].admissionReviewVersions}')" = \
    'Fail/None/["v1","v1beta1"]' ]
  wh_pod wh1 "$WH_NS" | kubectl create -f - >/dev/null
  local n
  n=$(journal_count "SELECT count(*) FROM events WHERE source='admission' AND type='REVIEW' AND kind='Pod' AND namespace='$WH_NS' AND name='wh1' AND json_extract(body,'\$.path')='/mutate-pod' AND json_extract(body,'\$.review.request.operation')='CREATE'")
  [ "$n" = 1 ] || { log "REVIEW events for wh1: $n"; return 1; }
  n=$(journal_count "SELECT count(*) FROM decisions d JOIN events e ON e.seq=d.event_seq JOIN actions a ON a.decision_seq=d.seq WHERE d.reducer='admission' AND e.name='wh1' AND a.verb='respond' AND a.name=e.uid AND json_extract(a.request,'\$.response.allowed')=1")
  [ "$n" = 1 ] || { log "verdicts for wh1: $n"; return 1; }
  # no managedFields reached the journal
  n=$(journal_count "SELECT count(*) FROM events WHERE source='admission' AND body LIKE '%managedFields%'")
  [ "$n" = 0 ] || { log "admission events with managedFields: $n"; return 1; }
  kubectl delete pod wh1 -n "$WH_NS" --wait=false >/dev/null
  wait_for "vpod DELETE review journaled" 20 bash -c "[ \"\$(\"$LOGBOOK\" query \"$WORK/manager.db\" \"SELECT count(*) FROM events WHERE source='admission' AND name='wh1' AND json_extract(body,'\\\$.path')='/validate-pod' AND json_extract(body,'\\\$.review.request.operation')='DELETE'\" | sed -n 3p | tr -d ' ')\" -ge 1 ]"
  local allowed metrics
  # (no `curl | grep -q`: grep quitting early fails curl under pipefail)
  metrics=$(curl -sf "127.0.0.1:$MPORT/metrics")
  allowed=$(echo "$metrics" | awk '$1 == "logbook_admission_requests_total{webhook=\"mpod\",verdict=\"allowed\"}" {print $2}')
  [ "${allowed:-0}" -ge 1 ] || { log "mpod allowed metric: ${allowed:-none}"; return 1; }
  echo "$metrics" | grep '^logbook_admission_duration_seconds_bucket{webhook="mpod",le="+Inf"}' >/dev/null
  log "pod create/delete reviewed and journaled; mpod allowed=$allowed"
}

# Malformed, not-AdmissionReview, uid-less and oversized bodies: 400/413
# with a reason, never an event; the server keeps answering.
t_webhook_bad_requests_400() {
  wh_setup_namespaces
  local before after code
  before=$(journal_count "SELECT count(*) FROM events WHERE source='admission'")
  code=$(wh_curl /validate-pod -H 'Content-Type: application/json' --data-binary '{"kind":')
  [ "$code" = 400 ]
  grep -q 'not valid JSON' "$WORK/wh.body"
  code=$(wh_curl /validate-pod -H 'Content-Type: application/json' --data-binary '{"kind":"Pod","apiVersion":"v1"}')
  [ "$code" = 400 ]
  grep -q 'not an AdmissionReview' "$WORK/wh.body"
  code=$(wh_curl /mutate-pod -H 'Content-Type: application/json' \
    --data-binary '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{"kind":"Pod"},"operation":"CREATE"}}')
  [ "$code" = 400 ]
  grep -q 'request.uid' "$WORK/wh.body"
  head -c $((5 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$WORK/big.json"
  code=$(wh_curl /mutate-pod -H 'Content-Type: application/json' --data-binary "@$WORK/big.json")
  [ "$code" = 413 ]
  grep -q 'larger than the limit' "$WORK/wh.body"
  code=$(wh_curl /nope -H 'Content-Type: application/json' --data-binary '{}')
  [ "$code" = 404 ]
  # still up: a well-formed review from curl is answered with its uid
  code=$(wh_curl /validate-pod -H 'Content-Type: application/json' \
    --data-binary '{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"e2e-curl-1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"x","name":"y","operation":"DELETE"}}')
  [ "$code" = 200 ]
  grep -q '"uid":"e2e-curl-1"' "$WORK/wh.body"
  grep -q 'admission.k8s.io/v1beta1' "$WORK/wh.body"
  after=$(journal_count "SELECT count(*) FROM events WHERE source='admission'")
  [ "$after" = $((before + 1)) ] || { log "admission events $before -> $after"; return 1; }
  [ "$(wh_curl /healthz)" = 200 ]
}

# The webhook down: the apiserver applies failurePolicy. Fail (logbook's
# mpod) refuses pod creation; a test-only Ignore webhook on another
# namespace lets it through. Then the manager comes back and creation works.
t_webhook_down_failure_policy() {
  wh_setup_namespaces
  wh_labelled_ns "$WH_IGN_NS" logbook-e2e-ignore
  wh_test_config ignore Ignore v1 logbook-e2e-ignore 5
  # up: both namespaces admit, and the Ignore webhook is really called
  wh_pod up1 "$WH_NS" | kubectl create -f - >/dev/null
  wh_pod up2 "$WH_IGN_NS" | kubectl create -f - >/dev/null
  [ "$(journal_count "SELECT count(*) FROM events WHERE source='admission' AND name='up2' AND namespace='$WH_IGN_NS'")" = 1 ]
  hold_manager
  wait_for "webhook port closed" 20 bash -c "! curl -s -o /dev/null --cacert $WH_CERTS/ca.crt https://127.0.0.1:$WH_PORT/healthz"
  local out rc=0
  out=$(wh_pod down1 "$WH_NS" | kubectl create -f - 2>&1) || rc=$?
  log "webhook down, failurePolicy Fail: rc=$rc: $out"
  [ "$rc" != 0 ]
  echo "$out" | grep -q 'failed calling webhook'
  if kubectl get pod down1 -n "$WH_NS" >/dev/null 2>&1; then
    log "down1 was created although the Fail webhook was down"
    return 1
  fi
  out=$(wh_pod down2 "$WH_IGN_NS" | kubectl create -f - 2>&1)
  log "webhook down, failurePolicy Ignore: $out"
  kubectl get pod down2 -n "$WH_IGN_NS" >/dev/null
  kubectl delete mutatingwebhookconfiguration logbook-e2e-ignore >/dev/null
  release_manager
  wait_for "webhook back" 30 bash -c "curl -sf -o /dev/null --cacert $WH_CERTS/ca.crt https://127.0.0.1:$WH_PORT/healthz"
  wh_pod back1 "$WH_NS" | kubectl create -f - >/dev/null
  # the restarted manager reused its CA: the caBundle did not change
  [ "$(kubectl get mutatingwebhookconfiguration logbook-mutating-webhook-configuration \
    -o jsonpath='{.webhooks[0].clientConfig.caBundle}')" = "$(base64 -w0 "$WH_CERTS/ca.crt")" ]
}

# Someone edits the caBundle: the manager puts its own back (it re-applies
# every LB_WEBHOOK_REAPPLY_SECONDS, 2 s in this suite; 5 min by default).
t_webhook_cabundle_restored() {
  wh_setup_namespaces
  local good
  good=$(base64 -w0 "$WH_CERTS/ca.crt")
  # the patch's own reply shows the bad value (the manager may restore it
  # before a separate GET could see it); good again = a later write by it
  local bad
  bad=$(kubectl patch validatingwebhookconfiguration logbook-validating-webhook-configuration \
    --type json -p '[{"op":"replace","path":"/webhooks/0/clientConfig/caBundle","value":"Zm9v"}]' \
    -o jsonpath='{.webhooks[0].clientConfig.caBundle}')
  [ "$bad" = Zm9v ] || { log "patch left caBundle=$bad"; return 1; }
  wait_for "caBundle restored by the manager" 20 bash -c "[ \"\$(kubectl get validatingwebhookconfiguration logbook-validating-webhook-configuration -o jsonpath='{.webhooks[0].clientConfig.caBundle}')\" = '$good' ]"
}

# The 1.20 apiserver speaking admission.k8s.io/v1beta1 (a test-only
# configuration that offers only v1beta1): answered in v1beta1, journaled.
t_webhook_v1beta1_from_apiserver() {
  wh_setup_namespaces
  local ns=$NS-b1
  wh_labelled_ns "$ns" logbook-e2e-v1beta1
  wh_test_config v1beta1 Fail v1beta1 logbook-e2e-v1beta1
  local rc=0
  wh_pod b1 "$ns" | kubectl create -f - >/dev/null || rc=$?
  kubectl delete mutatingwebhookconfiguration logbook-e2e-v1beta1 >/dev/null
  [ "$rc" = 0 ]
  local n
  n=$(journal_count "SELECT count(*) FROM events e JOIN decisions d ON d.event_seq=e.seq JOIN actions a ON a.decision_seq=d.seq WHERE e.source='admission' AND e.namespace='$ns' AND e.name='b1' AND json_extract(e.body,'\$.review.apiVersion')='admission.k8s.io/v1beta1' AND a.verb='respond' AND json_extract(a.request,'\$.apiVersion')='admission.k8s.io/v1beta1'")
  [ "$n" = 1 ] || { log "v1beta1 reviews answered in v1beta1 for b1: $n"; return 1; }
}

# The leader labels its own pod for the webhook Service once it serves, and
# clears a label left from before when it starts (deploy/manager.yaml).
serving_label_is() {
  [ "$(kubectl get pod e2e-manager-pod -n "$NS-mgr" -o jsonpath='{.metadata.labels.logbook\.kruise\.io/webhook-serving}')" = "$1" ]
}
t_webhook_serving_label() {
  wait_for "own pod labelled serving" 30 serving_label_is true
  # a restarted manager starts as a standby: it clears the label first
  kubectl label pod e2e-manager-pod -n "$NS-mgr" logbook.kruise.io/webhook-serving=stale --overwrite >/dev/null
  crash_manager KILL
  start_manager
  wait_for "label set again by the new leader" 60 serving_label_is true
  grep -q 'webhook serving label set on own pod.*value=null' "$WORK/manager.log"
}

ALL+=(t_webhook_serving_label t_webhook_pod_create_journaled t_webhook_bad_requests_400 t_webhook_cabundle_restored t_webhook_v1beta1_from_apiserver t_webhook_down_failure_policy)
