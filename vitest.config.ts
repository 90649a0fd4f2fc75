import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// SWC instead of esbuild: NestJS dependency injection needs emitDecoratorMetadata,
// which esbuild does not implement.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // After 'default', so that its banner comes after the summary (test/support/missing-tools-reporter.ts).
    reporters: ['default', './test/support/missing-tools-reporter.ts'],
  },
});
