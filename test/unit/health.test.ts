import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import {
  evaluate,
  PollMemory,
  resourcesFor,
  settledOf,
  workloadsOf
} from '../../src/verify/health.js'
import type { Verdict, WorkloadKind, WorkloadRef } from '../../src/model.js'

// ---- Recorded: `kubectl get deployments,replicasets,statefulsets,daemonsets,jobs,pods -o json`
// of a real control plane (kwok-simulated kubelet), one namespace per state, written by
// scripts/record-fixtures.sh to test/fixtures/kube/<state>.json.

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'kube')

interface Recording {
  items: unknown[]
  /** The one workload of the state: the object of a workload kind that nothing owns. */
  workload: WorkloadRef
  /** The latest time written in the recording, as epoch ms. */
  recordedAt: number
}

function recording(state: string): Recording {
  const text = readFileSync(join(FIXTURES, `${state}.json`), 'utf8')
  const items = (JSON.parse(text) as { items: Obj[] }).items
  const kinds = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'Pod']
  const top = items.filter((o) => {
    const meta = o.metadata as { ownerReferences?: unknown[] }
    return kinds.includes(o.kind as string) && !meta.ownerReferences?.length
  })
  if (top.length !== 1) throw new Error(`${state}: expected one workload, found ${top.length}`)
  const meta = (top[0] as Obj).metadata as { name: string; namespace: string }
  const times = [...text.matchAll(/"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"/g)].map((m) =>
    Date.parse(m[1] as string)
  )
  return {
    items,
    workload: {
      kind: (top[0] as Obj).kind as WorkloadKind,
      name: meta.name,
      namespace: meta.namespace
    },
    recordedAt: Math.max(...times)
  }
}

interface RecordedCase {
  state: string
  /** Seconds after the recording when the verdict is taken. */
  after?: number
  expected: Partial<Record<keyof Verdict, unknown>>
}

const recorded: RecordedCase[] = [
  {
    state: 'deployment-complete',
    expected: {
      state: 'healthy',
      ready: '2/2',
      restarts: 0,
      pods: ['backend-744b754b96-5qpw9', 'backend-744b754b96-8fsfh'],
      unhealthyPods: []
    }
  },
  {
    state: 'deployment-rollout-in-progress',
    expected: {
      state: 'progressing',
      reason: 'ContainerCreating',
      ready: '0/2',
      message: 'container backend of pod backend-8548656fd4-bzk7d: ContainerCreating',
      pods: ['backend-8548656fd4-bzk7d', 'backend-744b754b96-8jpfz', 'backend-744b754b96-wbgtz'],
      unhealthyPods: ['backend-8548656fd4-bzk7d']
    }
  },
  {
    state: 'crash-loop',
    expected: {
      state: 'failed',
      reason: 'CrashLoopBackOff',
      ready: '0/1',
      restarts: 2,
      message:
        'container backend: back-off 20s restarting failed container=backend pod=backend-6c999975cc-85vfm_fixture-crash-loop(ca4a15e0-9eae-478a-a354-76059dbad000); exit code 1',
      unhealthyPods: ['backend-6c999975cc-85vfm']
    }
  },
  {
    state: 'image-pull-backoff',
    expected: {
      state: 'failed',
      reason: 'ImagePullBackOff',
      message: expect.stringMatching(
        /^container backend of pod backend-55f4b4c69c-b8v7c: Back-off pulling image "ghcr.io\/example\/todo-chatbot-backend:sha-3f9c2e1": ErrImagePull: .*not found$/
      ),
      unhealthyPods: ['backend-55f4b4c69c-b8v7c']
    }
  },
  {
    state: 'err-image-pull',
    expected: {
      state: 'failed',
      reason: 'ErrImagePull',
      message: expect.stringMatching(
        /^container backend of pod backend-58767d74fd-6txhs: rpc error: code = NotFound desc = failed to pull and unpack image/
      )
    }
  },
  {
    state: 'err-image-never-pull',
    expected: {
      state: 'failed',
      reason: 'ErrImageNeverPull',
      message:
        'container backend of pod backend-568f5cf76d-74fhg: Container image "todo-chatbot-backend:sha-3f9c2e1" is not present with pull policy of Never'
    }
  },
  {
    state: 'create-container-config-error',
    expected: {
      state: 'failed',
      reason: 'CreateContainerConfigError',
      message:
        'container backend of pod backend-6c66599675-kdt9s: secret "backend-secrets" not found'
    }
  },
  {
    state: 'oom-killed',
    expected: {
      state: 'failed',
      reason: 'OOMKilled',
      restarts: 2,
      message:
        'container backend of pod backend-b96bdc8-ffv8p: killed for running out of memory (limit 64Mi), exit code 137'
    }
  },
  {
    state: 'unschedulable',
    after: 5,
    expected: { state: 'progressing', reason: 'Unschedulable', ready: '0/1' }
  },
  {
    state: 'unschedulable',
    after: 30,
    expected: {
      state: 'failed',
      reason: 'Unschedulable',
      message:
        'pod backend-5c45c7cb99-49wps: 0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. no new claims to deallocate, preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
      unhealthyPods: ['backend-5c45c7cb99-49wps']
    }
  },
  {
    state: 'job-failed',
    expected: {
      state: 'failed',
      reason: 'BackoffLimitExceeded',
      ready: '0/1',
      // The latest attempt is the one shown.
      message:
        'Job has reached the specified backoff limit; container migrate of pod db-migrate-d72wh: exit code 1',
      unhealthyPods: ['db-migrate-d72wh', 'db-migrate-hfdqm']
    }
  },
  {
    state: 'job-succeeded',
    expected: { state: 'healthy', ready: '1/1', pods: ['db-migrate-flxgq'], unhealthyPods: [] }
  },
  {
    state: 'statefulset-ready',
    expected: { state: 'healthy', ready: '1/1', pods: ['postgres-0'], unhealthyPods: [] }
  },
  {
    state: 'daemonset-ready',
    expected: { state: 'healthy', ready: '1/1', pods: ['log-agent-9qhrt'], unhealthyPods: [] }
  },
  { state: 'pod-ready', expected: { state: 'healthy', ready: '1/1', pods: ['frontend'] } },
  {
    state: 'pod-failed',
    expected: {
      state: 'failed',
      reason: 'Error',
      ready: '0/1',
      message: 'container seed of pod seed-data: exit code 2',
      unhealthyPods: ['seed-data']
    }
  },
  {
    // A bare pod has nothing to replace it: evicted, it is gone for good.
    state: 'pod-evicted',
    expected: {
      state: 'failed',
      reason: 'Evicted',
      message: expect.stringMatching(/^pod frontend: The node was low on resource: memory\./)
    }
  }
]

