// Text from the cluster, the chart, the images and the pull request is written by whoever opened
// the pull request. These are the only ways such text reaches markdown: `inline` for live text,
// `codeSpan` for a name shown as code, `summaryText` inside our own <summary>, `fencedBlock` for
// logs. Each starts from `plain`, which masks secrets and breaks up anything that could pass
// for a marker of ours (or of any other tool that finds its comment by an HTML comment).
import { redact } from '../redact.js'
import { clip } from '../text.js'

/**
 * U+2060 WORD JOINER: invisible, and not a character GitHub's mention, reference or autolink
 * patterns accept. Put after `@`, `#`, `://` and `www`, it leaves the text readable and inert.
 */
export const JOINER = '\u2060'

/** What an HTML comment opener becomes: looks the same, opens nothing, matches no marker. */
export const NEUTRAL_OPENER = `<!-${JOINER}-`

/** Every `<!--`, whatever follows it: ours (`<!-- minikube-preview: … -->`) and other tools'. */
export function neutraliseMarkers(s: string): string {
  return s.includes('<!--') ? s.replace(/<!--/g, NEUTRAL_OPENER) : s
}

// C0/C1 controls but tab and newline (ANSI colours, NUL, a bare CR), and the bidirectional
// overrides that make text read in another order than it is written.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-_])/g

/**
 * The one first pass over any untrusted value: secrets masked (before anything cuts or
 * reformats it), line endings made `\n`, terminal escapes and control characters dropped,
 * HTML comment openers broken up.
 */
export function plain(value: string): string {
  const s = redact(value).replace(/\r\n?/g, '\n').replace(ANSI, '').replace(CONTROLS, '')
  return neutraliseMarkers(s)
}

/**
 * What GitHub would turn into a notification or a link in rendered text: `@user`,
 * `@org/team`, an e-mail address, `#123`, `owner/repo#123`, `GH-123`, `scheme://…`, `www.…`.
 * A joiner after the trigger keeps each one as it reads and makes it match nothing.
 */
export function defuse(s: string): string {
  return s
    .replace(/@/g, `@${JOINER}`)
    .replace(/#(?=\d)/g, `#${JOINER}`)
    .replace(/(GH-)(?=\d)/gi, `$1${JOINER}`)
    .replace(/:\/\//g, `:${JOINER}//`)
    .replace(/(www)(?=\.)/gi, `$1${JOINER}`)
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/**
 * Live text on one line (a table cell, the Why line, the Chart line): nothing in it can start
 * markup, a table cell, an HTML tag, math, a line break, a mention or a link.
 */
export function inline(value: string | number | undefined, max = 300): string {
  if (value === undefined || value === '') return ''
  const v = clip(
    plain(String(value))
      .replace(/\s*\n+\s*/g, ' ')
      .trim(),
    max
  )
  return defuse(escapeHtml(v).replace(/([\\`*_[\]|~#!$])/g, '\\$1'))
}

/**
 * A code span (GitHub links and mentions nothing in code) that backticks and pipes in the value
 * cannot end: the fence is longer than any backtick run, `|` is `\|` for the table, and a
 * backslash before a pipe is kept from pairing with it.
 */
export function codeSpan(value: string | undefined, max = 200): string {
  if (value === undefined || value === '') return ''
  const v = clip(
    plain(value)
      .replace(/\s*\n+\s*/g, ' ')
      .trim(),
    max
  )
    .replace(/\\(?=\|)/g, `\\${JOINER}`)
    .replace(/\|/g, '\\|')
  // An empty span would be a bare backtick pair that pairs with the next span's fence.
  if (v === '') return ''
  const longest = Math.max(0, ...(v.match(/`+/g) ?? []).map((r) => r.length))
  const fence = '`'.repeat(longest + 1)
  const pad = v.startsWith('`') || v.endsWith('`') ? ' ' : ''
  return `${fence}${pad}${v}${pad}${fence}`
}

/**
 * Text inside an HTML element of ours (`<summary>`), where markdown escapes do not apply:
 * entities instead, on one line, inert.
 */
export function summaryText(value: string, max = 200): string {
  const v = clip(plain(value).replace(/\s*\n+\s*/g, ' '), max)
  return defuse(escapeHtml(v).replace(/"/g, '&quot;')).replace(/\$/g, '&#36;')
}

/**
 * A fenced block that its content cannot close: the fence is longer than any backtick run in
 * it. The body must already have passed through `plain` (the diagnostics do, before they are
 * cut to size).
 */
export function fencedBlock(body: string, lang = 'text'): string {
  const longest = Math.max(2, ...(body.match(/`{3,}/g) ?? []).map((r) => r.length))
  const fence = '`'.repeat(longest + 1)
  return `${fence}${lang}\n${body.replace(/\n+$/, '')}\n${fence}`
}

/** Longest URL shown as a link; a longer one is shown as code. */
const LINK_LIMIT = 2048

// http(s), a host, an optional port, then only characters that neither markdown nor HTML reads
// anything into (no `_*~[]()<>!|\` quotes, spaces or `@`), and nothing the redaction would change.
const PLAIN_URL = /^https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?(?:[/?#][A-Za-z0-9./:?#%&=+,-]*)?$/i

/**
 * A URL: a link when it is plainly http(s) with nothing in it that markdown or HTML could read
 * anything into (an autolink, `<https://…>`, whose text is the URL itself); otherwise a code span.
 */
export function urlText(url: string): string {
  if (url.length <= LINK_LIMIT && PLAIN_URL.test(url) && plain(url) === url) {
    try {
      new URL(url)
      return `<${url}>`
    } catch {
      // not a URL after all: shown as code below
    }
  }
  return codeSpan(url, 300)
}
