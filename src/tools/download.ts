// Installing minikube, helm and kubectl: download, checksum, tool cache, and where each one came from.
import { createHash } from 'node:crypto'
import { createReadStream, existsSync } from 'node:fs'
import { chmod, rm } from 'node:fs/promises'
import { join } from 'node:path'
import * as core from '@actions/core'
import * as tc from '@actions/tool-cache'
import type { Log } from '../exec.js'
import type { ToolInfo } from '../model.js'
import { errorMessage } from '../text.js'

export type ToolName = 'minikube' | 'helm' | 'kubectl'
export type Arch = 'amd64' | 'arm64'

export interface InstallOptions {
  baseUrl: string
  /** `vX.Y.Z` or `latest`. */
  version: string
  arch?: Arch
  log?: Pick<Log, 'info'>
}

const VERSION = /^v\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/
const SHA256 = /^[0-9a-f]{64}$/
const TEXT_TIMEOUT_MS = 30_000
/** Pauses between attempts of the small text requests (latest version, checksum). */
const TEXT_RETRY_DELAYS_MS = [1000, 3000]

/** The release architecture of the runner, as the download sites spell it. */
export function toolArch(nodeArch: string = process.arch): Arch {
  if (nodeArch === 'x64') return 'amd64'
  if (nodeArch === 'arm64') return 'arm64'
  throw new Error(
    `this runner's architecture '${nodeArch}' is not supported: Minikube, Helm and kubectl are installed for Linux x64 or arm64 only`
  )
}

export function downloadUrls(
  tool: ToolName,
  baseUrl: string,
  version: string,
  arch: Arch
): { url: string; checksumUrl: string } {
  switch (tool) {
    case 'minikube': {
      const url = `${baseUrl}/${version}/minikube-linux-${arch}`
      return { url, checksumUrl: `${url}.sha256` }
    }
    case 'helm': {
      const url = `${baseUrl}/helm-${version}-linux-${arch}.tar.gz`
      return { url, checksumUrl: `${url}.sha256sum` }
    }
    case 'kubectl': {
      const url = `${baseUrl}/${version}/bin/linux/${arch}/kubectl`
      return { url, checksumUrl: `${url}.sha256` }
    }
  }
}

/** Where the newest release is announced: a text file, or for minikube a redirect to the tag. */
export function latestUrl(tool: ToolName, baseUrl: string): string {
  switch (tool) {
    case 'minikube':
      return `${baseUrl.replace(/\/download$/, '')}/latest`
    case 'helm':
      return `${baseUrl}/helm-latest-version`
    case 'kubectl':
      return `${baseUrl}/stable.txt`
  }
}

/**
 * The sha256 a checksum file names: either just the hash (`.sha256`) or `hash  filename`
 * (`.sha256sum`). Returns undefined when the text holds no hash.
 */
export function parseChecksum(text: string): string | undefined {
  const first = text.trim().split(/\s+/)[0]?.toLowerCase() ?? ''
  return SHA256.test(first) ? first : undefined
}

