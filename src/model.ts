// The model at the bottom: the record of a run (a pure projection of the finished run;
// renderers are pure functions of it) and the parts of Kubernetes objects the code reads. Imports nothing of ours.

/** `removed`: a closed pull request's preview was taken down; `swept`: `mode: sweep` ran. */
export type Status = 'healthy' | 'unhealthy' | 'error' | 'removed' | 'swept'

/** The events that are about a pull request (its number, head and action are in the payload). */
export function isPullRequestEvent(event: string | undefined): boolean {
  return event === 'pull_request' || event === 'pull_request_target'
}

/** What a run does: deploy a preview, take a closed pull request's one down, or sweep. */
export type Mode = 'preview' | 'teardown' | 'sweep'

/** One preview `mode: sweep` looked at: what it is, and why it went or stayed. */
export interface SweptPreview {
  namespace: string
  release?: string
  pr?: number
  reason: string
}

/** The preview beyond the job: where it lives, its link, and what teardown or sweep did. */
export interface PreviewInfo {
  mode: Mode
  url?: string
  namespace?: string
  /** The namespace carries the action's created-labels (made by this run or an earlier one). */
  namespaceCreated?: boolean
  /** Epoch ms after which `mode: sweep` removes it (`ttl`). */
  expiresAt?: number
  environment?: string
  deploymentId?: number
  /** Teardown: what is gone, e.g. `release web in pr-7`, `namespace pr-7`. */
  removed?: string[]
  /** Teardown: what stays and why. */
  left?: string[]
  swept?: SweptPreview[]
  kept?: SweptPreview[]
}
export type StepStatus = 'pending' | 'running' | 'success' | 'failure' | 'skipped'

export interface StepResult {
  id: string
  title: string
  status: StepStatus
  /** Epoch milliseconds. */
  startedAt?: number
  endedAt?: number
  durationMs?: number
  /** Why it failed, in plain words. */
  reason?: string
  /** For a skipped step: the id of the failed step it depended on. */
  skippedBecause?: string
}

export interface ToolInfo {
  name: string
  version: string
  path: string
  /** True when it came from the tool cache without a download. */
  cached: boolean
}

export interface ClusterInfo {
  kind: 'minikube' | 'existing'
  kubernetesVersion?: string
  ip?: string
  driver?: string
  nodes?: number
  kubeconfig?: string
  addons?: string[]
}

export interface ImageInfo {
  name: string
  reference: string
  id?: string
  sizeBytes?: number
  buildMs?: number
  loadMs?: number
  /** How the image reached the cluster. */
  delivery?: 'loaded' | 'already-present' | 'docker-env'
  /** The layer cache the build used. */
  cache?: 'gha' | 'registry' | 'local'
  /** Dockerfile steps the build went through (not FROM), and how many of them were cached. */
  steps?: number
  cachedSteps?: number
  /** The docker-format tarball `minikube image load` read. */
  tarball?: string
  /** A failed build: the Dockerfile step that failed and its last output lines. */
  failedStep?: string
  failureLines?: string[]
  /** A base image that could not be pulled. */
  missingBase?: string
  /** `<registry>/<name>:<tag>`: where the image was pushed (`registry`). */
  pushed?: string
  /** `sha256:…`: the digest the registry holds for it; the chart is pinned to it. */
  digest?: string
  /** The `push-tags` references put on that digest after a healthy run. */
  tags?: string[]
}

export interface ReleaseInfo {
  name: string
  namespace: string
  chart: string
  chartVersion?: string
  revision?: number
  helmVersion?: string
}

/** The verdict on one workload of the release. */
export interface Verdict {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'Pod' | 'APIService'
  name: string
  state: 'healthy' | 'progressing' | 'failed'
  /** Ready pods over wanted pods, e.g. `1/2` (for a Job: succeeded/completions). */
  ready: string
  restarts: number
  /** Short machine-ish reason, e.g. `CrashLoopBackOff`, `ImagePullBackOff`, `Unschedulable`. */
  reason?: string
  /** Human detail: the container, the message Kubernetes gave. */
  message?: string
  /** What is wrong in a few words of ours (no kubelet text), e.g. `container web of pod web-1 exited with code 1`. */
  summary?: string
  /** Pods of this workload (names), unhealthy ones first. */
  pods: string[]
  /** Pods that are unhealthy, for diagnostics. */
  unhealthyPods: string[]
  /** For a hook of the release (watched while helm runs): its `helm.sh/hook` events, e.g. `pre-install`. */
  hook?: string
}

export type WorkloadKind = Verdict['kind']

/** One workload of the release, as its manifest names it. */
export interface WorkloadRef {
  kind: WorkloadKind
  name: string
  namespace: string
}

/** How the wait for a healthy release ended. */
export interface VerifyInfo {
  /** The `stable-for` window (ms); 0 when it is off. */
  stableForMs: number
  /** How long every workload stayed healthy once the rollout had completed (ms). */
  healthyForMs?: number
  /** Set when the wait ran out: the `wait-timeout` (ms). */
  timedOutAfterMs?: number
}

export interface HealthCheckResult {
  label: string
  url: string
  ok: boolean
  status?: number
  latencyMs?: number
  attempts: number
  error?: string
}

export interface HelmTestResult {
  passed: boolean
  pods: { name: string; phase: string; log?: string }[]
  message?: string
}

