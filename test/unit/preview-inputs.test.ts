// The inputs of a preview that outlives the job: registry, push-tags, url, environment, ttl,
// mode, and the defaults the run's event gives (the namespace per pull request, ghcr.io login).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { withEventDefaults, type RunEvent } from '../../src/discover.js'
import { InputErrors, parseInputs, unusedInputs, type Inputs } from '../../src/inputs.js'
import { URL_PLACEHOLDERS } from '../../src/lifecycle/url.js'
import { parseRegistry } from '../../src/parse.js'

const ws = mkdtempSync(join(tmpdir(), 'mp-preview-inputs-'))
mkdirSync(join(ws, 'docker', 'api'), { recursive: true })
writeFileSync(join(ws, 'docker', 'api', 'Dockerfile'), 'FROM scratch\n')
const IMAGES = '- name: api\n  context: docker/api'

const parse = (given: Record<string, string>): Inputs => parseInputs((n) => given[n] ?? '', ws)
function problems(given: Record<string, string>): string[] {
  try {
    parse(given)
  } catch (err) {
    if (err instanceof InputErrors) return err.problems
    throw err
  }
  return []
}

describe('the preview inputs', () => {
  it('are off by default: no registry, no URL template, no deployment, never expires', () => {
    expect(parse({})).toMatchObject({
      registry: '',
      registryUsername: '',
      registryPassword: '',
      pushTags: [],
      url: '',
      environment: '',
      ttlMs: undefined,
      mode: 'preview',
      namespace: 'preview',
      namespaceGiven: false
    })
  })

  it.each([
    [{ registry: 'ghcr.io/acme/shop' }, { registry: 'ghcr.io/acme/shop' }],
    [{ registry: '  127.0.0.1:5765  ' }, { registry: '127.0.0.1:5765' }],
    [{ registry: 'localhost:5000/team/app' }, { registry: 'localhost:5000/team/app' }],
    [{ registry: 'docker.io/acme' }, { registry: 'docker.io/acme' }],
    [
      { registry: 'registry.example.com:443/a/b-c_d.e' },
      { registry: 'registry.example.com:443/a/b-c_d.e' }
    ],
    [{ registry: '[::1]:5000/x' }, { registry: '[::1]:5000/x' }],
    [
      { registry: 'ghcr.io/acme', 'registry-username': 'bot', 'registry-password': 's3cret' },
      { registryUsername: 'bot', registryPassword: 's3cret' }
    ],
    [
      { registry: 'ghcr.io/acme', 'push-tags': 'v1.2.3\nlatest\n\nv1.2.3' },
      { pushTags: ['v1.2.3', 'latest'] }
    ],
    [
      { url: 'https://pr-{number}.preview.example.com/{branch}?sha={sha}' },
      { url: 'https://pr-{number}.preview.example.com/{branch}?sha={sha}' }
    ],
    [
      { url: 'http://{release}.{namespace}.svc:8080' },
      { url: 'http://{release}.{namespace}.svc:8080' }
    ],
    [{ environment: ' preview / pr ' }, { environment: 'preview / pr' }],
    [{ ttl: '3d' }, { ttlMs: 3 * 86_400_000 }],
    [{ ttl: '1d12h' }, { ttlMs: 36 * 3_600_000 }],
    [{ ttl: '90m' }, { ttlMs: 90 * 60_000 }],
    [{ ttl: '365d' }, { ttlMs: 365 * 86_400_000 }],
    [{ mode: 'sweep', cluster: 'existing' }, { mode: 'sweep' }],
    [{ mode: 'PREVIEW' }, { mode: 'preview' }],
    [{ namespace: 'preview' }, { namespace: 'preview', namespaceGiven: true }],
    [
      { cluster: 'existing', images: IMAGES, registry: 'ghcr.io/acme' },
      { registry: 'ghcr.io/acme' }
    ],
    [
      { images: IMAGES, registry: 'ghcr.io/acme' },
      { cluster: 'minikube', registry: 'ghcr.io/acme' }
    ]
  ])('reads %j', (given, expected) => {
    expect(parse(given as Record<string, string>)).toMatchObject(expected)
  })

  it.each([
    [
      'https://ghcr.io/acme',
      "input 'registry' must be a registry reference without a scheme such as 'https://' (e.g. 'ghcr.io/acme/shop' or '127.0.0.1:5000'), got 'https://ghcr.io/acme'"
    ],
    [
      'ghcr.io/acme/shop:v1',
      "input 'registry' must be a registry reference without a tag: each image is pushed as <registry>/<name>:<tag>"
    ],
    [
      'ghcr.io/acme/shop@sha256:4c7d1e0f5a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d',
      "input 'registry' must be a registry reference without a digest"
    ],
    [
      'ghcr.io/Acme/shop',
      "input 'registry' must be a registry reference whose repository path is lower-case ('Acme' is not), got 'ghcr.io/Acme/shop'"
    ],
    ['ghcr.io//shop', "input 'registry' must be a registry reference without empty parts"],
    ['/acme/shop', "input 'registry' must be a registry reference without empty parts"],
    ['ghcr.io/acme/', "input 'registry' must be a registry reference without a trailing '/'"],
    [
      'acme/shop',
      "input 'registry' must be a registry reference starting with the registry's host ('docker.io/acme/shop', 'ghcr.io/acme/shop'); 'acme' is not a host name"
    ],
    ['shop', "input 'registry' must be a registry reference with the registry's host"],
    ['ghcr.io/acme shop', "input 'registry' must be a registry reference without spaces"],
    [
      'ghcr.io:99999/acme',
      "input 'registry' must be a registry reference starting with a host name and optional port"
    ],
    [
      'ghcr.io/-acme',
      "input 'registry' must be a registry reference whose path parts are lower-case letters and digits"
    ],
    ['ghcr.io/a..b', "input 'registry' must be a registry reference whose path parts"]
  ])('refuses the registry %j by name', (registry, message) => {
    const found = problems({ registry })
    expect(found).toHaveLength(1)
    expect(found[0]).toContain(message)
  })

  it('a registry reference is what parseRegistry returns, trimmed; empty is none', () => {
    expect(parseRegistry('')).toBe('')
    expect(parseRegistry(' ghcr.io/acme ')).toBe('ghcr.io/acme')
  })

  it.each([
    [
      { url: 'https://pr-{pr}.example.com' },
      "input 'url' must be a URL template whose placeholders are {number}, {branch}, {sha}, {namespace}, {release}; '{pr}' is not one, got 'https://pr-{pr}.example.com'"
    ],
    [{ url: 'https://{number}.example.com/{}' }, "'{}' is not one"],
    [{ url: 'https://{number.example.com' }, "a '{' or '}' is unmatched"],
    [{ url: 'pr-{number}.example.com' }, "input 'url' must be an http(s) URL template"],
    [{ url: 'ftp://{number}.example.com' }, "input 'url' must be an http(s) URL template"],
    [
      { url: 'https://ci:hunter2@{number}.example.com' },
      "input 'url' must be a URL template without a user or password in it (it is shown to everyone)"
    ],
    [
      { ttl: 'forever' },
      "input 'ttl' must be a duration such as '12h', '3d' or '1d12h', between 1m and 365d, got 'forever'"
    ],
    [
      { ttl: '30s' },
      "input 'ttl' must be a duration such as '12h', '3d' or '1d12h', between 1m and 365d, got '30s'"
    ],
    [{ ttl: '400d' }, "between 1m and 365d, got '400d'"],
    [{ mode: 'clean' }, "input 'mode' must be one of 'preview', 'sweep', got 'clean'"],
    [
      { mode: 'sweep' },
      "input 'mode: sweep' needs 'cluster: existing': it removes expired previews from a shared cluster"
    ],
    [
      { 'push-tags': 'v1.2.3' },
      "input 'push-tags' needs input 'registry': the tags are put on the images pushed there"
    ],
    [
      { registry: 'ghcr.io/acme', 'push-tags': 'v1.2.3\n-rc1' },
      "input 'push-tags' must be a list of Docker tags (letters, digits, _ . -, not starting with . or -, at most 128); '-rc1' is not one"
    ],
    [{ registry: 'ghcr.io/acme', 'push-tags': 'release/1' }, "'release/1' is not one"],
    [{ registry: 'ghcr.io/acme', 'push-tags': 'v'.repeat(129) }, 'is not one'],
    [
      { environment: 'e'.repeat(300) },
      "input 'environment' must be a GitHub environment name of at most 255 characters; it has 300"
    ],
    [
      { cluster: 'existing', images: IMAGES },
      "input 'images' with 'cluster: existing' needs input 'registry': the images built on the runner are pushed there for the cluster to pull"
    ]
  ])('refuses %j by name', (given, message) => {
    const found = problems(given as Record<string, string>)
    expect(found).toHaveLength(1)
    expect(found[0]).toContain(message)
  })

  it.each([
    [
      { 'registry-username': 'bot' },
      "input 'registry-username' needs input 'registry': it is the login to the registry images are pushed to"
    ],
    [
      { 'registry-password': 'pw' },
      "input 'registry-password' needs input 'registry': it is the login to the registry images are pushed to"
    ],
    [
      { registry: 'registry.example.com/acme', 'registry-username': 'bot' },
      "input 'registry-username' needs input 'registry-password': docker login takes both"
    ],
    [
      { registry: 'registry.example.com/acme', 'registry-password': 'pw' },
      "input 'registry-password' needs input 'registry-username': docker login takes both"
    ],
    [
      { registry: 'ghcr.io/acme', 'registry-username': 'bot' },
      "input 'registry-username' needs input 'registry-password': docker login takes both"
    ]
  ])('asks for the other half of the login: %j', (given, message) => {
    expect(problems(given)).toEqual([message])
  })

  it.each([
    [{ registry: 'ghcr.io/acme', 'registry-username': 'bot', 'github-token': 'ghs_x' }],
    [{ registry: 'ghcr.io/acme', 'registry-password': 'pat' }],
    [{ registry: 'registry.example.com/acme' }]
  ])('a login the defaults complete, or none at all, is fine: %j', (given) => {
    expect(problems(given)).toEqual([])
  })

  it('never shows the registry password, not even in a refusal', () => {
    const found = problems({ registry: 'ghcr.io/acme', 'registry-password': 'hunter2\nhunter3' })
    expect(found).toEqual(["input 'registry-password' must be a password on one line"])
  })

  it('lists every problem of the new inputs at once', () => {
    const found = problems({
      registry: 'HTTPS://x',
      url: 'https://{x}',
      ttl: 'soon',
      mode: 'sweep'
    })
    expect(found.map((p) => /^input '([a-z-]+)/.exec(p)?.[1])).toEqual([
      'registry',
      'url',
      'ttl',
      'mode'
    ])
  })

  it('the url template accepts exactly the placeholders the preview fills in', () => {
    const all = URL_PLACEHOLDERS.map((p) => `{${p.replace(/[{}]/g, '')}}`).join('-')
    expect(parse({ url: `https://${all}.example.com` }).url).toBe(`https://${all}.example.com`)
  })

  it('the days unit is the ttl’s alone: waits still refuse it with their own words', () => {
    expect(problems({ 'wait-timeout': '1d' })).toEqual([
      "input 'wait-timeout' must be a duration such as '90s', '5m' or '1h30m', between 1s and 6h, got '1d'"
    ])
  })
})

