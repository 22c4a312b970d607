// Model parameter specifications and their validation: every bad value names the field and the fix.
import { ParameterError } from '../errors.ts';
import { suggest } from '../util/suggest.ts';

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
}

export interface ChoiceParam {
  name: string;
  kind: 'choice';
  default: string;
  choices: readonly string[];
  unit?: undefined;
  doc: string;
}

export type ParamSpec = NumberParam | ChoiceParam;
export type ParamValues = Record<string, number | string>;

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

/** Checks one numeric value against its spec; throws ParameterError naming `model.name`. */
export function checkNumber(model: string, p: NumberParam, v: number): number {
  const field = `${model}.${p.name}`;
  const fix = `use --set ${p.name}=<value ${describeRange(p)}${p.unit ? `, in ${p.unit}` : ''}>`;
  if (!Number.isFinite(v)) throw new ParameterError(field, `${v} is not a finite number`, fix);
  if (p.kind === 'integer' && !Number.isInteger(v)) throw new ParameterError(field, `${v} is not an integer`, fix);
  if (p.min !== undefined && (p.minExclusive ? v <= p.min : v < p.min)) throw new ParameterError(field, `${v} must be ${describeRange(p)}`, fix);
  if (p.max !== undefined && (p.maxExclusive ? v >= p.max : v > p.max)) throw new ParameterError(field, `${v} must be ${describeRange(p)}`, fix);
  return v;
}

/**
 * Resolves user-given values (strings from --set or numbers from a file) against the specs:
 * unknown names are listed with the valid ones, defaults fill the rest.
 */
export function resolveParams(model: string, specs: readonly ParamSpec[], given: Record<string, string | number>): ParamValues {
  const names = specs.map((s) => s.name);
  for (const k of Object.keys(given)) {
    if (!names.includes(k)) {
      throw new ParameterError(`${model}.${k}`, `unknown parameter${suggestFragment(k, names)}`, `valid parameters of ${model}: ${names.join(', ')}`);
    }
  }
  const out: ParamValues = {};
  for (const p of specs) {
    const raw = given[p.name];
    if (p.kind === 'choice') {
      const v = raw === undefined ? p.default : String(raw);
      if (!p.choices.includes(v)) {
        throw new ParameterError(`${model}.${p.name}`, `'${v}' is not one of ${p.choices.join(', ')}`, `use --set ${p.name}=${p.choices[0]}`);
      }
      out[p.name] = v;
      continue;
    }
    let v: number;
    if (raw === undefined) v = p.default;
    else if (typeof raw === 'number') v = raw;
    else {
      const t = raw.trim();
      v = t === '' ? NaN : Number(t);
      if (Number.isNaN(v)) throw new ParameterError(`${model}.${p.name}`, `'${raw}' is not a number`, `use --set ${p.name}=<number${p.unit ? ` in ${p.unit}` : ''}>`);
    }
    out[p.name] = checkNumber(model, p, v);
  }
  return out;
}

/** A table of the parameters for help text and the README. */
export function makeParamTable(specs: readonly ParamSpec[]): string {
  return specs
    .map((p) => {
      const d = p.kind === 'choice' ? `${p.default} (${p.choices.join('|')})` : `${p.default}${p.unit ? ` ${p.unit}` : ''}`;
      return `  ${p.name.padEnd(10)} ${d.padEnd(26)} ${p.doc}`;
    })
    .join('\n');
}
