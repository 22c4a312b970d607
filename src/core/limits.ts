// Work and memory limits of a run. Each model counts what a request needs (estimate*Run, next to its resolve);
// this file compares that with the machine (memory, V8's heap and string limits, the adapter's buffer limits), prints
// the estimated time of a long run, refuses what cannot finish, and turns --T / --dt / --steps into a step count.
import { ParameterError } from '../errors.ts';
import type { GpuContext } from '../gpu/context.ts';

/**
 * Where an allocation lives. host: typed arrays and ArrayBuffers (outside V8's heap, bounded by the machine's memory);
 * heap: JS arrays, objects and strings (bounded by V8's heap limit); device: GPU buffers (on a software adapter
 * these are host memory too).
 */
export type MemoryPlace = 'host' | 'heap' | 'device';

export interface MemoryItem {
  what: string;
  bytes: number;
  place: MemoryPlace;
  /** The options that make it large, e.g. ['--n', '--batch'] (named in the error). */
  options: readonly string[];
  /** Elements of the largest single typed array in it (V8 holds at most 2^32). */
  elements?: number;
  /** Device items: bound as one storage buffer (maxStorageBufferBindingSize); every device item is one buffer (maxBufferSize). */
  binding?: boolean;
}

/** A file the run writes: it is built as one JS string, so it must fit V8's longest string. */
export interface OutputFile {
  file: string;
  rows: number;
  bytes: number;
  options: readonly string[];
}

/** What runs the work: the CPU reference, WebGPU on a software adapter (SwiftShader) or on a hardware GPU. */
export type BackendKind = 'cpu' | 'webgpu-software' | 'webgpu-hardware';
/** The kinds a run's time is estimated for: a model without a wasm estimate is assumed as fast there as on the CPU reference. */
export type TimeKind = BackendKind | 'wasm';

export interface RunEstimate {
  /** e.g. 'poisson' or 'sweep poisson'. */
  model: string;
  /** The request in words, e.g. '--n 10 x --batch 1 x 200 steps'. */
  size: string;
  memory: MemoryItem[];
  outputs: OutputFile[];
  work: {
    /** Amount of work, e.g. 2e9 neuron-steps. */
    units: number;
    unit: string;
    /** Estimated seconds on each kind of backend (rough constants measured on a 2-core machine, bench/results). */
    seconds: Record<BackendKind, number> & { wasm?: number };
    /**
     * The part of each of `seconds` that is neither stepping nor backend-bound: analysis on the host after the run
     * (binary's annealed chain). Speeds per neuron-step leave it out.
     */
    analysisSeconds?: number;
    /** The options that make it long (named in the error). */
    options: readonly string[];
  };
}

/** Every run is at most this many steps: the step counter of the GPU kernels and of the random streams (Philox counter word) is a u32, and the CPU references mirror them. */
export const maxSteps = 0xffffffff;

/** A run estimated above noticeSeconds prints its estimate first; above refuseSeconds it is refused. Tests may lower them. */
export const runTimeLimits = { noticeSeconds: 30, refuseSeconds: 365 * 86400 };

/** V8 (Node 20): the most elements of one typed array, and the longest string (a CSV or JSON file is written as one). */
export const maxTypedArrayLength = 2 ** 32;
export const maxStringLength = 2 ** 29 - 24;

/** Heap bytes of a JS array of `cells` numbers kept in an outer array (measured on Node 20: 56 + 8 per cell). */
export function rowHeapBytes(cells: number): number {
  return 56 + 8 * cells;
}

export interface MachineLimits {
  totalMemory: number;
  freeMemory: number;
  heapLimit: number;
  heapUsed: number;
  device: { name: string; isSoftware: boolean; maxBufferSize: number; maxStorageBufferBindingSize: number } | null;
}

