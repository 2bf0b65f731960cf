// Small parsers for input values. Each returns a value or throws a message fragment that
// says what was expected; inputs.ts adds the input's name.

export class Invalid extends Error {
  constructor(
    message: string,
    /** What the error shows as the value given, when that is not the value itself ('' for nothing). */
    readonly shown?: string
  ) {
    super(message)
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** The longest wait any input accepts: a GitHub-hosted job is cancelled after 6 hours. */
export const MAX_DURATION_MS = 6 * 3_600_000

export interface DurationBounds {
  minMs: number
  maxMs: number
  /** `d` (days) is a unit too: for lifetimes (`ttl`), not for waits. */
  days?: boolean
}

/** `90000` → `1m30s`, `21600000` → `6h`: how a duration is written back to a user. */
export function durationText(ms: number): string {
  if (ms === 0) return '0s'
  const parts: string[] = []
  let rest = ms
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1]
  ] as const) {
    const n = Math.floor(rest / size)
    if (n > 0) parts.push(`${n}${unit}`)
    rest -= n * size
  }
  return parts.join('')
}

/**
 * `90s`, `5m`, `1h30m`, `300` (seconds) → milliseconds, within `bounds` (default: 1ms to 6h).
 * A duration that is not a whole number of milliseconds is refused, not rounded: `0.1ms` would
 * become 0. `0s` is accepted only when the lower bound is 0 (a window that can be turned off).
 */
export function parseDuration(
  raw: string,
  bounds: DurationBounds = { minMs: 1, maxMs: MAX_DURATION_MS }
): number {
  const text = raw.trim()
  const examples = bounds.days ? `'12h', '3d' or '1d12h'` : `'90s', '5m' or '1h30m'`
  const expected =
    bounds.minMs === 0
      ? `a duration such as ${examples}, at most ${durationText(bounds.maxMs)} ('0s' turns it off)`
      : `a duration such as ${examples}, between ${durationText(bounds.minMs)} and ${durationText(bounds.maxMs)}`
  let total: number
  if (/^\d+$/.test(text)) {
    total = Number(text) * 1000
  } else {
    const re = bounds.days ? /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy : /(\d+(?:\.\d+)?)(ms|s|m|h)/gy
    total = 0
    let consumed = 0
    for (let m = re.exec(text); m; m = re.exec(text)) {
      total += Number(m[1]) * (UNITS[m[2] as string] as number)
      consumed = re.lastIndex
    }
    if (text === '' || consumed !== text.length) throw new Invalid(expected)
  }
  if (!Number.isFinite(total) || total < bounds.minMs || total > bounds.maxMs)
    throw new Invalid(expected)
  if (Math.abs(total - Math.round(total)) > 1e-6) throw new Invalid(expected)
  total = Math.round(total)
  if (total === 0 && bounds.minMs > 0) throw new Invalid(expected)
  return total
}

/** A parser for one duration input, for `field()`: `durationBetween(0, 10 * 60_000)`. */
export function durationBetween(minMs: number, maxMs: number): (raw: string) => number {
  return (raw) => parseDuration(raw, { minMs, maxMs })
}

export function parseBoolean(raw: string): boolean {
  const t = raw.trim().toLowerCase()
  if (t === 'true') return true
  if (t === 'false') return false
  throw new Invalid(`'true' or 'false'`)
}

export function parseChoice<T extends string>(raw: string, choices: readonly T[]): T {
  const t = raw.trim().toLowerCase()
  const found = choices.find((c) => c === t)
  if (found === undefined) throw new Invalid(`one of ${choices.map((c) => `'${c}'`).join(', ')}`)
  return found
}

export function parsePositiveInt(raw: string): number {
  const t = raw.trim()
  if (!/^\d+$/.test(t) || Number(t) < 1) throw new Invalid('a whole number of at least 1')
  return Number(t)
}

/** `v1.2.3` or `latest`; `1.2.3` is accepted and given its `v`. */
export function parseVersion(raw: string, allowEmpty = false): string {
  const t = raw.trim()
  if (t === '' && allowEmpty) return ''
  if (t.toLowerCase() === 'latest') return 'latest'
  const m = /^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/.exec(t)
  if (!m) throw new Invalid(`a version like 'v1.2.3' or 'latest'`)
  return `v${m[1]}`
}

