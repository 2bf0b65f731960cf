// The verdict benchmark on the real node (MP_REAL_NODES=1 of scripts/cluster-up.sh): real
// containers under containerd, the real helm and kubectl served to the bundled action from a local
// download server, `cluster: existing`, wait-timeout 5m, stable-for at its default (the verdict
// is the end of that window, or of the verify step when the window did not run), chart
// test/real/charts/states. It measures: for a healthy release (a real HTTP server behind a real
// readiness probe), the time from the end of the `deploy` step to the healthy verdict; for the same
// chart with a container that exits 1, the time from the first `kubectl get pods` answer (every
// 200 ms beside the action) showing it exited (restarted, or terminated with exit code 1) to the
// unhealthy verdict and to the process exit. For contrast, once each on the crashing chart:
// `helm upgrade --install --wait --timeout 60s` and `kubectl rollout status --timeout 60s`.
// The cluster (mp-bench-real) is its own and is removed at the end, also on error.
//
//   node bench/real.mjs [--runs N] [--keep]      (as root; TOOLS_DIR=<folder of scripts/test-tools.sh>)
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { ROOT, seconds } from './lib.mjs'
import { medianOf, runVerdictBench } from './verdict-cluster.mjs'

const LABEL = 'minikube-preview.test/real-node'
const IMAGE = 'image.repository=minikube-preview.local/busybox\nimage.tag=static'

/** A container of the `crash` workload that has exited: restarted, or terminated non-zero. */
const crashed = (pod) =>
  pod.metadata.name.startsWith('crash-') &&
  (pod.status?.containerStatuses ?? []).some(
    (c) => c.restartCount > 0 || (c.state?.terminated && c.state.terminated.exitCode !== 0)
  )

/** A namespace whose pods all go to the real node. */
function realNamespace(ctx, ns) {
  const doc = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: ns,
      annotations: {
        'scheduler.alpha.kubernetes.io/node-selector': `${LABEL}=true`,
        'scheduler.alpha.kubernetes.io/defaultTolerations': JSON.stringify([
          { key: LABEL, operator: 'Equal', value: 'true', effect: 'NoSchedule' }
        ])
      }
    }
  }
  execFileSync(ctx.kubectl, ['--kubeconfig', ctx.kubeconfig, 'apply', '-f', '-'], {
    input: JSON.stringify(doc),
    stdio: ['pipe', 'ignore', 'inherit']
  })
}

export async function main() {
  await runVerdictBench({
    title: 'real-node verdict benchmark',
    tools: 'pods on a real kubelet, containerd, runc',
    cluster: 'mp-bench-real',
    clusterEnv: { MP_REAL_NODES: '1' },
    chart: join(ROOT, 'test', 'real', 'charts', 'states'),
    release: 'states',
    failure: 'crash',
    healthySet: IMAGE,
    failingSet: `crash=true\n${IMAGE}`,
    contrastSet: 'crash=true',
    rollout: 'deployment/crash',
    failed: crashed,
    failedMeans: 'showing the container exited (restarted, or terminated non-zero)',
    prepare: realNamespace,
    summary({ healthy, failing, slow }) {
      console.log(
        `real node: healthy verdict ${medianOf(healthy.map((r) => r.deployToVerdict))} after deploy; crash → verdict ${medianOf(failing.map((r) => r.failureToVerdict))}, exit ${medianOf(failing.map((r) => r.failureToExit))}; helm --wait ${seconds(slow[0].wallMs)} (exit ${slow[0].code}), kubectl rollout status ${seconds(slow[1].wallMs)} (exit ${slow[1].code})`
      )
    }
  })
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
