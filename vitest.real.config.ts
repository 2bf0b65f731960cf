import { defineConfig } from 'vitest/config'

// test/real: the bundled action against a real kubelet node (MP_REAL_NODES=1 of
// scripts/cluster-up.sh), with images built by the test Docker engine (scripts/docker-up.sh).
// Needs root, containerd, runc and the CNI plugins; see the README.
export default defineConfig({
  test: {
    include: ['test/real/**/*.test.ts'],
    globalSetup: ['test/setup/tmp.ts', 'test/setup/node24.ts', 'test/setup/docker.ts'],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 3_600_000
  }
})
