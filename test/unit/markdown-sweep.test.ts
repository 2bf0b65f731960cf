// What a sweep's job summary says: each preview removed and each kept, with its reason, as text
// that mentions no one and links nowhere, or that there was none.
import { describe, expect, test } from 'vitest'
import { SUMMARY_LIMIT, describeSwept, renderMarkdown } from '../../src/report/markdown.js'
import { newReport, type Report, type SweptPreview } from '../../src/model.js'

function sweep(swept: SweptPreview[], kept: SweptPreview[]): Report {
  return {
    ...newReport(1_760_000_000_000),
    status: 'swept',
    preview: { mode: 'sweep', swept, kept }
  }
}

const render = (r: Report): string =>
  renderMarkdown(r, { header: 'sweep/preview', limit: SUMMARY_LIMIT })

describe('the summary of a sweep', () => {
  test('lists what was removed and what was kept, each with its reason', () => {
    const md = render(
      sweep(
        [
          { namespace: 'pr-21', release: 'web', pr: 21, reason: 'expired at 2026-12-01T12:00:00Z' },
          { namespace: 'pr-23', pr: 23, reason: 'pull request #23 closed' }
        ],
        [{ namespace: 'pr-22', release: 'web', pr: 22, reason: 'open and fresh' }]
      )
    )
    const removed = md.slice(md.indexOf('**Removed**'), md.indexOf('**Kept**'))
    expect(removed).toContain('release web in pr-21 (pull request 21): expired at 2026-12-01')
    expect(removed).toContain('namespace pr-23 (pull request 23): pull request')
    // `#23` from a reason is no reference GitHub would link.
    expect(removed).not.toMatch(/(^|[^\\])#23/)
    expect(md.slice(md.indexOf('**Kept**'))).toContain(
      'release web in pr-22 (pull request 22): open and fresh'
    )
    expect(md).not.toContain('No preview of this repository')
  })

  test('says so when there was no preview', () => {
    expect(render(sweep([], []))).toContain('No preview of this repository on the cluster.')
  })

  test('a reason or name from the cluster mentions no one and links nowhere', () => {
    const hostile = {
      namespace: 'pr-9',
      release: 'web',
      reason: '@octocat see [this](https://evil.example)'
    }
    expect(describeSwept(hostile)).toBe(
      'release web in pr-9: @octocat see [this](https://evil.example)'
    )
    const md = render(sweep([hostile], []))
    expect(md).not.toMatch(/(^|[^\w`])@octocat/)
    expect(md).not.toContain('](https://evil.example)')
  })
})
