// The verdict benchmark on a cluster of scripts/cluster-up.sh, shared by bench/e2e.mjs (pods
// simulated by kwok) and bench/real.mjs (a real kubelet): the bundled action with the real helm
// and kubectl from a local download server, `cluster: existing`, wait-timeout 5m. It times, for a
// healthy release, the end of `deploy` to the verdict (the end of `verify` and of the stable-for
// window); for a failing one, the first `kubectl get pods` answer (polled beside the action) that
// shows the failure to the verdict and to the process exit; and once each, for contrast,
// `helm upgrade --install --wait` and `kubectl rollout status` on the failing chart. The cluster
// is the benchmark's own and is removed at the end, also on error.
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import {
  ROOT,
  flag,
  lastLine,
  median,
  node24Path,
  option,
  pinned,
  podPoller,
  runAction,
  runToEnd,
  runnerRoot,
  seconds,
  startDownloads,
  table,
  tempDir,
  toolsDir
} from './lib.mjs'

export const POLL_MS = 200
export const CONTRAST_TIMEOUT = '60s'

/**
 * @typedef {object} VerdictBench
 * @property {string} title         the first line: `e2e verdict benchmark`
 * @property {string} tools         what runs the pods, for the second line
 * @property {string} cluster       the cluster's name (MP_CLUSTER_NAME)
 * @property {Record<string, string>} [clusterEnv]  more for scripts/cluster-up.sh
 * @property {string} chart
 * @property {string} release
 * @property {string} failure       what the failing runs are called: `crash loop`
 * @property {string} healthySet    the `set` input of a healthy run
 * @property {string} failingSet    the `set` input of a failing run
 * @property {string} contrastSet   the `--set` that makes the chart fail, for helm
 * @property {string} rollout       `deployment/<name>` for kubectl rollout status
 * @property {(pod: any) => boolean} failed   a pod that shows the failure
 * @property {string} failedMeans   what `failed` looks for, for the legend
 * @property {(ctx: object, ns: string) => void} [prepare]  before anything deploys into `ns`
 * @property {(r: {runs: number, healthy: object[], failing: object[], slow: object[]}) => void} summary
 */

/** A runner's folders, with the cluster's kubeconfig where kubectl and helm look by default. */
function runner(root, kubeconfig) {
  const r = runnerRoot(root)
  mkdirSync(join(r.home, '.kube'), { recursive: true })
  copyFileSync(kubeconfig, join(r.home, '.kube', 'config'))
  return r
}

const stepOf = (report, id) => report?.steps?.find((s) => s.id === id)

async function preview(bench, ctx, label, ns, failing) {
  bench.prepare?.(ctx, ns)
  const dir = join(ctx.work, label.replace(/\W+/g, '-'))
  const inputs = {
    ...ctx.downloads,
    cluster: 'existing',
    chart: bench.chart,
    release: bench.release,
    namespace: ns,
    set: failing ? bench.failingSet : bench.healthySet,
    'helm-test': 'false',
    comment: 'never',
    'github-token': '',
    'wait-timeout': '5m'
  }
  const poller = failing
    ? podPoller(ctx.kubectl, ctx.kubeconfig, ns, bench.failed, POLL_MS)
    : undefined
  const r = await runAction(runner(dir, ctx.kubeconfig), inputs, process.env.PATH ?? '', 360_000)
  await poller?.stop()
  const deploy = stepOf(r.report, 'deploy')
  // The verdict: the rollout watched (verify), then the stable-for window, once both ended.
  const verdictAt =
    Math.max(...['verify', 'stable'].map((id) => stepOf(r.report, id)?.endedAt ?? 0)) || undefined
  const failedAt = poller?.state.crashAt
  const result = {
    label,
    status: r.outputs.status ?? `exit ${r.exitCode}`,
    reason: r.report?.reason,
    wallMs: r.wallMs,
    deployToVerdict: deploy?.endedAt && verdictAt ? verdictAt - deploy.endedAt : undefined,
    polls: poller?.state.polls,
    failureToVerdict: failedAt && verdictAt ? verdictAt - failedAt : undefined,
    failureToExit: failedAt ? r.exitedAt - failedAt : undefined,
    tail: r.stdout.slice(-1500)
  }
  if (!flag('keep')) rmSync(dir, { recursive: true, force: true })
  return result
}

/** helm --wait and kubectl rollout status on the failing chart: both only wait, side by side. */
async function contrasts(bench, ctx) {
  const helm = join(ctx.tools, 'helm')
  const install = (ns, extra) => {
    bench.prepare?.(ctx, ns)
    return runToEnd(helm, [
      'upgrade',
      '--install',
      bench.release,
      bench.chart,
      '--kubeconfig',
      ctx.kubeconfig,
      '--namespace',
      ns,
      '--create-namespace',
      '--set',
      bench.contrastSet,
      ...extra
    ])
  }
  const helmWait = install(`bench-helm-wait-${ctx.stamp}`, [
    '--wait',
    '--timeout',
    CONTRAST_TIMEOUT
  ])
  const rollout = (async () => {
    const ns = `bench-rollout-${ctx.stamp}`
    const first = await install(ns, [])
    if (first.code !== 0) return first
    return runToEnd(ctx.kubectl, [
      '--kubeconfig',
      ctx.kubeconfig,
      'rollout',
      'status',
      bench.rollout,
      '-n',
      ns,
      `--timeout=${CONTRAST_TIMEOUT}`
    ])
  })()
  const [h, k] = await Promise.all([helmWait, rollout])
  return [
    { label: `helm upgrade --install --wait --timeout ${CONTRAST_TIMEOUT}`, ...h },
    { label: `kubectl rollout status --timeout ${CONTRAST_TIMEOUT}`, ...k }
  ]
}

