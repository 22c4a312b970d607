// The GPU context: one WebGPU device (browser or Node), its adapter facts, error capture and owned resources.
// Browser-safe: Node's WebGPU (Dawn, src/gpu/node-webgpu.ts) is not imported here but installed with
// setNodeGpuProvider by src/gpu/node-provider.ts, which the Node entry (src/index.ts), the CLI, the tests and the
// benchmarks import; the browser entry (src/browser.ts) never reaches Dawn or a node: module.
import {
  AdapterLimitError,
  AdapterUnavailableError,
  ConfigError,
  DeviceLostError,
  DisposedError,
  GpuOutOfMemoryError,
  GpuValidationError,
  WebGpuUnavailableError,
} from '../errors.ts';
import type { AdapterChoice, NodeAdapterResult } from './node-webgpu.ts';

/** How Node gets a WebGPU adapter: Dawn's requestNodeAdapter (src/gpu/node-webgpu.ts). */
export type NodeGpuProvider = (choice: AdapterChoice, powerPreference?: GPUPowerPreference) => Promise<NodeAdapterResult>;

let nodeGpuProvider: NodeGpuProvider | null = null;

/** Installs (or, with null, removes) the WebGPU that createGpuContext uses in Node; src/gpu/node-provider.ts installs Dawn. */
export function setNodeGpuProvider(provider: NodeGpuProvider | null): void {
  nodeGpuProvider = provider;
}

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isSoftware: boolean;
  runtime: 'browser' | 'node';
  features: string[];
  limits: Record<string, number>;
  subgroupMinSize?: number;
  subgroupMaxSize?: number;
}

export interface GpuContextOptions {
  /** auto (default): hardware if available, else SwiftShader with a notice. */
  adapter?: AdapterChoice;
  powerPreference?: GPUPowerPreference;
  /** Request the device without the subgroups feature (tests the fallback path). */
  disableSubgroups?: boolean;
  /** Where one-line notices go (default: console.error). */
  notify?: (message: string) => void;
}

/** Limits we ask at the adapter's maximum: buffer sizes and compute capacity decide how large a run fits. */
const requestedLimits = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxUniformBufferBindingSize',
  'maxBindGroups',
] as const;

/** Minimums the engine's kernels rely on. */
const requiredMinimums: Partial<Record<(typeof requestedLimits)[number], number>> = {
  maxStorageBuffersPerShaderStage: 8,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupStorageSize: 16384,
};

function summarize(adapter: GPUAdapter, device: GPUDevice, runtime: 'browser' | 'node'): AdapterSummary {
  const info = adapter.info;
  const limits: Record<string, number> = {};
  for (const k of requestedLimits) limits[k] = Number(device.limits[k]);
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  const summary: AdapterSummary = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isSoftware: /swiftshader|llvmpipe|lavapipe/i.test(text) || Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter),
    runtime,
    features: [...device.features].sort(),
    limits,
  };
  const sg = info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  if (sg.subgroupMinSize) summary.subgroupMinSize = sg.subgroupMinSize;
  if (sg.subgroupMaxSize) summary.subgroupMaxSize = sg.subgroupMaxSize;
  return summary;
}

/** Owns a GPUDevice; every GPU object created through it is tracked and destroyed by dispose(). */
export class GpuContext {
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  readonly info: AdapterSummary;
  /** The notice shown when we fell back to a software adapter (null on hardware). */
  readonly notice: string | null;
  /** Held so Dawn's instance outlives the device (V8 collecting it aborts the process); Node also caches it process-wide. */
  private instance: GPU | null;
  private disposed = false;
  private lostInfo: GPUDeviceLostInfo | null = null;
  private readonly uncaptured: string[] = [];
  private readonly owned = new Set<{ destroy(): void }>();

