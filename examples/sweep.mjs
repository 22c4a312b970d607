// A small parameter sweep through the ei-engine library: the firing rate of independent Poisson neurons against
// their input rate, next to theory. Every input rate is one engine.simulate call whose `batch` replicas (independent
// random streams) run together in one batched dispatch. In a project that installed ei-engine (or in its checkout
// after `npm run build`):
//
//   node sweep.mjs [--n 2000] [--T 0.3] [--batch 4] [--rates 1000,2000,3000,4000] [--backend auto|webgpu|cpu]
//
// For large grids, sharding and CSV output use the command line: `npx ei sweep poisson --grid rIn=1000:4000:4`.
import { parseArgs } from 'node:util';
import { createEngine } from 'ei-engine';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '2000' },
    T: { type: 'string', default: '0.3' },
    batch: { type: 'string', default: '4' },
    rates: { type: 'string', default: '1000,2000,3000,4000' },
    backend: { type: 'string', default: 'auto' },
  },
});

const engine = await createEngine({ backend: values.backend, onNotice: (m) => console.error(m) });
try {
  console.log('rIn_Hz,rateHz_mean,rateHz_sd,rateHz_theory,meanU,meanU_theory');
  for (const rIn of values.rates.split(',').map(Number)) {
    const sim = await engine.simulate('poisson', { n: Number(values.n), T: Number(values.T), batch: Number(values.batch), seed: 1, params: { rIn } });
    const { summary } = await sim.outputs();
    sim.dispose();
    const rates = summary.instances.map((i) => i.sim.rateHz);
    const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
    const sd = Math.sqrt(rates.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, rates.length - 1));
    const first = summary.instances[0];
    console.log([rIn, mean.toFixed(3), sd.toFixed(3), first.theory.rateHz.toFixed(3), first.sim.meanU.toFixed(4), first.theory.meanU.toFixed(4)].join(','));
  }
  console.error(`backend: ${engine.backend}`);
} finally {
  engine.dispose();
}
