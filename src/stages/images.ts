// The images stage: each image built (buildx with its layer cache, or docker build) while the
// cluster starts, then loaded onto the cluster's nodes unless it was built inside the cluster.
import * as core from '@actions/core'
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
import { buildSetup, type BuildSetup } from '../images/builder.js'
import { cacheArgs, cacheScope, localCacheDir, type BuildCache } from '../images/cache.js'
import { describeFailure, parseBuildOutput, type BuildProgress } from '../images/progress.js'
import type { ImageSpec } from '../inputs.js'
import { registryPush } from '../plan.js'
import type { ImageInfo } from '../model.js'
import type { RunContext } from '../run.js'
import type { StepLog } from '../schedule.js'
import { errorMessage } from '../text.js'
import { pushedByBuild, pushImage } from '../images/push.js'
import { buildArgs, buildxArgs, metadataImageId, type Docker } from '../tools/docker.js'
import { pushedReference } from '../tools/registry.js'

const BUILD_TIMEOUT_MS = 30 * 60_000

const LOAD_TIMEOUT_MS = 15 * 60_000

/** Where tarballs and buildx metadata of this run's images go. */
function imagesDir(run: RunContext): string {
  return join(run.env.runnerTemp, 'minikube-preview-images')
}

// Images build at the same time; they share one cache decision and one builder.
const setups = new WeakMap<RunContext, Promise<BuildSetup>>()

function sharedSetup(run: RunContext, docker: Docker, log: StepLog): Promise<BuildSetup> {
  let setup = setups.get(run)
  if (!setup) {
    const i = run.inputs
    const options = {
      builder: i.builder,
      buildCache: i.buildCache,
      buildCacheRef: i.buildCacheRef,
      dockerEnv: run.dockerEnv
    }
    setup = buildSetup(options, docker, log)
    setups.set(run, setup)
  }
  return setup
}

export async function buildImage(run: RunContext, image: ImageSpec, log: StepLog): Promise<void> {
  const docker = await run.docker(log)
  const setup = await sharedSetup(run, docker, log)
  const cache = usableCache(setup.cache, image.name)
  const reference = run.imageReference(image.name)
  // An existing cluster pulls from the registry: the build pushes `<registry>/<name>:<tag>`.
  const pushTo =
    registryPush(run.inputs) === 'at-build'
      ? pushedReference(run.inputs.registry, image.name, run.found.imageTag)
      : undefined
  const info: ImageInfo = {
    name: image.name,
    reference,
    delivery: run.dockerEnv ? 'docker-env' : undefined
  }
  if (cache.kind !== 'none') info.cache = cache.kind
  run.images.set(image.name, info)

  let metadataFile: string | undefined
  let argsWith = (_cache: BuildCache): string[] => buildArgs(image, reference)
  let pushedByBuilder = false
  if (setup.builder) {
    const builder = setup.builder
    const dir = imagesDir(run)
    mkdirSync(dir, { recursive: true })
    const base = join(dir, cacheScope(image.name))
    const metadata = `${base}.metadata.json`
    metadataFile = metadata
    pushedByBuilder = pushTo !== undefined
    // With docker-env the cluster's Docker is the daemon: load into it. Otherwise a tarball
    // that `minikube image load` reads, without a round trip through the runner's daemon.
    if (!run.dockerEnv && !pushTo) info.tarball = `${base}.tar`
    // Left by an earlier job on the same runner: never to be taken for this build's output.
    for (const f of [metadata, `${base}.tar`]) rmSync(f, { force: true })
    argsWith = (cache) =>
      buildxArgs(image, pushedByBuilder && pushTo ? pushTo : reference, {
        builder,
        cacheArgs: cacheArgs(cache, image.name),
        output: pushedByBuilder ? 'push' : info.tarball ? { tarball: info.tarball } : 'load',
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
    // Into its daemon, then pushed from there like a plain docker build.
    pushedByBuilder = false
    result = await docker.build(argsWith({ kind: 'none' }), BUILD_TIMEOUT_MS)
    output = `${result.stdout}\n${result.stderr}`
  } else if (result.exitCode !== 0 && unusable && cache.kind !== 'none') {
    core.warning(
      `Could not use the ${cache.kind} layer cache of ${image.name}; building without it: ${unusable}`
    )
    delete info.cache
    result = await docker.build(argsWith({ kind: 'none' }), BUILD_TIMEOUT_MS)
    output = `${result.stdout}\n${result.stderr}`
  }
  info.buildMs = Date.now() - started
  // exec.run redacted the output as it came in, before anything is cut out of it.
  const progress = parseBuildOutput(output)
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

  const metadataText =
    metadataFile && existsSync(metadataFile) ? readFileSync(metadataFile, 'utf8') : undefined
  if (pushedByBuilder && pushTo) {
    // Straight from the builder to the registry: nothing in a daemon or a tarball to inspect.
    info.id = metadataText === undefined ? undefined : metadataImageId(metadataText)
  } else if (metadataFile && info.tarball) {
    info.id = metadataText === undefined ? undefined : metadataImageId(metadataText)
    if (!existsSync(info.tarball))
      throw new Error(`docker buildx build of ${reference} wrote no image to ${info.tarball}`)
    info.sizeBytes = statSync(info.tarball).size
  } else {
    const inspected = await docker.inspect(reference)
    info.id = inspected.id
    info.sizeBytes = inspected.sizeBytes
  }
  log.info(
    `built ${pushedByBuilder && pushTo ? pushTo : reference}${info.id ? ` (${info.id.slice(0, 19)})` : ''}: ${progress.cached}/${progress.steps} steps cached`
  )
  if (!pushTo) return
  const pushed = pushedByBuilder
    ? pushedByBuild(image.name, pushTo, metadataText)
    : await pushImage(docker, {
        registry: run.inputs.registry,
        name: image.name,
        tag: run.found.imageTag,
        source: { image: reference }
      })
  info.pushed = pushed.reference
  info.digest = pushed.digest
  log.info(`pushed ${pushed.pinned}`)
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
    const why = errorMessage(err)
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

/**
 * Puts a built image on the cluster's nodes: the tarball the build exported, or the image from
 * the runner's daemon. A cluster that already ran before this job is asked first whether it
 * holds that very image; one this run has just created holds none of ours.
 */
export async function loadImage(run: RunContext, image: ImageSpec, log: StepLog): Promise<void> {
  const info = run.images.get(image.name)
  if (!info || (!info.id && !info.tarball)) throw new Error(`${image.name} was not built`)
  const minikube = run.minikube(log)
  const started = Date.now()
  if (!run.clusterCreated && info.id && (await minikube.hasImage(info.reference, info.id))) {
    log.info(`${info.reference} (${info.id.slice(0, 19)}) is already on the cluster`)
    info.delivery = 'already-present'
  } else {
    await minikube.loadImage(info.tarball ?? info.reference, LOAD_TIMEOUT_MS)
    info.delivery = 'loaded'
    // The cluster has it now; the tarball would only fill the runner's disk, unless the push
    // once the preview is healthy reads it (and removes it then).
    if (info.tarball && registryPush(run.inputs) !== 'when-healthy')
      rmSync(info.tarball, { force: true })
  }
  info.loadMs = Date.now() - started
}
