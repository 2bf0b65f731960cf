// The run context: the one store of facts the stages write while the graph runs, and the tool
// wrappers, built here once. Only stages, main and post see it; the report is projected from it.
import * as io from '@actions/io'
import { join } from 'node:path'
import { homedir } from 'node:os'
import type { Discovered } from './discover.js'
import type { Log } from './exec.js'
import type { Inputs } from './inputs.js'
import {
  releaseTroubled,
  type ClusterInfo,
  type Diagnostics,
  type HealthCheckResult,
  type HelmTestResult,
  type ImageInfo,
  type Mode,
  type PreviewInfo,
  type ReleaseInfo,
  type RunFacts,
  type StepResult,
  type ToolInfo,
  type Verdict,
  type VerifyInfo,
  type WorkloadRef
} from './model.js'
import type { ToolName } from './tools/download.js'
import { GitHub } from './report/github.js'
import { Docker } from './tools/docker.js'
import { Helm, type ManifestObject } from './tools/helm.js'
import { Kubectl } from './tools/kubectl.js'
import { Minikube } from './tools/minikube.js'
import type { ClusterState } from './verify/health.js'

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

/** What the steps learn and hand on to each other while the graph runs: each fact held once. */
export class RunContext {
  /** Installed tools, in the order they were (last) installed. */
  readonly tools = new Map<ToolName, ToolInfo>()
  helmMajor = 3
  /** Environment for docker when it builds inside the cluster (`minikube docker-env`). */
  dockerEnv?: Record<string, string>
  cluster?: ClusterInfo
  /** The cluster was created by this run (not an existing profile started again). */
  clusterCreated = false
  rendered?: ManifestObject[]
  /** The images of this run, in the order their builds started. */
  readonly images = new Map<string, ImageInfo>()
  release?: ReleaseInfo
  /** The release's workloads, as its manifest names them. */
  workloads: WorkloadRef[] = []
  /** The latest verdicts: on the workloads, or on the hooks when helm itself failed. */
  verdicts: Verdict[] = []
  /** The release's hooks as last seen while helm ran (Jobs and Pods, with their verdicts). */
  hooks: Verdict[] = []
  /** The objects when every workload was first healthy: the stable-for window counts from them. */
  completed?: ClusterState
  hooksManifest = ''
  verify?: VerifyInfo
  healthChecks: HealthCheckResult[] = []
  helmTest?: HelmTestResult
  diagnostics?: Diagnostics
  /** Aborted when the release did not stay healthy: health checks and helm test stop then. */
  readonly unstable = new AbortController()
  /** Epoch ms by which verification and health checks must be done. */
  verifyDeadline?: number
  /** The objects of the deployed release (its manifest). */
  deployed?: ManifestObject[]
  /** The preview beyond the job: its namespace, URL, deployment, or what teardown/sweep did. */
  readonly preview: PreviewInfo
  private client?: GitHub

  constructor(
    readonly inputs: Inputs,
    readonly found: Discovered,
    readonly facts: RunFacts,
    readonly env: Environment,
    readonly startedAt: number = Date.now(),
    readonly mode: Mode = 'preview'
  ) {
    this.preview = { mode }
  }

  /** The GitHub API with the run's token, made once; undefined without a token. */
  github(): GitHub | undefined {
    if (!this.inputs.githubToken) return undefined
    this.client ??= new GitHub({ token: this.inputs.githubToken })
    return this.client
  }

  tool(name: ToolName): string {
    const t = this.tools.get(name)
    if (!t) throw new Error(`${name} is not installed`)
    return t.path
  }

  /** A tool (re)installed: it replaces any earlier one of that name. */
  installed(name: ToolName, info: ToolInfo): void {
    this.tools.delete(name)
    this.tools.set(name, info)
  }

  helm(log?: Log): Helm {
    return new Helm(this.tool('helm'), undefined, log)
  }

  kubectl(log?: Log): Kubectl {
    return new Kubectl(this.tool('kubectl'), undefined, log)
  }

  minikube(log?: Log): Minikube {
    return new Minikube(this.tool('minikube'), log)
  }

  /** The runner's docker, talking to the cluster's daemon when the images build inside it. */
  async docker(log?: Log): Promise<Docker> {
    const path = await io.which('docker', true)
    const env = this.dockerEnv ? { ...process.env, ...this.dockerEnv } : process.env
    return new Docker(path, env, log)
  }

  imageReference(name: string): string {
    return `${name}:${this.found.imageTag}`
  }

  /** Whether anything has failed so far, or what was deployed shows anything wrong. */
  troubled(results: readonly StepResult[]): boolean {
    return (
      results.some((s) => s.status === 'failure') ||
      releaseTroubled({
        workloads: this.verdicts,
        healthChecks: this.healthChecks,
        helmTest: this.helmTest
      })
    )
  }
}
