import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import {
  commentMarker,
  decideComment,
  findPullRequest,
  prFromPayload,
  upsertComment,
  type CommentMode
} from '../../src/report/comment.js'
import { GitHub, GitHubError } from '../../src/report/github.js'
import type { Status } from '../../src/model.js'
import {
  FORK_TOKEN,
  WRITE_TOKEN,
  startGitHubServer,
  type GitHubServer
} from '../support/github-server.js'
import { startProxy } from '../support/proxy-server.js'

const REPO = 'acme/todo'
const PR = 7

let gh: GitHubServer
beforeEach(async () => {
  gh = await startGitHubServer()
})
afterEach(async () => {
  await gh.close()
})

// Retries wait 1 ms, 4 ms, 9 ms here instead of seconds.
const api = (
  token = WRITE_TOKEN
): { token: string; apiUrl: string; graphqlUrl: string; retryAfterMs: number } => ({
  token,
  apiUrl: gh.url,
  graphqlUrl: gh.graphqlUrl,
  retryAfterMs: 1
})
/** More failures in a row than the client retries: the endpoint stays down. */
const DOWN = 10
const ours = (header: string): string[] =>
  gh
    .comments(REPO, PR)
    .filter((c) => c.body.includes(commentMarker(header)) && c.user.login === 'github-actions[bot]')
    .map((c) => c.body)

