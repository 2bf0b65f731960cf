#!/usr/bin/env node
// Prints the path of a Node 24 binary (what `runs.using: node24` runs on GitHub), installing
// it from the npm registry into a cache outside the repository the first time.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

export const NODE24_VERSION = '24.9.0'

export function node24() {
  if (process.env.NODE24 && existsSync(process.env.NODE24)) return process.env.NODE24
  if (process.versions.node.startsWith('24.')) return process.execPath
  const root = process.env.MP_CACHE || join(homedir(), '.cache', 'minikube-preview')
  const dir = join(root, `node-${NODE24_VERSION}`)
  const bin = join(dir, 'node_modules', 'node', 'bin', 'node')
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true })
    execFileSync(
      'npm',
      [
        'install',
        '--prefix',
        dir,
        '--no-save',
        '--no-audit',
        '--no-fund',
        `node@${NODE24_VERSION}`
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit']
      }
    )
  }
  const version = execFileSync(bin, ['--version']).toString().trim()
  if (!version.startsWith('v24.')) throw new Error(`expected Node 24 at ${bin}, got ${version}`)
  return bin
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(node24())
