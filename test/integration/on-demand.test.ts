// The Actions cache and artifact clients are split out of the bundle and loaded only when used:
// through the bundled action, they are found and do talk to the runner's services.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { makeRunner, runMainAndPost, runStep, type Runner } from '../support/action.js'
import { GUEST_PROVISION, fakeTools, type FakeTools } from '../support/fake-tools.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

/** A stand-in for the runner's cache and results services: records `METHOD path`, answers no. */
async function actionsServices(): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = []
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}`)
      if (req.method === 'GET')
        res.writeHead(204).end() // no cache for this key
      else
        res
          .writeHead(409, { 'content-type': 'application/json' })
          .end(JSON.stringify({ msg: 'not here', code: 'unavailable' }))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      })
  )
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests }
}

/** A runtime token as the runner gives it: a JWT whose scope names the run's backend ids. */
function runtimeToken(): string {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')
  const scp =
    'Actions.Results:ce7f54c7-61c7-4aae-887f-30da475f5f1a:ca395085-040a-526b-2ce8-bdc85f692774'
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ scp })}.c2ln`
}

async function setup(
  rules: Parameters<typeof fakeTools>[1] = {}
): Promise<{ runner: Runner; tools: FakeTools }> {
  const dir = mkdtempSync(join(tmpdir(), 'mp-on-demand-'))
  const tools = await fakeTools(join(dir, 'tools'), rules)
  cleanups.push(() => tools.close())
  return { runner: makeRunner(join(dir, 'runner')), tools }
}

describe('parts of the bundle loaded on demand', () => {
  it('the cache client looks up the minikube cache in main and saves it in post', async () => {
    const { runner, tools } = await setup()
    const services = await actionsServices()
    // What minikube would have downloaded, for post to save.
    for (const d of ['kic', 'preloaded-tarball']) {
      mkdirSync(join(runner.home, '.minikube', 'cache', d), { recursive: true })
      writeFileSync(join(runner.home, '.minikube', 'cache', d, 'image.tar'), 'layers')
    }
    const { main, post } = await runMainAndPost(runner, {
      inputs: tools.inputs,
      path: tools.path,
      env: { ACTIONS_CACHE_URL: services.url, ACTIONS_RUNTIME_TOKEN: runtimeToken() }
    })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.stdout).toMatch(/no cache for minikube-preview-\S+ yet/)
    expect(post.exitCode, post.stdout).toBe(0)
    expect(services.requests[0]).toMatch(
      /^GET \/_apis\/artifactcache\/cache\?keys=minikube-preview-/
    )
    expect(services.requests).toContain('POST /_apis/artifactcache/caches')
  })

  it('without the cache service, main says so and post has nothing to save', async () => {
    const { runner, tools } = await setup()
    mkdirSync(join(runner.home, '.minikube', 'cache', 'kic'), { recursive: true })
    const { main, post } = await runMainAndPost(runner, { inputs: tools.inputs, path: tools.path })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.warnings.join('\n')).toContain('The Actions cache service is not available here')
    expect(post.exitCode, post.stdout).toBe(0)
    expect(post.warnings).toEqual([])
  })

  it('the artifact client is asked to upload the diagnostics of a failed run', async () => {
    const { runner, tools } = await setup({
      minikube: [{ match: ['start'], exitCode: 80, stderr: GUEST_PROVISION }]
    })
    const services = await actionsServices()
    const main = await runStep(runner, {
      inputs: { ...tools.inputs, 'minikube-cache': 'false' },
      path: tools.path,
      env: { ACTIONS_RESULTS_URL: services.url, ACTIONS_RUNTIME_TOKEN: runtimeToken() }
    })
    expect(main.exitCode).toBe(1)
    expect(main.outputs['status']).toBe('error')
    expect(services.requests).toContain(
      'POST /twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact'
    )
    // The service said no: a warning, never a failure of its own.
    expect(main.warnings.join('\n')).toContain('Could not upload the diagnostics artifact')
  })
})
