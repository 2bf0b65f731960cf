// The layer-cache benchmark on the real Docker engine (npm run docker:up): the bundled action
// builds with `builder: mp-buildkit` (the standalone buildkitd) and `build-cache: local`, each run
// a new job whose builder starts empty (its cache is pruned first), so only the cache folder
// carries over, as on GitHub's runners. Two images: a fixture whose dependency step takes 20 s,
// and the reference backend (docker/backend, on the local Python base; pip reaches PyPI). Each is
// built cold, again with no change, and after a one-line source change; the backend also with
// `build-cache: registry` on the engine's loopback registry (whose importer is lazy).
// Then, for the backend: build end → a tarball the cluster can load, BuildKit's tarball export
// against `--load` into the engine followed by `docker save`.
//
//   node bench/docker-build.mjs [--runs N] [--keep]      (npm run bench:docker)
import { execFileSync } from 'node:child_process'
import { appendFileSync, cpSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  flag,
  median,
  option,
  ROOT,
  runAction,
  runnerRoot,
  seconds,
  table,
  tempDir,
  tools
} from './lib.mjs'

const BUILDER = 'mp-buildkit'
const RUNS = Number(option('runs', '1'))
const TARGETS = { unchanged: 0.1, oneLine: 0.35 }

/** The engine of scripts/docker-up.sh (started if it is not running): its env lines. */
function engine() {
  const out = execFileSync('bash', [join(ROOT, 'scripts', 'docker-up.sh')], {
    stdio: ['ignore', 'pipe', 'inherit']
  }).toString()
  const env = {}
  for (const line of out.trim().split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line)
    if (m) env[m[1]] = m[2]
  }
  const names = execFileSync('bash', [join(ROOT, 'scripts', 'docker-bases.sh'), 'names']).toString()
  for (const line of names.trim().split('\n')) {
    const m = /^([A-Z]+_IMAGE)=(.*)$/.exec(line)
    if (m) env[m[1]] = m[2]
  }
  return env
}

const ENV = engine()
const dockerEnv = { DOCKER_HOST: ENV.DOCKER_HOST, DOCKER_CONFIG: ENV.DOCKER_CONFIG }

