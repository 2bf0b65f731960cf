import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import {
  downloadUrls,
  installTool,
  latestUrl,
  parseChecksum,
  resolveVersion,
  toolArch,
  versionFromTagUrl,
  type Arch,
  type ToolName
} from '../../src/tools/download.js'
import { startToolServer, type ToolServer } from '../support/tool-server.js'

const MINIKUBE = 'https://github.com/kubernetes/minikube/releases/download'
const HELM = 'https://get.helm.sh'
const KUBECTL = 'https://dl.k8s.io/release'
const HASH = 'a'.repeat(48) + '0123456789abcdef'

describe('toolArch', () => {
  test.each([
    ['x64', 'amd64'],
    ['arm64', 'arm64']
  ])('%s → %s', (node, arch) => {
    expect(toolArch(node)).toBe(arch)
  })

  test.each(['ia32', 'arm', 's390x', 'ppc64', 'riscv64'])('%s is refused by name', (node) => {
    expect(() => toolArch(node)).toThrow(`architecture '${node}' is not supported`)
  })
})

describe('downloadUrls', () => {
  test.each<[ToolName, string, string, Arch, string, string]>([
    [
      'minikube',
      MINIKUBE,
      'v1.39.0',
      'amd64',
      `${MINIKUBE}/v1.39.0/minikube-linux-amd64`,
      `${MINIKUBE}/v1.39.0/minikube-linux-amd64.sha256`
    ],
    [
      'minikube',
      MINIKUBE,
      'v1.37.0',
      'arm64',
      `${MINIKUBE}/v1.37.0/minikube-linux-arm64`,
      `${MINIKUBE}/v1.37.0/minikube-linux-arm64.sha256`
    ],
    [
      'helm',
      HELM,
      'v4.3.1',
      'amd64',
      'https://get.helm.sh/helm-v4.3.1-linux-amd64.tar.gz',
      'https://get.helm.sh/helm-v4.3.1-linux-amd64.tar.gz.sha256sum'
    ],
    [
      'helm',
      HELM,
      'v3.19.0',
      'arm64',
      'https://get.helm.sh/helm-v3.19.0-linux-arm64.tar.gz',
      'https://get.helm.sh/helm-v3.19.0-linux-arm64.tar.gz.sha256sum'
    ],
    [
      'kubectl',
      KUBECTL,
      'v1.34.1',
      'amd64',
      'https://dl.k8s.io/release/v1.34.1/bin/linux/amd64/kubectl',
      'https://dl.k8s.io/release/v1.34.1/bin/linux/amd64/kubectl.sha256'
    ],
    [
      'kubectl',
      'https://mirror.example.com/k8s',
      'v1.33.0',
      'arm64',
      'https://mirror.example.com/k8s/v1.33.0/bin/linux/arm64/kubectl',
      'https://mirror.example.com/k8s/v1.33.0/bin/linux/arm64/kubectl.sha256'
    ]
  ])('%s from %s %s %s', (tool, base, version, arch, url, checksumUrl) => {
    expect(downloadUrls(tool, base, version, arch)).toEqual({ url, checksumUrl })
  })
})

describe('latestUrl', () => {
  test.each<[ToolName, string, string]>([
    ['minikube', MINIKUBE, 'https://github.com/kubernetes/minikube/releases/latest'],
    ['helm', HELM, 'https://get.helm.sh/helm-latest-version'],
    ['kubectl', KUBECTL, 'https://dl.k8s.io/release/stable.txt']
  ])('%s', (tool, base, url) => {
    expect(latestUrl(tool, base)).toBe(url)
  })
})

describe('parseChecksum', () => {
  test.each<[string, string | undefined]>([
    [HASH, HASH],
    [`${HASH}\n`, HASH],
    [`${HASH}  helm-v4.3.1-linux-amd64.tar.gz\n`, HASH],
    [`  ${HASH.toUpperCase()} *kubectl\r\n`, HASH],
    ['', undefined],
    ['<html>Not Found</html>', undefined],
    [HASH.slice(1), undefined],
    [`${HASH}0`, undefined]
  ])('%j → %s', (text, hash) => {
    expect(parseChecksum(text)).toBe(hash)
  })
})