export interface DiagnosticSection {
  title: string
  body: string
}

export interface Diagnostics {
  sections: DiagnosticSection[]
  file?: string
  artifactId?: number | string
}

/** What GitHub tells every action about the run. */
export interface RunFacts {
  repository?: string
  commit?: string
  ref?: string
  event?: string
  /** The event payload's `action` (`opened`, `synchronize`, `closed`, …). */
  eventAction?: string
  /** The pull request's head branch. */
  branch?: string
  /** A closed pull request that was merged. */
  merged?: boolean
  runUrl?: string
  pullRequest?: number
}

export interface Report extends RunFacts {
  version: 1
  status: Status
  /** Plain words of the first failure; absent when healthy. */
  reason?: string
  startedAt: number
  endedAt?: number
  durationMs?: number
  tools: ToolInfo[]
  cluster?: ClusterInfo
  images: ImageInfo[]
  release?: ReleaseInfo
  workloads: Verdict[]
  healthChecks: HealthCheckResult[]
  helmTest?: HelmTestResult
  verify?: VerifyInfo
  diagnostics?: Diagnostics
  steps: StepResult[]
  commentUrl?: string
  preview?: PreviewInfo
}

export function newReport(now: number): Report {
  return {
    version: 1,
    status: 'error',
    startedAt: now,
    tools: [],
    images: [],
    workloads: [],
    healthChecks: [],
    steps: []
  }
}

/** Whether the release was deployed (the deploy step succeeded). */
export function wasDeployed(report: { steps: readonly StepResult[] }): boolean {
  return report.steps.some((s) => s.id === 'deploy' && s.status === 'success')
}

/** Whether what was deployed shows anything wrong: a workload, a health check, helm test. */
export function releaseTroubled(report: {
  workloads: readonly Verdict[]
  healthChecks: readonly HealthCheckResult[]
  helmTest?: HelmTestResult
}): boolean {
  return (
    report.workloads.some((w) => w.state !== 'healthy') ||
    report.healthChecks.some((c) => !c.ok) ||
    (report.helmTest !== undefined && !report.helmTest.passed)
  )
}

/**
 * The outcome: `error` when a step failed before the release was deployed,
 * `unhealthy` when it was deployed but is not healthy, `healthy` otherwise. A teardown or a
 * sweep is `removed` or `swept` unless one of its steps failed (`error`).
 */
export function decideStatus(report: Report): Status {
  const mode = report.preview?.mode
  if (mode === 'teardown' || mode === 'sweep') {
    if (report.steps.some((s) => s.status === 'failure')) return 'error'
    return mode === 'teardown' ? 'removed' : 'swept'
  }
  const deployed = wasDeployed(report)
  if (deployed && releaseTroubled(report)) return 'unhealthy'
  if (report.steps.some((s) => s.status === 'failure')) return deployed ? 'unhealthy' : 'error'
  return 'healthy'
}

// ---- The parts of Kubernetes objects read here (every field optional: hostile input) ----

/** The `items` of a `kubectl get … -o json` list. */
export interface KubeList<T = unknown> {
  items: T[]
}

export interface OwnerReference {
  kind?: string
  name?: string
  uid?: string
  controller?: boolean
}

export interface ObjectMeta {
  name?: string
  namespace?: string
  uid?: string
  generation?: number
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: OwnerReference[]
  deletionTimestamp?: string
  creationTimestamp?: string
}

export interface Condition {
  type?: string
  status?: string
  reason?: string
  message?: string
  lastTransitionTime?: string
}

export interface TerminatedState {
  exitCode?: number
  signal?: number
  reason?: string
  message?: string
}

export interface ContainerState {
  waiting?: { reason?: string; message?: string }
  running?: { startedAt?: string }
  terminated?: TerminatedState
}

export interface ContainerStatus {
  name?: string
  ready?: boolean
  restartCount?: number
  state?: ContainerState
  lastState?: ContainerState
}

export interface ContainerSpec {
  name?: string
  resources?: { limits?: Record<string, string> }
}

/** A workload or pod as `kubectl get -o json` shows it: the fields any of our readers use. */
export interface KubeObject {
  kind?: string
  metadata?: ObjectMeta
  spec?: {
    replicas?: number
    completions?: number
    suspend?: boolean
    restartPolicy?: string
    containers?: ContainerSpec[]
    initContainers?: ContainerSpec[]
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } }
    service?: { namespace?: string; name?: string }
  }
  status?: {
    observedGeneration?: number
    replicas?: number
    updatedReplicas?: number
    readyReplicas?: number
    availableReplicas?: number
    currentRevision?: string
    updateRevision?: string
    desiredNumberScheduled?: number
    updatedNumberScheduled?: number
    numberReady?: number
    numberAvailable?: number
    succeeded?: number
    failed?: number
    active?: number
    phase?: string
    reason?: string
    message?: string
    conditions?: Condition[]
    containerStatuses?: ContainerStatus[]
    initContainerStatuses?: ContainerStatus[]
  }
}

/** A core/v1 Event. */
export interface KubeEvent {
  type?: string
  reason?: string
  message?: string
  count?: number
  lastTimestamp?: string | null
  eventTime?: string | null
  firstTimestamp?: string | null
  series?: { count?: number; lastObservedTime?: string }
  involvedObject?: { kind?: string; name?: string }
  metadata?: { creationTimestamp?: string }
}
