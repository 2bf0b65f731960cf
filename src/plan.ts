import type { Discovered } from './discover.js'
import { formatMs } from './exec.js'
import type { ImageSpec, Inputs } from './inputs.js'
import type { ToolName } from './tools/download.js'

export type Action =
  | { kind: 'install'; tool: ToolName }
  | { kind: 'cache-restore' }
  | { kind: 'cluster' }
  | { kind: 'helm-deps' }
  | { kind: 'render' }
  | { kind: 'addons' }
  | { kind: 'build'; image: ImageSpec }
  | { kind: 'load'; image: ImageSpec }
  | { kind: 'deploy' }
  | { kind: 'verify' }
  | { kind: 'stable' }
  | { kind: 'health-checks' }
  | { kind: 'helm-test' }
  | { kind: 'diagnostics' }
  | { kind: 'rollback' }

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

/** kubectl to ask an existing cluster its version; one of that version replaces it (steps.ts). */
export const DEFAULT_KUBECTL = 'v1.37.0'

export const id = {
  install: (tool: ToolName) => `install-${tool}`,
  build: (image: ImageSpec) => `build-${image.name.replace(/[^a-z0-9]+/g, '-')}`,
  load: (image: ImageSpec) => `load-${image.name.replace(/[^a-z0-9]+/g, '-')}`
}

/**
 * The run as a graph: every step names the steps it needs. The runner starts each step as soon
 * as its needs succeeded, so installs run together and image builds overlap the cluster start.
 */
export function buildPlan(inputs: Inputs, found: Discovered): PlannedStep[] {
  const steps: PlannedStep[] = []
  const add = (s: PlannedStep): string => {
    steps.push(s)
    return s.id
  }
  const minikube = inputs.cluster === 'minikube'
  const deploying = found.chart !== undefined

  const installHelm = add({
    id: id.install('helm'),
    title: 'Install helm',
    needs: [],
    action: { kind: 'install', tool: 'helm' }
  })
  let installMinikube: string | undefined
  const clusterNeeds: string[] = []
  if (minikube) {
    installMinikube = add({
      id: id.install('minikube'),
      title: 'Install minikube',
      needs: [],
      action: { kind: 'install', tool: 'minikube' }
    })
    clusterNeeds.push(installMinikube)
    if (inputs.minikubeCache) {
      clusterNeeds.push(
        add({
          id: 'cache-restore',
          title: 'Restore minikube cache',
          needs: [],
          action: { kind: 'cache-restore' }
        })
      )
    }
  }
  const kubectlAfterCluster = kubectlVersionFor(inputs) === undefined
  const installKubectl = 'install-kubectl'
  if (!kubectlAfterCluster) {
    add({
      id: installKubectl,
      title: 'Install kubectl',
      needs: [],
      action: { kind: 'install', tool: 'kubectl' }
    })
  }
  if (!minikube) clusterNeeds.push(installKubectl)
  const cluster = add({
    id: 'cluster',
    title: minikube ? 'Start minikube' : 'Connect to the cluster',
    needs: clusterNeeds,
    action: { kind: 'cluster' }
  })
  if (kubectlAfterCluster) {
    add({
      id: installKubectl,
      title: 'Install kubectl',
      needs: [cluster],
      action: { kind: 'install', tool: 'kubectl' }
    })
  }

  const deployNeeds = [cluster, installHelm, installKubectl]
  let helmReady = installHelm
  if (deploying && found.chartHasDependencies) {
    helmReady = add({
      id: 'helm-deps',
      title: 'Build chart dependencies',
      needs: [installHelm],
      action: { kind: 'helm-deps' }
    })
    deployNeeds.push(helmReady)
  }
  if (minikube && (inputs.addons.names.length > 0 || (inputs.addons.auto && deploying))) {
    const addonNeeds = [cluster]
    if (inputs.addons.auto && deploying) {
      addonNeeds.push(
        add({
          id: 'render',
          title: 'Render the chart',
          needs: [helmReady],
          action: { kind: 'render' }
        })
      )
    }
    deployNeeds.push(
      add({ id: 'addons', title: 'Enable addons', needs: addonNeeds, action: { kind: 'addons' } })
    )
  }

  const dockerEnv = inputs.imageLoad === 'docker-env'
  for (const image of inputs.images) {
    const build = add({
      id: id.build(image),
      title: `Build ${image.name}`,
      // Built against the cluster's Docker with docker-env; otherwise while the cluster starts.
      needs: dockerEnv ? [cluster] : [],
      action: { kind: 'build', image }
    })
    if (dockerEnv) {
      deployNeeds.push(build)
    } else {
      deployNeeds.push(
        add({
          id: id.load(image),
          title: `Load ${image.name}`,
          needs: [build, cluster],
          action: { kind: 'load', image }
        })
      )
    }
  }

  let finalNeeds = [...deployNeeds]
  if (deploying) {
    const deploy = add({
      id: 'deploy',
      title: 'Deploy with helm',
      needs: deployNeeds,
      action: { kind: 'deploy' }
    })
    const verify = add({
      id: 'verify',
      title: 'Verify workloads',
      needs: [deploy],
      action: { kind: 'verify' }
    })
    finalNeeds = [verify]
    // Once the rollout has completed, the window, the health checks and helm test run together:
    // a healthy run pays the window once. The verdict is healthy only if all of them succeed.
    if (inputs.stableForMs > 0) {
      finalNeeds.push(
        add({
          id: 'stable',
          title: `Stay healthy for ${formatMs(inputs.stableForMs)}`,
          needs: [verify],
          action: { kind: 'stable' }
        })
      )
    }
    if (inputs.healthChecks.length > 0) {
      finalNeeds.push(
        add({
          id: 'health-checks',
          title: 'Health checks',
          needs: [verify],
          action: { kind: 'health-checks' }
        })
      )
    }
    if (inputs.helmTest !== 'false') {
      finalNeeds.push(
        add({ id: 'helm-test', title: 'Helm test', needs: [verify], action: { kind: 'helm-test' } })
      )
    }
  }
  // Runs whatever happened before it: it looks at the report and collects only when something failed.
  const diagnostics = add({
    id: 'diagnostics',
    title: 'Collect diagnostics',
    needs: [...new Set(finalNeeds)],
    always: true,
    action: { kind: 'diagnostics' }
  })
  if (deploying && inputs.rollbackOnFailure) {
    add({
      id: 'rollback',
      title: 'Roll back',
      needs: [diagnostics],
      always: true,
      action: { kind: 'rollback' }
    })
  }
  return steps
}
