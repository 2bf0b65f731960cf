#!/usr/bin/env bash
# Builds, or finds already built, the pinned tools the tests run against, from source
# through the Go module proxy: helm (4), helm3, kubectl, actionlint, kwok, kwokctl,
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, and kubelet and kube-proxy
# for the real node of scripts/cluster-up.sh (MP_REAL_NODES=1).
#
# Binaries are cached under ${MP_CACHE:-$HOME/.cache/minikube-preview}/go-tools, one
# folder per tool and version, so a warm run only checks that they exist.
# Progress goes to stderr; the last line of stdout is the folder holding all tools.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tool-versions.env
source "$here/tool-versions.env"

cache=${MP_CACHE:-$HOME/.cache/minikube-preview}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# Never fetch another Go toolchain: build with the one installed.
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOWORK=off
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux-amd64 ;;
  Linux-aarch64 | Linux-arm64) platform=linux-arm64 ;;
  Darwin-x86_64) platform=darwin-amd64 ;;
  Darwin-arm64) platform=darwin-arm64 ;;
  *) platform=$(go env GOOS)-$(go env GOARCH) ;;
esac
tools_root="$cache/go-tools/$platform"
src_root="$cache/go-src"
log_root="$cache/logs"
mkdir -p "$tools_root" "$src_root" "$log_root"

started=$SECONDS
# One build at a time per cache: a second run waits, then finds the tools built.
exec 9>"$cache/.test-tools.lock"
flock 9
log() { printf '[test-tools %3ds] %s\n' "$((SECONDS - started))" "$*" >&2; }

# The folder a tool at a version is built into; it is complete once it holds `.built`.
tool_dir() { echo "$tools_root/$1-$2"; }
is_built() { [[ -f "$(tool_dir "$1" "$2")/.built" ]]; }

# Prints `<key> <value>` lines of `go list -m -json module@version` (module metadata only;
# the module's source is not downloaded).
module_field() { # module@version field
  (cd "$src_root" && go list -m -json "$1") | sed -n "s/^\t\"$2\": \"\\(.*\\)\",\{0,1\}$/\\1/p"
}

# Writes a module in $src_root/<name>-<version> that requires <module>@<version>, with the
# same `go` and `godebug` lines as that module, so its commands build as released.
new_wrapper() { # name version module
  local dir="$src_root/$1-$2" gomod
  gomod=$(module_field "$3@$2" GoMod)
  rm -rf "$dir"
  mkdir -p "$dir"
  {
    echo "module minikube-preview.local/tools/$1"
    echo
    grep -E '^(go|godebug) ' "$gomod"
    echo
    echo "require $3 $2"
  } >"$dir/go.mod"
  echo "$dir"
}

# Turns a module's own `replace X => ../local` lines (which keep it from being
# `go install`ed) into replacements by the published modules at <version>.
replace_local_modules() { # wrapper-dir module@version pattern published-version
  local gomod mod
  gomod=$(module_field "$2" GoMod)
  # shellcheck disable=SC2013 # module paths have no spaces
  for mod in $(grep -oE "^[[:space:]]*(replace[[:space:]]+)?$3[^[:space:]]* => \.{1,2}/" "$gomod" | awk '{print $(NF-2)}' | sort -u); do
    (cd "$1" && go mod edit -replace="$mod=$mod@$4")
  done
}

# Resolves and downloads everything needed to build the packages (network only).
fetch() { # wrapper-dir version packages...
  local dir=$1 version=$2
  shift 2
  local args=() pkg
  for pkg in "$@"; do args+=("$pkg@$version"); done
  (cd "$dir" && go get "${args[@]}")
}

compile() { # name version ldflags packages...
  local out name=$1 version=$2 ldflags=$3
  shift 3
  out=$(tool_dir "$name" "$version")
  rm -rf "$out"
  mkdir -p "$out"
  (cd "$src_root/$name-$version" && go build -mod=mod -trimpath -ldflags "-s -w $ldflags" -o "$out/" "$@")
}

# ---- the tools ---------------------------------------------------------------

k8s_packages=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)

