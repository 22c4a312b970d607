// Generated `ei run <model>` invocations for the property tests in test/property-cli.test.ts, and the check of
// their outcome. Parameter values come from the model registry's specs (src/models/index.ts: min/max,
// exclusivity, integer kind, choices, appliesWhen); run options from what each runner accepts
// (each model's `options` and `resolve` in src/models/<id>/). Whether a case must be refused is decided from the spec and the
// raw text alone (see expectParam / expectOption), never from how the generator picked the value.
import { UNEXPLAINED } from '../../src/io/summary-json.ts';
import fc from 'fast-check';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ParamSpec } from '../../src/core/params.ts';
import { modelList } from '../../src/models/index.ts';
import type { CliOutcome } from './cli-pool.ts';

/** 'invalid': must be refused. 'either': may complete or be refused. 'extreme': 'either', but absurd in size (exempt from the cost cap). */
export type Expect = 'invalid' | 'either' | 'extreme';

export interface Arg {
  /** '--set' for a model parameter, else the option flag ('--n', '--T', ...). */
  flag: string;
  /** Parameter or option name. */
  name: string;
  raw: string;
  expect: Expect;
}

export interface CliCase {
  model: string;
  args: Arg[];
  /** Why the combination must be refused although each value may be fine (e.g. both --steps and --T). */
  invalidCombos: string[];
}

/** What the user would type: decimal literals only (no hex, no 'Infinity', no separators, no units). */
export const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

// ------------------------------------------------------------------------------------------ expectations

type NumSpec = { kind: 'number' | 'integer'; min?: number; minExclusive?: boolean; max?: number; maxExclusive?: boolean };

function outOfRange(p: NumSpec, v: number): boolean {
  if (p.min !== undefined && (p.minExclusive ? v <= p.min : v < p.min)) return true;
  if (p.max !== undefined && (p.maxExclusive ? v >= p.max : v > p.max)) return true;
  return false;
}

/** 'invalid' when the text is not a decimal literal, not finite, not an integer for an integer spec, or out of range. */
export function expectNumberText(p: NumSpec, raw: string, safeInteger = false): 'invalid' | 'either' {
  const t = raw.trim();
  if (!DECIMAL.test(t)) return 'invalid';
  const v = Number(t);
  if (!Number.isFinite(v)) return 'invalid';
  if (p.kind === 'integer' && !(safeInteger ? Number.isSafeInteger(v) : Number.isInteger(v))) return 'invalid';
  return outOfRange(p, v) ? 'invalid' : 'either';
}

export function expectParam(p: ParamSpec, raw: string): 'invalid' | 'either' {
  if (p.kind === 'choice') return p.choices.includes(raw.trim()) ? 'either' : 'invalid';
  return expectNumberText(p, raw);
}

/** The run options as the CLI declares them (src/cli/run-command.ts); T and dt must be positive durations. */
export const optionSpecs: Record<string, NumSpec> = {
  n: { kind: 'integer', min: 1 },
  steps: { kind: 'integer', min: 1 },
  batch: { kind: 'integer', min: 1 },
  seed: { kind: 'integer', min: 0 },
  T: { kind: 'number', min: 0, minExclusive: true },
  dt: { kind: 'number', min: 0, minExclusive: true },
};

export function expectOption(name: string, raw: string): 'invalid' | 'either' {
  // A value that looks like a flag is taken as a missing value.
  if (raw.startsWith('-') && !DECIMAL.test(raw)) return 'invalid';
  return expectNumberText(optionSpecs[name], raw, true);
}

// ------------------------------------------------------------------------------------------ value generators

/** A generated value: raw text, or a function of the case's other values (e.g. binary k below n). */
interface Gen {
  raw: string | ((ctx: Ctx) => string);
  extreme?: boolean;
}

interface Ctx {
  /** --n as given when it is a valid integer, else undefined. */
  n?: number;
  /** Resolved numeric parameters that were given validly. */
  params: Record<string, number | string>;
}

const g = (raw: string, extreme = false): Gen => ({ raw, extreme });

/** Misspellings every numeric field must refuse. */
const BAD_NUMBERS = ['0x10', '', ' ', 'NaN', 'Infinity', '-Infinity', '1e400', '1,5', '10ms', '1e', '.', '+', '1_000', '0b1', '0o7', '1..2', '1e5.5', '\u0663', '0.5 0.5', 'true', 'null', '--1'];
/** Huge and tiny magnitudes: refused or handled, never a hang or a NaN. */
const EXTREMES = [1e40, -1e40, 1e300, -1e300, 1e-300, -1e-300, 5e-324, 1.7976931348623157e308, 2 ** 31, 2 ** 53 + 2, 1e20];

/** Shortest text of a number, or its exponential form. */
function fmt(v: number, style = 0): string {
  if (style === 1 && Number.isFinite(v) && v !== 0) return v.toExponential();
  return String(v);
}

function inRange(p: NumSpec, v: number): boolean {
  return Number.isFinite(v) && !outOfRange(p, v) && (p.kind !== 'integer' || Number.isInteger(v));
}

export interface ParamTuning {
  /** Values typical of a quick, valid run (replace the default-based ones). */
  typical?: fc.Arbitrary<Gen>;
  /** Largest in-range value generated (a cost cap for size-like parameters; larger in-range values are not generated). */
  cap?: number;
}

function typicalNumbers(p: Extract<ParamSpec, { kind: 'number' | 'integer' }>, cap?: number): number[] {
  const d = p.default;
  const raw = d === 0 ? [0, 0.5, -0.5, 1, -1, 0.1, 2] : [d, d * 0.5, d * 0.8, d * 1.25, d * 2, -d];
  const vals = raw.map((v) => (p.kind === 'integer' ? Math.round(v) : v)).filter((v) => inRange(p, v) && (cap === undefined || v <= cap));
  return [...new Set(vals.length ? vals : [cap !== undefined ? Math.min(cap, d) : d])];
}

/**
 * Values of one parameter. 'clean': typical values only (a quick valid run). 'dirty': every other class, simplest
 * first (the shrinker moves towards the first): boundaries, just outside the range, huge/tiny magnitudes, misspellings,
 * odd but decimal spellings, non-integers for integer parameters; for choices: wrong case, typos, blanks.
 */
