// The five hybrid reproductions in their quick form on the CPU backend: each writes its files and returns finite, honest checks.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createResultDir } from '../src/io/result-dir.ts';
import { getReproduction, reproductions } from '../src/reproduce/registry.ts';

const root = mkdtempSync(join(tmpdir(), 'ei-hybrid-reproduce-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function runQuick(id: string) {
  const out = createResultDir(join(root, id));
  const t0 = performance.now();
  const outcome = await getReproduction(id).run({ quick: true, backend: 'cpu', ctx: null, out, seed: 1, onProgress: () => {} });
  const seconds = (performance.now() - t0) / 1000;
  out.commit();
  const files = readdirSync(out.path);
  // summary.json is written by the CLI with JSON.stringify, which would turn NaN into null silently: require finite numbers here.
  const text = JSON.stringify(outcome.summary, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `NONFINITE:${v}` : v));
  return { outcome, seconds, files, text, html: readFileSync(join(out.path, 'report.html'), 'utf8') };
}

const ids = ['hybrid-moments', 'hybrid-histogram', 'hybrid-balance', 'hybrid-error-vs-n', 'hybrid-blowup'];

describe('hybrid reproductions (quick, cpu)', () => {
  it('are registered', () => {
    for (const id of ids) expect(reproductions[id]?.id).toBe(id);
  });

  for (const id of ids) {
    it(`${id}: writes CSV, SVG and report.html, with finite summaries and passing checks`, async () => {
      const r = await runQuick(id);
      // How long a quick variant takes is a benchmark's business, not a test's (it failed under load, not in the code).
      expect(r.files.some((f) => f.endsWith('.csv'))).toBe(true);
      expect(r.files.some((f) => f.endsWith('.svg'))).toBe(true);
      expect(r.files).toContain('report.html');
      expect(r.html).toContain('QUICK RUN');
      expect(r.text).not.toContain('NONFINITE');
      expect(r.outcome.checks.length).toBeGreaterThan(0);
      for (const c of r.outcome.checks) {
        expect(c.expected.length).toBeGreaterThan(0);
        expect(c.measured).not.toMatch(/NaN/);
        expect(c.pass, `${id} / ${c.name}: expected ${c.expected}; measured ${c.measured}`).toBe(true);
      }
    }, 60_000);
  }
});
