// The buildx builder of this run's image builds: the one named by `builder`, or one created for
// the layer cache (and removed in post), or none (plain `docker build`).
import * as core from '@actions/core'
import type { Inputs } from '../inputs.js'
import type { StepLog } from '../schedule.js'
import { state } from '../state.js'
import type { Docker } from '../tools/docker.js'
import { resolveBuildCache, type BuildCache } from './cache.js'
import { errorMessage } from '../text.js'

const BUILDER_TIMEOUT_MS = 5 * 60_000

export interface BuildSetup {
  cache: BuildCache
  /** The buildx builder to build on; undefined: `docker build` on the daemon, as without a cache. */
  builder?: string
  /** Whether this run created the builder. */
  created: boolean
}

/** What the builder is decided from: the inputs, and the cluster's Docker with docker-env. */
export interface BuildSetupOptions extends Pick<
  Inputs,
  'builder' | 'buildCache' | 'buildCacheRef'
> {
  dockerEnv?: Record<string, string>
}

/** A name no other job on the same machine picks: run, attempt and process. */
export function builderName(env: NodeJS.ProcessEnv, pid = process.pid): string {
  const run = [env['GITHUB_RUN_ID'], env['GITHUB_RUN_ATTEMPT']].filter(Boolean).join('-')
  return `minikube-preview-${run ? `${run}-` : ''}${pid}`
}

export async function buildSetup(
  i: BuildSetupOptions,
  docker: Docker,
  log: StepLog
): Promise<BuildSetup> {
  const cache = resolveBuildCache(i.buildCache, i.buildCacheRef, process.env)
  if (cache.warning) core.warning(cache.warning)
  if (i.builder) {
    log.info(`building on the buildx builder '${i.builder}'`)
    return { cache, builder: i.builder, created: false }
  }
  if (cache.kind === 'none') return { cache, created: false }
  const name = builderName(process.env)
  try {
    // Saved before they exist: post removes a half-created builder too.
    state.saveDockerPath(docker.path)
    let endpoint: string | undefined
    if (i.dockerEnv) {
      // The builder runs in the cluster's Docker, so `--load` puts images where pods find them.
      state.saveDockerContext(name)
      await docker.createContext(name, i.dockerEnv)
      endpoint = name
    }
    state.saveBuilder(name)
    await docker.createBuilder(name, BUILDER_TIMEOUT_MS, endpoint)
    log.info(`created the docker-container builder '${name}' for the ${cache.kind} layer cache`)
    return { cache, builder: name, created: true }
  } catch (err) {
    const why = errorMessage(err)
    core.warning(
      `Could not create a buildx builder for the ${cache.kind} layer cache; building without a cache: ${why}`
    )
    return { cache: { kind: 'none' }, created: false }
  }
}
