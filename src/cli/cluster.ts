// Sweeps on a cluster's own scheduler: `ei sweep ... --shards N --emit slurm|k8s --out DIR` writes the job files of a
// sharded sweep into DIR (each task runs `ei sweep --shard i/N` into DIR/shards/shard-<i>, resuming what a killed task
// left, then a merge job joins the shards), and `ei sweep --status DIR` says which shards are done, running or missing.
// The files are pure text made here; the schedulers run them as they are.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { ConfigError } from '../errors.ts';
import { verifyShard, type SweepSchema } from '../core/sweep-grid.ts';
import { sweepRowsDirOf } from '../io/sweep-rows.ts';

export const CLUSTER_SWEEP_FORMAT = 'ei-cluster-sweep/1';
export const clusterSchedulers = ['slurm', 'k8s'] as const;
export type ClusterScheduler = (typeof clusterSchedulers)[number];

/** What DIR/sweep.json records: the sweep every task runs, and how it is split. */
export interface ClusterSweep {
  format: typeof CLUSTER_SWEEP_FORMAT;
  scheduler: ClusterScheduler;
  model: string;
  /** `ei sweep` arguments of every task (model first), without --shard and --out. */
  args: string[];
  shards: number;
  totalInstances: number;
  sweepHash: string;
  createdAt: string;
  /** The sweep folder as the tasks see it (Slurm: DIR itself on the shared file system; Kubernetes: on the volume). */
  taskDir: string;
}

export interface SlurmOptions {
  /** The command that runs ei on the compute nodes (default: this Node and this checkout's bin/ei.js). */
  eiCommand: string[];
  partition?: string;
  time?: string;
  cpus?: number;
  gpus?: number;
}

export interface K8sOptions {
  image: string;
  claim: string;
  mountPath: string;
  cpus?: number;
  gpus?: number;
}

/** Pure: `s` quoted for a POSIX shell (unchanged when it needs no quotes). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const shellLine = (words: readonly string[]) => words.map(shellQuote).join(' ');

/** Pure: shard i's result folder and the merged folder under the sweep folder. */
export const shardDir = (dir: string, i: number | string) => join(dir, 'shards', `shard-${i}`);
export const mergedDir = (dir: string) => join(dir, 'merged');

/** Pure: the Slurm files of a sweep: the job array, the merge job and the script that submits both. */
export function makeSlurmFiles(sweep: ClusterSweep, o: SlurmOptions): Record<string, string> {
  const dir = sweep.taskDir;
  const ei = shellLine(o.eiCommand);
  const common = [
    ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
    ...(o.time ? [`#SBATCH --time=${o.time}`] : []),
  ];
  const array = [
    '#!/bin/bash',
    `# ei-engine: ${sweep.model} sweep, ${sweep.totalInstances} instances in ${sweep.shards} shards (one array task each).`,
    '# A rerun of the array (sbatch sweep.sbatch) skips complete shards and resumes the rows a killed task finished.',
    `#SBATCH --job-name=ei-${sweep.model}-sweep`,
    `#SBATCH --array=0-${sweep.shards - 1}`,
    `#SBATCH --output=${join(dir, 'logs', 'shard-%a.log')}`,
    ...(o.cpus ? [`#SBATCH --cpus-per-task=${o.cpus}`] : []),
    ...(o.gpus ? [`#SBATCH --gres=gpu:${o.gpus}`] : []),
    ...common,
    'set -euo pipefail',
    `exec ${ei} ${shellLine(sweep.args)} --shard "$SLURM_ARRAY_TASK_ID/${sweep.shards}" --quiet --out ${shellQuote(join(dir, 'shards'))}/shard-"$SLURM_ARRAY_TASK_ID"`,
    '',
  ].join('\n');
  const merge = [
    '#!/bin/bash',
    '# ei-engine: merges the shards once every array task has succeeded (submit.sh makes it depend on the array).',
    `#SBATCH --job-name=ei-${sweep.model}-merge`,
    `#SBATCH --output=${join(dir, 'logs', 'merge.log')}`,
    ...common,
    'set -euo pipefail',
    `${ei} sweep --status ${shellQuote(dir)}`,
    `exec ${ei} merge ${shellQuote(join(dir, 'shards'))}/shard-* --overwrite --out ${shellQuote(mergedDir(dir))}`,
    '',
  ].join('\n');
  const submit = [
    '#!/bin/bash',
    '# Submits the array, then the merge job to run after every task succeeded. Rerun it to fill the gaps a failed task left.',
    'set -euo pipefail',
    `cd ${shellQuote(dir)}`,
    'mkdir -p logs',
    'array=$(sbatch --parsable sweep.sbatch)',
    'array=${array%%;*}',
    'sbatch --parsable --dependency=afterok:"$array" merge.sbatch',
    `echo "submitted array $array; ei sweep --status ${dir.replace(/"/g, '\\"')} shows progress"`,
    '',
  ].join('\n');
  return { 'sweep.sbatch': array, 'merge.sbatch': merge, 'submit.sh': submit };
}

