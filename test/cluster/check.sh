#!/usr/bin/env bash
# Checks a running test cluster end to end, with the real kubectl and helm:
# versions, pod logs (current and --previous), port-forward through a Service to a local
# server, helm test passing and failing (Helm 4 and Helm 3), kwok's chaos stage, and a
# pod the scheduler cannot place. Prints one line per check; exits non-zero if any fails.
#
#   bash test/cluster/check.sh        (KUBECONFIG defaults to the cluster $MP_CLUSTER_NAME)
# shellcheck source-path=SCRIPTDIR/../../scripts disable=SC2317 # functions run from trap and eventually
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=lib/cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/cluster.sh"
# shellcheck source=tool-versions.env
source "$mp_root/scripts/tool-versions.env"

export KUBECONFIG=${KUBECONFIG:-$mp_kubeconfig}
[[ -f "$KUBECONFIG" ]] || mp_die "no kubeconfig at $KUBECONFIG; start a cluster: npm run cluster:up"
tools=$(mp_tools)
export PATH="$tools:$PATH"

ns="check-$$"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
pass() { echo "PASS  $*"; }
fail() { echo "FAIL  $*"; failures=$((failures + 1)); }
# Polls a command until it succeeds (up to $2 seconds).
eventually() { # description seconds command...
  local what=$1 deadline=$((SECONDS + $2))
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      fail "$what"
      return 1
    fi
    sleep 0.5
  done
  pass "$what"
}
jsonpath_is() { # expected kubectl-args...
  local want=$1
  shift
  [[ "$(kubectl "$@")" == "$want" ]]
}

kubectl create namespace "$ns" >/dev/null
for ((i = 0; i < 60; i++)); do kubectl get serviceaccount default -n "$ns" >/dev/null 2>&1 && break; sleep 0.5; done

# --- versions ------------------------------------------------------------------
version_json=$(kubectl version -o json)
server=$(node -e 'const v = JSON.parse(process.argv[1]); console.log(v.serverVersion.gitVersion)' "$version_json")
client=$(node -e 'const v = JSON.parse(process.argv[1]); console.log(v.clientVersion.gitVersion)' "$version_json")
expect_eq() { # what got want
  if [[ "$2" == "$3" ]]; then pass "$1 $2"; else fail "$1 '$2', expected '$3'"; fi
}
expect_eq "kube-apiserver reports" "$server" "$KUBERNETES_VERSION"
expect_eq "kubectl reports" "$client" "$KUBERNETES_VERSION"
for pair in "helm:$HELM4_VERSION" "helm3:$HELM3_VERSION"; do
  bin=${pair%%:*} want=${pair#*:}
  got=$("$bin" version --template '{{.Version}}')
  expect_eq "$bin version" "$got" "$want"
done
expect_eq "etcd reports" "$(etcd --version | head -n 1)" "etcd Version: ${ETCD_VERSION#v}"

# --- a pod with logs and a port ------------------------------------------------
kubectl apply -n "$ns" -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: todo-chatbot-frontend:check
        ports:
        - {name: http, containerPort: 3000}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
EOF
kubectl rollout status -n "$ns" deployment/web --timeout=60s >/dev/null
pod=$(kubectl get pods -n "$ns" -l app=web -o jsonpath='{.items[0].metadata.name}')

# Container logs are read in the kubelet's (CRI) format: "<RFC3339Nano time> <stream> F <line>".
now=$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)
printf '%s stdout F %s\n' "$now" "ready on :3000" "$now" "GET /api/health 200" >"$tmp/current.log"
printf '%s stderr F %s\n' "$now" "Error: connect ECONNREFUSED 10.96.0.12:8001" >"$tmp/previous.log"
kubectl apply -n "$ns" -f - >/dev/null <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Logs
metadata:
  name: $pod
spec:
  logs:
  - containers: [web]
    logsFile: $tmp/current.log
    previousLogsFile: $tmp/previous.log
EOF
eventually "kubectl logs serves the pod's log file" 20 \
  jsonpath_is $'ready on :3000\nGET /api/health 200' logs -n "$ns" "$pod"
eventually "kubectl logs --previous serves the previous log file" 20 \
  jsonpath_is "Error: connect ECONNREFUSED 10.96.0.12:8001" logs -n "$ns" "$pod" --previous

# A real server on 127.0.0.1 stands in for the container's port 3000.
# shellcheck disable=SC2016 # JavaScript, not shell
node -e '
  const server = require("http").createServer((req, res) => res.end(`web says hello to ${req.url}\n`));
  server.listen(0, "127.0.0.1", () => console.log(server.address().port));
