// What someone would look at first when a preview fails: the namespace's events, the
// unhealthy pods (describe, logs, previous logs), the release's status and history, and
// minikube's own problems when there is no cluster to ask. Bounded in time and size, redacted,
// and never throwing: a command that fails becomes a section that says so.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { redact } from '../redact.js'
import type { ContainerStatus, DiagnosticSection, KubeEvent, KubeObject } from '../model.js'
import type { Helm } from '../tools/helm.js'
import type { Kubectl } from '../tools/kubectl.js'
import type { Minikube } from '../tools/minikube.js'
import {
  byteLength as bytes,
  errorMessage,
  formatMs,
  shareBytes,
  utf8Head,
  utf8Tail
} from '../text.js'

export interface DiagnosticsOptions {
  kubectl?: Kubectl
  helm?: Helm
  minikube?: Minikube
  namespace: string
  release?: string
  unhealthyPods: string[]
  /** Epoch milliseconds: nothing is waited for past it. */
  deadline: number
  /** Bound on all section titles and bodies together (bytes). Default 512 KiB. */
  maxBytes?: number
  /** Log lines kept per container. Default 200. */
  tailLines?: number
}

const DEFAULT_MAX_BYTES = 512 * 1024
const DEFAULT_TAIL_LINES = 200
const MAX_PODS = 10
const CONCURRENCY = 4
const KiB = 1024

type Keep = 'tail' | 'both'

interface Planned {
  title: string
  /** Largest body this section may have, before the total budget is shared out. */
  cap: number
  keep: Keep
  collect(timeoutMs: number): Promise<string>
}

class OutOfTime extends Error {}

/** Settles with the promise, or rejects once `ms` have passed (the program's own timeout ends it). */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new OutOfTime(`not collected within ${formatMs(ms)}`)),
      ms
    )
    p.then(
      (v) => {
        clearTimeout(timer)
        resolve(v)
      },
      (err: unknown) => {
        clearTimeout(timer)
        reject(err instanceof Error ? err : new Error(String(err)))
      }
    )
  })
}

// ---- events ----

function eventTime(e: KubeEvent): string | undefined {
  return (
    e.lastTimestamp ??
    e.series?.lastObservedTime ??
    e.eventTime ??
    e.firstTimestamp ??
    e.metadata?.creationTimestamp ??
    undefined
  )
}

/** `time  type  reason  object  message` per event, oldest first. */
export function formatEvents(events: readonly KubeEvent[]): string {
  const dated = events.map((e, i) => {
    const time = eventTime(e)
    const ms = time ? Date.parse(time) : NaN
    return { e, i, time, ms: Number.isNaN(ms) ? -Infinity : ms }
  })
  dated.sort((a, b) => a.ms - b.ms || a.i - b.i)
  return dated
    .map(({ e, time }) => {
      const when = time ? time.replace(/\.\d+(Z|[+-]\d\d:\d\d)$/, '$1') : '-'
      const obj = `${e.involvedObject?.kind ?? '?'}/${e.involvedObject?.name ?? '?'}`
      const count = e.series?.count ?? e.count ?? 1
      const msg = (e.message ?? '').replace(/\s+/g, ' ').trim()
      return [
        when,
        e.type ?? '-',
        e.reason ?? '-',
        obj,
        `${msg}${count > 1 ? ` (x${count})` : ''}`
      ].join('  ')
    })
    .join('\n')
}

// ---- pods ----

interface ContainerInfo {
  name: string
  init: boolean
  status?: ContainerStatus
}

function containersOf(pod: KubeObject): ContainerInfo[] {
  const statuses = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? [])
  ]
  const find = (name: string): ContainerStatus | undefined => statuses.find((s) => s.name === name)
  // The API server requires a container name; `''` only keeps the types honest.
  return [
    ...(pod.spec?.initContainers ?? []).map((c) => ({
      name: c.name ?? '',
      init: true,
      status: find(c.name ?? '')
    })),
    ...(pod.spec?.containers ?? []).map((c) => ({
      name: c.name ?? '',
      init: false,
      status: find(c.name ?? '')
    }))
  ]
}

function hasPrevious(c: ContainerInfo): boolean {
  return (c.status?.restartCount ?? 0) > 0 || c.status?.lastState?.terminated !== undefined
}

/** Whether the container has ever run, so that asking for its logs makes sense. */
function hasRun(c: ContainerInfo): boolean {
  return c.status?.state?.waiting === undefined || hasPrevious(c)
}

function containerHeading(c: ContainerInfo): string {
  return `--- ${c.init ? 'init container' : 'container'} ${c.name} ---`
}

// ---- size ----

