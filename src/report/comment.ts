// Exactly one pull-request comment per header: found again by its first line, which is the
// hidden marker of the header, and by its author, the token's own identity; updated in place,
// created only when there is none.
import { GitHub, GitHubError, ownerAndName } from './github.js'
import type { GitHubOptions } from './github.js'
import { commentMarker } from './markdown.js'
import { isPullRequestEvent, type Status } from '../model.js'
import { codeSpan, inline, neutraliseMarkers, urlText } from './untrusted.js'

export { commentMarker }

export type CommentMode = 'auto' | 'always' | 'never' | 'on-failure'

/** Pages of comments read at most (10,000 comments): beyond that, no comment is touched. */
const MAX_PAGES = 100

/**
 * Whether to comment: `auto` on pull_request and pull_request_target events, `always` on the PR
 * of the commit whatever the event, `on-failure` when the run is not healthy, `never` never.
 * There must be a PR to comment on.
 */
export function decideComment(
  mode: CommentMode,
  event: string,
  status: Status,
  prNumber?: number
): boolean {
  if (prNumber === undefined || !Number.isInteger(prNumber) || prNumber <= 0) return false
  switch (mode) {
    case 'auto':
      return isPullRequestEvent(event)
    case 'always':
      return true
    case 'on-failure':
      return status !== 'healthy'
    case 'never':
      return false
  }
}

export interface FindPullRequestOptions {
  mode: CommentMode
  /** GITHUB_EVENT_NAME. */
  event: string
  /** The PR the event's payload names (`prFromPayload`), read once with the run's facts. */
  eventPr?: number
  /** `owner/name`, for the commit lookup. */
  repo?: string
  /** The commit, for the commit lookup. */
  sha?: string
  /** Needed for the commit lookup only. */
  github?: GitHub
}

export interface PullRequestLookup {
  pr?: number
  /** Where the number came from. */
  source: 'event' | 'commit' | 'none'
  /** The commit lookup failed: say so, do not fail the run. */
  warning?: string
}

/** The PR number in a webhook payload (pull_request events, or a comment on a PR). */
export function prFromPayload(payload: unknown): number | undefined {
  const p = payload as {
    pull_request?: { number?: unknown }
    issue?: { number?: unknown; pull_request?: unknown }
  }
  const n = p?.pull_request?.number ?? (p?.issue?.pull_request ? p.issue.number : undefined)
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined
}

/**
 * The PR to report to: from the event payload, or, for `always` and `on-failure` on other events
 * (a push), the first open PR that contains the commit (`GET /repos/{o}/{r}/commits/{sha}/pulls`).
 */
export async function findPullRequest(opts: FindPullRequestOptions): Promise<PullRequestLookup> {
  if (opts.mode === 'never') return { source: 'none' }
  if (opts.eventPr !== undefined) return { pr: opts.eventPr, source: 'event' }
  if (opts.mode === 'auto' || !opts.github || !opts.repo || !opts.sha) return { source: 'none' }
  const sha = opts.sha
  try {
    const pulls = await opts.github.call((o) =>
      o.rest.repos.listPullRequestsAssociatedWithCommit({
        ...ownerAndName(opts.repo as string),
        commit_sha: sha,
        per_page: 100
      })
    )
    const open = (Array.isArray(pulls.data) ? pulls.data : []).find((p) => p.state === 'open')
    return open ? { pr: open.number, source: 'commit' } : { source: 'none' }
  } catch (err) {
    if (!(err instanceof GitHubError)) throw err
    return {
      source: 'none',
      warning: `Could not look up the pull request of commit ${opts.sha.slice(0, 7)}: ${err.message}`
    }
  }
}

export interface UpsertCommentOptions extends Partial<Omit<GitHubOptions, 'token'>> {
  token: string
  /** `owner/name`. */
  repo: string
  pr: number
  header: string
  /**
   * The comment; the marker of `header` is put first if it is not its first line already. Any
   * other `<!--` in it is broken up, so that no line but the first can pass for a marker.
   */
  body: string
  /** When false, only an existing comment is updated (e.g. `on-failure` after a fix). Default true. */
  create?: boolean
  /** A client to use instead of one made from the options above. */
  github?: GitHub
}

export type CommentResult =
  | {
      ok: true
      action: 'created' | 'updated'
      id: number
      url: string
      /** Our own older comments for the same header, removed so that one remains. */
      removed: number
    }
  | { ok: true; action: 'none' }
  | {
      ok: false
      /** HTTP status from GitHub; 0 when no answer came. */
      status: number
      message: string
      /** One line for `core.warning`, saying why and what to do. */
      warning: string
    }

