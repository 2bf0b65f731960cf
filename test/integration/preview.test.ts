// Build → load → deploy → verify → diagnose through the bundled action, with stand-in tools.
import { createServer, type Server } from 'node:http'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { makeRunner, runStep, type Runner, type StepRun } from '../support/action.js'
import {
  MINIKUBE_RESTARTED,
  fakeTools,
  type FakeToolRules,
  type FakeTools
} from '../support/fake-tools.js'
import { crashLoopList, eventsList, healthyList, manifest } from '../support/kube-objects.js'
import type { Rule } from '../support/stand-in.js'

const NS = 'preview'
const CANARY = 'CANARY-s3cr3t-9f2e71'
const IMAGES = [
  '- name: todo-api',
  '  context: docker/api',
  '  values: backend.image',
  '- name: todo-web',
  '  context: docker/web',
  '  target: runtime',
  '  build-args: [NEXT_TELEMETRY_DISABLED=1]',
  '  values: frontend.image'
].join('\n')

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

function workspace(runner: Runner): void {
  for (const d of ['docker/api', 'docker/web']) {
    mkdirSync(join(runner.workspace, d), { recursive: true })
    writeFileSync(join(runner.workspace, d, 'Dockerfile'), 'FROM scratch\n')
  }
  mkdirSync(join(runner.workspace, 'charts', 'app'), { recursive: true })
  writeFileSync(
    join(runner.workspace, 'charts', 'app', 'Chart.yaml'),
    'apiVersion: v2\nname: app\nversion: 0.1.0\n'
  )
}

function helmRules(names: string[], hooks = ''): Rule[] {
  return [
    { match: ['template'], stdout: manifest(names) },
    { match: ['upgrade'], stdout: 'Release "app" has been upgraded. Happy Helming!\n' },
    {
      match: ['status', '--output'],
      stdout: JSON.stringify({ name: 'app', version: 3, info: { status: 'deployed' } })
    },
    { match: ['status'], stdout: 'NAME: app\nSTATUS: deployed\nREVISION: 3\n' },
    { match: ['history'], stdout: 'REVISION\tSTATUS\n3\tdeployed\n' },
    { match: ['get', 'manifest'], stdout: manifest(names) },
    { match: ['get', 'hooks'], stdout: hooks }
  ]
}

async function setup(rules: FakeToolRules): Promise<{ runner: Runner; tools: FakeTools }> {
  const dir = mkdtempSync(join(tmpdir(), 'mp-preview-'))
  const tools = await fakeTools(join(dir, 'tools'), rules)
  cleanups.push(() => tools.close())
  const runner = makeRunner(join(dir, 'runner'))
  workspace(runner)
  return { runner, tools }
}

function httpServer(
  handler: Parameters<typeof createServer>[1]
): Promise<{ port: number; server: Server }> {
  return new Promise((resolve) => {
    const server = createServer(handler)
    server.listen(0, '127.0.0.1', () => {
      cleanups.push(() => new Promise<void>((r) => server.close(() => r())))
      resolve({ port: (server.address() as { port: number }).port, server })
    })
  })
}

/** Every file under a folder, as text. */
function everything(dir: string): string {
  if (!existsSync(dir)) return ''
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n')
}

const argvs = (t: { argvs(): string[][] }, first: string): string[][] =>
  t.argvs().filter((a) => a[0] === first)

