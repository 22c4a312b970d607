// ei-engine in a browser page: the balanced hybrid network on WebGPU (navigator.gpu; the CPU reference where the
// browser has none), next to its Gaussian limit, with a progress bar. Bundled by Vite: `npx vite examples/browser`
// in a project that installed ei-engine, or in its checkout after `npm run build`. URL parameters:
// ?n=1000&T=2&backend=auto|webgpu|cpu.
import { createEngine } from 'ei-engine';

const q = new URLSearchParams(location.search);
const n = Number(q.get('n') ?? 1000);
const T = Number(q.get('T') ?? 2);
const status = document.getElementById('status');
const progress = document.getElementById('progress');
// What the page did, for a script (or a test) to read.
const state = (window.__eiExample = { status: 'running', backend: null, progress: [0, 0], summary: null, error: null });

try {
  const engine = await createEngine({ backend: q.get('backend') ?? 'auto', onNotice: (m) => console.warn(m) });
  state.backend = engine.backend;
  status.textContent = `running ${n} E + ${n} I neurons for T = ${T} on ${engine.backend}…`;
  const sim = await engine.simulate('hybrid', {
    n,
    T,
    seed: 1,
    params: { variant: 'B1', burnin: T / 2 },
    onProgress: (done, total) => {
      state.progress = [done, total];
      progress.max = total;
      progress.value = done;
    },
  });
  const { summary, line } = await sim.outputs();
  engine.dispose();
  const rows = ['mE', 'mI', 'vE', 'vI', 'nuE', 'nuI', 'X'].map((k) => {
    const tr = document.createElement('tr');
    for (const v of [k, summary.sim[k], summary.limit[k], summary.rmsError[k]]) {
      const td = document.createElement('td');
      td.textContent = typeof v === 'number' ? v.toFixed(4) : v;
      tr.append(td);
    }
    return tr;
  });
  document.querySelector('#table tbody').replaceChildren(...rows);
  document.getElementById('table').hidden = false;
  status.textContent = line;
  state.summary = summary;
  state.status = 'done';
} catch (e) {
  status.textContent = `error: ${e.message}`;
  state.error = e.message;
  state.status = 'error';
}
