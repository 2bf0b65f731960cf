#!/usr/bin/env bash
# Checks the reference chart (charts/todo-chatbot) with the real Helm 4 and Helm 3:
# lint, what it renders for the values a preview uses, what it refuses; installs it on a
# real control plane (scripts/cluster-up.sh: kube-apiserver with kwok's simulated pods)
# in namespaces that enforce the restricted Pod Security profile; and lints
# .github/workflows and the README's example workflows with actionlint. CHART_CLUSTER=0
# skips the control plane.
#
# Tools come from TOOLS_DIR, else from `npm run test-tools` (its last stdout line is the
# folder holding helm, helm3 and actionlint). Rendered manifests are read with the
# project's own `yaml` package, so `npm ci` must have run.
#
# One line per check; the last line is `chart: N passed, N failed`; exits non-zero
# when any check failed.
# JavaScript template literals in the checks are meant literally.
# shellcheck disable=SC2016
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
chart="$root/charts/todo-chatbot"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
summary() {
  echo "chart: $passed passed, $failed failed"
  ((failed == 0))
}

if [[ -z "${TOOLS_DIR:-}" ]]; then
  TOOLS_DIR=$(cd "$root" && npm run --silent test-tools | tail -n1) || TOOLS_DIR=""
fi
if [[ -z "$TOOLS_DIR" || ! -d "$TOOLS_DIR" ]]; then
  echo "not ok - test tools: 'npm run test-tools' gave no tools folder (or set TOOLS_DIR)"
  failed=1
  summary
  exit
fi
if [[ ! -d "$root/node_modules/yaml" ]]; then
  echo "not ok - node modules: run 'npm ci' first (the checks read YAML with the 'yaml' package)"
  failed=1
  summary
  exit
fi

app_version=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$chart/Chart.yaml")

# Evaluates JavaScript expressions against a rendered multi-document manifest. Each
# expression must be true; every one that is not is printed. In scope:
#   docs               every object rendered
#   get(kind, name)    one object, or undefined
#   all(kind)          every object of a kind
#   container(kind, name, container)
#   env(container, name)   the env entry of that name
#   b64(s)             base64-decoded string
#   workloads()        Deployments and StatefulSets
cat >"$work/assert.cjs" <<'EOF'
const fs = require('node:fs')
const path = require('node:path')
const YAML = require(path.join(process.env.ROOT, 'node_modules', 'yaml'))
const [file, ...exprs] = process.argv.slice(2)
const docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'))
  .map((d) => d.toJS())
  .filter((d) => d && typeof d === 'object')
const get = (kind, name) => docs.find((d) => d.kind === kind && d.metadata?.name === name)
const all = (kind) => docs.filter((d) => d.kind === kind)
const workloads = () => docs.filter((d) => d.kind === 'Deployment' || d.kind === 'StatefulSet')
const container = (kind, name, c) =>
  get(kind, name)?.spec?.template?.spec?.containers?.find((x) => x.name === c)
const env = (c, name) => c?.env?.find((e) => e.name === name)
const b64 = (s) => Buffer.from(s ?? '', 'base64').toString('utf8')
let bad = 0
for (const expr of exprs) {
  let result
  try {
    result = new Function('docs', 'get', 'all', 'workloads', 'container', 'env', 'b64',
      `return (${expr})`)(docs, get, all, workloads, container, env, b64)
  } catch (err) {
    result = `threw ${err.message}`
  }
  if (result !== true) {
    bad++
    console.log(`    expected: ${expr.trim()}\n    got: ${JSON.stringify(result)}`)
  }
}
process.exit(bad ? 1 : 0)
EOF

expect() { # manifest expression...
  ROOT="$root" node "$work/assert.cjs" "$@"
}

# Runs `helm template` of the chart as release $release; the manifest goes to $out.
release=todo-chatbot
out="$work/rendered.yaml"
render() { # helm args...
  local helm=$1
  shift
  if ! "$helm" template "$release" "$chart" --namespace preview "$@" >"$out" 2>"$work/stderr"; then
    echo "    helm template failed:"
    sed 's/^/    /' "$work/stderr"
    return 1
  fi
}

