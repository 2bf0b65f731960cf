// Registry references: where an image is pushed, how it is pinned, and what a registry's refusal
// means. Pure functions; the calls that push are in tools/docker.ts and images/push.ts.
import { clip } from '../text.js'
import type { ImageValue } from './helm.js'

/** An image the registry holds: the tag it was pushed as, and the digest that tag resolved to. */
export interface PushedImage {
  /** `<registry>/<name>:<tag>`. */
  reference: string
  /** `sha256:<64 hex>`: the manifest (or index) digest the registry stores. */
  digest: string
  /** `<registry>/<name>@<digest>`: exactly what was pushed, whatever the tag points at later. */
  pinned: string
}

const DIGEST = /^sha256:[0-9a-f]{64}$/
// distribution's reference grammar for a tag.
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/
/** distribution refuses a repository name (host and path) longer than this. */
const NAME_MAX = 255

export function isDigest(value: string): boolean {
  return DIGEST.test(value)
}

/** Whether a registry accepts `value` as a tag. */
export function isTag(value: string): boolean {
  return TAG.test(value)
}

/**
 * The host `docker login` talks to for a registry reference: its first path component when that
 * names a host (has a `.` or a `:`, or is `localhost`), as Docker reads references; Docker Hub
 * (`docker.io`) otherwise. `ghcr.io/acme/shop` → `ghcr.io`, `127.0.0.1:5765/x` → `127.0.0.1:5765`.
 */
export function registryHost(registry: string): string {
  const first = registry.split('/')[0] ?? ''
  return /[.:]/.test(first) || first === 'localhost' ? first : 'docker.io'
}

/**
 * An image name as a repository path under the registry: each `/`-separated component is
 * lower-cased, every run of characters that is not `[a-z0-9]` becomes one `-` unless it is
 * already a separator the registry accepts (`.`, `_`, `__`, or dashes), separators at either end
 * of a component are dropped, and empty components are left out. A name Docker already accepts
 * (as the `images` input requires) is returned unchanged: `todo-chatbot-backend`, `acme/api`.
 */
export function repositoryPath(name: string): string {
  const components = name
    .toLowerCase()
    .split('/')
    .map((c) =>
      c
        .replace(/[^a-z0-9._-]+/g, '-')
        .replace(/[._-]+/g, (sep) => (/^(?:[._]|__|-+)$/.test(sep) ? sep : '-'))
        .replace(/^[._-]+|[._-]+$/g, '')
    )
    .filter((c) => c !== '')
  if (components.length === 0) {
    throw new Error(`the image name '${name}' has nothing a registry accepts as a repository name`)
  }
  return components.join('/')
}

/** `<registry>/<name>`: the repository an image is pushed to. */
export function pushedRepository(registry: string, name: string): string {
  const repository = `${registry.replace(/\/+$/, '')}/${repositoryPath(name)}`
  if (repository.length > NAME_MAX) {
    throw new Error(
      `the repository ${repository} for the image ${name} is longer than the ${NAME_MAX} characters a registry accepts`
    )
  }
  return repository
}

/** `<registry>/<name>:<tag>`: the reference an image is pushed as. */
export function pushedReference(registry: string, name: string, tag: string): string {
  if (!isTag(tag)) {
    throw new Error(
      `'${tag}' is not a tag a registry accepts (letters, digits, _ . -, at most 128, not starting with . or -)`
    )
  }
  return `${pushedRepository(registry, name)}:${tag}`
}

/** The repository part of `<repository>:<tag>` or `<repository>@<digest>`. */
export function repositoryOf(reference: string): string {
  const at = reference.indexOf('@')
  const name = at >= 0 ? reference.slice(0, at) : reference
  const slash = name.lastIndexOf('/')
  const colon = name.lastIndexOf(':')
  // A colon after the last slash starts the tag; one before it is the registry's port.
  return colon > slash ? name.slice(0, colon) : name
}

