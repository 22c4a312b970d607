// Turns the result JSONs in bench/results/ into bench/results/SUMMARY.md: one markdown table per adapter (`npx tsx bench/summarize.ts [dir]`).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adapterSlug, formatSeconds, formatSi, runtimeKind } from './lib/records.ts';
import { validateBenchResult, type BenchResult, type CaseResult } from './lib/harness.ts';
import { makePeersSection, peersBenchSchema, validatePeersBenchResult, type PeersBenchResult } from './lib/peers-harness.ts';
import { makeModelsSection, makeRuntimeComparison, modelsAdapterKey, modelsBenchSchema, modelsSectionIntro, validateModelsBenchResult, type ModelsBenchResult } from './lib/models-harness.ts';

export interface LoadedResult {
  file: string;
  result: BenchResult;
}

/** A rate-circuit batch result (bench/rate.bench.ts): a different, flat schema. */
export interface RateBenchFile {
  file: string;
  result: { environment: BenchResult['environment']; cases: { backend: string; instances: number; steps: number; wallSeconds: number; circuitStepsPerSecond: number }[] };
}

/** A binary-network result (bench/binary.bench.ts). */
export interface BinaryBenchFile {
  file: string;
  result: { environment: BenchResult['environment']; cases: { backend: string; threads?: number; N: number; k: number; batch: number; status: string; reason?: string; steps?: number; neuronStepsPerSecond?: number; neuronUpdatesPerSecond?: number; synapticReadsPerSecond?: number }[] };
}

/** A minimax spiking-network result (bench/minimax.bench.ts); `ratios` maps a ratio's key to its value, null when not measured. */
export interface MinimaxBenchFile {
  file: string;
  result: {
    environment: BenchResult['environment'];
    flags: { quick?: boolean; steps?: number; gridSteps?: number; maxSeconds?: number };
    kernel: { defaultWorkgroupSize: Record<string, number>; defaultStepsPerDispatch: number } | null;
    cases: { case: string; backend: string; batch: number; neurons: number; status: string; reason?: string; steps?: number; stepsReason?: string; wallSeconds?: number; stepsPerSecond?: number; instanceStepsPerSecond?: number; marginalStepsPerSecond?: number }[];
    ratios: Record<string, number | null>;
    /** GPU vs CPU rasters of the tau sweep: first differing step per instance (-1: none); absent in older files. */
    conformance?: { steps: number; firstDifferingStep: number[] } | null;
  };
}

/** A result of the generic harness over every registered model (bench/models.bench.ts, models-*.json). */
export interface ModelsBenchFile {
  file: string;
  result: ModelsBenchResult;
}

/** Reads every *.json in `dir`; malformed files are reported, not summarised. */
export function loadResults(dir: string): { loaded: LoadedResult[]; rejected: string[]; rate: RateBenchFile[]; binary: BinaryBenchFile[]; minimax: MinimaxBenchFile[]; models: ModelsBenchFile[]; peers: { file: string; result: PeersBenchResult }[] } {
  const loaded: LoadedResult[] = [];
  const rejected: string[] = [];
  const rate: RateBenchFile[] = [];
  const binary: BinaryBenchFile[] = [];
  const minimax: MinimaxBenchFile[] = [];
  const models: ModelsBenchFile[] = [];
  const peers: { file: string; result: PeersBenchResult }[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    } catch (e) {
      rejected.push(`${file}: not JSON (${(e as Error).message})`);
      continue;
    }
    if ((parsed as { schema?: string }).schema === 'ei-engine/bench-rate') {
      rate.push({ file, result: parsed as RateBenchFile['result'] });
      continue;
    }
    if ((parsed as { schema?: string }).schema === 'ei-engine/bench-binary') {
      binary.push({ file, result: parsed as BinaryBenchFile['result'] });
      continue;
    }
    if ((parsed as { schema?: string }).schema === 'ei-engine/bench-minimax') {
      minimax.push({ file, result: parsed as MinimaxBenchFile['result'] });
      continue;
    }
    if ((parsed as { schema?: string }).schema === peersBenchSchema) {
      const problems = validatePeersBenchResult(parsed);
      if (problems.length) rejected.push(`${file}: ${problems.slice(0, 3).join('; ')}`);
      else peers.push({ file, result: parsed as PeersBenchResult });
      continue;
    }
    if ((parsed as { schema?: string }).schema === modelsBenchSchema) {
      const problems = validateModelsBenchResult(parsed);
      if (problems.length) rejected.push(`${file}: ${problems.slice(0, 3).join('; ')}`);
      else models.push({ file, result: parsed as ModelsBenchResult });
      continue;
    }
    const problems = validateBenchResult(parsed);
    if (problems.length) rejected.push(`${file}: ${problems.slice(0, 3).join('; ')}`);
    else loaded.push({ file, result: parsed as BenchResult });
  }
  return { loaded, rejected, rate, binary, minimax, models, peers };
}

