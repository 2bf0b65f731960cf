// A small GitHub REST and GraphQL client over fetch: just what the pull-request comment needs.
import { formatMs } from '../exec.js'
import { redact } from '../redact.js'

export const DEFAULT_API_URL = 'https://api.github.com'
const DEFAULT_TIMEOUT_MS = 30_000
const USER_AGENT = 'minikube-preview'

export interface GitHubOptions {
  token: string
  /** REST base; defaults to GITHUB_API_URL, then https://api.github.com. */
  apiUrl?: string
  /** GraphQL endpoint; defaults to GITHUB_GRAPHQL_URL, then `${apiUrl}/graphql`. */
  graphqlUrl?: string
  /** Bound on each request. */
  timeoutMs?: number
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
  headers: Headers
}

/** The `rel="next"` URL of a `Link` header. */
export function nextLink(link: string | null): string | undefined {
  if (!link) return undefined
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?([^";]+)"?/.exec(part)
    if (m && m[2]?.split(/\s+/).includes('next')) return m[1]
  }
  return undefined
}

function describeError(status: number, statusText: string, body: string): string {
  try {
    const json = JSON.parse(body) as {
      message?: unknown
      errors?: { message?: unknown; code?: unknown; field?: unknown }[]
    }
    const parts: string[] = []
    if (typeof json.message === 'string') parts.push(json.message)
    for (const e of Array.isArray(json.errors) ? json.errors : []) {
      const m =
        typeof e?.message === 'string' ? e.message : [e?.field, e?.code].filter(Boolean).join(' ')
      if (m) parts.push(m)
    }
    if (parts.length > 0) return parts.join('; ')
  } catch {
    // not JSON: fall through to the text
  }
  const text = body.trim().slice(0, 200)
  return text || statusText || `HTTP ${status}`
}

export class GitHub {
  readonly apiUrl: string
  readonly graphqlUrl: string
  private readonly token: string
  private readonly timeoutMs: number

  constructor(opts: GitHubOptions) {
    const env = opts.env ?? process.env
    this.token = opts.token
    this.apiUrl = (opts.apiUrl || env.GITHUB_API_URL || DEFAULT_API_URL).replace(/\/+$/, '')
    this.graphqlUrl = opts.graphqlUrl || env.GITHUB_GRAPHQL_URL || `${this.apiUrl}/graphql`
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  }

  /** One REST call. `path` is relative to the API base, or an absolute URL on the same host. */
  async request<T>(method: string, path: string, body?: unknown): Promise<GitHubResponse<T>> {
    const url = this.resolve(method, path)
    const shown = path.startsWith('http') ? new URL(path).pathname + new URL(path).search : path
    const headers: Record<string, string> = {
      Accept: 'application/vnd.github+json',
      'X-GitHub-Api-Version': '2022-11-28',
      'User-Agent': USER_AGENT
    }
    if (this.token) headers.Authorization = `Bearer ${this.token}`
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    let res: Response
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'follow'
      })
    } catch (err) {
      const e = err as Error & { cause?: { message?: string } }
      const why =
        e.name === 'TimeoutError' || e.name === 'AbortError'
          ? `no answer within ${formatMs(this.timeoutMs)}`
          : (e.cause?.message ?? e.message)
      throw new GitHubError(method, shown, 0, redact(why))
    }
    const text = await res.text()
    if (!res.ok) {
      throw new GitHubError(
        method,
        shown,
        res.status,
        redact(describeError(res.status, res.statusText, text))
      )
    }
    let data: T
    try {
      data = (text ? JSON.parse(text) : undefined) as T
    } catch {
      throw new GitHubError(
        method,
        shown,
        res.status,
        `answered with something that is not JSON: ${redact(text.slice(0, 120))}`
      )
    }
    return { status: res.status, data, headers: res.headers }
  }

  /** Every item of a paginated list, following `Link: rel="next"` to the last page. */
  async paginate<T>(path: string, maxPages = 100): Promise<T[]> {
    const items: T[] = []
    let next: string | undefined = path
    for (let page = 0; next !== undefined; page++) {
      if (page >= maxPages) throw new GitHubError('GET', path, 0, `more than ${maxPages} pages`)
      const res: GitHubResponse<T[]> = await this.request<T[]>('GET', next)
      if (!Array.isArray(res.data))
        throw new GitHubError('GET', path, res.status, 'answered with something that is not a list')
      items.push(...res.data)
      next = nextLink(res.headers.get('link'))
    }
    return items
  }

  /** One GraphQL query; GraphQL errors are thrown with their messages. */
  async graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await this.request<{ data?: T; errors?: { message?: string }[] }>(
      'POST',
      this.graphqlUrl,
      { query, variables }
    )
    const errors = res.data?.errors ?? []
    if (errors.length > 0 || res.data?.data === undefined) {
      const msg =
        errors.map((e) => e.message ?? 'unknown error').join('; ') || 'no data in the answer'
      throw new GitHubError('POST', new URL(this.graphqlUrl).pathname, res.status, redact(msg))
    }
    return res.data.data
  }

  /** The login the token acts as. GET /user is refused to the Actions token, GraphQL `viewer` is not. */
  async viewerLogin(): Promise<string> {
    const data = await this.graphql<{ viewer: { login: string } }>('query { viewer { login } }')
    return data.viewer.login
  }

  private resolve(method: string, path: string): string {
    if (!/^https?:\/\//.test(path)) return `${this.apiUrl}${path.startsWith('/') ? '' : '/'}${path}`
    // The token goes only to the hosts it was given for (a Link header names a full URL).
    const origin = new URL(path).origin
    if (origin !== new URL(this.apiUrl).origin && origin !== new URL(this.graphqlUrl).origin) {
      throw new GitHubError(method, path, 0, `refusing to send the token to ${origin}`)
    }
    return path
  }
}
