// Which chart repositories helm must know before `helm dependency build`, read from Chart.yaml,
// Chart.lock and the user's own helm repository config.
import { createHash } from 'node:crypto'
import { parse } from 'yaml'

/** One entry of a helm `repositories.yaml`, kept whole (credentials and TLS files included). */
export interface RepositoryEntry {
  name: string
  url: string
  [field: string]: unknown
}

export interface DependencyRepositories {
  /** Repositories to add, each under a name derived from its URL. */
  add: { name: string; url: string }[]
  /** Entries of the user's repository config that dependencies name (by `@name` or by URL). */
  reuse: RepositoryEntry[]
  /** One sentence per dependency whose repository cannot be used. */
  problems: string[]
}

const NAME_PREFIX = 'minikube-preview-'
const SHOWN = 120

/** The same URL with or without trailing slashes is one repository, as helm compares them. */
function urlKey(url: string): string {
  return url.replace(/\/+$/, '')
}

/** A deterministic repository name for a URL: the same on every run and runner. */
export function repositoryName(url: string): string {
  return NAME_PREFIX + createHash('sha256').update(urlKey(url)).digest('hex').slice(0, 16)
}

/** Chart metadata is written by the pull request: quoted, on one line, bounded. */
function shown(text: string): string {
  const line = text.replace(/\s+/g, ' ')
  return `'${line.length > SHOWN ? `${line.slice(0, SHOWN)}…` : line}'`
}

function dependencyList(doc: unknown): { name: string; repository: string }[] {
  const list = (doc as { dependencies?: unknown } | null)?.dependencies
  if (!Array.isArray(list)) return []
  return list.flatMap((d: unknown) => {
    if (typeof d !== 'object' || d === null) return []
    const { name, repository } = d as { name?: unknown; repository?: unknown }
    if (typeof repository !== 'string' || repository.trim() === '') return []
    return [{ name: typeof name === 'string' ? name : '?', repository: repository.trim() }]
  })
}

function parsed(text: string | undefined, file: string): unknown {
  if (text === undefined) return undefined
  try {
    return parse(text) as unknown
  } catch {
    throw new Error(`${file} of the chart is not valid YAML`)
  }
}

/** The entries of a helm `repositories.yaml`; anything unreadable counts as none. */
export function repositoryEntries(text: string | undefined): RepositoryEntry[] {
  let doc: unknown
  try {
    doc = text === undefined ? undefined : parse(text)
  } catch {
    return []
  }
  const list = (doc as { repositories?: unknown } | null)?.repositories
  if (!Array.isArray(list)) return []
  return list.filter(
    (e): e is RepositoryEntry =>
      typeof e === 'object' &&
      e !== null &&
      typeof (e as RepositoryEntry).name === 'string' &&
      typeof (e as RepositoryEntry).url === 'string'
  )
}

/**
 * The repositories `helm dependency build` needs for a chart. Local (`file://`, none) and OCI
 * (`oci://`) dependencies need none. `@name` and `alias:name` name a repository of the user's
 * own config, used as it is; a URL the user's config already has is used through that entry
 * (it may hold credentials); any other URL is added under `repositoryName(url)`.
 */
export function dependencyRepositories(
  chartYaml: string,
  chartLock: string | undefined,
  userRepositories: readonly RepositoryEntry[],
  userConfigPath = 'your helm repository config'
): DependencyRepositories {
  const deps = [
    ...dependencyList(parsed(chartYaml, 'Chart.yaml')),
    ...dependencyList(parsed(chartLock, 'Chart.lock'))
  ]
  const add = new Map<string, { name: string; url: string }>()
  const reuse = new Map<string, RepositoryEntry>()
  const problems: string[] = []
  const known = (url: string) => userRepositories.find((e) => urlKey(e.url) === urlKey(url))

  for (const { name, repository } of deps) {
    const dep = `chart dependency ${shown(name)}`
    if (/^(file|oci):\/\//i.test(repository)) continue
    const alias = /^(?:@|alias:)(.*)$/.exec(repository)?.[1]
    if (alias !== undefined) {
      const entry = userRepositories.find((e) => e.name === alias)
      if (entry) reuse.set(entry.name, entry)
      else {
        problems.push(
          `${dep} refers to the repository ${shown(repository)}, which is not in ${userConfigPath}: ` +
            `write the repository's URL in Chart.yaml, or add it with 'helm repo add' in an earlier step`
        )
      }
      continue
    }
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(repository)) {
      problems.push(
        `${dep} has the repository ${shown(repository)}: expected a URL (https://…, oci://…), ` +
          `a file:// path or '@name' of a repository added with 'helm repo add'`
      )
      continue
    }
    let url: URL | undefined
    try {
      url = new URL(repository)
    } catch {
      url = undefined
    }
    if (!url) {
      problems.push(`${dep} has the repository ${shown(repository)}, which is not a valid URL`)
      continue
    }
    if (url.username || url.password) {
      problems.push(
        `${dep} has credentials in its repository URL (${url.protocol}//${url.host}): ` +
          `add the repository with 'helm repo add --username … --password-stdin' in an earlier step ` +
          `and write its URL without them`
      )
      continue
    }
    const entry = known(repository)
    if (entry) {
      reuse.set(entry.name, entry)
      continue
    }
    const key = urlKey(repository)
    if (!add.has(key)) add.set(key, { name: repositoryName(repository), url: repository })
  }
  return { add: [...add.values()], reuse: [...reuse.values()], problems }
}
