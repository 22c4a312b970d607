// Long runs: an estimate above runTimeLimits.noticeSeconds is printed first (one line on stderr: the time, the rate
// assumed, how to stop); an estimate beyond runTimeLimits.refuseSeconds (a year) is refused with the estimate.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ei } from './helpers/cli.ts';
import { checkRunTime, formatDuration, runTimeLimits, type RunEstimate } from '../src/core/limits.ts';
import { estimatePopulationRun, resolveExperimentShape } from '../src/models/poisson/experiment.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ei-time-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const saved = { ...runTimeLimits };
afterEach(() => Object.assign(runTimeLimits, saved));

const estimateLine = /^ei: .*: estimated .* \(.* at ~.*\/s on .*, a rough rate from bench\/results\); press Ctrl-C to stop$/m;

describe('long runs', () => {
  it('prints the estimate first when a run is estimated above the threshold, and still runs', async () => {
    runTimeLimits.noticeSeconds = 1e-4;
    const out = join(dir, 'noticed');
    const r = await ei('run', 'poisson', '--n', '100', '--steps', '200', '--set', 'burnin=0', '--backend', 'cpu', '--quiet', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(estimateLine);
    expect(r.err).toMatch(/poisson --n 100 x --batch 1 x 200 steps: estimated .* \(20000 neuron-steps at ~[\d.e]+ neuron-steps\/s on the CPU reference/);
    // One line, before the run's own summary line.
    expect(r.err.split('\n').filter((l) => estimateLine.test(l))).toHaveLength(1);
    expect(r.err.indexOf('estimated')).toBeLessThan(r.err.indexOf('ei: poisson: 100 neurons'));
  });

  it('every model prints it', async () => {
    runTimeLimits.noticeSeconds = 1e-6;
    const runs: [string, string[]][] = [
      ['hybrid', ['--n', '50', '--T', '0.1', '--set', 'burnin=0']],
      ['binary', ['--n', '50', '--set', 'k=5', '--set', 'burnin=10', '--steps', '50']],
      ['minimax', ['--T', '0.002', '--set', 'tau=0.05']],
      ['rate', ['--set', 'initial=2', '--T', '1']],
    ];
    for (const [model, args] of runs) {
      const r = await ei('run', model, ...args, '--backend', 'cpu', '--quiet', '--out', join(dir, `all-${model}`));
      expect(r.code, `${model}: ${r.err}`).toBe(0);
      expect(r.err, model).toMatch(estimateLine);
    }
  });

  it('a run estimated below the threshold prints nothing extra', async () => {
    const r = await ei('run', 'poisson', '--n', '100', '--steps', '200', '--set', 'burnin=0', '--backend', 'cpu', '--quiet', '--out', join(dir, 'quiet'));
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toMatch(/estimated/);
  });

  it('refuses a run estimated beyond a year, with the estimate and the rate', async () => {
    const out = join(dir, 'forever');
    const r = await ei('run', 'poisson', '--n', '100000', '--batch', '100', '--steps', '4000000000', '--record-spikes', '0', '--record-traces', '0', '--set', 'burnin=0', '--backend', 'cpu', '--quiet', '--out', out);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/invalid --n\/--batch\/--steps: poisson --n 100000 x --batch 100 x 4e9 steps: would take about [\d.e]+ years \(4e16 neuron-steps at ~[\d.e]+ neuron-steps\/s on the CPU reference\)/);
    expect(r.err).toMatch(/fix: reduce --n or --batch or --steps about/);
    expect(existsSync(out)).toBe(false);
  });

  it('before a GPU is chosen, refuses only what even the fastest possible backend could not finish', async () => {
    // On the CPU reference this is about 13 years; a hardware GPU (assumed ~1e9 neuron-steps/s) might do it in days.
    const e = estimatePopulationRun(resolveExperimentShape({ n: 100_000, batch: 1, steps: 4e9 }), { backend: 'webgpu', isSoftware: false });
    expect(e.work.seconds.cpu).toBeGreaterThan(runTimeLimits.refuseSeconds);
    expect(e.work.seconds['webgpu-hardware']).toBeLessThan(runTimeLimits.refuseSeconds);
    expect(() => checkRunTime(e, ['cpu', 'webgpu-software', 'webgpu-hardware'])).not.toThrow();
    expect(() => checkRunTime(e, ['cpu'])).toThrow(/would take about 13 years/);
    // --backend auto with a request beyond any backend is refused before a GPU context exists.
    const r = await ei('run', 'poisson', '--n', '1000000', '--batch', '1000', '--steps', '4000000000', '--record-spikes', '0', '--record-traces', '0', '--set', 'burnin=0', '--quiet', '--out', join(dir, 'auto'));
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/would take about .* years .*on WebGPU on a hardware GPU \(an assumed rate/);
    expect(r.err).not.toMatch(/using software adapter/);
  });

  it('the notice is one line with the rate assumed', () => {
    const lines: string[] = [];
    const e: RunEstimate = { model: 'm', size: 's', memory: [], outputs: [], work: { units: 3.6e9, unit: 'things', seconds: { cpu: 3600, 'webgpu-software': 7200, 'webgpu-hardware': 1 }, options: ['--steps'] } };
    checkRunTime(e, ['cpu'], (m) => lines.push(m));
    expect(lines).toEqual(['ei: m s: estimated 60 min (3.6e9 things at ~1e6 things/s on the CPU reference, a rough rate from bench/results); press Ctrl-C to stop']);
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(3 * 86400)).toBe('3 days');
    expect(formatDuration(2 * 365 * 86400)).toBe('2 years');
  });
});
