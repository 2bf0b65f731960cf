// The cache stage: minikube's downloads restored from the Actions cache (post saves them).
import * as core from '@actions/core'
import { homedir } from 'node:os'
import type { RunContext } from '../run.js'
import type { StepLog } from '../schedule.js'
import { state } from '../state.js'
import { errorMessage } from '../text.js'
import { toolArch } from '../tools/download.js'
import { containerRuntime, minikubeCachePaths, minikubeDir } from '../tools/minikube.js'

/** The minikube cache of one minikube, Kubernetes, driver, container runtime and architecture. */
export function cacheKey(run: RunContext): string {
  const i = run.inputs
  return [
    'minikube-preview',
    i.minikubeVersion,
    i.kubernetesVersion || 'default',
    i.driver,
    containerRuntime(i.imageLoad, i.startArgs),
    toolArch()
  ].join('-')
}

export async function restoreCache(run: RunContext, log: StepLog): Promise<void> {
  const paths = minikubeCachePaths(minikubeDir(process.env, homedir()))
  const key = cacheKey(run)
  state.saveCacheKey(key)
  state.saveCachePaths(paths)
  const cache = await import('@actions/cache') // loaded only when a cache is used
  if (!cache.isFeatureAvailable()) {
    core.warning(
      'The Actions cache service is not available here; minikube will download its images'
    )
    return
  }
  try {
    const hit = await cache.restoreCache(paths, key)
    state.saveCacheHit(hit === key)
    log.info(hit ? `restored ${paths.join(', ')} from cache ${hit}` : `no cache for ${key} yet`)
  } catch (err) {
    core.warning(`Could not restore the minikube cache: ${errorMessage(err)}`)
  }
}
