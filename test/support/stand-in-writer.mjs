// Stand-in programs, one implementation for the tests (test/support/stand-in.ts gives it its
// types) and the benchmarks (bench/lib.mjs): an executable named like the real tool that records
// every call and answers by argv pattern. Plain JavaScript, so that plain Node can run it.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Writes the stand-in `<dir>/<name>` (and its program beside it); returns a handle to its calls.
 * See stand-in.ts for the rules and options; `recordAnswer` records each call when it is
 * answered, with `startedAt`, `answeredAt` and the answer's `tag`, instead of when it starts.
 */
export function writeStandIn(dir, name, rules, options = {}) {
  mkdirSync(dir, { recursive: true })
  const stateDir = join(dir, `.${name}.stand-in`)
  mkdirSync(stateDir, { recursive: true })
  const callsFile = join(dir, `${name}.calls.jsonl`)
  writeFileSync(callsFile, '')
  const stored = rules.map((r) => ({
    ...r,
    match: r.match.map((m) => (m instanceof RegExp ? { re: m.source, flags: m.flags } : m))
  }))
  const config = {
    name,
    rules: stored,
    fallback: options.fallback ?? null,
    recordEnv: options.recordEnv ?? [],
    recordStdin: options.recordStdin ?? false,
    recordAnswer: options.recordAnswer ?? false,
    callsFile,
    stateDir
  }
  const program = join(stateDir, 'program.cjs')
  writeFileSync(program, `const config = ${JSON.stringify(config)}\n${PROGRAM}`)
  const path = join(dir, name)
  // The node that runs the tests or benchmarks, by absolute path: PATH may be narrowed to the
  // stand-ins.
  writeFileSync(path, `#!/bin/sh\nexec ${shQuote(process.execPath)} ${shQuote(program)} "$@"\n`)
  chmodSync(path, 0o755)
  const calls = () =>
    existsSync(callsFile)
      ? readFileSync(callsFile, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l))
      : []
  return { path, dir, name, calls, argvs: () => calls().map((c) => c.argv) }
}

function shQuote(s) {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

// The stand-in itself (CommonJS, no dependencies). Which call of a rule this is comes from
// creating `<rule>.<n>` exclusively: concurrent calls each get their own n without a lock.
const PROGRAM = String.raw`
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')
const startedAt = Date.now()
const argv = process.argv.slice(2)

function matches(pattern, args) {
  let i = 0
  for (const p of pattern) {
    const test = typeof p === 'string' ? (a) => a === p : (a) => new RegExp(p.re, p.flags).test(a)
    while (i < args.length && !test(args[i])) i++
    if (i >= args.length) return false
    i++
  }
  return true
}

function callNumber(ruleIndex) {
  for (let n = 0; ; n++) {
    try {
      fs.closeSync(fs.openSync(path.join(config.stateDir, ruleIndex + '.' + n), 'wx'))
      return n
    } catch (err) {
      if (err.code !== 'EEXIST') throw err
    }
  }
}

function readStdin() {
  try {
    return fs.readFileSync(0, 'utf8')
  } catch {
    return ''
  }
}

function answerFor() {
  const index = config.rules.findIndex((r) => matches(r.match, argv))
  if (index < 0) {
    return config.fallback || { exitCode: 1, stderr: 'stand-in ' + config.name + ': no answer for: ' + argv.join(' ') + '\n' }
  }
  const rule = config.rules[index]
  const n = callNumber(index)
  if (rule.sequence && rule.sequence.length > 0) return rule.sequence[Math.min(n, rule.sequence.length - 1)]
  return rule
}

function requestedRemote() {
  const spec = argv.find((a) => /^[0-9]*:[0-9A-Za-z-]+$/.test(a))
  return spec ? spec.split(':')[1] : '80'
}

function write(stream, text) {
  return new Promise((resolve) => (text ? stream.write(text, () => resolve()) : resolve()))
}

async function main() {
  const record = { argv, pid: process.pid }
  if (config.recordEnv === 'all') {
    record.env = { ...process.env }
  } else if (config.recordEnv.length > 0) {
    record.env = {}
    for (const k of config.recordEnv) record.env[k] = process.env[k] === undefined ? null : process.env[k]
  }
  if (config.recordStdin) record.stdin = readStdin()
  if (!config.recordAnswer) fs.appendFileSync(config.callsFile, JSON.stringify(record) + '\n')
  const answer = answerFor()
  for (const w of answer.writes || []) {
    const at = argv.indexOf(w.flag)
    if (at < 0 || at + 1 >= argv.length) continue
    let file = argv[at + 1]
    if (w.field) {
      const part = file.split(',').map((p) => p.replace(/^"|"$/g, '')).find((p) => p.startsWith(w.field + '='))
      if (!part) continue
      file = part.slice(w.field.length + 1)
    }
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, w.content)
  }
  if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs))
  if (config.recordAnswer) {
    record.startedAt = startedAt
    record.answeredAt = Date.now()
    if (answer.tag !== undefined) record.tag = answer.tag
    fs.appendFileSync(config.callsFile, JSON.stringify(record) + '\n')
  }
  const exitCode = answer.exitCode || 0
  if (answer.forward) {
    const target = answer.forward.port
    const server = net.createServer((socket) => {
      const upstream = net.connect(target, '127.0.0.1')
      socket.pipe(upstream).pipe(socket)
      socket.on('error', () => upstream.destroy())
      upstream.on('error', () => socket.destroy())
    })
    await new Promise((r) => server.listen(0, '127.0.0.1', r))
    const remote = answer.forward.remote === undefined ? requestedRemote() : answer.forward.remote
    await write(process.stdout, 'Forwarding from 127.0.0.1:' + server.address().port + ' -> ' + remote + '\n')
    await write(process.stdout, answer.stdout)
    await write(process.stderr, answer.stderr)
    if (typeof answer.stay === 'number') setTimeout(() => process.exit(exitCode), answer.stay)
    return
  }
  await write(process.stdout, answer.stdout)
  await write(process.stderr, answer.stderr)
  if (answer.stay === 'forever') {
    setInterval(() => undefined, 1 << 30)
    return
  }
  if (typeof answer.stay === 'number') await new Promise((r) => setTimeout(r, answer.stay))
  process.exit(exitCode)
}

main().catch((err) => {
  process.stderr.write('stand-in ' + config.name + ': ' + (err && err.stack ? err.stack : String(err)) + '\n')
  process.exit(70)
})
`
