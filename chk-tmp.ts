import { binaryChainOf, runBinaryBatch } from './src/experiments/binary.ts';
const alpha = 0.2, p0 = 1e-3, WI = 8;
const pts = [0.8, 0.95].map((l) => ({ WE: (l + alpha * WI) / (1 - alpha), WI, alpha, p0 }));
const t0 = performance.now();
const r = await runBinaryBatch({ points: pts, N: 1000, k: 100, steps: 51000, burnin: 1000, seed: 1, backend: 'cpu' });
pts.forEach((p, i) => { const ch = binaryChainOf(p, 1000, 100); console.log(JSON.stringify({ lambda: r[i].lambda, act: r[i].meanActivity, chainAct: ch.meanActivity, H: r[i].entropyBits, chainH: ch.entropyBits })); });
console.log('s', (performance.now() - t0) / 1000);
