// The reference app's images (docker/backend, docker/frontend) built for real on the test
// engine, on local stand-ins for their public bases (which cannot be pulled here), then run the
// way the chart runs them: as their non-root user, read-only root filesystem, no capabilities,
// only the chart's emptyDir mounts writable.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { ROOT } from '../support/action.js'
import { base, docker, engineEnv, removeImages } from './engine.js'

const containers: string[] = []
afterEach(() => {
  for (const c of containers.splice(0)) {
    try {
      docker(['rm', '--force', c])
    } catch {
      // already gone
    }
  }
})

interface ChartPart {
  podSecurityContext: { runAsUser: number; runAsGroup: number; runAsNonRoot: boolean }
  securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean }
}
const values = parseYaml(
  readFileSync(join(ROOT, 'charts', 'todo-chatbot', 'values.yaml'), 'utf8')
) as Record<'backend' | 'frontend', ChartPart>

/** `docker buildx build` on the engine's own BuildKit; RUN steps reach the package registries. */
function buildImage(dir: string, tag: string, buildArgs: Record<string, string>): void {
  removeImages(tag)
  const args = ['buildx', 'build', '--progress=plain', '--load', '--network', 'host', '--tag', tag]
  for (const [k, v] of Object.entries(buildArgs)) args.push('--build-arg', `${k}=${v}`)
  args.push(join(ROOT, 'docker', dir))
  try {
    execFileSync('docker', args, {
      env: { ...process.env, ...engineEnv() },
      timeout: 20 * 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024
    })
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer }
    const out = `${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`
    throw new Error(`docker build of ${dir} failed:\n${out.split('\n').slice(-40).join('\n')}`)
  }
}

/** Starts the image as the chart runs it; returns the container and its published port. */
function runAsChart(
  tag: string,
  part: ChartPart,
  port: number,
  writable: string[]
): { id: string; url: string; pid: number } {
  const { runAsUser, runAsGroup } = part.podSecurityContext
  const args = ['run', '--detach', '--publish', `127.0.0.1::${port}`]
  // The chart's container securityContext, in docker's words.
  if (part.securityContext.readOnlyRootFilesystem) args.push('--read-only')
  if (!part.securityContext.allowPrivilegeEscalation)
    args.push('--security-opt', 'no-new-privileges')
  args.push('--cap-drop', 'ALL', '--user', `${runAsUser}:${runAsGroup}`)
  for (const w of writable) args.push('--tmpfs', `${w}:uid=${runAsUser},gid=${runAsGroup}`)
  const id = docker([...args, tag])
  containers.push(id)
  const published = docker(['port', id, `${port}/tcp`]).split('\n')[0] as string
  const pid = Number(docker(['inspect', '--format', '{{.State.Pid}}', id]))
  return { id, url: `http://${published}`, pid }
}

async function waitForOk(url: string, id: string, timeoutMs = 90_000): Promise<Response> {
  const until = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < until) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3_000) })
      if (res.ok) return res
      last = `HTTP ${res.status}`
    } catch (err) {
      last = String(err)
    }
    if (docker(['inspect', '--format', '{{.State.Running}}', id]) !== 'true') break
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`${url} did not answer 200 (${last}); container log:\n${docker(['logs', id])}`)
}

/** The real uid of the container's main process, read from the host. */
function uidOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Uid:')) as string
  return Number(line.split(/\s+/)[1])
}

function writeFails(id: string, path: string): string {
  try {
    docker(['exec', id, 'sh', '-c', `echo probe > ${path}`])
    return ''
  } catch (err) {
    return (err as { stderr?: Buffer }).stderr?.toString() ?? String(err)
  }
}

describe('the reference images on a real engine', () => {
  it('backend: builds on a local Python 3.13 base and serves /health as uid 10001 on a read-only root', async () => {
    const tag = 'todo-chatbot-backend:docker-test'
    buildImage('backend', tag, { PYTHON_IMAGE: base('PYTHON') })
    const part = values.backend
    const c = runAsChart(tag, part, 8001, ['/tmp'])
    const res = await waitForOk(`${c.url}/health`, c.id)
    expect(await res.json()).toEqual({ status: 'healthy' })
    expect(uidOf(c.pid)).toBe(part.podSecurityContext.runAsUser)
    expect(uidOf(c.pid)).not.toBe(0)
    // The image's own USER is the chart's, so runAsNonRoot holds without the chart saying so.
    expect(docker(['image', 'inspect', '--format', '{{.Config.User}}', tag])).toBe('10001:10001')
    expect(writeFails(c.id, '/app/probe')).toMatch(/Read-only file system/)
  })

  it('frontend: builds on a local Node 24 base and serves /healthz as uid 1000 on a read-only root', async () => {
    const tag = 'todo-chatbot-frontend:docker-test'
    buildImage('frontend', tag, { NODE_IMAGE: base('NODE') })
    const part = values.frontend
    const c = runAsChart(tag, part, 3000, ['/tmp', '/app/.next/cache'])
    const res = await waitForOk(`${c.url}/healthz`, c.id)
    expect(await res.json()).toEqual({ status: 'ok' })
    expect(uidOf(c.pid)).toBe(part.podSecurityContext.runAsUser)
    expect(docker(['image', 'inspect', '--format', '{{.Config.User}}', tag])).toBe('1000:1000')
    expect(writeFails(c.id, '/app/probe')).toMatch(/Read-only file system/)
  })
})
