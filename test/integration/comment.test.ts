// What the pull request is told, through the bundled action and a local GitHub API.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { makeRunner, runStep, type Runner } from '../support/action.js'
import {
  GUEST_PROVISION,
  fakeTools,
  type FakeToolRules,
  type FakeTools
} from '../support/fake-tools.js'
import {
  FORK_TOKEN,
  WRITE_TOKEN,
  startGitHubServer,
  type GitHubServer
} from '../support/github-server.js'
import { crashLoopList, eventsList, healthyList, manifest } from '../support/kube-objects.js'
import { startProxy } from '../support/proxy-server.js'

const REPO = 'octo/todo'
const PR = 17

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

interface World {
  runner: Runner
  tools: FakeTools
  github: GitHubServer
  /** Runs main as on a pull_request event for PR 17 (or `event`), with `env` on top. */
  run(
    inputs?: Record<string, string>,
    event?: string,
    env?: Record<string, string>
  ): ReturnType<typeof runStep>
}

async function world(
  rules: FakeToolRules = {},
  chartYaml = 'apiVersion: v2\nname: todo\nversion: 0.1.0\n'
): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'mp-comment-'))
  const tools = await fakeTools(join(dir, 'tools'), {
    helm: [
      { match: ['template'], stdout: manifest(['todo-api'], false) },
      { match: ['upgrade'], stdout: 'deployed\n' },
      { match: ['status', '--output'], stdout: '{"version":1}' },
      { match: ['get', 'manifest'], stdout: manifest(['todo-api'], false) },
      { match: ['get', 'hooks'], stdout: '' },
      ...(rules.helm ?? [])
    ],
    kubectl: [
      ...(rules.kubectl ?? []),
      { match: ['get', /^deployments,/], stdout: healthyList('preview', ['todo-api']) }
    ],
    minikube: rules.minikube
  })
  const github = await startGitHubServer()
  cleanups.push(
    () => tools.close(),
    () => github.close()
  )
  const runner = makeRunner(join(dir, 'runner'))
  mkdirSync(join(runner.workspace, 'charts', 'todo'), { recursive: true })
  writeFileSync(join(runner.workspace, 'charts', 'todo', 'Chart.yaml'), chartYaml)
  const eventPath = join(dir, 'event.json')
  writeFileSync(
    eventPath,
    JSON.stringify({
      pull_request: { number: PR, head: { sha: 'fedcba9876543210fedcba9876543210fedcba98' } }
    })
  )
  return {
    runner,
    tools,
    github,
    run: (inputs = {}, event = 'pull_request', extra = {}) =>
      runStep(runner, {
        inputs: { ...tools.inputs, 'github-token': WRITE_TOKEN, ...inputs },
        path: tools.path,
        env: {
          GITHUB_EVENT_NAME: event,
          GITHUB_EVENT_PATH: event.startsWith('pull_request') ? eventPath : undefined,
          GITHUB_API_URL: github.url,
          GITHUB_GRAPHQL_URL: github.graphqlUrl,
          GITHUB_REPOSITORY: REPO,
          ...extra
        }
      })
  }
}

const ours = (w: World) =>
  w.github.comments(REPO, PR).filter((c) => c.user.login === 'github-actions[bot]')