describe('evaluate, on recorded cluster states', () => {
  test.each(recorded.map((c) => ({ ...c, after: c.after ?? 1 })))(
    '$state, $after s after recording',
    ({ state, after, expected }) => {
      const r = recording(state)
      const [verdict] = evaluate([r.workload], { items: r.items }, r.recordedAt + after * 1000)
      expect(verdict).toMatchObject({ kind: r.workload.kind, name: r.workload.name, ...expected })
    }
  )

  test('all workloads of all recordings at once, each judged on its own objects', () => {
    const all = [...new Set(recorded.map((c) => c.state))].map(recording)
    const now = Math.max(...all.map((r) => r.recordedAt)) + 60_000
    const verdicts = evaluate(
      all.map((r) => r.workload),
      { items: all.flatMap((r) => r.items) },
      now
    )
    expect(verdicts.map((v) => `${v.name} ${v.state} ${v.reason ?? ''}`.trim())).toEqual([
      'backend healthy',
      'backend progressing ContainerCreating',
      'backend failed CrashLoopBackOff',
      'backend failed ImagePullBackOff',
      'backend failed ErrImagePull',
      'backend failed ErrImageNeverPull',
      'backend failed CreateContainerConfigError',
      'backend failed OOMKilled',
      'backend failed Unschedulable',
      'db-migrate failed BackoffLimitExceeded',
      'db-migrate healthy',
      'postgres healthy',
      'log-agent healthy',
      'frontend healthy',
      'seed-data failed Error',
      'frontend failed Evicted'
    ])
  })
})

// ---- Hand-written: objects shaped as the kubelet and the controllers report them, for the
// edges the recorded states do not cover.

const NS = 'preview'
const T0 = Date.parse('2026-03-01T10:00:00Z')
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString().replace('.000', '')

type Obj = Record<string, unknown>
interface Owner {
  kind: string
  name: string
  uid: string
}

const ownerRef = (o: Owner) => ({
  apiVersion: o.kind === 'Job' ? 'batch/v1' : 'apps/v1',
  kind: o.kind,
  name: o.name,
  uid: o.uid,
  controller: true,
  blockOwnerDeletion: true
})

function deployment(
  name: string,
  o: {
    replicas?: number
    revision?: number
    generation?: number
    status?: Obj
    conditions?: Obj[]
  } = {}
): Obj & { owner: Owner } {
  const replicas = o.replicas ?? 1
  const generation = o.generation ?? 1
  const uid = `uid-deploy-${name}`
  return {
    owner: { kind: 'Deployment', name, uid },
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: NS,
      uid,
      generation,
      annotations: { 'deployment.kubernetes.io/revision': String(o.revision ?? 1) },
      creationTimestamp: at(0)
    },
    spec: { replicas, progressDeadlineSeconds: 600 },
    status: {
      observedGeneration: generation,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
      conditions: o.conditions ?? [
        { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
        { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }
      ],
      ...o.status
    }
  }
}

