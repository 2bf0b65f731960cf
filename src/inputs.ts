// The action's inputs, read once, typed and validated: every problem names the input and what was expected.
import { existsSync, statSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import {
  Invalid,
  parseBaseUrl,
  MAX_DURATION_MS,
  RESERVED_KEYS,
  TAG_PATTERN,
  durationBetween,
  isPortName,
  parseBoolean,
  parseChoice,
  parseDnsLabel,
  parseDuration,
  parseKeyValues,
  parseLines,
  parseList,
  parseMemory,
  parsePositiveInt,
  parseRegistry,
  parseUrlTemplate,
  parseVersion,
  reservedKeyPart,
  splitArgs
} from './parse.js'
import { URL_PLACEHOLDERS } from './lifecycle/url.js'
import { redact } from './redact.js'

export const CLUSTERS = ['minikube', 'existing'] as const
export const CLEANUPS = ['auto', 'always', 'on-success', 'never'] as const
export const DRIVERS = [
  'docker',
  'podman',
  'none',
  'ssh',
  'kvm2',
  'qemu2',
  'qemu',
  'virtualbox',
  'vmware',
  'parallels',
  'hyperkit',
  'hyperv',
  'vfkit',
  'krunkit'
] as const
export const IMAGE_LOADS = ['load', 'docker-env'] as const
export const COMMENTS = ['auto', 'always', 'never', 'on-failure'] as const
export const HELM_TESTS = ['auto', 'true', 'false'] as const
export const BUILD_CACHES = ['auto', 'gha', 'registry', 'local', 'none'] as const
export const MODES = ['preview', 'sweep'] as const
export type BuildCacheInput = (typeof BUILD_CACHES)[number]

export interface ImageSpec {
  name: string
  context: string
  dockerfile: string
  target?: string
  buildArgs: { key: string; value: string }[]
  platform?: string
  /** Dot path of the chart's image map, e.g. `backend.image`. */
  values?: string
}

export interface HealthCheck {
  /** How the check is named in the report. */
  label: string
  service?: string
  port?: number | string
  ingressHost?: string
  /** A whole URL to GET (the preview's `url`): any 2xx or 3xx answer passes. */
  url?: string
  path: string
  expectStatus: number
  expectBody?: string
}

/** Every input of action.yml, typed and validated. Keys follow the action.yml names. */
export interface Inputs {
  cluster: (typeof CLUSTERS)[number]
  minikubeVersion: string
  helmVersion: string
  /** '' means: the cluster's Kubernetes version. */
  kubectlVersion: string
  minikubeBaseUrl: string
  helmBaseUrl: string
  kubectlBaseUrl: string
  /** '' means: minikube's default. */
  kubernetesVersion: string
  driver: (typeof DRIVERS)[number]
  cpus: string
  memory: string
  nodes: number
  addons: { auto: boolean; names: string[] }
  startArgs: string[]
  clusterTimeoutMs: number
  minikubeCache: boolean
  cleanup: (typeof CLEANUPS)[number]
  images: ImageSpec[]
  /** '' means: sha-<7 chars of the commit>. */
  imageTag: string
  imageLoad: (typeof IMAGE_LOADS)[number]
  /** '' means: discover `charts/<one>/Chart.yaml`. */
  chart: string
  release: string
  /** `preview` unless given; on a pull request to an existing cluster `discover.ts` makes it `pr-<number>`. */
  namespace: string
  /** Whether `namespace` was set in the workflow (an explicit namespace always wins). */
  namespaceGiven: boolean
  valuesFiles: string[]
  set: string[]
  setString: string[]
  secretValues: { key: string; value: string }[]
  helmArgs: string[]
  rollbackOnFailure: boolean
  waitTimeoutMs: number
  failFast: boolean
  /** Once every workload is healthy, how long it must stay so (0: not watched). */
  stableForMs: number
  healthChecks: HealthCheck[]
  helmTest: (typeof HELM_TESTS)[number]
  githubToken: string
  comment: (typeof COMMENTS)[number]
  commentHeader: string
  jobSummary: boolean
  diagnosticsArtifact: boolean
  buildCache: BuildCacheInput
  /** A registry repository (`registry`) or an absolute folder (`local`); ignored by the others. */
  buildCacheRef: string
  /** An existing buildx builder; '' means: one is created when a cache needs it. */
  builder: string
  /** Where built images are pushed: `host[:port]/path`, no scheme, tag, digest or trailing slash; '' = none. */
  registry: string
  /** For a `ghcr.io` registry, '' becomes `GITHUB_ACTOR` (`discover.ts`). */
  registryUsername: string
  /** A secret. For a `ghcr.io` registry, '' becomes `github-token` (`discover.ts`). */
  registryPassword: string
  /** Tags put on the pushed digests only when the preview is healthy. */
  pushTags: string[]
  /** A template with `{number}`, `{branch}`, `{sha}`, `{namespace}`, `{release}`; '' = the Ingress default. */
  url: string
  /** A GitHub environment to create a deployment in; '' = off. */
  environment: string
  /** How long a preview lives after its last push; undefined = it never expires. */
  ttlMs?: number
  mode: (typeof MODES)[number]
}

/** The longest `stable-for`: a window, not a second wait-timeout. */
const STABLE_FOR_MAX_MS = 30 * 60_000

/** Defaults of action.yml; an input read as '' falls back to these, so a local run behaves the same. */
export const DEFAULTS: Record<string, string> = {
  cluster: 'minikube',
  'minikube-version': 'v1.39.0',
  'helm-version': 'v4.3.1',
  'kubectl-version': '',
  'minikube-base-url': 'https://github.com/kubernetes/minikube/releases/download',
  'helm-base-url': 'https://get.helm.sh',
  'kubectl-base-url': 'https://dl.k8s.io/release',
  'kubernetes-version': '',
  driver: 'docker',
  cpus: '2',
  memory: '4096',
  nodes: '1',
  addons: 'auto',
  'start-args': '',
  'cluster-timeout': '5m',
  'minikube-cache': 'true',
  cleanup: 'auto',
  images: '',
  'image-tag': '',
  'image-load': 'load',
  chart: '',
  release: '',
  namespace: '',
  'values-files': '',
  set: '',
  'set-string': '',
  'secret-values': '',
  'helm-args': '',
  'rollback-on-failure': 'false',
  'wait-timeout': '5m',
  'fail-fast': 'true',
  'stable-for': '10s',
  'health-checks': '',
  'helm-test': 'auto',
  'github-token': '',
  comment: 'auto',
  'comment-header': '',
  'job-summary': 'true',
  'diagnostics-artifact': 'true',
  'build-cache': 'auto',
  'build-cache-ref': '',
  builder: '',
  registry: '',
  'registry-username': '',
  'registry-password': '',
  'push-tags': '',
  url: '',
  environment: '',
  ttl: '',
  mode: 'preview'
}

/** All problems with the inputs, each naming the input, the value and what is accepted. */
export class InputErrors extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'))
    this.name = 'InputErrors'
  }
}

