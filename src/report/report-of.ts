// The report as a pure projection of the finished run: its facts and the steps' results.
import {
  decideStatus,
  type ClusterInfo,
  type Diagnostics,
  type HealthCheckResult,
  type HelmTestResult,
  type ImageInfo,
  type PreviewInfo,
  type ReleaseInfo,
  type Report,
  type RunFacts,
  type StepResult,
  type ToolInfo,
  type Verdict,
  type VerifyInfo
} from '../model.js'
import { firstFailure } from './failure.js'

/** The facts of a finished run that the report shows (the run context has them all). */
export interface FinishedRun {
  readonly facts: RunFacts
  readonly startedAt: number
  readonly tools: ReadonlyMap<string, ToolInfo>
  readonly cluster?: ClusterInfo
  readonly images: ReadonlyMap<string, ImageInfo>
  readonly release?: ReleaseInfo
  readonly verdicts: readonly Verdict[]
  readonly healthChecks: readonly HealthCheckResult[]
  readonly helmTest?: HelmTestResult
  readonly verify?: VerifyInfo
  readonly diagnostics?: Diagnostics
  readonly preview?: PreviewInfo
}

export function reportOf(
  run: FinishedRun,
  results: readonly StepResult[],
  endedAt = Date.now()
): Report {
  const report: Report = {
    version: 1,
    status: 'error',
    ...run.facts,
    startedAt: run.startedAt,
    endedAt,
    durationMs: endedAt - run.startedAt,
    tools: [...run.tools.values()],
    cluster: run.cluster,
    images: [...run.images.values()],
    release: run.release,
    workloads: [...run.verdicts],
    healthChecks: [...run.healthChecks],
    helmTest: run.helmTest,
    verify: run.verify,
    diagnostics: run.diagnostics,
    steps: [...results],
    preview: run.preview ? { ...run.preview } : undefined
  }
  report.status = decideStatus(report)
  report.reason = ['healthy', 'removed', 'swept'].includes(report.status)
    ? undefined
    : firstFailure(report)
  return report
}
