// The registry stages: the login before anything is pushed, the push of each loaded image once a
// minikube preview is healthy, and `push-tags` put on the verified digests (verify, then promote).
import { rmSync } from 'node:fs'
import { loginToRegistry, promoteImage, pushImage } from '../images/push.js'
import type { ImageSpec } from '../inputs.js'
import type { RunContext } from '../run.js'
import type { StepLog } from '../schedule.js'
import { state } from '../state.js'
import { pushedImage } from '../tools/registry.js'

/** `docker login --password-stdin`; the host is saved at once, so post logs out even of a killed run. */
export async function registryLogin(run: RunContext, log: StepLog): Promise<void> {
  const i = run.inputs
  const docker = await run.docker(log)
  const host = await loginToRegistry(docker, {
    registry: i.registry,
    username: i.registryUsername,
    password: i.registryPassword
  })
  state.saveDockerPath(docker.path)
  state.saveRegistryHost(host)
  log.info(`logged in to ${host} as '${i.registryUsername}'`)
}

/**
 * `cluster: minikube`: the image the verified preview ran, pushed from the daemon (or from the
 * tarball the build exported, removed once it is in the registry).
 */
export async function pushLoadedImage(
  run: RunContext,
  image: ImageSpec,
  log: StepLog
): Promise<void> {
  const info = run.images.get(image.name)
  if (!info) throw new Error(`${image.name} was not built`)
  const docker = await run.docker(log)
  const pushed = await pushImage(docker, {
    registry: run.inputs.registry,
    name: image.name,
    tag: run.found.imageTag,
    source: { image: info.reference, tarball: info.tarball }
  })
  if (info.tarball) {
    rmSync(info.tarball, { force: true })
    delete info.tarball
  }
  info.pushed = pushed.reference
  info.digest = pushed.digest
  log.info(`pushed ${pushed.pinned}`)
}

/** `push-tags` on each pushed digest; the plan runs this only after every verification succeeded. */
export async function promote(run: RunContext, log: StepLog): Promise<void> {
  const docker = await run.docker(log)
  for (const image of run.inputs.images) {
    const info = run.images.get(image.name)
    if (!info?.pushed || !info.digest) throw new Error(`${image.name} was not pushed`)
    const tags = await promoteImage(
      docker,
      image.name,
      pushedImage(info.pushed, info.digest),
      run.inputs.pushTags
    )
    info.tags = tags
    log.info(`${tags.join(', ')} → ${info.digest}`)
  }
}
