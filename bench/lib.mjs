// What the benchmarks share: stand-in programs that take known times, a local download server
// laid out like the real release sites, Kubernetes objects for kubectl's answers, and a runner
// that starts the bundled action (dist/index.js) under Node 24 the way GitHub does.
import { spawn, execFileSync } from 'node:child_process'
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'
import { node24 } from '../scripts/node24.mjs'
import { startDownloadServer } from '../test/support/download-server.mjs'
import { writeStandIn } from '../test/support/stand-in-writer.mjs'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const DIST = join(ROOT, 'dist', 'index.js')
export const VERSIONS = { minikube: 'v1.39.0', helm: 'v4.3.1', kubectl: 'v1.37.0' }
export const NS = 'preview'
export const COMMIT = '0123456789abcdef0123456789abcdef01234567'

/** `--name value` from argv, or the default. */
export function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}

export const flag = (name) => process.argv.includes(`--${name}`)

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix))
}

// ── stand-in programs ──────────────────────────────────────────────────────────────────────
//
// The tests' stand-ins (test/support/stand-in-writer.mjs), recording each call when it is
// answered: {argv, startedAt, answeredAt, tag}. A rule answers with `stdout`/`stderr`/`exitCode`
// after `delayMs`, or with the n-th entry of `sequence` on its n-th call (the last one repeats);
// `tag` names an answer in the record.

export function standIn(dir, name, rules) {
  return writeStandIn(dir, name, rules, { recordAnswer: true })
}

// ── download server ────────────────────────────────────────────────────────────────────────

/**
 * Serves the programs in `programs` (any of minikube, helm, kubectl: a file path each) as the
 * `versions` they are labelled, for each of `arches`, with the tests' stand-in for the release
 * sites (test/support/download-server.mjs); returns the base URL inputs of the tools served.
 */
export async function startDownloads(
  programs,
  _work,
  versions = VERSIONS,
  arches = ['amd64', 'arm64']
) {
  const served = Object.keys(programs).filter((tool) => programs[tool])
  const server = await startDownloadServer({
    tools: Object.fromEntries(served.map((tool) => [tool, { [versions[tool]]: programs[tool] }])),
    arches
  })
  return {
    inputs: Object.fromEntries(served.map((tool) => [`${tool}-base-url`, server.urls[tool]])),
    close: () => server.close()
  }
}

// ── the tools of one run ───────────────────────────────────────────────────────────────────

const MINIKUBE = [
  { match: ['ip'], stdout: '192.168.49.2\n' },
  {
    match: ['profile', 'list'],
    stdout: JSON.stringify({
      invalid: [],
      valid: [
        {
          Name: 'minikube',
          Status: 'OK',
          Config: { KubernetesConfig: { KubernetesVersion: VERSIONS.kubectl } }
        }
      ]
    })
  },
  { match: ['image', 'ls'], stdout: '[]\n' },
  { match: ['addons', 'enable'], stdout: '🌟  The addon is enabled\n' },
  { match: ['logs'], stdout: 'no problems found\n' }
]

const KUBECTL = [
  {
    match: ['version'],
    stdout: JSON.stringify({
      clientVersion: { gitVersion: VERSIONS.kubectl },
      serverVersion: { gitVersion: VERSIONS.kubectl, major: '1', minor: '37' }
    })
  },
  {
    match: ['get', 'nodes'],
    stdout: JSON.stringify({
      items: [
        {
          metadata: { name: 'minikube' },
          status: { conditions: [{ type: 'Ready', status: 'True' }] }
        }
      ]
    })
  }
]

