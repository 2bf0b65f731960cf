#!/usr/bin/env bash
# Records what a real kubelet reports, for the health-verdict unit tests: on the real node of a
# running test cluster (MP_REAL_NODES=1 npm run cluster:up), installs test/real/charts/states with
# one failure turned on per namespace, waits until its pod shows the state, and writes
#   kubectl get deployments,replicasets,statefulsets,daemonsets,jobs,pods -n <ns> -o json
# (the objects of that one workload) to test/fixtures/kube/real-<state>.json.
#
#   bash scripts/record-real-fixtures.sh            every state
#   bash scripts/record-real-fixtures.sh oom-killed only the states named
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=lib/cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/cluster.sh"
# shellcheck source=lib/real-node.sh
source "$mp_root/scripts/lib/real-node.sh"

export KUBECONFIG=${KUBECONFIG:-$mp_kubeconfig}
[[ -f "$KUBECONFIG" ]] || mp_die "no kubeconfig at $KUBECONFIG; start a cluster: MP_REAL_NODES=1 npm run cluster:up"
kubectl_bin=$(mp_tools)
export PATH="$kubectl_bin:$PATH"
kubectl get node "$mp_node_name" >/dev/null 2>&1 ||
  mp_die "the cluster has no real node '$mp_node_name'; start it with MP_REAL_NODES=1 npm run cluster:up"

out="$mp_root/test/fixtures/kube"
chart="$mp_root/test/real/charts/states"
timeout_s=${MP_FIXTURE_TIMEOUT:-240}

# state: the chart value that turns it on, the workload, and a jq test on its pod's container.
declare -A value=([crash-loop-waiting]=crash [crash-loop-terminated]=crash [err-image-never-pull]=neverPull
  [create-container-config-error]=missingSecret [oom-killed]=oom [deployment-complete]=web)
declare -A workload=([crash-loop-waiting]=crash [crash-loop-terminated]=crash [err-image-never-pull]=never-pull
  [create-container-config-error]=missing-secret [oom-killed]=oom [deployment-complete]=web)
declare -A expect=(
  [crash-loop-waiting]='.state.waiting.reason == "CrashLoopBackOff" and .restartCount >= 2'
  [crash-loop-terminated]='.state.terminated.reason == "Error" and .restartCount >= 2'
  [err-image-never-pull]='.state.waiting.reason == "ErrImageNeverPull"'
  [create-container-config-error]='.state.waiting.reason == "CreateContainerConfigError"'
  [oom-killed]='.lastState.terminated.reason == "OOMKilled" and .restartCount >= 2 and (.state.running | not)'
  [deployment-complete]='.ready == true'
)
order=(deployment-complete crash-loop-waiting crash-loop-terminated err-image-never-pull
  create-container-config-error oom-killed)
states=("$@")
((${#states[@]} > 0)) || states=("${order[@]}")
for s in "${states[@]}"; do
  [[ -n "${expect[$s]:-}" ]] || mp_die "unknown state '$s' (known: ${order[*]})"
done

tolerations='[{"key":"'$mp_node_label'","operator":"Equal","value":"true","effect":"NoSchedule"}]'
for s in "${states[@]}"; do
  ns="real-fixture-$s"
  kubectl delete namespace "$ns" --ignore-not-found --wait=true >/dev/null
  kubectl create namespace "$ns" >/dev/null
  kubectl annotate namespace "$ns" >/dev/null \
    "scheduler.alpha.kubernetes.io/node-selector=$mp_node_label=true" \
    "scheduler.alpha.kubernetes.io/defaultTolerations=$tolerations"
  args=()
  [[ "${value[$s]}" == web ]] || args=(--set "${value[$s]}=true")
  helm upgrade --install states "$chart" -n "$ns" "${args[@]}" >/dev/null
  mp_log "$s: waiting for it on the real node"
  recorded=false
  for ((i = 0; i < timeout_s; i++)); do
    json=$(kubectl get deployments,replicasets,statefulsets,daemonsets,jobs,pods -n "$ns" -l "app.kubernetes.io/name=${workload[$s]}" -o json)
    if jq -e "[.items[] | select(.kind == \"Pod\")] | length == 1 and
        (.[0].status.containerStatuses // [] | length > 0 and all(.[]; ${expect[$s]}))" <<<"$json" >/dev/null; then
      jq . <<<"$json" >"$out/real-$s.json"
      recorded=true
      break
    fi
    sleep 1
  done
  $recorded || mp_die "$s: not reached in ${timeout_s}s"
  kubectl delete namespace "$ns" --wait=false >/dev/null
  mp_log "$s: recorded test/fixtures/kube/real-$s.json"
done
