// helm: the argv of each command, the values documents it reads, and what its output says.
import { isMap, isScalar, isSeq, parseAllDocuments } from 'yaml'
import { run, runJson, ToolError, type OutputSink } from '../exec.js'

export interface ImageValue {
  /** Dot path of the chart's image map, e.g. `backend.image`. */
  path: string
  repository: string
  tag: string
}

export interface ValuesOptions {
  valuesFiles: readonly string[]
  /** Written by us (0600) from `secret-values`; only its path is ever on argv. */
  secretValuesFile?: string
  set: readonly string[]
  setString: readonly string[]
  images: readonly ImageValue[]
}

export interface UpgradeOptions extends ValuesOptions {
  release: string
  chart: string
  namespace: string
  timeoutMs: number
  helmArgs: readonly string[]
  helmMajor: number
  /**
   * Labels of the release (`--labels`, Helm 3.13 and later: see `supportsReleaseLabels`),
   * merged with the ones it has. `null` clears one to an empty value: Helm's own `key=null`
   * unsets a label on upgrade but is kept as the text `null` on a first install.
   */
  labels?: Readonly<Record<string, string | null>>
  /** `--create-namespace` (default): off where the namespace was made or found beforehand. */
  createNamespace?: boolean
}

/** The values part of helm's argv, shared by `template` and `upgrade`; later flags win. */
export function valuesArgs(o: ValuesOptions): string[] {
  const args: string[] = []
  for (const f of o.valuesFiles) args.push('--values', f)
  if (o.secretValuesFile) args.push('--values', o.secretValuesFile)
  for (const img of o.images) {
    args.push('--set-string', `${img.path}.repository=${img.repository}`)
    args.push('--set-string', `${img.path}.tag=${img.tag}`)
    // A `latest` tag with `Always` is what made the cluster try to pull a local image.
    args.push('--set-string', `${img.path}.pullPolicy=IfNotPresent`)
  }
  for (const s of o.set) args.push('--set', s)
  for (const s of o.setString) args.push('--set-string', s)
  return args
}

/**
 * Helm 4 renamed `--atomic` to `--rollback-on-failure`: a user's helm-args work with either.
 * Returns the arguments for this Helm and a note when one was translated.
 */
export function translateHelmArgs(
  args: readonly string[],
  helmMajor: number
): { args: string[]; note?: string } {
  const [from, to] =
    helmMajor >= 4 ? ['--atomic', '--rollback-on-failure'] : ['--rollback-on-failure', '--atomic']
  let note: string | undefined
  const out = args.map((a) => {
    if (a === from || a.startsWith(`${from}=`)) {
      note = `helm-args: '${from}' is '${to}' in Helm ${helmMajor}; using '${to}'`
      return a.replace(from, to)
    }
    return a
  })
  return { args: out, note }
}

export function seconds(ms: number): string {
  return `${Math.max(1, Math.ceil(ms / 1000))}s`
}

export function upgradeArgs(o: UpgradeOptions): string[] {
  return [
    'upgrade',
    '--install',
    o.release,
    o.chart,
    '--namespace',
    o.namespace,
    ...(o.createNamespace === false ? [] : ['--create-namespace']),
    '--timeout',
    seconds(o.timeoutMs),
    ...labelsArgs(o.labels),
    ...valuesArgs(o),
    ...translateHelmArgs(o.helmArgs, o.helmMajor).args
  ]
}