# Runs `helm template` expecting it to fail with stderr matching a pattern.
render_fails() { # pattern helm args...
  local pattern=$1 helm=$2
  shift 2
  if "$helm" template "$release" "$chart" --namespace preview "$@" >"$out" 2>"$work/stderr"; then
    echo "    helm template succeeded; it should have failed with: $pattern"
    return 1
  fi
  if ! grep -Eq -- "$pattern" "$work/stderr"; then
    echo "    helm template failed, but stderr does not match: $pattern"
    sed 's/^/    /' "$work/stderr"
    return 1
  fi
}

check() { # name function args...
  local name=$1 output
  shift
  if output=$("$@" 2>&1); then
    passed=$((passed + 1))
    echo "ok - $name"
  else
    failed=$((failed + 1))
    echo "not ok - $name"
    [[ -n "$output" ]] && echo "$output"
  fi
}

# ---- the checks, each run with one helm ---------------------------------------

external_url='postgresql://neon:s3cret@ep-example.eu-central-1.aws.neon.tech/neondb?sslmode=require'

lint_defaults() { "$1" lint --strict "$chart"; }

lint_external_db() {
  "$1" lint --strict "$chart" --set postgresql.enabled=false --set "externalDatabase.url=$external_url"
}

template_defaults() {
  render "$1" || return 1
  expect "$out" \
    'all("Deployment").map((d) => d.metadata.name).sort().join() === "todo-chatbot-backend,todo-chatbot-frontend"' \
    'get("Service", "todo-chatbot-backend").spec.ports[0].port === 8001' \
    'get("Service", "todo-chatbot-backend").spec.ports[0].targetPort === "http"' \
    'container("Deployment", "todo-chatbot-backend", "backend").ports[0].containerPort === 8001' \
    'container("Deployment", "todo-chatbot-backend", "backend").ports[0].name === "http"' \
    'get("Service", "todo-chatbot-frontend").spec.ports[0].port === 80' \
    'get("Service", "todo-chatbot-frontend").spec.ports[0].targetPort === "http"' \
    'container("Deployment", "todo-chatbot-frontend", "frontend").ports[0].containerPort === 3000' \
    'container("Deployment", "todo-chatbot-frontend", "frontend").ports[0].name === "http"' \
    "container('Deployment', 'todo-chatbot-backend', 'backend').image === 'todo-chatbot-backend:$app_version'" \
    "container('Deployment', 'todo-chatbot-frontend', 'frontend').image === 'todo-chatbot-frontend:$app_version'" \
    'container("Deployment", "todo-chatbot-backend", "backend").imagePullPolicy === "IfNotPresent"' \
    'get("Deployment", "todo-chatbot-backend").spec.replicas === 1 && get("Deployment", "todo-chatbot-frontend").spec.replicas === 1' \
    'get("ConfigMap", "todo-chatbot-backend").data.PORT === "8001"' \
    'container("Deployment", "todo-chatbot-backend", "backend").envFrom.some((e) => e.configMapRef?.name === "todo-chatbot-backend")' \
    'JSON.stringify(env(container("Deployment", "todo-chatbot-backend", "backend"), "DATABASE_URL").valueFrom.secretKeyRef) === JSON.stringify({ name: "todo-chatbot-backend", key: "DATABASE_URL" })' \
    'env(container("Deployment", "todo-chatbot-frontend", "frontend"), "BACKEND_URL").value === "http://todo-chatbot-backend:8001"' \
    'container("Deployment", "todo-chatbot-backend", "backend").livenessProbe.httpGet.path === "/health"' \
    'container("Deployment", "todo-chatbot-backend", "backend").readinessProbe.httpGet.path === "/ready"' \
    'container("Deployment", "todo-chatbot-backend", "backend").readinessProbe.httpGet.port === "http"' \
    'container("Deployment", "todo-chatbot-frontend", "frontend").livenessProbe.httpGet.path === "/healthz"' \
    'container("Deployment", "todo-chatbot-frontend", "frontend").readinessProbe.httpGet.path === "/healthz"' \
    'Object.entries(container("Deployment", "todo-chatbot-backend", "backend").resources).map(([k, v]) => `${k}=${v.cpu}/${v.memory}`).sort().join() === "limits=500m/512Mi,requests=100m/256Mi"' \
    'Object.entries(container("Deployment", "todo-chatbot-frontend", "frontend").resources).map(([k, v]) => `${k}=${v.cpu}/${v.memory}`).sort().join() === "limits=200m/256Mi,requests=100m/128Mi"' \
    'get("Deployment", "todo-chatbot-frontend").spec.template.spec.volumes.every((v) => v.emptyDir)' \
    'container("Deployment", "todo-chatbot-frontend", "frontend").volumeMounts.map((m) => m.mountPath).sort().join() === "/app/.next/cache,/tmp"' \
    'get("Ingress", "todo-chatbot").spec.ingressClassName === "nginx"' \
    'get("Ingress", "todo-chatbot").spec.rules[0].host === "todo.local"' \
    'get("Ingress", "todo-chatbot").spec.rules[0].http.paths.every((p) => p.pathType === "Prefix")' \
    'JSON.stringify(get("Ingress", "todo-chatbot").spec.rules[0].http.paths.find((p) => p.path === "/api").backend.service) === JSON.stringify({ name: "todo-chatbot-backend", port: { number: 8001 } })' \
    'JSON.stringify(get("Ingress", "todo-chatbot").spec.rules[0].http.paths.find((p) => p.path === "/").backend.service) === JSON.stringify({ name: "todo-chatbot-frontend", port: { name: "http" } })' \
    'get("ServiceAccount", "todo-chatbot") !== undefined' \
    'workloads().every((w) => w.spec.template.spec.serviceAccountName === "todo-chatbot")'
}

