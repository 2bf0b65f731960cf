# The real node of the test cluster (MP_REAL_NODES=1): a kubelet, containerd with runc, CNI
# bridge networking, kube-proxy (nftables) and a cluster DNS, all in a network namespace of the
# cluster's own, joined to the host by a veth pair. The node's InternalIP is its end of the pair,
# so the API server reaches its kubelet for logs, exec and port-forward; the kubelet reaches the
# loopback-bound API server through a relay on the host's end.
#
# Every process is started here with its pid in a file, and stopped by that pid; every mount is
# under the node's folder, every cgroup under its cgroup root, every interface in its namespace
# (the host's end of the pair goes with it).
# Sourced by cluster-up.sh and cluster-down.sh after lib/cluster.sh.
# shellcheck shell=bash

mp_node_name=mp-real-1
# Pods of a test choose the node by this label and tolerate its taint.
mp_node_label=minikube-preview.test/real-node
mp_node_dir="$mp_cache/real-node/$mp_cluster_name"
mp_node_netns="mp-$mp_cluster_name"
# One /30 per cluster name, on the host's side: 10.243.<n>.1 (host) and .2 (node).
mp_node_subnet=$((20 + $(echo -n "$mp_cluster_name" | cksum | cut -d' ' -f1) % 200))
mp_node_host_ip="10.243.$mp_node_subnet.1"
mp_node_ip="10.243.$mp_node_subnet.2"
mp_node_veth="mpn$(echo -n "$mp_cluster_name" | cksum | cut -d' ' -f1 | cut -c1-8)"
mp_node_pod_cidr=10.244.0.0/24
mp_node_cgroup="mp-$mp_cluster_name"
mp_node_cni_bin=${MP_CNI_BIN:-/usr/lib/cni}
# The sandbox image, built here from Debian's busybox-static.
mp_node_pause_image=minikube-preview.local/pause:busybox
# A busybox image for test pods (e.g. the chart's `helm test` pod), same source.
mp_node_busybox_image=minikube-preview.local/busybox:static

mp_node_ns() { nsenter --net="/run/netns/$mp_node_netns" -- "$@"; }
mp_node_ctr() { ctr --address "$mp_node_dir/containerd.sock" -n k8s.io "$@"; }

