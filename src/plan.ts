// The step graph as a table of rows {id, title, needs, when, stage}: a pure function of the inputs.
import type { Discovered } from './discover.js'
import type { ImageSpec, Inputs } from './inputs.js'
import { isPullRequestEvent, type Mode, type RunFacts } from './model.js'
import type { ToolName } from './tools/download.js'
import { formatMs } from './text.js'

export type Action =
  | { kind: 'install'; tool: ToolName }
  | { kind: 'cache-restore' }
  | { kind: 'cluster' }
  | { kind: 'helm-deps' }
  | { kind: 'render' }
  | { kind: 'addons' }
  | { kind: 'build'; image: ImageSpec }
  | { kind: 'load'; image: ImageSpec }
  | { kind: 'registry-login' }
  | { kind: 'push'; image: ImageSpec }
  | { kind: 'promote' }
  | { kind: 'deploy' }
  | { kind: 'verify' }
  | { kind: 'stable' }
  | { kind: 'health-checks' }
  | { kind: 'helm-test' }
  | { kind: 'diagnostics' }
  | { kind: 'rollback' }
  | { kind: 'namespace' }
  | { kind: 'deployment-start' }
  | { kind: 'url-check' }
  | { kind: 'deployment-finish' }
  | { kind: 'teardown' }
  | { kind: 'deactivate' }
  | { kind: 'sweep' }

export interface PlannedStep {
  id: string
  title: string
  needs: string[]
  always?: boolean
  action: Action
}

/** Minikube's default Kubernetes version, for the minikube versions this action pins or knows. */
export const MINIKUBE_DEFAULT_KUBERNETES: Record<string, string> = {
  'v1.39.0': 'v1.37.0',
  'v1.38.1': 'v1.35.0',
  'v1.38.0': 'v1.35.0'
}

/**
 * The kubectl version to install, or undefined when it can only be known once the cluster
 * runs (then kubectl is installed after the cluster starts).
 */
export function kubectlVersionFor(inputs: Inputs): string | undefined {
  if (inputs.kubectlVersion) return inputs.kubectlVersion
  if (inputs.cluster === 'existing') return DEFAULT_KUBECTL
  if (/^v\d/.test(inputs.kubernetesVersion)) return inputs.kubernetesVersion
  if (inputs.kubernetesVersion === '') return MINIKUBE_DEFAULT_KUBERNETES[inputs.minikubeVersion]
  return undefined
}

/** kubectl to ask an existing cluster its version; one of that version replaces it (stages/install.ts). */
export const DEFAULT_KUBECTL = 'v1.37.0'

export const id = {
  install: (tool: ToolName) => `install-${tool}`,
  build: (image: ImageSpec) => `build-${image.name.replace(/[^a-z0-9]+/g, '-')}`,
  load: (image: ImageSpec) => `load-${image.name.replace(/[^a-z0-9]+/g, '-')}`,
  push: (image: ImageSpec) => `push-${image.name.replace(/[^a-z0-9]+/g, '-')}`
}

/**
 * When the built images go to `registry`: an existing cluster pulls them from it, so each build
 * pushes (`at-build`, nothing is loaded); on minikube they are loaded as ever, and pushed once
 * the preview is healthy (`when-healthy`). Undefined: no registry, or no images.
 */
export function registryPush(inputs: Inputs): 'at-build' | 'when-healthy' | undefined {
  if (inputs.registry === '' || inputs.images.length === 0) return undefined
  return inputs.cluster === 'existing' ? 'at-build' : 'when-healthy'
}

/**
 * What this run does: `mode: sweep` sweeps; a closed pull request (merged or not) takes its
 * preview down; anything else deploys one.
 */
export function runMode(inputs: Inputs, facts: Pick<RunFacts, 'event' | 'eventAction'>): Mode {
  if (inputs.mode === 'sweep') return 'sweep'
  if (isPullRequestEvent(facts.event) && facts.eventAction === 'closed') return 'teardown'
  return 'preview'
}

/** One row of the plan: a step, what it needs, whether this run has it, and its stage. */
export interface Row {
  id: string
  title: string
  /** Steps it waits for; one this run does not have (its `when` is false) is left out. */
  needs: readonly string[]
  /** Whether this run has the step at all. */
  when: boolean
  /** Runs once its needs have finished, whatever their outcome. */
  always?: boolean
  stage: Action
}

/**
 * The run as a graph, one row per step in the order the report lists them: every step names
 * the steps it needs. The scheduler starts each step as soon as its needs succeeded, so installs
 * run together and image builds overlap the cluster start.
 */