/** Memory and heap of the host: Node's os and v8 modules, or what a browser tells (Infinity where it tells nothing). */
function hostFacts(): { totalMemory: number; freeMemory: number; heapLimit: number; heapUsed: number } {
  // getBuiltinModule (Node >= 20.16) keeps this file importable by the browser demo, which has no node: modules.
  const builtin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  const os = builtin?.('node:os') as { totalmem(): number; freemem(): number } | undefined;
  const v8 = builtin?.('node:v8') as { getHeapStatistics(): { heap_size_limit: number; used_heap_size: number } } | undefined;
  if (os && v8) {
    const heap = v8.getHeapStatistics();
    return { totalMemory: os.totalmem(), freeMemory: os.freemem(), heapLimit: heap.heap_size_limit, heapUsed: heap.used_heap_size };
  }
  const mem = (globalThis as { performance?: { memory?: { jsHeapSizeLimit: number; usedJSHeapSize: number } } }).performance?.memory;
  const gb = (globalThis as { navigator?: { deviceMemory?: number } }).navigator?.deviceMemory;
  const total = gb ? gb * 2 ** 30 : Infinity;
  return { totalMemory: total, freeMemory: total, heapLimit: mem?.jsHeapSizeLimit ?? Infinity, heapUsed: mem?.usedJSHeapSize ?? 0 };
}

/** The machine now: memory, V8's heap and, with a context, the adapter's buffer limits. */
export function machineLimits(ctx?: GpuContext | null): MachineLimits {
  return {
    ...hostFacts(),
    device: ctx
      ? {
          name: `${ctx.info.vendor || '?'}/${ctx.info.architecture || '?'}`,
          isSoftware: ctx.info.isSoftware,
          maxBufferSize: Number(ctx.device.limits.maxBufferSize),
          maxStorageBufferBindingSize: Number(ctx.device.limits.maxStorageBufferBindingSize),
        }
      : null,
  };
}

