// The preview's URL through the bundled action with stand-in tools: the Ingress default (https
// when TLS covers the host), the `url` template winning over it, in the outputs and the summary.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { makeRunner, runStep } from '../support/action.js'
import { fakeTools } from '../support/fake-tools.js'
import { healthyList, manifest } from '../support/kube-objects.js'

const NS = 'preview'
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

function ingress(host: string, tls: string[]): string {
  const tlsBlock =
    tls.length > 0 ? `  tls:\n  - hosts: [${tls.map((t) => JSON.stringify(t)).join(', ')}]\n` : ''
  return `---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: app\nspec:\n${tlsBlock}  rules:\n  - host: ${host}\n`
}

async function preview(rendered: string, inputs: Record<string, string> = {}) {
  const server = createServer((_, res) => res.writeHead(200).end('ok'))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())))
  const port = (server.address() as AddressInfo).port
  const dir = mkdtempSync(join(tmpdir(), 'mp-url-'))
  const tools = await fakeTools(join(dir, 'tools'), {
    helm: [
      { match: ['upgrade'], stdout: 'Release "app" has been upgraded. Happy Helming!\n' },
      {
        match: ['status', '--output'],
        stdout: JSON.stringify({ name: 'app', version: 1, info: { status: 'deployed' } })
      },
      { match: ['get', 'manifest'], stdout: rendered },
      { match: ['get', 'hooks'], stdout: '' }
    ],
    kubectl: [
      { match: ['get', /^deployments,/], stdout: healthyList(NS, ['api']) },
      {
        match: ['get', 'services'],
        stdout: JSON.stringify({
          items: [{ metadata: { name: 'api', namespace: NS }, spec: { ports: [{ port: 80 }] } }]
        })
      },
      { match: ['port-forward'], forward: { port } }
    ]
  })
  cleanups.push(() => tools.close())
  const runner = makeRunner(join(dir, 'runner'))
  mkdirSync(join(runner.workspace, 'charts', 'app'), { recursive: true })
  writeFileSync(
    join(runner.workspace, 'charts', 'app', 'Chart.yaml'),
    'apiVersion: v2\nname: app\nversion: 0.1.0\n'
  )
  const main = await runStep(runner, {
    inputs: {
      ...tools.inputs,
      cluster: 'existing',
      comment: 'never',
      'stable-for': '0s',
      'helm-test': 'false',
      // Health checks say what to check: the Ingress host is not asked (it resolves nowhere here).
      'health-checks': '- service: api\n  port: 80\n  path: /health',
      ...inputs
    },
    path: tools.path,
    env: { KUBECONFIG: join(runner.home, 'kubeconfig') }
  })
  const report = JSON.parse(readFileSync(main.outputs['report'] as string, 'utf8')) as {
    preview?: { url?: string }
    steps: { id: string }[]
  }
  return { main, report }
}

describe("the preview's URL on a shared cluster", () => {
  it("is the first host of the release's Ingress, https when TLS covers it; first in the summary", async () => {
    const { main, report } = await preview(
      manifest(['api'], false) + ingress('shop-pr-7.preview.example.com', ['*.preview.example.com'])
    )
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.outputs['url']).toBe('https://shop-pr-7.preview.example.com/')
    expect(report.preview?.url).toBe('https://shop-pr-7.preview.example.com/')
    expect(main.summary.split('\n')[0]).toBe('🔗 <https://shop-pr-7.preview.example.com/>')
    // health-checks were given: no separate URL check.
    expect(report.steps.map((s) => s.id)).not.toContain('url-check')
  })

  it('is http when no TLS entry covers the host', async () => {
    const { main } = await preview(
      manifest(['api'], false) + ingress('shop.example.com', ['other.example.com'])
    )
    expect(main.outputs['url']).toBe('http://shop.example.com/')
  })

  it('the url template wins, with its placeholders filled', async () => {
    const { main } = await preview(manifest(['api'], false) + ingress('shop.example.com', []), {
      url: 'https://{release}-{namespace}.review.example.com/'
    })
    expect(main.outputs['url']).toBe('https://app-preview.review.example.com/')
  })

  it('no Ingress and no template: no URL, and nothing said about one', async () => {
    const { main } = await preview(manifest(['api'], false))
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.outputs['url']).toBe('')
    expect(main.summary).not.toContain('🔗')
  })
})
