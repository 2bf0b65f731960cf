// Refused inputs through the bundled action: a named error, `status: error`, a summary, one
// annotation per problem, and nothing started (no download, no cluster, no build).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { makeRunner, runStep, type Runner, type StepRun } from '../support/action.js'
import { fakeTools, type FakeToolRules, type FakeTools } from '../support/fake-tools.js'
import { healthyList, manifest } from '../support/kube-objects.js'

let tools: FakeTools | undefined
afterEach(async () => {
  await tools?.close()
  tools = undefined
})

const CHART = 'apiVersion: v2\nname: web\nversion: 0.1.0\n'

/** A workspace with `charts/web` (Chart.yaml as given, or a folder when null) and two contexts. */
async function setup(
  chartYaml: string | null = CHART,
  rules: FakeToolRules = {}
): Promise<{ runner: Runner; tools: FakeTools }> {
  const dir = mkdtempSync(join(tmpdir(), 'mp-inputs-'))
  tools = await fakeTools(join(dir, 'tools'), rules)
  const runner = makeRunner(join(dir, 'runner'))
  const chart = join(runner.workspace, 'charts', 'web')
  mkdirSync(chart, { recursive: true })
  if (chartYaml === null) mkdirSync(join(chart, 'Chart.yaml'))
  else writeFileSync(join(chart, 'Chart.yaml'), chartYaml)
  mkdirSync(join(runner.workspace, 'docker', 'api'), { recursive: true })
  writeFileSync(join(runner.workspace, 'docker', 'api', 'Dockerfile'), 'FROM scratch\n')
  mkdirSync(join(runner.workspace, 'values'), { recursive: true })
  return { runner, tools }
}

function expectRefused(main: StepRun, t: FakeTools, message: string): void {
  expect(main.exitCode).toBe(1)
  expect(main.outputs['status']).toBe('error')
  expect(main.summary).toContain('the inputs were refused; nothing was started')
  expect(main.errors, main.stdout).toHaveLength(1)
  expect(main.errors[0]).toContain(message)
  expect(main.summary).toContain(message)
  for (const text of [main.stdout, main.stderr]) {
    expect(text).not.toContain('    at ')
    expect(text).not.toMatch(/TypeError|ENAMETOOLONG|EISDIR|is defined twice|is not a function/)
  }
  expect(t.server.requests).toEqual([])
  expect(t.minikube.argvs()).toEqual([])
  expect(t.docker.argvs()).toEqual([])
}

describe('inputs refused through the bundled action', () => {
  it.each([
    [
      'wait-timeout',
      '600h',
      "input 'wait-timeout' must be a duration such as '90s', '5m' or '1h30m', between 1s and 6h, got '600h'"
    ],
    ['cluster-timeout', '600h', "input 'cluster-timeout' must be a duration such as"],
    ['wait-timeout', '0.1ms', "between 1s and 6h, got '0.1ms'"],
    [
      'comment-header',
      'h'.repeat(300),
      "input 'comment-header' must be at most 100 characters; it has 300"
    ],
    [
      'values-files',
      'values',
      "input 'values-files' must be a list of files; 'values' is a folder"
    ],
    [
      'images',
      '- name: a.b\n  context: docker/api\n- name: a-b\n  context: docker/api',
      "'a.b' and 'a-b' are both 'a-b'"
    ],
    [
      'images',
      '- name: api\n  context: docker/api\n  build-args:\n    CONFIG: {debug: true}',
      "input 'images' must be 'build-args' CONFIG of 'api' as text, a number or true/false; it is a mapping"
    ],
    [
      'health-checks',
      '- service: Web_Frontend\n  port: 80',
      "input 'health-checks' must be a Service name for 'service'"
    ],
    [
      'health-checks',
      '- service: web\n  port: "http:80"',
      "a port number (1-65535) or a port name (at most 15 of a-z, 0-9 and '-', with a letter) for 'port'; entry 1 has 'http:80'"
    ],
    [
      'set',
      '__proto__.commentUrl=https://evil.example',
      "input 'set' must be keys without '__proto__'"
    ]
  ])('refuses %s: %j', async (input, value, message) => {
    const { runner, tools } = await setup()
    const main = await runStep(runner, {
      inputs: { ...tools.inputs, [input]: value },
      path: tools.path
    })
    expectRefused(main, tools, message)
  })

  it.each([
    [
      'name: web\nversion: [0.1.0\n',
      "input 'chart' must be a chart whose charts/web/Chart.yaml is YAML; it is not ("
    ],
    [
      'name: 1.5\nversion: 0.1.0\n',
      "input 'chart' must be a chart whose charts/web/Chart.yaml has a text 'name'; it is the number 1.5 (quote it)"
    ],
    [null, "input 'chart' must be a chart whose charts/web/Chart.yaml is a file; it is a folder"]
  ])('refuses the Chart.yaml %j by name', async (chartYaml, message) => {
    const { runner, tools } = await setup(chartYaml)
    const main = await runStep(runner, { inputs: tools.inputs, path: tools.path })
    expectRefused(main, tools, message)
  })

  it('refuses a Chart.yaml given as a folder through the chart input', async () => {
    const { runner, tools } = await setup(null)
    const main = await runStep(runner, {
      inputs: { ...tools.inputs, chart: 'charts/web' },
      path: tools.path
    })
    expectRefused(main, tools, "'charts/web/Chart.yaml' is a folder")
  })

  it('reports each of several refused inputs once, and the summary lists them all', async () => {
    const { runner, tools } = await setup()
    const main = await runStep(runner, {
      inputs: { ...tools.inputs, 'wait-timeout': '600h', nodes: 'two', cleanup: 'sometimes' },
      path: tools.path
    })
    expect(main.exitCode).toBe(1)
    expect(main.outputs['status']).toBe('error')
    expect(main.errors).toHaveLength(3)
    expect(main.errors.join('\n')).not.toContain('inputs are invalid')
    for (const input of ['wait-timeout', 'nodes', 'cleanup']) {
      expect(main.errors.filter((e) => e.includes(`input '${input}'`))).toHaveLength(1)
      expect(main.summary).toContain(`input '${input}'`)
    }
  })

  it('a chart name with a mention is refused without notifying anyone in the summary', async () => {
    const { runner, tools } = await setup('name: "@octocat/Web"\nversion: 0.1.0\n')
    const main = await runStep(runner, { inputs: tools.inputs, path: tools.path })
    expect(main.outputs['status']).toBe('error')
    expect(main.errors).toHaveLength(1)
    expect(main.errors[0]).toContain("input 'release' must be set")
    expect(main.summary).toContain('the inputs were refused')
    expect(main.summary).not.toMatch(/@octocat/)
  })
})

