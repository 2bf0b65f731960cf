// Secrets at the boundary where program output enters the process, and the environment
// programs get: real child processes (node, stand-ins), no mocks.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { childEnv, run, runJson, startBackground, type OutputSink } from '../../src/exec.js'
import { RedactingStream, redact, registerSecret } from '../../src/redact.js'
import { Helm, manifestObjects } from '../../src/tools/helm.js'
import { Docker } from '../../src/tools/docker.js'
import { secretValuesDocument } from '../../src/deploy/values.js'
import { removeSecretValues } from '../../src/post.js'
import { standIn } from '../support/stand-in.js'

const SECRET = 'canary-Zq81-x7'
const SPACED = 'two  spaces  inside-9k'
const QUOTED = 'quote"and\\slash-4m'
const HTML = "a<b>&c'd-2p"
registerSecret(SECRET)
registerSecret(SPACED)
registerSecret(QUOTED)
registerSecret(HTML)

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mp-secrets-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

const node = process.execPath

class Sink implements OutputSink {
  writes: string[] = []
  write(text: string): void {
    this.writes.push(text)
  }
}

describe('redacting output that arrives in pieces', () => {
  const line = `password is ${SECRET} and ${SPACED}, json "${JSON.stringify(QUOTED).slice(1, -1)}"\n`
  it.each([...Array(line.length).keys()].filter((i) => i % 3 === 0))(
    'a secret cut at %i between two pieces is still masked',
    (at) => {
      const out: string[] = []
      const s = new RedactingStream((t) => out.push(t))
      s.write(line.slice(0, at))
      s.write(line.slice(at))
      s.end()
      const text = out.join('')
      expect(text).toBe('password is *** and ***, json "***"\n')
    }
  )

  it('passes on a line that never ends, keeping back only what could start a secret', () => {
    const out: string[] = []
    const s = new RedactingStream((t) => out.push(t))
    const long = 'x'.repeat(70 * 1024 - 5)
    s.write(long + SECRET.slice(0, 9))
    expect(out.join('').length).toBeGreaterThan(60 * 1024)
    expect(out.join('')).not.toContain(SECRET.slice(0, 9))
    s.write(SECRET.slice(9) + ' end')
    s.end()
    expect(out.join('')).toBe(`${long}*** end`)
  })

  it.each([0, 1, 2, 5])('masks a secret inside a longer base64 text, %i bytes in', (offset) => {
    const url = `${'p'.repeat(offset)}postgresql://todo:${SECRET}@db:5432/todo`
    const shown = redact(Buffer.from(url).toString('base64'))
    expect(shown).toContain('***')
    // What is left of the base64 text decodes to no part of the secret longer than 2 bytes.
    for (const piece of shown.split('***')) {
      const decoded = Buffer.from(piece.replace(/[^A-Za-z0-9+/]/g, ''), 'base64').toString('latin1')
      for (let i = 0; i + 3 <= SECRET.length; i++)
        expect(decoded).not.toContain(SECRET.slice(i, i + 3))
    }
  })

  it('masks the forms kubectl JSON and helm YAML give a secret', () => {
    expect(redact(`"a\\u003cb\\u003e\\u0026c'd-2p" 'a<b>&c''d-2p'`)).toBe(`"***" '***'`)
  })

  it('masks the JSON, URL and base64 forms a program prints', () => {
    expect(
      redact(
        `${JSON.stringify(QUOTED)} ${encodeURIComponent(SPACED)} ${Buffer.from(SECRET).toString('base64')}`
      )
    ).toBe('"***" *** ***')
  })
})

