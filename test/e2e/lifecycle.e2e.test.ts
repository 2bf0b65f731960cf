// A preview's life on a shared cluster, with the real kubectl, Helm 4 and Helm 3 against the
// real control plane: its namespace, labels, teardown and sweep.
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ANNOTATION,
  LABEL,
  MANAGED_BY,
  expiresAt,
  previewLabels,
  repositoryLabel,
  type PreviewFacts
} from '../../src/lifecycle/labels.js'
import { ensureNamespace } from '../../src/lifecycle/namespace.js'
import { decideSweep, listPreviews, removePreviews } from '../../src/lifecycle/sweep.js'
import { teardown } from '../../src/lifecycle/teardown.js'
import { Helm } from '../../src/tools/helm.js'
import { Kubectl } from '../../src/tools/kubectl.js'
import { ROOT } from '../support/action.js'
import {
  clusterUp,
  type Cluster,
  namespaceGone,
  namespaceOf,
  type NamespaceObject
} from './cluster.js'

const REPO = 'acme/shop'
const PROBE = join(ROOT, 'test', 'e2e', 'charts', 'probe')
const SHA1 = '1'.repeat(40)
const SHA2 = '2'.repeat(40)
const HOUR = 3_600_000

let cluster: Cluster
let kubectl: Kubectl
let helm: Helm
let helm3: Helm

beforeAll(() => {
  cluster = clusterUp(`mp-lifecycle-${process.pid}`)
  const env = { ...process.env, KUBECONFIG: cluster.kubeconfig }
  kubectl = new Kubectl(join(cluster.tools, 'kubectl'), env)
  helm = new Helm(join(cluster.tools, 'helm'), env)
  helm3 = new Helm(join(cluster.tools, 'helm3'), env)
})

afterAll(() => cluster?.down())

const namespace = (name: string): NamespaceObject | undefined => namespaceOf(cluster, name)
const removed = (name: string): boolean => namespaceGone(cluster, name)

/** The releases in a namespace and their labels, as the real Helm 4 reads them back. */
function releasesIn(ns: string): string[] {
  const out = execFileSync(
    join(cluster.tools, 'helm'),
    ['list', '--namespace', ns, '--output', 'json', '--kubeconfig', cluster.kubeconfig],
    { encoding: 'utf8' }
  )
  return (JSON.parse(out) as { name: string }[]).map((r) => r.name)
}

/** A deploy as the action does it: `helm upgrade --install` with the preview's labels. */
async function deploy(tool: Helm, release: string, ns: string, facts: PreviewFacts) {
  await tool.upgrade({
    release,
    chart: PROBE,
    namespace: ns,
    timeoutMs: 120_000,
    helmArgs: [],
    helmMajor: tool === helm3 ? 3 : 4,
    valuesFiles: [],
    set: ['test.enabled=false'],
    setString: [],
    images: [],
    labels: previewLabels(facts)
  })
}