export function planRows(inputs: Inputs, found: Discovered, mode: Mode = 'preview'): Row[] {
  if (mode !== 'preview') return lifecycleRows(inputs, found, mode)
  const minikube = inputs.cluster === 'minikube'
  const deploying = found.chart !== undefined
  const kubectlAfterCluster = kubectlVersionFor(inputs) === undefined
  const deps = deploying && found.chartHasDependencies
  const autoIngress = inputs.addons.auto && deploying
  // Built against the cluster's Docker with docker-env; otherwise while the cluster starts.
  const dockerEnv = inputs.imageLoad === 'docker-env'
  const push = registryPush(inputs)
  const registry = push !== undefined
  // Neither user nor password: a registry that takes anonymous pushes, no login.
  const login = registry && (inputs.registryUsername !== '' || inputs.registryPassword !== '')
  const pushAtBuild = push === 'at-build'
  const pushWhenHealthy = push === 'when-healthy'
  const verified = deploying ? VERIFICATION : []
  const images = inputs.images.flatMap((image): Row[] => [
    {
      id: id.build(image),
      title: `Build ${image.name}`,
      needs: [...(dockerEnv ? ['cluster'] : []), ...(pushAtBuild ? ['registry-login'] : [])],
      when: true,
      stage: { kind: 'build', image }
    },
    {
      id: id.load(image),
      title: `Load ${image.name}`,
      needs: [id.build(image), 'cluster'],
      when: minikube && !dockerEnv,
      stage: { kind: 'load', image }
    }
  ])
  const delivered = (image: ImageSpec): string =>
    minikube && !dockerEnv ? id.load(image) : id.build(image)
  const pushes = inputs.images.map((image): Row => ({
    id: id.push(image),
    title: `Push ${image.name}`,
    needs: [...verified, delivered(image), 'registry-login'],
    when: pushWhenHealthy,
    stage: { kind: 'push', image }
  }))
  const environment = inputs.environment !== '' && deploying
  const ready = [
    'cluster',
    'namespace',
    'install-helm',
    'install-kubectl',
    'helm-deps',
    'addons',
    ...inputs.images.map(delivered)
  ]
  // prettier-ignore
  return [
    { id: 'install-helm', title: 'Install helm', needs: [], when: true, stage: { kind: 'install', tool: 'helm' } },
    { id: 'install-minikube', title: 'Install minikube', needs: [], when: minikube, stage: { kind: 'install', tool: 'minikube' } },
    { id: 'cache-restore', title: 'Restore minikube cache', needs: [], when: minikube && inputs.minikubeCache, stage: { kind: 'cache-restore' } },
    { id: 'install-kubectl', title: 'Install kubectl', needs: [], when: !kubectlAfterCluster, stage: { kind: 'install', tool: 'kubectl' } },
    { id: 'cluster', title: minikube ? 'Start minikube' : 'Connect to the cluster', needs: minikube ? ['install-minikube', 'cache-restore'] : ['install-kubectl'], when: true, stage: { kind: 'cluster' } },
    // Of the cluster's own Kubernetes version, when only the running cluster can say it.
    { id: 'install-kubectl', title: 'Install kubectl', needs: ['cluster'], when: kubectlAfterCluster, stage: { kind: 'install', tool: 'kubectl' } },
    { id: 'helm-deps', title: 'Build chart dependencies', needs: ['install-helm'], when: deps, stage: { kind: 'helm-deps' } },
    { id: 'render', title: 'Render the chart', needs: [deps ? 'helm-deps' : 'install-helm'], when: minikube && autoIngress, stage: { kind: 'render' } },
    { id: 'addons', title: 'Enable addons', needs: ['cluster', 'render'], when: minikube && (inputs.addons.names.length > 0 || autoIngress), stage: { kind: 'addons' } },
    { id: 'registry-login', title: 'Log in to the registry', needs: [], when: login, stage: { kind: 'registry-login' } },
    ...images,
    // On a shared cluster: the namespace made (or found) and labelled before helm deploys into it.
    { id: 'namespace', title: 'Prepare the namespace', needs: ['cluster', 'install-kubectl'], when: !minikube && deploying, stage: { kind: 'namespace' } },
    { id: 'deployment-start', title: 'Start the GitHub deployment', needs: [], when: environment, stage: { kind: 'deployment-start' } },
    { id: 'deploy', title: 'Deploy with helm', needs: ready, when: deploying, stage: { kind: 'deploy' } },
    { id: 'verify', title: 'Verify workloads', needs: ['deploy'], when: deploying, stage: { kind: 'verify' } },
    // Once the rollout has completed, the window, the health checks and helm test run together:
    // a healthy run pays the window once. The verdict is healthy only if all of them succeed.
    { id: 'stable', title: `Stay healthy for ${formatMs(inputs.stableForMs)}`, needs: ['verify'], when: deploying && inputs.stableForMs > 0, stage: { kind: 'stable' } },
    { id: 'health-checks', title: 'Health checks', needs: ['verify'], when: deploying && inputs.healthChecks.length > 0, stage: { kind: 'health-checks' } },
    { id: 'helm-test', title: 'Helm test', needs: ['verify'], when: deploying && inputs.helmTest !== 'false', stage: { kind: 'helm-test' } },
    // The preview's URL answers, unless health checks say what to check (none found: not a step).
    { id: 'url-check', title: 'Check the preview URL', needs: ['verify'], when: deploying && inputs.healthChecks.length === 0 && (inputs.url !== '' || !minikube), stage: { kind: 'url-check' } },
    // Runs whatever happened before it: it collects only when something failed.
    { id: 'diagnostics', title: 'Collect diagnostics', needs: deploying ? VERIFICATION : ready, when: true, always: true, stage: { kind: 'diagnostics' } },
    { id: 'rollback', title: 'Roll back', needs: ['diagnostics'], when: deploying && inputs.rollbackOnFailure, always: true, stage: { kind: 'rollback' } },
    ...pushes,
    // Verify, then promote: a failed verification skips it, so a tag never moves to an unhealthy image.
    { id: 'promote', title: 'Tag the pushed images', needs: [...verified, 'registry-login', ...inputs.images.map(pushAtBuild ? id.build : id.push)], when: registry && inputs.pushTags.length > 0, stage: { kind: 'promote' } },
    // success or failure, so it waits for everything that decides which, pushes and tags included.
    { id: 'deployment-finish', title: 'Finish the GitHub deployment', needs: ['deployment-start', 'rollback', ...VERIFICATION, ...pushes.map((p) => p.id), 'promote'], when: environment, always: true, stage: { kind: 'deployment-finish' } }
  ]
}