export function paramValue(p: ParamSpec, t: ParamTuning = {}, mode: 'clean' | 'dirty' = 'clean'): fc.Arbitrary<Gen> {
  if (p.kind === 'choice') {
    const c = p.choices;
    if (mode === 'clean') return t.typical ?? fc.constantFrom(...c).map((v) => g(v));
    return fc.oneof(
      { withCrossShrink: true },
      // Blanks around the default (trimmed: the same choice, so the run keeps its cost).
      { weight: 1, arbitrary: fc.constantFrom(` ${p.default}`, `${p.default} `).map((v) => g(v)) },
      { weight: 2, arbitrary: fc.constantFrom(...c.map((v) => v.toUpperCase()), ...c.map((v) => v[0].toUpperCase() + v.slice(1))).map((v) => g(v)) },
      { weight: 2, arbitrary: fc.constantFrom(...c.map((v) => `${v}x`), ...c.map((v) => v.slice(0, -1)), '', ' ', 'none', '0').map((v) => g(v)) },
    );
  }
  const cap = t.cap;
  const scale = Math.max(1, Math.abs(p.default));
  const eps = p.kind === 'integer' ? 1 : 1e-9 * scale;
  const bounds: number[] = [];
  const outside: number[] = [];
  if (p.min !== undefined) {
    bounds.push(p.min, p.min + eps);
    outside.push(p.min - eps, p.min - 0.5 * scale, p.min - scale, p.min - 1e6 * scale);
  }
  if (p.max !== undefined) {
    bounds.push(p.max, p.max - eps);
    outside.push(p.max + eps, p.max + 0.5 * scale, p.max + scale, p.max + 1e6 * scale);
  }
  if (p.min === undefined && p.max === undefined) bounds.push(0, -scale, scale);
  const capped = (v: number) => cap === undefined || !inRange(p, v) || v <= cap;
  const bnd = [...new Set(bounds.map((v) => (p.kind === 'integer' ? Math.round(v) : v)))].filter(capped);
  const ext = EXTREMES.filter(capped);
  const typ = typicalNumbers(p, cap);
  if (mode === 'clean') return t.typical ?? fc.tuple(fc.constantFrom(...typ), fc.integer({ min: 0, max: 5 })).map(([v, s]) => g(fmt(v, s)));
  const arbs: fc.WeightedArbitrary<Gen>[] = [
    { weight: 3, arbitrary: fc.constantFrom(...(bnd.length ? bnd : typ)).map((v) => g(fmt(v))) },
    { weight: 3, arbitrary: fc.constantFrom(...(outside.length ? outside : [NaN])).map((v) => g(fmt(v))) },
    { weight: 3, arbitrary: fc.constantFrom(...ext).map((v) => g(fmt(v), true)) },
    { weight: 2, arbitrary: fc.constantFrom(...BAD_NUMBERS).map((v) => g(v)) },
    // Unusual but decimal spellings of an ordinary value.
    { weight: 1, arbitrary: fc.constantFrom(...typ).chain((v) => fc.constantFrom(`-0`, `+${v}`, ` ${v} `, `${v}e0`, `${v}.`.replace('..', '.'), v.toExponential().toUpperCase())).map((v) => g(v)) },
  ];
  if (p.kind === 'integer') arbs.push({ weight: 1, arbitrary: fc.constantFrom('1.5', `${p.default}.5`, '2.000001', '1e-3').map((v) => g(v)) });
  return fc.oneof({ withCrossShrink: true }, ...arbs);
}

// ------------------------------------------------------------------------------------------ options

interface OptionValues {
  valid: fc.Arbitrary<Gen>;
  bad: readonly string[];
  extreme: readonly string[];
  /** Relative weights of omitted / valid (clean cases), and of bad / extreme (perturbed cases). */
  w: [number, number, number, number];
  /** The model ignores this option: clean cases leave it out; a perturbed case gives it (valid or not). */
  notApplicable?: boolean;
}

const BAD_INT = ['0', '-4', '1.5', '0x10', '', 'NaN', 'Infinity', '-0', '1,000', '10k', 'abc', '1e'];
const BAD_DURATION = ['0', '-1', 'NaN', 'Infinity', '0.01s', '10ms', '', '-0', '1/2', '0x1'];

const toArg = (name: string) => (x: Gen | null): Arg | null => (x === null ? null : { flag: `--${name}`, name, raw: x.raw as string, expect: x.extreme ? 'extreme' : 'either' });

/** An option in a clean case: omitted or a valid value (always omitted when the model ignores it). */
function cleanOption(name: string, v: OptionValues): fc.Arbitrary<Arg | null> {
  if (v.notApplicable) return fc.constant(null);
  return fc.oneof({ withCrossShrink: true }, { weight: v.w[0], arbitrary: fc.constant(null) }, { weight: v.w[1], arbitrary: v.valid }).map(toArg(name));
}

/** An option as a perturbation: a misspelt, out-of-range or absurd value, or any value of an option the model ignores. */
function dirtyOption(name: string, v: OptionValues): fc.Arbitrary<Arg> {
  const arbs: fc.WeightedArbitrary<Gen>[] = [];
  if (v.notApplicable) arbs.push({ weight: 3, arbitrary: v.valid });
  if (v.bad.length) arbs.push({ weight: Math.max(1, v.w[2]), arbitrary: fc.constantFrom(...v.bad).map((r) => g(r)) });
  if (v.extreme.length) arbs.push({ weight: Math.max(1, v.w[3]), arbitrary: fc.constantFrom(...v.extreme).map((r) => g(r, true)) });
  return fc.oneof({ withCrossShrink: true }, ...arbs).map((x) => toArg(name)(x)!);
}

/** How a case asks for the run length. */
type Duration =
  | { mode: 'default' }
  | { mode: 'steps'; k: number }
  | { mode: 'T'; k: number }
  | { mode: 'Tonly'; raw: string }
  | { mode: 'both'; k: number }
  | { mode: 'badSteps'; raw: string; extreme: boolean }
  | { mode: 'badT'; raw: string; extreme: boolean };

export interface DurationWeights {
  maxSteps: number;
  minSteps: number;
  default: number;
  steps: number;
  T: number;
}