interface IssueComment {
  id: number
  body?: string
  html_url: string
  user?: { login?: string; type?: string } | null
}

/** The Actions token's identity, should GraphQL not answer. */
const ACTIONS_LOGIN = 'github-actions[bot]'

/**
 * The login the token acts as: GraphQL `viewer`, else `GET /user` (a personal token). Only an
 * installation token (`ghs_`, as the Actions token is), which `/user` refuses, is then taken
 * for the Actions bot; anything else stays unknown, and nothing is touched.
 */
async function whoAmI(github: GitHub, token: string): Promise<string | undefined> {
  const tolerated = (err: unknown): void => {
    if (!(err instanceof GitHubError) || err.status === 401) throw err
  }
  try {
    return await github.viewerLogin()
  } catch (err) {
    tolerated(err)
  }
  try {
    const me = await github.call((o) => o.rest.users.getAuthenticated())
    const login: unknown = me.data?.login
    if (typeof login === 'string' && login) return login
  } catch (err) {
    tolerated(err)
  }
  return token.startsWith('ghs_') ? ACTIONS_LOGIN : undefined
}

/** The first line of a comment, as GitHub may give it back with CRLF line endings. */
function firstLine(body: string): string {
  const nl = body.indexOf('\n')
  return (nl < 0 ? body : body.slice(0, nl)).replace(/\r$/, '')
}

/**
 * Ours: the first line is exactly the marker of this header, and the token's identity wrote
 * it. A marker anywhere else (a pod log that printed one, a quote, another leg's header) does
 * not make a comment ours.
 */
export function isOurComment(
  comment: { body?: string; user?: { login?: string } | null },
  marker: string,
  viewer: string
): boolean {
  return (
    typeof comment.body === 'string' &&
    firstLine(comment.body) === marker &&
    isAuthor(comment, viewer)
  )
}

function isAuthor(comment: { user?: { login?: string } | null }, viewer: string): boolean {
  const login = comment.user?.login
  if (!login) return false
  // REST names an app `<slug>[bot]`; accept the bare slug too, in case `viewer` gave that.
  return login === viewer || login === `${viewer}[bot]`
}

function warningFor(pr: number, err: GitHubError): string {
  const said = err.status
    ? `GitHub answered ${err.status}: ${err.githubMessage}`
    : err.githubMessage
  if (err.status === 403 || err.status === 404) {
    return (
      `Could not comment on PR #${pr}: the token may not write to pull requests ` +
      `(pull requests from forks get a read-only token). Grant \`permissions: pull-requests: write\` ` +
      `to the job, or set \`comment: never\`. ${said}.`
    )
  }
  if (err.status === 401) {
    return `Could not comment on PR #${pr}: GitHub did not accept the token (input 'github-token'). ${said}.`
  }
  return `Could not comment on PR #${pr}: ${err.message}.`
}

/**
 * Creates or updates our comment for `header` on the PR: the one whose first line is the
 * header's marker and that the token's own identity wrote, searched across every page. No
 * other comment is ever edited or deleted, whatever it contains. Never throws for an answer
 * from GitHub: a refusal (a fork's read-only token, missing `pull-requests: write`), an outage or
 * a timeout comes back as `{ ok: false, warning }`, for the caller to warn and go on.
 */
