// The verdict benchmark on a real control plane: etcd, kube-apiserver, controller-manager and
// scheduler from scripts/cluster-up.sh, pods simulated by kwok (docs/test-cluster.md), the real
// helm and kubectl served to the bundled action from a local download server. It measures, with
// `cluster: existing` and wait-timeout 5m: for a healthy release of test/e2e/charts/probe, the
// time from the end of the `deploy` step to the healthy verdict (the end of `verify` and of the
// `stable-for` window) and the action's wall time; for the same chart with its pods
// crash-looping, the time from the first moment `kubectl get pods` (polled every 200 ms beside
// the action) shows a container waiting in CrashLoopBackOff to the unhealthy verdict and to the
// process exit. For contrast it runs, once each, `helm upgrade --install --wait --timeout 60s`
// and `kubectl rollout status --timeout 60s` on the crash-looping chart: both wait out their
// timeout. The cluster (mp-bench-e2e) is its own and is removed at the end, also on error.
//
//   node bench/e2e.mjs [--runs N] [--keep]      (TOOLS_DIR=<folder of scripts/test-tools.sh>)
import { join } from 'node:path'
import { ROOT, pinned, seconds } from './lib.mjs'
import { medianOf, runVerdictBench } from './verdict-cluster.mjs'

const RELEASE = 'probe'
const TARGET_MS = 10_000

const crashLooping = (pod) =>
  [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].some(
    (c) => c.state?.waiting?.reason === 'CrashLoopBackOff'
  )

export async function main() {
  const { KWOK_VERSION } = pinned()
  await runVerdictBench({
    title: 'e2e verdict benchmark',
    tools: `pods by kwok ${KWOK_VERSION}`,
    cluster: 'mp-bench-e2e',
    chart: join(ROOT, 'test', 'e2e', 'charts', 'probe'),
    release: RELEASE,
    failure: 'crash loop',
    healthySet: '',
    failingSet: 'web.state=crash-loop',
    contrastSet: 'web.state=crash-loop',
    rollout: `deployment/${RELEASE}-web`,
    failed: crashLooping,
    failedMeans: 'with a container waiting in CrashLoopBackOff',
    summary({ runs, healthy, failing, slow }) {
      const judged = failing.filter(
        (r) => r.status === 'unhealthy' && r.failureToExit !== undefined
      )
      const worst = judged.length ? Math.max(...judged.map((r) => r.failureToExit)) : undefined
      const met = judged.length === runs && worst < TARGET_MS
      console.log(
        `\ntarget crash loop → exit < ${seconds(TARGET_MS)} with wait-timeout 5m, every run: ${met ? 'met' : 'NOT met'}` +
          (worst === undefined ? '' : ` (slowest ${seconds(worst, 2)})`)
      )
      console.log(
        `e2e: healthy verdict ${medianOf(healthy.map((r) => r.deployToVerdict))} after deploy; crash loop → verdict ${medianOf(judged.map((r) => r.failureToVerdict))}, exit ${medianOf(judged.map((r) => r.failureToExit))} (target < ${seconds(TARGET_MS)}: ${met ? 'met' : 'NOT met'}); helm --wait ${seconds(slow[0].wallMs)}, kubectl rollout status ${seconds(slow[1].wallMs)}`
      )
    }
  })
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
