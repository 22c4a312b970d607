// The frame every long CLI command shares: result folder, backend, progress bar; commit on success, clean up on failure.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createResultDir, type ResultDir } from '../io/result-dir.ts';
import type { AdapterChoice } from '../gpu/node-webgpu.ts';
import { createProgressBar, type ProgressBar } from './progress.ts';
import { selectBackend, type BackendSelection } from '../engine/backend.ts';
import type { Backend } from '../core/contract.ts';

export interface SessionOptions {
  outPath: string;
  backend: 'auto' | Backend;
  adapter: AdapterChoice;
  /** Progress label, given the backend actually used. */
  label: (backend: Backend) => string;
  total: number;
  unit: string;
  quiet: boolean;
  /** Replace an earlier ei result in outPath (see createResultDir). */
  overwrite?: boolean;
  /** With --backend auto on a software adapter, prefer the CPU reference for this reason (see selectBackend). */
  cpuBeatsSoftware?: string;
  /** The model has wasm kernels: --backend auto prefers a hardware GPU, then wasm (see selectBackend). */
  wasm?: boolean;
}

export interface Session {
  sel: BackendSelection;
  bar: ProgressBar;
  out: ResultDir;
}

/**
 * Runs `body` with a backend and a result folder. The folder appears only if `body` succeeds
 * (summary.json is written last by convention); on any error the partial output is removed.
 */
export async function withResultSession<T>(o: SessionOptions, body: (s: Session) => Promise<T>): Promise<T> {
  const out = createResultDir(o.outPath, { overwrite: o.overwrite });
  let sel: BackendSelection | null = null;
  let bar: ProgressBar | null = null;
  try {
    sel = await selectBackend(o.backend, o.adapter, (m) => console.error(m), o.cpuBeatsSoftware, o.wasm);
    bar = createProgressBar({ label: o.label(sel.backend), total: o.total, unit: o.unit, silent: o.quiet });
    const result = await body({ sel, bar, out });
    bar.finish();
    out.commit();
    if (existsSync(join(out.path, 'report.html'))) console.error(`ei: report: ${join(out.path, 'report.html')}`);
    return result;
  } catch (e) {
    bar?.fail();
    out.abort();
    throw e;
  } finally {
    sel?.ctx?.dispose();
  }
}