/** Per-chunk overhead from the WebGPU chunking cases: least squares of wall/steps = perStep + perChunk x chunks/steps. */
export function makeChunkOverheadFit(cases: readonly CaseResult[]): { perChunkSeconds: number; perStepSeconds: number; points: number } | null {
  const pts = cases
    .filter((c) => c.group === 'chunking' && c.backend === 'webgpu' && c.status === 'ok')
    .map((c) => ({ x: c.chunking!.chunksPerRun / c.steps!, y: c.wall!.median / c.steps! }));
  if (pts.length < 2) return null;
  const mx = pts.reduce((s, p) => s + p.x, 0) / pts.length;
  const my = pts.reduce((s, p) => s + p.y, 0) / pts.length;
  const sxx = pts.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  if (sxx === 0) return null;
  const slope = pts.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
  return { perChunkSeconds: slope, perStepSeconds: my - slope * mx, points: pts.length };
}

function adapterKey(r: BenchResult): string {
  const a = r.environment.adapter;
  const model = `${r.model?.id ?? 'poisson'} model, `;
  if (!a) return `${model}CPU only (${r.environment.os.cpuModel})`;
  return `${model}${a.vendor || '?'} / ${a.architecture || '?'}${a.description ? ` (${a.description})` : ''}${a.isSoftware ? ' — software adapter' : ''}`;
}

const si = formatSi;
const seconds = formatSeconds;

function n(x: number): string {
  return x >= 1000 && Math.log10(x) % 1 === 0 ? `1e${Math.log10(x)}` : String(x);
}

/** The markdown table of one run's cases. */
export function makeRunTable(r: BenchResult): string {
  const speedup = new Map(r.speedups.map((s) => [`${s.group}|${s.n}|${s.batch}`, s.gpuOverCpu]));
  const rows = [
    '| case | N | batch | backend | steps x repeats | steps/chunk (chunks) | median wall | neuron-steps/s | eff. bandwidth (model) | kernel time | GPU/CPU | note |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const c of r.cases) {
    const caseName = c.group === 'chunking' ? `chunking (chunkSteps ${c.chunkSteps})` : c.group;
    const head = `| ${caseName} | ${n(c.n)} | ${c.batch} | ${c.backend} |`;
    if (c.status !== 'ok') {
      rows.push(`${head} - | - | - | - | - | - | - | **${c.status}**: ${c.reason!.replace(/\|/g, '\\|')} |`);
      continue;
    }
    const sp = c.backend === 'webgpu' && c.group !== 'chunking' ? speedup.get(`${c.group}|${c.n}|${c.batch}`) : undefined;
    const kt = c.kernelTime?.seconds ? seconds(c.kernelTime.seconds) : '-';
    const note = c.stepsReason ?? '';
    rows.push(
      `${head} ${c.steps} x ${c.repeats} | ${c.chunking!.maxChunkSteps} (${c.chunking!.chunksPerRun}) | ${seconds(c.wall!.median)} | ${si(c.neuronStepsPerSecond)} | ${si(c.effectiveBytesPerSecond, 'B/s')} | ${kt} | ${sp === undefined ? '-' : `${sp.toFixed(2)}x`} | ${note} |`,
    );
  }
  return rows.join('\n');
}

