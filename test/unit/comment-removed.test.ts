// The comment once the preview is removed, against the local GitHub API stand-in.
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import {
  commentMarker,
  formatUtc,
  markPreviewRemoved,
  renderRemovedComment,
  upsertComment
} from '../../src/report/comment.js'
import {
  FORK_TOKEN,
  WRITE_TOKEN,
  startGitHubServer,
  type GitHubServer
} from '../support/github-server.js'

const REPO = 'acme/todo'
const AT = new Date(Date.UTC(2026, 11, 1, 12, 14, 37))
const RUN = 'https://github.com/acme/todo/actions/runs/42'

let gh: GitHubServer
beforeEach(async () => {
  gh = await startGitHubServer()
})
afterEach(async () => {
  await gh.close()
})

const api = (token = WRITE_TOKEN) => ({
  token,
  apiUrl: gh.url,
  graphqlUrl: gh.graphqlUrl,
  retryAfterMs: 1
})

describe('markPreviewRemoved', () => {
  test("rewrites the run's own comment, keeping its marker, so it is found again", async () => {
    const header = 'todo/pr-7'
    const created = await upsertComment({
      ...api(),
      repo: REPO,
      pr: 7,
      header,
      body: '### ✅ **healthy**'
    })
    expect(created).toMatchObject({ ok: true, action: 'created' })
    const r = await markPreviewRemoved({
      ...api(),
      repo: REPO,
      pr: 7,
      header,
      removedAt: AT,
      reason: 'closed',
      release: 'todo',
      namespace: 'pr-7',
      runUrl: RUN
    })
    expect(r).toMatchObject({
      ok: true,
      action: 'updated',
      id: created.ok && 'id' in created && created.id
    })
    const [c] = gh.comments(REPO, 7)
    expect(gh.comments(REPO, 7)).toHaveLength(1)
    expect(c?.body).toBe(
      `${commentMarker(header)}\n### 🧹 Preview removed\n\n` +
        'Release `todo` in namespace `pr-7` was removed at 2026-12-01 12:14 UTC: the pull request was closed.\n\n' +
        `Removed by <${RUN}>.\n`
    )
    expect(c?.body).not.toContain('healthy')

    // Reopened and deployed again: the same comment becomes the report again.
    const again = await upsertComment({ ...api(), repo: REPO, pr: 7, header, body: 'run 3' })
    expect(again).toMatchObject({ ok: true, action: 'updated', id: c?.id })
  })

  test('with no comment of ours, none is posted', async () => {
    gh.addComment(REPO, 7, `${commentMarker('todo/pr-7')}\ncopied by hand`, 'octocat')
    gh.addComment(REPO, 7, `${commentMarker('other/pr-7')}\nanother header`, 'github-actions[bot]')
    const r = await markPreviewRemoved({
      ...api(),
      repo: REPO,
      pr: 7,
      header: 'todo/pr-7',
      removedAt: AT,
      reason: 'merged'
    })
    expect(r).toEqual({ ok: true, action: 'none' })
    expect(gh.requests.filter((q) => q.method !== 'GET' && q.url !== '/graphql')).toEqual([])
    expect(gh.comments(REPO, 7).map((c) => c.body)).toEqual([
      `${commentMarker('todo/pr-7')}\ncopied by hand`,
      `${commentMarker('other/pr-7')}\nanother header`
    ])
  })

  test('another pull request of the same repository keeps its comment', async () => {
    for (const pr of [7, 8])
      await upsertComment({ ...api(), repo: REPO, pr, header: 'todo', body: `report of ${pr}` })
    await markPreviewRemoved({
      ...api(),
      repo: REPO,
      pr: 7,
      header: 'todo',
      removedAt: AT,
      reason: 'closed'
    })
    expect(gh.comments(REPO, 7)[0]?.body).toContain('Preview removed')
    expect(gh.comments(REPO, 8)[0]?.body).toBe(`${commentMarker('todo')}\nreport of 8`)
  })

  test("a fork's read-only token: a warning, nothing changed", async () => {
    await upsertComment({ ...api(), repo: REPO, pr: 7, header: 'todo', body: 'report' })
    const r = await markPreviewRemoved({
      ...api(FORK_TOKEN),
      repo: REPO,
      pr: 7,
      header: 'todo',
      removedAt: AT,
      reason: 'expired'
    })
    expect(r).toMatchObject({ ok: false, status: 403 })
    expect(gh.comments(REPO, 7)[0]?.body).toBe(`${commentMarker('todo')}\nreport`)
  })
})

describe('renderRemovedComment', () => {
  test.each([
    ['closed', 'the pull request was closed'],
    ['merged', 'the pull request was merged'],
    ['expired', 'it expired (no push within its `ttl`)']
  ] as const)('says why: %s', (reason, why) => {
    const body = renderRemovedComment({ header: 'h', removedAt: AT, reason })
    expect(body).toContain(`The preview was removed at 2026-12-01 12:14 UTC: ${why}.`)
  })

  test('the header is shown when it is not just release/namespace', () => {
    const plain = renderRemovedComment({
      header: 'todo/pr-7',
      removedAt: AT,
      reason: 'closed',
      release: 'todo',
      namespace: 'pr-7'
    })
    expect(plain.split('\n')[1]).toBe('### 🧹 Preview removed')
    const matrix = renderRemovedComment({
      header: 'todo/k8s-1.34',
      removedAt: AT,
      reason: 'closed',
      release: 'todo',
      namespace: 'pr-7'
    })
    expect(matrix.split('\n')[1]).toBe('### 🧹 Preview removed — todo/k8s-1.34')
  })

  test('hostile text in the header and names starts nothing', () => {
    const body = renderRemovedComment({
      header: 'x <img src=y onerror=alert(1)> @octocat #1 <!-- minikube-preview: other -->',
      removedAt: AT,
      reason: 'closed',
      release: 'a`b',
      namespace: '<b>ns</b>',
      runUrl: 'javascript:alert(1)'
    })
    const [marker, ...rest] = body.split('\n')
    const text = rest.join('\n')
    expect(marker).toBe(
      commentMarker('x <img src=y onerror=alert(1)> @octocat #1 <!-- minikube-preview: other -->')
    )
    expect(text).not.toContain('<img')
    expect(text).not.toContain('<!--')
    expect(text).not.toMatch(/@octocat/)
    expect(text).not.toContain('<javascript')
    expect(text).toContain('``a`b``')
    expect(text).toContain('`<b>ns</b>`')
    expect(text).toContain('`javascript:alert(1)`')
  })

  test('formatUtc', () => {
    expect(formatUtc(AT)).toBe('2026-12-01 12:14 UTC')
    expect(formatUtc(new Date(Number.NaN))).toBe('an unknown time')
  })
})
