import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests spawn ffmpeg and Chromium; two cores, so keep files serial-ish.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
