import { parseJsonOutput, run, type OutputSink } from '../exec.js'
import type { ImageSpec } from '../inputs.js'

export function buildArgs(image: ImageSpec, reference: string): string[] {
  const args = ['build', '--progress=plain', '--tag', reference, '--file', image.dockerfile]
  if (image.target) args.push('--target', image.target)
  if (image.platform) args.push('--platform', image.platform)
  for (const { key, value } of image.buildArgs) args.push('--build-arg', `${key}=${value}`)
  args.push(image.context)
  return args
}

/**
 * The part of BuildKit's plain output that explains a failed build: the failing
 * Dockerfile step with its last lines of output, and the final error.
 */
export function buildFailure(output: string, maxLines = 25): string {
  const lines = output.split(/\r?\n/).map((l) => l.trimEnd())
  const solve = lines.findLastIndex((l) => /^ERROR:? /.test(l) || l.startsWith('ERROR: failed to'))
  const block = lines.findIndex((l, i) => i < (solve < 0 ? lines.length : solve) && l === '------')
  let picked: string[]
  if (block >= 0) {
    picked = lines.slice(block, solve >= 0 ? solve + 1 : undefined)
  } else {
    picked = lines.filter((l) => l.trim() !== '').slice(-maxLines)
  }
  const nonEmpty = picked.filter((l) => l.trim() !== '')
  return nonEmpty.length > maxLines
    ? [...nonEmpty.slice(0, 3), '…', ...nonEmpty.slice(-(maxLines - 4))].join('\n')
    : nonEmpty.join('\n')
}

export interface InspectedImage {
  id: string
  sizeBytes?: number
}

export class Docker {
  constructor(
    readonly path: string,
    private readonly env?: NodeJS.ProcessEnv,
    private readonly sink?: OutputSink
  ) {}

  async build(image: ImageSpec, reference: string, timeoutMs: number): Promise<void> {
    const env = { ...(this.env ?? process.env), DOCKER_BUILDKIT: '1' }
    const result = await run(this.path, buildArgs(image, reference), {
      timeoutMs,
      env,
      sink: this.sink,
      allowFailure: true
    })
    if (result.exitCode !== 0) {
      const detail = buildFailure(`${result.stdout}\n${result.stderr}`)
      throw new Error(
        `docker build of ${reference} failed (exit code ${result.exitCode}):\n${detail}`
      )
    }
  }

  async inspect(reference: string): Promise<InspectedImage> {
    const args = ['image', 'inspect', '--format', '{{json .}}', reference]
    const { stdout } = await run(this.path, args, { timeoutMs: 60_000, env: this.env })
    const doc = parseJsonOutput<{ Id?: string; Size?: number } | null>(
      this.path,
      args,
      stdout.trim().split('\n')[0] as string
    )
    if (!doc?.Id) throw new Error(`docker image inspect ${reference} printed no image ID`)
    return { id: doc.Id, sizeBytes: doc.Size }
  }
}
