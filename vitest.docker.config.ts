import { defineConfig } from 'vitest/config'

// The real-engine suite (test/docker): the bundled action with the real docker CLI, buildx and
// BuildKit against the test engine of scripts/docker-up.sh. One file at a time: they share it.
export default defineConfig({
  test: {
    include: ['test/docker/**/*.test.ts'],
    globalSetup: ['test/setup/tmp.ts', 'test/setup/node24.ts', 'test/setup/docker.ts'],
    fileParallelism: false,
    testTimeout: 900_000,
    hookTimeout: 3_600_000
  }
})