const TONLY = ['0.0001', '0.00015', '0.001', '0.01', '0.05', '0.3', '1', '3'];

/** The run length of a clean case: the default, --steps k, --T k dt (with --dt), or a round --T alone. */
function cleanDuration(w: DurationWeights): fc.Arbitrary<Duration> {
  const k = fc.integer({ min: w.minSteps, max: w.maxSteps });
  const arbs: fc.WeightedArbitrary<Duration>[] = [{ weight: w.default, arbitrary: fc.constant<Duration>({ mode: 'default' }) }];
  // A model without --steps (rate, minimax: --T and --dt) or without time (binary: no --T): those are perturbations.
  if (w.steps > 0) arbs.push({ weight: w.steps, arbitrary: k.map((k): Duration => ({ mode: 'steps', k })) });
  if (w.T > 0) {
    arbs.push({ weight: w.T, arbitrary: k.map((k): Duration => ({ mode: 'T', k })) });
    arbs.push({ weight: 1, arbitrary: fc.constantFrom(...TONLY).map((raw): Duration => ({ mode: 'Tonly', raw })) });
  }
  return fc.oneof({ withCrossShrink: true }, ...arbs);
}

/** The run length as a perturbation: both --steps and --T, bad or absurd --steps / --T, --T for a model without time. */
function dirtyDuration(w: DurationWeights): fc.Arbitrary<Duration> {
  const k = fc.integer({ min: w.minSteps, max: w.maxSteps });
  const arbs: fc.WeightedArbitrary<Duration>[] = [
    { weight: 2, arbitrary: k.map((k): Duration => ({ mode: 'both', k })) },
    { weight: 2, arbitrary: fc.constantFrom(...BAD_INT).map((raw): Duration => ({ mode: 'badSteps', raw, extreme: false })) },
    { weight: 2, arbitrary: fc.constantFrom('1e12', '4294967296', '9007199254740991', '9007199254740993').map((raw): Duration => ({ mode: 'badSteps', raw, extreme: true })) },
    { weight: 2, arbitrary: fc.constantFrom(...BAD_DURATION).map((raw): Duration => ({ mode: 'badT', raw, extreme: false })) },
    { weight: 2, arbitrary: fc.constantFrom('1e9', '1e-9', '1e300', '5e-324', '1e-30').map((raw): Duration => ({ mode: 'badT', raw, extreme: true })) },
  ];
  if (w.steps === 0) arbs.push({ weight: 2, arbitrary: k.map((k): Duration => ({ mode: 'steps', k })) });
  if (w.T === 0) {
    arbs.push({ weight: 2, arbitrary: k.map((k): Duration => ({ mode: 'T', k })) });
    arbs.push({ weight: 1, arbitrary: fc.constantFrom(...TONLY).map((raw): Duration => ({ mode: 'Tonly', raw })) });
  }
  return fc.oneof({ withCrossShrink: true }, ...arbs);
}

/** Decimal text of k time steps of dt (k x dt rounded to 12 significant digits, as a user would write it). */
export function timeText(k: number, dt: number): string {
  return String(Number((k * dt).toPrecision(12)));
}

// ------------------------------------------------------------------------------------------ models

export interface ModelConfig {
  id: string;
  specs: readonly ParamSpec[];
  tuning: Record<string, ParamTuning>;
  /** Parameters set unless the case sets them itself (to keep short runs valid), with the chance they are left out. */
  baseline: Record<string, fc.Arbitrary<Gen>>;
  n: OptionValues;
  batch: OptionValues;
  dt: OptionValues;
  seed: OptionValues;
  duration: DurationWeights;
  /** Steps of a 'steps' duration given the context (binary adds its burnin). */
  stepsText?: (k: number, ctx: Ctx) => string;
  /** A valid time step used for 'T' durations when the case gives none. */
  dtForT: fc.Arbitrary<string>;
  /** Rough work of an ordinary case; cases above `budget` are not generated (cost cap). */
  work: (c: ParsedCase) => number;
  budget: number;
  /** Adjusts a clean case for a cross-field rule the specs do not declare. */
  cleanFix?: (p: Parts) => Parts;
}

export interface ParsedCase {
  p: Record<string, number | string>;
  n?: number;
  steps?: number;
  T?: number;
  dt?: number;
  batch: number;
}

const seedValues: OptionValues = {
  valid: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1)).map((v) => g(String(v))),
  bad: ['-1', '1.5', '9007199254740992', '9007199254740993', '1e20', 'NaN', 'abc', '0x10', '', '-0'],
  extreme: [],
  w: [4, 4, 2, 0],
};
const smallBatch: OptionValues = { valid: fc.integer({ min: 1, max: 3 }).map((v) => g(String(v))), bad: ['0', '-1', '1.5', 'NaN', '', '0x2'], extreme: ['1e9', '2147483648', '9007199254740991'], w: [6, 3, 1, 1] };
const notApplicable = (valid: fc.Arbitrary<Gen>, bad: readonly string[]): OptionValues => ({ valid, bad, extreme: [], w: [1, 0, 1, 0], notApplicable: true });
const nValues = (min: number, max: number): OptionValues => ({
  valid: fc.integer({ min, max }).map((v) => g(String(v))),
  bad: BAD_INT,
  extreme: ['1e9', '2147483648', '1e15', '9007199254740991', '9007199254740993', '1e40'],
  w: [1, 8, 1, 1],
});
const dtValues = (valid: readonly string[], extreme: readonly string[]): OptionValues => ({
  valid: fc.constantFrom(...valid).map((v) => g(v)),
  bad: ['0', '-1e-4', 'NaN', 'Infinity', '1e-4s', '', '-0', '1e'],
  extreme,
  w: [5, 4, 1, 1],
});

const num = (c: ParsedCase, k: string, d: number) => (typeof c.p[k] === 'number' ? (c.p[k] as number) : d);
const stepsOf = (c: ParsedCase, dt: number, defaultT: number) => c.steps ?? Math.max(1, Math.round((c.T ?? defaultT) / dt));

function config(id: string, rest: Omit<ModelConfig, 'id' | 'specs'>): ModelConfig {
  const info = modelList.find((m) => m.id === id);
  if (!info) throw new Error(`cli-cases: no model '${id}' in the registry`);
  return { id, specs: info.parameters, ...rest };
}

