// One namespace per pull request on a real control plane, through the bundled action: with
// `cluster: existing` on a pull-request event and no `namespace` input the release lands in
// `pr-<number>`; two pull requests side by side each get their own; an explicit namespace wins.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, makeRunner, runStep, type StepRun } from '../support/action.js'
import { clusterUp, type Cluster, serveTools, type ClusterTools } from './cluster.js'

const CHART = join(ROOT, 'test', 'e2e', 'charts', 'verdicts')

let cluster: Cluster
let server: ClusterTools

beforeAll(async () => {
  cluster = clusterUp(`mp-inputs-${process.pid}`)
  server = await serveTools(cluster.tools)
})

afterAll(async () => {
  await server?.close()
  cluster?.down()
})

/** The bundled action on a `pull_request` event for PR `number`. */
async function onPullRequest(
  number: number,
  inputs: Record<string, string> = {}
): Promise<StepRun> {
  const runner = makeRunner(mkdtempSync(join(tmpdir(), 'mp-namespace-e2e-')))
  const event = join(runner.root, 'event.json')
  writeFileSync(
    event,
    JSON.stringify({
      action: 'opened',
      number,
      pull_request: { number, head: { sha: `${number}`.padStart(40, 'a') } }
    })
  )
  return runStep(runner, {
    inputs: {
      cluster: 'existing',
      chart: CHART,
      release: 'calm',
      ...server.inputs,
      'wait-timeout': '4m',
      'stable-for': '0s',
      comment: 'never',
      ...inputs
    },
    env: {
      KUBECONFIG: cluster.kubeconfig,
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: event
    },
    timeoutMs: 420_000
  })
}

/** Namespaces where helm keeps a release named `calm`. */
function releaseNamespaces(): string[] {
  const secrets = JSON.parse(
    cluster.kubectl([
      'get',
      'secrets',
      '--all-namespaces',
      '--selector',
      'owner=helm,name=calm',
      '--output',
      'json'
    ])
  ) as { items: { metadata: { namespace: string } }[] }
  return [...new Set(secrets.items.map((s) => s.metadata.namespace))].sort()
}

describe('the namespace of a pull request on a real cluster', () => {
  it('two pull requests side by side each deploy healthy into their own pr-<number>', async () => {
    const seven = await onPullRequest(7)
    expect(seven.exitCode, seven.stdout).toBe(0)
    expect(seven.outputs['namespace']).toBe('pr-7')
    const eight = await onPullRequest(8)
    expect(eight.exitCode, eight.stdout).toBe(0)
    expect(eight.outputs['namespace']).toBe('pr-8')
    expect(releaseNamespaces()).toEqual(['pr-7', 'pr-8'])
    const report = JSON.parse(readFileSync(eight.outputs['report'] as string, 'utf8')) as {
      status: string
    }
    expect(report.status).toBe('healthy')
  })

  it('an explicit namespace wins over pr-<number>', async () => {
    const main = await onPullRequest(9, { namespace: 'qa-shared' })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.outputs['namespace']).toBe('qa-shared')
    expect(releaseNamespaces()).toContain('qa-shared')
    expect(releaseNamespaces()).not.toContain('pr-9')
  })
})
