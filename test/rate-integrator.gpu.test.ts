// Batched rate-circuit integration: the WebGPU kernel against its f32 CPU mirror, RK4's order, sampling, the 2-D dispatch fold and input errors.
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { integrateRateBatchGpu, RateGpuIntegrator } from '../src/models/rate/webgpu-integrator.ts';
import { integrateRateBatchCpu, RateCpuIntegrator, type RateBatch } from '../src/models/rate/integrate-cpu.ts';
import { rateModel } from '../src/models/rate/index.ts';
import type { Activation, Circuit } from '../src/models/rate/circuit.ts';
import { ParameterError } from '../src/errors.ts';

const gpu = useGpu();

/** Small deterministic generator (mulberry32) so failures reproduce. */
function makeRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const activations: Activation['kind'][] = ['relu', 'clip', 'softclip'];

function makeActivation(kind: Activation['kind'], xmax: number): Activation {
  return kind === 'relu' ? { kind } : { kind, xmax };
}

/** Wilson-Cowan-like pair: W = [[wEE, -wEI], [wIE, -wII]], Dale signs, E cell first. */
function makeWilsonCowan(rand: () => number, kind: Activation['kind']): Circuit {
  const W = Float64Array.from([2 * rand(), -3 * rand(), 3 * rand(), -2 * rand()]);
  return {
    n: 2, W, u: Float64Array.from([2 * rand(), rand() - 0.5]), tau: Float64Array.from([0.5 + rand(), 0.5 + 2 * rand()]),
    activation: makeActivation(kind, 1 + 9 * rand()), labels: ['E', 'I'], excitatory: [true, false],
  };
}

/** n cells, the first half excitatory, weights of size ~1/sqrt(n) with Dale signs. */
function makeRandomCircuit(rand: () => number, n: number, kind: Activation['kind']): Circuit {
  const excitatory = Array.from({ length: n }, (_, i) => i < n / 2);
  const W = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) W[i * n + j] = ((excitatory[j] ? 1 : -1.3) * 2 * rand()) / Math.sqrt(n);
  return {
    n, W, u: Float64Array.from({ length: n }, () => 2 * rand()), tau: Float64Array.from({ length: n }, () => 0.5 + rand()),
    activation: makeActivation(kind, 2 + 5 * rand()), labels: excitatory.map((e, i) => `${e ? 'E' : 'I'}${i}`), excitatory,
  };
}

function makeStates(rand: () => number, length: number): Float32Array {
  return Float32Array.from({ length }, () => 2 * rand());
}

interface Agreement { identical: number; total: number; maxAbs: number; maxRel: number }

function compare(a: Float32Array, b: Float32Array): Agreement {
  expect(a.length).toBe(b.length);
  let identical = 0;
  let maxAbs = 0;
  let maxRel = 0;
  for (let k = 0; k < a.length; k++) {
    if (Object.is(a[k], b[k])) identical++;
    const d = Math.abs(a[k] - b[k]);
    maxAbs = Math.max(maxAbs, d);
    maxRel = Math.max(maxRel, d / Math.max(1, Math.abs(b[k])));
  }
  return { identical, total: a.length, maxAbs, maxRel };
}

describe('integrateRateBatchGpu vs integrateRateBatchCpu', () => {
  for (const method of ['euler', 'rk4'] as const) {
    for (const n of [2, 8]) {
      it(`${method}: ${n === 2 ? '500 Wilson-Cowan pairs' : '50 random 8x8 circuits'}`, async () => {
        const rand = makeRandom(n * 7 + (method === 'rk4' ? 1 : 0));
        const B = n === 2 ? 500 : 50;
        const circuits = Array.from({ length: B }, (_, b) => (n === 2 ? makeWilsonCowan(rand, activations[b % 3]) : makeRandomCircuit(rand, n, activations[b % 3])));
        const batch: RateBatch = { circuits, x0: makeStates(rand, B * n), dt: 0.02, steps: 300, method };
        const g = await integrateRateBatchGpu(gpu.ctx, batch);
        const c = integrateRateBatchCpu(batch);
        for (const kind of activations) {
          const pick = (x: Float32Array) => Float32Array.from(circuits.flatMap((ci, b) => (ci.activation.kind === kind ? [...x.subarray(b * n, (b + 1) * n)] : [])));
          const agree = compare(pick(g.final), pick(c.final));
          console.log(`rate ${method} n=${n} ${kind}: ${agree.identical}/${agree.total} bit-identical, max |diff| ${agree.maxAbs.toExponential(2)}, max rel ${agree.maxRel.toExponential(2)}`);
          // The kernel uses only correctly rounded +, -, * and detmath, so SwiftShader (no FMA contraction) matches
          // bit for bit; on other GPUs a contracted a*b+c could move the last bits, hence the relative bound.
          expect(agree.maxRel).toBeLessThan(1e-5);
          if (gpu.ctx.info.isSoftware) expect(agree.identical).toBe(agree.total);
        }
        expect(g.backend).toBe('webgpu');
        expect(c.backend).toBe('cpu');
        expect(g.final.every(Number.isFinite)).toBe(true);
      });
    }
  }
});

