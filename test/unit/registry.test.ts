// Images through a registry without a registry: reference rules, the exact argv of login, push,
// tag, logout and imagetools, and what a `docker` stand-in's answers turn into (digests, errors).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  loginToRegistry,
  logoutFromRegistry,
  promoteImage,
  pushImage,
  pushedByBuild
} from '../../src/images/push.js'
import { redact } from '../../src/redact.js'
import {
  Docker,
  buildxArgs,
  imagetoolsCreateArgs,
  loadArgs,
  loginArgs,
  logoutArgs,
  metadataDescriptorDigest,
  metadataDigest,
  pushArgs,
  tagArgs
} from '../../src/tools/docker.js'
import { valuesArgs } from '../../src/tools/helm.js'
import {
  digestPinnedValue,
  pushOutputDigest,
  pushedImage,
  pushedReference,
  registryFailure,
  registryHost,
  repoDigest,
  repositoryOf,
  repositoryPath
} from '../../src/tools/registry.js'
import { standIn, type Rule } from '../support/stand-in.js'

const D1 = `sha256:${'1'.repeat(64)}`
const D2 = `sha256:${'2'.repeat(64)}`

describe('registry references', () => {
  it.each([
    ['ghcr.io/acme/shop', 'ghcr.io'],
    ['127.0.0.1:5765/x', '127.0.0.1:5765'],
    ['localhost/team', 'localhost'],
    ['localhost:5000', 'localhost:5000'],
    ['registry.example.com:8443/a/b/c', 'registry.example.com:8443'],
    // Docker's own reading: a first component without . or : is a Docker Hub namespace.
    ['acme/shop', 'docker.io']
  ])('the host of %s is %s', (registry, host) => {
    expect(registryHost(registry)).toBe(host)
  })

  it.each([
    ['todo-chatbot-backend', 'todo-chatbot-backend'],
    ['acme/api', 'acme/api'],
    ['a__b.c-d', 'a__b.c-d'],
    ['Acme/API', 'acme/api'],
    ['my app+v2', 'my-app-v2'],
    ['a._b', 'a-b'],
    ['-lead/trail-', 'lead/trail'],
    ['a//b', 'a/b']
  ])('the image name %s is the repository path %s', (name, path) => {
    expect(repositoryPath(name)).toBe(path)
  })

  it('refuses a name with nothing a registry accepts', () => {
    expect(() => repositoryPath('+++')).toThrow(/'\+\+\+' has nothing a registry accepts/)
  })

  it('pushes as <registry>/<name>:<tag>', () => {
    expect(pushedReference('ghcr.io/acme/shop', 'todo-api', 'sha-0123456')).toBe(
      'ghcr.io/acme/shop/todo-api:sha-0123456'
    )
    expect(pushedReference('127.0.0.1:5765/previews', 'Web', 'v1.2.3')).toBe(
      '127.0.0.1:5765/previews/web:v1.2.3'
    )
  })

  it('refuses a tag or a repository the registry would refuse', () => {
    expect(() => pushedReference('ghcr.io/a', 'api', '-bad')).toThrow(/'-bad' is not a tag/)
    expect(() => pushedReference('ghcr.io/a', 'api', 'x'.repeat(129))).toThrow(/not a tag/)
    expect(() => pushedReference(`ghcr.io/${'a'.repeat(250)}`, 'api', 'v1')).toThrow(
      /longer than the 255 characters/
    )
  })

  it('reads the repository of a reference with a port, a tag or a digest', () => {
    expect(repositoryOf('127.0.0.1:5765/x/api:v1')).toBe('127.0.0.1:5765/x/api')
    expect(repositoryOf('127.0.0.1:5765/x/api')).toBe('127.0.0.1:5765/x/api')
    expect(repositoryOf(`ghcr.io/a/api@${D1}`)).toBe('ghcr.io/a/api')
    expect(pushedImage('127.0.0.1:5765/x/api:v1', D1)).toEqual({
      reference: '127.0.0.1:5765/x/api:v1',
      digest: D1,
      pinned: `127.0.0.1:5765/x/api@${D1}`
    })
    expect(() => pushedImage('a/b:c', 'sha256:short')).toThrow(/not a sha256 digest/)
  })
})

