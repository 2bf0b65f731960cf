// Images through a registry, through the bundled action with a stand-in docker that records its
// argv, environment and stdin: the login (password on stdin only), a push per image, the chart
// pinned to `tag@digest`, `push-tags` only after a healthy run, the logout in post, and the
// ghcr.io defaults (the actor and github-token).
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { makeRunner, runStep, type Runner, type StepRun } from '../support/action.js'
import { DOCKER_OK, fakeTools, type FakeTools } from '../support/fake-tools.js'
import { crashLoopList, eventsList, healthyList, manifest } from '../support/kube-objects.js'
import { pathWith, standIn, type Call, type Rule, type StandIn } from '../support/stand-in.js'

const NS = 'preview'
const HOST = 'registry.example.test:5000'
const REGISTRY = `${HOST}/acme/shop`
const USER = 'ci-pusher'
const PASSWORD = 'REGISTRY-PASSWORD-5f1c9e2a7d'
const TAG = 'sha-0123456'
const DIGEST = {
  'todo-api': `sha256:${'a1'.repeat(32)}`,
  'todo-web': `sha256:${'b2'.repeat(32)}`
} as const
const CONFIG = `sha256:${'c3'.repeat(32)}`
const IMAGES = [
  '- name: todo-api',
  '  context: docker/api',
  '  values: backend.image',
  '- name: todo-web',
  '  context: docker/web',
  '  values: frontend.image'
].join('\n')
const NAMES = ['todo-api', 'todo-web'] as const

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

/**
 * docker as it answers a registry flow: a login that succeeds, builds that write their metadata
 * file (the pushed digest with a pushing output), pushes that print their digest, the
 * `RepoDigests` of a pushed image, and `imagetools create` writing the digest it tagged.
 */
function dockerRules(): Rule[] {
  const perImage = NAMES.flatMap((name): Rule[] => [
    {
      match: ['buildx', 'build', new RegExp(`/${name}:`)],
      stderr: '#1 [internal] load build definition from Dockerfile\n#9 DONE 0.1s\n',
      writes: [
        {
          flag: '--metadata-file',
          content: JSON.stringify({
            'containerimage.config.digest': CONFIG,
            'containerimage.digest': DIGEST[name]
          })
        },
        { flag: '--output', field: 'dest', content: 'a docker-format image tarball' }
      ]
    },
    {
      match: ['push', new RegExp(`/${name}:`)],
      stdout: `The push refers to repository [${REGISTRY}/${name}]\n5f70bf18a086: Pushed\n${TAG}: digest: ${DIGEST[name]} size: 1570\n`
    },
    {
      match: ['image', 'inspect', '{{json .RepoDigests}}', new RegExp(`/${name}:`)],
      stdout: JSON.stringify([`${REGISTRY}/${name}@${DIGEST[name]}`]) + '\n'
    },
    {
      match: ['buildx', 'imagetools', 'create', new RegExp(`/${name}@`)],
      stderr: `#1 copying ${REGISTRY}/${name}@${DIGEST[name]}\n#1 DONE 0.2s\n`,
      writes: [
        {
          flag: '--metadata-file',
          content: JSON.stringify({
            'containerimage.descriptor': {
              mediaType: 'application/vnd.oci.image.manifest.v1+json',
              digest: DIGEST[name],
              size: 1570
            }
          })
        }
      ]
    }
  ])
  return [
    { match: ['login'], stdout: 'Login Succeeded\n' },
    { match: ['logout'], stdout: `Removing login credentials for ${HOST}\n` },
    { match: ['buildx', 'create'], stdout: 'minikube-preview\n' },
    { match: ['buildx', 'rm'], stderr: 'minikube-preview removed\n' },
    { match: ['image', 'tag'], stdout: '' },
    ...perImage,
    ...DOCKER_OK
  ]
}

interface World {
  runner: Runner
  tools: FakeTools
  docker: StandIn
  path: string
}