/** Pure: the Kubernetes objects of a sweep: the Indexed Job of the shards and the Job that merges them. */
export function makeK8sObjects(sweep: ClusterSweep, o: K8sOptions): { job: Record<string, unknown>; merge: Record<string, unknown> } {
  const dir = sweep.taskDir;
  const name = `ei-${sweep.model}-sweep`;
  const ei = ['node', '/opt/ei-engine/bin/ei.js'];
  const volume = { name: 'results', persistentVolumeClaim: { claimName: o.claim } };
  const mount = { name: 'results', mountPath: o.mountPath };
  const resources = {
    ...(o.cpus ? { requests: { cpu: String(o.cpus) } } : {}),
    ...(o.gpus ? { limits: { 'nvidia.com/gpu': String(o.gpus) } } : {}),
  };
  const container = (command: string) => ({
    name: 'ei',
    image: o.image,
    command: ['sh', '-c', command],
    // ei reads the shard from JOB_COMPLETION_INDEX; Kubernetes does not export the completion count.
    env: [{ name: 'EI_SHARD_COUNT', value: String(sweep.shards) }],
    volumeMounts: [mount],
    ...(Object.keys(resources).length ? { resources } : {}),
  });
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels: { app: 'ei-engine', 'ei-sweep': sweep.sweepHash.slice(0, 16) } },
    spec: {
      completionMode: 'Indexed',
      completions: sweep.shards,
      parallelism: sweep.shards,
      // A retried pod resumes the rows its predecessor finished.
      backoffLimitPerIndex: 3,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [container(`exec ${shellLine(ei)} ${shellLine(sweep.args)} --quiet --out ${shellQuote(join(dir, 'shards'))}/shard-"$JOB_COMPLETION_INDEX"`)],
          volumes: [volume],
        },
      },
    },
  };
  const merge = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `ei-${sweep.model}-merge`, labels: { app: 'ei-engine', 'ei-sweep': sweep.sweepHash.slice(0, 16) } },
    spec: {
      backoffLimit: 2,
      template: {
        spec: {
          restartPolicy: 'Never',
          // Jobs have no dependencies: the merge waits until ei sweep --status finds every shard done.
          containers: [container(`until ${shellLine(ei)} sweep --status ${shellQuote(dir)} >/dev/null; do sleep 30; done; exec ${shellLine(ei)} merge ${shellQuote(join(dir, 'shards'))}/shard-* --overwrite --out ${shellQuote(mergedDir(dir))}`)],
          volumes: [volume],
        },
      },
    },
  };
  return { job, merge };
}

