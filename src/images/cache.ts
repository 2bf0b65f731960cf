// The layer cache of image builds: which backend this run uses, and the `--cache-from` /
// `--cache-to` arguments BuildKit gets for one image. Pure functions of the inputs and env.
import { join } from 'node:path'
import type { BuildCacheInput } from '../inputs.js'

export interface BuildCache {
  kind: 'gha' | 'registry' | 'local' | 'none'
  /** The registry repository (`registry`) or folder (`local`) given by `build-cache-ref`. */
  ref?: string
  /** Said to the user once, when the cache asked for cannot be used here. */
  warning?: string
}

/** Whether the runner's cache service is there: buildx reads these two to reach it. */
export function ghaAvailable(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env['ACTIONS_RESULTS_URL'] && env['ACTIONS_RUNTIME_TOKEN'])
}

/** The cache this run uses: `auto` is `gha` when the runner's cache service is there, else none. */
export function resolveBuildCache(
  input: BuildCacheInput,
  ref: string,
  env: NodeJS.ProcessEnv
): BuildCache {
  if (input === 'registry' || input === 'local') return { kind: input, ref }
  const ignored = ref
    ? `input 'build-cache-ref' is only used with 'build-cache: registry' or 'local'; it is ignored with '${input}'`
    : undefined
  if (input === 'gha' && !ghaAvailable(env)) {
    return {
      kind: 'none',
      warning: [
        "build-cache: gha needs the runner's cache service (ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN are not set): building without a layer cache",
        ignored
      ]
        .filter(Boolean)
        .join('; ')
    }
  }
  const kind = input === 'auto' ? (ghaAvailable(env) ? 'gha' : 'none') : input
  return ignored ? { kind, warning: ignored } : { kind }
}

/** One token per image for scopes, tags and folder names: `org/app` → `org-app`. */
export function cacheScope(imageName: string): string {
  return imageName.replace(/[^A-Za-z0-9_.-]+/g, '-')
}

/**
 * `--cache-from` and `--cache-to` for one image. Every image has its own scope; `mode=max`
 * keeps the layers of every stage, not just the final one. `ignore-error=true` makes a cache
 * that cannot be written a failed export step in the output (reported as a warning), not a
 * failed build. A cache that cannot be read is always only a cache miss for BuildKit.
 */
export function cacheArgs(cache: BuildCache, imageName: string): string[] {
  const scope = cacheScope(imageName)
  let from: string
  let to: string
  switch (cache.kind) {
    case 'none':
      return []
    case 'gha':
      from = `type=gha,scope=${scope}`
      to = `type=gha,scope=${scope},mode=max`
      break
    case 'registry':
      from = `type=registry,ref=${cache.ref}:${scope}`
      to = `type=registry,ref=${cache.ref}:${scope},mode=max`
      break
    case 'local': {
      const dir = join(cache.ref as string, scope)
      from = `type=local,src=${dir}`
      to = `type=local,dest=${dir},mode=max`
      break
    }
  }
  return ['--cache-from', from, '--cache-to', `${to},ignore-error=true`]
}

/** Where one image's local cache lives (to tell a first run from a cache that cannot be read). */
export function localCacheDir(cache: BuildCache, imageName: string): string | undefined {
  return cache.kind === 'local' && cache.ref ? join(cache.ref, cacheScope(imageName)) : undefined
}