# Everything the node needs from the host, checked before anything starts.
mp_node_check() {
  local missing=() cmd pkg
  [[ $(id -u) == 0 ]] || mp_die "MP_REAL_NODES=1 needs root (network namespaces, mounts, cgroups)"
  for cmd in containerd:containerd containerd-shim-runc-v2:containerd ctr:containerd runc:runc \
    nsenter:util-linux ip:iproute2 nft:nftables jq:jq node:nodejs dash:dash wget:wget; do
    command -v "${cmd%%:*}" >/dev/null || missing+=("${cmd%%:*} (Debian package ${cmd#*:})")
  done
  for pkg in bridge host-local loopback; do
    [[ -x "$mp_node_cni_bin/$pkg" ]] ||
      missing+=("the CNI plugin $mp_node_cni_bin/$pkg (Debian package containernetworking-plugins, or set MP_CNI_BIN)")
  done
  if [[ ! -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then
    missing+=("a static /bin/busybox for the node's sandbox image (Debian package busybox-static)")
  fi
  for cmd in kubelet kube-proxy; do
    [[ -x "$tools/$cmd" ]] || missing+=("$tools/$cmd (run: npm run test-tools)")
  done
  for pkg in cpu memory pids; do
    [[ -d "/sys/fs/cgroup/$pkg" || -f /sys/fs/cgroup/cgroup.controllers ]] ||
      missing+=("the '$pkg' cgroup controller mounted under /sys/fs/cgroup")
  done
  if ((${#missing[@]} > 0)); then
    mp_log "error: the real node (MP_REAL_NODES=1) needs:"
    printf '  - %s\n' "${missing[@]}" >&2
    mp_log "on Debian: apt-get install containerd runc containernetworking-plugins busybox-static nftables jq dash wget"
    exit 1
  fi
}

# Writes an OCI image archive of a folder as its one layer, named for `ctr images import`.
mp_oci_archive() { # out name rootfs-dir config-json
  local out=$1 name=$2 rootfs=$3 config=$4 tmp layer diff cfg mf size
  tmp=$(mktemp -d)
  mkdir -p "$tmp/blobs/sha256"
  tar --sort=name --mtime=@0 --numeric-owner -C "$rootfs" -cf "$tmp/layer.tar" .
  diff=$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
  size=$(stat -c %s "$tmp/layer.tar")
  mv "$tmp/layer.tar" "$tmp/blobs/sha256/$diff"
  layer=$diff
  jq -cn --argjson c "$config" --arg d "sha256:$diff" --arg arch "$arch" \
    '{architecture: $arch, os: "linux", config: $c, rootfs: {type: "layers", diff_ids: [$d]}}' >"$tmp/config.json"
  cfg=$(sha256sum "$tmp/config.json" | cut -d' ' -f1)
  jq -cn --arg c "sha256:$cfg" --argjson cs "$(stat -c %s "$tmp/config.json")" \
    --arg l "sha256:$layer" --argjson ls "$size" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
      layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' >"$tmp/manifest.json"
  mv "$tmp/config.json" "$tmp/blobs/sha256/$cfg"
  mf=$(sha256sum "$tmp/manifest.json" | cut -d' ' -f1)
  jq -cn --arg m "sha256:$mf" --argjson ms "$(stat -c %s "$tmp/manifest.json")" --arg n "$name" --arg arch "$arch" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
        platform: {architecture: $arch, os: "linux"},
        annotations: {"io.containerd.image.name": $n, "org.opencontainers.image.ref.name": $n}}]}' >"$tmp/index.json"
  mv "$tmp/manifest.json" "$tmp/blobs/sha256/$mf"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$tmp/oci-layout"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$tmp" -cf "$out.tmp" oci-layout index.json blobs
  mv "$out.tmp" "$out"
  rm -rf "$tmp"
}

# The node's own images (sandbox and busybox), from Debian's busybox-static, dash and wget,
# cached by what they are made of.
mp_node_images() {
  local version dir rootfs applet
  version=$(cat /bin/busybox "$(command -v dash)" "$(command -v wget)" | sha256sum | cut -c1-16)
  dir="$mp_cache/real-node-images/busybox-$version-v3"
  if [[ ! -f "$dir/.built" ]]; then
    mp_log "building the node's pause and busybox images"
    rm -rf "$dir"
    mkdir -p "$dir"
    rootfs=$(mktemp -d)
    mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc"
    cp /bin/busybox "$rootfs/bin/busybox"
    for applet in $(/bin/busybox --list); do
      [[ "$applet" == busybox ]] || ln -s busybox "$rootfs/bin/$applet"
    done
    echo 'nobody:x:65534:65534:nobody:/:/bin/false' >"$rootfs/etc/passwd"
    echo 'nogroup:x:65534:' >"$rootfs/etc/group"
    chmod 1777 "$rootfs/tmp"
    # The sandbox process: holds the pod's namespaces until it is told to stop.
    mp_oci_archive "$dir/pause.tar" "$mp_node_pause_image" "$rootfs" \
      '{"Entrypoint":["/bin/sh","-c","trap \"exit 0\" TERM INT; while :; do sleep 3600 & wait $!; done"],"User":"65534:65534"}'
    # Debian's busybox-static 1.35 crashes on `wget -T <seconds>` (SIGSEGV), and its sh runs its
    # own applets first: test pods get Debian's dash as sh and GNU wget, with their libraries.
    rm "$rootfs/bin/sh" "$rootfs/bin/wget"
    mp_copy_with_libs "$rootfs" "$(command -v dash)" "$(command -v wget)"
    ln -s "$(command -v dash)" "$rootfs/bin/sh"
    mp_oci_archive "$dir/busybox.tar" "$mp_node_busybox_image" "$rootfs" \
      '{"Cmd":["sh"],"Env":["PATH=/usr/bin:/bin"]}'
    rm -rf "$rootfs"
    touch "$dir/.built"
  fi
  echo "$dir"
}

# Copies programs into a root filesystem at their own paths, with the libraries they load.
mp_copy_with_libs() { # rootfs program...
  local rootfs=$1 f
  shift
  for f in "$@" $(ldd "$@" | grep -oE '/[^ ]+\.so[^ ]*' | sort -u); do
    mkdir -p "$rootfs$(dirname "$f")"
    cp -L "$f" "$rootfs$f"
  done
}

# Starts a daemon (argv after --) in the node's network namespace, its pid in <name>.pid.
mp_node_daemon() { # name [--host] -- command...
  local name=$1 host=false
  shift
  [[ "$1" == --host ]] && { host=true; shift; }
  [[ "$1" == -- ]] && shift
  if $host; then
    setsid "$@" >"$mp_node_dir/logs/$name.log" 2>&1 </dev/null &
  else
    setsid nsenter --net="/run/netns/$mp_node_netns" -- "$@" >"$mp_node_dir/logs/$name.log" 2>&1 </dev/null &
  fi
  echo "$!" >"$mp_node_dir/$name.pid"
}

mp_node_alive() { # name
  local pid
  pid=$(cat "$mp_node_dir/$1.pid" 2>/dev/null) && [[ -n "$pid" ]] && mp_pid_running "$pid"
}

mp_node_wait() { # what seconds command...: polls until the command succeeds
  local what=$1 seconds=$2 i
  shift 2
  for ((i = 0; i < seconds * 4; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  return 1
}

mp_node_fail() { # name message: the daemon's last log lines, then exit
  mp_log "error: $2; last lines of $mp_node_dir/logs/$1.log:"
  tail -n 25 "$mp_node_dir/logs/$1.log" >&2 || true
  exit 1
}

# The API server's port, from the cluster's kubeconfig.
mp_api_port() { sed -n 's#^ *server: https://127.0.0.1:\([0-9]*\).*#\1#p' "$mp_kubeconfig" | head -n 1; }

mp_node_up() {
  local port pki
  port=$(mp_api_port)
  [[ -n "$port" ]] || mp_die "no API server address in $mp_kubeconfig"
  pki="$mp_cluster_dir/pki"
  if ip -br addr | grep -q "$mp_node_host_ip/"; then
    mp_die "$mp_node_host_ip is already in use on this host; set another MP_CLUSTER_NAME"
  fi
  mkdir -p "$mp_node_dir"/{logs,containerd/root,containerd/state,kubelet,pod-logs,cni/net.d,cni/ipam}
  mp_log "real node '$mp_node_name': network namespace $mp_node_netns, InternalIP $mp_node_ip"
  mp_node_network
  mp_node_relay "$port"
  mp_node_kubeconfig "$port" "$pki"
  mp_node_containerd
  mp_node_kubelet "$pki"
  mp_node_services "$port" "$pki"
  mp_node_ready
}

mp_node_network() {
  # Network: the namespace, its veth pair, forwarding inside it (for Service traffic) only.
  ip netns add "$mp_node_netns"
  ip link add "$mp_node_veth" type veth peer name eth0 netns "$mp_node_netns"
  ip addr add "$mp_node_host_ip/30" dev "$mp_node_veth"
  ip link set "$mp_node_veth" up
  mp_node_ns ip link set lo up
  mp_node_ns ip addr add "$mp_node_ip/30" dev eth0
  mp_node_ns ip link set eth0 up
  mp_node_ns ip route add default via "$mp_node_host_ip"
  mp_node_ns sysctl -qw net.ipv4.ip_forward=1
}

mp_node_relay() { # api-port
  local port=$1
  # The kubelet reaches the API server at the host's end of the pair.
  mp_node_daemon api-relay --host -- node "$mp_root/scripts/lib/tcp-relay.mjs" "$mp_node_host_ip" "$port"
  mp_node_wait relay 10 bash -c "exec 3<>/dev/tcp/$mp_node_host_ip/$port" || mp_node_fail api-relay "the API relay did not start"
}

mp_node_kubeconfig() { # api-port pki-dir
  local port=$1 pki=$2
  cat >"$mp_node_dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $mp_cluster_name
  cluster:
    server: https://$mp_node_host_ip:$port
    certificate-authority: $pki/ca.crt
    # The API server's certificate names its loopback address.
    tls-server-name: 127.0.0.1
users:
- name: $mp_node_name
  user:
    client-certificate: $pki/admin.crt
    client-key: $pki/admin.key
contexts:
- name: $mp_node_name
  context: {cluster: $mp_cluster_name, user: $mp_node_name}
current-context: $mp_node_name
EOF
}

mp_node_containerd() {
  local images
  images=$(mp_node_images)
  # containerd: its own root, state and socket; OOM scores only raised (no CAP_SYS_RESOURCE here).
  cat >"$mp_node_dir/containerd.toml" <<EOF
version = 2
root = "$mp_node_dir/containerd/root"
state = "$mp_node_dir/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$mp_node_dir/containerd.sock"
[ttrpc]
  address = "$mp_node_dir/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$mp_node_dir/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$mp_node_pause_image"
  restrict_oom_score_adj = true
  # Pods' network namespaces under the node's folder, so they are unmounted with it.
  netns_mounts_under_state_dir = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$mp_node_cni_bin"
    conf_dir = "$mp_node_dir/cni/net.d"
EOF
  cat >"$mp_node_dir/cni/net.d/10-mp-bridge.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "mp-pods",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "mp0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$mp_node_dir/cni/ipam",
        "ranges": [[{ "subnet": "$mp_node_pod_cidr" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    }
  ]
}
EOF
  mp_node_daemon containerd -- containerd --config "$mp_node_dir/containerd.toml"
  mp_node_wait containerd 30 mp_node_ctr version || mp_node_fail containerd "containerd did not start"
  mp_node_ctr images import --all-platforms "$images/pause.tar" >&2
  mp_node_ctr images import --all-platforms "$images/busybox.tar" >&2
}

mp_node_kubelet() { # pki-dir
  local pki=$1
  # The kubelet: cgroups under a root of the node's own, logs and volumes under its folder.
  local cg
  for cg in /sys/fs/cgroup/*/; do
    if [[ -f "$cg/cgroup.procs" ]]; then mkdir -p "$cg$mp_node_cgroup"; fi
  done
  : >"$mp_node_dir/resolv.conf"
  cat >"$mp_node_dir/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $mp_node_ip
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
cgroupRoot: /$mp_node_cgroup
failCgroupV1: false
failSwapOn: false
clusterDomain: cluster.local
clusterDNS: [$mp_node_ip]
resolvConf: $mp_node_dir/resolv.conf
podLogsDir: $mp_node_dir/pod-logs
containerRuntimeEndpoint: unix://$mp_node_dir/containerd.sock
imageServiceEndpoint: unix://$mp_node_dir/containerd.sock
# Images come only from \`ctr images import\`: never collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
registerWithTaints:
- {key: $mp_node_label, value: "true", effect: NoSchedule}
serializeImagePulls: false
rotateCertificates: false
EOF
  mp_node_daemon kubelet -- "$tools/kubelet" --config "$mp_node_dir/kubelet.yaml" \
    --kubeconfig "$mp_node_dir/kubeconfig" --root-dir "$mp_node_dir/kubelet" \
    --hostname-override "$mp_node_name" --node-ip "$mp_node_ip" \
    --node-labels "$mp_node_label=true" --v=1
}

mp_node_services() { # api-port pki-dir
  local port=$1 pki=$2
  # Services: kube-proxy's nftables rules live in the node's namespace and go with it.
  cat >"$mp_node_dir/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clientConnection: {kubeconfig: $mp_node_dir/kubeconfig}
hostnameOverride: $mp_node_name
clusterCIDR: $mp_node_pod_cidr
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Pods reach Services on their own bridge: replies must come back through the node.
nftables: {masqueradeAll: true}
# Host-wide conntrack settings stay as they are.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
  mp_node_daemon kube-proxy -- "$tools/kube-proxy" --config "$mp_node_dir/kube-proxy.yaml" --v=1
  mp_node_daemon cluster-dns -- node "$mp_root/scripts/lib/cluster-dns.mjs" "$mp_node_ip" \
    "https://$mp_node_host_ip:$port" "$pki/ca.crt" "$pki/admin.crt" "$pki/admin.key"
}

mp_node_ready() {
  local i d
  for ((i = 0; i < 240; i++)); do
    kubectl --kubeconfig "$mp_kubeconfig" get node "$mp_node_name" \
      -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -qx True && break
    for d in containerd kubelet kube-proxy cluster-dns api-relay; do
      mp_node_alive "$d" || mp_node_fail "$d" "$d of the real node exited"
    done
    sleep 0.5
  done
  ((i < 240)) || mp_node_fail kubelet "node '$mp_node_name' did not become Ready in 2 minutes"
  mp_log "real node '$mp_node_name' is Ready (label and taint $mp_node_label=true)"
}

# Stops the real node: pods' containers, daemons by pid, mounts, cgroups, namespace, files.
mp_node_down() {
  [[ -d "$mp_node_dir" ]] || return 0
  local name pid shim i
  mp_node_stop kubelet kube-proxy cluster-dns
  if mp_node_alive containerd; then
    # Every container and sandbox: kill its task, so its shim exits.
    local id
    for id in $(mp_node_ctr tasks ls -q 2>/dev/null); do
      mp_node_ctr tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    done
    for id in $(mp_node_ctr tasks ls -q 2>/dev/null); do
      mp_node_ctr tasks delete -f "$id" >/dev/null 2>&1 || true
    done
  fi
  # Shims that are left (their pids are in the bundles containerd made for them).
  for shim in "$mp_node_dir"/containerd/state/io.containerd.runtime.v2.task/*/*/shim.pid; do
    [[ -f "$shim" ]] || continue
    pid=$(cat "$shim")
    if [[ -n "$pid" ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  mp_node_stop containerd api-relay
  # Mounts under the node's folder (volumes, rootfs, sandbox files), deepest first.
  local target
  for ((i = 0; i < 5; i++)); do
    mapfile -t targets < <(findmnt -rn -o TARGET | grep -F "$mp_node_dir/" | sort -r)
    ((${#targets[@]} == 0)) && break
    for target in "${targets[@]}"; do
      umount "$target" 2>/dev/null || umount -l "$target" 2>/dev/null || true
    done
  done
  # cgroups the kubelet and runc made under the node's root, deepest first.
  local cg
  for cg in /sys/fs/cgroup/*/"$mp_node_cgroup"; do
    if [[ -d "$cg" ]]; then find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
  done
  if [[ -e "/run/netns/$mp_node_netns" ]]; then
    ip netns del "$mp_node_netns" || mp_log "warning: could not remove network namespace $mp_node_netns"
  fi
  ip link del "$mp_node_veth" 2>/dev/null || true
  rm -rf "$mp_node_dir"
}

# Stops daemons by the pids in their files: SIGTERM to all, SIGKILL to any left after 10 s.
mp_node_stop() { # name...
  local name pid pids=() names=() i left
  for name in "$@"; do
    pid=$(cat "$mp_node_dir/$name.pid" 2>/dev/null) || continue
    rm -f "$mp_node_dir/$name.pid"
    if [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null; then
      pids+=("$pid")
      names+=("$name")
    fi
  done
  for ((i = 0; i < 100; i++)); do
    left=0
    for pid in "${pids[@]}"; do mp_pid_running "$pid" && left=1; done
    ((left == 0)) && return 0
    sleep 0.1
  done
  for i in "${!pids[@]}"; do
    if mp_pid_running "${pids[$i]}" && kill -KILL "${pids[$i]}" 2>/dev/null; then
      mp_log "${names[$i]} (pid ${pids[$i]}) did not stop on SIGTERM: killed"
    fi
  done
}

# Running, not a zombie waiting for init to reap it.
mp_pid_running() { # pid
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}
