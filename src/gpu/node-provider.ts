// Node only, imported for its effect: installs Dawn (src/gpu/node-webgpu.ts, the `webgpu` package) as the WebGPU that
// createGpuContext uses in Node. The Node entry (src/index.ts), the CLI, the tests and the benchmarks import it; the
// browser entry does not, so a browser bundle never contains Dawn or a node: module.
import { setNodeGpuProvider } from './context.ts';
import { requestNodeAdapter } from './node-webgpu.ts';

setNodeGpuProvider(requestNodeAdapter);
