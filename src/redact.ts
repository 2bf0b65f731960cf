// Secrets known to this run. Everything that enters the process from a program (exec.run) and
// everything that leaves it (logs, errors, report, comment, diagnostics) passes through redact().
const secrets = new Set<string>()
let longest = 0
/** Every form of every secret in one pattern, longest first; rebuilt when one is added. */
let pattern: RegExp | undefined

export const MASK = '***'

/**
 * How a value looks when a program prints it inside JSON (kubectl's Go encoder also escapes
 * < > &), a single-quoted YAML string, a URL (helm's `urlquery` writes a space as `+`), and
 * each of those in base64, whole or inside a longer base64 text.
 */
function forms(v: string): string[] {
  const json = JSON.stringify(v).slice(1, -1)
  const goJson = json.replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  )
  const uri = encodeURIComponent(v)
  const query = uri
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  const text = [...new Set([v, json, goJson, v.replace(/'/g, "''"), uri, query])]
  return [
    ...text,
    ...text.map((t) => Buffer.from(t, 'utf8').toString('base64')),
    ...text.flatMap(embeddedBase64)
  ]
}

/**
 * The part of a longer base64 text that encodes the value, for each of the three offsets it can
 * start at (a password inside a base64 `DATABASE_URL` of a Secret): only the characters that
 * depend on the value alone, so the text around it does not matter.
 */
function embeddedBase64(v: string): string[] {
  const bytes = Buffer.from(v, 'utf8')
  const out: string[] = []
  for (const shift of [0, 1, 2]) {
    const b64 = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64')
    const from = Math.ceil((8 * shift) / 6)
    const to = Math.floor((8 * (shift + bytes.length)) / 6)
    const part = b64.slice(from, to)
    // Too short a part would mask ordinary base64 by chance.
    if (part.length >= 6) out.push(part)
  }
  return out
}

export function registerSecret(value: string): void {
  // A multi-line value is masked line by line too: output is cut and redacted by lines.
  for (const part of [value, ...value.split(/\r?\n/)]) {
    const v = part.trim()
    // Very short values would blank out ordinary words; GitHub's own masking has the same floor.
    if (v.length < 3) continue
    for (const f of forms(v)) {
      if (secrets.has(f)) continue
      secrets.add(f)
      longest = Math.max(longest, f.length)
      pattern = undefined
    }
  }
}

export function redact(text: string): string {
  if (secrets.size === 0 || text === '') return text
  pattern ??= new RegExp(
    [...secrets]
      .sort((a, b) => b.length - a.length)
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('|'),
    'g'
  )
  return text.replace(pattern, MASK)
}

/** A line longer than this is passed on before its end arrives. */
const HOLD_LIMIT = 64 * 1024

/**
 * Redacts text that arrives in pieces (a program's output): a secret split across two
 * pieces is still caught, because only whole lines are passed on, redacted.
 */
export class RedactingStream {
  private pending = ''

  constructor(private readonly out: (text: string) => void) {}

  write(chunk: string): void {
    const text = this.pending + chunk
    const cut = text.lastIndexOf('\n') + 1
    let ready = text.slice(0, cut)
    this.pending = text.slice(cut)
    if (this.pending.length > HOLD_LIMIT) {
      // Keep back only what could be the start of a secret whose end has not arrived yet.
      const r = redact(this.pending)
      const back = Math.min(r.length, Math.max(0, longest - 1))
      ready += r.slice(0, r.length - back)
      this.pending = r.slice(r.length - back)
    }
    if (ready) this.out(redact(ready))
  }

  end(): void {
    if (this.pending) this.out(redact(this.pending))
    this.pending = ''
  }
}
