// minikube: the argv of start, addons, image load and delete, and what their output says.
import { basename, join } from 'node:path'
import { ToolError, run, type OutputSink, type RunResult } from '../exec.js'
import { errorMessage, formatMs } from '../text.js'

export interface StartOptions {
  driver: string
  cpus: string
  memory: string
  nodes: number
  kubernetesVersion: string
  /** `minikube docker-env` needs the docker runtime (minikube's default, made explicit). */
  containerRuntime?: string
  waitTimeoutMs: number
  extraArgs: readonly string[]
}

/** minikube's default container runtime (`defaultRuntime()` in cmd/minikube/cmd/start.go, v1.3x). */
export const MINIKUBE_DEFAULT_RUNTIME = 'docker'

/**
 * The container runtime a cluster starts with: `--container-runtime` in `start-args` wins, then
 * `image-load: docker-env` (which needs docker), then minikube's default. Its preload tarball
 * differs per runtime, so the cache key holds it.
 */
export function containerRuntime(imageLoad: string, extraArgs: readonly string[]): string {
  for (let i = extraArgs.length - 1; i >= 0; i--) {
    const a = extraArgs[i] as string
    const m = /^--container-runtime=(.+)$/.exec(a)
    if (m) return m[1] as string
    if (a === '--container-runtime' && extraArgs[i + 1]) return extraArgs[i + 1] as string
  }
  return imageLoad === 'docker-env' ? 'docker' : MINIKUBE_DEFAULT_RUNTIME
}

/** minikube's own folder: `$MINIKUBE_HOME` when it is a `.minikube`, else `.minikube` inside it or home. */
export function minikubeDir(env: NodeJS.ProcessEnv, home: string): string {
  const set = env['MINIKUBE_HOME']
  if (!set) return join(home, '.minikube')
  return basename(set) === '.minikube' ? set : join(set, '.minikube')
}

/**
 * What the minikube cache saves: the kic base image and the preload tarball. Not
 * `cache/images`: it holds images of earlier runs, this project's among them.
 */
export function minikubeCachePaths(dir: string): string[] {
  return [join(dir, 'cache', 'kic'), join(dir, 'cache', 'preloaded-tarball')]
}

/** Minikube's own reason for a failure: `GUEST_PROVISION: error provisioning guest`. */
export function minikubeReason(output: string): string | undefined {
  const lines = output.split(/\r?\n/)
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /Exiting due to ([A-Z][A-Z0-9_]+):?\s*(.*)$/.exec(lines[i] as string)
    if (m) return m[2] ? `${m[1]}: ${m[2].trim()}` : m[1]
  }
  return undefined
}

export function startArgs(o: StartOptions): string[] {
  const args = [
    'start',
    `--driver=${o.driver}`,
    `--cpus=${o.cpus}`,
    `--memory=${o.memory}`,
    `--nodes=${o.nodes}`,
    '--interactive=false',
    '--wait=apiserver,system_pods,node_ready',
    `--wait-timeout=${Math.max(1, Math.round(o.waitTimeoutMs / 1000))}s`
  ]
  if (o.kubernetesVersion) args.push(`--kubernetes-version=${o.kubernetesVersion}`)
  if (o.containerRuntime) args.push(`--container-runtime=${o.containerRuntime}`)
  return [...args, ...o.extraArgs]
}

/** One line of `minikube image ls --format json`. */
interface ListedImage {
  id?: string
  repoTags?: string[]
}

/** `sha256:abc…` and `abc…` (or a prefix of it) name the same image. */
export function sameImageId(a: string, b: string): boolean {
  const x = a.replace(/^sha256:/, '')
  const y = b.replace(/^sha256:/, '')
  if (x.length < 12 || y.length < 12) return false
  return x.startsWith(y) || y.startsWith(x)
}

