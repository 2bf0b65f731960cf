// Kubernetes objects shaped as the API server and kubelet report them, for stand-in kubectl
// answers in integration tests (the pure verdict tests use recorded objects instead).

const T0 = '2026-11-26T10:00:00Z'

function deployment(name: string, ns: string, ready: number, replicas = 1) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, uid: `uid-${name}`, generation: 1, labels: { app: name } },
    spec: { replicas, selector: { matchLabels: { app: name } } },
    status: {
      observedGeneration: 1,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: ready,
      availableReplicas: ready,
      ...(ready < replicas ? { unavailableReplicas: replicas - ready } : {}),
      conditions: [
        {
          type: 'Available',
          status: ready >= replicas ? 'True' : 'False',
          reason: ready >= replicas ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          lastTransitionTime: T0
        },
        {
          type: 'Progressing',
          status: 'True',
          reason: ready >= replicas ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
          lastTransitionTime: T0
        }
      ]
    }
  }
}

function replicaSet(name: string, ns: string, ready: number, replicas = 1) {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${name}-7d9f8c6b5d`,
      namespace: ns,
      uid: `uid-${name}-rs`,
      generation: 1,
      annotations: { 'deployment.kubernetes.io/revision': '1' },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'Deployment', name, uid: `uid-${name}`, controller: true }
      ]
    },
    spec: { replicas },
    status: {
      observedGeneration: 1,
      replicas,
      readyReplicas: ready,
      availableReplicas: ready,
      fullyLabeledReplicas: replicas
    }
  }
}

type ContainerState = {
  running?: object
  waiting?: { reason: string; message?: string }
  terminated?: object
}

function pod(
  name: string,
  ns: string,
  container: string,
  opts: { ready: boolean; restarts?: number; state?: ContainerState; last?: ContainerState }
) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${name}-7d9f8c6b5d-x2k4p`,
      namespace: ns,
      uid: `uid-${name}-pod`,
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: `${name}-7d9f8c6b5d`,
          uid: `uid-${name}-rs`,
          controller: true
        }
      ]
    },
    spec: {
      restartPolicy: 'Always',
      containers: [{ name: container, image: `${container}:sha-0123456` }]
    },
    status: {
      phase: 'Running',
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: T0 },
        { type: 'Initialized', status: 'True', lastTransitionTime: T0 },
        { type: 'ContainersReady', status: opts.ready ? 'True' : 'False', lastTransitionTime: T0 },
        { type: 'Ready', status: opts.ready ? 'True' : 'False', lastTransitionTime: T0 }
      ],
      containerStatuses: [
        {
          name: container,
          image: `${container}:sha-0123456`,
          imageID: '',
          ready: opts.ready,
          started: opts.ready,
          restartCount: opts.restarts ?? 0,
          state: opts.state ?? { running: { startedAt: T0 } },
          lastState: opts.last ?? {}
        }
      ]
    }
  }
}

/** `kubectl get deployments,replicasets,…,pods -o json` of one healthy Deployment per name. */
export function healthyList(ns: string, names: string[]): string {
  const items = names.flatMap((n) => [
    deployment(n, ns, 1),
    replicaSet(n, ns, 1),
    pod(n, ns, n, { ready: true })
  ])
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items })
}

/** The same, with `crashing` in CrashLoopBackOff after three restarts. */
export function crashLoopList(ns: string, healthy: string[], crashing: string): string {
  const items = [
    ...healthy.flatMap((n) => [
      deployment(n, ns, 1),
      replicaSet(n, ns, 1),
      pod(n, ns, n, { ready: true })
    ]),
    deployment(crashing, ns, 0),
    replicaSet(crashing, ns, 0),
    pod(crashing, ns, crashing, {
      ready: false,
      restarts: 3,
      state: {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off 40s restarting failed container=${crashing} pod=${crashing}-7d9f8c6b5d-x2k4p_${ns}`
        }
      },
      last: { terminated: { exitCode: 1, reason: 'Error', startedAt: T0, finishedAt: T0 } }
    })
  ]
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items })
}

/** A release manifest (`helm get manifest`) with one Deployment and Service per name, and an Ingress. */
export function manifest(names: string[], ingress = true): string {
  const docs = names.flatMap((n) => [
    `---\n# Source: app/templates/${n}.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${n}\n  labels:\n    app.kubernetes.io/managed-by: Helm\nspec:\n  replicas: 1\n`,
    `---\napiVersion: v1\nkind: Service\nmetadata:\n  name: ${n}\nspec:\n  ports:\n  - port: 80\n`
  ])
  if (ingress)
    docs.push(
      '---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: app\nspec:\n  ingressClassName: nginx\n'
    )
  return docs.join('')
}

export function eventsList(ns: string, pod: string): string {
  return JSON.stringify({
    items: [
      {
        metadata: { name: `${pod}.1`, namespace: ns },
        involvedObject: { kind: 'Pod', name: pod, namespace: ns },
        type: 'Warning',
        reason: 'BackOff',
        message: 'Back-off restarting failed container',
        lastTimestamp: T0,
        count: 5
      }
    ]
  })
}

/** The healthy list, with `restarted`'s container restarted once (exit code 1) and Ready again. */
export function restartedList(ns: string, healthy: string[], restarted: string): string {
  const items = [
    ...healthy.flatMap((n) => [
      deployment(n, ns, 1),
      replicaSet(n, ns, 1),
      pod(n, ns, n, { ready: true })
    ]),
    deployment(restarted, ns, 1),
    replicaSet(restarted, ns, 1),
    pod(restarted, ns, restarted, {
      ready: true,
      restarts: 1,
      last: { terminated: { exitCode: 1, reason: 'Error', startedAt: T0, finishedAt: T0 } }
    })
  ]
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items })
}

/** `kubectl get jobs,pods`: a hook Job of `hook` (e.g. `pre-install`) whose pod cannot pull its image. */
export function stuckHookList(ns: string, job: string, hook: string): string {
  const created = new Date().toISOString()
  const items = [
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: job,
        namespace: ns,
        uid: `uid-${job}`,
        creationTimestamp: created,
        annotations: { 'helm.sh/hook': hook, 'helm.sh/hook-delete-policy': 'hook-succeeded' }
      },
      spec: { completions: 1, backoffLimit: 6 },
      status: { active: 1, startTime: created }
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${job}-q8w2r`,
        namespace: ns,
        uid: `uid-${job}-pod`,
        creationTimestamp: created,
        labels: { 'batch.kubernetes.io/job-name': job },
        ownerReferences: [
          { apiVersion: 'batch/v1', kind: 'Job', name: job, uid: `uid-${job}`, controller: true }
        ]
      },
      spec: { restartPolicy: 'Never', containers: [{ name: 'create', image: 'certgen:v1.5.0' }] },
      status: {
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'create',
            image: 'certgen:v1.5.0',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: {
              waiting: {
                reason: 'ImagePullBackOff',
                message: 'Back-off pulling image "certgen:v1.5.0": ErrImagePull: not found'
              }
            }
          }
        ]
      }
    }
  ]
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items })
}

/** One Deployment whose only pod never gets past `ContainerCreating`. */
export function startingList(ns: string, name: string): string {
  const items = [
    deployment(name, ns, 0),
    replicaSet(name, ns, 0),
    pod(name, ns, name, { ready: false, state: { waiting: { reason: 'ContainerCreating' } } })
  ]
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items })
}
