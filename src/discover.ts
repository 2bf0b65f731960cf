// What is found around the inputs: the chart, the release name, the image tag, the comment header, and the defaults the event sets.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { basename, join, relative } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { InputErrors, type Inputs } from './inputs.js'
import { isPullRequestEvent } from './model.js'
import { Invalid, parseDnsLabel } from './parse.js'

/** What was found on disk and in the environment, next to the inputs. */
export interface Discovered {
  /** Absolute chart path, or undefined for setup only. */
  chart?: string
  chartName?: string
  chartVersion?: string
  chartHasDependencies: boolean
  release?: string
  imageTag: string
  commit?: string
  commentHeader: string
}

interface ChartYaml {
  name?: string
  version?: string
  dependencies?: unknown[]
}

/**
 * The chart's Chart.yaml, as far as this action reads it. Throws Invalid saying what is wrong
 * with the file (named as `where`), never a raw parser or file-system error.
 */
export function readChart(dir: string, where = join(dir, 'Chart.yaml')): ChartYaml {
  const file = join(dir, 'Chart.yaml')
  if (!existsSync(file))
    throw new Invalid(`a chart folder holding Chart.yaml; ${where} does not exist`)
  if (!statSync(file).isFile())
    throw new Invalid(`a chart whose ${where} is a file; it is a folder`)
  let doc: unknown
  try {
    doc = parseYaml(readFileSync(file, 'utf8'))
  } catch (err) {
    // The parser's first line says where (line, column); the rest quotes the file.
    const why = err instanceof Error ? (err.message.split('\n')[0] ?? '') : ''
    throw new Invalid(`a chart whose ${where} is YAML; it is not (${why.slice(0, 160)})`)
  }
  if (doc === null || doc === undefined) return {}
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new Invalid(
      `a chart whose ${where} is a YAML mapping; it is a ${Array.isArray(doc) ? 'list' : 'single value'}`
    )
  const chart = doc as Record<string, unknown>
  for (const key of ['name', 'version'] as const) {
    const v = chart[key]
    if (v !== undefined && v !== null && typeof v !== 'string')
      throw new Invalid(
        `a chart whose ${where} has a text '${key}'; it is ${Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : `the ${typeof v} ${String(v)}`} (quote it)`
      )
  }
  const deps = chart['dependencies']
  if (deps !== undefined && deps !== null && !Array.isArray(deps))
    throw new Invalid(`a chart whose ${where} has a list of 'dependencies'; it is not a list`)
  return {
    name: typeof chart['name'] === 'string' ? chart['name'] : undefined,
    version: typeof chart['version'] === 'string' ? chart['version'] : undefined,
    dependencies: Array.isArray(deps) ? deps : undefined
  }
}

/** `charts/<one>/Chart.yaml` when there is exactly one. */
export function findChart(workspace: string): string[] {
  const root = join(workspace, 'charts')
  if (!existsSync(root) || !statSync(root).isDirectory()) return []
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'Chart.yaml')))
    .map((d) => join(root, d.name))
    .sort()
}

/**
 * Completes the inputs with what the workspace and the commit tell: the chart, the release
 * name, the image tag and the comment header. Throws InputErrors naming the input to set.
 */
export function discover(
  inputs: Inputs,
  workspace: string,
  commit: string | undefined
): Discovered {
  const problems: string[] = []
  let chart: string | undefined = inputs.chart || undefined
  if (!chart) {
    const found = findChart(workspace)
    if (found.length === 1) chart = found[0]
    if (found.length > 1) {
      problems.push(
        `input 'chart' must be set: several charts were found (${found.map((c) => `charts/${basename(c)}`).join(', ')})`
      )
    }
  }
  let meta: ChartYaml | undefined
  if (chart) {
    try {
      meta = readChart(chart, relative(workspace, join(chart, 'Chart.yaml')) || 'Chart.yaml')
    } catch (err) {
      if (!(err instanceof Invalid)) throw err
      problems.push(`input 'chart' must be ${err.message}`)
      throw new InputErrors(problems)
    }
  }
  let release = inputs.release || undefined
  if (chart && !release) {
    const name = meta?.name?.trim() || basename(chart)
    try {
      release = parseDnsLabel(name)
    } catch (err) {
      if (!(err instanceof Invalid)) throw err
      problems.push(
        `input 'release' must be set: the chart name '${name}' is not a valid release name (${err.message})`
      )
    }
  }
  let imageTag = inputs.imageTag
  if (!imageTag && inputs.images.length > 0) {
    if (commit && /^[0-9a-f]{7,}$/i.test(commit))
      imageTag = `sha-${commit.slice(0, 7).toLowerCase()}`
    else
      problems.push(`input 'image-tag' must be set: the commit is not known (GITHUB_SHA is empty)`)
  }
  if (inputs.images.some((i) => i.values) && !chart) {
    problems.push(
      `input 'images' sets chart values, but no chart was given or found: set input 'chart'`
    )
  }
  if (problems.length > 0) throw new InputErrors(problems)
  return {
    chart,
    chartName: meta?.name,
    chartVersion: meta?.version,
    chartHasDependencies:
      Array.isArray(meta?.dependencies) && (meta?.dependencies?.length ?? 0) > 0,
    release,
    imageTag,
    commit,
    commentHeader: inputs.commentHeader || defaultCommentHeader(release, inputs.namespace)
  }
}

/** The comment's header when input `comment-header` is empty: `<release>/<namespace>`. */
export function defaultCommentHeader(release: string | undefined, namespace: string): string {
  return release ? `${release}/${namespace}` : `minikube/${namespace}`
}

/** What the run's event tells about defaults: from `GITHUB_EVENT_NAME`, its payload, `GITHUB_ACTOR`. */
export interface RunEvent {
  event?: string
  pullRequest?: number
  actor?: string
}

/**
 * The inputs with the defaults that depend on the event: with `cluster: existing` on a pull
 * request and no `namespace` input, the namespace `pr-<number>`; for a `ghcr.io` registry, the
 * actor and `github-token` as its user and password when those are not given.
 */
export function withEventDefaults(inputs: Inputs, run: RunEvent): Inputs {
  const out = { ...inputs }
  if (
    inputs.cluster === 'existing' &&
    !inputs.namespaceGiven &&
    isPullRequestEvent(run.event) &&
    run.pullRequest !== undefined
  )
    out.namespace = `pr-${run.pullRequest}`
  if (inputs.registry.split('/')[0]?.toLowerCase() === 'ghcr.io') {
    out.registryUsername ||= (run.actor ?? '').trim()
    out.registryPassword ||= inputs.githubToken
  }
  return out
}
