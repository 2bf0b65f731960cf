import * as core from '@actions/core'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import type { RunContext } from '../context.js'
import { registerSecret } from '../redact.js'
import type { StepLog } from '../runner.js'
import { State, save } from '../state.js'
import {
  Helm,
  manifestObjects,
  translateHelmArgs,
  type ImageValue,
  type RepositoryPaths,
  type ValuesOptions
} from '../tools/helm.js'
import { Kubectl } from '../tools/kubectl.js'
import type { Verdict } from '../report/model.js'
import { dependencyRepositories, repositoryEntries } from './repositories.js'
import { workloadsOf } from '../verify/health.js'
import { watchHooks } from '../verify/hooks.js'

/** `a.b.c=v` lines → a nested values document. */
export function secretValuesDocument(
  pairs: readonly { key: string; value: string }[]
): Record<string, unknown> {
  // Objects without a prototype: no key, however named, can reach Object.prototype.
  const doc: Record<string, unknown> = Object.create(null) as Record<string, unknown>
  for (const { key, value } of pairs) {
    const parts = key.split('.')
    let at = doc
    for (const p of parts.slice(0, -1)) {
      if (!Object.hasOwn(at, p) || typeof at[p] !== 'object' || at[p] === null)
        at[p] = Object.create(null) as Record<string, unknown>
      at = at[p] as Record<string, unknown>
    }
    at[parts[parts.length - 1] as string] = value
  }
  return doc
}

/** Masks every secret value at once, so no later log line can show it. */
export function maskSecrets(pairs: readonly { value: string }[]): void {
  for (const { value } of pairs) {
    core.setSecret(value)
    registerSecret(value)
  }
}

export function imageValues(ctx: RunContext): ImageValue[] {
  return ctx.inputs.images
    .filter((i) => i.values)
    .map((i) => ({ path: i.values as string, repository: i.name, tag: ctx.found.imageTag }))
}

function values(ctx: RunContext, secretValuesFile?: string): ValuesOptions {
  const i = ctx.inputs
  return {
    valuesFiles: i.valuesFiles,
    secretValuesFile,
    set: i.set,
    setString: i.setString,
    images: imageValues(ctx)
  }
}

/** Secret values live in a 0600 file for exactly as long as helm needs them. */
async function withSecretValues<T>(
  ctx: RunContext,
  use: (file?: string) => Promise<T>
): Promise<T> {
  if (ctx.inputs.secretValues.length === 0) return use(undefined)
  const dir = join(ctx.env.runnerTemp, `minikube-preview-secrets-${process.pid}`)
  // Saved first: if this process is killed while helm runs, the post step removes the folder.
  save(State.SecretsDir, dir)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const file = join(dir, 'secret-values.yaml')
  writeFileSync(file, stringify(secretValuesDocument(ctx.inputs.secretValues)), { mode: 0o600 })
  try {
    return await use(file)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export function helmFor(ctx: RunContext, log?: StepLog): Helm {
  return new Helm(ctx.tool('helm'), undefined, log)
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
export async function buildDependencies(ctx: RunContext, log: StepLog): Promise<void> {
  const chart = ctx.found.chart as string
  const helm = helmFor(ctx, log)
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
  const dir = join(ctx.env.runnerTemp, `minikube-preview-helm-repositories-${process.pid}`)
  // Saved first: if this process is killed while helm runs, the post step removes the folder.
  save(State.RepositoriesDir, dir)
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
export async function render(ctx: RunContext, log: StepLog): Promise<void> {
  const helm = helmFor(ctx)
  const manifest = await withSecretValues(ctx, (file) =>
    helm.template(
      {
        ...values(ctx, file),
        release: ctx.found.release as string,
        chart: ctx.found.chart as string,
        namespace: ctx.inputs.namespace
      },
      5 * 60_000
    )
  )
  ctx.rendered = manifestObjects(manifest)
  const kinds = [...new Set(ctx.rendered.map((o) => o.kind))].sort()
  log.info(`the chart renders ${ctx.rendered.length} objects: ${kinds.join(', ')}`)
}

export async function deploy(ctx: RunContext, log: StepLog): Promise<void> {
  const i = ctx.inputs
  const release = ctx.found.release as string
  const helm = helmFor(ctx, log)
  const { note } = translateHelmArgs(i.helmArgs, ctx.helmMajor)
  if (note) core.warning(note)
  ctx.report.release = {
    name: release,
    namespace: i.namespace,
    chart: ctx.found.chartName ?? (ctx.found.chart as string),
    chartVersion: ctx.found.chartVersion,
    helmVersion: ctx.tools.helm?.version
  }
  await withSecretValues(ctx, (file) =>
    upgradeWatchingHooks(ctx, log, (signal) =>
      helm.upgrade(
        {
          ...values(ctx, file),
          release,
          chart: ctx.found.chart as string,
          namespace: i.namespace,
          timeoutMs: i.waitTimeoutMs,
          helmArgs: i.helmArgs,
          helmMajor: ctx.helmMajor
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
  ctx.report.release.revision = revision
  ctx.hooksManifest = hooks
  ctx.workloads = workloadsOf(manifestObjects(manifest), i.namespace)
  log.info(
    `release ${release} revision ${revision} in ${i.namespace}: ${ctx.workloads.length} workloads to verify`
  )
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
  ctx: RunContext,
  log: StepLog,
  upgrade: (signal: AbortSignal) => Promise<T>
): Promise<T> {
  const stopHelm = new AbortController()
  const helmDone = new AbortController()
  const since = Date.now()
  const watching = watchHooks(new Kubectl(ctx.tool('kubectl')), ctx.inputs.namespace, {
    since,
    signal: helmDone.signal
  }).then((watch) => {
    if (watch.failed && ctx.inputs.failFast) {
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
    ctx.report.workloads = (await watching).verdicts
    throw err
  } finally {
    helmDone.abort()
    ctx.hooks = (await watching).verdicts
  }
}

/** After diagnostics: back to the last good revision, or away entirely if there was none. */
export async function rollback(ctx: RunContext, log: StepLog): Promise<void> {
  if (!ctx.troubled()) {
    log.info('the release is healthy; nothing to roll back')
    return
  }
  const release = ctx.found.release as string
  const helm = helmFor(ctx, log)
  const revision = ctx.report.release?.revision ?? 1
  if (revision > 1) {
    await helm.rollback(release, ctx.inputs.namespace, ctx.inputs.waitTimeoutMs)
    log.info(`rolled ${release} back from revision ${revision}`)
  } else {
    await helm.uninstall(release, ctx.inputs.namespace, ctx.inputs.waitTimeoutMs)
    log.info(`uninstalled ${release}: its first revision never became healthy`)
  }
}