template_security() {
  render "$1" || return 1
  expect "$out" \
    'workloads().length === 3' \
    'workloads().every((w) => w.spec.template.spec.securityContext.runAsNonRoot === true)' \
    'workloads().every((w) => Number.isInteger(w.spec.template.spec.securityContext.runAsUser) && w.spec.template.spec.securityContext.runAsUser > 0)' \
    'get("Deployment", "todo-chatbot-backend").spec.template.spec.securityContext.runAsUser === 10001' \
    'get("Deployment", "todo-chatbot-frontend").spec.template.spec.securityContext.runAsUser === 1000' \
    'get("StatefulSet", "todo-chatbot-postgresql").spec.template.spec.securityContext.runAsUser === 70' \
    'workloads().every((w) => w.spec.template.spec.securityContext.seccompProfile.type === "RuntimeDefault")' \
    'workloads().flatMap((w) => [...w.spec.template.spec.containers, ...(w.spec.template.spec.initContainers ?? [])]).every((c) => c.securityContext.allowPrivilegeEscalation === false && c.securityContext.readOnlyRootFilesystem === true && JSON.stringify(c.securityContext.capabilities.drop) === "[\"ALL\"]" && c.securityContext.seccompProfile.type === "RuntimeDefault")' \
    'workloads().flatMap((w) => [...w.spec.template.spec.containers, ...(w.spec.template.spec.initContainers ?? [])]).every((c) => c.resources.limits.cpu && c.resources.limits.memory)'
}

template_in_cluster_db() {
  render "$1" || return 1
  expect "$out" \
    'container("StatefulSet", "todo-chatbot-postgresql", "postgresql").image === "postgres:17-alpine"' \
    'get("Service", "todo-chatbot-postgresql").spec.ports[0].port === 5432' \
    'get("StatefulSet", "todo-chatbot-postgresql").spec.template.spec.volumes.find((v) => v.name === "data").emptyDir !== undefined' \
    'get("StatefulSet", "todo-chatbot-postgresql").spec.volumeClaimTemplates === undefined' \
    'env(container("StatefulSet", "todo-chatbot-postgresql", "postgresql"), "POSTGRES_PASSWORD").valueFrom.secretKeyRef.name === "todo-chatbot-postgresql"' \
    '/^[A-Za-z0-9]{24}$/.test(b64(get("Secret", "todo-chatbot-postgresql").data.password))' \
    'b64(get("Secret", "todo-chatbot-backend").data.DATABASE_URL) === `postgresql://todo:${b64(get("Secret", "todo-chatbot-postgresql").data.password)}@todo-chatbot-postgresql:5432/todo`' \
    'get("Deployment", "todo-chatbot-backend").spec.template.spec.initContainers[0].image === "postgres:17-alpine"'
}

