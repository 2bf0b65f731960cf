// A preview's life on the cluster, the pure parts: labels, the URL, the sweep decision, argv.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it, test } from 'vitest'
import {
  LABEL,
  createdFor,
  createdLabels,
  expiresAt,
  factsFromLabels,
  isLabelValue,
  labelValue,
  previewAnnotations,
  previewLabels,
  repositoryLabel
} from '../../src/lifecycle/labels.js'
import { ensureNamespace } from '../../src/lifecycle/namespace.js'
import {
  decideSweep,
  listPreviews,
  removePreviews,
  type Preview,
  type PullRequestState
} from '../../src/lifecycle/sweep.js'
import {
  URL_PLACEHOLDERS,
  ingressUrl,
  renderUrl,
  urlSafe,
  urlTemplateProblem
} from '../../src/lifecycle/url.js'
import {
  Helm,
  listArgs,
  manifestObjects,
  supportsReleaseLabels,
  uninstallArgs,
  upgradeArgs
} from '../../src/tools/helm.js'
import { Kubectl, metadataArgs, namespaceManifest } from '../../src/tools/kubectl.js'
import { standIn } from '../support/stand-in.js'

const REPO = 'acme/shop'

describe('labels', () => {
  it('makes any text a valid label value', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const v = labelValue(s)
        expect(isLabelValue(v)).toBe(true)
        expect(v.length).toBeLessThanOrEqual(63)
      })
    )
  })

  test.each([
    ['feature/login', 'feature-login'],
    ['-_.x.-', 'x'],
    ['a'.repeat(64), 'a'.repeat(63)],
    ['a'.repeat(62) + '-b', 'a'.repeat(62)],
    ['', '']
  ])('labelValue(%j) is %j', (given, want) => {
    expect(labelValue(given)).toBe(want)
  })

  it('names the repository by a short hash, the same for any case', () => {
    const v = repositoryLabel(REPO)
    expect(v).toMatch(/^[0-9a-f]{16}$/)
    expect(repositoryLabel('Acme/Shop')).toBe(v)
    expect(repositoryLabel('acme/shop2')).not.toBe(v)
  })

  it('labels a preview with valid values for any repository, pull request and SHA', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 100 }),
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.oneof(fc.stringMatching(/^[0-9a-f]{40}$/), fc.stringMatching(/^[0-9a-f]{64}$/)),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (repository, pullRequest, sha, now) => {
          const labels = previewLabels({
            repository,
            pullRequest,
            sha,
            expiresAt: expiresAt(now, 3_600_000)
          })
          for (const v of Object.values(labels)) expect(isLabelValue(v ?? '')).toBe(true)
          expect(factsFromLabels(labels as Record<string, string>)).toEqual({
            pullRequest,
            sha: sha.slice(0, 63),
            expiresAt: Math.floor(now / 1000) + 3600
          })
        }
      )
    )
  })

  it('sets the expiry ttl after now, in epoch seconds, and none without a ttl', () => {
    const now = Date.parse('2026-12-01T12:00:00.900Z')
    expect(expiresAt(now, 2 * 86_400_000)).toBe(Date.parse('2026-12-03T12:00:00Z') / 1000)
    expect(expiresAt(now, undefined)).toBeUndefined()
    // Deployed again without a ttl: the old expiry is removed, not kept.
    expect(previewLabels({ repository: REPO })[LABEL.expires]).toBeNull()
  })

  it('knows a namespace as created only for this repository', () => {
    expect(createdFor(createdLabels(REPO), REPO)).toBe(true)
    expect(createdFor(createdLabels('acme/other'), REPO)).toBe(false)
    expect(createdFor({ [LABEL.repository]: repositoryLabel(REPO) }, REPO)).toBe(false)
    expect(createdFor(undefined, REPO)).toBe(false)
  })
})