function replicaSet(
  d: Owner,
  hash: string,
  revision: number,
  status: Obj = {}
): Obj & { owner: Owner } {
  const name = `${d.name}-${hash}`
  const uid = `uid-rs-${name}`
  return {
    owner: { kind: 'ReplicaSet', name, uid },
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: NS,
      uid,
      labels: { 'pod-template-hash': hash },
      annotations: { 'deployment.kubernetes.io/revision': String(revision) },
      ownerReferences: [ownerRef(d)]
    },
    spec: { replicas: 1 },
    status: {
      replicas: 1,
      readyReplicas: 1,
      availableReplicas: 1,
      observedGeneration: 1,
      ...status
    }
  }
}

interface ContainerOpts {
  name?: string
  ready?: boolean
  restarts?: number
  state?: Obj
  lastState?: Obj
}

function container(o: ContainerOpts = {}): Obj {
  return {
    name: o.name ?? 'backend',
    image: 'docker.io/library/todo-chatbot-backend:sha-abc1234',
    imageID: '',
    ready: o.ready ?? true,
    started: o.ready ?? true,
    restartCount: o.restarts ?? 0,
    state: o.state ?? { running: { startedAt: at(5) } },
    lastState: o.lastState ?? {}
  }
}

const exited = (exitCode: number, reason = 'Error') => ({
  terminated: { exitCode, reason, startedAt: at(5), finishedAt: at(6) }
})

function pod(
  name: string,
  owner: Owner | undefined,
  o: {
    phase?: string
    ready?: boolean
    containers?: Obj[]
    init?: Obj[]
    conditions?: Obj[]
    restartPolicy?: string
    status?: Obj
    deleting?: boolean
    labels?: Record<string, string>
    memoryLimit?: string
  } = {}
): Obj {
  const ready = o.ready ?? true
  const containers = o.containers ?? [container({ ready })]
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: NS,
      uid: `uid-pod-${name}`,
      creationTimestamp: at(1),
      labels: o.labels ?? {},
      ...(owner ? { ownerReferences: [ownerRef(owner)] } : {}),
      ...(o.deleting ? { deletionTimestamp: at(60), deletionGracePeriodSeconds: 30 } : {})
    },
    spec: {
      restartPolicy: o.restartPolicy ?? 'Always',
      containers: containers.map((c) => ({
        name: c.name,
        image: 'todo-chatbot-backend:sha-abc1234',
        resources: o.memoryLimit ? { limits: { memory: o.memoryLimit } } : {}
      })),
      ...(o.init ? { initContainers: o.init.map((c) => ({ name: c.name, image: 'busybox' })) } : {})
    },
    status: {
      phase: o.phase ?? 'Running',
      conditions: o.conditions ?? [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: at(1) },
        { type: 'Initialized', status: 'True', lastTransitionTime: at(2) },
        ready
          ? { type: 'Ready', status: 'True', lastTransitionTime: at(6) }
          : {
              type: 'Ready',
              status: 'False',
              reason: 'ContainersNotReady',
              message: `containers with unready status: [${containers.map((c) => c.name).join(' ')}]`,
              lastTransitionTime: at(2)
            }
      ],
      containerStatuses: containers,
      ...(o.init ? { initContainerStatuses: o.init } : {}),
      ...o.status
    }
  }
}

const crashLoop = (restarts: number, name = 'backend', podName = 'backend-7c9d5b6f4d-abcde') =>
  container({
    name,
    ready: false,
    restarts,
    state: {
      waiting: {
        reason: 'CrashLoopBackOff',
        message: `back-off 20s restarting failed container=${name} pod=${podName}_preview(uid-pod-${podName})`
      }
    },
    lastState: exited(1)
  })

const waitingFor = (reason: string, message?: string) =>
  container({ ready: false, state: { waiting: message ? { reason, message } : { reason } } })

/** One healthy deployment with its ReplicaSet, and a broken pod beside a good one if asked. */
function backend(pods: (rs: Owner) => Obj[], d = deployment('backend')): Obj[] {
  const rs = replicaSet(d.owner, '7c9d5b6f4d', 1)
  return [d, rs, ...pods(rs.owner)]
}

const unschedulable = (sinceSeconds: number) => [
  {
    type: 'PodScheduled',
    status: 'False',
    reason: 'Unschedulable',
    message:
      '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    lastProbeTime: null,
    lastTransitionTime: at(sinceSeconds)
  }
]

