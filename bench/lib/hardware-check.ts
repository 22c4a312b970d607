// The pure parts of the hardware check (bench/hardware-check.ts, run by the kit's start script): the sections and how
// the time budget is shared among them, the CPU-vs-WebGPU comparisons of the conformance section, the tuning's pick,
// and SUMMARY.md. No node: module here, so these are tested without a GPU.
import type { EnvironmentRecord } from './records.ts';

export const hardwareCheckSchema = 'ei-engine/hardware-check';

/** The sections in the order they run; each writes DIR/<name>.json. */
export const checkSections = ['info', 'conformance', 'tuning', 'bench', 'heatmap'] as const;
export type CheckSection = (typeof checkSections)[number];

/**
 * Shares of the budget: a section gets its weight's part of the time still left when it starts, so what an earlier
 * section leaves unused goes to the later ones. The benchmark gets most; conformance next (it must finish to mean
 * anything). floorSeconds: the least a section is given when that much is left (starting Dawn alone takes seconds).
 */
export const sectionShares: Record<CheckSection, { weight: number; floorSeconds: number }> = {
  info: { weight: 1, floorSeconds: 20 },
  conformance: { weight: 3, floorSeconds: 15 },
  tuning: { weight: 2, floorSeconds: 5 },
  bench: { weight: 5, floorSeconds: 5 },
  heatmap: { weight: 2, floorSeconds: 5 },
};

/** Seconds for the section `name` when `remaining` seconds of the budget are left (never more than remaining). */
export function makeSectionSeconds(name: CheckSection, remaining: number): number {
  const later = checkSections.slice(checkSections.indexOf(name));
  const total = later.reduce((s, k) => s + sectionShares[k].weight, 0);
  const share = (remaining * sectionShares[name].weight) / total;
  return Math.max(0, Math.min(remaining, Math.max(share, sectionShares[name].floorSeconds)));
}

export interface SectionRecord {
  name: CheckSection;
  status: 'ok' | 'partial' | 'skipped' | 'failed';
  /** Why a section was skipped, failed or cut short. */
  reason?: string;
  secondsGiven: number;
  secondsUsed: number;
  file: string | null;
}

/** DIR/check.json: where the check ran and what each section did (rewritten after each section). */
export interface CheckRecord {
  schema: typeof hardwareCheckSchema;
  budgetSeconds: number;
  startedAt: string;
  /** What the start script found: the kit, the Vulkan loader and driver it chose. */
  kit: Record<string, string | null>;
  environment: EnvironmentRecord;
  sections: SectionRecord[];
}

/** Index of the first element whose 32 bits differ (-1: none; the shorter length when only the lengths differ). */
export function firstDifferingIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** The raw bits of a state (NaN payloads and -0 compare as bits, not as numbers). */
export function stateBits(state: Float32Array): Uint32Array {
  return new Uint32Array(state.buffer, state.byteOffset, state.length);
}

export interface StateComparison {
  elements: number;
  differing: number;
  cpuMean: number;
  gpuMean: number;
  /** |mean difference| over its standard error, treating the elements as independent samples. */
  z: number;
  /** The bound on z: 5, a two-sided normal tail of 5.7e-7. */
  zMax: number;
  pass: boolean;
}

/**
 * The statistical check once two trajectories have parted (a hardware compiler's fused multiply-add flips a decision):
 * the two final states must still be samples of one distribution, so their means agree within 5 standard errors.
 * Non-finite elements fail the check (a NaN in a state is a bug on any adapter).
 */
