// `cluster: minikube` with `registry`, through the bundled action with stand-in docker and
// minikube: the images are loaded as without a registry, and pushed (from the tarball the build
// exported) only once the preview is healthy, then given the `push-tags`; an unhealthy preview
// pushes and tags nothing. A registry without user and password is pushed to without a login.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { makeRunner, runStep, type Runner, type StepRun } from '../support/action.js'
import { fakeTools, type FakeTools } from '../support/fake-tools.js'
import { crashLoopList, eventsList, healthyList, manifest } from '../support/kube-objects.js'
import type { Rule } from '../support/stand-in.js'

const NS = 'preview'
const HOST = '127.0.0.1:5999'
const REGISTRY = `${HOST}/acme`
const DIGEST = `sha256:${'d4'.repeat(32)}`
const CONFIG = `sha256:${'e5'.repeat(32)}`
const TAG = 'sha-0123456'
const SHA = '0123456789abcdef0123456789abcdef01234567'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

const docker: Rule[] = [
  { match: ['login'], stdout: 'Login Succeeded\n' },
  { match: ['logout'], stdout: `Removing login credentials for ${HOST}\n` },
  { match: ['buildx', 'create'], stdout: 'minikube-preview\n' },
  { match: ['buildx', 'rm'], stderr: 'minikube-preview removed\n' },
  {
    match: ['buildx', 'build'],
    stderr: '#1 [internal] load build definition from Dockerfile\n#9 DONE 0.1s\n',
    writes: [
      {
        flag: '--metadata-file',
        // A pushing build's metadata names the digest it pushed; the others ignore it.
        content: JSON.stringify({
          'containerimage.config.digest': CONFIG,
          'containerimage.digest': DIGEST
        })
      },
      { flag: '--output', field: 'dest', content: 'a docker-format image tarball' }
    ]
  },
  { match: ['image', 'load'], stdout: `Loaded image: api:${TAG}\n` },
  { match: ['image', 'tag'], stdout: '' },
  {
    match: ['image', 'push'],
    stdout: `The push refers to repository [${REGISTRY}/api]\n${TAG}: digest: ${DIGEST} size: 1570\n`
  },
  {
    match: ['buildx', 'imagetools', 'create'],
    stderr: '#1 DONE 0.2s\n',
    writes: [
      {
        flag: '--metadata-file',
        content: JSON.stringify({ 'containerimage.descriptor': { digest: DIGEST, size: 1570 } })
      }
    ]
  }
]

async function world(healthy: boolean): Promise<{ runner: Runner; tools: FakeTools }> {
  const dir = mkdtempSync(join(tmpdir(), 'mp-registry-wiring-'))
  const tools = await fakeTools(join(dir, 'tools'), {
    docker,
    helm: [
      { match: ['template'], stdout: manifest(['api'], false) },
      { match: ['upgrade'], stdout: 'Release "app" has been upgraded. Happy Helming!\n' },
      { match: ['history'], stdout: 'REVISION\tSTATUS\n1\tdeployed\n' },
      {
        match: ['status', '--output'],
        stdout: JSON.stringify({ name: 'app', version: 1, info: { status: 'deployed' } })
      },
      { match: ['get', 'manifest'], stdout: manifest(['api'], false) },
      { match: ['get', 'hooks'], stdout: '' }
    ],
    kubectl: [
      // With cluster: existing, a namespace that is there already and not the action's.
      {
        match: ['get', 'namespace', NS],
        stdout: JSON.stringify({
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: NS, labels: { 'kubernetes.io/metadata.name': NS } },
          status: { phase: 'Active' }
        })
      },
      {
        match: ['get', /^deployments,/],
        stdout: healthy ? healthyList(NS, ['api']) : crashLoopList(NS, [], 'api')
      },
      { match: ['get', 'events'], stdout: eventsList(NS, 'api') },
      { match: ['logs'], stdout: 'FATAL: could not connect to database\n' }
    ]
  })
  cleanups.push(() => tools.close())
  const runner = makeRunner(join(dir, 'runner'))
  mkdirSync(join(runner.workspace, 'docker/api'), { recursive: true })
  writeFileSync(join(runner.workspace, 'docker/api/Dockerfile'), 'FROM scratch\n')
  mkdirSync(join(runner.workspace, 'charts', 'app'), { recursive: true })
  writeFileSync(
    join(runner.workspace, 'charts', 'app', 'Chart.yaml'),
    'apiVersion: v2\nname: app\nversion: 0.1.0\n'
  )
  return { runner, tools }
}

