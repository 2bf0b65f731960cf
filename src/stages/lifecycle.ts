// The lifecycle stage: a preview's namespace, its URL check and GitHub deployment, its teardown
// when the pull request closes, and the sweep of expired and closed previews.
import * as core from '@actions/core'
import { defaultCommentHeader } from '../discover.js'
import { expiresAt, type PreviewFacts } from '../lifecycle/labels.js'
import { ensureNamespace } from '../lifecycle/namespace.js'
import { decideSweep, listPreviews, removePreviews, type SweepEntry } from '../lifecycle/sweep.js'
import { teardown } from '../lifecycle/teardown.js'
import { ingressUrl, renderUrl } from '../lifecycle/url.js'
import type { StepResult, SweptPreview } from '../model.js'
import {
  deactivateDeployments,
  finishDeployment,
  startDeployment,
  type DeploymentTarget
} from '../report/deployment.js'
import { markPreviewRemoved } from '../report/comment.js'
import { describeSwept } from '../report/markdown.js'
import { pullRequestStates } from '../report/github.js'
import type { RunContext } from '../run.js'
import { NOT_NEEDED, type StepLog } from '../schedule.js'
import { formatMs } from '../text.js'
import { supportsReleaseLabels } from '../tools/helm.js'
import { runHealthChecks } from '../verify/http.js'

const TEARDOWN_TIMEOUT_MS = 5 * 60_000

/**
 * What labels a preview: the repository, pull request, head commit and expiry, renewed from the
 * start of this run, so that the namespace and the release carry the same one.
 */
export function previewFacts(run: RunContext): PreviewFacts {
  return {
    repository: run.facts.repository ?? '',
    pullRequest: run.facts.pullRequest,
    sha: run.facts.commit,
    expiresAt: expiresAt(run.startedAt, run.inputs.ttlMs)
  }
}

/** The release's labels, when its helm can carry them (3.13 and later) and the cluster is shared. */
export function releaseLabels(run: RunContext): PreviewFacts | undefined {
  const version = run.tools.get('helm')?.version ?? ''
  if (run.inputs.cluster !== 'existing' || !supportsReleaseLabels(version)) return undefined
  return previewFacts(run)
}

/** The namespace of a preview on a shared cluster: made and labelled as ours, or used as found. */
export async function prepareNamespace(run: RunContext, log: StepLog): Promise<void> {
  const namespace = run.inputs.namespace
  const facts = previewFacts(run)
  const state = await ensureNamespace(run.kubectl(log), {
    namespace,
    release: run.found.release as string,
    facts
  })
  run.preview.namespace = namespace
  run.preview.namespaceCreated = state.ours
  if (facts.expiresAt !== undefined) run.preview.expiresAt = facts.expiresAt * 1000
  log.info(
    state.created
      ? `created namespace ${namespace}, labelled as this repository's preview`
      : state.ours
        ? `namespace ${namespace} is this repository's preview: labels renewed`
        : `namespace ${namespace} exists and was not created by minikube-preview: used as it is, never deleted`
  )
  if (facts.expiresAt !== undefined)
    log.info(`the preview expires ${new Date(facts.expiresAt * 1000).toISOString()}`)
}

/**
 * The preview's URL: the `url` template, or else on a shared cluster the first host of the
 * release's Ingress. Undefined when there is neither.
 */
export function previewUrl(run: RunContext): string | undefined {
  const i = run.inputs
  if (i.url) {
    return renderUrl(i.url, {
      number: run.facts.pullRequest !== undefined ? String(run.facts.pullRequest) : '',
      branch: run.facts.branch ?? '',
      sha: run.facts.commit ?? '',
      namespace: i.namespace,
      release: run.found.release ?? ''
    })
  }
  if (i.cluster !== 'existing') return undefined
  return ingressUrl(run.deployed ?? [])
}

