// Chart dependencies: which chart repositories they need, and helm's argv to add them and build.
import { describe, expect, it } from 'vitest'
import {
  dependencyRepositories,
  repositoryEntries,
  repositoryName,
  type RepositoryEntry
} from '../../src/deploy/repositories.js'
import { dependencyBuildArgs, repoAddArgs } from '../../src/tools/helm.js'

const chart = (...deps: [string, string][]) =>
  'apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n' +
  deps
    .map(([name, repo]) => `  - name: ${name}\n    version: 1.0.0\n    repository: "${repo}"\n`)
    .join('')
const lock = (...deps: [string, string][]) =>
  'dependencies:\n' +
  deps
    .map(([name, repo]) => `- name: ${name}\n  repository: ${repo}\n  version: 1.0.0\n`)
    .join('') +
  'digest: sha256:0\ngenerated: "2026-11-30T10:00:00Z"\n'

const BITNAMI = 'https://charts.bitnami.com/bitnami'
const user: RepositoryEntry[] = [
  { name: 'bitnami', url: BITNAMI },
  { name: 'corp', url: 'https://charts.corp.example/', username: 'ci', password: 'hunter2' }
]

describe('repositoryName', () => {
  it('is the same for a URL on every run, with or without a trailing slash, and differs by URL', () => {
    const a = repositoryName('https://charts.example.com/stable')
    expect(a).toMatch(/^minikube-preview-[0-9a-f]{16}$/)
    expect(repositoryName('https://charts.example.com/stable/')).toBe(a)
    expect(repositoryName('https://charts.example.com/other')).not.toBe(a)
  })
})

describe('dependencyRepositories', () => {
  const name = repositoryName
  it.each<[string, string, string | undefined, { name: string; url: string }[], string[]]>([
    ['no dependencies', 'apiVersion: v2\nname: app\nversion: 1.0.0\n', undefined, [], []],
    [
      'a chart repository',
      chart(['redis', 'https://charts.example.com']),
      undefined,
      [{ name: name('https://charts.example.com'), url: 'https://charts.example.com' }],
      []
    ],
    [
      'one repository for two dependencies and the lock, whatever the trailing slash',
      chart(['redis', 'https://charts.example.com/'], ['pg', 'https://charts.example.com']),
      lock(['redis', 'https://charts.example.com'], ['pg', 'https://charts.example.com']),
      [{ name: name('https://charts.example.com'), url: 'https://charts.example.com/' }],
      []
    ],
    [
      'a repository only the lock names',
      chart(['redis', 'file://../redis']),
      lock(['redis', 'http://127.0.0.1:8879/charts']),
      [{ name: name('http://127.0.0.1:8879/charts'), url: 'http://127.0.0.1:8879/charts' }],
      []
    ],
    [
      'OCI and local dependencies need none',
      chart(['a', 'oci://ghcr.io/org/charts'], ['b', 'file://../b'], ['c', 'OCI://r.example/c']),
      undefined,
      [],
      []
    ],
    [
      'a URL the user added is used as the user added it',
      chart(['redis', `${BITNAMI}/`]),
      undefined,
      [],
      ['bitnami']
    ],
    [
      '@name of a repository the user added',
      chart(['redis', '@bitnami']),
      lock(['redis', BITNAMI]),
      [],
      ['bitnami']
    ],
    ['alias:name, with credentials kept', chart(['lib', 'alias:corp']), undefined, [], ['corp']]
  ])('%s', (_, yaml, lockText, add, reuse) => {
    const got = dependencyRepositories(yaml, lockText, user)
    expect(got.problems).toEqual([])
    expect(got.add).toEqual(add)
    expect(got.reuse.map((e) => e.name)).toEqual(reuse)
  })

  it('keeps the whole entry of a repository the user added, credentials included', () => {
    expect(dependencyRepositories(chart(['lib', '@corp']), undefined, user).reuse).toEqual([
      user[1]
    ])
  })

  it('mixes all kinds in one chart', () => {
    const got = dependencyRepositories(
      chart(
        ['a', 'https://a.example/charts'],
        ['b', '@bitnami'],
        ['c', 'oci://r.example/c'],
        ['d', 'https://d.example/']
      ),
      undefined,
      user
    )
    expect(got.add.map((r) => r.url)).toEqual(['https://a.example/charts', 'https://d.example/'])
    expect(got.reuse.map((e) => e.name)).toEqual(['bitnami'])
  })

  it.each([
    [
      chart(['redis', '@nowhere']),
      /chart dependency 'redis' refers to the repository '@nowhere', which is not in \/home\/u\/\.config\/helm\/repositories\.yaml: write the repository's URL in Chart\.yaml, or add it with 'helm repo add'/
    ],
    [chart(['redis', 'alias:nowhere']), /'alias:nowhere', which is not in/],
    [
      chart(['redis', 'stable']),
      /chart dependency 'redis' has the repository 'stable': expected a URL \(https:\/\/…, oci:\/\/…\), a file:\/\/ path or '@name'/
    ],
    [
      chart(['redis', 'https://bob:s3cret@charts.example.com']),
      /chart dependency 'redis' has credentials in its repository URL \(https:\/\/charts\.example\.com\)/
    ]
  ])('refuses what helm cannot use, with the dependency named: %#', (yaml, message) => {
    const got = dependencyRepositories(
      yaml,
      undefined,
      user,
      '/home/u/.config/helm/repositories.yaml'
    )
    expect(got.problems).toEqual([expect.stringMatching(message)])
    expect(got.problems.join()).not.toContain('s3cret')
    expect(got.add).toEqual([])
  })

  it('quotes hostile dependency text on one bounded line', () => {
    const long = 'x'.repeat(500)
    const got = dependencyRepositories(
      `dependencies:\n  - name: "a\\nb"\n    repository: "@${long}"\n`,
      undefined,
      []
    )
    expect(got.problems).toHaveLength(1)
    expect(got.problems[0]).not.toContain('\n')
    expect((got.problems[0] as string).length).toBeLessThan(400)
  })

  it('ignores dependency entries that are not mappings or have no repository', () => {
    const got = dependencyRepositories(
      'dependencies:\n  - just-a-string\n  - name: local\n  - name: n\n    repository: 7\n',
      undefined,
      []
    )
    expect(got).toEqual({ add: [], reuse: [], problems: [] })
  })

  it('says which file is not YAML', () => {
    expect(() =>
      dependencyRepositories(chart(['a', 'https://a.example']), 'dependencies: [', [])
    ).toThrow('Chart.lock of the chart is not valid YAML')
  })
})