function docker(args) {
  return execFileSync('docker', args, {
    env: { ...process.env, ...dockerEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
    timeout: 30 * 60_000
  }).toString()
}

function timed(fn) {
  const t = Date.now()
  fn()
  return Date.now() - t
}

/** The fixture: a 20 s dependency step, then the sources. */
function slowFixture(dir) {
  mkdirSync(join(dir, 'src'), { recursive: true })
  writeFileSync(
    join(dir, 'Dockerfile'),
    [
      `FROM ${ENV.BUSYBOX_IMAGE}`,
      'RUN sleep 20 && echo "dependencies installed" > /deps.txt',
      'COPY src/ /app/src/',
      'RUN cat /deps.txt /app/src/* > /app/bundle.txt'
    ].join('\n')
  )
  writeFileSync(join(dir, 'src', 'main.txt'), 'line one\n')
  return { change: () => appendFileSync(join(dir, 'src', 'main.txt'), 'one more line\n') }
}

/** A copy of docker/backend; the one-line change is a new line in app/main.py. */
function backend(dir) {
  cpSync(join(ROOT, 'docker', 'backend'), dir, {
    recursive: true,
    filter: (p) => !/(__pycache__|\.pytest_cache)/.test(p)
  })
  return {
    buildArgs: [`PYTHON_IMAGE=${ENV.PYTHON_IMAGE}`],
    change: () => appendFileSync(join(dir, 'app', 'main.py'), '# one-line change\n')
  }
}

/** One job: an empty builder, a fresh runner, the action building `image` from `context`. */
async function job(root, n, image, context, buildArgs, cache) {
  const cacheInputs =
    cache.kind === 'registry'
      ? { 'build-cache': 'registry', 'build-cache-ref': cache.ref }
      : { 'build-cache': 'local', 'build-cache-ref': cache.ref }
  docker(['buildx', 'prune', '--builder', BUILDER, '--all', '--force'])
  const runner = runnerRoot(join(root, `job-${n}`))
  const stand = await tools(join(root, `tools-${n}`), {})
  const args = buildArgs?.length ? `\n  build-args: [${buildArgs.join(', ')}]` : ''
  try {
    const run = await runAction(
      runner,
      {
        ...stand.inputs,
        images: `- name: ${image}\n  context: ${context}${args}`,
        builder: BUILDER,
        ...cacheInputs,
        'minikube-cache': 'false',
        comment: 'never',
        'github-token': ''
      },
      process.env.PATH ?? '',
      30 * 60_000,
      { env: dockerEnv }
    )
    const img = run.report?.images?.[0]
    if (run.exitCode !== 0 || !img?.buildMs) {
      throw new Error(`the action failed (exit ${run.exitCode}):\n${run.stdout.slice(-3000)}`)
    }
    return { buildMs: img.buildMs, wallMs: run.wallMs, steps: img.steps, cached: img.cachedSteps }
  } finally {
    await stand.close()
  }
}

async function scenario(name, make, kind) {
  const rows = []
  const ratios = { unchanged: [], oneLine: [] }
  for (let r = 1; r <= RUNS; r++) {
    const root = tempDir('mp-bench-docker-')
    try {
      const context = join(root, 'context')
      const ws = (n) => join(root, `job-${n}`, 'workspace')
      // A local folder, or a repository of the engine's loopback registry no run used before.
      const cache =
        kind === 'registry'
          ? { kind, ref: `${ENV.MP_REGISTRY}/bench-cache-${Date.now().toString(36)}` }
          : { kind, ref: join(root, 'cache') }
      // Each job's workspace holds the context as that commit has it.
      const { buildArgs, change } = make(context)
      const put = (n) => cpSync(context, join(ws(n), 'ctx'), { recursive: true })
      put(1)
      const cold = await job(root, 1, `bench/${name}`, 'ctx', buildArgs, cache)
      put(2)
      const same = await job(root, 2, `bench/${name}`, 'ctx', buildArgs, cache)
      change()
      put(3)
      const edited = await job(root, 3, `bench/${name}`, 'ctx', buildArgs, cache)
      ratios.unchanged.push(same.buildMs / cold.buildMs)
      ratios.oneLine.push(edited.buildMs / cold.buildMs)
      for (const [label, x] of [
        ['cold', cold],
        ['unchanged', same],
        ['one-line change', edited]
      ]) {
        rows.push([
          `${name}, ${kind}: ${label}${RUNS > 1 ? ` ${r}` : ''}`,
          seconds(x.buildMs),
          `${((100 * x.buildMs) / cold.buildMs).toFixed(0)}%`,
          `${x.cached}/${x.steps}`,
          seconds(x.wallMs)
        ])
      }
    } finally {
      if (flag('keep')) console.log(`  kept ${root}`)
      else rmSync(root, { recursive: true, force: true })
    }
  }
  return {
    name: `${name}, build-cache: ${kind}`,
    rows,
    unchanged: median(ratios.unchanged),
    oneLine: median(ratios.oneLine)
  }
}

/** Build end → loadable tarball for the backend, from a builder that has every layer. */
function exportVsSave() {
  const root = tempDir('mp-bench-export-')
  const rows = []
  try {
    const context = join(root, 'context')
    const { buildArgs } = backend(context)
    const tag = 'bench/backend-export:latest'
    const base = ['buildx', 'build', '--builder', BUILDER, '--progress=plain', '--tag', tag]
    for (const a of buildArgs) base.push('--build-arg', a)
    // Warm the builder: every step cached below.
    docker([...base, '--output', `type=docker,dest=${join(root, 'warm.tar')}`, context])
    for (let r = 1; r <= Math.max(RUNS, 3); r++) {
      const tar = join(root, `export-${r}.tar`)
      const exportMs = timed(() =>
        docker([...base, '--output', `type=docker,dest=${tar}`, context])
      )
      const size = statSync(tar).size
      docker(['image', 'rm', '--force', tag])
      const loadMs = timed(() => docker([...base, '--load', context]))
      const saved = join(root, `save-${r}.tar`)
      const saveMs = timed(() => docker(['save', '--output', saved, tag]))
      rows.push([
        `run ${r}`,
        seconds(exportMs),
        `${(size / 1e6).toFixed(0)} MB`,
        seconds(loadMs),
        seconds(saveMs),
        seconds(loadMs + saveMs),
        `${((loadMs + saveMs) / exportMs).toFixed(1)}x`
      ])
      rmSync(tar)
      rmSync(saved)
    }
  } finally {
    if (flag('keep')) console.log(`  kept ${root}`)
    else rmSync(root, { recursive: true, force: true })
  }
  return rows
}

const results = [
  await scenario('slow-step', slowFixture, 'local'),
  await scenario('backend', backend, 'local'),
  await scenario('backend', backend, 'registry')
]
console.log(
  table([
    ['build', 'build time', 'of cold', 'steps cached', 'action wall'],
    ...results.flatMap((r) => r.rows)
  ])
)
let met = true
for (const r of results) {
  const ok = r.unchanged <= TARGETS.unchanged && r.oneLine <= TARGETS.oneLine
  met &&= ok
  console.log(
    `target ${r.name}: unchanged ≤ ${TARGETS.unchanged * 100}% of cold, one-line change ≤ ${TARGETS.oneLine * 100}%: ${ok ? 'met' : 'NOT met'} (${(r.unchanged * 100).toFixed(0)}%, ${(r.oneLine * 100).toFixed(0)}%)`
  )
}
console.log()
console.log('build end → loadable tarball (backend, every step cached)')
console.log(
  table([
    ['', 'tarball export', 'size', '--load', 'docker save', 'load + save', 'vs export'],
    ...exportVsSave()
  ])
)
process.exitCode = met ? 0 : 1
