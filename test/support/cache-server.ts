// A local stand-in for the Actions cache service (the v1 REST API @actions/cache speaks when
// ACTIONS_CACHE_URL is set): look a key up, reserve, upload in ranges, commit, download.
// Caches are kept in memory, each with the paths' version @actions/cache computed.
//
//   const caches = await startCacheServer()
//   env: { ACTIONS_CACHE_URL: caches.url, ACTIONS_RUNTIME_TOKEN: 'token' }
//   ... caches.entries() → [{ key, version, archive: Buffer }] ... await caches.close()

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface CacheEntry {
  id: number
  key: string
  version: string
  archive: Buffer
  committed: boolean
}

export interface CacheServer {
  /** ACTIONS_CACHE_URL: ends with a slash, as the runner gives it. */
  url: string
  entries(): CacheEntry[]
  close(): Promise<void>
}

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function json(res: ServerResponse, status: number, doc?: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(doc === undefined ? undefined : JSON.stringify(doc))
}

export async function startCacheServer(): Promise<CacheServer> {
  const caches: CacheEntry[] = []
  let base = ''
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      const path = url.pathname
      if (req.method === 'GET' && path === '/_apis/artifactcache/cache') {
        const keys = (url.searchParams.get('keys') ?? '').split(',')
        const version = url.searchParams.get('version')
        const hit = keys
          .map((k) => caches.find((c) => c.committed && c.key === k && c.version === version))
          .find((c) => c !== undefined)
        if (!hit) return json(res, 204)
        return json(res, 200, {
          cacheKey: hit.key,
          scope: 'refs/heads/main',
          archiveLocation: `${base}archive/${hit.id}`
        })
      }
      if (req.method === 'POST' && path === '/_apis/artifactcache/caches') {
        const doc = JSON.parse((await body(req)).toString()) as { key: string; version: string }
        if (caches.some((c) => c.key === doc.key && c.version === doc.version)) {
          return json(res, 409, { message: `Cache already exists. Key: ${doc.key}` })
        }
        const entry = {
          id: caches.length + 1,
          key: doc.key,
          version: doc.version,
          archive: Buffer.alloc(0),
          committed: false
        }
        caches.push(entry)
        return json(res, 201, { cacheId: entry.id })
      }
      const upload = /^\/_apis\/artifactcache\/caches\/(\d+)$/.exec(path)
      const entry = upload ? caches.find((c) => c.id === Number(upload[1])) : undefined
      if (upload && !entry) return json(res, 404, { message: 'no such cache' })
      if (req.method === 'PATCH' && entry) {
        const range = /^bytes (\d+)-(\d+)\/\*$/.exec(req.headers['content-range'] ?? '')
        const chunk = await body(req)
        const start = Number(range?.[1] ?? 0)
        const grown = Buffer.alloc(Math.max(entry.archive.length, start + chunk.length))
        entry.archive.copy(grown)
        chunk.copy(grown, start)
        entry.archive = grown
        return json(res, 204)
      }
      if (req.method === 'POST' && entry) {
        await body(req)
        entry.committed = true
        return json(res, 204)
      }
      const download = /^\/archive\/(\d+)$/.exec(path)
      const stored = download ? caches.find((c) => c.id === Number(download[1])) : undefined
      if (req.method === 'GET' && stored) {
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': stored.archive.length
        })
        return res.end(stored.archive)
      }
      return json(res, 404, { message: `no route for ${req.method} ${path}` })
    })().catch((err: unknown) => json(res, 500, { message: String(err) }))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  return {
    url: base,
    entries: () => caches,
    close: () => new Promise<void>((r) => server.close(() => r()))
  }
}
