// What the user reads: the job summary and the pull-request comment, both pure functions of
// the Report. Values come from Kubernetes, tools and users: every one reaches the text through
// one of the functions of untrusted.ts, chosen by the place it lands in, and the whole text
// passes through redact().
import { redact } from '../redact.js'
import {
  byteLength as bytes,
  clip,
  formatDuration,
  shareBytes,
  utf8Head,
  utf8Tail
} from '../text.js'
import { firstFailure } from './failure.js'
import {
  codeSpan as code,
  fencedBlock as fenced,
  inline as text,
  plain,
  summaryText as html,
  urlText
} from './untrusted.js'
import type {
  DiagnosticSection,
  HealthCheckResult,
  ImageInfo,
  Report,
  Status,
  StepResult,
  SweptPreview,
  Verdict
} from '../model.js'

/** GitHub's job summary limit (1 MiB). */
export const SUMMARY_LIMIT = 1024 * 1024
/** GitHub's limit on a comment body (characters). */
export const COMMENT_LIMIT = 65_536

export interface RenderOptions {
  /** Tells apart the reports of a matrix; shown when it is not just `<release>/<namespace>`. */
  header: string
  /**
   * Upper bound on the result, counted in UTF-8 bytes. A byte count is never smaller than a
   * character count, so the bound holds for the comment limit (characters) and the summary
   * limit (bytes) alike.
   */
  limit: number
  /** A hidden first line (see commentMarker) by which the comment is found again. */
  marker?: string
  /** The preview's URL: the first line after the marker (`🔗 <url>`). */
  url?: string
}

/** The hidden first line of the comment for `header`; `--` is broken up so the HTML comment cannot end early. */
export function commentMarker(header: string): string {
  let h = header.replace(/[\r\n]+/g, ' ').trim()
  while (h.includes('--')) h = h.replace(/--/g, '- -')
  return `<!-- minikube-preview: ${h} -->`
}

const STATUS_ICON: Record<Status, string> = {
  healthy: '✅',
  unhealthy: '❌',
  error: '⛔',
  removed: '🧹',
  swept: '🧹'
}
const STATE_ICON: Record<Verdict['state'], string> = {
  healthy: '✅',
  progressing: '⏳',
  failed: '❌'
}

function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`
  return `${(n / 1e9).toFixed(2)} GB`
}

function shortImageId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12)
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.map((c) => c || ' ').join(' | ')} |`
  return [line(head), `|${head.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n')
}

function statusLine(report: Report, header: string): string {
  const parts: string[] = []
  const release = report.release
  const title = `${STATUS_ICON[report.status]} **${report.status}**`
  const defaultHeader = release ? `${release.name}/${release.namespace}` : ''
  const h = header.trim()
  parts.push(h && h !== defaultHeader ? `${title} — ${text(h, 100)}` : title)
  if (release)
    parts.push(`release ${code(release.name, 100)} in namespace ${code(release.namespace, 100)}`)
  if (report.commit) parts.push(`commit ${code(report.commit.slice(0, 7))}`)
  const duration =
    report.durationMs ??
    (report.endedAt !== undefined ? report.endedAt - report.startedAt : undefined)
  if (duration !== undefined) parts.push(formatDuration(duration))
  const held = report.verify?.healthyForMs
  if (fine(report.status) && held !== undefined) parts.push(`stable ${formatDuration(held)}`)
  if (report.runUrl && /^https?:\/\//.test(report.runUrl)) {
    parts.push(
      `[workflow run](${encodeURI(redact(report.runUrl)).replace(/[()]/g, encodeURIComponent)})`
    )
  }
  return `### ${parts.join(' · ')}`
}

/** The outcomes that are not a failure: nothing to explain, no diagnostics. */
function fine(status: Status): boolean {
  return status === 'healthy' || status === 'removed' || status === 'swept'
}

