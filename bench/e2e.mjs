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

const CLUSTER = 'mp-bench-e2e'
const CHART = join(ROOT, 'test', 'e2e', 'charts', 'probe')
const RELEASE = 'probe'
const DEPLOYMENT = `${RELEASE}-web`
const TARGET_MS = 10_000
const POLL_MS = 200
const CONTRAST_TIMEOUT = '60s'

const crashLooping = (pod) =>
  [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].some(
    (c) => c.state?.waiting?.reason === 'CrashLoopBackOff'
  )

// ── the action ─────────────────────────────────────────────────────────────────────────────

/** A runner's folders, with the cluster's kubeconfig where kubectl and helm look by default. */
function runner(root, kubeconfig) {
  const r = runnerRoot(root)
  mkdirSync(join(r.home, '.kube'), { recursive: true })
  copyFileSync(kubeconfig, join(r.home, '.kube', 'config'))
  return r
}

const stepOf = (report, id) => report?.steps?.find((s) => s.id === id)

async function preview(ctx, label, ns, set) {
  const dir = join(ctx.work, label.replace(/\W+/g, '-'))
  const inputs = {
    ...ctx.downloads,
    cluster: 'existing',
    chart: CHART,
    release: RELEASE,
    namespace: ns,
    set,
    'helm-test': 'false',
    comment: 'never',
    'github-token': '',
    'wait-timeout': '5m'
  }
  const poller = set ? podPoller(ctx.kubectl, ctx.kubeconfig, ns, crashLooping, POLL_MS) : undefined
  const r = await runAction(runner(dir, ctx.kubeconfig), inputs, process.env.PATH ?? '', 360_000)
  await poller?.stop()
  const deploy = stepOf(r.report, 'deploy')
  // The verdict: the rollout watched (verify), then the stable-for window, once both ended.
  const ends = ['verify', 'stable'].map((id) => stepOf(r.report, id)?.endedAt ?? 0)
  const verify = { endedAt: Math.max(...ends) || undefined }
  const crashAt = poller?.state.crashAt
  const result = {
    label,
    status: r.outputs.status ?? `exit ${r.exitCode}`,
    exitCode: r.exitCode,
    reason: r.report?.reason,
    wallMs: r.wallMs,
    deployToVerdict:
      deploy?.endedAt && verify?.endedAt ? verify.endedAt - deploy.endedAt : undefined,
    polls: poller?.state.polls,
    crashPod: poller?.state.pod,
    crashToVerdict: crashAt && verify?.endedAt ? verify.endedAt - crashAt : undefined,
    crashToExit: crashAt ? r.exitedAt - crashAt : undefined,
    tail: r.stdout.slice(-1500)
  }
  if (!flag('keep')) rmSync(dir, { recursive: true, force: true })
  return result
}

// ── the contrast: helm --wait and kubectl rollout status on the same crash loop ──────────────

async function contrasts(ctx) {
  const helm = join(ctx.tools, 'helm')
  const install = (ns, extra) =>
    runToEnd(helm, [
      'upgrade',
      '--install',
      RELEASE,
      CHART,
      '--kubeconfig',
      ctx.kubeconfig,
      '--namespace',
      ns,
      '--create-namespace',
      '--set',
      'web.state=crash-loop',
      ...extra
    ])
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
      `deployment/${DEPLOYMENT}`,
      '-n',
      ns,
      `--timeout=${CONTRAST_TIMEOUT}`
    ])
  })()
  // Both only wait, so they run side by side.
  const [h, k] = await Promise.all([helmWait, rollout])
  return [
    { label: `helm upgrade --install --wait --timeout ${CONTRAST_TIMEOUT}`, ...h },
    { label: `kubectl rollout status --timeout ${CONTRAST_TIMEOUT}`, ...k }
  ]
}

// ── main ───────────────────────────────────────────────────────────────────────────────────

function clusterDown(env) {
  try {
    execFileSync('bash', [join(ROOT, 'scripts', 'cluster-down.sh')], { env, stdio: 'ignore' })
  } catch (err) {
    console.error(`could not remove cluster ${CLUSTER}: ${err.message}`)
  }
}

