// The diagnose stage: runs whatever happened before it, and collects events, descriptions,
// logs and helm's view of the release only when something failed or is not healthy.
import { collectDiagnostics, writeDiagnosticsFile } from '../diagnostics/collect.js'
import { wasDeployed, type StepResult } from '../model.js'
import type { RunContext } from '../run.js'
import type { StepLog } from '../schedule.js'

export async function diagnose(
  run: RunContext,
  log: StepLog,
  results: readonly StepResult[]
): Promise<void> {
  if (!run.troubled(results)) {
    log.info('nothing failed; no diagnostics needed')
    return
  }
  // helm status and history tell the most when the release did not deploy: ask once helm ran.
  const helmRan = results.some((s) => s.id === 'deploy' && s.startedAt !== undefined)
  // The hooks' pods: all of them when helm failed, otherwise those that are not healthy.
  const hookPods = wasDeployed({ steps: results })
    ? run.hooks.flatMap((h) => h.unhealthyPods)
    : run.hooks.flatMap((h) => h.pods)
  const sections = await collectDiagnostics({
    kubectl: run.tools.has('kubectl') && run.cluster ? run.kubectl() : undefined,
    helm: helmRan && run.tools.has('helm') ? run.helm() : undefined,
    minikube: run.tools.has('minikube') ? run.minikube() : undefined,
    namespace: run.inputs.namespace,
    release: helmRan ? run.found.release : undefined,
    unhealthyPods: [...run.verdicts.flatMap((w) => w.unhealthyPods), ...hookPods],
    deadline: Date.now() + 90_000
  })
  const file = writeDiagnosticsFile(sections, run.env.outDir)
  run.diagnostics = { sections, file }
  for (const s of sections) log.info(`── ${s.title} ──\n${s.body}`)
}
