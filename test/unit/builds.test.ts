// Image builds: the layer cache arguments, the buildx argv, BuildKit's plain output read back,
// the build inputs, and the minikube cache's folders and key.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cacheArgs, resolveBuildCache } from '../../src/images/cache.js'
import { describeFailure, parseBuildOutput } from '../../src/images/progress.js'
import { InputErrors, parseInputs } from '../../src/inputs.js'
import { createdCluster } from '../../src/tools/minikube.js'
import {
  buildArgs,
  buildxArgs,
  createBuilderArgs,
  csvField,
  metadataImageId
} from '../../src/tools/docker.js'
import { containerRuntime, minikubeCachePaths, minikubeDir } from '../../src/tools/minikube.js'
import { ROOT } from '../support/action.js'

const fixture = (name: string): string =>
  readFileSync(join(ROOT, 'test', 'fixtures', 'buildkit', name), 'utf8')

const GHA_ENV = {
  ACTIONS_RESULTS_URL: 'https://results-receiver.actions.githubusercontent.com/',
  ACTIONS_RUNTIME_TOKEN: 'runtime-token'
}

const image = {
  name: 'todo-api',
  context: '/w/docker/api',
  dockerfile: '/w/docker/api/Dockerfile',
  target: 'runtime',
  buildArgs: [{ key: 'PY', value: '3.13' }]
}

describe('which layer cache a run uses', () => {
  it.each([
    ['auto', '', GHA_ENV, { kind: 'gha' }],
    ['auto', '', {}, { kind: 'none' }],
    ['auto', '', { ACTIONS_RUNTIME_TOKEN: 't' }, { kind: 'none' }],
    ['gha', '', GHA_ENV, { kind: 'gha' }],
    ['registry', 'ghcr.io/octo/cache', {}, { kind: 'registry', ref: 'ghcr.io/octo/cache' }],
    ['local', '/tmp/c', {}, { kind: 'local', ref: '/tmp/c' }],
    ['none', '', GHA_ENV, { kind: 'none' }]
  ] as const)('%s %s with %j', (input, ref, env, expected) => {
    expect(resolveBuildCache(input, ref, env)).toEqual(expected)
  })

  it('says so when gha is asked for and the cache service is not there', () => {
    const c = resolveBuildCache('gha', '', {})
    expect(c.kind).toBe('none')
    expect(c.warning).toContain('ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN')
  })

  it('says which input wins when build-cache-ref is given to a cache that has no use for it', () => {
    expect(resolveBuildCache('auto', '/tmp/c', GHA_ENV)).toEqual({
      kind: 'gha',
      warning: expect.stringContaining("it is ignored with 'auto'")
    })
  })
})

describe('cache arguments, one scope per image, mode=max', () => {
  it.each([
    [{ kind: 'none' } as const, 'todo-api', []],
    [
      { kind: 'gha' } as const,
      'todo-api',
      [
        '--cache-from',
        'type=gha,scope=todo-api',
        '--cache-to',
        'type=gha,scope=todo-api,mode=max,ignore-error=true'
      ]
    ],
    [
      { kind: 'registry', ref: 'ghcr.io/octo/cache' } as const,
      'octo/todo-api',
      [
        '--cache-from',
        'type=registry,ref=ghcr.io/octo/cache:octo-todo-api',
        '--cache-to',
        'type=registry,ref=ghcr.io/octo/cache:octo-todo-api,mode=max,ignore-error=true'
      ]
    ],
    [
      { kind: 'local', ref: '/tmp/cache' } as const,
      'todo-api',
      [
        '--cache-from',
        'type=local,src=/tmp/cache/todo-api',
        '--cache-to',
        'type=local,dest=/tmp/cache/todo-api,mode=max,ignore-error=true'
      ]
    ]
  ])('%j for %s', (cache, name, argv) => expect(cacheArgs(cache, name)).toEqual(argv))
})

