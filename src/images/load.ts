import { rmSync } from 'node:fs'
import type { RunContext } from '../context.js'
import type { ImageSpec } from '../inputs.js'
import type { StepLog } from '../runner.js'
import { Minikube } from '../tools/minikube.js'

const LOAD_TIMEOUT_MS = 15 * 60_000

/**
 * Puts a built image on the cluster's nodes: the tarball the build exported, or the image from
 * the runner's daemon. A cluster that already ran before this job is asked first whether it
 * holds that very image; one this run has just created holds none of ours.
 */
export async function loadImage(ctx: RunContext, image: ImageSpec, log: StepLog): Promise<void> {
  const info = ctx.images.get(image.name)
  if (!info || (!info.id && !info.tarball)) throw new Error(`${image.name} was not built`)
  const minikube = new Minikube(ctx.tool('minikube'), log)
  const started = Date.now()
  if (!ctx.clusterCreated && info.id && (await minikube.hasImage(info.reference, info.id))) {
    log.info(`${info.reference} (${info.id.slice(0, 19)}) is already on the cluster`)
    info.delivery = 'already-present'
  } else {
    await minikube.loadImage(info.tarball ?? info.reference, LOAD_TIMEOUT_MS)
    info.delivery = 'loaded'
    // The cluster has it now; the tarball would only fill the runner's disk.
    if (info.tarball) rmSync(info.tarball, { force: true })
  }
  info.loadMs = Date.now() - started
}
