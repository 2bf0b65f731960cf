import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import type { Verdict } from '../../src/report/model.js'
import { Kubectl } from '../../src/tools/kubectl.js'
import type { WorkloadRef } from '../../src/verify/health.js'
import { WatchError, watchStable, watchWorkloads } from '../../src/verify/watch.js'

// `watchWorkloads` against a stand-in kubectl that answers each call with the next recorded
// list (the last one repeats), and a clock that moves only when the watch sleeps.

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'kube')
const NS = 'preview'

/** A recorded `kubectl get … -o json` list, moved into `namespace`. */
function recorded(state: string, namespace = NS): unknown[] {
  const list = JSON.parse(readFileSync(join(FIXTURES, `${state}.json`), 'utf8')) as {
    items: { metadata: { namespace?: string } }[]
  }
  return list.items.map((o) => ({ ...o, metadata: { ...o.metadata, namespace } }))
}

type Answer = { items: unknown[] } | { error: string }

const STAND_IN = `#!/usr/bin/env node
const fs = require('fs')
const path = require('path')
const log = path.join(__dirname, 'calls.jsonl')
const n = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\\n').filter(Boolean).length : 0
const args = process.argv.slice(2)
fs.appendFileSync(log, JSON.stringify(args) + '\\n')
const answers = JSON.parse(fs.readFileSync(path.join(__dirname, 'answers.json'), 'utf8'))
const a = answers[Math.min(n, answers.length - 1)]
if (a.error) {
  process.stderr.write(a.error + '\\n')
  process.exit(1)
}
const ns = args[args.indexOf('--namespace') + 1]
const items = a.items.filter((o) => o.metadata.namespace === ns)
process.stdout.write(JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 2))
`

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function standIn(answers: Answer[]): { kubectl: Kubectl; calls: () => string[][] } {
  const dir = mkdtempSync(join(tmpdir(), 'kubectl-'))
  dirs.push(dir)
  writeFileSync(join(dir, 'answers.json'), JSON.stringify(answers))
  writeFileSync(join(dir, 'kubectl'), STAND_IN)
  chmodSync(join(dir, 'kubectl'), 0o755)
  const calls = () =>
    readFileSync(join(dir, 'calls.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as string[])
  return { kubectl: new Kubectl(join(dir, 'kubectl')), calls }
}

function fakeClock() {
  let t = 0
  const sleeps: number[] = []
  return {
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms)
      t += ms
    },
    sleeps,
    get elapsed() {
      return t
    }
  }
}

const backend: WorkloadRef = { kind: 'Deployment', name: 'backend', namespace: NS }
const list = (state: string, namespace = NS): Answer => ({ items: recorded(state, namespace) })
const refused = {
  error:
    'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?'
}
const getArgs = (namespace: string, resources = 'deployments,replicasets,pods') => [
  'get',
  resources,
  '--output',
  'json',
  '--namespace',
  namespace
]

