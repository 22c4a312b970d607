// Which `ei run` flags each model takes: a flag the user typed that the model would not use is an error, never dropped.
import { ParameterError } from '../errors.ts';
import { checkRunLimits, type RunEstimate } from '../core/limits.ts';
import type { GpuContext } from '../gpu/context.ts';

/** Per model: the model-specific run flags it takes (every model takes the others: --set, --seed, --backend, --out, ...), and what to use instead of each one it does not take. */
export const runFlagsByModel: Record<string, { takes: readonly string[]; instead: Record<string, string> }> = {
  poisson: {
    takes: ['n', 'steps', 'T', 'dt', 'batch', 'record-spikes', 'record-traces', 'trace-every', 'record-every'],
    instead: {},
  },
  hybrid: {
    takes: ['n', 'steps', 'T', 'dt', 'batch', 'record-every'],
    instead: {
      'record-spikes': 'hybrid records population moments in timeseries.csv (thinned with --record-every); per-neuron recorders are poisson-only',
      'record-traces': 'hybrid records population moments in timeseries.csv (thinned with --record-every); per-neuron recorders are poisson-only',
      'trace-every': 'hybrid has no trace recorder; thin timeseries.csv with --record-every',
    },
  },
  binary: {
    takes: ['n', 'steps', 'record-every'],
    instead: {
      T: 'the binary model is discrete-time: give --steps (default burnin + 20000)',
      dt: 'the binary model is discrete-time: give --steps (default burnin + 20000)',
      batch: '`ei run binary` runs one network; for replicas use `ei sweep binary --grid ... --replicas R`',
      'record-spikes': 'binary writes the active count of every step (timeseries.csv, thinned with --record-every) and its histogram; there are no per-neuron recorders',
      'record-traces': 'binary writes the active count of every step (timeseries.csv, thinned with --record-every) and its histogram; there are no per-neuron recorders',
      'trace-every': 'binary has no trace recorder; thin timeseries.csv with --record-every',
    },
  },
  minimax: {
    takes: ['T', 'dt', 'batch'],
    instead: {
      n: 'the network sets the size: --set network=tight-balance|ring|grid (grid: --set side=...)',
      steps: 'give --T (seconds) and optionally --dt; the steps are T / dt',
      'record-spikes': 'minimax always writes the raster of every neuron over the last 20000 steps (raster.svg) and rates.csv',
      'record-traces': 'minimax writes rates, input moments and ISI statistics (summary.json, rates.csv); it has no trace recorder',
      'trace-every': 'minimax has no trace recorder',
      'record-every': 'minimax writes no per-step time series (rates.csv and the raster of the last 20000 steps)',
    },
  },
  rate: {
    takes: ['T', 'dt'],
    instead: {
      n: 'the circuit sets its cells: --set circuit=wilson-cowan|lateral|column, channels=..., layers=...',
      steps: 'give --T (in units of tau) and optionally --dt; the steps are T / dt',
      batch: 'the batch is the set of initial states: --set initial=K',
      'record-spikes': 'rate circuits have no spikes; timeseries.csv samples every trajectory about 400 times',
      'record-traces': 'timeseries.csv samples every trajectory about 400 times; there is no trace recorder',
      'trace-every': 'timeseries.csv samples every trajectory about 400 times; there is no trace recorder',
      'record-every': 'timeseries.csv samples every trajectory about 400 times (steps / 400)',
    },
  },
};

/**
 * Refuses a flag the user typed that `model` does not use (naming it and what the model takes instead), and flags
 * that do nothing in combination: --adapter with --backend cpu, --trace-every without --record-traces.
 */
export function checkRunFlags(model: string, a: { given: ReadonlySet<string>; flags: object }): void {
  const spec = runFlagsByModel[model];
  if (!spec) return;
  // Only model-specific flags can be unused; flags outside every model's list (--set, --out, ...) apply to all.
  const specific = new Set(Object.values(runFlagsByModel).flatMap((m) => m.takes));
  const unused = [...a.given].filter((name) => specific.has(name) && !spec.takes.includes(name));
  if (unused.length) {
    const names = unused.map((x) => `--${x}`);
    const hints = [...new Set(unused.map((x) => spec.instead[x] ?? `drop --${x}`))];
    const takes = spec.takes.map((x) => `--${x}`).join(', ');
    throw new ParameterError(names.join('/'), `${names.join(', ')} ${unused.length > 1 ? 'are' : 'is'} not used by ${model}, which would ignore ${unused.length > 1 ? 'them' : 'it'}`, `${hints.join('; ')}; ${model} takes ${takes} and --set (see \`ei models\`)`);
  }
  const f = a.flags as Record<string, unknown>;
  if (a.given.has('adapter') && f.backend === 'cpu') {
    throw new ParameterError('--adapter', `--adapter ${String(f.adapter)} has no effect with --backend cpu`, 'drop --adapter, or use --backend webgpu (or auto) to choose the WebGPU adapter');
  }
  if (a.given.has('trace-every') && f['record-traces'] === 0) {
    throw new ParameterError('--trace-every', 'has no effect with --record-traces 0 (no traces are recorded)', 'drop --trace-every, or record traces with --record-traces M');
  }
}

/** Before the backend is chosen: memory, and a refusal when even the fastest possible backend would take too long. */
export function checkBeforeSession(e: RunEstimate, f: { backend: string; adapter: string }): void {
  checkRunLimits(e, { backend: f.backend as 'auto', adapter: f.adapter });
}

/** Once the backend is chosen: device limits and the time estimate, printed first when the run is long. */
export function checkInSession(e: RunEstimate, sel: { backend: 'cpu' | 'webgpu'; ctx: GpuContext | null }): void {
  checkRunLimits(e, { backend: sel.backend, ctx: sel.ctx }, (m) => console.error(m));
}

/** Prints the notice of a lowered default dt (also recorded in config.json as dtAdjusted). */
export function noteDtAdjusted(adj: { note: string } | null): void {
  if (adj) console.error(`ei: note: ${adj.note}`);
}
