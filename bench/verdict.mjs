// The fail-fast benchmark: how long after kubectl first reports a crash-looping pod does the
// bundled action end with its unhealthy verdict? kubectl answers "progressing" for the first
// polls, then CrashLoopBackOff; the stand-in records when it gave each answer. With fail-fast
// the verdict must come in seconds, not at the end of `wait-timeout`.
//
//   node bench/verdict.mjs [--runs N] [--progressing K] [--wait-timeout 2m] [--contrast 20s|0] [--keep]
//
// `--contrast` adds one run with fail-fast off and that (short) wait-timeout, to show what
// waiting out the timeout costs; 0 leaves it out.
import {
  NS,
  median,
  node24Path,
  option,
  podJson,
  podName,
  seconds,
  standInRun,
  table,
  workloadList
} from './lib.mjs'

const TARGET_MS = 5_000

function kubectlRules(progressing) {
  const starting = workloadList({ 'todo-api': 'starting', 'todo-web': 'starting' })
  const crashing = workloadList({ 'todo-api': 'crash-loop', 'todo-web': 'ready' })
  const pod = podName('todo-api')
  return [
    {
      match: ['get', /^deployments,/],
      sequence: [
        ...Array.from({ length: progressing }, () => ({ stdout: starting, tag: 'progressing' })),
        { stdout: crashing, tag: 'crash-loop' }
      ]
    },
    {
      match: ['get', 'events'],
      stdout: JSON.stringify({
        items: [
          {
            metadata: { name: `${pod}.1`, namespace: NS },
            involvedObject: { kind: 'Pod', name: pod, namespace: NS },
            type: 'Warning',
            reason: 'BackOff',
            message: 'Back-off restarting failed container',
            count: 5
          }
        ]
      })
    },
    {
      match: ['describe', 'pod'],
      stdout: `Name: ${pod}\nState: Waiting\n  Reason: CrashLoopBackOff\n`
    },
    { match: ['logs'], stdout: 'FATAL: password authentication failed\n' },
    { match: ['get', 'pod'], stdout: podJson('todo-api', 'crash-loop') }
  ]
}

/** One run: when kubectl first said crash loop, when verify ended, when the process exited. */
function once(progressing, inputs) {
  return standInRun('mp-bench-verdict-', {}, kubectlRules(progressing), inputs, (run, t) => {
    const polls = t.kubectl.calls().filter((c) => c.tag)
    const crash = polls.find((c) => c.tag === 'crash-loop')
    const verify = run.report?.steps.find((s) => s.id === 'verify')
    const verifyStart = verify?.startedAt
    return {
      status: run.outputs.status,
      exitCode: run.exitCode,
      reason: run.report?.reason ?? run.stdout.slice(-2000),
      polls: polls.length,
      crashAt: crash ? crash.answeredAt - verifyStart : undefined,
      toVerdict: crash && verify ? verify.endedAt - crash.answeredAt : undefined,
      toExit: crash ? run.exitedAt - crash.answeredAt : undefined,
      wall: run.wallMs
    }
  })
}

export async function main() {
  const runs = Number(option('runs', '3'))
  const progressing = Number(option('progressing', '2'))
  const waitTimeout = option('wait-timeout', '2m')
  const contrast = option('contrast', '20s')
  console.log(`fail-fast benchmark: ${runs} runs of dist/index.js under ${node24Path()}`)
  console.log(
    `kubectl answers the first ${progressing} polls with pods starting, then todo-api in CrashLoopBackOff (3 restarts); wait-timeout ${waitTimeout}\n`
  )

  const results = []
  for (let i = 1; i <= runs; i++) {
    const r = await once(progressing, { 'fail-fast': 'true', 'wait-timeout': waitTimeout })
    results.push({ label: `fail-fast ${i}`, ...r })
    console.log(`run ${i}: ${r.status} after ${r.polls} polls, ${seconds(r.wall, 2)} in all`)
  }
  let slow
  if (contrast !== '0') {
    slow = await once(progressing, { 'fail-fast': 'false', 'wait-timeout': contrast })
    results.push({ label: `no fail-fast, ${contrast}`, ...slow })
    console.log(
      `without fail-fast: ${slow.status} after ${slow.polls} polls, ${seconds(slow.wall, 2)} in all`
    )
  }

  const ms = (v) => (v === undefined ? '—' : `${v} ms`)
  console.log(
    `\n${table([
      [
        'run',
        'status',
        'polls',
        'crash loop seen at',
        'crash loop → verdict',
        'crash loop → exit',
        'wall'
      ],
      ...results.map((r) => [
        r.label,
        r.status ?? `exit ${r.exitCode}`,
        r.polls,
        r.crashAt === undefined ? '—' : `${seconds(r.crashAt, 2)} into verify`,
        ms(r.toVerdict),
        ms(r.toExit),
        seconds(r.wall, 2)
      ])
    ])}`
  )
  console.log(
    'verdict = the verify step ends unhealthy; exit = diagnostics and the report written, process gone'
  )

  const fast = results
    .slice(0, runs)
    .filter((r) => r.toExit !== undefined && r.status === 'unhealthy')
  if (fast.length < runs)
    for (const r of results.slice(0, runs).filter((x) => !fast.includes(x)))
      console.log(`! ${r.label} did not end unhealthy on the crash loop: ${r.reason}`)
  if (fast.length === 0) return
  const toExit = median(fast.map((r) => r.toExit))
  const toVerdict = median(fast.map((r) => r.toVerdict))
  console.log(`\nreason given: ${fast[0].reason}`)
  console.log(
    `target crash loop → exit ≤ ${seconds(TARGET_MS)} with wait-timeout ${waitTimeout}: ${toExit <= TARGET_MS ? 'met' : 'NOT met'} (median ${seconds(toExit, 2)} of ${fast.length})`
  )
  console.log(
    `fail-fast: verdict ${seconds(toVerdict, 2)} and exit ${seconds(toExit)} after the first crash-loop answer, wait-timeout ${waitTimeout}` +
      (slow?.toExit !== undefined
        ? `; without fail-fast (${contrast}) exit ${seconds(slow.toExit)}`
        : '')
  )
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