function labelsArgs(labels: UpgradeOptions['labels']): string[] {
  const pairs = Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v ?? ''}`)
  return pairs.length > 0 ? ['--labels', pairs.join(',')] : []
}

/** Whether this Helm takes `upgrade --labels` and `list --selector` on them (3.13.0 and later). */
export function supportsReleaseLabels(version: string): boolean {
  const m = /v?(\d+)\.(\d+)\./.exec(version)
  if (!m) return false
  const [major, minor] = [Number(m[1]), Number(m[2])]
  return major > 3 || (major === 3 && minor >= 13)
}

/** A release as `helm list --output json` prints it. */
export interface ReleaseEntry {
  name: string
  namespace: string
  revision: number
  status: string
}

/** Deployed, failed and pending releases (Helm 4 has no `--all`), more than the 256 of a page. */
export function listArgs(selector: string): string[] {
  return [
    'list',
    '--all-namespaces',
    '--deployed',
    '--failed',
    '--pending',
    '--max',
    '1000',
    '--selector',
    selector,
    '--output',
    'json'
  ]
}

export function uninstallArgs(release: string, namespace: string, timeoutMs: number): string[] {
  return ['uninstall', release, '--namespace', namespace, '--timeout', seconds(timeoutMs)]
}

// Helm 3: "uninstall: Release not loaded: web: release: not found"; Helm 4 the same words.
const RELEASE_NOT_FOUND = /release: not found/

export function templateArgs(
  o: ValuesOptions & { release: string; chart: string; namespace: string }
): string[] {
  return ['template', o.release, o.chart, '--namespace', o.namespace, ...valuesArgs(o)]
}

/** The run's own helm repository config and index cache: the user's are never written. */
export interface RepositoryPaths {
  config: string
  cache: string
  /** Every index is fresh already (each repository was just added): do not download it again. */
  skipRefresh?: boolean
}

function repositoryFlags(repos: RepositoryPaths): string[] {
  return ['--repository-config', repos.config, '--repository-cache', repos.cache]
}

export function repoAddArgs(name: string, url: string, repos: RepositoryPaths): string[] {
  return ['repo', 'add', name, url, ...repositoryFlags(repos)]
}

export function dependencyBuildArgs(chart: string, repos: RepositoryPaths): string[] {
  return [
    'dependency',
    'build',
    chart,
    ...repositoryFlags(repos),
    ...(repos.skipRefresh ? ['--skip-refresh'] : [])
  ]
}

export interface ManifestObject {
  apiVersion: string
  kind: string
  name: string
  namespace?: string
  annotations: Record<string, string>
  /** An Ingress's hosts: of its rules in order, and those its `tls` entries cover. */
  ingress?: { hosts: string[]; tlsHosts: string[] }
}

/** The objects of a rendered or deployed manifest (multi-document YAML). */
export function manifestObjects(manifest: string): ManifestObject[] {
  const out: ManifestObject[] = []
  for (const doc of parseAllDocuments(manifest)) {
    // Read field by field, not doc.toJS(): a redacted secret (`password: ***`) is an unresolved
    // YAML alias that would make the whole document unreadable.
    const text = (path: string[]): string | undefined => {
      const v = doc.getIn(path)
      return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined
    }
    const kind = text(['kind'])
    const name = text(['metadata', 'name'])
    if (!kind || !name) continue
    const annotations: Record<string, string> = {}
    const map = doc.getIn(['metadata', 'annotations'], true)
    if (isMap(map)) {
      for (const pair of map.items) {
        const k = isScalar(pair.key) ? pair.key.value : pair.key
        const v = isScalar(pair.value) ? pair.value.value : undefined
        if (typeof k === 'string' && v !== undefined && v !== null) annotations[k] = String(v)
      }
    }
    out.push({
      apiVersion: text(['apiVersion']) ?? '',
      kind,
      name,
      namespace: text(['metadata', 'namespace']),
      annotations,
      ...(kind === 'Ingress'
        ? {
            ingress: {
              hosts: specEntries(doc, 'rules').flatMap((r) => stringsOf(r.get('host', true))),
              tlsHosts: specEntries(doc, 'tls').flatMap((t) => stringsOf(t.get('hosts', true)))
            }
          }
        : {})
    })
  }
  return out
}

type Doc = ReturnType<typeof parseAllDocuments>[number]

/** The maps of a list under `spec` (an Ingress's `rules` or `tls`). */
function specEntries(doc: Doc, field: string) {
  const seq = doc.getIn(['spec', field], true)
  return isSeq(seq) ? seq.items.filter(isMap) : []
}

/** The strings of a scalar or of a list of scalars. */
function stringsOf(node: unknown): string[] {
  const items = isSeq(node) ? node.items : [node]
  return items.flatMap((n) => (isScalar(n) && typeof n.value === 'string' ? [n.value] : []))
}

/** Test hooks of a release (`helm.sh/hook: test` or the older `test-success`). */
export function testHooks(hooksManifest: string): ManifestObject[] {
  return manifestObjects(hooksManifest).filter((o) =>
    (o.annotations['helm.sh/hook'] ?? '')
      .split(',')
      .map((h) => h.trim())
      .some((h) => h === 'test' || h === 'test-success')
  )
}

/** `v4.3.1+g1234` → `v4.3.1` and its major. */
export function parseHelmVersion(out: string): { version: string; major: number } {
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(out)
  if (!m) throw new Error(`could not read helm's version from '${out.trim()}'`)
  return { version: `v${m[1]}.${m[2]}.${m[3]}`, major: Number(m[1]) }
}

export class Helm {
  constructor(
    readonly path: string,
    private readonly env?: NodeJS.ProcessEnv,
    private readonly sink?: OutputSink
  ) {}

  private run(args: string[], timeoutMs: number, allowFailure = false) {
    return run(this.path, args, { timeoutMs, env: this.env, sink: this.sink, allowFailure })
  }

  async version(): Promise<{ version: string; major: number }> {
    const { stdout } = await run(this.path, ['version', '--short'], {
      timeoutMs: 30_000,
      env: this.env
    })
    return parseHelmVersion(stdout)
  }

