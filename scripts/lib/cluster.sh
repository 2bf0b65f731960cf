# Shared by scripts/cluster-up.sh, cluster-down.sh and record-fixtures.sh.
# shellcheck shell=bash

mp_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mp_cache=${MP_CACHE:-$HOME/.cache/minikube-preview}
mp_cluster_name=${MP_CLUSTER_NAME:-mp-test}
# kwokctl keeps every cluster (config, pki, etcd data, logs, pids) under here.
export KWOK_WORKDIR="$mp_cache/kwok"
mp_cluster_dir="$KWOK_WORKDIR/clusters/$mp_cluster_name"
# shellcheck disable=SC2034 # used by the scripts that source this file
mp_kubeconfig="$mp_cluster_dir/kubeconfig.yaml"

mp_log() { printf '[%s %3ds] %s\n' "$(basename "$0" .sh)" "$SECONDS" "$*" >&2; }
mp_die() { mp_log "error: $*"; exit 1; }

# The folder of pinned tools: $MP_TOOLS if set, else whatever scripts/test-tools.sh builds or finds.
mp_tools() {
  if [[ -n "${MP_TOOLS:-}" ]]; then
    echo "$MP_TOOLS"
  else
    bash "$mp_root/scripts/test-tools.sh" | tail -n 1
  fi
}

mp_check_name() {
  [[ "$mp_cluster_name" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] ||
    mp_die "MP_CLUSTER_NAME must be lowercase letters, digits and '-', got '$mp_cluster_name'"
}

# Stops the cluster's processes and removes its files (kwokctl must be on PATH).
mp_delete_cluster() {
  # kwokctl removes the cluster's context from this kubeconfig; the clusters' own
  # kubeconfigs are never merged into another one, so point it at a file that does not exist.
  kwokctl delete cluster --name "$mp_cluster_name" --kubeconfig "$KWOK_WORKDIR/no-such-kubeconfig" >&2 ||
    mp_die "kwokctl could not delete cluster '$mp_cluster_name'; its files are in $mp_cluster_dir"
}
