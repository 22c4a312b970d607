// A small typed argv parser for the `ei` command: flags with types, defaults, bounds and help text, and errors that say what to type instead.
import { ConfigError, ParameterError } from '../errors.ts';
import { suggest } from '../util/suggest.ts';
import { DECIMAL as NUMERIC, parseDecimal } from '../util/decimal.ts';

export { editDistance, suggest } from '../util/suggest.ts';

export type FlagType = 'string' | 'number' | 'integer' | 'boolean' | 'strings';

export interface FlagSpec {
  type: FlagType;
  help: string;
  /** One-letter alias, e.g. 'n' for -n. */
  short?: string;
  default?: string | number | boolean | readonly string[];
  required?: boolean;
  /** Inclusive bounds for number / integer flags (min: 0 forbids negatives). */
  min?: number;
  max?: number;
  /** Allowed values of a string flag. */
  choices?: readonly string[];
  /** Placeholder in help, e.g. 'name=value'. */
  valueName?: string;
}

export interface PositionalSpec {
  name: string;
  help: string;
  required?: boolean;
  /** Takes all remaining positionals (must be last). */
  variadic?: boolean;
}

export interface ArgSpec {
  /** Command name for usage and errors, e.g. 'ei sweep'. */
  command: string;
  description?: string;
  /** Flag names in kebab-case without dashes, e.g. 'shard-count'. */
  flags: Record<string, FlagSpec>;
  positionals?: readonly PositionalSpec[];
}

type FlagValue<F extends FlagSpec> = F['type'] extends 'boolean'
  ? boolean
  : F['type'] extends 'strings'
    ? string[]
    : F extends { default: unknown } | { required: true }
      ? F['type'] extends 'number' | 'integer' ? number : string
      : (F['type'] extends 'number' | 'integer' ? number : string) | undefined;

/** Parsed flag values, typed from the spec: booleans default false, repeated flags to []. */
export type ParsedFlags<S extends ArgSpec> = { [K in keyof S['flags']]: FlagValue<S['flags'][K]> };

