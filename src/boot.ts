// The bundle's entry: turns on Node's on-disk compile cache, then loads the action (index.ts).
// The action is a chunk of its own so that it is compiled after the cache is on: a runner that
// has run this version of the action before skips compiling most of it. The cache lives in the
// tool cache, beside minikube, helm and kubectl, so it is warm exactly when they are; it is
// keyed by the code and the Node version, so a new bundle or Node never reads a stale entry.
import * as nodeModule from 'node:module'
import { join } from 'node:path'
import { tmpdir } from 'node:os'

function enableCompileCache(): void {
  // Node 22.1 and later; anything else (or a cache folder that cannot be made) runs uncached.
  const enable = (nodeModule as { enableCompileCache?: (dir: string) => unknown })
    .enableCompileCache
  if (typeof enable !== 'function') return
  const root = process.env['RUNNER_TOOL_CACHE'] || tmpdir()
  try {
    enable(join(root, 'minikube-preview', 'compile-cache'))
  } catch {
    // Only slower.
  }
}

enableCompileCache()
await import('./index.js')
