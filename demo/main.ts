// Entry point of the demo page: reads URL parameters, mounts the Poisson demo and mirrors its state on window.__eiDemo for tests.
import { mountPoissonDemo, type PoissonDemoConfig, type PoissonDemoState, type Sigmoid } from './poisson-demo.ts';
import { poissonDefaults } from '../src/models/poisson/population.ts';

declare global {
  interface Window {
    /** The demo's latest state; tests poll it. */
    __eiDemo?: PoissonDemoState & { pageErrors: string[] };
    __eiDemoHandle?: ReturnType<typeof mountPoissonDemo>;
  }
}

/** Config overrides from ?n=&T=|steps=&seed=&rIn=&w=&theta=&sigmoid=&u0=&check=; unknown or malformed values are ignored. */
function configFromQuery(q: URLSearchParams): Partial<PoissonDemoConfig> {
  const out: Partial<PoissonDemoConfig> = {};
  const num = (k: string): number | undefined => {
    const v = q.get(k);
    if (v === null || v.trim() === '') return undefined;
    const x = Number(v);
    return Number.isFinite(x) ? x : undefined;
  };
  const n = num('n');
  if (n !== undefined) out.n = n;
  const steps = num('steps');
  const T = num('T');
  // Steps are exact integers; T derived from them rounds back to the same count.
  if (steps !== undefined) out.T = Number((steps * poissonDefaults.dt).toPrecision(12));
  else if (T !== undefined) out.T = T;
  for (const k of ['seed', 'rIn', 'w', 'theta', 'u0'] as const) {
    const v = num(k);
    if (v !== undefined) out[k] = v;
  }
  const sig = q.get('sigmoid');
  if (sig === 'probit' || sig === 'logistic') out.sigmoid = sig as Sigmoid;
  const check = q.get('check');
  if (check !== null) out.checkCpu = check !== '0' && check !== 'false';
  return out;
}

const query = new URLSearchParams(location.search);
const initial = configFromQuery(query);
const pageErrors: string[] = [];
const publish = (s: PoissonDemoState) => {
  window.__eiDemo = { ...s, pageErrors };
};
window.addEventListener('error', (e) => pageErrors.push(String(e.message)));
window.addEventListener('unhandledrejection', (e) => pageErrors.push(String((e.reason as Error)?.message ?? e.reason)));

const app = document.getElementById('app')!;
const handle = mountPoissonDemo(app, { initial, onState: publish });
window.__eiDemoHandle = handle;
publish(handle.state);

if (query.get('autorun') === '1') {
  void handle.run();
}
