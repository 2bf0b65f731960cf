// The real control plane for e2e tests: tools from scripts/test-tools.sh, a cluster from
// scripts/cluster-up.sh, the real backend on localhost, and kwok objects that route pod logs
// and port-forwards to files and local servers.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from '../support/action.js'
import { startToolServer, type ToolServer } from '../support/tool-server.js'

/** KEY=value lines of scripts/tool-versions.env: the versions scripts/test-tools.sh builds. */
function builtVersions(): Record<string, string> {
  const text = readFileSync(join(ROOT, 'scripts', 'tool-versions.env'), 'utf8')
  const out: Record<string, string> = {}
  for (const m of text.matchAll(/^([A-Z0-9_]+)=(\S+)/gm)) out[m[1] as string] = m[2] as string
  return out
}

const built = builtVersions()
/** The built kubectl (the control plane's own version), Helm 4 and Helm 3. */
export const KUBECTL = built['KUBERNETES_VERSION'] as string
export const HELM4 = built['HELM4_VERSION'] as string
export const HELM3 = built['HELM3_VERSION'] as string

export function toolsDir(): string {
  if (process.env['TOOLS_DIR']) return process.env['TOOLS_DIR']
  const out = execFileSync('bash', [join(ROOT, 'scripts', 'test-tools.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024
  })
  const dir = out.trim().split('\n').pop() as string
  process.env['TOOLS_DIR'] = dir
  return dir
}

export interface Cluster {
  name: string
  kubeconfig: string
  tools: string
  kubectl(args: string[], input?: string): string
  apply(yaml: string): void
  down(): void
}

export function clusterUp(name: string): Cluster {
  const tools = toolsDir()
  const env = { ...process.env, MP_CLUSTER_NAME: name, MP_TOOLS: tools }
  const out = execFileSync('bash', [join(ROOT, 'scripts', 'cluster-up.sh')], {
    encoding: 'utf8',
    env,
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const kubeconfig = (out.trim().split('\n').pop() as string).replace(/^KUBECONFIG=/, '')
  const kubectl = (args: string[], input?: string): string =>
    execFileSync(join(tools, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], {
      encoding: 'utf8',
      input,
      stdio: ['pipe', 'pipe', 'pipe']
    })
  return {
    name,
    kubeconfig,
    tools,
    kubectl,
    apply: (yaml) => void kubectl(['apply', '-f', '-'], yaml),
    down: () => {
      execFileSync('bash', [join(ROOT, 'scripts', 'cluster-down.sh')], { env, stdio: 'ignore' })
    }
  }
}

/** A namespace as the API server has it: its labels, annotations and phase. */
export interface NamespaceObject {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> }
  status?: { phase?: string }
}

/** The namespace `name` of the cluster, or undefined when there is none. */
export function namespaceOf(
  cluster: Pick<Cluster, 'kubectl'>,
  name: string
): NamespaceObject | undefined {
  const out = cluster.kubectl(['get', 'namespace', name, '--ignore-not-found', '-o', 'json'])
  return out.trim() ? (JSON.parse(out) as NamespaceObject) : undefined
}

/** Gone, or on its way out: deletion does not wait for the namespace to finish terminating. */
export function namespaceGone(cluster: Pick<Cluster, 'kubectl'>, name: string): boolean {
  const ns = namespaceOf(cluster, name)
  return ns === undefined || ns.status?.phase === 'Terminating'
}

export interface ClusterTools {
  server: ToolServer
  /** The inputs that install those kubectl and Helm 4 from the server. */
  inputs: Record<string, string>
  close(): Promise<void>
}

/**
 * The built kubectl and helm (Helm 4, `latest`; Helm 3 beside it) in `tools`, served at the URL
 * layouts of dl.k8s.io and get.helm.sh, for the action to download and install as on a runner.
 */
export async function serveTools(tools: string): Promise<ClusterTools> {
  const server = await startToolServer({
    tools: {
      kubectl: { [KUBECTL]: join(tools, 'kubectl') },
      helm: { [HELM3]: join(tools, 'helm3'), [HELM4]: join(tools, 'helm') }
    },
    latest: { helm: HELM4 }
  })
  return {
    server,
    inputs: {
      'kubectl-version': KUBECTL,
      'helm-version': HELM4,
      'kubectl-base-url': server.urls.kubectl,
      'helm-base-url': server.urls.helm
    },
    close: () => server.close()
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

/** The reference backend (FastAPI), really running on 127.0.0.1. */
export async function startBackend(): Promise<{ port: number; stop(): void }> {
  const python = execFileSync('bash', [join(ROOT, 'scripts', 'backend-venv.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit']
  })
    .trim()
    .split('\n')
    .pop() as string
  const port = await freePort()
  const child: ChildProcess = spawn(
    python,
    ['-m', 'uvicorn', 'app.main:app', '--host', '127.0.0.1', '--port', String(port)],
    {
      cwd: join(ROOT, 'docker', 'backend'),
      env: { ...process.env, DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none' },
      stdio: 'ignore'
    }
  )
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health`)
      if (r.ok) break
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return { port, stop: () => child.kill('SIGTERM') }
}

/** Pod logs in the kubelet's CRI format, as kwok serves them. */
export function criLogFile(lines: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'mp-logs-'))
  const file = join(dir, 'pod.log')
  writeFileSync(
    file,
    lines.map((l, i) => `2026-11-26T10:00:0${i % 10}.000000000Z stdout F ${l}`).join('\n') + '\n'
  )
  return file
}

/** Every pod in `namespace`: its logs from files, its `port` forwarded to a local server. */
export function routePods(
  cluster: Cluster,
  namespace: string,
  opts: { logs?: string; previousLogs?: string; forward?: { port: number; target: number } }
): void {
  const docs: string[] = []
  if (opts.logs) {
    docs.push(`apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: logs-${namespace}
spec:
  selector:
    matchNamespaces: [${namespace}]
  logs:
  - logsFile: ${opts.logs}
    previousLogsFile: ${opts.previousLogs ?? opts.logs}
`)
  }
  if (opts.forward) {
    docs.push(`apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterPortForward
metadata:
  name: forward-${namespace}
spec:
  selector:
    matchNamespaces: [${namespace}]
  forwards:
  - ports: [${opts.forward.port}]
    target:
      address: 127.0.0.1
      port: ${opts.forward.target}
`)
  }
  if (docs.length > 0) cluster.apply(docs.join('---\n'))
}