/** The tag part of `<repository>:<tag>`, or undefined. */
export function tagOf(reference: string): string | undefined {
  const name = reference.split('@')[0] as string
  const slash = name.lastIndexOf('/')
  const colon = name.lastIndexOf(':')
  return colon > slash ? name.slice(colon + 1) : undefined
}

/** What a push left in the registry, from the reference pushed and the digest read back. */
export function pushedImage(reference: string, digest: string): PushedImage {
  if (!isDigest(digest)) throw new Error(`'${digest}' is not a sha256 digest (of ${reference})`)
  return { reference, digest, pinned: `${repositoryOf(reference)}@${digest}` }
}

/**
 * The chart values of a pushed image, pinned to its digest: `repository` is
 * `<registry>/<name>` and `tag` is `<tag>@<digest>`, so that a chart rendering
 * `{{ .repository }}:{{ .tag }}` (as nearly every chart does) gets
 * `<registry>/<name>:<tag>@sha256:…`. A reference with both a tag and a digest is pulled by the
 * digest (the tag is only read by people): the cluster runs exactly the image that was pushed
 * and verified, even when the tag has moved since.
 */
export function digestPinnedValue(path: string, image: PushedImage): ImageValue {
  const tag = tagOf(image.reference)
  // `<repository>:sha256:…` is no reference at all: only a tagged push can be pinned this way.
  if (!tag) throw new Error(`${image.reference} has no tag to pin to ${image.digest}`)
  return { path, repository: repositoryOf(image.reference), tag: `${tag}@${image.digest}` }
}

/**
 * The digest `docker push` printed for the tag it pushed: its last line is
 * `<tag>: digest: sha256:… size: <bytes>`.
 */
export function pushOutputDigest(output: string, tag: string): string | undefined {
  let found: string | undefined
  for (const line of output.split(/\r?\n/)) {
    const m = /^\s*(\S+): digest: (sha256:[0-9a-f]{64}) size: \d+\s*$/.exec(line)
    if (m && m[1] === tag) found = m[2]
  }
  return found
}

/** The digest of `repository` among an image's `RepoDigests` (`<repository>@sha256:…`). */
export function repoDigest(repoDigests: readonly string[], repository: string): string | undefined {
  for (const r of repoDigests) {
    const at = r.lastIndexOf('@')
    if (at > 0 && r.slice(0, at) === repository && isDigest(r.slice(at + 1))) return r.slice(at + 1)
  }
  return undefined
}

/** Why a registry said no, as far as docker's or buildx's output tells. */
export type RegistryFailure = 'unreachable' | 'denied' | 'other'

/**
 * What a failed login, push or tag against a registry means, with the line that says so (without
 * docker's `Error response from daemon:` or buildx's `ERROR:` prefix).
 */
export function registryFailure(output: string): { kind: RegistryFailure; reason: string } {
  const lines = output
    .split(/\r?\n/)
    .map((l) =>
      l
        .replace(/^\s*(?:#\d+\s+)?(?:ERROR:\s*|error:\s*)?(?:Error response from daemon:\s*)?/i, '')
        .trim()
    )
    // Not the advice docker prints around a login that worked.
    .filter(
      (l) =>
        l !== '' &&
        !/^-+$/.test(l) &&
        !/^(?:WARNING!|Configure a credential|https?:\/\/docs\.docker\.com\/)/.test(l)
    )
  const unreachable =
    /connection refused|no such host|i\/o timeout|network is unreachable|no route to host|connection reset|TLS handshake timeout|server gave HTTP response to HTTPS client|x509:|certificate|context deadline exceeded|Client\.Timeout/i
  const denied =
    /\b(?:401|403)\b|unauthorized|denied|forbidden|no basic auth credentials|authentication required|incorrect username or password|permission_denied/i
  for (const [kind, re] of [
    ['unreachable', unreachable],
    ['denied', denied]
  ] as const) {
    const line = [...lines].reverse().find((l) => re.test(l))
    if (line) return { kind, reason: clip(line, 300) }
  }
  return { kind: 'other', reason: clip(lines[lines.length - 1] ?? 'it printed nothing', 300) }
}
