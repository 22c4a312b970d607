// Checks a RunRequest against what a model takes, once, before the model resolves it.
import { ParameterError } from '../errors.ts';
import { seedToKey } from '../rng/philox.ts';
import { runOptionNames, type RunOptionName, type RunOptionSupport, type RunRequest } from './contract.ts';

/** The CLI flag of each run option (messages name the flag: the CLI is how most users meet the options). */
export const runOptionFlags: Record<RunOptionName, string> = {
  n: '--n',
  batch: '--batch',
  steps: '--steps',
  T: '--T',
  dt: '--dt',
  recordEvery: '--record-every',
  recordSpikes: '--record-spikes',
  recordTraces: '--record-traces',
  traceEvery: '--trace-every',
};

const integerOptions: Partial<Record<RunOptionName, number>> = { n: 1, batch: 1, steps: 1, recordEvery: 1, recordSpikes: 0, recordTraces: 0, traceEvery: 1 };

/**
 * Refuses every option the model does not take (naming it, with what the model takes instead) and every option that
 * is not a number of the right kind. Options left undefined are the model's defaults.
 */
export function checkRequest(model: string, support: RunOptionSupport, request: RunRequest): void {
  const known = new Set<string>([...runOptionNames, 'params', 'seed']);
  for (const k of Object.keys(request)) {
    if (!known.has(k) && (request as Record<string, unknown>)[k] !== undefined) {
      throw new ParameterError(k, `unknown run option`, `run options are ${[...known].join(', ')}`);
    }
  }
  // In the order given (the CLI passes the flags in the order they were typed).
  const unused = (Object.keys(request) as RunOptionName[]).filter((k) => (runOptionNames as readonly string[]).includes(k) && request[k] !== undefined && !support.takes.includes(k));
  if (unused.length) {
    const names = unused.map((x) => runOptionFlags[x]);
    const hints = [...new Set(unused.map((x) => support.instead[x] ?? `drop ${runOptionFlags[x]}`))];
    const takes = support.takes.map((x) => runOptionFlags[x]).join(', ');
    throw new ParameterError(names.join('/'), `${names.join(', ')} ${unused.length > 1 ? 'are' : 'is'} not used by ${model}, which would ignore ${unused.length > 1 ? 'them' : 'it'}`, `${hints.join('; ')}; ${model} takes ${takes} and --set (see \`ei models\`)`);
  }
  for (const k of runOptionNames) {
    const v = request[k];
    if (v === undefined) continue;
    const min = integerOptions[k];
    if (typeof v !== 'number' || Number.isNaN(v)) throw new ParameterError(runOptionFlags[k], `${String(v)} is not a number`, `give ${runOptionFlags[k]} a number`);
    if (min !== undefined && !(Number.isInteger(v) && v >= min)) throw new ParameterError(runOptionFlags[k], `${v} is not an integer >= ${min}`, `give ${runOptionFlags[k]} an integer >= ${min}`);
    if ((k === 'T' || k === 'dt') && !(Number.isFinite(v) && v > 0)) throw new ParameterError(runOptionFlags[k], `${v} is not a positive duration`, `give ${runOptionFlags[k]} > 0`);
  }
  if (request.params !== undefined && (typeof request.params !== 'object' || request.params === null || Array.isArray(request.params))) {
    throw new ParameterError('params', 'is not an object of name: value pairs', "give params as e.g. { variant: 'B1', JE: 1 }");
  }
}

/** The seed (default 1) and its 64-bit Philox key: the one place a seed becomes a key. */
export function resolveSeed(seed: number | undefined): { seed: number; key: [number, number] } {
  const s = seed ?? 1;
  return { seed: s, key: seedToKey(s) };
}
