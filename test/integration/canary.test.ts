// Secrets never leave: through the bundled action, main then post, every path that handles a
// secret is run with canary values, and everything the run produced is searched for them —
// stdout, stderr, outputs, summary, report.json and diagnostics, the pull-request comment (via
// the local GitHub API), every stand-in's argv and the whole environment it was given, and every
// file left under the runner's folders (RUNNER_TEMP included) after the post step.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  makeRunner,
  runStep,
  type RunOptions,
  type Runner,
  type StepRun
} from '../support/action.js'
import { fakeTools, type FakeToolRules, type FakeTools } from '../support/fake-tools.js'
import { WRITE_TOKEN, startGitHubServer, type GitHubServer } from '../support/github-server.js'
import { crashLoopList, eventsList, healthyList, manifest } from '../support/kube-objects.js'
import type { Rule } from '../support/stand-in.js'

const REPO = 'octo/todo'
const PR = 23
const NS = 'preview'
// Distinct from their first three characters on: a cut that keeps a secret's start is caught too.
const CANARY = 'Zx9Q-canary-51f0a7'
const SPACED = 'Qw7R  spaced  b3k8'

/** What must appear nowhere: the secrets, the forms they take when cut, squeezed or encoded. */
const FORBIDDEN = [
  CANARY,
  SPACED,
  SPACED.replace(/\s+/g, ' '),
  CANARY.slice(0, 3),
  SPACED.slice(0, 3),
  Buffer.from(CANARY).toString('base64'),
  encodeURIComponent(SPACED),
  WRITE_TOKEN
]

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

interface World {
  runner: Runner
  tools: FakeTools
  github: GitHubServer
  run(inputs: Record<string, string>, extra?: Partial<RunOptions>): Promise<StepRun>
}

function helmRules(extra: Rule[] = []): Rule[] {
  return [
    ...extra,
    { match: ['template'], stdout: manifest(['todo-api'], false) },
    { match: ['upgrade'], stdout: 'Release "todo" has been upgraded. Happy Helming!\n' },
    { match: ['status', '--output'], stdout: JSON.stringify({ name: 'todo', version: 2 }) },
    { match: ['status'], stdout: 'NAME: todo\nSTATUS: deployed\nREVISION: 2\n' },
    { match: ['history'], stdout: 'REVISION\tSTATUS\n2\tdeployed\n' },
    { match: ['get', 'manifest'], stdout: manifest(['todo-api'], false) },
    { match: ['get', 'hooks'], stdout: '' }
  ]
}

async function world(rules: FakeToolRules = {}): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'mp-canary-'))
  const tools = await fakeTools(
    join(dir, 'tools'),
    {
      helm: helmRules(rules.helm),
      kubectl: [
        ...(rules.kubectl ?? []),
        { match: ['get', /^deployments,/], stdout: healthyList(NS, ['todo-api']) }
      ],
      minikube: rules.minikube
    },
    [],
    { recordEnv: 'all' }
  )
  const github = await startGitHubServer()
  cleanups.push(
    () => tools.close(),
    () => github.close()
  )
  const runner = makeRunner(join(dir, 'runner'))
  mkdirSync(join(runner.workspace, 'charts', 'todo'), { recursive: true })
  writeFileSync(
    join(runner.workspace, 'charts', 'todo', 'Chart.yaml'),
    'apiVersion: v2\nname: todo\nversion: 0.1.0\n'
  )
  const eventPath = join(dir, 'event.json')
  writeFileSync(
    eventPath,
    JSON.stringify({
      pull_request: { number: PR, head: { sha: 'fedcba9876543210fedcba9876543210fedcba98' } }
    })
  )
  return {
    runner,
    tools,
    github,
    run: (inputs, extra = {}) =>
      runStep(runner, {
        inputs: {
          ...tools.inputs,
          'github-token': WRITE_TOKEN,
          comment: 'always',
          'secret-values': `backend.database.password=${CANARY}\nbackend.api.key=${SPACED}`,
          ...inputs
        },
        path: tools.path,
        env: {
          GITHUB_EVENT_NAME: 'pull_request',
          GITHUB_EVENT_PATH: eventPath,
          GITHUB_API_URL: github.url,
          GITHUB_GRAPHQL_URL: github.graphqlUrl,
          GITHUB_REPOSITORY: REPO
        },
        ...extra
      })
  }
}

