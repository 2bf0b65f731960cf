// Previews on a shared cluster, through the bundled action on the real control plane, with the
// GitHub API stand-in: a pull request opened, pushed again, a second one beside it, closed; the
// URL checked; a sweep of expired and closed previews; a namespace the action did not create.
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PreviewInfo } from '../../src/model.js'
import { ROOT, makeRunner, runStep, type Runner, type StepRun } from '../support/action.js'
import { WRITE_TOKEN, startGitHubServer, type GitHubServer } from '../support/github-server.js'
import {
  clusterUp,
  type Cluster,
  serveTools,
  type ClusterTools,
  namespaceGone,
  namespaceOf,
  type NamespaceObject
} from './cluster.js'

const REPO = 'octo/todo'
const CHART = join(ROOT, 'test', 'e2e', 'charts', 'app')
const RELEASE = 'app'
const sha = (c: string): string => c.repeat(40)

let cluster: Cluster
let tools: ClusterTools
let github: GitHubServer
/** Answers 200 for every path, and records them: the previews' URLs. */
let site: { port: number; paths: string[]; server: Server }
/** Answers 503 for every path. */
let down: { port: number; paths: string[]; server: Server }

function httpServer(status: number): Promise<{ port: number; paths: string[]; server: Server }> {
  const paths: string[] = []
  const server = createServer((req, res) => {
    paths.push(req.url ?? '')
    res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'down')
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ port: (server.address() as { port: number }).port, paths, server })
    )
  )
}

beforeAll(async () => {
  cluster = clusterUp(`mp-shared-${process.pid}`)
  tools = await serveTools(cluster.tools)
  github = await startGitHubServer()
  site = await httpServer(200)
  down = await httpServer(503)
})

afterAll(async () => {
  for (const s of [site, down]) {
    s?.server.closeAllConnections()
    await new Promise<void>((r) => (s ? s.server.close(() => r()) : r()))
  }
  await github?.close()
  await tools?.close()
  cluster?.down()
})

interface Report {
  status: string
  healthChecks: { label: string; ok: boolean; status?: number; error?: string }[]
  steps: { id: string; status: string }[]
  preview?: PreviewInfo
}

interface Event {
  action: 'opened' | 'synchronize' | 'reopened' | 'closed'
  number: number
  head: string
  branch?: string
  merged?: boolean
}

const runners = new Map<string, Runner>()

/** One run of the action on a pull-request event (or none: `event` undefined, as a schedule). */
async function run(
  inputs: Record<string, string>,
  event?: Event,
  repo = REPO
): Promise<{ main: StepRun; report: Report }> {
  // One runner per repository: its tool cache is kept, as on a self-hosted runner.
  let runner = runners.get(repo)
  if (!runner) runners.set(repo, (runner = makeRunner(mkdtempSync(join(tmpdir(), 'mp-shared-')))))
  const env: Record<string, string | undefined> = {
    KUBECONFIG: cluster.kubeconfig,
    GITHUB_API_URL: github.url,
    GITHUB_GRAPHQL_URL: github.graphqlUrl,
    GITHUB_REPOSITORY: repo,
    GITHUB_ACTOR: 'octocat',
    GITHUB_EVENT_NAME: event ? 'pull_request' : 'schedule',
    GITHUB_EVENT_PATH: undefined
  }
  if (event) {
    const branch = event.branch ?? `feature/pr-${event.number}`
    const path = join(mkdtempSync(join(runner.root, 'event-')), 'event.json')
    writeFileSync(
      path,
      JSON.stringify({
        action: event.action,
        number: event.number,
        pull_request: {
          number: event.number,
          state: event.action === 'closed' ? 'closed' : 'open',
          merged: event.merged ?? false,
          head: { sha: event.head, ref: branch },
          base: { sha: sha('b'), ref: 'main' }
        },
        repository: { full_name: repo }
      })
    )
    Object.assign(env, {
      GITHUB_EVENT_PATH: path,
      // On pull_request, GITHUB_SHA is the merge commit, not the head.
      GITHUB_SHA: sha('e'),
      GITHUB_REF: `refs/pull/${event.number}/merge`,
      GITHUB_HEAD_REF: branch,
      GITHUB_BASE_REF: 'main'
    })
  }
  const main = await runStep(runner, {
    inputs: {
      cluster: 'existing',
      ...tools.inputs,
      'github-token': WRITE_TOKEN,
      chart: CHART,
      'wait-timeout': '3m',
      'stable-for': '1s',
      'helm-test': 'false',
      comment: 'always',
      ...inputs
    },
    env,
    timeoutMs: 240_000
  })
  const file = main.outputs['report']
  const report = file ? (JSON.parse(readFileSync(file, 'utf8')) as Report) : ({} as Report)
  return { main, report }
}

