// `ei reproduce --list | <id> [--quick] [--out DIR]`: runs a registered reproduction into a result folder.
import { ParameterError } from '../errors.ts';
import { getReproduction, getReproductionModel, reproductions } from '../reproduce/registry.ts';
import type { Backend } from '../core/contract.ts';
import { defaultThreadCount } from '../wasm/threads.ts';
import { makeHelpText, parseArgs, type ArgSpec } from './args.ts';
import { makeSummaryJson } from '../io/summary-json.ts';
import { withResultSession } from './result-session.ts';
import { checkThreadsFlag, checkWasmBackend, defaultOutDir, makeAdapterRecord } from './run-command.ts';

const reproduceSpec = {
  command: 'ei reproduce',
  description: 'Runs a registered paper reproduction; writes data (CSV), figures (SVG), report.html and summary.json with measured values next to expected ones.',
  positionals: [{ name: 'figure-id', help: 'reproduction id (see --list)' }],
  flags: {
    list: { type: 'boolean', help: 'list the registered reproductions' },
    quick: { type: 'boolean', help: 'shortened version (minutes on a CPU-only machine)' },
    'full-size': { type: 'boolean', help: 'the largest sizes a reproduction offers, for a hardware GPU (hybrid-moments: n up to 1e7; binary-heatmap: 100 x 100 x 4 networks x 5e4 samples)' },
    samples: { type: 'integer', min: 100, help: '(binary-*) post-burn-in steps per point, e.g. the spec\'s 50000 with the --quick network sizes' },
    networks: { type: 'integer', min: 2, max: 64, help: '(binary-*) independent networks (connectivity draws) per point, for the spread over networks (default 2; --full-size 4)' },
    out: { type: 'string', help: 'result folder (default results/<id>-<time>)' },
    seed: { type: 'integer', min: 0, default: 1, help: 'random seed' },
    backend: { type: 'string', choices: ['auto', 'webgpu', 'cpu', 'wasm'], default: 'auto', help: 'webgpu, cpu (reference), wasm (WebAssembly kernels, bit-identical to cpu) or auto (a hardware GPU, else wasm with a notice)' },
    threads: { type: 'integer', min: 1, max: 64, help: "on the wasm backend (--backend wasm, or auto when it picks wasm): worker threads of every run (default: each run's model default for its size; the results do not depend on it)" },
    adapter: { type: 'string', choices: ['auto', 'hardware', 'software'], default: 'auto', help: 'WebGPU adapter' },
    quiet: { type: 'boolean', help: 'no progress bar' },
    overwrite: { type: 'boolean', help: 'replace an earlier ei result in --out (only the files ei wrote there)' },
  },
} as const satisfies ArgSpec;

export async function reproduceCommand(argv: string[], engineVersion: string): Promise<number> {
  const a = parseArgs(argv, reproduceSpec);
  if (a.help) {
    console.log(makeHelpText(reproduceSpec));
    return 0;
  }
  if (a.flags.list) {
    if (a.positionals.length) throw new ParameterError('--list', `takes no reproduction id, but '${a.positionals[0]}' was given`, `run \`ei reproduce --list\` alone, or \`ei reproduce ${a.positionals[0]}\` to run one`);
    for (const r of Object.values(reproductions)) console.log(`${r.id.padEnd(24)} ${r.title}\n${' '.repeat(25)}${r.source}`);
    return 0;
  }
  const id = a.positionals[0];
  if (!id) throw new ParameterError('figure-id', 'missing', 'give a reproduction id, or --list to see them');
  const rep = getReproduction(id);
  // Size flags only some reproductions honour: refused elsewhere, naming those that take them.
  const sizeFlags = [
    ['samples', a.flags.samples !== undefined, 'acceptsSamples'],
    ['networks', a.flags.networks !== undefined, 'acceptsNetworks'],
    ['full-size', a.flags['full-size'] === true, 'acceptsFullSize'],
  ] as const;
  for (const [flag, given, accepts] of sizeFlags) {
    if (given && !rep[accepts]) throw new ParameterError(flag, `is not used by ${id}`, `drop --${flag} (it applies to: ${Object.values(reproductions).filter((r) => r[accepts]).map((r) => r.id).join(', ')})`);
  }
  // A reproduction runs its model's kernels only: wasm (asked for, or chosen by auto) when that model has them.
  const model = getReproductionModel(id);
  checkWasmBackend(model, a.flags.backend);
  checkThreadsFlag(a.given.has('threads'), a.flags.backend);
  if (a.given.has('adapter') && (a.flags.backend === 'cpu' || a.flags.backend === 'wasm')) {
    throw new ParameterError('--adapter', `--adapter ${String(a.flags.adapter)} has no effect with --backend ${a.flags.backend}`, 'drop --adapter, or use --backend webgpu (or auto) to choose the WebGPU adapter');
  }
  const t0 = performance.now();
  return withResultSession(
    { outPath: a.flags.out ?? defaultOutDir(id), backend: a.flags.backend as 'auto' | Backend, adapter: a.flags.adapter as 'auto', label: (b) => `${id}${a.flags.quick ? ' (quick)' : ''} on ${b}`, total: 1, unit: 'of the work', quiet: a.flags.quiet, overwrite: a.flags.overwrite, cpuBeatsSoftware: rep.cpuBeatsSoftware, wasm: model.wasm },
    async ({ sel, bar, out }) => {
      checkThreadsFlag(a.given.has('threads'), a.flags.backend, sel.backend);
      // Without --threads every run takes its model's default for its size (runs of one reproduction differ in size).
      const threads = sel.backend === 'wasm' ? a.flags.threads : undefined;
      if (sel.backend === 'wasm' && threads === undefined) console.error(`ei: wasm backend, each run on its model's default threads for its size (at most ${defaultThreadCount(Number.MAX_SAFE_INTEGER, 64)} here; --threads N to choose)`);
      if (rep.plan) console.error(`ei: ${rep.plan({ quick: a.flags.quick, fullSize: a.flags['full-size'], samples: a.flags.samples, networks: a.flags.networks })}`);
      const outcome = await rep.run({ quick: a.flags.quick, fullSize: a.flags['full-size'], samples: a.flags.samples, networks: a.flags.networks, backend: sel.backend, ctx: sel.ctx, threads, out, seed: a.flags.seed, onProgress: (d, t) => bar.update(d / t) });
      const wallSeconds = (performance.now() - t0) / 1000;
      out.write('config.json', JSON.stringify({ engineVersion, command: ['ei', 'reproduce', ...argv], createdAt: new Date().toISOString(), id, quick: a.flags.quick, fullSize: a.flags['full-size'], samples: a.flags.samples ?? null, networks: a.flags.networks ?? null, seed: a.flags.seed, backend: sel.backend, threads: sel.backend === 'wasm' ? (threads ?? 'model default per run') : null, fallbackReason: sel.fallbackReason, adapter: makeAdapterRecord(sel), node: process.version }, null, 2) + '\n');
      out.write('summary.json', makeSummaryJson({ id, title: rep.title, quick: a.flags.quick, backend: sel.backend, wallSeconds, checks: outcome.checks, allPassed: outcome.checks.every((c) => c.pass), ...outcome.summary }));
      for (const c of outcome.checks) console.error(`  ${c.pass ? 'ok  ' : 'FAIL'} ${c.name}: expected ${c.expected}; measured ${c.measured}`);
      console.log(out.path);
      return outcome.checks.every((c) => c.pass) ? 0 : 3;
    },
  );
}
