// One binary E-I network as a Runner: resolve (every option checked once), estimate, and the runner that advances the
// simulation, keeps the active count of every --record-every-th step and reports the entropy next to the annealed chain.
import type { Backend, ResolvedRun, RunControl, RunOptionSupport, RunRequest, RunTarget, Runner } from '../../core/contract.ts';
import { resolveSteps, type RunEstimate } from '../../core/limits.ts';
import { resolveParams, type ParamValues } from '../../core/params.ts';
import { checkRequest, resolveSeed } from '../../core/request.ts';
import { DisposedError, ParameterError } from '../../errors.ts';
import { annealedChain, type ChainMethod } from './chain.ts';
import { advanceBinary, createBinarySimulation, estimateBinaryRun, type BinarySimulation } from './experiment.ts';
import { binaryLambda, type BinaryChunk, type BinaryParams } from './network.ts';
import { WasmBinarySimulation } from './wasm-simulation.ts';
import { binaryBurnin, binaryParameters, makeBinaryParams } from './params.ts';

/** Neurons when --n is not given. */
export const binaryDefaultN = 500;
/** Post-burn-in steps when --steps is not given (the run is burnin + this). */
const binaryDefaultSamples = 20_000;

const discrete = 'the binary model is discrete-time: give --steps (default burnin + 20000)';
const noRecorders = 'binary writes the active count of every step (timeseries.csv, thinned with --record-every) and its histogram; there are no per-neuron recorders';

export const binaryOptions: RunOptionSupport = {
  takes: ['n', 'steps', 'recordEvery'],
  instead: {
    T: discrete,
    dt: discrete,
    batch: '`ei run binary` runs one network; for replicas use `ei sweep binary --grid ... --replicas R`',
    recordSpikes: noRecorders,
    recordTraces: noRecorders,
    traceEvery: 'binary has no trace recorder; thin timeseries.csv with --record-every',
  },
};

/** A resolved `ei run binary`: one network of N = n neurons. */
export interface BinaryResolved extends ResolvedRun {
  n: number;
  batch: 1;
  dt: null;
  dtAdjusted: null;
  /** The network's simulation parameters (k = N - 1 for all-to-all). */
  network: BinaryParams;
  burnin: number;
  recordEvery: number;
  /** config.json: the network and the record interval (beside the common fields). */
  options: { network: BinaryParams; recordEvery: number };
}

/** The steps of a binary run or sweep: --steps (default burnin + 20000), above the burn-in. */
export function resolveBinarySteps(steps: number | undefined, burnin: number): number {
  const plan = resolveSteps({ model: 'binary', steps, dtDefault: 1, defaultT: burnin + binaryDefaultSamples });
  if (plan.steps <= burnin) throw new ParameterError('--steps', `${plan.steps} steps leave nothing after burnin ${burnin}`, `use --steps above ${burnin} (or --set burnin=...)`);
  return plan.steps;
}

/** Checks every option once and resolves the defaults, the seed's key and the network. */
export function resolveBinary(request: RunRequest): BinaryResolved {
  checkRequest('binary', binaryOptions, request);
  const p: ParamValues = resolveParams('binary', binaryParameters, { ...request.params });
  const N = request.n ?? binaryDefaultN;
  const network = makeBinaryParams(p, N);
  const burnin = binaryBurnin(p);
  const steps = resolveBinarySteps(request.steps, burnin);
  const recordEvery = request.recordEvery ?? 1;
  const { seed, key } = resolveSeed(request.seed);
  return { model: 'binary', n: N, batch: 1, steps, dt: null, seed, key, params: [p], dtAdjusted: null, neuronsPerStep: N, options: { network, recordEvery }, network, burnin, recordEvery };
}

export function estimateBinary(r: BinaryResolved, target: RunTarget): RunEstimate {
  const { N, k } = r.network;
  return estimateBinaryRun({ N, k, erdosRenyi: r.network.connectivity === 'erdos-renyi', steps: r.steps, recordEvery: r.recordEvery }, { backend: target.backend, threads: target.threads });
}