/** The steps after the rollout whose success makes the preview healthy. */
const VERIFICATION = ['verify', 'stable', 'health-checks', 'helm-test', 'url-check']

/**
 * A closed pull request's teardown (nothing built or started: on a shared cluster the release
 * and the namespace the action created go; the deployments and the comment say so), or a sweep.
 */
function lifecycleRows(inputs: Inputs, found: Discovered, mode: Exclude<Mode, 'preview'>): Row[] {
  const shared = inputs.cluster === 'existing'
  // prettier-ignore
  return [
    { id: 'install-helm', title: 'Install helm', needs: [], when: shared, stage: { kind: 'install', tool: 'helm' } },
    { id: 'install-kubectl', title: 'Install kubectl', needs: [], when: shared, stage: { kind: 'install', tool: 'kubectl' } },
    { id: 'cluster', title: 'Connect to the cluster', needs: ['install-kubectl'], when: shared, stage: { kind: 'cluster' } },
    { id: 'teardown', title: 'Remove the preview', needs: ['cluster', 'install-helm'], when: mode === 'teardown' && shared, stage: { kind: 'teardown' } },
    { id: 'deactivate', title: 'Mark the GitHub deployments inactive', needs: [], when: mode === 'teardown' && inputs.environment !== '' && found.release !== undefined, stage: { kind: 'deactivate' } },
    { id: 'sweep', title: 'Remove expired and closed previews', needs: ['cluster', 'install-helm'], when: mode === 'sweep', stage: { kind: 'sweep' } }
  ]
}

/** The steps of this run: the rows it has, each needing only steps it has. */
export function buildPlan(
  inputs: Inputs,
  found: Discovered,
  mode: Mode = 'preview'
): PlannedStep[] {
  const rows = planRows(inputs, found, mode)
  const known = new Set(rows.map((r) => r.id))
  const present = new Set(rows.filter((r) => r.when).map((r) => r.id))
  return rows
    .filter((r) => r.when)
    .map((r) => {
      // A need no row has is a typo in the table, not a step this run happens to lack.
      const unknown = r.needs.find((n) => !known.has(n))
      if (unknown) throw new Error(`step '${r.id}' needs unknown step '${unknown}'`)
      const step: PlannedStep = {
        id: r.id,
        title: r.title,
        needs: [...new Set(r.needs.filter((n) => present.has(n)))],
        action: r.stage
      }
      if (r.always) step.always = true
      return step
    })
}
