// The balanced hybrid E-I network next to its Gaussian large-n limit, through the ei-engine library.
// In a project that installed ei-engine (`npm install ei-engine`), or in its checkout after `npm run build`:
//
//   node node-run.mjs [--n 2000] [--T 4] [--seed 1] [--backend auto|webgpu|cpu]
//
// It prints the population means, variances and rates of the simulation (time-averaged after the burn-in) next to the
// limit, and the throughput. --n is neurons per population (2n in all).
import { parseArgs } from 'node:util';
import { createEngine } from 'ei-engine';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '2000' },
    T: { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'auto' },
  },
});
const T = Number(values.T);

// WebGPU when an adapter answers (a hardware GPU, else SwiftShader), else the CPU reference; notices go to stderr.
const engine = await createEngine({ backend: values.backend, onNotice: (m) => console.error(m) });
try {
  const sim = await engine.simulate('hybrid', {
    n: Number(values.n),
    T,
    seed: Number(values.seed),
    params: { variant: 'B1', burnin: T / 2 },
    onProgress: (done, total) => process.stderr.write(`\rstep ${done} / ${total}`),
  });
  const { summary, line } = await sim.outputs();
  process.stderr.write('\n');
  const r = sim.resolved;
  console.log(`hybrid (variant B1) on ${sim.backend}: ${r.n} E + ${r.n} I neurons, ${r.steps} steps of dt = ${r.dt}`);
  console.log('quantity   simulation    limit   rms error');
  for (const k of ['mE', 'mI', 'vE', 'vI', 'nuE', 'nuI', 'X']) {
    const f = (x) => (Number.isFinite(x) ? x.toFixed(4) : 'n/a').padStart(10);
    console.log(`${k.padEnd(8)} ${f(summary.sim[k])} ${f(summary.limit[k])} ${f(summary.rmsError[k])}`);
  }
  console.log(`blow-up: ${summary.blowup === null ? 'none' : JSON.stringify(summary.blowup)}`);
  console.log(line);
} finally {
  engine.dispose();
}
