// Exact moments of the discretised potential and the Gaussian-approximation firing rate of the `poisson` model.
import type { PoissonInstance } from '../../gpu/shaders.generated.ts';
import type { ParamValues } from '../../core/params.ts';
import { normalCdf } from '../../analysis/stats.ts';

export interface PoissonTheory {
  /** Stationary mean and variance of u for the discrete-time scheme (exact). */
  meanU: number;
  varU: number;
  /** Stationary firing rate in Hz, E[f(u)] with u ~ N(meanU, varU). */
  rateHz: number;
}

function coefficients(inst: PoissonInstance) {
  const f = Math.fround;
  return { decay: f(inst.decay), drive: f(inst.drive), jump: f(inst.jump), inputMean: f(inst.inputMean) };
}

/** Mean and variance of u after k steps from u0: u_{k+1} = decay u_k + drive + jump K, K ~ Poisson(inputMean). */
export function momentsAtStep(inst: PoissonInstance, u0: number, k: number): { mean: number; variance: number } {
  const { decay, drive, jump, inputMean } = coefficients(inst);
  const mStar = (drive + jump * inputMean) / (1 - decay);
  const vStar = (jump * jump * inputMean) / (1 - decay * decay);
  const dk = decay ** k;
  return { mean: mStar + (u0 - mStar) * dk, variance: vStar * (1 - dk * dk) };
}

/** E[f(u)] in Hz for u ~ N(mean, variance), probit in closed form, logistic by quadrature. */
export function expectedRate(p: ParamValues, mean: number, variance: number): number {
  const numax = p.numax as number;
  const theta = p.theta as number;
  if (p.sigmoid === 'probit') {
    const s = p.s as number;
    return numax * normalCdf((mean - theta) / Math.sqrt(s * s + variance));
  }
  const beta = p.beta as number;
  const sd = Math.sqrt(variance);
  if (sd === 0) return numax / (1 + Math.exp(-beta * (mean - theta)));
  // Simpson's rule on z in [-9, 9]: the integrand is smooth and the tails are below 1e-18.
  const m = 1800;
  const h = 18 / m;
  let acc = 0;
  for (let i = 0; i <= m; i++) {
    const z = -9 + i * h;
    const w = i === 0 || i === m ? 1 : i % 2 === 1 ? 4 : 2;
    acc += w * Math.exp(-0.5 * z * z) / (1 + Math.exp(-beta * (mean + sd * z - theta)));
  }
  return (numax * acc * h) / 3 / Math.sqrt(2 * Math.PI);
}

/** Stationary theory for one instance. */
export function stationaryTheory(p: ParamValues, inst: PoissonInstance): PoissonTheory {
  const { mean, variance } = momentsAtStep(inst, 0, Infinity);
  return { meanU: mean, varU: variance, rateHz: expectedRate(p, mean, variance) };
}
