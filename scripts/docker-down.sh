#!/usr/bin/env bash
# Stops the test Docker engine of scripts/docker-up.sh (buildkitd, registry, dockerd, each by the pid
# it recorded), unmounts what they left mounted under the state folder, removes the network
# bridge the engine was given, and removes the state folder.
#
#   MP_DOCKER_DIR   state folder (default $MP_CACHE/docker-engine)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=lib/docker.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/docker.sh"

[[ -d "$mp_docker_dir" ]] || { mp_log "no engine in $mp_docker_dir"; exit 0; }

stop() { # pidfile comm seconds
  local pid until
  mp_alive "$1" "$2" || return 0
  pid=$(cat "$1")
  mp_log "stopping $2 (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || return 0
  until=$((SECONDS + $3))
  while [[ -d "/proc/$pid" ]] && ((SECONDS < until)); do sleep 0.5; done
  if [[ -d "/proc/$pid" ]]; then
    mp_log "$2 (pid $pid) still runs after $3s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    while [[ -d "/proc/$pid" ]]; do sleep 0.2; done
  fi
}
stop "$mp_buildkit_pidfile" buildkitd 20
stop "$mp_registry_pidfile" registry 20
# dockerd stops its containers (10 s each at most) and its own containerd before it exits.
stop "$mp_docker_pidfile" dockerd 60

# Container shims outlive a killed dockerd; theirs name this engine's containerd socket.
for proc in /proc/[0-9]*; do
  if { tr '\0' ' ' <"$proc/cmdline"; } 2>/dev/null | grep -qF -- "$mp_docker_dir/exec/"; then
    mp_log "stopping leftover $(cat "$proc/comm" 2>/dev/null) (pid ${proc#/proc/})"
    kill -KILL "${proc#/proc/}" 2>/dev/null || true
  fi
done

# Network namespaces and build mounts are bind mounts under the state folder.
while read -r target; do
  umount "$target" 2>/dev/null || umount -l "$target" || mp_log "could not unmount $target"
done < <(awk -v d="$mp_docker_dir/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r)

if [[ -s "$mp_docker_dir/bridge" ]]; then
  bridge=$(cat "$mp_docker_dir/bridge")
  if ip link show "$bridge" >/dev/null 2>&1; then
    ip link delete "$bridge" || mp_log "could not remove the bridge $bridge"
  fi
fi
rm -rf "$mp_docker_dir"
mp_log "removed $mp_docker_dir"
