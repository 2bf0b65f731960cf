import { describe, expect, test } from 'vitest'
import {
  COMMENT_LIMIT,
  SUMMARY_LIMIT,
  commentMarker,
  renderMarkdown
} from '../../src/report/markdown.js'
import { newReport, type Report, type StepResult, type Verdict } from '../../src/model.js'
import { registerSecret } from '../../src/redact.js'
import { formatDuration } from '../../src/text.js'

const T0 = 1_760_000_000_000
const RUN_URL = 'https://github.com/acme/todo/actions/runs/123456789'

function step(
  id: string,
  title: string,
  start: number,
  end: number,
  status: StepResult['status'] = 'success',
  reason?: string
): StepResult {
  return {
    id,
    title,
    status,
    startedAt: T0 + start,
    endedAt: T0 + end,
    durationMs: end - start,
    ...(reason ? { reason } : {})
  }
}

function skipped(id: string, title: string, because: string): StepResult {
  return {
    id,
    title,
    status: 'skipped',
    skippedBecause: because,
    reason: `skipped because '${because}' failed`
  }
}

function base(): Report {
  const r = newReport(T0)
  r.repository = 'acme/todo'
  r.commit = '0123456789abcdef0123456789abcdef01234567'
  r.event = 'pull_request'
  r.runUrl = RUN_URL
  r.pullRequest = 7
  r.endedAt = T0 + 185_000
  r.durationMs = 185_000
  r.tools = [
    { name: 'minikube', version: 'v1.39.0', path: '/t/minikube', cached: true },
    { name: 'helm', version: 'v4.3.1', path: '/t/helm', cached: false },
    { name: 'kubectl', version: 'v1.34.1', path: '/t/kubectl', cached: false }
  ]
  r.cluster = {
    kind: 'minikube',
    kubernetesVersion: 'v1.34.0',
    driver: 'docker',
    nodes: 1,
    addons: ['ingress']
  }
  r.release = {
    name: 'todo-chatbot',
    namespace: 'preview',
    chart: 'charts/todo-chatbot',
    revision: 1
  }
  r.images = [
    {
      name: 'todo-chatbot-backend',
      reference: 'todo-chatbot-backend:sha-0123456',
      id: 'sha256:4f5e6d7c8b9a00112233445566778899aabbccddeeff00112233445566778899',
      sizeBytes: 245_300_000,
      buildMs: 95_000,
      steps: 6,
      cachedSteps: 4,
      cache: 'gha',
      loadMs: 12_400,
      delivery: 'loaded'
    }
  ]
  return r
}

function healthy(): Report {
  const r = base()
  r.status = 'healthy'
  r.workloads = [
    {
      kind: 'Deployment',
      name: 'todo-chatbot-backend',
      state: 'healthy',
      ready: '1/1',
      restarts: 0,
      pods: ['todo-chatbot-backend-abc'],
      unhealthyPods: []
    },
    {
      kind: 'StatefulSet',
      name: 'todo-chatbot-postgresql',
      state: 'healthy',
      ready: '1/1',
      restarts: 0,
      pods: ['todo-chatbot-postgresql-0'],
      unhealthyPods: []
    }
  ]
  r.healthChecks = [
    {
      label: 'backend /health',
      url: 'http://127.0.0.1:38001/health',
      ok: true,
      status: 200,
      latencyMs: 23,
      attempts: 2
    }
  ]
  r.helmTest = {
    passed: true,
    pods: [{ name: 'todo-chatbot-test-connection', phase: 'Succeeded' }]
  }
  r.steps = [
    step('install-minikube', 'Install minikube', 0, 4_000),
    step('cluster', 'Start cluster', 4_000, 99_000),
    step('build-backend', 'Build image todo-chatbot-backend', 200, 95_200),
    step('load-backend', 'Load image todo-chatbot-backend', 99_000, 111_400),
    step('deploy', 'Deploy', 111_400, 140_000),
    step('verify', 'Verify', 140_000, 180_000)
  ]
  // Diagnostics may be collected on a healthy run too; they are not shown then.
  r.diagnostics = { sections: [{ title: 'Events', body: 'Normal Scheduled pod/backend' }] }
  return r
}

