// What marks a preview on the cluster: labels to select it by, annotations to read it back.
import { createHash } from 'node:crypto'

export const PREFIX = 'minikube-preview/'

export const LABEL = {
  /** A short hash of `owner/name` (label values cannot hold a `/`). */
  repository: `${PREFIX}repository`,
  pullRequest: `${PREFIX}pull-request`,
  sha: `${PREFIX}sha`,
  /** Epoch seconds after which `mode: sweep` removes the preview. */
  expires: `${PREFIX}expires`,
  managedBy: 'app.kubernetes.io/managed-by'
} as const

export const ANNOTATION = {
  /** The full `owner/name`, which the hash in the label stands for. */
  repository: `${PREFIX}repository`,
  /** The release deployed into a namespace the action created. */
  release: `${PREFIX}release`,
  /** The expiry as a UTC time, for people (`kubectl describe`); the label is what a sweep reads. */
  expiresAt: `${PREFIX}expires-at`
} as const

/** The value of `app.kubernetes.io/managed-by` on what the action creates. */
export const MANAGED_BY = 'minikube-preview'

const MAX_VALUE = 63
const VALID_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/

/** Whether `value` is a valid Kubernetes label value (`''` included). */
export function isLabelValue(value: string): boolean {
  return VALID_VALUE.test(value)
}

/**
 * Any text made into a valid label value: characters outside `[A-Za-z0-9._-]` become `-`, the
 * result is cut to 63 characters and trimmed to start and end with a letter or digit.
 */
export function labelValue(text: string): string {
  return text
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, MAX_VALUE)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '')
}

/**
 * The repository's label value: the first 16 hex digits of the SHA-256 of `owner/name` in lower
 * case (GitHub names are case-insensitive, so `Acme/Shop` and `acme/shop` are one repository).
 */
export function repositoryLabel(repository: string): string {
  return createHash('sha256').update(repository.trim().toLowerCase()).digest('hex').slice(0, 16)
}

/** Epoch seconds `ttlMs` after `nowMs`, or undefined when the preview never expires. */
export function expiresAt(nowMs: number, ttlMs: number | undefined): number | undefined {
  return ttlMs === undefined ? undefined : Math.floor((nowMs + ttlMs) / 1000)
}

export interface PreviewFacts {
  /** `owner/name`. */
  repository: string
  pullRequest?: number
  sha?: string
  /** Epoch seconds; undefined = never expires. */
  expiresAt?: number
}

/**
 * The labels of a preview, renewed on each push. `null` removes a label (`kubectl label key-`,
 * `helm --labels key=null`): a preview deployed again without `ttl` stops expiring.
 */
export function previewLabels(facts: PreviewFacts): Record<string, string | null> {
  return {
    [LABEL.repository]: repositoryLabel(facts.repository),
    [LABEL.pullRequest]: facts.pullRequest === undefined ? null : String(facts.pullRequest),
    [LABEL.sha]: facts.sha ? labelValue(facts.sha) || null : null,
    [LABEL.expires]: facts.expiresAt === undefined ? null : String(facts.expiresAt)
  }
}

/** What a namespace the action creates carries besides the preview's labels. */
export function createdLabels(repository: string): Record<string, string> {
  return { [LABEL.managedBy]: MANAGED_BY, [LABEL.repository]: repositoryLabel(repository) }
}

/** A namespace's annotations, renewed on each push; `null` removes one (no `ttl` any more). */
export function previewAnnotations(
  facts: PreviewFacts,
  release?: string
): Record<string, string | null> {
  return {
    [ANNOTATION.repository]: facts.repository,
    ...(release ? { [ANNOTATION.release]: release } : {}),
    [ANNOTATION.expiresAt]: facts.expiresAt === undefined ? null : utcTime(facts.expiresAt)
  }
}

/** Epoch seconds as `2026-12-01T12:00:00Z`. */
export function utcTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.000Z$/, 'Z')
}

/** Whether a namespace's labels say the action created it for this repository. */
export function createdFor(
  labels: Record<string, string> | undefined,
  repository: string
): boolean {
  return (
    labels?.[LABEL.managedBy] === MANAGED_BY &&
    labels[LABEL.repository] === repositoryLabel(repository)
  )
}

/** The selector of every object labelled for this repository. */
export function repositorySelector(repository: string): string {
  return `${LABEL.repository}=${repositoryLabel(repository)}`
}

/** The facts read back from labels; what is missing or unreadable is left undefined. */
export function factsFromLabels(
  labels: Record<string, string> | undefined
): Omit<PreviewFacts, 'repository'> {
  const pr = Number(labels?.[LABEL.pullRequest])
  const expires = Number(labels?.[LABEL.expires])
  const sha = labels?.[LABEL.sha]
  return {
    pullRequest: Number.isSafeInteger(pr) && pr > 0 ? pr : undefined,
    sha: sha || undefined,
    expiresAt: labels?.[LABEL.expires] && Number.isSafeInteger(expires) ? expires : undefined
  }
}

/** Only the labels with a value (for creating an object, where there is nothing to remove). */
export function withValues(labels: Record<string, string | null>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(labels)) if (v !== null) out[k] = v
  return out
}