function clusterDown(bench, env) {
  try {
    execFileSync('bash', [join(ROOT, 'scripts', 'cluster-down.sh')], { env, stdio: 'ignore' })
  } catch (err) {
    console.error(`could not remove cluster ${bench.cluster}: ${err.message}`)
  }
}

/** The median of the defined values, in seconds; `—` when there is none. */
export const medianOf = (xs) => {
  const ys = xs.filter((x) => x !== undefined)
  return ys.length ? seconds(median(ys)) : '—'
}

/** Runs the benchmark `bench` describes (`--runs N`, `--keep`) and prints its table. */
export async function runVerdictBench(bench) {
  const runs = Number(option('runs', '3'))
  const tools = toolsDir()
  const v = pinned()
  const versions = { helm: v.HELM4_VERSION, kubectl: v.KUBERNETES_VERSION }
  const env = {
    ...process.env,
    MP_CLUSTER_NAME: bench.cluster,
    MP_TOOLS: tools,
    ...bench.clusterEnv
  }
  const work = tempDir(`${bench.cluster}-`)
  const onSignal = (sig) => {
    clusterDown(bench, env)
    process.exit(sig === 'SIGINT' ? 130 : 143)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  console.log(`${bench.title}: dist/index.js under ${node24Path()}`)
  console.log(
    `real helm ${versions.helm} and kubectl ${versions.kubectl} from ${tools}; ${bench.tools}`
  )
  let downloads
  try {
    const upAt = Date.now()
    const out = execFileSync('bash', [join(ROOT, 'scripts', 'cluster-up.sh')], {
      encoding: 'utf8',
      env,
      stdio: ['ignore', 'pipe', 'ignore']
    })
    const kubeconfig = lastLine(out).replace(/^KUBECONFIG=/, '')
    console.log(`cluster ${bench.cluster} up in ${seconds(Date.now() - upAt)}\n`)
    // The real helm and kubectl at the URL layouts of get.helm.sh and dl.k8s.io.
    downloads = await startDownloads(
      { helm: join(tools, 'helm'), kubectl: join(tools, 'kubectl') },
      work,
      versions,
      ['amd64']
    )
    const ctx = {
      tools,
      kubeconfig,
      kubectl: join(tools, 'kubectl'),
      downloads: {
        'helm-version': versions.helm,
        'kubectl-version': versions.kubectl,
        ...downloads.inputs
      },
      work,
      stamp: Date.now().toString(36)
    }

    const healthy = []
    for (let i = 1; i <= runs; i++) {
      const r = await preview(bench, ctx, `healthy ${i}`, `bench-healthy-${i}-${ctx.stamp}`, false)
      healthy.push(r)
      console.log(`${r.label}: ${r.status} in ${seconds(r.wallMs)}`)
    }
    const failing = []
    for (let i = 1; i <= runs; i++) {
      const label = `${bench.failure} ${i}`
      const r = await preview(bench, ctx, label, `bench-failing-${i}-${ctx.stamp}`, true)
      failing.push(r)
      console.log(`${r.label}: ${r.status} in ${seconds(r.wallMs)} (${r.polls} pod polls)`)
    }
    console.log(`contrast: helm --wait and kubectl rollout status, ${CONTRAST_TIMEOUT} each…`)
    const slow = await contrasts(bench, ctx)

    const cell = (ms) => (ms === undefined ? '—' : seconds(ms, 2))
    const f = bench.failure
    console.log(
      `\n${table([
        ['run', 'status', 'deploy → verdict', `${f} → verdict`, `${f} → exit`, 'wall'],
        ...[...healthy, ...failing].map((r) => [
          `action, ${r.label}`,
          r.status,
          cell(r.deployToVerdict),
          cell(r.failureToVerdict),
          cell(r.failureToExit),
          seconds(r.wallMs, 2)
        ]),
        ...slow.map((r) => [r.label, `exit ${r.code}`, '—', '—', '—', seconds(r.wallMs, 2)])
      ])}`
    )
    console.log(
      `${f} = first \`kubectl get pods\` answer (every ${POLL_MS} ms) ${bench.failedMeans}; verdict = end of the verify step and of the stable-for window; wall = process start to exit`
    )
    for (const r of slow) console.log(`${r.label} said: ${lastLine(r.out)}`)
    const reason = failing.find((r) => r.reason)?.reason
    if (reason) console.log(`the action said: ${reason}`)
    for (const r of healthy.filter((x) => x.status !== 'healthy'))
      console.log(`! ${r.label} ended ${r.status}:\n${r.tail}`)
    for (const r of failing.filter(
      (x) => x.status !== 'unhealthy' || x.failureToExit === undefined
    ))
      console.log(`! ${r.label} did not end unhealthy after the failure was seen:\n${r.tail}`)
    bench.summary({ runs, healthy, failing, slow })
  } finally {
    await downloads?.close()
    clusterDown(bench, env)
    if (flag('keep')) console.log(`kept ${work}`)
    else rmSync(work, { recursive: true, force: true })
  }
}
