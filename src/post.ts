import * as core from '@actions/core'
import { existsSync, rmSync } from 'node:fs'
import { basename } from 'node:path'
import { run } from './exec.js'
import { State, load } from './state.js'
import { removeBuilderArgs, removeContextArgs } from './tools/docker.js'

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
    core.warning(
      `Could not remove the ${what} folder ${dir}: ${err instanceof Error ? err.message : String(err)}`
    )
  }
}

/** secret values removed, cache save, then cleanup per `cleanup`. Never fails the job: it only warns. */
export async function post(): Promise<void> {
  // Post reads only the state main saved; no program it starts needs the inputs.
  for (const k of Object.keys(process.env)) if (/^INPUT_/i.test(k)) delete process.env[k]
  removeSecretValues(load(State.SecretsDir))
  removeSecretValues(load(State.RepositoriesDir))
  await saveCache()
  await removeBuilder()
  const cleanup = load(State.Cleanup) || 'always'
  const status = load(State.Status) || 'error'
  if (!shouldClean(cleanup, status)) {
    core.info(`cleanup: ${cleanup} and the preview is ${status}: leaving everything in place`)
    return
  }
  if (load(State.Cluster) === 'existing') await uninstall()
  else await deleteMinikube()
}

async function saveCache(): Promise<void> {
  const key = load(State.CacheKey)
  // All of the paths restore asked for, even one that is missing: the cache's version is a hash of them.
  const paths = load(State.CachePath)
    .split('\n')
    .filter((p) => p !== '')
  if (!key || !paths.some((p) => existsSync(p)) || load(State.CacheHit) === 'true') return
  const cache = await import('@actions/cache') // loaded only when a cache is used
  if (!cache.isFeatureAvailable()) return
  try {
    await cache.saveCache(paths, key)
    core.info(`saved ${paths.join(', ')} as cache ${key}`)
  } catch (err) {
    core.warning(
      `Could not save the minikube cache: ${err instanceof Error ? err.message : String(err)}`
    )
  }
}

/** The buildx builder main created for the layer cache (never one named by `builder`), and its context. */
async function removeBuilder(): Promise<void> {
  const docker = load(State.DockerPath)
  if (!docker) return
  const remove = async (what: string, args: string[]): Promise<void> => {
    const r = await run(docker, args, { timeoutMs: 120_000, allowFailure: true }).catch(
      (err: unknown) => ({ exitCode: 1, stderr: err instanceof Error ? err.message : String(err) })
    )
    if (r.exitCode === 0) core.info(`removed the ${what}`)
    else core.warning(`Could not remove the ${what}: ${r.stderr.trim().split('\n').pop() ?? ''}`)
  }
  const name = load(State.Builder)
  if (name) await remove(`buildx builder ${name}`, removeBuilderArgs(name))
  const context = load(State.DockerContext)
  if (context) await remove(`docker context ${context}`, removeContextArgs(context))
}

async function deleteMinikube(): Promise<void> {
  const minikube = load(State.MinikubePath)
  if (!minikube || load(State.ClusterStarted) !== 'true') return
  core.startGroup('Delete the minikube cluster')
  try {
    const r = await run(minikube, ['delete'], { timeoutMs: 180_000, allowFailure: true })
    core.info(r.stdout.trim() || r.stderr.trim())
    if (r.exitCode !== 0) core.warning(`minikube delete failed with exit code ${r.exitCode}`)
  } finally {
    core.endGroup()
  }
}

/** On a shared cluster, cleanup means the release this run installed, not the cluster. */
async function uninstall(): Promise<void> {
  const helm = load(State.HelmPath)
  const release = load(State.Release)
  const namespace = load(State.Namespace)
  if (!helm || !release || load(State.Deployed) !== 'true') return
  core.startGroup(`Uninstall ${release} from ${namespace}`)
  try {
    const r = await run(
      helm,
      ['uninstall', release, '--namespace', namespace, '--timeout', '120s'],
      {
        timeoutMs: 180_000,
        allowFailure: true
      }
    )
    core.info(r.stdout.trim() || r.stderr.trim())
    if (r.exitCode !== 0)
      core.warning(`helm uninstall ${release} failed: ${r.stderr.trim().split('\n').pop() ?? ''}`)
  } finally {
    core.endGroup()
  }
}
