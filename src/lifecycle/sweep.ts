// `mode: sweep`: this repository's previews on the cluster, which to remove, and removing them.
import type { Helm } from '../tools/helm.js'
import type { Kubectl } from '../tools/kubectl.js'
import {
  ANNOTATION,
  LABEL,
  MANAGED_BY,
  createdFor,
  factsFromLabels,
  repositorySelector,
  utcTime
} from './labels.js'
import { errorMessage } from '../text.js'
import { teardown, type Removal } from './teardown.js'

export interface Preview {
  namespace: string
  /** Undefined: a namespace of ours with no release recorded on it. */
  release?: string
  pullRequest?: number
  sha?: string
  /** Epoch seconds; undefined = never expires, or not readable (a Helm 3 release). */
  expiresAt?: number
  /** The namespace carries our created-labels for this repository: teardown deletes it. */
  namespaceCreated: boolean
}

// Helm's own rule for release names. An annotation is anyone's text: one that is not a release
// name (`--kube-context=prod`) must never reach helm's argv.
const RELEASE_NAME =
  /^(?=.{1,53}$)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/

function releaseName(text: string | undefined): string | undefined {
  return text !== undefined && RELEASE_NAME.test(text) ? text : undefined
}

/**
 * This repository's previews: the namespaces the action created for it (labels and annotations
 * say the pull request, SHA, expiry and release), and its labelled releases in any other
 * namespace (their labels read through `helm get metadata`, which only Helm 4 prints).
 */
export async function listPreviews(
  kubectl: Kubectl,
  helm: Helm,
  repository: string
): Promise<Preview[]> {
  const selector = repositorySelector(repository)
  const namespaces = await kubectl.namespaces(`${selector},${LABEL.managedBy}=${MANAGED_BY}`)
  const previews: Preview[] = namespaces
    // One being deleted is already on its way out: nothing to sweep.
    .filter((ns) => createdFor(ns.labels, repository) && !ns.terminating)
    .map((ns) => ({
      namespace: ns.name,
      release: releaseName(ns.annotations?.[ANNOTATION.release]),
      ...factsFromLabels(ns.labels),
      namespaceCreated: true
    }))
  for (const r of await helm.releases(selector)) {
    const mine = previews.find((p) => p.namespace === r.namespace)
    if (mine && (mine.release === undefined || mine.release === r.name)) {
      mine.release = r.name
      continue
    }
    const labels = await helm.releaseLabels(r.name, r.namespace)
    previews.push({
      namespace: r.namespace,
      release: r.name,
      ...factsFromLabels(labels),
      namespaceCreated: mine !== undefined
    })
  }
  return previews
}

export type PullRequestState = 'open' | 'closed' | 'unknown'

export interface SweepEntry {
  preview: Preview
  /** `expired at 2026-12-01T12:00:00Z`, `pull request #7 closed`, `open and fresh …`. */
  reason: string
  /** Why a preview goes: its expiry passed, or its pull request closed. Unset on one kept. */
  cause?: 'expired' | 'closed'
}

export interface SweepDecision {
  remove: SweepEntry[]
  keep: SweepEntry[]
}

/**
 * Which previews go: those whose expiry has passed, and those whose pull request is closed
 * (merged or not). An open pull request's preview that has not expired stays, and so does one
 * whose pull request's state is unknown (never removed on a guess).
 */
export function decideSweep(
  previews: readonly Preview[],
  prState: (pullRequest: number) => PullRequestState,
  nowMs: number
): SweepDecision {
  const out: SweepDecision = { remove: [], keep: [] }
  for (const preview of previews) {
    const { expiresAt, pullRequest } = preview
    if (expiresAt !== undefined && expiresAt * 1000 <= nowMs) {
      out.remove.push({ preview, reason: `expired at ${utcTime(expiresAt)}`, cause: 'expired' })
      continue
    }
    const state = pullRequest === undefined ? undefined : prState(pullRequest)
    if (state === 'closed') {
      out.remove.push({ preview, reason: `pull request #${pullRequest} closed`, cause: 'closed' })
      continue
    }
    const expiry = expiresAt === undefined ? 'never expires' : `expires at ${utcTime(expiresAt)}`
    const reason =
      pullRequest === undefined
        ? `no pull request recorded, ${expiry}`
        : state === 'open'
          ? `open and fresh: pull request #${pullRequest} open, ${expiry}`
          : `pull request #${pullRequest}: state unknown, ${expiry}`
    out.keep.push({ preview, reason })
  }
  return out
}

/**
 * Removes the previews `decideSweep` chose, each through `teardown`. A namespace that also holds
 * a preview being kept stays (only the release goes). One that fails does not stop the others:
 * it is named in `left` with the error; `gone` are the entries removed whole.
 */
export async function removePreviews(
  helm: Helm,
  kubectl: Kubectl,
  decision: SweepDecision,
  o: { repository: string; timeoutMs: number }
): Promise<Removal & { failed: string[]; gone: SweepEntry[] }> {
  const out: Removal & { failed: string[]; gone: SweepEntry[] } = {
    removed: [],
    left: [],
    failed: [],
    gone: []
  }
  const inUse = new Set(decision.keep.map((k) => k.preview.namespace))
  for (const entry of decision.remove) {
    const p = entry.preview
    try {
      const r = await teardown(helm, kubectl, {
        ...o,
        namespace: p.namespace,
        release: p.release,
        keepNamespace: inUse.has(p.namespace)
      })
      out.removed.push(...r.removed)
      out.left.push(...r.left)
      out.gone.push(entry)
    } catch (err) {
      const what = p.release ? `release ${p.release} in ${p.namespace}` : `namespace ${p.namespace}`
      const failure = `${what}: ${errorMessage(err)}`
      out.left.push(failure)
      out.failed.push(failure)
    }
  }
  return out
}
