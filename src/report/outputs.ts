// The action's outputs, set in one place (main) from the finished report.
import type { Report } from '../model.js'

/** The action's outputs, as a pure function of the report. */
export function outputsOf(report: Report, reportPath: string): Record<string, string> {
  const images: Record<
    string,
    { reference: string; id?: string; pushed?: string; digest?: string; tags?: string[] }
  > = {}
  for (const i of report.images) {
    images[i.name] = {
      reference: i.reference,
      id: i.id,
      pushed: i.pushed,
      digest: i.digest,
      tags: i.tags
    }
  }
  const tools: Record<string, { version: string; path: string }> = {}
  for (const t of report.tools) tools[t.name] = { version: t.version, path: t.path }
  const paths: Record<string, string> = {}
  for (const t of report.tools) paths[`${t.name}-path`] = t.path
  return {
    ...paths,
    status: report.status,
    report: reportPath,
    kubeconfig: report.cluster?.kubeconfig ?? '',
    'cluster-ip': report.cluster?.ip ?? '',
    'kubernetes-version': report.cluster?.kubernetesVersion ?? '',
    release: report.release?.name ?? '',
    namespace: report.release?.namespace ?? report.preview?.namespace ?? '',
    revision: report.release?.revision !== undefined ? String(report.release.revision) : '',
    images: JSON.stringify(images),
    tools: JSON.stringify(tools),
    'comment-url': report.commentUrl ?? '',
    url: report.preview?.url ?? '',
    duration: report.durationMs !== undefined ? String(Math.round(report.durationMs / 1000)) : ''
  }
}