const IMAGE_KEYS = ['name', 'context', 'dockerfile', 'target', 'build-args', 'platform', 'values']
const CHECK_KEYS = [
  'name',
  'service',
  'port',
  'ingress-host',
  'path',
  'expect-status',
  'expect-body'
]

/**
 * What each group's parser reads through: the raw input (its default when unset), `field` that
 * parses one input and records a problem naming it, `path` for workspace-relative paths.
 */
interface Reader {
  /** The input as given, '' when unset (no default): to tell "not set" from "set to the default". */
  given(name: string): string
  raw(name: string): string
  /** `secret`: the value is never shown, not even in part. */
  field<T>(name: string, parser: (v: string) => T, fallback: T, opts?: { secret?: boolean }): T
  path(p: string): string
  problem(text: string): void
}

function reader(read: (name: string) => string, workspace: string, problems: string[]): Reader {
  const raw = (name: string): string => {
    const v = read(name)
    return v.trim() === '' ? (DEFAULTS[name] ?? '') : v
  }
  return {
    given: (name) => read(name).trim(),
    raw,
    field(name, parser, fallback, opts = {}) {
      const value = raw(name)
      try {
        return parser(value)
      } catch (err) {
        if (!(err instanceof Invalid)) throw err
        const shown = opts.secret ? '' : (err.shown ?? value)
        problems.push(
          shown === ''
            ? `input '${name}' must be ${err.message}`
            : `input '${name}' must be ${err.message}, got '${shorten(shown)}'`
        )
        return fallback
      }
    },
    path: (p) => (isAbsolute(p) ? p : resolve(workspace, p)),
    problem: (text) => problems.push(text)
  }
}

