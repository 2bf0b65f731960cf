// Verification through the bundled action with stand-in tools: the stable-for window, a wait that
// runs out, a chart without tests, and a hook that will not succeed while helm runs.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { makeRunner, runStep, type Runner } from '../support/action.js'
import { fakeTools, type FakeToolRules, type FakeTools } from '../support/fake-tools.js'
import {
  healthyList,
  manifest,
  restartedList,
  startingList,
  stuckHookList
} from '../support/kube-objects.js'
import type { Rule } from '../support/stand-in.js'

const NS = 'preview'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

function helmRules(names: string[], upgrade?: Rule): Rule[] {
  return [
    { match: ['template'], stdout: manifest(names, false) },
    upgrade ?? { match: ['upgrade'], stdout: 'Release "app" has been upgraded. Happy Helming!\n' },
    {
      match: ['status', '--output'],
      stdout: JSON.stringify({ name: 'app', version: 1, info: { status: 'deployed' } })
    },
    { match: ['status'], stdout: 'NAME: app\nSTATUS: pending-install\nREVISION: 1\n' },
    {
      match: ['history'],
      stdout: 'REVISION\tSTATUS\tDESCRIPTION\n1\tpending-install\tInitial install underway\n'
    },
    { match: ['get', 'manifest'], stdout: manifest(names, false) },
    { match: ['get', 'hooks'], stdout: '' }
  ]
}

async function setup(rules: FakeToolRules): Promise<{ runner: Runner; tools: FakeTools }> {
  const dir = mkdtempSync(join(tmpdir(), 'mp-verify-'))
  const tools = await fakeTools(join(dir, 'tools'), rules)
  cleanups.push(() => tools.close())
  const runner = makeRunner(join(dir, 'runner'))
  mkdirSync(join(runner.workspace, 'charts', 'app'), { recursive: true })
  writeFileSync(
    join(runner.workspace, 'charts', 'app', 'Chart.yaml'),
    'apiVersion: v2\nname: app\nversion: 0.1.0\n'
  )
  return { runner, tools }
}

interface Report {
  status: string
  reason?: string
  verify?: { stableForMs: number; healthyForMs?: number; timedOutAfterMs?: number }
  workloads: { kind: string; name: string; state: string; reason?: string; hook?: string }[]
  healthChecks: { ok: boolean; status?: number }[]
  steps: { id: string; title: string; status: string; startedAt?: number; endedAt?: number }[]
  diagnostics?: { sections: { title: string; body: string }[] }
}

async function preview(tools: FakeTools, runner: Runner, inputs: Record<string, string>) {
  const started = Date.now()
  const main = await runStep(runner, {
    inputs: { ...tools.inputs, cluster: 'existing', comment: 'never', ...inputs },
    path: tools.path,
    env: { KUBECONFIG: join(runner.home, 'kubeconfig') }
  })
  const report = JSON.parse(readFileSync(main.outputs['report'] as string, 'utf8')) as Report
  return { main, report, seconds: (Date.now() - started) / 1000 }
}

