#!/usr/bin/env bash
# Images for the real node of the test cluster (MP_REAL_NODES=1), which can pull nothing.
#
#   real-images.sh postgres           builds (or finds cached) an OCI archive of PostgreSQL from
#                                     Debian's postgresql package on a debootstrap minbase, run
#                                     as the chart runs the official image (uid 70, env
#                                     POSTGRES_USER/PASSWORD/DB, PGDATA); prints its path
#   real-images.sh import <tar>...    imports image archives (`docker save` or OCI) into the
#                                     node of $MP_CLUSTER_NAME (containerd's k8s.io namespace)
#
# Archives are cached under ${MP_CACHE:-$HOME/.cache/minikube-preview}/real-node-images, keyed
# by what they are made of. The last line of stdout is the result.
#   MP_DEBIAN_MIRROR  Debian mirror for debootstrap (default: the one apt uses here)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=lib/cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/cluster.sh"
# shellcheck source=lib/real-node.sh
source "$mp_root/scripts/lib/real-node.sh"
# shellcheck source=lib/debootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debootstrap.sh"

case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) arch=$(uname -m) ;;
esac

suite=bookworm
pg_major=15
# The image's name and recipe version: a change in the recipe below means a new archive.
postgres_image=minikube-preview.local/postgresql:$pg_major-debian
postgres_key=postgresql-$suite-$pg_major-v2



build_postgres() {
  local dir="$mp_cache/real-node-images/$postgres_key" rootfs
  if [[ -f "$dir/.built" ]]; then
    echo "$dir/postgresql.tar"
    return
  fi
  command -v debootstrap >/dev/null || mp_die "'debootstrap' is not on PATH (Debian package debootstrap)"
  command -v jq >/dev/null || mp_die "'jq' is not on PATH (Debian package jq)"
  rm -rf "$dir"
  mkdir -p "$dir"
  rootfs="$dir/rootfs"
  mp_log "debootstrap $suite with postgresql-$pg_major (a few minutes, once)"
  if ! debootstrap --variant=minbase --include="postgresql-$pg_major" "$suite" "$rootfs" "$(mp_debian_mirror)" >"$dir/debootstrap.log" 2>&1; then
    mp_unmount_under "$rootfs"
    tail -n 20 "$dir/debootstrap.log" >&2
    mp_die "debootstrap failed (log: $dir/debootstrap.log)"
  fi
  mp_unmount_under "$rootfs"
  # The package's own cluster, and what the server does not run: JIT (LLVM), Perl (the
  # postgresql-common wrappers; PATH points at the server's own binaries), docs and locales.
  rm -rf "$rootfs/etc/postgresql/$pg_major" "$rootfs/var/lib/postgresql/$pg_major" \
    "$rootfs/usr/lib/postgresql/$pg_major/lib/llvmjit"* "$rootfs/usr/lib/postgresql/$pg_major/lib/bitcode" \
    "$rootfs"/usr/lib/*-linux-gnu/libLLVM* "$rootfs"/usr/lib/*-linux-gnu/libz3.* \
    "$rootfs"/usr/lib/*-linux-gnu/perl* "$rootfs"/usr/lib/*-linux-gnu/libperl* "$rootfs"/usr/share/perl* \
    "$rootfs"/usr/share/{doc,man,info,locale,i18n} "$rootfs"/var/cache/debconf/* \
    "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* "$rootfs"/tmp/*
  # The official image's postgres user and group, by number: the chart runs it as 70:70.
  sed -i -E 's/^postgres:x:[0-9]+:[0-9]+:/postgres:x:70:70:/' "$rootfs/etc/passwd"
  sed -i -E 's/^postgres:x:[0-9]+:/postgres:x:70:/' "$rootfs/etc/group"
  install -m 0755 /dev/stdin "$rootfs/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
# What the official postgres image does with POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB and
# PGDATA: initialise an empty data folder, then run the server in the foreground.
set -eu
: "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}" "${PGDATA:=/var/lib/postgresql/data}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA"
  pwfile=$(mktemp)
  printf '%s\n' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is not set}" >"$pwfile"
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256
  rm -f "$pwfile"
  echo 'host all all all scram-sha-256' >>"$PGDATA/pg_hba.conf"
  if [ "$POSTGRES_DB" != postgres ]; then
    db=$(printf '%s' "$POSTGRES_DB" | sed 's/"/""/g')
    printf 'CREATE DATABASE "%s";\n' "$db" | postgres --single -j -D "$PGDATA" postgres >/dev/null
  fi
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql
EOF
  mp_oci_archive "$dir/postgresql.tar" "$postgres_image" "$rootfs" "$(jq -cn --arg p "/usr/lib/postgresql/$pg_major/bin" '{
    Entrypoint: ["/usr/local/bin/docker-entrypoint.sh"], User: "70:70",
    Env: ["PATH=\($p):/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "PGDATA=/var/lib/postgresql/data"],
    ExposedPorts: {"5432/tcp": {}}}')"
  rm -rf "$rootfs"
  touch "$dir/.built"
  echo "$dir/postgresql.tar"
}

import_images() {
  [[ -S "$mp_node_dir/containerd.sock" ]] ||
    mp_die "cluster '$mp_cluster_name' has no real node; start it with: MP_REAL_NODES=1 npm run cluster:up"
  local tar
  for tar in "$@"; do
    [[ -f "$tar" ]] || mp_die "no image archive at $tar"
    mp_node_ctr images import --all-platforms "$tar" >&2
  done
  echo imported
}

case "${1:-}" in
  postgres) build_postgres ;;
  postgres-name) echo "$postgres_image" ;;
  import)
    shift
    import_images "$@"
    ;;
  *) mp_die "usage: real-images.sh postgres | postgres-name | import <archive>..." ;;
esac
