// What the report says of a verdict: the one-sentence Why, a wait that ran out, how long the
// release stayed healthy.
import { describe, expect, test } from 'vitest'
import { SUMMARY_LIMIT, renderMarkdown } from '../../src/report/markdown.js'
import { firstFailure, newReport, type Report, type Verdict } from '../../src/report/model.js'

const T0 = 1_760_000_000_000

const crashing: Verdict = {
  kind: 'Deployment',
  name: 'web',
  state: 'failed',
  ready: '0/1',
  restarts: 3,
  reason: 'CrashLoopBackOff',
  message:
    'container web: back-off 20s restarting failed container=web pod=web-7d9f-x2k_preview(ca4a15e0-9eae-478a-a354-76059dbad000); exit code 1',
  summary: 'container web of pod web-7d9f-x2k is in CrashLoopBackOff (exit code 1)',
  pods: ['web-7d9f-x2k'],
  unhealthyPods: ['web-7d9f-x2k']
}

const starting: Verdict = {
  kind: 'Deployment',
  name: 'api',
  state: 'progressing',
  ready: '0/2',
  restarts: 0,
  reason: 'ContainerCreating',
  message: 'container api of pod api-1: ContainerCreating',
  summary: 'container api of pod api-1 is in ContainerCreating',
  pods: ['api-1'],
  unhealthyPods: ['api-1']
}

function report(
  workloads: Verdict[],
  verifyStatus: 'success' | 'failure',
  extra: Partial<Report> = {}
): Report {
  const r = newReport(T0)
  r.workloads = workloads
  r.release = { name: 'app', namespace: 'preview', chart: 'app' }
  r.steps = [
    {
      id: 'deploy',
      title: 'Deploy with helm',
      status: 'success',
      startedAt: T0,
      endedAt: T0 + 1000
    },
    {
      id: 'verify',
      title: 'Verify workloads',
      status: verifyStatus,
      startedAt: T0 + 1000,
      endedAt: T0 + 5000
    }
  ]
  return Object.assign(r, extra)
}

describe('the Why line', () => {
  test('is one sentence of ours: no pod UID, no repeat of the kubelet text in the table', () => {
    const why = firstFailure(report([crashing], 'failure')) ?? ''
    expect(why).toBe(
      'Deployment web: container web of pod web-7d9f-x2k is in CrashLoopBackOff (exit code 1)'
    )
    expect(why).not.toContain('ca4a15e0')
    expect(why).not.toContain('back-off 20s')
  })

  test('says the wait ran out, and after how long, not just that a workload is progressing', () => {
    const r = report([starting], 'failure', {
      verify: { stableForMs: 10_000, timedOutAfterMs: 240_000 }
    })
    expect(firstFailure(r)).toBe(
      'not healthy after 4m: Deployment api: container api of pod api-1 is in ContainerCreating'
    )
    r.status = 'unhealthy'
    r.reason = firstFailure(r)
    const md = renderMarkdown(r, { header: 'app/preview', limit: SUMMARY_LIMIT })
    expect(md).toContain('**Why:** not healthy after 4m: Deployment api')
  })

  test('names the workload that did not stay healthy in the stable-for window', () => {
    const r = report(
      [
        {
          ...crashing,
          summary:
            'container web of pod web-1 exited with code 1, 3.0 s after the rollout completed'
        }
      ],
      'success'
    )
    r.steps.push({
      id: 'stable',
      title: 'Stay healthy for 10s',
      status: 'failure',
      startedAt: T0 + 5000,
      endedAt: T0 + 8000
    })
    expect(firstFailure(r)).toBe(
      'Deployment web: container web of pod web-1 exited with code 1, 3.0 s after the rollout completed'
    )
  })
})

describe('the status line', () => {
  const healthy: Verdict = {
    ...starting,
    state: 'healthy',
    reason: undefined,
    summary: undefined,
    unhealthyPods: []
  }

  test('of a healthy run says how long the release stayed healthy', () => {
    const r = report([healthy], 'success', {
      status: 'healthy',
      durationMs: 42_000,
      verify: { stableForMs: 10_000, healthyForMs: 10_000 }
    })
    const first = renderMarkdown(r, { header: 'app/preview', limit: SUMMARY_LIMIT }).split('\n')[0]
    expect(first).toMatch(/^### ✅ \*\*healthy\*\* · .* · 42\.0 s · stable 10\.0 s$/)
  })

  test('says nothing of it with stable-for: 0s', () => {
    const r = report([healthy], 'success', {
      status: 'healthy',
      durationMs: 42_000,
      verify: { stableForMs: 0 }
    })
    expect(
      renderMarkdown(r, { header: 'app/preview', limit: SUMMARY_LIMIT }).split('\n')[0]
    ).not.toContain('stable')
  })
})