/** What a binary run measured: the histogram of m and its entropy after the burn-in, the kept active counts, the annealed chain. */
export interface BinaryResult {
  N: number;
  k: number;
  /** Steps run (normally the run's steps). */
  steps: number;
  burnin: number;
  lambda: number;
  /** Shannon entropy (bits) of the distribution of the active count m over the post-burn-in steps. */
  entropyBits: number;
  meanActivity: number;
  /** [m], m in [0, N]: post-burn-in steps by their active count. */
  histogram: Uint32Array;
  /** The active count after step `steps[i]` (1-based): every recordEvery-th step and the last. */
  timeseries: { steps: Uint32Array; activeCount: Uint32Array };
  /** The annealed chain on m (independent inputs each step): stationary distribution pi[m], its entropy and mean activity. */
  chain: { entropyBits: number; meanActivity: number; method: ChainMethod; pi: Float64Array };
}

export class BinaryRunner implements Runner<BinaryResult, BinaryChunk> {
  readonly stepsTotal: number;
  private readonly keptSteps: Uint32Array;
  private readonly keptCounts: Uint32Array;
  private nKept = 0;
  /** The annealed chain, solved once on the first result() (seconds at N = 2000, minutes at 1e5: never before it is asked for). */
  private chain: BinaryResult['chain'] | null = null;
  private disposed = false;

  private constructor(private readonly r: BinaryResolved, private readonly sim: BinarySimulation) {
    this.stepsTotal = r.steps;
    const every = r.recordEvery;
    const kept = Math.floor(r.steps / every) + (r.steps % every !== 0 ? 1 : 0);
    this.keptSteps = new Uint32Array(kept);
    this.keptCounts = new Uint32Array(kept);
  }

  static async create(r: BinaryResolved, target: RunTarget): Promise<BinaryRunner> {
    return new BinaryRunner(r, await createBinarySimulation({ params: [r.network], seed: r.seed, burnin: r.burnin }, target));
  }

  get backend(): Backend {
    return this.sim.backend;
  }

  get stepsDone(): number {
    return this.sim.step;
  }

  get threads(): number | undefined {
    return this.sim instanceof WasmBinarySimulation ? this.sim.threads : undefined;
  }

  private assertLive(): void {
    if (this.disposed) throw new DisposedError('BinaryRunner');
  }

  /** The active count after step t (1-based) is kept when t is a multiple of recordEvery, and after the last step. */
  private keep(c: BinaryChunk): void {
    for (let s = 0; s < c.steps; s++) {
      const t = c.stepStart + s + 1;
      if (t % this.r.recordEvery === 0 || t === this.stepsTotal) {
        this.keptSteps[this.nKept] = t;
        this.keptCounts[this.nKept++] = c.counts[s];
      }
    }
  }

  async run(steps: number, control: RunControl<BinaryChunk> = {}): Promise<void> {
    this.assertLive();
    if (!(Number.isInteger(steps) && steps >= 0 && this.stepsDone + steps <= this.stepsTotal)) {
      throw new ParameterError('steps', `${steps} more steps after ${this.stepsDone} passes the run's ${this.stepsTotal}`, `run at most ${this.stepsTotal - this.stepsDone} more steps`);
    }
    await advanceBinary(this.sim, steps, {
      signal: control.signal,
      onProgress: control.onProgress,
      onChunk: (c) => {
        this.keep(c);
        control.onChunk?.(c);
      },
    });
  }

  async result(): Promise<BinaryResult> {
    this.assertLive();
    const { network, burnin } = this.r;
    const N = network.N;
    const histogram = await this.sim.histogram();
    const [entropyBits] = await this.sim.entropyBits();
    const total = histogram.reduce((s, x) => s + x, 0);
    const meanActivity = histogram.reduce((s, x, m) => s + x * m, 0) / total / N;
    if (!this.chain) {
      const c = annealedChain(network);
      this.chain = { entropyBits: c.entropyBits, meanActivity: c.meanActivity, method: c.method, pi: c.pi };
    }
    return {
      N,
      k: network.k,
      steps: this.stepsDone,
      burnin,
      lambda: binaryLambda(network),
      entropyBits,
      meanActivity,
      histogram,
      timeseries: { steps: this.keptSteps.slice(0, this.nKept), activeCount: this.keptCounts.slice(0, this.nKept) },
      chain: this.chain,
    };
  }

  async readState(): Promise<Float32Array> {
    this.assertLive();
    return Float32Array.from(await this.sim.readState());
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.sim.dispose();
  }
}
