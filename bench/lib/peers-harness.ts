// The result file of `npm run bench:peers` (bench/peers.bench.ts): its types, its check and its SUMMARY.md section.
import { formatSi, type EnvironmentRecord } from './records.ts';

export const peersBenchSchema = 'ei-engine/bench-peers';
export const peersBenchSchemaVersion = 1;

/** One engine on one size: the alternating repeats' run seconds (each excluding compile, set-up and the warm-up). */
export interface PeerCase {
  /** 'brian2' or an ei-engine backend. */
  engine: 'brian2' | 'wasm' | 'cpu' | 'webgpu';
  threads: number;
  /** Neurons per population (2n neurons per step). */
  n: number;
  steps: number;
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  runSeconds?: number[];
  /** 2n x steps / median run seconds. */
  neuronStepsPerSecond?: number;
  /** Mean potential of each population after the first timed run: the engines simulate the same network. */
  meanE?: number;
  meanI?: number;
  /** Seconds Brian2 took to generate and compile the C++ (not in the rate). */
  compileSeconds?: number;
  note?: string;
}

/** The binary network's synaptic reads: N x k reads per instance-step. */
export interface SynapticCase {
  engine: 'wasm' | 'cpu';
  threads: number;
  N: number;
  k: number;
  batch: number;
  steps: number;
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  runSeconds?: number[];
  synapticReadsPerSecond?: number;
}

/**
 * What an estimate of this machine's limit for one kernel rests on. throughput (the default): operations per update
 * over the cores' throughput. latency: a chain of dependent operations that no core can overlap (one rate circuit, each
 * step waiting on the last): its cycles per update over one core's clock.
 */
export interface KernelLimit {
  kernel: string;
  unit: 'neuron-steps/s' | 'synaptic reads/s' | 'circuit-steps/s';
  bound?: 'throughput' | 'latency';
  /** Instructions per update (throughput) or cycles of its dependent chain (latency). */
  opsPerUpdate: number;
  /** How opsPerUpdate was counted. */
  basis: string;
  /** cores x clock x issue width (instructions/s), or one core's clock (cycles/s) for a latency bound. */
  machineOpsPerSecond: number;
  limit: number;
  /** The best measured rate of this kernel in this run, and its fraction of the limit. */
  measured?: number;
  fraction?: number;
}

export interface PeersBenchResult {
  schema: typeof peersBenchSchema;
  schemaVersion: number;
  environment: EnvironmentRecord;
  flags: Record<string, unknown>;
  network: { model: 'hybrid'; variant: 'B1'; params: Record<string, number | string>; dt: number; initial: string };
  peer: { name: 'brian2'; version: string | null; python: string; mode: string } | null;
  cases: PeerCase[];
  synaptic: SynapticCase[];
  /** One core's clock behind the limits, and how it was found (absent in files before 2026-12-04's second run: 2.5 GHz assumed). */
  clock?: { hz: number; method: string };
  limits: KernelLimit[];
  /** ei-engine wasm (all threads and one thread) over Brian2 1 thread, per size. */
  ratios: { n: number; wasmOverBrian2: number | null; wasm1OverBrian2: number | null; wasmOverBrian2Threads: number | null }[];
}

export function validatePeersBenchResult(x: unknown): string[] {
  const r = x as Partial<PeersBenchResult>;
  const p: string[] = [];
  if (r.schema !== peersBenchSchema) p.push(`schema is ${String(r.schema)}`);
  if (r.schemaVersion !== peersBenchSchemaVersion) p.push(`schemaVersion ${String(r.schemaVersion)} is not ${peersBenchSchemaVersion}`);
  if (!r.environment?.os) p.push('no environment');
  if (!Array.isArray(r.cases)) p.push('no cases');
  for (const c of r.cases ?? []) {
    if (c.status === 'ok' && !(c.neuronStepsPerSecond! > 0 && c.runSeconds?.length)) p.push(`${c.engine} n=${c.n}: ok without a rate`);
    if (c.status !== 'ok' && !c.reason) p.push(`${c.engine} n=${c.n}: ${c.status} without a reason`);
  }
  if (!Array.isArray(r.synaptic) || !Array.isArray(r.limits) || !Array.isArray(r.ratios)) p.push('no synaptic, limits or ratios');
  return p;
}

function engineLabel(c: { engine: string; threads: number }): string {
  if (c.engine === 'brian2') return `Brian2 C++ standalone, ${c.threads} thread${c.threads > 1 ? 's (OpenMP)' : ''}`;
  if (c.engine === 'webgpu') return 'ei-engine webgpu';
  return `ei-engine ${c.engine}${c.engine === 'wasm' ? `, ${c.threads} thread${c.threads > 1 ? 's' : ''}` : ''}`;
}

