// The step-graph benchmark: runs the bundled action end to end against stand-in tools that take
// known times, and compares its wall time with the graph's critical path (the longest chain of
// step durations through `needs`) and with running every step one after another.
//
//   node bench/run.mjs [--runs N] [--keep]     (npm run bench -- --runs 5)
//   node bench/run.mjs --verdict               the fail-fast benchmark instead (bench/verdict.mjs)
//   node bench/run.mjs --startup               the startup benchmark instead (bench/startup.mjs)
import {
  flag,
  median,
  node24Path,
  option,
  seconds,
  standInRun,
  table,
  workloadList
} from './lib.mjs'

/** What the stand-ins take, in milliseconds. */
const TIMES = {
  start: 6000,
  build: { 'todo-api': 4000, 'todo-web': 2500 },
  load: 1000,
  upgrade: 1000,
  template: 300
}

/**
 * The plan for these inputs (two images loaded into minikube, a chart with an Ingress, addons
 * auto, kubectl's version known up front, no chart dependencies, no health checks), as
 * src/plan.ts builds it. A run whose steps differ, or that starts a step before its needs
 * ended, is reported: then this shape is out of date.
 */
const GRAPH = {
  'install-helm': [],
  'install-minikube': [],
  'install-kubectl': [],
  cluster: ['install-minikube'],
  render: ['install-helm'],
  addons: ['cluster', 'render'],
  'build-todo-api': [],
  'build-todo-web': [],
  'load-todo-api': ['build-todo-api', 'cluster'],
  'load-todo-web': ['build-todo-web', 'cluster'],
  deploy: [
    'cluster',
    'install-helm',
    'install-kubectl',
    'addons',
    'load-todo-api',
    'load-todo-web'
  ],
  verify: ['deploy'],
  'helm-test': ['verify'],
  diagnostics: ['verify', 'helm-test']
}

/** The time each step spends in the stand-ins, by construction. */
const NOMINAL = {
  cluster: TIMES.start,
  render: TIMES.template,
  'build-todo-api': TIMES.build['todo-api'],
  'build-todo-web': TIMES.build['todo-web'],
  'load-todo-api': TIMES.load,
  'load-todo-web': TIMES.load,
  deploy: TIMES.upgrade
}

const TARGET = 1.1

/** Longest chain through GRAPH by the given durations: its length and its steps. */
export function criticalPath(durations) {
  const done = new Map()
  const finish = (id) => {
    if (!done.has(id)) {
      const before = GRAPH[id].map(finish).sort((a, b) => b.ms - a.ms)[0] ?? { ms: 0, chain: [] }
      done.set(id, { ms: before.ms + (durations[id] ?? 0), chain: [...before.chain, id] })
    }
    return done.get(id)
  }
  return Object.keys(GRAPH)
    .map(finish)
    .sort((a, b) => b.ms - a.ms)[0]
}

/** The figures of one run, from its report.json. */
function measure(run) {
  const steps = run.report.steps
  const byId = Object.fromEntries(steps.map((s) => [s.id, s]))
  const problems = []
  const ids = steps.map((s) => s.id).sort()
  const known = Object.keys(GRAPH).sort()
  if (ids.join() !== known.join())
    problems.push(`the plan's steps (${ids.join(', ')}) are not the graph's (${known.join(', ')})`)
  const durations = {}
  for (const s of steps) {
    if (s.status !== 'success') problems.push(`step ${s.id} is ${s.status}: ${s.reason ?? ''}`)
    durations[s.id] = s.durationMs ?? 0
  }
  const first = Math.min(...steps.map((s) => s.startedAt))
  const last = Math.max(...steps.map((s) => s.endedAt))
  const gaps = {}
  for (const s of steps) {
    const needs = (GRAPH[s.id] ?? []).map((n) => byId[n]).filter(Boolean)
    const ready = needs.length ? Math.max(...needs.map((n) => n.endedAt)) : first
    gaps[s.id] = s.startedAt - ready
    if (gaps[s.id] < 0) problems.push(`step ${s.id} started before its needs ended`)
  }
  const critical = criticalPath(durations)
  const sum = Object.values(durations).reduce((a, b) => a + b, 0)
  return {
    wall: run.wallMs,
    critical: critical.ms,
    chain: critical.chain,
    sum,
    startup: first - run.spawnedAt,
    slack: last - first - critical.ms,
    finish: run.exitedAt - last,
    durations,
    offsets: Object.fromEntries(steps.map((s) => [s.id, s.startedAt - first])),
    gaps,
    problems
  }
}

