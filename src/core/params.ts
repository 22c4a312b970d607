// Model parameter specifications and their validation: every bad value names the field and the fix.
import { ParameterError } from '../errors.ts';
import { parseDecimal } from '../util/decimal.ts';
import { suggest } from '../util/suggest.ts';

/**
 * The parameter means something only when every named choice parameter has one of the listed values,
 * e.g. { variant: ['B2'] }. Giving it explicitly otherwise is an error (it would be silently ignored).
 */
export type AppliesWhen = Readonly<Record<string, readonly string[]>>;

export interface NumberParam {
  name: string;
  kind: 'number' | 'integer';
  default: number;
  unit: string;
  doc: string;
  min?: number;
  /** true: value must be > min (not >=). */
  minExclusive?: boolean;
  max?: number;
  maxExclusive?: boolean;
  appliesWhen?: AppliesWhen;
}

export interface ChoiceParam {
  name: string;
  kind: 'choice';
  default: string;
  choices: readonly string[];
  unit?: undefined;
  doc: string;
  appliesWhen?: AppliesWhen;
}

export type ParamSpec = NumberParam | ChoiceParam;
export type ParamValues = Record<string, number | string>;

/** Largest finite f32: every kernel computes in f32, so a larger parameter would become Infinity there. */
export const F32_MAX = 3.4028234663852886e38;
/** Smallest normal f32: GPUs may flush smaller (subnormal) values to 0, so a nonzero parameter below it could act as 0. */
export const F32_MIN_NORMAL = 1.1754943508222875e-38;

/** " (did you mean X?)" for a misspelt name, or ''. */
export function suggestFragment(name: string, valid: readonly string[]): string {
  const s = suggest(name, valid);
  return s ? ` (did you mean ${s}?)` : '';
}

function describeRange(p: NumberParam): string {
  const lo = p.min === undefined ? '' : `${p.minExclusive ? '>' : '>='} ${p.min}`;
  const hi = p.max === undefined ? '' : `${p.maxExclusive ? '<' : '<='} ${p.max}`;
  return [lo, hi].filter(Boolean).join(' and ') || 'finite';
}

/** Checks one numeric value against its spec (and the f32 range of the kernels); throws ParameterError naming `model.name`. */
export function checkNumber(model: string, p: NumberParam, v: number): number {
  const field = `${model}.${p.name}`;
  const fix = `use --set ${p.name}=<value ${describeRange(p)}${p.unit ? `, in ${p.unit}` : ''}>`;
  if (!Number.isFinite(v)) throw new ParameterError(field, `${v} is not a finite number`, fix);
  if (p.kind === 'integer' && !Number.isInteger(v)) throw new ParameterError(field, `${v} is not an integer`, fix);
  if (p.min !== undefined && (p.minExclusive ? v <= p.min : v < p.min)) throw new ParameterError(field, `${v} must be ${describeRange(p)}`, fix);
  if (p.max !== undefined && (p.maxExclusive ? v >= p.max : v > p.max)) throw new ParameterError(field, `${v} must be ${describeRange(p)}`, fix);
  if (Math.abs(v) > F32_MAX) {
    throw new ParameterError(field, `${v} is outside the f32 range the kernels compute in (|x| <= ${F32_MAX})`, `use --set ${p.name}=<value with magnitude below 3.4e38${p.unit ? `, in ${p.unit}` : ''}>`);
  }
  if (v !== 0 && Math.abs(v) < F32_MIN_NORMAL) {
    const zeroOk = (p.min === undefined || p.min < 0 || (p.min === 0 && !p.minExclusive)) && (p.max === undefined || p.max > 0 || (p.max === 0 && !p.maxExclusive));
    throw new ParameterError(field, `${v} is below the smallest normal f32 (${F32_MIN_NORMAL}); the kernels compute in f32 and may treat it as 0`, `use --set ${p.name}=<value with magnitude >= 1.2e-38${zeroOk ? ', or 0' : ''}${p.unit ? `, in ${p.unit}` : ''}>`);
  }
  return v;
}

const explicitNames = new WeakMap<ParamValues, ReadonlySet<string>>();

/** The parameter names the user gave explicitly when `values` was resolved (empty for values not from resolveParams). */
export function givenParams(values: ParamValues): ReadonlySet<string> {
  return explicitNames.get(values) ?? new Set();
}

