// Vite config for the browser demo (demo/ pages importing the engine from ../src): `npm run demo` serves it, `npm run build:demo` builds dist/demo.
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const repoRoot = fileURLToPath(new URL('.', import.meta.url));

const nodeWebgpuStubId = '\0ei-node-webgpu-browser-stub';

/**
 * src/gpu/context.ts imports ./node-webgpu.ts (node:fs + Dawn) only when it runs in Node. The browser
 * never takes that branch, so the bundle gets a stub instead of Vite's "externalized node:fs" shim and warnings.
 */
function browserStubs(): Plugin {
  return {
    name: 'ei-browser-stubs',
    enforce: 'pre',
    resolveId(source, importer) {
      if (/(^|\/)node-webgpu(\.ts)?$/.test(source) && importer && /[\\/]src[\\/]gpu[\\/]/.test(importer)) return nodeWebgpuStubId;
      return null;
    },
    load(id) {
      if (id !== nodeWebgpuStubId) return null;
      return [
        'export async function requestNodeAdapter() {',
        "  throw new Error('ei-engine: the Node WebGPU loader (Dawn) is not available in the browser; use navigator.gpu');",
        '}',
        'export function findSwiftShaderIcd() { return null; }',
        'export function findHardwareIcds() { return []; }',
      ].join('\n');
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('./demo', import.meta.url)),
  base: './',
  // Dawn's `webgpu` package and its native addon must never be pre-bundled for the browser.
  optimizeDeps: { exclude: ['webgpu'] },
  plugins: [browserStubs()],
  server: {
    host: '127.0.0.1',
    port: 5173,
    // The demo imports the engine from ../src, outside the Vite root.
    fs: { allow: [repoRoot] },
  },
  preview: { host: '127.0.0.1' },
  build: {
    outDir: fileURLToPath(new URL('./dist/demo', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
});