const backendRef: WorkloadRef = { kind: 'Deployment', name: 'backend', namespace: NS }

interface Case {
  name: string
  items: Obj[]
  workload?: WorkloadRef
  /** Seconds after T0. */
  now?: number
  expected: Partial<Record<keyof Verdict, unknown>>
}

const notReadyRollout = deployment('backend', {
  status: { readyReplicas: 0, availableReplicas: 0 },
  conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' }]
})

const handWritten: Case[] = [
  {
    name: 'a crash loop below the restart threshold is still progressing',
    items: backend(
      (rs) => [pod('backend-7c9d5b6f4d-abcde', rs, { ready: false, containers: [crashLoop(1)] })],
      notReadyRollout
    ),
    expected: {
      state: 'progressing',
      reason: 'CrashLoopBackOff',
      restarts: 1,
      // The back-off message alone does not say why: the last exit does.
      message:
        'container backend: back-off 20s restarting failed container=backend pod=backend-7c9d5b6f4d-abcde_preview(uid-pod-backend-7c9d5b6f4d-abcde); last exit code 1',
      unhealthyPods: ['backend-7c9d5b6f4d-abcde']
    }
  },
  {
    name: 'a crash loop at the threshold has failed, naming the container and exit code',
    items: backend(
      (rs) => [pod('backend-7c9d5b6f4d-abcde', rs, { ready: false, containers: [crashLoop(2)] })],
      notReadyRollout
    ),
    expected: {
      state: 'failed',
      reason: 'CrashLoopBackOff',
      restarts: 2,
      message:
        'container backend: back-off 20s restarting failed container=backend pod=backend-7c9d5b6f4d-abcde_preview(uid-pod-backend-7c9d5b6f4d-abcde); exit code 1'
    }
  },
  {
    name: 'a crash-looping init container has failed',
    items: backend(
      (rs) => [
        pod('backend-7c9d5b6f4d-abcde', rs, {
          phase: 'Pending',
          ready: false,
          init: [crashLoop(3, 'migrate')],
          containers: [
            container({ ready: false, state: { waiting: { reason: 'PodInitializing' } } })
          ]
        })
      ],
      notReadyRollout
    ),
    expected: {
      state: 'failed',
      reason: 'CrashLoopBackOff',
      restarts: 3,
      message: expect.stringMatching(/^init container migrate: /)
    }
  },
  ...['InvalidImageName', 'CreateContainerError', 'RunContainerError'].map((reason): Case => ({
    name: `${reason} has failed`,
    items: backend(
      (rs) => [
        pod('backend-7c9d5b6f4d-abcde', rs, {
          phase: 'Pending',
          ready: false,
          containers: [waitingFor(reason, 'why')]
        })
      ],
      notReadyRollout
    ),
    expected: {
      state: 'failed',
      reason,
      message: 'container backend of pod backend-7c9d5b6f4d-abcde: why'
    }
  })),
  {
    name: 'a container killed for memory has failed at once, before the crash-loop threshold',
    items: backend(
      (rs) => [
        pod('backend-7c9d5b6f4d-abcde', rs, {
          ready: false,
          memoryLimit: '64Mi',
          containers: [
            container({ ready: false, restarts: 1, lastState: exited(137, 'OOMKilled') })
          ]
        })
      ],
      notReadyRollout
    ),
    expected: {
      state: 'failed',
      reason: 'OOMKilled',
      message:
        'container backend of pod backend-7c9d5b6f4d-abcde: killed for running out of memory (limit 64Mi), exit code 137'
    }
  },
  {
    name: 'a running container that fails readiness is progressing with the Ready condition',
    items: backend(
      (rs) => [
        pod('backend-7c9d5b6f4d-abcde', rs, {
          ready: false,
          containers: [container({ ready: false })]
        })
      ],
      notReadyRollout
    ),
    expected: {
      state: 'progressing',
      reason: 'ContainersNotReady',
      message: 'pod backend-7c9d5b6f4d-abcde: containers with unready status: [backend]'
    }
  },
  {
    name: 'Unschedulable within the grace is progressing',
    items: backend(
      (rs) => [
        pod('backend-7c9d5b6f4d-abcde', rs, {
          phase: 'Pending',
          ready: false,
          containers: [],
          conditions: unschedulable(10)
        })
      ],
      notReadyRollout
    ),
    now: 30,
    expected: { state: 'progressing', reason: 'Unschedulable' }
  },
  {
    name: 'an evicted pod beside a healthy replacement is healthy',
    items: backend((rs) => [
      pod('backend-7c9d5b6f4d-abcde', rs),
      pod('backend-7c9d5b6f4d-evict', rs, {
        phase: 'Failed',
        ready: false,
        containers: [container({ ready: false, state: exited(137, 'ContainerStatusUnknown') })],
        status: { reason: 'Evicted', message: 'The node was low on resource: memory.' }
      })
    ]),
    expected: {
      state: 'healthy',
      ready: '1/1',
      pods: ['backend-7c9d5b6f4d-abcde'],
      unhealthyPods: []
    }
  },
  (() => {
    const d = deployment('backend', { revision: 2, generation: 2 })
    const old = replicaSet(d.owner, '5f6b8c9d7a', 1, {
      replicas: 0,
      readyReplicas: 0,
      availableReplicas: 0
    })
    const cur = replicaSet(d.owner, '7c9d5b6f4d', 2)
    return {
      name: 'a rollout with old pods still terminating is progressing',
      items: [
        d,
        old,
        cur,
        pod('backend-5f6b8c9d7a-old01', old.owner, { deleting: true }),
        pod('backend-7c9d5b6f4d-new01', cur.owner)
      ],
      expected: {
        state: 'progressing',
        reason: 'RolloutInProgress',
        message: '1 old pod is still terminating',
        ready: '1/1'
      }
    }
  })(),
  (() => {
    // The fix being rolled out: the old revision crash-loops, the new one is fine.
    const d = deployment('backend', {
      revision: 2,
      generation: 2,
      status: { replicas: 2, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 }
    })
    const old = replicaSet(d.owner, '5f6b8c9d7a', 1, { readyReplicas: 0, availableReplicas: 0 })
    const cur = replicaSet(d.owner, '7c9d5b6f4d', 2)
    return {
      name: 'old pods crash-looping during a rollout to a good revision do not fail it',
      items: [
        d,
        old,
        cur,
        pod('backend-5f6b8c9d7a-old01', old.owner, {
          ready: false,
          containers: [crashLoop(5, 'backend', 'backend-5f6b8c9d7a-old01')]
        }),
        pod('backend-7c9d5b6f4d-new01', cur.owner)
      ],
      expected: {
        state: 'progressing',
        reason: 'RolloutInProgress',
        message: '1 old replicas are pending termination',
        restarts: 5,
        unhealthyPods: ['backend-5f6b8c9d7a-old01']
      }
    }
  })(),
  {
    name: 'a spec change not yet observed is progressing',
    items: backend(
      (rs) => [pod('backend-7c9d5b6f4d-abcde', rs)],
      deployment('backend', { generation: 3, status: { observedGeneration: 2 } })
    ),
    expected: {
      state: 'progressing',
      reason: 'RolloutInProgress',
      message: 'waiting for the deployment spec update to be observed'
    }
  },
  {
    name: 'a deployment past its progress deadline has failed',
    items: backend(
      (rs) => [
        pod('backend-7c9d5b6f4d-abcde', rs, {
          ready: false,
          containers: [container({ ready: false })]
        })
      ],
      deployment('backend', {
        status: { readyReplicas: 0, availableReplicas: 0 },
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'ReplicaSet "backend-7c9d5b6f4d" has timed out progressing.'
          }
        ]
      })
    ),
    expected: {
      state: 'failed',
      reason: 'ProgressDeadlineExceeded',
      message: 'ReplicaSet "backend-7c9d5b6f4d" has timed out progressing.'
    }
  },
  {
    name: 'two pods of a deployment rejected the same way have failed',
    items: backend(
      (rs) =>
        ['rej01', 'rej02'].map((id) =>
          pod(`backend-7c9d5b6f4d-${id}`, rs, {
            phase: 'Failed',
            ready: false,
            containers: [],
            conditions: [],
            status: {
              reason: 'OutOfcpu',
              message:
                "Pod was rejected: Node didn't have enough resource: cpu, requested: 4000, used: 0, capacity: 2000"
            }
          })
        ),
      notReadyRollout
    ),
    expected: {
      state: 'failed',
      reason: 'OutOfcpu',
      message: expect.stringMatching(
        /^2 pods failed the same way; pod backend-7c9d5b6f4d-rej0\d: Pod was rejected/
      )
    }
  },
  {
    name: 'one pod rejected, its replacement starting, is progressing',
    items: backend(
      (rs) => [
        pod('backend-7c9d5b6f4d-rej01', rs, {
          phase: 'Failed',
          ready: false,
          containers: [],
          conditions: [],
          status: { reason: 'OutOfcpu', message: 'rejected' }
        }),
        pod('backend-7c9d5b6f4d-abcde', rs, {
          phase: 'Pending',
          ready: false,
          containers: [waitingFor('ContainerCreating')]
        })
      ],
      notReadyRollout
    ),
    expected: {
      state: 'progressing',
      reason: 'ContainerCreating',
      unhealthyPods: ['backend-7c9d5b6f4d-abcde', 'backend-7c9d5b6f4d-rej01']
    }
  },
  (() => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'migrate', namespace: NS, uid: 'uid-job-migrate', generation: 1 },
      spec: { completions: 1, parallelism: 1, backoffLimit: 6 },
      status: { active: 1, failed: 1, ready: 1, startTime: at(0) }
    }
    const owner = { kind: 'Job', name: 'migrate', uid: 'uid-job-migrate' }
    return {
      name: 'a job retrying after one failed attempt is progressing: its backoff limit decides',
      workload: { kind: 'Job', name: 'migrate', namespace: NS },
      items: [
        job,
        pod('migrate-first', owner, {
          phase: 'Failed',
          ready: false,
          restartPolicy: 'Never',
          containers: [container({ name: 'migrate', ready: false, state: exited(1) })]
        }),
        pod('migrate-again', owner, {
          restartPolicy: 'Never',
          containers: [container({ name: 'migrate' })]
        })
      ],
      expected: {
        state: 'progressing',
        reason: 'Running',
        ready: '0/1',
        message: '0 of 1 completions succeeded',
        unhealthyPods: ['migrate-first']
      }
    }
  })(),
  (() => {
    const owner = { kind: 'StatefulSet', name: 'postgresql', uid: 'uid-sts-postgresql' }
    const sts = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'postgresql', namespace: NS, uid: owner.uid, generation: 2 },
      spec: {
        replicas: 2,
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }
      },
      status: {
        observedGeneration: 2,
        replicas: 2,
        readyReplicas: 2,
        currentReplicas: 1,
        updatedReplicas: 1,
        currentRevision: 'postgresql-5d8f7c6b9',
        updateRevision: 'postgresql-6c9b8d7f5'
      }
    }
    return {
      name: 'a statefulset still rolling to its new revision is progressing',
      workload: { kind: 'StatefulSet', name: 'postgresql', namespace: NS },
      items: [
        sts,
        pod('postgresql-0', owner, {
          labels: { 'controller-revision-hash': 'postgresql-5d8f7c6b9' }
        }),
        pod('postgresql-1', owner, {
          labels: { 'controller-revision-hash': 'postgresql-6c9b8d7f5' }
        })
      ],
      expected: {
        state: 'progressing',
        reason: 'RolloutInProgress',
        ready: '2/2',
        message: '1 of 2 pods have been updated to revision postgresql-6c9b8d7f5',
        pods: ['postgresql-1', 'postgresql-0']
      }
    }
  })(),
  {
    name: 'a workload not in the cluster is progressing: NotFound',
    items: [],
    expected: { state: 'progressing', reason: 'NotFound', ready: '0/?', pods: [] }
  },
  {
    name: 'a bare pod that succeeded is healthy',
    workload: { kind: 'Pod', name: 'smoke', namespace: NS },
    items: [
      pod('smoke', undefined, {
        phase: 'Succeeded',
        ready: false,
        restartPolicy: 'Never',
        containers: [container({ name: 'smoke', ready: false, state: exited(0, 'Completed') })]
      })
    ],
    expected: { state: 'healthy', ready: '1/1' }
  }
]

