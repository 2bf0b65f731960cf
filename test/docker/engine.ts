// The real-engine suite's side of the test engine: the docker CLI pointed at it, the local base
// images, and a runner world with the real docker on PATH and stand-ins for everything else.
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fakeTools, VERSIONS, type FakeToolRules, type FakeTools } from '../support/fake-tools.js'
import { makeRunner, type Runner } from '../support/action.js'
import { startToolServer, type ToolServer } from '../support/tool-server.js'

/** The environment the action gets to reach the test engine. */
export function engineEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const k of ['DOCKER_HOST', 'DOCKER_CONFIG']) {
    const v = process.env[k]
    if (!v) throw new Error(`${k} is not set: run through vitest.docker.config.ts`)
    env[k] = v
  }
  return env
}

/** The local base images of scripts/docker-bases.sh. */
export function base(name: 'BUSYBOX' | 'PYTHON' | 'NODE'): string {
  const image = process.env[`MP_${name}_IMAGE`]
  if (!image) throw new Error(`MP_${name}_IMAGE is not set: run through vitest.docker.config.ts`)
  return image
}

/** The test engine's loopback registry, `127.0.0.1:<port>`. */
export function registry(): string {
  const r = process.env['MP_REGISTRY']
  if (!r) throw new Error('MP_REGISTRY is not set: run through vitest.docker.config.ts')
  return r
}

/** The real docker CLI on the test engine; stdout, trimmed. */
export function docker(args: string[], timeoutMs = 120_000): string {
  return execFileSync('docker', args, {
    env: { ...process.env, ...engineEnv() },
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024
  })
    .toString()
    .trim()
}

export interface World {
  runner: Runner
  tools: FakeTools
  /** PATH for the action: the real docker, stand-ins for minikube, helm and kubectl (installed). */
  path: string
  env: Record<string, string>
  /** The inputs pointing the action at the stand-ins' download server(s). */
  inputs: Record<string, string>
  /** Stops the download servers and removes the runner's folders. */
  close(): Promise<void>
}

/**
 * A `minikube` whose `image load <file>.tar` really loads that tarball into the test engine (then
 * answers as the stand-in does): proof that what the action hands to minikube is a loadable image.
 */
function loadingMinikube(dir: string, standIn: string): string {
  const path = join(dir, 'minikube')
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    path,
    [
      '#!/bin/sh',
      'if [ "$1" = image ] && [ "$2" = load ] && [ "${3%.tar}" != "$3" ]; then',
      '  docker load --input "$3" >&2 || exit 1',
      'fi',
      `exec '${standIn.replace(/'/g, `'\\''`)}' "$@"`,
      ''
    ].join('\n')
  )
  chmodSync(path, 0o755)
  return path
}

/** A runner with files in its workspace (path → content) and the test engine in its env. */
export async function world(
  files: Record<string, string>,
  rules: FakeToolRules = {},
  opts: { loadIntoEngine?: boolean } = {}
): Promise<World> {
  const runner = makeRunner()
  for (const [path, content] of Object.entries(files)) {
    const full = join(runner.workspace, path)
    mkdirSync(dirname(full), { recursive: true })
    writeFileSync(full, content)
  }
  const tools = await fakeTools(join(runner.root, 'tools'), rules)
  const inputs = { ...tools.inputs }
  let extra: ToolServer | undefined
  if (opts.loadIntoEngine) {
    const wrapper = loadingMinikube(join(runner.root, 'tools', 'loading'), tools.minikube.path)
    extra = await startToolServer({ tools: { minikube: { [VERSIONS.minikube]: wrapper } } })
    inputs['minikube-base-url'] = extra.urls.minikube
  }
  return {
    runner,
    tools,
    path: process.env['PATH'] ?? '',
    env: engineEnv(),
    inputs,
    close: async () => {
      await tools.close()
      await extra?.close()
      rmSync(runner.root, { recursive: true, force: true })
    }
  }
}

/** Removes images the tests tagged, so that a second run builds them again. */
export function removeImages(...references: string[]): void {
  for (const r of references) {
    try {
      docker(['image', 'rm', '--force', r])
    } catch {
      // not there
    }
  }
}
