// Image builds through the bundled action with stand-in docker and minikube: which layer cache
// and builder each input picks (exact argv), the tarball minikube loads, the builder removed in
// post, a cache that fails as a warning, and the minikube cache's folders and key.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ROOT, makeRunner, runStep, type Runner, type StepRun } from '../support/action.js'
import { fakeTools, type FakeToolRules, type FakeTools } from '../support/fake-tools.js'
import { startCacheServer } from '../support/cache-server.js'
import type { Rule } from '../support/stand-in.js'

const IMAGE_ID = 'sha256:5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c'
const TARBALL = 'a docker-format image tarball'
const GHA_ENV = {
  ACTIONS_RESULTS_URL: 'http://127.0.0.1:9/',
  ACTIONS_RUNTIME_TOKEN: 'runtime-token-for-buildx'
}
const IMAGE = '- name: todo-api\n  context: docker/api'
const ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64'

const fixture = (name: string): string =>
  readFileSync(join(ROOT, 'test', 'fixtures', 'buildkit', name), 'utf8')

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

/** buildx as it answers a build: plain progress on stderr, the metadata file and the tarball written. */
function buildx(output = fixture('cold-local.txt'), exitCode = 0): Rule[] {
  return [
    { match: ['buildx', 'create'], stdout: 'minikube-preview\n' },
    { match: ['buildx', 'rm'], stderr: 'minikube-preview removed\n' },
    {
      match: ['buildx', 'build'],
      stderr: output,
      exitCode,
      writes:
        exitCode === 0
          ? [
              {
                flag: '--metadata-file',
                content: JSON.stringify({ 'containerimage.config.digest': IMAGE_ID })
              },
              { flag: '--output', field: 'dest', content: TARBALL }
            ]
          : []
    }
  ]
}

async function setup(rules: FakeToolRules): Promise<{ runner: Runner; tools: FakeTools }> {
  const dir = mkdtempSync(join(tmpdir(), 'mp-builds-'))
  const tools = await fakeTools(join(dir, 'tools'), rules)
  cleanups.push(() => tools.close())
  const runner = makeRunner(join(dir, 'runner'))
  mkdirSync(join(runner.workspace, 'docker/api'), { recursive: true })
  writeFileSync(join(runner.workspace, 'docker/api/Dockerfile'), 'FROM scratch\nCOPY . /app\n')
  return { runner, tools }
}

async function mainAndPost(
  runner: Runner,
  tools: FakeTools,
  inputs: Record<string, string>,
  env: Record<string, string | undefined> = {}
): Promise<{ main: StepRun; post: StepRun }> {
  const opts = {
    inputs: { ...tools.inputs, images: IMAGE, 'minikube-cache': 'false', ...inputs },
    path: tools.path,
    env
  }
  const main = await runStep(runner, opts)
  const post = await runStep(runner, { ...opts, state: main.state })
  return { main, post }
}

const dockerCalls = (tools: FakeTools): string[][] => tools.docker.argvs()
const buildCall = (tools: FakeTools): string[] =>
  dockerCalls(tools).find((a) => a[0] === 'build' || (a[0] === 'buildx' && a[1] === 'build')) ?? []

interface ReportImage {
  name: string
  id?: string
  sizeBytes?: number
  steps?: number
  cachedSteps?: number
  cache?: string
  delivery?: string
}
const reportImages = (main: StepRun): ReportImage[] =>
  (JSON.parse(readFileSync(main.outputs['report'] as string, 'utf8')) as { images: ReportImage[] })
    .images

/** The buildx argv with a cache: everything but the two paths under RUNNER_TEMP. */
function buildxArgv(runner: Runner, builder: string, cache: string[]): unknown[] {
  const dir = join(runner.temp, 'minikube-preview-images')
  return [
    'buildx',
    'build',
    '--builder',
    builder,
    '--progress=plain',
    '--tag',
    'todo-api:sha-0123456',
    '--file',
    join(runner.workspace, 'docker/api/Dockerfile'),
    ...cache,
    '--output',
    `type=docker,dest=${join(dir, 'todo-api.tar')}`,
    '--metadata-file',
    join(dir, 'todo-api.metadata.json'),
    join(runner.workspace, 'docker/api')
  ]
}

