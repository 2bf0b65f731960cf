import { parseJsonOutput, run, type OutputSink, type RunResult } from '../exec.js'
import type { ImageSpec } from '../inputs.js'

function buildFlags(image: ImageSpec, reference: string): string[] {
  const args = ['--progress=plain', '--tag', reference, '--file', image.dockerfile]
  if (image.target) args.push('--target', image.target)
  if (image.platform) args.push('--platform', image.platform)
  for (const { key, value } of image.buildArgs) args.push('--build-arg', `${key}=${value}`)
  return args
}

/** `docker build` into the daemon docker talks to: the build without a cache or a builder. */
export function buildArgs(image: ImageSpec, reference: string): string[] {
  return ['build', ...buildFlags(image, reference), image.context]
}

/** One field of BuildKit's comma-separated options, quoted when it holds a comma or a quote. */
export function csvField(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field
}

export interface BuildxOptions {
  builder: string
  /** `--cache-from …` / `--cache-to …` (see images/cache.ts). */
  cacheArgs: readonly string[]
  /** A docker-format tarball for `minikube image load`, or `load` into the daemon docker talks to. */
  output: { tarball: string } | 'load'
  /** buildx writes the image's config digest (its ID) here. */
  metadataFile: string
}

/** `docker buildx build` on a named builder, with a layer cache and an explicit output. */
export function buildxArgs(image: ImageSpec, reference: string, o: BuildxOptions): string[] {
  const output =
    o.output === 'load'
      ? ['--load']
      : ['--output', `type=docker,${csvField(`dest=${o.output.tarball}`)}`]
  return [
    'buildx',
    'build',
    '--builder',
    o.builder,
    ...buildFlags(image, reference),
    ...o.cacheArgs,
    ...output,
    '--metadata-file',
    o.metadataFile,
    image.context
  ]
}

/**
 * A BuildKit in a container of the daemon docker talks to (or of the docker context named
 * `endpoint`): the builder that can export caches and tarballs.
 */
export function createBuilderArgs(name: string, endpoint?: string): string[] {
  const args = ['buildx', 'create', '--name', name, '--driver', 'docker-container', '--bootstrap']
  return endpoint ? [...args, endpoint] : args
}

/**
 * A docker context for the daemon `DOCKER_HOST` and its TLS files name. buildx will not create a
 * builder from TLS settings in the environment (as `minikube docker-env` gives), only from a context.
 */
export function createContextArgs(name: string, env: Record<string, string>): string[] {
  const fields = [`host=${env['DOCKER_HOST'] ?? ''}`]
  const certs = env['DOCKER_CERT_PATH']
  if (certs && env['DOCKER_TLS_VERIFY']) {
    fields.push(`ca=${certs}/ca.pem`, `cert=${certs}/cert.pem`, `key=${certs}/key.pem`)
  }
  return ['context', 'create', name, '--docker', fields.map(csvField).join(',')]
}

export function removeContextArgs(name: string): string[] {
  return ['context', 'rm', '--force', name]
}

export function removeBuilderArgs(name: string): string[] {
  return ['buildx', 'rm', name]
}

export interface InspectedImage {
  id: string
  sizeBytes?: number
}

/** What buildx's `--metadata-file` says about the image: its config digest is the image ID. */
export function metadataImageId(text: string): string | undefined {
  try {
    const doc = JSON.parse(text) as Record<string, unknown>
    const id = doc['containerimage.config.digest']
    return typeof id === 'string' && /^sha256:[0-9a-f]{64}$/.test(id) ? id : undefined
  } catch {
    return undefined
  }
}

export class Docker {
  constructor(
    readonly path: string,
    private readonly env?: NodeJS.ProcessEnv,
    private readonly sink?: OutputSink
  ) {}

  /** Runs a build; a failed build is returned, not thrown: its output says why. */
  build(args: readonly string[], timeoutMs: number): Promise<RunResult> {
    const env = { ...(this.env ?? process.env), DOCKER_BUILDKIT: '1' }
    return run(this.path, args, { timeoutMs, env, sink: this.sink, allowFailure: true })
  }

  async createBuilder(name: string, timeoutMs: number, endpoint?: string): Promise<void> {
    const o = { timeoutMs, env: this.env, sink: this.sink }
    await run(this.path, createBuilderArgs(name, endpoint), o)
  }

  async createContext(name: string, daemon: Record<string, string>): Promise<void> {
    const o = { timeoutMs: 60_000, env: this.env, sink: this.sink }
    await run(this.path, createContextArgs(name, daemon), o)
  }

  async inspect(reference: string): Promise<InspectedImage> {
    const args = ['image', 'inspect', '--format', '{{json .}}', reference]
    const { stdout } = await run(this.path, args, { timeoutMs: 60_000, env: this.env })
    const doc = parseJsonOutput<{ Id?: string; Size?: number } | null>(
      this.path,
      args,
      stdout.trim().split('\n')[0] as string
    )
    if (!doc?.Id) throw new Error(`docker image inspect ${reference} printed no image ID`)
    return { id: doc.Id, sizeBytes: doc.Size }
  }
}
