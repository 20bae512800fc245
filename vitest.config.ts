import { defineConfig } from 'vitest/config';
import SkippedServersReporter from './test/support/skippedReporter.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: [new SkippedServersReporter()],
  },
});
