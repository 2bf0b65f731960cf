import * as core from '@actions/core'
import { homedir } from 'node:os'
import { ExistingCluster } from './cluster/existing.js'
import { MinikubeCluster } from './cluster/minikube.js'
import type { RunContext } from './context.js'
import { buildDependencies, deploy, helmFor, render, rollback } from './deploy/helm.js'
import { collectDiagnostics, writeDiagnosticsFile } from './diagnostics/collect.js'
import { buildImage } from './images/build.js'
import { loadImage } from './images/load.js'
import { kubectlVersionFor, type Action, type PlannedStep } from './plan.js'
import { NOT_NEEDED, type Step, type StepLog } from './runner.js'
import { State, save } from './state.js'
import { formatMs } from './exec.js'
import { installTool, toolArch, type ToolName } from './tools/download.js'
import { parseHelmVersion } from './tools/helm.js'
import { Kubectl } from './tools/kubectl.js'
import { Minikube, containerRuntime, minikubeCachePaths, minikubeDir } from './tools/minikube.js'
import { runHealthChecks } from './verify/http.js'
import { runHelmTest, shouldRunHelmTest } from './verify/helmtest.js'
import { WatchError, watchStable, watchWorkloads } from './verify/watch.js'
import { wasDeployed, type Verdict } from './report/model.js'

/** Turns the plan's steps into runnable ones bound to this run's context. */
export function bindSteps(plan: readonly PlannedStep[], ctx: RunContext): Step[] {
  return plan.map((p) => ({
    id: p.id,
    title: p.title,
    needs: p.needs,
    always: p.always,
    run: (log: StepLog) => perform(p.action, ctx, log)
  }))
}

async function perform(
  action: Action,
  ctx: RunContext,
  log: StepLog
): Promise<void | typeof NOT_NEEDED> {
  switch (action.kind) {
    case 'install':
      return install(ctx, action.tool, log)
    case 'cache-restore':
      return restoreCache(ctx, log)
    case 'cluster':
      return startCluster(ctx, log)
    case 'helm-deps':
      return buildDependencies(ctx, log)
    case 'render':
      return render(ctx, log)
    case 'addons':
      return enableAddons(ctx, log)
    case 'build':
      await buildImage(ctx, action.image, log)
      return
    case 'load':
      return loadImage(ctx, action.image, log)
    case 'deploy':
      return deploy(ctx, log)
    case 'verify':
      return verify(ctx, log)
    case 'stable':
      return stable(ctx, log)
    case 'health-checks':
      return healthChecks(ctx, log)
    case 'helm-test':
      return helmTest(ctx, log)
    case 'diagnostics':
      return diagnostics(ctx, log)
    case 'rollback':
      return rollback(ctx, log)
  }
}

function kubectl(ctx: RunContext, log?: StepLog): Kubectl {
  return new Kubectl(ctx.tool('kubectl'), undefined, log)
}

async function install(ctx: RunContext, tool: ToolName, log: StepLog): Promise<void> {
  const i = ctx.inputs
  let version: string
  let baseUrl: string
  if (tool === 'minikube') {
    version = i.minikubeVersion
    baseUrl = i.minikubeBaseUrl
  } else if (tool === 'helm') {
    version = i.helmVersion
    baseUrl = i.helmBaseUrl
  } else {
    // Known before the cluster starts, or read from the running cluster.
    version = kubectlVersionFor(i) ?? ctx.report.cluster?.kubernetesVersion ?? 'latest'
    version = version.replace(/\+.*$/, '')
    baseUrl = i.kubectlBaseUrl
  }
  await installVersion(ctx, tool, version, baseUrl, log)
}

async function installVersion(
  ctx: RunContext,
  tool: ToolName,
  version: string,
  baseUrl: string,
  log: StepLog
): Promise<void> {
  // installTool tells the log where the tool came from.
  const info = await installTool(tool, { baseUrl, version, log })
  ctx.tools[tool] = info
  ctx.report.tools = [...ctx.report.tools.filter((t) => t.name !== tool), info]
  core.setOutput(`${tool}-path`, info.path)
  if (tool === 'minikube') save(State.MinikubePath, info.path)
  if (tool === 'helm') {
    save(State.HelmPath, info.path)
    ctx.helmMajor = parseHelmVersion(info.version).major
  }
  if (tool === 'kubectl') save(State.KubectlPath, info.path)
}

/**
 * An existing cluster's version is only known once kubectl has asked it: unless
 * `kubectl-version` was given, a kubectl of the cluster's own version replaces the first one.
 */
