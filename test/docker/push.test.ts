// Images really pushed by the bundled action: the real docker CLI, buildx and the test engine's
// BuildKit push to the loopback `distribution` registry of scripts/docker-up.sh, the chart is
// deployed on the real control plane (kwok) with `cluster: existing`, and what the registry's
// HTTP API answers is checked against the `images` output and the release's values. `push-tags`
// lands on the verified digest after a healthy run, and never after an unhealthy one.
import { randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, makeRunner, runStep, type Runner, type StepRun } from '../support/action.js'
import { clusterUp, type Cluster, serveTools, type ClusterTools } from '../e2e/cluster.js'
import { base, docker, engineEnv, registry, removeImages } from './engine.js'

const CHART = join(ROOT, 'test', 'e2e', 'charts', 'app')
// The builder scripts/docker-up.sh registers: the engine's buildkitd, which may push to the
// loopback registry over plain HTTP.
const BUILDER = 'mp-buildkit'
const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json'
].join(', ')
const HEALTHY_SHA = '1234567890abcdef1234567890abcdef12345678'
const UNHEALTHY_SHA = 'fedcba0987654321fedcba0987654321fedcba09'

let cluster: Cluster
let tools: ClusterTools
let work: string
let dockerConfig: string
/** A repository path of this run alone: nothing read back can be an earlier run's. */
let space: string
let releaseTag: string
const runners: Runner[] = []

beforeAll(async () => {
  cluster = clusterUp(`mp-push-${process.pid}`)
  tools = await serveTools(cluster.tools)
  work = mkdtempSync(join(tmpdir(), 'mp-push-docker-'))
  const id = randomBytes(4).toString('hex')
  space = `mp-push-test/${id}`
  releaseTag = `release-${id}`
  // The login is stored in a docker config of this test alone, beside the engine's builders.
  dockerConfig = join(work, 'docker-config')
  mkdirSync(dockerConfig)
  const engineConfig = engineEnv()['DOCKER_CONFIG'] as string
  writeFileSync(join(dockerConfig, 'config.json'), readFileSync(join(engineConfig, 'config.json')))
})

afterAll(async () => {
  const ids = (() => {
    try {
      return docker(['image', 'ls', '--format', '{{.ID}} {{.Repository}}'])
        .split('\n')
        .filter((l) => l.includes(`/${space}/`))
        .map((l) => l.split(' ')[0] as string)
    } catch {
      return []
    }
  })()
  removeImages(...new Set(ids))
  for (const r of runners) rmSync(r.root, { recursive: true, force: true })
  if (work) rmSync(work, { recursive: true, force: true })
  await tools?.close()
  cluster?.down()
})

/** What the registry says a tag or digest of a repository is (`Docker-Content-Digest`), or its status. */
async function registryDigest(repository: string, ref: string): Promise<string | number> {
  const res = await fetch(`http://${registry()}/v2/${repository}/manifests/${ref}`, {
    method: 'HEAD',
    headers: { Accept: ACCEPT }
  })
  return res.status === 200 ? (res.headers.get('docker-content-digest') ?? '') : res.status
}

/** One run, main then post, of the action with `cluster: existing`, `images` and `registry`. */
async function run(
  dockerfile: string,
  commit: string,
  inputs: Record<string, string>
): Promise<{ main: StepRun; post: StepRun }> {
  const runner = makeRunner(mkdtempSync(join(work, 'runner-')))
  runners.push(runner)
  mkdirSync(join(runner.workspace, 'app'), { recursive: true })
  writeFileSync(join(runner.workspace, 'app', 'Dockerfile'), dockerfile)
  const engineConfig = engineEnv()['DOCKER_CONFIG'] as string
  const opts = {
    inputs: {
      cluster: 'existing',
      ...tools.inputs,
      chart: CHART,
      release: 'web',
      images: '- name: web\n  context: app\n  values: image',
      builder: BUILDER,
      registry: `${registry()}/${space}`,
      // The test registry asks for no credentials; docker login still succeeds against it.
      'registry-username': 'mp-test',
      'registry-password': 'mp-test-password-unused',
      'wait-timeout': '3m',
      'stable-for': '1s',
      'helm-test': 'false',
      comment: 'never',
      // Post would uninstall the release (cleanup: always), and the values are read after it.
      cleanup: 'never',
      ...inputs
    },
    env: {
      ...engineEnv(),
      DOCKER_CONFIG: dockerConfig,
      BUILDX_CONFIG: join(engineConfig, 'buildx'),
      KUBECONFIG: cluster.kubeconfig,
      GITHUB_SHA: commit
    },
    timeoutMs: 600_000
  }
  const main = await runStep(runner, opts)
  const post = await runStep(runner, { ...opts, state: main.state })
  return { main, post }
}

