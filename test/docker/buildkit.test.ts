// Builds through the bundled action on a real standalone BuildKit: buildkitd (started by
// scripts/docker-up.sh on a local socket, registered as the buildx `remote` builder mp-buildkit)
// passed through `builder`, with `build-cache: local`. Before each run the builder's own cache is
// emptied, as every GitHub job starts with a fresh builder: only the cache folder carries over.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runStep, type StepRun } from '../support/action.js'
import { base, docker, removeImages, world, type World } from './engine.js'

const BUILDER = 'mp-buildkit'
const REF = 'mp-test/cached:sha-0123456'
const worlds: World[] = []
const dirs: string[] = []
afterAll(async () => {
  for (const w of worlds) await w.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function emptyBuilderCache(): void {
  docker(['buildx', 'prune', '--builder', BUILDER, '--all', '--force'], 300_000)
}

/** A Dockerfile whose first RUN stands for the expensive dependency step, then the sources. */
function fixture(source: string): Record<string, string> {
  return {
    'app/Dockerfile': [
      `FROM ${base('BUSYBOX')}`,
      'RUN echo "dependencies installed" > /deps.txt',
      'COPY src/ /app/src/',
      'RUN cat /deps.txt /app/src/* > /app/bundle.txt'
    ].join('\n'),
    'app/src/main.txt': source
  }
}

interface ReportImage {
  reference: string
  cache?: string
  steps?: number
  cachedSteps?: number
  tarball?: string
}

async function job(source: string, inputs: Record<string, string>): Promise<{ main: StepRun; w: World; image: ReportImage }> {
  emptyBuilderCache()
  removeImages(REF)
  const w = await world(fixture(source), {}, { loadIntoEngine: true })
  worlds.push(w)
  const main = await runStep(w.runner, {
    inputs: { ...w.inputs, images: '- name: mp-test/cached\n  context: app', ...inputs },
    path: w.path,
    env: w.env,
    timeoutMs: 600_000
  })
  expect(main.exitCode, main.stdout).toBe(0)
  const report = JSON.parse(readFileSync(main.outputs['report'] as string, 'utf8')) as {
    images: ReportImage[]
  }
  return { main, w, image: report.images[0] as ReportImage }
}

describe('builds on a standalone BuildKit through `builder`', () => {
  it('builds on the named builder into a loadable tarball, and a later job takes unchanged steps from the local cache', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'mp-build-cache-'))
    dirs.push(cache)
    const inputs = { builder: BUILDER, 'build-cache': 'local', 'build-cache-ref': cache }

    const cold = await job('line one\n', inputs)
    expect(cold.main.stdout).toContain(`building on the buildx builder '${BUILDER}'`)
    expect(cold.image).toMatchObject({ reference: REF, cache: 'local', steps: 3, cachedSteps: 0 })
    // The build exported a docker-format tarball, minikube was given it, and it loads.
    const tarball = cold.image.tarball as string
    expect(cold.w.tools.minikube.argvs()).toContainEqual(['image', 'load', tarball])
    expect(docker(['run', '--rm', REF, 'cat', '/app/bundle.txt'])).toBe(
      'dependencies installed\nline one'
    )

    // A one-line source change: the dependency step comes from the cache, the rest runs.
    const changed = await job('line two\n', inputs)
    expect(changed.image).toMatchObject({ steps: 3, cachedSteps: 1 })
    expect(changed.main.stdout).toMatch(/1\/3 steps cached/)

    // Nothing changed: every step comes from the cache folder.
    const unchanged = await job('line two\n', inputs)
    expect(unchanged.image).toMatchObject({ steps: 3, cachedSteps: 3 })
    expect(docker(['run', '--rm', REF, 'cat', '/app/bundle.txt'])).toBe(
      'dependencies installed\nline two'
    )
  })

  it('builds without a cache on the named builder when build-cache is none', async () => {
    const none = await job('line one\n', { builder: BUILDER, 'build-cache': 'none' })
    expect(none.main.stdout).toContain(`building on the buildx builder '${BUILDER}'`)
    expect(none.image.cache).toBeUndefined()
    expect(none.image).toMatchObject({ steps: 3, cachedSteps: 0 })
  })
})
