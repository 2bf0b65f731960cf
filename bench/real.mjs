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

const CLUSTER = 'mp-bench-real'
const CHART = join(ROOT, 'test', 'real', 'charts', 'states')
const RELEASE = 'states'
const LABEL = 'minikube-preview.test/real-node'
const IMAGE = 'image.repository=minikube-preview.local/busybox\nimage.tag=static'
const POLL_MS = 200
const CONTRAST_TIMEOUT = '60s'

/** A container of the `crash` workload that has exited: restarted, or terminated non-zero. */
const crashed = (pod) =>
  pod.metadata.name.startsWith('crash-') &&
  (pod.status?.containerStatuses ?? []).some(
    (c) => c.restartCount > 0 || (c.state?.terminated && c.state.terminated.exitCode !== 0)
  )

/** A namespace whose pods all go to the real node. */
async function realNamespace(ctx, ns) {
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

function runner(root, kubeconfig) {
  const r = runnerRoot(root)
  mkdirSync(join(r.home, '.kube'), { recursive: true })
  copyFileSync(kubeconfig, join(r.home, '.kube', 'config'))
  return r
}

const stepOf = (report, id) => report?.steps?.find((s) => s.id === id)

async function preview(ctx, label, ns, crash) {
  await realNamespace(ctx, ns)
  const dir = join(ctx.work, label.replace(/\W+/g, '-'))
  const inputs = {
    ...ctx.downloads,
    cluster: 'existing',
    chart: CHART,
    release: RELEASE,
    namespace: ns,
    set: crash ? `crash=true\n${IMAGE}` : IMAGE,
    'helm-test': 'false',
    comment: 'never',
    'github-token': '',
    'wait-timeout': '5m'
  }
  const poller = crash ? podPoller(ctx.kubectl, ctx.kubeconfig, ns, crashed, POLL_MS) : undefined
  const r = await runAction(runner(dir, ctx.kubeconfig), inputs, process.env.PATH ?? '', 360_000)
  await poller?.stop()
  const deploy = stepOf(r.report, 'deploy')
  // The verdict: the end of the stable-for window when it ran, else of the verify step.
  const verify = [stepOf(r.report, 'stable'), stepOf(r.report, 'verify')].find((s) => s?.endedAt)
  const crashAt = poller?.state.crashAt
  const result = {
    label,
    status: r.outputs.status ?? `exit ${r.exitCode}`,
    reason: r.report?.reason,
    wallMs: r.wallMs,
    deployToVerdict:
      deploy?.endedAt && verify?.endedAt ? verify.endedAt - deploy.endedAt : undefined,
    crashToVerdict: crashAt && verify?.endedAt ? verify.endedAt - crashAt : undefined,
    crashToExit: crashAt ? r.exitedAt - crashAt : undefined,
    tail: r.stdout.slice(-1500)
  }
  if (!flag('keep')) rmSync(dir, { recursive: true, force: true })
  return result
}

async function contrasts(ctx) {
  const helm = join(ctx.tools, 'helm')
  const install = async (ns, extra) => {
    await realNamespace(ctx, ns)
    return runToEnd(helm, [
      'upgrade',
      '--install',
      RELEASE,
      CHART,
      '--kubeconfig',
      ctx.kubeconfig,
      '--namespace',
      ns,
      '--set',
      'crash=true',
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
      'deployment/crash',
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
  const env = { ...process.env, MP_CLUSTER_NAME: CLUSTER, MP_TOOLS: tools, MP_REAL_NODES: '1' }
  const work = tempDir('mp-bench-real-')
  const onSignal = (sig) => {
    clusterDown(env)
    process.exit(sig === 'SIGINT' ? 130 : 143)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  console.log(`real-node verdict benchmark: dist/index.js under ${node24Path()}`)
  console.log(
    `real helm ${versions.helm} and kubectl ${versions.kubectl}; kubelet ${versions.kubectl}, containerd, runc`
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
    console.log(`cluster ${CLUSTER} with its real node up in ${seconds(Date.now() - upAt)}\n`)
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
      const r = await preview(ctx, `healthy ${i}`, `bench-healthy-${i}-${ctx.stamp}`, false)
      healthy.push(r)
      console.log(`${r.label}: ${r.status} in ${seconds(r.wallMs)}`)
    }
    const failing = []
    for (let i = 1; i <= runs; i++) {
      const r = await preview(ctx, `crash ${i}`, `bench-crash-${i}-${ctx.stamp}`, true)
      failing.push(r)
      console.log(`${r.label}: ${r.status} in ${seconds(r.wallMs)}`)
    }
    console.log(`contrast: helm --wait and kubectl rollout status, ${CONTRAST_TIMEOUT} each…`)
    const slow = await contrasts(ctx)

    const cell = (ms) => (ms === undefined ? '—' : seconds(ms, 2))
    console.log(
      `\n${table([
        ['run', 'status', 'deploy → verdict', 'crash → verdict', 'crash → exit', 'wall'],
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
      `crash = first \`kubectl get pods\` answer (every ${POLL_MS} ms) showing the container exited; verdict = end of the stable-for step (of verify when it did not run)`
    )
    for (const r of slow) console.log(`${r.label} said: ${lastLine(r.out)}`)
    const reason = failing.find((r) => r.reason)?.reason
    if (reason) console.log(`the action said: ${reason}`)
    for (const r of [...healthy, ...failing].filter(
      (x) => x.status !== (x.label.startsWith('crash') ? 'unhealthy' : 'healthy')
    ))
      console.log(`! ${r.label} ended ${r.status}:\n${r.tail}`)
    const m = (xs) => {
      const ys = xs.filter((x) => x !== undefined)
      return ys.length ? seconds(median(ys)) : '—'
    }
    console.log(
      `real node: healthy verdict ${m(healthy.map((r) => r.deployToVerdict))} after deploy; crash → verdict ${m(failing.map((r) => r.crashToVerdict))}, exit ${m(failing.map((r) => r.crashToExit))}; helm --wait ${seconds(slow[0].wallMs)} (exit ${slow[0].code}), kubectl rollout status ${seconds(slow[1].wallMs)} (exit ${slow[1].code})`
    )
  } finally {
    await downloads?.close()
    clusterDown(env)
    if (flag('keep')) console.log(`kept ${work}`)
    else rmSync(work, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