function makeRunSection(l: LoadedResult): string {
  const r = l.result;
  const e = r.environment;
  const a = e.adapter;
  const lines = [
    `### ${l.file}`,
    '',
    `- date ${e.date}, ei-engine ${e.engineVersion}, Node ${e.node}, ${e.os.platform} ${e.os.release} ${e.os.arch}, CPU ${e.os.cpuModel} x ${e.os.cpuCount}`,
  ];
  if (a) lines.push(`- adapter: vendor ${a.vendor}, architecture ${a.architecture}, device ${a.device || '-'}, description ${a.description || '-'}, isSoftware ${a.isSoftware}, neurons per thread ${a.neuronsPerThread}, maxStorageBufferBindingSize ${a.limits.maxStorageBufferBindingSize}`);
  const fl = r.flags as { steps?: number; repeats?: number; maxSeconds?: number; quick?: boolean };
  lines.push(`- flags: ${fl.quick ? '--quick, ' : ''}steps ${fl.steps}, repeats ${fl.repeats}, --max-seconds ${fl.maxSeconds}; ${r.model.id} defaults (dt ${r.model.dt ?? 'per case'}, seed ${r.model.seed}), recorders: ${r.model.recorders}`);
  const kts = r.cases.filter((c) => c.kernelTime).map((c) => c.kernelTime!);
  if (kts.length) {
    const timed = kts.filter((k) => k.seconds !== null).length;
    lines.push(`- kernel time: ${timed} of ${kts.length} WebGPU cases timed with timestamp queries (sum over one extra run of each chunk's compute pass)` +
      (timed < kts.length ? `; otherwise: ${kts.find((k) => k.seconds === null)!.note}` : ''));
  }
  lines.push('', makeRunTable(r));
  const fit = makeChunkOverheadFit(r.cases);
  if (fit) {
    lines.push('', `Per-chunk overhead (WebGPU, least squares over ${fit.points} chunk sizes at N = ${n(r.cases.find((c) => c.group === 'chunking')!.n)}): ` +
      `${seconds(fit.perChunkSeconds)} per chunk (submit + map + readback + host bookkeeping) on top of ${seconds(fit.perStepSeconds)} per step.`);
  }
  return lines.join('\n');
}

/** What each ratio key of bench/minimax.bench.ts compares (end-to-end steps/s, same steps on both sides). */
const minimaxRatioLabels: Record<string, string> = {
  tauSweepGpuOverCpu: 'GPU / CPU, tau sweep',
  gridGpuOverCpu: 'GPU / CPU, grid 63x63',
  inKernelLoopOverDispatchPerStep: 'in-kernel loop / one dispatch per step (GPU)',
  sharedOverStorageWeights: 'weights in workgroup memory / in storage (GPU)',
  registersOverStorageState: 'state in registers / in storage (GPU)',
};

/** One minimax result file: adapter, kernel defaults, the cases table and the ratios. */
export function makeMinimaxSection(m: MinimaxBenchFile): string {
  const r = m.result;
  const e = r.environment;
  const a = e.adapter;
  const fl = r.flags;
  const lines = [`### ${m.file}`, ''];
  lines.push(`- date ${e.date}, ei-engine ${e.engineVersion}, Node ${e.node}, CPU ${e.os.cpuModel} x ${e.os.cpuCount}`);
  lines.push(a
    ? `- adapter: ${a.vendor} / ${a.architecture}${a.description ? ` (${a.description})` : ''}${a.isSoftware ? ' — **software adapter**: the WebGPU numbers measure the path running on the CPU, not GPU speed' : ''}`
    : '- adapter: none (CPU only)');
  lines.push(`- flags: ${fl.quick ? '--quick, ' : ''}tau-sweep steps ${fl.steps ?? '-'}, grid steps ${fl.gridSteps ?? '-'}, --max-seconds ${fl.maxSeconds ?? '-'}`);
  if (r.kernel) {
    const wg = Object.entries(r.kernel.defaultWorkgroupSize).map(([k, v]) => `${v} (${k})`).join(', ');
    lines.push(`- kernel defaults: workgroup size ${wg}, ${r.kernel.defaultStepsPerDispatch} steps per dispatch`);
  }
  lines.push(
    '',
    '| case | backend | batch | neurons | steps | wall | steps/s | instance-steps/s | note |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  for (const c of r.cases) {
    const note = c.status === 'ok' ? (c.stepsReason ?? '') : `**${c.status}**: ${c.reason ?? ''}`;
    lines.push(`| ${c.case} | ${c.backend} | ${c.batch} | ${c.neurons} | ${c.steps ?? '-'} | ${seconds(c.wallSeconds)} | ${si(c.stepsPerSecond)} | ${si(c.instanceStepsPerSecond)} | ${note.replace(/\|/g, '\\|')} |`);
  }
  const ratios = Object.entries(r.ratios ?? {});
  if (ratios.length) {
    lines.push('', 'Ratios of end-to-end steps/s, same steps on both sides (above 1 favours the first):', '', '| ratio | value |', '| --- | ---: |');
    for (const [k, v] of ratios) lines.push(`| ${minimaxRatioLabels[k] ?? k} | ${typeof v === 'number' ? `${v.toFixed(2)}x` : '- (steps differ or a case is missing)'} |`);
  }
  const conf = r.conformance;
  if (conf) {
    const none = conf.firstDifferingStep.every((t) => t < 0);
    lines.push('', `GPU vs CPU spike trains, tau sweep, ${conf.steps} steps: ${none ? 'identical in every instance' : `first differing step per instance ${conf.firstDifferingStep.map((t) => (t < 0 ? 'none' : String(t))).join(', ')}`}.`);
  }
  return lines.join('\n');
}