describe('repositoryEntries', () => {
  it.each<[string | undefined, string[]]>([
    [undefined, []],
    ['', []],
    ['not: [yaml', []],
    ['apiVersion: ""\nrepositories: null\n', []],
    [
      'apiVersion: ""\ngenerated: "2026-11-30T10:00:00Z"\nrepositories:\n- name: bitnami\n  url: https://charts.bitnami.com/bitnami\n  username: ""\n- url: https://no-name.example\n- name: corp\n  url: https://charts.corp.example\n  password: hunter2\n',
      ['bitnami', 'corp']
    ]
  ])('reads the named entries of %j', (text, names) => {
    expect(repositoryEntries(text).map((e) => e.name)).toEqual(names)
  })
})

describe('helm argv for dependencies', () => {
  const repos = { config: '/t/repos/repositories.yaml', cache: '/t/repos/cache' }
  it("adds a repository to the run's own config and cache", () => {
    expect(repoAddArgs('minikube-preview-0123', 'https://charts.example.com', repos)).toEqual([
      'repo',
      'add',
      'minikube-preview-0123',
      'https://charts.example.com',
      '--repository-config',
      '/t/repos/repositories.yaml',
      '--repository-cache',
      '/t/repos/cache'
    ])
  })
  it.each([
    [repos, []],
    [{ ...repos, skipRefresh: false }, []],
    [{ ...repos, skipRefresh: true }, ['--skip-refresh']]
  ])('builds with the same config and cache %#', (r, extra) => {
    expect(dependencyBuildArgs('/w/charts/app', r)).toEqual([
      'dependency',
      'build',
      '/w/charts/app',
      '--repository-config',
      '/t/repos/repositories.yaml',
      '--repository-cache',
      '/t/repos/cache',
      ...extra
    ])
  })
})
