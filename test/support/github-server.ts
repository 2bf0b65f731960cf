// A local stand-in for the parts of the GitHub API the action uses, answering like GitHub does
// (status codes, JSON error bodies, Link pagination), with issue comments kept in memory.
//
//   const gh = await startGitHubServer()
//   gh.addComment('o/r', 7, 'hello', 'octocat')            // seed
//   gh.setCommitPulls('o/r', sha, [{ number: 7, state: 'open' }])
//   // point the code at it: { GITHUB_API_URL: gh.url, GITHUB_GRAPHQL_URL: gh.graphqlUrl }
//   // token WRITE_TOKEN acts as github-actions[bot]; FORK_TOKEN is the read-only token
//   // a fork's pull request gets (403 on create, update and delete)
//   ... gh.comments('o/r', 7), gh.requests ... await gh.close()
//
// Endpoints: GET/POST /repos/{o}/{r}/issues/{n}/comments, PATCH/DELETE
// /repos/{o}/{r}/issues/comments/{id}, GET /repos/{o}/{r}/commits/{sha}/pulls, POST /graphql
// (`viewer { login }`), GET /user (403 for a bot, as for the Actions token; the login for a
// personal token). Anything else: 404.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Acts as the Actions token: github-actions[bot], may write. */
export const WRITE_TOKEN = 'ghs_preview_test_write_token'
/** The read-only token of a pull request from a fork. */
export const FORK_TOKEN = 'ghs_preview_test_fork_token'

export interface Identity {
  login: string
  type?: 'Bot' | 'User'
  /** Writes are refused with 403 "Resource not accessible by integration". */
  readOnly?: boolean
}

export interface StoredComment {
  id: number
  body: string
  user: { login: string; id: number; type: 'Bot' | 'User' }
  html_url: string
  created_at: string
  updated_at: string
}

export interface RecordedRequest {
  method: string
  /** Path and query, as sent. */
  url: string
  /** The Authorization header's token, if any. */
  token?: string
  userAgent?: string
  body?: unknown
}

export interface GitHubServerOptions {
  /** Tokens and who they are; the default knows WRITE_TOKEN and FORK_TOKEN. */
  tokens?: Record<string, Identity>
}

export interface GitHubServer {
  /** REST base (`http://127.0.0.1:<port>`): what GITHUB_API_URL takes. */
  url: string
  /** What GITHUB_GRAPHQL_URL takes. */
  graphqlUrl: string
  /** Every request received, in order. */
  requests: RecordedRequest[]
  /** The comments on an issue or PR, oldest first (live objects). */
  comments(repo: string, issue: number): StoredComment[]
  /** Seeds a comment as if `login` wrote it. */
  addComment(
    repo: string,
    issue: number,
    body: string,
    login: string,
    type?: 'Bot' | 'User'
  ): StoredComment
  /** What `GET /repos/{repo}/commits/{sha}/pulls` answers. */
  setCommitPulls(
    repo: string,
    sha: string,
    pulls: { number: number; state: 'open' | 'closed' }[]
  ): void
  /** The next `times` requests whose `METHOD path` matches get this status and GitHub-style message. */
  fail(match: RegExp, status: number, message: string, times?: number): void
  close(): Promise<void>
}

const DOCS = 'https://docs.github.com/rest'

