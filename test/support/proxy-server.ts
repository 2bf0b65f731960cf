// A local HTTP proxy, as on a self-hosted runner behind one: records what it is asked to reach
// and carries every request to one upstream server (any host name reaches it), or refuses.
//
//   const proxy = await startProxy({ upstream: gh.url })   // or { refuse: true }
//   process.env.HTTP_PROXY = proxy.url
//   ... proxy.requests  // ['CONNECT api.github.test:80', ...]
//   await proxy.close()

import { createServer, request as httpRequest } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'

export interface ProxyOptions {
  /** Where every request goes, whatever host it names (`http://127.0.0.1:<port>`). */
  upstream?: string
  /** Answer 502 to everything, after recording it. */
  refuse?: boolean
}

export interface ProxyServer {
  /** What HTTP_PROXY / HTTPS_PROXY take. */
  url: string
  /** `CONNECT host:port`, or `METHOD absolute-url`, in order. */
  requests: string[]
  close(): Promise<void>
}

export async function startProxy(opts: ProxyOptions): Promise<ProxyServer> {
  const requests: string[] = []
  const sockets = new Set<Socket>()
  const up = opts.upstream ? new URL(opts.upstream) : undefined
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    if (opts.refuse || !up) {
      res.writeHead(502).end()
      return
    }
    const target = new URL(req.url ?? '/', up)
    const out = httpRequest(
      {
        host: up.hostname,
        port: up.port,
        method: req.method,
        path: target.pathname + target.search,
        headers: req.headers
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      }
    )
    out.on('error', () => res.writeHead(502).end())
    req.pipe(out)
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  server.on('connect', (req, client: Socket, head: Buffer) => {
    requests.push(`CONNECT ${req.url}`)
    if (opts.refuse || !up) {
      client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n')
      return
    }
    const tunnel = connect(Number(up.port), up.hostname, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length) tunnel.write(head)
      tunnel.pipe(client)
      client.pipe(tunnel)
    })
    sockets.add(tunnel)
    tunnel.on('close', () => sockets.delete(tunnel))
    tunnel.on('error', () => client.destroy())
    client.on('error', () => tunnel.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const s of sockets) s.destroy()
        server.close((err) => (err ? reject(err) : resolve()))
      })
  }
}
