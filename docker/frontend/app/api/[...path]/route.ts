// When the page is reached directly (a port-forward to this container), its /api calls land
// here and are forwarded to the backend. Behind the ingress, /api never reaches this app.
import type { NextRequest } from 'next/server'

export const dynamic = 'force-dynamic'

// Headers that describe one hop of the connection, not the request: never forwarded.
const HOP_BY_HOP = new Set([
  'connection',
  'content-length',
  'host',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade'
])
const NO_BODY_STATUS = new Set([101, 204, 205, 304])

function backendUrl(): string {
  return (process.env.BACKEND_URL || 'http://localhost:8001').replace(/\/+$/, '')
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : ''
    return `${err.message}${cause}`
  }
  return String(err)
}

async function forward(
  request: NextRequest,
  context: { params: Promise<{ path: string[] }> }
): Promise<Response> {
  const { path } = await context.params
  const base = backendUrl()
  const target = `${base}/api/${path.map(encodeURIComponent).join('/')}${request.nextUrl.search}`

  const headers = new Headers()
  request.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name)) headers.set(name, value)
  })
  headers.set('x-forwarded-host', request.headers.get('host') ?? '')
  headers.set('x-forwarded-proto', request.nextUrl.protocol.replace(':', ''))

  const hasBody = !['GET', 'HEAD'].includes(request.method)
  let response: Response
  try {
    response = await fetch(target, {
      method: request.method,
      headers,
      body: hasBody ? await request.arrayBuffer() : undefined,
      redirect: 'manual',
      cache: 'no-store',
      signal: AbortSignal.timeout(30_000)
    })
  } catch (err) {
    console.error(`backend request ${request.method} ${target} failed: ${describe(err)}`)
    return Response.json(
      { detail: `backend unreachable at ${base}: ${describe(err)}` },
      { status: 502 }
    )
  }

  const out = new Headers(response.headers)
  // fetch has already decoded the body; its length and encoding no longer apply.
  for (const name of ['content-encoding', 'content-length', 'transfer-encoding', 'connection']) {
    out.delete(name)
  }
  const body = NO_BODY_STATUS.has(response.status) || request.method === 'HEAD' ? null : response.body
  return new Response(body, { status: response.status, statusText: response.statusText, headers: out })
}

export {
  forward as GET,
  forward as HEAD,
  forward as POST,
  forward as PUT,
  forward as PATCH,
  forward as DELETE,
  forward as OPTIONS
}