const IMAGES = '- name: api\n  context: docker/api'

describe('the preview inputs refused through the bundled action', () => {
  it.each([
    [
      { registry: 'https://ghcr.io/acme' },
      "input 'registry' must be a registry reference without a scheme such as"
    ],
    [
      { registry: 'ghcr.io/acme/shop:v1' },
      "input 'registry' must be a registry reference without a tag"
    ],
    [
      { registry: 'ghcr.io/acme/shop@sha256:0123' },
      "input 'registry' must be a registry reference without a digest"
    ],
    [
      { registry: 'ghcr.io/Acme' },
      "input 'registry' must be a registry reference whose repository path is lower-case"
    ],
    [
      { registry: 'ghcr.io//acme' },
      "input 'registry' must be a registry reference without empty parts"
    ],
    [
      { url: 'https://pr-{pr}.example.com' },
      "input 'url' must be a URL template whose placeholders are {number}, {branch}, {sha}, {namespace}, {release}; '{pr}' is not one"
    ],
    [
      { ttl: 'a week' },
      "input 'ttl' must be a duration such as '12h', '3d' or '1d12h', between 1m and 365d, got 'a week'"
    ],
    [{ mode: 'sweep' }, "input 'mode: sweep' needs 'cluster: existing'"],
    [{ mode: 'tidy' }, "input 'mode' must be one of 'preview', 'sweep', got 'tidy'"],
    [{ 'push-tags': 'v1.2.3' }, "input 'push-tags' needs input 'registry'"],
    [
      { registry: '127.0.0.1:5765', 'push-tags': 'v1.2.3\nnot a tag' },
      "input 'push-tags' must be a list of Docker tags"
    ],
    [
      { cluster: 'existing', images: IMAGES },
      "input 'images' with 'cluster: existing' needs input 'registry'"
    ]
  ])('refuses %j', async (given, message) => {
    const { runner, tools } = await setup()
    const main = await runStep(runner, { inputs: { ...tools.inputs, ...given }, path: tools.path })
    expectRefused(main, tools, message)
    expect(tools.helm.argvs()).toEqual([])
    expect(tools.kubectl.argvs()).toEqual([])
  })

  it('masks the registry password and never shows it when it is refused', async () => {
    const { runner, tools } = await setup()
    const password = 'reg-pw-4f8a1c\nsecond-line-9b2e'
    const main = await runStep(runner, {
      inputs: { ...tools.inputs, registry: '127.0.0.1:5765', 'registry-password': password },
      path: tools.path
    })
    expectRefused(main, tools, "input 'registry-password' must be a password on one line")
    expect(main.stdout).toContain('::add-mask::reg-pw-4f8a1c')
    const shown = main.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::'))
    for (const text of [shown.join('\n'), main.stderr, main.summary]) {
      expect(text).not.toContain('reg-pw-4f8a1c')
      expect(text).not.toContain('second-line-9b2e')
    }
  })
})