/** What a teardown or a sweep did: what went, what stayed, and why. */
/** One preview a sweep removed or kept: `release web in pr-7 (pull request 7): expired at …`. */
export function describeSwept(e: SweptPreview): string {
  const what = e.release ? `release ${e.release} in ${e.namespace}` : `namespace ${e.namespace}`
  return `${what}${e.pr !== undefined ? ` (pull request ${e.pr})` : ''}: ${e.reason}`
}

function lifecycleBlock(report: Report): string {
  const p = report.preview
  if (!p || p.mode === 'preview') return ''
  const list = (title: string, items: readonly string[] | undefined): string =>
    items && items.length > 0
      ? `**${title}**\n\n${items
          .slice(0, 50)
          .map((x) => `- ${text(x, 300)}`)
          .join('\n')}${items.length > 50 ? `\n- _… and ${items.length - 50} more_` : ''}`
      : ''
  const blocks =
    p.mode === 'sweep'
      ? [
          list('Removed', p.swept?.map(describeSwept)),
          list('Kept', p.kept?.map(describeSwept)),
          p.swept?.length || p.kept?.length ? '' : 'No preview of this repository on the cluster.'
        ]
      : [list('Removed', p.removed), list('Left in place', p.left)]
  return blocks.filter((b) => b).join('\n\n')
}

function reasonBlock(report: Report): string {
  if (fine(report.status)) return ''
  const reason = plain(report.reason ?? firstFailure(report) ?? 'no reason was recorded')
  const lines = reason.split(/\r?\n/).filter((l) => l.trim() !== '')
  const first = lines.shift() ?? ''
  const rest = lines.slice(-30).join('\n')
  const out = [`**Why:** ${text(first, 1000)}`]
  if (rest) out.push(fenced(clip(rest, 4000)))
  return out.join('\n\n')
}

function workloadRow(w: Verdict): string[] {
  const why = [w.reason, w.message].filter((x) => x).join(': ')
  return [
    text(w.kind),
    code(w.name, 120),
    text(w.ready),
    text(String(w.restarts)),
    `${STATE_ICON[w.state]} ${w.state}`,
    text(why, 400)
  ]
}

function checkRow(c: HealthCheckResult): string[] {
  return [
    text(c.label, 120),
    code(c.url),
    c.ok ? '✅ passed' : '❌ failed',
    c.status !== undefined ? text(String(c.status)) : '',
    c.latencyMs !== undefined ? formatDuration(c.latencyMs) : '',
    text(String(c.attempts)),
    text(c.error, 400)
  ]
}

/**
 * The reference a cell shows: for a pushed image, where it is in the registry and the digest the
 * chart was pinned to, with the `push-tags` put on it. All of it comes from inputs: rendered as code.
 */
function referenceCell(i: ImageInfo): string {
  if (!i.pushed) return code(i.reference)
  const digest = i.digest ? ` @ ${code(i.digest.slice(0, 19))}` : ''
  const tags = (i.tags ?? []).map((t) => code(t.slice(t.lastIndexOf(':') + 1), 130))
  return `${code(i.pushed, 300)}${digest}${tags.length > 0 ? `, tagged ${tags.join(', ')}` : ''}`
}

function imageRow(i: ImageInfo): string[] {
  return [
    text(i.name, 120),
    referenceCell(i),
    i.id ? code(shortImageId(i.id)) : '',
    i.sizeBytes !== undefined ? formatBytes(i.sizeBytes) : '',
    i.buildMs !== undefined ? formatDuration(i.buildMs) : '',
    cachedSteps(i),
    i.loadMs !== undefined ? formatDuration(i.loadMs) : '',
    text(i.pushed && !i.delivery ? 'pushed' : i.delivery)
  ]
}

/** `4/6` Dockerfile steps from the layer cache, with the cache they came from. */
function cachedSteps(i: ImageInfo): string {
  if (i.steps === undefined || i.steps === 0) return ''
  const from = i.cache ? ` (${text(i.cache, 20)})` : ''
  return `${i.cachedSteps ?? 0}/${i.steps}${from}`
}