export function compareStates(cpu: Float32Array, gpu: Float32Array): StateComparison {
  const n = Math.min(cpu.length, gpu.length);
  const cb = stateBits(cpu);
  const gb = stateBits(gpu);
  let differing = Math.abs(cpu.length - gpu.length);
  let finite = cpu.length === gpu.length;
  let sc = 0, sg = 0, qc = 0, qg = 0;
  for (let i = 0; i < n; i++) {
    if (cb[i] !== gb[i]) differing++;
    if (!Number.isFinite(cpu[i]) || !Number.isFinite(gpu[i])) finite = false;
    sc += cpu[i];
    sg += gpu[i];
  }
  const mc = sc / n;
  const mg = sg / n;
  for (let i = 0; i < n; i++) {
    qc += (cpu[i] - mc) ** 2;
    qg += (gpu[i] - mg) ** 2;
  }
  const se = Math.sqrt((qc + qg) / Math.max(1, n - 1) / n);
  const diff = Math.abs(mg - mc);
  const z = diff === 0 ? 0 : se > 0 ? diff / se : Infinity;
  const zMax = 5;
  return { elements: n, differing, cpuMean: mc, gpuMean: mg, z, zMax, pass: finite && n > 0 && z <= zMax };
}

/** Checkpoints of a conformance run of `steps` steps: 1, 2, 4, ... then `steps`, so a divergence is bracketed early. */
export function makeCheckpoints(steps: number): number[] {
  const out: number[] = [];
  for (let s = 1; s < steps; s *= 2) out.push(s);
  out.push(steps);
  return out;
}

export interface TuningCase {
  model: string;
  size: number;
  neuronsPerThread: number;
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  neuronStepsPerSecond?: number;
}

/** Per model and size, the neurons per thread of the highest median throughput (null where no case ran). */
export function pickBestNeuronsPerThread(cases: readonly TuningCase[]): { model: string; size: number; best: number | null; neuronStepsPerSecond: number | null }[] {
  const groups = new Map<string, TuningCase[]>();
  for (const c of cases) groups.set(`${c.model}|${c.size}`, [...(groups.get(`${c.model}|${c.size}`) ?? []), c]);
  return [...groups.values()].map((g) => {
    const ok = g.filter((c) => c.status === 'ok').sort((a, b) => b.neuronStepsPerSecond! - a.neuronStepsPerSecond!);
    return { model: g[0].model, size: g[0].size, best: ok[0]?.neuronsPerThread ?? null, neuronStepsPerSecond: ok[0]?.neuronStepsPerSecond ?? null };
  });
}

