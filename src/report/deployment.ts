// The GitHub deployment of a preview, which gives the pull request GitHub's own "View deployment"
// button: one deployment per run for the head commit, `in_progress` while it is deployed and
// verified, then `success` with the preview's URL or `failure`; every deployment of the preview
// `inactive` when it is removed. A deployment belongs to a preview by its payload (pull request,
// namespace, release), never by its environment alone, so pull requests sharing an environment
// name never touch each other's deployments. Nothing here fails a run: a refusal (no
// `deployments: write`), an outage or a timeout comes back as a warning.
import { GitHubError, ownerAndName } from './github.js'
import type { GitHub } from './github.js'

/** The key of our part of a deployment's payload. */
export const PAYLOAD_KEY = 'minikube-preview'

/** GitHub's limit on a deployment status description. */
const DESCRIPTION_LIMIT = 140

/** Pages of an environment's deployments read at most (newest first, 100 a page). */
const MAX_PAGES = 10

/** What tells one preview of the repository from another. */
export interface PreviewRef {
  /** The pull request. */
  pr: number
  namespace: string
  release: string
}

/** What a deployment's payload says under PAYLOAD_KEY. */
export type DeploymentPayload = Record<typeof PAYLOAD_KEY, PreviewRef>

export interface DeploymentTarget {
  github: GitHub
  /** `owner/name`. */
  repo: string
  /** The GitHub environment (input `environment`). */
  environment: string
}

/** GitHub did not do what was asked; the run goes on with this warning. */
export interface DeploymentProblem {
  ok: false
  /** HTTP status from GitHub; 0 when no answer came. */
  status: number
  message: string
  /** One line for `core.warning`, saying why and what to do. */
  warning: string
}

export type StartDeploymentResult =
  | {
      ok: true
      /** The deployment, for finishDeployment. */
      id: number
      /** The deployment was created but its `in_progress` status was not set. */
      warning?: string
    }
  | DeploymentProblem

export type FinishDeploymentResult = { ok: true } | DeploymentProblem

export type DeactivateResult =
  | {
      ok: true
      /** Deployments given an `inactive` status now, newest first. */
      deactivated: number[]
      /** Deployments of the preview that were inactive already. */
      alreadyInactive: number[]
    }
  | (DeploymentProblem & { deactivated: number[] })

/** The payload that marks a deployment as this preview's. */
export function deploymentPayload(preview: PreviewRef): DeploymentPayload {
  return {
    [PAYLOAD_KEY]: { pr: preview.pr, namespace: preview.namespace, release: preview.release }
  }
}

/**
 * Whether a deployment's payload (an object, or the JSON text of one, as GitHub may hand it
 * back) names this pull request's preview; `namespace` and `release` narrow it when given.
 */
export function isPreviewDeployment(
  payload: unknown,
  preview: { pr: number; namespace?: string; release?: string }
): boolean {
  let p = payload
  if (typeof p === 'string') {
    try {
      p = JSON.parse(p)
    } catch {
      return false
    }
  }
  if (!p || typeof p !== 'object') return false
  const ours = (p as Record<string, unknown>)[PAYLOAD_KEY] as Partial<PreviewRef> | undefined
  if (!ours || typeof ours !== 'object') return false
  return (
    ours.pr === preview.pr &&
    (preview.namespace === undefined || ours.namespace === preview.namespace) &&
    (preview.release === undefined || ours.release === preview.release)
  )
}

