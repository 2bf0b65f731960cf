// GitHub deployments of a preview, against the local GitHub API stand-in.
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import {
  PAYLOAD_KEY,
  deactivateDeployments,
  deploymentPayload,
  finishDeployment,
  isPreviewDeployment,
  startDeployment,
  type PreviewRef
} from '../../src/report/deployment.js'
import { GitHub } from '../../src/report/github.js'
import {
  FORK_TOKEN,
  WRITE_TOKEN,
  startGitHubServer,
  type GitHubServer
} from '../support/github-server.js'

const REPO = 'acme/todo'
const ENV = 'preview'
const SHA_A = 'a'.repeat(40)
const SHA_B = 'b'.repeat(40)
const SHA_C = 'c'.repeat(40)
const RUN = 'https://github.com/acme/todo/actions/runs/42'
const PR7: PreviewRef = { pr: 7, namespace: 'pr-7', release: 'todo' }
const PR8: PreviewRef = { pr: 8, namespace: 'pr-8', release: 'todo' }
/** More failures in a row than the client retries: the endpoint stays down. */
const DOWN = 10

let gh: GitHubServer
beforeEach(async () => {
  gh = await startGitHubServer()
})
afterEach(async () => {
  await gh.close()
})

const client = (token = WRITE_TOKEN): GitHub =>
  new GitHub({ token, apiUrl: gh.url, graphqlUrl: gh.graphqlUrl, retryAfterMs: 1 })

/** One preview run: start, then finish healthy or not; the deployment's id. */
async function deploy(
  preview: PreviewRef,
  sha: string,
  healthy = true,
  environment = ENV
): Promise<number> {
  const github = client()
  const started = await startDeployment({
    github,
    repo: REPO,
    environment,
    sha,
    preview,
    logUrl: RUN
  })
  if (!started.ok) throw new Error(started.warning)
  const finished = await finishDeployment({
    github,
    repo: REPO,
    environment,
    id: started.id,
    healthy,
    environmentUrl: `https://${preview.namespace}.preview.example.com/`,
    logUrl: RUN,
    reason: healthy ? undefined : 'CrashLoopBackOff'
  })
  if (!finished.ok) throw new Error(finished.warning)
  return started.id
}

/** The states each deployment went through, oldest first. */
const sequence = (id: number): string[] =>
  gh.statuses.filter((s) => s.deploymentId === id).map((s) => s.state)

