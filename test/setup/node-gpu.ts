// vitest setup file: Node's WebGPU (Dawn) for every test that creates a GPU context from the sources, as the Node
// entry (src/index.ts) and the CLI do. The browser entry does not install it (test/browser-entry.test.ts).
import '../../src/gpu/node-provider.ts';
