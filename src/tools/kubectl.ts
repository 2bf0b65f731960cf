// kubectl: the argv of each command and the objects it reads back.
import {
  parseJsonOutput,
  run,
  runJson,
  startBackground,
  ToolError,
  type OutputSink
} from '../exec.js'
import type { KubeList } from '../model.js'

/** The metadata of a cluster object, as `kubectl get --output json` prints it. */
export interface ObjectMeta {
  name: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}

/**
 * `kubectl label` / `kubectl annotate` arguments: `key=value` sets, `null` removes (`key-`).
 * Keys and values are the caller's (validated label keys and values); each is one argv item.
 */
export function metadataArgs(
  verb: 'label' | 'annotate',
  kind: string,
  name: string,
  values: Record<string, string | null>,
  namespace?: string
): string[] {
  const args = [verb, kind, name, '--overwrite']
  if (namespace) args.push('--namespace', namespace)
  for (const [k, v] of Object.entries(values)) args.push(v === null ? `${k}-` : `${k}=${v}`)
  return args
}

/** The namespace manifest `kubectl create -f -` reads from stdin: no name or label on argv. */
export function namespaceManifest(
  name: string,
  labels: Record<string, string>,
  annotations: Record<string, string>
): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels, annotations }
  })
}

/** A namespace as the lifecycle reads it: its metadata, and whether it is being deleted. */
export interface NamespaceInfo extends ObjectMeta {
  terminating: boolean
}

interface NamespaceObject {
  metadata: ObjectMeta
  status?: { phase?: string }
}

const namespaceInfo = (o: NamespaceObject): NamespaceInfo => ({
  ...o.metadata,
  terminating: o.status?.phase === 'Terminating'
})

const ALREADY_EXISTS = /\(AlreadyExists\)|already exists/

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

  /** A namespace's metadata, or undefined when there is none of that name. */
  async namespace(name: string, timeoutMs = 30_000): Promise<NamespaceInfo | undefined> {
    const args = ['get', 'namespace', name, '--ignore-not-found', '--output', 'json']
    const { stdout } = await run(this.path, args, { timeoutMs, env: this.env })
    if (stdout.trim() === '') return undefined
    return namespaceInfo(parseJsonOutput<NamespaceObject>(this.path, args, stdout))
  }

  /** Every namespace matching a label selector. */
  async namespaces(selector: string, timeoutMs = 30_000): Promise<NamespaceInfo[]> {
    const list = await runJson<KubeList<NamespaceObject>>(
      this.path,
      ['get', 'namespaces', '--selector', selector, '--output', 'json'],
      { timeoutMs, env: this.env }
    )
    return list.items.map(namespaceInfo)
  }

  /**
   * Creates a namespace with its labels and annotations in one request. `exists` when another
   * run created it first: that is not an error, the caller reads what is there.
   */
  async createNamespace(
    name: string,
    labels: Record<string, string>,
    annotations: Record<string, string>,
    timeoutMs = 30_000
  ): Promise<'created' | 'exists'> {
    const args = ['create', '--filename', '-', '--output', 'name']
    const r = await run(this.path, args, {
      timeoutMs,
      env: this.env,
      input: namespaceManifest(name, labels, annotations),
      allowFailure: true
    })
    if (r.exitCode === 0) return 'created'
    if (ALREADY_EXISTS.test(r.stderr)) return 'exists'
    throw ToolError.of(this.path, args, r, timeoutMs)
  }

  /** Sets (`value`) and removes (`null`) labels of one object. */
  async label(
    kind: string,
    name: string,
    labels: Record<string, string | null>,
    namespace?: string,
    timeoutMs = 30_000
  ): Promise<void> {
    await run(this.path, metadataArgs('label', kind, name, labels, namespace), {
      timeoutMs,
      env: this.env
    })
  }

  /** Sets (`value`) and removes (`null`) annotations of one object. */
  async annotate(
    kind: string,
    name: string,
    annotations: Record<string, string | null>,
    namespace?: string,
    timeoutMs = 30_000
  ): Promise<void> {
    await run(this.path, metadataArgs('annotate', kind, name, annotations, namespace), {
      timeoutMs,
      env: this.env
    })
  }

  /**
   * Deletes a namespace without waiting for it to finish terminating (its objects go in the
   * background). `absent` when there was none.
   */
  async deleteNamespace(name: string, timeoutMs = 60_000): Promise<'deleted' | 'absent'> {
    const { stdout } = await run(
      this.path,
      ['delete', 'namespace', name, '--ignore-not-found', '--wait=false'],
      { timeoutMs, env: this.env }
    )
    return stdout.trim() === '' ? 'absent' : 'deleted'
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