describe('digest-pinned chart values', () => {
  it('gives repository and <tag>@<digest>, which helm sets as strings', () => {
    const value = digestPinnedValue('backend.image', pushedImage('ghcr.io/acme/shop/api:sha-1', D1))
    expect(value).toEqual({
      path: 'backend.image',
      repository: 'ghcr.io/acme/shop/api',
      tag: `sha-1@${D1}`
    })
    const args = valuesArgs({ valuesFiles: [], set: [], setString: [], images: [value] })
    expect(args).toContain('backend.image.repository=ghcr.io/acme/shop/api')
    expect(args).toContain(`backend.image.tag=sha-1@${D1}`)
    // What a chart rendering `repository:tag` then runs: the digest, whatever the tag says.
    expect(`${value.repository}:${value.tag}`).toBe(`ghcr.io/acme/shop/api:sha-1@${D1}`)
  })

  it('refuses to pin an untagged reference, which would render as no reference at all', () => {
    expect(() => digestPinnedValue('image', pushedImage('r.io/a/api', D1))).toThrow(
      `r.io/a/api has no tag to pin to ${D1}`
    )
  })
})

describe('docker argv for registries', () => {
  it('logs in with the password on stdin, never on argv', () => {
    expect(loginArgs('ghcr.io', 'octocat')).toEqual([
      'login',
      'ghcr.io',
      '--username',
      'octocat',
      '--password-stdin'
    ])
  })

  it.each([
    [logoutArgs('ghcr.io'), ['logout', 'ghcr.io']],
    [tagArgs('api:sha-1', 'r.io/a/api:sha-1'), ['image', 'tag', 'api:sha-1', 'r.io/a/api:sha-1']],
    [pushArgs('r.io/a/api:sha-1'), ['image', 'push', 'r.io/a/api:sha-1']],
    [loadArgs('/tmp/api.tar'), ['image', 'load', '--input', '/tmp/api.tar']],
    [
      imagetoolsCreateArgs(`r.io/a/api@${D1}`, ['r.io/a/api:v1', 'r.io/a/api:latest'], '/t/m.json'),
      [
        'buildx',
        'imagetools',
        'create',
        '--prefer-index=false',
        '--progress=plain',
        '--metadata-file',
        '/t/m.json',
        '--tag',
        'r.io/a/api:v1',
        '--tag',
        'r.io/a/api:latest',
        `r.io/a/api@${D1}`
      ]
    ]
  ])('%j', (argv, expected) => {
    expect(argv).toEqual(expected)
  })

  it('builds straight into the registry when the output is push', () => {
    const argv = buildxArgs(
      { name: 'api', context: '/w/api', dockerfile: '/w/api/Dockerfile', buildArgs: [] },
      'r.io/a/api:sha-1',
      { builder: 'b', cacheArgs: [], output: 'push', metadataFile: '/t/api.json' }
    )
    expect(argv).toEqual([
      'buildx',
      'build',
      '--builder',
      'b',
      '--progress=plain',
      '--tag',
      'r.io/a/api:sha-1',
      '--file',
      '/w/api/Dockerfile',
      '--output',
      'type=image,push=true',
      '--metadata-file',
      '/t/api.json',
      '/w/api'
    ])
  })

  it('reads digests from buildx metadata, push output and RepoDigests', () => {
    // As buildx 0.38 writes them (trimmed).
    expect(
      metadataDigest(
        JSON.stringify({
          'containerimage.config.digest': D2,
          'containerimage.descriptor': { digest: D1 },
          'containerimage.digest': D1,
          'image.name': 'r.io/a/api:sha-1'
        })
      )
    ).toBe(D1)
    expect(metadataDigest('{}')).toBeUndefined()
    expect(metadataDigest('not json')).toBeUndefined()
    expect(
      metadataDescriptorDigest(JSON.stringify({ 'containerimage.descriptor': { digest: D2 } }))
    ).toBe(D2)
    const push = [
      'The push refers to repository [127.0.0.1:5765/exp/a]',
      '70abcd810040: Pushed',
      `sha-1: digest: ${D1} size: 734`
    ].join('\n')
    expect(pushOutputDigest(push, 'sha-1')).toBe(D1)
    expect(pushOutputDigest(push, 'other')).toBeUndefined()
    expect(repoDigest([`r.io/a/web@${D2}`, `r.io/a/api@${D1}`], 'r.io/a/api')).toBe(D1)
    expect(repoDigest([`r.io/a/web@${D2}`], 'r.io/a/api')).toBeUndefined()
  })

  it.each([
    [
      'Error response from daemon: login attempt to http://127.0.0.1:5766/v2/ failed with status: 401 Unauthorized',
      'denied',
      'login attempt to http://127.0.0.1:5766/v2/ failed with status: 401 Unauthorized'
    ],
    [
      'Error response from daemon: Get "http://127.0.0.1:5799/v2/": dial tcp 127.0.0.1:5799: connect: connection refused',
      'unreachable',
      'Get "http://127.0.0.1:5799/v2/": dial tcp 127.0.0.1:5799: connect: connection refused'
    ],
    ['no basic auth credentials', 'denied', 'no basic auth credentials'],
    [
      'denied: permission_denied: write_package',
      'denied',
      'denied: permission_denied: write_package'
    ],
    [
      'ERROR: failed to build: failed to solve: failed to push r.io/a:t: unexpected status from HEAD request to http://r.io/v2/a/blobs/sha256:00: 401 Unauthorized',
      'denied',
      'failed to build: failed to solve: failed to push r.io/a:t: unexpected status from HEAD request to http://r.io/v2/a/blobs/sha256:00: 401 Unauthorized'
    ],
    [
      'Get "https://r.io/v2/": dial tcp: lookup r.io on 10.0.0.2:53: no such host',
      'unreachable',
      'Get "https://r.io/v2/": dial tcp: lookup r.io on 10.0.0.2:53: no such host'
    ],
    ['ERROR: r.io/a@sha256:00: not found', 'other', 'r.io/a@sha256:00: not found']
  ])('a registry that answers %j is %s', (output, kind, reason) => {
    expect(registryFailure(output)).toEqual({ kind, reason })
  })
})

