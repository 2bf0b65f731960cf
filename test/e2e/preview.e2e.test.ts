// The bundled action against a real Kubernetes control plane (pods simulated by kwok), with the
// real helm and kubectl, downloaded by the action from a local server as it would on a runner.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, makeRunner, runStep, type StepRun } from '../support/action.js'
import {
  clusterUp,
  criLogFile,
  routePods,
  startBackend,
  type Cluster,
  KUBECTL,
  HELM3,
  serveTools,
  type ClusterTools
} from './cluster.js'

const CHART = join(ROOT, 'charts', 'todo-chatbot')
const PROBE = join(ROOT, 'test', 'e2e', 'charts', 'probe')
const PRESET_IMAGES = [
  'backend.image.repository=todo-chatbot-backend',
  'backend.image.tag=e2e',
  'frontend.image.repository=todo-chatbot-frontend',
  'frontend.image.tag=e2e'
]

let cluster: Cluster
let server: ClusterTools
let backend: { port: number; stop(): void }

beforeAll(async () => {
  cluster = clusterUp(`mp-e2e-${process.pid}`)
  server = await serveTools(cluster.tools)
  backend = await startBackend()
})

afterAll(async () => {
  backend?.stop()
  await server?.close()
  cluster?.down()
})

interface Report {
  status: string
  reason?: string
  workloads: {
    kind: string
    name: string
    state: string
    reason?: string
    message?: string
    ready: string
  }[]
  healthChecks: { label: string; ok: boolean; status?: number; error?: string }[]
  helmTest?: { passed: boolean; pods: { name: string; phase: string; log?: string }[] }
  diagnostics?: { sections: { title: string; body: string }[] }
  release?: { revision?: number; helmVersion?: string }
  steps: { id: string; status: string; startedAt?: number; endedAt?: number }[]
}

/** One run of the action with `cluster: existing` on the test cluster. */
async function preview(
  inputs: Record<string, string>,
  runner = makeRunner(mkdtempSync(join(tmpdir(), 'mp-e2e-')))
) {
  const started = Date.now()
  const main: StepRun = await runStep(runner, {
    inputs: {
      cluster: 'existing',
      ...server.inputs,
      'wait-timeout': '5m',
      // The window is the subject of verify.e2e.test.ts; a short one keeps the suite quick.
      'stable-for': '2s',
      comment: 'never',
      ...inputs
    },
    env: { KUBECONFIG: cluster.kubeconfig },
    timeoutMs: 420_000
  })
  const report = JSON.parse(readFileSync(main.outputs['report'] as string, 'utf8')) as Report
  return { main, report, seconds: (Date.now() - started) / 1000, runner }
}

const verdictOf = (r: Report, name: string) => r.workloads.find((w) => w.name === name)
const diagnostics = (r: Report) =>
  (r.diagnostics?.sections ?? []).map((s) => `${s.title}\n${s.body}`).join('\n')