const namespace = (name: string): NamespaceObject | undefined => namespaceOf(cluster, name)
const namespaceRemoved = (name: string): boolean => namespaceGone(cluster, name)

const helm = (args: string[]): string =>
  execFileSync(join(cluster.tools, 'helm'), [...args, '--kubeconfig', cluster.kubeconfig], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe']
  })

/** The releases in a namespace, by name → revision, as the real Helm reads them. */
function releases(ns: string): Record<string, number> {
  const list = JSON.parse(helm(['list', '--namespace', ns, '--output', 'json'])) as {
    name: string
    revision: string
  }[]
  return Object.fromEntries(list.map((r) => [r.name, Number(r.revision)]))
}

/** A release's labels (Helm 4's `get metadata` reads them back). */
function releaseLabels(ns: string, release = RELEASE): Record<string, string> {
  const meta = JSON.parse(
    helm(['get', 'metadata', release, '--namespace', ns, '--output', 'json'])
  ) as { labels?: Record<string, string> }
  return meta.labels ?? {}
}

const repoLabel = (repo: string): string =>
  createHash('sha256').update(repo.toLowerCase()).digest('hex').slice(0, 16)

const ours = (repo: string, pr: number) =>
  github.comments(repo, pr).filter((c) => c.user.login === 'github-actions[bot]')

/** The first line of a comment a reader sees (after the hidden marker). */
const firstVisibleLine = (body: string): string =>
  body
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^<!--.*-->$/.test(l))[0] ?? ''

/** The namespace keeps exactly its own labels: none of the action's, none of helm's. */
function notOurs(ns: string, before: Record<string, string> | undefined): boolean {
  const labels = namespace(ns)?.metadata.labels ?? {}
  const marks = Object.keys(labels).filter(
    (k) => k.startsWith('minikube-preview/') || k === 'app.kubernetes.io/managed-by'
  )
  expect(marks, `labels of ${ns}`).toEqual([])
  expect(labels).toEqual(before ?? {})
  return true
}

const deploymentsOf = (repo: string, head: string) =>
  github.deployments(repo).filter((d) => d.sha === head)

/** The states set on a deployment, oldest first, by the action (not by GitHub itself). */
const statesOf = (deploymentId: number): string[] =>
  github.statuses.filter((s) => s.deploymentId === deploymentId && !s.automatic).map((s) => s.state)

const latestState = (deploymentId: number): string | undefined =>
  github.statuses.filter((s) => s.deploymentId === deploymentId).at(-1)?.state

const urlTemplate = (port: number): string => `http://127.0.0.1:${port}/{namespace}/`
const previewInputs = (port = site.port) => ({ url: urlTemplate(port), environment: 'preview' })

const PR7_A = sha('7')
const PR7_B = sha('a')
const PR8 = sha('8')