async function world(healthy: boolean): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'mp-registry-'))
  const pods = healthy ? healthyList(NS, [...NAMES]) : crashLoopList(NS, ['todo-web'], 'todo-api')
  const tools = await fakeTools(
    join(dir, 'tools'),
    {
      helm: [
        { match: ['template'], stdout: manifest([...NAMES], false) },
        { match: ['upgrade'], stdout: 'Release "app" has been upgraded. Happy Helming!\n' },
        {
          match: ['status', '--output'],
          stdout: JSON.stringify({ name: 'app', version: 1, info: { status: 'deployed' } })
        },
        { match: ['history'], stdout: 'REVISION\tSTATUS\n1\tdeployed\n' },
        { match: ['get', 'manifest'], stdout: manifest([...NAMES], false) },
        { match: ['get', 'hooks'], stdout: '' }
      ],
      kubectl: [
        // A namespace that is there already and not the action's: used as it is.
        {
          match: ['get', 'namespace', NS],
          stdout: JSON.stringify({
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name: NS, labels: { 'kubernetes.io/metadata.name': NS } },
            status: { phase: 'Active' }
          })
        },
        { match: ['get', /^deployments,/], stdout: pods },
        { match: ['get', 'events'], stdout: eventsList(NS, 'todo-api') },
        { match: ['logs'], stdout: 'FATAL: could not connect to database\n' }
      ]
    },
    [],
    { recordEnv: 'all' }
  )
  cleanups.push(() => tools.close())
  // Our own docker, first on PATH: it records the whole environment and stdin of every call.
  const docker = standIn(join(dir, 'docker-bin'), 'docker', dockerRules(), {
    recordEnv: 'all',
    recordStdin: true
  })
  const runner = makeRunner(join(dir, 'runner'))
  for (const d of ['docker/api', 'docker/web']) {
    mkdirSync(join(runner.workspace, d), { recursive: true })
    writeFileSync(join(runner.workspace, d, 'Dockerfile'), 'FROM scratch\n')
  }
  mkdirSync(join(runner.workspace, 'charts', 'app'), { recursive: true })
  writeFileSync(
    join(runner.workspace, 'charts', 'app', 'Chart.yaml'),
    'apiVersion: v2\nname: app\nversion: 0.1.0\n'
  )
  return { runner, tools, docker, path: pathWith(docker.dir, tools.docker.dir) }
}

async function mainAndPost(
  w: World,
  inputs: Record<string, string>,
  env: Record<string, string | undefined> = {}
): Promise<{ main: StepRun; post: StepRun }> {
  const opts = {
    inputs: {
      ...w.tools.inputs,
      cluster: 'existing',
      namespace: NS,
      images: IMAGES,
      'minikube-cache': 'false',
      comment: 'never',
      ...inputs
    },
    path: w.path,
    env
  }
  const main = await runStep(w.runner, opts)
  const post = await runStep(w.runner, { ...opts, state: main.state })
  return { main, post }
}

const withRegistry = {
  registry: REGISTRY,
  'registry-username': USER,
  'registry-password': PASSWORD
}

/** What a step shows: `::add-mask::` is how the runner learns a secret, and it never shows it. */
function shown(step: StepRun): string {
  return [
    step.stdout
      .split('\n')
      .filter((l) => !l.startsWith('::add-mask::'))
      .join('\n'),
    step.stderr,
    step.summary,
    JSON.stringify(step.outputs),
    JSON.stringify(step.state)
  ].join('\n')
}

/** Every file under a folder, as text (the report, the diagnostics, anything the run wrote). */
function everything(dir: string): string {
  if (!existsSync(dir)) return ''
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n')
}

const isLogin = (c: Call): boolean => c.argv[0] === 'login'
const isBuild = (c: Call): boolean =>
  c.argv[0] === 'build' || (c.argv[0] === 'buildx' && c.argv[1] === 'build')
const isPromote = (c: Call): boolean =>
  c.argv[0] === 'buildx' && c.argv[1] === 'imagetools' && c.argv[2] === 'create'