describe('watchWorkloads', () => {
  test('returns as soon as every workload is healthy, one kubectl call per poll', async () => {
    const { kubectl, calls } = standIn([
      list('deployment-rollout-in-progress'),
      list('deployment-rollout-in-progress'),
      list('deployment-complete')
    ])
    const clock = fakeClock()
    const seen: Verdict['state'][] = []
    const result = await watchWorkloads(kubectl, NS, [backend], {
      timeoutMs: 60_000,
      failFast: true,
      ...clock,
      onPoll: (v) => seen.push(...v.map((w) => w.state))
    })
    expect(result).toMatchObject({ timedOut: false, polls: 3 })
    expect(result.verdicts).toMatchObject([
      { kind: 'Deployment', name: 'backend', state: 'healthy' }
    ])
    expect(seen).toEqual(['progressing', 'progressing', 'healthy'])
    expect(calls()).toEqual([getArgs(NS), getArgs(NS), getArgs(NS)])
    expect(clock.sleeps).toEqual([2000, 2000])
  })

  test('with fail-fast, ends at the first poll that sees a crash loop', async () => {
    const { kubectl, calls } = standIn([
      list('deployment-rollout-in-progress'),
      list('deployment-rollout-in-progress'),
      list('crash-loop')
    ])
    const clock = fakeClock()
    const result = await watchWorkloads(kubectl, NS, [backend], {
      timeoutMs: 300_000,
      failFast: true,
      pollMs: 2000,
      ...clock
    })
    // The crash loop was recorded by the third call; it was not there two seconds before.
    expect(result).toMatchObject({ timedOut: false, polls: 3 })
    expect(clock.elapsed).toBe(4000)
    expect(calls()).toHaveLength(3)
    expect(result.verdicts).toMatchObject([
      {
        state: 'failed',
        reason: 'CrashLoopBackOff',
        message: expect.stringMatching(/^container backend: back-off .*exit code 1/)
      }
    ])
  })

  test('without fail-fast, waits out the timeout and keeps the failure', async () => {
    const { kubectl } = standIn([list('crash-loop')])
    const clock = fakeClock()
    const result = await watchWorkloads(kubectl, NS, [backend], {
      timeoutMs: 10_000,
      failFast: false,
      ...clock
    })
    expect(result).toMatchObject({ timedOut: true, polls: 6 })
    expect(clock.elapsed).toBe(10_000)
    expect(result.verdicts).toMatchObject([{ state: 'failed', reason: 'CrashLoopBackOff' }])
  })

  test('at the timeout, each workload that is not healthy keeps its last reason', async () => {
    const frontend: WorkloadRef = { kind: 'Deployment', name: 'frontend', namespace: NS }
    const { kubectl } = standIn([list('deployment-rollout-in-progress')])
    const clock = fakeClock()
    const result = await watchWorkloads(kubectl, NS, [backend, frontend], {
      timeoutMs: 5_000,
      failFast: true,
      ...clock
    })
    expect(result.timedOut).toBe(true)
    // The last poll is at the deadline, not a poll interval past it.
    expect(clock.sleeps).toEqual([2000, 2000, 1000])
    expect(result.verdicts).toMatchObject([
      { name: 'backend', state: 'progressing', reason: 'ContainerCreating' },
      { name: 'frontend', state: 'progressing', reason: 'NotFound' }
    ])
  })

  test('a kubectl call that fails once is retried on the next poll', async () => {
    const { kubectl, calls } = standIn([refused, list('deployment-complete')])
    const clock = fakeClock()
    let polled = 0
    const result = await watchWorkloads(kubectl, NS, [backend], {
      timeoutMs: 60_000,
      failFast: true,
      ...clock,
      onPoll: () => polled++
    })
    expect(result).toMatchObject({ timedOut: false, polls: 2, verdicts: [{ state: 'healthy' }] })
    expect(polled).toBe(1)
    expect(calls()).toHaveLength(2)
  })

  test('a kubectl failure that lasts to the end fails the wait, with the last verdicts known', async () => {
    const { kubectl } = standIn([list('deployment-rollout-in-progress'), refused])
    const clock = fakeClock()
    const wait = watchWorkloads(kubectl, NS, [backend], {
      timeoutMs: 6_000,
      failFast: true,
      ...clock
    })
    await expect(wait).rejects.toThrow(WatchError)
    const err = (await wait.catch((e: unknown) => e)) as WatchError
    expect(err.message).toMatch(/could not read the state of the workloads: .*was refused/)
    expect(err.polls).toBe(4)
    expect(err.verdicts).toMatchObject([
      { name: 'backend', state: 'progressing', reason: 'ContainerCreating' }
    ])
  })

  test('workloads in several namespaces: one call per namespace per poll', async () => {
    const staging: WorkloadRef = { ...backend, namespace: 'staging' }
    const { kubectl, calls } = standIn([
      { items: [...recorded('deployment-complete', NS), ...recorded('crash-loop', 'staging')] }
    ])
    const result = await watchWorkloads(kubectl, NS, [backend, staging], {
      timeoutMs: 60_000,
      failFast: true,
      ...fakeClock()
    })
    expect(result.polls).toBe(1)
    expect(result.verdicts).toMatchObject([
      { state: 'healthy' },
      { state: 'failed', reason: 'CrashLoopBackOff' }
    ])
    expect(calls()).toEqual([getArgs(NS), getArgs('staging')])
  })
})

// ---- The stable-for window: recorded healthy objects, changed the way a kubelet changes them
// when a Ready pod falls over.

type Item = { kind: string; metadata: { name: string }; status: Record<string, unknown> }
const POD = 'backend-744b754b96-5qpw9'
const agent: WorkloadRef = { kind: 'DaemonSet', name: 'log-agent', namespace: NS }

/** Deployment `backend` (2 pods) and DaemonSet `log-agent`, all healthy, with `change` applied to pod POD. */
function release(change?: (pod: Item) => Item): Answer {
  const items = [...recorded('deployment-complete'), ...recorded('daemonset-ready')] as Item[]
  return {
    items: items.map((o) => (change && o.kind === 'Pod' && o.metadata.name === POD ? change(o) : o))
  }
}

