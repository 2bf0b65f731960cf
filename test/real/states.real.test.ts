// The bundled action with `cluster: existing` against real containers: a kubelet with containerd
// and runc (scripts/lib/real-node.sh), the real helm and kubectl. Each failure here is what a real
// kubelet reports, not a simulated state.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KUBECTL, serveTools, type ClusterTools } from '../e2e/cluster.js'
import { ROOT, makeRunner, runStep, type StepRun } from '../support/action.js'
import { BUSYBOX, REAL_NODE, realClusterUp, type RealCluster } from './node.js'

const STATES = join(ROOT, 'test', 'real', 'charts', 'states')

let cluster: RealCluster
let server: ClusterTools

beforeAll(async () => {
  cluster = realClusterUp(`mp-real-${process.pid}`)
  server = await serveTools(cluster.tools)
})

afterAll(async () => {
  await server?.close()
  cluster?.down()
})

interface Report {
  status: string
  workloads: {
    kind: string
    name: string
    state: string
    reason?: string
    message?: string
    summary?: string
  }[]
  diagnostics?: { sections: { title: string; body: string }[] }
}

async function preview(namespace: string, inputs: Record<string, string>) {
  cluster.realNamespace(namespace)
  const runner = makeRunner(mkdtempSync(join(tmpdir(), 'mp-real-')))
  const started = Date.now()
  const main: StepRun = await runStep(runner, {
    inputs: {
      cluster: 'existing',
      ...server.inputs,
      'wait-timeout': '2m',
      'helm-test': 'false',
      comment: 'never',
      chart: STATES,
      namespace,
      ...inputs
    },
    env: { KUBECONFIG: cluster.kubeconfig },
    timeoutMs: 300_000
  })
  const file = main.outputs['report']
  if (!file) throw new Error(`no report; the action printed:\n${main.stdout}\n${main.stderr}`)
  const report = JSON.parse(readFileSync(file, 'utf8')) as Report
  return { main, report, seconds: (Date.now() - started) / 1000 }
}

const diagnostics = (r: Report) =>
  (r.diagnostics?.sections ?? []).map((s) => `${s.title}\n${s.body}`).join('\n')

/** Where each pod of a namespace ran. */
const nodesOf = (ns: string) =>
  cluster
    .kubectl(['get', 'pods', '-n', ns, '-o', 'jsonpath={.items[*].spec.nodeName}'])
    .split(/\s+/)
    .filter(Boolean)

describe('real failures on a real kubelet', () => {
  it('the node is a real kubelet, Ready beside the simulated node', () => {
    const nodes = JSON.parse(cluster.kubectl(['get', 'nodes', '-o', 'json'])) as {
      items: {
        metadata: { name: string }
        status: {
          nodeInfo: { containerRuntimeVersion: string; kubeletVersion: string }
          addresses: { type: string; address: string }[]
        }
      }[]
    }
    const real = nodes.items.find((n) => n.metadata.name === REAL_NODE)
    expect(real?.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\//)
    expect(real?.status.nodeInfo.kubeletVersion).toBe(KUBECTL)
    expect(real?.status.addresses).toContainEqual(
      expect.objectContaining({ type: 'InternalIP', address: expect.stringMatching(/^10\.243\./) })
    )
    expect(nodes.items.map((n) => n.metadata.name)).toContain('minikube')
  })

  // Each case first deploys the healthy workload alone, then turns its failure on: `web` is
  // healthy before and stays healthy, whatever the timing of the failing pod.
  // A container that exits at once is, between the kubelet's back-offs, briefly Running and (with
  // no readiness probe) Ready, and mostly shows its last exit (terminated, Error) rather than
  // CrashLoopBackOff: either is a crash, with its exit code; after the rollout completed, stable-for
  // calls it Restarted.
  it.each([
    ['crash', 'crash', /^(CrashLoopBackOff|Error|Restarted)$/, /exit code 1/],
    ['neverPull', 'never-pull', /^ErrImageNeverPull$/, /not present with pull policy of Never/],
    ['missingSecret', 'missing-secret', /^CreateContainerConfigError$/, /no-such-secret/],
    ['oom', 'oom', /^OOMKilled$/, /137|memory/i],
    ['lateCrash', 'late-crash', /^(Restarted|CrashLoopBackOff|Error)$/, /exit(ed with)? code 1/]
  ])(
    '%s: unhealthy, the failing workload named, the one beside it healthy',
    async (value, name, reason, message) => {
      const ns = `real-${name.toLowerCase()}`
      const image = `image.repository=${BUSYBOX.repository}\nimage.tag=${BUSYBOX.tag}`
      const before = await preview(ns, { set: image })
      expect(before.main.exitCode, before.main.stdout).toBe(0)
      expect(before.report.workloads.map((w) => `${w.name} ${w.state}`)).toEqual(['web healthy'])
      const { main, report } = await preview(ns, { set: `${value}=true\n${image}` })
      expect(main.exitCode, main.stdout).toBe(1)
      expect(report.status).toBe('unhealthy')
      const bad = report.workloads.find((w) => w.name === name)
      expect(bad?.state, JSON.stringify(bad)).toBe('failed')
      expect(bad?.reason, JSON.stringify(bad)).toMatch(reason)
      expect(`${bad?.message} ${bad?.summary}`, JSON.stringify(bad)).toMatch(message)
      expect(report.workloads.find((w) => w.name === 'web')?.state).toBe('healthy')
      expect(main.errors.join('\n')).toContain(name)
      if (name === 'crash') expect(diagnostics(report)).toContain('fatal: no configuration found')
      if (name === 'late-crash') expect(diagnostics(report)).toContain('fatal: lost the database')
      expect(new Set(nodesOf(ns))).toEqual(new Set([REAL_NODE]))
    }
  )
})