/**
 * Reads and validates every input. `read` returns the raw input ('' when unset);
 * `workspace` is where relative paths (contexts, chart, values files) are resolved.
 * Pure: nothing but `read` and the workspace's files is looked at (the event's defaults are
 * `discover.ts`'s). Throws InputErrors listing every problem, before anything has been started.
 */
export function parseInputs(read: (name: string) => string, workspace: string): Inputs {
  const problems: string[] = []
  const r = reader(read, workspace, problems)
  const inputs: Inputs = {
    ...clusterInputs(r),
    ...toolInputs(r),
    ...imageInputs(r),
    ...chartInputs(r),
    ...verifyInputs(r),
    ...reportInputs(r, read),
    ...buildCacheInputs(r),
    ...previewInputs(r)
  }
  problems.push(...crossChecks(inputs))
  if (problems.length > 0) throw new InputErrors(problems)
  return inputs
}

const timeout = durationBetween(1000, MAX_DURATION_MS)

function clusterInputs(
  r: Reader
): Pick<
  Inputs,
  | 'cluster'
  | 'kubernetesVersion'
  | 'driver'
  | 'cpus'
  | 'memory'
  | 'nodes'
  | 'addons'
  | 'startArgs'
  | 'clusterTimeoutMs'
  | 'minikubeCache'
  | 'cleanup'
> {
  const cluster = r.field('cluster', (v) => parseChoice(v, CLUSTERS), 'minikube')
  const cpus = r.field(
    'cpus',
    (v) => {
      const t = v.trim().toLowerCase()
      if (t === 'max' || t === 'no-limit') return t
      if (!/^\d+$/.test(t) || Number(t) < 1)
        throw new Invalid(`a whole number of at least 1, or 'max'`)
      return t
    },
    '2'
  )
  const addonsRaw = r.field('addons', parseList, [])
  const auto = addonsRaw.some((a) => a.toLowerCase() === 'auto')
  const names = addonsRaw.filter((a) => a.toLowerCase() !== 'auto')
  for (const a of names) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(a)) {
      r.problem(
        `input 'addons' must be a list of minikube addon names (or 'auto'), got '${shorten(a)}'`
      )
    }
  }
  return {
    cluster,
    kubernetesVersion: r.field(
      'kubernetes-version',
      (v) => {
        const t = v.trim().toLowerCase()
        if (t === '' || t === 'stable' || t === 'latest') return t
        return parseVersion(v)
      },
      ''
    ),
    driver: r.field('driver', (v) => parseChoice(v, DRIVERS), 'docker'),
    cpus,
    memory: r.field('memory', parseMemory, '4096mb'),
    nodes: r.field('nodes', parsePositiveInt, 1),
    addons: { auto, names },
    startArgs: r.field('start-args', splitArgs, []),
    clusterTimeoutMs: r.field('cluster-timeout', timeout, 300_000),
    minikubeCache: r.field('minikube-cache', parseBoolean, true),
    cleanup: r.field('cleanup', (v) => parseChoice(v, CLEANUPS), 'auto')
  }
}

function toolInputs(
  r: Reader
): Pick<
  Inputs,
  | 'minikubeVersion'
  | 'helmVersion'
  | 'kubectlVersion'
  | 'minikubeBaseUrl'
  | 'helmBaseUrl'
  | 'kubectlBaseUrl'
> {
  return {
    minikubeVersion: r.field('minikube-version', (v) => parseVersion(v), 'latest'),
    helmVersion: r.field('helm-version', (v) => parseVersion(v), 'latest'),
    kubectlVersion: r.field('kubectl-version', (v) => parseVersion(v, true), ''),
    minikubeBaseUrl: r.field('minikube-base-url', parseBaseUrl, ''),
    helmBaseUrl: r.field('helm-base-url', parseBaseUrl, ''),
    kubectlBaseUrl: r.field('kubectl-base-url', parseBaseUrl, '')
  }
}