/** An integer in [1, 30], brought below maxOf(ctx) + 1 (e.g. binary k below n) by taking it modulo. */
const upTo = (maxOf: (ctx: Ctx) => number) =>
  fc.integer({ min: 1, max: 30 }).map((k): Gen => ({ raw: (ctx) => String(1 + ((k - 1) % Math.max(1, maxOf(ctx)))) }));

export function modelConfigs(): Record<string, ModelConfig> {
  return {
    poisson: config('poisson', {
      tuning: { burnin: { typical: fc.constantFrom('0', '0.0001', '0.001').map((v) => g(v)) } },
      baseline: { burnin: fc.constantFrom('0', '0.0001', '0.001').map((v) => g(v)) },
      n: nValues(1, 200),
      batch: smallBatch,
      dt: dtValues(['1e-5', '5e-5', '1e-4', '2e-4', '5e-4', '1e-3'], ['1e-30', '1e-300', '5e-324', '1', '1e9']),
      seed: seedValues,
      duration: { maxSteps: 300, minSteps: 1, default: 1, steps: 4, T: 4 },
      dtForT: fc.constantFrom('5e-5', '1e-4', '2e-4', '1e-3'),
      work: (c) => {
        const dt = c.dt ?? 1e-4;
        return (c.n ?? 10_000) * c.batch * stepsOf(c, dt, 0.3);
      },
      budget: 2e5,
    }),
    hybrid: config('hybrid', {
      tuning: { burnin: { typical: fc.constantFrom('0', '0', '0.01', '0.1').map((v) => g(v)) } },
      baseline: { burnin: fc.constantFrom('0', '0', '0.01', '0.1').map((v) => g(v)) },
      n: nValues(1, 200),
      batch: smallBatch,
      dt: dtValues(['1e-3', '2e-3', '5e-3', '1e-2'], ['1e-30', '1e-300', '5e-324', '1e9']),
      seed: seedValues,
      duration: { maxSteps: 300, minSteps: 1, default: 1, steps: 4, T: 4 },
      dtForT: fc.constantFrom('1e-3', '2e-3', '1e-2'),
      work: (c) => {
        const n = c.n ?? 1000;
        const tau = num(c, 'tau', 1);
        const dt = c.dt ?? Math.min(2e-3, 0.1 / Math.sqrt(n)) * tau;
        return 2 * n * c.batch * stepsOf(c, dt, 5 * tau);
      },
      budget: 2e5,
    }),
    binary: config('binary', {
      tuning: {
        // k below n.
        k: { typical: upTo((ctx) => (ctx.n ?? 500) - 1) },
        burnin: { typical: fc.constantFrom('0', '10', '100').map((v) => g(v)) },
      },
      baseline: {
        k: upTo((ctx) => (ctx.n ?? 500) - 1),
        burnin: fc.constantFrom('0', '10', '100').map((v) => g(v)),
      },
      n: nValues(2, 100),
      // Binary is discrete-time with one instance: --T, --dt, --batch do not apply.
      batch: notApplicable(fc.integer({ min: 1, max: 3 }).map((v) => g(String(v))), ['0', 'NaN']),
      dt: notApplicable(fc.constantFrom('0.1', '1').map((v) => g(v)), ['0', 'NaN']),
      seed: seedValues,
      duration: { maxSteps: 300, minSteps: 1, default: 1, steps: 8, T: 0 },
      stepsText: (k, ctx) => String(k + (typeof ctx.params.burnin === 'number' ? ctx.params.burnin : 1000)),
      dtForT: fc.constantFrom('0.1', '1'),
      // Measured: ~1.4 us per neuron and step on the CPU reference, growing slowly with k.
      work: (c) => {
        const N = c.n ?? 500;
        const k = c.p.connectivity === 'all-to-all' ? N - 1 : num(c, 'k', 50);
        const steps = c.steps ?? num(c, 'burnin', 1000) + 20_000;
        return N * steps * (1 + k / 30) * (c.p.connectivity === 'erdos-renyi' ? 2 : 1);
      },
      budget: 3e5,
    }),
    minimax: config('minimax', {
      tuning: {
        side: { typical: fc.integer({ min: 8, max: 10 }).map((v) => g(String(v))), cap: 12 },
        cueSeconds: { typical: fc.constantFrom('0', '0.01', '5').map((v) => g(v)) },
      },
      baseline: {},
      n: notApplicable(fc.integer({ min: 1, max: 100 }).map((v) => g(String(v))), ['0', 'NaN']),
      batch: smallBatch,
      dt: dtValues(['1e-4', '2e-4', '5e-4', '1e-3'], ['1e-30', '1e-300', '5e-324', '1e9']),
      seed: seedValues,
      duration: { maxSteps: 300, minSteps: 2, default: 1, steps: 0, T: 8 },
      dtForT: fc.constantFrom('1e-4', '2e-4', '1e-3'),
      work: (c) => {
        const net = c.p.network ?? 'tight-balance';
        const side = num(c, 'side', 63);
        const N = net === 'grid' ? 3 * side * side : net === 'ring' ? 300 : 60;
        const tau = num(c, 'tau', 0.1);
        const dt = c.dt ?? (net === 'tight-balance' ? num(c, 'dtOverTau', 1e-4) * tau : 1e-3);
        const T = c.T ?? (net === 'tight-balance' ? 100 * tau : net === 'ring' ? 10 : 30);
        return N * N * (Math.round(T / dt) + 100) * c.batch;
      },
      budget: 3e8,
      // dtOverTau sets the step only when --dt is not given (src/models/minimax/params.ts).
      cleanFix: (p) => (p.opts.dt || p.opts.duration.mode === 'T' ? { ...p, params: { ...p.params, dtOverTau: null } } : p),
    }),
    rate: config('rate', {
      tuning: {
        channels: { typical: fc.integer({ min: 2, max: 4 }).map((v) => g(String(v))), cap: 6 },
        layers: { typical: fc.integer({ min: 1, max: 2 }).map((v) => g(String(v))), cap: 3 },
        initial: { typical: fc.integer({ min: 1, max: 16 }).map((v) => g(String(v))), cap: 64 },
      },
      baseline: {},
      n: notApplicable(fc.integer({ min: 1, max: 100 }).map((v) => g(String(v))), ['0', 'NaN']),
      batch: notApplicable(fc.integer({ min: 1, max: 8 }).map((v) => g(String(v))), ['0', 'NaN']),
      dt: dtValues(['0.001', '0.005', '0.01', '0.05'], ['1e-30', '1e-300', '5e-324', '1e9']),
      seed: seedValues,
      duration: { maxSteps: 300, minSteps: 2, default: 2, steps: 0, T: 8 },
      dtForT: fc.constantFrom('0.005', '0.01', '0.05'),
      work: (c) => {
        const ch = num(c, 'channels', 2);
        const neurons = c.p.circuit === 'lateral' ? 2 * ch : c.p.circuit === 'column' ? 2 * ch * num(c, 'layers', 3) : 2;
        if (neurons > 12) return Infinity;
        const tauE = num(c, 'tauE', 1);
        const tauI = num(c, 'tauI', 1);
        const dt = c.dt ?? 0.01 * Math.min(tauE, tauI);
        const steps = Math.max(2, Math.round((c.T ?? 60 * Math.max(tauE, tauI)) / dt));
        // The direct analysis enumerates supports: 2^n for ReLU, 3^n with an upper bound (measured: a 12-cell clip column ~11 s).
        const analysis = ((c.p.activation ?? 'relu') === 'relu' ? 2 : 3) ** neurons * neurons ** 3 * 10;
        return neurons * neurons * num(c, 'initial', 8) * steps * (c.p.method === 'euler' ? 1 : 4) + analysis;
      },
      budget: 5e6,
    }),
  };
}