function helmRules(names, t) {
  return [
    { match: ['version'], stdout: `${VERSIONS.helm}+g8f5a7b2\n` },
    { match: ['template'], stdout: manifest(names), delayMs: t.template ?? 0 },
    {
      match: ['upgrade'],
      stdout: 'Release "app" has been upgraded. Happy Helming!\n',
      delayMs: t.upgrade ?? 0
    },
    {
      match: ['status', '--output'],
      stdout: JSON.stringify({ name: 'app', version: 3, info: { status: 'deployed' } })
    },
    { match: ['status'], stdout: 'NAME: app\nSTATUS: deployed\nREVISION: 3\n' },
    { match: ['history'], stdout: 'REVISION\tSTATUS\n3\tdeployed\n' },
    { match: ['get', 'manifest'], stdout: manifest(names) },
    // With `t.test`: the chart has a test Pod, and `helm test` takes that long.
    ...(t.test === undefined
      ? []
      : [
          {
            match: ['test'],
            stdout: 'TEST SUITE:     app-test\nPhase:          Succeeded\n',
            delayMs: t.test
          },
          {
            match: ['get', 'hooks'],
            stdout:
              '---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: app-test\n  annotations:\n    helm.sh/hook: test\n'
          }
        ]),
    { match: ['get', 'hooks'], stdout: '' }
  ]
}

/** The images of both benchmarks: a backend and a frontend, each set into the chart's values. */
export const IMAGES = [
  { name: 'todo-api', values: 'backend.image' },
  { name: 'todo-web', values: 'frontend.image' }
]

/**
 * Stand-in minikube, helm, kubectl (downloaded by the action) and docker (on PATH) taking the
 * times in `t` (milliseconds): start, build[image name], load, upgrade, template. `kubectl`
 * rules come first, before the usual answers.
 */
export async function tools(dir, t, kubectl = []) {
  const served = join(dir, 'served')
  const bin = join(dir, 'bin')
  const names = IMAGES.map((i) => i.name)
  const minikube = standIn(served, 'minikube', [
    { match: ['start'], stdout: '🏄  Done! kubectl is now configured\n', delayMs: t.start ?? 0 },
    { match: ['image', 'load'], stdout: '', delayMs: t.load ?? 0 },
    ...MINIKUBE
  ])
  const helm = standIn(served, 'helm', helmRules(names, t))
  const kube = standIn(served, 'kubectl', [...kubectl, ...KUBECTL])
  const docker = standIn(bin, 'docker', [
    ...names.map((n) => ({
      match: ['build', new RegExp(`^${n}:`)],
      stdout: '#1 [internal] load build definition from Dockerfile\n#9 DONE 0.1s\n',
      delayMs: t.build?.[n] ?? 0
    })),
    {
      match: ['image', 'inspect'],
      stdout: `${JSON.stringify({ Id: `sha256:${'4c7d1e0f'.repeat(8)}`, Size: 155_000_000 })}\n`
    }
  ])
  const downloads = await startDownloads(
    { minikube: minikube.path, helm: helm.path, kubectl: kube.path },
    dir
  )
  return {
    minikube,
    helm,
    kubectl: kube,
    docker,
    inputs: downloads.inputs,
    path: [bin, process.env.PATH ?? ''].join(delimiter),
    close: downloads.close
  }
}

// ── Kubernetes objects for kubectl's answers ───────────────────────────────────────────────

const T0 = '2026-11-26T10:00:00Z'

function deployment(name, ready) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS, uid: `uid-${name}`, generation: 1, labels: { app: name } },
    spec: { replicas: 1, selector: { matchLabels: { app: name } } },
    status: {
      observedGeneration: 1,
      replicas: 1,
      updatedReplicas: 1,
      readyReplicas: ready ? 1 : 0,
      availableReplicas: ready ? 1 : 0,
      ...(ready ? {} : { unavailableReplicas: 1 }),
      conditions: [
        {
          type: 'Available',
          status: ready ? 'True' : 'False',
          reason: ready ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          lastTransitionTime: T0
        },
        {
          type: 'Progressing',
          status: 'True',
          reason: ready ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
          lastTransitionTime: T0
        }
      ]
    }
  }
}

