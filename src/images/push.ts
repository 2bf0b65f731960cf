// Images through a registry: log in, push a built image and read its digest back, put release
// tags on a verified digest, log out. Plain options in, values out; every refusal is one
// sentence naming the image and the registry (and, for a login, the user, never the password).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { registerSecret } from '../redact.js'
import { errorMessage } from '../text.js'
import { metadataDescriptorDigest, metadataDigest, type Docker } from '../tools/docker.js'
import {
  pushOutputDigest,
  pushedImage,
  pushedReference,
  registryFailure,
  registryHost,
  repoDigest,
  repositoryOf,
  isTag,
  type PushedImage
} from '../tools/registry.js'

export type { PushedImage } from '../tools/registry.js'

const PUSH_TIMEOUT_MS = 30 * 60_000
const LOAD_TIMEOUT_MS = 15 * 60_000

export interface RegistryLogin {
  /** The `registry` input: `host[:port]/path`. */
  registry: string
  username: string
  password: string
}

/**
 * `docker login` to the registry's host, the password on stdin only. Returns the host, which
 * `logoutFromRegistry` (in post) needs.
 */
export async function loginToRegistry(docker: Docker, o: RegistryLogin): Promise<string> {
  const host = registryHost(o.registry)
  const as = `Could not log in to the registry ${host}`
  if (!o.username) throw new Error(`${as}: input 'registry-username' is empty`)
  if (!o.password) throw new Error(`${as} as '${o.username}': input 'registry-password' is empty`)
  // Masked before docker runs: whatever it or the registry prints back is redacted as it arrives.
  registerSecret(o.password)
  const who = `${as} as '${o.username}'`
  const result = await docker.login(host, o.username, o.password).catch((err: unknown) => {
    // docker missing or timed out: ToolError names the command, never its stdin.
    throw new Error(`${who}: ${errorMessage(err)}`)
  })
  if (result.exitCode === 0) return host
  const { kind, reason } = registryFailure(`${result.stdout}\n${result.stderr}`)
  if (kind === 'unreachable') throw new Error(`${who}: it could not be reached (${reason})`)
  if (kind === 'denied') {
    throw new Error(
      `${who}: it refused the credentials (${reason}); check inputs 'registry-username' and 'registry-password'`
    )
  }
  throw new Error(`${who}: ${reason}`)
}

/**
 * `docker logout` of a host `loginToRegistry` logged in to. Returns why it failed, or undefined:
 * a logout that fails is for a warning in post, not a failed run.
 */
export async function logoutFromRegistry(
  docker: Docker,
  host: string
): Promise<string | undefined> {
  try {
    const result = await docker.logout(host)
    if (result.exitCode === 0) return undefined
    return `Could not log out of the registry ${host}: ${registryFailure(`${result.stdout}\n${result.stderr}`).reason}`
  } catch (err) {
    return `Could not log out of the registry ${host}: ${errorMessage(err)}`
  }
}

export interface PushOptions {
  /** The `registry` input: `host[:port]/path`. */
  registry: string
  /** The image's name in the `images` input. */
  name: string
  /** The image tag (`image-tag`). */
  tag: string
  /**
   * Where the built image is: a reference in the daemon docker talks to, or a docker-format
   * tarball the build exported (loaded first; it holds `image`).
   */
  source: { image: string; tarball?: string }
  timeoutMs?: number
}

/**
 * Pushes an image built into a daemon or exported to a tarball (`cluster: minikube`, after the
 * preview is healthy): `docker load` of the tarball when there is one, `docker tag` as
 * `<registry>/<name>:<tag>`, `docker push`; the digest is read from push's output, or from the
 * daemon's `RepoDigests` when the output does not say it.
 */
export async function pushImage(docker: Docker, o: PushOptions): Promise<PushedImage> {
  const head = `Could not push the image ${o.name} to the registry ${o.registry}`
  try {
    return await push(docker, o, head)
  } catch (err) {
    const message = errorMessage(err)
    throw message.startsWith(head) ? err : new Error(`${head}: ${message}`)
  }
}