function parseImageTag(v: string): string {
  const t = v.trim()
  if (t === '') return ''
  if (t === 'latest')
    throw new Invalid(`a tag other than 'latest' (a moving tag defeats caching and pull policies)`)
  if (!TAG_PATTERN.test(t)) throw new Invalid('a Docker tag (letters, digits, _ . -; at most 128)')
  return t
}

function imageInputs(r: Reader): Pick<Inputs, 'images' | 'imageTag' | 'imageLoad'> {
  const imageTag = r.field('image-tag', parseImageTag, '')
  return {
    images: r.field('images', (v) => parseImages(v, r.path), []),
    imageTag,
    imageLoad: r.field('image-load', (v) => parseChoice(v, IMAGE_LOADS), 'load')
  }
}

function chartInputs(
  r: Reader
): Pick<
  Inputs,
  | 'chart'
  | 'release'
  | 'namespace'
  | 'namespaceGiven'
  | 'valuesFiles'
  | 'set'
  | 'setString'
  | 'secretValues'
  | 'helmArgs'
  | 'rollbackOnFailure'
> {
  const chart = r.field(
    'chart',
    (v) => {
      const t = v.trim()
      if (t === '') return ''
      const file = join(r.path(t), 'Chart.yaml')
      if (!existsSync(file)) throw new Invalid('the path of a chart folder holding Chart.yaml')
      if (!statSync(file).isFile())
        throw new Invalid(
          `a chart folder whose Chart.yaml is a file; '${t}/Chart.yaml' is a folder`
        )
      return r.path(t)
    },
    ''
  )
  const valuesFiles = r.field(
    'values-files',
    (v) =>
      parseLines(v).map((f) => {
        if (!existsSync(r.path(f)))
          throw new Invalid(`a list of existing files; '${f}' does not exist`)
        if (!statSync(r.path(f)).isFile()) throw new Invalid(`a list of files; '${f}' is a folder`)
        return r.path(f)
      }),
    []
  )
  return {
    chart,
    release: r.field('release', (v) => (v.trim() === '' ? '' : parseDnsLabel(v)), ''),
    // Empty in action.yml, so that a namespace given can be told from none (`pr-<number>`).
    namespace: r.field(
      'namespace',
      (v) => (v.trim() === '' ? 'preview' : parseDnsLabel(v, 63)),
      'preview'
    ),
    namespaceGiven: r.given('namespace') !== '',
    valuesFiles,
    set: r.field('set', setLines, []),
    setString: r.field('set-string', setLines, []),
    secretValues: r.field('secret-values', parseKeyValues, [], { secret: true }),
    helmArgs: r.field('helm-args', splitArgs, []),
    rollbackOnFailure: r.field('rollback-on-failure', parseBoolean, false)
  }
}

/** `--set` lines: `key=value` on each, no key part reaching an object's prototype. */
function setLines(v: string): string[] {
  return parseLines(v).map((line, i) => {
    const at = line.indexOf('=')
    if (at <= 0) throw new Invalid(`'key=value' on every line, line ${i + 1} has none`)
    // Every comma-separated assignment of the line (`a=1,b=2`) is a key helm sets.
    for (const part of line.split(/(?<!\\),/)) {
      const reserved = reservedKeyPart(part.slice(0, Math.max(0, part.indexOf('='))))
      if (reserved !== undefined)
        throw new Invalid(
          `keys without '${reserved}' (${RESERVED_KEYS.join(', ')} are refused), line ${i + 1} has it`,
          ''
        )
    }
    return line
  })
}

function verifyInputs(
  r: Reader
): Pick<Inputs, 'waitTimeoutMs' | 'failFast' | 'stableForMs' | 'healthChecks' | 'helmTest'> {
  return {
    waitTimeoutMs: r.field('wait-timeout', timeout, 300_000),
    failFast: r.field('fail-fast', parseBoolean, true),
    stableForMs: r.field('stable-for', durationBetween(0, STABLE_FOR_MAX_MS), 10_000),
    healthChecks: r.field('health-checks', parseHealthChecks, []),
    helmTest: r.field('helm-test', (v) => parseChoice(v, HELM_TESTS), 'auto')
  }
}

