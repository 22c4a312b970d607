/// <reference types="@webgpu/types" preserve="true" />
/**
 * ei-engine: WebGPU simulations of balanced excitatory-inhibitory networks, with CPU reference backends.
 *
 * This is the Node entry: it installs Dawn (the `webgpu` package) as Node's WebGPU, then exports the same API as the
 * browser entry. Every model runs the same way in Node and in a browser:
 *
 * ```ts
 * import { createEngine } from 'ei-engine';
 * const engine = await createEngine(); // WebGPU when an adapter answers, else the CPU reference (with a notice)
 * const sim = await engine.simulate('hybrid', { n: 1000, T: 1, seed: 1, params: { variant: 'B1' }, onProgress: (done, total) => console.log(done, total) });
 * const { summary } = await sim.outputs(); // summary.json's fields; sim.result() is the model's own result
 * engine.dispose();
 * ```
 *
 * `engine.models` (or the `ei models` command) lists the models, their parameters and run options.
 *
 * @packageDocumentation
 */
import './gpu/node-provider.ts';
import './wasm/node-threads.ts';

export * from './browser.ts';