async function mainAndPost(
  w: { runner: Runner; tools: FakeTools },
  inputs: Record<string, string>
): Promise<{ main: StepRun; post: StepRun }> {
  const opts = {
    inputs: {
      ...w.tools.inputs,
      images: '- name: api\n  context: docker/api\n  values: image',
      // A local layer cache: the build runs on a builder and exports a tarball.
      'build-cache': 'local',
      'build-cache-ref': 'cache',
      'minikube-cache': 'false',
      'helm-test': 'false',
      comment: 'never',
      registry: REGISTRY,
      ...inputs
    },
    path: w.tools.path,
    env: { GITHUB_SHA: SHA }
  }
  const main = await runStep(w.runner, opts)
  const post = await runStep(w.runner, { ...opts, state: main.state })
  return { main, post }
}

const credentials = { 'registry-username': 'ci', 'registry-password': 'wiring-password-77d1' }
const index = (argvs: string[][], p: (a: string[]) => boolean): number => argvs.findIndex(p)
const isPush = (a: string[]): boolean => a[0] === 'image' && a[1] === 'push'
const isPromote = (a: string[]): boolean => a[1] === 'imagetools' && a[2] === 'create'

describe('cluster: minikube with registry', () => {
  it('loads the image as before, pushes it from its tarball once healthy, then tags the digest', async () => {
    const w = await world(true)
    const { main, post } = await mainAndPost(w, { ...credentials, 'push-tags': 'v2.0.0' })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.outputs['status']).toBe('healthy')

    // Loaded into the cluster, and the chart runs the loaded image, not a registry one.
    expect(w.tools.minikube.argvs().some((a) => a[0] === 'image' && a[1] === 'load')).toBe(true)
    const upgrade = w.tools.helm.argvs().find((a) => a[0] === 'upgrade') ?? []
    expect(upgrade).toEqual(expect.arrayContaining(['image.repository=api', `image.tag=${TAG}`]))

    const argvs = w.tools.docker.argvs()
    const tarball = argvs.find((a) => a[0] === 'image' && a[1] === 'load')?.at(-1) ?? ''
    expect(tarball).toMatch(/\.tar$/)
    expect(argvs).toContainEqual(['image', 'tag', `api:${TAG}`, `${REGISTRY}/api:${TAG}`])
    expect(argvs).toContainEqual(['image', 'push', `${REGISTRY}/api:${TAG}`])
    // Pushed once, after the tarball reached the cluster; the tarball is gone afterwards.
    expect(existsSync(tarball)).toBe(false)
    expect(index(argvs, isPush)).toBeGreaterThan(index(argvs, (a) => a[0] === 'login'))
    expect(index(argvs, isPromote)).toBeGreaterThan(index(argvs, isPush))
    const promote = argvs.find(isPromote) ?? []
    expect(promote).toContain(`${REGISTRY}/api:v2.0.0`)
    expect(promote.at(-1)).toBe(`${REGISTRY}/api@${DIGEST}`)

    const images = JSON.parse(main.outputs['images'] ?? '{}') as Record<string, unknown>
    expect(images['api']).toMatchObject({
      reference: `api:${TAG}`,
      pushed: `${REGISTRY}/api:${TAG}`,
      digest: DIGEST,
      tags: [`${REGISTRY}/api:v2.0.0`]
    })
    // The summary's image table names where it was pushed.
    expect(main.summary).toContain(`${REGISTRY}/api:${TAG}`)

    // The push came after the preview was verified.
    const report = JSON.parse(readFileSync(main.outputs['report'] as string, 'utf8')) as {
      steps: { id: string; status: string; startedAt?: number; endedAt?: number }[]
    }
    const step = (id: string) => report.steps.find((s) => s.id === id)
    expect(step('push-api')?.status).toBe('success')
    expect(step('push-api')?.startedAt ?? 0).toBeGreaterThanOrEqual(
      step('stable')?.endedAt ?? Infinity
    )
    expect(step('promote')?.status).toBe('success')

    expect(post.exitCode).toBe(0)
    expect(w.tools.docker.argvs().filter((a) => a[0] === 'logout')).toEqual([['logout', HOST]])
  })

  it('an unhealthy preview is loaded but never pushed or tagged', async () => {
    const w = await world(false)
    const { main, post } = await mainAndPost(w, { ...credentials, 'push-tags': 'v2.0.0' })
    expect(main.exitCode).toBe(1)
    expect(main.outputs['status']).toBe('unhealthy')
    expect(w.tools.minikube.argvs().some((a) => a[0] === 'image' && a[1] === 'load')).toBe(true)
    const argvs = w.tools.docker.argvs()
    expect(argvs.filter(isPush)).toEqual([])
    expect(argvs.filter(isPromote)).toEqual([])
    expect(JSON.stringify(argvs)).not.toContain(`${REGISTRY}/api`)
    const images = JSON.parse(main.outputs['images'] ?? '{}') as Record<string, { pushed?: string }>
    expect(images['api']?.pushed).toBeUndefined()
    // Logged in before the build, so logged out in post whatever the verdict.
    expect(post.exitCode).toBe(0)
    expect(w.tools.docker.argvs().filter((a) => a[0] === 'logout')).toEqual([['logout', HOST]])
  })

  it('a registry without user or password: no login, no logout, still pushed', async () => {
    const w = await world(true)
    const { main, post } = await mainAndPost(w, {})
    expect(main.exitCode, main.stdout).toBe(0)
    const argvs = w.tools.docker.argvs()
    expect(argvs.filter((a) => a[0] === 'login' || a[0] === 'logout')).toEqual([])
    expect(argvs).toContainEqual(['image', 'push', `${REGISTRY}/api:${TAG}`])
    expect(post.exitCode).toBe(0)
    expect(w.tools.docker.argvs().filter((a) => a[0] === 'logout')).toEqual([])
  })
})

