// Hooks watched while helm runs: a stand-in kubectl answers with the namespace's Jobs and Pods,
// and helm is stood in for by a program stopped through the same AbortSignal the deploy uses.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { run } from '../../src/exec.js'
import { Kubectl } from '../../src/tools/kubectl.js'
import { hooksOf, watchHooks } from '../../src/verify/hooks.js'
import { standIn } from '../support/stand-in.js'

const NS = 'preview'
const SINCE = Date.parse('2026-11-26T10:00:00Z')
const at = (s: number) => new Date(SINCE + s * 1000).toISOString().replace('.000', '')

function job(name: string, hook: string, created = at(1)) {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: NS,
      uid: `uid-${name}`,
      creationTimestamp: created,
      annotations: { 'helm.sh/hook': hook, 'helm.sh/hook-weight': '-5' }
    },
    spec: { completions: 1, backoffLimit: 6 },
    status: { active: 1, startTime: created }
  }
}

function jobPod(jobName: string, waiting?: { reason: string; message: string }) {
  const name = `${jobName}-x7k2p`
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: NS,
      uid: `uid-${name}`,
      creationTimestamp: at(2),
      labels: { 'batch.kubernetes.io/job-name': jobName },
      ownerReferences: [
        {
          apiVersion: 'batch/v1',
          kind: 'Job',
          name: jobName,
          uid: `uid-${jobName}`,
          controller: true
        }
      ]
    },
    spec: {
      restartPolicy: 'Never',
      containers: [{ name: 'create', image: 'registry.k8s.io/certgen:v9' }]
    },
    status: {
      phase: 'Pending',
      containerStatuses: [
        {
          name: 'create',
          ready: false,
          restartCount: 0,
          state: waiting ? { waiting } : { running: { startedAt: at(3) } }
        }
      ]
    }
  }
}

const pullBackOff = {
  reason: 'ImagePullBackOff',
  message: 'Back-off pulling image "registry.k8s.io/certgen:v9": ErrImagePull: not found'
}
const list = (...items: unknown[]) => ({ stdout: JSON.stringify({ kind: 'List', items }) })

function fakeClock() {
  let t = SINCE + 1000
  return { now: () => t, sleep: async (ms: number) => void (t += ms) }
}

describe('hooksOf', () => {
  test('takes hook Jobs and bare hook Pods created since helm started; not test hooks, not old ones', () => {
    const bareHook = {
      ...jobPod('x'),
      metadata: {
        name: 'smoke',
        annotations: { 'helm.sh/hook': 'post-install' },
        creationTimestamp: at(1)
      }
    }
    const state = {
      items: [
        job('admission-create', 'pre-install,pre-upgrade'),
        jobPod('admission-create'),
        job('old-migrate', 'pre-upgrade', at(-3600)),
        job('test-conn', 'test'),
        bareHook,
        { kind: 'Job', metadata: { name: 'not-a-hook', creationTimestamp: at(1) } }
      ]
    }
    expect(hooksOf(state, NS, SINCE)).toEqual([
      { kind: 'Job', name: 'admission-create', namespace: NS, hook: 'pre-install,pre-upgrade' },
      { kind: 'Pod', name: 'smoke', namespace: NS, hook: 'post-install' }
    ])
  })
})

describe('watchHooks', () => {
  test('ends at the first poll that sees a hook pod in ImagePullBackOff, naming the hook', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-hooks-'))
    const kubectl = standIn(dir, 'kubectl', [
      {
        match: ['get', 'jobs,pods'],
        sequence: [
          list(),
          list(job('app-admission-create', 'pre-install')),
          list(
            job('app-admission-create', 'pre-install'),
            jobPod('app-admission-create', pullBackOff)
          )
        ]
      }
    ])
    const watch = await watchHooks(new Kubectl(kubectl.path), NS, {
      since: SINCE,
      signal: new AbortController().signal,
      ...fakeClock()
    })
    expect(kubectl.argvs()).toHaveLength(3)
    expect(watch.failed).toMatchObject({
      kind: 'Job',
      name: 'app-admission-create',
      hook: 'pre-install',
      state: 'failed',
      reason: 'ImagePullBackOff',
      summary: 'ImagePullBackOff in container create of pod app-admission-create-x7k2p',
      unhealthyPods: ['app-admission-create-x7k2p']
    })
  })

  test('a hook still running is no failure: the watch goes on until helm is done', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-hooks-'))
    const kubectl = standIn(dir, 'kubectl', [
      {
        match: ['get', 'jobs,pods'],
        stdout: list(job('migrate', 'pre-upgrade'), jobPod('migrate')).stdout
      }
    ])
    const helmDone = new AbortController()
    const clock = fakeClock()
    let polls = 0
    const watch = await watchHooks(new Kubectl(kubectl.path), NS, {
      since: SINCE,
      signal: helmDone.signal,
      now: clock.now,
      sleep: async (ms) => {
        await clock.sleep(ms)
        if (++polls === 3) helmDone.abort()
      }
    })
    expect(watch.failed).toBeUndefined()
    expect(watch.verdicts).toMatchObject([
      { kind: 'Job', name: 'migrate', state: 'progressing', hook: 'pre-upgrade' }
    ])
  })
})

describe('run with a signal', () => {
  test('stops the program with SIGTERM, which it may answer, and rejects with the reason', async () => {
    // Like helm: on SIGTERM it says the release was cancelled, then exits.
    const program = [
      "process.on('SIGTERM', () => { process.stdout.write('Release app has been cancelled.\\n'); process.exit(1) })",
      "process.stdout.write('installing\\n')",
      'setInterval(() => {}, 1000)'
    ].join(';')
    const stop = new AbortController()
    let out = ''
    const sink = {
      write: (t: string) => {
        out += t
        if (t.includes('installing')) stop.abort(new Error('the pre-install hook Job x failed'))
      }
    }
    const started = Date.now()
    await expect(
      run(process.execPath, ['-e', program], { signal: stop.signal, sink, timeoutMs: 60_000 })
    ).rejects.toThrow('the pre-install hook Job x failed')
    expect(out).toContain('Release app has been cancelled.')
    // Stopped at once, not at its timeout.
    expect(Date.now() - started).toBeLessThan(30_000)
  })
})
