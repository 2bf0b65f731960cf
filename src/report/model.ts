// The single record of a run. Steps append to it; renderers are pure functions of it.

export type Status = 'healthy' | 'unhealthy' | 'error'
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
export function wasDeployed(report: Report): boolean {
  return report.steps.some((s) => s.id === 'deploy' && s.status === 'success')
}

/** Whether what was deployed shows anything wrong: a workload, a health check, helm test. */
export function releaseTroubled(report: Report): boolean {
  return (
    report.workloads.some((w) => w.state !== 'healthy') ||
    report.healthChecks.some((c) => !c.ok) ||
    (report.helmTest !== undefined && !report.helmTest.passed)
  )
}

/**
 * The outcome: `error` when a step failed before the release was deployed,
 * `unhealthy` when it was deployed but is not healthy, `healthy` otherwise.
 */
export function decideStatus(report: Report): Status {
  const deployed = wasDeployed(report)
  if (deployed && releaseTroubled(report)) return 'unhealthy'
  if (report.steps.some((s) => s.status === 'failure')) return deployed ? 'unhealthy' : 'error'
  return 'healthy'
}

/** `4m`, `90s`, `1500ms`: a wait as the user wrote it. */
function waitText(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`
  if (ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}

/** The first failure, in plain words, for the top of the summary and the comment. */
export function firstFailure(report: Report): string | undefined {
  const failed = report.steps
    .filter((s) => s.status === 'failure')
    .sort((a, b) => (a.endedAt ?? 0) - (b.endedAt ?? 0))
  const bad =
    report.workloads.find((w) => w.state === 'failed') ??
    report.workloads.find((w) => w.state !== 'healthy')
  if (bad && failed.some((s) => s.id === 'verify' || s.id === 'stable')) {
    // One sentence in our words: the kubelet's text is in the workloads table beside it.
    const what = `${bad.kind} ${bad.name}: ${bad.summary ?? bad.reason ?? 'not ready'}`
    const waited = report.verify?.timedOutAfterMs
    return waited !== undefined ? `not healthy after ${waitText(waited)}: ${what}` : what
  }
  const step = failed[0]
  if (step) return `${step.title} failed: ${step.reason ?? 'no reason was given'}`
  const check = report.healthChecks.find((c) => !c.ok)
  if (check) return `health check ${check.label} failed: ${check.error ?? `status ${check.status}`}`
  return undefined
}