describe('versionFromTagUrl', () => {
  test.each<[string, string | undefined]>([
    ['https://github.com/kubernetes/minikube/releases/tag/v1.37.0', 'v1.37.0'],
    ['/kubernetes/minikube/releases/tag/v1.38.0-beta.0', 'v1.38.0-beta.0'],
    ['https://github.com/kubernetes/minikube/releases/tag/v1.37.0/', 'v1.37.0'],
    ['https://github.com/kubernetes/minikube/releases', undefined],
    ['https://github.com/kubernetes/minikube/releases/tag/nightly', undefined]
  ])('%s → %s', (location, version) => {
    expect(versionFromTagUrl(location)).toBe(version)
  })
})

// Everything below talks to a local stand-in of the download sites, with the runner's
// tool cache, temp folder and GITHUB_PATH in fresh temp dirs.

const TOOLS: ToolName[] = ['minikube', 'helm', 'kubectl']
const OLD = { minikube: 'v1.37.0', helm: 'v3.19.0', kubectl: 'v1.33.0' }
const NEW = { minikube: 'v1.39.0', helm: 'v4.3.1', kubectl: 'v1.34.1' }
const retryGlobals = globalThis as Record<string, unknown>

let programs: string
let server: ToolServer
let root: string
let savedEnv: NodeJS.ProcessEnv
let lines: string[]
const log = { info: (line: string) => lines.push(line) }

function standIn(tool: ToolName, version: string): string {
  const file = join(programs, `${tool}-${version}`)
  writeFileSync(file, `#!/bin/sh\necho "${tool} ${version} stand-in: $*"\n`)
  chmodSync(file, 0o755)
  return file
}

beforeAll(async () => {
  programs = mkdtempSync(join(tmpdir(), 'mp-programs-'))
  const tools: Record<ToolName, Record<string, string>> = { minikube: {}, helm: {}, kubectl: {} }
  for (const tool of TOOLS) {
    for (const version of [OLD[tool], NEW[tool]]) tools[tool][version] = standIn(tool, version)
  }
  // "latest" announces the older release, so resolving it is visibly not a default.
  server = await startToolServer({ tools, latest: OLD })
  // The tool cache pauses 10–20 s between download attempts; not here.
  retryGlobals.TEST_DOWNLOAD_TOOL_RETRY_MIN_SECONDS = 0
  retryGlobals.TEST_DOWNLOAD_TOOL_RETRY_MAX_SECONDS = 0
})

afterAll(async () => {
  await server.close()
  rmSync(programs, { recursive: true, force: true })
  delete retryGlobals.TEST_DOWNLOAD_TOOL_RETRY_MIN_SECONDS
  delete retryGlobals.TEST_DOWNLOAD_TOOL_RETRY_MAX_SECONDS
})

beforeEach(() => {
  savedEnv = { ...process.env }
  root = mkdtempSync(join(tmpdir(), 'mp-download-'))
  process.env.RUNNER_TOOL_CACHE = join(root, 'cache')
  process.env.RUNNER_TEMP = join(root, 'temp')
  process.env.GITHUB_PATH = join(root, 'github_path')
  writeFileSync(process.env.GITHUB_PATH, '')
  server.requests.length = 0
  server.clearFaults()
  lines = []
})

afterEach(() => {
  process.env = savedEnv
  rmSync(root, { recursive: true, force: true })
})

/** Every file under a folder, relative paths; [] when it does not exist. */
function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) =>
      statSync(join(dir, p)).isFile()
    )
  } catch {
    return []
  }
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
const arch = toolArch()