/** `text` in at most `limit` bytes: its end (logs, events) or its start and end (describe). */
export function fitBytes(text: string, limit: number, keep: Keep): string {
  const size = bytes(text)
  if (size <= limit) return text
  const buf = Buffer.from(text, 'utf8')
  const marker = (omitted: number): string => `\n[… ${omitted} bytes not shown …]\n`
  const room = limit - bytes(marker(size))
  if (room < 32) return utf8Head(buf, limit)
  if (keep === 'tail') return marker(size - room).trimStart() + utf8Tail(buf, room)
  const first = Math.floor(room / 3)
  return utf8Head(buf, first) + marker(size - room) + utf8Tail(buf, room - first)
}

/**
 * Shares `maxBytes` out among the sections: small ones keep everything, the large ones
 * split what is left equally.
 */
function shareOut(
  sections: (DiagnosticSection & { keep: Keep })[],
  maxBytes: number
): DiagnosticSection[] {
  const remaining = Math.max(0, maxBytes - sections.reduce((n, s) => n + bytes(s.title), 0))
  const allowed = shareBytes(
    sections.map((s) => bytes(s.body)),
    remaining
  )
  return sections.map((s, i) => ({
    title: s.title,
    body: fitBytes(s.body, allowed[i] as number, s.keep)
  }))
}

// ---- collection ----

async function runAll(
  planned: Planned[],
  deadline: number
): Promise<(DiagnosticSection & { keep: Keep })[]> {
  const out: (DiagnosticSection & { keep: Keep })[] = new Array(planned.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < planned.length) {
      const i = next++
      const p = planned[i] as Planned
      const left = deadline - Date.now()
      let body: string
      if (left <= 0) {
        body = 'not collected: the time for diagnostics ran out'
      } else {
        try {
          body = await within(p.collect(left), left)
        } catch (err) {
          body = errorMessage(err)
        }
      }
      // Redact before cutting to size: a cut could leave part of a secret that no longer matches.
      out[i] = { title: redact(p.title), body: fitBytes(redact(body), p.cap, p.keep), keep: p.keep }
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, planned.length) }, worker))
  return out
}

function podSections(
  kubectl: Kubectl,
  namespace: string,
  pod: string,
  tailLines: number
): Planned[] {
  let podJson: Promise<KubeObject | undefined> | undefined
  const getPod = (): Promise<KubeObject | undefined> =>
    (podJson ??= kubectl.get<KubeObject>('pod', pod, namespace).catch(() => undefined))

  const logsOf = async (previous: boolean, timeoutMs: number): Promise<string> => {
    const json = await within(getPod(), timeoutMs)
    if (!json) {
      // The pod could not be read (gone, or no API server): ask for every container at once.
      return kubectl.logs(pod, namespace, { previous, tail: tailLines })
    }
    const containers = containersOf(json).filter((c) => (previous ? hasPrevious(c) : true))
    if (containers.length === 0)
      return previous ? 'no container of this pod has restarted' : 'the pod has no containers'
    const blocks: string[] = []
    for (const c of containers) {
      if (!previous && !hasRun(c)) {
        const why = c.status?.state?.waiting?.reason
        blocks.push(`${containerHeading(c)}\n(not started yet${why ? `: ${why}` : ''})`)
        continue
      }
      const text = await kubectl
        .logs(pod, namespace, { previous, tail: tailLines, container: c.name })
        .catch((err: unknown) => `kubectl logs failed: ${errorMessage(err)}`)
      blocks.push(`${containerHeading(c)}\n${text.trimEnd() || '(no output)'}`)
    }
    return blocks.join('\n')
  }

  return [
    {
      title: `Pod ${pod}: describe`,
      cap: 48 * KiB,
      keep: 'both',
      collect: async (t) => {
        const out = await kubectl.describe('pod', pod, namespace, t)
        return out.trim() === '' ? 'kubectl describe printed nothing' : out
      }
    },
    { title: `Pod ${pod}: logs`, cap: 96 * KiB, keep: 'tail', collect: (t) => logsOf(false, t) },
    {
      title: `Pod ${pod}: logs (previous)`,
      cap: 64 * KiB,
      keep: 'tail',
      collect: (t) => logsOf(true, t)
    }
  ]
}

function helmSection(
  title: string,
  call: () => Promise<{ exitCode: number; stdout: string; stderr: string }>
): Planned {
  return {
    title,
    cap: 16 * KiB,
    keep: 'tail',
    collect: async () => {
      const r = await call()
      if (r.exitCode === 0) return r.stdout
      return `${title} failed with exit code ${r.exitCode}:\n${(r.stderr || r.stdout).trim()}`
    }
  }
}

/** One collection: the options, and whether the cluster answered (set by the events section). */
interface Collecting {
  opts: DiagnosticsOptions
  tailLines: number
  cluster: { answered: boolean }
}