describe('docker argv', () => {
  it('builds on the daemon without a builder', () => {
    expect(buildArgs(image, 'todo-api:sha-1234567')).toEqual([
      'build',
      '--progress=plain',
      '--tag',
      'todo-api:sha-1234567',
      '--file',
      '/w/docker/api/Dockerfile',
      '--target',
      'runtime',
      '--build-arg',
      'PY=3.13',
      '/w/docker/api'
    ])
  })

  it('exports a tarball from a builder, with the cache', () => {
    expect(
      buildxArgs(image, 'todo-api:sha-1234567', {
        builder: 'ci',
        cacheArgs: ['--cache-from', 'type=gha,scope=todo-api'],
        output: { tarball: '/t/todo-api.tar' },
        metadataFile: '/t/todo-api.metadata.json'
      })
    ).toEqual([
      'buildx',
      'build',
      '--builder',
      'ci',
      '--progress=plain',
      '--tag',
      'todo-api:sha-1234567',
      '--file',
      '/w/docker/api/Dockerfile',
      '--target',
      'runtime',
      '--build-arg',
      'PY=3.13',
      '--cache-from',
      'type=gha,scope=todo-api',
      '--output',
      'type=docker,dest=/t/todo-api.tar',
      '--metadata-file',
      '/t/todo-api.metadata.json',
      '/w/docker/api'
    ])
  })

  it('loads into the daemon with docker-env, and quotes a tarball path with a comma', () => {
    const o = { builder: 'ci', cacheArgs: [], metadataFile: '/t/m.json' }
    expect(buildxArgs(image, 'a:b', { ...o, output: 'load' })).toContain('--load')
    expect(buildxArgs(image, 'a:b', { ...o, output: { tarball: '/t/a,b.tar' } })).toContain(
      'type=docker,"dest=/t/a,b.tar"'
    )
    expect(csvField('say "hi"')).toBe('"say ""hi"""')
  })

  it('creates a docker-container builder', () => {
    expect(createBuilderArgs('minikube-preview-42-1-77')).toEqual([
      'buildx',
      'create',
      '--name',
      'minikube-preview-42-1-77',
      '--driver',
      'docker-container',
      '--bootstrap'
    ])
  })

  it('reads the image ID from buildx metadata', () => {
    const id = `sha256:${'ab'.repeat(32)}`
    expect(metadataImageId(JSON.stringify({ 'containerimage.config.digest': id }))).toBe(id)
    expect(metadataImageId('{"containerimage.config.digest":"sha256:short"}')).toBeUndefined()
    expect(metadataImageId('not json')).toBeUndefined()
  })
})

