import { describe, expect, it } from 'vitest'
import { buildArgs } from '../../src/tools/docker.js'
import {
  parseHelmVersion,
  testHooks,
  translateHelmArgs,
  upgradeArgs,
  valuesArgs,
  manifestObjects
} from '../../src/tools/helm.js'
import { minikubeReason, sameImageId, sameReference, startArgs } from '../../src/tools/minikube.js'
import { secretValuesDocument } from '../../src/deploy/values.js'

const base = {
  driver: 'docker',
  cpus: '2',
  memory: '4096mb',
  nodes: 1,
  kubernetesVersion: '',
  waitTimeoutMs: 300_000,
  extraArgs: [] as string[]
}

describe('minikube argv', () => {
  it.each([
    [
      base,
      [
        'start',
        '--driver=docker',
        '--cpus=2',
        '--memory=4096mb',
        '--nodes=1',
        '--interactive=false',
        '--wait=apiserver,system_pods,node_ready',
        '--wait-timeout=300s'
      ]
    ],
    [
      {
        ...base,
        kubernetesVersion: 'v1.36.2',
        containerRuntime: 'docker',
        extraArgs: ['--extra-config=kubelet.max-pods=50']
      },
      [
        'start',
        '--driver=docker',
        '--cpus=2',
        '--memory=4096mb',
        '--nodes=1',
        '--interactive=false',
        '--wait=apiserver,system_pods,node_ready',
        '--wait-timeout=300s',
        '--kubernetes-version=v1.36.2',
        '--container-runtime=docker',
        '--extra-config=kubelet.max-pods=50'
      ]
    ]
  ])('start %#', (opts, argv) => expect(startArgs(opts)).toEqual(argv))

  it.each([
    [
      '❌  Exiting due to GUEST_PROVISION: error provisioning guest: Failed to start host\n',
      'GUEST_PROVISION: error provisioning guest: Failed to start host'
    ],
    [
      'X Exiting due to RSRC_INSUFFICIENT_CORES: Requested cpu count 4 is greater than the available cpus of 2',
      'RSRC_INSUFFICIENT_CORES: Requested cpu count 4 is greater than the available cpus of 2'
    ],
    ['some other failure', undefined]
  ])('reason of %j', (out, reason) => expect(minikubeReason(out)).toBe(reason))

  it.each([
    ['sha256:4c7d1e0f5a3b2c1d0e9f', '4c7d1e0f5a3b', true],
    ['4c7d1e0f5a3b2c1d', 'sha256:4c7d1e0f5a3b2c1d0e9f', true],
    ['sha256:4c7d1e0f5a3b', 'sha256:5c7d1e0f5a3b', false],
    ['4c7d', '4c7d', false]
  ])('image id %s ~ %s', (a, b, same) => expect(sameImageId(a, b)).toBe(same))

  it.each([
    ['docker.io/library/api:sha-1234567', 'api:sha-1234567', true],
    ['docker.io/acme/api:sha-1234567', 'acme/api:sha-1234567', true],
    ['docker.io/library/api:sha-7654321', 'api:sha-1234567', false]
  ])('reference %s ~ %s', (a, b, same) => expect(sameReference(a, b)).toBe(same))
})

describe('docker argv', () => {
  it('builds with every setting as its own argument', () => {
    expect(
      buildArgs(
        {
          name: 'api',
          context: '/w/docker/api',
          dockerfile: '/w/docker/api/Dockerfile.prod',
          target: 'runtime',
          platform: 'linux/arm64',
          buildArgs: [{ key: 'GREETING', value: 'hello world; rm -rf /' }],
          values: 'api.image'
        },
        'api:sha-1234567'
      )
    ).toEqual([
      'build',
      '--progress=plain',
      '--tag',
      'api:sha-1234567',
      '--file',
      '/w/docker/api/Dockerfile.prod',
      '--target',
      'runtime',
      '--platform',
      'linux/arm64',
      '--build-arg',
      'GREETING=hello world; rm -rf /',
      '/w/docker/api'
    ])
  })
})

