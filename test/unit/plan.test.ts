import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { discover } from '../../src/discover.js'
import { InputErrors, parseInputs } from '../../src/inputs.js'
import { buildPlan, kubectlVersionFor } from '../../src/plan.js'
import { checkGraph } from '../../src/schedule.js'

function workspace(
  charts: Record<string, string> = { app: 'apiVersion: v2\nname: app\nversion: 0.1.0\n' }
): string {
  const ws = mkdtempSync(join(tmpdir(), 'mp-plan-'))
  for (const d of ['docker/api', 'docker/web']) {
    mkdirSync(join(ws, d), { recursive: true })
    writeFileSync(join(ws, d, 'Dockerfile'), 'FROM scratch\n')
  }
  for (const [name, yaml] of Object.entries(charts)) {
    mkdirSync(join(ws, 'charts', name), { recursive: true })
    writeFileSync(join(ws, 'charts', name, 'Chart.yaml'), yaml)
  }
  return ws
}

const IMAGES =
  '- name: api\n  context: docker/api\n  values: api.image\n- name: web\n  context: docker/web\n  values: web.image'
const SHA = '89abcdef0123456789abcdef0123456789abcdef'

function plan(given: Record<string, string>, ws = workspace()) {
  const inputs = parseInputs((n) => given[n] ?? '', ws)
  const found = discover(inputs, ws, SHA)
  const steps = buildPlan(inputs, found)
  checkGraph(steps.map((s) => ({ ...s, run: async () => undefined })))
  return { steps, found, needs: Object.fromEntries(steps.map((s) => [s.id, s.needs])) }
}