describe('url template', () => {
  it('lists the placeholders', () => {
    expect(URL_PLACEHOLDERS).toEqual(['number', 'branch', 'sha', 'namespace', 'release'])
  })

  test.each([
    ['https://pr-{number}.preview.example.com', undefined],
    ['http://127.0.0.1:8080/{namespace}/{release}?sha={sha}', undefined],
    [
      'https://{pr}.example.com',
      'unknown placeholder {pr}; the known ones are {number}, {branch}, {sha}, {namespace}, {release}'
    ],
    [
      'https://{a}.{b}.example.com/{a}',
      expect.stringMatching(/^unknown placeholders \{a\}, \{b\};/)
    ],
    ['https://{number.example.com', expect.stringMatching(/'\{' or '\}'/)],
    ['pr-{number}.example.com', expect.stringMatching(/starts with 'http:\/\/' or 'https:\/\/'/)],
    ['https://x.example.com/a b', expect.stringMatching(/no spaces/)]
  ])('%j: %j', (template, problem) => {
    expect(urlTemplateProblem(template)).toEqual(problem)
  })

  it('renders values so that a branch name cannot change the host or path', () => {
    const values = {
      number: '7',
      branch: 'Feature/../evil.com#@x?y=1',
      sha: 'ABCDEF0123',
      namespace: 'pr-7',
      release: 'web'
    }
    expect(renderUrl('https://{branch}.preview.example.com/{release}', values)).toBe(
      'https://feature-evil-com-x-y-1.preview.example.com/web'
    )
    expect(renderUrl('https://p.example.com/{namespace}/{sha}/{number}', values)).toBe(
      'https://p.example.com/pr-7/abcdef0123/7'
    )
    fc.assert(
      fc.property(fc.string(), (s) => {
        const host = `${urlSafe(s) || 'x'}.example.com`
        expect(new URL(`https://${host}/`).hostname).toBe(host)
      })
    )
  })
})

describe('default url from the Ingress', () => {
  const ingress = (name: string, spec: string) =>
    `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: ${name}\nspec:\n${spec}`
  const service = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n'

  test.each([
    ['no Ingress', [service], undefined],
    [
      'a plain host',
      [service, ingress('web', '  rules:\n    - host: shop.example.com\n')],
      'http://shop.example.com/'
    ],
    [
      'TLS for that host',
      [
        ingress(
          'web',
          '  tls:\n    - hosts: [other.example.com]\n    - hosts: [shop.example.com]\n      secretName: t\n  rules:\n    - host: shop.example.com\n'
        )
      ],
      'https://shop.example.com/'
    ],
    [
      'a wildcard TLS entry covering the host',
      [
        ingress(
          'web',
          '  tls:\n    - hosts: ["*.example.com"]\n  rules:\n    - host: shop.example.com\n'
        )
      ],
      'https://shop.example.com/'
    ],
    [
      'TLS for another host only',
      [
        ingress(
          'web',
          '  tls:\n    - hosts: [api.example.com]\n  rules:\n    - host: shop.example.com\n'
        )
      ],
      'http://shop.example.com/'
    ],
    [
      'the first host of the first Ingress naming one',
      [
        ingress('none', '  defaultBackend:\n    service: {name: web, port: {number: 80}}\n'),
        ingress(
          'a',
          '  rules:\n    - http: {}\n    - host: "*.wild.example.com"\n    - host: A.Example.com\n'
        ),
        ingress('b', '  rules:\n    - host: b.example.com\n')
      ],
      'http://a.example.com/'
    ],
    [
      'a host that is not a host name',
      [ingress('web', '  rules:\n    - host: "evil.com/<script>"\n')],
      undefined
    ]
  ])('%s', (_what, docs, want) => {
    expect(ingressUrl(manifestObjects(docs.join('---\n')))).toBe(want)
  })
})

