#!/usr/bin/env bash
# Stops and removes the test cluster named $MP_CLUSTER_NAME (default mp-test).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=lib/cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/cluster.sh"
# shellcheck source=lib/real-node.sh
source "$mp_root/scripts/lib/real-node.sh"

mp_check_name
# The real node first: its kubelet stops before the API server goes.
if [[ -d "$mp_node_dir" ]]; then
  mp_node_down
  mp_log "real node of '$mp_cluster_name' stopped and removed"
fi
if [[ ! -d "$mp_cluster_dir" ]]; then
  mp_log "no cluster '$mp_cluster_name'"
  exit 0
fi
tools=$(mp_tools)
PATH="$tools:$PATH" mp_delete_cluster
rm -rf "$mp_cluster_dir" "$mp_cache/kwok/config/$mp_cluster_name"
mp_log "cluster '$mp_cluster_name' removed"
