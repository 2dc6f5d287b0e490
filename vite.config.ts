import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('./src/web', import.meta.url));

/** The browser app: built into dist/web, which the carechat server serves under a strict CSP. */
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  // Names the service worker's cache after the build: each release is a new worker, whose
  // activation drops the previous release's files.
  define: { __BUILD_ID__: JSON.stringify(Date.now().toString(36)) },
  build: {
    outDir: fileURLToPath(new URL('./dist/web', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // The CSP forbids inline scripts and styles, so nothing may be inlined as a data: URL module.
    assetsInlineLimit: 0,
    rollupOptions: {
      // The service worker is its own entry at a fixed address (/sw.js): a worker's scope is
      // its path, and a hashed name would register a new worker at every release.
      input: { index: `${root}/index.html`, sw: `${root}/sw.ts` },
      output: {
        entryFileNames: (chunk) => (chunk.name === 'sw' ? 'sw.js' : 'assets/[name]-[hash].js'),
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:3000', ws: true },
    },
  },
});