describe('verification through the bundled action', () => {
  it('a healthy release stays healthy for stable-for; the window is shown; no Helm test step without tests', async () => {
    const { runner, tools } = await setup({
      helm: helmRules(['api', 'web']),
      kubectl: [{ match: ['get', /^deployments,/], stdout: healthyList(NS, ['api', 'web']) }]
    })
    const { main, report } = await preview(tools, runner, { 'stable-for': '4s' })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(report.status).toBe('healthy')
    // Healthy the whole window: it ends with the first poll at or after 4 s.
    expect(report.verify?.stableForMs).toBe(4000)
    expect(report.verify?.healthyForMs).toBeGreaterThanOrEqual(4000)
    expect(report.verify?.healthyForMs).toBeLessThan(6000)
    const stable = report.steps.find((s) => s.id === 'stable')
    expect(stable).toMatchObject({ title: 'Stay healthy for 4s', status: 'success' })
    expect(main.summary.split('\n')[0]).toMatch(/ · stable 4\.\d s · /)
    // The chart has no test hooks: no "Helm test" step that did nothing.
    expect(report.steps.map((s) => s.id)).not.toContain('helm-test')
    expect(main.summary).not.toContain('Helm test')
  })

  it('a container that restarts after the rollout completed: unhealthy, named, its neighbour healthy', async () => {
    const { runner, tools } = await setup({
      helm: helmRules(['api', 'web']),
      kubectl: [
        {
          match: ['get', /^deployments,/],
          sequence: [
            { stdout: healthyList(NS, ['api', 'web']) },
            { stdout: healthyList(NS, ['api', 'web']) },
            { stdout: restartedList(NS, ['web'], 'api') }
          ]
        }
      ]
    })
    const { main, report } = await preview(tools, runner, { 'stable-for': '30s' })
    expect(main.exitCode).toBe(1)
    expect(report.status).toBe('unhealthy')
    expect(report.workloads.map((w) => [w.name, w.state, w.reason ?? ''])).toEqual([
      ['api', 'failed', 'Restarted'],
      ['web', 'healthy', '']
    ])
    expect(report.steps.find((s) => s.id === 'verify')?.status).toBe('success')
    expect(report.steps.find((s) => s.id === 'stable')?.status).toBe('failure')
    expect(report.verify?.healthyForMs).toBeGreaterThanOrEqual(2000)
    expect(report.verify?.healthyForMs).toBeLessThan(30_000)
    expect(report.reason).toMatch(
      /^Deployment api: container api of pod api-7d9f8c6b5d-x2k4p restarted \(exited with code 1\), \d+\.\d s after the rollout completed$/
    )
    expect(main.summary).toContain('**Why:** Deployment api: container api of pod')
    // The restarted pod is described in the diagnostics.
    expect(report.diagnostics?.sections.map((s) => s.title)).toContain(
      'Pod api-7d9f8c6b5d-x2k4p: describe'
    )
  })

  it('when the release does not stay healthy, a health check still retrying stops with it', async () => {
    const server = createServer((_, res) => res.writeHead(503).end('starting'))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())))
    const port = (server.address() as AddressInfo).port
    const { runner, tools } = await setup({
      helm: helmRules(['api', 'web']),
      kubectl: [
        {
          match: ['get', /^deployments,/],
          sequence: [
            { stdout: healthyList(NS, ['api', 'web']) },
            { stdout: healthyList(NS, ['api', 'web']) },
            { stdout: restartedList(NS, ['web'], 'api') }
          ]
        },
        {
          match: ['get', 'services'],
          stdout: JSON.stringify({
            items: [{ metadata: { name: 'api', namespace: NS }, spec: { ports: [{ port: 80 }] } }]
          })
        },
        { match: ['port-forward'], forward: { port } }
      ]
    })
    const { main, report, seconds } = await preview(tools, runner, {
      'wait-timeout': '5m',
      'stable-for': '1m',
      'health-checks': '- service: api\n  port: 80\n  path: /health'
    })
    expect(main.exitCode).toBe(1)
    expect(report.status).toBe('unhealthy')
    expect(report.reason).toMatch(/^Deployment api: container api of pod .* restarted/)
    // Neither the window (1m) nor the health check's deadline (5m) was waited out.
    expect(seconds).toBeLessThan(45)
    expect(report.healthChecks).toEqual([expect.objectContaining({ ok: false, status: 503 })])
  })

  it('a wait that runs out says so: not healthy after the wait-timeout', async () => {
    const { runner, tools } = await setup({
      helm: helmRules(['api']),
      kubectl: [
        {
          match: ['get', /^deployments,/],
          stdout: startingList(NS, 'api')
        }
      ]
    })
    const { main, report } = await preview(tools, runner, { 'wait-timeout': '3s' })
    expect(main.exitCode).toBe(1)
    expect(report.verify?.timedOutAfterMs).toBe(3000)
    expect(report.reason).toBe(
      'not healthy after 3s: Deployment api: container api of pod api-7d9f8c6b5d-x2k4p is in ContainerCreating'
    )
    expect(main.summary).toContain('**Why:** not healthy after 3s: Deployment api')
    // Never healthy: no window was watched.
    expect(report.steps.find((s) => s.id === 'stable')?.status).toBe('skipped')
  })

  it('a pre-install hook Job in ImagePullBackOff stops helm early, naming the hook; diagnostics hold it', async () => {
    const { runner, tools } = await setup({
      helm: helmRules(['api'], {
        match: ['upgrade'],
        stdout: 'Release "app" does not exist. Installing it now.\n',
        stay: 'forever'
      }),
      kubectl: [
        {
          match: ['get', 'jobs,pods'],
          stdout: stuckHookList(NS, 'app-admission-create', 'pre-install')
        },
        { match: ['get', 'events'], stdout: JSON.stringify({ items: [] }) },
        {
          match: ['describe', 'pod', 'app-admission-create-q8w2r'],
          stdout: 'Name: app-admission-create-q8w2r\nReason: ImagePullBackOff\n'
        },
        { match: ['get', 'pod'], stdout: '{}' },
        { match: ['logs'], stdout: '' }
      ]
    })
    const { main, report, seconds } = await preview(tools, runner, { 'wait-timeout': '5m' })
    expect(main.exitCode).toBe(1)
    expect(seconds).toBeLessThan(60)
    expect(report.status).toBe('error')
    expect(report.reason).toBe(
      'Deploy with helm failed: the pre-install hook Job app-admission-create failed: ImagePullBackOff in container create of pod app-admission-create-q8w2r; helm upgrade was stopped'
    )
    expect(report.workloads).toMatchObject([
      {
        kind: 'Job',
        name: 'app-admission-create',
        state: 'failed',
        reason: 'ImagePullBackOff',
        hook: 'pre-install'
      }
    ])
    const titles = report.diagnostics?.sections.map((s) => s.title) ?? []
    expect(titles).toEqual(
      expect.arrayContaining([
        'Pod app-admission-create-q8w2r: describe',
        'helm status app',
        'helm history app'
      ])
    )
    const history = report.diagnostics?.sections.find((s) => s.title === 'helm history app')
    expect(history?.body).toContain('pending-install')
  })
})
