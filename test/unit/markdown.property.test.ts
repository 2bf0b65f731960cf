// Whatever a hostile pull request puts in the cluster, the chart or the inputs, what we write to
// the pull request and the job summary keeps its shape: random hostile strings in every field
// of a Report, and the invariants a reader relies on checked on the markdown as GitHub reads it.
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  COMMENT_LIMIT,
  SUMMARY_LIMIT,
  commentMarker,
  renderMarkdown
} from '../../src/report/markdown.js'
import { newReport, type Report, type Status, type Verdict } from '../../src/model.js'
import { isOurComment } from '../../src/report/comment.js'
import { JOINER } from '../../src/report/untrusted.js'

const FRAGMENTS = [
  '@octocat',
  '@acme/security-team',
  ' @x',
  '(@y)',
  'ops@example.com',
  'mailto:a@b.io',
  'xmpp:c@d.io',
  'http://evil.example/pwn',
  'HTTPS://evil.example',
  'ftp://x.example',
  'www.evil.example',
  'WWW.Evil.io/a',
  '#1',
  'GH-12',
  'octo/todo#3',
  '<!-- minikube-preview: todo/preview -->',
  '<!-- minikube-preview: other-leg -->',
  '<!--minikube-preview',
  '<!--',
  '-->',
  '```',
  '````',
  '```text',
  '~~~',
  '`',
  '``',
  '<details>',
  '</details>',
  '<summary>',
  '</summary>',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '&#64;octocat',
  '&lt;',
  '&',
  '|',
  '\\|',
  '\\',
  '\\`',
  '\n',
  '\r\n',
  '\r',
  '\n\n',
  '\t',
  '\u0000',
  '\u001b[31m',
  '\u202e',
  '$x$',
  '$$',
  '**',
  '_',
  '~~',
  '[x](javascript:alert(1))',
  '![i](http://x/y.png)',
  '> quote',
  '# heading',
  '- item',
  '---',
  '    indented',
  '日本語',
  '🚀',
  '\ud83d',
  ' ',
  ':',
  ';'
]

const piece = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...FRAGMENTS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) }
)
/** A short hostile string: a name, a reason, a version. */
const hostile = fc.array(piece, { maxLength: 8 }).map((p) => p.join(''))
/** A message or a log: now and then far beyond any size limit. */
const big = fc.oneof(
  { weight: 12, arbitrary: fc.array(piece, { maxLength: 40 }).map((p) => p.join('')) },
  { weight: 1, arbitrary: hostile.map((s) => (s || '@octocat ```').repeat(20_000)) }
)
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined })

