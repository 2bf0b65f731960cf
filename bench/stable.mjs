// The stable-for benchmark: how long after the rollout completed does the bundled action give
// its healthy verdict? kubectl reports every workload healthy from the first poll; the verdict
// must come within the window plus one poll (2 s), and `helm test` runs during the window, so a
// test shorter than the window costs nothing on top of it.
//
//   node bench/stable.mjs [--runs N] [--keep]
import { median, node24Path, option, seconds, standInRun, table, workloadList } from './lib.mjs'

const POLL_MS = 2_000

function kubectlRules() {
  return [
    {
      match: ['get', /^deployments,/],
      stdout: workloadList({ 'todo-api': 'ready', 'todo-web': 'ready' })
    }
  ]
}

/** One run: from the poll that saw the rollout complete (verify ends) to the healthy verdict. */
function once(stableFor, testMs) {
  const t = testMs === undefined ? {} : { test: testMs }
  const inputs = { 'stable-for': stableFor, 'helm-test': 'auto' }
  return standInRun('mp-bench-stable-', t, kubectlRules(), inputs, (run) => {
    const steps = run.report?.steps ?? []
    const verify = steps.find((s) => s.id === 'verify')
    // The verdict is in once the window, health checks and helm test have all ended.
    const after = steps.filter((s) => ['stable', 'health-checks', 'helm-test'].includes(s.id))
    const verdictAt = Math.max(verify?.endedAt ?? 0, ...after.map((s) => s.endedAt ?? 0))
    return {
      status: run.outputs.status,
      exitCode: run.exitCode,
      reason: run.report?.reason,
      latency: verify?.endedAt ? verdictAt - verify.endedAt : undefined,
      held: run.report?.verify?.healthyForMs,
      wall: run.wallMs
    }
  })
}

export async function main() {
  const runs = Number(option('runs', '3'))
  console.log(`stable-for benchmark: ${runs} runs each of dist/index.js under ${node24Path()}`)
  console.log('kubectl answers every poll with both workloads healthy; polls are 2 s apart\n')
  const cases = [
    { window: '0s', ms: 0 },
    { window: '5s', ms: 5_000 },
    { window: '10s', ms: 10_000 },
    { window: '10s', ms: 10_000, test: 3_000 }
  ]
  const rows = []
  let met = true
  for (const c of cases) {
    const label = `stable-for ${c.window}${c.test ? `, helm test ${seconds(c.test, 0)}` : ''}`
    const results = []
    for (let i = 1; i <= runs; i++) {
      const r = await once(c.window, c.test)
      results.push(r)
      if (r.status !== 'healthy') console.log(`! ${label} run ${i}: ${r.status}: ${r.reason}`)
    }
    const ok = results.filter((r) => r.status === 'healthy' && r.latency !== undefined)
    const latencies = ok.map((r) => r.latency)
    const worst = Math.max(...latencies)
    const bound = c.ms + POLL_MS
    if (ok.length < runs || worst > bound) met = false
    rows.push([
      label,
      `${ok.length}/${runs} healthy`,
      seconds(median(latencies), 2),
      seconds(worst, 2),
      seconds(bound, 0),
      seconds(median(ok.map((r) => r.wall)), 2)
    ])
    console.log(`${label}: median ${seconds(median(latencies), 2)} rollout → verdict`)
  }
  console.log(
    `\n${table([['run', 'status', 'rollout → verdict (median)', 'slowest', 'bound', 'wall (median)'], ...rows])}`
  )
  console.log(
    `target healthy verdict ≤ stable-for + one poll (2 s), every run: ${met ? 'met' : 'NOT met'}`
  )
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
