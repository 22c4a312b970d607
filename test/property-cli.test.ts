// Property: every `ei run <model>` invocation either completes with a clean, faithful result or is refused with a typed
// error that names the field — never an internal error, a stack trace, a crash or a hang.
//
// Cases come from test/helpers/cli-cases.ts: parameter values inside and outside the ranges the model registry declares
// (min/max, exclusive bounds, integer kind, choices, appliesWhen), misspellings ('0x10', '', 'NaN', '1e40', '-0', ...),
// huge and tiny magnitudes, and run options (--n, --steps or --T, --dt, --batch, --seed) valid and invalid.
//
// Each case runs in-process in a long-lived child (test/helpers/cli-pool.ts) with a wall-clock bound: an in-process timer
// cannot interrupt a synchronous hang, and a runaway allocation must not take the test runner down. Measured on the 2-core
// machine (2,000 cases): about 0.7 s to start a child; then a refused case costs 1-5 ms, a completed run median 30-80 ms
// per model, p90 110-290 ms, max ~1.3 s; spawning `node bin/ei.js` per case would cost 0.6-1 s each (tsx start-up), i.e.
// the whole file would take half an hour. At most two cases run at a time (two cores).
//
// A case passes when:
//  - exit 0: no value the spec forbids was given, summary.json and config.json exist, summary.json holds no null
//    (JSON writes NaN and +-Infinity as null) except the documented "not applicable" markers (see nullAllowed), and the
//    run recorded the options and parameters it was given (n, steps, dt, batch, seed, T = steps x dt, each --set);
//  - exit 2: stderr starts with 'ei: error: ', names the field ('invalid ...', a flag or a parameter), shows no stack,
//    and no result folder (or partial one) is left behind;
//  - anything else fails it: exit 1 / 'internal error', a stack, a crash (out of memory: the child has a 3 GiB data
//    limit), or no answer within the case bound (a hang).
//
// Reproducible: fixed seed, fixed numRuns. Why numRuns is enough: a third of the cases are clean (all values typical
// and valid), two thirds are a clean case with one field perturbed (a quarter of them two), the field drawn uniformly from
// the model's F perturbable fields (its parameters, --n, --batch, --dt, --seed, the run length, an unknown name, a
// parameter under a choice it does not apply to; F = 18 poisson, 29 hybrid, 15 binary, 15 minimax, 24 rate). With
// numRuns = 20 F, each field is perturbed 20 F x 2/3 x 1.25 / F ~ 17 times in expectation. A numeric parameter's
// perturbation is a boundary, an outside-the-range, or a huge/tiny value with probability 1/4 each, a misspelling 1/6,
// an odd spelling or a non-integer 1/12: so each (parameter, class) pair is drawn ~4 times (a seeded run misses a given
// one with probability e^-4.2 ~ 1.5%), misspellings ~3 times (~6%), the rare classes ~1.4 times (they go through the
// same parser for every parameter, so they are covered many times over across parameters). Clean cases (~7 F per
// model) exercise the completed-run checks. Measured: the file takes ~40 s for its 2,020 cases when every property
// passes (~90 s with other test runs on the machine); a failing property stops at its first counterexample and
// shrinks within the limit (today: ~30 s for the whole file).
// Known regressions are pinned by example tests (test/cli.test.ts and others); this property looks for new ones.
//
// EI_PROPERTY_ALL=1 runs every generated case without stopping at the first failure (no shrinking) and prints all
// violations grouped by kind; EI_PROPERTY_RUNS, EI_PROPERTY_SEED, EI_PROPERTY_MODELS (comma list) and
// EI_PROPERTY_CASE_TIMEOUT_MS override the defaults; EI_PROPERTY_REPORT=path writes the cases and outcomes as JSON.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliWorker, type CliOutcome } from './helpers/cli-pool.ts';
import { argvOf, caseArbitrary, checkOutcome, commandLine, modelConfigs, perturbableFields, type CliCase, type ModelConfig } from './helpers/cli-cases.ts';