// ---- the calls, against a docker stand-in ----

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mp-registry-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

function fakeDocker(rules: Rule[]): { docker: Docker; calls: ReturnType<typeof standIn> } {
  const calls = standIn(dir, 'docker', rules, { recordStdin: true })
  return { docker: new Docker(calls.path, process.env), calls }
}

describe('login and logout', () => {
  const PASSWORD = 'hunter2-very-secret'

  it('hands docker the password on stdin only', async () => {
    const { docker, calls } = fakeDocker([{ match: ['login'], stdout: 'Login Succeeded\n' }])
    const host = await loginToRegistry(docker, {
      registry: 'ghcr.io/acme/shop',
      username: 'octocat',
      password: PASSWORD
    })
    expect(host).toBe('ghcr.io')
    const [call] = calls.calls()
    expect(call?.argv).toEqual(['login', 'ghcr.io', '--username', 'octocat', '--password-stdin'])
    expect(call?.stdin).toBe(PASSWORD)
    expect(call?.argv.join(' ')).not.toContain(PASSWORD)
    // From now on, anything printing it is masked.
    expect(redact(`echo ${PASSWORD}`)).not.toContain(PASSWORD)
  })

  it('says which registry and user were refused, never the password', async () => {
    const { docker } = fakeDocker([
      {
        match: ['login'],
        exitCode: 1,
        stderr:
          'Error response from daemon: login attempt to https://ghcr.io/v2/ failed with status: 401 Unauthorized\n'
      }
    ])
    const login = loginToRegistry(docker, {
      registry: 'ghcr.io/acme/shop',
      username: 'octocat',
      password: 'another-secret-pw'
    })
    await expect(login).rejects.toThrow(
      "Could not log in to the registry ghcr.io as 'octocat': it refused the credentials (login attempt to https://ghcr.io/v2/ failed with status: 401 Unauthorized); check inputs 'registry-username' and 'registry-password'"
    )
    await login.catch((err: Error) => expect(err.message).not.toContain('another-secret-pw'))
  })

  it('says a registry could not be reached', async () => {
    const { docker } = fakeDocker([
      {
        match: ['login'],
        exitCode: 1,
        stderr:
          'Error response from daemon: Get "http://127.0.0.1:5799/v2/": dial tcp 127.0.0.1:5799: connect: connection refused\n'
      }
    ])
    await expect(
      loginToRegistry(docker, { registry: '127.0.0.1:5799/x', username: 'u', password: 'pw-123' })
    ).rejects.toThrow(
      /^Could not log in to the registry 127\.0\.0\.1:5799 as 'u': it could not be reached \(.*connection refused\)$/
    )
  })

  it('says so when docker is not there, still naming registry and user', async () => {
    const docker = new Docker(join(dir, 'no-docker'), process.env)
    await expect(
      loginToRegistry(docker, { registry: 'ghcr.io/a', username: 'u', password: 'pw-123' })
    ).rejects.toThrow(/^Could not log in to the registry ghcr\.io as 'u': .*was not found/)
  })

  it('refuses an empty user or password before docker runs', async () => {
    const { docker, calls } = fakeDocker([])
    await expect(
      loginToRegistry(docker, { registry: 'ghcr.io/a', username: '', password: 'pw-123' })
    ).rejects.toThrow(
      "Could not log in to the registry ghcr.io: input 'registry-username' is empty"
    )
    await expect(
      loginToRegistry(docker, { registry: 'ghcr.io/a', username: 'u', password: '' })
    ).rejects.toThrow("input 'registry-password' is empty")
    expect(calls.calls()).toEqual([])
  })

  it('logs out of the host, and a failed logout is a warning text', async () => {
    const { docker, calls } = fakeDocker([
      { match: ['logout', 'ghcr.io'], stdout: 'Removing login credentials for ghcr.io\n' },
      { match: ['logout'], exitCode: 1, stderr: 'Error: permission denied on config.json\n' }
    ])
    expect(await logoutFromRegistry(docker, 'ghcr.io')).toBeUndefined()
    expect(await logoutFromRegistry(docker, 'r.io')).toBe(
      'Could not log out of the registry r.io: permission denied on config.json'
    )
    expect(calls.argvs()).toEqual([
      ['logout', 'ghcr.io'],
      ['logout', 'r.io']
    ])
  })
})

