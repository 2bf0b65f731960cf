import { run, runJson, startBackground, type OutputSink } from '../exec.js'
import type { KubeList } from '../model.js'

export class Kubectl {
  constructor(
    readonly path: string,
    private readonly env?: NodeJS.ProcessEnv,
    private readonly sink?: OutputSink
  ) {}

  getJson<T = unknown>(
    resources: string,
    namespace?: string,
    timeoutMs = 60_000
  ): Promise<KubeList<T>> {
    const args = ['get', resources, '--output', 'json']
    if (namespace) args.push('--namespace', namespace)
    return runJson<KubeList<T>>(this.path, args, { timeoutMs, env: this.env })
  }

  async get<T = unknown>(resource: string, name: string, namespace: string): Promise<T> {
    return runJson<T>(
      this.path,
      ['get', resource, name, '--namespace', namespace, '--output', 'json'],
      {
        timeoutMs: 60_000,
        env: this.env
      }
    )
  }

  /** The server's version (`v1.37.0`), or throws when the API server does not answer. */
  async serverVersion(timeoutMs = 30_000): Promise<string> {
    const doc = await runJson<{ serverVersion?: { gitVersion?: string } }>(
      this.path,
      ['version', '--output', 'json', `--request-timeout=${Math.ceil(timeoutMs / 1000)}s`],
      { timeoutMs, env: this.env }
    )
    const v = doc.serverVersion?.gitVersion
    if (!v) throw new Error('the API server did not report a version')
    return v
  }

  async nodesReady(): Promise<{ ready: number; total: number }> {
    const list = await this.getJson<{
      status?: { conditions?: { type: string; status: string }[] }
    }>('nodes')
    const ready = list.items.filter((n) =>
      n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
    ).length
    return { ready, total: list.items.length }
  }

  async text(args: string[], timeoutMs = 60_000): Promise<string> {
    const r = await run(this.path, args, { timeoutMs, env: this.env, allowFailure: true })
    return r.exitCode === 0 ? r.stdout : `${r.stdout}${r.stderr}`
  }

  describe(kind: string, name: string, namespace: string, timeoutMs = 30_000): Promise<string> {
    return this.text(['describe', kind, name, '--namespace', namespace], timeoutMs)
  }

  logs(
    pod: string,
    namespace: string,
    opts: { previous?: boolean; tail?: number; container?: string; timeoutMs?: number }
  ) {
    const args = ['logs', pod, '--namespace', namespace, `--tail=${opts.tail ?? 200}`]
    if (opts.container) args.push('--container', opts.container)
    else args.push('--all-containers=true', '--prefix=true')
    if (opts.previous) args.push('--previous')
    return this.text(args, opts.timeoutMs ?? 30_000)
  }

  /**
   * Starts `kubectl port-forward` to a local port chosen by kubectl; resolves with that port
   * once forwarding has begun. The caller stops it.
   */
  async portForward(
    target: string,
    remotePort: number | string,
    namespace: string,
    lifetimeMs: number
  ): Promise<PortForward> {
    const bg = await startBackground(
      this.path,
      [
        'port-forward',
        target,
        `:${remotePort}`,
        '--namespace',
        namespace,
        '--address',
        '127.0.0.1'
      ],
      {
        readyPattern: /Forwarding from 127\.0\.0\.1:(\d+)/,
        startTimeoutMs: 30_000,
        lifetimeMs,
        env: this.env
      }
    )
    return { localPort: Number(bg.ready[1]), stop: () => bg.stop(), alive: () => bg.alive }
  }
}

export interface PortForward {
  localPort: number
  stop(): void
  alive(): boolean
}