describe('previews on a shared cluster, one per pull request', () => {
  // Set by the run that creates each comment; the later runs compare with them.
  let pr7Comment = { id: 0, body: '' }
  let pr8Comment = { id: 0, body: '' }

  it('PR 7 opened: deploys into pr-7, created and labelled, healthy, with its URL checked, in the comment and on a deployment', async () => {
    const { main, report } = await run(previewInputs(), {
      action: 'opened',
      number: 7,
      head: PR7_A
    })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.outputs['status']).toBe('healthy')
    expect(main.outputs['namespace']).toBe('pr-7')
    const url = `http://127.0.0.1:${site.port}/pr-7/`
    expect(main.outputs['url']).toBe(url)
    // No health-checks input: the URL itself was asked, and answered.
    expect(site.paths).toContain('/pr-7/')
    expect(report.healthChecks).toEqual([
      expect.objectContaining({ label: 'url', ok: true, status: 200 })
    ])

    const labels = namespace('pr-7')?.metadata.labels ?? {}
    expect(labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'minikube-preview',
      'minikube-preview/repository': repoLabel(REPO),
      'minikube-preview/pull-request': '7',
      'minikube-preview/sha': PR7_A
    })
    expect(releases('pr-7')).toEqual({ [RELEASE]: 1 })
    expect(releaseLabels('pr-7')).toMatchObject({
      'minikube-preview/repository': repoLabel(REPO),
      'minikube-preview/pull-request': '7',
      'minikube-preview/sha': PR7_A
    })
    expect(report.preview).toMatchObject({
      mode: 'preview',
      url,
      namespace: 'pr-7',
      namespaceCreated: true,
      environment: 'preview'
    })

    const comments = ours(REPO, 7)
    expect(comments).toHaveLength(1)
    expect(firstVisibleLine(comments[0]!.body)).toMatch(/^🔗/)
    expect(firstVisibleLine(comments[0]!.body)).toContain(url)
    pr7Comment = { id: comments[0]!.id, body: comments[0]!.body }

    const deployments = deploymentsOf(REPO, PR7_A)
    expect(deployments).toHaveLength(1)
    expect(deployments[0]?.environment).toBe('preview')
    expect(report.preview?.deploymentId).toBe(deployments[0]?.id)
    expect(statesOf(deployments[0]!.id)).toEqual(['in_progress', 'success'])
    const success = github.statuses.find(
      (s) => s.deploymentId === deployments[0]?.id && s.state === 'success'
    )
    expect(success?.environmentUrl).toBe(url)

    const steps = report.steps.map((s) => s.id)
    for (const id of ['namespace', 'deployment-start', 'deployment-finish'])
      expect(steps, id).toContain(id)
  })

  it('PR 7 pushed again: revision 2, the same comment edited, the SHA label renewed', async () => {
    const { main } = await run(previewInputs(), { action: 'synchronize', number: 7, head: PR7_B })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.outputs['revision']).toBe('2')
    expect(releases('pr-7')).toEqual({ [RELEASE]: 2 })
    expect(pr7Comment.id, 'the comment of PR 7 opened').toBeGreaterThan(0)
    const comments = ours(REPO, 7)
    expect(comments.map((c) => c.id)).toEqual([pr7Comment.id])
    expect(comments[0]?.body).not.toBe(pr7Comment.body)
    expect(comments[0]?.body).toContain(PR7_B.slice(0, 7))
    pr7Comment = { id: comments[0]!.id, body: comments[0]!.body }
    expect(namespace('pr-7')?.metadata.labels?.['minikube-preview/sha']).toBe(PR7_B)
    expect(releaseLabels('pr-7')['minikube-preview/sha']).toBe(PR7_B)

    const [deployment] = deploymentsOf(REPO, PR7_B)
    expect(deployment?.environment).toBe('preview')
    expect(statesOf(deployment!.id)).toEqual(['in_progress', 'success'])
  })

  it('PR 8 beside it: its own namespace, comment and deployment; PR 7 untouched', async () => {
    const pr7Labels = namespace('pr-7')?.metadata.labels
    const { main } = await run(previewInputs(), { action: 'opened', number: 8, head: PR8 })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.outputs['namespace']).toBe('pr-8')
    expect(main.outputs['url']).toBe(`http://127.0.0.1:${site.port}/pr-8/`)
    expect(releases('pr-8')).toEqual({ [RELEASE]: 1 })
    expect(namespace('pr-8')?.metadata.labels?.['minikube-preview/pull-request']).toBe('8')
    const comments = ours(REPO, 8)
    expect(comments).toHaveLength(1)
    pr8Comment = { id: comments[0]!.id, body: comments[0]!.body }
    const [deployment] = deploymentsOf(REPO, PR8)
    expect(statesOf(deployment!.id)).toEqual(['in_progress', 'success'])

    // PR 7: same release revision, labels, comment, and its deployment still the live one.
    expect(releases('pr-7')).toEqual({ [RELEASE]: 2 })
    expect(namespace('pr-7')?.metadata.labels).toEqual(pr7Labels)
    expect(ours(REPO, 7).map((c) => [c.id, c.body])).toEqual([[pr7Comment.id, pr7Comment.body]])
    expect(latestState(deploymentsOf(REPO, PR7_B)[0]!.id)).toBe('success')
  })

  it('a URL that answers 503: unhealthy, the URL check named, the deployment failed', async () => {
    const head = sha('9')
    // The URL check is retried until wait-timeout: a short one keeps the failure quick.
    const { main, report } = await run(
      { ...previewInputs(down.port), 'wait-timeout': '20s' },
      {
        action: 'opened',
        number: 9,
        head
      }
    )
    expect(main.exitCode).toBe(1)
    expect(main.outputs['status']).toBe('unhealthy')
    expect(down.paths).toContain('/pr-9/')
    expect(report.healthChecks).toEqual([
      expect.objectContaining({ label: 'url', ok: false, status: 503 })
    ])
    const [deployment] = deploymentsOf(REPO, head)
    expect(statesOf(deployment!.id)).toEqual(['in_progress', 'failure'])
  })

  it('PR 7 closed: release and namespace gone, deployments inactive, comment says removed; PR 8 intact', async () => {
    const { main, report } = await run(previewInputs(), {
      action: 'closed',
      number: 7,
      head: PR7_B
    })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.outputs['status']).toBe('removed')
    expect(namespaceRemoved('pr-7')).toBe(true)
    if (namespace('pr-7')) expect(releases('pr-7')).toEqual({})
    for (const d of github.deployments(REPO).filter((d) => [PR7_A, PR7_B].includes(d.sha)))
      expect(latestState(d.id), `deployment ${d.id}`).toBe('inactive')

    const comments = ours(REPO, 7)
    expect(comments.map((c) => c.id)).toEqual([pr7Comment.id])
    expect(comments[0]?.body).toMatch(/preview removed/i)
    expect(comments[0]?.body).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/)
    expect(report.preview?.mode).toBe('teardown')
    expect(report.preview?.removed).toEqual(
      expect.arrayContaining([`release ${RELEASE} in pr-7`, 'namespace pr-7'])
    )
    expect(report.steps.map((s) => s.id)).toContain('teardown')

    // PR 8: nothing of it touched.
    expect(namespace('pr-8')?.status?.phase).toBe('Active')
    expect(releases('pr-8')).toEqual({ [RELEASE]: 1 })
    expect(ours(REPO, 8).map((c) => [c.id, c.body])).toEqual([[pr8Comment.id, pr8Comment.body]])
    expect(latestState(deploymentsOf(REPO, PR8)[0]!.id)).toBe('success')
  })
})

