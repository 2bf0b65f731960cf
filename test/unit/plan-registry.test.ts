// The registry rows of the plan: the login before any push, builds that push on an existing
// cluster (nothing loaded there), pushes after a healthy minikube preview, and `promote` only
// once every verification step succeeded, run through the real scheduler.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { discover } from '../../src/discover.js'
import { parseInputs } from '../../src/inputs.js'
import { buildPlan } from '../../src/plan.js'
import { runSteps, type Clock } from '../../src/schedule.js'

function workspace(): string {
  const ws = mkdtempSync(join(tmpdir(), 'mp-plan-registry-'))
  for (const d of ['docker/api', 'docker/web']) {
    mkdirSync(join(ws, d), { recursive: true })
    writeFileSync(join(ws, d, 'Dockerfile'), 'FROM scratch\n')
  }
  mkdirSync(join(ws, 'charts', 'app'), { recursive: true })
  writeFileSync(
    join(ws, 'charts', 'app', 'Chart.yaml'),
    'apiVersion: v2\nname: app\nversion: 0.1.0\n'
  )
  return ws
}

const IMAGES =
  '- name: api\n  context: docker/api\n  values: api.image\n- name: web\n  context: docker/web\n  values: web.image'
const SHA = '89abcdef0123456789abcdef0123456789abcdef'
const REGISTRY = {
  registry: 'registry.example.test:5000/acme',
  'registry-username': 'ci',
  'registry-password': 'pw'
}

function plan(given: Record<string, string>) {
  const ws = workspace()
  const inputs = parseInputs((n) => given[n] ?? '', ws)
  const steps = buildPlan(inputs, discover(inputs, ws, SHA))
  return { steps, needs: Object.fromEntries(steps.map((s) => [s.id, s.needs])) }
}

const clock: Clock = { now: () => 0 }

/** The plan run by the scheduler, each step succeeding but those in `failing`. */
async function outcome(steps: ReturnType<typeof plan>['steps'], failing: string[]) {
  const results = await runSteps(
    steps.map((s) => ({
      ...s,
      run: () =>
        failing.includes(s.id) ? Promise.reject(new Error(`${s.id} failed`)) : Promise.resolve()
    })),
    clock
  )
  return Object.fromEntries(results.map((r) => [r.id, r.status]))
}

describe('plan with a registry', () => {
  it('has no registry rows without registry', () => {
    const { steps } = plan({ images: IMAGES, 'stable-for': '5s' })
    const ids = steps.map((s) => s.id)
    expect(ids.filter((id) => /registry|push|promote/.test(id))).toEqual([])
  })

  it('cluster: existing: logs in, builds that push, no load, deploy after the builds, promote after verification', () => {
    const { needs } = plan({
      ...REGISTRY,
      cluster: 'existing',
      images: IMAGES,
      'stable-for': '5s',
      'health-checks': '- service: api\n  port: 80',
      'push-tags': 'v1'
    })
    expect(needs['registry-login']).toEqual([])
    expect(needs['build-api']).toEqual(['registry-login'])
    expect(needs['build-web']).toEqual(['registry-login'])
    expect(
      Object.keys(needs).filter((id) => id.startsWith('load-') || id.startsWith('push-'))
    ).toEqual([])
    expect(needs['deploy']).toEqual(expect.arrayContaining(['build-api', 'build-web']))
    expect(needs['promote']).toEqual(
      expect.arrayContaining([
        'verify',
        'stable',
        'health-checks',
        'helm-test',
        'build-api',
        'build-web'
      ])
    )
  })

  it('cluster: minikube: loads as before, pushes each image only after the preview is verified', () => {
    const { steps, needs } = plan({ ...REGISTRY, images: IMAGES, 'stable-for': '5s' })
    expect(needs['load-api']).toEqual(['build-api', 'cluster'])
    expect(needs['push-api']).toEqual([
      'verify',
      'stable',
      'helm-test',
      'load-api',
      'registry-login'
    ])
    expect(steps.find((s) => s.id === 'push-web')?.title).toBe('Push web')
    expect(needs['promote']).toBeUndefined()
  })

  for (const failing of ['verify', 'stable', 'health-checks', 'helm-test']) {
    it(`a failed ${failing} skips every push and the promote`, async () => {
      const { steps } = plan({
        ...REGISTRY,
        images: IMAGES,
        'stable-for': '5s',
        'health-checks': '- service: api\n  port: 80',
        'push-tags': 'v1\nlatest'
      })
      const status = await outcome(steps, [failing])
      expect(status[failing]).toBe('failure')
      expect(status['push-api']).toBe('skipped')
      expect(status['push-web']).toBe('skipped')
      expect(status['promote']).toBe('skipped')
    })
  }

  it('a healthy run pushes and promotes; a failed push skips the promote', async () => {
    const { steps } = plan({ ...REGISTRY, images: IMAGES, 'push-tags': 'v1' })
    expect(await outcome(steps, [])).toMatchObject({
      'push-api': 'success',
      'push-web': 'success',
      promote: 'success'
    })
    expect(await outcome(steps, ['push-web'])).toMatchObject({
      'push-api': 'success',
      promote: 'skipped'
    })
  })
})