describe('pushing a built image', () => {
  const pushed = (tag: string, digest: string): string =>
    `The push refers to repository [r.io/a/api]\nabc: Pushed\n${tag}: digest: ${digest} size: 734\n`

  it('loads a tarball, tags and pushes, and returns the digest push printed', async () => {
    const { docker, calls } = fakeDocker([
      { match: ['image', 'load'], stdout: 'Loaded image: api:sha-1\n' },
      { match: ['image', 'tag'] },
      { match: ['image', 'push'], stdout: pushed('sha-1', D1) }
    ])
    const image = await pushImage(docker, {
      registry: 'r.io/a',
      name: 'api',
      tag: 'sha-1',
      source: { image: 'api:sha-1', tarball: '/tmp/api.tar' }
    })
    expect(image).toEqual({ reference: 'r.io/a/api:sha-1', digest: D1, pinned: `r.io/a/api@${D1}` })
    expect(calls.argvs()).toEqual([
      ['image', 'load', '--input', '/tmp/api.tar'],
      ['image', 'tag', 'api:sha-1', 'r.io/a/api:sha-1'],
      ['image', 'push', 'r.io/a/api:sha-1']
    ])
  })

  it('reads the digest from RepoDigests when push does not print it', async () => {
    const { docker, calls } = fakeDocker([
      { match: ['image', 'tag'] },
      { match: ['image', 'push'], stdout: 'r.io/a/api:sha-1\n' },
      {
        match: ['image', 'inspect'],
        stdout: `${JSON.stringify([`other.io/x/api@${D2}`, `r.io/a/api@${D1}`])}\n`
      }
    ])
    const image = await pushImage(docker, {
      registry: 'r.io/a',
      name: 'api',
      tag: 'sha-1',
      source: { image: 'api:sha-1' }
    })
    expect(image.digest).toBe(D1)
    expect(calls.argvs()[0]).toEqual(['image', 'tag', 'api:sha-1', 'r.io/a/api:sha-1'])
  })

  it.each([
    [
      'unauthorized: authentication required',
      'Could not push the image api to the registry r.io/a: it denied the push of r.io/a/api:sha-1 (unauthorized: authentication required); check that the registry user may write to r.io/a/api'
    ],
    [
      'Get "https://r.io/v2/": dial tcp: lookup r.io: no such host',
      'Could not push the image api to the registry r.io/a: r.io could not be reached (Get "https://r.io/v2/": dial tcp: lookup r.io: no such host)'
    ],
    [
      'received unexpected HTTP status: 500 Internal Server Error',
      'Could not push the image api to the registry r.io/a: docker push of r.io/a/api:sha-1 failed (received unexpected HTTP status: 500 Internal Server Error)'
    ]
  ])('a push that fails with %j says so in one sentence', async (stderr, message) => {
    const { docker } = fakeDocker([
      { match: ['image', 'tag'] },
      { match: ['image', 'push'], exitCode: 1, stdout: 'The push refers to repository\n', stderr }
    ])
    await expect(
      pushImage(docker, {
        registry: 'r.io/a',
        name: 'api',
        tag: 'sha-1',
        source: { image: 'api:sha-1' }
      })
    ).rejects.toThrow(message)
  })

  it('names the image and registry when the tag is refused or docker times out', async () => {
    const { docker, calls } = fakeDocker([
      { match: ['image', 'tag'] },
      { match: ['image', 'push'], delayMs: 5_000 }
    ])
    await expect(
      pushImage(docker, { registry: 'r.io/a', name: 'api', tag: '.x', source: { image: 'api:.x' } })
    ).rejects.toThrow(
      "Could not push the image api to the registry r.io/a: '.x' is not a tag a registry accepts"
    )
    expect(calls.calls()).toEqual([])
    await expect(
      pushImage(docker, {
        registry: 'r.io/a',
        name: 'api',
        tag: 'sha-1',
        source: { image: 'api:sha-1' },
        timeoutMs: 300
      })
    ).rejects.toThrow(/^Could not push the image api to the registry r\.io\/a: .*timed out after/)
  })

  it('pins what a build pushed to the digest in its metadata', () => {
    expect(
      pushedByBuild('api', 'r.io/a/api:sha-1', JSON.stringify({ 'containerimage.digest': D1 }))
    ).toEqual({ reference: 'r.io/a/api:sha-1', digest: D1, pinned: `r.io/a/api@${D1}` })
    expect(() => pushedByBuild('api', 'r.io/a/api:sha-1', undefined)).toThrow(
      'The build of api pushed r.io/a/api:sha-1, but its metadata file holds no containerimage.digest to pin the chart to'
    )
  })
})