/** Names a user might mistype: each must be refused as an unknown parameter. */
function unknownNames(specs: readonly ParamSpec[]): string[] {
  const names = specs.map((s) => s.name);
  const typos = names.flatMap((n) => [n.toLowerCase(), n.toUpperCase(), `${n}x`, n.slice(1)]).filter((t) => t && !names.includes(t));
  return [...new Set([...typos, 'foo', 'n', 'seed', 'dt'])].filter((t) => !names.includes(t));
}

export interface Parts {
  params: Record<string, Gen | null>;
  baseline: Record<string, Gen | null>;
  unknown: string | null;
  opts: { n: Arg | null; batch: Arg | null; dt: Arg | null; seed: Arg | null; duration: Duration; dtForT: string; order: number; satisfy: boolean };
}

/**
 * The generator of cases for one model. A third are clean cases: every value typical and valid, about two explicit
 * parameters (each present with probability 2/P), parameters that apply only under a choice given with that choice
 * (ParamSpec.appliesWhen), small sizes; they should mostly complete. Two thirds are a clean case with one field
 * perturbed (a quarter of them two): a parameter or option given a value of another class (see paramValue,
 * dirtyOption, dirtyDuration), an unknown parameter name, or a parameter given under a choice it does not apply to.
 * One perturbation per case keeps a refusal from hiding what the others would have done; the shrinker moves a
 * counterexample towards the clean case it came from.
 */
export function caseArbitrary(m: ModelConfig): fc.Arbitrary<CliCase> {
  // The cost cap applies to the clean case, so a perturbation (an absurd size, say) is never filtered away.
  const clean = cleanParts(m)
    .map((p) => (m.cleanFix ? m.cleanFix(p) : p))
    .filter((p) => m.work(parseCase(m, assemble(m, p))) <= m.budget);
  const fields = perturbableFields(m);
  const dirty = fc.record({
    params: fc.record(Object.fromEntries(m.specs.map((p) => [p.name, paramValue(p, m.tuning[p.name], 'dirty')])) as Record<string, fc.Arbitrary<Gen>>),
    n: dirtyOption('n', m.n),
    batch: dirtyOption('batch', m.batch),
    dt: dirtyOption('dt', m.dt),
    seed: dirtyOption('seed', m.seed),
    duration: dirtyDuration(m.duration),
    unknown: fc.constantFrom(...unknownNames(m.specs)),
    unsatisfy: fc.constantFrom(...(conditional(m).length ? conditional(m) : [''])),
  });
  const chosen = fc.oneof({ withCrossShrink: true }, { weight: 3, arbitrary: fc.constantFrom(...fields).map((f) => [f]) }, { weight: 1, arbitrary: fc.uniqueArray(fc.constantFrom(...fields), { minLength: 2, maxLength: 2 }) });
  const perturbed = fc.record({ base: clean, dirty, chosen }).map(({ base, dirty, chosen }) => {
    const p: Parts = { ...base, params: { ...base.params }, opts: { ...base.opts } };
    for (const f of chosen) {
      if (f === 'unknown') p.unknown = dirty.unknown;
      else if (f === 'n' || f === 'batch' || f === 'dt' || f === 'seed') p.opts[f] = dirty[f];
      else if (f === 'duration') p.opts.duration = dirty.duration;
      else if (f === 'unsatisfy') unsatisfy(m, p, dirty.unsatisfy);
      else p.params[f] = dirty.params[f];
    }
    return p;
  });
  // A perturbation can also make an ordinary run expensive (a conditional parameter brings the choice it needs):
  // cases that must complete quickly are capped again; cases with an invalid or absurd value are not.
  const budget = (c: CliCase) => c.args.some((a) => a.expect !== 'either') || c.invalidCombos.length > 0 || m.work(parseCase(m, c)) <= m.budget;
  return fc.oneof({ withCrossShrink: true }, { weight: 1, arbitrary: clean }, { weight: 2, arbitrary: perturbed }).map((p) => assemble(m, p)).filter(budget);
}

/** Parameter names, the options, 'unknown', and 'unsatisfy' (a conditional parameter under a choice it does not apply to). */
export function perturbableFields(m: ModelConfig): string[] {
  return [
    ...m.specs.map((p) => p.name),
    'n', 'batch', 'dt', 'seed', 'duration', 'unknown',
    ...(conditional(m).length ? ['unsatisfy'] : []),
  ];
}

/** Parameters that apply only under some choices (ParamSpec.appliesWhen). */
function conditional(m: ModelConfig): string[] {
  return m.specs.filter((p) => Object.keys(appliesWhen(p)).length > 0).map((p) => p.name);
}

