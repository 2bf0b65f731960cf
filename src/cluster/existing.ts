import type { RunContext } from '../context.js'
import type { ClusterInfo } from '../model.js'
import type { StepLog } from '../runner.js'
import { Kubectl } from '../tools/kubectl.js'
import type { ClusterProvider } from './provider.js'
import { errorMessage } from '../text.js'

/** `cluster: existing`: whatever the current kubeconfig points at. Nothing is started. */
export class ExistingCluster implements ClusterProvider {
  async start(ctx: RunContext, log: StepLog): Promise<ClusterInfo> {
    const kubectl = new Kubectl(ctx.tool('kubectl'))
    let version: string
    try {
      version = await kubectl.serverVersion(30_000)
    } catch (err) {
      const why = errorMessage(err)
      throw new Error(`the cluster in ${ctx.env.kubeconfig} does not answer: ${why}`)
    }
    const nodes = await kubectl.nodesReady().catch(() => undefined)
    log.info(
      `connected to Kubernetes ${version}${nodes ? `, ${nodes.ready}/${nodes.total} nodes Ready` : ''}`
    )
    return {
      kind: 'existing',
      kubernetesVersion: version,
      nodes: nodes?.total,
      kubeconfig: ctx.env.kubeconfig
    }
  }
}