/** `url` when GitHub would take it as a link (http or https), otherwise nothing. */
function httpUrl(url: string | undefined): string | undefined {
  if (!url || !/^https?:\/\//i.test(url)) return undefined
  try {
    new URL(url)
    return url
  } catch {
    return undefined
  }
}

/** A description GitHub accepts: at most 140 characters, whole code points. */
function description(text: string): string {
  const chars = Array.from(text.replace(/\s+/g, ' ').trim())
  return chars.length <= DESCRIPTION_LIMIT
    ? chars.join('')
    : `${chars.slice(0, DESCRIPTION_LIMIT - 1).join('')}…`
}

function problem(what: string, environment: string, err: GitHubError): DeploymentProblem {
  const said = err.status
    ? `GitHub answered ${err.status}: ${err.githubMessage}`
    : err.githubMessage
  let warning: string
  if (err.status === 403 || err.status === 404) {
    warning =
      `Could not ${what} in environment '${environment}': the token needs ` +
      `\`permissions: deployments: write\` (input 'environment'; pull requests from forks get a ` +
      `read-only token). The preview itself is not affected. ${said}.`
  } else if (err.status === 401) {
    warning = `Could not ${what} in environment '${environment}': GitHub did not accept the token (input 'github-token'). ${said}.`
  } else {
    warning = `Could not ${what} in environment '${environment}': ${err.message}.`
  }
  return { ok: false, status: err.status, message: err.githubMessage, warning }
}

export interface StartDeploymentOptions extends DeploymentTarget {
  /** The head commit of the pull request: what is deployed. */
  sha: string
  preview: PreviewRef
  /** The workflow run, shown as the deployment's log. */
  logUrl?: string
}

/**
 * Creates the deployment of `sha` in the environment, for this preview, and sets it
 * `in_progress`. Transient and not production: a preview goes away. No auto-merge of the default
 * branch and no required status checks: the commit is deployed as it is.
 */
export async function startDeployment(
  opts: StartDeploymentOptions
): Promise<StartDeploymentResult> {
  const { github, environment, preview } = opts
  const where = ownerAndName(opts.repo)
  const text = description(
    `Preview of pull request #${preview.pr}: release ${preview.release} in namespace ${preview.namespace}`
  )
  let id: number
  try {
    const created = await github.call((o) =>
      o.rest.repos.createDeployment({
        ...where,
        ref: opts.sha,
        task: 'deploy',
        auto_merge: false,
        required_contexts: [],
        payload: deploymentPayload(preview) as unknown as Record<string, unknown>,
        environment,
        description: text,
        transient_environment: true,
        production_environment: false
      })
    )
    const data = created.data as { id?: unknown; message?: unknown }
    if (typeof data.id !== 'number') {
      // 202: GitHub merged the default branch instead (it cannot with auto_merge off).
      const message = typeof data.message === 'string' ? data.message : `HTTP ${created.status}`
      return problem(
        'create a deployment',
        environment,
        new GitHubError('POST', `/repos/${opts.repo}/deployments`, created.status, message)
      )
    }
    id = data.id
  } catch (err) {
    if (!(err instanceof GitHubError)) throw err
    return problem('create a deployment', environment, err)
  }
  const logUrl = httpUrl(opts.logUrl)
  try {
    await github.call((o) =>
      o.rest.repos.createDeploymentStatus({
        ...where,
        deployment_id: id,
        state: 'in_progress',
        description: description('Deploying and verifying the preview'),
        ...(logUrl ? { log_url: logUrl } : {}),
        auto_inactive: false
      })
    )
  } catch (err) {
    if (!(err instanceof GitHubError)) throw err
    return {
      ok: true,
      id,
      warning: problem('mark the deployment in progress', environment, err).warning
    }
  }
  return { ok: true, id }
}

export interface FinishDeploymentOptions extends DeploymentTarget {
  /** From startDeployment. */
  id: number
  healthy: boolean
  /** The preview's URL: the "View deployment" button. Only an http(s) URL is sent. */
  environmentUrl?: string
  logUrl?: string
  /** Why it failed, in a few words (clipped to GitHub's 140 characters). */
  reason?: string
}

/**
 * `success` with the preview's URL when the preview is healthy, `failure` otherwise. Never
 * `auto_inactive`: GitHub would otherwise mark the other previews of the environment inactive.
 */
export async function finishDeployment(
  opts: FinishDeploymentOptions
): Promise<FinishDeploymentResult> {
  const environmentUrl = opts.healthy ? httpUrl(opts.environmentUrl) : undefined
  const logUrl = httpUrl(opts.logUrl)
  const text = opts.healthy
    ? 'The preview is healthy'
    : `The preview is not healthy${opts.reason ? `: ${opts.reason}` : ''}`
  try {
    await opts.github.call((o) =>
      o.rest.repos.createDeploymentStatus({
        ...ownerAndName(opts.repo),
        deployment_id: opts.id,
        state: opts.healthy ? 'success' : 'failure',
        description: description(text),
        ...(environmentUrl ? { environment_url: environmentUrl } : {}),
        ...(logUrl ? { log_url: logUrl } : {}),
        auto_inactive: false
      })
    )
    return { ok: true }
  } catch (err) {
    if (!(err instanceof GitHubError)) throw err
    return problem(
      `mark the deployment ${opts.healthy ? 'successful' : 'failed'}`,
      opts.environment,
      err
    )
  }
}

export interface DeactivateDeploymentsOptions extends DeploymentTarget {
  /** The pull request whose preview was removed; `namespace`/`release` narrow it when given. */
  preview: { pr: number; namespace?: string; release?: string }
  /** Deployments to leave as they are (e.g. the one just made successful). */
  except?: number[]
  logUrl?: string
}

interface ListedDeployment {
  id: number
  payload?: unknown
}

/**
 * Marks every deployment of this pull request's preview in the environment `inactive` (GitHub
 * shows a transient one as destroyed); those of other pull requests, and deployments not made
 * by this action, are left alone. Deployments already inactive get no second status. Reads the
 * environment's newest 1,000 deployments.
 */
export async function deactivateDeployments(
  opts: DeactivateDeploymentsOptions
): Promise<DeactivateResult> {
  const { github, environment } = opts
  const where = ownerAndName(opts.repo)
  const except = new Set(opts.except ?? [])
  const deactivated: number[] = []
  const alreadyInactive: number[] = []
  const logUrl = httpUrl(opts.logUrl)
  try {
    let pages = 0
    const listed: ListedDeployment[] = await github.call((o) =>
      o.paginate(
        o.rest.repos.listDeployments,
        { ...where, environment, per_page: 100 },
        (page, done) => {
          if (++pages >= MAX_PAGES) done()
          return page.data as ListedDeployment[]
        }
      )
    )
    const ours = listed.filter(
      (d) => !except.has(d.id) && isPreviewDeployment(d.payload, opts.preview)
    )
    for (const d of ours) {
      const latest = await github.call((o) =>
        o.rest.repos.listDeploymentStatuses({ ...where, deployment_id: d.id, per_page: 1 })
      )
      if (latest.data[0]?.state === 'inactive') {
        alreadyInactive.push(d.id)
        continue
      }
      await github.call((o) =>
        o.rest.repos.createDeploymentStatus({
          ...where,
          deployment_id: d.id,
          state: 'inactive',
          description: description('The preview was removed'),
          ...(logUrl ? { log_url: logUrl } : {}),
          auto_inactive: false
        })
      )
      deactivated.push(d.id)
    }
    return { ok: true, deactivated, alreadyInactive }
  } catch (err) {
    if (!(err instanceof GitHubError)) throw err
    return { ...problem('mark the deployments inactive', environment, err), deactivated }
  }
}