const at0 = (c: Case) => T0 + (c.now ?? 120) * 1000

describe('evaluate, on hand-written edges', () => {
  test.each(handWritten)('$name', (c) => {
    const [verdict] = evaluate([c.workload ?? backendRef], { items: c.items }, at0(c))
    expect(verdict).toMatchObject({
      kind: (c.workload ?? backendRef).kind,
      name: (c.workload ?? backendRef).name,
      ...c.expected
    })
  })

  test('the crash-loop threshold and the unschedulable grace can be changed', () => {
    const items = backend(
      (rs) => [pod('backend-7c9d5b6f4d-abcde', rs, { ready: false, containers: [crashLoop(2)] })],
      notReadyRollout
    )
    expect(evaluate([backendRef], { items }, T0, { crashLoopRestarts: 5 })[0]?.state).toBe(
      'progressing'
    )
    const pending = backend(
      (rs) => [
        pod('backend-7c9d5b6f4d-abcde', rs, {
          phase: 'Pending',
          ready: false,
          containers: [],
          conditions: unschedulable(0)
        })
      ],
      notReadyRollout
    )
    expect(
      evaluate([backendRef], { items: pending }, T0 + 20_000, { unschedulableGraceMs: 10_000 })[0]
        ?.state
    ).toBe('failed')
  })

  test('pods of a same-named workload in another namespace are not counted', () => {
    const items = backend((rs) => [pod('backend-7c9d5b6f4d-abcde', rs)])
    const elsewhere = items.map((o) => ({
      ...o,
      metadata: { ...(o.metadata as Obj), namespace: 'other' }
    }))
    expect(evaluate([backendRef], { items: elsewhere }, T0)[0]).toMatchObject({
      state: 'progressing',
      reason: 'NotFound'
    })
  })
})

