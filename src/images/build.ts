import * as core from '@actions/core'
import * as io from '@actions/io'
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync
} from 'node:fs'
import { join } from 'node:path'
import type { RunContext } from '../context.js'
import { redact } from '../redact.js'
import type { ImageSpec } from '../inputs.js'
import type { ImageInfo } from '../report/model.js'
import type { StepLog } from '../runner.js'
import { Docker, buildArgs, buildxArgs, metadataImageId } from '../tools/docker.js'
import { buildSetup } from './builder.js'
import { cacheArgs, cacheScope, localCacheDir, type BuildCache } from './cache.js'
import { describeFailure, parseBuildOutput, type BuildProgress } from './progress.js'

const BUILD_TIMEOUT_MS = 30 * 60_000

/** Where tarballs and buildx metadata of this run's images go. */
export function imagesDir(ctx: RunContext): string {
  return join(ctx.env.runnerTemp, 'minikube-preview-images')
}

export async function buildImage(
  ctx: RunContext,
  image: ImageSpec,
  log: StepLog
): Promise<ImageInfo> {
  const path = await io.which('docker', true)
  const env = ctx.dockerEnv ? { ...process.env, ...ctx.dockerEnv } : process.env
  const docker = new Docker(path, env, log)
  const setup = await buildSetup(ctx, docker, log)
  const cache = usableCache(setup.cache, image.name)
  const reference = ctx.imageReference(image.name)
  const info: ImageInfo = {
    name: image.name,
    reference,
    delivery: ctx.dockerEnv ? 'docker-env' : undefined
  }
  if (cache.kind !== 'none') info.cache = cache.kind
  ctx.report.images.push(info)

  let metadataFile: string | undefined
  let argsWith = (_cache: BuildCache): string[] => buildArgs(image, reference)
  if (setup.builder) {
    const builder = setup.builder
    const dir = imagesDir(ctx)
    mkdirSync(dir, { recursive: true })
    const base = join(dir, cacheScope(image.name))
    const metadata = `${base}.metadata.json`
    metadataFile = metadata
    // With docker-env the cluster's Docker is the daemon: load into it. Otherwise a tarball
    // that `minikube image load` reads, without a round trip through the runner's daemon.
    if (!ctx.dockerEnv) info.tarball = `${base}.tar`
    // Left by an earlier job on the same runner: never to be taken for this build's output.
    for (const f of [metadata, `${base}.tar`]) rmSync(f, { force: true })
    argsWith = (cache) =>
      buildxArgs(image, reference, {
        builder,
        cacheArgs: cacheArgs(cache, image.name),
        output: info.tarball ? { tarball: info.tarball } : 'load',
        metadataFile: metadata
      })
  }
  const firstLocalRun = isFirstLocalRun(cache, image.name)

  const started = Date.now()
  let result = await docker.build(argsWith(cache), BUILD_TIMEOUT_MS)
  let output = `${result.stdout}\n${result.stderr}`
  const unsupported = /((?:Cache export|Docker exporter) is not supported for the \S+ driver)/.exec(
    output
  )?.[1]
  // BuildKit fails the whole build when it cannot even set a cache up (a bad token, a ref it
  // refuses): that is a cache that cannot be written, so a warning and a build without it.
  const unusable = /failed to configure \S+ cache (?:exporter|importer): [^\n]*/.exec(output)?.[0]
  if (result.exitCode !== 0 && unsupported) {
    // A builder named by `builder` may use the docker driver: no cache export, no tarball.
    core.warning(
      `The builder '${setup.builder}' cannot keep a layer cache or export a tarball (${unsupported}); building ${image.name} into its daemon without a cache`
    )
    delete info.cache
    delete info.tarball
    result = await docker.build(argsWith({ kind: 'none' }), BUILD_TIMEOUT_MS)
    output = `${result.stdout}\n${result.stderr}`
  } else if (result.exitCode !== 0 && unusable && cache.kind !== 'none') {
    core.warning(
      `Could not use the ${cache.kind} layer cache of ${image.name}; building without it: ${redact(unusable)}`
    )
    delete info.cache
    result = await docker.build(argsWith({ kind: 'none' }), BUILD_TIMEOUT_MS)
    output = `${result.stdout}\n${result.stderr}`
  }
  info.buildMs = Date.now() - started
  // Redacted before anything is cut out of it for the report, a warning or an error.
  const progress = parseBuildOutput(redact(output))
  info.steps = progress.steps
  info.cachedSteps = progress.cached
  if (result.exitCode !== 0) {
    if (progress.failed) {
      info.failedStep = progress.failed.step
      info.failureLines = progress.failed.lines
    }
    if (progress.missingBase) info.missingBase = progress.missingBase.image
    throw new Error(describeFailure(reference, result.exitCode, progress))
  }
  warnAboutCache(image.name, progress, firstLocalRun, log)

  if (metadataFile && info.tarball) {
    info.id = existsSync(metadataFile)
      ? metadataImageId(readFileSync(metadataFile, 'utf8'))
      : undefined
    if (!existsSync(info.tarball))
      throw new Error(`docker buildx build of ${reference} wrote no image to ${info.tarball}`)
    info.sizeBytes = statSync(info.tarball).size
  } else {
    const inspected = await docker.inspect(reference)
    info.id = inspected.id
    info.sizeBytes = inspected.sizeBytes
  }
  log.info(
    `built ${reference}${info.id ? ` (${info.id.slice(0, 19)})` : ''}: ${progress.cached}/${progress.steps} steps cached`
  )
  ctx.images.set(image.name, info)
  return info
}

/**
 * buildx creates a local cache folder before it builds, and fails the build when it cannot:
 * a folder that cannot be made is a warning and a build without that cache.
 */
function usableCache(cache: BuildCache, name: string): BuildCache {
  const dir = localCacheDir(cache, name)
  if (!dir) return cache
  try {
    mkdirSync(dir, { recursive: true })
    accessSync(dir, constants.W_OK)
    return cache
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    core.warning(`Could not use the layer cache folder of ${name}; building without it: ${why}`)
    return { kind: 'none' }
  }
}

/** A local cache folder that does not exist yet is a first run, not a cache that cannot be read. */
function isFirstLocalRun(cache: BuildCache, name: string): boolean {
  const dir = localCacheDir(cache, name)
  return dir !== undefined && !existsSync(join(dir, 'index.json'))
}

/** A cache that cannot be read or written costs time, never the build: it is a warning. */
function warnAboutCache(
  name: string,
  progress: BuildProgress,
  firstLocalRun: boolean,
  log: StepLog
): void {
  for (const p of progress.cacheImport) {
    // A registry cache tag that does not exist yet is the first build, not a problem.
    if (/not found/i.test(p.error)) log.info(`no layer cache for ${name} yet (${p.error})`)
    else core.warning(`Could not read the layer cache of ${name}; building without it: ${p.error}`)
  }
  for (const w of progress.cacheWarnings) {
    if (firstLocalRun) log.info(`no layer cache for ${name} yet`)
    else core.warning(`Could not read the layer cache of ${name}: ${w}`)
  }
  for (const p of progress.cacheExport) {
    core.warning(
      `Could not save the layer cache of ${name} (the image itself is built): ${p.error}`
    )
  }
}