async function matchKubectl(ctx: RunContext, serverVersion: string, log: StepLog): Promise<void> {
  const release = /^v\d+\.\d+\.\d+/.exec(serverVersion)?.[0]
  if (ctx.inputs.kubectlVersion || !release || release === ctx.tools.kubectl?.version) return
  try {
    await installVersion(ctx, 'kubectl', release, ctx.inputs.kubectlBaseUrl, log)
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    core.warning(
      `Keeping kubectl ${ctx.tools.kubectl?.version} for the cluster's ${serverVersion}: ${why}`
    )
  }
}

/** The minikube cache of one minikube, Kubernetes, driver, container runtime and architecture. */
export function cacheKey(ctx: RunContext): string {
  const i = ctx.inputs
  return [
    'minikube-preview',
    i.minikubeVersion,
    i.kubernetesVersion || 'default',
    i.driver,
    containerRuntime(i.imageLoad, i.startArgs),
    toolArch()
  ].join('-')
}

async function restoreCache(ctx: RunContext, log: StepLog): Promise<void> {
  const paths = minikubeCachePaths(minikubeDir(process.env, homedir()))
  const key = cacheKey(ctx)
  save(State.CacheKey, key)
  save(State.CachePath, paths.join('\n'))
  const cache = await import('@actions/cache') // loaded only when a cache is used
  if (!cache.isFeatureAvailable()) {
    core.warning(
      'The Actions cache service is not available here; minikube will download its images'
    )
    return
  }
  try {
    const hit = await cache.restoreCache(paths, key)
    save(State.CacheHit, hit === key)
    log.info(hit ? `restored ${paths.join(', ')} from cache ${hit}` : `no cache for ${key} yet`)
  } catch (err) {
    core.warning(
      `Could not restore the minikube cache: ${err instanceof Error ? err.message : String(err)}`
    )
  }
}

async function startCluster(ctx: RunContext, log: StepLog): Promise<void> {
  const provider = ctx.inputs.cluster === 'minikube' ? new MinikubeCluster() : new ExistingCluster()
  ctx.report.cluster = await provider.start(ctx, log)
  const version = ctx.report.cluster.kubernetesVersion
  if (ctx.inputs.cluster === 'existing' && version) await matchKubectl(ctx, version, log)
}

async function enableAddons(ctx: RunContext, log: StepLog): Promise<void> {
  const names = [...ctx.inputs.addons.names]
  if (
    ctx.inputs.addons.auto &&
    ctx.rendered?.some((o) => o.kind === 'Ingress') &&
    !names.includes('ingress')
  ) {
    log.info('the chart has an Ingress: enabling the ingress addon')
    names.push('ingress')
  }
  const minikube = new Minikube(ctx.tool('minikube'), log)
  // One at a time: minikube serialises addon changes on its profile.
  for (const name of names) await minikube.enableAddon(name, ctx.inputs.clusterTimeoutMs)
  if (ctx.report.cluster) ctx.report.cluster.addons = names
  if (names.length === 0) log.info('no addons to enable')
}

/** One line per change of the verdicts: a five-minute wait would otherwise print 150 of them. */
function pollLogger(log: StepLog): (verdicts: Verdict[]) => void {
  let last = ''
  return (verdicts) => {
    const line = verdicts
      .map((w) => `${w.kind}/${w.name} ${w.state} ${w.ready}${w.reason ? ` ${w.reason}` : ''}`)
      .join(', ')
    if (line !== last) log.info(line)
    last = line
  }
}

/** `Deployment web is not healthy: …` for the step's failure, in one sentence. */
function unhealthy(verdicts: Verdict[], how: string): Error | undefined {
  const bad = verdicts.filter((v) => v.state !== 'healthy')
  const first = bad.find((v) => v.state === 'failed') ?? bad[0]
  if (!first) return undefined
  const more = bad.length > 1 ? ` (and ${bad.length - 1} more not healthy)` : ''
  const why = first.summary ?? first.reason ?? 'not ready'
  return new Error(`${first.kind} ${first.name} ${how}: ${why}${more}`)
}

/** Waits until every workload is healthy (the rollout completed), or one will not heal. */
async function verify(ctx: RunContext, log: StepLog): Promise<void> {
  const i = ctx.inputs
  ctx.verifyDeadline = Date.now() + i.waitTimeoutMs
  ctx.report.verify = { stableForMs: i.stableForMs }
  let watched: Awaited<ReturnType<typeof watchWorkloads>>
  try {
    watched = await watchWorkloads(kubectl(ctx), i.namespace, ctx.workloads, {
      timeoutMs: i.waitTimeoutMs,
      failFast: i.failFast,
      onPoll: pollLogger(log)
    })
  } catch (err) {
    // kubectl kept failing: keep the last verdicts it could read.
    if (err instanceof WatchError) ctx.report.workloads = err.verdicts
    throw err
  }
  const { verdicts, timedOut, polls } = watched
  ctx.report.workloads = verdicts
  if (timedOut) ctx.report.verify.timedOutAfterMs = i.waitTimeoutMs
  const bad = verdicts.filter((v) => v.state !== 'healthy')
  log.info(
    `${verdicts.length - bad.length}/${verdicts.length} workloads healthy after ${polls} polls`
  )
  const failure = unhealthy(
    verdicts,
    timedOut ? `is not healthy after ${formatMs(i.waitTimeoutMs)}` : 'is not healthy'
  )
  if (failure) throw failure
  ctx.completed = watched.state
}

