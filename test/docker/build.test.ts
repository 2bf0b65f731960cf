// Image builds through the bundled action on a real Docker engine: the real docker CLI, buildx
// and the engine's BuildKit; minikube, helm and kubectl are stand-ins (no cluster, no chart).
import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { runStep, type StepRun } from '../support/action.js'
import { base, docker, registry, removeImages, world, type World } from './engine.js'

const TAG = 'sha-0123456'
const worlds: World[] = []
afterAll(async () => {
  for (const w of worlds) await w.close()
})

async function build(files: Record<string, string>, images: string): Promise<{ w: World; main: StepRun }> {
  const w = await world(files)
  worlds.push(w)
  const main = await runStep(w.runner, {
    inputs: { ...w.inputs, images },
    path: w.path,
    env: w.env,
    timeoutMs: 600_000
  })
  return { w, main }
}

interface ReportImage {
  name: string
  reference: string
  id?: string
  sizeBytes?: number
  buildMs?: number
}

function reportImages(main: StepRun): ReportImage[] {
  const report = JSON.parse(readFileSync(main.outputs['report'] as string, 'utf8')) as {
    images: ReportImage[]
  }
  return report.images
}

function label(reference: string, key: string): string {
  return docker(['image', 'inspect', '--format', `{{index .Config.Labels "${key}"}}`, reference])
}

describe('image builds on a real Docker engine', () => {
  it('builds and tags the image, and reports the ID and size the engine has', async () => {
    const ref = `mp-test/ok:${TAG}`
    removeImages(ref)
    const { w, main } = await build(
      {
        'app/Dockerfile': `FROM ${base('BUSYBOX')}\nRUN echo built > /built.txt\nCMD ["cat", "/built.txt"]\n`
      },
      '- name: mp-test/ok\n  context: app'
    )
    expect(main.exitCode, main.stdout).toBe(0)
    const inspected = JSON.parse(docker(['image', 'inspect', '--format', '{{json .}}', ref])) as {
      Id: string
      Size: number
    }
    const images = JSON.parse(main.outputs['images'] ?? '{}') as Record<string, { id: string }>
    expect(images['mp-test/ok']).toEqual({ reference: ref, id: inspected.Id })
    expect(reportImages(main)).toEqual([
      expect.objectContaining({ reference: ref, id: inspected.Id, sizeBytes: inspected.Size })
    ])
    expect(docker(['run', '--rm', ref])).toBe('built')
    // It was handed to the (stand-in) cluster.
    expect(w.tools.minikube.argvs().some((a) => a[0] === 'image' && a[1] === 'load')).toBe(true)
  })

  it('reports the failing RUN step and its last lines of output', async () => {
    const { w, main } = await build(
      {
        'app/Dockerfile': [
          `FROM ${base('BUSYBOX')}`,
          'RUN echo preparing',
          'RUN echo "collecting dependencies" && echo "error: package left-pad 9.9.9 not found" >&2 && exit 3',
          'RUN echo never'
        ].join('\n')
      },
      '- name: mp-test/fails\n  context: app'
    )
    expect(main.exitCode).toBe(1)
    expect(main.outputs['status']).toBe('error')
    const error = main.errors.join('\n')
    expect(error).toContain(`mp-test/fails:${TAG}`)
    // The failing Dockerfile step, as BuildKit names it, and what it printed last.
    expect(error).toMatch(/\[\d\/\d\] RUN echo "collecting dependencies"/)
    expect(error).toContain('error: package left-pad 9.9.9 not found')
    expect(error).toMatch(/exit code: 3/)
    expect(error).not.toContain('RUN echo never')
    expect(w.tools.minikube.argvs().some((a) => a[0] === 'image' && a[1] === 'load')).toBe(false)
  })

  it('builds the stage named by target, with build-args, from a dockerfile relative to the context', async () => {
    const ref = `mp-test/staged:${TAG}`
    removeImages(ref)
    const { main } = await build(
      {
        'services/api/build/Containerfile': [
          `FROM ${base('BUSYBOX')} AS runtime`,
          'ARG GREETING=unset',
          'LABEL stage=runtime greeting=$GREETING',
          'COPY hello.txt /hello.txt',
          '',
          'FROM runtime AS debug',
          'LABEL stage=debug'
        ].join('\n'),
        'services/api/hello.txt': 'hello from the context\n'
      },
      [
        '- name: mp-test/staged',
        '  context: services/api',
        '  dockerfile: build/Containerfile',
        '  target: runtime',
        '  build-args: [GREETING=hi there]'
      ].join('\n')
    )
    expect(main.exitCode, main.stdout).toBe(0)
    expect(label(ref, 'stage')).toBe('runtime')
    expect(label(ref, 'greeting')).toBe('hi there')
    expect(docker(['run', '--rm', ref, 'cat', '/hello.txt'])).toBe('hello from the context')
  })

  it('says which base image is missing and that it could not be pulled', async () => {
    // A registry that answers (the engine's loopback one) but has no such image.
    const missing = `${registry()}/mp-local/no-such-base:1.0`
    const { main } = await build(
      { 'app/Dockerfile': `FROM ${missing}\nRUN true\n` },
      '- name: mp-test/nobase\n  context: app'
    )
    expect(main.exitCode).toBe(1)
    const error = main.errors.join('\n')
    expect(error).toContain(`the base image ${missing} could not be pulled`)
    expect(error).toContain('not found')
  })
})