/** The unhealthy come first when rows must be left out. */
function pick<T>(items: T[], cap: number, bad: (t: T) => boolean): T[] {
  if (items.length <= cap) return items
  const keep = new Set([...items.filter(bad), ...items.filter((t) => !bad(t))].slice(0, cap))
  return items.filter((t) => keep.has(t))
}

function tableSection(
  title: string,
  head: string[],
  items: unknown[],
  rows: string[][],
  noun: string
): string {
  const more = items.length - rows.length
  const note = more > 0 ? `\n\n_… and ${more} more ${noun} not shown, to fit the size limit._` : ''
  return `#### ${title}\n\n${table(head, rows)}${note}`
}

/** Table rows by item, each rendered once however often the layout is tried. */
interface RowRenderers {
  workload: (w: Verdict) => string[]
  check: (c: HealthCheckResult) => string[]
  image: (i: ImageInfo) => string[]
}

function once<T extends object>(render: (t: T) => string[]): (t: T) => string[] {
  const done = new Map<T, string[]>()
  return (t) => {
    let row = done.get(t)
    if (!row) done.set(t, (row = render(t)))
    return row
  }
}

function tables(report: Report, cap: number, rows: RowRenderers): string[] {
  const out: string[] = []
  if (report.workloads.length > 0) {
    const shown = pick(report.workloads, cap, (w) => w.state !== 'healthy')
    out.push(
      tableSection(
        'Workloads',
        ['Kind', 'Name', 'Ready', 'Restarts', 'State', 'Reason'],
        report.workloads,
        shown.map(rows.workload),
        'workloads'
      )
    )
  }
  if (report.healthChecks.length > 0) {
    const shown = pick(report.healthChecks, cap, (c) => !c.ok)
    out.push(
      tableSection(
        'Health checks',
        ['Check', 'URL', 'Result', 'Status', 'Latency', 'Attempts', 'Error'],
        report.healthChecks,
        shown.map(rows.check),
        'health checks'
      )
    )
  }
  if (report.helmTest) out.push(helmTestLine(report, cap))
  if (report.images.length > 0) {
    const shown = report.images.slice(0, cap)
    out.push(
      tableSection(
        'Images',
        ['Image', 'Reference', 'ID', 'Size', 'Build', 'Steps cached', 'Load', 'Delivery'],
        report.images,
        shown.map(rows.image),
        'images'
      )
    )
  }
  const env = environmentLine(report, cap)
  if (env) out.push(env)
  return out
}

function helmTestLine(report: Report, cap: number): string {
  const t = report.helmTest
  if (!t) return ''
  const pods = t.pods.slice(0, cap).map((p) => `${code(p.name, 120)} ${text(p.phase, 40)}`)
  if (t.pods.length > cap) pods.push(`and ${t.pods.length - cap} more`)
  const result = t.passed ? '✅ passed' : '❌ failed'
  const message = t.message ? `: ${text(t.message, 400)}` : ''
  return `**Helm test:** ${result}${message}${pods.length ? ` (${pods.join(', ')})` : ''}`
}

