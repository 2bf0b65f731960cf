// The preview's namespace: created and labelled as ours, or used as found and left unmarked.
import type { Kubectl } from '../tools/kubectl.js'
import {
  createdFor,
  createdLabels,
  previewAnnotations,
  previewLabels,
  withValues,
  type PreviewFacts
} from './labels.js'

export interface EnsureNamespaceOptions {
  namespace: string
  release: string
  facts: PreviewFacts
}

export interface NamespaceState {
  /** This run created it. */
  created: boolean
  /** It carries our created-labels for this repository (made by this run or an earlier one). */
  ours: boolean
}

/**
 * Makes sure the preview's namespace exists. Absent: created with our labels, a concurrent run's
 * `AlreadyExists` taken as found. Ours: relabelled (SHA, pull request, expiry renewed). Someone
 * else's: used as it is, never labelled, so teardown never deletes it.
 */
export async function ensureNamespace(
  kubectl: Kubectl,
  o: EnsureNamespaceOptions
): Promise<NamespaceState> {
  const { repository } = o.facts
  const labels = previewLabels(o.facts)
  const annotations = previewAnnotations(o.facts, o.release)
  let found = await kubectl.namespace(o.namespace)
  if (!found) {
    const made = await kubectl.createNamespace(
      o.namespace,
      { ...withValues(labels), ...createdLabels(repository) },
      withValues(annotations)
    )
    if (made === 'created') return { created: true, ours: true }
    found = await kubectl.namespace(o.namespace)
  }
  if (found?.terminating) {
    // Nothing can be created in it until it is gone (a pull request reopened right after closing).
    throw new Error(
      `namespace ${o.namespace} is still being deleted; run the job again once it is gone`
    )
  }
  if (!createdFor(found?.labels, repository)) return { created: false, ours: false }
  await kubectl.label('namespace', o.namespace, labels)
  await kubectl.annotate('namespace', o.namespace, annotations)
  return { created: false, ours: true }
}
