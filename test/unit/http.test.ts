import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { HealthCheck } from '../../src/inputs.js'
import { registerSecret } from '../../src/redact.js'
import { Kubectl } from '../../src/tools/kubectl.js'
import { resolveService, runHealthChecks, type ServiceObject } from '../../src/verify/http.js'
import { standIn, type Rule, type StandIn } from '../support/stand-in.js'

let dir: string
const servers: Server[] = []

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mp-http-'))
})

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise((r) => s.close(r))
  }
  rmSync(dir, { recursive: true, force: true })
})

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse) => void
): Promise<number> {
  const server = createServer(handler)
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return (server.address() as AddressInfo).port
}

function svc(name: string, release?: string): ServiceObject {
  return {
    metadata: {
      name,
      annotations: release
        ? { 'meta.helm.sh/release-name': release, 'meta.helm.sh/release-namespace': 'preview' }
        : {}
    }
  }
}

const SERVICES = [
  svc('todo-chatbot-backend', 'todo-chatbot'),
  svc('todo-chatbot-frontend', 'todo-chatbot'),
  svc('kubernetes')
]

function kubectlWith(rules: Rule[], services = SERVICES): { kubectl: Kubectl; standIn: StandIn } {
  const s = standIn(dir, 'kubectl', [
    { match: ['get', 'services', '--output', 'json'], stdout: JSON.stringify({ items: services }) },
    ...rules
  ])
  return { kubectl: new Kubectl(s.path), standIn: s }
}

function check(partial: Partial<HealthCheck>): HealthCheck {
  return {
    label: 'backend:8001/health',
    service: 'backend',
    port: 8001,
    path: '/health',
    expectStatus: 200,
    ...partial
  }
}

/** A clock that only moves when the code under test sleeps: backoff without waiting. */
function fakeTime(start = 1_000_000): {
  now: () => number
  sleep: (ms: number) => Promise<void>
  slept: number[]
} {
  let t = start
  const slept: number[] = []
  return {
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms)
      t += ms
    },
    slept
  }
}

/** Processes still running the stand-in's program (a port-forward left behind). */
function running(s: StandIn): number[] {
  const program = join(s.dir, `.${s.name}.stand-in`, 'program.cjs')
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(program)) pids.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return pids
}

async function noneRunning(s: StandIn): Promise<number[]> {
  for (let i = 0; i < 40 && running(s).length > 0; i++) await new Promise((r) => setTimeout(r, 50))
  return running(s)
}

describe('resolveService', () => {
  it.each([
    ['an exact name', 'todo-chatbot-backend', 'todo-chatbot-backend', true],
    ['a release Service by suffix', 'backend', 'todo-chatbot-backend', false],
    ['a Service outside the release by exact name', 'kubernetes', 'kubernetes', true]
  ])('finds %s', (_, asked, name, exact) => {
    expect(resolveService(asked, SERVICES, 'todo-chatbot', 'preview')).toEqual({ name, exact })
  })

  it('does not take a suffix match from outside the release', () => {
    expect(() => resolveService('api', [svc('other-api')], 'todo-chatbot', 'preview')).toThrow(
      "health check service 'api' not found: no Service 'api' in namespace preview and none of release todo-chatbot ends with '-api' (Services: other-api)"
    )
  })

  it('refuses to guess between several matches', () => {
    const services = [
      svc('todo-chatbot-backend', 'todo-chatbot'),
      svc('todo-chatbot-admin-backend', 'todo-chatbot')
    ]
    expect(() => resolveService('backend', services, 'todo-chatbot', 'preview')).toThrow(
      /ambiguous.*todo-chatbot-backend, todo-chatbot-admin-backend.*name one exactly/
    )
  })

  it('finds release Services by the instance label too', () => {
    const labelled = {
      metadata: {
        name: 'todo-chatbot-api',
        labels: { 'app.kubernetes.io/instance': 'todo-chatbot' }
      }
    }
    expect(resolveService('api', [labelled], 'todo-chatbot', 'preview').name).toBe(
      'todo-chatbot-api'
    )
  })
})