describe('a namespace the action did not create', () => {
  it('is used for the preview, never labelled as created, and kept when the pull request closes', async () => {
    const ns = 'team-owned'
    cluster.kubectl(['create', 'namespace', ns])
    cluster.kubectl(['label', 'namespace', ns, 'team=payments'])
    const before = namespace(ns)?.metadata.labels
    const head = sha('3')
    const inputs = { ...previewInputs(), namespace: ns }
    const opened = await run(inputs, { action: 'opened', number: 31, head })
    expect(opened.main.exitCode, opened.main.stdout).toBe(0)
    expect(opened.main.outputs['namespace']).toBe(ns)
    expect(releases(ns)).toEqual({ [RELEASE]: 1 })
    expect(notOurs(ns, before)).toBe(true)
    expect(opened.report.preview?.namespaceCreated).toBe(false)

    const closed = await run(inputs, { action: 'closed', number: 31, head, merged: true })
    expect(closed.main.exitCode, closed.main.stdout).toBe(0)
    expect(closed.main.outputs['status']).toBe('removed')
    expect(releases(ns)).toEqual({})
    expect(namespace(ns)?.status?.phase).toBe('Active')
    expect(notOurs(ns, before)).toBe(true)
    expect(closed.report.preview?.removed).toEqual([`release ${RELEASE} in ${ns}`])
    expect(closed.report.preview?.left).toEqual([
      expect.stringMatching(new RegExp(`^namespace ${ns}: not created by minikube-preview`))
    ])
  })
})

