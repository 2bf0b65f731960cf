// HTTP health checks against the deployed release: a Service through `kubectl port-forward`,
// an Ingress host through the cluster IP, or the preview's URL. Retried with backoff until the deadline.
//
// Requests go through node:http rather than fetch: fetch silently replaces a `Host` header,
// and an ingress check is nothing but a request with the right `Host`.

import { request } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { Log } from '../exec.js'
import type { HealthCheck } from '../inputs.js'
import { redact } from '../redact.js'
import type { HealthCheckResult, ObjectMeta } from '../model.js'
import type { Kubectl, PortForward } from '../tools/kubectl.js'
import { errorMessage, formatMs } from '../text.js'

export interface HealthCheckOptions {
  kubectl: Kubectl
  namespace: string
  release: string
  /** The cluster's IP (`minikube ip`), where the ingress controller listens on port 80; ingress checks need it. `host:port` is taken as given. */
  clusterIp?: string
  /** Epoch milliseconds after which no new attempt starts. */
  deadline: number
  /** Stops retrying (the release did not stay healthy): a failing check fails at once. */
  signal?: AbortSignal
  now?: () => number
  sleep?: (ms: number) => Promise<void>
  log?: Pick<Log, 'info'>
}

const FIRST_DELAY_MS = 1000
const MAX_DELAY_MS = 10_000
const MAX_REQUEST_MS = 10_000
const MIN_REQUEST_MS = 1000
const MAX_BODY_BYTES = 256 * 1024
const BODY_SNIPPET_CHARS = 200

export interface ServiceObject {
  metadata: ObjectMeta & { name: string }
}

/**
 * The Service a check means: the exact name in the namespace, else the one Service of the
 * release whose name ends with `-<service>` (charts prefix names with the release name).
 */
export function resolveService(
  service: string,
  services: readonly ServiceObject[],
  release: string,
  namespace: string
): { name: string; exact: boolean } {
  if (services.some((s) => s.metadata.name === service)) return { name: service, exact: true }
  const ofRelease = services.filter((s) => belongsTo(s, release))
  const matching = ofRelease.filter((s) => s.metadata.name.endsWith(`-${service}`))
  if (matching.length === 1)
    return { name: (matching[0] as ServiceObject).metadata.name, exact: false }
  if (matching.length > 1) {
    const names = matching.map((s) => s.metadata.name).join(', ')
    throw new Error(
      `health check service '${service}' is ambiguous: several Services of release ${release} end with '-${service}' (${names}); name one exactly`
    )
  }
  const known = ofRelease.length > 0 ? ofRelease : services
  const list = known.length > 0 ? known.map((s) => s.metadata.name).join(', ') : 'none'
  throw new Error(
    `health check service '${service}' not found: no Service '${service}' in namespace ${namespace} and none of release ${release} ends with '-${service}' (Services: ${list})`
  )
}

function belongsTo(s: ServiceObject, release: string): boolean {
  const a = s.metadata.annotations ?? {}
  const l = s.metadata.labels ?? {}
  return (
    a['meta.helm.sh/release-name'] === release ||
    l['app.kubernetes.io/instance'] === release ||
    l['release'] === release
  )
}

interface Attempt {
  ok: boolean
  status?: number
  latencyMs?: number
  error?: string
  /** No HTTP answer at all (refused, reset, timed out): a port-forward may be stuck on a dead pod. */
  noAnswer?: boolean
}

interface Target {
  host: string
  port: number
  path: string
  hostHeader?: string
  https?: boolean
}

class NoAnswer extends Error {}

function describeNetworkError(err: unknown, timeoutMs: number): string {
  if (err instanceof NoAnswer) return err.message
  const e = err as NodeJS.ErrnoException
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused'
    case 'ECONNRESET':
      return 'connection reset before an answer'
    case 'EHOSTUNREACH':
      return 'host unreachable'
    case 'ENETUNREACH':
      return 'network unreachable'
    case 'ETIMEDOUT':
      return `connection timed out (${formatMs(timeoutMs)})`
    default:
      return e.message || String(err)
  }
}

