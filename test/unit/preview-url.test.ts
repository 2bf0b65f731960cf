// The preview's URL as the first line of the comment: a link only when nothing in it can be read
// as markdown or HTML.
import { describe, expect, test } from 'vitest'
import { newReport } from '../../src/model.js'
import { registerSecret } from '../../src/redact.js'
import { COMMENT_LIMIT, commentMarker, renderMarkdown } from '../../src/report/markdown.js'
import { urlText } from '../../src/report/untrusted.js'

describe('urlText', () => {
  test.each([
    'https://pr-7.preview.example.com',
    'https://pr-7.preview.example.com/',
    'http://127.0.0.1:8080/todo?pr=7&sha=abc1234#top',
    'https://shop.example.com/pr-7/app/index.html',
    'HTTPS://EXAMPLE.COM/A%20B'
  ])('a link: %s', (url) => {
    expect(urlText(url)).toBe(`<${url}>`)
  })

  test.each([
    ['javascript:alert(1)', '`javascript:alert(1)`'],
    ['ftp://example.com/x', '`ftp://example.com/x`'],
    [
      'https://example.com/[x](https://evil.example)',
      '`https://example.com/[x](https://evil.example)`'
    ],
    [
      'https://example.com/<img src=x onerror=alert(1)>',
      '`https://example.com/<img src=x onerror=alert(1)>`'
    ],
    ['https://example.com/a b', '`https://example.com/a b`'],
    ['https://example.com/"onmouseover=x', '`https://example.com/"onmouseover=x`'],
    ['https://user@example.com/', '`https://user@example.com/`'],
    ['https://example.com/@octocat', '`https://example.com/@octocat`'],
    ['https://example.com/*bold*_x_', '`https://example.com/*bold*_x_`'],
    ['https://example.com/a`b', '``https://example.com/a`b``'],
    ['https://example.com/a|b', '`https://example.com/a\\|b`'],
    ['https://example.com/\n## heading', '`https://example.com/ ## heading`'],
    ['https://', '`https://`'],
    ['https://x/<!-- minikube-preview: h -->', '`https://x/<!-\u2060- minikube-preview: h -->`']
  ])('code, not a link: %j', (url, shown) => {
    expect(urlText(url)).toBe(shown)
  })

  test('a URL with a secret in it is masked, and not a link', () => {
    registerSecret('s3cr3t-preview-token-value')
    expect(urlText('https://example.com/?token=s3cr3t-preview-token-value')).toBe(
      '`https://example.com/?token=***`'
    )
  })

  test('a very long URL is code, cut to size', () => {
    const url = `https://example.com/${'a'.repeat(3000)}`
    const shown = urlText(url)
    expect(shown.startsWith('`https://example.com/aaa')).toBe(true)
    expect(shown.length).toBeLessThan(400)
  })
})

describe('the comment', () => {
  const report = () => {
    const r = newReport(1_760_000_000_000)
    r.status = 'healthy'
    r.release = { name: 'todo', namespace: 'pr-7', revision: 1 } as NonNullable<typeof r.release>
    return r
  }
  const marker = commentMarker('todo/pr-7')

  test('the URL is the first line after the marker', () => {
    const body = renderMarkdown(report(), {
      header: 'todo/pr-7',
      limit: COMMENT_LIMIT,
      marker,
      url: 'https://pr-7.preview.example.com/'
    })
    const lines = body.split('\n')
    expect(lines[0]).toBe(marker)
    expect(lines[1]).toBe('🔗 <https://pr-7.preview.example.com/>')
    expect(lines[3]).toMatch(/^### ✅ \*\*healthy\*\*/)
  })

  test('a URL that is not plainly http(s) is shown as code on that line', () => {
    const body = renderMarkdown(report(), {
      header: 'todo/pr-7',
      limit: COMMENT_LIMIT,
      marker,
      url: 'https://x.example/<script>alert(1)</script>'
    })
    expect(body.split('\n')[1]).toBe('🔗 `https://x.example/<script>alert(1)</script>`')
  })

  test('without a URL the status line comes first, as before', () => {
    const body = renderMarkdown(report(), { header: 'todo/pr-7', limit: COMMENT_LIMIT, marker })
    expect(body.split('\n')[1]).toMatch(/^### ✅ \*\*healthy\*\*/)
    expect(body).not.toContain('🔗')
  })
})