/** Gives `name` (a typical value) under a choice its appliesWhen excludes, when the choice has such a value. */
function unsatisfy(m: ModelConfig, p: Parts, name: string): void {
  const spec = m.specs.find((s) => s.name === name);
  if (!spec) return;
  for (const [key, allowed] of Object.entries(appliesWhen(spec))) {
    const choice = m.specs.find((s) => s.name === key);
    const other = choice?.kind === 'choice' ? choice.choices.find((c) => !allowed.includes(c)) : undefined;
    if (other === undefined) continue;
    p.params[key] = g(other);
    p.params[name] = g(spec.kind === 'choice' ? spec.default : String(spec.default));
    p.opts.satisfy = false;
    return;
  }
}

function cleanParts(m: ModelConfig): fc.Arbitrary<Parts> {
  const P = m.specs.length;
  // About two explicit parameters per case, each independently present, each shrinking to "absent".
  const present = (arb: fc.Arbitrary<Gen>) => fc.oneof({ withCrossShrink: true }, { weight: Math.max(1, P - 2), arbitrary: fc.constant(null) }, { weight: 2, arbitrary: arb });
  return fc.record({
    params: fc.record(Object.fromEntries(m.specs.map((p) => [p.name, present(paramValue(p, m.tuning[p.name], 'clean'))])) as Record<string, fc.Arbitrary<Gen | null>>),
    baseline: fc.record(Object.fromEntries(Object.entries(m.baseline).map(([k, a]) => [k, fc.oneof({ withCrossShrink: true }, { weight: 9, arbitrary: a }, { weight: 1, arbitrary: fc.constant(null) })])) as Record<string, fc.Arbitrary<Gen | null>>),
    unknown: fc.constant(null),
    opts: fc.record({
      n: cleanOption('n', m.n),
      batch: cleanOption('batch', m.batch),
      dt: cleanOption('dt', m.dt),
      seed: cleanOption('seed', m.seed),
      duration: cleanDuration(m.duration),
      dtForT: m.dtForT,
      order: fc.integer({ min: 0, max: 1 }),
      satisfy: fc.constant(true),
    }),
  });
}

type AppliesWhen = Record<string, readonly string[]>;
const appliesWhen = (p: ParamSpec | undefined): AppliesWhen => (p as { appliesWhen?: AppliesWhen } | undefined)?.appliesWhen ?? {};

/**
 * Makes the given parameters apply (ParamSpec.appliesWhen): a parameter whose condition the default choice breaks
 * gets the choice it needs, unless the choice was given or an earlier parameter relies on it, in which case the
 * parameter is dropped. (An 'unsatisfy' perturbation turns this off.)
 */
function satisfyApplies(m: ModelConfig, params: Record<string, Gen | null>): Record<string, Gen | null> {
  const out = { ...params };
  const pinned = new Set(m.specs.filter((p) => p.kind === 'choice' && out[p.name]).map((p) => p.name));
  const current = (key: string): string | undefined => {
    const v = out[key];
    if (v) return typeof v.raw === 'string' ? v.raw.trim() : undefined;
    const choice = m.specs.find((s) => s.name === key);
    return choice?.kind === 'choice' ? choice.default : undefined;
  };
  for (const p of m.specs) {
    if (!out[p.name]) continue;
    const conditions = Object.entries(appliesWhen(p));
    const fixable = conditions.every(([key, allowed]) => allowed.includes(current(key) ?? '') || !pinned.has(key));
    if (!fixable) {
      out[p.name] = null;
      continue;
    }
    for (const [key, allowed] of conditions) {
      if (!allowed.includes(current(key) ?? '')) out[key] = g(allowed[0]);
      pinned.add(key);
    }
  }
  return out;
}

function assemble(m: ModelConfig, parts: Parts): CliCase {
  const o = parts.opts;
  const baseline = parts.baseline;
  const unknown = parts.unknown;
  const params = o.satisfy ? satisfyApplies(m, parts.params) : parts.params;
  const invalidCombos: string[] = [];
  const options: Arg[] = [];
  const opt = (name: string, raw: string, extreme = false) => options.push({ flag: `--${name}`, name, raw, expect: extreme ? 'extreme' : 'either' });
  if (o.n) options.push(o.n);
  const nValid = o.n && expectOption('n', o.n.raw) !== 'invalid' ? Number(o.n.raw.trim()) : undefined;
  // Parameters: given ones, then the baseline for those not given.
  const chosen: [string, Gen][] = [];
  const choiceNow = (key: string): string | undefined => {
    const v = params[key];
    const spec = m.specs.find((s) => s.name === key);
    return v && typeof v.raw === 'string' ? v.raw.trim() : spec?.kind === 'choice' ? spec.default : undefined;
  };
  for (const p of m.specs) {
    // A baseline value only where it applies (e.g. no binary k for all-to-all).
    const base = baseline[p.name] && Object.entries(appliesWhen(p)).every(([key, allowed]) => allowed.includes(choiceNow(key) ?? '')) ? baseline[p.name] : null;
    const v = params[p.name] ?? base;
    if (v) chosen.push([p.name, v]);
  }
  const ctx: Ctx = { n: nValid, params: {} };
  const sets: Arg[] = [];
  for (const [name, v] of chosen) {
    const spec = m.specs.find((s) => s.name === name)!;
    const raw = typeof v.raw === 'function' ? v.raw(ctx) : v.raw;
    const e = expectParam(spec, raw);
    sets.push({ flag: '--set', name, raw, expect: e === 'invalid' ? 'invalid' : v.extreme ? 'extreme' : 'either' });
    if (e !== 'invalid') ctx.params[name] = spec.kind === 'choice' ? raw.trim() : Number(raw.trim());
  }
  // A parameter declared to apply only under some choices (ParamSpec.appliesWhen) must be refused otherwise.
  for (const a of sets) {
    for (const [key, allowed] of Object.entries(appliesWhen(m.specs.find((s) => s.name === a.name)))) {
      const choice = m.specs.find((s) => s.name === key);
      const current = ctx.params[key] ?? (choice?.kind === 'choice' ? choice.default : undefined);
      if (current !== undefined && !allowed.includes(String(current))) invalidCombos.push(`${a.name} applies only when ${key} is ${allowed.join('|')} (it is ${String(current)})`);
    }
  }
  if (unknown) sets.push({ flag: '--set', name: unknown, raw: '1', expect: 'invalid' });
  // Run length and time step.
  const d = o.duration;
  let dt = o.dt;
  const stepsText = (k: number) => (m.stepsText ? m.stepsText(k, ctx) : String(k));
  if (d.mode === 'steps') opt('steps', stepsText(d.k));
  if (d.mode === 'T' || d.mode === 'both') {
    // --T is k steps of the case's --dt; a bad or absurd --dt (a perturbation) is kept, --T then uses a valid step.
    const usable = dt && expectOption('dt', dt.raw) !== 'invalid' && dt.expect !== 'extreme' ? Number(dt.raw.trim()) : undefined;
    if (!dt) dt = { flag: '--dt', name: 'dt', raw: o.dtForT, expect: 'either' };
    opt('T', timeText(d.k, usable ?? Number(o.dtForT)));
    if (d.mode === 'both') {
      opt('steps', stepsText(d.k));
      invalidCombos.push('both --steps and --T');
    }
  }
  if (d.mode === 'Tonly') opt('T', d.raw);
  if (d.mode === 'badSteps') opt('steps', d.raw, d.extreme);
  if (d.mode === 'badT') opt('T', d.raw, d.extreme);
  if (dt) options.push(dt);
  if (o.batch) options.push(o.batch);
  if (o.seed) options.push(o.seed);
  for (const a of options) if (a.expect !== 'extreme') a.expect = expectOption(a.name, a.raw);
  for (const a of options) if (a.expect === 'extreme' && expectOption(a.name, a.raw) === 'invalid') a.expect = 'invalid';
  const args = o.order === 0 ? [...options, ...sets] : [...sets, ...options];
  return withToString({ model: m.id, args, invalidCombos });
}