/** A float64 RK4 reference with Math.tanh (independent of the f32 mirror). */
function integrateF64(c: Circuit, x0: number[], dt: number, steps: number): number[] {
  const n = c.n;
  const xmax = c.activation.kind === 'relu' ? Infinity : c.activation.xmax;
  const f = (x: number[]) =>
    x.map((xi, i) => {
      let z = c.u[i];
      for (let j = 0; j < n; j++) z += c.W[i * n + j] * x[j];
      return (xmax * Math.tanh(Math.max(z, 0) / xmax) - xi) / c.tau[i];
    });
  let x = [...x0];
  for (let s = 0; s < steps; s++) {
    const k1 = f(x);
    const k2 = f(x.map((v, i) => v + 0.5 * dt * k1[i]));
    const k3 = f(x.map((v, i) => v + 0.5 * dt * k2[i]));
    const k4 = f(x.map((v, i) => v + dt * k3[i]));
    x = x.map((v, i) => v + (dt / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]));
  }
  return x;
}

describe('accuracy', () => {
  it('RK4 is fourth order and Euler first order on a smooth softclip circuit (vs a float64 fine-step reference)', async () => {
    // u keeps W x + u > 0 along the orbit, so softclip is smooth there (no kink at 0); weights are exact in f32.
    const circuit: Circuit = {
      n: 2, W: Float64Array.from([1.5, -2.5, 2.25, -0.5]), u: Float64Array.from([6, 1]), tau: Float64Array.from([1, 1.6]),
      activation: { kind: 'softclip', xmax: 4 }, labels: ['E', 'I'], excitatory: [true, false],
    };
    const x0 = [0.5, 0.25];
    const T = 2;
    const ref = integrateF64(circuit, x0, 1 / 512, T * 512);
    const error = async (method: 'euler' | 'rk4', dt: number) => {
      const r = await integrateRateBatchGpu(gpu.ctx, { circuits: [circuit], x0: Float32Array.from(x0), dt, steps: Math.round(T / dt), method });
      return Math.max(...ref.map((v, i) => Math.abs(r.final[i] - v)));
    };
    const rk = [await error('rk4', 0.5), await error('rk4', 0.25), await error('rk4', 0.125)];
    const eu = [await error('euler', 0.02), await error('euler', 0.01)];
    const order = Math.log2(rk[0] / rk[1]);
    console.log(`rate RK4 errors at dt 0.5/0.25/0.125: ${rk.map((e) => e.toExponential(2)).join(', ')}; ratio ${(rk[0] / rk[1]).toFixed(1)} (order ${order.toFixed(2)}); Euler ratio ${(eu[0] / eu[1]).toFixed(2)}`);
    // Still slightly pre-asymptotic at dt/tau = 0.5 (a float64 RK4 gives ratios 20.9, 18.5, 17.3 when halving
    // further); at dt = 0.125 the error is already at the f32 rounding floor (x ~ 3, ulp 2.4e-7).
    expect(order).toBeGreaterThan(3.5);
    expect(order).toBeLessThan(4.6);
    expect(rk[2]).toBeLessThan(2e-6);
    expect(eu[0] / eu[1]).toBeGreaterThan(1.8);
    expect(eu[0] / eu[1]).toBeLessThan(2.2);
  });
});