  /** The user's own repository config (`@name` dependencies refer to its entries). */
  async repositoryConfig(): Promise<string> {
    const { stdout } = await run(this.path, ['env', 'HELM_REPOSITORY_CONFIG'], {
      timeoutMs: 30_000,
      env: this.env
    })
    return stdout.trim()
  }

  /** Adds a chart repository to the run's own config; helm downloads its index.yaml to check it. */
  repoAdd(name: string, url: string, repos: RepositoryPaths, timeoutMs: number) {
    return this.run(repoAddArgs(name, url, repos), timeoutMs)
  }

  dependencyBuild(chart: string, repos: RepositoryPaths, timeoutMs: number) {
    return this.run(dependencyBuildArgs(chart, repos), timeoutMs)
  }

  async template(o: Parameters<typeof templateArgs>[0], timeoutMs: number): Promise<string> {
    const { stdout } = await run(this.path, templateArgs(o), { timeoutMs, env: this.env })
    return stdout
  }

  upgrade(o: UpgradeOptions, signal?: AbortSignal) {
    // Hooks are bounded by --timeout; the extra minute lets helm report its own error first.
    return run(this.path, upgradeArgs(o), {
      timeoutMs: o.timeoutMs + 60_000,
      env: this.env,
      sink: this.sink,
      signal
    })
  }

  async manifest(release: string, namespace: string): Promise<string> {
    return (await this.run(['get', 'manifest', release, '--namespace', namespace], 60_000)).stdout
  }

  async hooks(release: string, namespace: string): Promise<string> {
    return (await this.run(['get', 'hooks', release, '--namespace', namespace], 60_000)).stdout
  }

  async revision(release: string, namespace: string): Promise<number | undefined> {
    const doc = await runJson<{ version?: number } | null>(
      this.path,
      ['status', release, '--namespace', namespace, '--output', 'json'],
      { timeoutMs: 60_000, env: this.env }
    )
    return doc?.version
  }

  test(release: string, namespace: string, timeoutMs: number, signal?: AbortSignal) {
    return run(
      this.path,
      ['test', release, '--namespace', namespace, '--timeout', seconds(timeoutMs)],
      { timeoutMs: timeoutMs + 60_000, env: this.env, sink: this.sink, allowFailure: true, signal }
    )
  }

  status(release: string, namespace: string) {
    return this.run(['status', release, '--namespace', namespace], 60_000, true)
  }

  history(release: string, namespace: string) {
    return this.run(['history', release, '--namespace', namespace, '--max', '10'], 60_000, true)
  }

  rollback(release: string, namespace: string, timeoutMs: number) {
    return this.run(
      ['rollback', release, '--namespace', namespace, '--timeout', seconds(timeoutMs)],
      timeoutMs + 60_000
    )
  }

  /** Uninstalls a release; `absent` when there was none (already removed is not a failure). */
  async uninstallRelease(
    release: string,
    namespace: string,
    timeoutMs: number
  ): Promise<'removed' | 'absent'> {
    const args = uninstallArgs(release, namespace, timeoutMs)
    const r = await this.run(args, timeoutMs + 60_000, true)
    if (r.exitCode === 0) return 'removed'
    if (RELEASE_NOT_FOUND.test(r.stderr)) return 'absent'
    throw ToolError.of(this.path, args, r, timeoutMs)
  }

  /** Every release in any namespace whose labels match `selector` (Helm 3.13 and later). */
  async releases(selector: string, timeoutMs = 60_000): Promise<ReleaseEntry[]> {
    const list = await runJson<
      { name: string; namespace: string; revision: string | number; status: string }[] | null
    >(this.path, listArgs(selector), { timeoutMs, env: this.env })
    return (list ?? []).map((r) => ({
      name: r.name,
      namespace: r.namespace,
      revision: Number(r.revision),
      status: r.status
    }))
  }

  /**
   * The labels of a release's current revision: Helm 4 prints them in `get metadata`, Helm 3
   * does not (undefined then).
   */
  async releaseLabels(
    release: string,
    namespace: string,
    timeoutMs = 60_000
  ): Promise<Record<string, string> | undefined> {
    const doc = await runJson<{ labels?: Record<string, string> } | null>(
      this.path,
      ['get', 'metadata', release, '--namespace', namespace, '--output', 'json'],
      { timeoutMs, env: this.env }
    )
    return doc?.labels
  }

  uninstall(release: string, namespace: string, timeoutMs: number) {
    return this.run(
      ['uninstall', release, '--namespace', namespace, '--timeout', seconds(timeoutMs)],
      timeoutMs + 60_000
    )
  }
}