describe('on a real control plane', () => {
  it('deploys the reference chart healthy, checks the real backend through port-forward, passes helm test, upgrades to revision 2', async () => {
    const ns = 'e2e-healthy'
    routePods(cluster, ns, { forward: { port: 8001, target: backend.port } })
    const inputs = {
      chart: CHART,
      namespace: ns,
      set: PRESET_IMAGES.join('\n'),
      'health-checks':
        '- service: todo-chatbot-backend\n  port: 8001\n  path: /health\n  expect-body: healthy'
    }
    const first = await preview(inputs)
    expect(first.main.exitCode, first.main.stdout).toBe(0)
    expect(first.report.status).toBe('healthy')
    expect(first.main.outputs['kubernetes-version']).toBe(KUBECTL)
    expect(first.report.workloads.map((w) => `${w.kind}/${w.name}`).sort()).toEqual([
      'Deployment/todo-chatbot-backend',
      'Deployment/todo-chatbot-frontend',
      'StatefulSet/todo-chatbot-postgresql'
    ])
    expect(first.report.healthChecks).toEqual([expect.objectContaining({ ok: true, status: 200 })])
    expect(first.report.helmTest?.passed).toBe(true)
    expect(first.main.outputs['revision']).toBe('1')

    const second = await preview(inputs, first.runner)
    expect(second.main.exitCode, second.main.stdout).toBe(0)
    expect(second.main.outputs['revision']).toBe('2')
  })

  it('works the same with Helm 3', async () => {
    const { main, report } = await preview({
      chart: PROBE,
      namespace: 'e2e-helm3',
      'helm-version': HELM3
    })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(report.release?.helmVersion).toBe(HELM3)
    expect(report.helmTest?.passed).toBe(true)
  })

  it.each([
    [
      'crash-loop',
      { 'backend.podLabels.minikube-preview\\.test/state': 'crash-loop' },
      'todo-chatbot-backend',
      'CrashLoopBackOff'
    ],
    [
      'image-pull',
      { 'frontend.podLabels.minikube-preview\\.test/state': 'image-pull-backoff' },
      'todo-chatbot-frontend',
      /ImagePullBackOff|ErrImagePull/
    ],
    [
      'config-error',
      { 'backend.podLabels.minikube-preview\\.test/state': 'create-container-config-error' },
      'todo-chatbot-backend',
      'CreateContainerConfigError'
    ],
    [
      'unschedulable',
      { 'backend.resources.requests.cpu': '3', 'backend.resources.limits.cpu': '3' },
      'todo-chatbot-backend',
      'Unschedulable'
    ]
  ])(
    '%s: unhealthy in seconds, the failing workload named, the others healthy, diagnostics kept',
    async (name, values, failing, reason) => {
      const ns = `e2e-${name}`
      routePods(cluster, ns, {
        logs: criLogFile([
          'Uvicorn running on http://0.0.0.0:8001',
          'FATAL: could not connect to database'
        ])
      })
      const set = [...PRESET_IMAGES, ...Object.entries(values).map(([k, v]) => `${k}=${v}`)]
      const { main, report, seconds } = await preview({
        chart: CHART,
        namespace: ns,
        set: set.join('\n'),
        'helm-test': 'false'
      })
      expect(main.exitCode).toBe(1)
      expect(report.status).toBe('unhealthy')
      const bad = verdictOf(report, failing)
      expect(bad?.state).toBe('failed')
      expect(bad?.reason).toMatch(reason)
      for (const w of report.workloads.filter((w) => w.name !== failing))
        expect(w.state, w.name).toBe('healthy')
      expect(main.errors.join('\n')).toContain(failing)
      const diag = diagnostics(report)
      expect(diag).toContain(`Events in ${ns}`)
      if (reason === 'CrashLoopBackOff')
        expect(diag).toContain('FATAL: could not connect to database')
      // wait-timeout is five minutes; a state that will not heal is told at once.
      expect(seconds).toBeLessThan(90)
    }
  )

  it('a failed Job: unhealthy with BackoffLimitExceeded', async () => {
    const { main, report, seconds } = await preview({
      chart: PROBE,
      namespace: 'e2e-job',
      set: 'job.enabled=true\njob.state=fail',
      'helm-test': 'false'
    })
    expect(main.exitCode).toBe(1)
    expect(verdictOf(report, 'probe-migrate')).toMatchObject({
      kind: 'Job',
      state: 'failed',
      reason: 'BackoffLimitExceeded'
    })
    expect(verdictOf(report, 'probe-web')?.state).toBe('healthy')
    expect(seconds).toBeLessThan(90)
  })

  it('a failing helm test: unhealthy, with the test pod named', async () => {
    const { main, report } = await preview({
      chart: PROBE,
      namespace: 'e2e-helmtest',
      set: 'test.state=fail'
    })
    expect(main.exitCode).toBe(1)
    expect(report.status).toBe('unhealthy')
    expect(report.helmTest?.passed).toBe(false)
    expect(report.helmTest?.pods.map((p) => [p.name, p.phase])).toEqual([['probe-test', 'Failed']])
    expect(report.workloads.every((w) => w.state === 'healthy')).toBe(true)
  })
})