/** 1.5 GiB, 20.0 MiB, 512 B. */
export function formatBytes(b: number): string {
  if (!Number.isFinite(b)) return `${b} B`;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let i = 0;
  let x = b;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(x)} B` : x >= 1e4 ? `${x.toExponential(2)} ${units[i]}` : `${x.toFixed(1)} ${units[i]}`;
}

/** 1234 -> '1234', 1.5e9 -> '1.5e9'. */
export function formatCount(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e6) return String(x);
  if (Math.abs(x) < 1e6 && Math.abs(x) >= 1e-3) return String(Number(x.toPrecision(3)));
  const [m, e] = x.toExponential(2).split('e');
  return `${Number(m)}e${Number(e)}`;
}

function plural(x: number, unit: string): string {
  return `${x} ${unit}${x === 1 ? '' : 's'}`;
}

/** 45 s, 12 min, 3.4 h, 5.1 days, 2.3e4 years. */
export function formatDuration(s: number): string {
  if (s < 90) return `${Number(s.toPrecision(2))} s`;
  if (s < 5400) return `${Number((s / 60).toPrecision(2))} min`;
  if (s < 2 * 86400) return `${Number((s / 3600).toPrecision(2))} h`;
  if (s < 365 * 86400) return plural(Number((s / 86400).toPrecision(2)), 'day');
  const y = s / (365 * 86400);
  return y < 1e4 ? plural(Number(y.toPrecision(2)), 'year') : `${formatCount(y)} years`;
}

/** A short decimal for messages (7 significant digits, no float noise). */
export function formatValue(x: number): string {
  return String(Number(x.toPrecision(7)));
}

/** A value to type back in (15 significant digits: the quotient it makes is whole again). */
function formatExact(x: number): string {
  return String(Number(x.toPrecision(15)));
}

const backendWords: Record<TimeKind, string> = {
  cpu: 'the CPU reference',
  wasm: 'the wasm backend',
  'webgpu-software': 'WebGPU on a software adapter',
  'webgpu-hardware': 'WebGPU on a hardware GPU (an assumed rate: bench/results has no hardware measurement)',
};

function largest(items: readonly MemoryItem[]): MemoryItem {
  return items.reduce((a, b) => (b.bytes > a.bytes ? b : a));
}

function describeItems(items: readonly MemoryItem[]): string {
  return [...items].sort((a, b) => b.bytes - a.bytes).filter((x) => x.bytes > 0).slice(0, 3).map((x) => `${x.what} ${formatBytes(x.bytes)}`).join(', ');
}

function optionsOf(items: readonly { options: readonly string[] }[]): string[] {
  return [...new Set(items.flatMap((x) => x.options))];
}

function refuse(e: RunEstimate, options: readonly string[], problem: string, fix: string): never {
  const field = options.length ? options.join('/') : e.model;
  throw new ParameterError(field, `${e.model} ${e.size}: ${problem}`, fix);
}

/** Options that shrink a request when raised (a coarser sampling or step). */
const raiseToShrink = new Set(['--trace-every', '--record-every', '--dt']);

function reduceHint(options: readonly string[], factor: number): string {
  const by = factor > 1.05 ? ` about ${formatCount(Number(factor.toPrecision(2)))}x` : '';
  const lower = options.filter((x) => !raiseToShrink.has(x) && x !== '--shard');
  const raise = options.filter((x) => raiseToShrink.has(x));
  const parts = [lower.length ? `reduce ${lower.join(' or ')}` : '', raise.length ? `raise ${raise.join(' or ')}` : '', options.includes('--shard') ? 'split it into more shards (--shard i/N)' : ''].filter(Boolean);
  return parts.length ? `${parts.join(', or ')}${by}` : `reduce the request${by}`;
}

/**
 * Refuses (ParameterError naming the options and both sizes) an estimate that does not fit: V8's heap, one typed
 * array or string, the machine's free memory, or (with a device in `m`) the adapter's buffer limits. Device items
 * count against host memory on a software adapter, and are ignored for the CPU backend.
 */
export function checkMemory(e: RunEstimate, backend: 'cpu' | 'webgpu' | 'wasm' | 'auto', m: MachineLimits = machineLimits()): void {
  const host = e.memory.filter((x) => x.place === 'host');
  const heap = e.memory.filter((x) => x.place === 'heap');
  const device = backend === 'cpu' || backend === 'wasm' ? [] : e.memory.filter((x) => x.place === 'device');
  for (const x of host) {
    if ((x.elements ?? 0) > maxTypedArrayLength) {
      refuse(e, x.options, `${x.what} is one array of ${formatCount(x.elements!)} elements, more than the 2^32 a JavaScript typed array holds`, reduceHint(x.options, x.elements! / maxTypedArrayLength));
    }
  }
  for (const o of e.outputs) {
    if (o.bytes > maxStringLength) {
      refuse(e, o.options, `${o.file} would be about ${formatBytes(o.bytes)} (${formatCount(o.rows)} rows), more than the ${formatBytes(maxStringLength)} one JavaScript string holds`, reduceHint(o.options, o.bytes / maxStringLength));
    }
  }
  // A file is built as row arrays, then line strings, then one string: about twice its size plus a pointer per row.
  const outputHeap = e.outputs.reduce((s, o) => Math.max(s, 2 * o.bytes + 32 * o.rows), 0);
  const heapNeed = heap.reduce((s, x) => s + x.bytes, 0) + outputHeap;
  // Headroom: V8 needs space to collect, and the process already holds what is in use now.
  const heapFree = 0.85 * (m.heapLimit - m.heapUsed);
  if (heapNeed > heapFree) {
    const opts = optionsOf(heap.length ? [largest(heap), ...e.outputs] : e.outputs);
    refuse(e, opts, `needs about ${formatBytes(heapNeed)} of JavaScript heap (${describeItems([...heap, { what: 'output text', bytes: outputHeap, place: 'heap', options: [] }])}), but V8's heap limit is ${formatBytes(m.heapLimit)} (${formatBytes(m.heapUsed)} in use)`, reduceHint(opts, heapNeed / Math.max(1, heapFree)));
  }
  if (m.device) {
    for (const x of device) {
      if (x.binding && x.bytes > m.device.maxStorageBufferBindingSize) {
        refuse(e, x.options, `${x.what} is ${formatBytes(x.bytes)} in one storage binding, but the adapter (${m.device.name}) allows ${formatBytes(m.device.maxStorageBufferBindingSize)} (maxStorageBufferBindingSize)`, `${reduceHint(x.options, x.bytes / m.device.maxStorageBufferBindingSize)}, or use --backend cpu`);
      }
      if (x.bytes > m.device.maxBufferSize) {
        refuse(e, x.options, `${x.what} is one ${formatBytes(x.bytes)} buffer, but the adapter (${m.device.name}) allows ${formatBytes(m.device.maxBufferSize)} (maxBufferSize)`, `${reduceHint(x.options, x.bytes / m.device.maxBufferSize)}, or use --backend cpu`);
      }
    }
  }
  const onHost = [...host, ...(m.device?.isSoftware ? device : [])];
  const hostNeed = onHost.reduce((s, x) => s + x.bytes, 0) + heapNeed;
  if (hostNeed > m.freeMemory) {
    const opts = optionsOf(onHost.length ? [largest(onHost)] : heap);
    const where = m.device?.isSoftware && device.length ? ' (the software adapter keeps its buffers in host memory)' : '';
    refuse(e, opts, `needs about ${formatBytes(hostNeed)} of memory${where} (${describeItems([...onHost, ...heap])}), but ${formatBytes(m.freeMemory)} of ${formatBytes(m.totalMemory)} is free`, reduceHint(opts, hostNeed / Math.max(1, m.freeMemory)));
  }
}