  constructor(instance: GPU, adapter: GPUAdapter, device: GPUDevice, runtime: 'browser' | 'node', notice: string | null) {
    this.instance = instance;
    this.adapter = adapter;
    this.device = device;
    this.notice = notice;
    this.info = summarize(adapter, device, runtime);
    device.lost.then((info) => {
      if (!this.disposed) this.lostInfo = info;
    });
    device.addEventListener('uncapturederror', (ev) => {
      this.uncaptured.push((ev as GPUUncapturedErrorEvent).error.message);
    });
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  get hasSubgroups(): boolean {
    return this.device.features.has('subgroups');
  }

  /** Throws if the context can no longer be used. */
  assertUsable(what = 'GpuContext'): void {
    if (this.disposed) throw new DisposedError(what);
    if (this.lostInfo) throw new DeviceLostError(this.lostInfo.reason, this.lostInfo.message);
  }

  /** Registers a GPU object to be destroyed with the context. */
  own<T extends { destroy(): void }>(resource: T): T {
    this.owned.add(resource);
    return resource;
  }

  /** Destroys one owned resource now (idempotent). */
  release(resource: { destroy(): void }): void {
    if (this.owned.delete(resource)) resource.destroy();
  }

  /** Creates a labelled buffer, turning an allocation failure into GpuOutOfMemoryError. */
  async createBuffer(desc: GPUBufferDescriptor & { label: string }): Promise<GPUBuffer> {
    this.assertUsable();
    const max = this.device.limits.maxBufferSize;
    if (desc.size > max) throw new AdapterLimitError('maxBufferSize', desc.size, max);
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    const buffer = this.device.createBuffer(desc);
    const validation = await this.device.popErrorScope();
    const oom = await this.device.popErrorScope();
    if (oom) {
      buffer.destroy();
      throw new GpuOutOfMemoryError(desc.label, desc.size, oom.message);
    }
    if (validation) {
      buffer.destroy();
      throw new GpuValidationError(`${desc.label}: ${validation.message}`);
    }
    return this.own(buffer);
  }

  /** Throws the first uncaptured validation error since the last call, if any (used after submits and in tests). */
  async checkErrors(): Promise<void> {
    this.assertUsable();
    await this.device.queue.onSubmittedWorkDone();
    this.assertUsable();
    if (this.uncaptured.length > 0) {
      const msgs = this.uncaptured.splice(0);
      throw new GpuValidationError(msgs.join('\n'));
    }
  }

  /** Destroys everything this context owns and the device; safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const r of this.owned) r.destroy();
    this.owned.clear();
    this.device.destroy();
    this.instance = null;
  }
}

const adapterChoices: readonly AdapterChoice[] = ['auto', 'hardware', 'software'];

/** EI_ADAPTER, checked (unset or empty: undefined): a typo there would otherwise silently pick the default adapter. */
export function adapterChoiceFromEnv(env: Record<string, string | undefined>): AdapterChoice | undefined {
  const raw = env.EI_ADAPTER;
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = raw.trim().toLowerCase();
  if (!(adapterChoices as readonly string[]).includes(v)) {
    throw new ConfigError(`environment variable EI_ADAPTER='${raw}' is not an adapter choice (valid: ${adapterChoices.join(', ')})`, `set EI_ADAPTER to ${adapterChoices.join(', ')}, or unset it (\`unset EI_ADAPTER\`)`);
  }
  return v as AdapterChoice;
}

/** Gets a WebGPU device: navigator.gpu in a browser, Dawn in Node. */
export async function createGpuContext(options: GpuContextOptions = {}): Promise<GpuContext> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  const isNode = typeof process !== 'undefined' && Boolean(process.versions?.node) && !nav?.gpu;
  // stderr in Node; a warning (not an error) in a browser console.
  const notify = options.notify ?? ((m: string) => (isNode ? console.error(m) : console.warn(m)));
  let instance: GPU;
  let adapter: GPUAdapter;
  let notice: string | null = null;
  if (isNode) {
    // An explicit hardware/software wins; 'auto' (also the CLI's default) defers to EI_ADAPTER. Checked even when unused.
    const envChoice = adapterChoiceFromEnv(process.env);
    if (!nodeGpuProvider) {
      throw new WebGpuUnavailableError(
        'no WebGPU implementation for Node is installed (the browser entry of ei-engine does not load Dawn)',
        "in Node, import from 'ei-engine', whose Node entry installs Dawn (the `webgpu` package), not from 'ei-engine/browser' (from the sources: import src/gpu/node-provider.ts)",
      );
    }
    const choice = options.adapter && options.adapter !== 'auto' ? options.adapter : envChoice ?? 'auto';
    const got = await nodeGpuProvider(choice, options.powerPreference);
    ({ instance, adapter, notice } = got);
  } else {
    if (!nav?.gpu) {
      throw new WebGpuUnavailableError(
        'this browser has no WebGPU (navigator.gpu is missing)',
        'use a recent Chrome/Edge over https or http://127.0.0.1 (WebGPU needs a secure context), or the Node CLI',
      );
    }
    instance = nav.gpu;
    const a = await instance.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
    if (!a) throw new AdapterUnavailableError('the browser returned no WebGPU adapter', 'enable WebGPU (chrome://gpu) or update the GPU driver');
    adapter = a;
    if (/swiftshader/i.test(`${a.info.architecture} ${a.info.description}`)) {
      notice = `ei: using software adapter ${a.info.vendor}/${a.info.architecture} (SwiftShader) — correct but slow`;
    }
  }

  const requiredLimits: Record<string, number> = {};
  for (const k of requestedLimits) {
    const have = Number(adapter.limits[k]);
    const need = requiredMinimums[k];
    if (need !== undefined && have < need) throw new AdapterLimitError(k, need, have, 'this adapter is too small for ei-engine; try another GPU');
    requiredLimits[k] = have;
  }
  const requiredFeatures: GPUFeatureName[] = [];
  if (!options.disableSubgroups && adapter.features.has('subgroups')) requiredFeatures.push('subgroups' as GPUFeatureName);
  if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
  const device = await adapter.requestDevice({ label: 'ei-engine', requiredLimits, requiredFeatures });
  if (notice) notify(notice);
  return new GpuContext(instance, adapter, device, isNode ? 'node' : 'browser', notice);
}
