#!/usr/bin/env node
// The cluster DNS of the real node (what CoreDNS is in Minikube), reduced to what pods of a
// chart use: A records of Services, `<service>.<namespace>.svc.<domain>`, answered with the
// Service's ClusterIP (kube-proxy routes it), or with its ready endpoints when it is headless.
// Every other name gets NXDOMAIN: the node has no network beyond its own namespace.
//
//   node cluster-dns.mjs <listen-address> <api-server-url> <ca> <client-cert> <client-key> [domain]
import { createSocket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { request } from 'node:https'
import { checkServerIdentity } from 'node:tls'

const [address, server, caFile, certFile, keyFile, domainArg] = process.argv.slice(2)
if (!address || !server || !caFile || !certFile || !keyFile) {
  console.error(
    'usage: cluster-dns.mjs <listen-address> <api-server-url> <ca> <cert> <key> [domain]'
  )
  process.exit(2)
}
const domain = (domainArg ?? 'cluster.local').toLowerCase()
const tls = {
  ca: readFileSync(caFile),
  cert: readFileSync(certFile),
  key: readFileSync(keyFile),
  // The API server is reached through a relay; its certificate names its loopback address.
  checkServerIdentity: (_host, cert) => checkServerIdentity('127.0.0.1', cert)
}
const TTL = 5
const A = 1

/** GET an API path; resolves to the parsed object, or undefined when it does not exist. */
function get(path) {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, server), { ...tls, timeout: 3000 }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        if (res.statusCode === 404) resolve(undefined)
        else if (res.statusCode !== 200) reject(new Error(`GET ${path}: HTTP ${res.statusCode}`))
        else resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      })
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timed out`)))
    req.on('error', reject)
    req.end()
  })
}

const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** IPv4 addresses for a name, or undefined for a name that does not exist. */
async function lookup(name) {
  const suffix = `.svc.${domain}`
  if (!name.endsWith(suffix)) return undefined
  const parts = name.slice(0, -suffix.length).split('.')
  if (parts.length !== 2 || !parts.every((p) => label.test(p))) return undefined
  const [svc, ns] = parts
  const service = await get(`/api/v1/namespaces/${ns}/services/${svc}`)
  if (!service) return undefined
  const ip = service.spec?.clusterIP
  if (ip && ip !== 'None') return [ip]
  const endpoints = await get(`/api/v1/namespaces/${ns}/endpoints/${svc}`)
  return (endpoints?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip))
}

function parseQuestion(msg) {
  const labels = []
  let i = 12
  while (i < msg.length && msg[i] !== 0) {
    const len = msg[i]
    if (len > 63 || i + 1 + len > msg.length) return undefined
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('latin1'))
    i += 1 + len
  }
  if (i + 5 > msg.length) return undefined
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(i + 1), end: i + 5 }
}

function reply(query, end, rcode, ips) {
  const header = Buffer.alloc(12)
  header.writeUInt16BE(query.readUInt16BE(0), 0)
  // QR, opcode 0, AA, RD copied, RA; rcode.
  header.writeUInt16BE(0x8000 | 0x0400 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | rcode, 2)
  header.writeUInt16BE(1, 4)
  header.writeUInt16BE(ips.length, 6)
  const answers = ips.map((ip) => {
    const rr = Buffer.alloc(16)
    rr.writeUInt16BE(0xc00c, 0) // pointer to the question's name
    rr.writeUInt16BE(A, 2)
    rr.writeUInt16BE(1, 4)
    rr.writeUInt32BE(TTL, 6)
    rr.writeUInt16BE(4, 10)
    ip.split('.').forEach((o, k) => rr.writeUInt8(Number(o), 12 + k))
    return rr
  })
  return Buffer.concat([header, query.subarray(12, end), ...answers])
}

const socket = createSocket('udp4')
socket.on('message', async (msg, peer) => {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return
  const q = parseQuestion(msg)
  if (!q) return
  let out
  try {
    const ips = await lookup(q.name)
    if (ips === undefined) out = reply(msg, q.end, 3, [])
    else if (q.type === A)
      out = reply(
        msg,
        q.end,
        0,
        ips.filter((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip))
      )
    else out = reply(msg, q.end, 0, []) // the name exists: no records of that type
  } catch (err) {
    console.error(`cluster-dns: ${q.name}: ${err.message}`)
    out = reply(msg, q.end, 2, []) // SERVFAIL: the resolver tries again
  }
  socket.send(out, peer.port, peer.address)
})
socket.on('error', (err) => {
  console.error(`cluster-dns: ${err.message}`)
  process.exit(1)
})
socket.bind(53, address, () =>
  console.error(`cluster-dns: serving *.svc.${domain} on ${address}:53`)
)
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0))