async function push(docker: Docker, o: PushOptions, head: string): Promise<PushedImage> {
  const reference = pushedReference(o.registry, o.name, o.tag)
  const host = registryHost(o.registry)
  const timeoutMs = o.timeoutMs ?? PUSH_TIMEOUT_MS
  const fail = (what: string, out: { stdout: string; stderr: string }): Error => {
    const { kind, reason } = registryFailure(`${out.stdout}\n${out.stderr}`)
    if (kind === 'unreachable')
      return new Error(`${head}: ${host} could not be reached (${reason})`)
    if (kind === 'denied') {
      return new Error(
        `${head}: it denied the push of ${reference} (${reason}); check that the registry user may write to ${repositoryOf(reference)}`
      )
    }
    return new Error(`${head}: ${what} failed (${reason})`)
  }
  if (o.source.tarball) {
    const loaded = await docker.load(o.source.tarball, Math.min(timeoutMs, LOAD_TIMEOUT_MS))
    if (loaded.exitCode !== 0) throw fail(`docker load of ${o.source.tarball}`, loaded)
  }
  const tagged = await docker.tag(o.source.image, reference)
  if (tagged.exitCode !== 0) throw fail(`docker tag of ${o.source.image}`, tagged)
  const pushed = await docker.push(reference, timeoutMs)
  if (pushed.exitCode !== 0) throw fail(`docker push of ${reference}`, pushed)
  const digest =
    pushOutputDigest(`${pushed.stdout}\n${pushed.stderr}`, o.tag) ??
    repoDigest(await docker.repoDigests(reference), repositoryOf(reference))
  if (!digest) {
    throw new Error(
      `${head}: it took ${reference}, but neither docker push nor the daemon said its digest`
    )
  }
  return pushedImage(reference, digest)
}

/**
 * What a build with `buildxArgs(…, { output: 'push' })` pushed (`cluster: existing`): the
 * reference it was tagged with and the digest from its metadata file (`undefined`: the file
 * was not written).
 */
export function pushedByBuild(
  name: string,
  reference: string,
  metadataText: string | undefined
): PushedImage {
  const digest = metadataText === undefined ? undefined : metadataDigest(metadataText)
  if (!digest) {
    throw new Error(
      `The build of ${name} pushed ${reference}, but its metadata file holds no containerimage.digest to pin the chart to`
    )
  }
  return pushedImage(reference, digest)
}

/**
 * Puts `tags` (the `push-tags` input) on the pushed digest, registry to registry, after the
 * preview was verified: each `<registry>/<name>:<tag>` then points at exactly `image.digest`,
 * nothing rebuilt or pushed again. Returns the references it tagged.
 */
export async function promoteImage(
  docker: Docker,
  name: string,
  image: PushedImage,
  tags: readonly string[],
  timeoutMs?: number
): Promise<string[]> {
  if (tags.length === 0) return []
  const repository = repositoryOf(image.reference)
  const registry = registryHost(repository)
  const references = tags.map((t) => {
    if (!isTag(t)) {
      throw new Error(
        `Could not tag the image ${name} in the registry ${registry}: '${t}' is not a tag a registry accepts`
      )
    }
    return `${repository}:${t}`
  })
  const dir = mkdtempSync(join(tmpdir(), 'minikube-preview-promote-'))
  const metadataFile = join(dir, 'metadata.json')
  try {
    const head = `Could not tag the image ${name} as ${tags.join(', ')} in the registry ${registry}`
    const result = await docker
      .imagetoolsCreate(image.pinned, references, metadataFile, timeoutMs)
      .catch((err: unknown) => {
        throw new Error(`${head}: ${errorMessage(err)}`)
      })
    if (result.exitCode !== 0) {
      const output = `${result.stdout}\n${result.stderr}`
      if (/unknown flag: --prefer-index/.test(output)) {
        throw new Error(
          `${head}: this docker buildx cannot copy a digest as it is (--prefer-index needs buildx 0.15 or later)`
        )
      }
      const { kind, reason } = registryFailure(output)
      if (kind === 'unreachable') throw new Error(`${head}: it could not be reached (${reason})`)
      if (kind === 'denied') throw new Error(`${head}: it denied the tags (${reason})`)
      throw new Error(`${head}: ${reason}`)
    }
    let written: string | undefined
    try {
      written = metadataDescriptorDigest(readFileSync(metadataFile, 'utf8'))
    } catch {
      // An older buildx writes no metadata: nothing to compare.
    }
    if (written && written !== image.digest) {
      throw new Error(
        `${head}: the tags point at ${written}, not at the verified digest ${image.digest}`
      )
    }
    return references
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