function reportInputs(
  r: Reader,
  read: (name: string) => string
): Pick<
  Inputs,
  'githubToken' | 'comment' | 'commentHeader' | 'jobSummary' | 'diagnosticsArtifact'
> {
  return {
    githubToken: read('github-token').trim(),
    comment: r.field('comment', (v) => parseChoice(v, COMMENTS), 'auto'),
    commentHeader: r.field('comment-header', parseCommentHeader, ''),
    jobSummary: r.field('job-summary', parseBoolean, true),
    diagnosticsArtifact: r.field('diagnostics-artifact', parseBoolean, true)
  }
}

/** The longest `ttl`: a preview nobody renews for a year is abandoned. */
const TTL_MAX_MS = 365 * 86_400_000

/** The placeholders a `url` template may use, as names without braces. */
const PLACEHOLDER_NAMES: readonly string[] = URL_PLACEHOLDERS.map((p) => p.replace(/[{}]/g, ''))

/** Registry, `push-tags`, `url`, `environment`, `ttl` and `mode`: the preview beyond the job. */
function previewInputs(
  r: Reader
): Pick<
  Inputs,
  | 'registry'
  | 'registryUsername'
  | 'registryPassword'
  | 'pushTags'
  | 'url'
  | 'environment'
  | 'ttlMs'
  | 'mode'
> {
  const ttl = r.raw('ttl').trim()
  return {
    registry: r.field('registry', parseRegistry, ''),
    registryUsername: r.field('registry-username', oneLine('a user name'), ''),
    registryPassword: r.field('registry-password', oneLine('a password'), '', { secret: true }),
    pushTags: r.field('push-tags', parsePushTags, []),
    url: r.field('url', (v) => parseUrlTemplate(v, PLACEHOLDER_NAMES), ''),
    environment: r.field('environment', parseEnvironment, ''),
    ttlMs:
      ttl === ''
        ? undefined
        : r.field(
            'ttl',
            (v) => parseDuration(v, { minMs: 60_000, maxMs: TTL_MAX_MS, days: true }),
            undefined
          ),
    mode: r.field('mode', (v) => parseChoice(v, MODES), 'preview')
  }
}

function oneLine(what: string): (v: string) => string {
  return (v) => {
    const t = v.trim()
    if (/[\r\n]/.test(t)) throw new Invalid(`${what} on one line`, '')
    return t
  }
}

/** `push-tags`: a newline (or comma) list of Docker tags; `latest` is fine here, it is a promotion. */
function parsePushTags(v: string): string[] {
  const tags = parseList(v)
  for (const tag of tags) {
    if (!TAG_PATTERN.test(tag))
      throw new Invalid(
        `a list of Docker tags (letters, digits, _ . -, not starting with . or -, at most 128); '${shorten(tag)}' is not one`,
        ''
      )
  }
  return [...new Set(tags)]
}