/** Docker normalises `name:tag` to `docker.io/library/name:tag`; minikube lists the long form. */
export function sameReference(listed: string, ref: string): boolean {
  const strip = (r: string): string => r.replace(/^docker\.io\//, '').replace(/^library\//, '')
  return strip(listed) === strip(ref)
}

/** A failed start, told with minikube's own reason when it gave one. */
export function startFailure(err: unknown): string {
  if (err instanceof ToolError) {
    const reason = minikubeReason(err.tail)
    if (err.timedOut)
      return `minikube start timed out after ${formatMs(err.timeoutMs)}${reason ? `: ${reason}` : ''}`
    return reason ?? err.message
  }
  return errorMessage(err)
}

/**
 * Whether `minikube start` created its machine (`Creating docker container (CPUs=2, …) ...`)
 * rather than started or updated one left from before (`Updating the running …`, `Restarting existing …`).
 */
export function createdCluster(result: Pick<RunResult, 'stdout' | 'stderr'>): boolean {
  const out = `${result.stdout}\n${result.stderr}`
  return (
    /Creating \S+ .*\(CPUs=/.test(out) && !/Updating the running |Restarting existing /.test(out)
  )
}

export class Minikube {
  constructor(
    readonly path: string,
    private readonly sink?: OutputSink
  ) {}

  private run(args: string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<RunResult> {
    return run(this.path, args, { timeoutMs, sink: this.sink, env })
  }

  start(o: StartOptions, timeoutMs: number): Promise<RunResult> {
    return this.run(startArgs(o), timeoutMs)
  }

  delete(timeoutMs = 120_000): Promise<RunResult> {
    return this.run(['delete'], timeoutMs)
  }

  async ip(): Promise<string> {
    return (await run(this.path, ['ip'], { timeoutMs: 30_000 })).stdout.trim()
  }

  /** The cluster's Kubernetes version, as minikube configured it. */
  async kubernetesVersion(): Promise<string | undefined> {
    const { stdout } = await run(this.path, ['profile', 'list', '--output=json'], {
      timeoutMs: 30_000
    })
    try {
      const doc = JSON.parse(stdout) as {
        valid?: { Name?: string; Config?: { KubernetesConfig?: { KubernetesVersion?: string } } }[]
      }
      const profile = doc.valid?.find((p) => p.Name === 'minikube') ?? doc.valid?.[0]
      return profile?.Config?.KubernetesConfig?.KubernetesVersion
    } catch {
      return undefined
    }
  }

  enableAddon(name: string, timeoutMs: number): Promise<RunResult> {
    return this.run(['addons', 'enable', name], timeoutMs)
  }

  /** Environment that points docker at the cluster's Docker daemon. */
  async dockerEnv(): Promise<Record<string, string>> {
    const { stdout } = await run(this.path, ['docker-env', '--shell', 'none'], {
      timeoutMs: 60_000
    })
    const env: Record<string, string> = {}
    for (const line of stdout.split(/\r?\n/)) {
      const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim())
      if (m && m[2] !== '') env[m[1] as string] = (m[2] as string).replace(/^"(.*)"$/, '$1')
    }
    if (!env['DOCKER_HOST']) throw new Error('minikube docker-env printed no DOCKER_HOST')
    return env
  }

  /** Whether a node already holds this image reference with this image ID. */
  async hasImage(ref: string, id: string): Promise<boolean> {
    const { stdout } = await run(this.path, ['image', 'ls', '--format', 'json'], {
      timeoutMs: 120_000
    })
    let images: ListedImage[]
    try {
      images = JSON.parse(stdout) as ListedImage[]
    } catch {
      return false
    }
    return images.some(
      (img) =>
        (img.repoTags ?? []).some((t) => sameReference(t, ref)) &&
        img.id !== undefined &&
        sameImageId(img.id, id)
    )
  }

  loadImage(ref: string, timeoutMs: number): Promise<RunResult> {
    return this.run(['image', 'load', ref], timeoutMs)
  }

  logs(timeoutMs = 60_000): Promise<RunResult> {
    return run(this.path, ['logs', '--problems'], { timeoutMs, allowFailure: true })
  }
}