/** One GET, bounded in time and in how much body it keeps. */
function get(
  target: Target,
  timeoutMs: number
): Promise<{ status: number; body: string; location?: string }> {
  return new Promise((resolve, reject) => {
    let settled = false
    const done = (fn: () => void): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      fn()
    }
    const headers: Record<string, string> = {
      'User-Agent': 'minikube-preview',
      Accept: '*/*',
      Connection: 'close'
    }
    if (target.hostHeader) headers['Host'] = target.hostHeader
    const req = (target.https ? httpsRequest : request)(
      {
        host: target.host,
        port: target.port,
        path: target.path,
        method: 'GET',
        headers,
        agent: false
      },
      (res) => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (c: Buffer) => {
          if (size < MAX_BODY_BYTES) chunks.push(c)
          size += c.length
        })
        res.on('end', () =>
          done(() =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              location: res.headers.location
            })
          )
        )
        res.on('error', (err) => done(() => reject(err)))
        res.on('close', () => {
          if (!res.complete) done(() => reject(new NoAnswer('the answer was cut off')))
        })
      }
    )
    const timer = setTimeout(
      () => req.destroy(new NoAnswer(`no answer within ${formatMs(timeoutMs)}`)),
      timeoutMs
    )
    req.on('error', (err) => done(() => reject(err)))
    req.end()
  })
}

function snippet(body: string): string {
  const one = redact(body).replace(/\s+/g, ' ').trim()
  return one.length > BODY_SNIPPET_CHARS ? `${one.slice(0, BODY_SNIPPET_CHARS)}…` : one
}

async function attempt(check: HealthCheck, target: Target, timeoutMs: number): Promise<Attempt> {
  const started = performance.now()
  let res: Awaited<ReturnType<typeof get>>
  try {
    res = await get(target, timeoutMs)
  } catch (err) {
    return { ok: false, error: describeNetworkError(err, timeoutMs), noAnswer: true }
  }
  const latencyMs = Math.round(performance.now() - started)
  // A preview's URL may redirect (to a login, to https): any 2xx or 3xx is an answer.
  const passed =
    check.url !== undefined
      ? res.status >= 200 && res.status < 400
      : res.status === check.expectStatus
  if (!passed) {
    const where = res.location ? ` (redirect to ${redact(res.location)})` : ''
    const body = snippet(res.body)
    return {
      ok: false,
      status: res.status,
      latencyMs,
      error: `expected status ${check.url !== undefined ? '2xx or 3xx' : check.expectStatus}, got ${res.status}${where}${body ? `: ${body}` : ''}`
    }
  }
  if (check.expectBody !== undefined && !res.body.includes(check.expectBody)) {
    const body = snippet(res.body)
    return {
      ok: false,
      status: res.status,
      latencyMs,
      error: `body did not contain ${JSON.stringify(check.expectBody)}: ${body || 'the body was empty'}`
    }
  }
  return { ok: true, status: res.status, latencyMs }
}

interface Context {
  opts: HealthCheckOptions
  now: () => number
  sleep: (ms: number) => Promise<void>
  log: (line: string) => void
  services: () => Promise<ServiceObject[]>
}

/** Attempts until one succeeds or the deadline passes; the last attempt comes at the deadline. */
async function untilDeadline(
  ctx: Context,
  check: HealthCheck,
  url: string,
  once: (timeoutMs: number) => Promise<Attempt>
): Promise<HealthCheckResult> {
  let delay = FIRST_DELAY_MS
  let attempts = 0
  let last: Attempt
  for (;;) {
    attempts++
    const remaining = ctx.opts.deadline - ctx.now()
    last = await once(Math.min(MAX_REQUEST_MS, Math.max(MIN_REQUEST_MS, remaining)))
    if (last.ok) {
      ctx.log(
        `health check ${check.label}: ${url} answered ${last.status} in ${last.latencyMs} ms (attempt ${attempts})`
      )
      return {
        label: check.label,
        url,
        ok: true,
        status: last.status,
        latencyMs: last.latencyMs,
        attempts
      }
    }
    const left = ctx.opts.deadline - ctx.now()
    if (left <= 0 || ctx.opts.signal?.aborted) break
    const wait = Math.min(delay, left)
    ctx.log(
      `health check ${check.label}: attempt ${attempts}: ${last.error}; trying again in ${formatMs(wait)}`
    )
    await ctx.sleep(wait)
    if (ctx.opts.signal?.aborted) break
    delay = Math.min(delay * 2, MAX_DELAY_MS)
  }
  ctx.log(`health check ${check.label}: failed after ${attempts} attempt(s): ${last.error}`)
  return {
    label: check.label,
    url,
    ok: false,
    status: last.status,
    latencyMs: last.latencyMs,
    attempts,
    error: last.error
  }
}

