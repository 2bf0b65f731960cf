// Secrets known to this run. Everything that leaves the process (logs, errors, report,
// comment, diagnostics) passes through redact().
const secrets = new Set<string>()

export const MASK = '***'

export function registerSecret(value: string): void {
  const v = value.trim()
  // Very short values would blank out ordinary words; GitHub's own masking has the same floor.
  if (v.length >= 3) secrets.add(v)
}

export function redact(text: string): string {
  let out = text
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(s)) out = out.split(s).join(MASK)
  }
  return out
}