/** The numbers a case gives (valid ones only), with the defaults the cost estimate needs. */
export function parseCase(m: ModelConfig, c: CliCase): ParsedCase {
  const p: Record<string, number | string> = {};
  const opts: Record<string, number> = {};
  for (const a of c.args) {
    if (a.expect === 'invalid') continue;
    if (a.flag === '--set') {
      const spec = m.specs.find((s) => s.name === a.name);
      p[a.name] = spec?.kind === 'choice' ? a.raw.trim() : Number(a.raw.trim());
    } else opts[a.name] = Number(a.raw.trim());
  }
  return { p, n: opts.n, steps: opts.steps, T: opts.T, dt: opts.dt, batch: opts.batch ?? 1 };
}

// ------------------------------------------------------------------------------------------ command lines

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_.,:=+\/@%-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function argvOf(c: CliCase, out: string): string[] {
  return ['run', c.model, ...c.args.flatMap((a) => (a.flag === '--set' ? ['--set', `${a.name}=${a.raw}`] : [a.flag, a.raw])), '--backend', 'cpu', '--quiet', '--out', out];
}

/** The case as a shell command line (for reports and counterexamples). */
export function commandLine(c: CliCase, out = 'OUT'): string {
  return ['ei', ...argvOf(c, out)].map(shellQuote).join(' ');
}

function withToString(c: CliCase): CliCase {
  Object.defineProperty(c, fc.toStringMethod, { value: () => commandLine(c), enumerable: false });
  return c;
}

// ------------------------------------------------------------------------------------------ the check

const STACK = /^\s+at .+(?::\d+:\d+\)?|\(native\))$/m;

/** Where summary.json may hold null: the fields the runners write as an explicit "not applicable" marker, under the condition they do. */
export function nullAllowed(model: string, path: (string | number)[], root: Record<string, unknown>, parent: Record<string, unknown>): boolean {
  const key = path[path.length - 1];
  if (model === 'hybrid') {
    // README: blowup is null or {source, condition, detail, t}; t is null for blow-ups found from the conditions.
    if (key === 'blowup') return true;
    if (key === 't' && path.includes('blowup')) return true;
    // B1: c0 is null when no balancing shift exists (a blow-up is reported); B2: always null (src/models/hybrid/limit.ts).
    if (key === 'c0') {
      const params = (parent.params ?? (root.instances as Record<string, unknown>[] | undefined)?.[0]?.params) as Record<string, unknown> | undefined;
      return parent.blowup != null || params?.variant === 'B2';
    }
  }
  // minimax and rate leave fields that do not apply out (no KKT prediction for ring and grid, no equilibrium solved).
  return false;
}

/** Paths of the nulls in `v` that nullAllowed does not explain (JSON writes NaN and +-Infinity as null). */
export function unexplainedNulls(model: string, root: unknown): string[] {
  const found: string[] = [];
  const walk = (v: unknown, path: (string | number)[], parent: Record<string, unknown>) => {
    if (v === null) {
      if (!nullAllowed(model, path, root as Record<string, unknown>, parent)) found.push(path.join('.'));
      return;
    }
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i], parent));
    else if (typeof v === 'object') for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, [...path, k], v as Record<string, unknown>);
  };
  walk(root, [], root as Record<string, unknown>);
  return found;
}

function readJson(path: string): { value?: Record<string, unknown>; error?: string } {
  if (!existsSync(path)) return { error: `${basename(path)} is missing` };
  try {
    return { value: JSON.parse(readFileSync(path, 'utf8')) };
  } catch (e) {
    return { error: `${basename(path)} is not JSON: ${(e as Error).message}` };
  }
}

/** What a completed run recorded for the options (config.json first, then summary.json). */
function recorded(cfg: Record<string, unknown>, sum: Record<string, unknown>) {
  const pick = (...xs: unknown[]) => xs.find((x) => x !== undefined) as number | undefined;
  const network = cfg.network as Record<string, unknown> | undefined;
  const instances = sum.instances as unknown[] | undefined;
  return {
    n: pick(cfg.n, sum.n, sum.N, network?.N),
    steps: pick(cfg.steps, sum.steps),
    dt: pick(cfg.dt, sum.dt),
    batch: pick(cfg.batch, sum.batch, Array.isArray(instances) && instances.length > 1 ? instances.length : undefined),
    seed: pick(cfg.seed, sum.seed),
  };
}