const SEED = Number(process.env.EI_PROPERTY_SEED ?? 42);
/** Cases per perturbable field of a model (see the header); EI_PROPERTY_RUNS sets the number of cases directly. */
const RUNS_PER_FIELD = 20;
const numRuns = (m: ModelConfig) => Number(process.env.EI_PROPERTY_RUNS ?? RUNS_PER_FIELD * perturbableFields(m).length);
/** A valid case takes < 1 s; 15x headroom for a loaded machine, still short enough to shrink a hang. */
const CASE_TIMEOUT_MS = Number(process.env.EI_PROPERTY_CASE_TIMEOUT_MS ?? 15_000);
/**
 * Per model, including shrinking; the five properties share two lanes, so the file stays under ~2 minutes. A run cut
 * short by it (a loaded machine) passes with a warning naming how many cases it checked; a failure found is reported.
 */
const PROPERTY_TIME_LIMIT_MS = 100_000;
const EXPLORE = process.env.EI_PROPERTY_ALL === '1';
const MODELS = (process.env.EI_PROPERTY_MODELS ?? 'poisson,hybrid,binary,minimax,rate').split(',').filter(Boolean);

/** At most `n` cases at a time across the properties (two cores). */
class Lanes {
  private free: number;
  private waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await f();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

const lanes = new Lanes(2);
let root = '';
let counter = 0;
const report: { model: string; command: string; outcome: Omit<CliOutcome, 'out'> & { out?: string }; violations: string[] }[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ei-prop-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  if (process.env.EI_PROPERTY_REPORT) writeFileSync(process.env.EI_PROPERTY_REPORT, JSON.stringify(report, null, 1));
});

function describeOutcome(o: CliOutcome): string {
  if (o.kind !== 'exit') return `${o.kind} after ${(o.ms / 1000).toFixed(1)} s`;
  return `exit ${o.code}; stderr: ${o.err.split('\n').slice(0, 2).join(' / ').slice(0, 300)}`;
}

async function runCase(worker: CliWorker, m: ModelConfig, c: CliCase): Promise<{ o: CliOutcome; violations: string[] }> {
  const out = join(root, `c${++counter}`);
  const o = await lanes.run(() => worker.run(argvOf(c, out), CASE_TIMEOUT_MS));
  const violations = checkOutcome(m, c, o, out);
  rmSync(out, { recursive: true, force: true });
  report.push({ model: m.id, command: commandLine(c), outcome: { ...o, ...(o.kind === 'exit' ? { out: o.out.slice(0, 200), err: o.err.slice(0, 600) } : { err: o.err.slice(-600) }) }, violations });
  return { o, violations };
}

const configs = modelConfigs();

describe.concurrent('ei run: every case completes cleanly or is refused with a typed error', () => {
  for (const id of MODELS) {
    const m = configs[id];
    it(`${id}`, { timeout: PROPERTY_TIME_LIMIT_MS + 30_000 }, async () => {
      const worker = new CliWorker();
      try {
        const arb = caseArbitrary(m);
        if (EXPLORE) {
          const failures = new Map<string, string[]>();
          for (const c of fc.sample(arb, { seed: SEED, numRuns: numRuns(m) })) {
            const { o, violations } = await runCase(worker, m, c);
            for (const v of violations) {
              const kind = v.replace(/\d+(\.\d+)?(e[+-]?\d+)?/g, '#').slice(0, 90);
              const list = failures.get(kind) ?? [];
              list.push(`${commandLine(c)}\n      -> ${describeOutcome(o)}\n      -> ${v}`);
              failures.set(kind, list);
            }
          }
          const text = [...failures].map(([k, l]) => `${k} (${l.length} cases), e.g.\n    ${l.slice(0, 3).join('\n    ')}`).join('\n\n');
          expect(failures.size, `violations of ${id}:\n\n${text}`).toBe(0);
          return;
        }
        const prop = fc.asyncProperty(arb, async (c) => {
          const { o, violations } = await runCase(worker, m, c);
          if (violations.length) throw new Error(`\n  ${commandLine(c)}\n  -> ${describeOutcome(o)}\n  -> ${violations.join('\n  -> ')}`);
        });
        await fc.assert(prop, {
          seed: SEED,
          numRuns: numRuns(m),
          interruptAfterTimeLimit: PROPERTY_TIME_LIMIT_MS,
          reporter: (d) => {
            if (d.failed) throw new Error(`${fc.defaultReportMessage(d)}\nGot: ${(d.errorInstance as Error | undefined)?.message ?? String(d.errorInstance)}`);
            if (d.interrupted) console.warn(`${id}: the time limit cut the run short after ${d.numRuns} of ${numRuns(m)} cases (seed ${SEED})`);
          },
        });
      } finally {
        worker.close();
      }
    });
  }
});
