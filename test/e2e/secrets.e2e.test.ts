// Secrets through the bundled action with the real helm and kubectl on a real control plane: the
// reference chart puts the secret values into Secrets (base64, and a password inside a
// base64 DATABASE_URL), the pods print them in their logs, and nothing the run produced holds
// them in any form, even decoded.
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, makeRunner, runStep, type StepRun } from '../support/action.js'
import {
  clusterUp,
  criLogFile,
  routePods,
  type Cluster,
  serveTools,
  type ClusterTools
} from './cluster.js'

const CHART = join(ROOT, 'charts', 'todo-chatbot')
const CANARY = 'Zx9Q-canary-51f0a7'
// Spaces: helm's urlquery writes them as `+` inside the DATABASE_URL.
const SPACED = 'Qw7R  spaced  b3k8'

let cluster: Cluster
let server: ClusterTools

beforeAll(async () => {
  cluster = clusterUp(`mp-e2e-secrets-${process.pid}`)
  server = await serveTools(cluster.tools)
})

afterAll(async () => {
  await server?.close()
  cluster?.down()
})

function everything(dir: string): string {
  if (!existsSync(dir)) return ''
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .map((f) => readFileSync(f, 'utf8'))
    .filter((text) => !text.includes('\0'))
    .join('\n')
}

function shown(step: StepRun): string {
  return [
    step.stdout
      .split('\n')
      .filter((l) => !l.startsWith('::add-mask::'))
      .join('\n'),
    step.stderr,
    JSON.stringify(step.outputs),
    step.summary
  ].join('\n')
}

/** Every base64-looking word of the text, decoded at each of its four alignments. */
function decodedBase64(text: string): string {
  return (text.match(/[A-Za-z0-9+/]{8,}={0,2}/g) ?? [])
    .flatMap((w) => [0, 1, 2, 3].map((i) => Buffer.from(w.slice(i), 'base64').toString('latin1')))
    .join('\n')
}

describe('secrets on a real control plane', () => {
  it('reach the chart, and no output, log, report, diagnostics or file of the run', async () => {
    const ns = 'e2e-secrets'
    routePods(cluster, ns, {
      logs: criLogFile([
        `connecting to postgresql://pgadmin1:${SPACED}@todo-chatbot-postgresql:5432/todo`,
        `using API key ${CANARY}`,
        'FATAL: could not connect to database'
      ])
    })
    const runner = makeRunner(mkdtempSync(join(tmpdir(), 'mp-e2e-secrets-')))
    const opts = {
      inputs: {
        cluster: 'existing',
        ...server.inputs,
        chart: CHART,
        namespace: ns,
        comment: 'never',
        'helm-test': 'false',
        set: [
          'backend.image.repository=todo-chatbot-backend',
          'backend.image.tag=e2e',
          'frontend.image.repository=todo-chatbot-frontend',
          'frontend.image.tag=e2e',
          'backend.podLabels.minikube-preview\\.test/state=crash-loop',
          // 'postgresql://pgadmin1:' is 22 bytes: the password does not start on a base64 boundary.
          'postgresql.auth.username=pgadmin1'
        ].join('\n'),
        'secret-values': `postgresql.auth.password=${SPACED}\nbackend.secretEnv.API_KEY=${CANARY}`
      },
      env: { KUBECONFIG: cluster.kubeconfig },
      timeoutMs: 420_000
    }
    const main = await runStep(runner, opts)
    expect(main.exitCode).toBe(1)
    expect(main.outputs['status']).toBe('unhealthy')
    const report = readFileSync(main.outputs['report'] as string, 'utf8')
    expect(report).toContain('FATAL: could not connect to database')
    expect(report).toContain('using API key ***')

    // The secrets did reach the release: the chart's Secrets hold them.
    const secrets = JSON.parse(cluster.kubectl(['get', 'secrets', '-n', ns, '-o', 'json'])) as {
      items: { data?: Record<string, string> }[]
    }
    const values = secrets.items
      .flatMap((s) => Object.values(s.data ?? {}))
      .map((v) => Buffer.from(v, 'base64').toString('utf8'))
    expect(values).toContain(CANARY)
    expect(values).toContain(SPACED)
    expect(values.some((v) => v.includes(encodeURIComponent(SPACED).replace(/%20/g, '+')))).toBe(
      true
    )

    const post = await runStep(runner, { ...opts, state: main.state })
    expect(post.exitCode, post.stdout).toBe(0)
    const produced = [shown(main), shown(post), everything(runner.root)].join('\n')
    const all = `${produced}\n${decodedBase64(produced)}`
    for (const secret of [
      CANARY,
      SPACED,
      SPACED.replace(/\s+/g, ' '),
      SPACED.replace(/ /g, '+'),
      CANARY.slice(0, 5),
      SPACED.slice(0, 5)
    ])
      expect(all).not.toContain(secret)
  })
})
