// Fig. 4 of Li & Pehlevan 2020: manifold attractors from non-convex minimax objectives. The ring network holds a bump
// at the cue after the cue ends and travels for gamma > 0; the grid network forms a hexagonal bump lattice whose
// wavelength is set by the kernel's Fourier peak.
import { makeCsv } from '../../../io/csv.ts';
import { makeReportHtml } from '../../../report/html.ts';
import { makeHeatmap, makeLinePlot } from '../../../report/svg.ts';
import { runMinimaxSpec } from '../runner.ts';
import { angularSpeed, binRaster, blurTorus, countBumps, dominantWavelength, populationVector, wrapAngle } from '../analysis.ts';
import { gridPredictedWavelength } from '../theory.ts';
import { makeGridNetwork, makeRingNetwork, ringCueRates } from '../networks.ts';
import type { Reproduction } from '../../../core/contract.ts';
import { minimaxCpuBeatsSoftware } from '../params.ts';
import { fmt, makeRasterPlot, minimaxSource, quickNote, type Check } from './shared.ts';
import { checksSection } from '../../../report/checks.ts';

export const minimaxRing: Reproduction = {
  id: 'minimax-ring',
  title: 'Minimax spiking ring attractor: a bump forms at the cue, persists after it, and travels when gamma > 0',
  source: `${minimaxSource}; experiment 4, ring (their Fig. 4)`,
  cpuBeatsSoftware: minimaxCpuBeatsSoftware,
  description:
    'NE = NI = 100, tau = 0.1 s, dt = 1e-3 s, w0 = 0.5, w1 = 2.7, W as in the spec with the asymmetric term gamma w1 sin(theta_j - theta_k). Every E neuron ' +
    'gets 10 Hz Poisson input; during the cue (10 s) the rate of neuron j is 10 + h1 cos(theta_cue - theta_j) Hz, h1 = 5 (the cue is applied as an input-rate ' +
    'modulation; the spec does not fix its units), then 10 s without cue. One instance per gamma in one batch. The bump is the population vector of E rates ' +
    'in 100 ms bins. --quick: 2 s cue, 4 s free.',
  async run(c) {
    const gammas = c.quick ? [0, 0.05, 0.2] : [0, 0.02, 0.05, 0.1, 0.2];
    const dt = 1e-3;
    const tau = 0.1;
    const cueSteps = Math.round((c.quick ? 2 : 10) / dt);
    const freeSteps = Math.round((c.quick ? 4 : 10) / dt);
    const steps = cueSteps + freeSteps;
    const cueAngle = Math.PI / 2;
    const rings = gammas.map((gamma) => makeRingNetwork({ gamma }));
    const NE = rings[0].network.nE;
    const thetas = rings[0].thetas;
    const cue = ringCueRates(cueAngle);
    const free = new Float64Array(NE).fill(10);
    const rates = new Float64Array(2 * NE);
    rates.set(cue, 0);
    rates.set(free, NE);
    const res = await runMinimaxSpec(
      {
        networks: rings.map((r) => r.network),
        instances: gammas.map((_, b) => ({ network: b, dt, tauE: tau, tauI: tau, tauX: tau, inputRates: rates, segments: 2, segmentSteps: cueSteps, measureFrom: cueSteps + Math.floor(freeSteps / 2), instanceId: b })),
        steps,
        seed: c.seed,
        raster: { from: 0, steps },
      },
      { backend: c.backend, ctx: c.ctx, threads: c.threads },
      { onProgress: c.onProgress },
    );
    const binSteps = 100;
    const binT = binSteps * dt;
    const tracks = gammas.map((_, b) => {
      const { bins, counts } = binRaster(res, b, binSteps);
      const N = res.nE + res.nI;
      const angle: number[] = [];
      const amplitude: number[] = [];
      const peakHz: number[] = [];
      for (let k = 0; k < bins; k++) {
        const r = Array.from(counts.subarray(k * N, k * N + NE), (x) => x / binT);
        const pv = populationVector(r, thetas);
        angle.push(pv.angle);
        amplitude.push(pv.amplitude);
        peakHz.push(Math.max(...r));
      }
      return { bins, counts, angle, amplitude, peakHz };
    });
    const times = Array.from({ length: tracks[0].bins }, (_, k) => (k + 0.5) * binT);
    const cueBins = cueSteps / binSteps;
    const lastSecond = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);
    const summaries = gammas.map((gamma, b) => {
      const t = tracks[b];
      const cueWindow = lastSecond(Math.max(0, cueBins - Math.round(1 / binT)), cueBins);
      // Mean direction over the cue's last second (circular mean of the bin angles).
      const circ = (ks: number[]) => Math.atan2(ks.reduce((s, k) => s + Math.sin(t.angle[k]), 0), ks.reduce((s, k) => s + Math.cos(t.angle[k]), 0));
      const atCue = circ(cueWindow);
      const freeBins = Array.from({ length: t.bins - cueBins }, (_, k) => cueBins + k);
      const late = freeBins.slice(Math.floor(freeBins.length / 2));
      // Mean E rate profile over the second half of the free period, aligned on the bump's position per bin so travel does not blur it.
      const N = res.nE + res.nI;
      const aligned = new Float64Array(NE);
      for (const k of late) {
        const shift = Math.round((t.angle[k] / (2 * Math.PI)) * NE);
        for (let j = 0; j < NE; j++) aligned[(((j - shift) % NE) + NE) % NE] += t.counts[k * N + j] / binT / late.length;
      }
      const persistencePeakHz = Math.max(...aligned);
      const meanHz = aligned.reduce((s, v) => s + v, 0) / NE;
      const speed = angularSpeed(freeBins.map((k) => times[k]), freeBins.map((k) => t.angle[k]));
      const amplitudeLate = late.reduce((s, k) => s + t.amplitude[k], 0) / late.length;
      return { gamma, cueError: Math.abs(wrapAngle(atCue - cueAngle)), driftAtEnd: wrapAngle(circ(late.slice(-10)) - cueAngle), persistencePeakHz, meanRateHz: meanHz, amplitudeLate, speedRadPerS: speed };
    });
    c.out.write('ring.csv', makeCsv(['gamma', 'cueErrorRad', 'driftAtEndRad', 'persistencePeakHz', 'meanRateHz', 'bumpAmplitude', 'speedRadPerS'], summaries.map((s) => [s.gamma, s.cueError, s.driftAtEnd, s.persistencePeakHz, s.meanRateHz, s.amplitudeLate, s.speedRadPerS])));
    c.out.write('bump-track.csv', makeCsv(['t', ...gammas.flatMap((g) => [`angleGamma${g}`, `amplitudeGamma${g}`])], times.map((tm, k) => [tm, ...tracks.flatMap((t) => [t.angle[k], t.amplitude[k]])]), { t: 's', ...Object.fromEntries(gammas.map((g) => [`angleGamma${g}`, 'rad'])) }));
    const trackFig = makeLinePlot({
      title: `Bump position (population vector of E rates); cue at ${fmt(cueAngle, 2)} rad until ${cueSteps * dt} s`,
      x: { label: 'time', unit: 's' },
      y: { label: 'bump angle', unit: 'rad' },
      series: gammas.map((g, b) => ({ name: `gamma = ${g}`, x: times, y: tracks[b].angle, style: 'points' as const })),
      legend: 'bottom-right',
    });
    const b0 = 0;
    const heat = makeHeatmap({
      title: 'E rates over time, gamma = 0 (bins of 100 ms)',
      x: { label: 'time', unit: 's' },
      y: { label: 'neuron angle', unit: 'rad' },
      xValues: times,
      yValues: Array.from(thetas),
      z: Array.from({ length: NE * tracks[b0].bins }, (_, q) => {
        const j = Math.floor(q / tracks[b0].bins);
        const k = q % tracks[b0].bins;
        return tracks[b0].counts[k * (res.nE + res.nI) + j] / binT;
      }),
      zLabel: 'rate',
      zUnit: 'Hz',
    });
    const bMax = gammas.length - 1;
    const raster = makeRasterPlot(res, bMax, `Raster around the cue's end, gamma = ${gammas[bMax]}`, dt, 0, { from: Math.max(0, cueSteps - 1000), to: Math.min(steps, cueSteps + 3000) });
    const figs = { 'bump-track': trackFig, 'rates-gamma0': heat, raster };
    for (const [k, svg] of Object.entries(figs)) c.out.write(`${k}.svg`, svg);

    const s0 = summaries[0];
    const speeds = summaries.map((s) => Math.abs(s.speedRadPerS));
    const increasing = speeds.every((v, i) => i === 0 || v > speeds[i - 1]);
    const checks: Check[] = [
      { name: 'bump at the cue', expected: 'population-vector angle over the cue\'s last second within 0.2 rad of the cue (gamma = 0)', measured: `${fmt(s0.cueError)} rad`, pass: s0.cueError <= 0.2 },
      { name: 'bump persists after the cue (gamma = 0)', expected: 'aligned peak rate >= 2x the mean rate in the second half of the free period, bump within 0.5 rad of the cue at the end', measured: `peak ${fmt(s0.persistencePeakHz, 1)} Hz vs mean ${fmt(s0.meanRateHz, 1)} Hz; drift ${fmt(s0.driftAtEnd)} rad`, pass: s0.persistencePeakHz >= 2 * s0.meanRateHz && Math.abs(s0.driftAtEnd) <= 0.5 },
      { name: 'travelling bump for gamma > 0, faster for larger gamma', expected: '|speed| increases with gamma', measured: summaries.map((s) => `gamma ${s.gamma}: ${fmt(s.speedRadPerS)} rad/s`).join('; '), pass: increasing },
    ];
    c.out.write('report.html', makeReportHtml({
      title: 'minimax-ring: ring attractor',
      subtitle: this.title,
      sections: [
        { heading: 'Run', text: `${quickNote(c.quick, `${gammas.length} gamma values, ${steps} steps`)}\n\n${this.description}` },
        checksSection(checks),
        { heading: 'Per gamma', table: { columns: ['gamma', 'cue error (rad)', 'persistence peak (Hz)', 'mean (Hz)', 'speed (rad/s)'], rows: summaries.map((s) => [s.gamma, fmt(s.cueError), fmt(s.persistencePeakHz, 1), fmt(s.meanRateHz, 1), fmt(s.speedRadPerS)]) } },
        ...Object.entries(figs).map(([heading, svg]) => ({ heading, svg })),
      ],
      meta: { seed: c.seed, backend: c.backend, quick: c.quick, steps, wallSeconds: res.wallSeconds },
    }));
    return {
      summary: {
        cueError: s0.cueError,
        persistencePeakHz: s0.persistencePeakHz,
        speeds: Object.fromEntries(summaries.map((s) => [String(s.gamma), s.speedRadPerS])),
        perGamma: summaries,
        steps,
        simulationSeconds: res.wallSeconds,
      },
      checks,
    };
  },
};