function environmentLine(report: Report, cap: number): string {
  const parts: string[] = []
  const c = report.cluster
  if (c) {
    const facts = [text(c.kind)]
    if (c.kubernetesVersion) facts.push(`Kubernetes ${text(c.kubernetesVersion, 40)}`)
    if (c.driver) facts.push(`driver ${text(c.driver, 40)}`)
    if (c.nodes !== undefined) facts.push(`${c.nodes} node${c.nodes === 1 ? '' : 's'}`)
    if (c.ip) facts.push(`IP ${text(c.ip, 60)}`)
    if (c.addons && c.addons.length > 0) {
      facts.push(
        `addons ${c.addons
          .slice(0, cap)
          .map((a) => text(a, 60))
          .join(', ')}`
      )
    }
    parts.push(`**Cluster:** ${facts.join(', ')}`)
  }
  if (report.release?.chart) {
    const v = report.release.chartVersion ? ` ${text(report.release.chartVersion, 40)}` : ''
    const rev = report.release.revision !== undefined ? `, revision ${report.release.revision}` : ''
    parts.push(`**Chart:** ${code(report.release.chart, 120)}${v}${rev}`)
  }
  if (report.tools.length > 0) {
    const tools = report.tools
      .slice(0, cap)
      .map((t) => `${text(t.name, 40)} ${text(t.version, 40)}${t.cached ? ' (cached)' : ''}`)
    parts.push(`**Tools:** ${tools.join(', ')}`)
  }
  return parts.join(' · ')
}

/** Mermaid reads `:` `;` `#` and line breaks as syntax in a task name. */
function ganttLabel(s: string): string {
  return plain(s)
    .replace(/[^\p{L}\p{N} ._\-()/+@]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 80)
}

/**
 * One bar per step that ran, offsets in ms from the start of the run. The axis prints `%s`
 * (seconds since the epoch, i.e. since the run started): unlike `%M:%S` it does not shift
 * with the reader's time zone.
 */
function timeline(report: Report): string {
  const ran = report.steps.filter((s) => s.startedAt !== undefined)
  const out: string[] = []
  if (ran.length > 0) {
    const lastEnd = Math.max(report.endedAt ?? 0, ...ran.map((s) => s.endedAt ?? s.startedAt ?? 0))
    const lines = ['gantt', '  dateFormat x', '  axisFormat %s s', '  todayMarker off']
    ran.forEach((s, i) => {
      const start = Math.max(0, (s.startedAt as number) - report.startedAt)
      const end = Math.max(start + 1, (s.endedAt ?? lastEnd) - report.startedAt)
      const took =
        s.durationMs ?? (s.endedAt !== undefined ? s.endedAt - (s.startedAt as number) : undefined)
      const label = [
        ganttLabel(s.title) || s.id.replace(/[^\w-]/g, '') || `step ${i + 1}`,
        s.status === 'failure' ? '(failed)' : s.status === 'running' ? '(still running)' : '',
        took !== undefined ? formatDuration(took) : ''
      ]
        .filter((x) => x)
        .join(' ')
      const tags = s.status === 'failure' ? 'crit, ' : ''
      lines.push(`  ${label} :${tags}step${i}, ${start}, ${end}`)
    })
    out.push('```mermaid\n' + lines.join('\n') + '\n```')
  }
  const skipped = report.steps.filter((s) => s.status === 'skipped')
  if (skipped.length > 0) {
    const title = (id: string | undefined): string =>
      report.steps.find((s) => s.id === id)?.title ?? id ?? 'an earlier step'
    const list = skipped.map((s: StepResult) =>
      s.skippedBecause
        ? `${text(s.title, 80)} (waited for ${text(title(s.skippedBecause), 80)})`
        : text(s.title, 80)
    )
    out.push(`**Skipped:** ${list.join(', ')}`)
  }
  if (out.length === 0) return ''
  return `#### Steps\n\n${out.join('\n\n')}`
}

interface Section {
  title: string
  body: string
}

function diagnosticSections(report: Report): Section[] {
  if (fine(report.status)) return []
  const sections: Section[] = (report.diagnostics?.sections ?? []).map((s: DiagnosticSection) => ({
    title: s.title,
    body: plain(s.body)
  }))
  for (const pod of report.helmTest?.pods ?? []) {
    if (pod.log && pod.phase !== 'Succeeded') {
      sections.push({ title: `helm test ${pod.name} (${pod.phase})`, body: plain(pod.log) })
    }
  }
  return sections.filter((s) => s.body.trim() !== '')
}

