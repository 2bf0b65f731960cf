// The GitHub API as the pull-request comment uses it: Octokit from @actions/github (REST,
// GraphQL, pagination) with retries and the runner's proxy settings, loaded on first use.
import type { getOctokit } from '@actions/github'
import { redact } from '../redact.js'
import { formatMs } from '../text.js'

export const DEFAULT_API_URL = 'https://api.github.com'
const DEFAULT_TIMEOUT_MS = 30_000
const DEFAULT_RETRIES = 3
const DEFAULT_RETRY_AFTER_MS = 1_000
const USER_AGENT = 'minikube-preview'
const API_VERSION = '2022-11-28'

export type Octokit = ReturnType<typeof getOctokit>

export interface GitHubOptions {
  token: string
  /** REST base; defaults to GITHUB_API_URL, then https://api.github.com. */
  apiUrl?: string
  /** GraphQL endpoint; defaults to GITHUB_GRAPHQL_URL, then `${apiUrl}/graphql`. */
  graphqlUrl?: string
  /** Bound on each attempt of a request. */
  timeoutMs?: number
  /** Further attempts after a 5xx, a 429 or a failed connection (default 3); none after a timeout. */
  retries?: number
  /** Wait before the n-th further attempt: n² times this (default 1 s). */
  retryAfterMs?: number
  env?: NodeJS.ProcessEnv
}

/** A request GitHub refused or that did not complete: says which, with GitHub's own message. */
export class GitHubError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    /** HTTP status; 0 when no answer came (network error, timeout). */
    readonly status: number,
    /** GitHub's `message` (and validation errors), or why no answer came. */
    readonly githubMessage: string
  ) {
    super(
      status === 0
        ? `GitHub API ${method} ${path} failed: ${githubMessage}`
        : `GitHub API ${method} ${path} failed with ${status}: ${githubMessage}`
    )
    this.name = 'GitHubError'
  }
}

export interface GitHubResponse<T> {
  status: number
  data: T
  headers: Record<string, string | number | undefined>
}

/**
 * No answer came in time. Named as an aborted request, which Octokit hands back as it is
 * without trying again: after that long a silence, three more tries would only hold up the run.
 */
class NoAnswer extends Error {
  override name = 'AbortError'
  constructor(
    readonly method: string,
    readonly url: string,
    timeoutMs: number
  ) {
    super(`no answer within ${formatMs(timeoutMs)}`)
  }
}

/** The connection failed (refused, reset, no such host): tried again, like a 5xx. */
class NoConnection extends Error {}

/** GitHub's `message` and validation errors of an error answer. */
function describeError(status: number, data: unknown): string {
  const json = data as {
    message?: unknown
    errors?: { message?: unknown; code?: unknown; field?: unknown }[]
  } | null
  if (json && typeof json === 'object') {
    const parts: string[] = []
    if (typeof json.message === 'string') parts.push(json.message)
    for (const e of Array.isArray(json.errors) ? json.errors : []) {
      const m =
        typeof e?.message === 'string' ? e.message : [e?.field, e?.code].filter(Boolean).join(' ')
      if (m) parts.push(m)
    }
    if (parts.length > 0) return parts.join('; ')
  }
  const text = typeof data === 'string' ? data.trim().slice(0, 200) : ''
  return text || `HTTP ${status}`
}

function shownPath(url: string | undefined, fallback: string): string {
  if (!url) return fallback
  try {
    const u = new URL(url)
    return u.pathname + u.search
  } catch {
    return url
  }
}

interface OctokitFailure {
  name?: unknown
  status?: unknown
  message?: unknown
  request?: { method?: string; url?: string }
  response?: { status?: number; data?: unknown }
  errors?: { message?: string }[]
  cause?: unknown
}

export class GitHub {
  readonly apiUrl: string
  readonly graphqlUrl: string
  private readonly token: string
  private readonly timeoutMs: number
  private readonly retries: number
  private readonly retryAfterMs: number
  private octokit?: Promise<Octokit>

  constructor(opts: GitHubOptions) {
    const env = opts.env ?? process.env
    this.token = opts.token
    this.apiUrl = (opts.apiUrl || env.GITHUB_API_URL || DEFAULT_API_URL).replace(/\/+$/, '')
    this.graphqlUrl = opts.graphqlUrl || env.GITHUB_GRAPHQL_URL || `${this.apiUrl}/graphql`
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.retries = opts.retries ?? DEFAULT_RETRIES
    this.retryAfterMs = opts.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS
  }

