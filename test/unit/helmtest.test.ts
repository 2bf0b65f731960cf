import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { registerSecret } from '../../src/redact.js'
import { Helm } from '../../src/tools/helm.js'
import { Kubectl } from '../../src/tools/kubectl.js'
import { phasesFromHelmOutput, runHelmTest, shouldRunHelmTest } from '../../src/verify/helmtest.js'
import { standIn, type Rule } from '../support/stand-in.js'

let dir: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mp-helmtest-'))
})

afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

// What `helm get hooks todo-chatbot` prints for the reference chart.
const TEST_POD_HOOK = `---
# Source: todo-chatbot/templates/tests/test-connection.yaml
apiVersion: v1
kind: Pod
metadata:
  name: todo-chatbot-test-connection
  labels:
    app.kubernetes.io/component: test
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  restartPolicy: Never
  containers:
    - name: wget
      image: busybox:1.37
      command: [sh, -c, 'wget -q -O - http://todo-chatbot-backend:8001/health']
`

const MIGRATION_HOOK = `---
# Source: todo-chatbot/templates/migrate.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: todo-chatbot-migrate
  annotations:
    "helm.sh/hook": pre-install,pre-upgrade
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: todo-chatbot-backend:sha-1234567
`

const TEST_JOB_HOOK = `---
apiVersion: batch/v1
kind: Job
metadata:
  name: todo-chatbot-test-api
  annotations:
    helm.sh/hook: test-success
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: api
          image: curlimages/curl:8.11.1
`

function helmTestOutput(phase: string): string {
  return `NAME: todo-chatbot
LAST DEPLOYED: Mon Jun  2 10:00:00 2025
NAMESPACE: preview
STATUS: deployed
REVISION: 1
TEST SUITE:     todo-chatbot-test-connection
Last Started:   Mon Jun  2 10:01:00 2025
Last Completed: Mon Jun  2 10:01:04 2025
Phase:          ${phase}
`
}

function tools(helmRules: Rule[], kubectlRules: Rule[]) {
  const helm = standIn(dir, 'helm', helmRules)
  const kubectl = standIn(dir, 'kubectl', kubectlRules)
  return { helm, kubectl, h: new Helm(helm.path), k: new Kubectl(kubectl.path) }
}

const logLines = (n: number): string =>
  Array.from({ length: n }, (_, i) => `line ${i + 1}`).join('\n') + '\n'

describe('shouldRunHelmTest', () => {
  it.each([
    ['auto', TEST_POD_HOOK, true],
    ['auto', TEST_JOB_HOOK, true],
    ['auto', MIGRATION_HOOK, false],
    ['auto', '', false],
    ['true', '', true],
    ['false', TEST_POD_HOOK, false]
  ] as const)('%s with %#', (mode, hooks, expected) => {
    expect(shouldRunHelmTest(mode, hooks)).toBe(expected)
  })
})

describe('phasesFromHelmOutput', () => {
  it('reads each test suite phase', () => {
    const out = `${helmTestOutput('Succeeded')}TEST SUITE:     todo-chatbot-test-db\nLast Started: x\nPhase:          Failed\n`
    expect([...phasesFromHelmOutput(out)]).toEqual([
      ['todo-chatbot-test-connection', 'Succeeded'],
      ['todo-chatbot-test-db', 'Failed']
    ])
  })
})

