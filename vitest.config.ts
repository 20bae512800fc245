import { defineConfig } from 'vitest/config';
import SkippedServersReporter from './test/support/skippedReporter.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The machine's zone is a default of the importers: tests get the same one on every machine (those about zones set their own).
    env: { TZ: 'UTC' },
    reporters: [new SkippedServersReporter()],
  },
});
