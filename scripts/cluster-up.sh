#!/usr/bin/env bash
# Starts a Kubernetes control plane for tests: etcd, kube-apiserver, kube-controller-manager
# and kube-scheduler run as local processes (kwokctl's binary runtime, bound to 127.0.0.1 on
# free ports), and kwok plays the kubelet of simulated nodes, driven by test/cluster/stages.
# Nothing is downloaded: every binary comes from scripts/test-tools.sh (or $MP_TOOLS).
#
#   MP_CLUSTER_NAME  cluster name (default mp-test); one cluster per name
#   MP_NODES         number of nodes (default 1)
#   MP_REAL_NODES    1: also one real node, a kubelet running real containers (containerd,
#                    runc, CNI bridge), named mp-real-1, labelled and tainted
#                    minikube-preview.test/real-node=true (see scripts/lib/real-node.sh)
#
# A running cluster of that name, created from the same stages and versions, is reused.
# The last line of stdout is KUBECONFIG=<path>.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=lib/cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/cluster.sh"
# shellcheck source=tool-versions.env
source "$mp_root/scripts/tool-versions.env"
# shellcheck source=lib/real-node.sh
source "$mp_root/scripts/lib/real-node.sh"

mp_check_name
nodes=${MP_NODES:-1}
[[ "$nodes" =~ ^[1-9][0-9]*$ ]] || mp_die "MP_NODES must be a whole number of at least 1, got '$nodes'"
real=${MP_REAL_NODES:-0}
[[ "$real" == 0 || "$real" == 1 ]] || mp_die "MP_REAL_NODES must be 0 or 1, got '$real'"

tools=$(mp_tools)
for b in kwokctl kwok kubectl etcd kube-apiserver kube-controller-manager kube-scheduler; do
  [[ -x "$tools/$b" ]] || mp_die "$tools/$b is missing; run: npm run test-tools"
done
export PATH="$tools:$PATH"

case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) arch=$(uname -m) ;;
esac
if [[ "$real" == 1 ]]; then mp_node_check; fi

# Everything the cluster is made from; a change in any of it means a new cluster.
work="$mp_cache/kwok/config/$mp_cluster_name"
mkdir -p "$work"
config="$work/kwokctl.yaml"
{
  cat <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  kubeVersion: $KUBERNETES_VERSION
  bindAddress: 127.0.0.1
  quietPull: true
  etcdBinary: $tools/etcd
  kubeApiserverBinary: $tools/kube-apiserver
  kubeControllerManagerBinary: $tools/kube-controller-manager
  kubeSchedulerBinary: $tools/kube-scheduler
  kubectlBinary: $tools/kubectl
  kwokControllerBinary: $tools/kwok
  # Logs and port-forwards are declared per test, as objects in the cluster.
  enableCRDs: [Logs, ClusterLogs, PortForward, ClusterPortForward]
componentsPatches:
- name: kube-apiserver
  extraArgs:
  # Nodes' InternalIP is 127.0.0.1, where kwok serves logs and port-forward for them.
  - key: kubelet-preferred-address-types
    value: InternalIP
EOF
  if [[ "$real" == 1 ]]; then
    cat <<EOF
  # The real node's kubelet accepts clients with certificates of the cluster's CA.
  - key: kubelet-client-certificate
    value: $mp_cluster_dir/pki/admin.crt
  - key: kubelet-client-key
    value: $mp_cluster_dir/pki/admin.key
  # A namespace annotated with a node selector and default tolerations sends all its pods
  # (helm test pods too) to the real node, the chart unchanged.
  - key: enable-admission-plugins
    value: PodNodeSelector,PodTolerationRestriction
EOF
  fi
  cat <<EOF
# kwok plays the kubelet of the simulated nodes only (they carry this annotation).
- name: kwok-controller
  extraArgs:
  - key: manage-all-nodes
    value: "false"
  - key: manage-nodes-with-annotation-selector
    value: kwok.x-k8s.io/node=fake
EOF
  for stage in "$mp_root"/test/cluster/stages/*.yaml; do
    echo "---"
    cat "$stage"
  done
} >"$config"

node_manifest="$work/nodes.yaml"
for ((i = 1; i <= nodes; i++)); do
  if ((i == 1)); then name=minikube primary=true; else name=$(printf 'minikube-m%02d' "$i") primary=false; fi
  echo "---"
  sed -e "s/@NAME@/$name/g" -e "s/@ARCH@/$arch/g" -e "s/@PRIMARY@/$primary/g" \
    -e "s/@KUBE_VERSION@/$KUBERNETES_VERSION/g" -e "s/@KWOK_VERSION@/$KWOK_VERSION/g" -e "s/@KERNEL@/$(uname -r)/g" \
    "$mp_root/test/cluster/manifests/node.yaml"
done >"$node_manifest"

fingerprint=$( (cat "$config" "$node_manifest" "$mp_root/scripts/lib/real-node.sh" && echo "real=$real") | cksum | cut -d' ' -f1)

ready() {
  kubectl --kubeconfig "$mp_kubeconfig" get --raw /readyz >/dev/null 2>&1
}

real_ready() {
  [[ "$real" == 0 ]] && return 0
  local d
  for d in containerd kubelet kube-proxy cluster-dns api-relay; do mp_node_alive "$d" || return 1; done
}

if [[ -f "$mp_cluster_dir/.mp-fingerprint" && "$(cat "$mp_cluster_dir/.mp-fingerprint")" == "$fingerprint" ]] && ready && real_ready; then
  mp_log "cluster '$mp_cluster_name' is already running"
else
  mp_node_down
  if [[ -d "$mp_cluster_dir" ]]; then
    mp_log "removing the previous cluster '$mp_cluster_name'"
    mp_delete_cluster
  fi
  mp_log "creating cluster '$mp_cluster_name' (Kubernetes $KUBERNETES_VERSION, kwok $KWOK_VERSION)"
  kwokctl create cluster --name "$mp_cluster_name" --config "$config" --kubeconfig "" --wait 2m >&2
  mp_log "adding $nodes node(s)"
  kubectl --kubeconfig "$mp_kubeconfig" apply -f "$node_manifest" >&2
  if [[ "$real" == 1 ]]; then mp_node_up; fi
  echo "$fingerprint" >"$mp_cluster_dir/.mp-fingerprint"
fi

export KUBECONFIG="$mp_kubeconfig"
kubectl wait --for=condition=Ready node --all --timeout=60s >&2
# Pods cannot be created in a namespace until its default ServiceAccount exists.
for ((i = 0; i < 120; i++)); do
  kubectl get serviceaccount default -n default >/dev/null 2>&1 && break
  sleep 0.5
done
kubectl get serviceaccount default -n default >/dev/null
mp_log "cluster '$mp_cluster_name' is ready"
echo "KUBECONFIG=$mp_kubeconfig"
