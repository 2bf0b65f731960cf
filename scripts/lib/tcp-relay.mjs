#!/usr/bin/env node
// Relays TCP connections from <listen-address>:<port> to 127.0.0.1:<port>: the real node runs in
// a network namespace of its own and reaches the control plane's loopback-bound API server
// through the host's end of its veth pair. Bytes pass through untouched (TLS end to end).
//
//   node tcp-relay.mjs <listen-address> <port>
import { connect, createServer } from 'node:net'

const [address, portText] = process.argv.slice(2)
const port = Number(portText)
if (!address || !Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('usage: tcp-relay.mjs <listen-address> <port>')
  process.exit(2)
}

const server = createServer((client) => {
  const upstream = connect({ host: '127.0.0.1', port })
  client.pipe(upstream)
  upstream.pipe(client)
  const close = () => {
    client.destroy()
    upstream.destroy()
  }
  client.on('error', close)
  upstream.on('error', close)
  client.on('close', close)
  upstream.on('close', close)
})
server.on('error', (err) => {
  console.error(`tcp-relay: ${err.message}`)
  process.exit(1)
})
server.listen(port, address, () =>
  console.error(`tcp-relay: ${address}:${port} -> 127.0.0.1:${port}`)
)
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0))
