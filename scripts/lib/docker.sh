# Shared by scripts/docker-up.sh, docker-down.sh and docker-bases.sh: where the test Docker
# engine keeps its state, and the functions they share.
# shellcheck shell=bash

mp_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mp_cache=${MP_CACHE:-$HOME/.cache/minikube-preview}
# Everything of one engine (sockets, data, pid files, logs, docker config) lives under here and
# is removed by docker-down. Unix socket paths are limited to 107 bytes: keep it short.
mp_docker_dir=${MP_DOCKER_DIR:-$mp_cache/docker-engine}
# shellcheck disable=SC2034 # used by the scripts that source this file
{
  mp_docker_sock="$mp_docker_dir/run/docker.sock"
  mp_docker_pidfile="$mp_docker_dir/dockerd.pid"
  mp_buildkit_sock="$mp_docker_dir/run/buildkitd.sock"
  mp_buildkit_pidfile="$mp_docker_dir/buildkitd.pid"
  mp_docker_config="$mp_docker_dir/config"
  # The buildx builder that uses the standalone buildkitd (driver `remote`).
  mp_buildkit_builder=mp-buildkit
  # A registry on loopback, serving the local base images to buildkitd (which has no image
  # store of its own) and taking registry caches. Plain HTTP: loopback only.
  mp_registry_pidfile="$mp_docker_dir/registry.pid"
  mp_registry="127.0.0.1:${MP_REGISTRY_PORT:-5765}"
}

mp_log() { printf '[%s %3ds] %s\n' "$(basename "$0" .sh)" "$SECONDS" "$*" >&2; }
mp_die() { mp_log "error: $*"; exit 1; }

# True when the pid in <pidfile> is a live process running <command name>.
mp_alive() { # pidfile comm
  local pid
  [[ -s "$1" ]] || return 1
  pid=$(cat "$1")
  [[ "$pid" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$2" ]]
}

# The docker CLI pointed at this engine, with the engine's own config (buildx plugin, builders).
mp_docker() { DOCKER_HOST="unix://$mp_docker_sock" DOCKER_CONFIG="$mp_docker_config" docker "$@"; }
