// The release stage: chart dependencies, rendering, `helm upgrade --install` while the hooks
// are watched, and the rollback after diagnostics when the release is not healthy.
import * as core from '@actions/core'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { dependencyRepositories, repositoryEntries } from '../deploy/repositories.js'
import { secretValuesDocument } from '../deploy/values.js'
import type { StepResult, Verdict } from '../model.js'
import { registerSecret } from '../redact.js'
import type { RunContext } from '../run.js'
import type { StepLog } from '../schedule.js'
import { state } from '../state.js'
import {
  manifestObjects,
  translateHelmArgs,
  type ImageValue,
  type RepositoryPaths,
  type ValuesOptions
} from '../tools/helm.js'
import { digestPinnedValue, pushedImage } from '../tools/registry.js'
import { previewLabels } from '../lifecycle/labels.js'
import { workloadsOf } from '../verify/health.js'
import { previewUrl, releaseLabels } from './lifecycle.js'
import { watchHooks } from '../verify/hooks.js'

/**
 * Each image at its `values` path: a pushed image (`cluster: existing`) pinned to the digest the
 * registry holds, so the cluster runs exactly what was built; otherwise the loaded `name:tag`.
 */
function imageValues(run: RunContext): ImageValue[] {
  return run.inputs.images
    .filter((i) => i.values)
    .map((i) => {
      const path = i.values as string
      const info = run.images.get(i.name)
      if (info?.pushed && info.digest)
        return digestPinnedValue(path, pushedImage(info.pushed, info.digest))
      return { path, repository: i.name, tag: run.found.imageTag }
    })
}

function values(run: RunContext, secretValuesFile?: string): ValuesOptions {
  const i = run.inputs
  return {
    valuesFiles: i.valuesFiles,
    secretValuesFile,
    set: i.set,
    setString: i.setString,
    images: imageValues(run)
  }
}