function details(s: Section): string {
  return `<details><summary>${html(clip(s.title, 200))}</summary>\n\n${fenced(s.body)}\n\n</details>`
}

/** The last `max` bytes of `body`, from a line start, saying how many lines were cut. */
function tailFromLineStart(body: string, max: number): string {
  if (bytes(body) <= max) return body
  let kept = utf8Tail(body, max)
  const nl = kept.indexOf('\n')
  kept = nl >= 0 && nl < kept.length - 1 ? kept.slice(nl + 1) : kept.replace(/^\uFFFD+/, '')
  const total = body.split('\n').length
  const cut = total - kept.split('\n').length
  return `[… ${cut} earlier line${cut === 1 ? '' : 's'} cut …]\n${kept}`
}

function artifactLink(report: Report): string {
  const d = report.diagnostics
  if (d?.artifactId !== undefined && report.runUrl && /^https?:\/\//.test(report.runUrl)) {
    const run = report.runUrl.replace(/\/attempts\/\d+\/?$/, '').replace(/\/$/, '')
    return `[the diagnostics artifact](${encodeURI(`${run}/artifacts/${d.artifactId}`)})`
  }
  if (d?.artifactId !== undefined || d?.file) return 'the diagnostics artifact of the workflow run'
  return 'the step log'
}

interface Layout {
  rowCap: number
  timeline: boolean
  sections: Section[]
  note?: string
}

/** Less than this is not a useful tail (about a dozen log lines): the section is left out. */
const MIN_SECTION_BYTES = 1024

/** `_Diagnostics trimmed …_`: which sections were cut to their tails, which left out. */
function trimNote(shortened: string[], dropped: string[], link: string): string {
  const what: string[] = []
  if (shortened.length > 0) {
    what.push(`${shortened.map((t) => text(t, 60)).join(', ')} cut to the last lines`)
  }
  if (dropped.length > 0) what.push(`${dropped.map((t) => text(t, 60)).join(', ')} left out`)
  return `_Diagnostics trimmed to fit the size limit: ${what.join('; ')}. All of it is in ${link}._`
}

/**
 * The job summary or comment for `report`, never longer than `opts.limit` bytes. When it would
 * be, the diagnostics give way first (each keeps its tail, then whole sections are left out, and
 * a line says so); the status line and the tables stay.
 */
