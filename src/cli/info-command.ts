// `ei info`: the backends this machine offers (a hardware GPU, a software adapter, wasm, the CPU reference), each
// registered model's neuron-steps/s on each (estimated from the models' constants, or timed with --measure), which
// backend --backend auto picks for each model and why, and the WebGPU adapter's limits and features.
import type { AnyModel, Backend, RunTarget } from '../core/contract.ts';
import type { TimeKind } from '../core/limits.ts';
import { chooseAutoBackend } from '../engine/backend.ts';
import { engineVersion } from '../engine/version.ts';
import { adapterChoiceFromEnv, createGpuContext, type GpuContext } from '../gpu/context.ts';
import { modelList } from '../models/index.ts';
import { defaultThreadCount } from '../wasm/threads.ts';
import { compileKernels } from '../wasm/kernels.ts';
import { makeHelpText, parseArgs, type ArgSpec } from './args.ts';

const describeError = (e: unknown) => (e instanceof Error ? e.message : String(e));

export const infoSpec = {
  command: 'ei info',
  description:
    'Lists the backends this machine offers with each model\'s estimated (or, with --measure, timed) neuron-steps/s on each, which backend --backend auto picks and why, ' +
    'and the WebGPU adapter\'s limits and features.',
  flags: {
    json: { type: 'boolean', help: 'print JSON instead of text' },
    measure: { type: 'boolean', help: "time a short run (about 0.3 s) of each model's benchmark case on each backend instead of estimating" },
    adapter: { type: 'string', choices: ['auto', 'hardware', 'software'], default: 'auto', help: 'adapter choice (auto: hardware if present, else SwiftShader)' },
  },
} as const satisfies ArgSpec;

interface BackendInfo {
  backend: Backend;
  kind: TimeKind;
  available: boolean;
  detail: string;
}

interface ModelSpeed {
  model: string;
  /** The case the speed is for, e.g. '--n 10000'. */
  size: string;
  /** neuron-steps/s per backend kind (null: the model has no runner there, or it failed; see notes). */
  speeds: Partial<Record<TimeKind, number | null>>;
  how: 'estimated' | 'measured';
  auto: { backend: Backend; why: string };
  notes: string[];
}

/** Tries a hardware adapter, then a software one; the context of the one --adapter asks for (or null) and what was found. */
async function findAdapters(choice: string): Promise<{ hardware: string | null; software: string | null; ctx: GpuContext | null; reasons: string[] }> {
  const reasons: string[] = [];
  const found: Record<'hardware' | 'software', GpuContext | null> = { hardware: null, software: null };
  for (const kind of ['hardware', 'software'] as const) {
    try {
      const ctx = await createGpuContext({ adapter: kind, notify: () => {} });
      // A hardware request may still answer with a software adapter on some stacks: file it where it belongs.
      const is = ctx.info.isSoftware ? 'software' : 'hardware';
      if (found[is]) ctx.dispose();
      else found[is] = ctx;
    } catch (e) {
      reasons.push(`${kind}: ${describeError(e).split('\n')[0]}`);
    }
  }
  const label = (c: GpuContext | null) => (c ? `${c.info.vendor || '?'}/${c.info.architecture || '?'}${c.info.description ? ` (${c.info.description})` : ''}` : null);
  const keep = choice === 'software' ? found.software : choice === 'hardware' ? found.hardware : (found.hardware ?? found.software);
  const out = { hardware: label(found.hardware), software: label(found.software), ctx: keep, reasons };
  for (const c of [found.hardware, found.software]) if (c && c !== keep) c.dispose();
  return out;
}

/** The case a model's speed is quoted for: its first quick benchmark size. */
function speedCase(def: AnyModel) {
  const n = def.bench!.sizes.quick[0];
  return { n, request: def.bench!.scaling(n) };
}

/**
 * neuron-steps/s of a short run: a warm-up step, then run() in growing pieces until ~0.3 s or the run's steps are used.
 * A case that ends sooner (rate's 1000 steps take ~40 us on wasm) ends before V8 has tiered its code up, so its first
 * runner only warms up, and fresh runners repeat the whole case until the timed runs reach ~0.3 s (at most 200 runs).
 */
async function measure(def: AnyModel, target: RunTarget): Promise<number> {
  const r = def.resolve({ ...speedCase(def).request, seed: 1 });
  let steps = 0;
  let seconds = 0;
  for (let runs = 0; seconds < 0.3 && runs < 200; runs++) {
    const runner = await def.createRunner(r, target);
    try {
      await runner.run(1);
      for (let k = 1; seconds < 0.3 && runner.stepsDone + k <= runner.stepsTotal; k *= 2) {
        const t0 = performance.now();
        await runner.run(k);
        seconds += (performance.now() - t0) / 1000;
        steps += k;
      }
    } finally {
      runner.dispose();
    }
    // The first runner's pieces count only where they filled the time; else they were the warm-up.
    if (runs === 0 && seconds < 0.3) {
      steps = 0;
      seconds = 0;
    }
  }
  if (steps === 0) throw new Error('the case is one step long');
  return (r.neuronsPerStep * steps) / seconds;
}