describe('runHealthChecks through a port-forward', () => {
  it('passes on a 200, names the Service it used, and stops the port-forward', async () => {
    const paths: string[] = []
    const port = await serve((req, res) => {
      paths.push(req.url ?? '')
      res.end('{"status":"ok"}')
    })
    const { kubectl, standIn: k } = kubectlWith([{ match: ['port-forward'], forward: { port } }])
    const lines: string[] = []
    const [result] = await runHealthChecks([check({ expectBody: 'ok' })], {
      kubectl,
      namespace: 'preview',
      release: 'todo-chatbot',
      deadline: Date.now() + 20_000,
      log: { info: (l) => lines.push(l) }
    })
    expect(result).toMatchObject({
      label: 'backend:8001/health',
      url: 'svc/todo-chatbot-backend:8001/health',
      ok: true,
      status: 200,
      attempts: 1
    })
    expect(result?.error).toBeUndefined()
    expect(result?.latencyMs).toBeGreaterThanOrEqual(0)
    expect(paths).toEqual(['/health'])
    expect(lines.join('\n')).toContain(
      "using Service todo-chatbot-backend of release todo-chatbot for 'backend'"
    )
    const forward = k.argvs().find((a) => a[0] === 'port-forward')
    expect(forward).toEqual([
      'port-forward',
      'svc/todo-chatbot-backend',
      ':8001',
      '--namespace',
      'preview',
      '--address',
      '127.0.0.1'
    ])
    expect(await noneRunning(k)).toEqual([])
  })

  it('retries a 503 with growing pauses until it answers 200', async () => {
    let n = 0
    const port = await serve((_req, res) => {
      n++
      res.statusCode = n <= 2 ? 503 : 200
      res.end(n <= 2 ? 'warming up' : 'ok')
    })
    const { kubectl, standIn: k } = kubectlWith([{ match: ['port-forward'], forward: { port } }])
    const time = fakeTime()
    const [result] = await runHealthChecks([check({})], {
      kubectl,
      namespace: 'preview',
      release: 'todo-chatbot',
      deadline: time.now() + 60_000,
      now: time.now,
      sleep: time.sleep
    })
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 3 })
    expect(time.slept).toEqual([1000, 2000])
    // One port-forward serves every attempt while it stays up.
    expect(k.argvs().filter((a) => a[0] === 'port-forward')).toHaveLength(1)
    expect(await noneRunning(k)).toEqual([])
  })

  it('gives up at the deadline with the last status and why', async () => {
    const port = await serve((_req, res) => {
      res.statusCode = 503
      res.end('  database   not\n ready  ')
    })
    const { kubectl } = kubectlWith([{ match: ['port-forward'], forward: { port } }])
    const time = fakeTime()
    const [result] = await runHealthChecks([check({})], {
      kubectl,
      namespace: 'preview',
      release: 'todo-chatbot',
      deadline: time.now() + 15_000,
      now: time.now,
      sleep: time.sleep
    })
    // 1 s, 2 s, 4 s, then the rest of the 15 s: the last attempt comes at the deadline.
    expect(time.slept).toEqual([1000, 2000, 4000, 8000])
    expect(result).toMatchObject({
      ok: false,
      status: 503,
      attempts: 5,
      error: 'expected status 200, got 503: database not ready'
    })
  })

  it('caps the pause between attempts at 10 s', async () => {
    const port = await serve((_req, res) => {
      res.statusCode = 500
      res.end()
    })
    const { kubectl } = kubectlWith([{ match: ['port-forward'], forward: { port } }])
    const time = fakeTime()
    const [result] = await runHealthChecks([check({})], {
      kubectl,
      namespace: 'preview',
      release: 'todo-chatbot',
      deadline: time.now() + 45_000,
      now: time.now,
      sleep: time.sleep
    })
    expect(time.slept).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000, 10_000])
    expect(result?.error).toBe('expected status 200, got 500')
  })

  it('fails a 200 whose body lacks the expected text, showing the body', async () => {
    const port = await serve((_req, res) => res.end('{"status":"degraded"}'))
    const { kubectl } = kubectlWith([{ match: ['port-forward'], forward: { port } }])
    const time = fakeTime()
    const [result] = await runHealthChecks([check({ expectBody: '"ok"' })], {
      kubectl,
      namespace: 'preview',
      release: 'todo-chatbot',
      deadline: time.now() + 3000,
      now: time.now,
      sleep: time.sleep
    })
    expect(result).toMatchObject({
      ok: false,
      status: 200,
      error: 'body did not contain "\\"ok\\"": {"status":"degraded"}'
    })
  })

  it('keeps secret values out of the error', async () => {
    registerSecret('canary-8f2e61d0a7')
    const port = await serve((_req, res) => {
      res.statusCode = 500
      res.end('could not connect with password canary-8f2e61d0a7')
    })
    const { kubectl } = kubectlWith([{ match: ['port-forward'], forward: { port } }])
    const lines: string[] = []
    const [result] = await runHealthChecks([check({})], {
      kubectl,
      namespace: 'preview',
      release: 'todo-chatbot',
      deadline: Date.now(),
      log: { info: (l) => lines.push(l) }
    })
    expect(result?.error).toBe('expected status 200, got 500: could not connect with password ***')
    expect(lines.join('\n')).not.toContain('canary-8f2e61d0a7')
  })

  it('reports a server that never answers as a timeout', async () => {
    await serve(() => undefined)
    const silent = servers[0] as Server
    const port = (silent.address() as AddressInfo).port
    const { kubectl, standIn: k } = kubectlWith([{ match: ['port-forward'], forward: { port } }])
    const started = Date.now()
    const [result] = await runHealthChecks([check({})], {
      kubectl,
      namespace: 'preview',
      release: 'todo-chatbot',
      deadline: Date.now() + 1000
    })
    expect(result).toMatchObject({ ok: false, attempts: 1, error: 'no answer within 1s' })
    expect(result?.status).toBeUndefined()
    expect(Date.now() - started).toBeLessThan(5000)
    expect(await noneRunning(k)).toEqual([])
  })

  it('starts the port-forward again when it dies', async () => {
    let n = 0
    const port = await serve((_req, res) => {
      n++
      res.statusCode = n === 1 ? 503 : 200
      res.end()
    })
    const { kubectl, standIn: k } = kubectlWith([
      // The first forward exits after 300 ms, as kubectl does when its pod goes away.
      {
        match: ['port-forward'],
        sequence: [{ forward: { port }, stay: 300 }, { forward: { port } }]
      }
    ])
    const lines: string[] = []
    const [result] = await runHealthChecks([check({})], {
      kubectl,
      namespace: 'preview',
      release: 'todo-chatbot',
      deadline: Date.now() + 20_000,
      sleep: () => new Promise((r) => setTimeout(r, 800)),
      log: { info: (l) => lines.push(l) }
    })
    expect(result).toMatchObject({ ok: true, attempts: 2 })
    expect(k.argvs().filter((a) => a[0] === 'port-forward')).toHaveLength(2)
    expect(lines.join('\n')).toContain(
      'port-forward to svc/todo-chatbot-backend stopped; starting it again'
    )
    expect(await noneRunning(k)).toEqual([])
  })

  it('reports a port-forward that cannot start, and retries it', async () => {
    const { kubectl, standIn: k } = kubectlWith([
      {
        match: ['port-forward'],
        exitCode: 1,
        stderr: 'error: unable to forward port because pod is not running. Current status=Pending\n'
      }
    ])
    const time = fakeTime()
    const [result] = await runHealthChecks([check({})], {
      kubectl,
      namespace: 'preview',
      release: 'todo-chatbot',
      deadline: time.now() + 3000,
      now: time.now,
      sleep: time.sleep
    })
    expect(result?.ok).toBe(false)
    expect(result?.attempts).toBe(3)
    expect(result?.error).toContain('unable to forward port because pod is not running')
    expect(k.argvs().filter((a) => a[0] === 'port-forward')).toHaveLength(3)
  })

  it('fails a check whose Service does not exist without port-forwarding', async () => {
    const { kubectl, standIn: k } = kubectlWith([])
    const [result] = await runHealthChecks([check({ service: 'worker', label: 'worker' })], {
      kubectl,
      namespace: 'preview',
      release: 'todo-chatbot',
      deadline: Date.now() + 5000
    })
    expect(result).toMatchObject({ ok: false, attempts: 0, url: 'svc/worker:8001/health' })
    expect(result?.error).toContain("no Service 'worker' in namespace preview")
    expect(k.argvs().some((a) => a[0] === 'port-forward')).toBe(false)
  })

  it('runs checks at the same time and lists the Services once', async () => {
    // Each server answers only once both requests are in: checks run one after the other would
    // get a 500 from the first.
    const waiting: (() => void)[] = []
    const rendezvous = (body: string) => (_req: IncomingMessage, res: ServerResponse) => {
      const answer = (): void => {
        res.end(body)
      }
      waiting.push(answer)
      if (waiting.length === 2) waiting.forEach((a) => a())
      else
        setTimeout(() => {
          if (!res.writableEnded) {
            res.statusCode = 500
            res.end('alone')
          }
        }, 8000)
    }
    const backend = await serve(rendezvous('backend'))
    const frontend = await serve(rendezvous('frontend'))
    const { kubectl, standIn: k } = kubectlWith([
      { match: ['port-forward', 'svc/todo-chatbot-backend'], forward: { port: backend } },
      { match: ['port-forward', 'svc/todo-chatbot-frontend'], forward: { port: frontend } }
    ])
    const results = await runHealthChecks(
      [
        check({ label: 'backend', expectBody: 'backend' }),
        check({
          label: 'frontend',
          service: 'frontend',
          port: 3000,
          path: '/',
          expectBody: 'frontend'
        })
      ],
      { kubectl, namespace: 'preview', release: 'todo-chatbot', deadline: Date.now() + 9000 }
    )
    expect(results.map((r) => [r.label, r.ok, r.url, r.attempts])).toEqual([
      ['backend', true, 'svc/todo-chatbot-backend:8001/health', 1],
      ['frontend', true, 'svc/todo-chatbot-frontend:3000/', 1]
    ])
    expect(k.argvs().filter((a) => a[0] === 'get')).toHaveLength(1)
  })

  it('fails every service check when the Services cannot be listed', async () => {
    const s = standIn(dir, 'kubectl', [
      {
        match: ['get', 'services'],
        exitCode: 1,
        stderr: 'The connection to the server 127.0.0.1:8443 was refused\n'
      }
    ])
    const [result] = await runHealthChecks([check({})], {
      kubectl: new Kubectl(s.path),
      namespace: 'preview',
      release: 'todo-chatbot',
      deadline: Date.now() + 5000
    })
    expect(result?.ok).toBe(false)
    expect(result?.error).toMatch(
      /could not list the Services of namespace preview: .*connection to the server 127\.0\.0\.1:8443 was refused/
    )
  })
})