/** A GitHub environment name: one line of at most 255 characters. */
function parseEnvironment(v: string): string {
  const t = v.trim()
  if (t.length > 255)
    throw new Invalid(`a GitHub environment name of at most 255 characters; it has ${t.length}`, '')
  if ([...t].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    throw new Invalid('a GitHub environment name on one line')
  return t
}

/**
 * `docker login` needs both a user and a password; for `ghcr.io` they default to the actor and
 * `github-token` (`discover.ts`), so only what no default fills in is asked for.
 */
function loginChecks(i: Inputs): string[] {
  const user = i.registryUsername !== ''
  const password = i.registryPassword !== ''
  if (!user && !password) return []
  if (!i.registry) {
    const given = user ? 'registry-username' : 'registry-password'
    return [
      `input '${given}' needs input 'registry': it is the login to the registry images are pushed to`
    ]
  }
  const ghcr = i.registry.split('/')[0]?.toLowerCase() === 'ghcr.io'
  if (user && !password && !(ghcr && i.githubToken))
    return [`input 'registry-username' needs input 'registry-password': docker login takes both`]
  if (password && !user && !ghcr)
    return [`input 'registry-password' needs input 'registry-username': docker login takes both`]
  return []
}

/**
 * Inputs that are valid but do nothing in this combination: warned about, never refused (one
 * workflow may serve a minikube job and a shared-cluster job with the same inputs).
 */
export function unusedInputs(i: Inputs): string[] {
  const notes: string[] = []
  if (i.cluster === 'minikube' && i.ttlMs !== undefined)
    notes.push(
      `input 'ttl' has no effect with 'cluster: minikube': the cluster goes with the job; an expiry is written on previews with 'cluster: existing'`
    )
  return notes
}

/** Problems no single input has: inputs that need or exclude each other. */
function crossChecks(i: Inputs): string[] {
  const problems: string[] = []
  if (i.cluster === 'existing' && i.imageLoad === 'load' && i.images.length > 0 && !i.registry) {
    // An existing cluster has no `minikube image load`: its nodes pull the images from a registry.
    problems.push(
      `input 'images' with 'cluster: existing' needs input 'registry': the images built on the runner are pushed there for the cluster to pull (e.g. 'registry: ghcr.io/<owner>/<repository>')`
    )
  }
  if (i.mode === 'sweep' && i.cluster === 'minikube') {
    problems.push(
      `input 'mode: sweep' needs 'cluster: existing': it removes expired previews from a shared cluster, and a minikube cluster lives only as long as its job`
    )
  }
  problems.push(...loginChecks(i))
  if (i.pushTags.length > 0 && !i.registry) {
    problems.push(
      `input 'push-tags' needs input 'registry': the tags are put on the images pushed there`
    )
  }
  return problems
}

/** `build-cache`, `build-cache-ref` and `builder`, checked together: the ref only means something for two of the caches. */
function buildCacheInputs(r: Reader): Pick<Inputs, 'buildCache' | 'buildCacheRef' | 'builder'> {
  let buildCache: BuildCacheInput = 'auto'
  const cacheRaw = r.raw('build-cache')
  try {
    buildCache = parseChoice(cacheRaw, BUILD_CACHES)
  } catch (err) {
    if (!(err instanceof Invalid)) throw err
    r.problem(`input 'build-cache' must be ${err.message}, got '${shorten(cacheRaw)}'`)
  }
  const ref = r.raw('build-cache-ref').trim()
  let buildCacheRef = ''
  if ((buildCache === 'registry' || buildCache === 'local') && ref === '') {
    r.problem(
      buildCache === 'registry'
        ? `input 'build-cache: registry' needs input 'build-cache-ref': the cache image repository, e.g. 'ghcr.io/octo/app-cache'`
        : `input 'build-cache: local' needs input 'build-cache-ref': the folder that holds the cache, e.g. '/tmp/build-cache'`
    )
  } else if (buildCache === 'registry') {
    const last = ref.split('/').pop() ?? ''
    if (/[@:]/.test(last)) {
      r.problem(
        `input 'build-cache-ref' must be a repository without a tag or digest (each image's cache is tagged with its name), got '${shorten(ref)}'`
      )
    } else if (
      !/^(?:[A-Za-z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(
        ref
      )
    ) {
      r.problem(
        `input 'build-cache-ref' must be an image repository such as 'ghcr.io/octo/app-cache', got '${shorten(ref)}'`
      )
    } else buildCacheRef = ref
  } else if (buildCache === 'local') {
    // The folder goes into BuildKit's comma-separated cache option: a comma or quote would split it.
    if (/[,"'\r\n]/.test(ref)) {
      r.problem(
        `input 'build-cache-ref' must be a folder path without commas, quotes or line breaks, got '${shorten(ref)}'`
      )
    } else buildCacheRef = r.path(ref)
  } else {
    // Unused by this cache; kept so the build can say it is ignored.
    buildCacheRef = ref
  }
  const builder = r.raw('builder').trim()
  if (builder !== '' && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(builder)) {
    r.problem(
      `input 'builder' must be the name of a buildx builder (letters, digits, _ . -), got '${shorten(builder)}'`
    )
  }
  return { buildCache, buildCacheRef, builder }
}

/** The longest `comment-header`: it names the run's folder and the comment's marker. */
export const MAX_HEADER = 100

function parseCommentHeader(v: string): string {
  const t = v.trim()
  if (t.length > MAX_HEADER)
    throw new Invalid(`at most ${MAX_HEADER} characters; it has ${t.length}`, '')
  if ([...t].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    throw new Invalid('one line of text')
  return t
}

function shorten(v: string): string {
  // Redacted before it is squeezed or cut: a cut must never leave part of a secret.
  const one = redact(v).replace(/\s+/g, ' ').trim()
  return one.length > 80 ? `${one.slice(0, 77)}...` : one
}

function yamlList(raw: string, what: string): unknown[] {
  if (raw.trim() === '') return []
  let doc: unknown
  try {
    doc = parseYaml(raw)
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err)
    throw new Invalid(`a YAML list of ${what} (${msg})`)
  }
  if (doc === null || doc === undefined) return []
  if (!Array.isArray(doc)) throw new Invalid(`a YAML list of ${what}`)
  return doc
}

function entry(item: unknown, i: number, allowed: string[]): Record<string, unknown> {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw new Invalid(`a list of mappings; entry ${i + 1} is not a mapping`)
  }
  const obj = item as Record<string, unknown>
  const unknown = Object.keys(obj).filter((k) => !allowed.includes(k))
  if (unknown.length > 0) {
    throw new Invalid(
      `entries with keys ${allowed.join(', ')}; entry ${i + 1} has unknown key '${unknown[0]}'`
    )
  }
  return obj
}

function str(obj: Record<string, unknown>, key: string, i: number): string | undefined {
  const v = obj[key]
  if (v === undefined || v === null) return undefined
  if (typeof v === 'object')
    throw new Invalid(
      `a text value for '${key}'; entry ${i + 1} has a ${Array.isArray(v) ? 'list' : 'mapping'}`
    )
  return String(v)
}

/** How an image is named in step ids (`build-todo-api`): two images must not share one. */
export function imageSlug(name: string): string {
  return name.replace(/[^a-z0-9]+/g, '-')
}

export function parseImages(raw: string, path: (p: string) => string): ImageSpec[] {
  const names = new Set<string>()
  const slugs = new Map<string, string>()
  return yamlList(
    raw,
    'images (name, context, dockerfile, target, build-args, platform, values)'
  ).map((item, i) => {
    const obj = entry(item, i, IMAGE_KEYS)
    const name = str(obj, 'name', i)
    if (!name)
      throw new Invalid(`an image list whose entries have a 'name'; entry ${i + 1} has none`)
    if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(name)) {
      throw new Invalid(
        `image names Docker accepts (lower-case, digits, . _ - /); '${name}' is not one`
      )
    }
    if (names.has(name)) throw new Invalid(`distinct image names; '${name}' appears twice`)
    names.add(name)
    const other = slugs.get(imageSlug(name))
    if (other !== undefined) {
      throw new Invalid(
        `image names that stay distinct when . _ / become '-'; '${other}' and '${name}' are both '${imageSlug(name)}'`
      )
    }
    slugs.set(imageSlug(name), name)
    const context = str(obj, 'context', i)
    if (!context)
      throw new Invalid(`an image list whose entries have a 'context'; '${name}' has none`)
    const ctx = path(context)
    if (!existsSync(ctx) || !statSync(ctx).isDirectory()) {
      throw new Invalid(
        `an existing folder as the 'context' of '${name}'; '${context}' does not exist`
      )
    }
    const df = str(obj, 'dockerfile', i)
    const dockerfile = df ? (isAbsolute(df) ? df : resolve(ctx, df)) : join(ctx, 'Dockerfile')
    if (!existsSync(dockerfile)) {
      throw new Invalid(
        `an existing Dockerfile for '${name}'; ${df ? `'${df}'` : `'${context}/Dockerfile'`} does not exist`
      )
    }
    if (!statSync(dockerfile).isFile()) {
      throw new Invalid(
        `a Dockerfile for '${name}' that is a file; ${df ? `'${df}'` : `'${context}/Dockerfile'`} is a folder`
      )
    }
    const values = str(obj, 'values', i)
    if (values !== undefined && !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(values)) {
      throw new Invalid(
        `a dot path such as 'backend.image' for 'values' of '${name}'; got '${values}'`
      )
    }
    return {
      name,
      context: ctx,
      dockerfile,
      target: str(obj, 'target', i),
      buildArgs: buildArgs(obj['build-args'], name),
      platform: str(obj, 'platform', i),
      values
    }
  })
}

/** A build-arg value as docker gets it: text, a number or a boolean; never a list or a mapping. */
function scalar(v: unknown, what: string): string {
  if (v === null || v === undefined) return ''
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v)
  throw new Invalid(
    `${what} as text, a number or true/false; it is a ${Array.isArray(v) ? 'list' : 'mapping'}`
  )
}

function buildArgs(v: unknown, name: string): { key: string; value: string }[] {
  if (v === undefined || v === null) return []
  if (Array.isArray(v)) {
    return v.map((line, i) => {
      if (line === null || typeof line === 'object')
        throw new Invalid(
          `'build-args' of '${name}' as KEY=value lines or a mapping; line ${i + 1} is not a line of text`
        )
      const s = String(line)
      const at = s.indexOf('=')
      if (at <= 0)
        throw new Invalid(
          `'build-args' of '${name}' as KEY=value lines or a mapping; '${s}' has no '='`
        )
      return { key: s.slice(0, at), value: s.slice(at + 1) }
    })
  }
  if (typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>).map(([key, value]) => ({
      key,
      value: scalar(value, `'build-args' ${key} of '${name}'`)
    }))
  }
  if (typeof v === 'string') return parseKeyValues(v)
  throw new Invalid(`'build-args' of '${name}' as KEY=value lines or a mapping`)
}

