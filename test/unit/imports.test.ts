// The layering of src/ (DESIGN.md, "Layout"), read off the import lines of every source file.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, posix, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const SRC = join(ROOT, 'src')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(join(dir, e.name))
      : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')
        ? [join(dir, e.name)]
        : []
  )
}

/** The module specifiers of `import … from`, `export … from`, `import '…'` and `import('…')`. */
function specifiersOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
  const out: string[] = []
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(['"])([^'"]+)\1/gm
  for (const m of code.matchAll(pattern)) out.push(m[2] as string)
  return out
}

/** `src/…`-relative file → the `src/…` files of ours it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of sourceFiles(SRC)) {
    const from = posix.normalize(relative(ROOT, file).split('\\').join('/'))
    const ours = specifiersOf(readFileSync(file, 'utf8'))
      .filter((s) => s.startsWith('.'))
      .map((s) => posix.normalize(posix.join(posix.dirname(from), s)).replace(/\.js$/, '.ts'))
    graph.set(from, [...new Set(ours)])
  }
  return graph
}

interface Rule {
  rule: string
  /** Files (`src/x.ts`) or folders (`src/x/`) the rule is about. */
  from: string[]
  /** What they may not import; `src/` is anything of ours. */
  forbidden: string[]
  /** Files or folders of `from` the rule does not apply to. */
  except?: string[]
}

/** The parts that run a stage and hold the run: what no tool, engine or report may reach up to. */
const STAGES = ['src/stages/', 'src/run.ts', 'src/main.ts', 'src/post.ts']

const RULES: Rule[] = [
  { rule: 'model imports nothing of ours', from: ['src/model.ts'], forbidden: ['src/'] },
  { rule: 'text imports nothing of ours', from: ['src/text.ts'], forbidden: ['src/'] },
  {
    rule: 'tools and exec import no stage, engine or report',
    from: ['src/tools/', 'src/exec.ts'],
    forbidden: [...STAGES, 'src/verify/', 'src/diagnostics/', 'src/report/']
  },
  {
    rule: 'engines (verify, diagnostics) import no stage or report',
    from: ['src/verify/', 'src/diagnostics/'],
    forbidden: [...STAGES, 'src/report/']
  },
  {
    rule: 'only stages, main and post see the run context',
    from: ['src/'],
    except: ['src/stages/', 'src/main.ts', 'src/post.ts', 'src/run.ts'],
    forbidden: ['src/run.ts']
  },
  {
    rule: 'report imports no stage, tool or exec',
    from: ['src/report/'],
    forbidden: [...STAGES, 'src/tools/', 'src/exec.ts']
  }
]

function within(file: string, places: string[]): boolean {
  return places.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p))
}

/** Every import that breaks a rule, as `rule: from → to`. */
function violations(graph: Map<string, string[]>, rules: Rule[]): string[] {
  const out: string[] = []
  for (const r of rules)
    for (const [from, targets] of graph)
      if (within(from, r.from) && !within(from, r.except ?? []))
        for (const to of targets)
          if (within(to, r.forbidden)) out.push(`${r.rule}: ${from} → ${to}`)
  return out
}

describe('the import graph of src/', () => {
  const graph = importGraph()

  test('is read whole: every import of ours names a file that exists', () => {
    const edges = [...graph.values()].flat()
    expect(graph.size).toBeGreaterThan(30)
    expect(edges.length).toBeGreaterThan(100)
    expect(graph.get('src/main.ts')).toContain('src/model.ts')
    expect(graph.get('src/verify/watch.ts')).toContain('src/verify/health.ts')
    const missing = edges.filter((to) => !existsSync(join(ROOT, to)))
    expect(missing).toEqual([])
  })

  test.each(RULES.map((r) => [r.rule, r] as const))('%s', (_, rule) => {
    expect(violations(graph, [rule])).toEqual([])
  })

  test('the rules do catch an import that runs back up', () => {
    const bad = new Map(graph)
    bad.set('src/tools/helm.ts', [...(graph.get('src/tools/helm.ts') ?? []), 'src/report/model.ts'])
    bad.set('src/model.ts', ['src/text.ts'])
    bad.set('src/report/markdown.ts', [
      ...(graph.get('src/report/markdown.ts') ?? []),
      'src/run.ts'
    ])
    expect(violations(bad, RULES)).toEqual([
      'model imports nothing of ours: src/model.ts → src/text.ts',
      'tools and exec import no stage, engine or report: src/tools/helm.ts → src/report/model.ts',
      'only stages, main and post see the run context: src/report/markdown.ts → src/run.ts',
      'report imports no stage, tool or exec: src/report/markdown.ts → src/run.ts'
    ])
  })
})

describe('specifiersOf', () => {
  test('reads every form of import and export, and skips comments', () => {
    const src = [
      "import type { A } from './a.js'",
      'import {',
      '  b,',
      '  type C',
      "} from '../b.js'",
      "export { d } from './d.js'",
      "import './side.js'",
      "const m = await import('./lazy.js')",
      "// import { x } from './commented.js'",
      "/* import { y } from './block.js' */",
      "import * as core from '@actions/core'"
    ].join('\n')
    expect(specifiersOf(src)).toEqual([
      './a.js',
      '../b.js',
      './d.js',
      './side.js',
      './lazy.js',
      '@actions/core'
    ])
  })
})
