// Images through a real registry: the real docker CLI, buildx and the test engine push to the
// loopback `distribution` registry of scripts/docker-up.sh, and the digests our functions return
// are checked against what the registry itself answers (`Docker-Content-Digest`). A second
// registry from the same binary, with htpasswd auth, proves logins: refused, accepted, logged out.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  loginToRegistry,
  logoutFromRegistry,
  promoteImage,
  pushImage,
  pushedByBuild
} from '../../src/images/push.js'
import type { ImageSpec } from '../../src/inputs.js'
import { Docker, buildArgs, buildxArgs } from '../../src/tools/docker.js'
import { valuesArgs } from '../../src/tools/helm.js'
import { digestPinnedValue, type PushedImage } from '../../src/tools/registry.js'
import { base, docker, engineEnv, registry, removeImages } from './engine.js'

const ROOT = resolve(import.meta.dirname, '..', '..')
// The builder scripts/docker-up.sh registers: the engine's buildkitd.
const BUILDER = 'mp-buildkit'
const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json'
].join(', ')

let work: string
/** A repository path of this run alone: a digest read back cannot be an earlier run's. */
let space: string
let app: string

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'mp-registry-docker-'))
  space = `mp-registry-test/${randomBytes(4).toString('hex')}`
  app = join(work, 'app')
  mkdirSync(app)
  writeFileSync(
    join(app, 'Dockerfile'),
    `FROM ${base('BUSYBOX')}\nRUN echo ${space} > /run-id\nCMD ["cat", "/run-id"]\n`
  )
})
afterAll(() => {
  rmSync(work, { recursive: true, force: true })
  removeImages('mp-test/reg-daemon:sha-0000001', 'mp-test/reg-tarball:sha-0000002', 'mp-test/reg-auth:sha-0000005')
  // What was tagged for, or pulled from, the test registries (by ID: a pull by digest has no tag).
  const ids = docker(['image', 'ls', '--format', '{{.ID}} {{.Repository}}'])
    .split('\n')
    .filter((l) => / 127\.0\.0\.1:\d+\/(?:mp-registry-test\/|x\/reg-auth$)/.test(l))
    .map((l) => l.split(' ')[0] as string)
  removeImages(...new Set(ids))
})

/** The folder a cached-tools script prints last (it builds them only when not cached). */
function scriptOutput(script: string): string {
  return execFileSync('bash', [join(ROOT, 'scripts', script)], {
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 30 * 60_000
  })
    .toString()
    .trim()
    .split('\n')
    .pop() as string
}

function engineDocker(env: Record<string, string> = {}): Docker {
  return new Docker('docker', { ...process.env, ...engineEnv(), ...env })
}

/** What the registry says a tag or digest of a repository is: `Docker-Content-Digest`. */
async function registryDigest(host: string, repository: string, ref: string): Promise<string> {
  const res = await fetch(`http://${host}/v2/${repository}/manifests/${ref}`, {
    method: 'HEAD',
    headers: { Accept: ACCEPT }
  })
  expect(res.status, `HEAD ${repository}:${ref}`).toBe(200)
  return res.headers.get('docker-content-digest') ?? ''
}

function spec(name: string): ImageSpec {
  return { name, context: app, dockerfile: join(app, 'Dockerfile'), buildArgs: [] }
}

