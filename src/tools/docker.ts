// docker: the argv of build, buildx builders and contexts, login, push, tag and logout, and what their output says.
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
  /**
   * A docker-format tarball for `minikube image load`, `load` into the daemon docker talks to, or
   * `push`: straight from the builder to the registry, as every `--tag` (so `reference` must be
   * the registry reference, see tools/registry.ts `pushedReference`); the metadata file then
   * holds the pushed digest (`metadataDigest`).
   */
  output: { tarball: string } | 'load' | 'push'
  /** buildx writes the image's config digest (its ID) here. */
  metadataFile: string
}

/** `docker buildx build` on a named builder, with a layer cache and an explicit output. */
export function buildxArgs(image: ImageSpec, reference: string, o: BuildxOptions): string[] {
  const output =
    o.output === 'load'
      ? ['--load']
      : o.output === 'push'
        ? ['--output', 'type=image,push=true']
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

/**
 * The registry digest of what a `--output type=image,push=true` build pushed
 * (`containerimage.digest`: the manifest or, with attestations, the index the tag points at).
 */
export function metadataDigest(text: string): string | undefined {
  try {
    const doc = JSON.parse(text) as Record<string, unknown>
    const digest = doc['containerimage.digest']
    return typeof digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(digest) ? digest : undefined
  } catch {
    return undefined
  }
}

/** The digest `docker buildx imagetools create --metadata-file` says the new tags point at. */
export function metadataDescriptorDigest(text: string): string | undefined {
  try {
    const doc = JSON.parse(text) as Record<string, { digest?: unknown } | undefined>
    const digest = doc['containerimage.descriptor']?.digest
    return typeof digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(digest) ? digest : undefined
  } catch {
    return undefined
  }
}

/**
 * `docker login`: the password is read from stdin (`--password-stdin`), never from argv, where
 * any process on the machine could read it.
 */
export function loginArgs(host: string, username: string): string[] {
  return ['login', host, '--username', username, '--password-stdin']
}

export function logoutArgs(host: string): string[] {
  return ['logout', host]
}

export function tagArgs(source: string, target: string): string[] {
  return ['image', 'tag', source, target]
}

export function pushArgs(reference: string): string[] {
  return ['image', 'push', reference]
}

/** `docker load` of a docker-format tarball (as `buildxArgs` exports for minikube). */
export function loadArgs(tarball: string): string[] {
  return ['image', 'load', '--input', tarball]
}

export function repoDigestsArgs(reference: string): string[] {
  return ['image', 'inspect', '--format', '{{json .RepoDigests}}', reference]
}

/**
 * Puts `tags` on the image `source` (`<repository>@<digest>`) from registry to registry: nothing
 * is pulled, rebuilt or pushed again. `--prefer-index=false` makes it a carbon copy of a single
 * source (buildx 0.15 and later); without it buildx wraps a single image manifest in a new index,
 * and the tags would point at a digest that was never verified.
 */
export function imagetoolsCreateArgs(
  source: string,
  tags: readonly string[],
  metadataFile: string
): string[] {
  return [
    'buildx',
    'imagetools',
    'create',
    '--prefer-index=false',
    '--progress=plain',
    '--metadata-file',
    metadataFile,
    ...tags.flatMap((t) => ['--tag', t]),
    source
  ]
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

  /** Removes a buildx builder this run created; a failure is returned, not thrown. */
  removeBuilder(name: string, timeoutMs = 120_000): Promise<RunResult> {
    return run(this.path, removeBuilderArgs(name), { timeoutMs, env: this.env, allowFailure: true })
  }

  /** Removes a docker context this run created; a failure is returned, not thrown. */
  removeContext(name: string, timeoutMs = 60_000): Promise<RunResult> {
    return run(this.path, removeContextArgs(name), { timeoutMs, env: this.env, allowFailure: true })
  }

  async createContext(name: string, daemon: Record<string, string>): Promise<void> {
    const o = { timeoutMs: 60_000, env: this.env, sink: this.sink }
    await run(this.path, createContextArgs(name, daemon), o)
  }

  /** Logs in to a registry's host, the password on stdin; a refusal is returned, not thrown. */
  login(host: string, username: string, password: string, timeoutMs = 120_000): Promise<RunResult> {
    return run(this.path, loginArgs(host, username), {
      timeoutMs,
      env: this.env,
      input: password,
      allowFailure: true
    })
  }

  /** Removes the stored credentials of a registry's host (nothing to remove is no failure). */
  logout(host: string, timeoutMs = 60_000): Promise<RunResult> {
    return run(this.path, logoutArgs(host), { timeoutMs, env: this.env, allowFailure: true })
  }

  tag(source: string, target: string, timeoutMs = 60_000): Promise<RunResult> {
    return run(this.path, tagArgs(source, target), {
      timeoutMs,
      env: this.env,
      allowFailure: true
    })
  }

  push(reference: string, timeoutMs: number): Promise<RunResult> {
    return run(this.path, pushArgs(reference), {
      timeoutMs,
      env: this.env,
      sink: this.sink,
      allowFailure: true
    })
  }

  load(tarball: string, timeoutMs: number): Promise<RunResult> {
    return run(this.path, loadArgs(tarball), {
      timeoutMs,
      env: this.env,
      sink: this.sink,
      allowFailure: true
    })
  }

  /** The `<repository>@<digest>` entries the daemon knows for an image ([] when it has none). */
  async repoDigests(reference: string): Promise<string[]> {
    const args = repoDigestsArgs(reference)
    const { stdout } = await run(this.path, args, { timeoutMs: 60_000, env: this.env })
    const doc = parseJsonOutput<unknown>(this.path, args, stdout.trim().split('\n')[0] ?? '')
    return Array.isArray(doc) ? doc.filter((d): d is string => typeof d === 'string') : []
  }

  imagetoolsCreate(
    source: string,
    tags: readonly string[],
    metadataFile: string,
    timeoutMs = 10 * 60_000
  ): Promise<RunResult> {
    return run(this.path, imagetoolsCreateArgs(source, tags, metadataFile), {
      timeoutMs,
      env: this.env,
      sink: this.sink,
      allowFailure: true
    })
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
