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

import { delimiter } from 'node:path'
import { writeStandIn } from './stand-in-writer.mjs'

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

/** Writes the stand-in `<dir>/<name>` (and its program beside it); returns a handle to its calls. */
export function standIn(
  dir: string,
  name: string,
  rules: Rule[],
  options: StandInOptions = {}
): StandIn {
  return writeStandIn(dir, name, rules, options) as StandIn
}

/** PATH with these directories first, for a child process that must find the stand-ins. */
export function pathWith(...dirs: string[]): string {
  return [...dirs, process.env['PATH'] ?? ''].join(delimiter)
}
