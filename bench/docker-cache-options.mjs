// Other ways to export the local layer cache, for the reference backend on the real Docker engine
// (npm run docker:up): `docker buildx build` on `mp-buildkit` with the argv the action uses
// (tarball output, `--cache-from type=local,src=…`, `--cache-to type=local,dest=…,…`) and
// only the `--cache-to` parameters varied. Each build is a new job: the builder is pruned first,
// the cache folder carries over. Cold, unchanged, and after a one-line change in app/main.py.
//
//   node bench/docker-cache-options.mjs [--runs N]      (npm run bench:docker-cache-options)
import { execFileSync, spawnSync } from 'node:child_process'
import { appendFileSync, cpSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { option, ROOT, seconds, table, tempDir } from './lib.mjs'

const BUILDER = 'mp-buildkit'
const RUNS = Number(option('runs', '1'))
const OPTIONS = [
  'mode=max',
  'mode=max,compression=uncompressed',
  'mode=max,compression=uncompressed,force-compression=true',
  'mode=max,compression=zstd',
  'mode=max,compression=zstd,force-compression=true',
  'mode=min',
  'mode=min,compression=zstd,force-compression=true'
]

function engine() {
  const env = {}
  const out = execFileSync('bash', [join(ROOT, 'scripts', 'docker-up.sh')], {
    stdio: ['ignore', 'pipe', 'inherit']
  }).toString()
  const names = execFileSync('bash', [join(ROOT, 'scripts', 'docker-bases.sh'), 'names'])
  for (const line of `${out}\n${names}`.trim().split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line)
    if (m) env[m[1]] = m[2]
  }
  return env
}

const ENV = engine()

/** docker's stdout and stderr (where buildx writes its progress); a failure throws. */
function docker(args) {
  const r = spawnSync('docker', args, {
    env: { ...process.env, DOCKER_HOST: ENV.DOCKER_HOST, DOCKER_CONFIG: ENV.DOCKER_CONFIG },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
    timeout: 30 * 60_000
  })
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`
  if (r.status !== 0)
    throw new Error(`docker ${args.slice(0, 2).join(' ')} failed:\n${out.slice(-3000)}`)
  return out
}

/** One job on an empty builder: build time and steps cached. */
function job(root, context, cacheDir, cacheTo) {
  docker(['buildx', 'prune', '--builder', BUILDER, '--all', '--force'])
  const t = Date.now()
  const out = docker([
    'buildx',
    'build',
    '--builder',
    BUILDER,
    '--progress=plain',
    '--tag',
    'bench/cache-options:latest',
    '--build-arg',
    `PYTHON_IMAGE=${ENV.PYTHON_IMAGE}`,
    '--cache-from',
    `type=local,src=${cacheDir}`,
    '--cache-to',
    `type=local,dest=${cacheDir},${cacheTo},ignore-error=true`,
    '--output',
    `type=docker,dest=${join(root, 'image.tar')}`,
    context
  ])
  return { ms: Date.now() - t, cached: (out.match(/ CACHED$/gm) ?? []).length }
}

function folderMB(dir) {
  return Number(execFileSync('du', ['-sm', dir]).toString().split('\t')[0])
}

const rows = []
for (const cacheTo of OPTIONS) {
  for (let r = 1; r <= RUNS; r++) {
    const root = tempDir('mp-bench-cache-options-')
    try {
      const context = join(root, 'context')
      cpSync(join(ROOT, 'docker', 'backend'), context, {
        recursive: true,
        filter: (p) => !/(__pycache__|\.pytest_cache)/.test(p)
      })
      const cacheDir = join(root, 'cache')
      const cold = job(root, context, cacheDir, cacheTo)
      const same = job(root, context, cacheDir, cacheTo)
      appendFileSync(join(context, 'app', 'main.py'), '# one-line change\n')
      const edited = job(root, context, cacheDir, cacheTo)
      const pct = (x) => `${((100 * x.ms) / cold.ms).toFixed(0)}%`
      rows.push([
        `${cacheTo}${RUNS > 1 ? ` (${r})` : ''}`,
        seconds(cold.ms),
        seconds(same.ms),
        pct(same),
        `${same.cached}`,
        seconds(edited.ms),
        pct(edited),
        `${edited.cached}`,
        `${folderMB(cacheDir)} MB`
      ])
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  }
}
console.log(
  table([
    [
      '--cache-to type=local,…',
      'cold',
      'unchanged',
      'of cold',
      'cached',
      'one-line',
      'of cold',
      'cached',
      'folder'
    ],
    ...rows
  ])
)
