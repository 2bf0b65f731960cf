// child_process, not @actions/exec: that never exposes the child, so it cannot time a command out or kill its process group.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { basename } from 'node:path'
import { RedactingStream, redact } from './redact.js'
import { formatMs, lastNonBlankLines } from './text.js'

/** The one log interface: a program's output as it runs, and lines of ours (a step's buffered log). */
export interface Log {
  write(text: string): void
  info(line: string): void
}

/** Where a running program's output goes while it runs: the writing half of a log. */
export type OutputSink = Pick<Log, 'write'>

export interface RunOptions {
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Written to the program's stdin, then closed. */
  input?: string
  sink?: OutputSink
  /** Return the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean
  /**
   * Stops the program: SIGTERM (helm records a cancelled release as failed), SIGKILL to its
   * process group if it has not ended within a grace. The run then rejects with the signal's reason.
   */
  signal?: AbortSignal
}

export interface RunResult {
  exitCode: number
  stdout: string
  stderr: string
  durationMs: number
}

export const DEFAULT_TIMEOUT_MS = 10 * 60_000
const ABORT_GRACE_MS = 15_000
const KEEP_BYTES = 8 * 1024 * 1024
const TAIL_LINES = 12

/** A program that failed: names the tool, its exit code and the last lines it printed. */
export class ToolError extends Error {
  constructor(
    readonly tool: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly tail: string,
    readonly timedOut: boolean,
    readonly timeoutMs: number
  ) {
    super(ToolError.describe(tool, args, exitCode, tail, timedOut, timeoutMs))
    this.name = 'ToolError'
  }

  private static describe(
    tool: string,
    args: readonly string[],
    exitCode: number | null,
    tail: string,
    timedOut: boolean,
    timeoutMs: number
  ): string {
    const cmd = redact([basename(tool), ...args.slice(0, 3)].join(' '))
    const what = timedOut
      ? `timed out after ${formatMs(timeoutMs)}`
      : exitCode === null
        ? 'could not be started'
        : `failed with exit code ${exitCode}`
    return tail ? `${cmd} ${what}: ${tail}` : `${cmd} ${what}`
  }

  /**
   * The error of a program that ran and exited non-zero, as `run` throws it: for a caller that
   * ran with `allowFailure` to tell some failures apart, and throws the others.
   */
  static of(tool: string, args: readonly string[], r: RunResult, timeoutMs: number): ToolError {
    const tail = lastLines(r.stderr) || lastLines(r.stdout)
    return new ToolError(tool, args, r.exitCode, tail, false, timeoutMs)
  }
}

/** The last meaningful lines of a program's output, redacted. */
export function lastLines(text: string, n = TAIL_LINES): string {
  // Redacted whole, before it is cut into lines: no cut ever splits a secret.
  return lastNonBlankLines(redact(text), n)
}

/**
 * The environment a program gets: the one given (or ours) without the action's `INPUT_*`
 * variables, which hold the token and the secret values and are no program's business.
 */
export function childEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(env)) if (!/^INPUT_/i.test(k)) out[k] = v
  return out
}

/** `helm status web --output json`, redacted: how a command is named in an error. */
export function commandLine(tool: string, args: readonly string[]): string {
  return redact([basename(tool), ...args].join(' '))
}

/**
 * A program's answer that is not what it should print, named with the whole command:
 * "`helm status web --output json` printed output that is not JSON".
 */
export class ToolOutputError extends Error {
  constructor(tool: string, args: readonly string[], what: string, output: string) {
    const shown = lastLines(output, 3)
    super(
      `\`${commandLine(tool, args)}\` printed ${what}${shown ? `: ${shown}` : ' (it printed nothing)'}`
    )
    this.name = 'ToolOutputError'
  }
}

/**
 * Parses a program's stdout as JSON, or says which command printed what instead. Every text in
 * the answer (keys and values) is redacted as it is parsed.
 */
