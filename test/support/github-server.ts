// A local stand-in for the parts of the GitHub API the action uses, answering like GitHub does
// (status codes, JSON error bodies, Link pagination), with issue comments kept in memory.
//
//   const gh = await startGitHubServer()
//   gh.addComment('o/r', 7, 'hello', 'octocat')            // seed
//   gh.setCommitPulls('o/r', sha, [{ number: 7, state: 'open' }])
//   // point the code at it: { GITHUB_API_URL: gh.url, GITHUB_GRAPHQL_URL: gh.graphqlUrl }
//   // token WRITE_TOKEN acts as github-actions[bot]; FORK_TOKEN is the read-only token
//   // a fork's pull request gets (403 on create, update and delete)
//   gh.setPull('o/r', 7, { state: 'closed', merged: true })  // GET /repos/o/r/pulls/7
//   gh.refuseDeployments(403)                         // a token without `deployments: write`
//   ... gh.comments('o/r', 7), gh.deployments('o/r'), gh.statuses, gh.requests ... await gh.close()
//
// Endpoints: GET /repos/{o}/{r}, GET/POST /repos/{o}/{r}/issues/{n}/comments, PATCH/DELETE
// /repos/{o}/{r}/issues/comments/{id}, GET /repos/{o}/{r}/commits/{sha}/pulls, GET
// /repos/{o}/{r}/pulls/{n}, GET/POST /repos/{o}/{r}/deployments (newest first; filters `sha`,
// `ref`, `task`, `environment`), GET/POST /repos/{o}/{r}/deployments/{id}/statuses (newest
// first; `auto_inactive`, default true, marks earlier successful non-transient, non-production
// deployments of the environment inactive, as GitHub documents), POST /graphql
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

export type DeploymentState =
  'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending' | 'success'

const DEPLOYMENT_STATES = new Set<string>([
  'error',
  'failure',
  'inactive',
  'in_progress',
  'queued',
  'pending',
  'success'
])

export interface StoredDeploymentStatus {
  id: number
  state: DeploymentState
  description: string
  environment: string
  environment_url: string
  log_url: string
  target_url: string
  creator: { login: string }
  created_at: string
  updated_at: string
  deployment_url: string
}

export interface StoredDeployment {
  id: number
  sha: string
  ref: string
  task: string
  payload: unknown
  environment: string
  original_environment: string
  description: string | null
  transient_environment: boolean
  production_environment: boolean
  creator: { login: string }
  created_at: string
  updated_at: string
  url: string
  statuses_url: string
  /** Not part of GitHub's answer: the statuses, oldest first (live objects). */
  statuses: StoredDeploymentStatus[]
}

/** One status as it was set, in the order they were set, across every deployment. */
export interface RecordedStatus {
  repo: string
  deploymentId: number
  environment: string
  state: DeploymentState
  /** Set by GitHub itself (`auto_inactive`), not asked for in a request. */
  automatic: boolean
  environmentUrl: string
  logUrl: string
  description: string
}

