// The cluster stage: start minikube (retried once after a delete) or connect to an existing
// cluster, and enable the addons.
import * as core from '@actions/core'
import type { ClusterInfo } from '../model.js'
import type { RunContext } from '../run.js'
import type { StepLog } from '../schedule.js'
import { state } from '../state.js'
import { errorMessage } from '../text.js'
import { createdCluster, startFailure, type StartOptions } from '../tools/minikube.js'
import { matchKubectl } from './install.js'

export async function startCluster(run: RunContext, log: StepLog): Promise<void> {
  if (run.inputs.cluster === 'minikube') {
    run.cluster = await startMinikube(run, log)
    return
  }
  run.cluster = await connect(run, log)
  const version = run.cluster.kubernetesVersion
  if (version) await matchKubectl(run, version, log)
}

function startOptions(run: RunContext): StartOptions {
  const i = run.inputs
  return {
    driver: i.driver,
    cpus: i.cpus,
    memory: i.memory,
    nodes: i.nodes,
    kubernetesVersion: i.kubernetesVersion,
    containerRuntime: i.imageLoad === 'docker-env' ? 'docker' : undefined,
    waitTimeoutMs: i.clusterTimeoutMs,
    extraArgs: i.startArgs
  }
}

async function startMinikube(run: RunContext, log: StepLog): Promise<ClusterInfo> {
  const minikube = run.minikube(log)
  const options = startOptions(run)
  const timeout = run.inputs.clusterTimeoutMs
  state.saveClusterStarted()
  try {
    run.clusterCreated = createdCluster(await minikube.start(options, timeout))
  } catch (first) {
    const why = startFailure(first)
    log.info(`minikube start failed (${why}); deleting the cluster and trying once more`)
    core.warning(`minikube start failed, retrying once after 'minikube delete': ${why}`)
    await minikube
      .delete()
      .catch((err: unknown) => log.info(`minikube delete failed: ${String(err)}`))
    try {
      await minikube.start(options, timeout)
      // After `minikube delete` there is nothing to reuse.
      run.clusterCreated = true
    } catch (second) {
      throw new Error(startFailure(second))
    }
  }
  const [ip, version] = await Promise.all([minikube.ip(), minikube.kubernetesVersion()])
  if (run.inputs.imageLoad === 'docker-env') run.dockerEnv = await minikube.dockerEnv()
  log.info(`minikube is running at ${ip}${version ? ` with Kubernetes ${version}` : ''}`)
  return {
    kind: 'minikube',
    ip,
    kubernetesVersion: version,
    driver: run.inputs.driver,
    nodes: run.inputs.nodes,
    kubeconfig: run.env.kubeconfig
  }
}

/** `cluster: existing`: whatever the current kubeconfig points at. Nothing is started. */
async function connect(run: RunContext, log: StepLog): Promise<ClusterInfo> {
  const kubectl = run.kubectl()
  let version: string
  try {
    version = await kubectl.serverVersion(30_000)
  } catch (err) {
    const why = errorMessage(err)
    throw new Error(`the cluster in ${run.env.kubeconfig} does not answer: ${why}`)
  }
  const nodes = await kubectl.nodesReady().catch(() => undefined)
  log.info(
    `connected to Kubernetes ${version}${nodes ? `, ${nodes.ready}/${nodes.total} nodes Ready` : ''}`
  )
  return {
    kind: 'existing',
    kubernetesVersion: version,
    nodes: nodes?.total,
    kubeconfig: run.env.kubeconfig
  }
}

export async function enableAddons(run: RunContext, log: StepLog): Promise<void> {
  const names = [...run.inputs.addons.names]
  if (
    run.inputs.addons.auto &&
    run.rendered?.some((o) => o.kind === 'Ingress') &&
    !names.includes('ingress')
  ) {
    log.info('the chart has an Ingress: enabling the ingress addon')
    names.push('ingress')
  }
  const minikube = run.minikube(log)
  // One at a time: minikube serialises addon changes on its profile.
  for (const name of names) await minikube.enableAddon(name, run.inputs.clusterTimeoutMs)
  if (run.cluster) run.cluster.addons = names
  if (names.length === 0) log.info('no addons to enable')
}