export function parseJsonOutput<T>(tool: string, args: readonly string[], stdout: string): T {
  try {
    return JSON.parse(stdout, (_key, value: unknown) => redactValue(value)) as T
  } catch {
    throw new ToolOutputError(tool, args, 'output that is not JSON', stdout)
  }
}

function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redact(value)
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value
  const obj = value as Record<string, unknown>
  const keys = Object.keys(obj)
  if (keys.every((k) => redact(k) === k)) return obj
  // fromEntries defines each key as its own: a `__proto__` key stays a key.
  return Object.fromEntries(keys.map((k) => [redact(k), obj[k]]))
}

function keep(buf: string, chunk: string): string {
  const next = buf + chunk
  return next.length > KEEP_BYTES ? next.slice(next.length - KEEP_BYTES) : next
}

/**
 * The one way this action runs a program: a tool and its arguments, never a shell string,
 * always bounded by a timeout. The whole process group is killed on timeout.
 */
export function run(
  tool: string,
  args: readonly string[],
  opts: RunOptions = {}
): Promise<RunResult> {
  return execute(tool, args, opts, false)
}

/**
 * `run`, also keeping stdout as printed (`raw`) for a parser that redacts what it parsed:
 * a secret that happens to be `true` must not turn a JSON answer into something unreadable.
 */
async function execute(
  tool: string,
  args: readonly string[],
  opts: RunOptions,
  keepRaw: boolean
): Promise<RunResult & { raw?: string }> {
  // A program written a moment ago (a tool just installed) may still be open for writing in a
  // child another spawn forked meanwhile: exec then fails with ETXTBSY, before anything ran.
  for (let attempt = 1; ; attempt++) {
    try {
      return await executeOnce(tool, args, opts, keepRaw)
    } catch (err) {
      if (!(err instanceof TextBusy)) throw err
      if (attempt >= SPAWN_ATTEMPTS) throw err.cause
      await new Promise((r) => setTimeout(r, 50 * attempt))
    }
  }
}

const SPAWN_ATTEMPTS = 5

/** The program could not be started because its file was busy (ETXTBSY): worth another try. */
class TextBusy extends Error {}

function executeOnce(
  tool: string,
  args: readonly string[],
  opts: RunOptions,
  keepRaw: boolean
): Promise<RunResult & { raw?: string }> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const started = Date.now()
  return new Promise((resolve, reject) => {
    let stdout = ''
    let stderr = ''
    let raw = ''
    let timedOut = false
    let settled = false
    // A program that cannot be started is reported like one that failed, whether spawn says so
    // at once (ETXTBSY is thrown) or through its 'error' event (ENOENT).
    const cannotStart = (err: NodeJS.ErrnoException): Error => {
      const why = err.code === 'ENOENT' ? `${tool} was not found` : err.message
      const failure = new ToolError(tool, args, null, redact(why), false, timeoutMs)
      return err.code === 'ETXTBSY' ? new TextBusy(why, { cause: failure }) : failure
    }
    let child: ChildProcessWithoutNullStreams
    try {
      child = spawn(tool, [...args], {
        cwd: opts.cwd,
        env: childEnv(opts.env),
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true
      })
    } catch (err) {
      reject(cannotStart(err as NodeJS.ErrnoException))
      return
    }
    // Output is redacted as it arrives: nothing downstream (logs, verdicts, cut messages,
    // diagnostics) ever holds a secret, whatever it shortens or squeezes later.
    const out = new RedactingStream((d) => {
      stdout = keep(stdout, d)
      opts.sink?.write(d)
    })
    const err = new RedactingStream((d) => {
      stderr = keep(stderr, d)
      opts.sink?.write(d)
    })
    const timer = setTimeout(() => {
      timedOut = true
      kill(child.pid)
    }, timeoutMs)
    let graceTimer: ReturnType<typeof setTimeout> | undefined
    const onAbort = (): void => {
      try {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM')
      } catch {
        // already gone
      }
      graceTimer = setTimeout(() => kill(child.pid), ABORT_GRACE_MS)
    }
    if (opts.signal?.aborted) onAbort()
    else opts.signal?.addEventListener('abort', onAbort, { once: true })
    const stopped = (): void => {
      clearTimeout(timer)
      clearTimeout(graceTimer)
      opts.signal?.removeEventListener('abort', onAbort)
    }
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    child.stdout.on('data', (d: string) => {
      if (keepRaw) raw = keep(raw, d)
      out.write(d)
    })
    child.stderr.on('data', (d: string) => err.write(d))
    child.stdin.on('error', () => undefined)
    child.stdin.end(opts.input ?? '')
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return
      settled = true
      stopped()
      reject(cannotStart(err))
    })
    child.on('close', (code, signal) => {
      if (settled) return
      settled = true
      stopped()
      out.end()
      err.end()
      const exitCode = code ?? (signal ? 128 : 1)
      const result = {
        exitCode,
        stdout,
        stderr,
        durationMs: Date.now() - started,
        ...(keepRaw ? { raw } : {})
      }
      if (opts.signal?.aborted && !timedOut) {
        const reason: unknown = opts.signal.reason
        reject(reason instanceof Error ? reason : new Error(`${basename(tool)} was stopped`))
      } else if (timedOut) {
        const tail = lastLines(stderr) || lastLines(stdout)
        reject(new ToolError(tool, args, null, tail, true, timeoutMs))
      } else if (exitCode !== 0 && !opts.allowFailure) {
        reject(ToolError.of(tool, args, result, timeoutMs))
      } else {
        resolve(result)
      }
    })
  })
}