/** A stand-in helm told to stay forever outlives the killed main: stop it by its pid after the test. */
function stopStandInsLeft(w: World, command: string): void {
  cleanups.push(() => {
    for (const c of w.tools.helm.calls())
      if (c.argv[0] === command && c.pid) {
        try {
          process.kill(c.pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
  })
}

/** Every text file under a folder (archives and binaries left out: they hold random bytes). */
function everything(dir: string): string {
  if (!existsSync(dir)) return ''
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .map((f) => readFileSync(f, 'utf8'))
    .filter((text) => !text.includes('\0'))
    .join('\n')
}

/** A step's own words: `::add-mask::` is how the runner learns a secret, and it never shows it. */
function shown(step: StepRun): string {
  return [
    step.stdout
      .split('\n')
      .filter((l) => !l.startsWith('::add-mask::'))
      .join('\n'),
    step.stderr,
    JSON.stringify(step.outputs),
    step.summary
  ].join('\n')
}

/** Runs post with main's state, then searches everything both produced; returns it all. */
async function expectNoLeak(w: World, main: StepRun): Promise<string> {
  const post = await runStep(w.runner, { path: w.tools.path, state: main.state })
  expect(post.exitCode, post.stdout).toBe(0)
  const calls = [w.tools.helm, w.tools.kubectl, w.tools.minikube, w.tools.docker].flatMap((t) =>
    t.calls()
  )
  for (const c of calls) {
    expect(c.env, 'the whole environment is recorded').toBeDefined()
    expect(Object.keys(c.env ?? {}).filter((k) => /^INPUT_/i.test(k))).toEqual([])
  }
  const produced = [
    shown(main),
    shown(post),
    JSON.stringify(w.github.comments(REPO, PR).map((c) => c.body)),
    JSON.stringify(calls),
    everything(w.runner.root)
  ].join('\n')
  for (const secret of FORBIDDEN) expect(produced).not.toContain(secret)
  // Nothing of the secret values file is left in RUNNER_TEMP.
  expect(
    readdirSync(w.runner.temp).filter((f) => f.startsWith('minikube-preview-secrets-'))
  ).toEqual([])
  return produced
}

function reportOf(main: StepRun): {
  workloads: { name: string; state: string; reason?: string }[]
  diagnostics?: { sections: { title: string; body: string }[] }
} {
  return JSON.parse(readFileSync(main.outputs['report'] as string, 'utf8')) as ReturnType<
    typeof reportOf
  >
}

describe('secrets never leave a run', () => {
  it('a healthy run: the secrets reach helm as a file only, and nothing else holds them', async () => {
    const w = await world()
    const main = await w.run({})
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.outputs['status']).toBe('healthy')
    expect(w.tools.kubectl.calls().length).toBeGreaterThan(0)
    expect(w.github.comments(REPO, PR)).toHaveLength(1)
    const upgrade = w.tools.helm.argvs().find((a) => a[0] === 'upgrade') ?? []
    expect(upgrade[upgrade.lastIndexOf('--values') + 1]).toMatch(/secret-values\.yaml$/)
    await expectNoLeak(w, main)
  })

  it('an unhealthy run: a secret in a long waiting message, at its cut, and with double spaces', async () => {
    const list = JSON.parse(crashLoopList(NS, [], 'todo-api')) as {
      items: { kind: string; status?: { containerStatuses?: { state: object }[] } }[]
    }
    const pod = list.items.find((i) => i.kind === 'Pod')
    const status = pod?.status?.containerStatuses?.[0]
    if (!status) throw new Error('the crash loop list has no pod')
    // The one-line form keeps the first 199 characters: the canary straddles that cut.
    status.state = {
      waiting: {
        reason: 'CrashLoopBackOff',
        message: `${'config '.repeat(28)}${CANARY} is not a valid password; ${'x '.repeat(80)}also rejected: ${SPACED}`
      }
    }
    const w = await world({
      kubectl: [
        { match: ['get', /^deployments,/], stdout: JSON.stringify(list) },
        { match: ['get', 'events'], stdout: eventsList(NS, 'todo-api-7d9f8c6b5d-x2k4p') },
        { match: ['get', 'pod'], stdout: JSON.stringify(pod) },
        {
          match: ['logs'],
          stdout: `connecting with password ${CANARY}\napi key: ${SPACED}\nFATAL: denied\n`
        },
        { match: ['describe'], stdout: `Message: ${CANARY}\n` }
      ]
    })
    const main = await w.run({})
    expect(main.exitCode).toBe(1)
    expect(main.outputs['status']).toBe('unhealthy')
    const report = reportOf(main)
    const api = report.workloads.find((x) => x.name === 'todo-api')
    expect(api?.state).toBe('failed')
    const diag = JSON.stringify(report.diagnostics)
    expect(diag).toContain('FATAL: denied')
    const produced = await expectNoLeak(w, main)
    // The message was cut right after the masked canary, and its end kept the other one masked.
    expect(produced).toContain('config config *** …')
    expect(produced).toContain('also rejected: ***')
  })

  it('helm failing with the secret in its error', async () => {
    const w = await world({
      helm: [
        {
          match: ['upgrade'],
          exitCode: 1,
          stderr: `Error: UPGRADE FAILED: values don't meet the specifications: password "${CANARY}" and key "${SPACED}" are refused\n`
        }
      ]
    })
    const main = await w.run({})
    expect(main.exitCode).toBe(1)
    expect(main.errors.join('\n')).toContain('UPGRADE FAILED')
    await expectNoLeak(w, main)
  })

  it.each([
    ['a line without =', `backend.database.password=${CANARY}\n${SPACED}`],
    ['a YAML mapping', `backend:\n  password: ${CANARY}`],
    ['a bare value', CANARY],
    ['a bare value with double spaces', SPACED]
  ])('a malformed secret-values (%s) is refused without its value', async (_, raw) => {
    const w = await world()
    const main = await w.run({ 'secret-values': raw })
    expect(main.exitCode).toBe(1)
    expect(main.outputs['status']).toBe('error')
    expect(main.errors).toHaveLength(1)
    expect(main.errors[0]).toMatch(/input 'secret-values' must be 'key=value' on every line/)
    expect(main.summary).toContain('the inputs were refused')
    await expectNoLeak(w, main)
  })

  it('a __proto__ key in secret-values is refused by name and changes no output', async () => {
    const w = await world()
    const main = await w.run({ 'secret-values': `__proto__.commentUrl=${CANARY}` })
    expect(main.outputs['status']).toBe('error')
    expect(main.errors).toEqual([
      expect.stringContaining("input 'secret-values' must be keys without '__proto__'")
    ])
    expect(main.outputs['comment-url'] ?? '').toBe('')
    await expectNoLeak(w, main)
  })

  it('a base URL with user:password@ is refused by name, the password shown nowhere', async () => {
    const w = await world()
    const url = new URL(w.tools.inputs['helm-base-url'] as string)
    url.username = 'ci'
    url.password = CANARY
    const main = await w.run({ 'helm-base-url': url.toString() })
    expect(main.outputs['status']).toBe('error')
    expect(main.errors).toEqual([
      expect.stringContaining(
        "input 'helm-base-url' must be an http(s) URL without a user or password"
      )
    ])
    expect(w.tools.server.requests).toEqual([])
    await expectNoLeak(w, main)
  })

  it('main killed during helm upgrade: post removes the secret values file', async () => {
    const w = await world({ helm: [{ match: ['upgrade'], stay: 'forever' }] })
    const upgrading = (): boolean => w.tools.helm.argvs().some((a) => a[0] === 'upgrade')
    stopStandInsLeft(w, 'upgrade')
    const main = await w.run({}, { killWhen: upgrading })
    expect(upgrading()).toBe(true)
    expect(main.exitCode).not.toBe(0)
    // The plaintext file is there while helm runs; main had no chance to remove it.
    const upgrade = w.tools.helm.argvs().find((a) => a[0] === 'upgrade') ?? []
    const file = upgrade[upgrade.lastIndexOf('--values') + 1] ?? ''
    expect(file).toMatch(/secret-values\.yaml$/)
    expect(readFileSync(file, 'utf8')).toContain(CANARY)
    await expectNoLeak(w, main)
    expect(existsSync(file)).toBe(false)
  })

  it("main killed while chart repositories are added: post removes the run's repository config", async () => {
    const w = await world({
      helm: [
        { match: ['env', 'HELM_REPOSITORY_CONFIG'], stdout: '/nonexistent/repositories.yaml\n' },
        { match: ['repo', 'add'], stay: 'forever' }
      ]
    })
    const chart = join(w.runner.workspace, 'charts', 'todo')
    writeFileSync(
      join(chart, 'Chart.yaml'),
      'apiVersion: v2\nname: todo\nversion: 0.1.0\ndependencies:\n  - name: db\n    version: 1.0.0\n    repository: http://127.0.0.1:9/charts\n'
    )
    writeFileSync(
      join(chart, 'Chart.lock'),
      'dependencies:\n  - name: db\n    version: 1.0.0\n    repository: http://127.0.0.1:9/charts\ndigest: sha256:0\ngenerated: "2026-01-01T00:00:00Z"\n'
    )
    const adding = (): boolean =>
      w.tools.helm.argvs().some((a) => a[0] === 'repo' && a[1] === 'add')
    stopStandInsLeft(w, 'repo')
    const main = await w.run({}, { killWhen: adding })
    expect(adding(), main.stdout).toBe(true)
    expect(main.exitCode).not.toBe(0)
    const add = w.tools.helm.argvs().find((a) => a[0] === 'repo' && a[1] === 'add') ?? []
    const config = add[add.indexOf('--repository-config') + 1] ?? ''
    expect(config).toMatch(/minikube-preview-helm-repositories-\d+\/repositories\.yaml$/)
    expect(existsSync(config)).toBe(true)
    await expectNoLeak(w, main)
    expect(existsSync(dirname(config))).toBe(false)
  })
})