describe('runHealthChecks through the ingress', () => {
  async function ingress(): Promise<{ port: number; seen: { host?: string; url?: string }[] }> {
    const seen: { host?: string; url?: string }[] = []
    const port = await serve((req, res) => {
      seen.push({ host: req.headers.host, url: req.url })
      if (req.headers.host === 'todo.local') res.end('ok')
      else {
        res.statusCode = 404
        res.end('default backend - 404')
      }
    })
    return { port, seen }
  }

  it('sends the ingress host as Host to the cluster IP', async () => {
    const { port, seen } = await ingress()
    const { kubectl } = kubectlWith([])
    const time = fakeTime()
    const results = await runHealthChecks(
      [
        {
          label: 'todo.local/api/health',
          ingressHost: 'todo.local',
          path: '/api/health',
          expectStatus: 200,
          expectBody: 'ok'
        },
        { label: 'other.local/', ingressHost: 'other.local', path: '/', expectStatus: 200 }
      ],
      {
        kubectl,
        namespace: 'preview',
        release: 'todo-chatbot',
        clusterIp: `127.0.0.1:${port}`,
        deadline: time.now() + 1000,
        now: time.now,
        sleep: time.sleep
      }
    )
    expect(results[0]).toMatchObject({
      url: 'http://todo.local/api/health',
      ok: true,
      status: 200,
      attempts: 1
    })
    expect(results[1]).toMatchObject({
      url: 'http://other.local/',
      ok: false,
      status: 404,
      error: 'expected status 200, got 404: default backend - 404'
    })
    expect(seen).toContainEqual({ host: 'todo.local', url: '/api/health' })
    expect(seen).toContainEqual({ host: 'other.local', url: '/' })
  })

  it('fails clearly without a cluster IP', async () => {
    const { kubectl } = kubectlWith([])
    const [result] = await runHealthChecks(
      [{ label: 'todo.local/', ingressHost: 'todo.local', path: '/', expectStatus: 200 }],
      { kubectl, namespace: 'preview', release: 'todo-chatbot', deadline: Date.now() + 5000 }
    )
    expect(result).toMatchObject({ ok: false, attempts: 0 })
    expect(result?.error).toContain('ingress checks need the cluster IP')
  })

  it('reports a refused connection', async () => {
    const { port } = await ingress()
    const closed = servers.pop() as Server
    await new Promise((r) => closed.close(r))
    const { kubectl } = kubectlWith([])
    const [result] = await runHealthChecks(
      [{ label: 'todo.local/', ingressHost: 'todo.local', path: '/', expectStatus: 200 }],
      {
        kubectl,
        namespace: 'preview',
        release: 'todo-chatbot',
        clusterIp: `127.0.0.1:${port}`,
        deadline: Date.now()
      }
    )
    expect(result).toMatchObject({ ok: false, attempts: 1, error: 'connection refused' })
  })
})
