// What BuildKit's `--progress=plain` output says about a build: how many Dockerfile steps ran and
// how many came from the cache, which step failed and its last lines, a base image that could not
// be pulled, and cache imports or exports that failed without failing the build. Pure: text in,
// facts out. The text is written by the Dockerfile's commands, so it is hostile: it is only ever
// cut into lines here, never interpreted beyond the `#N` framing BuildKit puts around it.

/** One vertex of the build graph, as the plain printer shows it (`#N name`, then `#N …` lines). */
export interface Vertex {
  index: number
  name: string
  state: 'running' | 'done' | 'cached' | 'error' | 'canceled'
  error?: string
  /** Output lines, without the `#N ` frame and the seconds-since-start BuildKit prefixes to logs. */
  logs: string[]
}

export interface FailedStep {
  /** The vertex name, e.g. `[builder 4/5] RUN pip install -r requirements.txt`. */
  step: string
  error: string
  /** The step's last output lines (the block BuildKit prints after the failure, else its logs). */
  lines: string[]
}

export interface CacheProblem {
  /** `importing cache manifest from gha:123`, `exporting cache to client directory`, … */
  what: string
  error: string
}

export interface BuildProgress {
  vertices: Vertex[]
  /** Dockerfile steps (RUN, COPY, ADD, WORKDIR, …; not FROM) that the build went through. */
  steps: number
  /** Of those, the ones BuildKit took from its cache. */
  cached: number
  failed?: FailedStep
  /** A base image that could not be pulled, with the registry's answer. */
  missingBase?: { image: string; error: string }
  /** Cache reads that failed: the build went on without that cache. */
  cacheImport: CacheProblem[]
  /** Cache writes that failed (`ignore-error=true`): the image is built, the cache is not saved. */
  cacheExport: CacheProblem[]
  /** The client's own warnings about the cache (`local cache import at … not found`). */
  cacheWarnings: string[]
  /** The last `ERROR:` line of the whole build, e.g. `ERROR: failed to build: failed to solve: …`. */
  finalError?: string
}

const FRAMED = /^#(\d+) (.*)$/
/** `[builder 4/5] RUN …`, `[2/3] COPY …`, `[stage-1 1/2] FROM …`. */
const DOCKERFILE_STEP = /^\[(?:[^\]\s]+ )?\d+\/\d+\] (\S+)/
/** BuildKit prefixes a step's log lines with the seconds since the step started. */
const LOG_TIME = /^\d+\.\d{3} /
const MAX_LINES = 20

function isCacheImport(name: string): boolean {
  return name.startsWith('importing cache manifest from ')
}

/** BuildKit's cache exporters: `exporting cache to registry|client directory|…`, and gha's own name. */
function isCacheExport(name: string): boolean {
  return name.startsWith('exporting cache to ') || name === 'exporting to GitHub Actions Cache'
}

function stripTime(line: string): string {
  return line.replace(LOG_TIME, '')
}

/** Reads plain progress output (stdout and stderr of `docker build --progress=plain`). */
export function parseBuildOutput(text: string): BuildProgress {
  const lines = text.split(/\r?\n/).map((l) => l.replace(/\s+$/, ''))
  const byIndex = new Map<number, Vertex>()
  const order: Vertex[] = []
  const cacheWarnings: string[] = []
  let finalError: string | undefined
  // The summary block(s) buildx prints after a failure: `------` / ` > [step]:` / lines / `------`.
  const blocks = new Map<string, string[]>()

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    const framed = FRAMED.exec(line)
    if (framed) {
      const index = Number(framed[1])
      const rest = framed[2] as string
      if (index === 0) continue // `#0 building with "default" instance using docker driver`
      let v = byIndex.get(index)
      if (!v) {
        v = { index, name: rest, state: 'running', logs: [] }
        byIndex.set(index, v)
        order.push(v)
        continue
      }
      if (rest === 'CACHED') v.state = 'cached'
      else if (rest === 'CANCELED') v.state = 'canceled'
      else if (/^DONE( \d+(\.\d+)?s)?$/.test(rest)) v.state = 'done'
      else if (rest.startsWith('ERROR: ')) {
        v.state = 'error'
        v.error = rest.slice('ERROR: '.length)
      } else if (rest === '...' || rest === v.name) {
        // the printer switching between interleaved vertices, or repeating the name
      } else v.logs.push(stripTime(rest))
      continue
    }
    if (line === '------' && / > (.+):$/.test(lines[i + 1] ?? '')) {
      const step = (/^ > (.+):$/.exec(lines[i + 1] as string) as RegExpExecArray)[1] as string
      const body: string[] = []
      let j = i + 2
      for (; j < lines.length && lines[j] !== '------'; j++) body.push(lines[j] as string)
      blocks.set(
        step,
        body.map(stripTime).filter((l) => l.trim() !== '')
      )
      i = j
      continue
    }
    // buildx prints its client's warnings as `WARNING: …` (logrus, util/logutil).
    const warning = /^WARN(?:ING)?: (.*\bcache (?:import|export)\b.*)$/i.exec(line)
    if (warning) {
      cacheWarnings.push(warning[1] as string)
      continue
    }
    if (line.startsWith('ERROR: ')) finalError = line
  }

  const stepsRun = order.filter((v) => {
    const m = DOCKERFILE_STEP.exec(v.name)
    return m !== null && m[1] !== 'FROM'
  })
  const cached = stepsRun.filter((v) => v.state === 'cached').length

  const cacheImport: CacheProblem[] = []
  const cacheExport: CacheProblem[] = []
  for (const v of order) {
    if (v.state !== 'error' || v.error === undefined) continue
    if (isCacheImport(v.name)) cacheImport.push({ what: v.name, error: v.error })
    else if (isCacheExport(v.name)) cacheExport.push({ what: v.name, error: v.error })
  }

  const failedVertex = order.find(
    (v) => v.state === 'error' && !isCacheImport(v.name) && !isCacheExport(v.name)
  )
  let failed: FailedStep | undefined
  let missingBase: BuildProgress['missingBase']
  if (failedVertex) {
    const block = blocks.get(failedVertex.name) ?? []
    const lines = block.length > 0 ? block : failedVertex.logs
    failed = {
      step: failedVertex.name,
      error: failedVertex.error ?? '',
      lines: lines.slice(-MAX_LINES)
    }
    const base =
      /^\[internal\] load metadata for (\S+)$/.exec(failedVertex.name)?.[1] ??
      /^\[(?:[^\]\s]+ )?\d+\/\d+\] FROM (\S+)/.exec(failedVertex.name)?.[1]
    if (base) missingBase = { image: base.replace(/@sha256:[0-9a-f]+$/, ''), error: failed.error }
  }
  return {
    vertices: order,
    steps: stepsRun.length,
    cached,
    failed,
    missingBase,
    cacheImport,
    cacheExport,
    cacheWarnings,
    finalError
  }
}

/** The error of a failed build in the words a reader needs: what failed, then its last lines. */
export function describeFailure(reference: string, exitCode: number, p: BuildProgress): string {
  if (p.missingBase) {
    return `docker build of ${reference} failed: the base image ${p.missingBase.image} could not be pulled: ${p.missingBase.error}`
  }
  if (p.failed) {
    const head = `docker build of ${reference} failed at ${p.failed.step}: ${p.failed.error}`
    return [head, ...p.failed.lines].join('\n')
  }
  const why = p.finalError?.replace(/^ERROR: /, '') ?? `exit code ${exitCode}`
  return `docker build of ${reference} failed (exit code ${exitCode}): ${why}`
}