describe('sweep decision', () => {
  const now = Date.parse('2026-12-01T12:00:00Z')
  const s = now / 1000
  const preview = (p: Partial<Preview>): Preview => ({
    namespace: 'pr-1',
    release: 'web',
    namespaceCreated: true,
    ...p
  })
  const states: Record<number, PullRequestState> = { 1: 'open', 2: 'closed', 3: 'unknown' }

  test.each([
    [{ pullRequest: 1, expiresAt: s - 60 }, 'remove', 'expired at 2026-12-01T11:59:00Z', 'expired'],
    [{ pullRequest: 1, expiresAt: s }, 'remove', 'expired at 2026-12-01T12:00:00Z', 'expired'],
    [{ pullRequest: 2, expiresAt: s + 60 }, 'remove', 'pull request #2 closed', 'closed'],
    [{ pullRequest: 2 }, 'remove', 'pull request #2 closed', 'closed'],
    [
      { pullRequest: 1, expiresAt: s + 3600 },
      'keep',
      'open and fresh: pull request #1 open, expires at 2026-12-01T13:00:00Z'
    ],
    [{ pullRequest: 1 }, 'keep', 'open and fresh: pull request #1 open, never expires'],
    [{ pullRequest: 3 }, 'keep', 'pull request #3: state unknown, never expires'],
    [{}, 'keep', 'no pull request recorded, never expires'],
    [{ expiresAt: s - 1 }, 'remove', 'expired at 2026-12-01T11:59:59Z', 'expired']
  ] as const)('%j → %s (%s)', (facts, verdict, reason, cause?: 'expired' | 'closed') => {
    const d = decideSweep([preview(facts)], (n) => states[n] ?? 'unknown', now)
    // What goes says why (the pull request's comment is rewritten with it); what stays has no cause.
    expect(d[verdict]).toEqual([{ preview: preview(facts), reason, ...(cause ? { cause } : {}) }])
    expect(d[verdict === 'remove' ? 'keep' : 'remove']).toEqual([])
  })

  it('asks the pull request state only of previews that have not expired', () => {
    const asked: number[] = []
    decideSweep(
      [preview({ pullRequest: 4, expiresAt: s - 1 }), preview({ pullRequest: 5 })],
      (n) => (asked.push(n), 'open'),
      now
    )
    expect(asked).toEqual([5])
  })
})

describe('argv', () => {
  it('labels and unlabels in one kubectl call', () => {
    expect(
      metadataArgs('label', 'namespace', 'pr-7', {
        'minikube-preview/sha': 'abc',
        'minikube-preview/expires': null
      })
    ).toEqual([
      'label',
      'namespace',
      'pr-7',
      '--overwrite',
      'minikube-preview/sha=abc',
      'minikube-preview/expires-'
    ])
    expect(metadataArgs('annotate', 'configmap', 'c', { a: 'b c' }, 'ns')).toEqual([
      'annotate',
      'configmap',
      'c',
      '--overwrite',
      '--namespace',
      'ns',
      'a=b c'
    ])
  })

  it('creates a namespace from a manifest on stdin', () => {
    expect(JSON.parse(namespaceManifest('pr-7', { a: 'b' }, { c: 'd/e' }))).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'pr-7', labels: { a: 'b' }, annotations: { c: 'd/e' } }
    })
  })

  const base = {
    release: 'web',
    chart: './chart',
    namespace: 'pr-7',
    timeoutMs: 60_000,
    helmArgs: [],
    helmMajor: 4,
    valuesFiles: [],
    set: [],
    setString: [],
    images: []
  }

  it('labels the release on upgrade, null clearing a label', () => {
    const args = upgradeArgs({
      ...base,
      labels: { 'minikube-preview/pull-request': '7', 'minikube-preview/expires': null }
    })
    expect(args.slice(args.indexOf('--labels'), args.indexOf('--labels') + 2)).toEqual([
      '--labels',
      'minikube-preview/pull-request=7,minikube-preview/expires='
    ])
    expect(upgradeArgs(base)).not.toContain('--labels')
    expect(upgradeArgs({ ...base, labels: {} })).not.toContain('--labels')
  })

  test.each([
    ['v3.12.3', false],
    ['v3.13.0', true],
    ['v3.22.0', true],
    ['v4.3.1', true],
    ['v2.17.0', false],
    ['nonsense', false]
  ])('helm %s takes release labels: %s', (version, yes) => {
    expect(supportsReleaseLabels(version)).toBe(yes)
  })

  it('lists and uninstalls releases', () => {
    expect(listArgs('minikube-preview/repository=abc')).toEqual([
      'list',
      '--all-namespaces',
      '--deployed',
      '--failed',
      '--pending',
      '--max',
      '1000',
      '--selector',
      'minikube-preview/repository=abc',
      '--output',
      'json'
    ])
    expect(uninstallArgs('web', 'pr-7', 90_500)).toEqual([
      'uninstall',
      'web',
      '--namespace',
      'pr-7',
      '--timeout',
      '91s'
    ])
  })
})