/** The preview's URL must answer (2xx or 3xx) for the preview to be healthy. */
export async function urlCheck(run: RunContext, log: StepLog): Promise<void | typeof NOT_NEEDED> {
  const url = run.preview.url
  if (!url) {
    log.info('no url template and no Ingress host: there is no URL to check')
    return NOT_NEEDED
  }
  const deadline = Math.max(run.verifyDeadline ?? 0, Date.now() + 30_000)
  const [result] = await runHealthChecks([{ label: 'url', url, path: '', expectStatus: 200 }], {
    kubectl: run.kubectl(log),
    namespace: run.inputs.namespace,
    release: run.found.release as string,
    deadline,
    signal: run.unstable.signal,
    log
  })
  if (!result) return
  run.healthChecks.push(result)
  if (!result.ok)
    throw new Error(`the preview URL ${url}: ${result.error ?? `status ${result.status}`}`)
}

function target(run: RunContext): DeploymentTarget | undefined {
  const github = run.github()
  const repo = run.facts.repository
  if (!github || !repo) return undefined
  return { github, repo, environment: run.inputs.environment }
}

/** A GitHub deployment of the head commit, `in_progress` until the preview is judged. */
export async function beginDeployment(
  run: RunContext,
  log: StepLog
): Promise<void | typeof NOT_NEEDED> {
  const t = target(run)
  const pr = run.facts.pullRequest
  const sha = run.facts.commit
  if (!t || pr === undefined || !sha) {
    const why = !t ? `input 'github-token' is empty` : 'this run is not for a pull request'
    log.info(`no GitHub deployment: ${why}`)
    return NOT_NEEDED
  }
  run.preview.environment = t.environment
  const started = await startDeployment({
    ...t,
    sha,
    preview: { pr, namespace: run.inputs.namespace, release: run.found.release as string },
    logUrl: run.facts.runUrl
  })
  if (started.warning) core.warning(started.warning)
  if (!started.ok) return
  run.preview.deploymentId = started.id
  log.info(`deployment ${started.id} in environment ${t.environment}: in progress`)
}

/** `success` with the URL when every step so far succeeded and the release is healthy, else `failure`. */
export async function endDeployment(
  run: RunContext,
  log: StepLog,
  results: readonly StepResult[]
): Promise<void | typeof NOT_NEEDED> {
  const t = target(run)
  const id = run.preview.deploymentId
  if (!t || id === undefined) return NOT_NEEDED
  // A skipped step always follows a failed one, which troubled() counts.
  const healthy = !run.troubled(results)
  const failed = results.find((r) => r.status === 'failure')
  const finished = await finishDeployment({
    ...t,
    id,
    healthy,
    environmentUrl: run.preview.url,
    logUrl: run.facts.runUrl,
    reason: failed ? `${failed.title} failed` : undefined
  })
  if (!finished.ok) {
    core.warning(finished.warning)
    return
  }
  log.info(`deployment ${id}: ${healthy ? 'success' : 'failure'}`)
}

/** A closed pull request: its release, and its namespace when the action created it, go. */
export async function teardownPreview(run: RunContext, log: StepLog): Promise<void> {
  const namespace = run.inputs.namespace
  const removal = await teardown(run.helm(log), run.kubectl(log), {
    release: run.found.release,
    namespace,
    repository: run.facts.repository ?? '',
    timeoutMs: TEARDOWN_TIMEOUT_MS
  })
  run.preview.namespace = namespace
  run.preview.removed = removal.removed
  run.preview.left = removal.left
  for (const r of removal.removed) log.info(`removed ${r}`)
  for (const l of removal.left) log.info(`left ${l}`)
}

/** The closed pull request's deployments, marked inactive. */
export async function deactivate(run: RunContext, log: StepLog): Promise<void | typeof NOT_NEEDED> {
  const t = target(run)
  const pr = run.facts.pullRequest
  if (!t || pr === undefined) return NOT_NEEDED
  run.preview.environment = t.environment
  await markInactive(run, log, t, {
    pr,
    namespace: run.inputs.namespace,
    release: run.found.release
  })
}

/**
 * A removed preview's deployments, marked inactive; how many goes to the log and to `removed`
 * (`of` names the pull request when a sweep tells several). GitHub's refusal is a warning.
 */