export function parseHealthChecks(raw: string): HealthCheck[] {
  return yamlList(raw, 'health checks ({service, port, path} or {ingress-host, path})').map(
    (item, i) => {
      const obj = entry(item, i, CHECK_KEYS)
      const service = str(obj, 'service', i)
      const ingressHost = str(obj, 'ingress-host', i)
      if (!service && !ingressHost) {
        throw new Invalid(
          `health checks with a 'service' or an 'ingress-host'; entry ${i + 1} has neither`
        )
      }
      if (service && ingressHost) {
        throw new Invalid(
          `health checks with a 'service' or an 'ingress-host', not both; entry ${i + 1} has both`
        )
      }
      let port: number | string | undefined
      const rawPort = obj['port']
      if (service) {
        try {
          parseDnsLabel(service, 63)
        } catch (err) {
          if (!(err instanceof Invalid)) throw err
          throw new Invalid(
            `a Service name for 'service' (${err.message}); entry ${i + 1} has '${service}'`
          )
        }
        if (rawPort === undefined || rawPort === null || rawPort === '') {
          throw new Invalid(
            `a 'port' for every service check; entry ${i + 1} ('${service}') has none`
          )
        }
        if (typeof rawPort === 'object')
          throw new Invalid(
            `a port number (1-65535) or port name for 'port'; entry ${i + 1} has a ${Array.isArray(rawPort) ? 'list' : 'mapping'}`
          )
        const text = String(rawPort).trim()
        port = /^\d+$/.test(text) ? Number(text) : text
        if (typeof port === 'number' && (port < 1 || port > 65535)) {
          throw new Invalid(`a port between 1 and 65535; entry ${i + 1} has ${port}`)
        }
        if (typeof port === 'string' && !isPortName(port)) {
          throw new Invalid(
            `a port number (1-65535) or a port name (at most 15 of a-z, 0-9 and '-', with a letter) for 'port'; entry ${i + 1} has '${port}'`
          )
        }
      }
      const path = str(obj, 'path', i) ?? '/'
      if (!path.startsWith('/'))
        throw new Invalid(`a 'path' starting with '/'; entry ${i + 1} has '${path}'`)
      const statusRaw = str(obj, 'expect-status', i) ?? '200'
      if (!/^[1-5]\d\d$/.test(statusRaw)) {
        throw new Invalid(
          `an HTTP status such as 200 for 'expect-status'; entry ${i + 1} has '${statusRaw}'`
        )
      }
      const target = service ? `${service}:${port}` : (ingressHost as string)
      return {
        label: str(obj, 'name', i) ?? `${target}${path}`,
        service,
        port,
        ingressHost,
        path,
        expectStatus: Number(statusRaw),
        expectBody: str(obj, 'expect-body', i)
      }
    }
  )
}
