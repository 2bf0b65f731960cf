// A chart whose dependency comes from a chart repository (a local one on 127.0.0.1, made with
// `helm package` and `helm repo index`), deployed through the bundled action with the real
// helm 4 and helm 3 onto the real control plane.
import { execFile } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, makeRunner, runStep, type Runner } from '../support/action.js'
import { clusterUp, type Cluster, HELM4, HELM3, serveTools, type ClusterTools } from './cluster.js'

const PROBE = join(ROOT, 'test', 'e2e', 'charts', 'probe')

let cluster: Cluster
let tools: ClusterTools
let repo: { url: string; requests: string[]; close(): Promise<void> }
let work: string

/** A chart repository: every file of `dir`, over HTTP on 127.0.0.1, each request recorded. */
async function serveRepository(dir: string): Promise<typeof repo> {
  const requests: string[] = []
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    requests.push(path)
    const file = join(dir, path.replace(/^\/charts\//, ''))
    if (!path.startsWith('/charts/') || !existsSync(file) || file.includes('..')) {
      res.writeHead(404).end('not found')
      return
    }
    res.writeHead(200).end(readFileSync(file))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/charts`,
    requests,
    close: () => new Promise((r) => server.close(() => r()))
  }
}

// Never a synchronous call: the repository is served by this same process.
const helm = (args: string[]) => promisify(execFile)(join(cluster.tools, 'helm'), args)

/** The chart `shop`, depending on `probe` from `repository`; with its Chart.lock when `locked`. */
async function shopChart(repository: string, locked: boolean): Promise<string> {
  const dir = mkdtempSync(join(work, 'shop-'))
  writeFileSync(
    join(dir, 'Chart.yaml'),
    `apiVersion: v2\nname: shop\nversion: 0.1.0\ndependencies:\n  - name: probe\n    version: 0.1.0\n    repository: "${repository}"\n`
  )
  writeFileSync(join(dir, 'values.yaml'), 'probe:\n  test:\n    enabled: false\n')
  if (locked) {
    // The lock as a user commits it: made by `helm dependency update` with a config of its own.
    const own = mkdtempSync(join(work, 'lock-'))
    const flags = ['--repository-config', join(own, 'r.yaml'), '--repository-cache', join(own, 'c')]
    await helm(['repo', 'add', 'made-by-hand', repo.url, ...flags])
    await helm(['dependency', 'update', dir, ...flags])
    rmSync(join(dir, 'charts'), { recursive: true, force: true })
    expect(readFileSync(join(dir, 'Chart.lock'), 'utf8')).toContain(repo.url)
  }
  return dir
}

async function preview(inputs: Record<string, string>, runner: Runner) {
  const main = await runStep(runner, {
    inputs: {
      cluster: 'existing',
      ...tools.inputs,
      'wait-timeout': '3m',
      'helm-test': 'false',
      // The window is the subject of verify.e2e.test.ts; a short one keeps the suite quick.
      'stable-for': '2s',
      comment: 'never',
      ...inputs
    },
    env: { KUBECONFIG: cluster.kubeconfig },
    timeoutMs: 300_000
  })
  const report = JSON.parse(readFileSync(main.outputs['report'] as string, 'utf8')) as {
    status: string
    reason?: string
    workloads: { kind: string; name: string; state: string }[]
    release?: { helmVersion?: string }
  }
  return { main, report }
}

beforeAll(async () => {
  cluster = clusterUp(`mp-deps-${process.pid}`)
  tools = await serveTools(cluster.tools)
  work = mkdtempSync(join(tmpdir(), 'mp-deps-'))
  const served = join(work, 'repository')
  mkdirSync(served)
  cpSync(PROBE, join(work, 'probe'), { recursive: true })
  repo = await serveRepository(served)
  await helm(['package', join(work, 'probe'), '--destination', served])
  await helm(['repo', 'index', served, '--url', repo.url])
})

afterAll(async () => {
  await repo?.close()
  await tools?.close()
  cluster?.down()
  if (work) rmSync(work, { recursive: true, force: true })
})

describe('a dependency from a chart repository', () => {
  it.each([
    ['Helm 4', HELM4],
    ['Helm 3', HELM3]
  ])(
    '%s: the Chart.lock builds from the repository and deploys healthy, the user helm config untouched',
    async (_, version) => {
      const runner = makeRunner(mkdtempSync(join(work, 'runner-')))
      repo.requests.length = 0
      const chart = await shopChart(repo.url, true)
      const ns = `deps-${version.replace(/\W/g, '')}`
      const { main, report } = await preview(
        { chart, namespace: ns, 'helm-version': version },
        runner
      )
      expect(main.exitCode, main.stdout).toBe(0)
      expect(report.status).toBe('healthy')
      expect(report.release?.helmVersion).toBe(version)
      expect(report.workloads.map((w) => `${w.kind}/${w.name}/${w.state}`)).toEqual([
        'Deployment/shop-web/healthy'
      ])
      // The index was read from the local repository and the dependency downloaded from it.
      expect(repo.requests).toContain('/charts/index.yaml')
      expect(repo.requests).toContain('/charts/probe-0.1.0.tgz')
      // Helm was given a repository config of the run's own, removed after the build.
      expect(existsSync(join(runner.home, '.config', 'helm', 'repositories.yaml'))).toBe(false)
      expect(readdirSync(runner.temp).filter((f) => f.includes('helm-repositories'))).toEqual([])
    }
  )

  it('@name of a repository the user added in an earlier step works as before', async () => {
    const runner = makeRunner(mkdtempSync(join(work, 'runner-')))
    const userConfig = join(runner.home, '.config', 'helm', 'repositories.yaml')
    mkdirSync(join(runner.home, '.config', 'helm'), { recursive: true })
    const before = `apiVersion: ""\nrepositories:\n- name: local-charts\n  url: ${repo.url}\n`
    writeFileSync(userConfig, before)
    const chart = await shopChart('@local-charts', false)
    const { main, report } = await preview({ chart, namespace: 'deps-alias' }, runner)
    expect(main.exitCode, main.stdout).toBe(0)
    expect(report.status).toBe('healthy')
    expect(readFileSync(userConfig, 'utf8')).toBe(before)
  })

  it('@name of a repository nobody added: an error naming the dependency, before helm builds', async () => {
    const runner = makeRunner(mkdtempSync(join(work, 'runner-')))
    repo.requests.length = 0
    const chart = await shopChart('@nowhere', false)
    const { main, report } = await preview({ chart, namespace: 'deps-missing' }, runner)
    expect(main.exitCode).toBe(1)
    expect(report.status).toBe('error')
    expect(main.errors.join('\n')).toContain(
      "chart dependency 'probe' refers to the repository '@nowhere', which is not in"
    )
    expect(repo.requests).toEqual([])
  })
})