/** Pure: the Kubernetes files: both Jobs as YAML, and the image recipe (Node 20 on Debian with what setup.sh installs). */
export function makeK8sFiles(sweep: ClusterSweep, o: K8sOptions): Record<string, string> {
  const { job, merge } = makeK8sObjects(sweep, o);
  const dockerfile = [
    '# The ei-engine image the Jobs run: build it from the repository root (docker build -f <this file> -t <image> .)',
    '# and push it where the cluster pulls from. chromium gives the SwiftShader Vulkan driver (the CPU fallback);',
    '# libvulkan1 is the loader Dawn links against; a GPU node adds its own driver.',
    'FROM node:20-bookworm-slim',
    'RUN apt-get update && apt-get install -y --no-install-recommends chromium libvulkan1 && rm -rf /var/lib/apt/lists/*',
    'WORKDIR /opt/ei-engine',
    'COPY package.json package-lock.json ./',
    'RUN PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund',
    'COPY . .',
    'ENTRYPOINT ["node", "/opt/ei-engine/bin/ei.js"]',
    '',
  ].join('\n');
  return { 'job.yaml': toYaml(job), 'merge-job.yaml': toYaml(merge), Dockerfile: dockerfile };
}

export type ShardState = 'done' | 'running' | 'missing';

export interface ShardStatus {
  shard: number;
  state: ShardState;
  /** Rows of the shard, and rows finished (done: all; running: those on disk so far). */
  rows: number;
  finished: number;
  detail: string;
}

/** Rows of shard i of N among `total` instances (round-robin: sweep index k belongs to shard k mod N). */
export function shardRows(total: number, i: number, n: number): number {
  return i < total ? Math.floor((total - 1 - i) / n) + 1 : 0;
}

/** Reads DIR/sweep.json, refusing a folder that is not an emitted sweep. */
export function readClusterSweep(dir: string): ClusterSweep {
  const path = join(dir, 'sweep.json');
  let s: ClusterSweep;
  try {
    s = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new ConfigError(`${dir} is not a cluster sweep folder (no readable sweep.json)`, 'pass the --out folder of `ei sweep ... --shards N --emit slurm|k8s`');
  }
  if (s.format !== CLUSTER_SWEEP_FORMAT) throw new ConfigError(`${path} is not an ei cluster sweep (format ${JSON.stringify(s.format)})`, 'pass the --out folder of `ei sweep ... --emit`');
  return s;
}

/** The state of every shard of the sweep in `dir` (the folder as this machine sees it). */
export function clusterSweepStatus(dir: string, schemas: Record<string, SweepSchema>): { sweep: ClusterSweep; shards: ShardStatus[] } {
  const sweep = readClusterSweep(dir);
  const shards = Array.from({ length: sweep.shards }, (_, i): ShardStatus => {
    const out = shardDir(dir, i);
    const rows = shardRows(sweep.totalInstances, i, sweep.shards);
    if (existsSync(join(out, 'summary.json'))) {
      try {
        const read = (f: string) => readFileSync(join(out, f), 'utf8');
        const v = verifyShard({ dir: out, config: read('config.json'), summary: read('summary.json'), csv: readFileSync(join(out, 'sweep.csv')) }, schemas);
        if (v.config.sweepHash !== sweep.sweepHash) return { shard: i, state: 'missing', rows, finished: 0, detail: `${out} holds a different sweep` };
        return { shard: i, state: 'done', rows, finished: rows, detail: out };
      } catch (e) {
        return { shard: i, state: 'missing', rows, finished: 0, detail: `${out} does not verify: ${(e as Error).message}` };
      }
    }
    const rowsDir = sweepRowsDirOf(out);
    const files = existsSync(rowsDir) ? readdirSync(rowsDir).filter((f) => /^rows-\d+\.csv$/.test(f)) : [];
    const finished = files.reduce((a, f) => a + readFileSync(join(rowsDir, f), 'utf8').trimEnd().split('\n').length - 1, 0);
    // A task holds the result folder's lock (beside it) while it runs.
    const lock = join(dir, 'shards', `.shard-${i}.ei-lock`);
    if (existsSync(lock)) {
      const age = (Date.now() - statSync(existsSync(rowsDir) ? rowsDir : lock).mtimeMs) / 1000;
      return { shard: i, state: 'running', rows, finished, detail: `${finished} of ${rows} rows finished, last write ${age.toFixed(0)} s ago` };
    }
    return { shard: i, state: 'missing', rows, finished, detail: finished > 0 ? `${finished} of ${rows} rows finished by a task that stopped; rerunning the shard resumes them` : 'not started' };
  });
  return { sweep, shards };
}