/** Secret values live in a 0600 file for exactly as long as helm needs them. */
async function withSecretValues<T>(
  run: RunContext,
  use: (file?: string) => Promise<T>
): Promise<T> {
  if (run.inputs.secretValues.length === 0) return use(undefined)
  const dir = join(run.env.runnerTemp, `minikube-preview-secrets-${process.pid}`)
  // Saved first: if this process is killed while helm runs, the post step removes the folder.
  state.saveSecretsDir(dir)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const file = join(dir, 'secret-values.yaml')
  writeFileSync(file, stringify(secretValuesDocument(run.inputs.secretValues)), { mode: 0o600 })
  try {
    return await use(file)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function fileText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/**
 * Helm refuses a Chart.lock whose repositories it was not told about, so each repository the
 * dependencies come from goes into a repository config of this run's own (never the user's),
 * then helm fills `charts/`. Repositories the user added (`@name`, credentials) are used as
 * they are.
 */
export async function buildDependencies(run: RunContext, log: StepLog): Promise<void> {
  const chart = run.found.chart as string
  const helm = run.helm(log)
  const userConfig = await helm.repositoryConfig()
  const needed = dependencyRepositories(
    fileText(join(chart, 'Chart.yaml')) ?? '',
    fileText(join(chart, 'Chart.lock')),
    repositoryEntries(userConfig ? fileText(userConfig) : undefined),
    userConfig || undefined
  )
  if (needed.problems.length > 0) throw new Error(needed.problems.join('; '))
  for (const entry of needed.reuse) {
    if (typeof entry['password'] === 'string' && entry['password'] !== '') {
      core.setSecret(entry['password'])
      registerSecret(entry['password'])
    }
  }
  const dir = join(run.env.runnerTemp, `minikube-preview-helm-repositories-${process.pid}`)
  // Saved first: if this process is killed while helm runs, the post step removes the folder.
  state.saveRepositoriesDir(dir)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const repos: RepositoryPaths = {
    config: join(dir, 'repositories.yaml'),
    cache: join(dir, 'cache'),
    skipRefresh: needed.reuse.length === 0
  }
  try {
    writeFileSync(repos.config, stringify({ apiVersion: '', repositories: needed.reuse }), {
      mode: 0o600
    })
    for (const entry of needed.reuse) {
      log.info(`chart repository '${entry.name}' (${entry.url}) as configured in ${userConfig}`)
    }
    for (const { name, url } of needed.add) {
      await helm.repoAdd(name, url, repos, 3 * 60_000)
      log.info(`chart repository ${url} added as '${name}'`)
    }
    await helm.dependencyBuild(chart, repos, 10 * 60_000)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Renders the chart to learn what it will create (an Ingress turns the ingress addon on). */
export async function render(run: RunContext, log: StepLog): Promise<void> {
  const helm = run.helm()
  const manifest = await withSecretValues(run, (file) =>
    helm.template(
      {
        ...values(run, file),
        release: run.found.release as string,
        chart: run.found.chart as string,
        namespace: run.inputs.namespace
      },
      5 * 60_000
    )
  )
  run.rendered = manifestObjects(manifest)
  const kinds = [...new Set(run.rendered.map((o) => o.kind))].sort()
  log.info(`the chart renders ${run.rendered.length} objects: ${kinds.join(', ')}`)
}

export async function deploy(run: RunContext, log: StepLog): Promise<void> {
  const i = run.inputs
  const release = run.found.release as string
  const helm = run.helm(log)
  const { note } = translateHelmArgs(i.helmArgs, run.helmMajor)
  if (note) core.warning(note)
  const labelled = releaseLabels(run)
  run.release = {
    name: release,
    namespace: i.namespace,
    chart: run.found.chartName ?? (run.found.chart as string),
    chartVersion: run.found.chartVersion,
    helmVersion: run.tools.get('helm')?.version
  }
  await withSecretValues(run, (file) =>
    upgradeWatchingHooks(run, log, (signal) =>
      helm.upgrade(
        {
          ...values(run, file),
          release,
          chart: run.found.chart as string,
          namespace: i.namespace,
          timeoutMs: i.waitTimeoutMs,
          helmArgs: i.helmArgs,
          helmMajor: run.helmMajor,
          // On a shared cluster the namespace step made it, or found one helm must not relabel.
          createNamespace: i.cluster !== 'existing',
          ...(labelled ? { labels: previewLabels(labelled) } : {})
        },
        signal
      )
    )
  )
  const [revision, manifest, hooks] = await Promise.all([
    helm.revision(release, i.namespace),
    helm.manifest(release, i.namespace),
    helm.hooks(release, i.namespace).catch(() => '')
  ])
  run.release.revision = revision
  run.hooksManifest = hooks
  run.deployed = manifestObjects(manifest)
  run.workloads = workloadsOf(run.deployed, i.namespace)
  log.info(
    `release ${release} revision ${revision} in ${i.namespace}: ${run.workloads.length} workloads to verify`
  )
  run.preview.url = previewUrl(run)
  if (run.preview.url) log.info(`the preview's URL: ${run.preview.url}`)
  state.saveDeployed()
}

/** `pre-install hook Job app-migrate`: which hook, in the words of the chart. */
function hookName(v: Verdict): string {
  return `${v.hook ?? ''} hook ${v.kind} ${v.name}`.trim()
}

/**
 * Runs `helm upgrade` while watching the release's hooks; a hook in a state that will not heal
 * stops helm at once (with fail-fast) instead of after the whole wait-timeout.
 */
async function upgradeWatchingHooks<T>(
  run: RunContext,
  log: StepLog,
  upgrade: (signal: AbortSignal) => Promise<T>
): Promise<T> {
  const stopHelm = new AbortController()
  const helmDone = new AbortController()
  const since = Date.now()
  const watching = watchHooks(run.kubectl(), run.inputs.namespace, {
    since,
    signal: helmDone.signal
  }).then((watch) => {
    if (watch.failed && run.inputs.failFast) {
      const v = watch.failed
      log.info(`${hookName(v)} will not succeed (${v.reason ?? 'failed'}): stopping helm`)
      stopHelm.abort(
        new Error(
          `the ${hookName(v)} failed: ${v.summary ?? v.reason ?? 'failed'}; helm upgrade was stopped`
        )
      )
    }
    return watch
  })
  try {
    return await upgrade(stopHelm.signal)
  } catch (err) {
    // The release's hooks go into the report, so that the table and the diagnostics show them.
    helmDone.abort()
    run.verdicts = (await watching).verdicts
    throw err
  } finally {
    helmDone.abort()
    run.hooks = (await watching).verdicts
  }
}

/** After diagnostics: back to the last good revision, or away entirely if there was none. */
export async function rollback(
  run: RunContext,
  log: StepLog,
  results: readonly StepResult[]
): Promise<void> {
  if (!run.troubled(results)) {
    log.info('the release is healthy; nothing to roll back')
    return
  }
  const release = run.found.release as string
  const helm = run.helm(log)
  const revision = run.release?.revision ?? 1
  if (revision > 1) {
    await helm.rollback(release, run.inputs.namespace, run.inputs.waitTimeoutMs)
    log.info(`rolled ${release} back from revision ${revision}`)
  } else {
    await helm.uninstall(release, run.inputs.namespace, run.inputs.waitTimeoutMs)
    log.info(`uninstalled ${release}: its first revision never became healthy`)
  }
}
