// The `ei` command line: info, run, sweep, merge, reproduce and bench.
import '../gpu/node-provider.ts'; // Node's WebGPU (Dawn); the library's Node entry does the same
import '../wasm/node-threads.ts'; // worker_threads for --backend wasm --threads N (likewise)
import { EiError, ParameterError } from '../errors.ts';
import { createGpuContext } from '../gpu/context.ts';
import { makeParamTable } from '../core/params.ts';
import { modelList } from '../models/index.ts';
import { modelIds } from '../engine/models.ts';
import { runOptionFlags } from '../core/request.ts';
import { engineVersion } from '../engine/version.ts';
import { makeHelpText, parseArgs, type ArgSpec } from './args.ts';
import { infoCommand } from './info-command.ts';
import { runCommand } from './run-command.ts';
import { sweepCommand, mergeCommand } from './sweep-command.ts';
import { reproduceCommand } from './reproduce-command.ts';
import { benchCommand } from './bench-command.ts';

export { engineVersion };

const topHelp = `ei ${engineVersion} — WebGPU simulation engine for balanced E-I networks

usage:
  ei info [--json]                          adapter, backend, limits and features
  ei run <model> [options]                  one experiment -> DIR/config.json, summary.json, *.csv, report.html
  ei sweep <model> --grid name=a:b:k ...    batched parameter sweep, one CSV row per point and replica
  ei merge <shard dirs...> --out DIR        merge the shards of a sweep deterministically
  ei reproduce --list | <figure-id>         registered paper reproductions
  ei models                                 the models and their parameters
  ei bench --browser [--quick]              every model's scaling in Chrome -> bench/results/models-<adapter>-chrome-<date>.json

models: ${modelIds.join(', ')}
'ei <command> --help' describes each command's options.`;

function printHelp(spec: ArgSpec, extra = ''): number {
  console.log(makeHelpText(spec) + (extra ? `\n\n${extra}` : ''));
  return 0;
}

function modelsCommand(): number {
  for (const m of modelList) {
    const takes = m.options.takes.map((o) => runOptionFlags[o]).join(', ');
    console.log(`${m.id}: ${m.title}\n  ${m.summary}\n  run options: ${takes}, --set, --seed; backends: cpu${m.webgpu ? ', webgpu' : ''}${m.wasm ? ', wasm' : ''}${m.sweep ? '; ei sweep' : ''}\n  definition: ${m.doc}\n  parameters (--set name=value):\n${makeParamTable(m.parameters)}\n`);
  }
  return 0;
}

/** Runs the CLI; returns the exit code (errors are printed, not thrown). */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(topHelp);
        return 0;
      case '--version':
        console.log(engineVersion);
        return 0;
      case 'info':
        return await infoCommand(rest);
      case 'run':
        return await runCommand(rest, engineVersion);
      case 'sweep':
        return await sweepCommand(rest, engineVersion);
      case 'merge':
        return await mergeCommand(rest);
      case 'reproduce':
        return await reproduceCommand(rest, engineVersion);
      case 'models':
        return modelsCommand();
      case 'bench':
        return await benchCommand(rest);
      default:
        throw new ParameterError('command', `unknown command '${cmd}'`, 'use one of: info, run, sweep, merge, reproduce, models, bench (ei --help)');
    }
  } catch (e) {
    if (e instanceof EiError) {
      console.error(`ei: error: ${e.message}`);
      return 2;
    }
    // The memory estimate compares with the machine's free memory; a ulimit or a container can allow less.
    if (e instanceof RangeError && /allocation failed|Array buffer allocation|Invalid typed array length/i.test(e.message)) {
      console.error(`ei: error: out of host memory (${e.message})\n  fix: reduce --n, --batch or the run length; the machine had room, but this process may be limited (ulimit -d/-v, a container or cgroup)`);
      return 2;
    }
    console.error(`ei: internal error: ${(e as Error).stack ?? e}`);
    return 1;
  }
}