describe('a preview run', () => {
  test('creates a deployment of the head commit: in_progress, then success with the URL', async () => {
    const id = await deploy(PR7, SHA_A)
    const [d] = gh.deployments(REPO)
    expect(gh.deployments(REPO)).toHaveLength(1)
    expect(d).toMatchObject({
      id,
      sha: SHA_A,
      ref: SHA_A,
      environment: ENV,
      transient_environment: true,
      production_environment: false,
      payload: { [PAYLOAD_KEY]: { pr: 7, namespace: 'pr-7', release: 'todo' } }
    })
    expect(sequence(id)).toEqual(['in_progress', 'success'])
    const [progress, success] = gh.statuses
    expect(progress).toMatchObject({ logUrl: RUN, environmentUrl: '' })
    expect(success).toMatchObject({
      environmentUrl: 'https://pr-7.preview.example.com/',
      logUrl: RUN,
      automatic: false
    })
    // The commit is deployed as it is: no merge of the default branch, no status checks.
    const create = gh.requests.find((r) => r.method === 'POST' && /\/deployments$/.test(r.url))
    expect(create?.body).toMatchObject({ auto_merge: false, required_contexts: [] })
    // Never auto_inactive: it would mark the other previews of the environment inactive.
    const statusBodies = gh.requests.filter((r) => r.method === 'POST' && /statuses$/.test(r.url))
    expect(statusBodies.map((r) => (r.body as { auto_inactive?: unknown }).auto_inactive)).toEqual([
      false,
      false
    ])
  })

  test('an unhealthy preview ends in failure, without a URL to view', async () => {
    const id = await deploy(PR7, SHA_A, false)
    expect(sequence(id)).toEqual(['in_progress', 'failure'])
    const failure = gh.statuses[1]
    expect(failure).toMatchObject({ environmentUrl: '', logUrl: RUN })
    expect(failure?.description).toContain('CrashLoopBackOff')
  })

  test('a URL that is not http(s) is not sent as the environment URL', async () => {
    const github = client()
    const started = await startDeployment({
      github,
      repo: REPO,
      environment: ENV,
      sha: SHA_A,
      preview: PR7,
      logUrl: 'javascript:alert(1)'
    })
    expect(started.ok).toBe(true)
    if (!started.ok) return
    const done = await finishDeployment({
      github,
      repo: REPO,
      environment: ENV,
      id: started.id,
      healthy: true,
      environmentUrl: 'pr-7.preview.example.com'
    })
    expect(done).toEqual({ ok: true })
    expect(gh.statuses.map((s) => [s.state, s.environmentUrl, s.logUrl])).toEqual([
      ['in_progress', '', ''],
      ['success', '', '']
    ])
  })

  test('long names still give GitHub a description it accepts (at most 140 characters)', async () => {
    const long: PreviewRef = {
      pr: 123456,
      namespace: `pr-${'n'.repeat(60)}`,
      release: 'r'.repeat(53)
    }
    const id = await deploy(long, SHA_A, false)
    expect(sequence(id)).toEqual(['in_progress', 'failure'])
    const d = gh.deployments(REPO)[0]
    expect(Array.from(d?.description ?? '').length).toBeLessThanOrEqual(140)
    expect(d?.description).toMatch(/^Preview of pull request #123456: release r+/)
  })
})

describe('two pull requests sharing one environment name', () => {
  test('never deactivate each other, on deploy or on teardown', async () => {
    const a1 = await deploy(PR7, SHA_A)
    const b1 = await deploy(PR8, SHA_B)
    const a2 = await deploy(PR7, SHA_C) // PR 7 pushed again
    // Deploying one never touched the other.
    expect(gh.statuses.some((s) => s.automatic)).toBe(false)
    expect(sequence(b1)).toEqual(['in_progress', 'success'])

    const removed = await deactivateDeployments({
      github: client(),
      repo: REPO,
      environment: ENV,
      preview: { pr: 7 },
      logUrl: RUN
    })
    expect(removed).toEqual({ ok: true, deactivated: [a2, a1], alreadyInactive: [] })
    expect(sequence(a1)).toEqual(['in_progress', 'success', 'inactive'])
    expect(sequence(a2)).toEqual(['in_progress', 'success', 'inactive'])
    expect(sequence(b1)).toEqual(['in_progress', 'success'])

    // PR 8 closes later: only its own deployment, nothing of PR 7's gets a second inactive.
    const before = gh.statuses.length
    const second = await deactivateDeployments({
      github: client(),
      repo: REPO,
      environment: ENV,
      preview: { pr: 8 }
    })
    expect(second).toEqual({ ok: true, deactivated: [b1], alreadyInactive: [] })
    expect(gh.statuses.slice(before).map((s) => [s.deploymentId, s.state])).toEqual([
      [b1, 'inactive']
    ])
  })

  test('the stand-in does deactivate them when asked to (auto_inactive left on)', async () => {
    // What the test above guards against, shown to be catchable: GitHub's default.
    const github = client()
    const ids: number[] = []
    for (const pr of [7, 8]) {
      const d = await github.request<{ id: number }>('POST', `/repos/${REPO}/deployments`, {
        ref: SHA_A,
        environment: ENV,
        payload: deploymentPayload({ pr, namespace: `pr-${pr}`, release: 'todo' }),
        production_environment: false
      })
      ids.push(d.data.id)
      await github.request('POST', `/repos/${REPO}/deployments/${d.data.id}/statuses`, {
        state: 'success'
      })
    }
    expect(sequence(ids[0] as number)).toEqual(['success', 'inactive'])
  })
})

describe('teardown', () => {
  test('a second teardown adds nothing: the deployments are inactive already', async () => {
    const a1 = await deploy(PR7, SHA_A)
    const a2 = await deploy(PR7, SHA_B, false)
    await deactivateDeployments({ github: client(), repo: REPO, environment: ENV, preview: PR7 })
    const before = gh.statuses.length
    const again = await deactivateDeployments({
      github: client(),
      repo: REPO,
      environment: ENV,
      preview: PR7
    })
    expect(again).toEqual({ ok: true, deactivated: [], alreadyInactive: [a2, a1] })
    expect(gh.statuses).toHaveLength(before)
  })

  test('leaves alone other environments, other releases, and deployments not made by the action', async () => {
    const ours = await deploy(PR7, SHA_A)
    const otherEnv = await deploy(PR7, SHA_A, true, 'staging')
    const otherRelease = await deploy({ ...PR7, release: 'todo-admin' }, SHA_A)
    const github = client()
    const foreign = await github.request<{ id: number }>('POST', `/repos/${REPO}/deployments`, {
      ref: SHA_A,
      environment: ENV,
      payload: { pr: 7 },
      transient_environment: true
    })
    const text = await github.request<{ id: number }>('POST', `/repos/${REPO}/deployments`, {
      ref: SHA_A,
      environment: ENV,
      // GitHub also keeps a payload given as JSON text: ours when it says so.
      payload: JSON.stringify(deploymentPayload(PR7))
    })
    const r = await deactivateDeployments({
      github,
      repo: REPO,
      environment: ENV,
      preview: PR7
    })
    expect(r).toEqual({ ok: true, deactivated: [text.data.id, ours], alreadyInactive: [] })
    expect(sequence(otherEnv)).toEqual(['in_progress', 'success'])
    expect(sequence(otherRelease)).toEqual(['in_progress', 'success'])
    expect(sequence(foreign.data.id)).toEqual([])
  })

  test('`except` keeps the deployment just made successful (older ones of the preview go inactive)', async () => {
    const old = await deploy(PR7, SHA_A)
    const current = await deploy(PR7, SHA_B)
    const r = await deactivateDeployments({
      github: client(),
      repo: REPO,
      environment: ENV,
      preview: PR7,
      except: [current]
    })
    expect(r).toEqual({ ok: true, deactivated: [old], alreadyInactive: [] })
    expect(sequence(current)).toEqual(['in_progress', 'success'])
  })

  test('finds the preview behind more than one page of other deployments', async () => {
    const mine = await deploy(PR7, SHA_A)
    for (let i = 0; i < 120; i++) {
      await client().request('POST', `/repos/${REPO}/deployments`, {
        ref: SHA_B,
        environment: ENV,
        payload: deploymentPayload({ pr: 100 + i, namespace: `pr-${100 + i}`, release: 'todo' })
      })
    }
    const r = await deactivateDeployments({
      github: client(),
      repo: REPO,
      environment: ENV,
      preview: { pr: 7 }
    })
    expect(r).toEqual({ ok: true, deactivated: [mine], alreadyInactive: [] })
    expect(gh.requests.some((q) => /\/deployments\?.*page=2/.test(q.url))).toBe(true)
  })
})

describe('without `deployments: write`', () => {
  test.each([403, 404] as const)(
    'a %i is a warning naming the permission; nothing throws, nothing is created',
    async (status) => {
      gh.refuseDeployments(status)
      const github = client()
      const started = await startDeployment({
        github,
        repo: REPO,
        environment: ENV,
        sha: SHA_A,
        preview: PR7
      })
      expect(started).toMatchObject({ ok: false, status })
      expect(!started.ok && started.warning).toMatch(
        /^Could not create a deployment in environment 'preview': the token needs `permissions: deployments: write`/
      )
      const finished = await finishDeployment({
        github,
        repo: REPO,
        environment: ENV,
        id: 1,
        healthy: true
      })
      expect(finished).toMatchObject({ ok: false, status })
      expect(!finished.ok && finished.warning).toContain('deployments: write')
      const removed = await deactivateDeployments({
        github,
        repo: REPO,
        environment: ENV,
        preview: PR7
      })
      expect(removed).toMatchObject({ ok: false, status, deactivated: [] })
      expect(!removed.ok && removed.warning).toContain('deployments: write')
      expect(gh.deployments(REPO)).toEqual([])
    }
  )

  test("a fork's read-only token gets the same warning", async () => {
    const started = await startDeployment({
      github: client(FORK_TOKEN),
      repo: REPO,
      environment: ENV,
      sha: SHA_A,
      preview: PR7
    })
    expect(started).toMatchObject({ ok: false, status: 403 })
    expect(!started.ok && started.warning).toContain('read-only token')
  })
})

describe('GitHub failing', () => {
  test('an outage on create is a warning with what GitHub said', async () => {
    gh.fail(/^POST \/repos\/acme\/todo\/deployments$/, 503, 'Service Unavailable', DOWN)
    const started = await startDeployment({
      github: client(),
      repo: REPO,
      environment: ENV,
      sha: SHA_A,
      preview: PR7
    })
    expect(started).toMatchObject({ ok: false, status: 503 })
    expect(!started.ok && started.warning).toContain('Service Unavailable')
  })

  test('created but not marked in progress: the id comes back, with a warning', async () => {
    gh.fail(/statuses$/, 502, 'Bad Gateway', DOWN)
    const started = await startDeployment({
      github: client(),
      repo: REPO,
      environment: ENV,
      sha: SHA_A,
      preview: PR7
    })
    expect(started.ok).toBe(true)
    if (!started.ok) return
    expect(started.id).toBe(gh.deployments(REPO)[0]?.id)
    expect(started.warning).toMatch(/^Could not mark the deployment in progress .*Bad Gateway/)
  })

  test('a failure midway through teardown says what was already made inactive', async () => {
    const a1 = await deploy(PR7, SHA_A)
    const a2 = await deploy(PR7, SHA_B)
    // The newer (a2) is made inactive first; then GitHub stops answering about the older one.
    gh.fail(new RegExp(`^GET /repos/acme/todo/deployments/${a1}/statuses$`), 500, 'Oops', DOWN)
    const r = await deactivateDeployments({
      github: client(),
      repo: REPO,
      environment: ENV,
      preview: PR7
    })
    expect(r).toMatchObject({ ok: false, status: 500, deactivated: [a2] })
    expect(!r.ok && r.warning).toMatch(/^Could not mark the deployments inactive .*Oops/)
    expect(sequence(a2)).toEqual(['in_progress', 'success', 'inactive'])
    expect(sequence(a1)).toEqual(['in_progress', 'success'])
  })
})

describe('isPreviewDeployment', () => {
  test.each([
    [deploymentPayload(PR7), { pr: 7 }, true],
    [deploymentPayload(PR7), { pr: 7, namespace: 'pr-7', release: 'todo' }, true],
    [deploymentPayload(PR7), { pr: 8 }, false],
    [deploymentPayload(PR7), { pr: 7, release: 'other' }, false],
    [deploymentPayload(PR7), { pr: 7, namespace: 'pr-8' }, false],
    [JSON.stringify(deploymentPayload(PR7)), { pr: 7 }, true],
    [{ [PAYLOAD_KEY]: { pr: '7' } }, { pr: 7 }, false],
    ['{not json', { pr: 7 }, false],
    [{}, { pr: 7 }, false],
    [null, { pr: 7 }, false],
    [{ pr: 7 }, { pr: 7 }, false]
  ])('%j for %j: %s', (payload, preview, expected) => {
    expect(isPreviewDeployment(payload, preview)).toBe(expected)
  })
})