async function markInactive(
  run: RunContext,
  log: StepLog,
  t: DeploymentTarget,
  preview: { pr: number; namespace: string; release?: string },
  of = ''
): Promise<void> {
  const result = await deactivateDeployments({ ...t, preview, logUrl: run.facts.runUrl })
  if (!result.ok) {
    core.warning(result.warning)
    return
  }
  const ids = result.deactivated
  log.info(
    ids.length > 0
      ? `marked ${ids.length} deployment(s)${of} inactive: ${ids.join(', ')}`
      : `no active deployment of this preview${of}`
  )
  if (ids.length > 0) (run.preview.removed ??= []).push(`${ids.length} GitHub deployment(s)${of}`)
}

function swept(entries: readonly SweepEntry[]): SweptPreview[] {
  return entries.map(({ preview: p, reason }) => ({
    namespace: p.namespace,
    release: p.release,
    pr: p.pullRequest,
    reason
  }))
}

/**
 * `mode: sweep`: every preview of this repository on the cluster whose expiry has passed or
 * whose pull request is closed is removed; the rest are kept, each with the reason.
 */
export async function sweep(run: RunContext, log: StepLog): Promise<void> {
  const repository = run.facts.repository
  if (!repository) throw new Error('the repository is not known (GITHUB_REPOSITORY is empty)')
  const helm = run.helm(log)
  const kubectl = run.kubectl(log)
  const previews = await listPreviews(kubectl, helm, repository)
  log.info(`${previews.length} preview(s) of ${repository} on the cluster`)
  const github = run.github()
  const numbers = previews.flatMap((p) => (p.pullRequest === undefined ? [] : [p.pullRequest]))
  const states =
    github && numbers.length > 0 ? await pullRequestStates(github, repository, numbers) : undefined
  if (!github && numbers.length > 0)
    core.warning(
      `input 'github-token' is empty: closed pull requests cannot be told, only expiry is`
    )
  for (const s of states?.values() ?? []) if (s.state === 'unknown') core.warning(s.warning)
  const decision = decideSweep(previews, (n) => states?.get(n)?.state ?? 'unknown', Date.now())
  run.preview.swept = swept(decision.remove)
  run.preview.kept = swept(decision.keep)
  const removal = await removePreviews(helm, kubectl, decision, {
    repository,
    timeoutMs: TEARDOWN_TIMEOUT_MS
  })
  run.preview.removed = removal.removed
  run.preview.left = removal.left
  for (const e of run.preview.swept) log.info(`remove ${describeSwept(e)}`)
  for (const e of run.preview.kept) log.info(`keep ${describeSwept(e)}`)
  await tellPullRequests(run, log, removal.gone)
  const failed = removal.failed
  log.info(
    `removed ${decision.remove.length}, kept ${decision.keep.length} in ${formatMs(Date.now() - run.startedAt)}`
  )
  if (failed.length > 0) throw new Error(`some previews could not be removed: ${failed.join('; ')}`)
}

/**
 * The pull requests of the swept previews, as on close: their comment (the one with this run's
 * `comment-header`, or the preview's default header) now says the preview was removed, when and
 * why, and with `environment` set their deployments are marked inactive. A preview with no pull
 * request recorded has neither. Best effort: GitHub's refusals are warnings.
 */
async function tellPullRequests(
  run: RunContext,
  log: StepLog,
  gone: readonly SweepEntry[]
): Promise<void> {
  const t = target(run)
  if (!t) return
  const { github, repo } = t
  const i = run.inputs
  const removedAt = new Date()
  for (const { preview: p, cause } of gone) {
    const pr = p.pullRequest
    if (pr === undefined) continue
    if (i.comment !== 'never') {
      const result = await markPreviewRemoved({
        token: i.githubToken,
        github,
        repo,
        pr,
        header: i.commentHeader || defaultCommentHeader(p.release, p.namespace),
        removedAt,
        reason: cause ?? 'closed',
        release: p.release,
        namespace: p.namespace,
        runUrl: run.facts.runUrl
      })
      if (!result.ok) core.warning(result.warning)
      else if (result.action !== 'none') {
        log.info(`the comment on pull request #${pr} now says the preview was removed`)
        ;(run.preview.removed ??= []).push(`the comment on pull request #${pr}, rewritten`)
      }
    }
    if (i.environment !== '')
      await markInactive(
        run,
        log,
        t,
        { pr, namespace: p.namespace, release: p.release },
        ` of pull request #${pr}`
      )
  }
}