function crashLoop(): Report {
  const r = base()
  r.status = 'unhealthy'
  r.reason =
    'Deployment todo-chatbot-backend: CrashLoopBackOff (container backend exited with code 1)'
  r.workloads = [
    {
      kind: 'Deployment',
      name: 'todo-chatbot-backend',
      state: 'failed',
      ready: '0/1',
      restarts: 4,
      reason: 'CrashLoopBackOff',
      message: 'container backend exited with code 1',
      pods: ['todo-chatbot-backend-7d9f-x2k'],
      unhealthyPods: ['todo-chatbot-backend-7d9f-x2k']
    },
    {
      kind: 'Deployment',
      name: 'todo-chatbot-frontend',
      state: 'progressing',
      ready: '0/1',
      restarts: 0,
      pods: ['todo-chatbot-frontend-1'],
      unhealthyPods: ['todo-chatbot-frontend-1']
    }
  ]
  r.healthChecks = [
    {
      label: 'backend /health',
      url: 'http://127.0.0.1:38001/health',
      ok: false,
      attempts: 5,
      error: 'connection refused'
    }
  ]
  r.steps = [
    step('cluster', 'Start cluster', 0, 90_000),
    step('deploy', 'Deploy', 90_000, 100_000),
    step(
      'verify',
      'Verify',
      100_000,
      160_000,
      'failure',
      'Deployment todo-chatbot-backend: CrashLoopBackOff'
    ),
    skipped('health', 'Health checks', 'verify')
  ]
  r.diagnostics = {
    sections: [
      {
        title: 'Events',
        body: 'Warning BackOff pod/todo-chatbot-backend-7d9f-x2k Back-off restarting failed container'
      },
      {
        title: 'describe pod/todo-chatbot-backend-7d9f-x2k',
        body: 'State: Waiting\n  Reason: CrashLoopBackOff'
      },
      {
        title: 'logs todo-chatbot-backend-7d9f-x2k (previous)',
        body: 'Traceback (most recent call last):\nsqlalchemy.exc.OperationalError: could not connect to server'
      }
    ],
    artifactId: 4242
  }
  return r
}

function errorBeforeCluster(): Report {
  const r = base()
  r.status = 'error'
  delete r.cluster
  r.images = []
  r.reason =
    "Start cluster failed: minikube start failed with exit code 80: X Exiting due to GUEST_PROVISION: error provisioning guest\n* Suggestion: Run 'minikube delete'"
  r.steps = [
    step('install-minikube', 'Install minikube', 0, 3_000),
    step(
      'cluster',
      'Start cluster',
      3_000,
      63_000,
      'failure',
      'minikube start failed with exit code 80'
    ),
    skipped('addons', 'Enable addons', 'cluster'),
    skipped('load-backend', 'Load image todo-chatbot-backend', 'cluster'),
    skipped('deploy', 'Deploy', 'cluster'),
    skipped('verify', 'Verify', 'deploy')
  ]
  r.steps[5] = { ...(r.steps[5] as StepResult), skippedBecause: 'cluster' }
  r.diagnostics = {
    sections: [{ title: 'minikube logs', body: 'E1126 failed to start node: GUEST_PROVISION' }]
  }
  return r
}

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8')
const firstContentLine = (md: string): string =>
  md.split('\n').find((l) => !l.startsWith('<!--')) ?? ''
/** Rows of the markdown table under `#### title`. */
function tableRows(md: string, title: string): string[] {
  const at = md.indexOf(`#### ${title}\n`)
  if (at < 0) return []
  const lines = md.slice(at).split('\n').slice(2)
  const rows: string[] = []
  for (const l of lines) {
    if (!l.startsWith('|')) break
    rows.push(l)
  }
  return rows.slice(2)
}
/** Splits a GFM table row into cells the way GitHub does: `\|` is not a separator. */
function cells(row: string): string[] {
  return row
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((c) => c.trim())
}