function replicaSet(name, ready) {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${name}-7d9f8c6b5d`,
      namespace: NS,
      uid: `uid-${name}-rs`,
      generation: 1,
      annotations: { 'deployment.kubernetes.io/revision': '1' },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'Deployment', name, uid: `uid-${name}`, controller: true }
      ]
    },
    spec: { replicas: 1 },
    status: {
      observedGeneration: 1,
      replicas: 1,
      readyReplicas: ready ? 1 : 0,
      availableReplicas: ready ? 1 : 0,
      fullyLabeledReplicas: 1
    }
  }
}

export function podName(name) {
  return `${name}-7d9f8c6b5d-x2k4p`
}

/** A pod in one of three states: `ready`, `starting` (ContainerCreating), `crash-loop`. */
function pod(name, state) {
  const ready = state === 'ready'
  const container = {
    name,
    image: `${name}:sha-0123456`,
    imageID: '',
    ready,
    started: ready,
    restartCount: state === 'crash-loop' ? 3 : 0,
    state: ready
      ? { running: { startedAt: T0 } }
      : state === 'starting'
        ? { waiting: { reason: 'ContainerCreating' } }
        : {
            waiting: {
              reason: 'CrashLoopBackOff',
              message: `back-off 40s restarting failed container=${name} pod=${podName(name)}_${NS}`
            }
          },
    lastState:
      state === 'crash-loop'
        ? { terminated: { exitCode: 1, reason: 'Error', startedAt: T0, finishedAt: T0 } }
        : {}
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(name),
      namespace: NS,
      uid: `uid-${name}-pod`,
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: `${name}-7d9f8c6b5d`,
          uid: `uid-${name}-rs`,
          controller: true
        }
      ]
    },
    spec: { restartPolicy: 'Always', containers: [{ name, image: container.image }] },
    status: {
      phase: state === 'starting' ? 'Pending' : 'Running',
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: T0 },
        { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: T0 }
      ],
      containerStatuses: [container]
    }
  }
}

/** `kubectl get deployments,…,pods -o json`: one Deployment per name, its pod in `states[name]`. */
export function workloadList(states) {
  const items = Object.entries(states).flatMap(([name, state]) => [
    deployment(name, state === 'ready'),
    replicaSet(name, state === 'ready'),
    pod(name, state)
  ])
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items })
}

export function podJson(name, state) {
  return JSON.stringify(pod(name, state))
}

/** `helm template` / `helm get manifest`: a Deployment and Service per name, and an Ingress. */
export function manifest(names) {
  return [
    ...names.flatMap((n) => [
      `---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${n}\nspec:\n  replicas: 1\n`,
      `---\napiVersion: v1\nkind: Service\nmetadata:\n  name: ${n}\nspec:\n  ports:\n  - port: 80\n`
    ]),
    '---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: app\nspec:\n  ingressClassName: nginx\n'
  ].join('')
}

// ── the action ─────────────────────────────────────────────────────────────────────────────

function actionDefaults() {
  const doc = parseYaml(readFileSync(join(ROOT, 'action.yml'), 'utf8'))
  return Object.fromEntries(Object.entries(doc.inputs).map(([k, v]) => [k, v.default ?? '']))
}

/** `name<<DELIM … DELIM` and `name=value` entries of a GITHUB_OUTPUT file. */
function commandFile(text) {
  const out = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (heredoc) {
      const value = []
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) value.push(lines[i])
      out[heredoc[1]] = value.join('\n')
    } else if (lines[i].includes('=')) {
      out[lines[i].slice(0, lines[i].indexOf('='))] = lines[i].slice(lines[i].indexOf('=') + 1)
    }
  }
  return out
}

/** A runner's folders under `root`, made: workspace, temp, tool cache, home. */
export function runnerRoot(root) {
  const r = {
    root,
    workspace: join(root, 'workspace'),
    temp: join(root, 'temp'),
    toolCache: join(root, 'toolcache'),
    home: join(root, 'home')
  }
  for (const d of [r.workspace, r.temp, r.toolCache, r.home]) mkdirSync(d, { recursive: true })
  return r
}

/** A runner's workspace holding the two Docker contexts and the chart `charts/app`. */
export function runnerFolders(root) {
  const r = runnerRoot(root)
  for (const { name } of IMAGES) {
    mkdirSync(join(r.workspace, 'docker', name), { recursive: true })
    writeFileSync(join(r.workspace, 'docker', name, 'Dockerfile'), 'FROM scratch\n')
  }
  mkdirSync(join(r.workspace, 'charts', 'app'), { recursive: true })
  writeFileSync(
    join(r.workspace, 'charts', 'app', 'Chart.yaml'),
    'apiVersion: v2\nname: app\nversion: 0.1.0\n'
  )
  return r
}

const IMAGES_INPUT = IMAGES.map(
  (i) => `- name: ${i.name}\n  context: docker/${i.name}\n  values: ${i.values}`
).join('\n')

/** The inputs of every stand-in run: the two images, `charts/app`, no cache, no comment. */
export const BASE_INPUTS = {
  images: IMAGES_INPUT,
  chart: 'charts/app',
  'minikube-cache': 'false',
  comment: 'never',
  'github-token': ''
}

let node
/** Node 24, as `runs.using: node24` gives the action on GitHub (installed once, cached). */
export function node24Path() {
  node ??= node24()
  return node
}

/**
 * Runs the main step of the bundled action once, as a runner does: INPUT_* (defaults from
 * action.yml), the GITHUB_* command files, Node 24. Returns the exit code, the outputs, the
 * state it saved and the wall time from spawning the process to its exit. With `state` (what
 * main saved), it is the post step; `dist` is another bundle's index.js; `env` is added to the
 * environment last.
 */
export async function runAction(
  runner,
  inputs,
  path,
  timeoutMs = 180_000,
  { dist = DIST, state, env: extraEnv = {} } = {}
) {
  if (!existsSync(dist)) throw new Error(`${dist} is missing: run npm run bundle first`)
  const files = mkdtempSync(join(runner.root, 'step-'))
  const f = Object.fromEntries(
    ['output', 'state', 'path', 'env', 'summary'].map((k) => [k, join(files, k)])
  )
  for (const p of Object.values(f)) writeFileSync(p, '')
  const env = {
    PATH: path,
    HOME: runner.home,
    RUNNER_TEMP: runner.temp,
    RUNNER_TOOL_CACHE: runner.toolCache,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    GITHUB_WORKSPACE: runner.workspace,
    GITHUB_OUTPUT: f.output,
    GITHUB_STATE: f.state,
    GITHUB_PATH: f.path,
    GITHUB_ENV: f.env,
    GITHUB_STEP_SUMMARY: f.summary,
    GITHUB_REPOSITORY: 'octo/todo',
    GITHUB_SHA: COMMIT,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '42',
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    ...extraEnv
  }
  for (const [name, value] of Object.entries({ ...actionDefaults(), ...inputs }))
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  for (const [name, value] of Object.entries(state ?? {})) env[`STATE_${name}`] = value
  const bin = node24Path()
  const spawnedAt = Date.now()
  const { exitCode, stdout } = await new Promise((done, fail) => {
    const child = spawn(bin, [dist], {
      env,
      cwd: runner.workspace,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', fail)
    child.on('close', (code) => {
      clearTimeout(timer)
      done({ exitCode: code ?? 1, stdout: out })
    })
  })
  const exitedAt = Date.now()
  const outputs = commandFile(readFileSync(f.output, 'utf8'))
  const report =
    outputs.report && existsSync(outputs.report)
      ? JSON.parse(readFileSync(outputs.report, 'utf8'))
      : undefined
  appendFileSync(join(runner.root, 'action.log'), stdout)
  return {
    exitCode,
    stdout,
    outputs,
    state: commandFile(readFileSync(f.state, 'utf8')),
    report,
    spawnedAt,
    exitedAt,
    wallMs: exitedAt - spawnedAt
  }
}

/**
 * One run of the action in a fresh temporary folder (kept with --keep) against stand-ins taking
 * the times in `t`, with `kubectl` rules first (see tools()), and BASE_INPUTS then `inputs`.
 * `read(run, tools)` takes what it needs before the folder is removed; its value is returned.
 */
export async function standInRun(prefix, t, kubectl, inputs, read) {
  const dir = tempDir(prefix)
  const stand = await tools(join(dir, 'tools'), t, kubectl)
  try {
    const run = await runAction(
      runnerFolders(join(dir, 'runner')),
      { ...stand.inputs, ...BASE_INPUTS, ...inputs },
      stand.path
    )
    return read(run, stand)
  } finally {
    await stand.close()
    if (flag('keep')) console.log(`  kept ${dir}`)
    else rmSync(dir, { recursive: true, force: true })
  }
}

// ── printing ───────────────────────────────────────────────────────────────────────────────

export const seconds = (ms, digits = 1) => `${(ms / 1000).toFixed(digits)} s`

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** Rows of cells as a plain text table, the first row a header, numbers right-aligned. */
export function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)))
  const line = (r) =>
    r
      .map((cell, c) =>
        /^([-+]?[\d.]+( s|x| ms|%)?|—)$/.test(String(cell))
          ? String(cell).padStart(widths[c])
          : String(cell).padEnd(widths[c])
      )
      .join('  ')
      .trimEnd()
  return [
    line(rows[0]),
    widths.map((w) => '─'.repeat(w)).join('  '),
    ...rows.slice(1).map(line)
  ].join('\n')
}

// ── real clusters (bench/e2e.mjs, bench/real.mjs) ─────────────────────────────────────────

/** KEY=value lines of scripts/tool-versions.env: the versions of the built tools. */
export function pinned() {
  const text = readFileSync(join(ROOT, 'scripts', 'tool-versions.env'), 'utf8')
  return Object.fromEntries(
    text
      .split('\n')
      .map((l) => /^([A-Z0-9_]+)=(\S+)/.exec(l))
      .filter(Boolean)
      .map((m) => [m[1], m[2]])
  )
}

/** The folder of the built test tools: TOOLS_DIR, or what scripts/test-tools.sh prints. */
export function toolsDir() {
  if (process.env.TOOLS_DIR) return process.env.TOOLS_DIR
  const out = execFileSync('bash', [join(ROOT, 'scripts', 'test-tools.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024
  })
  return out.trim().split('\n').pop()
}

/** Runs a program to its end: exit code, output (stdout and stderr together), wall time. */
export function runToEnd(file, args, env = process.env) {
  const startedAt = Date.now()
  return new Promise((done) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('error', (err) => done({ code: 127, out: String(err), wallMs: 0 }))
    child.on('close', (code) => done({ code: code ?? 1, out, wallMs: Date.now() - startedAt }))
  })
}

export const lastLine = (text) => text.trim().split('\n').pop() ?? ''

/**
 * `kubectl get pods -n ns -o json` every `pollMs` (start to start) until stopped; `crashAt` is
 * when the first answer with a pod for which `crashed(pod)` holds arrived, `pod` that pod's name.
 */
export function podPoller(kubectl, kubeconfig, ns, crashed, pollMs) {
  const state = { polls: 0, crashAt: undefined, pod: undefined, stopped: false }
  const loop = (async () => {
    while (!state.stopped && state.crashAt === undefined) {
      const started = Date.now()
      const r = await runToEnd(kubectl, [
        '--kubeconfig',
        kubeconfig,
        'get',
        'pods',
        '-n',
        ns,
        '-o',
        'json'
      ])
      const answeredAt = Date.now()
      state.polls++
      if (r.code === 0) {
        const hit = (JSON.parse(r.out).items ?? []).find(crashed)
        if (hit) {
          state.crashAt = answeredAt
          state.pod = hit.metadata.name
        }
      }
      const wait = pollMs - (Date.now() - started)
      if (wait > 0) await new Promise((res) => setTimeout(res, wait))
    }
  })()
  return {
    state,
    stop: async () => {
      state.stopped = true
      await loop
    }
  }
}