describe('the namespace of a preview', () => {
  it('is created labelled as ours, and relabelled by the next push', async () => {
    const now = Date.now()
    const first = await ensureNamespace(kubectl, {
      namespace: 'pr-7',
      release: 'web',
      facts: { repository: REPO, pullRequest: 7, sha: SHA1, expiresAt: expiresAt(now, HOUR) }
    })
    expect(first).toEqual({ created: true, ours: true })
    const made = namespace('pr-7')?.metadata
    expect(made?.labels).toMatchObject({
      [LABEL.managedBy]: MANAGED_BY,
      [LABEL.repository]: repositoryLabel(REPO),
      [LABEL.pullRequest]: '7',
      [LABEL.sha]: SHA1,
      [LABEL.expires]: String(Math.floor((now + HOUR) / 1000))
    })
    expect(made?.annotations).toMatchObject({
      [ANNOTATION.repository]: REPO,
      [ANNOTATION.release]: 'web'
    })

    // Pushed again, this time without a ttl: new SHA, and the preview no longer expires.
    const second = await ensureNamespace(kubectl, {
      namespace: 'pr-7',
      release: 'web',
      facts: { repository: REPO, pullRequest: 7, sha: SHA2 }
    })
    expect(second).toEqual({ created: false, ours: true })
    const relabelled = namespace('pr-7')?.metadata.labels ?? {}
    expect(relabelled[LABEL.sha]).toBe(SHA2)
    expect(relabelled[LABEL.managedBy]).toBe(MANAGED_BY)
    expect(relabelled).not.toHaveProperty(LABEL.expires)
  })

  it('is used but never labelled nor deleted when it existed before', async () => {
    cluster.kubectl(['create', 'namespace', 'team-a'])
    const before = namespace('team-a')?.metadata
    const state = await ensureNamespace(kubectl, {
      namespace: 'team-a',
      release: 'shop',
      facts: { repository: REPO, pullRequest: 8, sha: SHA1 }
    })
    expect(state).toEqual({ created: false, ours: false })
    expect(namespace('team-a')?.metadata.labels).toEqual(before?.labels)
    expect(namespace('team-a')?.metadata.annotations).toEqual(before?.annotations)

    await deploy(helm, 'shop', 'team-a', { repository: REPO, pullRequest: 8, sha: SHA1 })
    const result = await teardown(helm, kubectl, {
      release: 'shop',
      namespace: 'team-a',
      repository: REPO,
      timeoutMs: 60_000
    })
    expect(result).toEqual({
      removed: ['release shop in team-a'],
      left: ['namespace team-a: not created by minikube-preview for acme/shop']
    })
    expect(releasesIn('team-a')).toEqual([])
    expect(namespace('team-a')?.status?.phase).toBe('Active')
  })

  it('of another repository is not ours: never relabelled nor deleted', async () => {
    await ensureNamespace(kubectl, {
      namespace: 'other-1',
      release: 'web',
      facts: { repository: 'acme/other', pullRequest: 1 }
    })
    const state = await ensureNamespace(kubectl, {
      namespace: 'other-1',
      release: 'web',
      facts: { repository: REPO, pullRequest: 1 }
    })
    expect(state).toEqual({ created: false, ours: false })
    expect(namespace('other-1')?.metadata.labels?.[LABEL.repository]).toBe(
      repositoryLabel('acme/other')
    )
    const result = await teardown(helm, kubectl, {
      release: 'web',
      namespace: 'other-1',
      repository: REPO,
      timeoutMs: 60_000
    })
    expect(result.removed).toEqual([])
    expect(removed('other-1')).toBe(false)
  })
})

describe('teardown', () => {
  it('removes the release and the namespace the action created', async () => {
    await deploy(helm, 'web', 'pr-7', { repository: REPO, pullRequest: 7, sha: SHA2 })
    expect(releasesIn('pr-7')).toEqual(['web'])
    const result = await teardown(helm, kubectl, {
      release: 'web',
      namespace: 'pr-7',
      repository: REPO,
      timeoutMs: 60_000
    })
    expect(result).toEqual({ removed: ['release web in pr-7', 'namespace pr-7'], left: [] })
    expect(removed('pr-7')).toBe(true)
  })

  it('of a preview already gone is not a failure', async () => {
    const result = await teardown(helm, kubectl, {
      release: 'gone',
      namespace: 'team-a',
      repository: REPO,
      timeoutMs: 60_000
    })
    expect(result.removed).toEqual([])
    expect(result.left).toContain('release gone in team-a: already gone')
  })
})

