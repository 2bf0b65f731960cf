// The buildx builder of this run's image builds: the one named by `builder`, or one created for
// the layer cache (and removed in post), or none (plain `docker build`).
import * as core from '@actions/core'
import type { RunContext } from '../context.js'
import type { StepLog } from '../runner.js'
import { State, save } from '../state.js'
import type { Docker } from '../tools/docker.js'
import { resolveBuildCache, type BuildCache } from './cache.js'

const BUILDER_TIMEOUT_MS = 5 * 60_000

export interface BuildSetup {
  cache: BuildCache
  /** The buildx builder to build on; undefined: `docker build` on the daemon, as without a cache. */
  builder?: string
  /** Whether this run created the builder. */
  created: boolean
}

// Images build at the same time; they share one cache decision and one builder.
const setups = new WeakMap<RunContext, Promise<BuildSetup>>()

export function buildSetup(ctx: RunContext, docker: Docker, log: StepLog): Promise<BuildSetup> {
  let setup = setups.get(ctx)
  if (!setup) {
    setup = prepare(ctx, docker, log)
    setups.set(ctx, setup)
  }
  return setup
}

/** A name no other job on the same machine picks: run, attempt and process. */
export function builderName(env: NodeJS.ProcessEnv, pid = process.pid): string {
  const run = [env['GITHUB_RUN_ID'], env['GITHUB_RUN_ATTEMPT']].filter(Boolean).join('-')
  return `minikube-preview-${run ? `${run}-` : ''}${pid}`
}

async function prepare(ctx: RunContext, docker: Docker, log: StepLog): Promise<BuildSetup> {
  const i = ctx.inputs
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
    save(State.DockerPath, docker.path)
    let endpoint: string | undefined
    if (ctx.dockerEnv) {
      // The builder runs in the cluster's Docker, so `--load` puts images where pods find them.
      save(State.DockerContext, name)
      await docker.createContext(name, ctx.dockerEnv)
      endpoint = name
    }
    save(State.Builder, name)
    await docker.createBuilder(name, BUILDER_TIMEOUT_MS, endpoint)
    log.info(`created the docker-container builder '${name}' for the ${cache.kind} layer cache`)
    return { cache, builder: name, created: true }
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    core.warning(
      `Could not create a buildx builder for the ${cache.kind} layer cache; building without a cache: ${why}`
    )
    return { cache: { kind: 'none' }, created: false }
  }
}