/** The whole SUMMARY.md: newest run of each adapter in full, older runs listed by file. */
export function makeSummaryMarkdown(
  results: readonly LoadedResult[],
  rejected: readonly string[] = [],
  rate: readonly RateBenchFile[] = [],
  binary: readonly BinaryBenchFile[] = [],
  minimax: readonly MinimaxBenchFile[] = [],
  models: readonly ModelsBenchFile[] = [],
  peers: readonly { file: string; result: PeersBenchResult }[] = [],
): string {
  const byAdapter = new Map<string, LoadedResult[]>();
  for (const l of results) {
    const k = adapterKey(l.result);
    byAdapter.set(k, [...(byAdapter.get(k) ?? []), l]);
  }
  const out = [
    '# ei-engine benchmark summary',
    '',
    'Generated by `npx tsx bench/summarize.ts` from the JSON files in this folder; do not edit by hand. See `bench/README.md` for what is measured.',
    '',
    'Models: poisson (N neurons) and hybrid (N neurons per population, so 2N neuron updates per instance-step). neuron-steps/s = neurons x batch x steps / median wall time of `run()` (warm-up excluded). Effective bandwidth comes from a byte model ' +
      '(8 B state read + write per neuron-step plus recording traffic), not from a hardware counter. Wall time includes submit, ' +
      'readback and host overhead per chunk; kernel time (where shown) is the sum of GPU timestamp intervals of the compute passes.',
  ];
  if (results.some((l) => l.result.environment.adapter?.isSoftware)) {
    out.push('', '> **SwiftShader / software adapters:** those numbers measure correctness plumbing (the WebGPU path running end to end on the CPU), ' +
      'not GPU speed. A GPU/CPU ratio below 1 there says nothing about a real GPU. Measure speed on hardware (see `bench/README.md`).');
  }
  for (const [adapter, runs] of [...byAdapter.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    runs.sort((x, y) => x.result.environment.date.localeCompare(y.result.environment.date));
    const latest = runs[runs.length - 1];
    out.push('', `## ${adapter}`, '', makeRunSection(latest));
    if (runs.length > 1) out.push('', `Earlier runs on this adapter: ${runs.slice(0, -1).map((l) => `\`${l.file}\``).join(', ')}.`);
  }
  if (rate.length) {
    out.push('', '## rate model: Wilson-Cowan phase diagram (bench/rate.bench.ts)', '', '| file | adapter | backend | circuits | RK4 steps | wall | circuit-steps/s |', '| --- | --- | --- | ---: | ---: | ---: | ---: |');
    for (const r of rate) {
      const a = r.result.environment.adapter;
      for (const c of r.result.cases) {
        out.push(`| ${r.file} | ${c.backend === 'webgpu' && a ? `${a.vendor}/${a.architecture}${a.isSoftware ? ' (software)' : ''}` : r.result.environment.os.cpuModel} | ${c.backend} | ${c.instances} | ${c.steps} | ${c.wallSeconds.toFixed(2)} s | ${(c.circuitStepsPerSecond / 1e6).toFixed(2)} M |`);
      }
    }
  }
  if (binary.length) {
    out.push('', '## binary model: neuron-steps and synaptic reads (bench/binary.bench.ts)', '', '| file | backend | N | k | batch | steps | neuron-steps/s | synaptic reads/s | note |', '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const r of binary) {
      for (const c of r.result.cases) {
        const fmt = (x?: number) => (x === undefined ? '-' : `${(x / 1e6).toFixed(3)} M`);
        out.push(`| ${r.file} | ${c.backend}${c.threads ? ` (${c.threads} thread${c.threads === 1 ? '' : 's'})` : ''} | ${c.N} | ${c.k} | ${c.batch} | ${c.steps ?? '-'} | ${fmt(c.neuronStepsPerSecond ?? c.neuronUpdatesPerSecond)} | ${fmt(c.synapticReadsPerSecond)} | ${c.status === 'ok' ? '' : `skipped: ${c.reason}`} |`);
      }
    }
  }
  if (minimax.length) {
    out.push('', '## minimax model: spiking E-I networks (bench/minimax.bench.ts)', '',
      'Steps/s = simulated time steps per second of wall time for the whole call (host packing, upload, steps, readbacks; warm-up excluded); ' +
      'instance-steps/s = batch x steps/s. A probe run may lower the steps to fit --max-seconds (see the note).');
    for (const m of minimax) out.push('', makeMinimaxSection(m));
  }
  if (models.length) {
    out.push('', '## All registered models (bench/models.bench.ts, ei bench --browser)', '', modelsSectionIntro);
    const byAdapter = new Map<string, ModelsBenchFile[]>();
    for (const m of models) byAdapter.set(modelsAdapterKey(m.result), [...(byAdapter.get(modelsAdapterKey(m.result)) ?? []), m]);
    const newest = new Map<string, { node?: ModelsBenchFile; browser?: ModelsBenchFile }>();
    for (const [adapter, runs] of [...byAdapter.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      runs.sort((x, y) => x.result.environment.date.localeCompare(y.result.environment.date) || x.file.localeCompare(y.file));
      const latest = runs[runs.length - 1];
      // Newest first, a run is shown whole while it has a model and backend that no newer run on this adapter has:
      // a run of one model then does not hide the last run of all of them.
      const covered = new Set<string>();
      const shown = new Set<ModelsBenchFile>();
      for (const run of [...runs].reverse()) {
        const keys = run.result.cases.filter((c) => c.status === 'ok').map((c) => `${c.model} on ${c.backend}`);
        const fresh = [...new Set(keys.filter((k) => !covered.has(k)))];
        if (fresh.length === 0) continue;
        shown.add(run);
        for (const k of fresh) covered.add(k);
      }
      out.push('', `### ${adapter}`);
      for (const run of [...runs].reverse().filter((r) => shown.has(r))) {
        out.push('', makeModelsSection(run.file, run.result));
      }
      const earlier = runs.filter((r) => !shown.has(r));
      if (earlier.length) out.push('', `Earlier runs on this adapter (every model and backend they ran has a newer run above): ${earlier.map((l) => `\`${l.file}\``).join(', ')}.`);
      const slug = adapterSlug(latest.result.environment);
      const side = latest.result.environment.browser ? 'browser' : 'node';
      const had = newest.get(slug)?.[side];
      if (!had || had.result.environment.date < latest.result.environment.date) newest.set(slug, { ...newest.get(slug), [side]: latest });
    }
    for (const [slug, { node, browser }] of [...newest.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      if (node && browser) out.push('', `### Node / Dawn and ${runtimeKind(browser.result.environment)} side by side: ${slug}`, '', makeRuntimeComparison(node, browser));
    }
    // A browser run of the CPU backends only (wasm, cpu) has no adapter: it pairs with the newest Node run on the same
    // CPU, whose wasm and cpu rows are the same kernels under another JavaScript engine.
    const byDate = (a: ModelsBenchFile, b: ModelsBenchFile) => a.result.environment.date.localeCompare(b.result.environment.date) || a.file.localeCompare(b.file);
    const cpuOnly = models.filter((m) => m.result.environment.browser && !m.result.environment.adapter).sort(byDate);
    const newestCpuOnly = new Map(cpuOnly.map((m) => [m.result.environment.os.cpuModel, m]));
    for (const [cpu, browser] of newestCpuOnly) {
      const node = models.filter((m) => !m.result.environment.browser && m.result.environment.os.cpuModel === cpu && m.result.cases.some((c) => c.backend !== 'webgpu' && c.status === 'ok')).sort(byDate).at(-1);
      if (node) out.push('', `### Node and ${runtimeKind(browser.result.environment)} side by side, CPU backends: ${cpu}`, '', makeRuntimeComparison(node, browser));
    }
  }
  if (peers.length) {
    out.push('', '## Side by side with Brian2 (bench/peers.bench.ts)', '',
      'The hybrid network B1 in Brian2 C++ standalone and in ei-engine, alternating within each repeat; neuron-steps/s = 2n x steps / median run time (compile, set-up and warm-up excluded).');
    const latest = [...peers].sort((a, b) => a.result.environment.date.localeCompare(b.result.environment.date) || a.file.localeCompare(b.file));
    out.push('', makePeersSection(latest[latest.length - 1].file, latest[latest.length - 1].result));
    if (latest.length > 1) out.push('', `Earlier runs: ${latest.slice(0, -1).map((l) => `\`${l.file}\``).join(', ')}.`);
  }
  if (rejected.length) out.push('', '## Files not summarised', '', ...rejected.map((r) => `- ${r}`));
  return out.join('\n') + '\n';
}

/** Regenerates `dir`/SUMMARY.md; returns its path. */
export function writeSummary(dir: string): string {
  const { loaded, rejected, rate, binary, minimax, models, peers } = loadResults(dir);
  const path = join(dir, 'SUMMARY.md');
  writeFileSync(path, makeSummaryMarkdown(loaded, rejected, rate, binary, minimax, models, peers));
  return path;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = resolve(process.argv[2] ?? join(fileURLToPath(new URL('.', import.meta.url)), 'results'));
  console.log(`wrote ${writeSummary(dir)}`);
}
