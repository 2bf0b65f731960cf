import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  collectDiagnostics,
  fitBytes,
  formatEvents,
  writeDiagnosticsFile
} from '../../src/diagnostics/collect.js'
import { registerSecret } from '../../src/redact.js'
import type { DiagnosticSection } from '../../src/model.js'
import { Helm } from '../../src/tools/helm.js'
import { Kubectl } from '../../src/tools/kubectl.js'
import { Minikube } from '../../src/tools/minikube.js'
import { standIn, type Rule } from '../support/stand-in.js'

let dir: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mp-diag-'))
})

afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

const CANARY = 'canary-5f4dcc3b5aa7'
registerSecret(CANARY)

const POD = 'todo-chatbot-backend-7d9f'

// Out of order on purpose, with each of the three ways an event carries its time.
const EVENTS = {
  items: [
    {
      type: 'Warning',
      reason: 'BackOff',
      message: 'Back-off restarting failed container api in pod todo-chatbot-backend-7d9f_preview',
      count: 7,
      lastTimestamp: '2025-06-02T10:04:00Z',
      firstTimestamp: '2025-06-02T10:01:10Z',
      involvedObject: { kind: 'Pod', name: POD }
    },
    {
      type: 'Normal',
      reason: 'Scheduled',
      message: 'Successfully assigned preview/todo-chatbot-backend-7d9f to minikube',
      lastTimestamp: null,
      eventTime: '2025-06-02T10:00:01.123456Z',
      involvedObject: { kind: 'Pod', name: POD }
    },
    {
      type: 'Normal',
      reason: 'ScalingReplicaSet',
      message: 'Scaled up replica set todo-chatbot-backend-7d9f to 1',
      firstTimestamp: '2025-06-02T10:00:00Z',
      involvedObject: { kind: 'Deployment', name: 'todo-chatbot-backend' }
    },
    {
      type: 'Normal',
      reason: 'Pulled',
      message: 'Container image "todo-chatbot-backend:sha-1234567"\nalready present on machine',
      lastTimestamp: '2025-06-02T10:01:00Z',
      involvedObject: { kind: 'Pod', name: POD }
    }
  ]
}

const POD_JSON = {
  metadata: { name: POD },
  spec: {
    initContainers: [{ name: 'wait-for-db' }],
    containers: [{ name: 'api' }, { name: 'sidecar' }]
  },
  status: {
    phase: 'Running',
    initContainerStatuses: [
      { name: 'wait-for-db', restartCount: 0, state: { terminated: { exitCode: 0 } } }
    ],
    containerStatuses: [
      {
        name: 'api',
        restartCount: 3,
        state: { waiting: { reason: 'CrashLoopBackOff' } },
        lastState: { terminated: { exitCode: 1 } }
      },
      { name: 'sidecar', restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }
    ]
  }
}

function kubectlRules(extra: Rule[] = []): Rule[] {
  return [
    ...extra,
    { match: ['get', 'events', '--output', 'json'], stdout: JSON.stringify(EVENTS) },
    { match: ['get', 'pod', POD, '--output', 'json'], stdout: JSON.stringify(POD_JSON) },
    {
      match: ['describe', 'pod', POD],
      stdout: `Name:         ${POD}\nNamespace:    preview\nEnvironment:\n  DATABASE_URL:  postgresql://todo:${CANARY}@todo-chatbot-postgresql:5432/todo\n`
    },
    {
      match: ['logs', POD, '--container', 'wait-for-db'],
      stdout: 'waiting for todo-chatbot-postgresql:5432\ndb is up\n'
    },
    {
      match: ['logs', POD, '--container', 'api', '--previous'],
      stdout: `INFO: starting\nsqlalchemy.exc.OperationalError: password authentication failed (password=${CANARY})\n`
    },
    { match: ['logs', POD, '--container', 'api'], stdout: 'INFO: starting\n' }
  ]
}