describe('inputs that do nothing in this combination', () => {
  it.each([
    [{ ttl: '1d' }, ["input 'ttl' has no effect with 'cluster: minikube'"]],
    [{ ttl: '1d', cluster: 'existing' }, []],
    [{ cluster: 'minikube' }, []]
  ])('%j → %j', (given, notes) => {
    expect(unusedInputs(parse(given))).toEqual(notes.map((n) => expect.stringContaining(n)))
  })
})

describe('the defaults the event gives', () => {
  const PR: RunEvent = { event: 'pull_request', pullRequest: 7, actor: 'octocat' }
  const resolved = (given: Record<string, string>, run: RunEvent): Inputs =>
    withEventDefaults(parse(given), run)

  it.each([
    ['an existing cluster on a pull request', { cluster: 'existing' }, PR, 'pr-7'],
    [
      'pull_request_target too',
      { cluster: 'existing' },
      { ...PR, event: 'pull_request_target' },
      'pr-7'
    ],
    ['an explicit namespace wins', { cluster: 'existing', namespace: 'qa' }, PR, 'qa'],
    [
      'an explicit namespace wins even when it is the default name',
      { cluster: 'existing', namespace: 'preview' },
      PR,
      'preview'
    ],
    ['minikube keeps its namespace', {}, PR, 'preview'],
    ['a push is not a pull request', { cluster: 'existing' }, { event: 'push' }, 'preview'],
    [
      'an issue comment is not a pull-request event',
      { cluster: 'existing' },
      { event: 'issue_comment', pullRequest: 7 },
      'preview'
    ],
    [
      'a payload without a number keeps the default',
      { cluster: 'existing' },
      { event: 'pull_request' },
      'preview'
    ]
  ])('namespace: %s', (_, given, run, namespace) => {
    expect(resolved(given, run).namespace).toBe(namespace)
  })

  it('the comment header follows the namespace per pull request', async () => {
    const { discover } = await import('../../src/discover.js')
    const found = discover(resolved({ cluster: 'existing' }, PR), ws, undefined)
    expect(found.commentHeader).toBe('minikube/pr-7')
  })

  it.each([
    [
      'ghcr.io logs in as the actor with github-token',
      { registry: 'ghcr.io/acme/shop', 'github-token': 'ghs_token' },
      { registryUsername: 'octocat', registryPassword: 'ghs_token' }
    ],
    [
      'a user and password given win',
      {
        registry: 'ghcr.io/acme/shop',
        'github-token': 'ghs_token',
        'registry-username': 'bot',
        'registry-password': 'pat'
      },
      { registryUsername: 'bot', registryPassword: 'pat' }
    ],
    [
      'another registry gets no defaults',
      { registry: 'registry.example.com/acme', 'github-token': 'ghs_token' },
      { registryUsername: '', registryPassword: '' }
    ],
    [
      'no registry, no login',
      { 'github-token': 'ghs_token' },
      { registryUsername: '', registryPassword: '' }
    ]
  ])('registry login: %s', (_, given, expected) => {
    expect(resolved(given, PR)).toMatchObject(expected)
  })

  it('leaves the inputs it was given unchanged', () => {
    const inputs = parse({ cluster: 'existing' })
    withEventDefaults(inputs, PR)
    expect(inputs.namespace).toBe('preview')
  })
})