export async function main() {
  const runs = Number(option('runs', '3'))
  const node = node24Path()
  console.log(`step-graph benchmark: ${runs} runs of dist/index.js under ${node}`)
  console.log(
    `stand-ins: minikube start ${seconds(TIMES.start)}, docker build ${seconds(TIMES.build['todo-api'])} and ${seconds(TIMES.build['todo-web'])}, image load ${seconds(TIMES.load)} each, helm upgrade ${seconds(TIMES.upgrade)}, helm template ${seconds(TIMES.template)}`
  )
  const nominal = criticalPath(NOMINAL)
  const nominalSum = Object.values(NOMINAL).reduce((a, b) => a + b, 0)
  console.log(
    `by construction: critical path ${seconds(nominal.ms)} (${nominal.chain.filter((id) => NOMINAL[id]).join(' → ')}), one after another ${seconds(nominalSum)}\n`
  )

  const results = []
  for (let i = 1; i <= runs; i++) {
    const ready = workloadList({ 'todo-api': 'ready', 'todo-web': 'ready' })
    await standInRun(
      'mp-bench-',
      TIMES,
      [{ match: ['get', /^deployments,/], stdout: ready }],
      {},
      (run) => {
        if (run.exitCode !== 0 || !run.report) {
          console.log(
            `run ${i}: the action failed (exit ${run.exitCode}):\n${run.stdout.slice(-3000)}`
          )
          return
        }
        const m = measure(run)
        results.push(m)
        console.log(
          `run ${i}: ${run.outputs.status}, wall ${seconds(m.wall, 2)}, critical path ${seconds(m.critical, 2)}`
        )
        for (const p of m.problems) console.log(`  ! ${p}`)
      }
    )
  }
  if (results.length === 0) {
    console.log('\nno run succeeded; nothing to report')
    return
  }

  const ratio = (m) => m.wall / m.critical
  console.log(
    `\n${table([
      [
        'run',
        'wall',
        'critical path',
        'wall/critical',
        'one after another',
        'sum/wall',
        'overhead',
        'startup',
        'in graph',
        'finish'
      ],
      ...results.map((m, i) => [
        i + 1,
        seconds(m.wall, 2),
        seconds(m.critical, 2),
        `${ratio(m).toFixed(2)}x`,
        seconds(m.sum, 2),
        `${(m.sum / m.wall).toFixed(2)}x`,
        `${m.wall - m.critical} ms`,
        `${m.startup} ms`,
        `${m.slack} ms`,
        `${m.finish} ms`
      ])
    ])}`
  )
  console.log(
    'overhead = wall − critical path = startup (process start → first step) + in graph (steps’ span − critical path) + finish (last step → exit)\n'
  )

  const mid = (f) => median(results.map(f))
  const onPath = new Set(results.flatMap((m) => m.chain))
  console.log(
    table([
      ['step', 'stand-in', 'took', 'started at', 'waited after needs', 'needs'],
      ...Object.keys(GRAPH).map((id) => [
        `${onPath.has(id) ? '*' : ' '} ${id}`,
        NOMINAL[id] ? seconds(NOMINAL[id], 2) : '—',
        seconds(
          mid((m) => m.durations[id]),
          2
        ),
        seconds(
          mid((m) => m.offsets[id]),
          2
        ),
        `${mid((m) => m.gaps[id])} ms`,
        GRAPH[id].join(' ') || '—'
      ])
    ])
  )
  console.log('medians; * on the critical path of a run; started at: from the first step’s start\n')

  const wall = mid((m) => m.wall)
  const critical = mid((m) => m.critical)
  const sum = mid((m) => m.sum)
  const r = mid(ratio)
  console.log(
    `medians of ${results.length}: wall ${seconds(wall, 2)}, critical path ${seconds(critical, 2)}, overhead ${Math.round(wall - critical)} ms, overlap gained ${(sum / wall).toFixed(2)}x (one after another ${seconds(sum, 2)})`
  )
  console.log(
    `target wall/critical path ≤ ${TARGET}x: ${r <= TARGET ? 'met' : 'NOT met'} (${r.toFixed(2)}x)`
  )
  console.log(
    `step graph: wall ${seconds(wall)}, critical path ${seconds(critical)} (${r.toFixed(2)}x), one after another ${seconds(sum)}`
  )
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (flag('verdict')) await (await import('./verdict.mjs')).main()
  else if (flag('startup')) await (await import('./startup.mjs')).main()
  else await main()
}