export function renderMarkdown(report: Report, opts: RenderOptions): string {
  const limit = Math.max(0, Math.floor(opts.limit))
  const marker = opts.marker ? opts.marker.replace(/[\r\n]+/g, ' ') : undefined
  const head = [
    opts.url ? `🔗 ${urlText(opts.url)}` : '',
    statusLine(report, opts.header),
    lifecycleBlock(report),
    reasonBlock(report)
  ].filter((x) => x)
  const allRows = Math.max(
    report.workloads.length,
    report.healthChecks.length,
    report.images.length,
    report.tools.length,
    report.helmTest?.pods.length ?? 0,
    report.cluster?.addons?.length ?? 0
  )
  const steps = timeline(report)
  const link = artifactLink(report)
  const rows: RowRenderers = {
    workload: once(workloadRow),
    check: once(checkRow),
    image: once(imageRow)
  }

  // The text before redaction: redaction only ever shortens it (a secret of three characters or
  // more becomes `***`), so a size measured here bounds the size of the result.
  const compose = (l: Layout): string => {
    const blocks: string[] = [...head, ...tables(report, l.rowCap, rows)]
    if (l.timeline && steps) blocks.push(steps)
    if (l.sections.length > 0 || l.note) {
      const diag = ['#### Diagnostics']
      if (l.note) diag.push(l.note)
      diag.push(...l.sections.map(details))
      blocks.push(diag.join('\n\n'))
    }
    return `${marker ? `${marker}\n` : ''}${blocks.join('\n\n')}\n`
  }
  const assemble = (l: Layout): string => redact(compose(l))

  const full = diagnosticSections(report)
  const layout: Layout = { rowCap: allRows, timeline: true, sections: full }
  let out = assemble(layout)
  if (bytes(out) <= limit) return out

  // The diagnostics give way: tails first, then whole sections from the end. What is left for
  // them is the limit less everything else, the note saying what was trimmed included; each
  // section then costs its `details` frame and the blank line before it (see fitSections).
  if (full.length > 0) {
    const trimmed = (available: number) => {
      const fitted = fitSections(full, available)
      const shortened = fitted.filter((f, i) => f.body !== full[i]?.body).map((f) => f.title)
      const dropped = full.slice(fitted.length).map((s) => s.title)
      return { fitted, note: trimNote(shortened, dropped, link) }
    }
    const room = (note: string) => limit - bytes(compose({ ...layout, sections: [], note }))
    // First with room for the longest note there can be (every title named), then, when the
    // note actually needed leaves more room and the same sections are still trimmed alike,
    // with that room.
    const titles = full.map((s) => s.title)
    let best = trimmed(room(trimNote(titles, titles, link)))
    const wider = trimmed(room(best.note))
    if (wider.note === best.note) best = wider
    out = assemble({ ...layout, sections: best.fitted, note: best.note })
    if (bytes(out) <= limit) return out
  }

  // Still too long: the tables themselves are huge. Keep the status line; drop the chart,
  // then show as many rows as fit.
  const note =
    full.length > 0
      ? `_Diagnostics left out to fit the size limit. All of it is in ${link}._`
      : undefined
  out = assemble({ rowCap: allRows, timeline: false, sections: [], note })
  if (bytes(out) <= limit) return out
  let lo = 0
  let hi = allRows
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (bytes(assemble({ rowCap: mid, timeline: false, sections: [], note })) <= limit) lo = mid
    else hi = mid - 1
  }
  out = assemble({ rowCap: lo, timeline: false, sections: [], note })
  if (bytes(out) <= limit) return out
  return hardCut(out, limit)
}

/** The bytes `tailFromLineStart` puts before the tail it keeps of `body`, at most. */
function tailPrefixBytes(body: string): number {
  const lines = body.split('\n').length
  return bytes(`[… ${lines} earlier lines cut …]\n`)
}

/**
 * Sections cut to share `available` bytes (their `details` blocks and the blank line before
 * each included): the small ones whole, the large ones to equal tails. Sections are left out
 * from the end while each would get less than a useful tail.
 */
function fitSections(sections: Section[], available: number): Section[] {
  for (let k = sections.length; k > 0; k--) {
    const chosen = sections.slice(0, k)
    // A block's frame is all of it but the body (its fence as long as the body needs: a tail
    // never has a longer run of backticks than its body), and a tail adds its prefix.
    const overheads = chosen.map(
      (s) => 2 + bytes(details(s)) - bytes(s.body.replace(/\n+$/, '')) + tailPrefixBytes(s.body)
    )
    const budget = available - overheads.reduce((a, b) => a + b, 0)
    if (budget < MIN_SECTION_BYTES * k) continue
    const share = shareBytes(
      chosen.map((s) => bytes(s.body)),
      budget
    )
    return chosen.map((s, i) => ({
      title: s.title,
      body: tailFromLineStart(s.body, share[i] as number)
    }))
  }
  return []
}

/** The longest prefix of `s` of at most `max` UTF-8 bytes that does not split a character. */
function prefix(s: string, max: number): string {
  if (max <= 0) return ''
  // As before the cut moved to text.ts: a trailing U+FFFD is dropped with the cut.
  return utf8Head(s, max).replace(/\uFFFD+$/, '')
}

/** The last resort: the start of the text, saying it was cut. */
function hardCut(s: string, limit: number): string {
  const note = '\n\n_… cut to fit the size limit._\n'
  const room = limit - bytes(note)
  return room <= 0 ? prefix(s, limit) : prefix(s, room) + note
}