describe('upsertComment', () => {
  test('the first run creates the comment, the second updates the same one', async () => {
    const first = await upsertComment({
      ...api(),
      repo: REPO,
      pr: PR,
      header: 'todo/preview',
      body: 'run 1'
    })
    expect(first).toMatchObject({ ok: true, action: 'created' })
    expect(gh.comments(REPO, PR)).toHaveLength(1)
    const c = gh.comments(REPO, PR)[0]
    expect(c?.body).toBe(`${commentMarker('todo/preview')}\nrun 1`)
    expect(first.ok && first.action === 'created' && first.url).toBe(c?.html_url)

    const second = await upsertComment({
      ...api(),
      repo: REPO,
      pr: PR,
      header: 'todo/preview',
      body: 'run 2'
    })
    expect(second).toMatchObject({ ok: true, action: 'updated', id: c?.id, url: c?.html_url })
    expect(gh.comments(REPO, PR)).toHaveLength(1)
    expect(gh.comments(REPO, PR)[0]?.body).toBe(`${commentMarker('todo/preview')}\nrun 2`)

    // Identity came from GraphQL viewer, never from GET /user (refused to the Actions token).
    expect(gh.requests.some((r) => r.url === '/user')).toBe(false)
    expect(gh.requests.filter((r) => r.url === '/graphql')).toHaveLength(2)
    expect(
      gh.requests.every(
        (r) => r.token === WRITE_TOKEN && /^minikube-preview\b/.test(r.userAgent ?? '')
      )
    ).toBe(true)
  })

  test('a body that already starts with the marker is not given a second one', async () => {
    const body = `${commentMarker('h')}\n### ✅ healthy`
    await upsertComment({ ...api(), repo: REPO, pr: PR, header: 'h', body })
    expect(gh.comments(REPO, PR)[0]?.body).toBe(body)
  })

  test('a second header gets its own comment; each is then updated in place', async () => {
    for (const run of [1, 2]) {
      for (const header of ['todo/k8s-1.33', 'todo/k8s-1.34']) {
        const r = await upsertComment({
          ...api(),
          repo: REPO,
          pr: PR,
          header,
          body: `${header} run ${run}`
        })
        expect(r).toMatchObject({ ok: true, action: run === 1 ? 'created' : 'updated' })
      }
    }
    expect(gh.comments(REPO, PR)).toHaveLength(2)
    expect(ours('todo/k8s-1.33')).toEqual([
      `${commentMarker('todo/k8s-1.33')}\ntodo/k8s-1.33 run 2`
    ])
    expect(ours('todo/k8s-1.34')).toEqual([
      `${commentMarker('todo/k8s-1.34')}\ntodo/k8s-1.34 run 2`
    ])
  })

  test('a header that is a prefix of another is not mistaken for it', async () => {
    await upsertComment({ ...api(), repo: REPO, pr: PR, header: 'todo/preview-2', body: 'other' })
    const r = await upsertComment({
      ...api(),
      repo: REPO,
      pr: PR,
      header: 'todo/preview',
      body: 'mine'
    })
    expect(r).toMatchObject({ ok: true, action: 'created' })
    expect(gh.comments(REPO, PR)).toHaveLength(2)
  })

  test("someone else's comment with our marker is never touched", async () => {
    const quote = `> ${commentMarker('todo/preview')}\n> why is this failing?`
    const human = gh.addComment(
      REPO,
      PR,
      `${commentMarker('todo/preview')}\ncopied by hand`,
      'octocat'
    )
    const other = gh.addComment(REPO, PR, quote, 'reviewer')
    const app = gh.addComment(
      REPO,
      PR,
      `${commentMarker('todo/preview')}\nfrom another app`,
      'some-app[bot]'
    )

    const r = await upsertComment({
      ...api(),
      repo: REPO,
      pr: PR,
      header: 'todo/preview',
      body: 'ours'
    })
    expect(r).toMatchObject({ ok: true, action: 'created' })
    await upsertComment({
      ...api(),
      repo: REPO,
      pr: PR,
      header: 'todo/preview',
      body: 'ours again'
    })

    const all = gh.comments(REPO, PR)
    expect(all).toHaveLength(4)
    expect(all.find((c) => c.id === human.id)?.body).toBe(
      `${commentMarker('todo/preview')}\ncopied by hand`
    )
    expect(all.find((c) => c.id === other.id)?.body).toBe(quote)
    expect(all.find((c) => c.id === app.id)?.body).toBe(
      `${commentMarker('todo/preview')}\nfrom another app`
    )
    expect(ours('todo/preview')).toEqual([`${commentMarker('todo/preview')}\nours again`])
    const writes = gh.requests.filter((q) => q.method === 'PATCH' || q.method === 'DELETE')
    expect(writes.map((q) => q.url)).toEqual([
      `/repos/${REPO}/issues/comments/${r.ok && 'id' in r ? r.id : 0}`
    ])
  })

  test("a marker below the first line, even in our own identity's comment, does not make it ours", async () => {
    // Another leg of the matrix, whose pod log printed this leg's marker (and a stray one).
    const otherLeg = gh.addComment(
      REPO,
      PR,
      `${commentMarker('todo/arm64')}\n### ❌ unhealthy\n\`\`\`text\n${commentMarker('todo/amd64')}\n\`\`\``,
      'github-actions[bot]'
    )
    const quoted = gh.addComment(
      REPO,
      PR,
      `see below\n${commentMarker('todo/amd64')}\nold text`,
      'github-actions[bot]'
    )
    const indented = gh.addComment(
      REPO,
      PR,
      ` ${commentMarker('todo/amd64')}\nnot quite the first line`,
      'github-actions[bot]'
    )
    const before = gh.comments(REPO, PR).map((c) => c.body)

    for (const run of [1, 2]) {
      const r = await upsertComment({
        ...api(),
        repo: REPO,
        pr: PR,
        header: 'todo/amd64',
        body: `amd64 run ${run}`
      })
      expect(r).toMatchObject({ ok: true, action: run === 1 ? 'created' : 'updated', removed: 0 })
    }
    const all = gh.comments(REPO, PR)
    expect(all).toHaveLength(4)
    expect(all.slice(0, 3).map((c) => c.body)).toEqual(before)
    expect(all.slice(0, 3).map((c) => c.id)).toEqual([otherLeg.id, quoted.id, indented.id])
    expect(all[3]?.body).toBe(`${commentMarker('todo/amd64')}\namd64 run 2`)
    const writes = gh.requests.filter((q) => q.method === 'PATCH' || q.method === 'DELETE')
    expect(writes.map((q) => q.url)).toEqual([`/repos/${REPO}/issues/comments/${all[3]?.id}`])
  })

  test('a first line with a CRLF ending is still ours', async () => {
    const mine = gh.addComment(
      REPO,
      PR,
      `${commentMarker('h')}\r\nedited on Windows`,
      'github-actions[bot]'
    )
    const r = await upsertComment({ ...api(), repo: REPO, pr: PR, header: 'h', body: 'new' })
    expect(r).toMatchObject({ ok: true, action: 'updated', id: mine.id })
  })

  test('no line of what we write but the first can pass for a marker', async () => {
    await upsertComment({
      ...api(),
      repo: REPO,
      pr: PR,
      header: 'h',
      body: `${commentMarker('h')}\nlog: ${commentMarker('other')}\n<!-- sticky-comment -->`
    })
    const body = gh.comments(REPO, PR)[0]?.body ?? ''
    const lines = body.split('\n')
    expect(lines[0]).toBe(commentMarker('h'))
    expect(lines.slice(1).join('\n')).not.toContain('<!--')
    // It still reads the same.
    expect(
      lines
        .slice(1)
        .join('\n')
        .replace(/\u2060/g, '')
    ).toBe(`log: ${commentMarker('other')}\n<!-- sticky-comment -->`)
  })

  test('our comment is found beyond the first page (more than 100 comments, Link rel="next")', async () => {
    for (let i = 0; i < 150; i++)
      gh.addComment(REPO, PR, `review comment ${i}`, i % 2 ? 'octocat' : 'reviewer')
    gh.addComment(REPO, PR, `${commentMarker('todo/preview')}\nsomeone copied it`, 'octocat')
    const mine = gh.addComment(
      REPO,
      PR,
      `${commentMarker('todo/preview')}\nold run`,
      'github-actions[bot]'
    )
    for (let i = 0; i < 70; i++) gh.addComment(REPO, PR, `later ${i}`, 'octocat')

    const r = await upsertComment({
      ...api(),
      repo: REPO,
      pr: PR,
      header: 'todo/preview',
      body: 'new run'
    })
    expect(r).toMatchObject({ ok: true, action: 'updated', id: mine.id })
    expect(gh.comments(REPO, PR)).toHaveLength(222)
    expect(mine.body).toBe(`${commentMarker('todo/preview')}\nnew run`)
    const pages = gh.requests.filter(
      (q) => q.method === 'GET' && q.url.includes('/issues/7/comments')
    )
    expect(pages.map((q) => new URL(q.url, gh.url).searchParams.get('page') ?? '1')).toEqual([
      '1',
      '2',
      '3'
    ])
    expect(pages.every((q) => new URL(q.url, gh.url).searchParams.get('per_page') === '100')).toBe(
      true
    )
  })

  test('duplicates of our own comment (from concurrent runs) are folded into one', async () => {
    const a = gh.addComment(REPO, PR, `${commentMarker('h')}\nrun a`, 'github-actions[bot]')
    gh.addComment(REPO, PR, `${commentMarker('h')}\nrun b`, 'github-actions[bot]')
    gh.addComment(REPO, PR, 'unrelated', 'github-actions[bot]')
    const r = await upsertComment({ ...api(), repo: REPO, pr: PR, header: 'h', body: 'run c' })
    expect(r).toMatchObject({ ok: true, action: 'updated', id: a.id, removed: 1 })
    expect(gh.comments(REPO, PR).map((c) => c.body)).toEqual([
      `${commentMarker('h')}\nrun c`,
      'unrelated'
    ])
  })

  test('create: false only updates (on-failure after a fix) and never creates', async () => {
    const none = await upsertComment({
      ...api(),
      repo: REPO,
      pr: PR,
      header: 'h',
      body: 'fixed',
      create: false
    })
    expect(none).toEqual({ ok: true, action: 'none' })
    expect(gh.comments(REPO, PR)).toHaveLength(0)
    gh.addComment(REPO, PR, `${commentMarker('h')}\nbroken`, 'github-actions[bot]')
    const r = await upsertComment({
      ...api(),
      repo: REPO,
      pr: PR,
      header: 'h',
      body: 'fixed',
      create: false
    })
    expect(r).toMatchObject({ ok: true, action: 'updated' })
    expect(gh.comments(REPO, PR)[0]?.body).toBe(`${commentMarker('h')}\nfixed`)
  })

  test("a fork's read-only token: no throw, a result that says why and what to grant", async () => {
    const r = await upsertComment({
      ...api(FORK_TOKEN),
      repo: REPO,
      pr: PR,
      header: 'h',
      body: 'x'
    })
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.status).toBe(403)
    expect(r.message).toBe('Resource not accessible by integration')
    expect(r.warning).toMatch(
      /^Could not comment on PR #7: the token may not write to pull requests/
    )
    expect(r.warning).toContain('pull requests from forks get a read-only token')
    expect(r.warning).toContain('`permissions: pull-requests: write`')
    expect(r.warning).toContain('GitHub answered 403: Resource not accessible by integration')
    expect(gh.comments(REPO, PR)).toHaveLength(0)
  })

  test('the fork token cannot update an existing comment either, and says so the same way', async () => {
    gh.addComment(REPO, PR, `${commentMarker('h')}\nold`, 'github-actions[bot]')
    const r = await upsertComment({
      ...api(FORK_TOKEN),
      repo: REPO,
      pr: PR,
      header: 'h',
      body: 'new'
    })
    expect(r).toMatchObject({ ok: false, status: 403 })
    expect(gh.comments(REPO, PR)[0]?.body).toBe(`${commentMarker('h')}\nold`)
  })

  test('404 (no such PR, or no access) and 401 (bad token) and 5xx come back as warnings', async () => {
    gh.fail(/^POST \/repos\/.*\/comments$/, 404, 'Not Found')
    const notFound = await upsertComment({ ...api(), repo: REPO, pr: PR, header: 'h', body: 'x' })
    expect(notFound).toMatchObject({ ok: false, status: 404 })
    expect(!notFound.ok && notFound.warning).toContain('`permissions: pull-requests: write`')

    const bad = await upsertComment({
      ...api('not-a-token'),
      repo: REPO,
      pr: PR,
      header: 'h',
      body: 'x'
    })
    expect(bad).toMatchObject({ ok: false, status: 401, message: 'Bad credentials' })
    expect(!bad.ok && bad.warning).toContain("input 'github-token'")

    gh.fail(/^GET \/repos\/.*\/comments$/, 502, 'Server Error', DOWN)
    const down = await upsertComment({ ...api(), repo: REPO, pr: PR, header: 'h', body: 'x' })
    expect(down).toMatchObject({ ok: false, status: 502 })
    expect(!down.ok && down.warning).toMatch(
      /^Could not comment on PR #7: GitHub API GET .* failed with 502: Server Error/
    )
  })

  test('when GraphQL cannot say who the token is, the Actions identity is assumed', async () => {
    gh.fail(/^POST \/graphql$/, 403, 'Resource not accessible by integration')
    const mine = gh.addComment(REPO, PR, `${commentMarker('h')}\nold`, 'github-actions[bot]')
    const r = await upsertComment({ ...api(), repo: REPO, pr: PR, header: 'h', body: 'new' })
    expect(r).toMatchObject({ ok: true, action: 'updated', id: mine.id })
  })

  test('when GraphQL cannot say, a personal token is asked /user, and is not taken for the bot', async () => {
    await gh.close()
    gh = await startGitHubServer({ tokens: { ghp_person: { login: 'alice' } } })
    gh.fail(/^POST \/graphql$/, 502, 'Server Error', DOWN)
    const bots = gh.addComment(REPO, PR, `${commentMarker('h')}\nby the bot`, 'github-actions[bot]')
    const alices = gh.addComment(REPO, PR, `${commentMarker('h')}\nby alice`, 'alice')
    const r = await upsertComment({
      ...api('ghp_person'),
      repo: REPO,
      pr: PR,
      header: 'h',
      body: 'new'
    })
    expect(r).toMatchObject({ ok: true, action: 'updated', id: alices.id })
    expect(bots.body).toBe(`${commentMarker('h')}\nby the bot`)
  })

  test('a token whose account cannot be told touches nothing and says why', async () => {
    await gh.close()
    gh = await startGitHubServer({ tokens: { opaque_token: { login: 'some-app[bot]' } } })
    gh.fail(/^POST \/graphql$/, 502, 'Server Error', DOWN)
    const bots = gh.addComment(REPO, PR, `${commentMarker('h')}\nby the bot`, 'github-actions[bot]')
    const r = await upsertComment({
      ...api('opaque_token'),
      repo: REPO,
      pr: PR,
      header: 'h',
      body: 'new'
    })
    expect(r).toMatchObject({ ok: false })
    expect(!r.ok && r.warning).toContain('no comment was created, edited or deleted')
    expect(gh.comments(REPO, PR).map((c) => c.body)).toEqual([bots.body])
    expect(gh.requests.filter((q) => q.method !== 'GET' && q.url !== '/graphql')).toEqual([])
  })

  test('a personal token acts as its user', async () => {
    await gh.close()
    gh = await startGitHubServer({ tokens: { ghp_person: { login: 'alice' } } })
    gh.addComment(REPO, PR, `${commentMarker('h')}\nby the bot`, 'github-actions[bot]')
    const r = await upsertComment({
      ...api('ghp_person'),
      repo: REPO,
      pr: PR,
      header: 'h',
      body: 'by alice'
    })
    expect(r).toMatchObject({ ok: true, action: 'created' })
    expect(gh.comments(REPO, PR).map((c) => `${c.user.login}: ${c.body.split('\n')[1]}`)).toEqual([
      'github-actions[bot]: by the bot',
      'alice: by alice'
    ])
  })
})