async function urlCheck(ctx: Context, check: HealthCheck, url: string): Promise<HealthCheckResult> {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return { label: check.label, url, ok: false, attempts: 0, error: 'not a URL' }
  }
  const https = u.protocol === 'https:'
  const target: Target = {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port) || (https ? 443 : 80),
    path: `${u.pathname}${u.search}` || '/',
    https
  }
  ctx.log(`health check ${check.label}: GET ${url}`)
  return untilDeadline(ctx, check, url, (timeoutMs) => attempt(check, target, timeoutMs))
}

async function ingressCheck(
  ctx: Context,
  check: HealthCheck,
  host: string
): Promise<HealthCheckResult> {
  const url = `http://${host}${check.path}`
  const ip = ctx.opts.clusterIp
  if (!ip) {
    return {
      label: check.label,
      url,
      ok: false,
      attempts: 0,
      error: `ingress checks need the cluster IP to send 'Host: ${host}' to, and this cluster has none (use a service check instead)`
    }
  }
  ctx.log(`health check ${check.label}: GET http://${ip}${check.path} with Host: ${host}`)
  const withPort = /^([^:]+):(\d+)$/.exec(ip)
  const target: Target = withPort
    ? { host: withPort[1] as string, port: Number(withPort[2]), path: check.path, hostHeader: host }
    : { host: ip, port: 80, path: check.path, hostHeader: host }
  return untilDeadline(ctx, check, url, (timeoutMs) => attempt(check, target, timeoutMs))
}

async function serviceCheck(
  ctx: Context,
  check: HealthCheck,
  service: string,
  port: number | string
): Promise<HealthCheckResult> {
  const { kubectl, namespace, release } = ctx.opts
  let name: string
  try {
    const found = resolveService(service, await ctx.services(), release, namespace)
    name = found.name
    if (!found.exact)
      ctx.log(
        `health check ${check.label}: using Service ${name} of release ${release} for '${service}'`
      )
  } catch (err) {
    const error = errorMessage(err)
    ctx.log(`health check ${check.label}: ${error}`)
    return {
      label: check.label,
      url: `svc/${service}:${port}${check.path}`,
      ok: false,
      attempts: 0,
      error
    }
  }
  const url = `svc/${name}:${port}${check.path}`
  let forward: PortForward | undefined
  try {
    return await untilDeadline(ctx, check, url, async (timeoutMs) => {
      if (forward && !forward.alive()) {
        ctx.log(
          `health check ${check.label}: port-forward to svc/${name} stopped; starting it again`
        )
        forward = undefined
      }
      if (!forward) {
        // Outlives the deadline a little so a slow last attempt is not cut off by it.
        const lifetimeMs = Math.max(60_000, ctx.opts.deadline - ctx.now() + 60_000)
        try {
          forward = await kubectl.portForward(`svc/${name}`, port, namespace, lifetimeMs)
        } catch (err) {
          return { ok: false, error: redact(errorMessage(err)) }
        }
      }
      const result = await attempt(
        check,
        { host: '127.0.0.1', port: forward.localPort, path: check.path },
        timeoutMs
      )
      if (result.noAnswer) {
        // kubectl forwards to the one pod it picked at start; that pod may be gone.
        forward.stop()
        forward = undefined
      }
      return result
    })
  } finally {
    forward?.stop()
  }
}

/** Waits `ms`, or less if `signal` stops the checks. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

/** Runs every check concurrently; never throws for a failing check, it is recorded as failed. */
export async function runHealthChecks(
  checks: HealthCheck[],
  opts: HealthCheckOptions
): Promise<HealthCheckResult[]> {
  let services: Promise<ServiceObject[]> | undefined
  const ctx: Context = {
    opts,
    now: opts.now ?? Date.now,
    sleep: opts.sleep ?? ((ms) => pause(ms, opts.signal)),
    log: (line) => opts.log?.info(redact(line)),
    services: () => {
      services ??= opts.kubectl.getJson<ServiceObject>('services', opts.namespace).then(
        (list) => list.items,
        (err: unknown) => {
          const why = errorMessage(err)
          throw new Error(`could not list the Services of namespace ${opts.namespace}: ${why}`)
        }
      )
      return services
    }
  }
  return Promise.all(
    checks.map((check) => {
      if (check.url !== undefined) return urlCheck(ctx, check, check.url)
      if (check.ingressHost !== undefined) return ingressCheck(ctx, check, check.ingressHost)
      if (check.service !== undefined && check.port !== undefined) {
        return serviceCheck(ctx, check, check.service, check.port)
      }
      return Promise.resolve<HealthCheckResult>({
        label: check.label,
        url: check.path,
        ok: false,
        attempts: 0,
        error: 'a health check needs a service and port, or an ingress-host'
      })
    })
  )
}