export interface StoredPull {
  number: number
  state: 'open' | 'closed'
  merged: boolean
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
  /** What `GET /repos/{repo}/pulls/{number}` answers; a number never set is 404 (deleted). */
  setPull(repo: string, number: number, pull: { state: 'open' | 'closed'; merged?: boolean }): void
  /** Forgets a pull request: its GET answers 404, as for a deleted one. */
  deletePull(repo: string, number: number): void
  /** The deployments of a repository, oldest first (live objects, with their statuses). */
  deployments(repo: string): StoredDeployment[]
  /** Every status set, in order, across every repository and deployment. */
  statuses: RecordedStatus[]
  /**
   * From now on every deployments request (create, list, statuses) is refused with `status`:
   * 403 as for a token without `deployments: write`, 404 as for a fine-grained token that
   * may not see them. `undefined` answers again.
   */
  refuseDeployments(status?: 403 | 404): void
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
  const pullStates = new Map<string, StoredPull>()
  const deploymentsByRepo = new Map<string, StoredDeployment[]>()
  const statuses: RecordedStatus[] = []
  let refused: 403 | 404 | undefined
  let clock = Date.UTC(2025, 0, 1)
  const now = (): string => new Date((clock += 1000)).toISOString()
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
  const deployments = (repo: string): StoredDeployment[] => {
    let list = deploymentsByRepo.get(repo)
    if (!list) deploymentsByRepo.set(repo, (list = []))
    return list
  }
  const addStatus = (
    repo: string,
    d: StoredDeployment,
    fields: {
      state: DeploymentState
      description?: string
      environment_url?: string
      log_url?: string
      environment?: string
    },
    login: string,
    automatic: boolean
  ): StoredDeploymentStatus => {
    const at = now()
    const id = nextId++
    if (fields.environment) d.environment = fields.environment
    const st: StoredDeploymentStatus = {
      id,
      state: fields.state,
      description: fields.description ?? '',
      environment: d.environment,
      environment_url: fields.environment_url ?? '',
      log_url: fields.log_url ?? '',
      target_url: fields.log_url ?? '',
      creator: { login },
      created_at: at,
      updated_at: at,
      deployment_url: d.url
    }
    d.statuses.push(st)
    d.updated_at = at
    statuses.push({
      repo,
      deploymentId: d.id,
      environment: d.environment,
      state: st.state,
      automatic,
      environmentUrl: st.environment_url,
      logUrl: st.log_url,
      description: st.description
    })
    return st
  }
  const deploymentAnswer = (d: StoredDeployment): Omit<StoredDeployment, 'statuses'> => {
    const rest: Partial<StoredDeployment> = { ...d }
    delete rest.statuses
    return rest as Omit<StoredDeployment, 'statuses'>
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

  /** A page of `list` as GitHub sends it: `per_page` (≤ 100) and `page`, with a Link header. */
  const paged = (res: ServerResponse, url: URL, list: unknown[]): void => {
    const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page') ?? 30) || 30))
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1)
    const last = Math.max(1, Math.ceil(list.length / perPage))
    const link = (p: number): string => {
      const u = new URL(url.pathname + url.search, base)
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
      if (method === 'GET') return paged(res, url, list)
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

    // Every repository is visible to every accepted token; `fail` makes one invisible (404).
    m = /^\/repos\/([^/]+\/[^/]+)$/.exec(url.pathname)
    if (m && method === 'GET') return send(res, 200, { full_name: m[1], private: false })

    m = /^\/repos\/([^/]+\/[^/]+)\/pulls\/(\d+)$/.exec(url.pathname)
    if (m && method === 'GET') {
      const p = pullStates.get(`${m[1]}#${m[2]}`)
      if (!p) return error(res, 404, 'Not Found', '/pulls/pulls#get-a-pull-request')
      return send(res, 200, {
        number: p.number,
        state: p.state,
        merged: p.merged,
        merged_at: p.merged ? '2025-01-02T00:00:00Z' : null,
        html_url: `https://github.com/${m[1]}/pull/${p.number}`
      })
    }

    m = /^\/repos\/([^/]+\/[^/]+)\/deployments(?:\/(\d+)(\/statuses)?)?$/.exec(url.pathname)
    if (m) {
      const repo = m[1] as string
      if (refused === 403 || (refused === undefined && who.readOnly && method === 'POST'))
        return error(
          res,
          403,
          'Resource not accessible by integration',
          '/deployments/deployments#create-a-deployment'
        )
      if (refused === 404) return error(res, 404, 'Not Found')
      const list = deployments(repo)
      if (m[2] === undefined) {
        if (method === 'GET') {
          const q = url.searchParams
          const match = list.filter(
            (d) =>
              (!q.get('sha') || d.sha === q.get('sha')) &&
              (!q.get('ref') || d.ref === q.get('ref')) &&
              (!q.get('task') || d.task === q.get('task')) &&
              (!q.has('environment') || d.environment === q.get('environment'))
          )
          return paged(res, url, [...match].reverse().map(deploymentAnswer))
        }
        if (method === 'POST') {
          const b = (body ?? {}) as Record<string, unknown>
          if (typeof b.ref !== 'string' || b.ref === '')
            return error(res, 422, 'Invalid request.\n\n"ref" wasn\'t supplied.')
          const environment = typeof b.environment === 'string' ? b.environment : 'production'
          const at = now()
          const id = nextId++
          const d: StoredDeployment = {
            id,
            sha: /^[0-9a-f]{40}$/.test(b.ref) ? b.ref : 'f'.repeat(40),
            ref: b.ref,
            task: typeof b.task === 'string' ? b.task : 'deploy',
            payload: b.payload ?? {},
            environment,
            original_environment: environment,
            description: typeof b.description === 'string' ? b.description : null,
            transient_environment: b.transient_environment === true,
            production_environment:
              typeof b.production_environment === 'boolean'
                ? b.production_environment
                : environment === 'production',
            creator: { login: who.login },
            created_at: at,
            updated_at: at,
            url: `${base}/repos/${repo}/deployments/${id}`,
            statuses_url: `${base}/repos/${repo}/deployments/${id}/statuses`,
            statuses: []
          }
          list.push(d)
          return send(res, 201, deploymentAnswer(d))
        }
      } else {
        const d = list.find((x) => x.id === Number(m?.[2]))
        if (!d) return error(res, 404, 'Not Found')
        if (!m[3] && method === 'GET') return send(res, 200, deploymentAnswer(d))
        if (m[3] && method === 'GET') return paged(res, url, [...d.statuses].reverse())
        if (m[3] && method === 'POST') {
          const b = (body ?? {}) as Record<string, unknown>
          const state = typeof b.state === 'string' ? b.state : ''
          if (!DEPLOYMENT_STATES.has(state))
            return error(res, 422, `Validation Failed: state is not included in the list`)
          const description = typeof b.description === 'string' ? b.description : undefined
          if (description !== undefined && description.length > 140)
            return error(
              res,
              422,
              'Validation Failed: description is too long (maximum is 140 characters)'
            )
          for (const f of ['environment_url', 'log_url'] as const) {
            const v = b[f]
            if (v !== undefined && (typeof v !== 'string' || (v !== '' && !/^https?:\/\//.test(v))))
              return error(res, 422, `Validation Failed: ${f} must be a URL`)
          }
          const st = addStatus(
            repo,
            d,
            {
              state: state as DeploymentState,
              description,
              environment_url: b.environment_url as string | undefined,
              log_url: b.log_url as string | undefined,
              environment: typeof b.environment === 'string' ? b.environment : undefined
            },
            who.login,
            false
          )
          if (state === 'success' && b.auto_inactive !== false) {
            for (const other of list) {
              const latest = other.statuses[other.statuses.length - 1]
              if (
                other.id !== d.id &&
                other.id < d.id &&
                other.environment === d.environment &&
                !other.transient_environment &&
                !other.production_environment &&
                latest?.state === 'success'
              )
                addStatus(repo, other, { state: 'inactive' }, who.login, true)
            }
          }
          return send(res, 201, st)
        }
      }
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
    setPull: (repo, number, pull) =>
      void pullStates.set(`${repo}#${number}`, {
        number,
        state: pull.state,
        merged: pull.merged ?? false
      }),
    deletePull: (repo, number) => void pullStates.delete(`${repo}#${number}`),
    deployments,
    statuses,
    refuseDeployments: (status) => {
      refused = status
    },
    fail: (match, status, message, times = 1) =>
      void faults.push({ match, status, message, times }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((err) => (err ? reject(err) : resolve()))
      })
  }
}
