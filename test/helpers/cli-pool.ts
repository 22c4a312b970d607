// Runs `ei` invocations in a long-lived child process (test/helpers/cli-worker.ts) with a wall-clock bound per case.
// A case that does not answer in time, or that kills the child (out of memory, a native crash), is reported as such
// and the child is replaced for the next case.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type CliOutcome =
  | { kind: 'exit'; code: number; out: string; err: string; ms: number }
  /** The case did not answer within the time bound; the child was killed. */
  | { kind: 'timeout'; ms: number; err: string }
  /** The child died while running the case (signal or exit code: out of memory, native crash). */
  | { kind: 'crash'; ms: number; err: string; exitCode: number | null; signal: string | null };

const workerPath = fileURLToPath(new URL('./cli-worker.ts', import.meta.url));

export interface CliWorkerOptions {
  /** Heap limit of the child, so that a runaway allocation fails fast instead of swapping (MiB). */
  maxOldSpaceMiB?: number;
  /** Limit of the child's writable data segment (ulimit -d), MiB (default 3072). */
  maxDataMiB?: number;
  env?: NodeJS.ProcessEnv;
}

interface Pending {
  id: number;
  resolve: (o: CliOutcome) => void;
  timer: NodeJS.Timeout;
  t0: number;
  child: ChildProcess;
}

/** Live children, killed when this process exits (a child stuck in a synchronous loop would not notice the parent go). */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export class CliWorker {
  private child: ChildProcess | null = null;
  private ready: Promise<void> | null = null;
  private pending: Pending | null = null;
  private stderrTail = '';
  private nextId = 1;
  /** Children started so far (1 + the number of cases that killed or hung one). */
  starts = 0;

  constructor(private readonly options: CliWorkerOptions = {}) {}

  private start(): Promise<void> {
    this.starts++;
    this.stderrTail = '';
    const node = [process.execPath, '--import', 'tsx', `--max-old-space-size=${this.options.maxOldSpaceMiB ?? 2048}`, workerPath];
    const dataKiB = Math.round((this.options.maxDataMiB ?? 3072) * 1024);
    // `ulimit -d` caps the child's writable data (V8 heap and typed arrays, not the address space that WebAssembly
    // reserves), so that a run sized beyond this machine fails at its allocation instead of swapping it to a halt.
    const child = spawn('/bin/sh', ['-c', 'ulimit -d "$0" 2>/dev/null; exec "$@"', String(dataKiB), ...node], {
      env: { ...process.env, ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child = child;
    live.add(child);
    child.stdout!.on('data', () => {});
    child.stderr!.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-4000);
    });
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: { ready?: boolean; id?: number; code?: number; out?: string; err?: string }) => {
        if (m.ready) return resolve();
        const p = this.pending;
        if (!p || p.child !== child || m.id !== p.id) return;
        this.pending = null;
        clearTimeout(p.timer);
        p.resolve({ kind: 'exit', code: m.code!, out: m.out!, err: m.err!, ms: performance.now() - p.t0 });
      };
      child.on('message', onMessage);
      child.on('exit', (code, signal) => {
        live.delete(child);
        if (this.child === child) {
          this.child = null;
          this.ready = null;
        }
        reject(new Error(`cli-worker exited before it was ready (${code ?? signal}): ${this.stderrTail}`));
        const p = this.pending;
        if (p && p.child === child) {
          this.pending = null;
          clearTimeout(p.timer);
          p.resolve({ kind: 'crash', ms: performance.now() - p.t0, err: this.stderrTail, exitCode: code, signal });
        }
      });
    });
    // Avoid an unhandled rejection when the child dies after it was ready.
    ready.catch(() => {});
    return ready;
  }

  /** Runs `ei ...argv` (without the leading 'ei'); never rejects for the case's own behaviour. */
  async run(argv: readonly string[], timeoutMs: number): Promise<CliOutcome> {
    if (this.pending) throw new Error('CliWorker.run: one case at a time');
    if (!this.child || !this.ready) this.ready = this.start();
    await this.ready;
    const child = this.child!;
    const id = this.nextId++;
    return new Promise<CliOutcome>((resolve) => {
      const t0 = performance.now();
      const timer = setTimeout(() => {
        if (this.pending?.id !== id) return;
        this.pending = null;
        const err = this.stderrTail;
        this.kill();
        resolve({ kind: 'timeout', ms: performance.now() - t0, err });
      }, timeoutMs);
      this.pending = { id, resolve, timer, t0, child };
      child.send({ id, argv: [...argv] });
    });
  }

  private kill(): void {
    const c = this.child;
    this.child = null;
    this.ready = null;
    if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }

  /** Stops the child (idempotent). */
  close(): void {
    const p = this.pending;
    if (p) {
      this.pending = null;
      clearTimeout(p.timer);
    }
    this.kill();
  }
}