describe('runHelmTest', () => {
  it('passes and keeps the last 100 lines of the test pod log', async () => {
    const t = tools(
      [{ match: ['test'], stdout: helmTestOutput('Succeeded') }],
      [
        {
          match: ['get', 'pod', 'todo-chatbot-test-connection'],
          stdout: JSON.stringify({ status: { phase: 'Succeeded' } })
        },
        { match: ['logs', 'todo-chatbot-test-connection'], stdout: logLines(150) }
      ]
    )
    const result = await runHelmTest({
      helm: t.h,
      kubectl: t.k,
      release: 'todo-chatbot',
      namespace: 'preview',
      timeoutMs: 120_000,
      hooksManifest: TEST_POD_HOOK + MIGRATION_HOOK
    })
    expect(result.passed).toBe(true)
    expect(result.message).toBeUndefined()
    expect(result.pods.map((p) => [p.name, p.phase])).toEqual([
      ['todo-chatbot-test-connection', 'Succeeded']
    ])
    const log = result.pods[0]?.log ?? ''
    expect(log.split('\n')).toHaveLength(101)
    expect(log).toMatch(/^… 50 earlier lines not shown\nline 51\n/)
    expect(log.endsWith('line 150')).toBe(true)
    // Flags both Helm 3 and Helm 4 have, nothing else.
    expect(t.helm.argvs()).toEqual([
      ['test', 'todo-chatbot', '--namespace', 'preview', '--timeout', '120s']
    ])
    expect(t.kubectl.argvs()).toContainEqual(
      expect.arrayContaining(['logs', 'todo-chatbot-test-connection', '--namespace', 'preview'])
    )
  })

  it('fails with helm’s error and keeps the failed pod’s log', async () => {
    registerSecret('canary-d41d8cd98f')
    const t = tools(
      [
        {
          match: ['test'],
          exitCode: 1,
          stdout: helmTestOutput('Failed'),
          stderr: 'Error: 1 error occurred:\n\t* pod todo-chatbot-test-connection failed\n'
        }
      ],
      [
        {
          match: ['get', 'pod', 'todo-chatbot-test-connection'],
          stdout: JSON.stringify({ status: { phase: 'Failed' } })
        },
        {
          match: ['logs', 'todo-chatbot-test-connection'],
          stdout:
            'GET http://todo-chatbot-backend:8001/health?token=canary-d41d8cd98f\nwget: server returned error: HTTP/1.1 503 Service Unavailable\n'
        }
      ]
    )
    const result = await runHelmTest({
      helm: t.h,
      kubectl: t.k,
      release: 'todo-chatbot',
      namespace: 'preview',
      timeoutMs: 60_000,
      hooksManifest: TEST_POD_HOOK
    })
    expect(result.passed).toBe(false)
    expect(result.message).toContain('pod todo-chatbot-test-connection failed')
    expect(result.pods[0]?.phase).toBe('Failed')
    expect(result.pods[0]?.log).toContain(
      'wget: server returned error: HTTP/1.1 503 Service Unavailable'
    )
    expect(result.pods[0]?.log).toContain('token=***')
    expect(JSON.stringify(result)).not.toContain('canary-d41d8cd98f')
  })

  it('takes the phase from helm when the hook policy already deleted the pod', async () => {
    const t = tools(
      [{ match: ['test'], stdout: helmTestOutput('Succeeded') }],
      [
        {
          match: ['get', 'pod'],
          exitCode: 1,
          stderr: 'Error from server (NotFound): pods "todo-chatbot-test-connection" not found\n'
        }
      ]
    )
    const result = await runHelmTest({
      helm: t.h,
      kubectl: t.k,
      release: 'todo-chatbot',
      namespace: 'preview',
      timeoutMs: 60_000,
      hooksManifest: TEST_POD_HOOK
    })
    expect(result).toEqual({
      passed: true,
      pods: [{ name: 'todo-chatbot-test-connection', phase: 'Succeeded' }]
    })
    expect(t.kubectl.argvs().some((a) => a[0] === 'logs')).toBe(false)
  })

  it('fails when a test pod failed even though helm exited 0', async () => {
    const t = tools(
      [{ match: ['test'], stdout: helmTestOutput('Succeeded') }],
      [
        { match: ['get', 'pod'], stdout: JSON.stringify({ status: { phase: 'Failed' } }) },
        { match: ['logs'], stdout: 'connection refused\n' }
      ]
    )
    const result = await runHelmTest({
      helm: t.h,
      kubectl: t.k,
      release: 'todo-chatbot',
      namespace: 'preview',
      timeoutMs: 60_000,
      hooksManifest: TEST_POD_HOOK
    })
    expect(result.passed).toBe(false)
    expect(result.message).toBe('test pod todo-chatbot-test-connection failed')
  })

  it('reads the pods of a test Job', async () => {
    const pods = {
      items: [
        {
          metadata: {
            name: 'todo-chatbot-test-api-x7k2p',
            labels: { 'batch.kubernetes.io/job-name': 'todo-chatbot-test-api' }
          },
          status: { phase: 'Succeeded' }
        },
        {
          metadata: { name: 'todo-chatbot-backend-7d9f', labels: { app: 'backend' } },
          status: { phase: 'Running' }
        }
      ]
    }
    const t = tools(
      [
        {
          match: ['test'],
          stdout: 'TEST SUITE:     todo-chatbot-test-api\nPhase:          Succeeded\n'
        }
      ],
      [
        { match: ['get', 'pods', '--output', 'json'], stdout: JSON.stringify(pods) },
        { match: ['logs', 'todo-chatbot-test-api-x7k2p'], stdout: '{"status":"ok"}\n' }
      ]
    )
    const result = await runHelmTest({
      helm: t.h,
      kubectl: t.k,
      release: 'todo-chatbot',
      namespace: 'preview',
      timeoutMs: 60_000,
      hooksManifest: TEST_JOB_HOOK
    })
    expect(result).toEqual({
      passed: true,
      pods: [{ name: 'todo-chatbot-test-api-x7k2p', phase: 'Succeeded', log: '{"status":"ok"}' }]
    })
  })

  it('reports a helm that cannot be run, without throwing', async () => {
    const k = standIn(dir, 'kubectl', [{ match: ['get'], exitCode: 1, stderr: 'not found\n' }])
    const result = await runHelmTest({
      helm: new Helm(join(dir, 'no-such-helm')),
      kubectl: new Kubectl(k.path),
      release: 'todo-chatbot',
      namespace: 'preview',
      timeoutMs: 60_000,
      hooksManifest: TEST_POD_HOOK
    })
    expect(result.passed).toBe(false)
    expect(result.message).toContain('no-such-helm was not found')
    expect(result.pods).toEqual([{ name: 'todo-chatbot-test-connection', phase: 'Unknown' }])
  })
})