describe('ensureNamespace against a concurrent run', () => {
  it('takes AlreadyExists as found, and relabels the namespace the other run created', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-lifecycle-'))
    const theirs = {
      metadata: { name: 'pr-7', labels: createdLabels(REPO), annotations: {} }
    }
    const kubectl = standIn(
      dir,
      'kubectl',
      [
        {
          match: ['get', 'namespace', 'pr-7'],
          sequence: [{ stdout: '' }, { stdout: JSON.stringify(theirs) }]
        },
        {
          match: ['create'],
          exitCode: 1,
          stderr: 'Error from server (AlreadyExists): namespaces "pr-7" already exists\n'
        },
        { match: ['label'], stdout: 'namespace/pr-7 labeled' },
        { match: ['annotate'], stdout: 'namespace/pr-7 annotated' }
      ],
      { recordStdin: true }
    )
    const state = await ensureNamespace(new Kubectl(kubectl.path), {
      namespace: 'pr-7',
      release: 'web',
      facts: {
        repository: REPO,
        pullRequest: 7,
        sha: 'a'.repeat(40),
        expiresAt: Date.parse('2026-12-02T12:00:00Z') / 1000
      }
    })
    expect(state).toEqual({ created: false, ours: true })
    const label = kubectl.calls().find((c) => c.argv[0] === 'label')
    expect(label?.argv).toContain(`minikube-preview/sha=${'a'.repeat(40)}`)
    const created = kubectl.calls().find((c) => c.argv[0] === 'create')
    const made = JSON.parse(created?.stdin ?? '{}').metadata
    expect(made.labels[LABEL.managedBy]).toBe('minikube-preview')
    // The expiry for people reading the namespace, beside the epoch-seconds label a sweep reads.
    expect(made.annotations['minikube-preview/expires-at']).toBe('2026-12-02T12:00:00Z')
    const annotate = kubectl.calls().find((c) => c.argv[0] === 'annotate')
    expect(annotate?.argv).toContain('minikube-preview/expires-at=2026-12-02T12:00:00Z')
  })

  it('no ttl any more: the expiry annotation goes with the label', () => {
    expect(previewAnnotations({ repository: REPO }, 'web')).toEqual({
      'minikube-preview/repository': REPO,
      'minikube-preview/release': 'web',
      'minikube-preview/expires-at': null
    })
    expect(previewLabels({ repository: REPO })[LABEL.expires]).toBeNull()
  })

  it('refuses a namespace that is still being deleted, saying so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-lifecycle-'))
    const going = {
      metadata: { name: 'pr-7', labels: createdLabels(REPO) },
      status: { phase: 'Terminating' }
    }
    const kubectl = standIn(dir, 'kubectl', [
      { match: ['get', 'namespace', 'pr-7'], stdout: JSON.stringify(going) }
    ])
    await expect(
      ensureNamespace(new Kubectl(kubectl.path), {
        namespace: 'pr-7',
        release: 'web',
        facts: { repository: REPO }
      })
    ).rejects.toThrow('namespace pr-7 is still being deleted; run the job again once it is gone')
    expect(kubectl.calls().map((c) => c.argv[0])).toEqual(['get'])
  })

  it('fails naming kubectl when create fails otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-lifecycle-'))
    const kubectl = standIn(dir, 'kubectl', [
      { match: ['get', 'namespace'], stdout: '' },
      {
        match: ['create'],
        exitCode: 1,
        stderr: 'Error from server (Forbidden): namespaces is forbidden: User "ci" cannot create\n'
      }
    ])
    await expect(
      ensureNamespace(new Kubectl(kubectl.path), {
        namespace: 'pr-7',
        release: 'web',
        facts: { repository: REPO }
      })
    ).rejects.toThrow(/^kubectl create --filename - failed with exit code 1: .*Forbidden/)
  })
})