describe('trajectories and dispatch', () => {
  it('samples every sampleEvery steps (step 0 included), across dispatch, submit and sample-chunk boundaries', async () => {
    const rand = makeRandom(3);
    const B = 5;
    const circuits = Array.from({ length: B }, (_, b) => makeWilsonCowan(rand, activations[b % 3]));
    const batch: RateBatch = { circuits, x0: makeStates(rand, B * 2), dt: 0.05, steps: 47, method: 'rk4', sampleEvery: 10 };
    const progress: number[] = [];
    // One sampled row per chunk, 3 steps per dispatch, 2 dispatches per submit: every boundary is crossed.
    const g = await integrateRateBatchGpu(gpu.ctx, batch, (done, total) => { expect(total).toBe(47); progress.push(done); }, { stepsPerDispatch: 3, dispatchesPerSubmit: 2, sampleBudgetBytes: 1 });
    const c = integrateRateBatchCpu(batch);
    expect(g.sampleSteps).toEqual([0, 10, 20, 30, 40]);
    expect(c.sampleSteps).toEqual(g.sampleSteps);
    expect(g.samples!.length).toBe(5 * B * 2);
    expect([...g.samples!.subarray(0, B * 2)]).toEqual([...batch.x0!]);
    expect(compare(g.samples!, c.samples!).maxRel).toBeLessThan(1e-5);
    expect(compare(g.final, c.final).maxRel).toBeLessThan(1e-5);
    // The row at step 40 is the final state of a 40-step run.
    const at40 = await integrateRateBatchGpu(gpu.ctx, { ...batch, steps: 40, sampleEvery: undefined });
    expect(at40.samples).toBeNull();
    expect(compare(g.samples!.subarray(4 * B * 2), at40.final).maxRel).toBeLessThan(1e-5);
    expect(progress.at(-1)).toBe(47);
    expect(progress).toEqual([...progress].sort((p, q) => p - q));
  });

  it('runs more than 65535 workgroups (2-D dispatch fold): 70000 circuits, one per workgroup', async () => {
    const rand = makeRandom(11);
    const B = 70000;
    const circuits = Array.from({ length: B }, (_, b) => makeWilsonCowan(rand, activations[b % 3]));
    const batch: RateBatch = { circuits, x0: null, dt: 0.05, steps: 20, method: 'euler' };
    const g = await integrateRateBatchGpu(gpu.ctx, batch, undefined, { workgroupSize: 1 });
    const c = integrateRateBatchCpu(batch);
    const agree = compare(g.final, c.final);
    expect(agree.maxRel).toBeLessThan(1e-5);
    // The last circuits (in the fold's second row) were integrated, not left at x0 = 0.
    expect(g.final.subarray((B - 10) * 2).some((v) => v !== 0)).toBe(true);
  });
});

describe('incremental runs', () => {
  it('split run() calls give the states and samples of one call, on both backends, across sample-buffer windows', async () => {
    const rand = makeRandom(21);
    const B = 7;
    const circuits = Array.from({ length: B }, (_, b) => makeWilsonCowan(rand, activations[b % 3]));
    const batch: RateBatch = { circuits, x0: makeStates(rand, B * 2), dt: 0.05, steps: 103, method: 'rk4', sampleEvery: 4 };
    const parts = [1, 3, 40, 0, 17, 42];
    const split = async (it: RateGpuIntegrator | RateCpuIntegrator) => {
      for (const k of parts) await it.run(k);
      const r = { final: await it.readState(), samples: Float32Array.from(it.samples!), stepsDone: it.stepsDone };
      it.dispose();
      it.dispose();
      return r;
    };
    const one = await integrateRateBatchGpu(gpu.ctx, batch, undefined, { stepsPerDispatch: 5, sampleBudgetBytes: 3 * B * 2 * 4 });
    const gpuSplit = await split(await RateGpuIntegrator.create(gpu.ctx, batch, { stepsPerDispatch: 5, sampleBudgetBytes: 3 * B * 2 * 4 }));
    const cpuSplit = await split(new RateCpuIntegrator(batch));
    const cpuOne = integrateRateBatchCpu(batch);
    expect(gpuSplit.stepsDone).toBe(103);
    expect([...gpuSplit.final]).toEqual([...one.final]);
    expect([...gpuSplit.samples]).toEqual([...one.samples!]);
    expect([...cpuSplit.final]).toEqual([...cpuOne.final]);
    expect([...cpuSplit.samples]).toEqual([...cpuOne.samples!]);
    if (gpu.ctx.info.isSoftware) expect([...gpuSplit.samples]).toEqual([...cpuSplit.samples]);
  });

  it('the model runner: split calls on WebGPU equal one call, and the CPU runner (software adapter)', async () => {
    const r = rateModel.resolve({ params: { circuit: 'lateral', channels: 3, initial: 5 }, T: 7.77, seed: 4 });
    const results = [];
    for (const [backend, parts] of [['webgpu', [r.steps]], ['webgpu', [5, 300, 0, r.steps - 305]], ['cpu', [r.steps]]] as const) {
      const runner = await rateModel.createRunner(r, { backend, ctx: gpu.ctx });
      for (const k of parts) await runner.run(k);
      results.push(await runner.result());
      runner.dispose();
    }
    expect([...results[1].samples]).toEqual([...results[0].samples]);
    expect(results[1].summary).toEqual(results[0].summary);
    if (gpu.ctx.info.isSoftware) expect(results[0].summary).toEqual(results[2].summary);
  });
});

