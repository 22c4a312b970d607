// Shader registry: compiles a shaders/ file (with its includes) into a module and a pipeline with explicit layouts.
import { ShaderCompileError } from '../errors.ts';
import type { GpuContext } from './context.ts';
import { expandIncludes, mapLine, type ExpandedShader } from './shader-includes.ts';
import { shaderBindings, shaderEntryPoints, shaderSources } from './shaders.generated.ts';
import type { BindingInfo } from './layout-types.ts';

/** Pure: the expanded WGSL of a shaders/ file. */
export function makeShaderCode(path: string): ExpandedShader {
  return expandIncludes(path, shaderSources);
}

export function shaderBindingTable(path: string): BindingInfo[] {
  const b = shaderBindings[path];
  if (!b) throw new Error(`shaders/${path} has no compute entry point bindings (is it generated? run \`npm run gen\`)`);
  return b;
}

const moduleCache = new WeakMap<GPUDevice, Map<string, GPUShaderModule>>();

/** Compiles a shader file; a compile error is raised as ShaderCompileError naming the original file and line. */
export async function createShaderModule(ctx: GpuContext, path: string, prelude = ''): Promise<GPUShaderModule> {
  ctx.assertUsable();
  let cache = moduleCache.get(ctx.device);
  if (!cache) moduleCache.set(ctx.device, (cache = new Map()));
  const key = `${prelude}\u0000${path}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const expanded = makeShaderCode(path);
  const preludeLines = prelude ? prelude.split('\n').length : 0;
  const code = prelude ? `${prelude}\n${expanded.code}` : expanded.code;
  ctx.device.pushErrorScope('validation');
  const module = ctx.device.createShaderModule({ label: `shaders/${path}`, code });
  const info = await module.getCompilationInfo();
  const scopeError = await ctx.device.popErrorScope();
  const err = info.messages.find((m) => m.type === 'error');
  if (err) {
    const where = err.lineNum > preludeLines ? mapLine(expanded, err.lineNum - preludeLines) : { file: `${path} (prelude)`, line: err.lineNum };
    throw new ShaderCompileError(where.file, where.line, err.linePos, err.message);
  }
  if (scopeError) throw new ShaderCompileError(path, 0, 0, scopeError.message);
  cache.set(key, module);
  return module;
}

/** Explicit bind-group layouts for one file's bindings (reflected), one per group 0..max. */
export function createBindGroupLayouts(ctx: GpuContext, path: string, dynamicOffsets: readonly string[] = []): GPUBindGroupLayout[] {
  const table = shaderBindingTable(path);
  const maxGroup = table.reduce((m, b) => Math.max(m, b.group), -1);
  const layouts: GPUBindGroupLayout[] = [];
  for (let g = 0; g <= maxGroup; g++) {
    const entries: GPUBindGroupLayoutEntry[] = table
      .filter((b) => b.group === g)
      .map((b) => ({
        binding: b.binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: b.kind as GPUBufferBindingType, hasDynamicOffset: dynamicOffsets.includes(b.name) },
      }));
    layouts.push(ctx.device.createBindGroupLayout({ label: `shaders/${path}.group${g}`, entries }));
  }
  return layouts;
}

export interface ComputeKernel {
  path: string;
  pipelines: Map<string, GPUComputePipeline>;
  layouts: GPUBindGroupLayout[];
  bindings: BindingInfo[];
  /** Creates a bind group for `group`, with buffers given by binding *name* (as in the WGSL). */
  bind(group: number, buffers: Record<string, GPUBuffer | GPUBufferBinding>, label: string): GPUBindGroup;
}

/** Compiles a file and builds one pipeline per compute entry point sharing explicit layouts; `dynamicOffsets` names bindings bound with a dynamic offset. */
export async function createComputeKernel(
  ctx: GpuContext,
  path: string,
  constants: Record<string, number> = {},
  options: { prelude?: string; dynamicOffsets?: readonly string[] } = {},
): Promise<ComputeKernel> {
  const { prelude = '', dynamicOffsets = [] } = options;
  const module = await createShaderModule(ctx, path, prelude);
  const layouts = createBindGroupLayouts(ctx, path, dynamicOffsets);
  const pipelineLayout = ctx.device.createPipelineLayout({ label: `shaders/${path}.layout`, bindGroupLayouts: layouts });
  const pipelines = new Map<string, GPUComputePipeline>();
  const entries = shaderEntryPoints[path] ?? [];
  ctx.device.pushErrorScope('validation');
  for (const e of entries) {
    pipelines.set(
      e.name,
      await ctx.device.createComputePipelineAsync({
        label: `shaders/${path}:${e.name}`,
        layout: pipelineLayout,
        compute: { module, entryPoint: e.name, constants },
      }),
    );
  }
  const scopeError = await ctx.device.popErrorScope();
  if (scopeError) throw new ShaderCompileError(path, 0, 0, scopeError.message);
  const bindings = shaderBindingTable(path);
  return {
    path,
    pipelines,
    layouts,
    bindings,
    bind(group, buffers, label) {
      const wanted = bindings.filter((b) => b.group === group);
      for (const k of Object.keys(buffers)) {
        if (!wanted.some((b) => b.name === k)) throw new Error(`shaders/${path} group ${group} has no binding named ${k}`);
      }
      const entries = wanted.map((b) => {
        const r = buffers[b.name];
        if (!r) throw new Error(`shaders/${path} group ${group}: binding ${b.name} not given`);
        const resource: GPUBufferBinding = 'buffer' in r ? r : { buffer: r };
        // A dynamic-offset binding sees one slot at a time, not the whole buffer.
        if (dynamicOffsets.includes(b.name) && resource.size === undefined) {
          throw new Error(`shaders/${path}: binding ${b.name} has a dynamic offset; give {buffer, size}`);
        }
        return { binding: b.binding, resource };
      });
      return ctx.device.createBindGroup({ label, layout: layouts[group], entries });
    },
  };
}

const kernelCache = new WeakMap<GPUDevice, Map<string, Promise<ComputeKernel>>>();

/**
 * createComputeKernel, cached per device by path, constants and options: concurrent callers share one compile; a
 * failed compile is dropped from the cache so a later call tries again.
 */
export function getCachedKernel(
  ctx: GpuContext,
  path: string,
  constants: Record<string, number> = {},
  options: { prelude?: string; dynamicOffsets?: readonly string[] } = {},
): Promise<ComputeKernel> {
  let perDevice = kernelCache.get(ctx.device);
  if (!perDevice) kernelCache.set(ctx.device, (perDevice = new Map()));
  const key = `${path}\u0000${JSON.stringify(constants)}\u0000${JSON.stringify(options)}`;
  let k = perDevice.get(key);
  if (!k) {
    k = createComputeKernel(ctx, path, constants, options);
    k.catch(() => perDevice.delete(key));
    perDevice.set(key, k);
  }
  return k;
}

/** Reads a buffer back (copy into a mappable buffer). Only for chunked readback, never per step. */
export async function readBuffer(ctx: GpuContext, src: GPUBuffer, size = src.size, offset = 0): Promise<ArrayBuffer> {
  ctx.assertUsable();
  const staging = ctx.device.createBuffer({ label: `readback:${src.label}`, size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const enc = ctx.device.createCommandEncoder({ label: `readback:${src.label}` });
    enc.copyBufferToBuffer(src, offset, staging, 0, size);
    ctx.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const out = staging.getMappedRange().slice(0);
    staging.unmap();
    return out;
  } finally {
    staging.destroy();
  }
}

/** Splits a workgroup count over x and y so no dimension exceeds the device limit. */
export function makeDispatchSize(workgroups: number, maxPerDim: number): [number, number] {
  if (workgroups <= maxPerDim) return [Math.max(1, workgroups), 1];
  const y = Math.ceil(workgroups / maxPerDim);
  return [Math.ceil(workgroups / y), y];
}