interface ImageOut {
  reference?: string
  pushed?: string
  digest?: string
  tags?: string[]
}
const imageOut = (main: StepRun): ImageOut =>
  (JSON.parse(main.outputs['images'] || '{}') as Record<string, ImageOut>)['web'] ?? {}

/** The release's user-supplied values, as Helm stored them. */
function releaseValues(namespace: string): { image?: { repository?: string; tag?: string } } {
  return JSON.parse(
    execFileSync(
      join(cluster.tools, 'helm'),
      [
        'get',
        'values',
        'web',
        '--namespace',
        namespace,
        '--output',
        'json',
        '--kubeconfig',
        cluster.kubeconfig
      ],
      { encoding: 'utf8' }
    )
  ) as { image?: { repository?: string; tag?: string } }
}

describe('images pushed to a real registry, deployed by digest on the real control plane', () => {
  let verified = ''

  it('pushes the image, pins the release to the digest the registry has, and tags it after a healthy run', async () => {
    const ns = `push-ok-${randomBytes(3).toString('hex')}`
    const { main, post } = await run(
      `FROM ${base('BUSYBOX')}\nRUN echo ${space} healthy > /id\nCMD ["cat", "/id"]\n`,
      HEALTHY_SHA,
      { namespace: ns, 'push-tags': releaseTag }
    )
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.outputs['status']).toBe('healthy')

    const repository = `${registry()}/${space}/web`
    const out = imageOut(main)
    expect(out.pushed).toBe(`${repository}:sha-1234567`)
    const digest = await registryDigest(`${space}/web`, 'sha-1234567')
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(out.digest).toBe(digest)

    // What was verified is exactly what the registry holds under that digest.
    expect(releaseValues(ns).image).toMatchObject({
      repository,
      tag: `sha-1234567@${digest as string}`
    })
    const pod = cluster.kubectl([
      'get',
      'pods',
      '--namespace',
      ns,
      '--output',
      'jsonpath={.items[*].spec.containers[*].image}'
    ])
    expect(pod).toBe(`${repository}:sha-1234567@${digest as string}`)

    // Promoted: the release tag points at the verified digest.
    expect(await registryDigest(`${space}/web`, releaseTag)).toBe(digest)
    expect(out.tags).toEqual([`${repository}:${releaseTag}`])
    verified = digest as string

    expect(post.exitCode, post.stdout).toBe(0)
    // Logged out again: the run's login is not left in the docker config.
    const config = JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8')) as {
      auths?: Record<string, unknown>
    }
    expect(Object.keys(config.auths ?? {})).not.toContain(registry())
  })

  it('an unhealthy run pushes its image but leaves the release tag where it was, and adds no new tag', async () => {
    expect(verified, 'the healthy run set the release tag').toMatch(/^sha256:/)
    const ns = `push-bad-${randomBytes(3).toString('hex')}`
    const fresh = `never-${randomBytes(4).toString('hex')}`
    const { main } = await run(
      `FROM ${base('BUSYBOX')}\nRUN echo ${space} unhealthy > /id\nCMD ["cat", "/id"]\n`,
      UNHEALTHY_SHA,
      // Pods of this release crash-loop on the test cluster (docs/test-cluster.md).
      { namespace: ns, 'push-tags': `${releaseTag}\n${fresh}`, set: 'state=crash-loop' }
    )
    expect(main.exitCode).toBe(1)
    expect(main.outputs['status']).toBe('unhealthy')

    // It was pushed (the cluster ran it), as a different image.
    const digest = await registryDigest(`${space}/web`, 'sha-fedcba0')
    expect(digest).toMatch(/^sha256:/)
    expect(digest).not.toBe(verified)
    expect(imageOut(main).digest).toBe(digest)
    expect(releaseValues(ns).image?.tag).toBe(`sha-fedcba0@${digest as string}`)

    // The tags never moved to, nor were made for, the unverified digest.
    expect(await registryDigest(`${space}/web`, releaseTag)).toBe(verified)
    expect(await registryDigest(`${space}/web`, fresh)).toBe(404)
    expect(imageOut(main).tags ?? []).toEqual([])
  })
})
