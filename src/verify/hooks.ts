// A release's hooks run inside `helm upgrade`, and helm waits for each hook Job or Pod up to its
// --timeout however hopeless it is (a hook pod in ImagePullBackOff holds it for the whole wait).
// Watching them with the same verdicts as the workloads lets the run stop helm the moment a
// hook is in a state that will not heal, and say which hook and why.

import type { Verdict } from '../report/model.js'
import type { Kubectl } from '../tools/kubectl.js'
import { evaluate, PollMemory, type ClusterState, type HealthOptions } from './health.js'

export const HOOK_POLL_MS = 2_000
/** Hook objects created this long before helm started still count (clocks of runner and API server). */
const CLOCK_SKEW_MS = 5_000

export interface HookOptions extends HealthOptions {
  /** Epoch ms when helm started: hook objects older than that belong to an earlier run. */
  since: number
  /** Ends the watch (helm has finished). */
  signal: AbortSignal
  pollMs?: number
  now?: () => number
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
}

export interface HookWatch {
  /** The last verdict on every hook seen, each with its hook events in `hook`. */
  verdicts: Verdict[]
  /** The first hook found in a state that will not heal; the watch ends with it. */
  failed?: Verdict
}

interface HookObject {
  kind: string
  metadata?: {
    name?: string
    annotations?: Record<string, string>
    ownerReferences?: unknown[]
    creationTimestamp?: string
  }
}

/** Hook Jobs and bare hook Pods in the list, created since `since` (test hooks are helm test's). */
export function hooksOf(
  state: ClusterState,
  namespace: string,
  since: number
): { kind: 'Job' | 'Pod'; name: string; namespace: string; hook: string }[] {
  const out: { kind: 'Job' | 'Pod'; name: string; namespace: string; hook: string }[] = []
  for (const item of state.items) {
    const o = item as HookObject
    if (o.kind !== 'Job' && o.kind !== 'Pod') continue
    const hook = o.metadata?.annotations?.['helm.sh/hook']
    const name = o.metadata?.name
    if (!hook || !name) continue
    if (o.kind === 'Pod' && (o.metadata?.ownerReferences?.length ?? 0) > 0) continue
    const events = hook.split(',').map((h) => h.trim())
    if (events.every((h) => h === 'test' || h === 'test-success')) continue
    const created = Date.parse(o.metadata?.creationTimestamp ?? '')
    if (!Number.isNaN(created) && created < since - CLOCK_SKEW_MS) continue
    out.push({ kind: o.kind, name, namespace, hook: events.join(',') })
  }
  return out
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}

/**
 * Polls the namespace's hook Jobs and Pods until `signal` ends the watch or one of them has
 * failed. Never throws: a poll that cannot read the cluster is tried again at the next one.
 */
export async function watchHooks(
  kubectl: Kubectl,
  namespace: string,
  opts: HookOptions
): Promise<HookWatch> {
  const now = opts.now ?? Date.now
  const sleep = opts.sleep ?? pause
  const memory = new PollMemory()
  const latest = new Map<string, Verdict>()
  const result = (failed?: Verdict): HookWatch => ({ verdicts: [...latest.values()], failed })
  while (!opts.signal.aborted) {
    try {
      const list = await kubectl.getJson('jobs,pods', namespace, 30_000)
      const state = { items: Array.isArray(list.items) ? list.items : [] }
      const hooks = hooksOf(state, namespace, opts.since)
      const verdicts = evaluate(hooks, state, now(), { ...opts, memory })
      const seen = hooks.map((h, i) => ({ ...(verdicts[i] as Verdict), hook: h.hook }))
      for (const v of seen) latest.set(`${v.kind}/${v.name}`, v)
      const failed = seen.find((v) => v.state === 'failed')
      if (failed && !opts.signal.aborted) return result(failed)
    } catch {
      // The API server may be busy with the install; the next poll tries again.
    }
    await sleep(opts.pollMs ?? HOOK_POLL_MS, opts.signal)
  }
  return result()
}
