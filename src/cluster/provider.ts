import type { RunContext } from '../context.js'
import type { ClusterInfo } from '../model.js'
import type { StepLog } from '../runner.js'

/** Brings a cluster up (or attaches to one) and says what it is. */
export interface ClusterProvider {
  start(ctx: RunContext, log: StepLog): Promise<ClusterInfo>
}
