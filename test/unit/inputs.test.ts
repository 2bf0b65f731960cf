import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { InputErrors, parseInputs } from '../../src/inputs.js'
import { parseDuration, parseMemory, splitArgs } from '../../src/parse.js'

function workspace(): string {
  const ws = mkdtempSync(join(tmpdir(), 'mp-inputs-'))
  mkdirSync(join(ws, 'docker', 'backend'), { recursive: true })
  writeFileSync(join(ws, 'docker', 'backend', 'Dockerfile'), 'FROM scratch\n')
  mkdirSync(join(ws, 'charts', 'app'), { recursive: true })
  writeFileSync(
    join(ws, 'charts', 'app', 'Chart.yaml'),
    'apiVersion: v2\nname: app\nversion: 0.1.0\n'
  )
  writeFileSync(join(ws, 'values-ci.yaml'), 'a: 1\n')
  return ws
}

const ws = workspace()
const parse = (given: Record<string, string>) => parseInputs((n) => given[n] ?? '', ws)
function problems(given: Record<string, string>): string[] {
  try {
    parse(given)
  } catch (err) {
    if (err instanceof InputErrors) return err.problems
    throw err
  }
  return []
}

describe('inputs', () => {
  it('gives the documented defaults when nothing is set', () => {
    const i = parse({})
    expect(i).toMatchObject({
      cluster: 'minikube',
      minikubeVersion: 'v1.39.0',
      helmVersion: 'v4.3.1',
      kubectlVersion: '',
      driver: 'docker',
      cpus: '2',
      memory: '4096mb',
      nodes: 1,
      addons: { auto: true, names: [] },
      clusterTimeoutMs: 300_000,
      minikubeCache: true,
      cleanup: 'always',
      imageLoad: 'load',
      namespace: 'preview',
      waitTimeoutMs: 300_000,
      failFast: true,
      helmTest: 'auto',
      comment: 'auto',
      jobSummary: true,
      diagnosticsArtifact: true
    })
  })

  it.each([
    [{ cpus: 'max' }, { cpus: 'max' }],
    [{ memory: '8g' }, { memory: '8g' }],
    [{ memory: '2048' }, { memory: '2048mb' }],
    [{ 'kubernetes-version': '1.36.2' }, { kubernetesVersion: 'v1.36.2' }],
    [{ 'kubernetes-version': 'stable' }, { kubernetesVersion: 'stable' }],
    [
      { addons: 'metrics-server, ingress' },
      { addons: { auto: false, names: ['metrics-server', 'ingress'] } }
    ],
    [{ addons: 'auto\nmetrics-server' }, { addons: { auto: true, names: ['metrics-server'] } }],
    [
      { 'start-args': `--extra-config='kubelet.max-pods=50' --feature-gates "A=true,B=false"` },
      {
        startArgs: ['--extra-config=kubelet.max-pods=50', '--feature-gates', 'A=true,B=false']
      }
    ],
    [
      { 'minikube-base-url': 'https://mirror.example/minikube/' },
      { minikubeBaseUrl: 'https://mirror.example/minikube' }
    ],
    [{ 'cluster-timeout': '1h30m' }, { clusterTimeoutMs: 5_400_000 }],
    [{ 'wait-timeout': '90' }, { waitTimeoutMs: 90_000 }],
    [{}, { stableForMs: 10_000 }],
    [{ 'stable-for': '45s' }, { stableForMs: 45_000 }],
    [{ 'stable-for': '0s' }, { stableForMs: 0 }],
    [{ 'stable-for': '0' }, { stableForMs: 0 }],
    [
      { 'secret-values': 'db.password=p@ss=word\n# comment\napi.key=xyz' },
      {
        secretValues: [
          { key: 'db.password', value: 'p@ss=word' },
          { key: 'api.key', value: 'xyz' }
        ]
      }
    ]
  ])('reads %j', (given, expected) => {
    expect(parse(given as Record<string, string>)).toMatchObject(expected)
  })

  it.each([
    [{ cpus: 'lots' }, "input 'cpus' must be a whole number of at least 1, or 'max', got 'lots'"],
    [{ nodes: '0' }, "input 'nodes' must be a whole number of at least 1, got '0'"],
    [
      { memory: '1g' },
      "input 'memory' must be at least 1800 MB (minikube refuses less; that is 1024 MB), got '1g'"
    ],
    [{ memory: 'plenty' }, "input 'memory' must be megabytes"],
    [{ driver: 'vagrant' }, "input 'driver' must be one of"],
    [{ 'cluster-timeout': '5 minutes' }, "input 'cluster-timeout' must be a duration"],
    [
      { 'kubectl-version': 'v1.37' },
      "input 'kubectl-version' must be a version like 'v1.2.3' or 'latest', got 'v1.37'"
    ],
    [
      { 'helm-base-url': 'get.helm.sh' },
      "input 'helm-base-url' must be an http(s) URL, got 'get.helm.sh'"
    ],
    [
      { 'helm-args': `--description 'unfinished` },
      "input 'helm-args' must be arguments with balanced quotes"
    ],
    [{ 'fail-fast': 'yes' }, "input 'fail-fast' must be 'true' or 'false', got 'yes'"],
    [
      { 'stable-for': 'a while' },
      "input 'stable-for' must be a duration of at most 30m such as '10s' or '1m', or '0s' to turn it off, got 'a while'"
    ],
    [{ 'stable-for': '2h' }, "input 'stable-for' must be a duration of at most 30m"],
    [{ 'image-tag': 'latest' }, "input 'image-tag' must be a tag other than 'latest'"],
    [{ namespace: 'Preview_1' }, "input 'namespace' must be a DNS-1123 name"],
    [{ release: 'my.release' }, "input 'release' must be a DNS-1123 name"],
    [
      { chart: 'charts/missing' },
      "input 'chart' must be the path of a chart folder holding Chart.yaml, got 'charts/missing'"
    ],
    [{ 'values-files': 'values-ci.yaml\nnope.yaml' }, "'nope.yaml' does not exist"],
    [{ set: 'replicaCount' }, "input 'set' must be 'key=value' on every line, line 1 has none"],
    [{ 'secret-values': 'password' }, "input 'secret-values' must be 'key=value' on every line"],
    [
      { comment: 'sometimes' },
      "input 'comment' must be one of 'auto', 'always', 'never', 'on-failure'"
    ],
    [{ images: '- name: api\n  context: docker/missing' }, "'docker/missing' does not exist"],
    [
      { images: '- name: api\n  context: docker/backend\n  dockerfile: Dockerfile.prod' },
      "'Dockerfile.prod' does not exist"
    ],
    [{ images: '- name: api\n  contxt: docker/backend' }, "entry 1 has unknown key 'contxt'"],
    [{ images: '- context: docker/backend' }, 'entry 1 has none'],
    [{ images: 'name: api' }, "input 'images' must be a YAML list of images"],
    [{ images: '- name: [api' }, "input 'images' must be a YAML list of images"],
    [{ images: '- name: API\n  context: docker/backend' }, 'image names Docker accepts'],
    [{ 'health-checks': '- path: /health' }, 'entry 1 has neither'],
    [
      { 'health-checks': '- service: backend\n  path: /health' },
      "a 'port' for every service check"
    ],
    [
      { 'health-checks': '- service: backend\n  port: 8001\n  expect-status: ok' },
      'an HTTP status such as 200'
    ]
  ])('refuses %j, naming the input', (given, message) => {
    const found = problems(given as Record<string, string>)
    expect(found).toHaveLength(1)
    expect(found[0]).toContain(message)
  })

  it('reports every bad input at once', () => {
    expect(problems({ cpus: 'x', nodes: 'y', cleanup: 'z' })).toHaveLength(3)
  })

  it('parses images with their build settings', () => {
    const i = parse({
      images: [
        '- name: todo-chatbot-backend',
        '  context: docker/backend',
        '  target: runtime',
        '  build-args:',
        '    PYTHON_VERSION: "3.13"',
        '  values: backend.image'
      ].join('\n')
    })
    expect(i.images).toEqual([
      {
        name: 'todo-chatbot-backend',
        context: join(ws, 'docker/backend'),
        dockerfile: join(ws, 'docker/backend/Dockerfile'),
        target: 'runtime',
        buildArgs: [{ key: 'PYTHON_VERSION', value: '3.13' }],
        platform: undefined,
        values: 'backend.image'
      }
    ])
  })

  it('parses health checks with defaults', () => {
    const i = parse({
      'health-checks':
        '- service: backend\n  port: 8001\n  path: /health\n- ingress-host: todo.local'
    })
    expect(i.healthChecks).toEqual([
      {
        label: 'backend:8001/health',
        service: 'backend',
        port: 8001,
        ingressHost: undefined,
        path: '/health',
        expectStatus: 200,
        expectBody: undefined
      },
      {
        label: 'todo.local/',
        service: undefined,
        port: undefined,
        ingressHost: 'todo.local',
        path: '/',
        expectStatus: 200,
        expectBody: undefined
      }
    ])
  })
})

describe('value parsers', () => {
  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5m', 90_000],
    ['250ms', 250],
    ['300', 300_000]
  ])('duration %s', (raw, ms) => expect(parseDuration(raw)).toBe(ms))

  it.each(['', '0s', '5 m', 'm5', '5x', '-5s'])('refuses duration %j', (raw) => {
    expect(() => parseDuration(raw)).toThrow(/duration/)
  })

  it.each([
    ['a b  c', ['a', 'b', 'c']],
    [`--x='a b' "c d"`, ['--x=a b', 'c d']],
    [`a\\ b`, ['a b']],
    [`"$HOME" '$(rm -rf /)'`, ['$HOME', '$(rm -rf /)']],
    [`""`, ['']],
    [`--flag="say \\"hi\\""`, ['--flag=say "hi"']]
  ])('splits %s like a shell, expanding nothing', (raw, words) =>
    expect(splitArgs(raw)).toEqual(words)
  )

  it.each([
    ['4096', '4096mb'],
    ['4g', '4g'],
    ['8192mb', '8192mb'],
    ['max', 'max'],
    ['no-limit', 'no-limit']
  ])('memory %s', (raw, out) => expect(parseMemory(raw)).toBe(out))
})
