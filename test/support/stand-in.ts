// Stand-in programs for tests: an executable named like the real tool (kubectl, helm, minikube,
// docker) that records every call and answers by argv pattern, so code under test runs real
// processes without the real tool.
//
//   const kubectl = standIn(dir, 'kubectl', [
//     { match: ['get', 'events'], stdout: JSON.stringify({ items: [] }) },
//     { match: ['rollout', 'status'], sequence: [{ exitCode: 1, stderr: 'not yet' }, { stdout: 'done' }] },
//     { match: ['port-forward'], forward: { port: server.port } },
//     { match: ['logs'], stdout: 'hello', delayMs: 200 }
//   ])
//   new Kubectl(kubectl.path) ... kubectl.calls() ... kubectl.argvs()
//
// A rule matches when its `match` entries occur in argv in that order (not necessarily next to
// each other); a string must equal the argument, a RegExp must match it. The first matching
// rule answers. A call no rule matches exits 1 with `stand-in <name>: no answer for ...` on
// stderr, unless `fallback` says otherwise.

import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'

export interface Answer {
  stdout?: string
  stderr?: string
  /** Default 0. */
  exitCode?: number
  /** Wait this long before answering. */
  delayMs?: number
  /**
   * After printing, keep running: this many milliseconds, or `'forever'` (until killed).
   * Without it the program exits right after printing.
   */
  stay?: number | 'forever'
  /**
   * Answer like `kubectl port-forward`: listen on a free local port, print
   * `Forwarding from 127.0.0.1:<that port> -> <remote>` and pass every connection on to
   * 127.0.0.1:`port`. Keeps running until killed, or for `stay` milliseconds if given.
   * `remote` defaults to the port asked for on the command line (`:8001` → 8001).
   */
  forward?: { port: number; remote?: number | string }
  /**
   * Files to write before answering, like a build's `--metadata-file <path>`: the path is the
   * argument after `flag`, or with `field` the `field=<path>` part of that comma-separated
   * argument (`--output type=docker,dest=<path>`).
   */
  writes?: { flag: string; field?: string; content: string }[]
}

export interface Rule extends Answer {
  match: (string | RegExp)[]
  /** Answers for the 1st, 2nd, ... call that matches this rule; the last one repeats. */
  sequence?: Answer[]
}

export interface StandInOptions {
  /** The answer to a call no rule matches. */
  fallback?: Answer
  /**
   * Environment variables recorded with each call (their values, or null when unset);
   * `'all'` records the whole environment the program was given.
   */
  recordEnv?: string[] | 'all'
  /** Record what the call received on stdin (read to its end before answering). */
  recordStdin?: boolean
}

export interface Call {
  argv: string[]
  /** The stand-in's process id, to stop one that was told to stay. */
  pid?: number
  env?: Record<string, string | null>
  stdin?: string
}

export interface StandIn {
  /** The executable: pass it as the tool's path, or put `dir` first on PATH. */
  path: string
  dir: string
  name: string
  /** Every call so far, in order. */
  calls(): Call[]
  /** The argv of every call so far, in order. */
  argvs(): string[][]
}

type Pattern = string | { re: string; flags: string }

interface StoredRule extends Answer {
  match: Pattern[]
  sequence?: Answer[]
}

/** Writes the stand-in `<dir>/<name>` (and its program beside it); returns a handle to its calls. */
export function standIn(
  dir: string,
  name: string,
  rules: Rule[],
  options: StandInOptions = {}
): StandIn {
  mkdirSync(dir, { recursive: true })
  const stateDir = join(dir, `.${name}.stand-in`)
  mkdirSync(stateDir, { recursive: true })
  const callsFile = join(dir, `${name}.calls.jsonl`)
  writeFileSync(callsFile, '')
  const stored: StoredRule[] = rules.map((r) => ({
    ...r,
    match: r.match.map((m) => (m instanceof RegExp ? { re: m.source, flags: m.flags } : m))
  }))
  const config = {
    name,
    rules: stored,
    fallback: options.fallback ?? null,
    recordEnv: options.recordEnv ?? [],
    recordStdin: options.recordStdin ?? false,
    callsFile,
    stateDir
  }
  const program = join(stateDir, 'program.cjs')
  writeFileSync(program, `const config = ${JSON.stringify(config)}\n${PROGRAM}`)
  const path = join(dir, name)
  // The node that runs the tests, by absolute path: a test may narrow PATH to the stand-ins.
  writeFileSync(path, `#!/bin/sh\nexec ${shQuote(process.execPath)} ${shQuote(program)} "$@"\n`)
  chmodSync(path, 0o755)
  const calls = (): Call[] =>
    existsSync(callsFile)
      ? readFileSync(callsFile, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as Call)
      : []
  return { path, dir, name, calls, argvs: () => calls().map((c) => c.argv) }
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

/** PATH with these directories first, for a child process that must find the stand-ins. */
export function pathWith(...dirs: string[]): string {
  return [...dirs, process.env['PATH'] ?? ''].join(delimiter)
}

// The stand-in itself (CommonJS, no dependencies). Which call of a rule this is comes from
// creating `<rule>.<n>` exclusively: concurrent calls each get their own n without a lock.
const PROGRAM = String.raw`
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')
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
  fs.appendFileSync(config.callsFile, JSON.stringify(record) + '\n')
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