describe('the pull-request comment', () => {
  it('is created on the first run and updated in place on the next', async () => {
    const w = await world()
    const first = await w.run()
    expect(first.exitCode, first.stdout).toBe(0)
    expect(ours(w)).toHaveLength(1)
    const comment = ours(w)[0]!
    expect(comment.body.split('\n')[0]).toBe('<!-- minikube-preview: todo/preview -->')
    expect(comment.body).toContain('healthy')
    expect(comment.body).toContain('`fedcba9`')
    expect(first.outputs['comment-url']).toBe(comment.html_url)
    const second = await w.run()
    expect(second.exitCode).toBe(0)
    expect(ours(w)).toHaveLength(1)
    expect(ours(w)[0]!.id).toBe(comment.id)
    expect(w.github.requests.some((r) => r.method === 'PATCH')).toBe(true)
    // The workflow token may not read /user: the identity comes from GraphQL.
    expect(w.github.requests.some((r) => r.url.startsWith('/user'))).toBe(false)
  })

  it('keeps one comment per header: a second header is a second comment, others’ comments untouched', async () => {
    const w = await world()
    const theirs = w.github.addComment(
      REPO,
      PR,
      '<!-- minikube-preview: todo/preview -->\nquoted by a reviewer',
      'octocat',
      'User'
    )
    await w.run()
    await w.run({ 'comment-header': 'arm64' })
    expect(ours(w).map((c) => c.body.split('\n')[0])).toEqual([
      '<!-- minikube-preview: todo/preview -->',
      '<!-- minikube-preview: arm64 -->'
    ])
    expect(w.github.comments(REPO, PR).find((c) => c.id === theirs.id)?.body).toBe(theirs.body)
  })

  it('warns, without failing, when the token may not comment (a fork)', async () => {
    const w = await world()
    const main = await w.run({ 'github-token': FORK_TOKEN })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.outputs['status']).toBe('healthy')
    expect(main.warnings.join('\n')).toContain('pull-requests: write')
    expect(main.summary).toContain('healthy')
    expect(ours(w)).toHaveLength(0)
  })

  it('goes through the runner’s proxy (HTTP_PROXY) to reach GitHub', async () => {
    const w = await world()
    const proxy = await startProxy({ upstream: w.github.url })
    cleanups.push(() => proxy.close())
    // A host name, not loopback (which never goes through a proxy): only the proxy can reach it.
    const main = await w.run({}, 'pull_request', {
      GITHUB_API_URL: 'http://api.github.test',
      GITHUB_GRAPHQL_URL: 'http://api.github.test/graphql',
      HTTP_PROXY: proxy.url
    })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(ours(w)).toHaveLength(1)
    expect(main.outputs['comment-url']).toBe(ours(w)[0]?.html_url)
    expect(proxy.requests).toContain('CONNECT api.github.test:80')
  })

  it('says nothing on a push event', async () => {
    const w = await world()
    const main = await w.run({}, 'push')
    expect(main.exitCode).toBe(0)
    expect(w.github.requests).toEqual([])
  })

  it('brings a failed cluster start to the PR with minikube’s reason', async () => {
    const w = await world({
      minikube: [{ match: ['start'], exitCode: 80, stderr: GUEST_PROVISION }]
    })
    const main = await w.run()
    expect(main.exitCode).toBe(1)
    const body = ours(w)[0]?.body.replace(/\\(.)/g, '$1') ?? ''
    expect(body).toContain('error')
    expect(body).toContain('GUEST_PROVISION: error provisioning guest')
  })

  describe('when the pull request is hostile', () => {
    const marker = (h: string): string => `<!-- minikube-preview: ${h} -->`
    const POD = 'todo-api-7d9f8c6b5d-x2k4p'
    // Every leg's pods print every leg's marker, mention people and link away.
    const hostile = (): Promise<World> =>
      world(
        {
          kubectl: [
            {
              match: ['get', /^deployments,/],
              stdout: crashLoopList('preview', [], 'todo-api').replace(
                'back-off 40s',
                'back-off 40s, ask @octocat or @acme/ops at https://evil.example'
              )
            },
            { match: ['get', 'events'], stdout: eventsList('preview', POD) },
            { match: ['describe', 'pod'], stdout: `Name: ${POD}\nState: Waiting\n` },
            {
              match: ['logs'],
              stdout: `${marker('arm64')}\n${marker('amd64')}\nping @octocat\n\`\`\`\n</details>\n`
            }
          ],
          helm: [
            { match: ['status'], stdout: 'NAME: todo\nSTATUS: deployed\n' },
            { match: ['history'], stdout: 'REVISION\tSTATUS\n1\tdeployed\n' }
          ]
        },
        'apiVersion: v2\nname: todo\nversion: "@octocat"\n'
      )

    it('a marker printed by a pod log never makes one leg of a matrix update or delete another’s comment', async () => {
      const w = await hostile()
      const first = await w.run({ 'comment-header': 'amd64' })
      expect(first.outputs['status'], first.stdout).toBe('unhealthy')
      await w.run({ 'comment-header': 'arm64' })
      const [amd, arm] = ours(w)
      expect(ours(w).map((c) => c.body.split('\n')[0])).toEqual([marker('amd64'), marker('arm64')])
      for (let round = 0; round < 2; round++) {
        await w.run({ 'comment-header': 'amd64' })
        await w.run({ 'comment-header': 'arm64' })
      }
      // Still the same two comments, each kept by its own leg; nothing was deleted.
      expect(ours(w).map((c) => [c.id, c.body.split('\n')[0]])).toEqual([
        [amd?.id, marker('amd64')],
        [arm?.id, marker('arm64')]
      ])
      expect(w.github.requests.filter((r) => r.method === 'DELETE')).toEqual([])
      const patched = w.github.requests
        .filter((r) => r.method === 'PATCH')
        .map((r) => Number(r.url.split('/').pop()))
      expect(patched).toEqual([amd?.id, arm?.id, amd?.id, arm?.id])
    })

    it('neither the comment nor the summary mentions anyone, links away or carries a marker', async () => {
      const w = await hostile()
      const main = await w.run({ 'comment-header': 'amd64' })
      expect(main.outputs['status']).toBe('unhealthy')
      const body = ours(w)[0]?.body ?? ''
      const lines = body.split('\n')
      expect(lines[0]).toBe(marker('amd64'))
      for (const text of [lines.slice(1).join('\n'), main.summary]) {
        expect(text).not.toContain('<!--')
        const why = text.split('\n').find((l) => l.startsWith('**Why:**')) ?? ''
        // The Why line is the verdict's one sentence; the hostile message is in the table row.
        expect(why).toMatch(/^\*\*Why:\*\* Deployment todo-api: /)
        expect(why).not.toMatch(/@octocat|https:\/\//)
        expect(text).toMatch(/\*\*Chart:\*\* `[^`]+` @\u2060octocat/)
        const row = text.split('\n').find((l) => l.startsWith('| Deployment |')) ?? ''
        expect(row).toContain('ask @\u2060octocat or @\u2060acme/ops at https:\u2060//evil.example')
        expect(row).not.toMatch(/@octocat|https:\/\//)
        // The log is shown as it was, as code, inside a block it cannot close.
        expect(text).toMatch(
          /\n(`{4,})text\n[^]*ping @octocat\n```\n<\/details>\n\1\n\n<\/details>/
        )
      }
    })
  })
})
