# Building pinned Go commands from the Go module proxy into a cache keyed by version.
# Sourced by scripts/docker-tools.sh. The caller sets go_cache (the cache root) first.
# shellcheck shell=bash

# Never fetch another Go toolchain: build with the one installed.
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOWORK=off

go_platform() {
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) echo linux-amd64 ;;
    Linux-aarch64 | Linux-arm64) echo linux-arm64 ;;
    *) echo "$(go env GOOS)-$(go env GOARCH)" ;;
  esac
}

# The folder a tool at a version is built into; it is complete once it holds `.built`.
go_tool_dir() { echo "$go_cache/go-tools/$(go_platform)/$1-$2"; }
go_is_built() { [[ -f "$(go_tool_dir "$1" "$2")/.built" ]]; }

# Prints one field of `go list -m -json module@version` (module metadata only).
go_module_field() { # module@version field
  (cd "$go_cache/go-src" && go list -m -json "$1") | sed -n "s/^\t\"$2\": \"\\(.*\\)\",\{0,1\}$/\\1/p"
}

# Writes a module in go-src/<name>-<version> that requires <module>@<version> with that
# module's own `go` and `godebug` lines, resolves and downloads what <packages> need.
go_prepare() { # name version module packages...
  local name=$1 version=$2 module=$3 dir gomod pkg args=()
  shift 3
  dir="$go_cache/go-src/$name-$version"
  mkdir -p "$go_cache/go-src"
  gomod=$(go_module_field "$module@$version" GoMod)
  [[ -f "$gomod" ]] || { echo "cannot resolve $module@$version through the Go module proxy" >&2; return 1; }
  rm -rf "$dir"
  mkdir -p "$dir"
  {
    echo "module minikube-preview.local/tools/$name"
    echo
    grep -E '^(go|godebug) ' "$gomod"
    echo
    echo "require $module $version"
  } >"$dir/go.mod"
  for pkg in "$@"; do args+=("$pkg@$version"); done
  (cd "$dir" && go get "${args[@]}")
}

# Compiles <packages> into the tool's folder and marks it built.
go_compile() { # name version ldflags packages...
  local out name=$1 version=$2 ldflags=$3
  shift 3
  out=$(go_tool_dir "$name" "$version")
  rm -rf "$out"
  mkdir -p "$out"
  (cd "$go_cache/go-src/$name-$version" && go build -mod=mod -trimpath -ldflags "-s -w $ldflags" -o "$out/" "$@")
  touch "$out/.built"
}