const ratio = (x: number | null) => (x === null ? '-' : `${x.toFixed(2)}x`);

/** The SUMMARY.md section of one peers result. */
export function makePeersSection(file: string, r: PeersBenchResult): string {
  const e = r.environment;
  const out = [
    `### ${file}`,
    '',
    `- date ${e.date}, ei-engine ${e.engineVersion}, Node ${e.node}, ${e.os.platform} ${e.os.arch}, CPU ${e.os.cpuModel} x ${e.os.cpuCount}` +
      (e.adapter ? `; WebGPU adapter ${e.adapter.vendor}/${e.adapter.architecture}${e.adapter.isSoftware ? ' (software: not GPU speed)' : ''}` : ''),
    `- network: hybrid ${r.network.variant} (${Object.entries(r.network.params).map(([k, v]) => `${k} ${v}`).join(', ')}), dt ${r.network.dt}, ${r.network.initial}`,
    `- peer: ${r.peer ? `Brian2 ${r.peer.version} (${r.peer.mode}, ${r.peer.python})` : 'not run'}; engines alternate within each repeat; rates exclude compile, set-up and warm-up`,
    '',
    '| n per population | engine | steps | median run | neuron-steps/s | mean u E / I (after run) | note |',
    '| ---: | --- | ---: | ---: | ---: | --- | --- |',
  ];
  for (const c of r.cases) {
    const med = c.runSeconds?.length ? [...c.runSeconds].sort((a, b) => a - b)[c.runSeconds.length >> 1] : undefined;
    const means = c.meanE === undefined ? '-' : `${c.meanE.toFixed(3)} / ${c.meanI!.toFixed(3)}`;
    const note = c.status === 'ok' ? (c.note ?? '') : `**${c.status}**: ${c.reason}`;
    out.push(`| ${formatSi(c.n)} | ${engineLabel(c)} | ${c.steps} | ${med === undefined ? '-' : `${med.toFixed(3)} s`} | ${c.neuronStepsPerSecond === undefined ? '-' : formatSi(c.neuronStepsPerSecond)} | ${means} | ${note} |`);
  }
  out.push('', '| n per population | wasm (all threads) / Brian2 1 thread | wasm 1 thread / Brian2 1 thread | wasm (all threads) / Brian2 all threads |', '| ---: | ---: | ---: | ---: |');
  for (const x of r.ratios) out.push(`| ${formatSi(x.n)} | ${ratio(x.wasmOverBrian2)} | ${ratio(x.wasm1OverBrian2)} | ${ratio(x.wasmOverBrian2Threads)} |`);
  if (r.synaptic.length) {
    out.push('', '| binary network | engine | steps | synaptic reads/s | note |', '| --- | --- | ---: | ---: | --- |');
    for (const s of r.synaptic) {
      out.push(`| N ${s.N}, k ${s.k}, batch ${s.batch} | ${engineLabel(s)} | ${s.steps} | ${s.synapticReadsPerSecond === undefined ? '-' : formatSi(s.synapticReadsPerSecond)} | ${s.status === 'ok' ? '' : `**${s.status}**: ${s.reason}`} |`);
    }
  }
  const limitRow = (l: KernelLimit) =>
    `| ${l.kernel} (${l.unit}) | ${l.opsPerUpdate} (${l.basis}) | ${formatSi(l.machineOpsPerSecond)} | ${formatSi(l.limit)} | ${l.measured === undefined ? '-' : formatSi(l.measured)} | ${l.fraction === undefined ? '-' : `${(100 * l.fraction).toFixed(0)}%`} |`;
  const clockNote = r.clock ? `, the clock ${formatSi(r.clock.hz)}Hz measured by ${r.clock.method}` : '';
  const throughput = r.limits.filter((l) => l.bound !== 'latency');
  const latency = r.limits.filter((l) => l.bound === 'latency');
  if (throughput.length) {
    out.push('', `Estimated limits of this machine (an estimate, not a measurement: wasm instructions per update counted from the kernel, a SIMD instruction over four neurons as a quarter, over cores x clock x 4 instructions per cycle${clockNote}; best measured: wasm on all threads):`, '',
      '| kernel | instructions per update | machine instructions/s | limit | measured | fraction |', '| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const l of throughput) out.push(limitRow(l));
  }
  if (latency.length) {
    out.push('', `Latency limits (an estimate: each update waits on the one before, so only one core's clock counts; cycles of the chain of dependent operations at 3 per f32 add or multiply and 1 per max, their order fixed by bit-identity with the reference${clockNote}; measured: wasm on one thread):`, '',
      '| kernel | cycles per update | clock (cycles/s) | limit | measured | fraction |', '| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const l of latency) out.push(limitRow(l));
  }
  return out.join('\n');
}