  /**
   * Runs `calls` with the Octokit client. A refusal, an outage or no answer (after the
   * retries) comes out as a GitHubError naming the request.
   */
  async call<T>(calls: (octokit: Octokit) => Promise<T>): Promise<T> {
    const octokit = await this.client()
    try {
      return await calls(octokit)
    } catch (err) {
      throw this.translate(err)
    }
  }

  /** One REST call. `path` is relative to the API base, or an absolute URL on the same host. */
  async request<T>(method: string, path: string, body?: unknown): Promise<GitHubResponse<T>> {
    const res = await this.call((o) =>
      o.request({ method, url: path, ...(body === undefined ? {} : { data: body }) })
    )
    return { status: res.status, data: res.data as T, headers: res.headers }
  }

  /** The login the token acts as. GET /user is refused to the Actions token, GraphQL `viewer` is not. */
  async viewerLogin(): Promise<string> {
    const data = await this.call((o) =>
      // GHES: a base ending in /api/v3 is asked at /api/graphql, as GITHUB_GRAPHQL_URL says there.
      o.graphql<{ viewer?: { login?: unknown } }>({
        query: 'query { viewer { login } }',
        url: this.graphqlUrl
      })
    )
    const login = data?.viewer?.login
    if (typeof login !== 'string' || !login)
      throw new GitHubError(
        'POST',
        shownPath(this.graphqlUrl, '/graphql'),
        200,
        'no data in the answer'
      )
    return login
  }

  private client(): Promise<Octokit> {
    this.octokit ??= this.load()
    return this.octokit
  }

  private async load(): Promise<Octokit> {
    // Loaded here, not at the top: most runs never talk to GitHub, and @actions/github reads
    // its own defaults from the environment when it is imported; everything is passed below.
    const [{ getOctokit }, { retry }, { HttpClient }, { fetch: undiciFetch }] = await Promise.all([
      import('@actions/github'),
      import('@octokit/plugin-retry'),
      import('@actions/http-client'),
      import('undici')
    ])
    // The runner's HTTPS_PROXY / HTTP_PROXY / NO_PROXY, for this host (loopback never goes through).
    const dispatcher = new HttpClient().getAgentDispatcher(this.apiUrl)
    const timeoutMs = this.timeoutMs
    const fetchWithin = async (url: string, init: Record<string, unknown>): Promise<unknown> => {
      try {
        return await undiciFetch(url, {
          ...init,
          ...(dispatcher ? { dispatcher } : {}),
          signal: AbortSignal.timeout(timeoutMs)
        } as Parameters<typeof undiciFetch>[1])
      } catch (err) {
        const e = err as Error & { cause?: { message?: string } }
        if (e.name === 'TimeoutError' || e.name === 'AbortError')
          throw new NoAnswer(String(init.method ?? 'GET'), url, timeoutMs)
        throw new NoConnection(e.cause?.message ?? e.message)
      }
    }
    const octokit = getOctokit(
      this.token,
      {
        baseUrl: this.apiUrl,
        userAgent: USER_AGENT,
        request: { fetch: fetchWithin },
        retry: { retries: this.retries, retryAfterBaseValue: this.retryAfterMs },
        log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }
      },
      retry
    )
    const origins = new Set([new URL(this.apiUrl).origin, new URL(this.graphqlUrl).origin])
    octokit.hook.before('request', (options) => {
      // The token goes only to the hosts it was given for (a Link header names a full URL).
      const url = String(options.url)
      if (/^https?:\/\//i.test(url) && !origins.has(new URL(url).origin)) {
        throw new GitHubError(
          String(options.method),
          url,
          0,
          `refusing to send the token to ${new URL(url).origin}`
        )
      }
      options.headers = { ...options.headers, 'x-github-api-version': API_VERSION }
    })
    return octokit
  }

  private translate(err: unknown): unknown {
    if (err instanceof GitHubError) return err
    if (err instanceof NoAnswer)
      return new GitHubError(err.method, shownPath(err.url, ''), 0, err.message)
    const e = (err ?? {}) as OctokitFailure
    const method = e.request?.method ?? 'GET'
    const path = shownPath(e.request?.url, '')
    if (e.name === 'GraphqlResponseError' || (Array.isArray(e.errors) && e.request)) {
      const msg = (e.errors ?? []).map((x) => x.message ?? 'unknown error').join('; ')
      return new GitHubError(
        'POST',
        shownPath(this.graphqlUrl, '/graphql'),
        200,
        redact(msg || 'no data in the answer')
      )
    }
    if (!e.request) return err
    const status = e.response?.status
    if (status === undefined) {
      const cause =
        e.cause instanceof NoConnection ? e.cause.message : String(e.message ?? 'no answer')
      return new GitHubError(method, path, 0, redact(cause))
    }
    return new GitHubError(method, path, status, redact(describeError(status, e.response?.data)))
  }
}

