#!/usr/bin/env bash
# Builds the test bed's binaries from upstream Go modules with the machine's Go toolchain:
# kube-apiserver, kube-controller-manager and kubectl (k8s.io/kubernetes), etcd
# (go.etcd.io/etcd/server/v3) and helm (helm.sh/helm/v4), plus cwo-health, the project's own small
# Go program (e2e/bed/cwo-health) that computes what GitOps tools see of an object: kstatus (Flux,
# Helm 4's --wait) and Argo CD health scripts in gopher-lua. Nothing is downloaded but Go modules.
# Each tool is cached by version (cwo-health: by a hash of its source) under
# ${CWO_CACHE_DIR:-~/.cache/cloudwatch-operator}/bin/<name>-<version>/; a second run reuses it.
#
# Usage: e2e/bed/build-tools.sh            build what is missing, then print KEY=path lines
#        e2e/bed/build-tools.sh --print    print the KEY=path lines only; fail if something is
#                                          not built
# Output (stdout), one line per binary:
#   KUBE_APISERVER=... KUBE_CONTROLLER_MANAGER=... KUBECTL=... ETCD=... HELM=... CWO_HEALTH=...
# Progress goes to stderr.
set -euo pipefail
# Without this, a failure inside $(build_...) would not stop the script, and a tool would be
# stamped complete without its binary.
shopt -s inherit_errexit

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache="${CWO_CACHE_DIR:-$HOME/.cache/cloudwatch-operator}"
bin_root="$cache/bin"
work_root="$cache/build"
mkdir -p "$bin_root" "$work_root"

print_only=0
[ "${1:-}" = "--print" ] && print_only=1

log() { echo "build-tools: $*" >&2; }

# quiet LOG CMD...: run CMD with its output in LOG, shown only if it fails (`go get` lists every
# module it adds, hundreds of lines).
quiet() {
  local logfile="$1"
  shift
  if ! "$@" >"$logfile" 2>&1; then
    cat "$logfile" >&2
    log "failed: $*"
    return 1
  fi
}

# A tool is present when its directory holds every binary and a stamp written after a full build.
built() {
  local dir="$1"
  shift
  [ -f "$dir/.complete" ] || return 1
  local b
  for b in "$@"; do [ -x "$dir/$b" ] || return 1; done
}

k8s_dir="$bin_root/kubernetes-$KUBERNETES_VERSION"
etcd_dir="$bin_root/etcd-$ETCD_VERSION"
helm_dir="$bin_root/helm-$HELM_VERSION"
health_src="$here/cwo-health"
# Rebuilt whenever its source or its pinned dependencies change.
health_version="$(cd "$health_src" && cat go.mod go.sum ./*.go | sha256sum | cut -c1-16)"
health_dir="$bin_root/cwo-health-$health_version"
k8s_bins=(kube-apiserver kube-controller-manager kubectl)

print_paths() {
  echo "KUBE_APISERVER=$k8s_dir/kube-apiserver"
  echo "KUBE_CONTROLLER_MANAGER=$k8s_dir/kube-controller-manager"
  echo "KUBECTL=$k8s_dir/kubectl"
  echo "ETCD=$etcd_dir/etcd"
  echo "HELM=$helm_dir/helm"
  echo "CWO_HEALTH=$health_dir/cwo-health"
}

all_built() {
  built "$k8s_dir" "${k8s_bins[@]}" && built "$etcd_dir" etcd && built "$helm_dir" helm \
    && built "$health_dir" cwo-health
}

# build_kubernetes: one Go module that requires k8s.io/kubernetes at a release and replaces each
# staging module (which k8s.io/kubernetes's own go.mod points at local paths) with its release.
# All three commands are built by one `go build`, so the packages they share compile once.
build_kubernetes() {
  built "$k8s_dir" "${k8s_bins[@]}" && return
  log "building ${k8s_bins[*]} $KUBERNETES_VERSION (cold: several minutes)"
  local started=$SECONDS
  local mod="$work_root/kubernetes-$KUBERNETES_VERSION"
  rm -rf "$mod" "$k8s_dir" && mkdir -p "$mod"
  local upstream_mod
  upstream_mod="$(cd "$mod" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" \
    | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [ -f "$upstream_mod" ] || { log "could not download k8s.io/kubernetes@$KUBERNETES_VERSION"; exit 1; }
  local go_directive godebug
  go_directive="$(sed -n 's/^go \(.*\)$/\1/p' "$upstream_mod" | head -1)"
  # Keep upstream's run-time defaults (GODEBUG) rather than those of the machine's Go version.
  godebug="$(grep -E '^godebug ' "$upstream_mod" || true)"
  {
    echo "module cwo.dev/bed/kubernetes"
    echo
    echo "go $go_directive"
    echo
    [ -n "$godebug" ] && { echo "$godebug"; echo; }
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    echo "replace ("
    # Every staging module k8s.io/kubernetes replaces with ./staging/src/... comes from its release.
    sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/src/.*$#\1#p' "$upstream_mod" \
      | while read -r m; do echo "	$m => $m $KUBERNETES_STAGING_VERSION"; done
    echo ")"
  } >"$mod/go.mod"
  # Version stamps, as the upstream release build sets them, so `kubectl version` and the API
  # server's /version report the release rather than v0.0.0.
  local major minor ldflags="-s -w" p
  major="$(echo "$KUBERNETES_VERSION" | sed 's/^v\([0-9]*\)\..*/\1/')"
  minor="$(echo "$KUBERNETES_VERSION" | sed 's/^v[0-9]*\.\([0-9]*\)\..*/\1/')"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    ldflags="$ldflags -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  local pkgs=() b
  for b in "${k8s_bins[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  (
    cd "$mod"
    quiet go-get.log go get "${pkgs[@]/%/@$KUBERNETES_VERSION}"
    mkdir -p "$k8s_dir"
    go build -p "$jobs" -trimpath -ldflags "$ldflags" -o "$k8s_dir/" "${pkgs[@]}"
  )
  built_now "$k8s_dir" "${k8s_bins[@]}"
  log "built kubernetes $KUBERNETES_VERSION in $((SECONDS - started))s"
}

