// The main step: config → plan → schedule → reportOf → publish → outputs.
import * as core from '@actions/core'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { discover, withEventDefaults, type Discovered } from './discover.js'
import { maskSecrets } from './deploy/values.js'
import { InputErrors, parseInputs, unusedInputs, type Inputs } from './inputs.js'
import { buildPlan, runMode } from './plan.js'
import { registerSecret, redact } from './redact.js'
import { isPullRequestEvent, type Mode, type RunFacts, type StepResult } from './model.js'
import { prFromPayload } from './report/comment.js'
import { publish } from './report/publish.js'
import { reportOf } from './report/report-of.js'
import { summaryText } from './report/untrusted.js'
import { outputsOf } from './report/outputs.js'
import { environment, RunContext } from './run.js'
import { runSteps, type Step, type StepLog } from './schedule.js'
import { bindSteps } from './stages/index.js'
import { state } from './state.js'
import { errorMessage, formatMs } from './text.js'

export function runFacts(env: NodeJS.ProcessEnv): RunFacts {
  let payload: {
    action?: unknown
    pull_request?: { merged?: unknown; head?: { sha?: string; ref?: string } }
  } = {}
  const eventPath = env['GITHUB_EVENT_PATH']
  if (eventPath) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(eventPath, 'utf8'))
      if (parsed && typeof parsed === 'object') payload = parsed as typeof payload
    } catch {
      // no payload: not a pull request
    }
  }
  const server = env['GITHUB_SERVER_URL'] || 'https://github.com'
  const repo = env['GITHUB_REPOSITORY']
  const runId = env['GITHUB_RUN_ID']
  return {
    repository: repo,
    // On pull requests GITHUB_SHA is a merge commit nobody has seen; the head is what people know.
    commit: payload.pull_request?.head?.sha || env['GITHUB_SHA'] || undefined,
    ref: env['GITHUB_HEAD_REF'] || env['GITHUB_REF'],
    event: env['GITHUB_EVENT_NAME'],
    eventAction: typeof payload.action === 'string' ? payload.action : undefined,
    branch: env['GITHUB_HEAD_REF'] || payload.pull_request?.head?.ref || undefined,
    merged: payload.pull_request?.merged === true ? true : undefined,
    runUrl: repo && runId ? `${server}/${repo}/actions/runs/${runId}` : undefined,
    pullRequest: prFromPayload(payload)
  }
}

function readInput(name: string): string {
  return core.getInput(name)
}

const ICONS: Record<string, string> = { success: '✅', failure: '❌', skipped: '⏭️' }

function logStep(step: Step, result: StepResult, log: StepLog): void {
  const took =
    result.durationMs !== undefined
      ? ` (${formatMs(Math.round(result.durationMs / 100) * 100)})`
      : ''
  if (result.status === 'skipped') {
    core.info(`${ICONS['skipped']} ${step.title}: ${result.reason}`)
    return
  }
  core.startGroup(`${ICONS[result.status] ?? ''} ${step.title}${took}`)
  const text = log.toString().trimEnd()
  if (text) core.info(redact(text))
  if (result.status === 'failure') core.info(`failed: ${redact(result.reason ?? '')}`)
  core.endGroup()
}

