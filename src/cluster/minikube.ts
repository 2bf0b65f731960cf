import * as core from '@actions/core'
import type { RunContext } from '../context.js'
import { ToolError, formatMs, type RunResult } from '../exec.js'
import type { ClusterInfo } from '../report/model.js'
import type { StepLog } from '../runner.js'
import { State, save } from '../state.js'
import { Minikube, minikubeReason, type StartOptions } from '../tools/minikube.js'
import type { ClusterProvider } from './provider.js'

export function startOptions(ctx: RunContext): StartOptions {
  const i = ctx.inputs
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

/** A failed start, told with minikube's own reason when it gave one. */
export function startFailure(err: unknown): string {
  if (err instanceof ToolError) {
    const reason = minikubeReason(err.tail)
    if (err.timedOut)
      return `minikube start timed out after ${formatMs(err.timeoutMs)}${reason ? `: ${reason}` : ''}`
    return reason ?? err.message
  }
  return err instanceof Error ? err.message : String(err)
}

/**
 * Whether `minikube start` created its machine (`Creating docker container (CPUs=2, …) ...`)
 * rather than started or updated one left from before (`Updating the running …`, `Restarting existing …`).
 */
export function createdCluster(result: Pick<RunResult, 'stdout' | 'stderr'>): boolean {
  const out = `${result.stdout}\n${result.stderr}`
  return (
    /Creating \S+ .*\(CPUs=/.test(out) && !/Updating the running |Restarting existing /.test(out)
  )
}

export class MinikubeCluster implements ClusterProvider {
  async start(ctx: RunContext, log: StepLog): Promise<ClusterInfo> {
    const minikube = new Minikube(ctx.tool('minikube'), log)
    const options = startOptions(ctx)
    const timeout = ctx.inputs.clusterTimeoutMs
    save(State.ClusterStarted, true)
    try {
      ctx.clusterCreated = createdCluster(await minikube.start(options, timeout))
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
        ctx.clusterCreated = true
      } catch (second) {
        throw new Error(startFailure(second))
      }
    }
    const [ip, version] = await Promise.all([minikube.ip(), minikube.kubernetesVersion()])
    ctx.clusterIp = ip
    if (ctx.inputs.imageLoad === 'docker-env') ctx.dockerEnv = await minikube.dockerEnv()
    log.info(`minikube is running at ${ip}${version ? ` with Kubernetes ${version}` : ''}`)
    return {
      kind: 'minikube',
      ip,
      kubernetesVersion: version,
      driver: ctx.inputs.driver,
      nodes: ctx.inputs.nodes,
      kubeconfig: ctx.env.kubeconfig
    }
  }
}