export function parseBaseUrl(raw: string): string {
  const t = raw.trim().replace(/\/+$/, '')
  let url: URL
  try {
    url = new URL(t)
  } catch {
    throw new Invalid('an http(s) URL', hideCredentials(t))
  }
  if (url.username || url.password) {
    // The value is never shown: it holds a password.
    throw new Invalid(
      `an http(s) URL without a user or password in it ('user:password@' would be printed and sent with every download)`,
      `${url.protocol}//***@${url.host}${url.pathname === '/' ? '' : url.pathname}`
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Invalid('an http(s) URL')
  return t
}

/** `scheme://user:pass@host/…` → `scheme://***@host/…`, for a value that is not a URL at all. */
function hideCredentials(text: string): string {
  return text.replace(/^([^:/?#]*:\/\/)[^/?#]*@/, '$1***@')
}

/** Names that would reach an object's prototype instead of a key of its own. */
export const RESERVED_KEYS = ['__proto__', 'constructor', 'prototype'] as const

/**
 * A helm values key (`a.b[0].c`, `a\.b`): refused when one of its parts is a reserved name.
 * Returns the reserved part found, or undefined.
 */
export function reservedKeyPart(key: string): string | undefined {
  const parts = key.split(/(?<!\\)\.|\[\d*\]/).map((p) => p.replace(/\\\./g, '.').trim())
  return parts.find((p) => (RESERVED_KEYS as readonly string[]).includes(p))
}

/** A Kubernetes port name (IANA_SVC_NAME): 1–15 of a-z 0-9 -, a letter, no `--`, no `-` at an end. */
export function isPortName(v: string): boolean {
  return (
    v.length <= 15 &&
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(v) &&
    /[a-z]/.test(v) &&
    !v.includes('--')
  )
}

/** DNS-1123 label: what Kubernetes accepts as a namespace or Helm as a release name. */
export function parseDnsLabel(raw: string, max = 53): string {
  const t = raw.trim()
  if (t.length > max || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(t)) {
    throw new Invalid(
      `a DNS-1123 name: lower-case letters, digits and '-', starting and ending with a letter or digit, at most ${max} characters`
    )
  }
  return t
}

/** Non-empty lines, trimmed; `#` starts a comment line. */
export function parseLines(raw: string): string[] {
  return raw
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
}

/** Comma or newline separated list. */
export function parseList(raw: string): string[] {
  return raw
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

/** `key=value` lines; the value may contain `=`. */
export function parseKeyValues(raw: string): { key: string; value: string }[] {
  return parseLines(raw).map((line, i) => {
    const at = line.indexOf('=')
    if (at <= 0) throw new Invalid(`'key=value' on every line, line ${i + 1} has no key=value`)
    const key = line.slice(0, at).trim()
    const reserved = reservedKeyPart(key)
    if (reserved !== undefined)
      throw new Invalid(
        `keys without '${reserved}' (${RESERVED_KEYS.join(', ')} are refused), line ${i + 1} has it`
      )
    return { key, value: line.slice(at + 1) }
  })
}

/**
 * Splits a string into words the way a POSIX shell would (quotes, backslashes), without
 * expanding anything. The words are passed as argv; no shell ever sees them.
 */
export function splitArgs(raw: string): string[] {
  const words: string[] = []
  let word = ''
  let inWord = false
  let quote: '"' | "'" | null = null
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string
    if (quote === "'") {
      if (c === "'") quote = null
      else word += c
    } else if (quote === '"') {
      if (c === '"') quote = null
      else if (c === '\\' && i + 1 < raw.length && '"\\$`\n'.includes(raw[i + 1] as string)) {
        word += raw[++i]
      } else word += c
    } else if (c === "'" || c === '"') {
      quote = c
      inWord = true
    } else if (c === '\\') {
      if (i + 1 < raw.length) {
        const next = raw[++i] as string
        if (next !== '\n') {
          word += next
          inWord = true
        }
      } else {
        throw new Invalid('arguments without a trailing backslash')
      }
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word)
      word = ''
      inWord = false
    } else {
      word += c
      inWord = true
    }
  }
  if (quote) throw new Invalid(`arguments with balanced quotes (an unclosed ${quote} was found)`)
  if (inWord) words.push(word)
  return words
}

/** Minikube's --memory: megabytes, a size with a unit, or 'max' / 'no-limit'. Returns minikube's form. */
export function parseMemory(raw: string): string {
  const t = raw.trim().toLowerCase()
  if (t === 'max' || t === 'no-limit') return t
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|m|mb|g|gb|t|tb|ki|kib|mi|mib|gi|gib)?$/.exec(t)
  if (!m) throw new Invalid(`megabytes (e.g. '4096'), a size with a unit ('4g', '8192mb') or 'max'`)
  const n = Number(m[1])
  const unit = (m[2] ?? 'mb')[0] as string
  const mb =
    unit === 'b'
      ? n / 1e6
      : unit === 'k'
        ? n / 1e3
        : unit === 'm'
          ? n
          : unit === 'g'
            ? n * 1024
            : n * 1024 * 1024
  if (mb < 1800)
    throw new Invalid(`at least 1800 MB (minikube refuses less; that is ${Math.round(mb)} MB)`)
  return m[2] ? `${m[1]}${m[2]}` : `${m[1]}mb`
}

/** A Docker tag: letters, digits, `_`, `.`, `-`, not starting with `.` or `-`, at most 128. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/

/** One path component of an image name, as the distribution spec allows it. */
const PATH_PART = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
/** A registry host: DNS labels (or `localhost`), an IPv4 address, or `[IPv6]`; then an optional port. */
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/

/**
 * Where built images are pushed: `host[:port]` and an optional repository path
 * (`ghcr.io/acme/shop`, `127.0.0.1:5000`), without a scheme, tag, digest or trailing slash.
 * Each image becomes `<registry>/<name>:<tag>`, so a tag or digest here would be nonsense.
 */
export function parseRegistry(raw: string): string {
  const t = raw.trim()
  if (t === '') return ''
  const example = `e.g. 'ghcr.io/acme/shop' or '127.0.0.1:5000'`
  if (/\s/.test(t)) throw new Invalid(`a registry reference without spaces (${example})`)
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(t))
    throw new Invalid(`a registry reference without a scheme such as 'https://' (${example})`)
  if (t.includes('@'))
    throw new Invalid(
      `a registry reference without a digest: each image is pushed as <registry>/<name>:<tag> (${example})`
    )
  if (t.endsWith('/')) throw new Invalid(`a registry reference without a trailing '/' (${example})`)
  const [host = '', ...path] = t.split('/')
  if (host === '' || path.some((p) => p === ''))
    throw new Invalid(
      `a registry reference without empty parts ('//' or a leading '/') (${example})`
    )
  const last = path[path.length - 1]
  if (last !== undefined && last.includes(':'))
    throw new Invalid(
      `a registry reference without a tag: each image is pushed as <registry>/<name>:<tag> (${example})`
    )
  const hostMatch = HOST.exec(host)
  const port = hostMatch?.[1]
  if (!hostMatch || (port !== undefined && (Number(port) < 1 || Number(port) > 65535)))
    throw new Invalid(
      `a registry reference starting with a host name and optional port (${example})`
    )
  if (path.length > 0 && !/[.:[]/.test(host) && host !== 'localhost')
    throw new Invalid(
      `a registry reference starting with the registry's host ('docker.io/${t}', 'ghcr.io/${t}'); '${host}' is not a host name`
    )
  if (path.length === 0 && !/[.:[]/.test(host) && host !== 'localhost')
    throw new Invalid(`a registry reference with the registry's host (${example})`)
  for (const part of path) {
    if (/[A-Z]/.test(part))
      throw new Invalid(
        `a registry reference whose repository path is lower-case ('${part}' is not)`
      )
    if (!PATH_PART.test(part))
      throw new Invalid(
        `a registry reference whose path parts are lower-case letters and digits joined by '.', '_', '__' or '-' ('${part}' is not)`
      )
  }
  if (t.length > 200) throw new Invalid(`a registry reference of at most 200 characters`)
  return t
}

/**
 * A URL template such as `https://pr-{number}.preview.example.com`: each `{name}` must be one of
 * `placeholders`, and with every placeholder filled in it must be an http(s) URL without a
 * user or password.
 */
export function parseUrlTemplate(raw: string, placeholders: readonly string[]): string {
  const t = raw.trim()
  if (t === '') return ''
  const known = placeholders.map((p) => `{${p}}`).join(', ')
  const names = [...t.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1] as string)
  const unknown = names.find((n) => !placeholders.includes(n))
  if (unknown !== undefined)
    throw new Invalid(`a URL template whose placeholders are ${known}; '{${unknown}}' is not one`)
  const filled = t.replace(/\{([^{}]*)\}/g, 'x')
  if (/[{}]/.test(filled))
    throw new Invalid(
      `a URL template whose braces are placeholders such as {number}; a '{' or '}' is unmatched`
    )
  let url: URL
  try {
    url = new URL(filled)
  } catch {
    throw new Invalid(`an http(s) URL template such as 'https://pr-{number}.preview.example.com'`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Invalid(`an http(s) URL template such as 'https://pr-{number}.preview.example.com'`)
  if (url.username || url.password)
    throw new Invalid(
      `a URL template without a user or password in it (it is shown to everyone)`,
      ''
    )
  return t
}