export async function startGitHubServer(opts: GitHubServerOptions = {}): Promise<GitHubServer> {
  const tokens: Record<string, Identity> = opts.tokens ?? {
    [WRITE_TOKEN]: { login: 'github-actions[bot]', type: 'Bot' },
    [FORK_TOKEN]: { login: 'github-actions[bot]', type: 'Bot', readOnly: true }
  }
  const issues = new Map<string, StoredComment[]>()
  const pulls = new Map<string, { number: number; state: string }[]>()
  const faults: { match: RegExp; status: number; message: string; times: number }[] = []
  const requests: RecordedRequest[] = []
  const userIds = new Map<string, number>()
  let nextId = 1_000_001
  let base = ''

  const comments = (repo: string, issue: number): StoredComment[] => {
    const key = `${repo}#${issue}`
    let list = issues.get(key)
    if (!list) issues.set(key, (list = []))
    return list
  }
  const addComment = (
    repo: string,
    issue: number,
    body: string,
    login: string,
    type: 'Bot' | 'User' = login.endsWith('[bot]') ? 'Bot' : 'User'
  ): StoredComment => {
    if (!userIds.has(login)) userIds.set(login, 40_000 + userIds.size)
    const id = nextId++
    const now = new Date(Date.UTC(2025, 0, 1) + id).toISOString()
    const c: StoredComment = {
      id,
      body,
      user: { login, id: userIds.get(login) as number, type },
      html_url: `https://github.com/${repo}/pull/${issue}#issuecomment-${id}`,
      created_at: now,
      updated_at: now
    }
    comments(repo, issue).push(c)
    return c
  }
  const findComment = (repo: string, id: number): StoredComment[] | undefined => {
    for (const [key, list] of issues) {
      if (key.startsWith(`${repo}#`) && list.some((c) => c.id === id)) return list
    }
    return undefined
  }

  const send = (
    res: ServerResponse,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {}
  ): void => {
    const text = body === undefined ? '' : JSON.stringify(body)
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-github-media-type': 'github.v3; format=json',
      ...headers
    })
    res.end(text)
  }
  const error = (res: ServerResponse, status: number, message: string, doc = ''): void =>
    send(res, status, { message, documentation_url: `${DOCS}${doc}`, status: String(status) })

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const raw = Buffer.concat(chunks).toString('utf8')
    let body: unknown
    try {
      body = raw ? JSON.parse(raw) : undefined
    } catch {
      return error(res, 400, 'Problems parsing JSON')
    }
    const method = req.method ?? 'GET'
    const url = new URL(req.url ?? '/', base)
    const auth = /^(?:Bearer|token)\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]
    requests.push({
      method,
      url: url.pathname + url.search,
      token: auth,
      userAgent: req.headers['user-agent'],
      body
    })

    const fault = faults.find((f) => f.times > 0 && f.match.test(`${method} ${url.pathname}`))
    if (fault) {
      fault.times--
      return error(res, fault.status, fault.message)
    }
    if (!req.headers['user-agent']) {
      return error(
        res,
        403,
        'Request forbidden by administrative rules. Please make sure your request has a User-Agent header'
      )
    }
    const who = auth ? tokens[auth] : undefined
    if (!who) return error(res, 401, 'Bad credentials')
    const readOnly = (): void =>
      error(res, 403, 'Resource not accessible by integration', '/issues/comments')

    if (method === 'POST' && url.pathname === '/graphql') {
      const query = (body as { query?: unknown } | undefined)?.query
      if (typeof query === 'string' && /\bviewer\s*\{\s*login\s*\}/.test(query)) {
        return send(res, 200, { data: { viewer: { login: who.login } } })
      }
      return send(res, 200, {
        errors: [{ message: 'this stand-in only answers viewer { login }' }]
      })
    }
    if (method === 'GET' && url.pathname === '/user') {
      // A personal token may read its user; an installation token (the Actions token) may not.
      const type = who.type ?? (who.login.endsWith('[bot]') ? 'Bot' : 'User')
      if (type === 'User') return send(res, 200, { login: who.login, type })
      return error(
        res,
        403,
        'Resource not accessible by integration',
        '/users/users#get-the-authenticated-user'
      )
    }

    let m = /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/.exec(url.pathname)
    if (m) {
      const repo = m[1] as string
      const list = comments(repo, Number(m[2]))
      if (method === 'GET') {
        const perPage = Math.min(
          100,
          Math.max(1, Number(url.searchParams.get('per_page') ?? 30) || 30)
        )
        const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1)
        const last = Math.max(1, Math.ceil(list.length / perPage))
        const link = (p: number): string => {
          const u = new URL(url.pathname, base)
          u.searchParams.set('per_page', String(perPage))
          u.searchParams.set('page', String(p))
          return u.toString()
        }
        const rels: string[] = []
        if (page > 1) rels.push(`<${link(page - 1)}>; rel="prev"`)
        if (page < last) rels.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`)
        if (page > 1) rels.push(`<${link(1)}>; rel="first"`)
        const items = list.slice((page - 1) * perPage, page * perPage)
        return send(res, 200, items, rels.length ? { link: rels.join(', ') } : {})
      }
      if (method === 'POST') {
        if (who.readOnly) return readOnly()
        const text = (body as { body?: unknown } | undefined)?.body
        if (typeof text !== 'string' || text === '') return error(res, 422, 'Validation Failed')
        if (text.length > 65_536)
          return error(
            res,
            422,
            'Validation Failed: body is too long (maximum is 65536 characters)'
          )
        return send(res, 201, addComment(repo, Number(m[2]), text, who.login, who.type))
      }
    }

    m = /^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)$/.exec(url.pathname)
    if (m) {
      const list = findComment(m[1] as string, Number(m[2]))
      const c = list?.find((x) => x.id === Number(m?.[2]))
      if (!list || !c) return error(res, 404, 'Not Found')
      if (method === 'PATCH') {
        if (who.readOnly) return readOnly()
        const text = (body as { body?: unknown } | undefined)?.body
        if (typeof text !== 'string' || text === '') return error(res, 422, 'Validation Failed')
        if (text.length > 65_536)
          return error(
            res,
            422,
            'Validation Failed: body is too long (maximum is 65536 characters)'
          )
        c.body = text
        c.updated_at = new Date(Date.parse(c.updated_at) + 1000).toISOString()
        return send(res, 200, c)
      }
      if (method === 'DELETE') {
        if (who.readOnly) return readOnly()
        list.splice(list.indexOf(c), 1)
        res.writeHead(204).end()
        return
      }
    }

    m = /^\/repos\/([^/]+\/[^/]+)\/commits\/([^/]+)\/pulls$/.exec(url.pathname)
    if (m && method === 'GET') {
      return send(res, 200, pulls.get(`${m[1]}@${m[2]}`) ?? [])
    }
    return error(res, 404, 'Not Found')
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) error(res, 500, String(err))
      else res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    url: base,
    graphqlUrl: `${base}/graphql`,
    requests,
    comments,
    addComment,
    setCommitPulls: (repo, sha, list) => void pulls.set(`${repo}@${sha}`, list),
    fail: (match, status, message, times = 1) =>
      void faults.push({ match, status, message, times }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((err) => (err ? reject(err) : resolve()))
      })
  }
}