export async function upsertComment(opts: UpsertCommentOptions): Promise<CommentResult> {
  const github =
    opts.github ??
    new GitHub({
      token: opts.token,
      apiUrl: opts.apiUrl,
      graphqlUrl: opts.graphqlUrl,
      timeoutMs: opts.timeoutMs,
      retries: opts.retries,
      retryAfterMs: opts.retryAfterMs,
      env: opts.env
    })
  const marker = commentMarker(opts.header)
  const nl = opts.body.indexOf('\n')
  const given =
    firstLine(opts.body) === marker ? (nl < 0 ? '' : opts.body.slice(nl + 1)) : opts.body
  const body = `${marker}\n${neutraliseMarkers(given)}`
  const listPath = `/repos/${opts.repo}/issues/${opts.pr}/comments`
  try {
    const viewer = await whoAmI(github, opts.token)
    if (viewer === undefined) {
      const message = 'GitHub did not say which account the token acts as'
      return {
        ok: false,
        status: 0,
        message,
        warning:
          `Could not comment on PR #${opts.pr}: ${message} (input 'github-token'), ` +
          `so no comment was created, edited or deleted.`
      }
    }
    const where = { ...ownerAndName(opts.repo), issue_number: opts.pr }
    let pages = 0
    const comments: IssueComment[] = await github.call((o) =>
      o.paginate(o.rest.issues.listComments, { ...where, per_page: 100 }, (page) => {
        if (++pages > MAX_PAGES)
          throw new GitHubError('GET', listPath, 0, `more than ${MAX_PAGES} pages`)
        return page.data
      })
    )
    const ours = comments.filter((c) => isOurComment(c, marker, viewer))
    const [keep, ...extra] = ours
    if (!keep) {
      if (opts.create === false) return { ok: true, action: 'none' }
      const created = await github.call((o) => o.rest.issues.createComment({ ...where, body }))
      return {
        ok: true,
        action: 'created',
        id: created.data.id,
        url: created.data.html_url,
        removed: 0
      }
    }
    const { owner, repo } = where
    const updated = await github.call((o) =>
      o.rest.issues.updateComment({ owner, repo, comment_id: keep.id, body })
    )
    let removed = 0
    for (const c of extra) {
      try {
        await github.call((o) => o.rest.issues.deleteComment({ owner, repo, comment_id: c.id }))
        removed++
      } catch (err) {
        if (!(err instanceof GitHubError)) throw err
      }
    }
    return { ok: true, action: 'updated', id: updated.data.id, url: updated.data.html_url, removed }
  } catch (err) {
    if (!(err instanceof GitHubError)) throw err
    return {
      ok: false,
      status: err.status,
      message: err.githubMessage,
      warning: warningFor(opts.pr, err)
    }
  }
}

/** Why a preview was removed. */
export type RemovalReason = 'closed' | 'merged' | 'expired'

export interface RemovedCommentOptions {
  header: string
  /** When the preview was removed. */
  removedAt: Date
  reason: RemovalReason
  release?: string
  namespace?: string
  /** The workflow run that removed it. */
  runUrl?: string
}

const REMOVAL_REASON: Record<RemovalReason, string> = {
  closed: 'the pull request was closed',
  merged: 'the pull request was merged',
  expired: 'it expired (no push within its `ttl`)'
}

/** `2026-12-01 12:14 UTC`. */
export function formatUtc(at: Date): string {
  return Number.isNaN(at.getTime())
    ? 'an unknown time'
    : `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

/**
 * The comment that replaces the preview's report once the preview is gone: the marker of
 * `header` first (so that the next preview of the pull request finds it again), then what was
 * removed, when and why. Names go through untrusted.ts like any other text.
 */
export function renderRemovedComment(opts: RemovedCommentOptions): string {
  const { release, namespace } = opts
  const h = opts.header.trim()
  const title = '### 🧹 Preview removed'
  const heading =
    h && h !== (release && namespace ? `${release}/${namespace}` : '')
      ? `${title} — ${inline(h, 100)}`
      : title
  const what =
    release && namespace
      ? `Release ${codeSpan(release, 100)} in namespace ${codeSpan(namespace, 100)} was removed`
      : release
        ? `Release ${codeSpan(release, 100)} was removed`
        : namespace
          ? `The preview in namespace ${codeSpan(namespace, 100)} was removed`
          : 'The preview was removed'
  const lines = [`${what} at ${formatUtc(opts.removedAt)}: ${REMOVAL_REASON[opts.reason]}.`]
  if (opts.runUrl) lines.push(`Removed by ${urlText(opts.runUrl)}.`)
  return `${commentMarker(opts.header)}\n${heading}\n\n${lines.join('\n\n')}\n`
}

export interface MarkRemovedOptions
  extends Omit<UpsertCommentOptions, 'body' | 'create'>, Omit<RemovedCommentOptions, 'header'> {}

/**
 * Rewrites the run's own comment (same header, same author) to say the preview was removed,
 * keeping its marker. With no such comment, none is posted (`action: 'none'`). Never throws for
 * an answer from GitHub; see upsertComment.
 */
export async function markPreviewRemoved(opts: MarkRemovedOptions): Promise<CommentResult> {
  const body = renderRemovedComment({
    header: opts.header,
    removedAt: opts.removedAt,
    reason: opts.reason,
    release: opts.release,
    namespace: opts.namespace,
    runUrl: opts.runUrl
  })
  return upsertComment({ ...opts, body, create: false })
}