export const minimaxGrid: Reproduction = {
  id: 'minimax-grid',
  title: 'Minimax spiking grid attractor: a hexagonal bump lattice with the wavelength of the kernel\'s Fourier peak',
  source: `${minimaxSource}; experiment 4, grid (their Fig. 4)`,
  cpuBeatsSoftware: minimaxCpuBeatsSoftware,
  description:
    'NE = NI = 63^2 on a periodic sheet, difference-of-Gaussians kernel K(d^2) = 1.1 exp(-gamma d^2) - exp(-beta d^2), beta = 3/36, gamma = 1.2 beta; ' +
    'dense W blocks as in the spec; tau_E = 0.5 s, tau_I = 0.2 s, tau_x = 0.5 s, 4 Hz Poisson input per E neuron, dt = 1e-3 s, T = 30 s. The rate map is ' +
    'the E spike counts of the last 10 s; its wavelength is the peak of its 2-D power spectrum; bumps are local maxima of the map (3x3 box blur) above ' +
    'mean + 1 sd. --quick: a 31 x 31 sheet for 8 s (rate map from the last 4 s).',
  async run(c) {
    const side = c.quick ? 31 : 63;
    const dt = 1e-3;
    const steps = Math.round((c.quick ? 8 : 30) / dt);
    const measureFrom = steps - Math.round((c.quick ? 4 : 10) / dt);
    const grid = makeGridNetwork({ side });
    const { network } = grid;
    const res = await runMinimaxSpec(
      {
        networks: [network],
        instances: [{ network: 0, dt, tauE: 0.5, tauI: 0.2, tauX: 0.5, inputRates: new Float64Array(network.nIn).fill(4), segments: 1, segmentSteps: 1, measureFrom, instanceId: 0 }],
        steps,
        seed: c.seed,
      },
      { backend: c.backend, ctx: c.ctx, threads: c.threads },
      { onProgress: c.onProgress },
    );
    const T = (steps - measureFrom) * dt;
    const map = Float64Array.from({ length: side * side }, (_, i) => res.spikeCounts[i] / T);
    const measured = dominantWavelength(map, side);
    const predicted = gridPredictedWavelength({ side });
    const blurred = blurTorus(map, side, 1);
    const mu = blurred.reduce((s, v) => s + v, 0) / blurred.length;
    const sd = Math.sqrt(blurred.reduce((s, v) => s + (v - mu) ** 2, 0) / blurred.length);
    const bumps = countBumps(blurred, side, mu + sd);
    // A hexagonal lattice whose plane-wave components have wavelength L has one bump per 2 L^2 / sqrt(3) sites.
    const expectedBumps = (side * side * Math.sqrt(3)) / (2 * predicted.latticeWavelengthSites ** 2);
    c.out.write('rate-map.csv', makeCsv(['x', 'y', 'rateHz'], Array.from(map, (v, i) => [i % side, Math.floor(i / side), v])));
    const heat = makeHeatmap({
      title: `E rate map (last ${T} s)`,
      x: { label: 'x', unit: 'site' },
      y: { label: 'y', unit: 'site' },
      xValues: Array.from({ length: side }, (_, i) => i),
      yValues: Array.from({ length: side }, (_, i) => i),
      z: Array.from(map),
      zLabel: 'rate',
      zUnit: 'Hz',
    });
    c.out.write('rate-map.svg', heat);
    const relErr = Math.abs(measured.wavelengthSites - predicted.latticeWavelengthSites) / predicted.latticeWavelengthSites;
    const meanRate = map.reduce((s, v) => s + v, 0) / map.length;
    const checks: Check[] = [
      { name: 'a spatial pattern forms', expected: 'the spectrum\'s peak pair holds >= 10 % of the map\'s variance', measured: `${fmt(100 * measured.peakShare, 1)} %`, pass: measured.peakShare >= 0.1 },
      { name: 'wavelength matches the kernel\'s Fourier peak', expected: `within 15 % of ${fmt(predicted.latticeWavelengthSites, 2)} sites (lattice DFT peak; continuous-plane peak ${fmt(predicted.continuousWavelengthSites, 2)})`, measured: `${fmt(measured.wavelengthSites, 2)} sites at k = (${measured.kx}, ${measured.ky})`, pass: relErr <= 0.15 },
      { name: 'bump lattice', expected: `about ${fmt(expectedBumps, 1)} bumps (hexagonal packing at the predicted wavelength), within a factor 1.5`, measured: `${bumps.count} bumps`, pass: bumps.count >= expectedBumps / 1.5 && bumps.count <= expectedBumps * 1.5 },
    ];
    c.out.write('report.html', makeReportHtml({
      title: 'minimax-grid: grid attractor',
      subtitle: this.title,
      sections: [
        { heading: 'Run', text: `${quickNote(c.quick, `${side} x ${side} sheet, ${steps} steps`)}\n\n${this.description}` },
        checksSection(checks),
        { heading: 'Rate map', svg: heat },
      ],
      meta: { seed: c.seed, backend: c.backend, quick: c.quick, side, steps, wallSeconds: res.wallSeconds },
    }));
    return {
      summary: {
        wavelengthSites: measured.wavelengthSites,
        predictedWavelengthSites: predicted.latticeWavelengthSites,
        predictedContinuousWavelengthSites: predicted.continuousWavelengthSites,
        bumps: bumps.count,
        expectedBumps,
        bumpPositions: bumps.positions,
        meanRateHz: meanRate,
        side,
        steps,
        simulationSeconds: res.wallSeconds,
      },
      checks,
    };
  },
};