describe('plan', () => {
  it('overlaps builds with the cluster start and loads each image as soon as it and the cluster are ready', () => {
    const { needs } = plan({ images: IMAGES })
    expect(needs).toEqual({
      'install-helm': [],
      'install-minikube': [],
      'cache-restore': [],
      'install-kubectl': [],
      cluster: ['install-minikube', 'cache-restore'],
      render: ['install-helm'],
      addons: ['cluster', 'render'],
      'build-api': [],
      'load-api': ['build-api', 'cluster'],
      'build-web': [],
      'load-web': ['build-web', 'cluster'],
      deploy: ['cluster', 'install-helm', 'install-kubectl', 'addons', 'load-api', 'load-web'],
      verify: ['deploy'],
      stable: ['verify'],
      'helm-test': ['verify'],
      diagnostics: ['verify', 'stable', 'helm-test']
    })
  })

  it('runs the stable-for window beside the health checks and helm test, once the rollout completed', () => {
    const { steps, needs } = plan({
      'health-checks': '- service: api\n  port: 80',
      'stable-for': '30s'
    })
    expect(steps.find((s) => s.id === 'stable')?.title).toBe('Stay healthy for 30s')
    // All three start when verify succeeds; the verdict waits for all of them.
    expect(needs['stable']).toEqual(['verify'])
    expect(needs['health-checks']).toEqual(['verify'])
    expect(needs['helm-test']).toEqual(['verify'])
    expect(needs['diagnostics']).toEqual(['verify', 'stable', 'health-checks', 'helm-test'])
  })

  it('has no window with stable-for: 0s', () => {
    const { needs } = plan({ 'stable-for': '0s' })
    expect(needs['stable']).toBeUndefined()
    expect(needs['diagnostics']).toEqual(['verify', 'helm-test'])
  })

  it('builds inside the cluster with docker-env: builds wait for the cluster, nothing is loaded', () => {
    const { needs } = plan({ images: IMAGES, 'image-load': 'docker-env' })
    expect(needs['build-api']).toEqual(['cluster'])
    expect(needs['load-api']).toBeUndefined()
    expect(needs['deploy']).toEqual(expect.arrayContaining(['build-api', 'build-web']))
  })

  it('sets up only, when there is no chart', () => {
    const { steps, found } = plan({}, workspace({}))
    expect(found.chart).toBeUndefined()
    expect(steps.map((s) => s.id)).toEqual([
      'install-helm',
      'install-minikube',
      'cache-restore',
      'install-kubectl',
      'cluster',
      'diagnostics'
    ])
  })

  it('waits for the cluster to learn the kubectl version when minikube’s default is unknown', () => {
    const { steps, needs } = plan({ 'minikube-version': 'latest', 'rollback-on-failure': 'true' })
    expect(needs['install-kubectl']).toEqual(['cluster'])
    // The report lists the steps in the order of the plan's table.
    const ids = steps.map((s) => s.id)
    expect(ids.slice(0, 5)).toEqual([
      'install-helm',
      'install-minikube',
      'cache-restore',
      'cluster',
      'install-kubectl'
    ])
    expect(ids.slice(-2)).toEqual(['diagnostics', 'rollback'])
    expect(steps.filter((s) => s.always).map((s) => s.id)).toEqual(['diagnostics', 'rollback'])
  })

  it('connects to an existing cluster with kubectl, without minikube, addons or cache', () => {
    const { needs } = plan({ cluster: 'existing' })
    expect(Object.keys(needs)).not.toContain('install-minikube')
    expect(Object.keys(needs)).not.toContain('addons')
    expect(needs['cluster']).toEqual(['install-kubectl'])
  })

  it('adds dependencies, health checks, rollback when asked', () => {
    const ws = workspace({
      app: 'apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: redis\n    version: 1.0.0\n    repository: file://../redis\n'
    })
    const { needs } = plan(
      {
        'health-checks': '- service: api\n  port: 80',
        'rollback-on-failure': 'true',
        'helm-test': 'false',
        addons: 'metrics-server'
      },
      ws
    )
    expect(needs['helm-deps']).toEqual(['install-helm'])
    expect(needs['deploy']).toContain('helm-deps')
    expect(needs['addons']).toEqual(['cluster'])
    expect(needs['render']).toBeUndefined()
    expect(needs['helm-test']).toBeUndefined()
    expect(needs['diagnostics']).toEqual(['verify', 'stable', 'health-checks'])
    expect(needs['rollback']).toEqual(['diagnostics'])
  })

  it('derives release, image tag and comment header', () => {
    const { found } = plan({ images: IMAGES, namespace: 'pr-7' })
    expect(found).toMatchObject({
      release: 'app',
      imageTag: 'sha-89abcde',
      commentHeader: 'app/pr-7'
    })
  })

  it.each([
    [
      { app: 'apiVersion: v2\nname: app\n', web: 'apiVersion: v2\nname: web\n' },
      {},
      "input 'chart' must be set: several charts were found (charts/app, charts/web)"
    ],
    [
      { my_app: 'apiVersion: v2\nname: my_app\n' },
      {},
      "input 'release' must be set: the chart name 'my_app' is not a valid release name"
    ],
    [{}, { images: IMAGES }, "input 'images' sets chart values, but no chart was given or found"]
  ])('asks for an input it cannot derive %#', (charts, given, message) => {
    expect(() => plan(given, workspace(charts))).toThrow(InputErrors)
    expect(() => plan(given, workspace(charts))).toThrow(message)
  })

  it.each([
    [{}, 'v1.37.0'],
    [{ 'kubernetes-version': 'v1.35.4' }, 'v1.35.4'],
    [{ 'kubectl-version': 'v1.36.0' }, 'v1.36.0'],
    [{ 'kubernetes-version': 'stable' }, undefined],
    [{ 'minikube-version': 'v1.30.0' }, undefined],
    [{ cluster: 'existing' }, 'v1.37.0']
  ])('kubectl for %j is %s', (given, version) => {
    const inputs = parseInputs((n) => (given as Record<string, string>)[n] ?? '', workspace())
    expect(kubectlVersionFor(inputs)).toBe(version)
  })
})
