// Verdicts on the real control plane (kwok-simulated pods) through the bundled action, for the
// ways charts in the wild fail after `helm --wait` would have called them done.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, makeRunner, runStep, type StepRun } from '../support/action.js'
import { clusterUp, type Cluster, serveTools, type ClusterTools } from './cluster.js'

const CHART = join(ROOT, 'test', 'e2e', 'charts', 'verdicts')
const POLL_MS = 2_000

let cluster: Cluster
let server: ClusterTools

beforeAll(async () => {
  cluster = clusterUp(`mp-verify-${process.pid}`)
  server = await serveTools(cluster.tools)
})

afterAll(async () => {
  await server?.close()
  cluster?.down()
})

interface Report {
  status: string
  reason?: string
  verify?: { stableForMs: number; healthyForMs?: number; timedOutAfterMs?: number }
  workloads: {
    kind: string
    name: string
    state: string
    reason?: string
    message?: string
    hook?: string
  }[]
  diagnostics?: { sections: { title: string; body: string }[] }
  steps: { id: string; status: string; startedAt?: number; endedAt?: number }[]
}

async function preview(inputs: Record<string, string>) {
  const runner = makeRunner(mkdtempSync(join(tmpdir(), 'mp-verify-e2e-')))
  const started = Date.now()
  const main: StepRun = await runStep(runner, {
    inputs: {
      cluster: 'existing',
      chart: CHART,
      ...server.inputs,
      'wait-timeout': '4m',
      comment: 'never',
      ...inputs
    },
    env: { KUBECONFIG: cluster.kubeconfig },
    timeoutMs: 420_000
  })
  const report = JSON.parse(readFileSync(main.outputs['report'] as string, 'utf8')) as Report
  return { main, report, seconds: (Date.now() - started) / 1000 }
}

const step = (r: Report, id: string) => r.steps.find((s) => s.id === id)
const verdict = (r: Report, name: string) => r.workloads.find((w) => w.name === name)

describe('verdicts on a real control plane', () => {
  it('a healthy chart ends healthy within stable-for plus one poll', async () => {
    const { main, report } = await preview({ namespace: 'v-healthy', release: 'calm' })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(report.status).toBe('healthy')
    expect(report.verify?.stableForMs).toBe(10_000)
    const window = step(report, 'stable')
    const took = (window?.endedAt ?? 0) - (window?.startedAt ?? 0)
    expect(took).toBeGreaterThanOrEqual(10_000)
    expect(took).toBeLessThan(10_000 + POLL_MS)
  })

  it.each(['1s', '3s', '5s'])(
    'a pod that fails %s after Ready (kwok chaos): unhealthy, the failing workload named, the healthy one beside it healthy',
    async (failAfter) => {
      const ns = `v-chaos-${failAfter.replace(/\D/g, '')}`
      const { main, report, seconds } = await preview({
        namespace: ns,
        release: 'shaky',
        set: `flaky.failAfter=${failAfter}`,
        'stable-for': '10s'
      })
      expect(main.exitCode).toBe(1)
      expect(report.status).toBe('unhealthy')
      expect(verdict(report, 'shaky-flaky')).toMatchObject({ kind: 'Deployment', state: 'failed' })
      expect(verdict(report, 'shaky-steady')?.state).toBe('healthy')
      expect(report.reason).toMatch(/^Deployment shaky-flaky: /)
      expect(main.errors.join('\n')).toContain('shaky-flaky')
      expect(seconds).toBeLessThan(90)
    }
  )

  it('a DaemonSet whose pods keep failing is caught well before the timeout, with the exit code', async () => {
    const { main, report, seconds } = await preview({
      namespace: 'v-daemonset',
      release: 'agents',
      set: 'agent.enabled=true',
      'wait-timeout': '4m'
    })
    expect(main.exitCode).toBe(1)
    expect(report.status).toBe('unhealthy')
    const agent = verdict(report, 'agents-agent')
    expect(agent).toMatchObject({ kind: 'DaemonSet', state: 'failed' })
    expect(agent?.message).toContain('exit code 3')
    expect(report.reason).toMatch(/^DaemonSet agents-agent: .*code 3/)
    expect(verdict(report, 'agents-steady')?.state).toBe('healthy')
    expect(seconds).toBeLessThan(60)
  })

  it('a pre-install hook Job in ImagePullBackOff stops helm early, naming the hook', async () => {
    const { main, report, seconds } = await preview({
      namespace: 'v-hook',
      release: 'hooked',
      set: 'hook.enabled=true',
      'wait-timeout': '5m'
    })
    expect(main.exitCode).toBe(1)
    expect(seconds).toBeLessThan(90)
    expect(report.reason).toMatch(
      /^Deploy with helm failed: the pre-install,pre-upgrade hook Job hooked-admission-create failed: (ImagePullBackOff|ErrImagePull) in container create of pod hooked-admission-create-\w+; helm upgrade was stopped$/
    )
    expect(verdict(report, 'hooked-admission-create')).toMatchObject({
      kind: 'Job',
      state: 'failed',
      hook: 'pre-install,pre-upgrade'
    })
    const sections = report.diagnostics?.sections ?? []
    const titles = sections.map((s) => s.title)
    expect(titles.some((t) => /^Pod hooked-admission-create-\w+: describe$/.test(t))).toBe(true)
    expect(titles).toEqual(expect.arrayContaining(['helm status hooked', 'helm history hooked']))
    // helm was stopped with SIGTERM, so it recorded the release as failed rather than leaving it pending.
    const history = sections.find((s) => s.title === 'helm history hooked')?.body ?? ''
    expect(history).toMatch(/failed/)
    expect(history).not.toMatch(/pending-install/)
  })

  it('an APIService that never becomes Available is unhealthy, named, when the wait runs out', async () => {
    try {
      const { main, report } = await preview({
        namespace: 'v-apiservice',
        release: 'aggr',
        set: 'apiService.enabled=true',
        'wait-timeout': '20s'
      })
      expect(main.exitCode).toBe(1)
      expect(report.status).toBe('unhealthy')
      expect(verdict(report, 'v1beta1.aggr.verdicts.test')).toMatchObject({
        kind: 'APIService',
        state: 'progressing'
      })
      expect(verdict(report, 'aggr-steady')?.state).toBe('healthy')
      expect(report.reason).toMatch(
        /^not healthy after 20s: APIService v1beta1\.aggr\.verdicts\.test: not Available: \w+/
      )
      expect(main.summary).toContain('**Why:** not healthy after 20s: APIService')
    } finally {
      // An unavailable aggregated API troubles discovery for everyone after it.
      cluster.kubectl(['delete', 'apiservice', 'v1beta1.aggr.verdicts.test', '--ignore-not-found'])
    }
  })
})