describe('sweep', () => {
  it('lists the previews of this repository, removes an expired one and keeps a fresh one', async () => {
    const now = Date.now()
    const expired = {
      repository: REPO,
      pullRequest: 21,
      sha: SHA1,
      expiresAt: expiresAt(now, -HOUR)
    }
    const fresh = { repository: REPO, pullRequest: 22, sha: SHA2, expiresAt: expiresAt(now, HOUR) }
    const closed = { repository: REPO, pullRequest: 23, sha: SHA1, expiresAt: expiresAt(now, HOUR) }
    for (const [ns, facts] of [
      ['pr-21', expired],
      ['pr-22', fresh]
    ] as const) {
      await ensureNamespace(kubectl, { namespace: ns, release: 'web', facts })
      await deploy(helm, 'web', ns, facts)
    }
    // A release of ours in a namespace we did not create, by Helm 4 (whose labels read back),
    // and one of another repository that the sweep never sees.
    await deploy(helm, 'shop-23', 'team-a', closed)
    await ensureNamespace(kubectl, {
      namespace: 'elsewhere-5',
      release: 'web',
      facts: { repository: 'acme/other', pullRequest: 5, expiresAt: expiresAt(now, -HOUR) }
    })
    await deploy(helm, 'web', 'elsewhere-5', { repository: 'acme/other', pullRequest: 5 })

    const previews = await listPreviews(kubectl, helm, REPO)
    const byNamespace = Object.fromEntries(previews.map((p) => [p.namespace, p]))
    expect(Object.keys(byNamespace).sort()).toEqual(['pr-21', 'pr-22', 'team-a'])
    expect(byNamespace['pr-21']).toEqual({
      namespace: 'pr-21',
      release: 'web',
      pullRequest: 21,
      sha: SHA1,
      expiresAt: expired.expiresAt,
      namespaceCreated: true
    })
    expect(byNamespace['team-a']).toMatchObject({
      release: 'shop-23',
      pullRequest: 23,
      namespaceCreated: false
    })

    const decision = decideSweep(previews, (n) => (n === 23 ? 'closed' : 'open'), now)
    expect(decision.remove.map((r) => [r.preview.namespace, r.reason]).sort()).toEqual([
      ['pr-21', expect.stringMatching(/^expired at /)],
      ['team-a', 'pull request #23 closed']
    ])
    expect(decision.keep.map((k) => k.preview.namespace)).toEqual(['pr-22'])

    const result = await removePreviews(helm, kubectl, decision, {
      repository: REPO,
      timeoutMs: 60_000
    })
    expect(result.removed.sort()).toEqual([
      'namespace pr-21',
      'release shop-23 in team-a',
      'release web in pr-21'
    ])
    expect(result.left).toEqual(['namespace team-a: not created by minikube-preview for acme/shop'])
    expect(removed('pr-21')).toBe(true)
    expect(releasesIn('pr-22')).toEqual(['web'])
    expect(namespace('pr-22')?.status?.phase).toBe('Active')
    expect(namespace('team-a')?.status?.phase).toBe('Active')
    expect(releasesIn('elsewhere-5')).toEqual(['web'])
  })

  it('finds a release Helm 3 labelled, without reading its labels back', async () => {
    const facts = {
      repository: REPO,
      pullRequest: 31,
      sha: SHA1,
      expiresAt: expiresAt(Date.now(), -HOUR)
    }
    await deploy(helm3, 'old', 'team-a', facts)
    const previews = await listPreviews(kubectl, helm3, REPO)
    // Helm 3's `get metadata` prints no labels: the preview is known, its facts are not.
    expect(previews.find((p) => p.release === 'old')).toEqual({
      namespace: 'team-a',
      release: 'old',
      pullRequest: undefined,
      sha: undefined,
      expiresAt: undefined,
      namespaceCreated: false
    })
    // Helm 4 reads the same release's labels, written by Helm 3.
    const seen = (await listPreviews(kubectl, helm, REPO)).find((p) => p.release === 'old')
    expect(seen).toMatchObject({ pullRequest: 31, expiresAt: facts.expiresAt })
  })

  it('reads a release installed and upgraded without a ttl as never expiring, by either Helm', async () => {
    const now = Date.now()
    for (const [tool, release] of [
      [helm3, 'plain3'],
      [helm, 'plain4']
    ] as const) {
      await deploy(tool, release, 'team-a', { repository: REPO, pullRequest: 41 })
      const first = (await listPreviews(kubectl, helm, REPO)).find((p) => p.release === release)
      expect(first).toMatchObject({ pullRequest: 41, sha: undefined, expiresAt: undefined })
      await deploy(tool, release, 'team-a', {
        repository: REPO,
        pullRequest: 41,
        sha: SHA1,
        expiresAt: expiresAt(now, HOUR)
      })
      await deploy(tool, release, 'team-a', { repository: REPO, pullRequest: 41, sha: SHA2 })
      const last = (await listPreviews(kubectl, helm, REPO)).find((p) => p.release === release)
      expect(last).toMatchObject({ pullRequest: 41, sha: SHA2, expiresAt: undefined })
    }
  })
})