describe('workloadsOf', () => {
  test('takes the workloads of a release, once each, in the default namespace unless set', () => {
    expect(
      workloadsOf(
        [
          { kind: 'ServiceAccount', name: 'todo' },
          { kind: 'Deployment', name: 'backend', apiVersion: 'apps/v1' },
          { kind: 'StatefulSet', name: 'postgresql', namespace: 'db', apiVersion: 'apps/v1' },
          { kind: 'Service', name: 'backend' },
          { kind: 'Deployment', name: 'backend', apiVersion: 'apps/v1' },
          { kind: 'DaemonSet', name: 'agent' },
          { kind: 'Job', name: 'migrate', apiVersion: 'batch/v1' },
          { kind: 'Pod', name: 'smoke', apiVersion: 'v1' },
          { kind: 'CronJob', name: 'nightly', apiVersion: 'batch/v1' },
          { kind: 'StatefulSet', name: 'advanced', apiVersion: 'apps.kruise.io/v1beta1' }
        ],
        NS
      )
    ).toEqual([
      { kind: 'Deployment', name: 'backend', namespace: NS },
      { kind: 'StatefulSet', name: 'postgresql', namespace: 'db' },
      { kind: 'DaemonSet', name: 'agent', namespace: NS },
      { kind: 'Job', name: 'migrate', namespace: NS },
      { kind: 'Pod', name: 'smoke', namespace: NS }
    ])
  })

  test('resourcesFor asks only for the kinds it will read, always with pods', () => {
    expect(resourcesFor(['Deployment', 'StatefulSet'])).toEqual([
      'deployments',
      'replicasets',
      'statefulsets',
      'pods'
    ])
    expect(resourcesFor(['Job'])).toEqual(['jobs', 'pods'])
    expect(resourcesFor([])).toEqual(['pods'])
    expect(resourcesFor(['APIService', 'Job', 'DaemonSet', 'Deployment'])).toEqual([
      'deployments',
      'replicasets',
      'daemonsets',
      'jobs',
      'pods',
      'apiservices'
    ])
  })
})