template_persistence() {
  render "$1" --set postgresql.persistence.enabled=true --set postgresql.persistence.size=2Gi || return 1
  expect "$out" \
    'get("StatefulSet", "todo-chatbot-postgresql").spec.volumeClaimTemplates[0].metadata.name === "data"' \
    'get("StatefulSet", "todo-chatbot-postgresql").spec.volumeClaimTemplates[0].spec.resources.requests.storage === "2Gi"' \
    'get("StatefulSet", "todo-chatbot-postgresql").spec.template.spec.volumes.every((v) => v.name !== "data")'
}

template_external_url() {
  render "$1" --set postgresql.enabled=false --set "externalDatabase.url=$external_url" || return 1
  expect "$out" \
    'all("StatefulSet").length === 0' \
    'get("Service", "todo-chatbot-postgresql") === undefined && get("Secret", "todo-chatbot-postgresql") === undefined' \
    "b64(get('Secret', 'todo-chatbot-backend').data.DATABASE_URL) === '$external_url'" \
    'env(container("Deployment", "todo-chatbot-backend", "backend"), "DATABASE_URL").valueFrom.secretKeyRef.name === "todo-chatbot-backend"' \
    'get("Deployment", "todo-chatbot-backend").spec.template.spec.initContainers === undefined'
}

template_existing_secret() {
  render "$1" --set postgresql.enabled=false --set externalDatabase.existingSecret=neon-db \
    --set externalDatabase.existingSecretKey=url || return 1
  expect "$out" \
    'JSON.stringify(env(container("Deployment", "todo-chatbot-backend", "backend"), "DATABASE_URL").valueFrom.secretKeyRef) === JSON.stringify({ name: "neon-db", key: "url" })' \
    'get("Secret", "todo-chatbot-backend").data?.DATABASE_URL === undefined' \
    'all("StatefulSet").length === 0'
}

template_images() {
  render "$1" \
    --set backend.image.repository=todo-chatbot-backend --set backend.image.tag=sha-1a2b3c4 \
    --set backend.image.pullPolicy=IfNotPresent \
    --set frontend.image.repository=registry.example.com/team/todo-chatbot-frontend \
    --set frontend.image.tag=sha-1a2b3c4 --set frontend.image.pullPolicy=IfNotPresent || return 1
  expect "$out" \
    'container("Deployment", "todo-chatbot-backend", "backend").image === "todo-chatbot-backend:sha-1a2b3c4"' \
    'container("Deployment", "todo-chatbot-backend", "backend").imagePullPolicy === "IfNotPresent"' \
    'container("Deployment", "todo-chatbot-frontend", "frontend").image === "registry.example.com/team/todo-chatbot-frontend:sha-1a2b3c4"' \
    'container("Deployment", "todo-chatbot-frontend", "frontend").imagePullPolicy === "IfNotPresent"'
}

template_pull_never() {
  render "$1" --set backend.image.pullPolicy=Never --set frontend.image.pullPolicy=Never \
    --set backend.replicaCount=2 --set frontend.replicaCount=3 || return 1
  expect "$out" \
    'container("Deployment", "todo-chatbot-backend", "backend").imagePullPolicy === "Never"' \
    'container("Deployment", "todo-chatbot-frontend", "frontend").imagePullPolicy === "Never"' \
    'get("Deployment", "todo-chatbot-backend").spec.replicas === 2 && get("Deployment", "todo-chatbot-frontend").spec.replicas === 3'
}

