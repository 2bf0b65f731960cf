import * as io from '@actions/io'
import type { RunContext } from '../context.js'
import type { ImageSpec } from '../inputs.js'
import type { ImageInfo } from '../report/model.js'
import type { StepLog } from '../runner.js'
import { Docker } from '../tools/docker.js'

const BUILD_TIMEOUT_MS = 30 * 60_000

export async function buildImage(
  ctx: RunContext,
  image: ImageSpec,
  log: StepLog
): Promise<ImageInfo> {
  const path = await io.which('docker', true)
  const env = ctx.dockerEnv ? { ...process.env, ...ctx.dockerEnv } : process.env
  const docker = new Docker(path, env, log)
  const reference = ctx.imageReference(image.name)
  const started = Date.now()
  await docker.build(image, reference, BUILD_TIMEOUT_MS)
  const buildMs = Date.now() - started
  const { id, sizeBytes } = await docker.inspect(reference)
  log.info(`built ${reference} (${id.slice(0, 19)})`)
  const info: ImageInfo = {
    name: image.name,
    reference,
    id,
    sizeBytes,
    buildMs,
    delivery: ctx.dockerEnv ? 'docker-env' : undefined
  }
  ctx.images.set(image.name, info)
  ctx.report.images.push(info)
  return info
}