export async function main() {
  const runs = Number(option('runs', '3'))
  const tools = toolsDir()
  const v = pinned()
  const versions = { helm: v.HELM4_VERSION, kubectl: v.KUBERNETES_VERSION }
  const env = { ...process.env, MP_CLUSTER_NAME: CLUSTER, MP_TOOLS: tools }
  const work = tempDir('mp-bench-e2e-')
  const onSignal = (sig) => {
    clusterDown(env)
    process.exit(sig === 'SIGINT' ? 130 : 143)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  console.log(`e2e verdict benchmark: dist/index.js under ${node24Path()}`)
  console.log(
    `real helm ${versions.helm} and kubectl ${versions.kubectl} from ${tools}; Kubernetes ${versions.kubectl}, pods by kwok ${v.KWOK_VERSION}`
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
    console.log(`cluster ${CLUSTER} up in ${seconds(Date.now() - upAt)}\n`)
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
      const r = await preview(ctx, `healthy ${i}`, `bench-healthy-${i}-${ctx.stamp}`, '')
      healthy.push(r)
      console.log(`${r.label}: ${r.status} in ${seconds(r.wallMs)}`)
    }
    const failing = []
    for (let i = 1; i <= runs; i++) {
      const r = await preview(
        ctx,
        `crash loop ${i}`,
        `bench-crash-${i}-${ctx.stamp}`,
        'web.state=crash-loop'
      )
      failing.push(r)
      console.log(`${r.label}: ${r.status} in ${seconds(r.wallMs)} (${r.polls} pod polls)`)
    }
    console.log(`contrast: helm --wait and kubectl rollout status, ${CONTRAST_TIMEOUT} each…`)
    const slow = await contrasts(ctx)

    const cell = (ms) => (ms === undefined ? '—' : seconds(ms, 2))
    console.log(
      `\n${table([
        ['run', 'status', 'deploy → verdict', 'crash loop → verdict', 'crash loop → exit', 'wall'],
        ...[...healthy, ...failing].map((r) => [
          `action, ${r.label}`,
          r.status,
          cell(r.deployToVerdict),
          cell(r.crashToVerdict),
          cell(r.crashToExit),
          seconds(r.wallMs, 2)
        ]),
        ...slow.map((r) => [r.label, `exit ${r.code}`, '—', '—', '—', seconds(r.wallMs, 2)])
      ])}`
    )
    console.log(
      `crash loop = first \`kubectl get pods\` answer (every ${POLL_MS} ms) with a container waiting in CrashLoopBackOff; verdict = end of the verify step and of the stable-for window; wall = process start to exit`
    )
    for (const r of slow) console.log(`${r.label} said: ${lastLine(r.out)}`)
    const reason = failing.find((r) => r.reason)?.reason
    if (reason) console.log(`the action said: ${reason}`)

    for (const r of healthy.filter((x) => x.status !== 'healthy'))
      console.log(`! ${r.label} was not healthy:\n${r.tail}`)
    const judged = failing.filter((r) => r.status === 'unhealthy' && r.crashToExit !== undefined)
    for (const r of failing.filter((x) => !judged.includes(x)))
      console.log(`! ${r.label} did not end unhealthy after a crash loop was seen:\n${r.tail}`)

    const hv = healthy.filter((r) => r.deployToVerdict !== undefined).map((r) => r.deployToVerdict)
    const worst = judged.length ? Math.max(...judged.map((r) => r.crashToExit)) : undefined
    const met = judged.length === runs && worst < TARGET_MS
    console.log(
      `\ntarget crash loop → exit < ${seconds(TARGET_MS)} with wait-timeout 5m, every run: ${met ? 'met' : 'NOT met'}` +
        (worst === undefined ? '' : ` (slowest ${seconds(worst, 2)})`)
    )
    const m = (xs) => (xs.length ? seconds(median(xs)) : '—')
    console.log(
      `e2e: healthy verdict ${m(hv)} after deploy; crash loop → verdict ${m(judged.map((r) => r.crashToVerdict))}, exit ${m(judged.map((r) => r.crashToExit))} (target < ${seconds(TARGET_MS)}: ${met ? 'met' : 'NOT met'}); helm --wait ${seconds(slow[0].wallMs)}, kubectl rollout status ${seconds(slow[1].wallMs)}`
    )
  } finally {
    await downloads?.close()
    clusterDown(env)
    if (flag('keep')) console.log(`kept ${work}`)
    else rmSync(work, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
