// The step scheduler: runs steps by their needs, as many at once as the graph allows, timing
// each, skipping those whose needs failed, and handing the results so far to the steps that always run.
import type { StepResult } from './model.js'
import type { Log } from './exec.js'
import { errorMessage } from './text.js'

/** A step's log: kept while the step runs, shown as one fold when it ends. */
export class StepLog implements Log {
  private text = ''
  private static readonly LIMIT = 4 * 1024 * 1024

  write(chunk: string): void {
    this.text += chunk
    if (this.text.length > StepLog.LIMIT) {
      this.text = `[… earlier output cut …]\n${this.text.slice(this.text.length - StepLog.LIMIT / 2)}`
    }
  }

  info(line: string): void {
    this.write(line.endsWith('\n') ? line : `${line}\n`)
  }

  toString(): string {
    return this.text
  }
}

/** What a step returns when it found it has nothing to do: it counts as done and is left out of the results. */
export const NOT_NEEDED = 'not-needed'

export interface Step {
  id: string
  title: string
  needs: readonly string[]
  /** Runs once its needs have finished, whatever their outcome (diagnostics, report). */
  always?: boolean
  /** `results`: every step started or skipped so far, for the steps that always run. */
  run(log: StepLog, results: readonly StepResult[]): Promise<void | typeof NOT_NEEDED>
}

export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

export interface ScheduleEvents {
  started?(step: Step, result: StepResult): void
  finished?(step: Step, result: StepResult, log: StepLog): void
}

/** A plan whose needs name unknown steps or go round in a circle is a bug, not a user error. */
export function checkGraph(steps: readonly Step[]): void {
  const ids = new Set<string>()
  for (const s of steps) {
    if (ids.has(s.id)) throw new Error(`step '${s.id}' is defined twice`)
    ids.add(s.id)
  }
  for (const s of steps) {
    for (const n of s.needs)
      if (!ids.has(n)) throw new Error(`step '${s.id}' needs unknown step '${n}'`)
  }
  const state = new Map<string, 'visiting' | 'done'>()
  const byId = new Map(steps.map((s) => [s.id, s]))
  const visit = (id: string, path: string[]): void => {
    if (state.get(id) === 'done') return
    if (state.get(id) === 'visiting')
      throw new Error(`steps form a cycle: ${[...path, id].join(' → ')}`)
    state.set(id, 'visiting')
    for (const n of byId.get(id)?.needs ?? []) visit(n, [...path, id])
    state.set(id, 'done')
  }
  for (const s of steps) visit(s.id, [])
}

/**
 * Runs every step as soon as all of its needs have succeeded, as many at once as the graph
 * allows. A step whose need failed is `skipped`, naming the step that failed first in its chain.
 * Never throws for a failing step: failures are recorded in the results.
 */
export async function runSteps(
  steps: readonly Step[],
  clock: Clock = systemClock,
  events: ScheduleEvents = {}
): Promise<StepResult[]> {
  checkGraph(steps)
  const results = new Map<string, StepResult>(
    steps.map((s) => [s.id, { id: s.id, title: s.title, status: 'pending' }])
  )
  const running = new Map<string, Promise<void>>()
  const omitted = new Set<string>()
  const finished = (id: string): boolean => {
    const st = results.get(id)?.status
    return st === 'success' || st === 'failure' || st === 'skipped'
  }

  const launch = (step: Step): void => {
    const result = results.get(step.id) as StepResult
    result.status = 'running'
    result.startedAt = clock.now()
    events.started?.(step, result)
    const log = new StepLog()
    const done = (async () => {
      try {
        const sofar = [...results.values()].filter((r) => r.status !== 'pending')
        if ((await step.run(log, sofar)) === NOT_NEEDED) omitted.add(step.id)
        result.status = 'success'
      } catch (err) {
        result.status = 'failure'
        result.reason = errorMessage(err)
      }
      result.endedAt = clock.now()
      result.durationMs = result.endedAt - (result.startedAt as number)
      events.finished?.(step, result, log)
    })()
    running.set(step.id, done)
  }

  for (;;) {
    let progressed = true
    while (progressed) {
      progressed = false
      for (const step of steps) {
        const result = results.get(step.id) as StepResult
        if (result.status !== 'pending' || !step.needs.every(finished)) continue
        const blocker = step.needs
          .map((n) => results.get(n) as StepResult)
          .find((r) => r.status !== 'success')
        if (blocker && !step.always) {
          result.status = 'skipped'
          result.skippedBecause = blocker.status === 'skipped' ? blocker.skippedBecause : blocker.id
          result.reason = `skipped because '${results.get(result.skippedBecause as string)?.title ?? blocker.title}' failed`
          events.finished?.(step, result, new StepLog())
        } else {
          launch(step)
        }
        progressed = true
      }
    }
    if (running.size === 0) break
    const settledId = await Promise.race([...running.entries()].map(([id, p]) => p.then(() => id)))
    running.delete(settledId)
  }
  return steps.filter((s) => !omitted.has(s.id)).map((s) => results.get(s.id) as StepResult)
}