' >"$tmp/server.port" &
pids+=("$!")
for ((i = 0; i < 40; i++)); do [[ -s "$tmp/server.port" ]] && break; sleep 0.25; done
server_port=$(cat "$tmp/server.port")
kubectl apply -n "$ns" -f - >/dev/null <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: PortForward
metadata:
  name: $pod
spec:
  forwards:
  - ports: [3000]
    target:
      address: 127.0.0.1
      port: $server_port
EOF
sleep 1
kubectl port-forward -n "$ns" svc/web :80 >"$tmp/port-forward.out" 2>&1 &
pids+=("$!")
for ((i = 0; i < 40; i++)); do grep -q 'Forwarding from 127.0.0.1:' "$tmp/port-forward.out" && break; sleep 0.25; done
local_port=$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$tmp/port-forward.out" | head -n 1)
body=$(curl -fsS --max-time 5 "http://127.0.0.1:${local_port:-0}/api/health" 2>&1 || true)
if [[ "$body" == "web says hello to /api/health" ]]; then
  pass "kubectl port-forward svc/web reaches the local server"
else
  fail "kubectl port-forward svc/web: got '$body'; $(cat "$tmp/port-forward.out")"
fi

# --- helm test, passing and failing ----------------------------------------------
chart="$tmp/chart"
mkdir -p "$chart/templates/tests"
cat >"$chart/Chart.yaml" <<'EOF'
apiVersion: v2
name: check
version: 0.1.0
kubeVersion: ">=1.30.0-0"
EOF
echo 'testFails: false' >"$chart/values.yaml"
cat >"$chart/templates/deployment.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-api
spec:
  replicas: 1
  selector:
    matchLabels: {app: {{ .Release.Name }}-api}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}-api}
    spec:
      containers:
      - name: api
        image: todo-chatbot-backend:check
EOF
cat >"$chart/templates/tests/test-connection.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-test-connection
  annotations:
    helm.sh/hook: test
  {{- if .Values.testFails }}
  labels:
    minikube-preview.test/state: fail
  {{- end }}
spec:
  restartPolicy: Never
  containers:
  - name: wget
    image: busybox:1.36
    command: ["wget", "-qO-", "http://{{ .Release.Name }}-api:8001/health"]
EOF
for bin in helm helm3; do
  release="check-$bin"
  if "$bin" install "$release" "$chart" -n "$ns" --wait --timeout 60s >"$tmp/$bin.out" 2>&1; then
    pass "$bin install --wait"
  else
    fail "$bin install --wait: $(tail -n 3 "$tmp/$bin.out")"
    continue
  fi
  if "$bin" test "$release" -n "$ns" --timeout 60s >"$tmp/$bin.out" 2>&1; then
    pass "$bin test passes"
  else
    fail "$bin test should pass: $(tail -n 3 "$tmp/$bin.out")"
  fi
  "$bin" upgrade "$release" "$chart" -n "$ns" --set testFails=true --wait --timeout 60s >/dev/null 2>&1
  if "$bin" test "$release" -n "$ns" --timeout 60s >"$tmp/$bin.out" 2>&1; then
    fail "$bin test should fail"
  else
    code=$(kubectl get pod -n "$ns" "$release-test-connection" -o jsonpath='{.status.phase} {.status.containerStatuses[0].state.terminated.exitCode}')
    expect_eq "$bin test fails; its pod (phase, exit code):" "$code" "Failed 1"
  fi
done

# --- kwok's chaos stage ---------------------------------------------------------------
kubectl apply -n "$ns" -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: chaos
  labels:
    pod-container-running-failed.stage.kwok.x-k8s.io: "true"
  annotations:
    pod-container-running-failed.stage.kwok.x-k8s.io/delay: 1s
    pod-container-running-failed.stage.kwok.x-k8s.io/reason: OOMKilled
    pod-container-running-failed.stage.kwok.x-k8s.io/exit-code: "137"
spec:
  containers:
  - name: app
    image: todo-chatbot-backend:check
EOF
eventually "kwok chaos label fails a running pod" 30 \
  jsonpath_is "Failed OOMKilled 137" get pod -n "$ns" chaos -o jsonpath='{.status.phase} {.status.containerStatuses[0].state.terminated.reason} {.status.containerStatuses[0].state.terminated.exitCode}'

# --- the real scheduler -------------------------------------------------------------
kubectl apply -n "$ns" -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: too-big
spec:
  containers:
  - name: app
    image: todo-chatbot-backend:check
    resources:
      requests: {cpu: "3", memory: 1Gi}
EOF
eventually "a pod requesting more cpu than a node has is Unschedulable" 30 \
  jsonpath_is "Pending Unschedulable" get pod -n "$ns" too-big -o jsonpath='{.status.phase} {.status.conditions[?(@.type=="PodScheduled")].reason}'

((failures == 0)) && echo "all checks passed" || echo "$failures check(s) failed"
exit $((failures > 0))