function helmRules(): Rule[] {
  return [
    {
      match: ['status', 'todo-chatbot'],
      stdout: 'NAME: todo-chatbot\nSTATUS: deployed\nREVISION: 2\n'
    },
    { match: ['history', 'todo-chatbot'], exitCode: 1, stderr: 'Error: release: not found\n' }
  ]
}

const byTitle = (sections: DiagnosticSection[], title: string): string | undefined =>
  sections.find((s) => s.title === title)?.body

describe('formatEvents', () => {
  it('sorts by time and prints time, type, reason, object, message', () => {
    expect(formatEvents(EVENTS.items).split('\n')).toEqual([
      '2025-06-02T10:00:00Z  Normal  ScalingReplicaSet  Deployment/todo-chatbot-backend  Scaled up replica set todo-chatbot-backend-7d9f to 1',
      '2025-06-02T10:00:01Z  Normal  Scheduled  Pod/todo-chatbot-backend-7d9f  Successfully assigned preview/todo-chatbot-backend-7d9f to minikube',
      '2025-06-02T10:01:00Z  Normal  Pulled  Pod/todo-chatbot-backend-7d9f  Container image "todo-chatbot-backend:sha-1234567" already present on machine',
      '2025-06-02T10:04:00Z  Warning  BackOff  Pod/todo-chatbot-backend-7d9f  Back-off restarting failed container api in pod todo-chatbot-backend-7d9f_preview (x7)'
    ])
  })
})

describe('fitBytes', () => {
  const text = Array.from({ length: 2000 }, (_, i) => `línea ${i}`).join('\n')
  it.each([['tail' as const], ['both' as const]])(
    'keeps %s within the limit without splitting characters',
    (keep) => {
      const out = fitBytes(text, 1000, keep)
      expect(Buffer.byteLength(out)).toBeLessThanOrEqual(1000)
      expect(out).not.toContain('\uFFFD')
      expect(out).toContain('bytes not shown')
      expect(out.endsWith('línea 1999')).toBe(true)
      if (keep === 'both') expect(out.startsWith('línea 0\n')).toBe(true)
    }
  )
  it('leaves text that fits alone', () => {
    expect(fitBytes('short', 10, 'tail')).toBe('short')
  })
})