const si = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x >= 1e9 ? `${(x / 1e9).toFixed(2)} G` : x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(1)} k`);
const cell = (s: unknown) => String(s ?? '-').replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The parsed section files the summary reads (each may be missing: a section that never ran or was cut short). */
export interface SectionFiles {
  info?: { adapter?: { vendor?: string; architecture?: string; description?: string; isSoftware?: boolean } | null; backends?: { kind: string; available: boolean; detail: string }[] };
  conformance?: { cases: { model: string; status: string; reason?: string; steps?: number; verdict?: string; firstDifferingStep?: number | null; tablesEqual?: boolean; statistics?: StateComparison | null }[] };
  tuning?: { knobs: { name: string; swept: boolean; why: string }[]; cases: TuningCase[] };
  bench?: { cases: { model: string; group: string; size: number; backend: string; status: string; reason?: string; neuronStepsPerSecond?: number }[] };
  heatmap?: { status: string; reason?: string; measured?: { instances: number; steps: number; secondsPerStep: number }; extrapolated?: { steps: number; seconds: number; note: string } };
}

/** SUMMARY.md: the adapter, each section's status, then a table per section. */
export function makeCheckSummary(check: CheckRecord, files: SectionFiles): string {
  const a = check.environment.adapter;
  const lines = [
    '# ei-engine hardware check',
    '',
    `- started ${check.startedAt}, budget ${check.budgetSeconds} s, ei-engine ${check.environment.engineVersion}, Node ${check.environment.node}`,
    `- machine: ${check.environment.os.platform} ${check.environment.os.release} ${check.environment.os.arch}, CPU ${check.environment.os.cpuModel} x ${check.environment.os.cpuCount}`,
    `- adapter: ${a ? `${a.vendor} / ${a.architecture}${a.description ? ` (${a.description})` : ''}${a.isSoftware ? ' — SOFTWARE adapter: correctness only, timings are not GPU speed' : ''}` : 'none'}`,
    ...Object.entries(check.kit).map(([k, v]) => `- ${k}: ${v ?? '-'}`),
    '',
    '| section | status | given | used | file | note |',
    '| --- | --- | ---: | ---: | --- | --- |',
    ...check.sections.map((s) => `| ${s.name} | ${s.status} | ${s.secondsGiven.toFixed(0)} s | ${s.secondsUsed.toFixed(1)} s | ${s.file ?? '-'} | ${cell(s.reason ?? '')} |`),
  ];
  if (files.info?.backends) {
    lines.push('', '## Backends (ei info --json)', '', ...files.info.backends.map((b) => `- ${b.kind}: ${b.available ? '' : 'unavailable: '}${b.detail}`));
  }
  if (files.conformance) {
    lines.push('', '## Conformance: WebGPU against the CPU reference', '', '| model | status | steps | verdict | first differing step | tables equal | statistics | note |', '| --- | --- | ---: | --- | ---: | --- | --- | --- |');
    for (const c of files.conformance.cases) {
      const st = c.statistics ? `z = ${c.statistics.z.toFixed(2)} (max ${c.statistics.zMax}), ${c.statistics.differing} of ${c.statistics.elements} differ: ${c.statistics.pass ? 'pass' : 'FAIL'}` : '-';
      lines.push(`| ${c.model} | ${c.status} | ${c.steps ?? '-'} | ${c.verdict ?? '-'} | ${c.firstDifferingStep ?? '-'} | ${c.tablesEqual ?? '-'} | ${st} | ${cell(c.reason ?? '')} |`);
    }
  }
  if (files.tuning) {
    lines.push('', '## Tuning: neurons per thread (WebGPU)', '', ...files.tuning.knobs.map((k) => `- ${k.name}: ${k.swept ? 'swept' : 'not swept'} (${k.why})`), '', '| model | size | best neurons/thread | neuron-steps/s |', '| --- | ---: | ---: | ---: |');
    for (const b of pickBestNeuronsPerThread(files.tuning.cases)) lines.push(`| ${b.model} | ${b.size} | ${b.best ?? '-'} | ${si(b.neuronStepsPerSecond)} |`);
  }
  if (files.bench) {
    lines.push('', '## Model benchmarks', '', '| model | case | size | backend | status | neuron-steps/s | note |', '| --- | --- | ---: | --- | --- | ---: | --- |');
    // Cases never tried because the budget was spent are counted, not listed (bench.json lists them).
    const spent = (c: { status: string; reason?: string }) => c.status === 'skipped' && /budget was spent/.test(c.reason ?? '');
    for (const c of files.bench.cases.filter((x) => !spent(x))) lines.push(`| ${c.model} | ${c.group} | ${c.size} | ${c.backend} | ${c.status} | ${si(c.neuronStepsPerSecond)} | ${cell(c.reason ?? '')} |`);
    const n = files.bench.cases.filter(spent).length;
    if (n) lines.push('', `${n} larger case${n === 1 ? '' : 's'} not tried: the budget was spent (listed in bench.json).`);
  }
  if (files.heatmap) {
    const h = files.heatmap;
    lines.push('', '## Binary heat map at full size (100 x 100 grid x 4 replicas, N = 1000, k = 100)', '');
    if (h.measured && h.extrapolated) {
      lines.push(`- measured: ${h.measured.steps} steps of ${h.measured.instances} instances, ${h.measured.secondsPerStep.toPrecision(3)} s per step`, `- extrapolated: ${h.extrapolated.steps} steps, ${(h.extrapolated.seconds / 3600).toPrecision(3)} h (${h.extrapolated.note})`);
    } else lines.push(`- ${h.status}: ${h.reason ?? '-'}`);
  }
  return lines.join('\n') + '\n';
}