/** The version a GitHub `releases/latest` redirect points at (`…/releases/tag/vX.Y.Z`). */
export function versionFromTagUrl(location: string): string | undefined {
  const m = /\/tag\/([^/?#]+)\/?(?:[?#].*)?$/.exec(location)
  if (!m?.[1]) return undefined
  const tag = decodeURIComponent(m[1])
  return VERSION.test(tag) ? tag : undefined
}

/** `latest` becomes the concrete version the site announces; a concrete version is returned unchanged. */
export async function resolveVersion(
  tool: ToolName,
  baseUrl: string,
  version: string
): Promise<string> {
  const wanted = version.trim()
  if (wanted === '') throw new Error(`no ${tool} version was given (expected 'vX.Y.Z' or 'latest')`)
  if (wanted.toLowerCase() !== 'latest') return wanted
  const url = latestUrl(tool, baseUrl)
  const what = `the latest ${tool} version`
  if (tool === 'minikube') {
    const res = await request(url, what, 'manual')
    const location = res.headers.get('location')
    if (res.status >= 300 && res.status < 400 && location) {
      const found = versionFromTagUrl(new URL(location, url).pathname)
      if (found) return found
      throw new Error(
        `could not find ${what}: ${url} redirected to ${location}, which names no release tag`
      )
    }
    if (res.ok) return versionIn(await res.text(), url, what)
    throw new Error(`could not find ${what}: ${url} answered HTTP ${res.status}`)
  }
  const res = await request(url, what, 'follow')
  if (!res.ok) throw new Error(`could not find ${what}: ${url} answered HTTP ${res.status}`)
  return versionIn(await res.text(), url, what)
}

function versionIn(text: string, url: string, what: string): string {
  const t = text.trim()
  if (VERSION.test(t)) return t
  const shown = t.length > 60 ? `${t.slice(0, 60)}…` : t
  throw new Error(`could not find ${what}: ${url} answered '${shown}', which is not a version`)
}

/**
 * Puts a tool on PATH: from the runner's tool cache when this version is there, otherwise
 * downloaded, checked against its published sha256, and then cached. Nothing reaches the
 * tool cache before its checksum matched.
 */
export async function installTool(tool: ToolName, opts: InstallOptions): Promise<ToolInfo> {
  const log = opts.log ?? { info: (line: string) => core.info(line) }
  if (process.platform !== 'linux') {
    throw new Error(
      `${tool} is installed for Linux runners only, this one is '${process.platform}'`
    )
  }
  const arch = opts.arch ?? toolArch()
  const version = await resolveVersion(tool, opts.baseUrl, opts.version)
  if (opts.version.trim().toLowerCase() === 'latest') log.info(`latest ${tool} is ${version}`)

  const found = tc.find(tool, version, arch)
  if (found && existsSync(join(found, tool))) {
    log.info(`${tool} ${version} (${arch}) found in the tool cache: ${found}`)
    core.addPath(found)
    return { name: tool, version, path: join(found, tool), cached: true }
  }

  const { url, checksumUrl } = downloadUrls(tool, opts.baseUrl, version, arch)
  log.info(`downloading ${tool} ${version} from ${url}`)
  const file = await download(tool, version, url)
  const temp = [file]
  try {
    const checksumText = await fetchText(
      checksumUrl,
      `the checksum of ${tool} ${version}`,
      (status) => httpFailure(tool, version, checksumUrl, status)
    )
    const expected = parseChecksum(checksumText)
    if (!expected) {
      throw new Error(
        `the checksum file of ${tool} ${version} at ${checksumUrl} holds no sha256 hash`
      )
    }
    const actual = await sha256(file)
    if (actual !== expected) {
      throw new Error(
        `checksum mismatch for ${tool} ${version} downloaded from ${url}: expected sha256 ${expected} (from ${checksumUrl}), got ${actual}. The file was discarded.`
      )
    }
    log.info(`sha256 ${actual} matches`)

    let dir: string
    if (tool === 'helm') {
      const extracted = await tc.extractTar(file)
      temp.push(extracted)
      const inner = join(extracted, `linux-${arch}`)
      if (!existsSync(join(inner, 'helm'))) {
        throw new Error(`the archive ${url} has no linux-${arch}/helm inside`)
      }
      dir = await tc.cacheDir(inner, tool, version, arch)
    } else {
      dir = await tc.cacheFile(file, tool, tool, version, arch)
    }
    const binary = join(dir, tool)
    await chmod(binary, 0o755)
    core.addPath(dir)
    log.info(`${tool} ${version} installed at ${binary}`)
    return { name: tool, version, path: binary, cached: false }
  } finally {
    for (const p of temp) await rm(p, { recursive: true, force: true })
  }
}

function httpFailure(tool: ToolName, version: string, url: string, status: number): Error {
  if (status === 404)
    return new Error(`${tool} ${version} was not found at ${url} (is the version right?)`)
  return new Error(`could not download ${tool} ${version} from ${url}: HTTP ${status}`)
}

/** The tool cache's download: streams to RUNNER_TEMP and retries 5xx, 408, 429 and network errors. */
async function download(tool: ToolName, version: string, url: string): Promise<string> {
  try {
    return await tc.downloadTool(url)
  } catch (err) {
    if (err instanceof tc.HTTPError) throw httpFailure(tool, version, url, err.httpStatusCode ?? 0)
    const why = errorMessage(err)
    throw new Error(`could not download ${tool} ${version} from ${url}: ${why}`)
  }
}

async function fetchText(
  url: string,
  what: string,
  failure: (status: number) => Error
): Promise<string> {
  const res = await request(url, what, 'follow')
  if (!res.ok) throw failure(res.status)
  return res.text()
}

function retryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429
}

/** A small GET with a bounded retry on 5xx and network errors; other answers are returned. */
async function request(
  url: string,
  what: string,
  redirect: 'manual' | 'follow'
): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const pause = TEXT_RETRY_DELAYS_MS[attempt]
    let res: Response
    try {
      res = await fetch(url, { redirect, signal: AbortSignal.timeout(TEXT_TIMEOUT_MS) })
    } catch (err) {
      if (pause === undefined) {
        const why = err instanceof Error ? describeFetchError(err) : String(err)
        throw new Error(`could not get ${what} from ${url}: ${why}`)
      }
      await sleep(pause)
      continue
    }
    if (!retryable(res.status) || pause === undefined) return res
    await res.body?.cancel()
    await sleep(pause)
  }
}

function describeFetchError(err: Error): string {
  const cause = (err as Error & { cause?: unknown }).cause
  if (cause instanceof Error && cause.message) return cause.message
  return err.message
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256')
    createReadStream(file)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
  })
}
