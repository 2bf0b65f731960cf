#!/usr/bin/env bash
# Records real Kubernetes objects in known states, for the health-verdict unit tests.
#
# On a running test cluster (scripts/cluster-up.sh; KUBECONFIG, default: the cluster
# named $MP_CLUSTER_NAME), creates the workloads of test/cluster/manifests/fixtures/<state>.yaml,
# one namespace per state, waits until each reaches its state, and writes
#   kubectl get deployments,replicasets,statefulsets,daemonsets,jobs,pods -n <ns> -o json
# to test/fixtures/kube/<state>.json.
#
#   bash scripts/record-fixtures.sh               every state
#   bash scripts/record-fixtures.sh crash-loop    only the states named
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=lib/cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/cluster.sh"

export KUBECONFIG=${KUBECONFIG:-$mp_kubeconfig}
[[ -f "$KUBECONFIG" ]] || mp_die "no kubeconfig at $KUBECONFIG; start a cluster: npm run cluster:up"
tools=$(mp_tools)
export PATH="$tools:$PATH"
command -v node >/dev/null || mp_die "node is needed to check the recorded objects"

manifests="$mp_root/test/cluster/manifests/fixtures"
out="$mp_root/test/fixtures/kube"
mkdir -p "$out"
timeout_s=${MP_FIXTURE_TIMEOUT:-180}

# What each state means, as a JavaScript expression over the recorded list:
# `items` (all objects), `pods`, `kind(k)` (objects of a kind), `one(k)` (the only one),
# `cs(p)` (a pod's container statuses), `cond(o, type)` (a condition).
declare -A expect=(
  [deployment-complete]='(d => d.status.observedGeneration >= d.metadata.generation && d.status.updatedReplicas === d.spec.replicas && d.status.readyReplicas === d.spec.replicas && d.status.availableReplicas === d.spec.replicas && cond(d, "Progressing")?.reason === "NewReplicaSetAvailable" && pods.length === d.spec.replicas)(one("Deployment"))'
  [deployment-rollout-in-progress]='(d => kind("ReplicaSet").length === 2 && d.status.updatedReplicas >= 1 && (d.status.readyReplicas ?? 0) === d.spec.replicas && cond(d, "Progressing")?.reason === "ReplicaSetUpdated" && pods.some(p => cs(p).some(c => c.state.waiting?.reason === "ContainerCreating")))(one("Deployment"))'
  [crash-loop]='pods.length === 1 && cs(pods[0]).every(c => c.state.waiting?.reason === "CrashLoopBackOff" && c.restartCount >= 2 && c.lastState.terminated?.exitCode === 1 && c.lastState.terminated?.reason === "Error")'
  [image-pull-backoff]='pods.length === 1 && cs(pods[0]).every(c => c.state.waiting?.reason === "ImagePullBackOff")'
  [err-image-pull]='pods.length === 1 && cs(pods[0]).every(c => c.state.waiting?.reason === "ErrImagePull")'
  [err-image-never-pull]='pods.length === 1 && cs(pods[0]).every(c => c.state.waiting?.reason === "ErrImageNeverPull")'
  [create-container-config-error]='pods.length === 1 && cs(pods[0]).every(c => c.state.waiting?.reason === "CreateContainerConfigError")'
  [oom-killed]='pods.length === 1 && cs(pods[0]).every(c => c.state.waiting?.reason === "CrashLoopBackOff" && c.restartCount >= 2 && c.lastState.terminated?.reason === "OOMKilled" && c.lastState.terminated?.exitCode === 137)'
  [unschedulable]='pods.length === 1 && pods[0].status.phase === "Pending" && cond(pods[0], "PodScheduled")?.reason === "Unschedulable"'
  [job-failed]='cond(one("Job"), "Failed")?.status === "True" && pods.length >= 2 && pods.every(p => p.status.phase === "Failed")'
  [job-succeeded]='cond(one("Job"), "Complete")?.status === "True" && pods.every(p => p.status.phase === "Succeeded")'
  [statefulset-ready]='(s => s.status.observedGeneration >= s.metadata.generation && s.status.readyReplicas === s.spec.replicas && s.status.availableReplicas === s.spec.replicas && s.status.currentRevision === s.status.updateRevision)(one("StatefulSet"))'
  [daemonset-ready]='(d => d.status.observedGeneration >= d.metadata.generation && d.status.desiredNumberScheduled >= 1 && d.status.numberReady === d.status.desiredNumberScheduled && d.status.numberAvailable === d.status.desiredNumberScheduled)(one("DaemonSet"))'
  [pod-ready]='pods.length === 1 && pods[0].status.phase === "Running" && cond(pods[0], "Ready")?.status === "True"'
  [pod-failed]='pods.length === 1 && pods[0].status.phase === "Failed" && cs(pods[0]).every(c => c.state.terminated?.exitCode === 2)'
  [pod-evicted]='pods.length === 1 && pods[0].status.phase === "Failed" && pods[0].status.reason === "Evicted"'
)
order=(deployment-complete deployment-rollout-in-progress crash-loop image-pull-backoff err-image-pull
  err-image-never-pull create-container-config-error oom-killed unschedulable job-failed job-succeeded
  statefulset-ready daemonset-ready pod-ready pod-failed pod-evicted)