describe('collectDiagnostics', () => {
  it('collects events, the unhealthy pod and the release, redacted', async () => {
    const kubectl = standIn(dir, 'kubectl', kubectlRules())
    const helm = standIn(dir, 'helm', helmRules())
    const minikube = standIn(dir, 'minikube', [{ match: ['logs'], stdout: 'should not be asked' }])
    const sections = await collectDiagnostics({
      kubectl: new Kubectl(kubectl.path),
      helm: new Helm(helm.path),
      minikube: new Minikube(minikube.path),
      namespace: 'preview',
      release: 'todo-chatbot',
      unhealthyPods: [POD, POD],
      deadline: Date.now() + 30_000,
      tailLines: 50
    })
    expect(sections.map((s) => s.title)).toEqual([
      'Events in preview',
      `Pod ${POD}: describe`,
      `Pod ${POD}: logs`,
      `Pod ${POD}: logs (previous)`,
      'helm status todo-chatbot',
      'helm history todo-chatbot'
    ])
    const events = byTitle(sections, 'Events in preview') ?? ''
    expect(events.split('\n').map((l) => l.split('  ')[2])).toEqual([
      'ScalingReplicaSet',
      'Scheduled',
      'Pulled',
      'BackOff'
    ])

    expect(byTitle(sections, `Pod ${POD}: describe`)).toContain(
      'postgresql://todo:***@todo-chatbot-postgresql'
    )
    expect(byTitle(sections, `Pod ${POD}: logs`)).toBe(
      [
        '--- init container wait-for-db ---',
        'waiting for todo-chatbot-postgresql:5432',
        'db is up',
        '--- container api ---',
        'INFO: starting',
        '--- container sidecar ---',
        '(not started yet: ContainerCreating)'
      ].join('\n')
    )
    // Only the container that restarted has previous logs.
    expect(byTitle(sections, `Pod ${POD}: logs (previous)`)).toBe(
      '--- container api ---\nINFO: starting\nsqlalchemy.exc.OperationalError: password authentication failed (password=***)'
    )
    expect(byTitle(sections, 'helm status todo-chatbot')).toContain('STATUS: deployed')
    expect(byTitle(sections, 'helm history todo-chatbot')).toBe(
      'helm history todo-chatbot failed with exit code 1:\nError: release: not found'
    )
    expect(JSON.stringify(sections)).not.toContain(CANARY)
    // Each container's logs are asked for by name, with the tail asked for.
    expect(kubectl.argvs().filter((a) => a[0] === 'logs')).toContainEqual([
      'logs',
      POD,
      '--namespace',
      'preview',
      '--tail=50',
      '--container',
      'api',
      '--previous'
    ])
    expect(minikube.argvs()).toEqual([])
    // The same pod listed twice is collected once.
    expect(kubectl.argvs().filter((a) => a[0] === 'describe')).toHaveLength(1)
  })

  it('describes the first ten unhealthy pods and names the others', async () => {
    const kubectl = standIn(dir, 'kubectl', [
      { match: ['get', 'events', '--output', 'json'], stdout: '{"items":[]}' },
      { match: [], stdout: '' }
    ])
    const pods = Array.from({ length: 12 }, (_, i) => `web-${i}`)
    const sections = await collectDiagnostics({
      kubectl: new Kubectl(kubectl.path),
      namespace: 'preview',
      unhealthyPods: pods,
      deadline: Date.now() + 30_000
    })
    expect(sections.filter((s) => s.title.endsWith(': describe')).map((s) => s.title)).toEqual(
      pods.slice(0, 10).map((p) => `Pod ${p}: describe`)
    )
    expect(sections.at(-1)).toEqual({
      title: '2 more unhealthy pods',
      body: 'not described, to keep diagnostics short: web-10, web-11'
    })
  })

  it('turns a failing kubectl call into a section and asks minikube when the cluster does not answer', async () => {
    const refused =
      'The connection to the server 192.168.49.2:8443 was refused - did you specify the right host or port?\n'
    const kubectl = standIn(dir, 'kubectl', [{ match: [], exitCode: 1, stderr: refused }])
    const minikube = standIn(dir, 'minikube', [
      {
        match: ['logs', '--problems'],
        stdout: `X Problems detected in kubelet:\n  Failed to pull image: token ${CANARY}\n`
      }
    ])
    const sections = await collectDiagnostics({
      kubectl: new Kubectl(kubectl.path),
      minikube: new Minikube(minikube.path),
      namespace: 'preview',
      unhealthyPods: [POD],
      deadline: Date.now() + 30_000
    })
    expect(byTitle(sections, 'Events in preview')).toMatch(
      /^kubectl get events failed: .*was refused/
    )
    expect(byTitle(sections, `Pod ${POD}: describe`)).toContain('was refused')
    expect(byTitle(sections, `Pod ${POD}: logs`)).toContain('was refused')
    expect(byTitle(sections, 'minikube logs --problems')).toBe(
      'X Problems detected in kubelet:\n  Failed to pull image: token ***'
    )
    expect(minikube.argvs()).toEqual([['logs', '--problems']])
  })

  it('asks only minikube when there is no cluster', async () => {
    const minikube = standIn(dir, 'minikube', [
      {
        match: ['logs', '--problems'],
        exitCode: 1,
        stderr: 'X Exiting due to GUEST_STATUS: state: unknown state "minikube"\n'
      }
    ])
    const sections = await collectDiagnostics({
      minikube: new Minikube(minikube.path),
      namespace: 'preview',
      release: 'todo-chatbot',
      unhealthyPods: [],
      deadline: Date.now() + 30_000
    })
    expect(sections).toEqual([
      {
        title: 'minikube logs --problems',
        body: 'minikube logs --problems failed with exit code 1:\nX Exiting due to GUEST_STATUS: state: unknown state "minikube"'
      }
    ])
  })

  it('keeps all sections within maxBytes, keeping the end of long logs', async () => {
    const long =
      Array.from({ length: 5000 }, (_, i) => `INFO request ${i} handled`).join('\n') +
      '\nFATAL: the last line\n'
    const kubectl = standIn(
      dir,
      'kubectl',
      kubectlRules([{ match: ['logs', POD, '--container', 'api', '--previous'], stdout: long }])
    )
    const helm = standIn(dir, 'helm', helmRules())
    const maxBytes = 8 * 1024
    const sections = await collectDiagnostics({
      kubectl: new Kubectl(kubectl.path),
      helm: new Helm(helm.path),
      namespace: 'preview',
      release: 'todo-chatbot',
      unhealthyPods: [POD],
      deadline: Date.now() + 30_000,
      maxBytes
    })
    const total = sections.reduce(
      (n, s) => n + Buffer.byteLength(s.title) + Buffer.byteLength(s.body),
      0
    )
    expect(total).toBeLessThanOrEqual(maxBytes)
    const previous = byTitle(sections, `Pod ${POD}: logs (previous)`) ?? ''
    expect(previous).toContain('bytes not shown')
    expect(previous.endsWith('FATAL: the last line')).toBe(true)
    // Short sections are not cut to make room for the long one.
    expect(byTitle(sections, 'helm status todo-chatbot')).toBe(
      'NAME: todo-chatbot\nSTATUS: deployed\nREVISION: 2\n'
    )
  })

  it('stops waiting at the deadline and says what was not collected', async () => {
    const kubectl = standIn(
      dir,
      'kubectl',
      kubectlRules([{ match: ['describe'], delayMs: 20_000, stdout: 'too late' }])
    )
    const started = Date.now()
    const sections = await collectDiagnostics({
      kubectl: new Kubectl(kubectl.path),
      namespace: 'preview',
      unhealthyPods: [POD],
      deadline: Date.now() + 2000
    })
    expect(Date.now() - started).toBeLessThan(5000)
    expect(byTitle(sections, `Pod ${POD}: describe`)).toMatch(/not collected within|timed out/)
    expect(byTitle(sections, 'Events in preview')).toContain('BackOff')
  })

  it('never throws, even when the programs do not exist', async () => {
    const sections = await collectDiagnostics({
      kubectl: new Kubectl(join(dir, 'no-kubectl')),
      helm: new Helm(join(dir, 'no-helm')),
      minikube: new Minikube(join(dir, 'no-minikube')),
      namespace: 'preview',
      release: 'todo-chatbot',
      unhealthyPods: [POD],
      deadline: Date.now() + 10_000
    })
    expect(sections.map((s) => s.title)).toContain('helm status todo-chatbot')
    expect(byTitle(sections, 'helm status todo-chatbot')).toContain('no-helm was not found')
    expect(byTitle(sections, 'Events in preview')).toContain('no-kubectl was not found')
    expect(byTitle(sections, 'minikube logs --problems')).toContain('no-minikube was not found')
  })
})

describe('writeDiagnosticsFile', () => {
  it('writes every section to a plain-text file under the directory', () => {
    const out = join(dir, 'runner-temp')
    const file = writeDiagnosticsFile(
      [
        {
          title: 'Events in preview',
          body: '2025-06-02T10:04:00Z  Warning  BackOff  Pod/x  Back-off'
        },
        { title: 'helm status todo-chatbot', body: `STATUS: deployed ${CANARY}` }
      ],
      out
    )
    expect(dirname(dirname(file))).toBe(out)
    expect(statSync(file).isFile()).toBe(true)
    const text = readFileSync(file, 'utf8')
    expect(text).toBe(
      '===== Events in preview =====\n2025-06-02T10:04:00Z  Warning  BackOff  Pod/x  Back-off\n\n===== helm status todo-chatbot =====\nSTATUS: deployed ***\n'
    )
    // A second run in the same job does not overwrite the first.
    expect(writeDiagnosticsFile([], out)).not.toBe(file)
  })
})
