/** The account page's build: two pages (the app, the sign-in window's landing), no inline script or style. */
// @ts-check
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    // The polyfill would be an inline script, which the page's CSP refuses.
    modulePreload: { polyfill: false },
    rollupOptions: { input: { main: resolve(import.meta.dirname, 'index.html'), popup: resolve(import.meta.dirname, 'popup.html') } },
  },
});