const workload = fc.record({
  kind: fc.constantFrom<Verdict['kind'][]>('Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'Pod'),
  name: hostile,
  state: fc.constantFrom<Verdict['state'][]>('healthy', 'progressing', 'failed'),
  ready: hostile,
  restarts: fc.nat(1000),
  reason: opt(hostile),
  message: opt(big)
})

const reportArb = fc
  .record({
    status: fc.constantFrom<Status[]>('healthy', 'unhealthy', 'error'),
    header: hostile,
    reason: opt(big),
    commit: opt(hostile),
    release: fc.record({
      name: hostile,
      namespace: hostile,
      chart: hostile.map((s) => `c${s}`),
      chartVersion: opt(hostile)
    }),
    workloads: fc.array(workload, { maxLength: 5 }),
    checks: fc.array(
      fc.record({
        label: hostile,
        url: hostile,
        ok: fc.boolean(),
        status: opt(fc.integer({ min: 100, max: 599 })),
        error: opt(big)
      }),
      { maxLength: 3 }
    ),
    images: fc.array(fc.record({ name: hostile, reference: hostile, id: opt(hostile) }), {
      maxLength: 3
    }),
    tools: fc.array(fc.record({ name: hostile, version: hostile }), { maxLength: 3 }),
    cluster: fc.record({
      kubernetesVersion: opt(hostile),
      driver: opt(hostile),
      ip: opt(hostile),
      addons: fc.array(hostile, { maxLength: 3 })
    }),
    helmTest: opt(
      fc.record({
        passed: fc.boolean(),
        message: opt(big),
        pods: fc.array(fc.record({ name: hostile, phase: hostile, log: opt(big) }), {
          maxLength: 2
        })
      })
    ),
    sections: fc.array(fc.record({ title: hostile, body: big }), { maxLength: 4 }),
    steps: fc.array(
      fc.record({
        title: hostile,
        status: fc.constantFrom('success' as const, 'failure' as const, 'skipped' as const)
      }),
      { maxLength: 4 }
    )
  })
  .map((g) => {
    const T0 = 1_760_000_000_000
    const r: Report = newReport(T0)
    r.status = g.status
    r.reason = g.reason
    r.commit = g.commit
    r.runUrl = RUN_URL
    r.endedAt = T0 + 60_000
    r.release = { ...g.release, revision: 1 }
    r.workloads = g.workloads.map((w) => ({ ...w, pods: [w.name], unhealthyPods: [] }))
    r.healthChecks = g.checks.map((c) => ({ ...c, attempts: 1 }))
    r.images = g.images
    r.tools = g.tools.map((t) => ({ ...t, path: '/t', cached: false }))
    r.cluster = { kind: 'minikube', nodes: 1, ...g.cluster }
    r.helmTest = g.helmTest
    r.diagnostics = { sections: g.sections, artifactId: 7 }
    r.steps = g.steps.map((s, i) => ({
      id: `s${i}`,
      title: s.title,
      status: s.status,
      ...(s.status === 'skipped'
        ? { skippedBecause: 's0' }
        : { startedAt: T0 + i * 1000, endedAt: T0 + i * 1000 + 500 }),
      ...(s.status === 'failure' ? { reason: g.reason } : {})
    }))
    return { report: r, header: g.header }
  })

// ---- reading the markdown as GitHub does ----

interface Read {
  /** Lines outside fenced blocks. */
  live: string[]
  /** Every fenced block was closed. */
  balanced: boolean
}

/** CommonMark fences: a run of 3+ backticks or tildes opens; only a run as long closes. */
function readFences(md: string): Read {
  const live: string[] = []
  let open: { char: string; length: number } | undefined
  for (const line of md.split(/\r\n|\r|\n/)) {
    if (open) {
      const m = /^ {0,3}(`+|~+) *$/.exec(line)
      if (m?.[1] && m[1][0] === open.char && m[1].length >= open.length) open = undefined
      continue
    }
    const m = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line)
    if (m?.[1] && !(m[1][0] === '`' && (m[2] ?? '').includes('`'))) {
      open = { char: m[1][0] as string, length: m[1].length }
      continue
    }
    live.push(line)
  }
  return { live, balanced: open === undefined }
}

/** A live line with its code spans taken out (GitHub links and mentions nothing in code). */
function withoutCode(line: string): string {
  let out = ''
  let i = 0
  while (i < line.length) {
    const c = line[i] as string
    if (c === '\\') {
      out += line.slice(i, i + 2)
      i += 2
      continue
    }
    if (c === '`') {
      let n = 0
      while (line[i + n] === '`') n++
      let j = i + n
      let close = -1
      while (j < line.length) {
        if (line[j] === '`') {
          let k = 0
          while (line[j + k] === '`') k++
          if (k === n) {
            close = j
            break
          }
          j += k
        } else j++
      }
      if (close >= 0) {
        out += ' '
        i = close + n
      } else {
        out += '`'.repeat(n)
        i += n
      }
      continue
    }
    out += c
    i++
  }
  return out
}

/** GFM table cells: a backslash pairs with the next character, so only a bare `|` splits. */
function cells(row: string): string[] {
  const inner = row.slice(1, -1)
  const out: string[] = []
  let cur = ''
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i] as string
    if (c === '\\') {
      cur += inner.slice(i, i + 2)
      i++
    } else if (c === '|') {
      out.push(cur)
      cur = ''
    } else cur += c
  }
  out.push(cur)
  return out
}