describe('promoting a verified digest', () => {
  const image = pushedImage('r.io/a/api:sha-1', D1)

  it('tags the digest itself, registry to registry', async () => {
    const { docker, calls } = fakeDocker([
      {
        match: ['buildx', 'imagetools', 'create'],
        writes: [
          {
            flag: '--metadata-file',
            content: JSON.stringify({ 'containerimage.descriptor': { digest: D1 } })
          }
        ]
      }
    ])
    expect(await promoteImage(docker, 'api', image, ['v1.2.3', 'latest'])).toEqual([
      'r.io/a/api:v1.2.3',
      'r.io/a/api:latest'
    ])
    const argv = calls.argvs()[0] ?? []
    expect(argv.slice(0, 4)).toEqual(['buildx', 'imagetools', 'create', '--prefer-index=false'])
    expect(argv.slice(-5)).toEqual([
      '--tag',
      'r.io/a/api:v1.2.3',
      '--tag',
      'r.io/a/api:latest',
      `r.io/a/api@${D1}`
    ])
  })

  it('does nothing without tags', async () => {
    const { docker, calls } = fakeDocker([])
    expect(await promoteImage(docker, 'api', image, [])).toEqual([])
    expect(calls.calls()).toEqual([])
  })

  it('refuses a tag the registry would refuse, before anything runs', async () => {
    const { docker, calls } = fakeDocker([])
    await expect(promoteImage(docker, 'api', image, ['ok', 'not ok'])).rejects.toThrow(
      "Could not tag the image api in the registry r.io: 'not ok' is not a tag a registry accepts"
    )
    expect(calls.calls()).toEqual([])
  })

  it('fails when the tags would point at another digest', async () => {
    const { docker } = fakeDocker([
      {
        match: ['buildx', 'imagetools', 'create'],
        writes: [
          {
            flag: '--metadata-file',
            content: JSON.stringify({ 'containerimage.descriptor': { digest: D2 } })
          }
        ]
      }
    ])
    await expect(promoteImage(docker, 'api', image, ['v1'])).rejects.toThrow(
      `Could not tag the image api as v1 in the registry r.io: the tags point at ${D2}, not at the verified digest ${D1}`
    )
  })

  it.each([
    [
      'ERROR: unknown flag: --prefer-index',
      'Could not tag the image api as v1 in the registry r.io: this docker buildx cannot copy a digest as it is (--prefer-index needs buildx 0.15 or later)'
    ],
    [
      `ERROR: unexpected status from HEAD request to https://r.io/v2/a/api/manifests/${D1}: 401 Unauthorized`,
      `Could not tag the image api as v1 in the registry r.io: it denied the tags (unexpected status from HEAD request to https://r.io/v2/a/api/manifests/${D1}: 401 Unauthorized)`
    ]
  ])('says why imagetools failed: %j', async (stderr, message) => {
    const { docker } = fakeDocker([
      { match: ['buildx', 'imagetools', 'create'], exitCode: 1, stderr }
    ])
    await expect(promoteImage(docker, 'api', image, ['v1'])).rejects.toThrow(message)
  })
})
