import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/setup/tmp.ts', 'test/setup/node24.ts'],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 900_000
  }
})
