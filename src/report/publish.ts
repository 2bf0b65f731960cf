import * as core from '@actions/core'
import { writeFileSync } from 'node:fs'
import { basename, dirname } from 'node:path'
import type { RunContext } from '../context.js'
import { redact } from '../redact.js'
import { decideComment, findPullRequest, upsertComment } from './comment.js'
import { GitHub } from './github.js'
import { COMMENT_LIMIT, SUMMARY_LIMIT, commentMarker, renderMarkdown } from './markdown.js'
import type { Report } from './model.js'

/**
 * Tells people what happened: diagnostics artifact, pull-request comment, job summary.
 * Each is best effort: a failure here is a warning and never changes the outcome.
 */
export async function publish(report: Report, ctx: RunContext, reportPath: string): Promise<void> {
  const header = ctx.found.commentHeader
  if (report.status !== 'healthy' && ctx.inputs.diagnosticsArtifact)
    await uploadDiagnostics(report, ctx, reportPath)
  await comment(report, ctx, header)
  if (ctx.inputs.jobSummary) {
    try {
      await core.summary
        .addRaw(renderMarkdown(report, { header, limit: SUMMARY_LIMIT }), true)
        .write()
    } catch (err) {
      core.warning(`Could not write the job summary: ${message(err)}`)
    }
  }
}

function message(err: unknown): string {
  return redact(err instanceof Error ? err.message : String(err))
}

async function comment(report: Report, ctx: RunContext, header: string): Promise<void> {
  const { comment: mode, githubToken: token } = ctx.inputs
  if (mode === 'never') return
  const env = process.env
  const github = token ? new GitHub({ token }) : undefined
  const lookup = await findPullRequest({
    mode,
    event: report.event ?? '',
    eventPath: env['GITHUB_EVENT_PATH'],
    repo: report.repository,
    sha: env['GITHUB_SHA'],
    github
  })
  if (lookup.warning) core.warning(lookup.warning)
  // After a fix, an `on-failure` comment is brought up to date rather than left saying "unhealthy".
  const refreshOnly =
    mode === 'on-failure' && report.status === 'healthy' && lookup.pr !== undefined
  if (!refreshOnly && !decideComment(mode, report.event ?? '', report.status, lookup.pr)) return
  if (!token || !report.repository || lookup.pr === undefined) {
    core.warning(`Could not comment on the pull request: input 'github-token' is empty`)
    return
  }
  const body = renderMarkdown(report, {
    header,
    limit: COMMENT_LIMIT,
    marker: commentMarker(header)
  })
  const result = await upsertComment({
    token,
    repo: report.repository,
    pr: lookup.pr,
    header,
    body,
    github
  })
  if (!result.ok) {
    core.warning(result.warning)
    return
  }
  if (result.action !== 'none') {
    report.commentUrl = result.url
    core.info(`${result.action} the comment on PR #${lookup.pr}: ${result.url}`)
  }
}

async function uploadDiagnostics(
  report: Report,
  ctx: RunContext,
  reportPath: string
): Promise<void> {
  writeFileSync(reportPath, redact(JSON.stringify(report, null, 2)))
  const files = [reportPath]
  if (report.diagnostics?.file) files.push(report.diagnostics.file)
  const name = `minikube-preview-${basename(ctx.env.outDir).replace(/^minikube-preview-/, '')}`
  try {
    // Loaded only when there is something to upload: it is most of the bundle.
    const { DefaultArtifactClient } = await import('@actions/artifact')
    const { id } = await new DefaultArtifactClient().uploadArtifact(
      name,
      files,
      dirname(reportPath),
      {
        retentionDays: 14
      }
    )
    if (report.diagnostics) report.diagnostics.artifactId = id
    core.info(`uploaded diagnostics as artifact ${name}`)
  } catch (err) {
    core.warning(`Could not upload the diagnostics artifact: ${message(err)}`)
  }
}
