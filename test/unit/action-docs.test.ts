// action.yml, the README's tables and the parser's defaults say the same thing: a user reading
// any one of them gets the inputs, defaults and outputs the action really has.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { DEFAULTS } from '../../src/inputs.js'

const ROOT = join(import.meta.dirname, '..', '..')
const action = parseYaml(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>
  outputs: Record<string, unknown>
}
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')

/** The rows of the first table under `## <heading>`: first cell (unquoted) → the other cells. */
function table(heading: string): Map<string, string[]> {
  const start = readme.indexOf(`\n## ${heading}\n`)
  expect(start, `README has a '## ${heading}' section`).toBeGreaterThan(0)
  const section = readme.slice(start + 1).split(/\n## /)[0] as string
  const rows = new Map<string, string[]>()
  for (const line of section.split('\n')) {
    const m = /^\| `([a-z-]+)` \|(.*)\|$/.exec(line)
    if (m)
      rows.set(
        m[1] as string,
        (m[2] as string).split(' | ').map((c) => c.trim())
      )
  }
  return rows
}

describe('action.yml and the README', () => {
  const inputs = table('Inputs')
  const outputs = table('Outputs')

  it('documents every input of action.yml, and no other', () => {
    expect([...inputs.keys()].sort()).toEqual(Object.keys(action.inputs).sort())
  })

  it('gives each input the default action.yml has', () => {
    for (const [name, spec] of Object.entries(action.inputs)) {
      const shown = inputs.get(name)?.[0]
      const expected = (spec.default ?? '') === '' ? '—' : `\`${spec.default}\``
      expect(shown, `README default of '${name}'`).toBe(expected)
    }
  })

  it('documents every output of action.yml, and no other', () => {
    expect([...outputs.keys()].sort()).toEqual(Object.keys(action.outputs).sort())
  })

  it('the new preview inputs and the url output are there', () => {
    for (const name of [
      'registry',
      'registry-username',
      'registry-password',
      'push-tags',
      'url',
      'environment',
      'ttl',
      'mode'
    ])
      expect(Object.keys(action.inputs)).toContain(name)
    expect(action.inputs['mode']?.default).toBe('preview')
    expect(Object.keys(action.outputs)).toContain('url')
  })
})

describe('the parser and action.yml', () => {
  it('fall back to the same default for every input (the token is the runner’s)', () => {
    const fromAction = Object.fromEntries(
      Object.entries(action.inputs).map(([name, spec]) => [name, spec.default ?? ''])
    )
    expect({ ...DEFAULTS, 'github-token': fromAction['github-token'] }).toEqual(fromAction)
  })
})