template_release_names() {
  release=pr-42 render "$1" || return 1
  expect "$out" \
    'get("Service", "pr-42-todo-chatbot-backend") !== undefined && get("Service", "pr-42-todo-chatbot-frontend") !== undefined' \
    'env(container("Deployment", "pr-42-todo-chatbot-frontend", "frontend"), "BACKEND_URL").value === "http://pr-42-todo-chatbot-backend:8001"' \
    'docs.every((d) => d.metadata.labels["app.kubernetes.io/instance"] === "pr-42")' || return 1
  release=todo-chatbot-pr-42 render "$1" || return 1
  expect "$out" \
    'get("Service", "todo-chatbot-pr-42-backend") !== undefined && get("Service", "todo-chatbot-pr-42-frontend") !== undefined'
}

template_ingress_off() {
  render "$1" --set ingress.enabled=false || return 1
  expect "$out" \
    'all("Ingress").length === 0' \
    'all("Deployment").length === 2'
}

template_ingress_host() {
  render "$1" --set ingress.host=pr-42.preview.example.com --set ingress.className=traefik || return 1
  expect "$out" \
    'get("Ingress", "todo-chatbot").spec.rules[0].host === "pr-42.preview.example.com"' \
    'get("Ingress", "todo-chatbot").spec.ingressClassName === "traefik"'
}

template_extras() {
  render "$1" --set backend.autoscaling.enabled=true --set frontend.autoscaling.enabled=true \
    --set podDisruptionBudget.enabled=true --set networkPolicy.enabled=true || return 1
  expect "$out" \
    'all("HorizontalPodAutoscaler").map((h) => h.spec.scaleTargetRef.name).sort().join() === "todo-chatbot-backend,todo-chatbot-frontend"' \
    'all("Deployment").every((d) => d.spec.replicas === undefined)' \
    'all("PodDisruptionBudget").length === 2' \
    'all("NetworkPolicy").map((n) => n.metadata.name).sort().join() === "todo-chatbot-backend,todo-chatbot-frontend,todo-chatbot-postgresql"' || return 1
  render "$1" || return 1
  expect "$out" \
    'all("HorizontalPodAutoscaler").length === 0 && all("PodDisruptionBudget").length === 0 && all("NetworkPolicy").length === 0'
}

template_test_hook() {
  render "$1" || return 1
  expect "$out" \
    'all("Pod").length === 1' \
    'all("Pod")[0].metadata.annotations["helm.sh/hook"] === "test"' \
    'env(all("Pod")[0].spec.containers[0], "BACKEND_HEALTH").value === "http://todo-chatbot-backend:8001/health"' \
    'env(all("Pod")[0].spec.containers[0], "FRONTEND_HEALTH").value === "http://todo-chatbot-frontend:80/healthz"' \
    'all("Pod")[0].spec.restartPolicy === "Never"'
}

notes() {
  local helm=$1 want
  if [[ "$("$helm" version --template '{{.Version}}')" == v3.* ]]; then
    # Helm 3 renders NOTES.txt only when installing into a cluster: render the same file
    # with the same engine through `tpl` in a copy of the chart.
    rm -rf "$work/notes-chart"
    cp -r "$chart" "$work/notes-chart"
    cp "$chart/templates/NOTES.txt" "$work/notes-chart/notes.txt"
    printf '%s\n' 'apiVersion: v1' 'kind: ConfigMap' 'metadata: {name: notes}' \
      'data: {notes: {{ tpl (.Files.Get "notes.txt") . | toJson }}}' \
      >"$work/notes-chart/templates/notes-check.yaml"
    "$helm" template todo-chatbot "$work/notes-chart" --namespace preview \
      --show-only templates/notes-check.yaml >"$out" 2>"$work/stderr"
  else
    # A client-only install renders NOTES.txt without a cluster.
    "$helm" install todo-chatbot "$chart" --namespace preview --dry-run=client >"$out" 2>"$work/stderr"
  fi || {
    sed 's/^/    /' "$work/stderr"
    return 1
  }
  for want in 'port-forward svc/todo-chatbot-frontend 8080:80([^0-9]|$)' \
    'port-forward svc/todo-chatbot-backend 8081:8001([^0-9]|$)' 'http://todo\.local/'; do
    grep -qE -- "$want" "$out" || {
      echo "    NOTES do not mention: $want"
      return 1
    }
  done
}