describe('a preview through the bundled action', () => {
  it('builds, loads, deploys with image values and reports a healthy release', async () => {
    const backend = await httpServer((req, res) => {
      res.writeHead(req.url === '/health' ? 200 : 404).end('{"status":"healthy"}')
    })
    const { runner, tools } = await setup({
      helm: helmRules(['todo-api', 'todo-web']),
      kubectl: [
        { match: ['get', /^deployments,/], stdout: healthyList(NS, ['todo-api', 'todo-web']) },
        {
          match: ['get', 'services'],
          stdout: JSON.stringify({
            items: [
              { metadata: { name: 'todo-api', namespace: NS }, spec: { ports: [{ port: 8001 }] } }
            ]
          })
        },
        { match: ['port-forward'], forward: { port: backend.port } }
      ]
    })
    const main = await runStep(runner, {
      inputs: {
        ...tools.inputs,
        images: IMAGES,
        'health-checks':
          '- service: todo-api\n  port: 8001\n  path: /health\n  expect-body: healthy'
      },
      path: tools.path
    })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.outputs).toMatchObject({
      status: 'healthy',
      release: 'app',
      namespace: NS,
      revision: '3'
    })
    const images = JSON.parse(main.outputs['images'] ?? '{}') as Record<
      string,
      { reference: string; id: string }
    >
    expect(images['todo-api']).toEqual({
      reference: 'todo-api:sha-0123456',
      id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/)
    })

    const builds = argvs(tools.docker, 'build')
    expect(builds).toHaveLength(2)
    expect(builds.find((b) => b.includes('todo-web:sha-0123456'))).toEqual(
      expect.arrayContaining([
        '--target',
        'runtime',
        '--build-arg',
        'NEXT_TELEMETRY_DISABLED=1',
        join(runner.workspace, 'docker/web')
      ])
    )
    expect(
      argvs(tools.minikube, 'image')
        .filter((a) => a[1] === 'load')
        .map((a) => a[2])
        .sort()
    ).toEqual(['todo-api:sha-0123456', 'todo-web:sha-0123456'])
    // A cluster this run has just created holds none of our images: nobody asks it.
    expect(argvs(tools.minikube, 'image').filter((a) => a[1] === 'ls')).toEqual([])
    // The chart has an Ingress: addons: auto turned the ingress addon on, before the deploy.
    expect(argvs(tools.minikube, 'addons')).toEqual([['addons', 'enable', 'ingress']])
    const upgrade = argvs(tools.helm, 'upgrade')[0] ?? []
    expect(upgrade.slice(0, 7)).toEqual([
      'upgrade',
      '--install',
      'app',
      join(runner.workspace, 'charts/app'),
      '--namespace',
      NS,
      '--create-namespace'
    ])
    for (const v of [
      'backend.image.repository=todo-api',
      'backend.image.tag=sha-0123456',
      'backend.image.pullPolicy=IfNotPresent',
      'frontend.image.repository=todo-web'
    ]) {
      expect(upgrade).toContain(v)
    }
    expect(main.summary).toContain('todo-api')
    const report = JSON.parse(readFileSync(main.outputs['report'] as string, 'utf8')) as {
      healthChecks: { ok: boolean; status: number }[]
      steps: { id: string; status: string }[]
    }
    expect(report.healthChecks).toEqual([expect.objectContaining({ ok: true, status: 200 })])
    expect(report.steps.every((s) => s.status === 'success')).toBe(true)
  })

  it('does not load an image the node of a cluster started again already has', async () => {
    const id = 'sha256:4c7d1e0f5a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d'
    const { runner, tools } = await setup({
      minikube: [
        MINIKUBE_RESTARTED,
        {
          match: ['image', 'ls'],
          stdout: JSON.stringify([
            {
              id: id.slice(7),
              repoTags: ['docker.io/library/todo-api:sha-0123456'],
              size: '155000000'
            }
          ])
        }
      ],
      helm: helmRules(['todo-api']),
      kubectl: [{ match: ['get', /^deployments,/], stdout: healthyList(NS, ['todo-api']) }]
    })
    const main = await runStep(runner, {
      inputs: {
        ...tools.inputs,
        images: '- name: todo-api\n  context: docker/api\n  values: backend.image'
      },
      path: tools.path
    })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(argvs(tools.minikube, 'image').filter((a) => a[1] === 'load')).toEqual([])
    expect(main.stdout).toContain('is already on the cluster')
  })

  it('builds inside the cluster with image-load: docker-env', async () => {
    const { runner, tools } = await setup({
      helm: helmRules(['todo-api']),
      kubectl: [{ match: ['get', /^deployments,/], stdout: healthyList(NS, ['todo-api']) }]
    })
    const main = await runStep(runner, {
      inputs: {
        ...tools.inputs,
        images: '- name: todo-api\n  context: docker/api\n  values: backend.image',
        'image-load': 'docker-env'
      },
      path: tools.path
    })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(argvs(tools.minikube, 'start')[0]).toContain('--container-runtime=docker')
    const build = tools.docker.calls().find((c) => c.argv[0] === 'build')
    expect(build?.env?.['DOCKER_HOST']).toBe('tcp://192.168.49.2:2376')
    expect(argvs(tools.minikube, 'image')).toEqual([])
  })

  it('reports the failing Dockerfile step of a failed build and skips the deploy', async () => {
    const buildOutput = [
      '#8 [builder 4/5] RUN pip install -r requirements.txt',
      '#8 ERROR: process "/bin/sh -c pip install -r requirements.txt" did not complete successfully: exit code: 1',
      '------',
      ' > [builder 4/5] RUN pip install -r requirements.txt:',
      '2.301 ERROR: No matching distribution found for fastapi==99.0',
      '------',
      'ERROR: failed to build: failed to solve: process "/bin/sh -c pip install -r requirements.txt" did not complete successfully: exit code: 1'
    ].join('\n')
    const { runner, tools } = await setup({
      docker: [{ match: ['build'], exitCode: 1, stderr: buildOutput }],
      helm: helmRules(['todo-api'])
    })
    const main = await runStep(runner, {
      inputs: {
        ...tools.inputs,
        images: '- name: todo-api\n  context: docker/api\n  values: backend.image'
      },
      path: tools.path
    })
    expect(main.exitCode).toBe(1)
    expect(main.outputs['status']).toBe('error')
    const error = main.errors.join('\n')
    expect(error).toContain('docker build of todo-api:sha-0123456 failed')
    expect(error).toContain('No matching distribution found for fastapi==99.0')
    expect(argvs(tools.helm, 'upgrade')).toEqual([])
    expect(main.stdout).toMatch(/Deploy with helm: skipped because 'Build todo-api' failed/)
  })

  it('ends unhealthy on a crash loop at once, names the workload, and collects diagnostics without leaking secrets', async () => {
    const crashPod = 'todo-api-7d9f8c6b5d-x2k4p'
    const { runner, tools } = await setup({
      helm: helmRules(['todo-api', 'todo-web']),
      kubectl: [
        { match: ['get', /^deployments,/], stdout: crashLoopList(NS, ['todo-web'], 'todo-api') },
        { match: ['get', 'events'], stdout: eventsList(NS, crashPod) },
        {
          match: ['describe', 'pod'],
          stdout: `Name: ${crashPod}\nState: Waiting\n  Reason: CrashLoopBackOff\n`
        },
        {
          match: ['logs'],
          stdout: `connecting to postgresql://app:${CANARY}@db:5432/app\nFATAL: password authentication failed\n`
        },
        {
          match: ['get', 'pod'],
          stdout: JSON.stringify(
            (
              JSON.parse(crashLoopList(NS, [], 'todo-api')) as { items: { kind: string }[] }
            ).items.find((i) => i.kind === 'Pod')
          )
        }
      ]
    })
    const started = Date.now()
    const main: StepRun = await runStep(runner, {
      inputs: {
        ...tools.inputs,
        images: IMAGES,
        'secret-values': `backend.database.password=${CANARY}`,
        'wait-timeout': '5m'
      },
      path: tools.path
    })
    // fail-fast: the verdict does not wait out the five minutes.
    expect(Date.now() - started).toBeLessThan(60_000)
    expect(main.exitCode).toBe(1)
    expect(main.outputs['status']).toBe('unhealthy')
    const error = main.errors.join('\n')
    expect(error).toContain('todo-api')
    expect(error).toContain('CrashLoopBackOff')
    const report = JSON.parse(readFileSync(main.outputs['report'] as string, 'utf8')) as {
      workloads: { name: string; state: string }[]
      diagnostics: { sections: { title: string; body: string }[]; file: string }
    }
    expect(report.workloads.map((w) => [w.name, w.state]).sort()).toEqual([
      ['todo-api', 'failed'],
      ['todo-web', 'healthy']
    ])
    const diag = report.diagnostics.sections.map((s) => `${s.title}\n${s.body}`).join('\n')
    expect(diag).toContain('Back-off restarting failed container')
    expect(diag).toContain('password authentication failed')
    expect(main.stdout).toContain('::group::')
    // No artifact service outside GitHub: a warning, never a failure of its own.
    expect(main.warnings.join('\n')).toContain('Could not upload the diagnostics artifact')

    // The secret went to helm only as a values file, deleted afterwards, and nowhere else.
    const upgrade = argvs(tools.helm, 'upgrade')[0] ?? []
    const file = upgrade[upgrade.lastIndexOf('--values') + 1] ?? ''
    expect(file).toMatch(/secret-values\.yaml$/)
    expect(existsSync(file)).toBe(false)
    // `::add-mask::` is how the runner learns the secret; it never shows that line.
    const shown = main.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::'))
    expect(shown.length).toBeLessThan(main.stdout.split('\n').length)
    const produced = [
      shown.join('\n'),
      main.stderr,
      JSON.stringify(main.outputs),
      main.summary,
      everything(runner.temp),
      JSON.stringify([
        tools.helm.calls(),
        tools.kubectl.calls(),
        tools.minikube.calls(),
        tools.docker.calls()
      ])
    ].join('\n')
    expect(produced).toContain('password authentication failed')
    expect(produced).not.toContain(CANARY)
  })

  it('rolls back with rollback-on-failure, only after the diagnostics were collected', async () => {
    const { runner, tools } = await setup({
      helm: [
        { match: ['rollback'], stdout: 'Rollback was a success! Happy Helming!\n' },
        ...helmRules(['todo-api'])
      ],
      kubectl: [
        { match: ['get', /^deployments,/], stdout: crashLoopList(NS, [], 'todo-api') },
        { match: ['get', 'events'], stdout: eventsList(NS, 'todo-api-7d9f8c6b5d-x2k4p') }
      ]
    })
    const main = await runStep(runner, {
      inputs: {
        ...tools.inputs,
        images: '- name: todo-api\n  context: docker/api\n  values: backend.image',
        'rollback-on-failure': 'true'
      },
      path: tools.path
    })
    expect(main.exitCode).toBe(1)
    expect(main.outputs['status']).toBe('unhealthy')
    const helmCalls = tools.helm.argvs().map((a) => a.slice(0, 2).join(' '))
    // Revision 3 was deployed: back to the one before, after `helm status` of the diagnostics.
    expect(helmCalls).toContain('rollback app')
    expect(helmCalls.indexOf('rollback app')).toBeGreaterThan(helmCalls.indexOf('status app'))
    expect(
      tools.helm.argvs().some((a) => a.includes('--atomic') || a.includes('--rollback-on-failure'))
    ).toBe(false)
  })
})