describe('helm argv', () => {
  const values = {
    valuesFiles: ['/w/values-ci.yaml'],
    secretValuesFile: '/tmp/s/secret-values.yaml',
    set: ['backend.replicaCount=2'],
    setString: ['frontend.env.GREETING=01'],
    images: [{ path: 'backend.image', repository: 'todo-chatbot-backend', tag: 'sha-1234567' }]
  }

  it('puts user values after image values so the user wins', () => {
    expect(valuesArgs(values)).toEqual([
      '--values',
      '/w/values-ci.yaml',
      '--values',
      '/tmp/s/secret-values.yaml',
      '--set-string',
      'backend.image.repository=todo-chatbot-backend',
      '--set-string',
      'backend.image.tag=sha-1234567',
      '--set-string',
      'backend.image.pullPolicy=IfNotPresent',
      '--set',
      'backend.replicaCount=2',
      '--set-string',
      'frontend.env.GREETING=01'
    ])
  })

  it.each([
    [4, ['--atomic', '--description', 'x'], ['--rollback-on-failure', '--description', 'x'], true],
    [3, ['--rollback-on-failure'], ['--atomic'], true],
    [3, ['--atomic'], ['--atomic'], false],
    [4, ['--rollback-on-failure=true'], ['--rollback-on-failure=true'], false]
  ])('helm %i translates %j', (major, given, args, noted) => {
    const t = translateHelmArgs(given, major)
    expect(t.args).toEqual(args)
    expect(t.note !== undefined).toBe(noted)
  })

  it('upgrades with --install, namespace, timeout, values and user args', () => {
    expect(
      upgradeArgs({
        ...values,
        release: 'todo',
        chart: '/w/charts/todo',
        namespace: 'preview',
        timeoutMs: 300_000,
        helmArgs: ['--atomic'],
        helmMajor: 4
      })
    ).toEqual([
      'upgrade',
      '--install',
      'todo',
      '/w/charts/todo',
      '--namespace',
      'preview',
      '--create-namespace',
      '--timeout',
      '300s',
      ...valuesArgs(values),
      '--rollback-on-failure'
    ])
  })

  it('leaves --create-namespace out where the namespace was prepared beforehand', () => {
    const args = upgradeArgs({
      release: 'todo',
      chart: '/w/charts/todo',
      namespace: 'pr-7',
      timeoutMs: 60_000,
      helmArgs: [],
      helmMajor: 4,
      valuesFiles: [],
      set: [],
      setString: [],
      images: [],
      createNamespace: false
    })
    expect(args).not.toContain('--create-namespace')
    expect(args.slice(0, 6)).toEqual([
      'upgrade',
      '--install',
      'todo',
      '/w/charts/todo',
      '--namespace',
      'pr-7'
    ])
  })

  it('never puts a secret value on argv, only the file', () => {
    const argv = upgradeArgs({
      ...values,
      release: 'r',
      chart: 'c',
      namespace: 'n',
      timeoutMs: 1000,
      helmArgs: [],
      helmMajor: 3
    })
    expect(argv.join(' ')).not.toContain('hunter2')
    expect(
      secretValuesDocument([
        { key: 'db.password', value: 'hunter2' },
        { key: 'db.user', value: 'app' },
        { key: 'token', value: 't' }
      ])
    ).toEqual({
      db: { password: 'hunter2', user: 'app' },
      token: 't'
    })
  })

  it.each([
    ['v4.3.1+g8f5a7b2\n', { version: 'v4.3.1', major: 4 }],
    ['v3.22.0+gabcdef', { version: 'v3.22.0', major: 3 }]
  ])('reads version %j', (out, v) => expect(parseHelmVersion(out)).toEqual(v))

  it('finds workloads and test hooks in a manifest', () => {
    const manifest = [
      '---',
      '# Source: app/templates/deploy.yaml',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-backend\n',
      '---',
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: app-test\n  annotations:\n    helm.sh/hook: test\n    helm.sh/hook-delete-policy: before-hook-creation\n',
      '---',
      'apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: app-migrate\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n'
    ].join('\n')
    expect(manifestObjects(manifest).map((o) => `${o.kind}/${o.name}`)).toEqual([
      'Deployment/app-backend',
      'Pod/app-test',
      'Job/app-migrate'
    ])
    expect(testHooks(manifest).map((o) => o.name)).toEqual(['app-test'])
  })
})
