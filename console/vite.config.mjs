/**
 * The admin console's build, part of `npm run build`: `console/` into
 * `dist/console/` (shipped with the package), hashed file names, relative
 * addresses (`base: './'`) so that it works under any prefix, and no inline
 * script or style, which the console's CSP refuses.
 */
// @ts-check
import { resolve } from 'node:path';
import optimizeLocales from '@react-aria/optimize-locales-plugin';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  // Vite's own transform (Oxc) compiles TSX with React's automatic runtime: no plugin needed for a build.
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  // The console speaks English: react-aria's own strings (e.g. "Clear search") in the other 30-odd languages are left out.
  plugins: [optimizeLocales.vite({ locales: ['en-US'] })],
  build: {
    target: 'es2022',
    outDir: resolve(import.meta.dirname, '..', 'dist', 'console'),
    emptyOutDir: true,
    // The polyfill would be an inline script.
    modulePreload: { polyfill: false },
    // One script of ~540 kB (~160 kB compressed), cached for good under its hashed name.
    chunkSizeWarningLimit: 700,
  },
});
