// Waiting for a release's workloads to become healthy, and stopping early when one is in a
// state that will not heal: `helm --wait` and `kubectl rollout status` wait out the timeout.
// Then watching them stay healthy for a while: a pod that is Ready for a moment and then
// falls over is the common failure `helm --wait` calls a success.

import { formatMs } from '../exec.js'
import type { Verdict } from '../report/model.js'
import type { Kubectl } from '../tools/kubectl.js'
import {
  evaluate,
  PollMemory,
  resourcesFor,
  settledOf,
  type ClusterState,
  type HealthOptions,
  type WorkloadRef
} from './health.js'

export const DEFAULT_POLL_MS = 2_000

interface PollOptions extends HealthOptions {
  pollMs?: number
  now?: () => number
  sleep?: (ms: number) => Promise<void>
  /** Called with the verdicts of every poll that could read the cluster. */
  onPoll?: (verdicts: Verdict[]) => void
}

export interface WatchOptions extends PollOptions {
  timeoutMs: number
  /** Return as soon as any workload has failed, instead of at the timeout. */
  failFast: boolean
}

export interface WatchResult {
  verdicts: Verdict[]
  timedOut: boolean
  polls: number
  /** The objects the last successful poll read: what "the rollout completed" looked like. */
  state?: ClusterState
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

/** One read of every namespace the workloads live in: one kubectl call per namespace. */
async function readState(
  kubectl: Kubectl,
  namespace: string,
  workloads: WorkloadRef[],
  left: number
): Promise<ClusterState> {
  const namespaces = [...new Set(workloads.map((w) => w.namespace || namespace))]
  if (namespaces.length === 0) namespaces.push(namespace)
  const items: unknown[] = []
  for (const ns of namespaces) {
    const kinds = workloads.filter((w) => (w.namespace || namespace) === ns).map((w) => w.kind)
    const callMs = Math.max(MIN_CALL_TIMEOUT_MS, Math.min(CALL_TIMEOUT_MS, left))
    const list = await kubectl.getJson(resourcesFor(kinds).join(','), ns, callMs)
    items.push(...(Array.isArray(list.items) ? list.items : []))
  }
  return { items }
}

function unreadable(lastError: unknown, verdicts: Verdict[] | undefined, polls: number): never {
  const why = lastError instanceof Error ? lastError.message : String(lastError)
  throw new WatchError(`could not read the state of the workloads: ${why}`, verdicts ?? [], polls, {
    cause: lastError
  })
}

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
  const memory = opts.memory ?? new PollMemory()

  let verdicts: Verdict[] | undefined
  let state: ClusterState | undefined
  let lastError: unknown
  let polls = 0
  for (;;) {
    polls++
    try {
      state = await readState(kubectl, namespace, workloads, deadline - now())
      verdicts = evaluate(workloads, state, now(), { ...opts, memory })
      lastError = undefined
      opts.onPoll?.(verdicts)
      if (verdicts.every((v) => v.state === 'healthy'))
        return { verdicts, timedOut: false, polls, state }
      if (opts.failFast && verdicts.some((v) => v.state === 'failed'))
        return { verdicts, timedOut: false, polls, state }
    } catch (err) {
      lastError = err
    }
    const left = deadline - now()
    if (left <= 0) break
    await sleep(Math.min(pollMs, left))
  }

  if (lastError !== undefined) unreadable(lastError, verdicts, polls)
  const waited = formatMs(opts.timeoutMs)
  const last = (verdicts ?? []).map((v) =>
    v.state === 'progressing' && !v.reason
      ? { ...v, reason: 'Timeout', message: v.message ?? `not healthy after ${waited}` }
      : v
  )
  return { verdicts: last, timedOut: true, polls, state }
}

export interface StableOptions extends PollOptions {
  /** How long every workload must stay healthy. */
  stableForMs: number
  /** The objects when the rollout completed: restart counts and pods are counted from them. */
  completed: ClusterState
  /** The verdicts when the rollout completed (all healthy). */
  healthy: Verdict[]
}

export interface StableResult {
  /** The verdicts of the last poll; those that broke the window are `failed`. */
  verdicts: Verdict[]
  /** Whether every workload stayed healthy for the whole window. */
  held: boolean
  /** How long every workload stayed healthy, from the start of the window (ms). */
  healthyForMs: number
  polls: number
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

/**
 * A verdict of the window: anything but healthy, a restart, or a pod the rollout did not have
 * (the workload replaced one) ends it, as a failure, `after` ms into it.
 */
function breach(v: Verdict, before: Verdict | undefined, after: number): Verdict | undefined {
  const when = `${seconds(after)} after the rollout completed`
  if (v.state !== 'healthy') {
    return {
      ...v,
      state: 'failed',
      summary: `${v.summary ?? v.reason ?? 'not healthy'}, ${when}`
    }
  }
  const known = new Set(before?.pods ?? [])
  const added = before ? v.pods.filter((p) => !known.has(p)) : []
  if (added.length > 0) {
    const gone = (before?.pods ?? []).filter((p) => !v.pods.includes(p))
    const replaced = gone.length > 0 ? ` in place of ${gone.join(', ')}` : ''
    return {
      ...v,
      state: 'failed',
      reason: 'RolloutMoved',
      message: `pod ${added.join(', ')} was created after the rollout completed${replaced}`,
      summary: `the rollout moved again: pod ${added.join(', ')} was created${replaced}, ${when}`,
      unhealthyPods: [...added, ...gone]
    }
  }
  return undefined
}

/**
 * Keeps polling a release whose workloads are all healthy for `stableForMs`. Ends at the first
 * poll where a workload is not healthy, a container has restarted since the rollout completed,
 * or a workload has a pod it did not have then; the verdicts say which and why.
 */
export async function watchStable(
  kubectl: Kubectl,
  namespace: string,
  workloads: WorkloadRef[],
  opts: StableOptions
): Promise<StableResult> {
  const now = opts.now ?? Date.now
  const sleep = opts.sleep ?? realSleep
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS
  const start = now()
  const end = start + opts.stableForMs
  const settled = settledOf(opts.completed)
  const memory = opts.memory ?? new PollMemory()
  const before = new Map(opts.healthy.map((v) => [`${v.kind}/${v.name}`, v]))

  let verdicts = opts.healthy
  let healthyForMs = 0
  let lastError: unknown
  let polls = 0
  for (let left = end - now(); left > 0; left = end - now()) {
    await sleep(Math.min(pollMs, left))
    polls++
    try {
      const state = await readState(kubectl, namespace, workloads, end - now())
      const at = now()
      const seen = evaluate(workloads, state, at, { ...opts, settled, memory })
      lastError = undefined
      opts.onPoll?.(seen)
      const after = at - start
      const broken = seen.map((v) => breach(v, before.get(`${v.kind}/${v.name}`), after))
      verdicts = seen.map((v, i) => broken[i] ?? v)
      if (broken.some((b) => b !== undefined)) {
        return { verdicts, held: false, healthyForMs: after, polls }
      }
      healthyForMs = after
    } catch (err) {
      lastError = err
    }
  }
  if (lastError !== undefined) unreadable(lastError, verdicts, polls)
  return { verdicts, held: true, healthyForMs: Math.max(healthyForMs, opts.stableForMs), polls }
}