/** Whether `reference` reached the registry: `docker image push`, or a build with a pushing output. */
function pushed(calls: Call[], reference: string): boolean {
  return calls.some(
    (c) =>
      ((c.argv[0] === 'push' || (c.argv[0] === 'image' && c.argv[1] === 'push')) &&
        c.argv.includes(reference)) ||
      (isBuild(c) &&
        c.argv.includes(reference) &&
        c.argv.some((a) => /push=true/.test(a) || a === '--push'))
  )
}

interface ImageOut {
  reference?: string
  pushed?: string
  digest?: string
  tags?: string[]
}

const imagesOutput = (main: StepRun): Record<string, ImageOut> =>
  JSON.parse(main.outputs['images'] || '{}') as Record<string, ImageOut>

function report(main: StepRun): {
  status: string
  images: (ImageOut & { name: string })[]
  steps: { id: string; status: string; startedAt?: number; endedAt?: number }[]
} {
  return JSON.parse(readFileSync(main.outputs['report'] as string, 'utf8')) as ReturnType<
    typeof report
  >
}

const helmUpgrade = (w: World): string[] =>
  w.tools.helm.argvs().find((a) => a[0] === 'upgrade') ?? []

describe('images through a registry, with cluster: existing', () => {
  it('logs in with the password on stdin only, pushes each image, pins the chart to tag@digest, logs out in post', async () => {
    const w = await world(true)
    const { main, post } = await mainAndPost(w, withRegistry)
    expect(main.exitCode, main.stdout).toBe(0)
    expect(main.outputs['status']).toBe('healthy')

    const calls = w.docker.calls()
    const logins = calls.filter(isLogin)
    expect(logins.map((c) => c.argv)).toEqual([
      ['login', HOST, '--username', USER, '--password-stdin']
    ])
    expect(logins[0]?.stdin?.trim()).toBe(PASSWORD)
    // Logged in before anything is built or pushed.
    expect(calls.findIndex(isLogin)).toBeLessThan(calls.findIndex(isBuild))

    for (const name of NAMES) {
      const reference = `${REGISTRY}/${name}:${TAG}`
      expect(pushed(calls, reference), `${reference} pushed`).toBe(true)
      expect(imagesOutput(main)[name]).toMatchObject({ pushed: reference, digest: DIGEST[name] })
      expect(report(main).images.find((i) => i.name === name)).toMatchObject({
        pushed: reference,
        digest: DIGEST[name]
      })
    }
    // The chart runs exactly what was pushed: repository, and the tag pinned to the digest.
    const upgrade = helmUpgrade(w)
    expect(upgrade).toEqual(
      expect.arrayContaining([
        `backend.image.repository=${REGISTRY}/todo-api`,
        `backend.image.tag=${TAG}@${DIGEST['todo-api']}`,
        `frontend.image.repository=${REGISTRY}/todo-web`,
        `frontend.image.tag=${TAG}@${DIGEST['todo-web']}`
      ])
    )
    expect(report(main).steps.map((s) => s.id)).toContain('registry-login')

    // Post logs out of the host it logged in to, and does nothing else with the registry.
    expect(post.exitCode, post.stdout).toBe(0)
    const logouts = w.docker.calls().filter((c) => c.argv[0] === 'logout')
    expect(logouts.map((c) => c.argv)).toEqual([['logout', HOST]])

    // The password went to docker's stdin and nowhere else.
    const others = w.docker.calls().filter((c) => !isLogin(c))
    expect(JSON.stringify(calls.map((c) => c.argv))).not.toContain(PASSWORD)
    expect(JSON.stringify(w.docker.calls().map((c) => c.env))).not.toContain(PASSWORD)
    expect(JSON.stringify(others.map((c) => c.stdin ?? ''))).not.toContain(PASSWORD)
    for (const t of [w.tools.helm, w.tools.kubectl])
      expect(JSON.stringify(t.calls()), t.name).not.toContain(PASSWORD)
    expect(shown(main)).not.toContain(PASSWORD)
    expect(shown(post)).not.toContain(PASSWORD)
    expect(everything(w.runner.root)).not.toContain(PASSWORD)
  })

  it('push-tags: after a healthy run, each tag is put on the pushed digest', async () => {
    const w = await world(true)
    const { main } = await mainAndPost(w, { ...withRegistry, 'push-tags': 'v1.2.3\nlatest' })
    expect(main.exitCode, main.stdout).toBe(0)
    const promotes = w.docker.calls().filter(isPromote)
    expect(promotes).toHaveLength(NAMES.length)
    for (const name of NAMES) {
      const call = promotes.find((c) => c.argv.at(-1) === `${REGISTRY}/${name}@${DIGEST[name]}`)
      expect(call?.argv, `imagetools create for ${name}`).toBeDefined()
      // A carbon copy of the verified digest, not a new index around it.
      expect(call?.argv).toContain('--prefer-index=false')
      const tags = (call?.argv ?? []).flatMap((a, i, all) => (all[i - 1] === '--tag' ? [a] : []))
      expect(tags.sort()).toEqual([`${REGISTRY}/${name}:latest`, `${REGISTRY}/${name}:v1.2.3`])
      expect(imagesOutput(main)[name]?.tags?.sort()).toEqual(tags.sort())
    }
    // Promoted only once verified: the promote step starts after the deploy was judged healthy.
    const steps = report(main).steps
    const promote = steps.find((s) => s.id === 'promote')
    expect(promote?.status).toBe('success')
    const verify = steps.find((s) => s.id === 'verify')
    if (verify?.endedAt !== undefined)
      expect(promote?.startedAt ?? 0).toBeGreaterThanOrEqual(verify.endedAt)
  })

  it('push-tags: an unhealthy run tags nothing (the tags never move to an unverified digest)', async () => {
    const w = await world(false)
    const { main, post } = await mainAndPost(w, {
      ...withRegistry,
      'push-tags': 'v1.2.3\nlatest',
      'helm-test': 'false'
    })
    expect(main.exitCode).toBe(1)
    expect(main.outputs['status']).toBe('unhealthy')
    // It was pushed (the cluster needed it), but no tag was put on it.
    expect(pushed(w.docker.calls(), `${REGISTRY}/todo-api:${TAG}`)).toBe(true)
    expect(w.docker.calls().filter(isPromote)).toEqual([])
    const calls = JSON.stringify(w.docker.argvs())
    expect(calls).not.toContain(`${REGISTRY}/todo-api:v1.2.3`)
    expect(calls).not.toContain(`${REGISTRY}/todo-api:latest`)
    for (const name of NAMES) expect(imagesOutput(main)[name]?.tags ?? []).toEqual([])
    // The logout happens whatever the verdict.
    expect(post.exitCode, post.stdout).toBe(0)
    expect(w.docker.argvs().filter((a) => a[0] === 'logout')).toEqual([['logout', HOST]])
  })

  it('ghcr.io: logs in as the actor with github-token when no registry user or password is given', async () => {
    const w = await world(true)
    const token = 'ghs_actions_token_for_ghcr_3b7d'
    const { main, post } = await mainAndPost(
      w,
      { registry: 'ghcr.io/acme/shop', 'github-token': token },
      { GITHUB_ACTOR: 'octocat' }
    )
    expect(main.exitCode, main.stdout).toBe(0)
    const logins = w.docker.calls().filter(isLogin)
    expect(logins.map((c) => c.argv)).toEqual([
      ['login', 'ghcr.io', '--username', 'octocat', '--password-stdin']
    ])
    expect(logins[0]?.stdin?.trim()).toBe(token)
    expect(pushed(w.docker.calls(), `ghcr.io/acme/shop/todo-api:${TAG}`)).toBe(true)
    expect(JSON.stringify(w.docker.argvs())).not.toContain(token)
    expect(post.exitCode).toBe(0)
    expect(w.docker.argvs().filter((a) => a[0] === 'logout')).toEqual([['logout', 'ghcr.io']])
  })
})