# build_go_main DIR MODULE VERSION PACKAGE BINARY [LDFLAGS]: build one main package of a released
# module from a throwaway module that requires it (`go install pkg@version` refuses modules whose
# go.mod carries replace directives, as etcd's does).
build_go_main() {
  local out="$1" module="$2" version="$3" package="$4" binary="$5" ldflags="${6:-}"
  built "$out" "$binary" && return
  local name="${out##*/}"
  log "building $binary $version"
  local started=$SECONDS
  local mod="$work_root/$name"
  rm -rf "$mod" "$out" && mkdir -p "$mod" "$out"
  (
    cd "$mod"
    go mod init "cwo.dev/bed/$binary" >/dev/null 2>&1
    quiet go-get.log go get "$module@$version" "$package@$version"
    go build -p "$jobs" -trimpath -ldflags "-s -w $ldflags" -o "$out/$binary" "$package"
  )
  built_now "$out" "$binary"
  log "built $binary $version in $((SECONDS - started))s"
}

# build_health: the project's cwo-health, from its own module with the dependencies its go.sum
# pins (-mod=readonly: a build never changes them).
build_health() {
  built "$health_dir" cwo-health && return
  log "building cwo-health $health_version"
  local started=$SECONDS
  rm -rf "$health_dir" && mkdir -p "$health_dir"
  (
    cd "$health_src"
    GOFLAGS=-mod=readonly go build -p "$jobs" -trimpath -ldflags "-s -w" \
      -o "$health_dir/cwo-health" .
  )
  built_now "$health_dir" cwo-health
  log "built cwo-health in $((SECONDS - started))s"
}

# built_now DIR BINARY...: check the binaries exist, then stamp the directory complete.
built_now() {
  local dir="$1" b
  shift
  for b in "$@"; do
    [ -x "$dir/$b" ] || { log "build did not produce $dir/$b"; exit 1; }
  done
  touch "$dir/.complete"
}

main() {
  # The fast path: everything cached. This is what every test run after the first one takes.
  if all_built; then
    print_paths
    exit 0
  fi
  if [ "$print_only" = 1 ]; then
    built "$k8s_dir" "${k8s_bins[@]}" || log "kubernetes $KUBERNETES_VERSION is not built"
    built "$etcd_dir" etcd || log "etcd $ETCD_VERSION is not built"
    built "$helm_dir" helm || log "helm $HELM_VERSION is not built"
    built "$health_dir" cwo-health || log "cwo-health $health_version is not built"
    exit 1
  fi

  command -v go >/dev/null || { log "Go is required (go not on PATH)"; exit 1; }

  # Test binaries and a person may start a build at the same time; one builds, the others wait
  # and then find the cache filled.
  exec 9>"$cache/build.lock"
  if ! flock -n 9; then
    log "another build is running; waiting for it"
    flock 9
  fi

  # The build runs on small machines: as many jobs as there are cores, no more.
  jobs="$(nproc 2>/dev/null || echo 2)"
  export GOFLAGS=-mod=mod CGO_ENABLED=0

  build_kubernetes
  build_go_main "$etcd_dir" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3 etcd
  build_go_main "$helm_dir" helm.sh/helm/v4 "$HELM_VERSION" helm.sh/helm/v4/cmd/helm helm \
    "-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"
  build_health
  print_paths
}

# Everything runs from main, on one line, so bash has read the whole script before it starts: a
# build takes minutes, and bash reads a script as it goes, so an edit made meanwhile (a version
# bump, a checkout) would otherwise run half of one file and half of another.
main "$@"; exit
