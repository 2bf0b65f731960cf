import { describe, expect, it } from 'vitest'
import { checkGraph, NOT_NEEDED, runSteps, type Clock, type Step } from '../../src/schedule.js'

/** A clock that moves only when a step says it took time: scheduling without real waiting. */
class FakeClock implements Clock {
  t = 0
  now(): number {
    return this.t
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void
  let reject!: (e: Error) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Steps that take `ms` on the fake clock, finishing in time order; records when each started. */
function timedSteps(
  specs: { id: string; needs?: string[]; ms: number; fail?: boolean; always?: boolean }[]
) {
  const clock = new FakeClock()
  const startedAt: Record<string, number> = {}
  const pending: { end: number; id: string; d: ReturnType<typeof deferred>; fail?: boolean }[] = []
  let tick: Promise<void> | undefined
  const advance = (): void => {
    // Let every step that can start do so, then finish the earliest one.
    tick ??= Promise.resolve().then(async () => {
      for (let i = 0; i < 5; i++) await Promise.resolve()
      tick = undefined
      pending.sort((a, b) => a.end - b.end)
      const next = pending.shift()
      if (!next) return
      clock.t = next.end
      if (next.fail) next.d.reject(new Error(`${next.id} broke`))
      else next.d.resolve()
      advance()
    })
  }
  const steps: Step[] = specs.map((s) => ({
    id: s.id,
    title: s.id,
    needs: s.needs ?? [],
    always: s.always,
    run: () => {
      startedAt[s.id] = clock.now()
      const d = deferred()
      pending.push({ end: clock.now() + s.ms, id: s.id, d, fail: s.fail })
      advance()
      return d.promise
    }
  }))
  return { clock, steps, startedAt }
}

describe('the scheduler', () => {
  it('starts every step whose needs are done, so independent work overlaps', async () => {
    const { clock, steps, startedAt } = timedSteps([
      { id: 'install-minikube', ms: 5 },
      { id: 'install-helm', ms: 3 },
      { id: 'install-kubectl', ms: 2 },
      { id: 'cluster', needs: ['install-minikube'], ms: 60 },
      { id: 'build-a', ms: 240 },
      { id: 'build-b', ms: 95 },
      { id: 'load-a', needs: ['build-a', 'cluster'], ms: 10 },
      { id: 'load-b', needs: ['build-b', 'cluster'], ms: 10 },
      { id: 'deploy', needs: ['load-a', 'load-b', 'install-helm', 'install-kubectl'], ms: 5 }
    ])
    const results = await runSteps(steps, clock)
    expect(results.every((r) => r.status === 'success')).toBe(true)
    expect(startedAt).toMatchObject({
      'install-minikube': 0,
      'install-helm': 0,
      'build-a': 0,
      'build-b': 0,
      cluster: 5
    })
    expect(startedAt['load-b']).toBe(95)
    expect(startedAt['load-a']).toBe(240)
    // The critical path (build-a → load-a → deploy), not the sum of all steps.
    expect(clock.now()).toBe(255)
    const deploy = results.find((r) => r.id === 'deploy')
    expect(deploy).toMatchObject({ startedAt: 250, endedAt: 255, durationMs: 5 })
  })

  it('skips what depends on a failure, naming the failed step, and still runs always-steps', async () => {
    const { clock, steps } = timedSteps([
      { id: 'cluster', ms: 10, fail: true },
      { id: 'build', ms: 5 },
      { id: 'load', needs: ['build', 'cluster'], ms: 1 },
      { id: 'deploy', needs: ['load'], ms: 1 },
      { id: 'diagnostics', needs: ['deploy'], ms: 1, always: true }
    ])
    const results = Object.fromEntries((await runSteps(steps, clock)).map((r) => [r.id, r]))
    expect(results['cluster']).toMatchObject({ status: 'failure', reason: 'cluster broke' })
    expect(results['build']?.status).toBe('success')
    expect(results['load']).toMatchObject({ status: 'skipped', skippedBecause: 'cluster' })
    expect(results['deploy']).toMatchObject({ status: 'skipped', skippedBecause: 'cluster' })
    expect(results['deploy']?.reason).toContain("'cluster' failed")
    expect(results['diagnostics']?.status).toBe('success')
  })

  it('hands the steps that always run the results so far: what failed, what was skipped', async () => {
    const seen: string[] = []
    const results = await runSteps([
      { id: 'cluster', title: 'Cluster', needs: [], run: () => Promise.reject(new Error('no')) },
      { id: 'deploy', title: 'Deploy', needs: ['cluster'], run: async () => undefined },
      {
        id: 'diagnostics',
        title: 'Diagnostics',
        needs: ['deploy'],
        always: true,
        run: async (_log, sofar) => {
          for (const r of sofar) seen.push(`${r.id}:${r.status}`)
        }
      }
    ])
    expect(seen).toEqual(['cluster:failure', 'deploy:skipped', 'diagnostics:running'])
    expect(results.map((r) => r.status)).toEqual(['failure', 'skipped', 'success'])
  })

  it('records a thrown non-Error as the reason', async () => {
    const results = await runSteps([
      { id: 'a', title: 'A', needs: [], run: () => Promise.reject('plain text') }
    ])
    expect(results[0]).toMatchObject({ status: 'failure', reason: 'plain text' })
  })

  it.each([
    [[{ id: 'a', needs: ['b'] }], "step 'a' needs unknown step 'b'"],
    [
      [
        { id: 'a', needs: ['b'] },
        { id: 'b', needs: ['a'] }
      ],
      'steps form a cycle: a → b → a'
    ],
    [
      [
        { id: 'a', needs: [] },
        { id: 'a', needs: [] }
      ],
      "step 'a' is defined twice"
    ]
  ])('refuses a broken graph %#', (specs, message) => {
    const steps = specs.map((s) => ({ ...s, title: s.id, run: async () => undefined }))
    expect(() => checkGraph(steps)).toThrow(message)
  })
})

describe('a step with nothing to do', () => {
  it('is left out of the results, and what needs it runs', async () => {
    const ran: string[] = []
    const results = await runSteps([
      { id: 'verify', title: 'Verify', needs: [], run: async () => void ran.push('verify') },
      {
        id: 'helm-test',
        title: 'Helm test',
        needs: ['verify'],
        run: async () => NOT_NEEDED
      },
      {
        id: 'diagnostics',
        title: 'Diagnostics',
        needs: ['helm-test'],
        run: async () => void ran.push('diagnostics')
      }
    ])
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['verify', 'success'],
      ['diagnostics', 'success']
    ])
    expect(ran).toEqual(['verify', 'diagnostics'])
  })
})
