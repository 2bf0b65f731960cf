// Which run a closed pull request, a sweep and a shared-cluster preview get, read off the plan.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { discover } from '../../src/discover.js'
import { parseInputs } from '../../src/inputs.js'
import { cleanupFor } from '../../src/main.js'
import type { Mode, RunFacts } from '../../src/model.js'
import { buildPlan, runMode } from '../../src/plan.js'
import { checkGraph } from '../../src/schedule.js'

const SHA = '89abcdef0123456789abcdef0123456789abcdef'

function workspace(): string {
  const ws = mkdtempSync(join(tmpdir(), 'mp-lifecycle-plan-'))
  mkdirSync(join(ws, 'charts', 'app'), { recursive: true })
  writeFileSync(
    join(ws, 'charts', 'app', 'Chart.yaml'),
    'apiVersion: v2\nname: app\nversion: 0.1.0\n'
  )
  mkdirSync(join(ws, 'docker', 'api'), { recursive: true })
  writeFileSync(join(ws, 'docker', 'api', 'Dockerfile'), 'FROM scratch\n')
  return ws
}

function setup(given: Record<string, string>, facts: Partial<RunFacts> = {}) {
  const ws = workspace()
  const inputs = parseInputs((n) => given[n] ?? '', ws)
  const found = discover(inputs, ws, SHA)
  const mode = runMode(inputs, facts)
  const steps = buildPlan(inputs, found, mode)
  checkGraph(steps.map((s) => ({ ...s, run: async () => undefined })))
  return {
    inputs,
    mode,
    ids: steps.map((s) => s.id),
    needs: Object.fromEntries(steps.map((s) => [s.id, s.needs]))
  }
}

const closed = { event: 'pull_request', eventAction: 'closed', pullRequest: 7 }

describe('the run a pull request event gets', () => {
  it('a closed pull request on a shared cluster: only helm, kubectl, the connection and the teardown', () => {
    const { mode, ids, needs } = setup({ cluster: 'existing', environment: 'preview' }, closed)
    expect(mode).toBe('teardown')
    expect(ids).toEqual(['install-helm', 'install-kubectl', 'cluster', 'teardown', 'deactivate'])
    expect(needs['teardown']).toEqual(['cluster', 'install-helm'])
  })

  it('a closed pull request with minikube: nothing is installed or started, only deployments marked', () => {
    expect(setup({ environment: 'preview' }, closed).ids).toEqual(['deactivate'])
    expect(setup({}, closed).ids).toEqual([])
  })

  it.each(['opened', 'synchronize', 'reopened'])('%s deploys a preview', (action) => {
    const { mode, ids } = setup({ cluster: 'existing' }, { ...closed, eventAction: action })
    expect(mode).toBe('preview')
    expect(ids).toContain('deploy')
  })

  it('mode: sweep connects and sweeps, whatever the event', () => {
    const { mode, ids } = setup({ cluster: 'existing', mode: 'sweep' }, { event: 'schedule' })
    expect(mode).toBe('sweep')
    expect(ids).toEqual(['install-helm', 'install-kubectl', 'cluster', 'sweep'])
  })

  it('a shared-cluster preview: the namespace before deploy, the URL checked, the deployment finished last', () => {
    const { ids, needs } = setup(
      { cluster: 'existing', environment: 'preview' },
      { event: 'pull_request', pullRequest: 7 }
    )
    expect(needs['deploy']).toContain('namespace')
    expect(needs['namespace']).toEqual(['cluster', 'install-kubectl'])
    expect(needs['url-check']).toEqual(['verify'])
    expect(needs['diagnostics']).toContain('url-check')
    expect(ids.at(-1)).toBe('deployment-finish')
    expect(needs['deployment-finish']).toEqual(
      expect.arrayContaining(['deployment-start', 'verify', 'url-check'])
    )
  })

  it('the deployment is finished only once the images are tagged: a failed promote is a failed deployment', () => {
    const { ids, needs } = setup(
      {
        cluster: 'existing',
        environment: 'preview',
        registry: '127.0.0.1:5000/shop',
        'push-tags': 'v1',
        images: '- name: api\n  context: docker/api'
      },
      { event: 'pull_request', pullRequest: 7 }
    )
    expect(ids.at(-1)).toBe('deployment-finish')
    expect(ids).toContain('promote')
    expect(needs['deployment-finish']).toContain('promote')
  })

  it('health checks replace the URL check; minikube without a url template has none', () => {
    const checks = '- service: web\n  port: 80\n  path: /'
    expect(setup({ cluster: 'existing', 'health-checks': checks }).ids).not.toContain('url-check')
    expect(setup({}).ids).not.toContain('url-check')
    expect(setup({ url: 'http://127.0.0.1:8080/' }).ids).toContain('url-check')
    expect(setup({}).ids).not.toContain('namespace')
  })
})

describe('cleanup: auto', () => {
  const run = (given: Record<string, string>, facts: Partial<RunFacts>, mode: Mode = 'preview') =>
    cleanupFor(
      parseInputs((n) => given[n] ?? '', workspace()),
      facts,
      mode
    )

  it('keeps a pull request preview on a shared cluster; cleans up everything else', () => {
    expect(run({ cluster: 'existing' }, { event: 'pull_request' })).toBe('never')
    expect(run({ cluster: 'existing' }, { event: 'push' })).toBe('always')
    expect(run({}, { event: 'pull_request' })).toBe('always')
  })

  it('an explicit cleanup wins; teardown and sweep leave post nothing to do', () => {
    expect(run({ cluster: 'existing', cleanup: 'always' }, { event: 'pull_request' })).toBe(
      'always'
    )
    expect(run({ cluster: 'existing' }, { event: 'pull_request' }, 'teardown')).toBe('never')
  })
})