describe('installTool', () => {
  test.each(TOOLS)('installs %s: verified, cached, on PATH, runnable', async (tool) => {
    const version = NEW[tool]
    const info = await installTool(tool, { baseUrl: server.urls[tool], version, log })

    expect(info).toEqual({ name: tool, version, path: info.path, cached: false })
    expect(info.path.startsWith(join(root, 'cache', tool))).toBe(true)
    expect(info.path.endsWith(`/${arch}/${tool}`)).toBe(true)
    expect(readFileSync(info.path)).toEqual(readFileSync(join(programs, `${tool}-${version}`)))
    expect(statSync(info.path).mode & 0o111).toBe(0o111)
    // On PATH for this process and for the job's later steps.
    const out = execFileSync(tool, ['version'], { env: process.env, encoding: 'utf8' })
    expect(out).toBe(`${tool} ${version} stand-in: version\n`)
    expect(readFileSync(join(root, 'github_path'), 'utf8')).toContain(dirname(info.path))
    // Only the release and its checksum were fetched; nothing is left in the temp folder.
    const paths = server.paths(tool, version, arch)
    expect([...server.requests].sort()).toEqual([paths.binary, paths.checksum].sort())
    expect(filesUnder(join(root, 'temp'))).toEqual([])
    expect(lines.join('\n')).toContain(
      `sha256 ${sha256(server.artifact(tool, version, arch))} matches`
    )
  })

  test('helm is taken out of its archive; the rest of the archive is cached beside it', async () => {
    const info = await installTool('helm', { baseUrl: server.urls.helm, version: 'v4.3.1', log })
    expect(filesUnder(dirname(info.path)).sort()).toEqual(['LICENSE', 'README.md', 'helm'])
  })

  test.each(TOOLS)('a warm cache installs %s without a single request', async (tool) => {
    const first = await installTool(tool, { baseUrl: server.urls[tool], version: NEW[tool], log })
    server.requests.length = 0
    process.env.PATH = savedEnv.PATH
    writeFileSync(join(root, 'github_path'), '')

    const second = await installTool(tool, { baseUrl: server.urls[tool], version: NEW[tool], log })

    expect(second).toEqual({ ...first, cached: true })
    expect(server.requests).toEqual([])
    expect(execFileSync(tool, [], { env: process.env, encoding: 'utf8' })).toContain(NEW[tool])
    expect(readFileSync(join(root, 'github_path'), 'utf8')).toContain(dirname(first.path))
  })

  test('another version is not taken from the cache', async () => {
    await installTool('kubectl', { baseUrl: server.urls.kubectl, version: 'v1.34.1', log })
    server.requests.length = 0
    const other = await installTool('kubectl', {
      baseUrl: server.urls.kubectl,
      version: 'v1.33.0',
      log
    })
    expect(other.cached).toBe(false)
    expect(server.requests).toContain(server.paths('kubectl', 'v1.33.0', arch).binary)
  })

  test.each(TOOLS)('a checksum mismatch of %s fails and leaves nothing behind', async (tool) => {
    const version = NEW[tool]
    const { url, checksumUrl } = downloadUrls(tool, server.urls[tool], version, arch)
    server.fault(server.paths(tool, version, arch).checksum, { wrongChecksum: true })
    const expected = sha256(Buffer.from('not the served file'))
    const actual = sha256(server.artifact(tool, version, arch))

    const err = await installTool(tool, { baseUrl: server.urls[tool], version, log }).catch(
      (e: unknown) => e
    )

    expect(err).toBeInstanceOf(Error)
    expect((err as Error).message).toBe(
      `checksum mismatch for ${tool} ${version} downloaded from ${url}: expected sha256 ${expected} (from ${checksumUrl}), got ${actual}. The file was discarded.`
    )
    expect(filesUnder(join(root, 'cache'))).toEqual([])
    expect(filesUnder(join(root, 'temp'))).toEqual([])
    // A later run with a good checksum is not fooled by anything the failed one left.
    server.clearFaults()
    const info = await installTool(tool, { baseUrl: server.urls[tool], version, log })
    expect(info.cached).toBe(false)
  })

  test('transient 500s on the download are retried until it succeeds', async () => {
    const { binary } = server.paths('minikube', 'v1.39.0', arch)
    server.fault(binary, { status: 500, times: 2 })

    const info = await installTool('minikube', {
      baseUrl: server.urls.minikube,
      version: 'v1.39.0',
      log
    })

    expect(server.requests.filter((p) => p === binary)).toHaveLength(3)
    expect(readFileSync(info.path, 'utf8')).toContain('minikube v1.39.0 stand-in')
  })

  test('a transient 503 on the checksum file is retried', async () => {
    const { checksum } = server.paths('kubectl', 'v1.34.1', arch)
    server.fault(checksum, { status: 503, times: 1 })

    const info = await installTool('kubectl', {
      baseUrl: server.urls.kubectl,
      version: 'v1.34.1',
      log
    })

    expect(server.requests.filter((p) => p === checksum)).toHaveLength(2)
    expect(info.cached).toBe(false)
  })

  test('500s that do not stop fail with the tool, the URL and the status', async () => {
    const { binary } = server.paths('helm', 'v4.3.1', arch)
    server.fault(binary, { status: 500 })
    const { url } = downloadUrls('helm', server.urls.helm, 'v4.3.1', arch)

    await expect(
      installTool('helm', { baseUrl: server.urls.helm, version: 'v4.3.1', log })
    ).rejects.toThrow(`could not download helm v4.3.1 from ${url}: HTTP 500`)
    expect(server.requests.filter((p) => p === binary)).toHaveLength(3)
    expect(filesUnder(join(root, 'cache'))).toEqual([])
  })

  test('a version that does not exist is a 404 that says so', async () => {
    const { url } = downloadUrls('helm', server.urls.helm, 'v9.9.9', arch)
    await expect(
      installTool('helm', { baseUrl: server.urls.helm, version: 'v9.9.9', log })
    ).rejects.toThrow(`helm v9.9.9 was not found at ${url} (is the version right?)`)
    // A 404 is not worth retrying.
    expect(server.requests.filter((p) => p.endsWith('.tar.gz'))).toHaveLength(1)
    expect(filesUnder(join(root, 'temp'))).toEqual([])
  })

  test('a checksum file without a hash is refused', async () => {
    const { checksumUrl } = downloadUrls('minikube', server.urls.minikube, 'v1.39.0', arch)
    server.fault(server.paths('minikube', 'v1.39.0', arch).checksum, { body: 'Not Found' })
    await expect(
      installTool('minikube', { baseUrl: server.urls.minikube, version: 'v1.39.0', log })
    ).rejects.toThrow(
      `the checksum file of minikube v1.39.0 at ${checksumUrl} holds no sha256 hash`
    )
    expect(filesUnder(join(root, 'cache'))).toEqual([])
    expect(filesUnder(join(root, 'temp'))).toEqual([])
  })

  test('a 403 names the tool, the URL and the status', async () => {
    const { binary } = server.paths('kubectl', 'v1.34.1', arch)
    server.fault(binary, { status: 403 })
    const { url } = downloadUrls('kubectl', server.urls.kubectl, 'v1.34.1', arch)
    await expect(
      installTool('kubectl', { baseUrl: server.urls.kubectl, version: 'v1.34.1', log })
    ).rejects.toThrow(`could not download kubectl v1.34.1 from ${url}: HTTP 403`)
  })

  test('a site that does not answer is named', async () => {
    await expect(
      installTool('kubectl', { baseUrl: 'http://127.0.0.1:1/release', version: 'v1.34.1', log })
    ).rejects.toThrow('could not download kubectl v1.34.1 from http://127.0.0.1:1/release/')
  })

  test.each(TOOLS)('latest %s installs the version the site announces', async (tool) => {
    const info = await installTool(tool, { baseUrl: server.urls[tool], version: 'latest', log })
    expect(info.version).toBe(OLD[tool])
    expect(readFileSync(info.path, 'utf8')).toContain(`${tool} ${OLD[tool]} stand-in`)
    expect(lines).toContain(`latest ${tool} is ${OLD[tool]}`)
    expect(server.requests[0]).toBe(server.latestPath(tool))
  })
})

