#!/usr/bin/env bash
# privkit.sh — a private light instance of the real-cluster kit (etcd +
# kube-apiserver from the kit's binaries and PKI) on ports of its own, for
# when the shared kit cannot be used: `privkit.sh start` prints the path of
# a kubeconfig; `privkit.sh stop` ends only the processes it started (pid
# files under its own state dir). Nothing else of the kit is touched.
# Knobs: PK_STATE (/tmp/lb-privkit), PK_API_PORT (16443), PK_ETCD_PORT
# (22379; +1 peer, +2 metrics).
set -euo pipefail
PREFIX=${PREFIX:-/opt/kube}
STATE=${PK_STATE:-/tmp/lb-privkit}
APORT=${PK_API_PORT:-16443}
EPORT=${PK_ETCD_PORT:-22379}
PKI=$PREFIX/pki

stop() {
  local f pid
  for f in "$STATE"/apiserver.pid "$STATE"/etcd.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    rm -f "$f"
  done
}

case ${1:-} in
start)
  stop
  for p in "$APORT" "$EPORT" $((EPORT + 1)) $((EPORT + 2)); do
    [ -z "$(ss -Hltn "sport = :$p")" ] || { echo "privkit: port $p is in use" >&2; exit 1; }
  done
  rm -rf "$STATE"
  mkdir -p "$STATE"
  # fds above 2 (an inherited lock, say) are not passed on
  setsid etcd --name local --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$EPORT" --advertise-client-urls "http://127.0.0.1:$EPORT" \
    --listen-peer-urls "http://127.0.0.1:$((EPORT + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((EPORT + 1))" \
    --initial-cluster "local=http://127.0.0.1:$((EPORT + 1))" --initial-cluster-state new \
    --listen-metrics-urls "http://127.0.0.1:$((EPORT + 2))" --logger zap --log-level warn \
    >"$STATE/etcd.log" 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
  echo $! >"$STATE/etcd.pid"
  for _ in $(seq 1 60); do curl -fsS "http://127.0.0.1:$EPORT/health" >/dev/null 2>&1 && break; sleep 0.5; done
  setsid "$PREFIX/bin/kube-apiserver" --etcd-servers="http://127.0.0.1:$EPORT" \
    --bind-address=127.0.0.1 --secure-port="$APORT" --cert-dir="$STATE/apiserver" \
    --tls-cert-file="$PKI/serving.crt" --tls-private-key-file="$PKI/serving.key" \
    --advertise-address=127.0.0.1 --endpoint-reconciler-type=none \
    --service-cluster-ip-range=10.0.0.0/24 \
    --service-account-issuer="https://127.0.0.1:$APORT" \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --token-auth-file="$PKI/tokens.csv" --authorization-mode=AlwaysAllow \
    --disable-admission-plugins=ServiceAccount --allow-privileged=true \
    --kubelet-preferred-address-types=Hostname \
    >"$STATE/apiserver.log" 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
  echo $! >"$STATE/apiserver.pid"
  sed "s#https://127.0.0.1:6443#https://127.0.0.1:$APORT#" "$PREFIX/kubeconfig" >"$STATE/kubeconfig"
  for _ in $(seq 1 240); do
    [ "$(curl -fsS --cacert "$PKI/ca.crt" -H "Authorization: Bearer $(cat "$PKI/admin.token")" \
      "https://127.0.0.1:$APORT/readyz" 2>/dev/null)" = ok ] && break
    sleep 0.5
  done
  echo "$STATE/kubeconfig"
  ;;
stop) stop ;;
*)
  echo "usage: privkit.sh start|stop" >&2
  exit 2
  ;;
esac
