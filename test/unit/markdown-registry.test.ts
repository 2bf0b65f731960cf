// The image table of the summary and comment for images pushed to a registry: where each went,
// the digest the chart was pinned to and the push-tags put on it, all as inert code.
import { describe, expect, test } from 'vitest'
import { SUMMARY_LIMIT, renderMarkdown } from '../../src/report/markdown.js'
import { newReport, type ImageInfo, type Report } from '../../src/model.js'

const DIGEST = `sha256:${'9f'.repeat(32)}`

function report(images: ImageInfo[]): Report {
  return { ...newReport(1_760_000_000_000), status: 'healthy', images }
}

const imageRow = (md: string, name: string): string =>
  md.split('\n').find((l) => l.startsWith(`| ${name} |`)) ?? ''

describe('image table with a registry', () => {
  test('a pushed image shows its registry reference, the pinned digest and its tags', () => {
    const md = renderMarkdown(
      report([
        {
          name: 'api',
          reference: 'api:sha-1a2b3c4',
          pushed: 'ghcr.io/acme/shop/api:sha-1a2b3c4',
          digest: DIGEST,
          tags: ['ghcr.io/acme/shop/api:v1.2.3', 'ghcr.io/acme/shop/api:latest']
        },
        { name: 'web', reference: 'web:sha-1a2b3c4', delivery: 'loaded' }
      ]),
      { header: 'app/preview', limit: SUMMARY_LIMIT }
    )
    const api = imageRow(md, 'api')
    expect(api).toContain('`ghcr.io/acme/shop/api:sha-1a2b3c4`')
    expect(api).toContain(`\`${DIGEST.slice(0, 19)}\``)
    expect(api).toContain('tagged `v1.2.3`, `latest`')
    expect(api).toContain('| pushed |')
    // An image that was only loaded keeps its local reference and delivery.
    const web = imageRow(md, 'web')
    expect(web).toContain('`web:sha-1a2b3c4`')
    expect(web).toContain('| loaded |')
    expect(web).not.toContain('tagged')
  })

  test('a reference with markdown in it stays one code span in its cell', () => {
    const md = renderMarkdown(
      report([
        {
          name: 'api',
          reference: 'api:x',
          pushed: 'evil.test/a`|<!-- x -->@everyone:t',
          digest: DIGEST
        }
      ]),
      { header: 'app/preview', limit: SUMMARY_LIMIT }
    )
    const api = imageRow(md, 'api')
    expect(api).not.toContain('<!--')
    // Inside a code span GitHub links no mention: the text is there, inert.
    expect(api).toContain('``evil.test/a`\\|')
    // The row keeps its 8 cells: the | inside the reference does not split it.
    expect(api.split(/(?<!\\)\|/).length).toBe(10)
  })
})