describe('renderMarkdown', () => {
  test('healthy: one status line, workloads, checks, helm test, images, tools, a gantt chart, no diagnostics', () => {
    const md = renderMarkdown(healthy(), { header: 'todo-chatbot/preview', limit: SUMMARY_LIMIT })
    const first = md.split('\n')[0] as string
    expect(first).toMatch(/^### ✅ \*\*healthy\*\*/)
    expect(first).toContain('release `todo-chatbot` in namespace `preview`')
    expect(first).toContain('commit `0123456`')
    expect(first).not.toContain('0123456789')
    expect(first).toContain('3m 05s')
    expect(first).toContain(`[workflow run](${RUN_URL})`)
    expect(md).not.toContain('**Why:**')

    const workloads = tableRows(md, 'Workloads').map(cells)
    expect(workloads).toEqual([
      ['Deployment', '`todo-chatbot-backend`', '1/1', '0', '✅ healthy', ''],
      ['StatefulSet', '`todo-chatbot-postgresql`', '1/1', '0', '✅ healthy', '']
    ])
    expect(tableRows(md, 'Health checks').map(cells)).toEqual([
      ['backend /health', '`http://127.0.0.1:38001/health`', '✅ passed', '200', '23 ms', '2', '']
    ])
    expect(md).toContain('**Helm test:** ✅ passed (`todo-chatbot-test-connection` Succeeded)')
    expect(tableRows(md, 'Images').map(cells)).toEqual([
      [
        'todo-chatbot-backend',
        '`todo-chatbot-backend:sha-0123456`',
        '`4f5e6d7c8b9a`',
        '245.3 MB',
        '1m 35s',
        '4/6 (gha)',
        '12.4 s',
        'loaded'
      ]
    ])
    expect(md).toContain(
      '**Cluster:** minikube, Kubernetes v1.34.0, driver docker, 1 node, addons ingress'
    )
    expect(md).toContain('**Tools:** minikube v1.39.0 (cached), helm v4.3.1, kubectl v1.34.1')

    const chart = /```mermaid\n([\s\S]*?)\n```/.exec(md)?.[1] ?? ''
    expect(chart.split('\n').slice(0, 4)).toEqual([
      'gantt',
      '  dateFormat x',
      '  axisFormat %s s',
      '  todayMarker off'
    ])
    // One bar per step, offsets from the start of the run, in ms.
    expect(chart).toContain('  Start cluster 1m 35s :step1, 4000, 99000')
    expect(chart).toContain('  Build image todo-chatbot-backend 1m 35s :step2, 200, 95200')
    expect(chart).not.toContain('crit')
    expect(md).not.toContain('<details>')
    expect(md).not.toContain('Diagnostics')
    expect(md.startsWith('<!--')).toBe(false)
  })

  test('the comment starts with its hidden marker', () => {
    const md = renderMarkdown(healthy(), {
      header: 'todo-chatbot/preview',
      limit: COMMENT_LIMIT,
      marker: commentMarker('todo-chatbot/preview')
    })
    expect(md.split('\n')[0]).toBe('<!-- minikube-preview: todo-chatbot/preview -->')
    expect(md.split('\n')[1]).toMatch(/^### ✅ \*\*healthy\*\*/)
  })

  test('a matrix header that is not release/namespace is named in the status line', () => {
    const md = renderMarkdown(healthy(), { header: 'k8s-1.33', limit: SUMMARY_LIMIT })
    expect(md.split('\n')[0]).toMatch(/^### ✅ \*\*healthy\*\* — k8s-1\.33 · release/)
  })

  test('unhealthy crash loop: the reason, failed rows, the failed step marked crit, diagnostics folded', () => {
    const md = renderMarkdown(crashLoop(), { header: 'todo-chatbot/preview', limit: COMMENT_LIMIT })
    const lines = md.split('\n')
    expect(lines[0]).toMatch(/^### ❌ \*\*unhealthy\*\* · release `todo-chatbot`/)
    expect(lines[2]).toBe(
      '**Why:** Deployment todo-chatbot-backend: CrashLoopBackOff (container backend exited with code 1)'
    )
    expect(tableRows(md, 'Workloads').map(cells)).toEqual([
      [
        'Deployment',
        '`todo-chatbot-backend`',
        '0/1',
        '4',
        '❌ failed',
        'CrashLoopBackOff: container backend exited with code 1'
      ],
      ['Deployment', '`todo-chatbot-frontend`', '0/1', '0', '⏳ progressing', '']
    ])
    expect(tableRows(md, 'Health checks').map(cells)).toEqual([
      [
        'backend /health',
        '`http://127.0.0.1:38001/health`',
        '❌ failed',
        '',
        '',
        '5',
        'connection refused'
      ]
    ])
    expect(md).toContain('  Verify (failed) 1m 00s :crit, step2, 100000, 160000')
    expect(md).toContain('**Skipped:** Health checks (waited for Verify)')
    expect(md).toContain('<details><summary>Events</summary>')
    expect(md).toContain(
      '<details><summary>logs todo-chatbot-backend-7d9f-x2k (previous)</summary>'
    )
    expect(md).toContain('sqlalchemy.exc.OperationalError: could not connect to server')
    expect(md).not.toContain('trimmed')
  })

  test('error before the cluster: minikube reason, nothing but skipped steps after it', () => {
    const md = renderMarkdown(errorBeforeCluster(), {
      header: 'todo-chatbot/preview',
      limit: COMMENT_LIMIT
    })
    expect(md.split('\n')[0]).toMatch(/^### ⛔ \*\*error\*\*/)
    expect(md).toContain(
      '**Why:** Start cluster failed: minikube start failed with exit code 80: X Exiting due to GUEST\\_PROVISION: error provisioning guest'
    )
    // Further lines of the reason are kept verbatim in a block.
    expect(md).toContain("```text\n* Suggestion: Run 'minikube delete'\n```")
    expect(md).not.toContain('#### Workloads')
    expect(md).not.toContain('#### Health checks')
    expect(md).not.toContain('#### Images')
    expect(md).not.toContain('**Cluster:**')
    expect(md).toContain('  Start cluster (failed) 1m 00s :crit, step1, 3000, 63000')
    expect(md).not.toMatch(/Deploy .*:step/)
    expect(md).toContain(
      '**Skipped:** Enable addons (waited for Start cluster), Load image todo-chatbot-backend (waited for Start cluster), Deploy (waited for Start cluster), Verify (waited for Start cluster)'
    )
    expect(md).toContain('<details><summary>minikube logs</summary>')
  })

  test('values that would break a table, a code span, HTML or the chart are escaped', () => {
    const r = crashLoop()
    const w = r.workloads[0] as Verdict
    w.name = 'evil|name`x'
    w.message = 'line one | two\nline <b>three</b> **bold** [link](http://x) ~~gone~~'
    r.healthChecks[0]!.label = 'check | with pipe'
    r.healthChecks[0]!.error = 'HTTP 500\n| fake | row |'
    r.diagnostics!.sections.push({
      title: '</summary></details><img src=x onerror=alert(1)>',
      body: 'a\n```\n# not a heading\n</details>\n<script>alert(1)</script>'
    })
    r.steps[0]!.title = 'Start: cluster; #1\nnext'
    const md = renderMarkdown(r, { header: 'h', limit: COMMENT_LIMIT })

    const rows = tableRows(md, 'Workloads')
    expect(rows).toHaveLength(2)
    const first = cells(rows[0] as string)
    expect(first).toHaveLength(6)
    expect(first[1]).toBe('``evil\\|name`x``')
    expect(first[5]).toBe(
      'CrashLoopBackOff: line one \\| two line &lt;b&gt;three&lt;/b&gt; \\*\\*bold\\*\\* \\[link\\](http:\u2060//x) \\~\\~gone\\~\\~'
    )
    const checks = tableRows(md, 'Health checks')
    expect(checks).toHaveLength(1)
    expect(cells(checks[0] as string)).toHaveLength(7)
    expect(cells(checks[0] as string)[6]).toBe('HTTP 500 \\| fake \\| row \\|')

    expect(md).toContain(
      '<summary>&lt;/summary&gt;&lt;/details&gt;&lt;img src=x onerror=alert(1)&gt;</summary>'
    )
    // The body's own fence cannot close the block it is shown in.
    expect(md).toContain(
      '````text\na\n```\n# not a heading\n</details>\n<script>alert(1)</script>\n````'
    )
    expect(md).toMatch(/\n {2}Start cluster 1 next 1m 30s :step0, 0, 90000\n/)
  })

  test('--> in a header cannot end the marker early', () => {
    const marker = commentMarker('a-->b\n<!-- c --')
    expect(marker.startsWith('<!-- minikube-preview: ')).toBe(true)
    expect(marker.indexOf('-->')).toBe(marker.length - 3)
    expect(marker).not.toContain('\n')
    expect(commentMarker('todo/preview')).toBe('<!-- minikube-preview: todo/preview -->')
  })

  describe('size', () => {
    const huge = (): Report => {
      const r = crashLoop()
      const logLine = (i: number): string =>
        `2025-11-26T01:00:${String(i % 60).padStart(2, '0')}Z ERROR request ${i} failed: connection refused\n`
      r.diagnostics!.sections = [
        {
          title: 'Events',
          body: 'Warning BackOff pod/x Back-off restarting failed container\n'.repeat(20)
        },
        {
          title: 'describe',
          body: Array.from({ length: 40_000 }, (_, i) => `  line ${i} of describe`).join('\n')
        },
        {
          title: 'logs',
          body: Array.from({ length: 60_000 }, (_, i) => logLine(i)).join('') + 'LAST LOG LINE'
        }
      ]
      return r
    }

    test.each([
      ['comment', COMMENT_LIMIT],
      ['job summary', SUMMARY_LIMIT]
    ])(
      'huge diagnostics are trimmed to fit the %s, keeping the status line and the tables',
      (_, limit) => {
        const r = huge()
        const marker = commentMarker('todo-chatbot/preview')
        const md = renderMarkdown(r, { header: 'todo-chatbot/preview', limit, marker })
        expect(bytes(md)).toBeLessThanOrEqual(limit)
        expect(md.length).toBeLessThanOrEqual(limit)
        expect(md.split('\n')[0]).toBe(marker)
        expect(firstContentLine(md)).toMatch(/^### ❌ \*\*unhealthy\*\*/)
        expect(md).toContain('**Why:** Deployment todo-chatbot-backend: CrashLoopBackOff')
        expect(tableRows(md, 'Workloads')).toHaveLength(2)
        expect(tableRows(md, 'Health checks')).toHaveLength(1)
        expect(tableRows(md, 'Images')).toHaveLength(1)
        expect(md).toContain('```mermaid')
        // The small section is whole, the large ones keep their last lines and say how many were cut.
        expect(md).toContain('<details><summary>Events</summary>')
        expect(md).toMatch(/\[… \d+ earlier lines cut …\]\n/)
        expect(md).toContain('LAST LOG LINE')
        expect(md).toContain('line 39999 of describe')
        expect(md).not.toContain('line 0 of describe\n')
        expect(md).toMatch(
          /_Diagnostics trimmed to fit the size limit: describe, logs cut to the last lines\./
        )
        expect(md).toContain(`[the diagnostics artifact](${RUN_URL}/artifacts/4242)`)
        // Both the large sections got a fair share, not just the first.
        const logs = md.slice(md.indexOf('<summary>logs</summary>'))
        expect(bytes(logs)).toBeGreaterThan(limit / 6)
      }
    )

    test('trimmed diagnostics fill the room the limit leaves, even with long fences', () => {
      const r = huge()
      // A run of backticks makes the block's fence longer than usual.
      r.diagnostics!.sections.push({
        title: 'fenced',
        body: Array.from({ length: 5_000 }, (_, i) => `\`\`\`\`\`\`\`\` ${i}`).join('\n')
      })
      for (const limit of [COMMENT_LIMIT, SUMMARY_LIMIT, 20_000]) {
        const md = renderMarkdown(r, { header: 'h', limit, marker: commentMarker('h') })
        expect(bytes(md)).toBeLessThanOrEqual(limit)
        expect(bytes(md)).toBeGreaterThan(limit - 1024)
        expect(md).toContain('<summary>fenced</summary>')
      }
    })

    test('below a useful tail, sections are left out from the end, and the line says so', () => {
      const r = huge()
      const bare = renderMarkdown(
        { ...r, diagnostics: { sections: [] } },
        { header: 'h', limit: SUMMARY_LIMIT }
      )
      const limit = bytes(bare) + 1_600
      const md = renderMarkdown(r, { header: 'h', limit })
      expect(bytes(md)).toBeLessThanOrEqual(limit)
      expect(md).toContain('<details><summary>Events</summary>')
      expect(md).not.toContain('<summary>describe</summary>')
      expect(md).not.toContain('<summary>logs</summary>')
      expect(md).toMatch(
        /_Diagnostics trimmed to fit the size limit: (Events cut to the last lines; )?describe, logs left out\./
      )
      expect(tableRows(md, 'Workloads')).toHaveLength(2)
    })

    test('absurd numbers of workloads: the status line stays, rows give way with a count', () => {
      const r = huge()
      const many = Array.from({ length: 20_000 }, (_, i): Verdict => ({
        kind: 'Pod',
        name: `worker-${i}`,
        state: i === 17_777 ? 'failed' : 'healthy',
        ready: '1/1',
        restarts: 0,
        reason: i === 17_777 ? 'OOMKilled' : undefined,
        pods: [`worker-${i}`],
        unhealthyPods: []
      }))
      r.workloads = many
      for (const limit of [COMMENT_LIMIT, SUMMARY_LIMIT]) {
        const md = renderMarkdown(r, { header: 'h', limit, marker: commentMarker('h') })
        expect(bytes(md)).toBeLessThanOrEqual(limit)
        expect(md.split('\n')[0]).toBe(commentMarker('h'))
        expect(firstContentLine(md)).toMatch(/^### ❌ \*\*unhealthy\*\*/)
        const rows = tableRows(md, 'Workloads')
        expect(rows.length).toBeGreaterThan(100)
        expect(rows.length).toBeLessThan(20_000)
        // The failed one is among the rows shown, whatever its position.
        expect(
          rows.some((row) => row.includes('`worker-17777`') && row.includes('OOMKilled'))
        ).toBe(true)
        expect(md).toContain(
          `_… and ${20_000 - rows.length} more workloads not shown, to fit the size limit._`
        )
        expect(md).toContain('_Diagnostics left out to fit the size limit.')
        // The other tables are still there.
        expect(tableRows(md, 'Health checks')).toHaveLength(1)
      }
    })

    test('an absurdly small limit is still honoured, and the marker stays first', () => {
      const marker = commentMarker('h')
      for (const limit of [0, 10, 120, 700]) {
        const md = renderMarkdown(huge(), { header: 'h', limit, marker })
        expect(bytes(md)).toBeLessThanOrEqual(limit)
        if (limit >= 700) expect(md.startsWith(`${marker}\n### ❌`)).toBe(true)
      }
    })

    test('multi-byte text is cut on character boundaries and counted in bytes', () => {
      const r = crashLoop()
      r.diagnostics!.sections = [{ title: 'logs', body: '日本語のログ🚀\n'.repeat(50_000) }]
      const md = renderMarkdown(r, { header: 'h', limit: COMMENT_LIMIT })
      expect(bytes(md)).toBeLessThanOrEqual(COMMENT_LIMIT)
      expect(md).not.toContain('\uFFFD')
      expect(md).toContain('日本語のログ🚀\n```\n')
    })
  })

  describe('redaction', () => {
    const secret = 'hunter2-super-secret-value'
    registerSecret(secret)

    test('secrets are masked everywhere, also where escaping or trimming would have hidden them from a final pass', () => {
      const r = crashLoop()
      r.reason = `Deploy failed: password ${secret} rejected`
      ;(r.workloads[0] as Verdict).message = `env DB_PASSWORD=${secret}`
      r.diagnostics!.sections = [
        {
          title: `logs ${secret}`,
          body: `${secret}\n`.repeat(30_000) + `connecting with ${secret}`
        }
      ]
      const md = renderMarkdown(r, { header: 'h', limit: COMMENT_LIMIT })
      expect(md).not.toContain('hunter2')
      expect(md).not.toContain('secret-value')
      expect(md).toContain('**Why:** Deploy failed: password \\*\\*\\* rejected')
      expect(md).toContain('connecting with ***')
    })
  })
})

describe('formatDuration', () => {
  test.each([
    [0, '0 ms'],
    [850, '850 ms'],
    [12_345, '12.3 s'],
    [59_949, '59.9 s'],
    [60_000, '1m 00s'],
    [185_000, '3m 05s'],
    [3_725_000, '1h 02m'],
    [-1, '–']
  ])('%d ms → %s', (ms, shown) => {
    expect(formatDuration(ms)).toBe(shown)
  })
})
