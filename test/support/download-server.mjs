// A local stand-in for the three download sites (GitHub releases for minikube, get.helm.sh,
// dl.k8s.io) with their exact layouts: one implementation for the tests (tool-server.ts gives it
// its types and says how to use it) and the benchmarks (bench/lib.mjs). Plain JavaScript, so
// that plain Node can run it.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { gzipSync } from 'node:zlib'
const ARCHES = ['amd64', 'arm64']
const PREFIX = {
  minikube: '/minikube/releases/download',
  helm: '/helm',
  kubectl: '/kubectl/release'
}
function layout(tool, version, arch) {
  const p = PREFIX[tool]
  switch (tool) {
    case 'minikube':
      return {
        binary: `${p}/${version}/minikube-linux-${arch}`,
        checksum: `${p}/${version}/minikube-linux-${arch}.sha256`
      }
    case 'helm':
      return {
        binary: `${p}/helm-${version}-linux-${arch}.tar.gz`,
        checksum: `${p}/helm-${version}-linux-${arch}.tar.gz.sha256sum`
      }
    case 'kubectl':
      return {
        binary: `${p}/${version}/bin/linux/${arch}/kubectl`,
        checksum: `${p}/${version}/bin/linux/${arch}/kubectl.sha256`
      }
  }
}
function latestPathOf(tool) {
  switch (tool) {
    case 'minikube':
      return '/minikube/releases/latest'
    case 'helm':
      return `${PREFIX.helm}/helm-latest-version`
    case 'kubectl':
      return `${PREFIX.kubectl}/stable.txt`
  }
}
/** See startToolServer in tool-server.ts. */
export async function startDownloadServer(opts) {
  const entries = new Map()
  const latest = new Map()
  const faults = new Map(Object.entries(opts.faults ?? {}))
  const requests = []
  for (const tool of ['minikube', 'helm', 'kubectl']) {
    const versions = opts.tools[tool]
    if (!versions) continue
    const names = Object.keys(versions)
    for (const version of names) {
      const program = toBuffer(versions[version])
      for (const arch of opts.arches ?? ARCHES) {
        const { binary, checksum } = layout(tool, version, arch)
        const body = tool === 'helm' ? helmArchive(program, arch) : program
        const file = binary.slice(binary.lastIndexOf('/') + 1)
        entries.set(binary, { body, type: 'application/octet-stream' })
        entries.set(checksum, {
          body: Buffer.alloc(0),
          type: 'text/plain',
          checksumOf: { body, format: tool === 'helm' ? 'hash-and-name' : 'hash', name: file }
        })
      }
    }
    const announced = opts.latest?.[tool] ?? names[names.length - 1]
    if (announced) latest.set(latestPathOf(tool), { tool, version: announced })
  }
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    requests.push(path)
    const fault = faults.get(path)
    if (fault && 'status' in fault) {
      fault.used = (fault.used ?? 0) + 1
      if (fault.times === undefined || fault.used <= fault.times) {
        res.writeHead(fault.status, { 'content-type': 'text/plain' })
        res.end(`injected ${fault.status}\n`)
        return
      }
    }
    if (fault && 'body' in fault) {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end(fault.body)
      return
    }
    const announced = latest.get(path)
    if (announced) {
      if (announced.tool === 'minikube') {
        // GitHub answers releases/latest with a redirect to the tag's HTML page.
        res.writeHead(302, { location: `${origin}/minikube/releases/tag/${announced.version}` })
        res.end()
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.end(announced.version)
      }
      return
    }
    if (path.startsWith('/minikube/releases/tag/')) {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<!DOCTYPE html><html><body>release page</body></html>')
      return
    }
    const entry = entries.get(path)
    if (!entry || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' })
      res.end('Not Found\n')
      return
    }
    let body = entry.body
    if (entry.checksumOf) {
      const wrong = fault !== undefined && 'wrongChecksum' in fault
      const hash = sha256(wrong ? Buffer.from('not the served file') : entry.checksumOf.body)
      body = Buffer.from(
        entry.checksumOf.format === 'hash' ? hash : `${hash}  ${entry.checksumOf.name}\n`
      )
    }
    res.writeHead(200, { 'content-type': entry.type, 'content-length': body.length })
    res.end(req.method === 'HEAD' ? undefined : body)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${server.address().port}`
  return {
    origin,
    urls: {
      minikube: `${origin}${PREFIX.minikube}`,
      helm: `${origin}${PREFIX.helm}`,
      kubectl: `${origin}${PREFIX.kubectl}`
    },
    requests,
    paths: layout,
    latestPath: latestPathOf,
    artifact(tool, version, arch) {
      const entry = entries.get(layout(tool, version, arch).binary)
      if (!entry) throw new Error(`the tool server does not serve ${tool} ${version} ${arch}`)
      return entry.body
    },
    fault(path, fault) {
      faults.set(path, { ...fault })
    },
    clearFaults() {
      faults.clear()
    },
    close() {
      server.closeAllConnections()
      return new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())))
    }
  }
}
function toBuffer(p) {
  return typeof p === 'string' ? readFileSync(p) : Buffer.from(p)
}
function sha256(b) {
  return createHash('sha256').update(b).digest('hex')
}
/** A .tar.gz laid out like Helm's release archives: `linux-{arch}/helm`, LICENSE, README.md. */
function helmArchive(program, arch) {
  const dir = `linux-${arch}/`
  return gzipSync(
    Buffer.concat([
      tarEntry(dir, Buffer.alloc(0), 0o755, '5'),
      tarEntry(`${dir}helm`, program, 0o755, '0'),
      tarEntry(`${dir}LICENSE`, Buffer.from('Apache License 2.0\n'), 0o644, '0'),
      tarEntry(`${dir}README.md`, Buffer.from('# Helm\n'), 0o644, '0'),
      Buffer.alloc(1024)
    ])
  )
}
/** One ustar record: a 512-byte header, then the data padded to a multiple of 512. */
function tarEntry(name, data, mode, type) {
  const header = Buffer.alloc(512)
  const put = (value, offset, length) => {
    header.write(value, offset, length, 'ascii')
  }
  const octal = (n, length) => n.toString(8).padStart(length - 1, '0')
  put(name, 0, 100)
  put(octal(mode, 8), 100, 8)
  put(octal(0, 8), 108, 8)
  put(octal(0, 8), 116, 8)
  put(octal(data.length, 12), 124, 12)
  put(octal(1_700_000_000, 12), 136, 12)
  put('        ', 148, 8)
  put(type, 156, 1)
  put('ustar\u000000', 257, 8)
  put('root', 265, 32)
  put('root', 297, 32)
  let sum = 0
  for (const byte of header) sum += byte
  put(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8)
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512)
  return Buffer.concat([header, data, padding])
}