/** The violations of the property by one outcome (empty: the case behaved). */
export function checkOutcome(m: ModelConfig, c: CliCase, o: CliOutcome, outDir: string): string[] {
  if (o.kind === 'timeout') return [`hang: no answer within ${(o.ms / 1000).toFixed(0)} s`];
  if (o.kind === 'crash') return [`crash: the process died (${o.signal ?? `exit ${o.exitCode}`}): ${lastLines(o.err, 3)}`];
  const v: string[] = [];
  const first = o.err.split('\n')[0] ?? '';
  if (o.code === 1 || /internal error/.test(o.err)) v.push(`internal error (exit ${o.code}): ${first.slice(0, 300)}`);
  else if (o.code !== 0 && o.code !== 2) v.push(`exit code ${o.code}: ${first.slice(0, 300)}`);
  if (STACK.test(o.err)) v.push('a JavaScript stack trace on stderr');
  if (o.code === 2) {
    // Notes and a long-run estimate ('ei: ...') may come first; the refusal is the 'ei: error: ' line and its fix line.
    const lines = o.err.split('\n');
    const at = lines.findIndex((l) => l.startsWith('ei: error: '));
    if (at < 0 || lines.slice(0, at).some((l) => !l.startsWith('ei: '))) v.push(`refusal has no 'ei: error: ' line after ei's notes: ${first.slice(0, 200)}`);
    const refusal = at >= 0 ? lines.slice(at, at + 2).join('\n') : first;
    const flags = [...c.args.map((a) => a.flag), '--out', '--backend'];
    const params = [...m.specs.map((s) => s.name), ...c.args.filter((a) => a.flag === '--set').map((a) => a.name)].filter((n) => n.length >= 2);
    const named = refusal.includes('invalid ') || flags.some((f) => refusal.includes(f)) || params.some((n) => new RegExp(`(^|[^A-Za-z0-9_])${n}([^A-Za-z0-9_]|$)`).test(refusal));
    if (!named) v.push(`refusal names no field: ${refusal.slice(0, 200)}`);
    if (existsSync(outDir)) v.push('a refused run left its --out folder behind');
    const partial = existsSync(dirname(outDir)) ? readdirSync(dirname(outDir)).filter((f) => f.startsWith(`.${basename(outDir)}.partial`)) : [];
    if (partial.length) v.push(`a refused run left ${partial.join(', ')} behind`);
  }
  if (o.code !== 0) return v;
  // Completed: it must not have accepted what it should refuse, and must have written a clean, faithful result.
  const bad = c.args.filter((a) => a.expect === 'invalid');
  if (bad.length) v.push(`silently accepted ${bad.map((a) => (a.flag === '--set' ? `--set ${a.name}=${JSON.stringify(a.raw)}` : `${a.flag} ${JSON.stringify(a.raw)}`)).join(', ')}`);
  for (const why of c.invalidCombos) v.push(`silently accepted: ${why}`);
  const s = readJson(join(outDir, 'summary.json'));
  const k = readJson(join(outDir, 'config.json'));
  if (s.error) v.push(s.error);
  if (k.error) v.push(k.error);
  if (!s.value || !k.value) return v;
  const nulls = unexplainedNulls(c.model, s.value);
  if (nulls.length) v.push(`summary.json has null (NaN or Infinity) at ${nulls.slice(0, 6).join(', ')}${nulls.length > 6 ? ` and ${nulls.length - 6} more` : ''}`);
  // Values that are not finite are left out and explained; one without a model's explanation is a bug.
  const unexplained = Object.entries((s.value.unavailable ?? {}) as Record<string, string>).filter(([, why]) => why === UNEXPLAINED).map(([k]) => k);
  if (unexplained.length) v.push(`summary.json has values that are not finite and that the model cannot explain: ${unexplained.slice(0, 6).join(', ')}`);
  v.push(...checkRecorded(m, c, k.value, s.value));
  return v;
}

/** A completed run must have run what was asked: the options and parameters it records equal the ones given. */
function checkRecorded(m: ModelConfig, c: CliCase, cfg: Record<string, unknown>, sum: Record<string, unknown>): string[] {
  const v: string[] = [];
  const r = recorded(cfg, sum);
  for (const a of c.args) {
    if (a.expect === 'invalid') continue;
    const x = Number(a.raw.trim());
    if (a.flag === '--set') {
      const spec = m.specs.find((s) => s.name === a.name);
      if (!spec) continue;
      const want = spec.kind === 'choice' ? a.raw.trim() : x;
      const rows = Array.isArray(cfg.params) ? (cfg.params as Record<string, unknown>[]) : cfg.params ? [cfg.params as Record<string, unknown>] : [];
      if (rows.length === 0) v.push(`--set ${a.name}=${a.raw} accepted but config.json records no params`);
      else if (rows.some((row) => row[a.name] !== want)) v.push(`--set ${a.name}=${a.raw} accepted but config.json records ${a.name} = ${JSON.stringify(rows.find((row) => row[a.name] !== want)![a.name])}`);
      continue;
    }
    const ignored = (what: string) => v.push(`${a.flag} ${a.raw} accepted but ${what}`);
    switch (a.name) {
      case 'n':
      case 'steps':
      case 'batch':
      case 'seed': {
        const got = r[a.name];
        if (got === undefined) ignored(`the result records no ${a.name} (ignored?)`);
        else if (got !== x) ignored(`the run recorded ${a.name} = ${got}`);
        break;
      }
      case 'dt':
        if (r.dt === undefined) ignored('the result records no dt (ignored?)');
        else if (Math.abs(r.dt - x) > 1e-12 * x) ignored(`the run used dt = ${r.dt}`);
        break;
      case 'T': {
        if (r.steps === undefined || r.dt === undefined) {
          ignored('the result records no steps and dt (ignored?)');
          break;
        }
        const ran = r.steps * r.dt;
        if (!(Math.abs(ran - x) <= 1e-9 * Math.max(x, r.dt))) ignored(`the run simulated ${r.steps} steps x dt ${r.dt} = ${ran}`);
        break;
      }
    }
  }
  return v;
}

function lastLines(s: string, k: number): string {
  return s.trim().split('\n').slice(-k).join(' | ').slice(0, 400);
}