/** inputs → plan → run → report → outputs. Never throws: every failure ends in the report. */
export async function run(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const startedAt = Date.now()
  const facts = runFacts(env)

  let inputs: Inputs
  let found: Discovered
  const workspace = env['GITHUB_WORKSPACE'] || process.cwd()
  const summaryOff = core.getInput('job-summary').trim().toLowerCase() === 'false'
  try {
    // Masked before anything reads them: no error about them can show them.
    maskRawSecrets(core.getInput('github-token'), core.getInput('secret-values'))
    maskRawSecrets(core.getInput('registry-password'), '')
    inputs = withEventDefaults(parseInputs(readInput, workspace), {
      ...facts,
      actor: env['GITHUB_ACTOR']
    })
    maskSecrets(inputs.secretValues)
    found = discover(inputs, workspace, facts.commit)
  } catch (err) {
    const problems =
      err instanceof InputErrors
        ? err.problems
        : [`the inputs could not be read: ${errorMessage(err)}`]
    await refuse(problems.map(redact), summaryOff)
    return
  }
  // Everything the inputs hold is read; no program this run starts (tar included) gets them.
  dropInputsFromEnvironment(process.env)
  for (const note of unusedInputs(inputs)) core.warning(note)

  const slug = found.commentHeader.replace(/[^A-Za-z0-9._-]+/g, '-')
  const mode = runMode(inputs, facts)
  const ctx = new RunContext(inputs, found, facts, environment(env, slug), startedAt, mode)
  mkdirSync(ctx.env.outDir, { recursive: true })
  state.saveCluster(inputs.cluster)
  state.saveCleanup(cleanupFor(inputs, facts, mode))
  state.saveNamespace(inputs.namespace)
  state.saveRelease(found.release)
  if (mode === 'teardown') core.info(`The pull request was closed: removing its preview`)
  else if (!found.chart && mode === 'preview')
    core.info('No chart was given and none was found under charts/: setting up the cluster only')

  const plan = buildPlan(inputs, found, mode)
  const results = await runSteps(bindSteps(plan, ctx), undefined, {
    started: (step) => core.info(`▶ ${step.title}`),
    finished: (step, result, log) => logStep(step, result, log)
  })
  const report = reportOf(ctx, results)
  state.saveStatus(report.status)

  const reportPath = join(ctx.env.outDir, 'report.json')
  await publish(
    report,
    {
      commentHeader: ctx.found.commentHeader,
      comment: ctx.inputs.comment,
      githubToken: ctx.inputs.githubToken,
      jobSummary: ctx.inputs.jobSummary,
      diagnosticsArtifact: ctx.inputs.diagnosticsArtifact,
      outDir: ctx.env.outDir
    },
    reportPath
  )
  writeFileSync(reportPath, redact(JSON.stringify(report, null, 2)))
  for (const [name, value] of Object.entries(outputsOf(report, reportPath)))
    core.setOutput(name, value)

  const took = formatMs(Math.round((report.durationMs ?? 0) / 1000) * 1000)
  if (report.status === 'removed') core.info(`🧹 the preview was removed in ${took}`)
  else if (report.status === 'swept') core.info(`🧹 swept in ${took}`)
  else if (report.status !== 'healthy')
    core.setFailed(redact(report.reason ?? `the preview is ${report.status}`))
  else core.info(`✅ healthy in ${took}`)
}

/**
 * What post cleans up. `auto`: everything the run made, except a pull request's preview on a
 * shared cluster, which outlives the job until the pull request closes (or `mode: sweep`).
 * Teardown and sweep leave post nothing to remove.
 */
export function cleanupFor(inputs: Inputs, facts: RunFacts, mode: Mode): string {
  if (mode !== 'preview') return 'never'
  if (inputs.cleanup !== 'auto') return inputs.cleanup
  const lasting = inputs.cluster === 'existing' && isPullRequestEvent(facts.event)
  return lasting ? 'never' : 'always'
}

/**
 * Registers the token and every value `secret-values` could hold, however malformed: a value
 * after `=`, and a line without one whole (a bare value, a YAML mapping's `key: value`).
 */
export function maskRawSecrets(token: string, secretValues: string): void {
  const mask = (v: string): void => {
    if (v.trim() === '') return
    core.setSecret(v.trim())
    registerSecret(v)
  }
  mask(token)
  for (const line of secretValues.split(/\r?\n/)) {
    const t = line.trim()
    if (t === '' || t.startsWith('#')) continue
    const at = t.indexOf('=')
    if (at > 0) {
      mask(t.slice(at + 1))
      continue
    }
    mask(t)
    const colon = t.indexOf(':')
    if (colon >= 0) mask(t.slice(colon + 1))
  }
}

/** The action's inputs (`INPUT_*`) leave the environment programs inherit. */
export function dropInputsFromEnvironment(env: NodeJS.ProcessEnv): void {
  for (const k of Object.keys(env)) if (/^INPUT_/i.test(k)) delete env[k]
}

/**
 * A run refused at its inputs: `status: error`, each problem once as an error annotation, and a
 * summary saying why (unless the summary is off). Nothing has been started.
 */
async function refuse(problems: string[], summaryOff: boolean): Promise<void> {
  core.setOutput('status', 'error')
  if (!summaryOff) {
    try {
      await core.summary
        .addRaw(`### ⛔ **error** — the inputs were refused; nothing was started\n\n`)
        .addList(problems.map((p) => summaryText(p, 1000)))
        .write()
    } catch {
      // no summary file outside a runner
    }
  }
  // One annotation per problem: setFailed would print the last one a second time.
  for (const p of problems) core.error(p)
  process.exitCode = core.ExitCode.Failure
}