rejects_replica_count_string() {
  render_fails 'replicaCount' "$1" --set backend.replicaCount=two
}
rejects_ingress_enabled_string() {
  render_fails 'enabled' "$1" --set ingress.enabled=yes
}
rejects_unknown_pull_policy() {
  render_fails 'pullPolicy' "$1" --set frontend.image.pullPolicy=Sometimes
}
rejects_unknown_key() {
  render_fails 'backnd' "$1" --set backnd.replicaCount=2
}
db_off_needs_external() {
  render_fails 'no external database is configured' "$1" --set postgresql.enabled=false
}
rejects_old_kubernetes() {
  render_fails 'kubeVersion' "$1" --kube-version 1.26.0
}

for helm_bin in helm helm3; do
  h="$TOOLS_DIR/$helm_bin"
  if [[ ! -x "$h" ]]; then
    check "$helm_bin: present in $TOOLS_DIR" false
    continue
  fi
  label="$helm_bin ($("$h" version --template '{{.Version}}' 2>/dev/null))"
  check "$label: lint --strict" lint_defaults "$h"
  check "$label: lint --strict with an external database" lint_external_db "$h"
  check "$label: default values render the app's services, ports, probes and ingress" template_defaults "$h"
  check "$label: every workload is non-root, read-only, without capabilities" template_security "$h"
  check "$label: default values run PostgreSQL in the cluster on an emptyDir" template_in_cluster_db "$h"
  check "$label: postgresql.persistence.enabled uses a PVC" template_persistence "$h"
  check "$label: postgresql off uses externalDatabase.url" template_external_url "$h"
  check "$label: postgresql off uses externalDatabase.existingSecret" template_existing_secret "$h"
  check "$label: image values render repo:tag with IfNotPresent" template_images "$h"
  check "$label: pullPolicy Never and replica counts are honoured" template_pull_never "$h"
  check "$label: object names follow the release name" template_release_names "$h"
  check "$label: ingress.enabled=false renders no Ingress" template_ingress_off "$h"
  check "$label: ingress host and class come from values" template_ingress_host "$h"
  check "$label: HPA, PDB and NetworkPolicy only when enabled" template_extras "$h"
  check "$label: helm test pod checks /health and /healthz" template_test_hook "$h"
  check "$label: NOTES tell how to reach the app" notes "$h"
  check "$label: schema rejects backend.replicaCount=two" rejects_replica_count_string "$h"
  check "$label: schema rejects ingress.enabled=yes" rejects_ingress_enabled_string "$h"
  check "$label: schema rejects pullPolicy Sometimes" rejects_unknown_pull_policy "$h"
  check "$label: schema rejects an unknown top-level key" rejects_unknown_key "$h"
  check "$label: postgresql off without an external database fails clearly" db_off_needs_external "$h"
  check "$label: Kubernetes older than 1.27 is refused" rejects_old_kubernetes "$h"
done

# ---- on a real control plane ---------------------------------------------------

in_cluster_install() { # helm namespace
  local helm=$1 ns=$2
  kubectl create namespace "$ns" >/dev/null &&
    kubectl label namespace "$ns" pod-security.kubernetes.io/enforce=restricted >/dev/null || return 1
  "$helm" upgrade --install todo-chatbot "$chart" --namespace "$ns" --wait --timeout 2m >"$out" 2>&1 || {
    sed 's/^/    /' "$out"
    kubectl --namespace "$ns" get events --field-selector type=Warning 2>&1 | tail -n 10 | sed 's/^/    /'
    return 1
  }
  kubectl --namespace "$ns" get deployments,statefulsets -o json >"$work/workloads.json" &&
    expect "$work/workloads.json" \
      'docs[0].items.length === 3' \
      'docs[0].items.every((w) => w.status.readyReplicas === w.spec.replicas)'
}

