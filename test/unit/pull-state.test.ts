// Whether a pull request is still open, as a sweep asks it, against the local GitHub API stand-in.
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { GitHub, pullRequestState, pullRequestStates } from '../../src/report/github.js'
import { WRITE_TOKEN, startGitHubServer, type GitHubServer } from '../support/github-server.js'

const REPO = 'acme/todo'
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

describe('pullRequestState', () => {
  test('open, closed and merged, as GitHub says', async () => {
    gh.setPull(REPO, 7, { state: 'open' })
    gh.setPull(REPO, 8, { state: 'closed' })
    gh.setPull(REPO, 9, { state: 'closed', merged: true })
    expect(await pullRequestState(client(), REPO, 7)).toEqual({ state: 'open' })
    expect(await pullRequestState(client(), REPO, 8)).toEqual({
      state: 'closed',
      merged: false,
      deleted: false
    })
    expect(await pullRequestState(client(), REPO, 9)).toEqual({
      state: 'closed',
      merged: true,
      deleted: false
    })
    expect(gh.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /repos/acme/todo/pulls/7',
      'GET /repos/acme/todo/pulls/8',
      'GET /repos/acme/todo/pulls/9'
    ])
  })

  test('a pull request GitHub no longer has (404, 410) is closed', async () => {
    expect(await pullRequestState(client(), REPO, 41)).toEqual({
      state: 'closed',
      merged: false,
      deleted: true
    })
    gh.setPull(REPO, 42, { state: 'open' })
    gh.fail(/pulls\/42$/, 410, 'This issue was deleted')
    expect(await pullRequestState(client(), REPO, 42)).toMatchObject({
      state: 'closed',
      deleted: true
    })
  })

  test('a refusal or an outage is unknown, never closed, with a warning', async () => {
    gh.setPull(REPO, 7, { state: 'open' })
    gh.fail(/pulls\/7$/, 403, 'Resource not accessible by integration')
    const refused = await pullRequestState(client(), REPO, 7)
    expect(refused).toMatchObject({ state: 'unknown', status: 403 })
    expect(refused.state === 'unknown' && refused.warning).toMatch(
      /^Could not tell whether PR #7 is open \(the token needs `permissions: pull-requests: read`\); its preview is kept\. GitHub answered 403/
    )

    gh.fail(/pulls\/7$/, 502, 'Bad Gateway', DOWN)
    const down = await pullRequestState(client(), REPO, 7)
    expect(down).toMatchObject({ state: 'unknown', status: 502 })
    expect(down.state === 'unknown' && down.warning).toContain('Bad Gateway')

    const badToken = await pullRequestState(client('not-a-token'), REPO, 8)
    expect(badToken).toMatchObject({ state: 'unknown', status: 401 })
  })

  test('a passing 5xx is tried again and answered', async () => {
    gh.setPull(REPO, 7, { state: 'closed' })
    gh.fail(/pulls\/7$/, 503, 'Service Unavailable', 1)
    expect(await pullRequestState(client(), REPO, 7)).toMatchObject({ state: 'closed' })
  })
})

describe('pullRequestStates', () => {
  test('one call per pull request, however many previews it has', async () => {
    gh.setPull(REPO, 7, { state: 'open' })
    gh.setPull(REPO, 8, { state: 'closed' })
    const states = await pullRequestStates(client(), REPO, [7, 8, 7, 9, 8])
    expect([...states.entries()].map(([n, s]) => [n, s.state])).toEqual([
      [7, 'open'],
      [8, 'closed'],
      [9, 'closed']
    ])
    expect(gh.requests.map((r) => r.url)).toEqual([
      '/repos/acme/todo/pulls/7',
      '/repos/acme/todo/pulls/8',
      '/repos/acme/todo/pulls/9',
      // #9 answered 404: the repository itself is asked once whether it is there.
      '/repos/acme/todo'
    ])
  })

  test('a 404 from a repository the token cannot see is unknown, never closed', async () => {
    gh.setPull(REPO, 7, { state: 'open' })
    // Another repository's token: GitHub answers 404 for the repository and all its pulls.
    gh.fail(/^GET \/repos\/acme\/todo(\/pulls\/\d+)?$/, 404, 'Not Found', 100)
    const states = await pullRequestStates(client(), REPO, [7, 8])
    for (const n of [7, 8]) {
      const s = states.get(n)
      expect(s, `#${n}`).toMatchObject({ state: 'unknown', status: 404 })
      expect(s?.state === 'unknown' && s.warning).toMatch(
        new RegExp(`^Could not tell whether PR #${n} is open: .*the repository acme/todo itself`)
      )
    }
    expect(gh.requests.filter((r) => r.url === '/repos/acme/todo')).toHaveLength(1)
  })
})
