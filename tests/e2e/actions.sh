# actions.sh — the actuator's verbs and preconditions against the real
# kube-apiserver, one request at a time through build/actprobe (the same
# kubeact code the manager runs): merge, strategic-merge and JSON patch;
# a failed JSON-patch test changes nothing; delete preconditions on uid and
# resourceVersion answer 409 when stale.

probe() { "$ROOT/build/actprobe" "$KUBECONFIG_ADMIN" "$@"; }
code_of() { echo "${1%% *}"; }

t_actuator_verbs() {
  kubectl run ap1 --image=nginx:1.25 --restart=Never --labels=app=ap1,k=v >/dev/null
  local out uid rv
  uid=$(jp pod ap1 '{.metadata.uid}')
  out=$(probe patch "" Pod "$NS" ap1 "" '{"metadata":{"labels":{"merge":"yes"}}}')
  [ "$(code_of "$out")" = 200 ]
  out=$(probe spatch "" Pod "$NS" ap1 "" '{"spec":{"containers":[{"name":"ap1","image":"nginx:1.26"}]}}')
  [ "$(code_of "$out")" = 200 ]
  [ "$(jp pod ap1 '{.spec.containers[0].image}')" = nginx:1.26 ]
  out=$(probe jpatch "" Pod "$NS" ap1 "" '[{"op":"test","path":"/metadata/labels/k","value":"v"},{"op":"replace","path":"/metadata/labels/k","value":"w"},{"op":"add","path":"/metadata/annotations","value":{"a":"1"}}]')
  [ "$(code_of "$out")" = 200 ]
  [ "$(jp pod ap1 '{.metadata.labels.k}/{.metadata.labels.merge}/{.metadata.annotations.a}')" = w/yes/1 ]
  # a failing test: 422, nothing of the patch applied
  out=$(probe jpatch "" Pod "$NS" ap1 "" '[{"op":"replace","path":"/metadata/labels/k","value":"lost"},{"op":"test","path":"/metadata/labels/k","value":"v"}]')
  log "jpatch with a failing test: $(code_of "$out")"
  [ "$(code_of "$out")" = 422 ]
  [ "$(jp pod ap1 '{.metadata.labels.k}')" = w ]
  # delete preconditions: stale resourceVersion, wrong uid -> 409, pod stays
  rv=$(jp pod ap1 '{.metadata.resourceVersion}')
  out=$(probe delete "" Pod "$NS" ap1 "" "{\"preconditions\":{\"resourceVersion\":\"$((rv - 1))\"}}")
  [ "$(code_of "$out")" = 409 ]
  echo "$out" | grep -q 'the ResourceVersion in the precondition'
  out=$(probe delete "" Pod "$NS" ap1 "00000000-0000-4000-8000-000000000000" "")
  [ "$(code_of "$out")" = 409 ]
  [ -z "$(jp pod ap1 '{.metadata.deletionTimestamp}')" ]
  # both preconditions current: deleted (the node simulator may write the
  # pod's status between our read and the delete: then read again)
  local try
  for try in 1 2 3 4 5; do
    rv=$(jp pod ap1 '{.metadata.resourceVersion}')
    out=$(probe delete "" Pod "$NS" ap1 "$uid" "{\"preconditions\":{\"resourceVersion\":\"$rv\"}}")
    [ "$(code_of "$out")" = 409 ] || break
    log "delete raced a status write (try $try): $out"
  done
  [ "$(code_of "$out")" = 200 ]
  wait_for "ap1 gone" 60 bash -c "! kubectl get pod ap1 -n $NS >/dev/null 2>&1"
}

ALL+=(t_actuator_verbs)
