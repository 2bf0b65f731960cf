#!/usr/bin/env bash
# Starts a Docker engine for tests: Debian's `dockerd` (package docker.io) as root with its own
# data root, exec root, pid file and socket under one state folder, the vfs storage driver and
# no iptables rules (bridge containers have no route out; `--network host` has the host's).
# Beside it a standalone `buildkitd` (Debian's runc) on a local socket, registered as the buildx
# builder `mp-buildkit` (driver `remote`), and a registry on 127.0.0.1 (plain HTTP) that both
# can pull from. The docker CLI gets the buildx plugin through its own DOCKER_CONFIG: nothing
# under ~/.docker is touched. No image can be pulled from outside, so the local base images of
# scripts/docker-bases.sh are loaded into the engine and pushed to that registry.
#
#   MP_DOCKER_DIR     state folder (default $MP_CACHE/docker-engine); one engine per folder
#   MP_REGISTRY_PORT  the registry's port on 127.0.0.1 (default 5765)
#   MP_DOCKER_BASES   set to 0 to skip loading the base images
#
# A running engine of that folder is reused. The last lines of stdout are
#   MP_REGISTRY=127.0.0.1:<port>
#   DOCKER_CONFIG=<path>
#   BUILDKIT_HOST=unix://<path>
#   DOCKER_HOST=unix://<path>
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=lib/docker.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/docker.sh"

# ---- what the engine is made of ----------------------------------------------
debian_packages=(docker.io busybox-static debootstrap)
missing_packages() {
  local p
  for p in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}
mapfile -t missing < <(missing_packages)
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    mp_log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -o DPkg::Lock::Timeout=600 >&2 || mp_die "apt-get update failed"
    # Recommends would bring iptables, git and more that the engine does not use.
    apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >&2 ||
      mp_die "apt-get install ${missing[*]} failed"
  else
    mp_die "missing Debian packages: ${missing[*]}; install them as root: apt-get install ${missing[*]}"
  fi
fi
[[ $(id -u) -eq 0 ]] || mp_die "dockerd runs as root here; run as root (uid 0)"
for b in dockerd containerd containerd-shim-runc-v2 runc docker; do
  command -v "$b" >/dev/null || mp_die "'$b' is not on PATH (Debian package docker.io, or a docker CLI for 'docker')"
done

tools=$(bash "$mp_root/scripts/docker-tools.sh" | tail -n 1)
[[ -x "$tools/cli-plugins/docker-buildx" && -x "$tools/bin/buildkitd" && -x "$tools/bin/registry" ]] ||
  mp_die "scripts/docker-tools.sh did not leave buildx, buildkitd and registry in '$tools'"

mkdir -p "$mp_docker_dir/run" "$mp_docker_config"
# The docker CLI of this engine: the cached buildx plugin, nothing else.
printf '{\n  "cliPluginsExtraDirs": ["%s"]\n}\n' "$tools/cli-plugins" >"$mp_docker_config/config.json"

# ---- dockerd -------------------------------------------------------------------
wait_for() { # seconds command...: until the command succeeds, at most that long
  local until=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < until)) || return 1
    sleep 0.5
  done
}
if mp_alive "$mp_docker_pidfile" dockerd && mp_docker version >/dev/null 2>&1; then
  mp_log "dockerd is running (pid $(cat "$mp_docker_pidfile")); reusing it"
else
  mp_log "starting dockerd $(dockerd --version | sed 's/^Docker version //') in $mp_docker_dir"
  # A bridge of its own (dockerd would share docker0 with any other engine and leave it behind),
  # on a /24 derived from the state folder; docker-down removes it.
  key=$(echo "$mp_docker_dir" | cksum | cut -d' ' -f1)
  bridge="mpd-$(printf '%08x' "$key")"
  if ! ip link show "$bridge" >/dev/null 2>&1; then
    ip link add name "$bridge" type bridge || mp_die "could not create the network bridge $bridge"
    ip addr add "172.30.$((key % 256)).1/24" dev "$bridge"
    ip link set "$bridge" up
  fi
  echo "$bridge" >"$mp_docker_dir/bridge"
  # Its own session, so that it outlives the shell that started it; stopped by pid in docker-down.
  setsid dockerd \
    --host "unix://$mp_docker_sock" \
    --data-root "$mp_docker_dir/data" \
    --exec-root "$mp_docker_dir/exec" \
    --pidfile "$mp_docker_pidfile" \
    --storage-driver=vfs \
    --iptables=false \
    --bridge="$bridge" \
    </dev/null >"$mp_docker_dir/dockerd.log" 2>&1 &
  if ! wait_for 60 mp_docker version; then
    tail -n 20 "$mp_docker_dir/dockerd.log" >&2
    mp_die "dockerd did not answer on $mp_docker_sock within 60s (log: $mp_docker_dir/dockerd.log)"
  fi
