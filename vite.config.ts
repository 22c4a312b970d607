// Vite config for the browser demo (demo/ pages importing the engine from ../src): `npm run demo` serves it (/, /models.html, /embed.html and the live pages /poisson.html ... /rate.html), `npm run build:demo` builds dist/demo.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const repoRoot = fileURLToPath(new URL('.', import.meta.url));

/**
 * Cross-origin isolation: with these two headers a page gets SharedArrayBuffer, which the wasm backend's worker threads
 * share. The dev server and `vite preview` send them; demo/public/_headers carries them into the build for static hosts.
 */
export const crossOriginIsolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;

export default defineConfig({
  root: fileURLToPath(new URL('./demo', import.meta.url)),
  base: './',
  // Dawn's `webgpu` package and its native addon must never be pre-bundled for the browser (the engine's browser path
  // never imports it: src/gpu/context.ts gets Dawn only through setNodeGpuProvider, see test/browser-entry.test.ts).
  optimizeDeps: { exclude: ['webgpu'] },
  server: {
    host: '127.0.0.1',
    port: 5173,
    // The demo imports the engine from ../src, outside the Vite root.
    fs: { allow: [repoRoot] },
    headers: crossOriginIsolationHeaders,
  },
  preview: { host: '127.0.0.1', headers: crossOriginIsolationHeaders },
  build: {
    outDir: fileURLToPath(new URL('./dist/demo', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // The poisson page (index.html, linking every page), the models page, which finds every model through the registry,
    // the embedding example, and one live page per model.
    rolldownOptions: {
      input: {
        index: fileURLToPath(new URL('./demo/index.html', import.meta.url)),
        models: fileURLToPath(new URL('./demo/models.html', import.meta.url)),
        embed: fileURLToPath(new URL('./demo/embed.html', import.meta.url)),
        bench: fileURLToPath(new URL('./demo/bench.html', import.meta.url)),
        // The live model pages (demo/live/).
        ...Object.fromEntries(['poisson', 'hybrid', 'binary', 'minimax', 'rate'].map((id) => [id, fileURLToPath(new URL(`./demo/${id}.html`, import.meta.url))])),
      },
    },
  },
});