states=("$@")
((${#states[@]} > 0)) || states=("${order[@]}")
for s in "${states[@]}"; do
  [[ -n "${expect[$s]:-}" ]] || mp_die "unknown state '$s' (known: ${order[*]})"
done

ns_of() { echo "fixture-$1"; }
record() { kubectl get deployments,replicasets,statefulsets,daemonsets,jobs,pods -n "$1" -o json; }
# Reads a list from stdin; exits 0 when the expression holds.
holds() {
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -e '
    const list = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const items = list.items;
    const kind = k => items.filter(o => o.kind === k);
    const one = k => { const all = kind(k); if (all.length !== 1) throw new Error(`${all.length} ${k}`); return all[0]; };
    const pods = kind("Pod");
    const cs = p => p.status.containerStatuses ?? [];
    const cond = (o, t) => (o.status.conditions ?? []).find(c => c.type === t);
    let ok = false;
    try { ok = Boolean(eval(process.argv[1])); } catch { ok = false; }
    process.exit(ok ? 0 : 1);
  ' "$1"
}

# Waits until the recorded objects of a state satisfy its expression; keeps that recording.
wait_for() { # what namespace expression file
  local deadline=$((SECONDS + timeout_s)) json=""
  while ((SECONDS < deadline)); do
    json=$(record "$2")
    if holds "$3" <<<"$json"; then
      printf '%s\n' "$json" >"$4"
      return 0
    fi
    sleep 0.5
  done
  mp_log "state '$1' not reached within ${timeout_s}s; last recording:"
  printf '%s\n' "$json" >&2
  return 1
}

for s in "${states[@]}"; do
  ns=$(ns_of "$s")
  kubectl delete namespace "$ns" --ignore-not-found --wait >&2
  kubectl create namespace "$ns" >&2
  for ((i = 0; i < 60; i++)); do kubectl get serviceaccount default -n "$ns" >/dev/null 2>&1 && break; sleep 0.5; done
  if [[ "$s" == deployment-rollout-in-progress ]]; then
    # A rollout in progress starts from a complete one.
    kubectl apply -n "$ns" -f "$manifests/deployment-complete.yaml" >&2
    wait_for "$s (first revision)" "$ns" "${expect[deployment-complete]}" /dev/null
  fi
  kubectl apply -n "$ns" -f "$manifests/$s.yaml" >&2
  mp_log "$s: applied"
done

failed=0
for s in "${states[@]}"; do
  if wait_for "$s" "$(ns_of "$s")" "${expect[$s]}" "$out/$s.json"; then
    mp_log "$s: recorded test/fixtures/kube/$s.json"
  else
    failed=1
  fi
done

if [[ -z "${MP_KEEP_FIXTURE_NAMESPACES:-}" ]]; then
  for s in "${states[@]}"; do kubectl delete namespace "$(ns_of "$s")" --wait=false >&2; done
fi
exit "$failed"
