// Removing a preview: its release always, its namespace only when the action created it.
import type { Helm } from '../tools/helm.js'
import type { Kubectl } from '../tools/kubectl.js'
import { createdFor } from './labels.js'

export interface TeardownOptions {
  /** Undefined: a namespace with no release recorded; only the namespace is looked at. */
  release?: string
  namespace: string
  /** `owner/name`: the namespace is deleted only when created for this repository. */
  repository: string
  timeoutMs: number
  /** Another preview still lives in the namespace: remove only the release. */
  keepNamespace?: boolean
}

export interface Removal {
  /** What is gone, e.g. `release web in pr-7`, `namespace pr-7`. */
  removed: string[]
  /** What stays and why, e.g. `namespace team-a: not created by minikube-preview for acme/shop`. */
  left: string[]
}

/**
 * `helm uninstall` (a release already gone is fine), then the namespace, deleted only when its
 * labels say the action created it for this repository; a namespace found in use by others stays.
 */
export async function teardown(helm: Helm, kubectl: Kubectl, o: TeardownOptions): Promise<Removal> {
  const out: Removal = { removed: [], left: [] }
  if (o.release !== undefined) {
    const release = `release ${o.release} in ${o.namespace}`
    const uninstalled = await helm.uninstallRelease(o.release, o.namespace, o.timeoutMs)
    if (uninstalled === 'removed') out.removed.push(release)
    else out.left.push(`${release}: already gone`)
  }
  const ns = await kubectl.namespace(o.namespace)
  if (!ns) {
    out.left.push(`namespace ${o.namespace}: already gone`)
  } else if (!createdFor(ns.labels, o.repository)) {
    out.left.push(`namespace ${o.namespace}: not created by minikube-preview for ${o.repository}`)
  } else if (o.keepNamespace) {
    out.left.push(`namespace ${o.namespace}: another preview of ${o.repository} is kept in it`)
  } else if ((await kubectl.deleteNamespace(o.namespace)) === 'deleted') {
    out.removed.push(`namespace ${o.namespace}`)
  } else {
    out.left.push(`namespace ${o.namespace}: already gone`)
  }
  return out
}
