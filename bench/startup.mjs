// The startup benchmark: how soon the bundled action gets going under Node 24. On a runner whose
// tool cache already holds minikube, helm and kubectl, a setup-only run (no chart, no images,
// no cache, no comment) against stand-in tools: spawn → first step, and spawn → exit; then its
// post step with nothing to do; the same with the compile cache (src/boot.ts) emptied before
// each run. `node -e 0` under the same Node is the floor.
//
//   node bench/startup.mjs [--runs N] [--before <git rev>] [--keep]
//   (npm run bench -- --startup --before 1e8e40a)
//
// --before also measures the bundle committed at that revision (its dist/), for a before/after.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import {
  DIST,
  ROOT,
  flag,
  median,
  node24Path,
  option,
  runAction,
  runnerRoot,
  table,
  tempDir,
  tools
} from './lib.mjs'

const TARGET_MS = 100
const MAIN_CHUNK_TARGET = 2_000_000

/** The setup-only inputs: tools from the stand-in downloads, nothing else to do. */
const SETUP_ONLY = {
  'minikube-cache': 'false',
  comment: 'never',
  'github-token': '',
  'job-summary': 'false',
  cleanup: 'never'
}

/**
 * Sizes of a dist folder. `main`: the code every run compiles, the file runs.main names and the
 * chunks it loads at once (the entry loads the action as a chunk: see src/boot.ts); `total`:
 * every chunk beside it too.
 */
function sizes(dir) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.js'))
  const bytes = Object.fromEntries(files.map((f) => [f, statSync(join(dir, f)).size]))
  const entry = existsSync(join(dir, 'index.js')) ? readFileSync(join(dir, 'index.js'), 'utf8') : ''
  // A top-level `await import()` of the entry, not one inside a function (run when needed).
  const loaded = entry
    .split('\n')
    .filter((line) => line.startsWith('await '))
    .flatMap((line) => [...line.matchAll(/__nccwpck_require__\.e\((\d+)\)/g)])
    .map((m) => `${m[1]}.index.js`)
  return {
    main: [...new Set(['index.js', ...loaded])].reduce((n, f) => n + (bytes[f] ?? 0), 0),
    total: Object.values(bytes).reduce((a, b) => a + b, 0),
    chunks: files.length - 1
  }
}

/** The dist/ folder committed at `rev`, extracted into `into`. */
function distAt(rev, into) {
  const tar = execFileSync('git', ['-C', ROOT, 'archive', rev, 'dist'], {
    maxBuffer: 1 << 30
  })
  execFileSync('tar', ['-x', '-C', into], { input: tar })
  return join(into, 'dist', 'index.js')
}

function nodeFloor(node, runs) {
  const ms = []
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint()
    spawnSync(node, ['-e', '0'])
    ms.push(Number(process.hrtime.bigint() - t) / 1e6)
  }
  return ms
}

/** A runner for `dist` whose tool cache one setup-only run has filled. */
async function warmRunner(label, dist, stand, dir) {
  const runner = runnerRoot(join(dir, `runner-${label.replace(/\W+/g, '-')}`))
  const warm = await runAction(runner, { ...stand.inputs, ...SETUP_ONLY }, stand.path, 180_000, {
    dist
  })
  if (warm.exitCode !== 0) throw new Error(`${label}: the action failed:\n${warm.stdout}`)
  return { label, dist, runner, startup: [], wall: [], post: [], size: sizes(join(dist, '..')) }
}

/** One setup-only run and its post step on a warm runner, added to its figures. */
async function measureOnce(b, stand) {
  const inputs = { ...stand.inputs, ...SETUP_ONLY }
  // A runner that has the tools but has never run this bundle (its post step then finds the
  // cache the main step filled, as on a hosted runner).
  if (b.coldCompile)
    rmSync(join(b.runner.toolCache, 'minikube-preview', 'compile-cache'), {
      recursive: true,
      force: true
    })
  const main = await runAction(b.runner, inputs, stand.path, 180_000, { dist: b.dist })
  if (main.exitCode !== 0 || !main.report) throw new Error(`${b.label}: failed:\n${main.stdout}`)
  b.startup.push(Math.min(...main.report.steps.map((s) => s.startedAt)) - main.spawnedAt)
  b.wall.push(main.wallMs)
  const after = await runAction(b.runner, inputs, stand.path, 60_000, {
    dist: b.dist,
    state: main.state
  })
  if (after.exitCode !== 0) throw new Error(`${b.label}: post failed:\n${after.stdout}`)
  b.post.push(after.wallMs)
}

export async function main() {
  const runs = Number(option('runs', '10'))
  const before = option('before', undefined)
  const node = node24Path()
  const dir = tempDir('mp-startup-')
  const version = execFileSync(node, ['--version']).toString().trim()
  console.log(`startup benchmark: ${runs} setup-only runs and posts per bundle, Node ${version}`)
  const stand = await tools(join(dir, 'tools'), {})
  const results = []
  const load = []
  try {
    if (before) {
      mkdirSync(join(dir, 'before'))
      const dist = distAt(before, join(dir, 'before'))
      results.push(await warmRunner(`before (${before})`, dist, stand, dir))
    }
    const cold = await warmRunner('dist/, compile cache cold', DIST, stand, dir)
    results.push({ ...cold, coldCompile: true })
    results.push(await warmRunner('dist/', DIST, stand, dir))
    // Interleaved, so that both bundles see the same load on the machine.
    for (let i = 0; i < runs; i++) {
      for (const b of results) await measureOnce(b, stand)
      load.push(loadavg()[0])
    }
  } finally {
    await stand.close()
    if (flag('keep')) console.log(`  kept ${dir}`)
    else rmSync(dir, { recursive: true, force: true })
  }
  const floors = nodeFloor(node, runs)
  const ms = (x) => `${Math.round(x)} ms`
  const mb = (b) => `${(b / 1e6).toFixed(2)} MB`
  console.log(
    `\n${table([
      [
        'bundle',
        'main chunk',
        'all chunks',
        'startup',
        'fastest',
        'setup-only run',
        'post, nothing to do'
      ],
      ...results.map((r) => [
        r.label,
        mb(r.size.main),
        `${mb(r.size.total)} in ${r.size.chunks + 1}`,
        ms(median(r.startup)),
        ms(Math.min(...r.startup)),
        ms(median(r.wall)),
        ms(median(r.post))
      ]),
      ['node -e 0', '—', '—', ms(median(floors)), ms(Math.min(...floors)), '—', '—']
    ])}`
  )
  console.log(
    `medians of ${runs} (fastest: of startup); startup: process spawned → first step started; setup-only run: spawned → exited, with a warm tool cache; load average ${median(load).toFixed(1)} on ${cpus().length} cores\n`
  )
  const now = results[results.length - 1]
  const s = median(now.startup)
  console.log(
    `target startup ≤ ${TARGET_MS} ms on a setup-only run: ${s <= TARGET_MS ? 'met' : 'NOT met'} (median ${ms(s)}, fastest ${ms(Math.min(...now.startup))})`
  )
  console.log(
    `target main chunk ≤ ${mb(MAIN_CHUNK_TARGET)}: ${now.size.main <= MAIN_CHUNK_TARGET ? 'met' : 'NOT met'} (${mb(now.size.main)})`
  )
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
