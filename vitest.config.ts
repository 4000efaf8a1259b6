import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // builds web/player.js and web/recording-player.js from player/ first
    globalSetup: ['test/support/build-player.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests spawn ffmpeg and Chromium; two cores, so keep files serial-ish.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