describe('resolveVersion', () => {
  test.each(TOOLS)('latest %s', async (tool) => {
    await expect(resolveVersion(tool, server.urls[tool], 'latest')).resolves.toBe(OLD[tool])
    // minikube's answer is read from the redirect, never from GitHub's HTML page behind it.
    expect(server.requests).toEqual([server.latestPath(tool)])
  })

  test.each(TOOLS)('a concrete %s version is kept and costs no request', async (tool) => {
    await expect(resolveVersion(tool, server.urls[tool], 'v1.2.3')).resolves.toBe('v1.2.3')
    expect(server.requests).toEqual([])
  })

  test('a latest endpoint that fails is reported with its URL and status', async () => {
    server.fault(server.latestPath('helm'), { status: 404 })
    await expect(resolveVersion('helm', server.urls.helm, 'latest')).rejects.toThrow(
      `could not find the latest helm version: ${server.urls.helm}/helm-latest-version answered HTTP 404`
    )
  })

  test('an answer that is not a version is refused', async () => {
    server.fault(server.latestPath('kubectl'), { body: '<html>maintenance</html>\n' })
    await expect(resolveVersion('kubectl', server.urls.kubectl, 'latest')).rejects.toThrow(
      `${server.urls.kubectl}/stable.txt answered '<html>maintenance</html>', which is not a version`
    )
  })

  test('a minikube redirect that names no tag is refused', async () => {
    const other = await startToolServer({ tools: { minikube: { nightly: Buffer.from('') } } })
    try {
      await expect(resolveVersion('minikube', other.urls.minikube, 'latest')).rejects.toThrow(
        /redirected to .*\/releases\/tag\/nightly, which names no release tag/
      )
    } finally {
      await other.close()
    }
  })
})