fi
mp_docker buildx version >/dev/null 2>&1 ||
  mp_die "the docker CLI does not find the buildx plugin in $tools/cli-plugins"

# ---- registry ---------------------------------------------------------------------
registry_up() { curl -fsS "http://$mp_registry/v2/" >/dev/null 2>&1; }
if mp_alive "$mp_registry_pidfile" registry; then
  mp_log "registry is running on $mp_registry (pid $(cat "$mp_registry_pidfile")); reusing it"
else
  registry_up && mp_die "something else answers on $mp_registry; set MP_REGISTRY_PORT to a free port"
  mkdir -p "$mp_docker_dir/registry"
  cat >"$mp_docker_dir/registry/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $mp_docker_dir/registry/data
  delete:
    enabled: true
http:
  addr: $mp_registry
YAML
  mp_log "starting registry on $mp_registry"
  OTEL_TRACES_EXPORTER=none setsid "$tools/bin/registry" serve "$mp_docker_dir/registry/config.yml" \
    </dev/null >"$mp_docker_dir/registry.log" 2>&1 &
  echo "$!" >"$mp_registry_pidfile"
  if ! wait_for 30 registry_up; then
    tail -n 20 "$mp_docker_dir/registry.log" >&2
    mp_die "the registry did not answer on $mp_registry within 30s (log: $mp_docker_dir/registry.log)"
  fi
fi

# ---- buildkitd -------------------------------------------------------------------
if mp_alive "$mp_buildkit_pidfile" buildkitd; then
  mp_log "buildkitd is running (pid $(cat "$mp_buildkit_pidfile")); reusing it"
else
  mp_log "starting buildkitd ($("$tools/bin/buildkitd" --version | awk '{print $3}'))"
  mkdir -p "$mp_docker_dir/buildkit"
  printf '[registry."%s"]\n  http = true\n  insecure = true\n' "$mp_registry" >"$mp_docker_dir/buildkitd.toml"
  # RUN steps share the host's network, as `--network host` builds on the engine do.
  setsid "$tools/bin/buildkitd" \
    --config "$mp_docker_dir/buildkitd.toml" \
    --addr "unix://$mp_buildkit_sock" \
    --root "$mp_docker_dir/buildkit" \
    --oci-worker=true --oci-worker-binary="$(command -v runc)" --oci-worker-net=host \
    --containerd-worker=false \
    </dev/null >"$mp_docker_dir/buildkitd.log" 2>&1 &
  echo "$!" >"$mp_buildkit_pidfile"
  if ! wait_for 60 "$tools/bin/buildctl" --addr "unix://$mp_buildkit_sock" debug workers; then
    tail -n 20 "$mp_docker_dir/buildkitd.log" >&2
    mp_die "buildkitd did not answer on $mp_buildkit_sock within 60s (log: $mp_docker_dir/buildkitd.log)"
  fi
fi
if ! mp_docker buildx inspect "$mp_buildkit_builder" >/dev/null 2>&1; then
  mp_docker buildx create --name "$mp_buildkit_builder" --driver remote "unix://$mp_buildkit_sock" >&2 ||
    mp_die "could not register buildkitd as the buildx builder '$mp_buildkit_builder'"
fi

# ---- local base images -------------------------------------------------------------
if [[ "${MP_DOCKER_BASES:-1}" != 0 ]]; then
  MP_DOCKER_DIR=$mp_docker_dir bash "$mp_root/scripts/docker-bases.sh" load >&2 || mp_die "loading the base images failed"
fi

{
  echo "MP_REGISTRY=$mp_registry"
  echo "DOCKER_CONFIG=$mp_docker_config"
  echo "BUILDKIT_HOST=unix://$mp_buildkit_sock"
  echo "DOCKER_HOST=unix://$mp_docker_sock"
} | tee "$mp_docker_dir/env"