/** Whether a pull request is still open, as sweep needs it. */
export type PullRequestState =
  | { state: 'open' }
  | {
      state: 'closed'
      merged: boolean
      /** GitHub no longer has it (404 or 410): taken as closed. */
      deleted: boolean
    }
  | {
      /** GitHub did not say (refused, down, no answer): keep the preview. */
      state: 'unknown'
      /** HTTP status; 0 when no answer came. */
      status: number
      /** One line for `core.warning`. */
      warning: string
    }

/** `owner/name` as the REST API's `{ owner, repo }`. */
export function ownerAndName(repo: string): { owner: string; repo: string } {
  const slash = repo.indexOf('/')
  return { owner: repo.slice(0, slash), repo: repo.slice(slash + 1) }
}

/**
 * The state of pull request `pr` of `repo` (`owner/name`): one `GET /repos/{o}/{r}/pulls/{n}`.
 * A pull request GitHub no longer has (404, 410) is closed; any other refusal or failure is
 * `unknown`, never closed, so that a sweep never removes a preview it could not ask about.
 */
export async function pullRequestState(
  github: GitHub,
  repo: string,
  pr: number
): Promise<PullRequestState> {
  try {
    const res = await github.call((o) =>
      o.rest.pulls.get({ ...ownerAndName(repo), pull_number: pr })
    )
    const data = res.data as { state?: unknown; merged?: unknown; merged_at?: unknown }
    if (data.state === 'open') return { state: 'open' }
    if (data.state === 'closed')
      return {
        state: 'closed',
        merged: data.merged === true || typeof data.merged_at === 'string',
        deleted: false
      }
    return {
      state: 'unknown',
      status: res.status,
      warning: `Could not tell whether PR #${pr} is open: GitHub answered without a state`
    }
  } catch (err) {
    if (!(err instanceof GitHubError)) throw err
    if (err.status === 404 || err.status === 410)
      return { state: 'closed', merged: false, deleted: true }
    const said = err.status
      ? `GitHub answered ${err.status}: ${err.githubMessage}`
      : err.githubMessage
    const hint =
      err.status === 403
        ? ' (the token needs `permissions: pull-requests: read`)'
        : err.status === 401
          ? " (GitHub did not accept the token, input 'github-token')"
          : ''
    return {
      state: 'unknown',
      status: err.status,
      warning: `Could not tell whether PR #${pr} is open${hint}; its preview is kept. ${said}.`
    }
  }
}

/** Whether the token can read the repository itself: a 200 for `GET /repos/{owner}/{repo}`. */
async function repositoryVisible(github: GitHub, repo: string): Promise<boolean> {
  try {
    await github.call((o) => o.rest.repos.get(ownerAndName(repo)))
    return true
  } catch (err) {
    if (!(err instanceof GitHubError)) throw err
    return false
  }
}

/**
 * The state of each of `prs` (each number asked once, in turn), for a sweep over many previews.
 * GitHub answers 404 for every pull request of a repository the token cannot see, so a 404 counts
 * as deleted only once the repository itself answered: otherwise each such state is unknown.
 */
export async function pullRequestStates(
  github: GitHub,
  repo: string,
  prs: Iterable<number>
): Promise<Map<number, PullRequestState>> {
  const states = new Map<number, PullRequestState>()
  let visible: boolean | undefined
  for (const pr of prs) {
    if (states.has(pr)) continue
    const state = await pullRequestState(github, repo, pr)
    if (
      state.state === 'closed' &&
      state.deleted &&
      !(visible ??= await repositoryVisible(github, repo))
    ) {
      states.set(pr, {
        state: 'unknown',
        status: 404,
        warning: `Could not tell whether PR #${pr} is open: GitHub answers 404 for it and for the repository ${repo} itself, which the token cannot see (input 'github-token'); its preview is kept.`
      })
      continue
    }
    states.set(pr, state)
  }
  return states
}