describe('pushing to a real registry', () => {
  let fromDaemon: PushedImage
  let fromBuild: PushedImage

  it('pushes an image built into the daemon, and returns the digest the registry has', async () => {
    const d = engineDocker()
    const local = `mp-test/reg-daemon:sha-0000001`
    const built = await d.build(buildArgs(spec('reg-daemon'), local), 300_000)
    expect(built.exitCode, built.stderr).toBe(0)

    const pushed = await pushImage(d, {
      registry: `${registry()}/${space}`,
      name: 'reg-daemon',
      tag: 'sha-0000001',
      source: { image: local }
    })
    expect(pushed.reference).toBe(`${registry()}/${space}/reg-daemon:sha-0000001`)
    const digest = await registryDigest(registry(), `${space}/reg-daemon`, 'sha-0000001')
    expect(pushed.digest).toBe(digest)
    expect(pushed.pinned).toBe(`${registry()}/${space}/reg-daemon@${digest}`)
    fromDaemon = pushed
  })

  it('renders the pushed digest into the reference chart, which pulls that very image', () => {
    const tools = scriptOutput('test-tools.sh')
    const args = valuesArgs({
      valuesFiles: [],
      set: [],
      setString: [],
      images: [digestPinnedValue('backend.image', fromDaemon)]
    })
    const rendered = execFileSync(
      join(tools, 'helm'),
      ['template', 'web', join(ROOT, 'charts', 'todo-chatbot'), ...args],
      { timeout: 120_000 }
    ).toString()
    const images = [...rendered.matchAll(/^\s*image: "?([^"\s]+)"?$/gm)].map((m) => m[1])
    const tag = fromDaemon.reference.split(':').pop() as string
    const expected = `${registry()}/${space}/reg-daemon:${tag}@${fromDaemon.digest}`
    expect(images).toContain(expected)
    // Pulled by the digest, with nothing of it left in the engine: the registry's image runs.
    docker(['image', 'rm', '--force', 'mp-test/reg-daemon:sha-0000001', fromDaemon.reference])
    docker(['pull', expected])
    expect(docker(['run', '--rm', expected])).toBe(space)
  })

  it('pushes an image exported to a tarball, after loading it', async () => {
    const d = engineDocker()
    const local = 'mp-test/reg-tarball:sha-0000002'
    const tarball = join(work, 'reg-tarball.tar')
    const built = await d.build(
      buildxArgs(spec('reg-tarball'), local, {
        builder: BUILDER,
        cacheArgs: [],
        output: { tarball },
        metadataFile: join(work, 'reg-tarball.json')
      }),
      300_000
    )
    expect(built.exitCode, built.stderr).toBe(0)
    docker(['image', 'rm', '--force', local])

    const pushed = await pushImage(d, {
      registry: `${registry()}/${space}`,
      name: 'reg-tarball',
      tag: 'sha-0000002',
      source: { image: local, tarball }
    })
    expect(pushed.digest).toBe(await registryDigest(registry(), `${space}/reg-tarball`, 'sha-0000002'))
  })

  it('takes the digest of an image the build itself pushed from its metadata file', async () => {
    const d = engineDocker()
    const reference = `${registry()}/${space}/reg-build:sha-0000003`
    const metadata = join(work, 'reg-build.json')
    const built = await d.build(
      buildxArgs(spec('reg-build'), reference, {
        builder: BUILDER,
        cacheArgs: [],
        output: 'push',
        metadataFile: metadata
      }),
      300_000
    )
    expect(built.exitCode, built.stderr).toBe(0)
    fromBuild = pushedByBuild('reg-build', reference, readFileSync(metadata, 'utf8'))
    expect(fromBuild.digest).toBe(
      await registryDigest(registry(), `${space}/reg-build`, 'sha-0000003')
    )
  })

  it('puts release tags on exactly the pushed digest', async () => {
    const d = engineDocker()
    // An index (the build's, with its attestation) and a plain manifest (docker push's).
    for (const [name, pushed] of [
      ['reg-build', fromBuild],
      ['reg-daemon', fromDaemon]
    ] as const) {
      const tags = await promoteImage(d, name, pushed, ['v1.2.3', 'latest'])
      expect(tags).toEqual([
        `${registry()}/${space}/${name}:v1.2.3`,
        `${registry()}/${space}/${name}:latest`
      ])
      for (const t of ['v1.2.3', 'latest']) {
        expect(await registryDigest(registry(), `${space}/${name}`, t)).toBe(pushed.digest)
      }
    }
  })
})

// ---- a registry that wants a login ----

