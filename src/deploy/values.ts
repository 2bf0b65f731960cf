// The values helm is given that are not a file of the user's: the secret values document.
import * as core from '@actions/core'
import { registerSecret } from '../redact.js'

/** `a.b.c=v` lines → a nested values document. */
export function secretValuesDocument(
  pairs: readonly { key: string; value: string }[]
): Record<string, unknown> {
  // Objects without a prototype: no key, however named, can reach Object.prototype.
  const doc: Record<string, unknown> = Object.create(null) as Record<string, unknown>
  for (const { key, value } of pairs) {
    const parts = key.split('.')
    let at = doc
    for (const p of parts.slice(0, -1)) {
      if (!Object.hasOwn(at, p) || typeof at[p] !== 'object' || at[p] === null)
        at[p] = Object.create(null) as Record<string, unknown>
      at = at[p] as Record<string, unknown>
    }
    at[parts[parts.length - 1] as string] = value
  }
  return doc
}

/** Masks every secret value at once, so no later log line can show it. */
export function maskSecrets(pairs: readonly { value: string }[]): void {
  for (const { value } of pairs) {
    core.setSecret(value)
    registerSecret(value)
  }
}
