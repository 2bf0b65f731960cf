// The real-engine suite's engine: `scripts/docker-up.sh` starts (or finds) the test Docker engine,
// its buildkitd and loopback registry; the tests get DOCKER_HOST, DOCKER_CONFIG, BUILDKIT_HOST and
// MP_REGISTRY from it, and MP_<NAME>_IMAGE for each local base image. An
// engine this setup started is stopped again (`scripts/docker-down.sh`) when the suite ends.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '..', '..')

function engineDir(): string {
  const cache = process.env['MP_CACHE'] || join(homedir(), '.cache', 'minikube-preview')
  return process.env['MP_DOCKER_DIR'] || join(cache, 'docker-engine')
}

/** Whether the engine's dockerd runs: its pid file names a live `dockerd`. */
function running(): boolean {
  try {
    const pid = readFileSync(join(engineDir(), 'dockerd.pid'), 'utf8').trim()
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'dockerd'
  } catch {
    return false
  }
}

export default function setup(): () => void {
  const wasRunning = running()
  const stdout = execFileSync('bash', [join(ROOT, 'scripts', 'docker-up.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 60 * 60_000
  }).toString()
  for (const line of stdout.trim().split('\n').slice(-4)) {
    const m = /^(DOCKER_HOST|DOCKER_CONFIG|BUILDKIT_HOST|MP_REGISTRY)=(.+)$/.exec(line)
    if (m) process.env[m[1] as string] = m[2]
  }
  if (!process.env['DOCKER_HOST']?.startsWith('unix://'))
    throw new Error(`scripts/docker-up.sh printed no DOCKER_HOST line:\n${stdout}`)
  const names = execFileSync('bash', [join(ROOT, 'scripts', 'docker-bases.sh'), 'names']).toString()
  for (const line of names.trim().split('\n')) {
    const m = /^([A-Z]+_IMAGE)=(.+)$/.exec(line)
    if (m) process.env[`MP_${m[1]}`] = m[2]
  }
  return () => {
    if (!wasRunning && process.env['MP_DOCKER_KEEP'] !== '1') {
      execFileSync('bash', [join(ROOT, 'scripts', 'docker-down.sh')], {
        stdio: 'inherit',
        timeout: 5 * 60_000
      })
    }
  }
}
