// The verify stage: the rollout watched to completion, the stable-for window, the HTTP health
// checks and helm test, the last three at once once the rollout has completed.
import type { Verdict } from '../model.js'
import type { RunContext } from '../run.js'
import { NOT_NEEDED, type StepLog } from '../schedule.js'
import { formatMs } from '../text.js'
import { runHealthChecks } from '../verify/http.js'
import { runHelmTest, shouldRunHelmTest } from '../verify/helmtest.js'
import { WatchError, watchStable, watchWorkloads } from '../verify/watch.js'

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
export async function verify(run: RunContext, log: StepLog): Promise<void> {
  const i = run.inputs
  run.verifyDeadline = Date.now() + i.waitTimeoutMs
  run.verify = { stableForMs: i.stableForMs }
  let watched: Awaited<ReturnType<typeof watchWorkloads>>
  try {
    watched = await watchWorkloads(run.kubectl(), i.namespace, run.workloads, {
      timeoutMs: i.waitTimeoutMs,
      failFast: i.failFast,
      onPoll: pollLogger(log)
    })
  } catch (err) {
    // kubectl kept failing: keep the last verdicts it could read.
    if (err instanceof WatchError) run.verdicts = err.verdicts
    throw err
  }
  const { verdicts, timedOut, polls } = watched
  run.verdicts = verdicts
  if (timedOut) run.verify.timedOutAfterMs = i.waitTimeoutMs
  const bad = verdicts.filter((v) => v.state !== 'healthy')
  log.info(
    `${verdicts.length - bad.length}/${verdicts.length} workloads healthy after ${polls} polls`
  )
  const failure = unhealthy(
    verdicts,
    timedOut ? `is not healthy after ${formatMs(i.waitTimeoutMs)}` : 'is not healthy'
  )
  if (failure) throw failure
  run.completed = watched.state
}

/** The `stable-for` window: every workload must stay healthy that long. */
export async function stable(run: RunContext, log: StepLog): Promise<void | typeof NOT_NEEDED> {
  const i = run.inputs
  if (run.workloads.length === 0) {
    log.info('the release has no workloads to watch')
    return NOT_NEEDED
  }
  let watched: Awaited<ReturnType<typeof watchStable>>
  try {
    watched = await watchStable(run.kubectl(), i.namespace, run.workloads, {
      stableForMs: i.stableForMs,
      completed: run.completed ?? { items: [] },
      healthy: run.verdicts,
      onPoll: pollLogger(log)
    })
  } catch (err) {
    if (err instanceof WatchError && err.verdicts.length > 0) run.verdicts = err.verdicts
    throw err
  }
  run.verdicts = watched.verdicts
  if (run.verify) run.verify.healthyForMs = watched.healthyForMs
  const failure = unhealthy(watched.verdicts, 'did not stay healthy')
  if (failure) {
    // Checks still retrying against it would only wait out their deadline.
    run.unstable.abort(failure)
    throw failure
  }
  log.info(`every workload stayed healthy for ${formatMs(watched.healthyForMs)}`)
}

export async function healthChecks(run: RunContext, log: StepLog): Promise<void> {
  const deadline = Math.max(run.verifyDeadline ?? 0, Date.now() + 30_000)
  const results = await runHealthChecks(run.inputs.healthChecks, {
    kubectl: run.kubectl(),
    namespace: run.inputs.namespace,
    release: run.found.release as string,
    clusterIp: run.cluster?.ip,
    deadline,
    signal: run.unstable.signal,
    log
  })
  run.healthChecks = results
  const failed = results.filter((r) => !r.ok)
  if (failed.length > 0) {
    throw new Error(failed.map((f) => `${f.label}: ${f.error ?? `status ${f.status}`}`).join('; '))
  }
}

export async function helmTest(run: RunContext, log: StepLog): Promise<void | typeof NOT_NEEDED> {
  if (!shouldRunHelmTest(run.inputs.helmTest, run.hooksManifest)) {
    // Not a step of this run at all: the report shows no "Helm test" that did nothing.
    log.info('the chart has no test hooks; helm test is not run')
    return NOT_NEEDED
  }
  const result = await runHelmTest({
    helm: run.helm(log),
    kubectl: run.kubectl(),
    release: run.found.release as string,
    namespace: run.inputs.namespace,
    timeoutMs: run.inputs.waitTimeoutMs,
    hooksManifest: run.hooksManifest,
    signal: run.unstable.signal
  })
  run.helmTest = result
  if (!result.passed) throw new Error(result.message ?? 'helm test failed')
}
