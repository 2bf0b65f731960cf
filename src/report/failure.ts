// The first failure of a run in plain words, for the top of the summary and the comment.

import type { Report } from '../model.js'
import { formatMs } from '../text.js'

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
    return waited !== undefined ? `not healthy after ${formatMs(waited)}: ${what}` : what
  }
  const step = failed[0]
  if (step) return `${step.title} failed: ${step.reason ?? 'no reason was given'}`
  const check = report.healthChecks.find((c) => !c.ok)
  if (check) return `health check ${check.label} failed: ${check.error ?? `status ${check.status}`}`
  return undefined
}