export async function infoCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, infoSpec);
  if (a.help) {
    console.log(makeHelpText(infoSpec));
    return 0;
  }
  // --adapter auto defers to EI_ADAPTER, as every command does (a bad value is an error naming it).
  const choice = a.flags.adapter === 'auto' ? (adapterChoiceFromEnv(process.env) ?? 'auto') : a.flags.adapter;
  const { hardware, software, ctx, reasons } = await findAdapters(choice);
  try {
    let wasmDetail: string;
    let wasmOk = true;
    try {
      await compileKernels();
      const threads = defaultThreadCount(Number.MAX_SAFE_INTEGER, 1024);
      wasmDetail = `SIMD kernels; ${threads} thread${threads > 1 ? 's (worker_threads over shared memory; --threads N to change)' : ' (no worker threads or shared memory in this runtime)'}`;
    } catch (e) {
      wasmOk = false;
      wasmDetail = `unavailable: ${describeError(e).split('\n')[0]}`;
    }
    const backends: BackendInfo[] = [
      { backend: 'webgpu', kind: 'webgpu-hardware', available: hardware !== null, detail: hardware ?? `none (${reasons.find((r) => r.startsWith('hardware')) ?? 'no hardware adapter'})` },
      { backend: 'webgpu', kind: 'webgpu-software', available: software !== null, detail: software ? `${software}: correct but slow, a correctness tool` : 'none' },
      { backend: 'wasm', kind: 'wasm', available: wasmOk, detail: wasmDetail },
      { backend: 'cpu', kind: 'cpu', available: true, detail: 'the TypeScript reference (the oracle)' },
    ];
    const adapterFound = hardware ? 'hardware' : software ? 'software' : null;
    const models: ModelSpeed[] = [];
    for (const def of modelList.filter((m) => m.bench)) {
      const { n, request } = speedCase(def);
      const r = def.resolve({ ...request, seed: 1 });
      const speeds: ModelSpeed['speeds'] = {};
      const notes: string[] = [];
      for (const b of backends.filter((x) => x.available)) {
        if ((b.backend === 'webgpu' && !def.webgpu) || (b.backend === 'wasm' && !def.wasm)) {
          speeds[b.kind] = null;
          continue;
        }
        const bctx = b.backend === 'webgpu' ? (ctx && (b.kind === 'webgpu-hardware') === !ctx.info.isSoftware ? ctx : null) : null;
        if (b.backend === 'webgpu' && !bctx) continue; // not the adapter --adapter chose
        const target: RunTarget = { backend: b.backend, ctx: bctx, threads: b.backend === 'wasm' ? defaultThreadCount(r.neuronsPerStep, 64) : undefined };
        try {
          if (a.flags.measure) speeds[b.kind] = await measure(def, target);
          else {
            const e = def.estimate(r, target);
            const sec = b.kind === 'wasm' ? e.work.seconds.wasm : e.work.seconds[b.kind];
            // The stepping alone: a run's analysis afterwards (binary's annealed chain, ~5 s at N = 1000) is the same on every backend.
            speeds[b.kind] = sec === undefined ? null : (r.neuronsPerStep * r.steps) / Math.max(sec - (e.work.analysisSeconds ?? 0), 1e-9);
            if (sec === undefined) notes.push(`no ${b.kind} estimate`);
          }
        } catch (e) {
          speeds[b.kind] = null;
          notes.push(`${b.kind}: ${describeError(e).split('\n')[0]}`);
        }
      }
      models.push({ model: def.id, size: `--n ${n}`, speeds, how: a.flags.measure ? 'measured' : 'estimated', auto: chooseAutoBackend(adapterFound, def), notes });
    }
    const info = { engineVersion, backends, models, adapter: ctx ? { notice: ctx.notice, ...ctx.info } : null };
    if (a.flags.json) {
      console.log(JSON.stringify(info, null, 2));
      return 0;
    }
    const si = (x: number | null | undefined) => (x === undefined ? '-' : x === null ? 'n/a' : x >= 1e9 ? `${(x / 1e9).toFixed(2)} G` : x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(1)} k`);
    const kinds = backends.filter((b) => b.available).map((b) => b.kind);
    const lines = [
      `ei-engine ${engineVersion}`,
      'backends (--backend auto prefers a hardware GPU, then wasm, then the CPU reference; SwiftShader only with --backend webgpu, or for a model without wasm kernels):',
      ...backends.map((b) => `  ${(b.kind === 'webgpu-hardware' ? 'webgpu (hardware)' : b.kind === 'webgpu-software' ? 'webgpu (software)' : b.kind).padEnd(18)} ${b.available ? '' : '- '}${b.detail}`),
      '',
      `neuron-steps/s of each model's benchmark case (${a.flags.measure ? 'measured: a short run each' : 'estimated from the models\' constants, measured on a 2-core machine; --measure times this one'}):`,
      `  ${'model'.padEnd(9)} ${'case'.padEnd(10)} ${kinds.map((k) => k.padEnd(16)).join(' ')} auto picks`,
      ...models.map((m) => `  ${m.model.padEnd(9)} ${m.size.padEnd(10)} ${kinds.map((k) => si(m.speeds[k]).padEnd(16)).join(' ')} ${m.auto.backend}: ${m.auto.why}${m.notes.length ? ` (${m.notes.join('; ')})` : ''}`),
    ];
    if (ctx) {
      const i = ctx.info;
      lines.push('', `WebGPU adapter: ${i.vendor || '?'} / ${i.architecture || '?'}${i.device ? ` / ${i.device}` : ''}${i.description ? ` (${i.description})` : ''} (${i.runtime}${i.runtime === 'node' ? ', Dawn' : ''})`,
        `software:  ${i.isSoftware ? 'yes (SwiftShader: correct but slow)' : 'no (hardware GPU)'}`,
        ...(i.subgroupMinSize ? [`subgroups: ${i.subgroupMinSize}..${i.subgroupMaxSize}`] : []),
        'limits:', ...Object.entries(i.limits).map(([k, v]) => `  ${k.padEnd(36)} ${v}`), `features:  ${i.features.join(', ')}`);
    }
    console.log(lines.join('\n'));
    return 0;
  } finally {
    ctx?.dispose();
  }
}