// ---- Across polls, after the rollout, aggregated APIs, and the one-sentence summary.

function daemonSet(
  name: string,
  o: { desired?: number; ready?: number } = {}
): Obj & { owner: Owner } {
  const desired = o.desired ?? 1
  const ready = o.ready ?? desired
  const uid = `uid-ds-${name}`
  return {
    owner: { kind: 'DaemonSet', name, uid },
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: NS, uid, generation: 1, creationTimestamp: at(0) },
    spec: {},
    status: {
      observedGeneration: 1,
      desiredNumberScheduled: desired,
      currentNumberScheduled: desired,
      updatedNumberScheduled: desired,
      numberReady: ready,
      numberAvailable: ready
    }
  }
}

const agentRef: WorkloadRef = { kind: 'DaemonSet', name: 'agent', namespace: NS }

/** The DaemonSet controller's cycle: one failed pod at a time, the next created once it is deleted. */
function agentPoll(n: number): Obj[] {
  const ds = daemonSet('agent', { ready: 0 })
  const failedPod = pod(`agent-${n}`, ds.owner, {
    phase: 'Failed',
    ready: false,
    restartPolicy: 'Always',
    containers: [container({ name: 'agent', ready: false, state: exited(3, 'Error') })]
  })
  const meta = failedPod['metadata'] as Obj
  return [ds, { ...failedPod, metadata: { ...meta, creationTimestamp: at(2 * n) } }]
}

describe('evaluate, across the polls of one wait', () => {
  test('a DaemonSet whose pods fail one at a time is failed at the second pod, with the exit code', () => {
    const memory = new PollMemory()
    const first = evaluate([agentRef], { items: agentPoll(1) }, T0, { memory })
    expect(first[0]?.state).toBe('progressing')
    const second = evaluate([agentRef], { items: agentPoll(2) }, T0 + 2000, { memory })
    expect(second[0]).toMatchObject({
      state: 'failed',
      reason: 'Error',
      message: '2 pods failed the same way; container agent of pod agent-2: exit code 3',
      summary: '2 pods failed the same way (container agent of pod agent-2 exited with code 3)'
    })
  })

  test('without the memory of earlier polls, one failed pod at a time never adds up', () => {
    for (const n of [1, 2, 3]) {
      expect(evaluate([agentRef], { items: agentPoll(n) }, T0)[0]?.state).toBe('progressing')
    }
  })

  test('the same failed pod seen twice is one failure, not two', () => {
    const memory = new PollMemory()
    evaluate([agentRef], { items: agentPoll(1) }, T0, { memory })
    expect(evaluate([agentRef], { items: agentPoll(1) }, T0 + 2000, { memory })[0]?.state).toBe(
      'progressing'
    )
  })
})

