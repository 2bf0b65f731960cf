import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { InputErrors, type Inputs } from './inputs.js'
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

export function readChart(dir: string): ChartYaml {
  const doc = parseYaml(readFileSync(join(dir, 'Chart.yaml'), 'utf8')) as ChartYaml | null
  return doc ?? {}
}

/** `charts/<one>/Chart.yaml` when there is exactly one. */
export function findChart(workspace: string): string[] {
  const root = join(workspace, 'charts')
  if (!existsSync(root)) return []
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
  const meta = chart ? readChart(chart) : undefined
  let release = inputs.release || undefined
  if (chart && !release) {
    const name = meta?.name ?? basename(chart)
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
    commentHeader:
      inputs.commentHeader ||
      (release ? `${release}/${inputs.namespace}` : `minikube/${inputs.namespace}`)
  }
}