in_cluster_upgrade() { # helm namespace
  local helm=$1 ns=$2 before after
  before=$(kubectl --namespace "$ns" get secret todo-chatbot-backend -o jsonpath='{.data.DATABASE_URL}') || return 1
  "$helm" upgrade todo-chatbot "$chart" --namespace "$ns" --set backend.image.tag=sha-7654321 \
    --wait --timeout 2m >"$out" 2>&1 || {
    sed 's/^/    /' "$out"
    return 1
  }
  after=$(kubectl --namespace "$ns" get secret todo-chatbot-backend -o jsonpath='{.data.DATABASE_URL}') || return 1
  [[ -n "$before" && "$before" == "$after" ]] || {
    echo "    DATABASE_URL changed on upgrade: $(echo "$before" | base64 -d) -> $(echo "$after" | base64 -d)"
    return 1
  }
  kubectl --namespace "$ns" get deployment todo-chatbot-backend -o json >"$work/backend.json" &&
    expect "$work/backend.json" \
      'docs[0].spec.template.spec.containers[0].image === "todo-chatbot-backend:sha-7654321"' \
      'docs[0].status.updatedReplicas === 1'
}

in_cluster_helm_test() { # helm namespace
  "$1" test todo-chatbot --namespace "$2" --timeout 2m >"$out" 2>&1 || {
    sed 's/^/    /' "$out"
    return 1
  }
}

if [[ "${CHART_CLUSTER:-1}" != 0 ]]; then
  cluster=mp-chart
  cluster_env=(MP_TOOLS="$TOOLS_DIR" MP_CLUSTER_NAME="$cluster")
  trap 'env "${cluster_env[@]}" bash "$root/scripts/cluster-down.sh" >/dev/null 2>&1; rm -rf "$work"' EXIT
  line=$(env "${cluster_env[@]}" bash "$root/scripts/cluster-up.sh" 2>"$work/cluster.log" | tail -n1)
  if [[ "$line" == KUBECONFIG=* ]]; then
    export KUBECONFIG=${line#KUBECONFIG=} PATH="$TOOLS_DIR:$PATH"
    for helm_bin in helm helm3; do
      h="$TOOLS_DIR/$helm_bin"
      [[ -x "$h" ]] || continue
      ns="chart-$helm_bin-$$"
      check "$helm_bin on a control plane: installs and gets ready under restricted Pod Security" \
        in_cluster_install "$h" "$ns"
      check "$helm_bin on a control plane: an upgrade keeps the database password, rolls the image" \
        in_cluster_upgrade "$h" "$ns"
      check "$helm_bin on a control plane: helm test runs the test pod to success" \
        in_cluster_helm_test "$h" "$ns"
    done
  else
    failed=$((failed + 1))
    echo "not ok - a test control plane starts (scripts/cluster-up.sh)"
    tail -n 20 "$work/cluster.log" | sed 's/^/    /'
  fi
fi

actionlint_workflows() {
  (cd "$root" && "$TOOLS_DIR/actionlint" -no-color)
}
# Every complete workflow the README shows (a ```yaml block with `on:` and `jobs:`), written
# out one file each; the shared-cluster and sweep examples must be among them.
readme_workflows() {
  local dir="$work/readme-workflows"
  rm -rf "$dir" && mkdir -p "$dir"
  node --input-type=module - "$root/README.md" "$dir" <<'JS' || return 1
import { readFileSync, writeFileSync } from 'node:fs'
const [readme, dir] = process.argv.slice(2)
const blocks = [...readFileSync(readme, 'utf8').matchAll(/^```yaml\n([\s\S]*?)^```/gm)]
  .map((m) => m[1])
  .filter((b) => /^on:/m.test(b) && /^jobs:/m.test(b))
const want = {
  'shared-cluster workflow': /types: \[opened, synchronize, reopened, closed\]/,
  'sweep workflow': /mode: sweep/
}
for (const [what, re] of Object.entries(want))
  if (!blocks.some((b) => re.test(b))) {
    console.error(`README.md shows no ${what} (a yaml block with on: and jobs:)`)
    process.exit(1)
  }
blocks.forEach((b, i) => writeFileSync(`${dir}/readme-${i + 1}.yml`, b))
JS
  "$TOOLS_DIR/actionlint" -no-color "$dir"/*.yml
}
if [[ -x "$TOOLS_DIR/actionlint" ]]; then
  check "actionlint: .github/workflows" actionlint_workflows
  check "actionlint: the README's example workflows" readme_workflows
else
  check "actionlint: present in $TOOLS_DIR" false
fi

summary