describe('exec', () => {
  it('gives every program an environment without INPUT_* variables', async () => {
    const env = {
      ...process.env,
      'INPUT_SECRET-VALUES': `a=${SECRET}`,
      'INPUT_GITHUB-TOKEN': 'ghs_x',
      input_lower: 'x',
      KEEP_ME: 'yes'
    }
    const print = `console.log(JSON.stringify(Object.keys(process.env).filter(k => /^input_|^KEEP_ME$/i.test(k))))`
    const r = await run(node, ['-e', print], { env })
    expect(JSON.parse(r.stdout)).toEqual(['KEEP_ME'])
    process.env['INPUT_GITHUB-TOKEN'] = 'ghs_from_process_env'
    try {
      const inherited = await run(node, ['-e', print])
      expect(JSON.parse(inherited.stdout)).toEqual([])
      const bg = await startBackground(node, ['-e', `${print}; setInterval(() => {}, 1000)`], {
        readyPattern: /^\[(.*)\]$/m,
        startTimeoutMs: 30_000,
        lifetimeMs: 60_000,
        env
      })
      bg.stop()
      expect(bg.ready[1]).toBe('"KEEP_ME"')
    } finally {
      delete process.env['INPUT_GITHUB-TOKEN']
    }
    expect(Object.keys(childEnv({ INPUT_X: '1', PATH: '/bin' }))).toEqual(['PATH'])
  })

  it('returns output already redacted, even a secret split across writes', async () => {
    const sink = new Sink()
    const half = Math.floor(SECRET.length / 2)
    const script = [
      `process.stdout.write(${JSON.stringify(`db ${SECRET.slice(0, half)}`)})`,
      `setTimeout(() => { process.stdout.write(${JSON.stringify(`${SECRET.slice(half)} ok\n`)}); process.stderr.write(${JSON.stringify(`${SPACED}\n`)}) }, 100)`
    ].join(';')
    const r = await run(node, ['-e', script], { sink })
    expect(r.stdout).toBe('db *** ok\n')
    expect(r.stderr).toBe('***\n')
    expect(sink.writes.join('')).not.toMatch(/canary|spaces/)
  })

  it('a failed program’s error carries its redacted last lines, never the secret', async () => {
    const err = await run(node, [
      '-e',
      `console.error('auth ${SPACED} failed'); process.exit(3)`
    ]).catch((e: Error) => e)
    expect(String(err)).toContain('failed with exit code 3: auth *** failed')
    expect(String(err)).not.toContain('spaces')
  })

  it('reads a JSON answer whole even when a secret is a word of JSON, and redacts its texts', async () => {
    registerSecret('true')
    const answer = { ready: true, message: `auth true failed for ${SECRET}`, [SECRET]: 1 }
    const doc = await runJson<Record<string, unknown>>(node, [
      '-e',
      `console.log(JSON.stringify(${JSON.stringify(answer)}))`
    ])
    expect(doc).toEqual({ ready: true, message: 'auth *** failed for ***', '***': 1 })
  })

  it('names the whole command when a program prints something that is not JSON', async () => {
    const err = await runJson(node, ['-e', 'console.log("Error: oops")', '--', 'a', 'b']).catch(
      (e: Error) => e
    )
    expect(String(err)).toContain(
      '`node -e console.log("Error: oops") -- a b` printed output that is not JSON: Error: oops'
    )
    const empty = await runJson(node, ['-e', '']).catch((e: Error) => e)
    expect(String(empty)).toContain(
      '`node -e ` printed output that is not JSON (it printed nothing)'
    )
  })

  it('helm status and docker inspect answers that are not JSON name the command', async () => {
    const helm = standIn(dir, 'helm', [{ match: ['status'], stdout: '' }])
    const docker = standIn(dir, 'docker', [
      { match: ['image', 'inspect'], stdout: 'Error: no such image\n' }
    ])
    await expect(new Helm(helm.path).revision('web', 'preview')).rejects.toThrow(
      '`helm status web --namespace preview --output json` printed output that is not JSON (it printed nothing)'
    )
    await expect(new Docker(docker.path).inspect('api:sha-1')).rejects.toThrow(
      '`docker image inspect --format {{json .}} api:sha-1` printed output that is not JSON: Error: no such image'
    )
  })
})

describe('values and manifests with secrets', () => {
  it('a redacted manifest still tells its objects', () => {
    const manifest = redact(
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  annotations:\n    note: ${SECRET}\n    helm.sh/hook: pre-install\ndata:\n  password: ${Buffer.from(SECRET).toString('base64')}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n`
    )
    expect(manifest).not.toContain(SECRET)
    expect(manifestObjects(manifest)).toEqual([
      {
        apiVersion: 'v1',
        kind: 'Secret',
        name: 'db',
        namespace: undefined,
        annotations: { 'helm.sh/hook': 'pre-install' }
      },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'api',
        namespace: undefined,
        annotations: {}
      }
    ])
  })

  it('a key named __proto__ never reaches Object.prototype', () => {
    const doc = secretValuesDocument([
      { key: '__proto__.commentUrl', value: 'x' },
      { key: 'constructor.prototype.y', value: 'z' }
    ])
    expect(({} as Record<string, unknown>)['commentUrl']).toBeUndefined()
    expect(({} as Record<string, unknown>)['y']).toBeUndefined()
    expect(Object.keys(doc)).toEqual(['__proto__', 'constructor'])
  })

  it('post removes the secret values folder main left behind, and only such a folder', () => {
    const secrets = join(dir, 'minikube-preview-secrets-4242')
    mkdirSync(secrets)
    writeFileSync(join(secrets, 'secret-values.yaml'), `password: ${SECRET}\n`)
    const other = join(dir, 'workspace')
    mkdirSync(other)
    removeSecretValues(other)
    removeSecretValues('')
    expect(existsSync(other)).toBe(true)
    removeSecretValues(secrets)
    expect(existsSync(secrets)).toBe(false)
  })
})