/** The backend kind of a selection (what `withResultSession` chose). */
export function backendKindOf(sel: { backend: 'cpu' | 'webgpu' | 'wasm'; ctx?: GpuContext | null }): BackendKind {
  // wasm runs on the host: without an estimate of its own it counts as the CPU reference.
  if (sel.backend === 'cpu' || sel.backend === 'wasm') return 'cpu';
  return sel.ctx?.info.isSoftware === false ? 'webgpu-hardware' : 'webgpu-software';
}

/** The time-estimate kind of a selection: backendKindOf, with wasm as its own kind (see secondsOn). */
export function timeKindOf(sel: { backend: 'cpu' | 'webgpu' | 'wasm'; ctx?: GpuContext | null }): TimeKind {
  return sel.backend === 'wasm' ? 'wasm' : backendKindOf(sel);
}

/** The kinds a requested backend may end up on (before the adapter is known). */
export function candidateKinds(backend: 'auto' | 'cpu' | 'webgpu' | 'wasm', adapter: string = 'auto'): TimeKind[] {
  if (backend === 'cpu' || backend === 'wasm') return [backend];
  const gpu: BackendKind[] = adapter === 'software' ? ['webgpu-software'] : adapter === 'hardware' ? ['webgpu-hardware'] : ['webgpu-software', 'webgpu-hardware'];
  return backend === 'auto' ? ['cpu', ...gpu] : gpu;
}

/** Estimated seconds on a kind (a model without its own wasm estimate is assumed as fast there as on the CPU reference). */
export function secondsOn(e: RunEstimate, kind: TimeKind): number {
  return kind === 'wasm' ? (e.work.seconds.wasm ?? e.work.seconds.cpu) : e.work.seconds[kind];
}

function rateText(e: RunEstimate, kind: TimeKind): string {
  const s = secondsOn(e, kind);
  return `${formatCount(e.work.units)} ${e.work.unit} at ~${formatCount(Number((e.work.units / Math.max(s, 1e-12)).toPrecision(2)))} ${e.work.unit}/s on ${backendWords[kind]}`;
}

/**
 * Time: above runTimeLimits.refuseSeconds on every kind in `kinds` the run is refused with the estimate; with one kind
 * (the backend is known) a run above noticeSeconds prints one line first: the estimate, the rate assumed and how to stop.
 */