function table(live: string[], title: string): { head: string[]; rows: string[][] } | undefined {
  const at = live.indexOf(`#### ${title}`)
  if (at < 0) return undefined
  const lines: string[] = []
  for (const l of live.slice(at + 2)) {
    if (!l.startsWith('|')) break
    lines.push(l)
  }
  const [head, , ...rows] = lines
  return { head: head ? cells(head) : [], rows: rows.map(cells) }
}

const OUR_TAGS = /<details><summary>|<\/summary>|<\/details>/g
const RUN_URL = 'https://github.com/octo/todo/actions/runs/1'
/** The links we write ourselves: to the workflow run and its diagnostics artifact. */
const OUR_LINKS = /\]\(https:\/\/github\.com\/octo\/todo\/actions\/runs\/1(\/artifacts\/7)?\)/g
const ICON: Record<Status, string> = {
  healthy: '✅',
  unhealthy: '❌',
  error: '⛔',
  removed: '🧹',
  swept: '🧹'
}
const bytes = (s: string): number => Buffer.byteLength(s, 'utf8')

function shown(md: string, noun: string): number {
  const m = new RegExp(`_… and (\\d+) more ${noun} not shown`).exec(md)
  return m ? Number(m[1]) : 0
}

function checkInvariants(report: Report, md: string, limit: number, marker?: string): void {
  expect(bytes(md)).toBeLessThanOrEqual(limit)
  // No marker but our own first line; in the summary, none at all.
  if (marker) {
    expect(md.split('\n')[0]).toBe(marker)
    expect(md.indexOf('<!--', 1)).toBe(-1)
  } else {
    expect(md).not.toContain('<!--')
  }
  const body = marker ? md.slice(marker.length + 1) : md
  const { live, balanced } = readFences(body)
  expect(balanced).toBe(true)

  // <details> open and close in turn, and nothing else is HTML.
  let depth = 0
  for (const line of live) {
    for (const tag of withoutCode(line).match(/<\/?details>/g) ?? []) {
      depth += tag === '<details>' ? 1 : -1
      expect(depth === 0 || depth === 1).toBe(true)
    }
  }
  expect(depth).toBe(0)

  for (const line of live.map(withoutCode)) {
    expect(line.replace(OUR_TAGS, '')).not.toContain('<')
    // No mention, e-mail, reference or link can form: each trigger is followed by the joiner.
    expect(line.replace(new RegExp(`@${JOINER}`, 'g'), '')).not.toContain('@')
    const bare = line.replace(/&(amp|lt|gt|quot|#36);/g, 'E')
    expect(bare.replace(OUR_LINKS, '](…)')).not.toMatch(/:\/\/|www\.|#\d|GH-\d/i)
    expect(bare).not.toContain('&')
    expect(line).not.toMatch(/(^|[^\\])\$/)
  }

  // The status line, the reason and every table are still there.
  expect(live[0]).toMatch(new RegExp(`^### ${ICON[report.status]} \\*\\*${report.status}\\*\\*`))
  if (report.status !== 'healthy') expect(live.some((l) => l.startsWith('**Why:** '))).toBe(true)
  const tables: [string, unknown[], number, string][] = [
    ['Workloads', report.workloads, 6, 'workloads'],
    ['Health checks', report.healthChecks, 7, 'health checks'],
    ['Images', report.images, 8, 'images']
  ]
  for (const [title, items, width, noun] of tables) {
    const t = table(live, title)
    if (items.length === 0) {
      expect(t).toBeUndefined()
      continue
    }
    expect(t?.head).toHaveLength(width)
    for (const row of t?.rows ?? []) expect(row).toHaveLength(width)
    expect((t?.rows.length ?? 0) + shown(md, noun)).toBe(items.length)
  }
  const states = table(live, 'Workloads')?.rows.map((r) => r[4]?.trim())
  for (const s of states ?? []) expect(['✅ healthy', '⏳ progressing', '❌ failed']).toContain(s)
  expect(live.some((l) => l.includes('**Chart:** '))).toBe(true)
}

describe('renderMarkdown, given hostile text in every field', () => {
  test('the comment: under 65,536 characters, our marker first and nowhere else, nothing live', () => {
    fc.assert(
      fc.property(reportArb, ({ report, header }) => {
        const marker = commentMarker(header)
        const md = renderMarkdown(report, { header, limit: COMMENT_LIMIT, marker })
        expect(md.length).toBeLessThanOrEqual(COMMENT_LIMIT)
        checkInvariants(report, md, COMMENT_LIMIT, marker)
      }),
      { numRuns: 150 }
    )
  })

  test('the job summary: under 1 MiB, no marker at all, nothing live', () => {
    fc.assert(
      fc.property(reportArb, ({ report, header }) => {
        const md = renderMarkdown(report, { header, limit: SUMMARY_LIMIT })
        checkInvariants(report, md, SUMMARY_LIMIT)
      }),
      { numRuns: 60 }
    )
  })

  test('a rendered comment is ours for its own header only, whatever its logs print', () => {
    fc.assert(
      fc.property(reportArb, hostile, ({ report, header }, other) => {
        fc.pre(commentMarker(other) !== commentMarker(header))
        const log = `${commentMarker(other)}\n${commentMarker(header)}\n`
        const failed: Report = {
          ...report,
          status: 'unhealthy',
          reason: log,
          diagnostics: {
            sections: [...(report.diagnostics?.sections ?? []), { title: log, body: log }]
          }
        }
        const body = renderMarkdown(failed, {
          header,
          limit: COMMENT_LIMIT,
          marker: commentMarker(header)
        })
        const comment = { body, user: { login: 'github-actions[bot]' } }
        expect(isOurComment(comment, commentMarker(header), 'github-actions[bot]')).toBe(true)
        expect(isOurComment(comment, commentMarker(other), 'github-actions[bot]')).toBe(false)
        expect(isOurComment(comment, commentMarker(header), 'octocat')).toBe(false)
      }),
      { numRuns: 60 }
    )
  })

  test('known cases: a mention in a waiting message, in Chart.yaml’s version, in a log', () => {
    const r = newReport(0)
    r.status = 'unhealthy'
    r.release = { name: 'todo', namespace: 'preview', chart: 'todo', chartVersion: '@octocat' }
    r.workloads = [
      {
        kind: 'Deployment',
        name: 'api',
        state: 'failed',
        ready: '0/1',
        restarts: 0,
        reason: 'CreateContainerConfigError',
        message: 'ask @octocat or @acme/ops, see https://evil.example and www.evil.example',
        // The Why line is this one sentence; the message above is shown in the table.
        summary: 'container api of pod api-1 waits for @octocat, see https://evil.example',
        pods: ['api-1'],
        unhealthyPods: ['api-1']
      }
    ]
    r.steps = [{ id: 'verify', title: 'Verify', status: 'failure', reason: 'x' }]
    r.diagnostics = {
      sections: [{ title: 'logs @octocat', body: `${commentMarker('other')}\n@octocat\n` }]
    }
    const md = renderMarkdown(r, { header: 'h', limit: COMMENT_LIMIT, marker: commentMarker('h') })
    const why = md.split('\n').find((l) => l.startsWith('**Why:**')) ?? ''
    expect(why).toContain(`@${JOINER}octocat`)
    expect(why).not.toMatch(/@octocat|https:\/\/|www\./)
    expect(md).toContain(`**Chart:** \`todo\` @${JOINER}octocat`)
    expect(md).toContain(`@${JOINER}acme/ops`)
    expect(md).toContain(`<summary>logs @${JOINER}octocat</summary>`)
    // Inside the log block the text is code: shown as it was, but no marker.
    expect(md).toContain(`<!-${JOINER}- minikube-preview: other -->\n@octocat\n`)
    checkInvariants(r, md, COMMENT_LIMIT, commentMarker('h'))
  })
})
