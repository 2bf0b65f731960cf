#!/usr/bin/env bash
# Base images for builds on the test Docker engine, which can pull nothing: each is made from
# Debian's packages on this machine, cached as a root filesystem tarball under
# ${MP_CACHE:-$HOME/.cache/minikube-preview}/docker-bases keyed by what it is made of,
# `docker import`ed into the engine of scripts/docker-up.sh and pushed to its loopback registry
# (<registry> below, 127.0.0.1:5765 by default), where buildkitd finds them too.
#
#   <registry>/mp-local/busybox:<version>   FROM scratch + Debian's busybox-static: a shell
#   <registry>/mp-local/python:3.13-trixie  Debian 13 (debootstrap minbase) with python3 (3.13),
#                                           venv and pip; stands in for python:3.13-slim
#   <registry>/mp-local/node:24-trixie      Debian 13 (debootstrap minbase) with Node 24 and npm
#                                           from the npm registry, user `node` (1000:1000);
#                                           stands in for node:24-alpine
#
#   docker-bases.sh build   makes the tarballs that are missing (no engine needed)
#   docker-bases.sh load    also imports and pushes every base the engine does not have yet
#   docker-bases.sh names   prints `<NAME>_IMAGE=<image>` for each base (BUSYBOX_IMAGE, ...)
#
#   MP_DEBIAN_MIRROR  Debian mirror for debootstrap (default: the one apt uses here)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=lib/docker.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/docker.sh"
# shellcheck source=lib/debootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debootstrap.sh"

mode=${1:-load}
bases_dir="$mp_cache/docker-bases"
suite=trixie
busybox_version=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null | sed -E 's/^[0-9]+://; s/[^A-Za-z0-9._-].*$//') || true
[[ -n "$busybox_version" ]] || busybox_version=unknown
node_version=$(node -e 'import("'"$mp_root"'/scripts/node24.mjs").then((m) => console.log(m.NODE24_VERSION))')
# npm from the npm registry: the major version Node 24 ships with.
npm_version=11.6.0

# Where this machine reaches the package registries through a TLS proxy, its own CA bundle is
# what makes them trusted: the Debian bases get the host's bundle (and the variables pip and Node
# read), so `RUN pip install` / `npm ci` with `--network host` work as they do on the host.
ca_bundle=/etc/ssl/certs/ca-certificates.crt
ca_key=none
[[ -f "$ca_bundle" ]] && ca_key=$(sha256sum "$ca_bundle" | cut -c1-12)

# name image recipe-key
bases=(
  "busybox $mp_registry/mp-local/busybox:$busybox_version busybox-$busybox_version"
  "python $mp_registry/mp-local/python:3.13-$suite python-$suite-python3-venv-ca-$ca_key-v1"
  "node $mp_registry/mp-local/node:24-$suite node-$suite-$node_version-npm-$npm_version-ca-$ca_key-v1"
)

if [[ "$mode" == names ]]; then
  for entry in "${bases[@]}"; do
    read -r name image _ <<<"$entry"
    echo "${name^^}_IMAGE=$image"
  done
  exit 0
fi


# Debian's debootstrap into <dir>, then what a base image does not need.
debootstrap_into() { # dir include
  local dir=$1 include=$2 args=(--variant=minbase)
  [[ -n "$include" ]] && args+=("--include=$include")
  command -v debootstrap >/dev/null || mp_die "'debootstrap' is not on PATH (Debian package debootstrap)"
  # debootstrap mounts /proc and /sys inside the target while it runs; unmount them on any exit.
  if ! debootstrap "${args[@]}" "$suite" "$dir" "$(mp_debian_mirror)" >"$dir.log" 2>&1; then
    tail -n 20 "$dir.log" >&2
    mp_unmount_under "$dir"
    mp_die "debootstrap $suite failed (log: $dir.log)"
  fi
  mp_unmount_under "$dir"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/var/log/* "$dir"/tmp/*
}

make_busybox() { # dir
  local dir=$1 applet
  command -v busybox >/dev/null || mp_die "'busybox' is not on PATH (Debian package busybox-static)"
  ldd "$(command -v busybox)" >/dev/null 2>&1 &&
    mp_die "$(command -v busybox) is linked dynamically; the base needs Debian's busybox-static"
  mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/root"
  chmod 1777 "$dir/tmp"
  cp "$(command -v busybox)" "$dir/bin/busybox"
  for applet in $("$dir/bin/busybox" --list); do
    [[ "$applet" == busybox ]] || ln -s busybox "$dir/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$dir/etc/group"
}
host_cas() { # dir
  [[ -f "$ca_bundle" ]] || return 0
  install -D -m 0644 "$ca_bundle" "$1$ca_bundle"
}
make_python() {
  debootstrap_into "$1" python3,python3-venv,python-is-python3
  host_cas "$1"
}
make_node() { # dir
  local dir=$1 node npm_tgz
  debootstrap_into "$dir" ""
  node=$(node "$mp_root/scripts/node24.mjs")
  install -D -m 0755 "$node" "$dir/usr/local/bin/node"
  npm_tgz=$(cd "$dir.work" && npm pack --silent "npm@$npm_version" | tail -n 1)
  mkdir -p "$dir/usr/local/lib/node_modules/npm"
  tar -xzf "$dir.work/$npm_tgz" -C "$dir/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
  # The `node` user of the official image, by the same number.
  echo 'node:x:1000:1000::/home/node:/bin/sh' >>"$dir/etc/passwd"
  echo 'node:x:1000:' >>"$dir/etc/group"
  install -d -o 1000 -g 1000 "$dir/home/node"
  host_cas "$dir"
}

# What `docker import` records as the image config.
changes() { # name
  case $1 in
    busybox) printf '%s\n' 'ENV PATH=/bin' 'CMD ["sh"]' ;;
    python) printf '%s\n' 'ENV LANG=C.UTF-8' "ENV PIP_CERT=$ca_bundle" 'CMD ["python3"]' ;;
    node) printf '%s\n' 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin' \
      "ENV NODE_EXTRA_CA_CERTS=$ca_bundle" 'CMD ["node"]' ;;
  esac
}

mkdir -p "$bases_dir"
exec 8>"$bases_dir/.lock"
flock 8
for entry in "${bases[@]}"; do
  read -r name image key <<<"$entry"
  tarball="$bases_dir/$key.tar"
  if [[ ! -f "$tarball" ]]; then
    mp_log "making base $image (cached as $tarball)"
    root="$bases_dir/.$key"
    rm -rf "$root" "$root.work"
    mkdir -p "$root" "$root.work"
    "make_$name" "$root"
    tar --numeric-owner -C "$root" -cf "$tarball.part" .
    mv "$tarball.part" "$tarball"
    rm -rf "$root" "$root.work" "$root.log"
  fi
  if [[ "$mode" == load ]]; then
    # The label names the tarball an image was imported from: another tarball, another import.
    if [[ "$(mp_docker image inspect --format '{{index .Config.Labels "minikube-preview.base"}}' "$image" 2>/dev/null)" == "$key" ]]; then
      mp_log "base $image: in the engine"
    else
      args=(--change "LABEL minikube-preview.base=$key")
      while read -r c; do args+=(--change "$c"); done < <(changes "$name")
      mp_docker import "${args[@]}" "$tarball" "$image" >/dev/null || mp_die "docker import of $tarball failed"
      mp_log "base $image: imported"
    fi
    mp_docker push --quiet "$image" >/dev/null || mp_die "docker push $image to the loopback registry failed"
    mp_log "base $image: in the registry"
  fi
done