export function checkRunTime(e: RunEstimate, kinds: readonly TimeKind[], notify?: (m: string) => void): void {
  const fastest = kinds.reduce((a, b) => (secondsOn(e, b) < secondsOn(e, a) ? b : a));
  const s = secondsOn(e, fastest);
  if (s > runTimeLimits.refuseSeconds) {
    refuse(e, e.work.options, `would take about ${formatDuration(s)} (${rateText(e, fastest)}), far beyond the ${formatDuration(runTimeLimits.refuseSeconds)} ei accepts`, `${reduceHint(e.work.options, s / runTimeLimits.refuseSeconds)}; split the work into shorter runs or sweep shards`);
  }
  if (kinds.length === 1 && s > runTimeLimits.noticeSeconds && notify) {
    notify(`ei: ${e.model} ${e.size}: estimated ${formatDuration(s)} (${rateText(e, fastest)}, a rough rate from bench/results); press Ctrl-C to stop`);
  }
}

/**
 * Memory and time of a run against the machine. Before a backend is chosen pass the requested one (host memory, and
 * a refusal only when even the fastest possible backend is too slow); once chosen pass the selection (device limits,
 * the exact time estimate and its notice).
 */
export function checkRunLimits(
  e: RunEstimate,
  target: { backend: 'auto' | 'cpu' | 'webgpu' | 'wasm'; adapter?: string; ctx?: GpuContext | null },
  notify?: (m: string) => void,
): void {
  const chosen = target.backend !== 'auto' && (target.backend === 'cpu' || target.backend === 'wasm' || target.ctx);
  checkMemory(e, target.backend, machineLimits(target.ctx));
  checkRunTime(e, chosen ? [timeKindOf({ backend: target.backend as 'cpu' | 'webgpu' | 'wasm', ctx: target.ctx })] : candidateKinds(target.backend, target.adapter), notify);
}

export interface StepPlan {
  steps: number;
  dt: number;
  /** steps x dt. */
  T: number;
  /** Set when --T was given without --dt and the default dt was lowered so that T is a whole number of steps. */
  dtAdjusted: { from: number; to: number; note: string } | null;
}

/** |T/dt - round(T/dt)| below this counts as a whole number (decimal inputs like 0.3 / 1e-4 are off by ulps). */
function wholeTolerance(r: number): number {
  return Math.min(1e-2, 1e-9 * Math.max(1, r));
}

/**
 * The steps of a run from --steps, --T and --dt. Both --T and --dt given: T / dt must be a whole number (else an error
 * naming both, with values that work). --T with the default dt: the default is lowered to T / ceil(T / dt) so T is
 * exact and the step is never coarser than the default (dtAdjusted says so; the caller prints it and records it).
 * Step counts above maxSteps, or below minSteps for a given --T / --steps, are errors.
 */
