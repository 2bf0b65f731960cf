import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { discover } from '../../src/discover.js'
import { InputErrors, parseInputs } from '../../src/inputs.js'
import {
  durationBetween,
  isPortName,
  parseBaseUrl,
  parseDuration,
  parseMemory,
  reservedKeyPart,
  splitArgs
} from '../../src/parse.js'

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
  mkdirSync(join(ws, 'values-dir'))
  mkdirSync(join(ws, 'charts-bad', 'folder', 'Chart.yaml'), { recursive: true })
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
      cleanup: 'auto',
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
      "input 'stable-for' must be a duration such as '90s', '5m' or '1h30m', at most 30m ('0s' turns it off), got 'a while'"
    ],
    [
      { 'stable-for': '2h' },
      "input 'stable-for' must be a duration such as '90s', '5m' or '1h30m', at most 30m"
    ],
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

const SECRET = 'S3cr3t-canary-7b21'

describe('inputs that must never echo a secret or reach a prototype', () => {
  it.each([
    [`db.password=${SECRET}\npassword-without-equals`],
    [`db:\n  password: ${SECRET}`],
    [SECRET],
    [`db.password=${SECRET}\n=${SECRET}`]
  ])('a malformed secret-values %j is refused without its value', (raw) => {
    const found = problems({ 'secret-values': raw })
    expect(found).toHaveLength(1)
    expect(found[0]).toMatch(/^input 'secret-values' must be 'key=value' on every line, line \d/)
    expect(found[0]).not.toContain(SECRET)
    expect(found[0]).not.toContain('S3cr')
  })

  it.each([
    ['secret-values', `__proto__.commentUrl=${SECRET}`, '__proto__'],
    ['secret-values', `a.constructor.prototype.x=${SECRET}`, 'constructor'],
    ['secret-values', `backend.prototype=${SECRET}`, 'prototype'],
    ['set', '__proto__.polluted=yes', '__proto__'],
    ['set', 'replicaCount=1,constructor.x=1', 'constructor'],
    ['set-string', 'list[0].prototype=x', 'prototype']
  ])('refuses %s with the key %j by name', (input, raw, part) => {
    const found = problems({ [input]: raw })
    expect(found).toEqual([
      `input '${input}' must be keys without '${part}' (__proto__, constructor, prototype are refused), line 1 has it`
    ])
    expect(({} as Record<string, unknown>)['commentUrl']).toBeUndefined()
  })

  it('keeps ordinary keys that only contain a reserved word', () => {
    expect(parse({ set: 'my__proto__x=1\nconstructors=2' }).set).toHaveLength(2)
  })

  it.each([
    ['https://ci:hunter2-pw@mirror.example/helm', 'https://***@mirror.example/helm'],
    ['http://token@mirror.example', 'http://***@mirror.example'],
    ['https://:hunter2-pw@mirror.example/x/', 'https://***@mirror.example/x']
  ])('refuses a base URL with credentials %s without the password', (url, shown) => {
    const found = problems({ 'helm-base-url': url })
    expect(found).toEqual([
      `input 'helm-base-url' must be an http(s) URL without a user or password in it ('user:password@' would be printed and sent with every download), got '${shown}'`
    ])
    expect(found[0]).not.toContain('hunter2')
  })
})