prepare_kubernetes() {
  local v=$KUBERNETES_VERSION dir
  dir=$(new_wrapper kubernetes "$v" k8s.io/kubernetes)
  # k8s.io/kubernetes points its staging modules (k8s.io/api, k8s.io/client-go, ...) at
  # local folders; each of them is published as v0.<minor>.<patch>.
  replace_local_modules "$dir" "k8s.io/kubernetes@$v" 'k8s\.io/' "v0.${v#v1.}"
  fetch "$dir" "$v" "${k8s_packages[@]}"
}
# The version ldflags of Kubernetes' own builds, so binaries report their version.
kubernetes_ldflags() {
  local v=$KUBERNETES_VERSION minor date flags="" pkg
  minor=${v#v1.}
  minor=${minor%%.*}
  date=$(module_field "k8s.io/kubernetes@$v" Time)
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  echo "$flags"
}
build_kubernetes() {
  compile kubernetes "$KUBERNETES_VERSION" "$(kubernetes_ldflags)" "${k8s_packages[@]}"
}

# The node's binaries, an entry of their own so the control plane's stay cached.
node_packages=(k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy)
prepare_kubelet() {
  local v=$KUBERNETES_VERSION dir
  dir=$(new_wrapper kubelet "$v" k8s.io/kubernetes)
  replace_local_modules "$dir" "k8s.io/kubernetes@$v" 'k8s\.io/' "v0.${v#v1.}"
  fetch "$dir" "$v" "${node_packages[@]}"
}
build_kubelet() {
  compile kubelet "$KUBERNETES_VERSION" "$(kubernetes_ldflags)" "${node_packages[@]}"
}

prepare_etcd() {
  local v=$ETCD_VERSION dir
  dir=$(new_wrapper etcd "$v" go.etcd.io/etcd/server/v3)
  replace_local_modules "$dir" "go.etcd.io/etcd/server/v3@$v" 'go\.etcd\.io/etcd/' "$v"
  fetch "$dir" "$v" go.etcd.io/etcd/server/v3
}
build_etcd() {
  compile etcd "$ETCD_VERSION" "" go.etcd.io/etcd/server/v3
  local out
  out=$(tool_dir etcd "$ETCD_VERSION")
  # `go build` names the binary of go.etcd.io/etcd/server/v3 after "server".
  mv "$out/server" "$out/etcd"
}

prepare_kwok() {
  local dir
  dir=$(new_wrapper kwok "$KWOK_VERSION" sigs.k8s.io/kwok)
  fetch "$dir" "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl
}
build_kwok() {
  compile kwok "$KWOK_VERSION" \
    "-X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$KUBERNETES_VERSION" \
    sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl
}

prepare_helm4() {
  local dir
  dir=$(new_wrapper helm4 "$HELM4_VERSION" helm.sh/helm/v4)
  fetch "$dir" "$HELM4_VERSION" helm.sh/helm/v4/cmd/helm
}
build_helm4() {
  compile helm4 "$HELM4_VERSION" \
    "-X helm.sh/helm/v4/internal/version.version=$HELM4_VERSION -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
    helm.sh/helm/v4/cmd/helm
}

prepare_helm3() {
  local dir
  dir=$(new_wrapper helm3 "$HELM3_VERSION" helm.sh/helm/v3)
  fetch "$dir" "$HELM3_VERSION" helm.sh/helm/v3/cmd/helm
}
build_helm3() {
  local v=$HELM3_VERSION kube minor flags
  # Helm 3's default .Capabilities.KubeVersion follows its client-go, as its Makefile sets it.
  kube=$(cd "$src_root/helm3-$v" && go list -m -f '{{.Version}}' k8s.io/client-go)
  minor=$(echo "$kube" | cut -d. -f2)
  flags="-X helm.sh/helm/v3/internal/version.version=$v -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  flags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor"
  flags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor"
  compile helm3 "$v" "$flags" helm.sh/helm/v3/cmd/helm
  mv "$(tool_dir helm3 "$v")/helm" "$(tool_dir helm3 "$v")/helm3"
}

prepare_actionlint() {
  local dir
  dir=$(new_wrapper actionlint "$ACTIONLINT_VERSION" github.com/rhysd/actionlint)
  fetch "$dir" "$ACTIONLINT_VERSION" github.com/rhysd/actionlint/cmd/actionlint
}
build_actionlint() {
  compile actionlint "$ACTIONLINT_VERSION" "-X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION" \
    github.com/rhysd/actionlint/cmd/actionlint
}

# name, version, binaries it provides. Largest first: it is built first; the node last.
tools=(
  "kubernetes $KUBERNETES_VERSION kube-apiserver kube-controller-manager kube-scheduler kubectl"
  "kwok $KWOK_VERSION kwok kwokctl"
  "helm4 $HELM4_VERSION helm"
  "helm3 $HELM3_VERSION helm3"
  "etcd $ETCD_VERSION etcd"
  "actionlint $ACTIONLINT_VERSION actionlint"
  "kubelet $KUBERNETES_VERSION kubelet kube-proxy"
)

missing=()
for entry in "${tools[@]}"; do
  read -r name version _ <<<"$entry"
  if is_built "$name" "$version"; then
    log "$name $version: cached"
  else
    missing+=("$name $version")
  fi
done

fail() { # name version step
  local logfile="$log_root/$1-$2.log"
  log "$1 $2: $3 failed; last lines of $logfile:"
  tail -n 30 "$logfile" >&2
  exit 1
}

if ((${#missing[@]} > 0)); then
  command -v go >/dev/null || { log "'go' is not on PATH: Go 1.26 or newer is needed to build the tools"; exit 1; }
  log "go $(go env GOVERSION), $(nproc) cpus; building ${#missing[@]} tool(s) into $tools_root"
  # Downloads are network-bound: resolve every missing tool at once.
  pids=()
  for entry in "${missing[@]}"; do
    read -r name version <<<"$entry"
    log "$name $version: resolving modules"
    ("prepare_$name" >"$log_root/$name-$version.log" 2>&1) &
    pids+=("$!")
  done
  for i in "${!missing[@]}"; do
    read -r name version <<<"${missing[$i]}"
    wait "${pids[$i]}" || fail "$name" "$version" "resolving modules"
  done
  # Compiling is CPU-bound: one tool at a time, each using every core.
  for entry in "${missing[@]}"; do
    read -r name version <<<"$entry"
    log "$name $version: compiling"
    t=$SECONDS
    ("build_$name" >>"$log_root/$name-$version.log" 2>&1) || fail "$name" "$version" "compiling"
    touch "$(tool_dir "$name" "$version")/.built"
    log "$name $version: built in $((SECONDS - t))s"
  done
fi

# One folder with every tool, named after the whole set of versions; remade when a tool
# in it was rebuilt (its .built is newer than the folder's .complete).
set_key=$(printf '%s\n' "${tools[@]}" | cksum | cut -d' ' -f1)
bin="$cache/test-tools/$platform-$set_key"
fresh=true
[[ -f "$bin/.complete" ]] || fresh=false
for entry in "${tools[@]}"; do
  read -r name version _ <<<"$entry"
  [[ "$(tool_dir "$name" "$version")/.built" -nt "$bin/.complete" ]] && fresh=false
done
if ! $fresh; then
  mkdir -p "$cache/test-tools"
  next=$(mktemp -d "$cache/test-tools/.next.XXXXXX")
  for entry in "${tools[@]}"; do
    read -r name version binaries <<<"$entry"
    for b in $binaries; do
      ln "$(tool_dir "$name" "$version")/$b" "$next/$b" 2>/dev/null || cp "$(tool_dir "$name" "$version")/$b" "$next/$b"
    done
  done
  touch "$next/.complete"
  chmod 755 "$next"
  rm -rf "$bin"
  mv "$next" "$bin"
fi
for entry in "${tools[@]}"; do
  read -r _ _ binaries <<<"$entry"
  for b in $binaries; do
    [[ -x "$bin/$b" ]] || { log "missing $bin/$b"; exit 1; }
  done
done
log "tools ready in $((SECONDS - started))s"
echo "$bin"
