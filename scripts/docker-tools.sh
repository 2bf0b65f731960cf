#!/usr/bin/env bash
# Builds, or finds already built, what the docker CLI needs for BuildKit builds on the test
# engine, from source through the Go module proxy: the `buildx` CLI plugin, `buildkitd` and
# `buildctl` for a standalone BuildKit used as a buildx `remote` builder, and the `registry` of
# the distribution project, which serves the local base images to that BuildKit on loopback.
#
# Binaries are cached under ${MP_CACHE:-$HOME/.cache/minikube-preview}/go-tools, one folder per
# tool and version (scripts/tool-versions.env), so a warm run only checks that they exist.
# Progress goes to stderr; the last line of stdout is a folder holding
#   cli-plugins/docker-buildx   (list it in a docker config's `cliPluginsExtraDirs`)
#   bin/buildkitd, bin/buildctl, bin/registry
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tool-versions.env
source "$here/tool-versions.env"
go_cache=${MP_CACHE:-$HOME/.cache/minikube-preview}
mkdir -p "$go_cache/logs"
go_cache=$(cd "$go_cache" && pwd)
# shellcheck source=lib/go-build.sh
source "$here/lib/go-build.sh"

started=$SECONDS
log() { printf '[docker-tools %3ds] %s\n' "$((SECONDS - started))" "$*" >&2; }

# One build at a time per cache: a second run waits, then finds the tools built.
exec 9>"$go_cache/.docker-tools.lock"
flock 9

build_buildx() {
  go_prepare buildx "$BUILDX_VERSION" github.com/docker/buildx github.com/docker/buildx/cmd/buildx
  go_compile buildx "$BUILDX_VERSION" \
    "-X github.com/docker/buildx/version.Version=$BUILDX_VERSION -X github.com/docker/buildx/version.Package=github.com/docker/buildx" \
    github.com/docker/buildx/cmd/buildx
}
build_buildkit() {
  go_prepare buildkit "$BUILDKIT_VERSION" github.com/moby/buildkit \
    github.com/moby/buildkit/cmd/buildkitd github.com/moby/buildkit/cmd/buildctl
  go_compile buildkit "$BUILDKIT_VERSION" \
    "-X github.com/moby/buildkit/version.Version=$BUILDKIT_VERSION -X github.com/moby/buildkit/version.Package=github.com/moby/buildkit" \
    github.com/moby/buildkit/cmd/buildkitd github.com/moby/buildkit/cmd/buildctl
}
build_registry() {
  go_prepare registry "$REGISTRY_VERSION" github.com/distribution/distribution/v3 \
    github.com/distribution/distribution/v3/cmd/registry
  go_compile registry "$REGISTRY_VERSION" \
    "-X github.com/distribution/distribution/v3/version.version=$REGISTRY_VERSION" \
    github.com/distribution/distribution/v3/cmd/registry
}

for entry in "buildx $BUILDX_VERSION" "buildkit $BUILDKIT_VERSION" "registry $REGISTRY_VERSION"; do
  read -r name version <<<"$entry"
  if go_is_built "$name" "$version"; then
    log "$name $version: cached"
    continue
  fi
  command -v go >/dev/null || { log "error: 'go' is not on PATH: Go 1.26 or newer is needed to build $name"; exit 1; }
  logfile="$go_cache/logs/$name-$version.log"
  log "$name $version: building with go $(go env GOVERSION) (log: $logfile)"
  t=$SECONDS
  if ! ("build_$name" >"$logfile" 2>&1); then
    log "error: building $name $version failed; last lines of $logfile:"
    tail -n 30 "$logfile" >&2
    exit 1
  fi
  log "$name $version: built in $((SECONDS - t))s"
done

buildx_dir=$(go_tool_dir buildx "$BUILDX_VERSION")
buildkit_dir=$(go_tool_dir buildkit "$BUILDKIT_VERSION")
registry_dir=$(go_tool_dir registry "$REGISTRY_VERSION")
out="$go_cache/docker-tools/$(go_platform)-buildx-$BUILDX_VERSION-buildkit-$BUILDKIT_VERSION-registry-$REGISTRY_VERSION"
stale=false
for d in "$buildx_dir" "$buildkit_dir" "$registry_dir"; do
  [[ "$d/.built" -nt "$out/.complete" ]] && stale=true
done
if [[ ! -f "$out/.complete" ]] || $stale; then
  rm -rf "$out"
  mkdir -p "$out/cli-plugins" "$out/bin"
  # The docker CLI finds plugins by their `docker-` name.
  cp "$buildx_dir/buildx" "$out/cli-plugins/docker-buildx"
  cp "$buildkit_dir/buildkitd" "$buildkit_dir/buildctl" "$registry_dir/registry" "$out/bin/"
  touch "$out/.complete"
fi
for f in cli-plugins/docker-buildx bin/buildkitd bin/buildctl bin/registry; do
  [[ -x "$out/$f" ]] || { log "error: missing $out/$f"; exit 1; }
done
log "ready in $((SECONDS - started))s"
echo "$out"