describe('findPullRequest', () => {
  // The number the run's facts read from the payload (main reads the payload file once).
  const event = (_name: string, payload: unknown): number | undefined => prFromPayload(payload)
  const SHA = 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed'

  test('from the pull_request payload, without asking the API', async () => {
    const eventPr = event('pr', {
      action: 'synchronize',
      number: 12,
      pull_request: { number: 12 }
    })
    const github = new GitHub(api())
    const r = await findPullRequest({
      mode: 'auto',
      event: 'pull_request',
      eventPr,
      repo: REPO,
      sha: SHA,
      github
    })
    expect(r).toEqual({ pr: 12, source: 'event' })
    expect(gh.requests).toHaveLength(0)
  })

  test('always on push: the first open PR of the commit', async () => {
    gh.setCommitPulls(REPO, SHA, [
      { number: 3, state: 'closed' },
      { number: 9, state: 'open' },
      { number: 11, state: 'open' }
    ])
    const eventPr = event('push', { ref: 'refs/heads/feature', after: SHA })
    const github = new GitHub(api())
    const r = await findPullRequest({
      mode: 'always',
      event: 'push',
      eventPr,
      repo: REPO,
      sha: SHA,
      github
    })
    expect(r).toEqual({ pr: 9, source: 'commit' })
    expect(gh.requests.map((q) => q.url)).toEqual([
      `/repos/${REPO}/commits/${SHA}/pulls?per_page=100`
    ])
  })

  test('auto on push does not look for a PR; a commit without an open PR has none', async () => {
    const eventPr = event('push2', { ref: 'refs/heads/main' })
    const github = new GitHub(api())
    expect(
      await findPullRequest({
        mode: 'auto',
        event: 'push',
        eventPr,
        repo: REPO,
        sha: SHA,
        github
      })
    ).toEqual({
      source: 'none'
    })
    expect(gh.requests).toHaveLength(0)
    gh.setCommitPulls(REPO, SHA, [{ number: 3, state: 'closed' }])
    expect(
      await findPullRequest({
        mode: 'always',
        event: 'push',
        eventPr,
        repo: REPO,
        sha: SHA,
        github
      })
    ).toEqual({
      source: 'none'
    })
  })

  test('a failed lookup is a warning, not a failure', async () => {
    gh.fail(/\/pulls$/, 403, 'Resource not accessible by integration')
    const github = new GitHub(api())
    const r = await findPullRequest({
      mode: 'on-failure',
      event: 'push',
      repo: REPO,
      sha: SHA,
      github
    })
    expect(r.pr).toBeUndefined()
    expect(r.warning).toContain('Could not look up the pull request of commit f00dfee')
    expect(r.warning).toContain('403: Resource not accessible by integration')
  })
})

