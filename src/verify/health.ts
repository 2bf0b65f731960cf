// Health of a release's workloads, decided from what `kubectl get … -o json` shows: a pure
// function of the cluster's objects and the time, so it is tested on recorded real objects.

import type {
  Condition,
  ContainerSpec,
  ContainerStatus,
  KubeObject as KubeShape,
  ObjectMeta,
  TerminatedState as Terminated,
  Verdict,
  WorkloadKind,
  WorkloadRef
} from '../model.js'

/** The `items` of one `kubectl get deployments,replicasets,…,pods -o json` (mixed kinds). */
export interface ClusterState {
  items: unknown[]
}

export interface HealthOptions {
  /** How long a pod may stay `Unschedulable` before it counts as failed. */
  unschedulableGraceMs?: number
  /** Restarts after which a container in `CrashLoopBackOff` counts as failed. */
  crashLoopRestarts?: number
  /** What earlier polls of the same wait saw (failed pods that are gone now). */
  memory?: PollMemory
  /** Restart counts when the rollout completed: any restart past them is a failure. */
  settled?: Settled
}

export const DEFAULT_UNSCHEDULABLE_GRACE_MS = 30_000
export const DEFAULT_CRASH_LOOP_RESTARTS = 2

/** The resource types of the list `evaluate` reads, in the order kubectl is asked for them. */
export function resourcesFor(kinds: Iterable<WorkloadKind>): string[] {
  const want = new Set(kinds)
  // Pods always: every workload but an APIService is judged by its pods.
  return Object.entries(KINDS).flatMap(([kind, rule]) =>
    want.has(kind as WorkloadKind) || kind === 'Pod' ? rule.resources : []
  )
}

function isWorkloadKind(kind: string): kind is WorkloadKind {
  return Object.hasOwn(KINDS, kind)
}

/**
 * The workloads among a release's manifest objects, once each, in manifest order. An object
 * of a workload kind from another API group (a custom resource also named `StatefulSet`)
 * is not one of ours to judge.
 */
