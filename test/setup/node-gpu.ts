// vitest setup file: Node's WebGPU (Dawn) and the wasm backend's worker_threads for every test that runs the sources,
// as the Node entry (src/index.ts) and the CLI do. The browser entry does not install it (test/browser-entry.test.ts).
import '../../src/gpu/node-provider.ts';
import '../../src/wasm/node-threads.ts';
