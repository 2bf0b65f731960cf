import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import type { WorkloadRef } from '../../src/model.js'
import { evaluate } from '../../src/verify/health.js'

// ---- Recorded from a real kubelet (containerd, runc) by scripts/record-real-fixtures.sh:
// `kubectl get deployments,replicasets,statefulsets,daemonsets,jobs,pods -o json` of one
// workload of test/real/charts/states, written to test/fixtures/kube/real-<state>.json.

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'kube')

function recording(state: string): { items: unknown[]; ref: WorkloadRef; at: number } {
  const text = readFileSync(join(FIXTURES, `real-${state}.json`), 'utf8')
  const items = (
    JSON.parse(text) as { items: { kind: string; metadata: { name: string; namespace: string } }[] }
  ).items
  const top = items.find((o) => o.kind === 'Deployment')
  if (!top) throw new Error(`${state}: no Deployment`)
  const times = [...text.matchAll(/"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"/g)].map((m) =>
    Date.parse(m[1] as string)
  )
  return {
    items,
    ref: { kind: 'Deployment', name: top.metadata.name, namespace: top.metadata.namespace },
    at: Math.max(...times) + 1000
  }
}

describe('evaluate, on what a real kubelet reported', () => {
  test.each([
    ['deployment-complete', { state: 'healthy', ready: '1/1' }],
    [
      'crash-loop-waiting',
      {
        state: 'failed',
        reason: 'CrashLoopBackOff',
        message: expect.stringContaining('exit code 1')
      }
    ],
    [
      'err-image-never-pull',
      {
        state: 'failed',
        reason: 'ErrImageNeverPull',
        message: expect.stringContaining('minikube-preview.local/not-on-the-node:1')
      }
    ],
    [
      'create-container-config-error',
      {
        state: 'failed',
        reason: 'CreateContainerConfigError',
        message: expect.stringContaining('no-such-secret')
      }
    ],
    ['oom-killed', { state: 'failed', reason: 'OOMKilled' }]
  ])('%s', (state, expected) => {
    const r = recording(state)
    const [verdict] = evaluate([r.ref], { items: r.items }, r.at)
    expect(verdict).toMatchObject(expected)
  })

  // Most of a real back-off looks like this: a verdict keyed on CrashLoopBackOff alone misses it.
  test('a crash loop between back-offs (the kubelet shows the last exit, terminated Error) is a crash loop', () => {
    const r = recording('crash-loop-terminated')
    const pod = (r.items as { kind: string; status?: { containerStatuses?: unknown[] } }[]).find(
      (o) => o.kind === 'Pod'
    )
    expect(pod?.status?.containerStatuses).toEqual([
      expect.objectContaining({
        restartCount: expect.any(Number),
        state: { terminated: expect.objectContaining({ reason: 'Error', exitCode: 1 }) }
      })
    ])
    const [verdict] = evaluate([r.ref], { items: r.items }, r.at)
    expect(verdict).toMatchObject({
      state: 'failed',
      reason: 'CrashLoopBackOff',
      message: expect.stringContaining('exit code 1')
    })
  })
})