/** One row of `SECTIONS`: the sections it adds to a collection, none when it does not apply. */
interface SectionRow {
  what: string
  /** Collected after the other rows, and only when the cluster answered none of them. */
  whenNoCluster?: true
  plan: (c: Collecting) => Planned[]
}

/** What diagnostics hold, in the order the report shows it. */
const SECTIONS: readonly SectionRow[] = [
  {
    what: 'the events of the namespace',
    plan: ({ opts: { kubectl, namespace }, cluster }) =>
      kubectl
        ? [
            {
              title: `Events in ${namespace}`,
              cap: 96 * KiB,
              keep: 'tail',
              collect: async (t) => {
                let list: { items: KubeEvent[] }
                try {
                  list = await kubectl.getJson<KubeEvent>('events', namespace, t)
                } catch (err) {
                  throw new Error(`kubectl get events failed: ${errorMessage(err)}`)
                }
                cluster.answered = true
                return list.items.length > 0
                  ? formatEvents(list.items)
                  : `no events in namespace ${namespace}`
              }
            }
          ]
        : []
  },
  {
    what: `describe, logs and previous logs of the first ${MAX_PODS} unhealthy pods`,
    plan: ({ opts: { kubectl, namespace, unhealthyPods }, tailLines }) =>
      kubectl
        ? [...new Set(unhealthyPods)]
            .slice(0, MAX_PODS)
            .flatMap((pod) => podSections(kubectl, namespace, pod, tailLines))
        : []
  },
  {
    what: 'the names of the other unhealthy pods',
    plan: ({ opts: { kubectl, unhealthyPods } }) => {
      const rest = [...new Set(unhealthyPods)].slice(MAX_PODS)
      if (!kubectl || rest.length === 0) return []
      return [
        {
          title: `${rest.length} more unhealthy pods`,
          cap: 4 * KiB,
          keep: 'tail',
          collect: async () => `not described, to keep diagnostics short: ${rest.join(', ')}`
        }
      ]
    }
  },
  {
    what: 'the status of the release',
    plan: ({ opts: { helm, release, namespace } }) =>
      helm && release
        ? [helmSection(`helm status ${release}`, () => helm.status(release, namespace))]
        : []
  },
  {
    what: 'the history of the release',
    plan: ({ opts: { helm, release, namespace } }) =>
      helm && release
        ? [helmSection(`helm history ${release}`, () => helm.history(release, namespace))]
        : []
  },
  {
    // No cluster to ask (it did not start, or its API server does not answer): minikube knows why.
    what: "minikube's problems",
    whenNoCluster: true,
    plan: ({ opts: { minikube } }) =>
      minikube
        ? [
            {
              title: 'minikube logs --problems',
              cap: 128 * KiB,
              keep: 'tail',
              collect: async (t) => {
                const r = await minikube.logs(t)
                const out = `${r.stdout}${r.stderr}`.trim()
                if (r.exitCode !== 0)
                  return `minikube logs --problems failed with exit code ${r.exitCode}:\n${out}`
                return out === '' ? 'minikube reported no problems' : out
              }
            }
          ]
        : []
  }
]

/**
 * Gathers diagnostics for a failed run, as `SECTIONS` lists them. Never throws; every failure
 * to collect something is reported in the section it would have filled.
 */
export async function collectDiagnostics(opts: DiagnosticsOptions): Promise<DiagnosticSection[]> {
  try {
    const c: Collecting = {
      opts,
      tailLines: opts.tailLines ?? DEFAULT_TAIL_LINES,
      cluster: { answered: false }
    }
    const collect = (whenNoCluster: boolean) =>
      runAll(
        SECTIONS.filter((row) => (row.whenNoCluster ?? false) === whenNoCluster).flatMap((row) =>
          row.plan(c)
        ),
        opts.deadline
      )
    const sections = await collect(false)
    if (!c.cluster.answered) sections.push(...(await collect(true)))
    return shareOut(sections, opts.maxBytes ?? DEFAULT_MAX_BYTES)
  } catch (err) {
    return [
      { title: 'Diagnostics', body: redact(`could not collect diagnostics: ${errorMessage(err)}`) }
    ]
  }
}

/** Writes the sections to a plain-text file in a new directory under `dir`; returns its path. */
export function writeDiagnosticsFile(sections: DiagnosticSection[], dir: string): string {
  mkdirSync(dir, { recursive: true })
  const file = join(mkdtempSync(join(dir, 'minikube-preview-diagnostics-')), 'diagnostics.txt')
  const text = sections.map((s) => `===== ${s.title} =====\n${s.body.trimEnd()}\n`).join('\n')
  writeFileSync(file, redact(text))
  return file
}