const USER = 'mp-test'
const PASSWORD = 'right-password'
// bcrypt (cost 5) of PASSWORD: distribution's htpasswd reads nothing else.
const HTPASSWD = `${USER}:$2b$05$qGrbZum9gZLNnsjJX/wlRuwx6B6PYUd1aNQyIraMixEHqSwQUd39O\n`

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer()
    s.once('error', fail)
    s.listen(0, '127.0.0.1', () => {
      const address = s.address()
      s.close(() => done(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

describe('a registry that needs a login', () => {
  let child: ChildProcess | undefined
  let host: string
  let auth: Docker

  beforeAll(async () => {
    const tools = scriptOutput('docker-tools.sh')
    const binary = join(tools, 'bin', 'registry')
    expect(existsSync(binary), binary).toBe(true)
    host = `127.0.0.1:${await freePort()}`
    const dir = join(work, 'auth-registry')
    mkdirSync(dir)
    writeFileSync(join(dir, 'htpasswd'), HTPASSWD)
    writeFileSync(
      join(dir, 'config.yml'),
      [
        'version: 0.1',
        'log:',
        '  level: warn',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${join(dir, 'data')}`,
        'http:',
        `  addr: ${host}`,
        'auth:',
        '  htpasswd:',
        '    realm: mp-test',
        `    path: ${join(dir, 'htpasswd')}`,
        ''
      ].join('\n')
    )
    child = spawn(binary, ['serve', join(dir, 'config.yml')], {
      env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' },
      stdio: 'ignore'
    })
    // Up when /v2/ asks for credentials; bounded.
    let status = 0
    for (let i = 0; i < 100 && status !== 401; i++) {
      status = await fetch(`http://${host}/v2/`)
        .then((r) => r.status)
        .catch(() => 0)
      if (status !== 401) await new Promise((r) => setTimeout(r, 100))
    }
    expect(status, `the auth registry on ${host} did not answer`).toBe(401)

    // Logins are stored in a docker config of this test alone, beside the engine's builders.
    const config = join(work, 'docker-config')
    mkdirSync(config)
    const engineConfig = engineEnv()['DOCKER_CONFIG'] as string
    writeFileSync(join(config, 'config.json'), readFileSync(join(engineConfig, 'config.json')))
    auth = engineDocker({ DOCKER_CONFIG: config, BUILDX_CONFIG: join(engineConfig, 'buildx') })
  })
  afterAll(() => {
    if (child?.pid !== undefined && child.exitCode === null) child.kill('SIGKILL')
  })

  const local = 'mp-test/reg-auth:sha-0000005'
  const pushTo = (): Promise<PushedImage> =>
    pushImage(auth, {
      registry: `${host}/${space}`,
      name: 'reg-auth',
      tag: 'sha-0000005',
      source: { image: local }
    })

  it('refuses a wrong password, naming the registry and the user, never the password', async () => {
    const err = await loginToRegistry(auth, {
      registry: `${host}/${space}`,
      username: USER,
      password: 'wrong-password-123'
    }).catch((e: unknown) => e as Error)
    expect(err).toBeInstanceOf(Error)
    expect((err as Error).message).toMatch(
      new RegExp(
        `^Could not log in to the registry ${host.replace(/\./g, '\\.')} as '${USER}': it refused the credentials \\(.*401 Unauthorized\\); check inputs 'registry-username' and 'registry-password'$`
      )
    )
    expect((err as Error).message).not.toContain('wrong-password-123')
  })

  it('denies a push without a login, in one sentence naming the image and registry', async () => {
    const built = await auth.build(buildArgs(spec('reg-auth'), local), 300_000)
    expect(built.exitCode, built.stderr).toBe(0)
    await expect(pushTo()).rejects.toThrow(
      `Could not push the image reg-auth to the registry ${host}/${space}: it denied the push of ${host}/${space}/reg-auth:sha-0000005 (no basic auth credentials)`
    )
  })

  it('pushes after a login and, logged out, is denied again', async () => {
    expect(
      await loginToRegistry(auth, { registry: `${host}/${space}`, username: USER, password: PASSWORD })
    ).toBe(host)
    const pushed = await pushTo()
    const res = await fetch(`http://${host}/v2/${space}/reg-auth/manifests/sha-0000005`, {
      method: 'HEAD',
      headers: {
        Accept: ACCEPT,
        Authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`
      }
    })
    expect(res.headers.get('docker-content-digest')).toBe(pushed.digest)
    // A build that pushes uses the same login.
    const reference = `${host}/${space}/reg-auth-build:sha-0000006`
    const metadata = join(work, 'reg-auth-build.json')
    const built = await auth.build(
      buildxArgs(spec('reg-auth-build'), reference, {
        builder: BUILDER,
        cacheArgs: [],
        output: 'push',
        metadataFile: metadata
      }),
      300_000
    )
    expect(built.exitCode, built.stderr).toBe(0)
    expect(pushedByBuild('reg-auth-build', reference, readFileSync(metadata, 'utf8')).digest).toMatch(
      /^sha256:/
    )

    expect(await logoutFromRegistry(auth, host)).toBeUndefined()
    await expect(pushTo()).rejects.toThrow(/it denied the push of .* \(no basic auth credentials\)/)
  })

  it('says a registry that does not answer could not be reached', async () => {
    const gone = `127.0.0.1:${await freePort()}`
    await expect(
      loginToRegistry(auth, { registry: `${gone}/x`, username: USER, password: PASSWORD })
    ).rejects.toThrow(
      new RegExp(`^Could not log in to the registry ${gone.replace(/\./g, '\\.')} as '${USER}': it could not be reached \\(.*connection refused\\)$`)
    )
    await expect(
      pushImage(auth, {
        registry: `${gone}/x`,
        name: 'reg-auth',
        tag: 'sha-0000005',
        source: { image: local }
      })
    ).rejects.toThrow(
      new RegExp(`^Could not push the image reg-auth to the registry ${gone.replace(/\./g, '\\.')}/x: ${gone.replace(/\./g, '\\.')} could not be reached \\(.*connection refused\\)$`)
    )
  })
})