export function resolveSteps(o: {
  model: string;
  steps?: number;
  T?: number;
  dt?: number;
  /** The model's dt when --dt is not given. */
  dtDefault: number;
  /** The model's duration when neither --steps nor --T is given (rounded to whole steps silently: it is approximate). */
  defaultT: number;
  minSteps?: number;
  /** Unit of T and dt in messages ('s' or 'tau'). */
  unit?: string;
}): StepPlan {
  const unit = o.unit ?? 's';
  const u = (x: number) => `${formatValue(x)}${unit ? ` ${unit}` : ''}`;
  const minSteps = o.minSteps ?? 1;
  const dt = o.dt ?? o.dtDefault;
  const dtName = o.dt !== undefined ? `--dt ${formatValue(dt)}` : `the default dt ${u(dt)}`;
  if (!(Number.isFinite(dt) && dt > 0)) {
    if (o.dt !== undefined) throw new ParameterError('--dt', `${o.dt} is not a positive time step`, `give --dt > 0${unit ? ` (in ${unit})` : ''}`);
    throw new ParameterError(`${o.model} dt`, `the default dt is ${dt}`, 'give --dt explicitly');
  }
  if (o.steps !== undefined && o.T !== undefined) throw new ParameterError('--steps', `both --steps ${o.steps} and --T ${o.T} given`, 'give one of them: --T is steps x dt');
  const tooMany = (flag: string, what: string, steps: number, fix: string): never => {
    throw new ParameterError(flag, `${what} is ${formatCount(steps)} steps, more than the ${maxSteps} (2^32 - 1) a run can take: the GPU kernels and the random streams count steps in a u32 (the CPU reference mirrors them)`, fix);
  };
  if (o.T !== undefined) {
    if (!(Number.isFinite(o.T) && o.T > 0)) throw new ParameterError('--T', `${o.T} is not a positive duration`, `give --T > 0${unit ? ` (in ${unit})` : ''}`);
    const r = o.T / dt;
    if (r > maxSteps + 0.5) tooMany('--T', `--T ${formatValue(o.T)} with ${dtName}`, r, `use --T <= ${formatValue(maxSteps * dt)} or a larger --dt`);
    const k = Math.round(r);
    const whole = Math.abs(r - k) <= wholeTolerance(r) && k >= 1;
    let steps = k;
    let dtUsed = dt;
    let dtAdjusted: StepPlan['dtAdjusted'] = null;
    if (!whole) {
      const hi = Math.max(1, Math.ceil(r));
      if (o.dt !== undefined) {
        const tOptions = [...new Set([Math.floor(r), hi])].filter((s) => s >= Math.max(1, minSteps)).map((s) => `--T ${formatExact(s * dt)} (${plural(s, 'step')})`);
        throw new ParameterError(
          '--T',
          `--T ${formatValue(o.T)} is ${formatValue(r)} steps of --dt ${formatValue(dt)}, not a whole number`,
          `use ${tOptions.join(' or ')}, or --dt ${formatExact(o.T / hi)} (${plural(hi, 'step')} of --T ${formatValue(o.T)})`,
        );
      }
      steps = Math.ceil(r - wholeTolerance(r));
      dtUsed = o.T / steps;
      dtAdjusted = {
        from: dt,
        to: dtUsed,
        note: `--T ${formatValue(o.T)} is ${formatValue(r)} steps of the default dt ${u(dt)}; using dt = ${u(dtUsed)} (${steps} steps) so the run lasts exactly --T (give --dt to choose the step)`,
      };
    }
    if (steps < minSteps) {
      throw new ParameterError('--T', `--T ${formatValue(o.T)} is ${steps} step${steps === 1 ? '' : 's'} of ${dtName}, but ${o.model} needs at least ${minSteps}`, `use --T >= ${formatValue(minSteps * dtUsed)} or a smaller --dt`);
    }
    return { steps, dt: dtUsed, T: steps * dtUsed, dtAdjusted };
  }
  if (o.steps !== undefined) {
    if (!(Number.isInteger(o.steps) && o.steps >= 1)) throw new ParameterError('--steps', `${o.steps} is not a positive integer`, 'give --steps >= 1');
    if (o.steps > maxSteps) tooMany('--steps', `--steps ${formatCount(o.steps)}`, o.steps, `use --steps <= ${maxSteps}`);
    if (o.steps < minSteps) throw new ParameterError('--steps', `${o.steps} is fewer than the ${minSteps} steps ${o.model} needs`, `use --steps >= ${minSteps}`);
    return { steps: o.steps, dt, T: o.steps * dt, dtAdjusted: null };
  }
  const r = o.defaultT / dt;
  if (r > maxSteps + 0.5) tooMany(o.dt !== undefined ? '--dt' : '--T', `the default duration ${u(o.defaultT)} with ${dtName}`, r, 'give --T, or a larger --dt');
  const steps = Math.max(minSteps, Math.round(r));
  return { steps, dt, T: steps * dt, dtAdjusted: null };
}
