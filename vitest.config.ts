import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    globalSetup: ['test/setup/tmp.ts', 'test/setup/node24.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000
  }
})