/** "variant=B2", "network=tight-balance|ring": the condition of an appliesWhen, for messages and tables. */
export function describeAppliesWhen(when: AppliesWhen): string {
  return Object.entries(when).map(([k, vs]) => `${k}=${vs.join('|')}`).join(', ');
}

/** The first condition of `spec` that the resolved choices break, or null when it applies. */
function brokenCondition(spec: ParamSpec, choices: ParamValues): { key: string; allowed: readonly string[] } | null {
  for (const [key, allowed] of Object.entries(spec.appliesWhen ?? {})) {
    if (!allowed.includes(String(choices[key]))) return { key, allowed };
  }
  return null;
}

/**
 * Resolves user-given values (strings from --set or numbers from a file) against the specs:
 * unknown names are listed with the valid ones, names that do not apply to the chosen variant say
 * which do, defaults fill the rest.
 */
export function resolveParams(model: string, specs: readonly ParamSpec[], given: Record<string, string | number>): ParamValues {
  const names = specs.map((s) => s.name);
  for (const k of Object.keys(given)) {
    if (!names.includes(k)) {
      throw new ParameterError(`${model}.${k}`, `unknown parameter${suggestFragment(k, names)}`, `valid parameters of ${model}: ${names.join(', ')}`);
    }
  }
  const out: ParamValues = {};
  // Choices first: whether a parameter applies depends on them.
  for (const p of specs) {
    if (p.kind !== 'choice') continue;
    const raw = given[p.name];
    const v = raw === undefined ? p.default : String(raw).trim();
    if (!p.choices.includes(v)) {
      const s = suggest(v, p.choices);
      throw new ParameterError(`${model}.${p.name}`, `'${raw}' is not one of ${p.choices.join(', ')}`, `use --set ${p.name}=${s ?? p.choices[0]}`);
    }
    out[p.name] = v;
  }
  for (const p of specs) {
    if (given[p.name] === undefined) continue;
    const broken = brokenCondition(p, out);
    if (!broken) continue;
    const current = String(out[broken.key]);
    // What the user may have meant: the parameters that belong to the current choice instead.
    const instead = specs.filter((q) => q.appliesWhen?.[broken.key] && !brokenCondition(q, out)).map((q) => q.name);
    throw new ParameterError(
      `${model}.${p.name}`,
      `applies only when ${broken.key} is ${broken.allowed.join(' or ')}, but ${broken.key} is ${current}, which ignores it`,
      `leave ${p.name} unset, or choose --set ${broken.key}=${broken.allowed[0]}${instead.length ? `; ${broken.key}=${current} takes ${instead.join(', ')} instead` : ''}`,
    );
  }
  for (const p of specs) {
    if (p.kind === 'choice') continue;
    const raw = given[p.name];
    let v: number;
    if (raw === undefined) v = p.default;
    else if (typeof raw === 'number') v = raw;
    else {
      // Strict decimal: Number() would take '0x10' as 16 and ' ' as 0.
      v = parseDecimal(raw);
      if (Number.isNaN(v)) throw new ParameterError(`${model}.${p.name}`, `'${raw}' is not a decimal number`, `use --set ${p.name}=<number${p.unit ? ` in ${p.unit}` : ''}>, e.g. ${p.default}`);
    }
    out[p.name] = checkNumber(model, p, v);
  }
  explicitNames.set(out, new Set(Object.keys(given)));
  return out;
}

/** A table of the parameters for help text and the README; variant-specific ones start with their condition. */
export function makeParamTable(specs: readonly ParamSpec[]): string {
  const rows = specs.map((p) => {
    const d = p.kind === 'choice' ? `${p.default} (${p.choices.join('|')})` : `${p.default}${p.unit ? ` ${p.unit}` : ''}`;
    const when = p.appliesWhen ? `[${describeAppliesWhen(p.appliesWhen)}] ` : '';
    return `  ${p.name.padEnd(10)} ${d.padEnd(26)} ${when}${p.doc}`;
  });
  if (specs.some((p) => p.appliesWhen)) rows.push('  [name=a|b]: applies only with that choice; setting it under another choice is an error');
  return rows.join('\n');
}