export interface ParsedArgs<S extends ArgSpec = ArgSpec> {
  flags: ParsedFlags<S>;
  positionals: string[];
  /** Flags the user actually gave (not defaults), e.g. to record in the run's config. */
  given: Set<string>;
  /** -h / --help was given; the caller prints makeHelpText(spec) and exits. */
  help: boolean;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function placeholder(f: FlagSpec): string {
  if (f.valueName) return f.valueName;
  if (f.choices) return f.choices.join('|');
  return f.type === 'integer' ? 'int' : f.type === 'number' ? 'x' : 'value';
}

function convert(name: string, f: FlagSpec, raw: string): string | number | boolean {
  const flag = `--${name}`;
  switch (f.type) {
    case 'boolean': {
      const v = raw.toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      throw new ParameterError(flag, `'${raw}' is not a boolean`, `write ${flag} (true), --no-${name} (false) or ${flag}=true|false`);
    }
    case 'number':
    case 'integer': {
      const v = parseDecimal(raw);
      const kind = f.type === 'integer' ? 'an integer' : 'a number';
      if (!Number.isFinite(v)) throw new ParameterError(flag, `'${raw}' is not ${kind}`, `write ${flag} ${f.type === 'integer' ? '1000' : '0.5'}`);
      if (f.type === 'integer' && !Number.isSafeInteger(v)) {
        // Whole numbers beyond 2^53 - 1 are not exact in a double: say so instead of "not an integer" with the same number as the fix.
        if (Number.isInteger(v) && v > 0) {
          throw new ParameterError(flag, `${raw} is above 2^53 - 1 = ${Number.MAX_SAFE_INTEGER}, the largest exact integer`, `give a value <= ${Math.min(Number.MAX_SAFE_INTEGER, f.max ?? Infinity)}`);
        }
        if (Number.isInteger(v) && f.min === undefined) {
          throw new ParameterError(flag, `${raw} is below -(2^53 - 1) = -${Number.MAX_SAFE_INTEGER}, the most negative exact integer`, `give a value >= -${Number.MAX_SAFE_INTEGER}`);
        }
        // A huge negative integer with a minimum is reported by the minimum check below.
        if (!Number.isInteger(v)) throw new ParameterError(flag, `'${raw}' is not ${kind}`, `give a whole number, e.g. ${flag} ${Math.round(v)}`);
      }
      if (f.min !== undefined && v < f.min) {
        const problem = f.min === 0 && v < 0 ? `${raw} is negative` : `${raw} is below the minimum ${f.min}`;
        throw new ParameterError(flag, problem, `give a value >= ${f.min}`);
      }
      if (f.max !== undefined && v > f.max) throw new ParameterError(flag, `${raw} is above the maximum ${f.max}`, `give a value <= ${f.max}`);
      return v;
    }
    default: {
      if (f.choices && !f.choices.includes(raw)) {
        const s = suggest(raw, f.choices);
        throw new ParameterError(flag, `'${raw}' is not one of ${f.choices.join(', ')}`, s ? `did you mean ${flag} ${s}?` : `use one of: ${f.choices.join(', ')}`);
      }
      return raw;
    }
  }
}

/**
 * Parses argv (without 'node' and the script). Accepts --name value, --name=value, -s value,
 * --flag / --no-flag for booleans, repeated --name for 'strings' flags, and '--' to end flags.
 */
export function parseArgs<const S extends ArgSpec>(argv: readonly string[], spec: S): ParsedArgs<S> {
  const flags = spec.flags as Record<string, FlagSpec>;
  const names = Object.keys(flags);
  const shortToName = new Map<string, string>();
  for (const n of names) {
    const s = flags[n].short;
    if (s) shortToName.set(s, n);
  }
  const helpIsFlag = 'help' in flags;
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  const positionals: string[] = [];
  let help = false;

  const unknown = (token: string, bare: string): never => {
    const s = suggest(bare, names);
    const valid = names.map((n) => `--${n}`).join(', ');
    throw new ConfigError(
      `unknown flag ${token} for '${spec.command}'`,
      `${s ? `did you mean --${s}? ` : ''}valid flags: ${valid}${helpIsFlag ? '' : ', --help'}`,
    );
  };

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    // A lone '-' or a negative number is a positional, not a flag.
    if (!token.startsWith('-') || token === '-' || NUMERIC.test(token)) {
      positionals.push(token);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      name = eq >= 0 ? token.slice(2, eq) : token.slice(2);
      inline = eq >= 0 ? token.slice(eq + 1) : undefined;
    } else {
      const short = token.slice(1, 2);
      inline = token.length > 2 ? token.slice(2).replace(/^=/, '') : undefined;
      if (short === 'h' && !shortToName.has('h')) name = 'help';
      else name = shortToName.get(short) ?? unknown(token, short);
    }
    if (name === 'help' && !helpIsFlag) {
      help = true;
      continue;
    }
    let f = flags[name];
    let negated = false;
    if (!f && name.startsWith('no-') && flags[name.slice(3)]?.type === 'boolean') {
      name = name.slice(3);
      f = flags[name];
      negated = true;
    }
    if (!f) unknown(token.split('=')[0], name);
    const flag = `--${name}`;
    if (f.type !== 'strings' && given.has(name)) {
      throw new ParameterError(flag, 'was given twice', `give ${flag} once${f.type === 'boolean' ? '' : '; only repeatable flags may repeat'}`);
    }
    let value: string | number | boolean;
    if (f.type === 'boolean') {
      if (negated && inline !== undefined) throw new ParameterError(flag, `--no-${name} takes no value`, `write --no-${name} or ${flag}=false`);
      value = negated ? false : inline === undefined ? true : convert(name, f, inline);
    } else {
      let raw = inline;
      if (raw === undefined) {
        const next = argv[i + 1];
        // The next token is a value unless it looks like a flag. '-' and a digit is a value (a negative number, or
        // '-1/4'), so the flag's own parser can say what is wrong with it; no flag name starts with a digit.
        if (next === undefined || (next.startsWith('-') && next !== '-' && !NUMERIC.test(next) && !/^-\d/.test(next))) {
          throw new ParameterError(flag, `expects a value (${placeholder(f)}) but none was given`, `write ${flag} ${placeholder(f)} or ${flag}=${placeholder(f)}`);
        }
        raw = next;
        i++;
      }
      value = convert(name, f, raw);
    }
    given.add(name);
    if (f.type === 'strings') ((values[name] ??= []) as unknown[]).push(value);
    else values[name] = value;
  }

  for (const n of names) {
    const f = flags[n];
    if (values[n] !== undefined) continue;
    if (f.required && !help) {
      throw new ParameterError(`--${n}`, 'is required', `add --${n} ${placeholder(f)} (${f.help})`);
    }
    if (f.default !== undefined) values[n] = Array.isArray(f.default) ? [...f.default] : f.default;
    else if (f.type === 'boolean') values[n] = false;
    else if (f.type === 'strings') values[n] = [];
  }

