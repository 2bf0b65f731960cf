import { join } from 'node:path'
import { homedir } from 'node:os'
import type { Discovered } from './discover.js'
import type { Inputs } from './inputs.js'
import {
  releaseTroubled,
  type ImageInfo,
  type Report,
  type ToolInfo,
  type Verdict
} from './report/model.js'
import type { ToolName } from './tools/download.js'
import type { ManifestObject } from './tools/helm.js'
import type { ClusterState, WorkloadRef } from './verify/health.js'

/** Where the run keeps its files, and the environment it was given. */
export interface Environment {
  workspace: string
  runnerTemp: string
  /** Folder for report.json and diagnostics of this run. */
  outDir: string
  kubeconfig: string
}

export function environment(env: NodeJS.ProcessEnv, slug: string): Environment {
  const runnerTemp = env['RUNNER_TEMP'] || join(homedir(), '.minikube-preview', 'tmp')
  return {
    workspace: env['GITHUB_WORKSPACE'] || process.cwd(),
    runnerTemp,
    outDir: join(runnerTemp, `minikube-preview-${slug}`),
    kubeconfig: env['KUBECONFIG'] || join(homedir(), '.kube', 'config')
  }
}

/** What the steps learn and hand on to each other while the graph runs. */
export class RunContext {
  readonly tools: Partial<Record<ToolName, ToolInfo>> = {}
  helmMajor = 3
  /** Environment for docker when it builds inside the cluster (`minikube docker-env`). */
  dockerEnv?: Record<string, string>
  clusterIp?: string
  /** The cluster was created by this run (not an existing profile started again). */
  clusterCreated = false
  rendered?: ManifestObject[]
  workloads: WorkloadRef[] = []
  /** The release's hooks as last seen while helm ran (Jobs and Pods, with their verdicts). */
  hooks: Verdict[] = []
  /** The objects when every workload was first healthy: the stable-for window counts from them. */
  completed?: ClusterState
  hooksManifest = ''
  /** Aborted when the release did not stay healthy: health checks and helm test stop then. */
  readonly unstable = new AbortController()
  /** Epoch ms by which verification and health checks must be done. */
  verifyDeadline?: number
  readonly images = new Map<string, ImageInfo>()

  constructor(
    readonly inputs: Inputs,
    readonly found: Discovered,
    readonly report: Report,
    readonly env: Environment
  ) {}

  tool(name: ToolName): string {
    const t = this.tools[name]
    if (!t) throw new Error(`${name} is not installed`)
    return t.path
  }

  imageReference(name: string): string {
    return `${name}:${this.found.imageTag}`
  }

  /** Whether anything has failed or is unhealthy so far. */
  troubled(): boolean {
    return this.report.steps.some((s) => s.status === 'failure') || releaseTroubled(this.report)
  }
}