describe('image builds with a layer cache, through the bundled action', () => {
  it('uses the Actions cache when the runner has it, on a builder it creates and removes', async () => {
    const { runner, tools } = await setup({ docker: buildx() })
    const { main, post } = await mainAndPost(runner, tools, {}, GHA_ENV)
    expect(main.exitCode, main.stdout).toBe(0)

    const [create, build, ...rest] = dockerCalls(tools)
    const builder = create?.[3] as string
    expect(create).toEqual([
      'buildx',
      'create',
      '--name',
      expect.stringMatching(/^minikube-preview-42-\d+$/),
      '--driver',
      'docker-container',
      '--bootstrap'
    ])
    expect(build).toEqual(
      buildxArgv(runner, builder, [
        '--cache-from',
        'type=gha,scope=todo-api',
        '--cache-to',
        'type=gha,scope=todo-api,mode=max,ignore-error=true'
      ])
    )
    // buildx reads the cache service's URL and token from its environment, never from argv.
    expect(JSON.stringify(dockerCalls(tools))).not.toContain(GHA_ENV.ACTIONS_RUNTIME_TOKEN)
    // main builds; post removes the builder it created, and nothing else.
    expect(rest).toEqual([['buildx', 'rm', builder]])
    expect(post.stdout).toContain(`removed the buildx builder ${builder}`)

    // minikube read the exported tarball (no `docker save`, no `image ls` on a new cluster).
    const tarball = join(runner.temp, 'minikube-preview-images', 'todo-api.tar')
    expect(tools.minikube.argvs().filter((a) => a[0] === 'image')).toEqual([
      ['image', 'load', tarball]
    ])
    expect(existsSync(tarball)).toBe(false)
    expect(reportImages(main)).toEqual([
      expect.objectContaining({
        name: 'todo-api',
        id: IMAGE_ID,
        sizeBytes: TARBALL.length,
        steps: 4,
        cachedSteps: 0,
        cache: 'gha',
        delivery: 'loaded'
      })
    ])
    expect(main.summary).toContain('0/4 (gha)')
    expect(JSON.parse(main.outputs['images'] as string)).toEqual({
      'todo-api': { reference: 'todo-api:sha-0123456', id: IMAGE_ID }
    })
  })

  it('uses a registry cache tagged with the image name', async () => {
    const { runner, tools } = await setup({ docker: buildx(fixture('warm-local.txt')) })
    const { main } = await mainAndPost(runner, tools, {
      'build-cache': 'registry',
      'build-cache-ref': 'ghcr.io/octo/todo-cache'
    })
    expect(main.exitCode, main.stdout).toBe(0)
    const builder = dockerCalls(tools)[0]?.[3] as string
    expect(buildCall(tools)).toEqual(
      buildxArgv(runner, builder, [
        '--cache-from',
        'type=registry,ref=ghcr.io/octo/todo-cache:todo-api',
        '--cache-to',
        'type=registry,ref=ghcr.io/octo/todo-cache:todo-api,mode=max,ignore-error=true'
      ])
    )
    expect(reportImages(main)[0]).toMatchObject({ steps: 4, cachedSteps: 3, cache: 'registry' })
    expect(main.summary).toContain('3/4 (registry)')
  })

  it('uses a local cache folder, one per image, and a first run is not a warning', async () => {
    const { runner, tools } = await setup({ docker: buildx(fixture('cold-local.txt')) })
    const { main } = await mainAndPost(runner, tools, {
      'build-cache': 'local',
      'build-cache-ref': '.cache/build'
    })
    expect(main.exitCode, main.stdout).toBe(0)
    const builder = dockerCalls(tools)[0]?.[3] as string
    const dir = join(runner.workspace, '.cache/build/todo-api')
    expect(buildCall(tools)).toEqual(
      buildxArgv(runner, builder, [
        '--cache-from',
        `type=local,src=${dir}`,
        '--cache-to',
        `type=local,dest=${dir},mode=max,ignore-error=true`
      ])
    )
    expect(main.warnings).toEqual([])
    expect(main.stdout).toContain('no layer cache for todo-api yet')
  })

  it('builds with plain docker build and no builder with build-cache: none', async () => {
    const { runner, tools } = await setup({ docker: buildx() })
    const { main, post } = await mainAndPost(runner, tools, { 'build-cache': 'none' }, GHA_ENV)
    expect(main.exitCode, main.stdout).toBe(0)
    expect(dockerCalls(tools)).toEqual([
      [
        'build',
        '--progress=plain',
        '--tag',
        'todo-api:sha-0123456',
        '--file',
        join(runner.workspace, 'docker/api/Dockerfile'),
        join(runner.workspace, 'docker/api')
      ],
      ['image', 'inspect', '--format', '{{json .}}', 'todo-api:sha-0123456']
    ])
    expect(post.stdout).not.toContain('buildx builder')
    expect(tools.minikube.argvs().filter((a) => a[0] === 'image')).toEqual([
      ['image', 'load', 'todo-api:sha-0123456']
    ])
  })

  it('builds on an existing builder and leaves it in place', async () => {
    const { runner, tools } = await setup({ docker: buildx() })
    const { main } = await mainAndPost(runner, tools, { builder: 'ci-builder' }, GHA_ENV)
    expect(main.exitCode, main.stdout).toBe(0)
    expect(dockerCalls(tools)).toEqual([
      buildxArgv(runner, 'ci-builder', [
        '--cache-from',
        'type=gha,scope=todo-api',
        '--cache-to',
        'type=gha,scope=todo-api,mode=max,ignore-error=true'
      ])
    ])
  })

  it('builds into the daemon, with a warning, on a builder of the docker driver', async () => {
    const { runner, tools } = await setup({
      docker: [
        {
          match: ['buildx', 'build', '--cache-to'],
          exitCode: 1,
          stderr: fixture('real-docker-driver-cache.txt')
        },
        {
          match: ['buildx', 'build', '--output'],
          exitCode: 1,
          stderr: fixture('real-docker-driver-tarball.txt')
        },
        { match: ['buildx', 'build', '--load'], stderr: fixture('real-warm-local.txt') }
      ]
    })
    const { main } = await mainAndPost(runner, tools, { builder: 'default' }, GHA_ENV)
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.warnings.join('\n')).toContain(
      "The builder 'default' cannot keep a layer cache or export a tarball (Cache export is not supported for the docker driver); building todo-api into its daemon without a cache"
    )
    const calls = dockerCalls(tools)
    expect(calls[0]).toContain('--cache-to')
    expect(calls.slice(1)).toEqual([
      [
        'buildx',
        'build',
        '--builder',
        'default',
        '--progress=plain',
        '--tag',
        'todo-api:sha-0123456',
        '--file',
        join(runner.workspace, 'docker/api/Dockerfile'),
        '--load',
        '--metadata-file',
        join(runner.temp, 'minikube-preview-images', 'todo-api.metadata.json'),
        join(runner.workspace, 'docker/api')
      ],
      ['image', 'inspect', '--format', '{{json .}}', 'todo-api:sha-0123456']
    ])
    expect(tools.minikube.argvs().filter((a) => a[0] === 'image')).toEqual([
      ['image', 'load', 'todo-api:sha-0123456']
    ])
    expect(reportImages(main)[0]).toMatchObject({ steps: 5, cachedSteps: 5 })
    expect(reportImages(main)[0]?.cache).toBeUndefined()
  })

  it('loads into the cluster Docker with docker-env, on a builder created there', async () => {
    const { runner, tools } = await setup({
      docker: [
        { match: ['context', 'create'], stdout: 'minikube-preview\n' },
        { match: ['context', 'rm'], stdout: 'minikube-preview\n' },
        ...buildx(),
        { match: ['image', 'inspect'], stdout: JSON.stringify({ Id: IMAGE_ID, Size: 42 }) }
      ]
    })
    const { main, post } = await mainAndPost(runner, tools, { 'image-load': 'docker-env' }, GHA_ENV)
    expect(main.exitCode, main.stdout).toBe(0)
    const calls = tools.docker.calls()
    const name = calls[0]?.argv[2] as string
    // buildx refuses TLS settings from the environment: the cluster's Docker becomes a context.
    expect(calls.map((c) => c.argv.slice(0, 2))).toEqual([
      ['context', 'create'],
      ['buildx', 'create'],
      ['buildx', 'build'],
      ['image', 'inspect'],
      ['buildx', 'rm'],
      ['context', 'rm']
    ])
    expect(calls[0]?.argv).toEqual([
      'context',
      'create',
      name,
      '--docker',
      'host=tcp://192.168.49.2:2376,ca=/home/runner/.minikube/certs/ca.pem,cert=/home/runner/.minikube/certs/cert.pem,key=/home/runner/.minikube/certs/key.pem'
    ])
    expect(calls[1]?.argv).toEqual([
      'buildx',
      'create',
      '--name',
      name,
      '--driver',
      'docker-container',
      '--bootstrap',
      name
    ])
    const build = calls[2]?.argv ?? []
    expect(build).toContain('--load')
    expect(build).not.toContain('--output')
    expect(calls[3]?.env?.['DOCKER_HOST']).toBe('tcp://192.168.49.2:2376')
    expect(calls.slice(4).map((c) => c.argv)).toEqual([
      ['buildx', 'rm', name],
      ['context', 'rm', '--force', name]
    ])
    expect(tools.minikube.argvs().filter((a) => a[0] === 'image')).toEqual([])
    expect(post.warnings).toEqual([])
    expect(reportImages(main)[0]).toMatchObject({ id: IMAGE_ID, delivery: 'docker-env' })
  })

  it('warns, and does not fail, when the cache can be neither read nor written', async () => {
    const { runner, tools } = await setup({ docker: buildx(fixture('gha-cache-broken.txt')) })
    const { main } = await mainAndPost(runner, tools, {}, GHA_ENV)
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.outputs['status']).toBe('healthy')
    const warnings = main.warnings.join('\n')
    expect(warnings).toContain('Could not read the layer cache of todo-api')
    expect(warnings).toContain('401 Unauthorized')
    expect(warnings).toContain(
      'Could not save the layer cache of todo-api (the image itself is built)'
    )
  })

  it.each([
    [
      'a registry cache that does not exist yet and cannot be written',
      'real-registry-cache-broken.txt',
      { 'build-cache': 'registry', 'build-cache-ref': 'ghcr.io/octo/todo-cache' },
      [
        'Could not save the layer cache of todo-api (the image itself is built): error writing layer blob'
      ]
    ],
    [
      'a local cache folder that cannot be read',
      'real-local-cache-unreadable.txt',
      { 'build-cache': 'local', 'build-cache-ref': 'cache' },
      ['Could not read the layer cache of todo-api: local cache import at']
    ]
  ])('warns about %s, and builds', async (_what, output, inputs, warnings) => {
    const { runner, tools } = await setup({ docker: buildx(fixture(output)) })
    // The cache folder holds an index.json: not a first run.
    mkdirSync(join(runner.workspace, 'cache', 'todo-api'), { recursive: true })
    writeFileSync(join(runner.workspace, 'cache', 'todo-api', 'index.json'), '{broken')
    const { main } = await mainAndPost(runner, tools, inputs)
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.warnings.map((w) => w.replace(/^::warning::/, ''))).toEqual(
      warnings.map((w) => expect.stringContaining(w))
    )
    // A registry tag that is not there yet is a first run, said in the log only.
    if (output.includes('registry'))
      expect(main.stdout).toContain('no layer cache for todo-api yet')
  })

  it('builds without the cache, with a warning, when BuildKit refuses to set it up', async () => {
    const ok = buildx()[2] as Rule
    const { runner, tools } = await setup({
      docker: [
        {
          match: ['buildx', 'build', '--cache-to'],
          exitCode: 1,
          stderr: fixture('real-gha-token-refused.txt')
        },
        { match: ['buildx', 'build'], stderr: ok.stderr, writes: ok.writes },
        ...buildx()
      ]
    })
    const { main } = await mainAndPost(runner, tools, {}, GHA_ENV)
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.warnings.join('\n')).toContain(
      'Could not use the gha layer cache of todo-api; building without it: failed to configure gha cache exporter: token is malformed'
    )
    const builds = dockerCalls(tools).filter((a) => a[1] === 'build')
    expect(builds).toHaveLength(2)
    const builder = dockerCalls(tools)[0]?.[3] as string
    expect(builds[1]).toEqual(buildxArgv(runner, builder, []))
    expect(reportImages(main)[0]).toMatchObject({ id: IMAGE_ID, delivery: 'loaded' })
    expect(reportImages(main)[0]?.cache).toBeUndefined()
  })

  it('builds without a local cache, with a warning, when its folder cannot be made', async () => {
    const { runner, tools } = await setup({ docker: buildx() })
    writeFileSync(join(runner.workspace, 'not-a-folder'), 'a file\n')
    const { main } = await mainAndPost(runner, tools, {
      'build-cache': 'local',
      'build-cache-ref': 'not-a-folder/cache'
    })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.warnings.join('\n')).toContain(
      'Could not use the layer cache folder of todo-api; building without it'
    )
    const build = buildCall(tools)
    expect(build.slice(0, 4)).toEqual(['buildx', 'build', '--builder', expect.any(String)])
    expect(build).not.toContain('--cache-from')
    expect(build).not.toContain('--cache-to')
  })

  it('builds without a cache, with a warning, when no builder can be created', async () => {
    const { runner, tools } = await setup({
      docker: [
        {
          match: ['buildx', 'create'],
          exitCode: 1,
          stderr:
            'ERROR: failed to bootstrap builder: Error response from daemon: pull access denied for moby/buildkit\n'
        },
        ...buildx()
      ]
    })
    const { main } = await mainAndPost(runner, tools, {}, GHA_ENV)
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.warnings.join('\n')).toMatch(
      /Could not create a buildx builder for the gha layer cache; building without a cache: .*pull access denied/
    )
    expect(buildCall(tools)[0]).toBe('build')
  })

  it('never loads a tarball an earlier job left behind', async () => {
    const { runner, tools } = await setup({
      docker: [{ match: ['buildx', 'build'], stderr: fixture('real-cold-local.txt') }, ...buildx()]
    })
    const dir = join(runner.temp, 'minikube-preview-images')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'todo-api.tar'), 'yesterday')
    const { main } = await mainAndPost(runner, tools, {}, GHA_ENV)
    expect(main.exitCode).toBe(1)
    expect(main.errors.join('\n')).toContain(
      `docker buildx build of todo-api:sha-0123456 wrote no image to ${join(dir, 'todo-api.tar')}`
    )
    expect(tools.minikube.argvs().filter((a) => a[0] === 'image')).toEqual([])
  })

  it('says which base image could not be pulled', async () => {
    const { runner, tools } = await setup({ docker: buildx(fixture('missing-base.txt'), 1) })
    const { main } = await mainAndPost(runner, tools, {}, GHA_ENV)
    expect(main.exitCode).toBe(1)
    expect(main.errors.join('\n')).toContain(
      'the base image docker.io/library/python:3.13-slim could not be pulled'
    )
    expect(tools.minikube.argvs().filter((a) => a[0] === 'image')).toEqual([])
  })

  it('keeps a secret a failing step printed out of the error, the summary and the report', async () => {
    const canary = 'CANARY-b0ild-5ecret-41'
    const failing = fixture('real-run-fails.txt').replace(
      /fastapi==99\.0" >&2/g,
      `fastapi==99.0 ${canary}" >&2`
    )
    expect(failing).toContain(canary)
    const { runner, tools } = await setup({ docker: buildx(failing, 1) })
    const { main } = await mainAndPost(
      runner,
      tools,
      { 'secret-values': `db.password=${canary}` },
      GHA_ENV
    )
    expect(main.exitCode).toBe(1)
    expect(main.errors.join('\n')).toContain('failed at [builder 4/4] RUN echo')
    const report = readFileSync(main.outputs['report'] as string, 'utf8')
    for (const text of [main.errors.join('\n'), main.warnings.join('\n'), main.summary, report])
      expect(text).not.toContain(canary)
  })

  it('refuses build-cache: registry without build-cache-ref, before anything starts', async () => {
    const { runner, tools } = await setup({ docker: buildx() })
    const main = await runStep(runner, {
      inputs: { ...tools.inputs, images: IMAGE, 'build-cache': 'registry' },
      path: tools.path
    })
    expect(main.exitCode).toBe(1)
    expect(main.errors.join('\n')).toContain(
      "input 'build-cache: registry' needs input 'build-cache-ref'"
    )
    expect(dockerCalls(tools)).toEqual([])
    expect(tools.minikube.argvs()).toEqual([])
  })
})

