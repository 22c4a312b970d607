/// <reference types="@webgpu/types" preserve="true" />
/**
 * ei-engine in a browser (and any runtime with `navigator.gpu`): the same API as the Node entry, without Dawn and
 * without any `node:` module, so a bundler (Vite, esbuild, webpack) can package it for a page. Bundlers pick this file
 * through the `browser` condition of `import ... from 'ei-engine'`; `'ei-engine/browser'` names it explicitly.
 * The wasm backend's worker threads are Web Workers, available where the page is cross-origin isolated (served with
 * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`); elsewhere it runs on
 * one thread and says why.
 *
 * ```ts
 * import { createEngine } from 'ei-engine';
 * const engine = await createEngine(); // WebGPU through navigator.gpu, else the CPU reference
 * const sim = await engine.simulate('hybrid', { n: 1000, T: 1, seed: 1, onProgress: (done, total) => console.log(done, total) });
 * console.log((await sim.outputs()).summary);
 * engine.dispose();
 * ```
 *
 * A simulation embedded in a page: `mount(element, { model: 'hybrid', n: 2000 })`, or `defineSimulationElement()`
 * once, then `<ei-simulation model="hybrid" n="2000">` (importing this entry defines no element).
 *
 * @packageDocumentation
 */
// wasm threads as Web Workers on a cross-origin isolated page (after the Node entry's worker_threads, when it is the Node entry).
import './wasm/browser-threads.ts';

export { createEngine, modelIds } from './engine/engine.ts';
export type { Engine, EngineOptions, ModelSummary, SimulateOptions, Simulation } from './engine/engine.ts';
export { engineVersion } from './engine/version.ts';
export { mount } from './embed/mount.ts';
export type { MountedSimulation } from './embed/mount.ts';
export { defineSimulationElement, simulationElementAttributes } from './embed/element.ts';
export type { SimulationElement } from './embed/element.ts';
export { embedBackends, embedStateEvent } from './embed/view.ts';
export type { EmbedBackend, EmbedOptions, EmbedState, EmbedStatus } from './embed/view.ts';
export { formatValue, makeSummaryRows, svgImageSource } from './embed/outputs.ts';
export type { SummaryRow } from './embed/outputs.ts';
export type {
  AnyModel,
  Backend,
  BenchDefinition,
  ModelDefinition,
  OutputFile,
  Reproduction,
  ReproductionContext,
  ReproductionOutcome,
  ResolvedRun,
  RunControl,
  RunInfo,
  RunOptionName,
  RunOptionSupport,
  RunOutputs,
  RunRequest,
  RunTarget,
  Runner,
  SweepCounts,
  SweepDefinition,
} from './core/contract.ts';
export { runOptionNames } from './core/contract.ts';
export type { AppliesWhen, ChoiceParam, NumberParam, ParamSpec, ParamValues } from './core/params.ts';
export type { BackendKind, MemoryItem, MemoryPlace, OutputFile as EstimatedOutputFile, RunEstimate } from './core/limits.ts';
export type { GridAxis, GridValue, Shard, SweepConfig, SweepPoint, SweepSchema } from './core/sweep-grid.ts';
export type { ReportCell, ReportSection, ReportTable } from './report/html.ts';
export type { ResultDir } from './io/result-dir.ts';
export type { AdapterSummary, GpuContext } from './gpu/context.ts';
export type { AdapterChoice } from './gpu/node-webgpu.ts';
export {
  AdapterLimitError,
  AdapterUnavailableError,
  ConfigError,
  DeviceLostError,
  DisposedError,
  EiError,
  GpuOutOfMemoryError,
  GpuValidationError,
  ParameterError,
  ShaderCompileError,
  WasmThreadError,
  WebGpuUnavailableError,
} from './errors.ts';
