import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real-process and netns tests bind fixed loopback ports and namespaces; keep files serial
    // within their group by giving each file its own ports instead of relying on isolation.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