describe('decideComment', () => {
  const cases: [CommentMode, string, Status, number | undefined, boolean][] = [
    ['auto', 'pull_request', 'healthy', 7, true],
    ['auto', 'pull_request_target', 'unhealthy', 7, true],
    ['auto', 'push', 'healthy', 7, false],
    ['auto', 'workflow_dispatch', 'error', 7, false],
    ['auto', 'pull_request', 'healthy', undefined, false],
    ['always', 'push', 'healthy', 7, true],
    ['always', 'pull_request', 'error', 7, true],
    ['always', 'push', 'healthy', undefined, false],
    ['never', 'pull_request', 'error', 7, false],
    ['on-failure', 'pull_request', 'healthy', 7, false],
    ['on-failure', 'pull_request', 'unhealthy', 7, true],
    ['on-failure', 'push', 'error', 7, true],
    ['on-failure', 'push', 'error', undefined, false]
  ]
  test.each(cases)('%s on %s, %s, PR %s → %s', (mode, event, status, pr, expected) => {
    expect(decideComment(mode, event, status, pr)).toBe(expected)
  })
})

describe('GitHub client', () => {
  test("errors name the call, the status and GitHub's message", async () => {
    gh.fail(/^PATCH /, 422, 'Validation Failed')
    const github = new GitHub(api())
    await expect(
      github.request('PATCH', `/repos/${REPO}/issues/comments/1`, { body: 'x' })
    ).rejects.toThrow(
      `GitHub API PATCH /repos/${REPO}/issues/comments/1 failed with 422: Validation Failed`
    )
    const user = await github.request('GET', '/user').catch((e: unknown) => e)
    expect(user).toBeInstanceOf(GitHubError)
    expect((user as GitHubError).status).toBe(403)
  })

  test('a request that gets no answer is bounded by the timeout, and not tried again', async () => {
    const { createServer } = await import('node:http')
    let asked = 0
    const silent = createServer(() => void asked++)
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    const port = (silent.address() as { port: number }).port
    const github = new GitHub({
      token: 't',
      apiUrl: `http://127.0.0.1:${port}`,
      timeoutMs: 200,
      retryAfterMs: 1
    })
    const started = Date.now()
    await expect(github.request('GET', '/x')).rejects.toThrow(
      'GitHub API GET /x failed: no answer within 200ms'
    )
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(asked).toBe(1)
    silent.closeAllConnections()
    silent.close()
  })

  test('a connection that breaks is tried again; one that is refused is named', async () => {
    const { createServer } = await import('node:http')
    let asked = 0
    const flaky = createServer((req, res) => {
      if (++asked <= 2) return void req.socket.destroy()
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', r))
    const port = (flaky.address() as { port: number }).port
    const github = new GitHub({ token: 't', apiUrl: `http://127.0.0.1:${port}`, retryAfterMs: 1 })
    await expect(github.request('GET', '/x')).resolves.toMatchObject({ data: { ok: true } })
    expect(asked).toBe(3)
    flaky.closeAllConnections()
    await new Promise<void>((r) => flaky.close(() => r()))

    const refused = await new GitHub({
      token: 't',
      apiUrl: `http://127.0.0.1:${port}`,
      retryAfterMs: 1
    })
      .request('GET', '/x')
      .catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(GitHubError)
    expect(refused).toMatchObject({
      status: 0,
      message: expect.stringMatching(/^GitHub API GET \/x failed: .*ECONNREFUSED/)
    })
  })

  test('the base URLs come from GITHUB_API_URL and GITHUB_GRAPHQL_URL, with GitHub.com defaults', () => {
    expect(new GitHub({ token: 't', env: {} })).toMatchObject({
      apiUrl: 'https://api.github.com',
      graphqlUrl: 'https://api.github.com/graphql'
    })
    expect(
      new GitHub({
        token: 't',
        env: {
          GITHUB_API_URL: 'https://ghe.example/api/v3/',
          GITHUB_GRAPHQL_URL: 'https://ghe.example/api/graphql'
        }
      })
    ).toMatchObject({
      apiUrl: 'https://ghe.example/api/v3',
      graphqlUrl: 'https://ghe.example/api/graphql'
    })
  })

  test('the token is never sent to a host a Link header names but we were not given', async () => {
    const github = new GitHub(api())
    await expect(github.request('GET', 'https://evil.example/steal')).rejects.toThrow(
      'refusing to send the token'
    )
  })

  test('a 5xx or no answer is tried again; a refusal (4xx) is not', async () => {
    gh.fail(/^POST \/repos\/.*\/comments$/, 502, 'Server Error', 2)
    const r = await upsertComment({ ...api(), repo: REPO, pr: PR, header: 'h', body: 'x' })
    expect(r).toMatchObject({ ok: true, action: 'created' })
    expect(gh.comments(REPO, PR)).toHaveLength(1)
    const posts = (): number =>
      gh.requests.filter((q) => q.method === 'POST' && q.url.endsWith('/comments')).length
    expect(posts()).toBe(3)

    gh.fail(/^PATCH /, 422, 'Validation Failed', DOWN)
    const refused = await upsertComment({ ...api(), repo: REPO, pr: PR, header: 'h', body: 'y' })
    expect(refused).toMatchObject({ ok: false, status: 422 })
    expect(gh.requests.filter((q) => q.method === 'PATCH')).toHaveLength(1)

    // Three retries, then it is an outage: one POST and three more.
    gh.fail(/^POST \/repos\/.*\/comments$/, 503, 'Service Unavailable', DOWN)
    const down = await upsertComment({ ...api(), repo: REPO, pr: 8, header: 'h', body: 'z' })
    expect(down).toMatchObject({ ok: false, status: 503 })
    expect(posts()).toBe(3 + 4)
  })
})

describe('behind a proxy (self-hosted runners)', () => {
  const saved = { ...process.env }
  afterEach(() => {
    for (const k of [
      'HTTP_PROXY',
      'HTTPS_PROXY',
      'http_proxy',
      'https_proxy',
      'NO_PROXY',
      'no_proxy'
    ])
      if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
  })
  const clearProxy = (): void => {
    for (const k of [
      'HTTP_PROXY',
      'HTTPS_PROXY',
      'http_proxy',
      'https_proxy',
      'NO_PROXY',
      'no_proxy'
    ])
      delete process.env[k]
  }

  test('HTTP_PROXY carries every call to the API', async () => {
    const proxy = await startProxy({ upstream: gh.url })
    try {
      clearProxy()
      process.env['HTTP_PROXY'] = proxy.url
      const r = await upsertComment({
        token: WRITE_TOKEN,
        apiUrl: 'http://api.github.test',
        graphqlUrl: 'http://api.github.test/graphql',
        retryAfterMs: 1,
        repo: REPO,
        pr: PR,
        header: 'h',
        body: 'through the proxy'
      })
      expect(r).toMatchObject({ ok: true, action: 'created' })
      expect(gh.comments(REPO, PR)[0]?.body).toBe(`${commentMarker('h')}\nthrough the proxy`)
      expect(proxy.requests.length).toBeGreaterThan(0)
      expect(
        proxy.requests.every(
          (q) =>
            q === 'CONNECT api.github.test:80' ||
            q.startsWith('POST http://api.github.test/') ||
            q.startsWith('GET http://api.github.test/')
        )
      ).toBe(true)
    } finally {
      await proxy.close()
    }
  })

  test('HTTPS_PROXY is asked for the https API; loopback goes direct', async () => {
    const proxy = await startProxy({ refuse: true })
    try {
      clearProxy()
      process.env['HTTPS_PROXY'] = proxy.url
      const r = await upsertComment({
        token: WRITE_TOKEN,
        apiUrl: 'https://api.github.test',
        retryAfterMs: 1,
        repo: REPO,
        pr: PR,
        header: 'h',
        body: 'x'
      })
      expect(r).toMatchObject({ ok: false, status: 0 })
      expect(proxy.requests[0]).toBe('CONNECT api.github.test:443')

      // The stand-in is on loopback, which never goes through a proxy.
      process.env['HTTP_PROXY'] = proxy.url
      const asked = proxy.requests.length
      const direct = await upsertComment({ ...api(), repo: REPO, pr: PR, header: 'h', body: 'y' })
      expect(direct).toMatchObject({ ok: true, action: 'created' })
      expect(proxy.requests).toHaveLength(asked)
    } finally {
      await proxy.close()
    }
  })
})
