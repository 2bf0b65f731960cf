// The install stage: minikube, helm and kubectl from the tool cache or a verified download.
import * as core from '@actions/core'
import { kubectlVersionFor } from '../plan.js'
import type { RunContext } from '../run.js'
import type { StepLog } from '../schedule.js'
import { state } from '../state.js'
import { errorMessage } from '../text.js'
import { installTool, type ToolName } from '../tools/download.js'
import { parseHelmVersion } from '../tools/helm.js'

export async function install(run: RunContext, tool: ToolName, log: StepLog): Promise<void> {
  const i = run.inputs
  let version: string
  let baseUrl: string
  if (tool === 'minikube') {
    version = i.minikubeVersion
    baseUrl = i.minikubeBaseUrl
  } else if (tool === 'helm') {
    version = i.helmVersion
    baseUrl = i.helmBaseUrl
  } else {
    // Known before the cluster starts, or read from the running cluster.
    version = kubectlVersionFor(i) ?? run.cluster?.kubernetesVersion ?? 'latest'
    version = version.replace(/\+.*$/, '')
    baseUrl = i.kubectlBaseUrl
  }
  await installVersion(run, tool, version, baseUrl, log)
}

async function installVersion(
  run: RunContext,
  tool: ToolName,
  version: string,
  baseUrl: string,
  log: StepLog
): Promise<void> {
  // installTool tells the log where the tool came from.
  const info = await installTool(tool, { baseUrl, version, log })
  run.installed(tool, info)
  if (tool === 'minikube') state.saveMinikubePath(info.path)
  if (tool === 'helm') {
    state.saveHelmPath(info.path)
    run.helmMajor = parseHelmVersion(info.version).major
  }
  if (tool === 'kubectl') state.saveKubectlPath(info.path)
}

/**
 * An existing cluster's version is only known once kubectl has asked it: unless
 * `kubectl-version` was given, a kubectl of the cluster's own version replaces the first one.
 */
export async function matchKubectl(
  run: RunContext,
  serverVersion: string,
  log: StepLog
): Promise<void> {
  const release = /^v\d+\.\d+\.\d+/.exec(serverVersion)?.[0]
  const current = run.tools.get('kubectl')?.version
  if (run.inputs.kubectlVersion || !release || release === current) return
  try {
    await installVersion(run, 'kubectl', release, run.inputs.kubectlBaseUrl, log)
  } catch (err) {
    const why = errorMessage(err)
    core.warning(`Keeping kubectl ${current} for the cluster's ${serverVersion}: ${why}`)
  }
}
