import { describe, expect, it } from 'vitest'
import type { StepResult, Verdict } from '../../src/model.js'
import { reportOf, type FinishedRun } from '../../src/report/report-of.js'

const ok = (id: string): StepResult => ({ id, title: id, status: 'success', endedAt: 10 })

function finishedRun(over: Partial<FinishedRun> = {}): FinishedRun {
  return {
    facts: { repository: 'o/r', event: 'pull_request', pullRequest: 7 },
    startedAt: 1_000,
    tools: new Map([['helm', { name: 'helm', version: 'v3.17.0', path: '/t/helm', cached: true }]]),
    images: new Map([['web', { name: 'web', reference: 'web:abc', delivery: 'loaded' }]]),
    verdicts: [],
    healthChecks: [],
    ...over
  }
}

const crashing: Verdict = {
  kind: 'Deployment',
  name: 'web',
  state: 'failed',
  ready: '0/1',
  restarts: 3,
  reason: 'CrashLoopBackOff',
  summary: 'container web exited with code 1',
  pods: ['web-1'],
  unhealthyPods: ['web-1']
}

describe('reportOf', () => {
  it('a run whose steps all succeeded is healthy, with its facts, tools and images', () => {
    const report = reportOf(finishedRun(), [ok('deploy'), ok('verify')], 5_000)
    expect(report).toMatchObject({
      status: 'healthy',
      repository: 'o/r',
      pullRequest: 7,
      startedAt: 1_000,
      endedAt: 5_000,
      durationMs: 4_000,
      tools: [{ name: 'helm', path: '/t/helm' }],
      images: [{ name: 'web', reference: 'web:abc' }]
    })
    expect(report.reason).toBeUndefined()
  })

  it('a deployed release that fails to verify is unhealthy, saying which workload and why', () => {
    const verify: StepResult = { id: 'verify', title: 'Verify', status: 'failure', endedAt: 20 }
    const report = reportOf(finishedRun({ verdicts: [crashing] }), [ok('deploy'), verify], 5_000)
    expect(report.status).toBe('unhealthy')
    expect(report.reason).toBe('Deployment web: container web exited with code 1')
    expect(report.workloads).toEqual([crashing])
  })

  it('a step failing before anything was deployed is an error', () => {
    const cluster: StepResult = {
      id: 'cluster',
      title: 'Start minikube',
      status: 'failure',
      reason: 'no docker'
    }
    const report = reportOf(finishedRun(), [cluster], 5_000)
    expect(report.status).toBe('error')
    expect(report.reason).toBe('Start minikube failed: no docker')
  })

  it('is a projection: the run is left as it was, and a second call gives the same report', () => {
    const run = finishedRun({ verdicts: [crashing] })
    const results = [ok('deploy')]
    const first = reportOf(run, results, 5_000)
    first.workloads.push(crashing)
    first.steps.push(ok('later'))
    expect(run.verdicts).toHaveLength(1)
    expect(results).toHaveLength(1)
    expect(reportOf(run, results, 5_000).workloads).toHaveLength(1)
  })
})