/** The `stable-for` window: every workload must stay healthy that long. */
async function stable(ctx: RunContext, log: StepLog): Promise<void | typeof NOT_NEEDED> {
  const i = ctx.inputs
  if (ctx.workloads.length === 0) {
    log.info('the release has no workloads to watch')
    return NOT_NEEDED
  }
  let watched: Awaited<ReturnType<typeof watchStable>>
  try {
    watched = await watchStable(kubectl(ctx), i.namespace, ctx.workloads, {
      stableForMs: i.stableForMs,
      completed: ctx.completed ?? { items: [] },
      healthy: ctx.report.workloads,
      onPoll: pollLogger(log)
    })
  } catch (err) {
    if (err instanceof WatchError && err.verdicts.length > 0) ctx.report.workloads = err.verdicts
    throw err
  }
  ctx.report.workloads = watched.verdicts
  if (ctx.report.verify) ctx.report.verify.healthyForMs = watched.healthyForMs
  const failure = unhealthy(watched.verdicts, 'did not stay healthy')
  if (failure) {
    // Checks still retrying against it would only wait out their deadline.
    ctx.unstable.abort(failure)
    throw failure
  }
  log.info(`every workload stayed healthy for ${formatMs(watched.healthyForMs)}`)
}

async function healthChecks(ctx: RunContext, log: StepLog): Promise<void> {
  const deadline = Math.max(ctx.verifyDeadline ?? 0, Date.now() + 30_000)
  const results = await runHealthChecks(ctx.inputs.healthChecks, {
    kubectl: kubectl(ctx),
    namespace: ctx.inputs.namespace,
    release: ctx.found.release as string,
    clusterIp: ctx.clusterIp,
    deadline,
    signal: ctx.unstable.signal,
    log
  })
  ctx.report.healthChecks = results
  const failed = results.filter((r) => !r.ok)
  if (failed.length > 0) {
    throw new Error(failed.map((f) => `${f.label}: ${f.error ?? `status ${f.status}`}`).join('; '))
  }
}

async function helmTest(ctx: RunContext, log: StepLog): Promise<void | typeof NOT_NEEDED> {
  if (!shouldRunHelmTest(ctx.inputs.helmTest, ctx.hooksManifest)) {
    // Not a step of this run at all: the report shows no "Helm test" that did nothing.
    log.info('the chart has no test hooks; helm test is not run')
    return NOT_NEEDED
  }
  const result = await runHelmTest({
    helm: helmFor(ctx, log),
    kubectl: kubectl(ctx),
    release: ctx.found.release as string,
    namespace: ctx.inputs.namespace,
    timeoutMs: ctx.inputs.waitTimeoutMs,
    hooksManifest: ctx.hooksManifest,
    signal: ctx.unstable.signal
  })
  ctx.report.helmTest = result
  if (!result.passed) throw new Error(result.message ?? 'helm test failed')
}

async function diagnostics(ctx: RunContext, log: StepLog): Promise<void> {
  if (!ctx.troubled()) {
    log.info('nothing failed; no diagnostics needed')
    return
  }
  // helm status and history tell the most when the release did not deploy: ask once helm ran.
  const helmRan = ctx.report.steps.some((s) => s.id === 'deploy' && s.startedAt !== undefined)
  // The hooks' pods: all of them when helm failed, otherwise those that are not healthy.
  const hookPods = wasDeployed(ctx.report)
    ? ctx.hooks.flatMap((h) => h.unhealthyPods)
    : ctx.hooks.flatMap((h) => h.pods)
  const sections = await collectDiagnostics({
    kubectl: ctx.tools.kubectl && ctx.report.cluster ? kubectl(ctx) : undefined,
    helm: helmRan && ctx.tools.helm ? helmFor(ctx) : undefined,
    minikube: ctx.tools.minikube ? new Minikube(ctx.tool('minikube')) : undefined,
    namespace: ctx.inputs.namespace,
    release: helmRan ? ctx.found.release : undefined,
    unhealthyPods: [...ctx.report.workloads.flatMap((w) => w.unhealthyPods), ...hookPods],
    deadline: Date.now() + 90_000
  })
  const file = writeDiagnosticsFile(sections, ctx.env.outDir)
  ctx.report.diagnostics = { sections, file }
  for (const s of sections) log.info(`── ${s.title} ──\n${s.body}`)
}
