// A program that is still open for writing when it is started (ETXTBSY): run tries again.
import { chmodSync, closeSync, mkdtempSync, openSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { run } from '../../src/exec.js'

function busyProgram(): { path: string; close: () => void } {
  const path = join(mkdtempSync(join(tmpdir(), 'mp-busy-')), 'tool')
  const fd = openSync(path, 'w', 0o755)
  writeSync(fd, '#!/bin/sh\necho started\n')
  chmodSync(path, 0o755)
  return { path, close: () => closeSync(fd) }
}

describe('a program whose file is still being written', () => {
  it('is started once the file is closed, within a few tries', async () => {
    const tool = busyProgram()
    setTimeout(tool.close, 120)
    const result = await run(tool.path, [], { timeoutMs: 10_000 })
    expect(result.stdout).toBe('started\n')
  })

  it('stays busy: the error says so and names the program', async () => {
    const tool = busyProgram()
    try {
      await expect(run(tool.path, ['--version'], { timeoutMs: 10_000 })).rejects.toThrow(
        /tool --version.*ETXTBSY/s
      )
    } finally {
      tool.close()
    }
  })
})