describe('inputs refused before anything starts', () => {
  it.each([
    [
      { 'wait-timeout': '600h' },
      "input 'wait-timeout' must be a duration such as '90s', '5m' or '1h30m', between 1s and 6h, got '600h'"
    ],
    [
      { 'cluster-timeout': '600h' },
      "input 'cluster-timeout' must be a duration such as '90s', '5m' or '1h30m', between 1s and 6h, got '600h'"
    ],
    [{ 'wait-timeout': '0.1ms' }, "between 1s and 6h, got '0.1ms'"],
    [{ 'wait-timeout': '500ms' }, "between 1s and 6h, got '500ms'"],
    [{ 'wait-timeout': '6h1s' }, "between 1s and 6h, got '6h1s'"],
    [
      { images: '- name: api\n  context: docker/backend\n  dockerfile: ../../values-dir' },
      "input 'images' must be a Dockerfile for 'api' that is a file; '../../values-dir' is a folder"
    ],
    [
      { 'values-files': 'values-dir' },
      "input 'values-files' must be a list of files; 'values-dir' is a folder"
    ],
    [
      { chart: 'charts-bad/folder' },
      "input 'chart' must be a chart folder whose Chart.yaml is a file; 'charts-bad/folder/Chart.yaml' is a folder"
    ],
    [
      { 'comment-header': 'x'.repeat(300) },
      "input 'comment-header' must be at most 100 characters; it has 300"
    ],
    [{ 'comment-header': 'one\ntwo' }, "input 'comment-header' must be one line of text"],
    [
      { images: '- name: a.b\n  context: docker/backend\n- name: a-b\n  context: docker/backend' },
      "input 'images' must be image names that stay distinct when . _ / become '-'; 'a.b' and 'a-b' are both 'a-b'"
    ],
    [
      { images: '- name: api\n  context: docker/backend\n  build-args:\n    CONFIG: {a: 1}' },
      "input 'images' must be 'build-args' CONFIG of 'api' as text, a number or true/false; it is a mapping"
    ],
    [
      { images: '- name: api\n  context: docker/backend\n  build-args:\n    - [A, B]' },
      "'build-args' of 'api' as KEY=value lines or a mapping; line 1 is not a line of text"
    ],
    [
      { 'health-checks': '- service: Backend_API\n  port: 80' },
      "input 'health-checks' must be a Service name for 'service' (a DNS-1123 name"
    ],
    [
      { 'health-checks': '- service: backend\n  port: http_alt' },
      "a port number (1-65535) or a port name (at most 15 of a-z, 0-9 and '-', with a letter) for 'port'; entry 1 has 'http_alt'"
    ],
    [
      { 'health-checks': '- service: backend\n  port: 70000' },
      'a port between 1 and 65535; entry 1 has 70000'
    ],
    [{ 'health-checks': '- service: backend\n  port: [80]' }, 'entry 1 has a list']
  ])('refuses %j, naming the input and what is accepted', (given, message) => {
    const found = problems(given as Record<string, string>)
    expect(found).toHaveLength(1)
    expect(found[0]).toContain(message)
  })

  it.each([
    [{ 'wait-timeout': '6h' }, { waitTimeoutMs: 21_600_000 }],
    [{ 'wait-timeout': '1s' }, { waitTimeoutMs: 1000 }],
    [{ 'comment-header': 'x'.repeat(100) }, { commentHeader: 'x'.repeat(100) }],
    [
      { 'health-checks': '- service: backend\n  port: http-alt' },
      { healthChecks: [expect.objectContaining({ port: 'http-alt' })] }
    ],
    [
      {
        images:
          '- name: api\n  context: docker/backend\n  build-args:\n    N: 3\n    ON: true\n    EMPTY:'
      },
      {
        images: [
          expect.objectContaining({
            buildArgs: [
              { key: 'N', value: '3' },
              { key: 'ON', value: 'true' },
              { key: 'EMPTY', value: '' }
            ]
          })
        ]
      }
    ]
  ])('accepts %j', (given, expected) => {
    expect(parse(given as Record<string, string>)).toMatchObject(expected)
  })
})