function kill(pid: number | undefined): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}

/** Runs a program and parses its stdout as JSON. */
export async function runJson<T>(
  tool: string,
  args: readonly string[],
  opts: RunOptions = {}
): Promise<T> {
  const { raw } = await execute(tool, args, opts, true)
  return parseJsonOutput<T>(tool, args, raw ?? '')
}

/** A program left running in the background (a port-forward), stopped by its owner. */
export class Background {
  constructor(
    private readonly child: ReturnType<typeof spawn>,
    /** The match of the ready pattern. */
    readonly ready: RegExpExecArray
  ) {}

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  stop(): void {
    if (this.alive) kill(this.child.pid)
  }
}

/**
 * Starts a long-running program and resolves once its output matches `readyPattern`.
 * It is bounded twice: by `startTimeoutMs` to become ready and by `lifetimeMs` overall.
 */
export function startBackground(
  tool: string,
  args: readonly string[],
  opts: {
    readyPattern: RegExp
    startTimeoutMs: number
    lifetimeMs: number
    env?: NodeJS.ProcessEnv
  }
): Promise<Background> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, [...args], {
      env: childEnv(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true
    })
    let out = ''
    let ready = false
    const startTimer = setTimeout(() => {
      kill(child.pid)
      seen.end()
      reject(new ToolError(tool, args, null, lastLines(out, 3), true, opts.startTimeoutMs))
    }, opts.startTimeoutMs)
    const lifeTimer = setTimeout(() => kill(child.pid), opts.lifetimeMs)
    lifeTimer.unref()
    const seen = new RedactingStream((d) => {
      if (ready) return
      out = keep(out, d)
      const m = opts.readyPattern.exec(out)
      if (m) {
        ready = true
        clearTimeout(startTimer)
        resolve(new Background(child, m))
      }
    })
    const onData = (d: string): void => {
      if (!ready) seen.write(d)
    }
    child.stdout?.setEncoding('utf8')
    child.stderr?.setEncoding('utf8')
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(startTimer)
      clearTimeout(lifeTimer)
      if (!ready)
        reject(
          new ToolError(
            tool,
            args,
            null,
            err.code === 'ENOENT' ? `${tool} was not found` : err.message,
            false,
            0
          )
        )
    })
    child.on('close', (code) => {
      clearTimeout(startTimer)
      clearTimeout(lifeTimer)
      seen.end()
      if (!ready) reject(new ToolError(tool, args, code, lastLines(out, 3), false, 0))
    })
  })
}