/** A helm and kubectl that deploy `web` into `ns`, healthy. */
const deployed = (ns: string): FakeToolRules => ({
  helm: [
    { match: ['template'], stdout: manifest(['web'], false) },
    { match: ['upgrade'], stdout: 'Release "web" has been upgraded.\n' },
    {
      match: ['status', '--output'],
      stdout: JSON.stringify({ name: 'web', version: 1, info: { status: 'deployed' } })
    },
    { match: ['get', 'manifest'], stdout: manifest(['web'], false) },
    { match: ['get', 'hooks'], stdout: '' }
  ],
  kubectl: [{ match: ['get', /^deployments,/], stdout: healthyList(ns, ['web']) }]
})

describe('the namespace of a pull request on an existing cluster', () => {
  function pullRequest(runner: Runner, number: number): Record<string, string> {
    const event = join(runner.root, 'event.json')
    writeFileSync(
      event,
      JSON.stringify({
        action: 'synchronize',
        number,
        pull_request: { number, head: { sha: 'f'.repeat(40) } }
      })
    )
    return { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event }
  }

  it.each([
    ['is pr-<number> when no namespace is given', {}, 'pr-7'],
    ['is the namespace given when there is one', { namespace: 'qa' }, 'qa']
  ])('%s', async (_, given, ns) => {
    const { runner, tools } = await setup(CHART, deployed(ns))
    const main = await runStep(runner, {
      inputs: {
        ...tools.inputs,
        cluster: 'existing',
        comment: 'never',
        'stable-for': '0s',
        'wait-timeout': '5s',
        ...given
      },
      env: pullRequest(runner, 7),
      path: tools.path
    })
    expect(main.exitCode, main.stdout + main.stderr).toBe(0)
    expect(main.outputs['namespace']).toBe(ns)
    const upgrade = tools.helm.argvs().find((a) => a[0] === 'upgrade')
    expect(upgrade?.join(' ')).toContain(`--namespace ${ns}`)
  })

  it('stays preview on a push', async () => {
    const { runner, tools } = await setup(CHART, deployed('preview'))
    const main = await runStep(runner, {
      inputs: {
        ...tools.inputs,
        cluster: 'existing',
        comment: 'never',
        'stable-for': '0s',
        ttl: '1d'
      },
      path: tools.path
    })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.outputs['namespace']).toBe('preview')
    // On a shared cluster the expiry is written on the preview: nothing to warn about.
    expect(main.warnings.join('\n')).not.toContain("input 'ttl'")
  })
})

describe('inputs that do nothing in this combination', () => {
  it("warns that 'ttl' does nothing with cluster: minikube, and deploys", async () => {
    const { runner, tools } = await setup(CHART, deployed('preview'))
    const main = await runStep(runner, {
      inputs: {
        ...tools.inputs,
        comment: 'never',
        'minikube-cache': 'false',
        'stable-for': '0s',
        ttl: '1d'
      },
      path: tools.path
    })
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.outputs['status']).toBe('healthy')
    expect(main.warnings).toEqual([
      expect.stringContaining("input 'ttl' has no effect with 'cluster: minikube'")
    ])
  })
})

describe('a tool answer that cannot be read', () => {
  it('names the whole command, never a bare JSON parser message', async () => {
    const { runner, tools } = await setup(CHART, {
      helm: [
        { match: ['template'], stdout: manifest(['web'], false) },
        { match: ['upgrade'], stdout: 'Release "web" has been upgraded.\n' },
        { match: ['status', '--output'], stdout: 'Error: unexpected EOF\n' },
        { match: ['get', 'manifest'], stdout: manifest(['web'], false) },
        { match: ['get', 'hooks'], stdout: '' }
      ],
      kubectl: [{ match: ['get', /^deployments,/], stdout: healthyList('preview', ['web']) }]
    })
    const main = await runStep(runner, { inputs: tools.inputs, path: tools.path })
    expect(main.exitCode).toBe(1)
    expect(main.outputs['status']).toBe('error')
    const said = `${main.errors.join('\n')}\n${main.summary}`
    expect(said).toContain(
      '`helm status web --namespace preview --output json` printed output that is not JSON: Error: unexpected EOF'
    )
    expect(said).not.toMatch(/Unexpected (end|token)/)
  })
})
