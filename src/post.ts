// The post step: secret files removed, cache saved, then cleanup per `cleanup`, reusing the tool wrappers.
import * as core from '@actions/core'
import { existsSync, rmSync } from 'node:fs'
import { basename } from 'node:path'
import type { RunResult } from './exec.js'
import { state } from './state.js'
import { logoutFromRegistry } from './images/push.js'
import { Docker } from './tools/docker.js'
import { Helm } from './tools/helm.js'
import { Minikube } from './tools/minikube.js'
import { errorMessage } from './text.js'

/** Whether the post step removes what main created. */
export function shouldClean(cleanup: string, status: string): boolean {
  if (cleanup === 'never') return false
  if (cleanup === 'on-success') return status === 'healthy'
  return true
}

/**
 * The secret values file or the run's helm repository config (which may hold a copied
 * password), if main left them behind (killed or cancelled while helm ran): removed whatever
 * `cleanup` says, before anything else.
 */
export function removeSecretValues(dir: string): void {
  // Only a folder of ours: the state file is written by main, but never trust a path blindly.
  const ours = /^minikube-preview-(secrets|helm-repositories)-\d+$/.exec(basename(dir))
  if (!dir || !ours || !existsSync(dir)) return
  const what = ours[1] === 'secrets' ? 'secret values file' : 'helm repository config'
  try {
    rmSync(dir, { recursive: true, force: true })
    core.info(`removed the ${what} main left behind`)
  } catch (err) {
    core.warning(`Could not remove the ${what} folder ${dir}: ${errorMessage(err)}`)
  }
}

/** secret values removed, cache save, then cleanup per `cleanup`. Never fails the job: it only warns. */
export async function post(): Promise<void> {
  // Post reads only the state main saved; no program it starts needs the inputs.
  for (const k of Object.keys(process.env)) if (/^INPUT_/i.test(k)) delete process.env[k]
  removeSecretValues(state.secretsDir())
  removeSecretValues(state.repositoriesDir())
  await saveCache()
  await removeBuilder()
  await logout()
  const cleanup = state.cleanup() || 'always'
  const status = state.status() || 'error'
  if (!shouldClean(cleanup, status)) {
    core.info(`cleanup: ${cleanup} and the preview is ${status}: leaving everything in place`)
    return
  }
  if (state.cluster() === 'existing') await uninstall()
  else await deleteMinikube()
}

async function saveCache(): Promise<void> {
  const key = state.cacheKey()
  // All of the paths restore asked for, even one that is missing: the cache's version is a hash of them.
  const paths = state.cachePaths()
  if (!key || !paths.some((p) => existsSync(p)) || state.cacheHit()) return
  const cache = await import('@actions/cache') // loaded only when a cache is used
  if (!cache.isFeatureAvailable()) return
  try {
    await cache.saveCache(paths, key)
    core.info(`saved ${paths.join(', ')} as cache ${key}`)
  } catch (err) {
    core.warning(`Could not save the minikube cache: ${errorMessage(err)}`)
  }
}

/** The buildx builder main created for the layer cache (never one named by `builder`), and its context. */
async function removeBuilder(): Promise<void> {
  const path = state.dockerPath()
  if (!path) return
  const docker = new Docker(path, process.env)
  const remove = async (what: string, removal: Promise<RunResult>): Promise<void> => {
    const r = await removal.catch((err: unknown) => ({ exitCode: 1, stderr: errorMessage(err) }))
    if (r.exitCode === 0) core.info(`removed the ${what}`)
    else core.warning(`Could not remove the ${what}: ${r.stderr.trim().split('\n').pop() ?? ''}`)
  }
  const name = state.builder()
  if (name) await remove(`buildx builder ${name}`, docker.removeBuilder(name))
  const context = state.dockerContext()
  if (context) await remove(`docker context ${context}`, docker.removeContext(context))
}

/** Out of the registry main logged in to, whatever the verdict: a failure is a warning. */
async function logout(): Promise<void> {
  const path = state.dockerPath()
  const host = state.registryHost()
  if (!path || !host) return
  const problem = await logoutFromRegistry(new Docker(path, process.env), host)
  if (problem) core.warning(problem)
  else core.info(`logged out of the registry ${host}`)
}

async function deleteMinikube(): Promise<void> {
  const path = state.minikubePath()
  if (!path || !state.clusterStarted()) return
  core.startGroup('Delete the minikube cluster')
  try {
    const r = await new Minikube(path).delete(180_000)
    core.info(r.stdout.trim() || r.stderr.trim())
  } catch (err) {
    core.warning(`minikube delete failed: ${errorMessage(err)}`)
  } finally {
    core.endGroup()
  }
}

/** On a shared cluster, cleanup means the release this run installed, not the cluster. */
async function uninstall(): Promise<void> {
  const path = state.helmPath()
  const release = state.release()
  const namespace = state.namespace()
  if (!path || !release || !state.deployed()) return
  core.startGroup(`Uninstall ${release} from ${namespace}`)
  try {
    const r = await new Helm(path).uninstall(release, namespace, 120_000)
    core.info(r.stdout.trim() || r.stderr.trim())
  } catch (err) {
    core.warning(`helm uninstall ${release} failed: ${errorMessage(err)}`)
  } finally {
    core.endGroup()
  }
}