describe('input errors name the field', () => {
  const good = (): RateBatch => {
    const rand = makeRandom(5);
    return { circuits: [makeWilsonCowan(rand, 'relu'), makeWilsonCowan(rand, 'clip')], x0: null, dt: 0.01, steps: 10, method: 'euler' };
  };
  const cases: [string, (b: RateBatch) => RateBatch, string][] = [
    ['dt <= 0', (b) => ({ ...b, dt: 0 }), 'dt'],
    ['dt >= tau', (b) => ({ ...b, dt: 5 }), 'dt'],
    ['steps < 1', (b) => ({ ...b, steps: 0 }), 'steps'],
    ['fractional steps', (b) => ({ ...b, steps: 2.5 }), 'steps'],
    ['method', (b) => ({ ...b, method: 'midpoint' as 'rk4' }), 'method'],
    ['x0 length', (b) => ({ ...b, x0: new Float32Array(3) }), 'x0'],
    ['sampleEvery 0', (b) => ({ ...b, sampleEvery: 0 }), 'sampleEvery'],
    ['n mismatch', (b) => ({ ...b, circuits: [b.circuits[0], makeRandomCircuit(makeRandom(1), 3, 'relu')] }), 'circuits[1].n'],
    ['xmax', (b) => ({ ...b, circuits: [b.circuits[0], { ...b.circuits[1], activation: { kind: 'clip', xmax: -1 } }] }), 'circuits[1].activation.xmax'],
    ['NaN weight', (b) => ({ ...b, circuits: [{ ...b.circuits[0], W: Float64Array.from([1, Number.NaN, 0, 0]) }] }), 'circuits[0].W[1]'],
  ];
  for (const [name, mutate, field] of cases) {
    it(name, async () => {
      const batch = mutate(good());
      expect(() => integrateRateBatchCpu(batch)).toThrow(ParameterError);
      try {
        integrateRateBatchCpu(batch);
      } catch (e) {
        expect((e as ParameterError).field).toBe(field);
      }
      await expect(integrateRateBatchGpu(gpu.ctx, batch)).rejects.toMatchObject({ field });
    });
  }
  it('n above the kernel limit is a GPU-only ParameterError with the fix', async () => {
    const batch: RateBatch = { circuits: [makeRandomCircuit(makeRandom(2), 33, 'relu')], x0: null, dt: 0.01, steps: 2, method: 'euler' };
    await expect(integrateRateBatchGpu(gpu.ctx, batch)).rejects.toMatchObject({ field: 'circuits[0].n', message: expect.stringContaining('integrateRateBatchCpu') });
    expect(integrateRateBatchCpu(batch).final.length).toBe(33);
  });
});

describe('throughput (logged, not asserted)', () => {
  it('1e4 Wilson-Cowan pairs x 1000 Euler steps', async () => {
    const rand = makeRandom(9);
    const B = 10000;
    const circuits = Array.from({ length: B }, (_, b) => makeWilsonCowan(rand, activations[b % 3]));
    const batch: RateBatch = { circuits, x0: null, dt: 0.01, steps: 1000, method: 'euler' };
    await integrateRateBatchGpu(gpu.ctx, { ...batch, steps: 1 }); // warm-up: pipeline creation
    const g = await integrateRateBatchGpu(gpu.ctx, batch);
    const c = integrateRateBatchCpu(batch);
    const agree = compare(g.final, c.final);
    console.log(`rate throughput (${gpu.ctx.info.description || gpu.ctx.info.architecture}): webgpu ${((B * 1000) / g.wallSeconds).toExponential(2)} circuit-steps/s (${g.wallSeconds.toFixed(2)} s), cpu ${((B * 1000) / c.wallSeconds).toExponential(2)} (${c.wallSeconds.toFixed(2)} s); ${agree.identical}/${agree.total} bit-identical`);
    expect(agree.maxRel).toBeLessThan(1e-5);
  });
});
