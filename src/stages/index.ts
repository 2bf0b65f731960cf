// The stages, one table keyed by the plan's kinds: adding a stage is a row in the plan and an
// entry here. Each stage takes the run context, its step's action, the step's log and the results so far.
import type { StepResult } from '../model.js'
import type { Action, PlannedStep } from '../plan.js'
import type { RunContext } from '../run.js'
import type { NOT_NEEDED, Step, StepLog } from '../schedule.js'
import { restoreCache } from './cache.js'
import { enableAddons, startCluster } from './cluster.js'
import { diagnose } from './diagnose.js'
import { buildImage, loadImage } from './images.js'
import { install } from './install.js'
import {
  beginDeployment,
  deactivate,
  endDeployment,
  prepareNamespace,
  sweep,
  teardownPreview,
  urlCheck
} from './lifecycle.js'
import { promote, pushLoadedImage, registryLogin } from './registry.js'
import { buildDependencies, deploy, render, rollback } from './release.js'
import { healthChecks, helmTest, stable, verify } from './verify.js'

export type Kind = Action['kind']

/** One stage: what a step of its kind does. */
export type Stage<K extends Kind> = (
  run: RunContext,
  action: Extract<Action, { kind: K }>,
  log: StepLog,
  results: readonly StepResult[]
) => Promise<void | typeof NOT_NEEDED>

export const STAGES: { readonly [K in Kind]: Stage<K> } = {
  install: (run, a, log) => install(run, a.tool, log),
  'cache-restore': (run, _a, log) => restoreCache(run, log),
  cluster: (run, _a, log) => startCluster(run, log),
  'helm-deps': (run, _a, log) => buildDependencies(run, log),
  render: (run, _a, log) => render(run, log),
  addons: (run, _a, log) => enableAddons(run, log),
  build: (run, a, log) => buildImage(run, a.image, log),
  load: (run, a, log) => loadImage(run, a.image, log),
  'registry-login': (run, _a, log) => registryLogin(run, log),
  push: (run, a, log) => pushLoadedImage(run, a.image, log),
  promote: (run, _a, log) => promote(run, log),
  deploy: (run, _a, log) => deploy(run, log),
  verify: (run, _a, log) => verify(run, log),
  stable: (run, _a, log) => stable(run, log),
  'health-checks': (run, _a, log) => healthChecks(run, log),
  'helm-test': (run, _a, log) => helmTest(run, log),
  diagnostics: (run, _a, log, results) => diagnose(run, log, results),
  rollback: (run, _a, log, results) => rollback(run, log, results),
  namespace: (run, _a, log) => prepareNamespace(run, log),
  'deployment-start': (run, _a, log) => beginDeployment(run, log),
  'url-check': (run, _a, log) => urlCheck(run, log),
  'deployment-finish': (run, _a, log, results) => endDeployment(run, log, results),
  teardown: (run, _a, log) => teardownPreview(run, log),
  deactivate: (run, _a, log) => deactivate(run, log),
  sweep: (run, _a, log) => sweep(run, log)
}

function perform<K extends Kind>(
  action: Extract<Action, { kind: K }>,
  run: RunContext,
  log: StepLog,
  results: readonly StepResult[]
): Promise<void | typeof NOT_NEEDED> {
  return (STAGES[action.kind] as Stage<K>)(run, action, log, results)
}

/** Turns the plan's steps into runnable ones bound to this run's context. */
export function bindSteps(plan: readonly PlannedStep[], run: RunContext): Step[] {
  return plan.map((p) => ({
    id: p.id,
    title: p.title,
    needs: p.needs,
    always: p.always,
    run: (log, results) => perform(p.action, run, log, results)
  }))
}