describe('evaluate, once the rollout has completed', () => {
  const healthy = backend((rs) => [pod('backend-7c9d5b6f4d-abcde', rs)])
  const restarted = backend((rs) => [
    pod('backend-7c9d5b6f4d-abcde', rs, {
      containers: [container({ restarts: 1, lastState: exited(1) })]
    })
  ])

  test('a container that restarted since is failed, Ready or not, with its exit code', () => {
    const settled = settledOf({ items: healthy })
    expect(evaluate([backendRef], { items: restarted }, T0, { settled })[0]).toMatchObject({
      state: 'failed',
      reason: 'Restarted',
      summary: 'container backend of pod backend-7c9d5b6f4d-abcde restarted (exited with code 1)',
      message: expect.stringContaining('restarts 0 → 1'),
      unhealthyPods: ['backend-7c9d5b6f4d-abcde']
    })
  })

  test('restarts from before the rollout completed are not counted again', () => {
    const settled = settledOf({ items: restarted })
    expect(evaluate([backendRef], { items: restarted }, T0, { settled })[0]?.state).toBe('healthy')
    // Without a settled baseline a pod that restarted once and runs is healthy.
    expect(evaluate([backendRef], { items: restarted }, T0)[0]?.state).toBe('healthy')
  })
})

describe('evaluate, an APIService of the release', () => {
  const ref: WorkloadRef = { kind: 'APIService', name: 'v1beta1.metrics.k8s.io', namespace: NS }
  const apiService = (available: Obj) => ({
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: 'v1beta1.metrics.k8s.io', uid: 'uid-apiservice' },
    spec: {
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      service: { namespace: 'kube-system', name: 'metrics-server', port: 443 }
    },
    status: { conditions: [{ type: 'Available', lastTransitionTime: at(0), ...available }] }
  })

  test('is healthy once Available', () => {
    expect(
      evaluate([ref], { items: [apiService({ status: 'True', reason: 'Passed' })] }, T0)[0]
    ).toMatchObject({ kind: 'APIService', state: 'healthy', ready: '1/1' })
  })

  test('is progressing, with the aggregator’s reason, while not Available', () => {
    const items = [
      apiService({
        status: 'False',
        reason: 'MissingEndpoints',
        message:
          'endpoints for service/metrics-server in "kube-system" have no addresses with port name "https"'
      })
    ]
    expect(evaluate([ref], { items }, T0)[0]).toMatchObject({
      state: 'progressing',
      ready: '0/1',
      reason: 'MissingEndpoints',
      message: expect.stringContaining('have no addresses'),
      summary: 'not Available: MissingEndpoints (service kube-system/metrics-server)'
    })
  })

  test('is found although it has no namespace, and is read with the release’s kinds', () => {
    expect(
      workloadsOf(
        [
          {
            kind: 'APIService',
            name: 'v1beta1.metrics.k8s.io',
            apiVersion: 'apiregistration.k8s.io/v1'
          }
        ],
        NS
      )
    ).toEqual([ref])
    expect(resourcesFor(['Deployment', 'APIService'])).toEqual([
      'deployments',
      'replicasets',
      'pods',
      'apiservices'
    ])
    expect(evaluate([ref], { items: [] }, T0)[0]).toMatchObject({
      state: 'progressing',
      reason: 'NotFound',
      message: 'apiservice v1beta1.metrics.k8s.io was not found'
    })
  })
})

describe('summary: what is wrong in one sentence, without the kubelet’s text', () => {
  test.each([
    [
      'crash-loop',
      'container backend of pod backend-6c999975cc-85vfm is in CrashLoopBackOff (exit code 1)'
    ],
    ['image-pull-backoff', 'ImagePullBackOff in container backend of pod backend-55f4b4c69c-b8v7c'],
    ['oom-killed', 'container backend of pod backend-b96bdc8-ffv8p ran out of memory (limit 64Mi)'],
    [
      'job-failed',
      'BackoffLimitExceeded (container migrate of pod db-migrate-d72wh exited with code 1)'
    ],
    [
      'deployment-rollout-in-progress',
      'container backend of pod backend-8548656fd4-bzk7d is in ContainerCreating'
    ]
  ])('%s: %s', (state, summary) => {
    const r = recording(state)
    const [verdict] = evaluate([r.workload], { items: r.items }, r.recordedAt + 1000)
    expect(verdict?.summary).toBe(summary)
    // No pod UID, no kubelet message.
    expect(verdict?.summary).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-|back-off|rpc error/)
  })
})