  const pos = spec.positionals ?? [];
  const variadic = pos.length > 0 && pos[pos.length - 1].variadic === true;
  if (!help) {
    const needed = pos.filter((p) => p.required).length;
    if (positionals.length < needed) {
      const p = pos[positionals.length];
      throw new ParameterError(`<${p.name}>`, 'is missing', `usage: ${usageLine(spec)}`);
    }
    if (!variadic && positionals.length > pos.length) {
      const extra = positionals[pos.length];
      throw new ConfigError(`unexpected argument '${extra}' for '${spec.command}'`, `usage: ${usageLine(spec)}${extra.includes('=') ? ` (to set a parameter write --set ${extra})` : ''}`);
    }
  }
  return { flags: values as ParsedFlags<S>, positionals, given, help };
}

/** Parses ['tau=0.02', 'sigmoid=probit'] from repeated --set flags into {tau: '0.02', sigmoid: 'probit'}. */
export function parseSetAssignments(items: readonly string[], flag = '--set'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const name = eq >= 0 ? item.slice(0, eq).trim() : '';
    const value = eq >= 0 ? item.slice(eq + 1).trim() : '';
    if (eq < 0 || name === '') throw new ParameterError(flag, `'${item}' is not name=value`, `write ${flag} name=value, e.g. ${flag} tau=0.02`);
    if (value === '') throw new ParameterError(flag, `'${item}' has no value after '='`, `write ${flag} ${name}=value`);
    if (Object.prototype.hasOwnProperty.call(out, name)) {
      throw new ParameterError(flag, `'${name}' is set twice (${out[name]} and ${value})`, `give ${flag} ${name}=... once`);
    }
    out[name] = value;
  }
  return out;
}

function usageLine(spec: ArgSpec): string {
  const pos = (spec.positionals ?? []).map((p) => {
    const n = p.variadic ? `${p.name}...` : p.name;
    return p.required ? `<${n}>` : `[${n}]`;
  });
  const required = Object.entries(spec.flags).filter(([, f]) => f.required).map(([n, f]) => `--${n} ${placeholder(f)}`);
  return [spec.command, ...pos, ...required, '[flags]'].join(' ');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (cur && cur.length + 1 + word.length > width) {
      lines.push(cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) lines.push(cur);
  return lines.length ? lines : [''];
}

/** Help text: usage, description, arguments and flags with types, defaults and choices, wrapped to 80 columns. */
export function makeHelpText(spec: ArgSpec): string {
  const out = [`usage: ${usageLine(spec)}`];
  if (spec.description) out.push('', ...wrap(spec.description, 78));
  const rows: [string, string][] = [];
  const pos = spec.positionals ?? [];
  if (pos.length) {
    out.push('', 'arguments:');
    for (const p of pos) rows.push([`<${p.name}>`, p.help]);
  }
  const flagRows: [string, string][] = Object.entries(spec.flags).map(([n, f]) => {
    const short = f.short ? `-${f.short}, ` : '    ';
    const left = f.type === 'boolean' ? `${short}--${n}` : `${short}--${n} ${placeholder(f)}`;
    const extras: string[] = [];
    if (f.type === 'strings') extras.push('repeatable');
    if (f.required) extras.push('required');
    if (f.default !== undefined && !(Array.isArray(f.default) && f.default.length === 0)) {
      extras.push(`default: ${Array.isArray(f.default) ? f.default.join(' ') : String(f.default)}`);
    }
    if (f.min !== undefined && f.max !== undefined) extras.push(`${f.min}..${f.max}`);
    else if (f.min !== undefined) extras.push(`>= ${f.min}`);
    else if (f.max !== undefined) extras.push(`<= ${f.max}`);
    return [left, extras.length ? `${f.help} (${extras.join(', ')})` : f.help];
  });
  if (!('help' in spec.flags)) flagRows.push(['-h, --help', 'show this help']);
  const col = Math.min(32, Math.max(...[...rows, ...flagRows].map(([l]) => l.length)) + 2);
  const render = ([left, right]: [string, string]) => {
    const body = wrap(right, Math.max(30, 78 - 2 - col));
    const first = left.length + 2 > col ? [`  ${left}`, `  ${' '.repeat(col)}${body[0]}`] : [`  ${left.padEnd(col)}${body[0]}`];
    return [...first, ...body.slice(1).map((l) => `  ${' '.repeat(col)}${l}`)];
  };
  for (const r of rows) out.push(...render(r));
  out.push('', 'flags:');
  for (const r of flagRows) out.push(...render(r));
  return out.join('\n') + '\n';
}