describe('durations within bounds', () => {
  it.each([
    ['0s', 0],
    ['0', 0],
    ['10s', 10_000],
    ['10m', 600_000]
  ])('a window that can be turned off reads %s', (raw, ms) =>
    expect(durationBetween(0, 600_000)(raw)).toBe(ms)
  )

  it.each([
    ['11m', "a duration such as '90s', '5m' or '1h30m', at most 10m ('0s' turns it off)"],
    ['0.5ms', 'at most 10m'],
    ['soon', 'at most 10m']
  ])('a window up to 10m refuses %s, saying the bounds', (raw, message) =>
    expect(() => durationBetween(0, 600_000)(raw)).toThrow(message)
  )

  it.each(['0.1ms', '0s', '600h', '1.0001ms'])('refuses %s by default', (raw) =>
    expect(() => parseDuration(raw)).toThrow(/between 1ms and 6h/)
  )

  it('says the bounds in the words a user writes them', () => {
    expect(() => durationBetween(1500, 5_400_000)('1s')).toThrow('between 1s500ms and 1h30m')
  })
})

describe('small validators', () => {
  it.each([
    ['a.b.c', undefined],
    ['__proto__', '__proto__'],
    ['a\\.__proto__', undefined],
    ['a.b[0].constructor', 'constructor'],
    ['x[1]', undefined]
  ])('reserved part of %s', (key, part) => expect(reservedKeyPart(key)).toBe(part))

  it.each([
    ['http', true],
    ['metrics-8080', true],
    ['8080', false],
    ['-http', false],
    ['http--alt', false],
    ['a'.repeat(16), false],
    ['HTTP', false]
  ])('port name %s: %s', (name, ok) => expect(isPortName(name)).toBe(ok))

  it('a base URL that is not one hides what looks like credentials', () => {
    const found = problems({ 'kubectl-base-url': 'https://ci:hunter2-pw@' })
    expect(found).toEqual(["input 'kubectl-base-url' must be an http(s) URL, got 'https://***@'"])
    expect(() => parseBaseUrl('https://ci:hunter2-pw@')).toThrow('an http(s) URL')
  })
})

describe('the chart found on disk', () => {
  function chartProblems(chartYaml: string | null): string[] {
    const root = mkdtempSync(join(tmpdir(), 'mp-discover-'))
    const chart = join(root, 'charts', 'web')
    mkdirSync(chart, { recursive: true })
    if (chartYaml === null) mkdirSync(join(chart, 'Chart.yaml'))
    else writeFileSync(join(chart, 'Chart.yaml'), chartYaml)
    try {
      discover(
        parseInputs(() => '', root),
        root,
        '0123456789abcdef'
      )
    } catch (err) {
      if (err instanceof InputErrors) return err.problems
      throw err
    }
    return []
  }

  it.each([
    [
      'name: web\nversion: [0.1.0\n',
      /^input 'chart' must be a chart whose charts\/web\/Chart.yaml is YAML; it is not \(.+\)$/
    ],
    [
      'name: 42\nversion: 0.1.0\n',
      "input 'chart' must be a chart whose charts/web/Chart.yaml has a text 'name'; it is the number 42 (quote it)"
    ],
    [
      'name: {a: b}\n',
      "input 'chart' must be a chart whose charts/web/Chart.yaml has a text 'name'; it is a mapping (quote it)"
    ],
    [
      'name: web\nversion: 1.0\n',
      "input 'chart' must be a chart whose charts/web/Chart.yaml has a text 'version'; it is the number 1 (quote it)"
    ],
    [
      '- name: web\n',
      "input 'chart' must be a chart whose charts/web/Chart.yaml is a YAML mapping; it is a list"
    ],
    [
      'name: web\ndependencies: redis\n',
      "input 'chart' must be a chart whose charts/web/Chart.yaml has a list of 'dependencies'; it is not a list"
    ],
    [null, "input 'chart' must be a chart whose charts/web/Chart.yaml is a file; it is a folder"]
  ])('refuses Chart.yaml %j by name', (chartYaml, message) => {
    const found = chartProblems(chartYaml)
    expect(found).toHaveLength(1)
    expect(found[0]).toMatch(message)
  })

  it('reads a good Chart.yaml', () => {
    expect(chartProblems('apiVersion: v2\nname: web\nversion: 0.1.0\n')).toEqual([])
  })
})
