// The reference chart (frontend, backend, in-cluster PostgreSQL) on real containers: images built
// from docker/ by the real Docker engine on local bases, imported into the real node, deployed by
// the bundled action with `cluster: existing`, the chart's security settings unchanged.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveTools, type ClusterTools } from '../e2e/cluster.js'
import { ROOT, makeRunner, runStep, type StepRun } from '../support/action.js'
import { BUSYBOX, REAL_NODE, postgresImage, realClusterUp, type RealCluster } from './node.js'

const CHART = join(ROOT, 'charts', 'todo-chatbot')
const TAG = 'real'

let cluster: RealCluster
let server: ClusterTools
let postgres: { repository: string; tag: string }

function docker(args: string[]): string {
  return execFileSync('docker', args, {
    encoding: 'utf8',
    timeout: 1_800_000,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024
  })
}

function base(name: string): string {
  const image = process.env[`MP_${name}_IMAGE`]
  if (!image) throw new Error(`MP_${name}_IMAGE is not set: run through vitest.real.config.ts`)
  return image
}

/**
 * The reference images as one `docker save` archive, built by the test Docker engine on the local
 * bases of scripts/docker-bases.sh (registries are out of reach; `--network host` lets pip and npm
 * reach theirs), and cached by what they are made of: the files of docker/backend and
 * docker/frontend and the bases' names.
 */
function appImages(): string {
  const hash = createHash('sha256').update(`${base('PYTHON')}\n${base('NODE')}\n`)
  const files = execFileSync('git', ['ls-files', 'docker/backend', 'docker/frontend'], {
    cwd: ROOT,
    encoding: 'utf8'
  })
  for (const f of files.split('\n').filter(Boolean).sort()) {
    if (!existsSync(join(ROOT, f))) continue
    hash.update(`${f}\n`).update(readFileSync(join(ROOT, f)))
  }
  const cache = join(
    process.env['MP_CACHE'] || join(homedir(), '.cache', 'minikube-preview'),
    'real-node-images',
    `todo-chatbot-${hash.digest('hex').slice(0, 16)}`
  )
  const archive = join(cache, 'app.tar')
  if (existsSync(archive)) return archive
  docker([
    'build',
    '--network',
    'host',
    '--build-arg',
    `PYTHON_IMAGE=${base('PYTHON')}`,
    '-t',
    `todo-chatbot-backend:${TAG}`,
    join(ROOT, 'docker', 'backend')
  ])
  docker([
    'build',
    '--network',
    'host',
    '--build-arg',
    `NODE_IMAGE=${base('NODE')}`,
    '-t',
    `todo-chatbot-frontend:${TAG}`,
    join(ROOT, 'docker', 'frontend')
  ])
  mkdirSync(cache, { recursive: true })
  docker([
    'save',
    '-o',
    `${archive}.tmp`,
    `todo-chatbot-backend:${TAG}`,
    `todo-chatbot-frontend:${TAG}`
  ])
  renameSync(`${archive}.tmp`, archive)
  return archive
}

beforeAll(async () => {
  const archive = appImages()
  const pg = postgresImage()
  postgres = pg
  cluster = realClusterUp(`mp-real-ref-${process.pid}`)
  cluster.importImages([archive, pg.archive])
  server = await serveTools(cluster.tools)
})

afterAll(async () => {
  await server?.close()
  cluster?.down()
})

interface Report {
  status: string
  workloads: { kind: string; name: string; state: string; reason?: string; ready: string }[]
  healthChecks: { label: string; ok: boolean; status?: number; error?: string }[]
  helmTest?: { passed: boolean; pods: { name: string; phase: string; log?: string }[] }
}

async function preview(namespace: string, inputs: Record<string, string>) {
  cluster.realNamespace(namespace)
  const runner = makeRunner(mkdtempSync(join(tmpdir(), 'mp-real-')))
  const main: StepRun = await runStep(runner, {
    inputs: {
      cluster: 'existing',
      ...server.inputs,
      'wait-timeout': '5m',
      comment: 'never',
      chart: CHART,
      namespace,
      ...inputs
    },
    env: { KUBECONFIG: cluster.kubeconfig },
    timeoutMs: 480_000
  })
  const file = main.outputs['report']
  if (!file) throw new Error(`no report; the action printed:\n${main.stdout}\n${main.stderr}`)
  return { main, report: JSON.parse(readFileSync(file, 'utf8')) as Report }
}

/** The chart's own images, only their tags and the PostgreSQL and test images changed. */
const values = () =>
  [
    `backend.image.tag=${TAG}`,
    `frontend.image.tag=${TAG}`,
    `postgresql.image.repository=${postgres.repository}`,
    `postgresql.image.tag=${postgres.tag}`,
    `tests.image.repository=${BUSYBOX.repository}`,
    `tests.image.tag=${BUSYBOX.tag}`
  ].join('\n')

describe('the reference app on real containers', () => {
  it('is healthy: real probes, port-forward checks of the backend and the frontend page, helm test', async () => {
    const ns = 'real-todo'
    const { main, report } = await preview(ns, {
      set: values(),
      'health-checks': [
        '- service: todo-chatbot-backend',
        '  port: 8001',
        '  path: /health',
        '  expect-body: healthy',
        '- service: todo-chatbot-frontend',
        '  port: 80',
        '  path: /'
      ].join('\n')
    })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(report.status).toBe('healthy')
    expect(report.workloads.map((w) => `${w.kind}/${w.name} ${w.state} ${w.ready}`).sort()).toEqual(
      [
        'Deployment/todo-chatbot-backend healthy 1/1',
        'Deployment/todo-chatbot-frontend healthy 1/1',
        'StatefulSet/todo-chatbot-postgresql healthy 1/1'
      ]
    )
    expect(report.healthChecks.map((c) => [c.ok, c.status])).toEqual([
      [true, 200],
      [true, 200]
    ])
    expect(report.helmTest?.passed, JSON.stringify(report.helmTest)).toBe(true)

    // Really there: each pod on the real node, run by containerd as the chart says.
    const pods = JSON.parse(cluster.kubectl(['get', 'pods', '-n', ns, '-o', 'json'])) as {
      items: {
        metadata: { name: string }
        spec: {
          nodeName: string
          containers: {
            securityContext?: { readOnlyRootFilesystem?: boolean; runAsNonRoot?: boolean }
          }[]
        }
        status: { containerStatuses?: { containerID: string; ready: boolean }[] }
      }[]
    }
    const app = pods.items.filter((p) => !p.metadata.name.endsWith('test-connection'))
    expect(app).toHaveLength(3)
    for (const p of app) {
      expect(p.spec.nodeName, p.metadata.name).toBe(REAL_NODE)
      expect(p.status.containerStatuses?.[0]?.containerID).toMatch(/^containerd:\/\//)
      expect(p.spec.containers[0]?.securityContext?.readOnlyRootFilesystem).toBe(true)
    }
    // The backend reached the real PostgreSQL: its readiness endpoint checks the database.
    const ready = cluster.kubectl([
      'exec',
      '-n',
      ns,
      'deploy/todo-chatbot-frontend',
      '--',
      'node',
      '-e',
      'fetch("http://todo-chatbot-backend:8001/ready").then(async (r) => console.log(r.status, await r.text()))'
    ])
    expect(ready).toMatch(/^200 /)
    const logs = cluster.kubectl(['logs', '-n', ns, 'statefulset/todo-chatbot-postgresql'])
    expect(logs).toContain('database system is ready to accept connections')
  })
})