/** The names in a cache archive (zstd, or gzip where zstd is missing). */
function archiveNames(archive: Buffer): string[] {
  const zstd = archive.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))
  const tarball = zstd ? spawnSync('zstd', ['-d', '-c'], { input: archive }).stdout : archive
  const listed = spawnSync('tar', zstd ? ['-t'] : ['-tz'], { input: tarball })
  return listed.stdout.toString().split('\n').filter(Boolean)
}

describe('the minikube cache, through the bundled action', () => {
  it('saves the kic base image and the preload, not the images, and restores them next time', async () => {
    const caches = await startCacheServer()
    cleanups.push(() => caches.close())
    const { runner, tools } = await setup({ docker: buildx() })
    const cacheDir = join(runner.home, '.minikube', 'cache')
    // What `minikube start` and `minikube image load` leave in ~/.minikube/cache.
    const files = {
      kic: join(cacheDir, 'kic', 'amd64', 'kicbase_v0.0.48@sha256_7a8b.tar'),
      preload: join(
        cacheDir,
        'preloaded-tarball',
        'preloaded-images-k8s-v18-v1.37.0-docker-overlay2-amd64.tar.lz4'
      ),
      image: join(cacheDir, 'images', 'amd64', 'todo-api_sha-0123456')
    }
    for (const f of Object.values(files)) {
      mkdirSync(dirname(f), { recursive: true })
      writeFileSync(f, `contents of ${f}`)
    }
    const env = { ACTIONS_CACHE_URL: caches.url, ACTIONS_RUNTIME_TOKEN: 'runtime-token' }
    const inputs = { 'minikube-cache': 'true', 'build-cache': 'none' }
    const first = await mainAndPost(runner, tools, inputs, env)
    expect(first.main.exitCode, first.main.stdout).toBe(0)
    expect(first.post.warnings).toEqual([])
    const saved = caches.entries()
    expect(saved.map((c) => [c.key, c.committed])).toEqual([
      [`minikube-preview-v1.39.0-default-docker-docker-${ARCH}`, true]
    ])
    const names = archiveNames(saved[0]?.archive ?? Buffer.alloc(0))
    expect(
      names.some((n) => n.endsWith('.minikube/cache/kic/amd64/kicbase_v0.0.48@sha256_7a8b.tar'))
    ).toBe(true)
    expect(
      names.some((n) => n.includes('.minikube/cache/preloaded-tarball/preloaded-images'))
    ).toBe(true)
    expect(names.filter((n) => n.includes('cache/images'))).toEqual([])

    // The next job on a fresh runner gets them back, and saves nothing new.
    rmSync(join(runner.home, '.minikube'), { recursive: true })
    const second = await mainAndPost(runner, tools, inputs, env)
    expect(second.main.exitCode, second.main.stdout).toBe(0)
    expect(readFileSync(files.kic, 'utf8')).toBe(`contents of ${files.kic}`)
    expect(existsSync(files.preload)).toBe(true)
    expect(existsSync(files.image)).toBe(false)
    expect(caches.entries()).toHaveLength(1)
  })

  const key = (runtime: string): string =>
    `minikube-preview-v1.39.0-default-docker-${runtime}-${ARCH}`

  it.each([
    [{}, key('docker')],
    [{ 'image-load': 'docker-env' }, key('docker')],
    [{ 'start-args': '--container-runtime=containerd' }, key('containerd')]
  ])('with %j saves kic and the preload under %s', async (inputs, expected) => {
    const { runner, tools } = await setup({ docker: buildx() })
    const main = await runStep(runner, {
      inputs: { ...tools.inputs, images: IMAGE, 'build-cache': 'none', ...inputs },
      path: tools.path
    })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.state['cacheKey']).toBe(expected)
    expect(main.state['cachePath']?.split('\n')).toEqual([
      join(runner.home, '.minikube', 'cache', 'kic'),
      join(runner.home, '.minikube', 'cache', 'preloaded-tarball')
    ])
  })
})