export function workloadsOf(
  objects: { kind: string; name: string; namespace?: string; apiVersion?: string }[],
  defaultNamespace: string
): WorkloadRef[] {
  const seen = new Set<string>()
  const out: WorkloadRef[] = []
  for (const o of objects) {
    if (!isWorkloadKind(o.kind)) continue
    if (o.apiVersion && o.apiVersion !== KINDS[o.kind].api) continue
    const ref: WorkloadRef = {
      kind: o.kind,
      name: o.name,
      namespace: o.namespace || defaultNamespace
    }
    const key = `${ref.kind}/${ref.namespace}/${ref.name}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(ref)
  }
  return out
}

// ---- The parts of Kubernetes objects read here (see model.ts) ----

/** An item of the list once `asObject` has checked it has a kind and metadata. */
type KubeObject = Omit<KubeShape, 'kind' | 'metadata'> & { kind: string; metadata: ObjectMeta }

function asObject(item: unknown): KubeObject | undefined {
  if (typeof item !== 'object' || item === null) return undefined
  const o = item as { kind?: unknown; metadata?: unknown }
  if (typeof o.kind !== 'string' || typeof o.metadata !== 'object' || o.metadata === null) {
    return undefined
  }
  return item as KubeObject
}

function condition(o: KubeObject, type: string): Condition | undefined {
  return o.status?.conditions?.find((c) => c.type === type)
}

function isTrue(c: Condition | undefined): boolean {
  return c?.status === 'True'
}

/** All objects of a list, indexed by owner so a workload finds its ReplicaSets and pods. */
class ClusterIndex {
  private readonly byKind = new Map<string, KubeObject[]>()

  constructor(items: unknown[]) {
    for (const item of items) {
      const o = asObject(item)
      if (!o) continue
      const list = this.byKind.get(o.kind) ?? []
      list.push(o)
      this.byKind.set(o.kind, list)
    }
  }

  find(ref: WorkloadRef): KubeObject | undefined {
    return this.byKind
      .get(ref.kind)
      ?.find((o) => o.metadata.name === ref.name && sameNamespace(o, ref.namespace))
  }

  /** Objects of `kind` whose controlling owner is `owner`. */
  ownedBy(owner: KubeObject, kind: string): KubeObject[] {
    const ns = owner.metadata.namespace
    return (this.byKind.get(kind) ?? []).filter(
      (o) =>
        (ns === undefined || sameNamespace(o, ns)) &&
        (o.metadata.ownerReferences ?? []).some(
          (r) =>
            r.controller !== false &&
            r.kind === owner.kind &&
            r.name === owner.metadata.name &&
            // A workload deleted and created again under the same name has a new uid.
            (!r.uid || !owner.metadata.uid || r.uid === owner.metadata.uid)
        )
    )
  }
}

function sameNamespace(o: KubeObject, ns: string): boolean {
  return o.metadata.namespace === undefined || o.metadata.namespace === ns
}

// ---- One pod ----

/** Waiting reasons a container does not recover from without a change to the release. */
const WILL_NOT_HEAL = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'ErrImageNeverPull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError'
])

type PodState = 'healthy' | 'progressing' | 'failed'

interface PodFinding {
  pod: KubeObject
  name: string
  state: PodState
  reason?: string
  message?: string
  /** A few words of ours on what is wrong, for the one-sentence reason of the report. */
  summary?: string
  /** Set when the pod ran and failed: what failed and how, to find replacements failing alike. */
  failedAs?: string
  /** False for a pod of an older revision, which is on its way out. */
  current: boolean
}

interface Limits {
  grace: number
  restarts: number
  settled?: Settled
}

/** Evicted and preempted pods were pushed out by the node or the scheduler, not by their own fault. */
function isDisplaced(pod: KubeObject): boolean {
  return pod.status?.reason === 'Evicted' || isTrue(condition(pod, 'DisruptionTarget'))
}

function isTerminal(pod: KubeObject): boolean {
  const phase = pod.status?.phase
  return phase === 'Succeeded' || phase === 'Failed'
}

function isLive(pod: KubeObject): boolean {
  return !isTerminal(pod) && !pod.metadata.deletionTimestamp
}

function isReady(pod: KubeObject): boolean {
  return pod.status?.phase !== 'Failed' && isTrue(condition(pod, 'Ready'))
}

interface Container {
  label: string
  status: ContainerStatus
  spec?: ContainerSpec
}

/** Init containers first: they run first, so their trouble is what blocks the pod. */
function containersOf(pod: KubeObject): Container[] {
  const out: Container[] = []
  const add = (
    statuses: ContainerStatus[] | undefined,
    specs: ContainerSpec[] | undefined,
    init: boolean
  ) => {
    for (const status of statuses ?? []) {
      out.push({
        label: `${init ? 'init container' : 'container'} ${status.name ?? '?'}`,
        status,
        spec: specs?.find((s) => s.name === status.name)
      })
    }
  }
  add(pod.status?.initContainerStatuses, pod.spec?.initContainers, true)
  add(pod.status?.containerStatuses, pod.spec?.containers, false)
  return out
}

function restartsOf(pod: KubeObject): number {
  return containersOf(pod).reduce((n, c) => n + (c.status.restartCount ?? 0), 0)
}

/** Flattened to one line; a long one loses its middle, since runtimes put the cause last. */
function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  if (flat.length <= max) return flat
  const tail = Math.floor(max / 3)
  return `${flat.slice(0, max - tail - 1).trimEnd()} … ${flat.slice(-tail).trimStart()}`
}

/** `container x: what` — naming the pod too unless Kubernetes' message already does. */
function about(pod: string, container: string, what: string): string {
  return what.includes(pod) ? `${container}: ${what}` : `${container} of pod ${pod}: ${what}`
}

/** `exited with code 1`, `was killed by signal 9`, `exited` — how a container stopped. */
function exited(t: Terminated | undefined): string {
  if (t?.exitCode !== undefined) return `exited with code ${t.exitCode}`
  if (t?.signal !== undefined) return `was killed by signal ${t.signal}`
  return 'stopped'
}

function exitText(t: Terminated): string {
  const code = t.exitCode !== undefined ? `exit code ${t.exitCode}` : (t.reason ?? 'terminated')
  return t.message ? `${code}: ${oneLine(t.message, 200)}` : code
}

function timeOf(text: string | undefined): number | undefined {
  if (!text) return undefined
  const t = Date.parse(text)
  return Number.isNaN(t) ? undefined : t
}

/** What one pod check found: the pod's state and the words for it. */
type Found = Omit<PodFinding, 'pod' | 'name' | 'current'>

/** What every pod check reads: the pod, its containers (init first) and the limits. */
interface PodView {
  pod: KubeObject
  name: string
  containers: Container[]
  now: number
  limits: Limits
  /** `container x of pod y`. */
  of: (c: Container) => string
  failedPhase: boolean
  /** How a pod that ran and failed counts: final once the rollout had completed, else not yet. */
  ranAndFailed: PodState
}

/** One rule of `inspectPod`: a finding when the rule applies to the pod, else undefined. */
interface PodCheck {
  name: string
  check: (v: PodView) => Found | undefined
}

/** The first of `containers` for which `pick` finds something. */
function firstOf<T>(containers: Container[], pick: (c: Container) => T | undefined): T | undefined {
  for (const c of containers) {
    const found = pick(c)
    if (found !== undefined) return found
  }
  return undefined
}

/**
 * The checks of one pod, in priority order: the first that applies decides. Failures that will
 * not heal come first, then what may pass (scheduling, a pod that ran and failed, which its
 * siblings may replace), then, for a pod not ready yet, what it is waiting for.
 */
const POD_CHECKS: readonly PodCheck[] = [
  {
    name: 'completed',
    check: (v) =>
      v.pod.status?.phase === 'Succeeded' ? { state: 'healthy', reason: 'Completed' } : undefined
  },
  {
    name: 'image or container config that will not heal',
    check: (v) =>
      firstOf(v.containers, (c) => {
        const waiting = c.status.state?.waiting
        if (!waiting?.reason || !WILL_NOT_HEAL.has(waiting.reason)) return undefined
        return {
          state: 'failed',
          reason: waiting.reason,
          message: about(v.name, c.label, oneLine(waiting.message || waiting.reason)),
          summary: `${waiting.reason} in ${v.of(c)}`
        }
      })
  },
  {
    name: 'out of memory',
    check: (v) =>
      firstOf(v.containers, (c) => {
        const oom = [c.status.state?.terminated, c.status.lastState?.terminated].find(
          (t) => t?.reason === 'OOMKilled'
        )
        if (!oom) return undefined
        const limit = c.spec?.resources?.limits?.memory
        const what = `killed for running out of memory${limit ? ` (limit ${limit})` : ''}, ${exitText(oom)}`
        return {
          state: 'failed',
          reason: 'OOMKilled',
          message: about(v.name, c.label, what),
          summary: `${v.of(c)} ran out of memory${limit ? ` (limit ${limit})` : ''}`
        }
      })
  },
  {
    name: 'crash loop',
    check: (v) =>
      firstOf(v.containers, (c): Found | undefined => {
        const waiting = c.status.state?.waiting
        const restarts = c.status.restartCount ?? 0
        // Between back-offs a real kubelet mostly shows the container as terminated, and shows
        // the CrashLoopBackOff wait only briefly: a poll must not have to catch that moment.
        const down = c.status.state?.terminated
        if (
          down &&
          (down.exitCode ?? 0) !== 0 &&
          restarts >= v.limits.restarts &&
          v.pod.spec?.restartPolicy !== 'Never' &&
          !v.failedPhase
        ) {
          return {
            state: 'failed',
            reason: 'CrashLoopBackOff',
            message: about(v.name, c.label, `${exitText(down)} again after ${restarts} restarts`),
            summary: `${v.of(c)} is in CrashLoopBackOff (exit code ${down.exitCode ?? 'unknown'})`
          }
        }
        if (waiting?.reason !== 'CrashLoopBackOff' || restarts < v.limits.restarts) return undefined
        const last = c.status.lastState?.terminated
        const what = `${oneLine(waiting.message || 'back-off restarting failed container')}${last ? `; ${exitText(last)}` : ''}`
        return {
          state: 'failed',
          reason: 'CrashLoopBackOff',
          message: about(v.name, c.label, what),
          summary: `${v.of(c)} is in CrashLoopBackOff${last?.exitCode !== undefined ? ` (exit code ${last.exitCode})` : ''}`
        }
      })
  },
  {
    // Once the rollout has completed, any restart is a failure: the pod was Ready and fell over.
    name: 'restarted after the rollout completed',
    check: (v) =>
      firstOf(v.containers, (c) => {
        const before = v.limits.settled?.get(containerKey(v.pod, c))
        const restarts = c.status.restartCount ?? 0
        if (before === undefined || restarts <= before) return undefined
        const last = c.status.lastState?.terminated
        const what = `restarted after the rollout completed (restarts ${before} → ${restarts})${last ? `; last ${exitText(last)}` : ''}`
        return {
          state: 'failed',
          reason: 'Restarted',
          message: about(v.name, c.label, what),
          summary: `${v.of(c)} restarted${last ? ` (${exited(last)})` : ''}`
        }
      })
  },
  {
    name: 'unschedulable',
    check: (v) => {
      const scheduled = condition(v.pod, 'PodScheduled')
      if (scheduled?.status !== 'False' || scheduled.reason !== 'Unschedulable') return undefined
      const since = timeOf(scheduled.lastTransitionTime) ?? timeOf(v.pod.metadata.creationTimestamp)
      const expired = since !== undefined && v.now - since >= v.limits.grace
      return {
        state: expired ? 'failed' : 'progressing',
        reason: 'Unschedulable',
        message: `pod ${v.name}: ${oneLine(scheduled.message || 'no node can run it')}`,
        summary: `pod ${v.name} fits on no node`
      }
    }
  },
  // A pod that ran and failed is judged with its siblings: a replacement may yet work. With
  // restartPolicy Never a container that exited non-zero is final even while others run.
  {
    name: 'pod failed, with the reason of the pod',
    check: (v) => {
      const reason = v.pod.status?.reason
      if (!v.failedPhase || !reason) return undefined
      return {
        state: v.ranAndFailed,
        reason,
        message: `pod ${v.name}: ${oneLine(v.pod.status?.message || reason)}`,
        summary: `pod ${v.name} failed (${reason})`,
        failedAs: `pod/${reason}`
      }
    }
  },
  {
    name: 'container exited non-zero in a pod that failed or never restarts',
    check: (v) => {
      if (!v.failedPhase && v.pod.spec?.restartPolicy !== 'Never') return undefined
      const broke = v.containers.find((c) => (c.status.state?.terminated?.exitCode ?? 0) !== 0)
      const t = broke?.status.state?.terminated
      if (!broke || !t) return undefined
      return {
        state: v.ranAndFailed,
        reason: t.reason || 'Error',
        message: about(v.name, broke.label, exitText(t)),
        summary: `${v.of(broke)} ${exited(t)}`,
        failedAs: `${broke.label}/${t.exitCode}`
      }
    }
  },
  {
    name: 'pod failed',
    check: (v) =>
      v.failedPhase
        ? {
            state: v.ranAndFailed,
            reason: 'Failed',
            message: `pod ${v.name}: ${oneLine(v.pod.status?.message || 'failed')}`,
            summary: `pod ${v.name} failed`,
            failedAs: 'pod/Failed'
          }
        : undefined
  },
  { name: 'ready', check: (v) => (isReady(v.pod) ? { state: 'healthy' } : undefined) },
  // Not ready yet: say what it is waiting for, as `kubectl get pods` would.
  {
    name: 'container waiting',
    check: (v) =>
      firstOf(v.containers, (c) => {
        const waiting = c.status.state?.waiting
        if (!waiting?.reason) return undefined
        const last = c.status.lastState?.terminated
        // The last exit says why it waits (a back-off message alone does not).
        const detail =
          [waiting.message, last && `last ${exitText(last)}`].filter(Boolean).join('; ') ||
          waiting.reason
        return {
          state: 'progressing',
          reason: waiting.reason,
          message: about(v.name, c.label, oneLine(detail)),
          summary: `${v.of(c)} is in ${waiting.reason}`
        }
      })
  },
  {
    name: 'container exited non-zero',
    check: (v) =>
      firstOf(v.containers, (c) => {
        const t = c.status.state?.terminated
        if (!t || (t.exitCode ?? 0) === 0) return undefined
        return {
          state: 'progressing',
          reason: t.reason || 'Error',
          message: about(v.name, c.label, exitText(t)),
          summary: `${v.of(c)} ${exited(t)}`
        }
      })
  },
  {
    name: 'not ready, with the reason of the Ready condition',
    check: (v) => {
      const ready = condition(v.pod, 'Ready')
      if (!ready?.reason) return undefined
      return {
        state: 'progressing',
        reason: ready.reason,
        message: `pod ${v.name}: ${oneLine(ready.message || ready.reason)}`,
        summary: `pod ${v.name} is not ready (${ready.reason})`
      }
    }
  },
  {
    name: 'phase',
    check: (v) => {
      const phase = (v.pod.status?.phase || 'pending').toLowerCase()
      return {
        state: 'progressing',
        reason: v.pod.status?.phase || 'Pending',
        message: `pod ${v.name} is ${phase}`,
        summary: `pod ${v.name} is ${phase === 'running' ? 'running but not ready' : phase}`
      }
    }
  }
]

/** The first of `POD_CHECKS` that applies to the pod decides its finding. */
function inspectPod(pod: KubeObject, current: boolean, now: number, limits: Limits): PodFinding {
  const name = pod.metadata.name ?? '?'
  const containers = containersOf(pod)
  const failedPhase = pod.status?.phase === 'Failed'
  // Once the rollout has completed, a pod that was Ready then and has failed since is final.
  const fellOver =
    limits.settled !== undefined &&
    failedPhase &&
    containers.some((c) => limits.settled?.has(containerKey(pod, c)))
  const view: PodView = {
    pod,
    name,
    containers,
    now,
    limits,
    of: (c) => `${c.label} of pod ${name}`,
    failedPhase,
    ranAndFailed: fellOver ? 'failed' : 'progressing'
  }
  for (const { check } of POD_CHECKS) {
    const found = check(view)
    if (found) return { pod, name, current, ...found }
  }
  // The last check (`phase`) always applies.
  throw new Error('no pod check applied')
}

// ---- One workload ----

/** What a workload's own status says of its rollout. */
interface Rollout {
  desired: number
  ready: number
  /** Why the rollout is not complete, in kubectl's words; absent when it is. */
  waiting?: string
  /** A rollout that Kubernetes itself has given up on. */
  failed?: { reason: string; message: string }
  /** Pods of the workload, current and previous revisions. */
  pods: { pod: KubeObject; current: boolean }[]
  /** Whether pods that ran and failed are judged here (Jobs judge them with their backoff limit). */
  judgeFailedPods: boolean
  /** The reason word while waiting on the workload rather than on one of its pods. */
  waitingReason: string
  /** A Job that has completed. */
  done?: boolean
}

function generationWait(o: KubeObject): string | undefined {
  const gen = o.metadata.generation
  const seen = o.status?.observedGeneration
  if (gen !== undefined && (seen === undefined || seen < gen)) {
    return `waiting for the ${o.kind.toLowerCase()} spec update to be observed`
  }
  return undefined
}

function revisionOf(o: KubeObject): number {
  return Number(o.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0)
}

function deploymentRollout(d: KubeObject, index: ClusterIndex): Rollout {
  const s = d.status ?? {}
  const desired = d.spec?.replicas ?? 1
  const sets = index.ownedBy(d, 'ReplicaSet')
  const revision = revisionOf(d)
  const newest = sets.reduce<KubeObject | undefined>(
    (best, rs) => (!best || revisionOf(rs) > revisionOf(best) ? rs : best),
    undefined
  )
  const currentSet = sets.find((rs) => revision > 0 && revisionOf(rs) === revision) ?? newest
  const pods = sets.flatMap((rs) =>
    index.ownedBy(rs, 'Pod').map((pod) => ({ pod, current: rs === currentSet }))
  )
  const updated = s.updatedReplicas ?? 0
  const available = s.availableReplicas ?? 0
  const ready = currentSet ? (currentSet.status?.readyReplicas ?? 0) : (s.readyReplicas ?? 0)
  const old = pods.filter((p) => !p.current && !isTerminal(p.pod) && !isDisplaced(p.pod)).length

  const progressing = condition(d, 'Progressing')
  const failed =
    progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded'
      ? {
          reason: 'ProgressDeadlineExceeded',
          message: oneLine(
            progressing.message || `deployment ${d.metadata.name} exceeded its progress deadline`
          )
        }
      : undefined

  const replicas = s.replicas ?? 0
  let waiting = generationWait(d)
  if (!waiting && updated < desired)
    waiting = `${updated} out of ${desired} new replicas have been updated`
  if (!waiting && replicas > updated)
    waiting = `${replicas - updated} old replicas are pending termination`
  if (!waiting && replicas > desired)
    waiting = `${replicas - desired} extra replicas are pending termination`
  if (!waiting && available < desired)
    waiting = `${available} of ${desired} updated replicas are available`
  if (!waiting && (s.readyReplicas ?? 0) < desired)
    waiting = `${s.readyReplicas ?? 0} of ${desired} replicas are ready`
  // Old pods that are terminating are no longer counted in the status, but still serve traffic.
  if (!waiting && old > 0)
    waiting = `${old} old pod${old === 1 ? ' is' : 's are'} still terminating`
  return {
    desired,
    ready,
    waiting,
    waitingReason: 'RolloutInProgress',
    failed,
    pods,
    judgeFailedPods: true
  }
}

function statefulSetRollout(ss: KubeObject, index: ClusterIndex): Rollout {
  const s = ss.status ?? {}
  const desired = ss.spec?.replicas ?? 1
  const ready = s.readyReplicas ?? 0
  const strategy = ss.spec?.updateStrategy
  const partition = strategy?.rollingUpdate?.partition ?? 0
  const revision = s.updateRevision
  const pods = index.ownedBy(ss, 'Pod').map((pod) => ({
    pod,
    current:
      !revision ||
      pod.metadata.labels?.['controller-revision-hash'] === undefined ||
      pod.metadata.labels['controller-revision-hash'] === revision
  }))
  let waiting = generationWait(ss)
  if (!waiting && (s.replicas ?? 0) > desired)
    waiting = `${(s.replicas ?? 0) - desired} extra replicas are pending termination`
  if (!waiting && ready < desired) waiting = `${ready} of ${desired} replicas are ready`
  if (!waiting && strategy?.type !== 'OnDelete') {
    if (partition > 0) {
      const want = Math.max(0, desired - partition)
      if ((s.updatedReplicas ?? 0) < want)
        waiting = `${s.updatedReplicas ?? 0} of ${want} pods have been updated`
    } else if (s.currentRevision !== s.updateRevision) {
      waiting = `${s.updatedReplicas ?? 0} of ${desired} pods have been updated to revision ${s.updateRevision ?? '?'}`
    }
  }
  return {
    desired,
    ready,
    waiting,
    waitingReason: 'RolloutInProgress',
    pods,
    judgeFailedPods: true
  }
}

function daemonSetRollout(ds: KubeObject, index: ClusterIndex): Rollout {
  const s = ds.status ?? {}
  const desired = s.desiredNumberScheduled ?? 0
  const ready = s.numberReady ?? 0
  const generation = ds.metadata.generation
  const pods = index.ownedBy(ds, 'Pod').map((pod) => {
    const podGeneration = pod.metadata.labels?.['pod-template-generation']
    return {
      pod,
      current:
        podGeneration === undefined ||
        generation === undefined ||
        Number(podGeneration) === generation
    }
  })
  let waiting = generationWait(ds)
  const updated = s.updatedNumberScheduled ?? 0
  if (!waiting && updated < desired)
    waiting = `${updated} out of ${desired} new pods have been updated`
  if (!waiting && ready < desired) waiting = `${ready} of ${desired} pods are ready`
  if (!waiting && (s.numberAvailable ?? 0) < desired)
    waiting = `${s.numberAvailable ?? 0} of ${desired} updated pods are available`
  return {
    desired,
    ready,
    waiting,
    waitingReason: 'RolloutInProgress',
    pods,
    judgeFailedPods: true
  }
}

function jobRollout(job: KubeObject, index: ClusterIndex): Rollout {
  const desired = job.spec?.completions ?? 1
  const succeeded = job.status?.succeeded ?? 0
  const pods = index.ownedBy(job, 'Pod').map((pod) => ({ pod, current: true }))
  const failedCondition = [condition(job, 'Failed'), condition(job, 'FailureTarget')].find(isTrue)
  const failed = failedCondition
    ? {
        reason: failedCondition.reason || 'Failed',
        message: oneLine(failedCondition.message || 'the job failed')
      }
    : undefined
  const done = isTrue(condition(job, 'Complete'))
  const suspended = job.spec?.suspend === true
  const waiting = done
    ? undefined
    : suspended
      ? 'the job is suspended'
      : `${succeeded} of ${desired} completions succeeded`
  const waitingReason = suspended ? 'Suspended' : 'Running'
  // Its pods' failures are the Job's to count, against the backoff limit the user chose.
  return {
    desired,
    ready: succeeded,
    waiting,
    waitingReason,
    failed,
    pods,
    judgeFailedPods: false,
    done
  }
}

const RANK: Record<PodState, number> = { failed: 0, progressing: 1, healthy: 2 }

function byTrouble(a: PodFinding, b: PodFinding): number {
  return (
    RANK[a.state] - RANK[b.state] ||
    Number(b.current) - Number(a.current) ||
    a.name.localeCompare(b.name)
  )
}

/**
 * Pods that ran and failed, grouped by how, over this poll and the earlier ones: a group of two
 * is a replacement failing alike. Across polls because a DaemonSet deletes each failed pod
 * before it creates the next, so no one poll shows two.
 */
function repeatedFailure(findings: PodFinding[], seen: SeenFailures): PodFinding[] | undefined {
  for (const f of findings) {
    if (!f.failedAs || !f.current) continue
    const group = seen.get(f.failedAs) ?? new Map<string, PodFinding>()
    group.set(f.pod.metadata.uid ?? f.name, f)
    seen.set(f.failedAs, group)
  }
  return [...seen.values()].map((g) => [...g.values()]).find((g) => g.length >= 2)
}

function newest(findings: PodFinding[]): PodFinding | undefined {
  const created = (f: PodFinding) => timeOf(f.pod.metadata.creationTimestamp) ?? 0
  return findings.reduce<PodFinding | undefined>(
    (best, f) => (!best || created(f) > created(best) ? f : best),
    undefined
  )
}

function verdictOf(
  ref: WorkloadRef,
  rollout: Rollout,
  findings: PodFinding[],
  restarts: number,
  seen: SeenFailures
): Verdict {
  const sorted = [...findings].sort(byTrouble)
  const base = {
    kind: ref.kind,
    name: ref.name,
    ready: `${rollout.ready}/${rollout.desired}`,
    restarts,
    pods: sorted.map((f) => f.name)
  }
  // A Job that completed is done, whatever its earlier attempts went through.
  if (rollout.done) return { ...base, state: 'healthy', unhealthyPods: [] }
  const unhealthyPods = sorted.filter((f) => f.state !== 'healthy').map((f) => f.name)
  const failed = (
    reason: string | undefined,
    message: string | undefined,
    summary: string | undefined
  ): Verdict => ({
    ...base,
    state: 'failed',
    reason,
    message,
    summary,
    unhealthyPods
  })

  const failedPod = sorted.find((f) => f.state === 'failed' && f.current)
  if (failedPod) return failed(failedPod.reason, failedPod.message, failedPod.summary)
  if (rollout.failed) {
    // The workload says why it gave up; its latest failed pod says what went wrong.
    const evidence = newest(sorted.filter((f) => f.failedAs))
    const message = evidence?.message
      ? `${rollout.failed.message}; ${evidence.message}`
      : rollout.failed.message
    const summary = evidence?.summary
      ? `${rollout.failed.reason} (${evidence.summary})`
      : rollout.failed.reason
    return failed(rollout.failed.reason, message, summary)
  }
  const repeated = rollout.judgeFailedPods ? repeatedFailure(sorted, seen) : undefined
  if (repeated) {
    const last = newest(repeated) as PodFinding
    return failed(
      last.reason,
      `${repeated.length} pods failed the same way; ${last.message ?? last.name}`,
      `${repeated.length} pods failed the same way (${last.summary ?? `pod ${last.name} failed`})`
    )
  }

  const blocking = sorted.find((f) => f.state === 'progressing' && isLive(f.pod))
  if (rollout.waiting === undefined && !blocking)
    return { ...base, state: 'healthy', unhealthyPods: [] }
  const progressing = (
    reason: string | undefined,
    message: string | undefined,
    summary: string | undefined
  ): Verdict => ({
    ...base,
    state: 'progressing',
    reason,
    message,
    summary,
    unhealthyPods
  })
  if (blocking?.current) return progressing(blocking.reason, blocking.message, blocking.summary)
  const waiting = rollout.waiting ?? blocking?.message
  return progressing(rollout.waitingReason, waiting, rollout.waiting ?? blocking?.summary)
}

function podVerdict(ref: WorkloadRef, pod: KubeObject, now: number, limits: Limits): Verdict {
  const f = inspectPod(pod, true, now, limits)
  const ready = `${f.state === 'healthy' ? 1 : 0}/1`
  const base = { kind: ref.kind, name: ref.name, ready, restarts: restartsOf(pod), pods: [f.name] }
  if (f.state === 'healthy') return { ...base, state: 'healthy', unhealthyPods: [] }
  const found = {
    reason: f.reason,
    message: f.message,
    summary: f.summary,
    unhealthyPods: [f.name]
  }
  // A bare pod has no replacement: once it ran and failed, or was evicted, it stays so.
  if (f.state === 'failed' || f.failedAs) return { ...base, state: 'failed', ...found }
  return { ...base, state: 'progressing', ...found }
}

/** An aggregated API is served once its APIService is `Available`; until then its group is missing. */
function apiServiceVerdict(ref: WorkloadRef, o: KubeObject): Verdict {
  const available = condition(o, 'Available')
  const base = { kind: ref.kind, name: ref.name, restarts: 0, pods: [], unhealthyPods: [] }
  if (isTrue(available)) return { ...base, state: 'healthy', ready: '1/1' }
  const reason = available?.reason || 'NotAvailable'
  const service = o.spec?.service
  const backend = service?.name ? ` (service ${service.namespace ?? '?'}/${service.name})` : ''
  return {
    ...base,
    state: 'progressing',
    ready: '0/1',
    reason,
    message: oneLine(available?.message || `apiservice ${ref.name} is not available`),
    summary: `not Available: ${reason}${backend}`
  }
}

/** Failed pods seen so far for one workload: how they failed → pod uid → what was seen. */
type SeenFailures = Map<string, Map<string, PodFinding>>

/**
 * What earlier polls of one wait saw, so that failures spread over several polls add up. Give
 * the same memory to every `evaluate` of one wait.
 */
export class PollMemory {
  private readonly failures = new Map<string, SeenFailures>()

  for(ref: WorkloadRef): SeenFailures {
    const key = `${ref.kind}/${ref.namespace}/${ref.name}`
    let seen = this.failures.get(key)
    if (!seen) {
      seen = new Map()
      this.failures.set(key, seen)
    }
    return seen
  }
}

/** Restart counts per container at the moment the rollout completed. */
export type Settled = ReadonlyMap<string, number>

function containerKey(pod: KubeObject, c: Container): string {
  const id = pod.metadata.uid ?? `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`
  return `${id}/${c.label}`
}

/** The restart count of every container in `state`: from then on, a restart is a failure. */
export function settledOf(state: ClusterState): Settled {
  const out = new Map<string, number>()
  for (const item of state.items) {
    const o = asObject(item)
    if (o?.kind !== 'Pod') continue
    for (const c of containersOf(o)) out.set(containerKey(o, c), c.status.restartCount ?? 0)
  }
  return out
}

/** What judging one workload reads besides its own object. */
interface Judging {
  index: ClusterIndex
  now: number
  limits: Limits
  memory: PollMemory
}

/** The rules of one workload kind. */
interface KindRule {
  /** Its apiVersion: an object of the same kind from another API group is not ours to judge. */
  api: string
  /** The resource types kubectl is asked for when the release has a workload of this kind. */
  resources: string[]
  judge: (ref: WorkloadRef, obj: KubeObject, j: Judging) => Verdict
}

/** A workload judged by its rollout status and the findings of its pods. */
function byRollout(rolloutOf: (o: KubeObject, index: ClusterIndex) => Rollout): KindRule['judge'] {
  return (ref, obj, { index, now, limits, memory }) => {
    const rollout = rolloutOf(obj, index)
    const counted = rollout.pods.filter((p) => !isDisplaced(p.pod))
    const findings = counted.map((p) => inspectPod(p.pod, p.current, now, limits))
    const restarts = counted.reduce((n, p) => n + restartsOf(p.pod), 0)
    return verdictOf(ref, rollout, findings, restarts, memory.for(ref))
  }
}

/** The rollout rules, by kind, in the order kubectl is asked for their resources. */
const KINDS: Record<WorkloadKind, KindRule> = {
  Deployment: {
    api: 'apps/v1',
    resources: ['deployments', 'replicasets'],
    judge: byRollout(deploymentRollout)
  },
  StatefulSet: {
    api: 'apps/v1',
    resources: ['statefulsets'],
    judge: byRollout(statefulSetRollout)
  },
  DaemonSet: { api: 'apps/v1', resources: ['daemonsets'], judge: byRollout(daemonSetRollout) },
  Job: { api: 'batch/v1', resources: ['jobs'], judge: byRollout(jobRollout) },
  Pod: {
    api: 'v1',
    resources: ['pods'],
    judge: (ref, obj, { now, limits }) => podVerdict(ref, obj, now, limits)
  },
  APIService: {
    api: 'apiregistration.k8s.io/v1',
    resources: ['apiservices'],
    judge: (ref, obj) => apiServiceVerdict(ref, obj)
  }
}

/**
 * One verdict per workload, in the order given. `now` (epoch ms) measures how long a pod has
 * been unschedulable.
 */
export function evaluate(
  workloads: WorkloadRef[],
  state: ClusterState,
  now: number,
  opts: HealthOptions = {}
): Verdict[] {
  const limits: Limits = {
    grace: opts.unschedulableGraceMs ?? DEFAULT_UNSCHEDULABLE_GRACE_MS,
    restarts: opts.crashLoopRestarts ?? DEFAULT_CRASH_LOOP_RESTARTS,
    settled: opts.settled
  }
  const memory = opts.memory ?? new PollMemory()
  const index = new ClusterIndex(state.items)
  return workloads.map((ref): Verdict => {
    const obj = index.find(ref)
    if (!obj) {
      const where = ref.kind === 'APIService' ? '' : ` in namespace ${ref.namespace}`
      return {
        kind: ref.kind,
        name: ref.name,
        state: 'progressing',
        ready: '0/?',
        restarts: 0,
        reason: 'NotFound',
        message: `${ref.kind.toLowerCase()} ${ref.name} was not found${where}`,
        summary: `not found${where}`,
        pods: [],
        unhealthyPods: []
      }
    }
    return KINDS[ref.kind].judge(ref, obj, { index, now, limits, memory })
  })
}