describe('mode: sweep', () => {
  const SWEPT = 'octo/sweep'

  it('removes the expired preview and the one whose pull request is closed, keeps the fresh one, lists both, and tells the pull requests', async () => {
    github.setPull(SWEPT, 21, { state: 'open' })
    github.setPull(SWEPT, 22, { state: 'open' })
    github.setPull(SWEPT, 23, { state: 'closed', merged: true })
    const before = new Map<number, { comment: { id: number; body: string }; deployment: number }>()
    for (const number of [21, 22, 23]) {
      const head = sha(String(number % 10))
      const { main } = await run(
        { ...previewInputs(), ttl: '1h' },
        { action: 'opened', number, head },
        SWEPT
      )
      expect(main.exitCode, main.stdout).toBe(0)
      const [comment] = ours(SWEPT, number)
      const [deployment] = deploymentsOf(SWEPT, head)
      expect(latestState(deployment!.id)).toBe('success')
      before.set(number, {
        comment: { id: comment!.id, body: comment!.body },
        deployment: deployment!.id
      })
    }
    // Each preview carries its expiry: an hour from its deploy, in epoch seconds.
    for (const ns of ['pr-21', 'pr-22', 'pr-23']) {
      const meta = namespace(ns)?.metadata
      const expires = Number(meta?.labels?.['minikube-preview/expires'])
      expect(Math.abs(expires - (Date.now() / 1000 + 3600)), ns).toBeLessThan(300)
      // The same expiry, readable by people, on the namespace.
      expect(meta?.annotations?.['minikube-preview/expires-at'], ns).toBe(
        new Date(expires * 1000).toISOString().replace(/\.000Z$/, 'Z')
      )
    }
    // The shortest ttl is a minute: PR 21's hour is made to have passed, on the namespace and
    // on the release (Helm keeps a release's labels on its storage secrets).
    const past = String(Math.floor(Date.now() / 1000) - 60)
    cluster.kubectl([
      'label',
      'namespace',
      'pr-21',
      `minikube-preview/expires=${past}`,
      '--overwrite'
    ])
    cluster.kubectl([
      'label',
      'secrets',
      '--namespace',
      'pr-21',
      '--selector',
      `owner=helm,name=${RELEASE}`,
      `minikube-preview/expires=${past}`,
      '--overwrite'
    ])
    expect(releaseLabels('pr-21')['minikube-preview/expires']).toBe(past)

    const { main, report } = await run({ mode: 'sweep', environment: 'preview' }, undefined, SWEPT)
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.outputs['status']).toBe('swept')
    expect(namespaceRemoved('pr-21')).toBe(true)
    expect(namespaceRemoved('pr-23')).toBe(true)
    expect(namespace('pr-22')?.status?.phase).toBe('Active')
    expect(releases('pr-22')).toEqual({ [RELEASE]: 1 })
    // Previews of another repository are never looked at: PR 8 of octo/todo stays.
    expect(releases('pr-8')).toEqual({ [RELEASE]: 1 })

    expect(report.preview?.mode).toBe('sweep')
    expect(report.preview?.swept?.map((s) => s.namespace).sort()).toEqual(['pr-21', 'pr-23'])
    expect(report.preview?.kept?.map((s) => s.namespace)).toEqual(['pr-22'])
    expect(report.preview?.swept?.find((s) => s.namespace === 'pr-21')?.reason).toMatch(/expired/)
    expect(report.preview?.swept?.find((s) => s.namespace === 'pr-23')?.reason).toMatch(/closed/)
    // Both lists, in the log and in the job summary.
    for (const text of [main.stdout, main.summary])
      for (const ns of ['pr-21', 'pr-22', 'pr-23']) expect(text, ns).toContain(ns)
    expect(report.steps.map((s) => s.id)).toContain('sweep')

    // The swept pull requests' own comments now say the preview was removed, when and why; their
    // deployments are inactive. The kept preview's comment and deployment are as they were.
    for (const [number, why] of [
      [21, /expired/],
      [23, /closed/]
    ] as const) {
      const comments = ours(SWEPT, number)
      expect(
        comments.map((c) => c.id),
        `#${number}`
      ).toEqual([before.get(number)!.comment.id])
      expect(firstVisibleLine(comments[0]!.body)).toMatch(/preview removed/i)
      expect(comments[0]!.body).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/)
      expect(comments[0]!.body).toMatch(why)
      expect(latestState(before.get(number)!.deployment), `#${number}`).toBe('inactive')
    }
    expect(ours(SWEPT, 22).map((c) => [c.id, c.body])).toEqual([
      [before.get(22)!.comment.id, before.get(22)!.comment.body]
    ])
    expect(latestState(before.get(22)!.deployment)).toBe('success')
    expect(report.preview?.removed).toEqual(
      expect.arrayContaining([
        'the comment on pull request #21, rewritten',
        '1 GitHub deployment(s) of pull request #23'
      ])
    )
  })
})