const containers = (o: Item) => o.status['containerStatuses'] as Record<string, unknown>[]

/** The container restarted: restart count up, the last run ended with exit code 1. */
const restarted = (o: Item): Item => ({
  ...o,
  status: {
    ...o.status,
    containerStatuses: containers(o).map((c) => ({
      ...c,
      restartCount: 1,
      lastState: { terminated: { exitCode: 1, reason: 'Error' } }
    }))
  }
})

/** kwok's chaos stage: the Running pod fails (phase Failed, container terminated, not Ready). */
const failed = (o: Item): Item => ({
  ...o,
  status: {
    ...o.status,
    phase: 'Failed',
    conditions: [
      { type: 'Ready', status: 'False' },
      { type: 'ContainersReady', status: 'False' }
    ],
    containerStatuses: containers(o).map((c) => ({
      ...c,
      ready: false,
      started: false,
      state: { terminated: { exitCode: 1, reason: 'containerFailed', message: 'container failed' } }
    }))
  }
})

/** The ReplicaSet replaced the pod: same owner, another name, Ready. */
const replaced = (o: Item): Item => ({
  ...o,
  metadata: { ...o.metadata, name: 'backend-744b754b96-zz9qk' }
})

async function window(answers: Answer[], stableForMs = 10_000) {
  const { kubectl, calls } = standIn(answers)
  const clock = fakeClock()
  const completed = release() as { items: unknown[] }
  const workloads = [backend, agent]
  const healthy = (
    await watchWorkloads(kubectl, NS, workloads, { timeoutMs: 1000, failFast: true, ...clock })
  ).verdicts
  const before = calls().length
  const result = await watchStable(kubectl, NS, workloads, {
    stableForMs,
    completed,
    healthy,
    ...clock
  })
  return { result, clock, calls: calls().length - before }
}

describe('watchStable', () => {
  test('a release that stays healthy ends healthy at the end of the window, one poll per interval', async () => {
    const { result, clock, calls } = await window([release()])
    expect(result).toMatchObject({ held: true, healthyForMs: 10_000, polls: 5 })
    expect(result.verdicts.map((v) => v.state)).toEqual(['healthy', 'healthy'])
    expect(calls).toBe(5)
    // The first poll of watchWorkloads was healthy: no sleep there; then 5 × 2 s.
    expect(clock.elapsed).toBe(10_000)
  })

  test('the window is not cut short by a poll interval that does not divide it', async () => {
    const { result, clock } = await window([release()], 5_000)
    expect(result).toMatchObject({ held: true, healthyForMs: 5_000 })
    expect(clock.sleeps).toEqual([2000, 2000, 1000])
  })

  test.each([
    [
      'a container restarts',
      restarted,
      {
        reason: 'Restarted',
        summary: `container backend of pod ${POD} restarted (exited with code 1), 4.0 s after the rollout completed`
      }
    ],
    [
      'a Ready pod fails (kwok chaos)',
      failed,
      {
        reason: 'containerFailed',
        summary: `container backend of pod ${POD} exited with code 1, 4.0 s after the rollout completed`,
        message: `container backend of pod ${POD}: exit code 1: container failed`
      }
    ],
    [
      'the ReplicaSet replaced a pod',
      replaced,
      {
        reason: 'RolloutMoved',
        summary: `the rollout moved again: pod backend-744b754b96-zz9qk was created in place of ${POD}, 4.0 s after the rollout completed`
      }
    ]
  ])(
    '%s: ends at that poll, the workload failed, its neighbour healthy',
    async (_, change, expected) => {
      const { result, clock } = await window([release(), release(), release(change)])
      expect(result).toMatchObject({ held: false, healthyForMs: 4000, polls: 2 })
      expect(clock.elapsed).toBe(4000)
      expect(result.verdicts).toMatchObject([
        { kind: 'Deployment', name: 'backend', state: 'failed', ...expected },
        { kind: 'DaemonSet', name: 'log-agent', state: 'healthy' }
      ])
      expect(result.verdicts[0]?.unhealthyPods).toContain(POD)
    }
  )

  test('kubectl failing to the end of the window fails it, with the last verdicts known', async () => {
    const wait = window([release(), release(), refused])
    await expect(wait).rejects.toThrow(/could not read the state of the workloads: .*was refused/)
  })
})