describe("BuildKit's plain output", () => {
  it('counts the Dockerfile steps of a cold build, none cached', () => {
    const p = parseBuildOutput(fixture('cold-local.txt'))
    expect([p.cached, p.steps]).toEqual([0, 4])
    expect(p.failed).toBeUndefined()
    expect(p.cacheImport).toEqual([])
    expect(p.cacheExport).toEqual([])
    // The empty cache folder of a first run, as buildx's client says it.
    expect(p.cacheWarnings).toEqual([
      expect.stringMatching(/^local cache import at \/tmp\/build-cache\/todo-api skipped/)
    ])
    // A step printed in two pieces (interleaved with another) is one step.
    const pip = p.vertices.filter((v) => v.name.includes('RUN pip install'))
    expect(pip).toHaveLength(1)
    expect(pip[0]?.logs).toContain(
      'Successfully installed annotated-types-0.7.0 anyio-4.7.0 fastapi-0.115.6 pydantic-2.10.3 starlette-0.41.3 uvicorn-0.32.1'
    )
  })

  it('counts the cached steps of a rebuild after a one-line change', () => {
    const p = parseBuildOutput(fixture('warm-local.txt'))
    expect([p.cached, p.steps]).toEqual([3, 4])
    expect(p.cacheWarnings).toEqual([])
  })

  it.each([
    // Recorded on BuildKit v0.34.2 (remote builder), buildx v0.38.2, `build-cache: local`.
    ['real-cold-local.txt', 0, 1],
    ['real-warm-local.txt', 5, 0],
    ['real-changed-local.txt', 3, 0]
  ])('counts %s: %i of 5 steps cached', (name, cached, warnings) => {
    const p = parseBuildOutput(fixture(name))
    expect([p.cached, p.steps]).toEqual([cached, 5])
    expect(p.failed).toBeUndefined()
    expect(p.cacheImport).toEqual([])
    expect(p.cacheExport).toEqual([])
    expect(p.cacheWarnings).toHaveLength(warnings)
  })

  it('names the failing step and its last output lines', () => {
    const p = parseBuildOutput(fixture('run-fails.txt'))
    expect(p.failed?.step).toBe('[builder 4/5] RUN pip install --no-cache-dir -r requirements.txt')
    expect(p.failed?.lines).toEqual([
      'Collecting fastapi==99.0 (from -r requirements.txt (line 1))',
      'ERROR: Could not find a version that satisfies the requirement fastapi==99.0 (from versions: 0.1.17, 0.115.5, 0.115.6)',
      'ERROR: No matching distribution found for fastapi==99.0'
    ])
    expect(p.missingBase).toBeUndefined()
    expect([p.cached, p.steps]).toEqual([2, 4])
    const told = describeFailure('todo-api:sha-1234567', 1, p)
    const [head, ...rest] = told.split('\n')
    expect(head).toBe(
      'docker build of todo-api:sha-1234567 failed at [builder 4/5] RUN pip install --no-cache-dir -r requirements.txt: process "/bin/sh -c pip install --no-cache-dir -r requirements.txt" did not complete successfully: exit code: 1'
    )
    expect(rest.at(-1)).toBe('ERROR: No matching distribution found for fastapi==99.0')
  })

  it.each([
    ['real-run-fails.txt', '[builder 4/4] RUN echo', /^process "\/bin\/sh -c echo/],
    ['real-run-fails-docker-driver.txt', '[builder 4/4] RUN echo', /^executor failed running/]
  ])('names the failing step of %s', (name, step, error) => {
    const p = parseBuildOutput(fixture(name))
    expect(p.failed?.step.startsWith(step)).toBe(true)
    expect(p.failed?.error).toMatch(error)
    expect(p.failed?.lines).toEqual([
      'Collecting fastapi==99.0',
      'ERROR: No matching distribution found for fastapi==99.0'
    ])
    expect(p.missingBase).toBeUndefined()
  })

  it.each([
    ['real-missing-base.txt', '127.0.0.1:5765/mp-local/nosuch:1', /: not found$/],
    ['real-missing-base-no-network.txt', 'docker.io/library/python:3.13-slim', /no such host$/],
    [
      'real-missing-base-docker-driver.txt',
      '127.0.0.1:5765/mp-local/no-such-base:1.0',
      /: not found$/
    ]
  ])('says that %s names a base image that could not be pulled', (name, image, error) => {
    const p = parseBuildOutput(fixture(name))
    expect(p.missingBase?.image).toBe(image)
    expect(p.missingBase?.error).toMatch(error)
    expect(describeFailure('todo-api:sha-1234567', 1, p)).toContain(
      `the base image ${image} could not be pulled: `
    )
  })

  it('says which base image could not be pulled', () => {
    const p = parseBuildOutput(fixture('missing-base.txt'))
    expect(p.missingBase?.image).toBe('docker.io/library/python:3.13-slim')
    expect(describeFailure('todo-api:sha-1234567', 1, p)).toMatch(
      /^docker build of todo-api:sha-1234567 failed: the base image docker\.io\/library\/python:3\.13-slim could not be pulled: failed to do request: Head .*no such host$/
    )
  })

  it('tells a cache that could be neither read nor written apart from the build', () => {
    const p = parseBuildOutput(fixture('gha-cache-broken.txt'))
    expect(p.failed).toBeUndefined()
    expect(p.cacheImport).toEqual([
      {
        what: 'importing cache manifest from gha:11683920112004546813',
        error: expect.stringContaining('401 Unauthorized')
      }
    ])
    expect(p.cacheExport).toEqual([
      {
        what: 'exporting to GitHub Actions Cache',
        error: expect.stringContaining('failed to reserve cache')
      }
    ])
    expect([p.cached, p.steps]).toEqual([0, 4])
  })

  it('reads a first registry cache as a miss and a refused cache export, on a build that succeeded', () => {
    const p = parseBuildOutput(fixture('real-registry-cache-broken.txt'))
    expect(p.failed).toBeUndefined()
    expect(p.cacheImport).toEqual([
      {
        what: 'importing cache manifest from 127.0.0.1:5765/mp-cache/rec-api:none',
        error:
          'failed to configure registry cache importer: 127.0.0.1:5765/mp-cache/rec-api:none: not found'
      }
    ])
    expect(p.cacheExport).toEqual([
      {
        what: 'exporting cache to registry',
        error: expect.stringMatching(/^error writing layer blob: .*connection refused$/)
      }
    ])
  })

  it("keeps buildx's warning about a local cache it could not read", () => {
    const p = parseBuildOutput(fixture('real-local-cache-unreadable.txt'))
    expect(p.failed).toBeUndefined()
    expect(p.cacheWarnings).toEqual([
      expect.stringContaining('skipped due to err: could not unmarshal')
    ])
  })

  it('falls back to the last ERROR line when no step failed', () => {
    const p = parseBuildOutput(
      '#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\nERROR: failed to build: failed to solve: dockerfile parse error on line 3: unknown instruction: RUNN\n'
    )
    expect(describeFailure('a:b', 1, p)).toBe(
      'docker build of a:b failed (exit code 1): failed to build: failed to solve: dockerfile parse error on line 3: unknown instruction: RUNN'
    )
  })
})

describe('build inputs', () => {
  const read =
    (inputs: Record<string, string>) =>
    (name: string): string =>
      inputs[name] ?? ''
  const problems = (inputs: Record<string, string>): string[] => {
    try {
      parseInputs(read(inputs), '/w')
      return []
    } catch (err) {
      if (err instanceof InputErrors) return err.problems
      throw err
    }
  }

  it('defaults to auto with no builder', () => {
    const i = parseInputs(read({}), '/w')
    expect([i.buildCache, i.buildCacheRef, i.builder]).toEqual(['auto', '', ''])
  })

  it.each(['registry', 'local'])(
    'refuses build-cache: %s without build-cache-ref, naming both',
    (kind) => {
      const [p, ...more] = problems({ 'build-cache': kind })
      expect(more).toEqual([])
      expect(p).toContain(`'build-cache: ${kind}'`)
      expect(p).toContain(`'build-cache-ref'`)
    }
  )

  it.each([
    [
      { 'build-cache': 'sometimes' },
      "input 'build-cache' must be one of 'auto', 'gha', 'registry', 'local', 'none'"
    ],
    [{ 'build-cache': 'registry', 'build-cache-ref': 'ghcr.io/octo/cache:v1' }, 'without a tag'],
    [{ 'build-cache': 'registry', 'build-cache-ref': 'Not A Ref' }, 'an image repository'],
    [{ 'build-cache': 'local', 'build-cache-ref': '/tmp/a,mode=min' }, 'without commas'],
    [{ builder: 'my builder' }, "input 'builder' must be the name of a buildx builder"]
  ])('refuses %j', (inputs, message) => {
    expect(problems(inputs).join('\n')).toContain(message)
  })

  it('resolves a local cache folder against the workspace', () => {
    const i = parseInputs(read({ 'build-cache': 'local', 'build-cache-ref': '.cache/build' }), '/w')
    expect(i.buildCacheRef).toBe('/w/.cache/build')
  })

  it('keeps a registry ref with a port', () => {
    const i = parseInputs(
      read({ 'build-cache': 'registry', 'build-cache-ref': 'localhost:5000/octo/cache' }),
      '/w'
    )
    expect(i.buildCacheRef).toBe('localhost:5000/octo/cache')
  })
})

describe('the minikube cache', () => {
  it('saves the kic base image and the preload, not cache/images', () => {
    expect(minikubeCachePaths('/home/runner/.minikube')).toEqual([
      '/home/runner/.minikube/cache/kic',
      '/home/runner/.minikube/cache/preloaded-tarball'
    ])
  })

  it.each([
    [{}, '/home/r/.minikube'],
    [{ MINIKUBE_HOME: '/data' }, '/data/.minikube'],
    [{ MINIKUBE_HOME: '/data/.minikube' }, '/data/.minikube']
  ])('finds minikube at %j', (env, dir) => expect(minikubeDir(env, '/home/r')).toBe(dir))

  it.each([
    ['load', [], 'docker'],
    ['docker-env', [], 'docker'],
    ['load', ['--container-runtime=containerd'], 'containerd'],
    ['load', ['--container-runtime', 'cri-o'], 'cri-o']
  ])('image-load %s with start-args %j runs %s', (load, args, runtime) => {
    expect(containerRuntime(load, args)).toBe(runtime)
  })

  it('tells a cluster minikube created from one it started again', () => {
    const created =
      '😄  minikube v1.39.0 on Ubuntu 24.04\n🔥  Creating docker container (CPUs=2, Memory=4096MB) ...\n🏄  Done!\n'
    const reused =
      '😄  minikube v1.39.0 on Ubuntu 24.04\n🏃  Updating the running docker "minikube" container ...\n🏄  Done!\n'
    expect(createdCluster({ stdout: created, stderr: '' })).toBe(true)
    expect(createdCluster({ stdout: reused, stderr: '' })).toBe(false)
    expect(createdCluster({ stdout: '🏄  Done!\n', stderr: '' })).toBe(false)
  })
})
