// The live minimax page: spiking E-I networks from greedy minimax optimisation; the raster of every neuron, the
// population rates and each neuron's rate against the KKT prediction (src/models/minimax/theory.ts, solved by the
// model's resolve), updated while it runs.
import type { ResolvedRun, Runner } from '../../src/core/contract.ts';
import type { MinimaxRunResult } from '../../src/models/minimax/network.ts';
import type { MinimaxResolved } from '../../src/models/minimax/resolve.ts';
import { mountLivePage } from './live-page.ts';

/** The model's raster covers the last 20000 steps: the page's runs stay within it so the raster starts at t = 0. */
const maxRasterSteps = 20_000;
const runSeconds = 10;
/** The page's step for the Fig. 1 network: dt = dtOverTau x tau = 1e-4 s (the spec's 1e-4 x tau is 1e-5 s). */
const dtOverTau = '1e-3';

void mountLivePage(document.getElementById('app')!, {
  model: 'minimax',
  controls: ['network', 'tau', 'dtOverTau', 'vector', 'pattern', 'recallCueSeconds', 'gamma', 'cueSeconds', 'side', 'inputHz'],
  options: ['T'],
  initial: { dtOverTau, T: '1' },
  // Each task has the length its figure needs: the memory's cue and recall, the readout's settling (tau = 1 s).
  onChange(name, value) {
    if (name !== 'network') return null;
    const T = { readout: '4', memory: '6', ring: '8' }[value];
    return T ? { values: { T }, why: `T = ${T} s for the ${value} task (${value === 'memory' ? 'a 3 s cue, then the recall' : value === 'readout' ? 'tau = 1 s: the rates settle in a few tau' : 'a 5 s cue, then the bump alone'}; at 1e-3 s per step)` } : null;
  },
  warmup: {
    request: { T: 0.02, params: { dtOverTau } },
    choose(t) {
      const steps = Math.min(maxRasterSteps, Math.floor(t.stepsPerSecond * runSeconds));
      // The Fig. 1 network at dt = 1e-4 s; rounded down to a tenth of a second (whole steps).
      const T = Math.max(0.1, Math.floor(steps * 1e-4 * 10) / 10);
      return { values: { T: String(T) }, why: `T = ${T} s (${Math.round(T / 1e-4)} steps of 1e-4 s): about ${runSeconds} s at this rate, at most the ${maxRasterSteps} steps of the raster window` };
    },
  },
  async createView(ctx) {
    const raster = await ctx.raster('Spikes of every neuron (E blue, I red); time in s');
    const popChart = ctx.chart({ title: 'Population rates', xLabel: 't (s)', yLabel: 'rate per neuron (Hz)' });
    const kktChart = ctx.chart({ title: 'Rate of each neuron so far against the KKT prediction', xLabel: 'predicted (Hz)', yLabel: 'simulated (Hz)' });
    const note = ctx.note();
    let r: MinimaxResolved;
    let rowsShown = 0;
    let counts: Uint32Array;
    let bin = 1;
    let popE: number[] = [], popI: number[] = [], popT: number[] = [];
    let binE = 0, binI = 0, binRows = 0;
    let last: MinimaxRunResult | null = null;
    /** The task's own measure, from the E rates so far (Hz): the decoder's readout error, or the recall of the cued pattern. */
    const taskNote = (rateE: number[]): string => {
      const dec = r.plan.decoder;
      if (dec) {
        // Trace units r = rate x tau (tau = 1 s): readout = H rE against the input x = rate x tau_x.
        const x = r.plan.instance.inputRates;
        let e = 0, xx = 0, et = 0;
        for (let a = 0; a < dec.m; a++) {
          let y = 0, yt = 0;
          for (let i = 0; i < rateE.length; i++) {
            y += dec.H[a * rateE.length + i] * rateE[i] * r.plan.instance.tauE;
            yt += dec.H[a * rateE.length + i] * (r.theory ? r.theory.rE[i] : 0);
          }
          e += (y - x[a]) ** 2;
          et += (yt - x[a]) ** 2;
          xx += x[a] ** 2;
        }
        return ` Readout H r_E reconstructs input vector ${dec.vector}: relative error ${Math.sqrt(e / xx).toFixed(3)} (the KKT point's: ${Math.sqrt(et / xx).toFixed(3)}).`;
      }
      const mem = r.plan.memory;
      if (mem) {
        const patternHz = mem.level / r.plan.instance.tauE;
        const active = rateE.flatMap((v, i) => (v > 0.5 * patternHz ? [i] : []));
        const same = active.length === mem.support.length && active.every((i, q) => i === mem.support[q]);
        return ` Pattern ${mem.pattern} (support ${mem.support.join(' ')}; cue ${mem.cued.join(' ')}): active above half its rate so far: ${active.join(' ') || 'none'}${same ? ', the stored support' : ''}.`;
      }
      return '';
    };
    return {
      reset(run: ResolvedRun) {
        r = run as MinimaxResolved;
        const { nE, nI } = r.plan.network;
        counts = new Uint32Array(nE + nI);
        rowsShown = 0;
        bin = Math.max(1, Math.round(r.steps / 200));
        popE = [];
        popI = [];
        popT = [];
        binE = binI = binRows = 0;
        last = null;
        raster.clear();
        raster.setWindow({ t0: r.raster.from * r.dt, t1: r.steps * r.dt, neurons: nE + nI, firstInhibitory: nE });
        note.textContent = r.theory ? `KKT point: ${r.theory.supportE.length} of ${nE} E and ${r.theory.supportI.length} of ${nI} I neurons active (residual ${r.theory.residual.toExponential(2)}).` : `The ${String(r.base.network)} network has no unique static prediction: the rates are shown by neuron.`;
      },
      // Chunks carry only the steps done; the raster so far comes from the runner's result after each slice.
      chunk() {},
      async afterSlice(runner: Runner<unknown>) {
        const res = (await runner.result()) as MinimaxRunResult;
        last = res;
        const bitsOf = res.raster;
        if (!bitsOf) return;
        const { nE } = r.plan.network;
        const words = res.rasterWords;
        const rows = Math.max(0, Math.min(r.raster.steps, runner.stepsDone - r.raster.from));
        const pts: number[] = [];
        for (let s = rowsShown; s < rows; s++) {
          const t = (r.raster.from + s + 1) * r.dt;
          for (let w = 0; w < words; w++) {
            let bits = bitsOf[s * words + w];
            while (bits) {
              const j = 31 - Math.clz32(bits & -bits);
              bits &= bits - 1;
              const neuron = w * 32 + j;
              pts.push(t, neuron);
              counts[neuron] += 1;
              if (neuron < nE) binE += 1;
              else binI += 1;
            }
          }
          if (++binRows === bin) {
            popT.push(t);
            popE.push(binE / (nE * bin * r.dt));
            popI.push(binI / ((counts.length - nE) * bin * r.dt));
            binE = binI = binRows = 0;
          }
        }
        rowsShown = rows;
        raster.append(Float32Array.from(pts));
      },
      draw() {
        raster.draw();
        const { nE, nI } = r.plan.network;
        popChart.set([
          { name: 'E', color: '#1c5cad', x: popT, y: popE },
          { name: 'I', color: '#c0392b', x: popT, y: popI },
        ]);
        popChart.setOptions({ xRange: [r.raster.from * r.dt, r.steps * r.dt] });
        popChart.draw();
        const seconds = Math.max(r.dt, rowsShown * r.dt);
        const simHz = Array.from(counts, (c) => c / seconds);
        const th = r.theory;
        const { tauE, tauI } = r.plan.instance;
        if (th) {
          const predE = Array.from(th.rE, (x) => x / tauE);
          const predI = Array.from(th.rI, (x) => x / tauI);
          const top = Math.max(1, ...predE, ...predI, ...simHz);
          kktChart.setOptions({ xLabel: 'predicted (Hz)', xRange: undefined });
          kktChart.set([
            { name: 'E', color: '#1c5cad', x: predE, y: simHz.slice(0, nE), style: 'points' },
            { name: 'I', color: '#c0392b', x: predI, y: simHz.slice(nE), style: 'points' },
            { name: 'simulated = predicted', color: '#111', x: [0, top], y: [0, top], style: 'dashed' },
          ]);
        } else {
          kktChart.setOptions({ title: 'Rate of each neuron so far', xLabel: 'neuron (E, then I)' });
          kktChart.set([
            { name: 'E', color: '#1c5cad', x: Array.from({ length: nE }, (_, i) => i), y: simHz.slice(0, nE), style: 'points' },
            { name: 'I', color: '#c0392b', x: Array.from({ length: nI }, (_, i) => nE + i), y: simHz.slice(nE), style: 'points' },
          ]);
        }
        kktChart.draw();
        if (last && th) {
          const predE = Array.from(th.rE, (x) => x / tauE);
          const err = predE.reduce((a, p, i) => a + Math.abs(p - simHz[i]), 0) / nE;
          note.textContent = `After ${(rowsShown * r.dt).toFixed(3)} s: mean |simulated - predicted| over the E neurons ${err.toFixed(2)} Hz; ${last.spikeCounts.reduce((a, x) => a + x, 0)} spikes in the measured second half so far (the model's own rates and balance index come from that half).${taskNote(simHz.slice(0, nE))}`;
        }
      },
    };
  },
});
