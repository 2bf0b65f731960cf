// Telling people what happened: the diagnostics artifact, the pull-request comment and the job summary.
import * as core from '@actions/core'
import { writeFileSync } from 'node:fs'
import { basename, dirname } from 'node:path'
import type { Inputs } from '../inputs.js'
import { redact } from '../redact.js'
import { decideComment, findPullRequest, markPreviewRemoved, upsertComment } from './comment.js'
import { GitHub } from './github.js'
import { COMMENT_LIMIT, SUMMARY_LIMIT, commentMarker, renderMarkdown } from './markdown.js'
import type { Report } from '../model.js'
import { errorMessage } from '../text.js'

/** What publishing needs to know of the run, as plain values. */
export interface PublishOptions {
  /** The comment header discovered for this run (its first line marks the comment as ours). */
  commentHeader: string
  comment: Inputs['comment']
  githubToken: string
  jobSummary: boolean
  diagnosticsArtifact: boolean
  /** The run's output folder; its name gives the artifact its name. */
  outDir: string
}

/**
 * Tells people what happened: diagnostics artifact, pull-request comment, job summary.
 * Each is best effort: a failure here is a warning and never changes the outcome.
 */
export async function publish(
  report: Report,
  opts: PublishOptions,
  reportPath: string
): Promise<void> {
  const header = opts.commentHeader
  if (['unhealthy', 'error'].includes(report.status) && opts.diagnosticsArtifact)
    await uploadDiagnostics(report, opts, reportPath)
  await comment(report, opts, header)
  if (opts.jobSummary) {
    try {
      await core.summary
        .addRaw(
          renderMarkdown(report, { header, limit: SUMMARY_LIMIT, url: report.preview?.url }),
          true
        )
        .write()
    } catch (err) {
      core.warning(`Could not write the job summary: ${message(err)}`)
    }
  }
}

function message(err: unknown): string {
  return redact(errorMessage(err))
}

async function comment(report: Report, opts: PublishOptions, header: string): Promise<void> {
  const { comment: mode, githubToken: token } = opts
  if (mode === 'never' || report.preview?.mode === 'sweep') return
  if (report.preview?.mode === 'teardown') return removedComment(report, opts, header)
  const env = process.env
  const github = token ? new GitHub({ token }) : undefined
  const lookup = await findPullRequest({
    mode,
    event: report.event ?? '',
    eventPr: report.pullRequest,
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
    marker: commentMarker(header),
    url: report.preview?.url
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

/**
 * A closed pull request: the run's own comment, if there is one, now says the preview was
 * removed and when. None is posted where there was none.
 */
async function removedComment(report: Report, opts: PublishOptions, header: string): Promise<void> {
  const token = opts.githubToken
  const pr = report.pullRequest
  if (!token || !report.repository || pr === undefined) return
  if (report.status !== 'removed') return
  const result = await markPreviewRemoved({
    token,
    repo: report.repository,
    pr,
    header,
    removedAt: new Date(report.endedAt ?? Date.now()),
    reason: report.merged ? 'merged' : 'closed',
    release: report.release?.name,
    namespace: report.preview?.namespace,
    runUrl: report.runUrl
  })
  if (!result.ok) {
    core.warning(result.warning)
    return
  }
  if (result.action !== 'none') {
    report.commentUrl = result.url
    core.info(`${result.action} the comment on PR #${pr}: the preview was removed`)
  }
}

async function uploadDiagnostics(
  report: Report,
  opts: PublishOptions,
  reportPath: string
): Promise<void> {
  writeFileSync(reportPath, redact(JSON.stringify(report, null, 2)))
  const files = [reportPath]
  if (report.diagnostics?.file) files.push(report.diagnostics.file)
  const name = `minikube-preview-${basename(opts.outDir).replace(/^minikube-preview-/, '')}`
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
