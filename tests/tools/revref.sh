#!/bin/sh
# revref.sh — run the Go revision oracle (tests/tools/revref/main.go) inside
# the Kubernetes v1.20.2 source tree the real-cluster kit unpacks, offline
# (GOPATH mode over its vendor/, as hack/lib builds 1.20; GOPROXY=off), and
# write tests/revision/<case>.want.  With --check, write to a scratch copy
# and diff against the committed goldens instead (exit 1 on any difference).
#   KUBE_SRC=/opt/kube/src/kubernetes-<ver>  (default: the kit's one)
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
check=0
[ "${1:-}" = "--check" ] && check=1
src=${KUBE_SRC:-$(ls -d /opt/kube/src/kubernetes-*/ 2>/dev/null | head -n1)}
src=${src%/}
if [ -z "$src" ] || [ ! -d "$src/vendor/k8s.io/api" ]; then
  echo "revref: no Kubernetes source tree (run the real-cluster kit's setup, or set KUBE_SRC)" >&2
  exit 2
fi
command -v go >/dev/null || { echo "revref: no go toolchain (apt-get install golang-go)" >&2; exit 2; }
gp=$(mktemp -d /tmp/revref-gopath.XXXXXX)
tool="$src/logbook-revref-$$"
trap 'rm -rf "$gp" "$tool"' EXIT INT TERM
mkdir -p "$gp/src/k8s.io" "$tool"
ln -s "$src" "$gp/src/k8s.io/kubernetes"
cp "$here/tests/tools/revref/main.go" "$tool/"
corpus="$here/tests/revision"
if [ $check = 1 ]; then
  mkdir "$gp/corpus"
  cp "$corpus"/*.json "$gp/corpus/"
  corpus="$gp/corpus"
fi
(cd "$gp/src/k8s.io/kubernetes" &&
  env GO111MODULE=off GOPATH="$gp" GOFLAGS= GOPROXY=off GOCACHE="${GOCACHE:-$HOME/.cache/go-build}" \
    go run "./$(basename "$tool")" "$corpus")
if [ $check = 1 ]; then
  rc=0
  for w in "$corpus"/*.want; do
    if ! cmp -s "$w" "$here/tests/revision/$(basename "$w")"; then
      echo "revref: $(basename "$w") differs from the committed golden:" >&2
      diff "$here/tests/revision/$(basename "$w")" "$w" >&2 || true
      rc=1
    fi
  done
  [ $rc = 0 ] && echo "revref: $(ls "$corpus"/*.want | wc -l) goldens match the Go oracle"
  exit $rc
fi
