import type { RunContext } from '../context.js'
import type { ImageSpec } from '../inputs.js'
import type { StepLog } from '../runner.js'
import { Minikube } from '../tools/minikube.js'

const LOAD_TIMEOUT_MS = 15 * 60_000

/** Puts a built image on the cluster's nodes, unless they already hold that very image. */
export async function loadImage(ctx: RunContext, image: ImageSpec, log: StepLog): Promise<void> {
  const info = ctx.images.get(image.name)
  if (!info?.id) throw new Error(`${image.name} was not built`)
  const minikube = new Minikube(ctx.tool('minikube'), log)
  const started = Date.now()
  if (await minikube.hasImage(info.reference, info.id)) {
    log.info(`${info.reference} (${info.id.slice(0, 19)}) is already on the cluster`)
    info.delivery = 'already-present'
  } else {
    await minikube.loadImage(info.reference, LOAD_TIMEOUT_MS)
    info.delivery = 'loaded'
  }
  info.loadMs = Date.now() - started
}
