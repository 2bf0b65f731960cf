// The bundled action, main then post, against stand-in tools served over local HTTP.
import { existsSync, mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { makeRunner, runMainAndPost, runStep, type Runner } from '../support/action.js'
import { GUEST_PROVISION, VERSIONS, fakeTools, type FakeTools } from '../support/fake-tools.js'

let tools: FakeTools | undefined
afterEach(async () => {
  await tools?.close()
  tools = undefined
})

function setup(
  rules: Parameters<typeof fakeTools>[1] = {},
  kubectlVersions: string[] = []
): Promise<{ runner: Runner; tools: FakeTools }> {
  const dir = mkdtempSync(join(tmpdir(), 'mp-foundation-'))
  return fakeTools(join(dir, 'tools'), rules, kubectlVersions).then((t) => {
    tools = t
    return { runner: makeRunner(join(dir, 'runner')), tools: t }
  })
}

const argvOf = (t: { argvs(): string[][] }, first: string): string[][] =>
  t.argvs().filter((a) => a[0] === first)

describe('the bundled action on a runner', () => {
  it('installs the three tools, starts minikube, reports the cluster, and deletes it in post', async () => {
    const { runner, tools } = await setup()
    const { main, post } = await runMainAndPost(runner, {
      inputs: { ...tools.inputs, cpus: '4', memory: '6g' },
      path: tools.path
    })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.outputs['status']).toBe('healthy')
    expect(main.outputs['cluster-ip']).toBe('192.168.49.2')
    expect(main.outputs['kubernetes-version']).toBe('v1.37.0')
    expect(main.outputs['kubeconfig']).toBe(join(runner.home, '.kube', 'config'))
    const toolsOut = JSON.parse(main.outputs['tools'] ?? '{}') as Record<
      string,
      { version: string; path: string }
    >
    expect(Object.keys(toolsOut).sort()).toEqual(['helm', 'kubectl', 'minikube'])
    expect(toolsOut['helm']?.version).toBe(VERSIONS.helm)
    // Later steps find the tools on PATH.
    for (const t of ['minikube', 'helm', 'kubectl']) {
      expect(main.path.some((p) => existsSync(join(p, t)))).toBe(true)
    }
    const start = argvOf(tools.minikube, 'start')
    expect(start).toHaveLength(1)
    expect(start[0]).toEqual(
      expect.arrayContaining([
        '--driver=docker',
        '--cpus=4',
        '--memory=6g',
        '--nodes=1',
        '--interactive=false'
      ])
    )
    expect(start[0]?.some((a) => a.startsWith('--container-runtime'))).toBe(false)
    // No chart in the workspace: setup only, said in the log.
    expect(main.stdout).toContain('setting up the cluster only')
    expect(tools.helm.argvs().some((a) => a[0] === 'upgrade')).toBe(false)
    expect(main.summary).toContain('healthy')
    expect(post.exitCode).toBe(0)
    expect(argvOf(tools.minikube, 'delete')).toHaveLength(1)
  })

  it('downloads nothing the second time on the same runner', async () => {
    const { runner, tools } = await setup()
    const first = await runStep(runner, { inputs: tools.inputs, path: tools.path })
    expect(first.exitCode, first.stdout).toBe(0)
    expect(tools.server.requests.length).toBeGreaterThanOrEqual(6)
    tools.server.requests.length = 0
    const second = await runStep(runner, { inputs: tools.inputs, path: tools.path })
    expect(second.exitCode, second.stdout).toBe(0)
    expect(tools.server.requests).toEqual([])
  })

  it('refuses a download whose checksum does not match, naming tool, version and URL, and caches nothing', async () => {
    const { runner, tools } = await setup()
    const { checksum } = tools.server.paths('helm', VERSIONS.helm, 'amd64')
    tools.server.fault(checksum, { wrongChecksum: true })
    const main = await runStep(runner, { inputs: tools.inputs, path: tools.path })
    expect(main.exitCode).toBe(1)
    expect(main.outputs['status']).toBe('error')
    const error = main.errors.join('\n')
    expect(error).toContain('checksum mismatch for helm v4.3.1')
    expect(error).toContain(tools.server.urls.helm)
    expect(
      existsSync(join(runner.toolCache, 'helm')) ? readdirSync(join(runner.toolCache, 'helm')) : []
    ).toEqual([])
    expect(main.stdout).not.toMatch(/\n\s+at .*\(.*\.js:\d+:\d+\)/)
  })

  it('retries a failed minikube start once after minikube delete', async () => {
    const { runner, tools } = await setup({
      minikube: [
        {
          match: ['start'],
          sequence: [{ exitCode: 80, stderr: GUEST_PROVISION }, { stdout: 'Done!\n' }]
        }
      ]
    })
    const main = await runStep(runner, { inputs: tools.inputs, path: tools.path })
    expect(main.exitCode, main.stdout).toBe(0)
    const calls = tools.minikube.argvs().map((a) => a[0])
    const firstStart = calls.indexOf('start')
    expect(calls.slice(firstStart, firstStart + 3)).toEqual(['start', 'delete', 'start'])
    expect(main.warnings.join('\n')).toContain('GUEST_PROVISION')
  })

  it('fails with minikube’s own reason when the start fails twice, and still reports', async () => {
    const { runner, tools } = await setup({
      minikube: [{ match: ['start'], exitCode: 80, stderr: GUEST_PROVISION }]
    })
    const main = await runStep(runner, { inputs: tools.inputs, path: tools.path })
    expect(main.exitCode).toBe(1)
    expect(main.outputs['status']).toBe('error')
    expect(argvOf(tools.minikube, 'start')).toHaveLength(2)
    expect(main.errors.join('\n')).toContain('GUEST_PROVISION: error provisioning guest')
    // As rendered: markdown escapes are not what the reader sees.
    expect(main.summary.replace(/\\(.)/g, '$1')).toContain(
      'Start minikube failed: GUEST_PROVISION: error provisioning guest'
    )
  })

  it('uses an existing cluster without minikube and reports its version', async () => {
    const { runner, tools } = await setup()
    const { main, post } = await runMainAndPost(runner, {
      inputs: { ...tools.inputs, cluster: 'existing' },
      path: tools.path
    })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.outputs['kubernetes-version']).toBe('v1.37.0')
    expect(main.outputs['cluster-ip']).toBe('')
    expect(tools.minikube.argvs()).toEqual([])
    expect(tools.server.requests.some((r) => r.includes('minikube'))).toBe(false)
    expect(post.exitCode).toBe(0)
    expect(tools.minikube.argvs()).toEqual([])
  })

  it.each([
    ['installs a kubectl of the cluster’s own version', ['v1.35.4'], 'v1.35.4'],
    ['keeps the first kubectl, with a warning, when the cluster’s is not published', [], 'v1.37.0']
  ])('on an existing cluster it %s', async (_, served, expected) => {
    const server = JSON.stringify({
      clientVersion: { gitVersion: 'v1.37.0' },
      serverVersion: { gitVersion: 'v1.35.4+k3s1' }
    })
    const { runner, tools } = await setup(
      { kubectl: [{ match: ['version'], stdout: server }] },
      served
    )
    const main = await runStep(runner, {
      inputs: { ...tools.inputs, cluster: 'existing' },
      path: tools.path
    })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.outputs['kubernetes-version']).toBe('v1.35.4+k3s1')
    const out = JSON.parse(main.outputs['tools'] ?? '{}') as Record<string, { version: string }>
    expect(out['kubectl']?.version).toBe(expected)
    if (served.length === 0) expect(main.warnings.join('\n')).toContain('Keeping kubectl v1.37.0')
  })

  it('leaves the cluster running with cleanup: never', async () => {
    const { runner, tools } = await setup()
    const { main, post } = await runMainAndPost(runner, {
      inputs: { ...tools.inputs, cleanup: 'never' },
      path: tools.path
    })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(post.exitCode).toBe(0)
    expect(argvOf(tools.minikube, 'delete')).toEqual([])
    expect(post.stdout).toContain('leaving everything in place')
  })

  it.each([
    ['cpus', 'lots', "input 'cpus' must be a whole number of at least 1, or 'max', got 'lots'"],
    ['cpus', '0', "input 'cpus' must be a whole number"],
    ['nodes', 'two', "input 'nodes' must be a whole number of at least 1, got 'two'"],
    ['memory', '512', "input 'memory' must be at least 1800 MB"],
    ['cluster', 'kind', "input 'cluster' must be one of 'minikube', 'existing', got 'kind'"],
    [
      'cleanup',
      'sometimes',
      "input 'cleanup' must be one of 'auto', 'always', 'on-success', 'never'"
    ],
    ['driver', 'vagrant', "input 'driver' must be one of 'docker'"],
    [
      'cluster-timeout',
      'soon',
      "input 'cluster-timeout' must be a duration such as '90s', '5m' or '1h30m', between 1s and 6h, got 'soon'"
    ],
    [
      'helm-version',
      '4.x',
      "input 'helm-version' must be a version like 'v1.2.3' or 'latest', got '4.x'"
    ],
    [
      'minikube-base-url',
      'ftp://mirror/minikube',
      "input 'minikube-base-url' must be an http(s) URL"
    ],
    [
      'start-args',
      '--extra-config "kubelet.max-pods=50',
      "input 'start-args' must be arguments with balanced quotes"
    ],
    ['minikube-cache', 'yes', "input 'minikube-cache' must be 'true' or 'false', got 'yes'"],
    ['image-tag', 'latest', "input 'image-tag' must be a tag other than 'latest'"],
    [
      'images',
      '- name: api\n  contxt: .',
      "input 'images' must be entries with keys name, context"
    ],
    [
      'health-checks',
      '- path: /health',
      "input 'health-checks' must be health checks with a 'service' or an 'ingress-host'"
    ],
    ['namespace', 'PR_7', "input 'namespace' must be a DNS-1123 name"],
    ['chart', 'charts/nope', "input 'chart' must be the path of a chart folder holding Chart.yaml"],
    ['secret-values', 'password', "input 'secret-values' must be 'key=value' on every line"],
    ['wait-timeout', 'forever', "input 'wait-timeout' must be a duration"]
  ])('refuses %s: %s before anything starts', async (input, value, message) => {
    const { runner, tools } = await setup()
    const main = await runStep(runner, {
      inputs: { ...tools.inputs, [input]: value },
      path: tools.path
    })
    expect(main.exitCode).toBe(1)
    expect(main.errors.join('\n')).toContain(message)
    expect(main.summary).toContain('the inputs were refused')
    expect(main.stdout).not.toContain('    at ')
    expect(main.stderr).not.toContain('    at ')
    expect(tools.server.requests).toEqual([])
    expect(tools.minikube.argvs()).toEqual([])
  })
})