describe('cluster: existing with registry, on a buildx builder', () => {
  it('the build itself pushes <registry>/<name>:<tag>; the chart gets the digest from its metadata', async () => {
    const w = await world(true)
    const { main, post } = await mainAndPost(w, {
      ...credentials,
      cluster: 'existing',
      namespace: NS
    })
    expect(main.exitCode, main.stdout).toBe(0)
    const argvs = w.tools.docker.argvs()
    const build = argvs.find((a) => a[0] === 'buildx' && a[1] === 'build') ?? []
    expect(build).toEqual(
      expect.arrayContaining([
        '--tag',
        `${REGISTRY}/api:${TAG}`,
        '--output',
        'type=image,push=true'
      ])
    )
    // Straight from the builder: nothing loaded, tagged or pushed through a daemon.
    expect(
      argvs.filter((a) => a[0] === 'image' && ['load', 'tag', 'push'].includes(a[1] ?? ''))
    ).toEqual([])
    expect(w.tools.minikube.argvs()).toEqual([])
    expect(index(argvs, (a) => a[0] === 'login')).toBeLessThan(index(argvs, (a) => a === build))
    const upgrade = w.tools.helm.argvs().find((a) => a[0] === 'upgrade') ?? []
    expect(upgrade).toEqual(
      expect.arrayContaining([`image.repository=${REGISTRY}/api`, `image.tag=${TAG}@${DIGEST}`])
    )
    const images = JSON.parse(main.outputs['images'] ?? '{}') as Record<string, unknown>
    expect(images['api']).toMatchObject({ pushed: `${REGISTRY}/api:${TAG}`, digest: DIGEST })
    expect(post.exitCode).toBe(0)
    expect(w.tools.docker.argvs().filter((a) => a[0] === 'logout')).toEqual([['logout', HOST]])
  })
})
