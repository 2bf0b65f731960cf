// Waiting for a release's workloads to become healthy, and stopping early when one is in a
// state that will not heal: `helm --wait` and `kubectl rollout status` wait out the timeout.

import { formatMs } from '../exec.js'
import type { Verdict } from '../report/model.js'
import type { Kubectl } from '../tools/kubectl.js'
import { evaluate, resourcesFor, type HealthOptions, type WorkloadRef } from './health.js'

export const DEFAULT_POLL_MS = 2_000

export interface WatchOptions extends HealthOptions {
  timeoutMs: number
  /** Return as soon as any workload has failed, instead of at the timeout. */
  failFast: boolean
  pollMs?: number
  now?: () => number
  sleep?: (ms: number) => Promise<void>
  /** Called with the verdicts of every poll that could read the cluster. */
  onPoll?: (verdicts: Verdict[]) => void
}

export interface WatchResult {
  verdicts: Verdict[]
  timedOut: boolean
  polls: number
}

/** The cluster could not be read up to the end of the wait; carries what was last known. */
export class WatchError extends Error {
  constructor(
    message: string,
    /** The verdicts of the last poll that could read the cluster (none if none could). */
    readonly verdicts: Verdict[],
    readonly polls: number,
    options?: { cause?: unknown }
  ) {
    super(message, options)
    this.name = 'WatchError'
  }
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** The bound on one kubectl call: long enough for a slow API server, short of the whole wait. */
const CALL_TIMEOUT_MS = 30_000
const MIN_CALL_TIMEOUT_MS = 5_000

/**
 * Polls the workloads (one kubectl call per namespace per poll) until all are healthy, one has
 * failed (with `failFast`), or `timeoutMs` has passed. A kubectl failure is retried on the next
 * poll; only one that lasts to the end fails the wait, with a `WatchError`.
 */
export async function watchWorkloads(
  kubectl: Kubectl,
  namespace: string,
  workloads: WorkloadRef[],
  opts: WatchOptions
): Promise<WatchResult> {
  const now = opts.now ?? Date.now
  const sleep = opts.sleep ?? realSleep
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS
  const deadline = now() + opts.timeoutMs
  const namespaces = [...new Set(workloads.map((w) => w.namespace || namespace))]
  if (namespaces.length === 0) namespaces.push(namespace)

  let verdicts: Verdict[] | undefined
  let lastError: unknown
  let polls = 0
  for (;;) {
    polls++
    try {
      const items: unknown[] = []
      for (const ns of namespaces) {
        const kinds = workloads.filter((w) => (w.namespace || namespace) === ns).map((w) => w.kind)
        const callMs = Math.max(MIN_CALL_TIMEOUT_MS, Math.min(CALL_TIMEOUT_MS, deadline - now()))
        const list = await kubectl.getJson(resourcesFor(kinds).join(','), ns, callMs)
        items.push(...(Array.isArray(list.items) ? list.items : []))
      }
      verdicts = evaluate(workloads, { items }, now(), opts)
      lastError = undefined
      opts.onPoll?.(verdicts)
      if (verdicts.every((v) => v.state === 'healthy')) return { verdicts, timedOut: false, polls }
      if (opts.failFast && verdicts.some((v) => v.state === 'failed'))
        return { verdicts, timedOut: false, polls }
    } catch (err) {
      lastError = err
    }
    const left = deadline - now()
    if (left <= 0) break
    await sleep(Math.min(pollMs, left))
  }

  if (lastError !== undefined) {
    const why = lastError instanceof Error ? lastError.message : String(lastError)
    throw new WatchError(
      `could not read the state of the workloads: ${why}`,
      verdicts ?? [],
      polls,
      {
        cause: lastError
      }
    )
  }
  const waited = formatMs(opts.timeoutMs)
  const last = (verdicts ?? []).map((v) =>
    v.state === 'progressing' && !v.reason
      ? { ...v, reason: 'Timeout', message: v.message ?? `not healthy after ${waited}` }
      : v
  )
  return { verdicts: last, timedOut: true, polls }
}
