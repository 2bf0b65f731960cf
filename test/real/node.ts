// The real node for test/real: a cluster from scripts/cluster-up.sh with MP_REAL_NODES=1, the
// images its pods run (imported into its containerd), and namespaces whose pods all go there.
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { ROOT } from '../support/action.js'
import { toolsDir, type Cluster } from '../e2e/cluster.js'

/** Label and taint of the real node (scripts/lib/real-node.sh). */
export const REAL_NODE_LABEL = 'minikube-preview.test/real-node'
export const REAL_NODE = 'mp-real-1'
/** Images the node has from cluster-up itself. */
export const BUSYBOX = { repository: 'minikube-preview.local/busybox', tag: 'static' }

export interface RealCluster extends Cluster {
  /** Imports image archives (`docker save` or OCI) into the node. */
  importImages(archives: string[]): void
  /** Creates a namespace whose pods are all placed on the real node. */
  realNamespace(name: string): void
}

function script(name: string, args: string[], env: NodeJS.ProcessEnv, timeout: number): string {
  return execFileSync('bash', [join(ROOT, 'scripts', name), ...args], {
    encoding: 'utf8',
    env,
    timeout,
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024
  })
}

export function realClusterUp(name: string): RealCluster {
  const tools = toolsDir()
  const env = { ...process.env, MP_CLUSTER_NAME: name, MP_TOOLS: tools, MP_REAL_NODES: '1' }
  const out = script('cluster-up.sh', [], env, 600_000)
  const kubeconfig = (out.trim().split('\n').pop() as string).replace(/^KUBECONFIG=/, '')
  const kubectl = (args: string[], input?: string): string =>
    execFileSync(join(tools, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], {
      encoding: 'utf8',
      input,
      timeout: 120_000,
      stdio: ['pipe', 'pipe', 'pipe']
    })
  return {
    name,
    kubeconfig,
    tools,
    kubectl,
    apply: (yaml) => void kubectl(['apply', '-f', '-'], yaml),
    down: () => void script('cluster-down.sh', [], env, 300_000),
    importImages: (archives) =>
      void script('real-images.sh', ['import', ...archives], env, 600_000),
    realNamespace: (ns) => {
      const tolerations = JSON.stringify([
        { key: REAL_NODE_LABEL, operator: 'Equal', value: 'true', effect: 'NoSchedule' }
      ])
      kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: {
            name: ns,
            annotations: {
              'scheduler.alpha.kubernetes.io/node-selector': `${REAL_NODE_LABEL}=true`,
              'scheduler.alpha.kubernetes.io/defaultTolerations': tolerations
            }
          }
        })
      )
    }
  }
}

/** The PostgreSQL image of scripts/real-images.sh (Debian's package): its archive and name. */
export function postgresImage(): { archive: string; repository: string; tag: string } {
  const archive = script('real-images.sh', ['postgres'], process.env, 1_200_000)
    .trim()
    .split('\n')
    .pop() as string
  const name = script('real-images.sh', ['postgres-name'], process.env, 10_000).trim()
  const at = name.lastIndexOf(':')
  return { archive, repository: name.slice(0, at), tag: name.slice(at + 1) }
}