describe('removing swept previews', () => {
  const ours = (name: string) =>
    JSON.stringify({ metadata: { name, labels: createdLabels(REPO) }, status: { phase: 'Active' } })
  const entry = (namespace: string, release: string) => ({
    preview: { namespace, release, namespaceCreated: true },
    reason: 'expired at 2026-12-01T11:00:00Z'
  })

  it('goes on past one that fails, and keeps a namespace another kept preview lives in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-lifecycle-'))
    const helm = standIn(dir, 'helm', [
      {
        match: ['uninstall', 'a'],
        exitCode: 1,
        stderr: 'Error: uninstall: failed to delete release: a: context deadline exceeded\n'
      },
      {
        match: ['uninstall', 'gone'],
        exitCode: 1,
        stderr: 'Error: uninstall: Release not loaded: gone: release: not found\n'
      },
      { match: ['uninstall'], stdout: 'release "x" uninstalled' }
    ])
    const kubectl = standIn(dir, 'kubectl', [
      { match: ['get', 'namespace', 'pr-2'], stdout: ours('pr-2') },
      { match: ['get', 'namespace', 'pr-3'], stdout: ours('pr-3') },
      { match: ['get', 'namespace', 'pr-4'], stdout: '' },
      { match: ['delete', 'namespace'], stdout: 'namespace "x" deleted' }
    ])
    const result = await removePreviews(
      new Helm(helm.path),
      new Kubectl(kubectl.path),
      {
        remove: [entry('pr-1', 'a'), entry('pr-2', 'b'), entry('pr-3', 'c'), entry('pr-4', 'gone')],
        keep: [
          {
            preview: { namespace: 'pr-3', release: 'd', namespaceCreated: true },
            reason: 'open and fresh'
          }
        ]
      },
      { repository: REPO, timeoutMs: 30_000 }
    )
    expect(result.removed).toEqual(['release b in pr-2', 'namespace pr-2', 'release c in pr-3'])
    expect(result.left).toEqual([
      expect.stringMatching(/^release a in pr-1: helm uninstall a .*context deadline exceeded/),
      'namespace pr-3: another preview of acme/shop is kept in it',
      'release gone in pr-4: already gone',
      'namespace pr-4: already gone'
    ])
    const deleted = kubectl
      .calls()
      .filter((c) => c.argv[0] === 'delete')
      .map((c) => c.argv[2])
    expect(deleted).toEqual(['pr-2'])
  })
})

describe('listing previews', () => {
  it('never takes an annotation that is not a release name for one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-lifecycle-'))
    const ns = (name: string, release: string) => ({
      metadata: {
        name,
        labels: { ...createdLabels(REPO), [LABEL.pullRequest]: '9' },
        annotations: { 'minikube-preview/release': release }
      },
      status: { phase: 'Active' }
    })
    const kubectl = standIn(dir, 'kubectl', [
      {
        match: ['get', 'namespaces', '--selector'],
        stdout: JSON.stringify({ items: [ns('pr-9', '--kube-context=prod'), ns('pr-10', 'web')] })
      }
    ])
    const helm = standIn(dir, 'helm', [{ match: ['list'], stdout: '[]' }])
    const previews = await listPreviews(new Kubectl(kubectl.path), new Helm(helm.path), REPO)
    expect(previews.map((p) => [p.namespace, p.release])).toEqual([
      ['pr-9', undefined],
      ['pr-10', 'web']
    ])
    expect(kubectl.calls()[0]?.argv).toContain(
      `minikube-preview/repository=${repositoryLabel(REPO)},app.kubernetes.io/managed-by=minikube-preview`
    )
  })
})
