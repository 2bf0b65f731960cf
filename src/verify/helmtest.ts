// `helm test` and what its test pods said. Only flags Helm 3 and Helm 4 share are used
// (`--namespace`, `--timeout`); the logs come from kubectl, which works the same for both.

import { lastLines } from '../exec.js'
import { redact } from '../redact.js'
import type { HelmTestResult } from '../report/model.js'
import { testHooks, type Helm, type ManifestObject } from '../tools/helm.js'
import type { Kubectl } from '../tools/kubectl.js'

const LOG_LINES = 100

export function shouldRunHelmTest(mode: 'auto' | 'true' | 'false', hooksManifest: string): boolean {
  if (mode === 'true') return true
  if (mode === 'false') return false
  return testHooks(hooksManifest).length > 0
}

export interface HelmTestOptions {
  helm: Helm
  kubectl: Kubectl
  release: string
  namespace: string
  timeoutMs: number
  /** `helm get hooks` of the release: which test pods to read. */
  hooksManifest: string
  /** Stops `helm test` (the release did not stay healthy). */
  signal?: AbortSignal
}

/** `Phase: Failed` per `TEST SUITE:` in helm's output, for test pods deleted by their hook policy. */
export function phasesFromHelmOutput(output: string): Map<string, string> {
  const phases = new Map<string, string>()
  let suite: string | undefined
  for (const line of output.split(/\r?\n/)) {
    const name = /^TEST SUITE:\s+(\S+)/.exec(line)
    if (name) {
      suite = name[1]
      continue
    }
    const phase = /^Phase:\s+(\S+)/.exec(line)
    if (phase && suite) {
      phases.set(suite, phase[1] as string)
      suite = undefined
    }
  }
  return phases
}

/** The last `n` lines of a log, so one chatty test cannot swamp the report. */
function tail(log: string, n = LOG_LINES): string {
  const lines = log.replace(/\s+$/, '').split(/\r?\n/)
  const kept =
    lines.length > n ? [`… ${lines.length - n} earlier lines not shown`, ...lines.slice(-n)] : lines
  return redact(kept.join('\n'))
}

interface PodJson {
  metadata?: { name?: string; labels?: Record<string, string> }
  status?: { phase?: string }
}

/** The pods a test hook ran: the Pod itself, or the pods of a Job. */
async function podsOf(
  hook: ManifestObject,
  namespace: string,
  kubectl: Kubectl
): Promise<{ name: string; phase?: string }[]> {
  if (hook.kind === 'Pod') {
    try {
      const pod = await kubectl.get<PodJson>('pod', hook.name, namespace)
      return [{ name: hook.name, phase: pod.status?.phase }]
    } catch {
      // Deleted by `helm.sh/hook-delete-policy: hook-succeeded`, or never created.
      return [{ name: hook.name }]
    }
  }
  try {
    const list = await kubectl.getJson<PodJson>('pods', namespace)
    return list.items
      .filter((p) => {
        const labels = p.metadata?.labels ?? {}
        return (
          labels['batch.kubernetes.io/job-name'] === hook.name || labels['job-name'] === hook.name
        )
      })
      .map((p) => ({ name: p.metadata?.name ?? hook.name, phase: p.status?.phase }))
  } catch {
    return []
  }
}

export async function runHelmTest(opts: HelmTestOptions): Promise<HelmTestResult> {
  const { helm, kubectl, release, namespace, timeoutMs } = opts
  let exitCode: number | null
  let output = ''
  let message: string | undefined
  try {
    const r = await helm.test(release, namespace, timeoutMs, opts.signal)
    exitCode = r.exitCode
    output = `${r.stdout}\n${r.stderr}`
    if (r.exitCode !== 0) message = lastLines(r.stderr, 6) || lastLines(r.stdout, 6)
  } catch (err) {
    // Timed out or could not be started.
    exitCode = null
    message = redact(err instanceof Error ? err.message : String(err))
  }
  const fromHelm = phasesFromHelmOutput(output)
  const pods: HelmTestResult['pods'] = []
  // A Job's own retries may fail before it succeeds; only a test Pod's phase is a verdict.
  const verdictPods = new Set<string>()
  for (const hook of testHooks(opts.hooksManifest)) {
    if (hook.kind !== 'Pod' && hook.kind !== 'Job') continue
    const ns = hook.namespace ?? namespace
    for (const pod of await podsOf(hook, ns, kubectl)) {
      const phase = pod.phase ?? fromHelm.get(hook.name) ?? 'Unknown'
      const entry: HelmTestResult['pods'][number] = { name: pod.name, phase }
      if (pod.phase !== undefined) {
        const log = await kubectl
          .logs(pod.name, ns, { tail: LOG_LINES })
          .catch((err: unknown) => (err instanceof Error ? err.message : String(err)))
        if (log.trim() !== '') entry.log = tail(log)
      }
      pods.push(entry)
      if (hook.kind === 'Pod') verdictPods.add(pod.name)
    }
  }
  const failedPods = pods.filter((p) => verdictPods.has(p.name) && p.phase === 'Failed')
  const passed = exitCode === 0 && failedPods.length === 0
  if (!passed && !message) message = `test pod ${failedPods.map((p) => p.name).join(', ')} failed`
  return passed ? { passed, pods } : { passed, pods, message }
}
