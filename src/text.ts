// Text helpers every layer shares: durations, clipping, UTF-8-safe cuts, byte budgets, tails
// and error messages. Pure functions; imports nothing of ours (redaction is the caller's job).

// ---- durations ----

/** `4m`, `90s`, `1500ms`: a duration as a user writes it in an input. */
export function formatMs(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`
  if (ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}

/** `850 ms`, `12.3 s`, `3m 05s`, `1h 02m`: a measured time, for people. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const totalS = Math.round(ms / 1000)
  if (totalS < 3600) return `${Math.floor(totalS / 60)}m ${String(totalS % 60).padStart(2, '0')}s`
  const totalM = Math.floor(totalS / 60)
  return `${Math.floor(totalM / 60)}h ${String(totalM % 60).padStart(2, '0')}m`
}

// ---- clipping ----

/** At most `max` UTF-16 units, never splitting a surrogate pair, with `…` when cut. */
export function clip(s: string, max: number): string {
  if (s.length <= max) return s
  let end = Math.max(0, max - 1)
  const last = s.charCodeAt(end - 1)
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end--
  return `${s.slice(0, end)}…`
}

// ---- UTF-8 bytes ----

export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}

function asBuffer(text: string | Buffer): Buffer {
  return typeof text === 'string' ? Buffer.from(text, 'utf8') : text
}

/** The first `n` bytes of `text`, not splitting a character. */
export function utf8Head(text: string | Buffer, n: number): string {
  const buf = asBuffer(text)
  let end = Math.max(0, Math.min(n, buf.length))
  while (end > 0 && end < buf.length && ((buf[end] as number) & 0xc0) === 0x80) end--
  return buf.subarray(0, end).toString('utf8')
}

/** The last `n` bytes of `text`, not splitting a character. */
export function utf8Tail(text: string | Buffer, n: number): string {
  const buf = asBuffer(text)
  let start = Math.max(0, buf.length - Math.max(0, n))
  while (start < buf.length && ((buf[start] as number) & 0xc0) === 0x80) start++
  return buf.subarray(start).toString('utf8')
}

/**
 * Shares `budget` bytes among items of the given sizes (water-filling): items smaller than an
 * equal share of what is left keep everything, the large ones split the rest equally.
 */
export function shareBytes(sizes: readonly number[], budget: number): number[] {
  const order = sizes.map((size, i) => ({ i, size })).sort((a, b) => a.size - b.size)
  const share = new Array<number>(sizes.length).fill(0)
  let remaining = budget
  order.forEach(({ i, size }, k) => {
    const fair = Math.floor(remaining / (order.length - k))
    share[i] = Math.min(size, fair)
    remaining -= share[i] as number
  })
  return share
}

// ---- tails ----

/** The last `n` lines of `text` (trailing space dropped), saying how many were left out. */
export function tailLines(text: string, n: number): string {
  const lines = text.replace(/\s+$/, '').split(/\r?\n/)
  const kept =
    lines.length > n ? [`… ${lines.length - n} earlier lines not shown`, ...lines.slice(-n)] : lines
  return kept.join('\n')
}

/** The last `n` non-blank lines of `text`, each without trailing space. */
export function lastNonBlankLines(text: string, n: number): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '')
  return lines.slice(-n).join('\n')
}

// ---- errors ----

/** The message of anything thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
