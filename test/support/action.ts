// Runs the bundled action (dist/index.js) as a subprocess, the way a GitHub runner does:
// INPUT_* for every input (defaults from action.yml), the GITHUB_* files, Node 24, then the
// post step in a new process with the state main saved.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const DIST = join(ROOT, 'dist', 'index.js')

interface ActionYml {
  inputs: Record<string, { default?: string }>
}

export function actionDefaults(): Record<string, string> {
  const doc = parseYaml(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as ActionYml
  const out: Record<string, string> = {}
  for (const [name, spec] of Object.entries(doc.inputs)) out[name] = spec.default ?? ''
  return out
}

/** A runner's folders for one job: workspace, temp, tool cache, and the command files. */
export interface Runner {
  root: string
  workspace: string
  temp: string
  toolCache: string
  home: string
}

export function makeRunner(base?: string): Runner {
  const root = base ?? mkdtempSync(join(tmpdir(), 'mp-runner-'))
  const r = {
    root,
    workspace: join(root, 'workspace'),
    temp: join(root, 'temp'),
    toolCache: join(root, 'toolcache'),
    home: join(root, 'home')
  }
  for (const d of [r.workspace, r.temp, r.toolCache, r.home]) mkdirSync(d, { recursive: true })
  return r
}

export interface StepRun {
  exitCode: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
  state: Record<string, string>
  /** Folders added to PATH for later steps. */
  path: string[]
  summary: string
  /** `::error::` and `::warning::` lines. */
  errors: string[]
  warnings: string[]
}

/** Parses `name<<DELIM\nvalue\nDELIM` and `name=value` entries of GITHUB_OUTPUT / GITHUB_STATE. */
export function parseCommandFile(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const [, name, delim] = heredoc as unknown as [string, string, string]
      const value: string[] = []
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i] as string)
      out[name] = value.join('\n')
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
    }
  }
  return out
}

export interface RunOptions {
  inputs?: Record<string, string>
  env?: Record<string, string | undefined>
  /** PATH for the action (stand-ins first). */
  path?: string
  /** For the post step: the state main saved. */
  state?: Record<string, string>
  timeoutMs?: number
  /**
   * Kills the step (SIGKILL, as a runner does in the end to a cancelled job) as soon as this
   * returns true; asked every 50 ms.
   */
  killWhen?: () => boolean
}

/** Runs one step (main, or post when `state` is given) of the bundled action under Node 24. */
export async function runStep(runner: Runner, opts: RunOptions = {}): Promise<StepRun> {
  const node = process.env['NODE24']
  if (!node || !existsSync(node))
    throw new Error('NODE24 is not set: run through vitest (test/setup/node24.ts)')
  const files = mkdtempSync(join(runner.root, 'step-'))
  const f = {
    output: join(files, 'output'),
    state: join(files, 'state'),
    path: join(files, 'path'),
    summary: join(files, 'summary'),
    env: join(files, 'env')
  }
  for (const p of Object.values(f)) writeFileSync(p, '')
  const env: Record<string, string> = {
    PATH: opts.path ?? process.env['PATH'] ?? '',
    HOME: runner.home,
    RUNNER_TEMP: runner.temp,
    RUNNER_TOOL_CACHE: runner.toolCache,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    GITHUB_WORKSPACE: runner.workspace,
    GITHUB_OUTPUT: f.output,
    GITHUB_STATE: f.state,
    GITHUB_PATH: f.path,
    GITHUB_ENV: f.env,
    GITHUB_STEP_SUMMARY: f.summary,
    GITHUB_REPOSITORY: 'octo/todo',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '42',
    GITHUB_ACTIONS: 'true',
    CI: 'true'
  }
  const inputs = { ...actionDefaults(), 'github-token': '', ...(opts.inputs ?? {}) }
  for (const [name, value] of Object.entries(inputs))
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  for (const [name, value] of Object.entries(opts.state ?? {})) env[`STATE_${name}`] = value
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  const { exitCode, stdout, stderr } = await new Promise<{
    exitCode: number
    stdout: string
    stderr: string
  }>((done, fail) => {
    const child = spawn(node, [DIST], {
      env,
      cwd: runner.workspace,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000)
    const watch = opts.killWhen
      ? setInterval(() => {
          if (opts.killWhen?.()) child.kill('SIGKILL')
        }, 50)
      : undefined
    child.on('error', fail)
    child.on('close', (code) => {
      clearTimeout(timer)
      clearInterval(watch)
      done({ exitCode: code ?? 1, stdout: out, stderr: err })
    })
  })
  const lines = stdout.split('\n')
  return {
    exitCode,
    stdout,
    stderr,
    outputs: parseCommandFile(readFileSync(f.output, 'utf8')),
    state: parseCommandFile(readFileSync(f.state, 'utf8')),
    path: readFileSync(f.path, 'utf8').split('\n').filter(Boolean),
    summary: readFileSync(f.summary, 'utf8'),
    errors: lines.filter((l) => l.startsWith('::error')),
    warnings: lines.filter((l) => l.startsWith('::warning'))
  }
}

/** main, then post with main's state, as a runner does. */
export async function runMainAndPost(
  runner: Runner,
  opts: RunOptions = {}
): Promise<{ main: StepRun; post: StepRun }> {
  const main = await runStep(runner, opts)
  const post = await runStep(runner, { ...opts, state: main.state })
  return { main, post }
}
