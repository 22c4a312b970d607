// Cluster sweeps as the schedulers run them: `ei sweep --shards N --emit slurm` writes a job array whose task command,
// run as Slurm runs it (bash with SLURM_ARRAY_TASK_ID), fills the shards that the merge script joins into the
// single-process sweep.csv byte for byte; `--status` follows them. `--emit k8s` writes Jobs that validate against the
// Kubernetes API schema (kubernetes-models) and whose pod command, run with JOB_COMPLETION_INDEX, does the same. Flags
// of --emit are refused without it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { shardRows, shellQuote } from '../src/cli/cluster.ts';
import { ei } from './helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'ei-cluster-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const repo = resolve(import.meta.dirname, '..');
const sweep = ['sweep', 'poisson', '--grid', 'rIn=1000:3000:5', '--grid', 'theta=1.5,2', '--n', '100', '--steps', '60', '--set', 'burnin=0', '--backend', 'cpu'];
let whole = '';
const wholeCsv = async () => {
  if (!whole) {
    expect((await ei(...sweep, '--quiet', '--out', join(dir, 'whole'))).code).toBe(0);
    whole = readFileSync(join(dir, 'whole', 'sweep.csv'), 'utf8');
  }
  return whole;
};
const sh = (script: string, env: Record<string, string>) => execFileSync('bash', ['-c', script], { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('ei sweep --emit slurm', () => {
  it('writes an array whose tasks and merge give the single-process sweep byte for byte, with --status along the way', async () => {
    const sw = join(dir, 'slurm');
    const r = await ei(...sweep, '--shards', '3', '--emit', 'slurm', '--partition', 'debug', '--time', '00:10:00', '--gpus', '1', '--out', sw);
    expect(r.code, r.err).toBe(0);
    const array = readFileSync(join(sw, 'sweep.sbatch'), 'utf8');
    expect(array).toContain('#SBATCH --array=0-2');
    expect(array).toContain('#SBATCH --partition=debug');
    expect(array).toContain('#SBATCH --gres=gpu:1');
    expect(readFileSync(join(sw, 'submit.sh'), 'utf8')).toMatch(/--dependency=afterok:"\$array" merge\.sbatch/);
    let st = await ei('sweep', '--status', sw);
    expect(st.code).toBe(3);
    expect(st.out).toMatch(/0 done, 0 running, 3 missing/);
    mkdirSync(join(sw, 'logs'));
    // Two of the three tasks, as Slurm starts them.
    for (const i of [0, 2]) sh(`bash ${shellQuote(join(sw, 'sweep.sbatch'))}`, { SLURM_ARRAY_TASK_ID: String(i) });
    st = await ei('sweep', '--status', sw, '--json');
    const s = JSON.parse(st.out);
    expect(s.status.map((x: { state: string }) => x.state)).toEqual(['done', 'missing', 'done']);
    expect(s.status.map((x: { rows: number }) => x.rows)).toEqual([0, 1, 2].map((i) => shardRows(10, i, 3)));
    sh(`bash ${shellQuote(join(sw, 'sweep.sbatch'))}`, { SLURM_ARRAY_TASK_ID: '1' });
    // A rerun of a finished task has nothing to do.
    expect(sh(`bash ${shellQuote(join(sw, 'sweep.sbatch'))} 2>&1`, { SLURM_ARRAY_TASK_ID: '1' })).toMatch(/nothing to run/);
    expect((await ei('sweep', '--status', sw)).code).toBe(0);
    sh(`bash ${shellQuote(join(sw, 'merge.sbatch'))}`, {});
    expect(readFileSync(join(sw, 'merged', 'sweep.csv'), 'utf8')).toBe(await wholeCsv());
  });
});

describe('ei sweep --emit k8s', () => {
  it('writes an Indexed Job and a merge Job valid against the Kubernetes API schema, whose pod commands give the same sweep', async () => {
    const vol = join(dir, 'volume');
    const out = join(vol, 'k8s');
    const r = await ei(...sweep, '--shards', '2', '--emit', 'k8s', '--image', 'registry.example/ei-engine:0.1.0', '--cpus', '2', '--mount-path', vol, '--out', out);
    expect(r.code, r.err).toBe(0);
    const job = parse(readFileSync(join(out, 'job.yaml'), 'utf8'));
    const merge = parse(readFileSync(join(out, 'merge-job.yaml'), 'utf8'));
    // validate() throws on any field the API schema refuses.
    new Job(job).validate();
    new Job(merge).validate();
    expect(() => new Job({ ...job, spec: { ...job.spec, completionMode: 'Sequential?' } }).validate()).toThrow(/completionMode/);
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 2, parallelism: 2 });
    const c = job.spec.template.spec.containers[0];
    expect(c.env).toEqual([{ name: 'EI_SHARD_COUNT', value: '2' }]);
    expect(readFileSync(join(out, 'Dockerfile'), 'utf8')).toMatch(/^FROM node:20-bookworm/m);
    // The pods' commands, run here with the image's ei replaced by this checkout's.
    const local = (cmd: string) => cmd.replaceAll('node /opt/ei-engine/bin/ei.js', `${shellQuote(process.execPath)} ${shellQuote(join(repo, 'bin', 'ei.js'))}`);
    for (const i of [0, 1]) sh(local(c.command[2]), { JOB_COMPLETION_INDEX: String(i), EI_SHARD_COUNT: '2' });
    sh(local(merge.spec.template.spec.containers[0].command[2]), {});
    expect(readFileSync(join(out, 'merged', 'sweep.csv'), 'utf8')).toBe(await wholeCsv());
  });

  it('refuses the flags of --emit without it, and what a scheduler does not take', async () => {
    const bad = async (args: string[], re: RegExp) => {
      const r = await ei(...sweep, ...args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(re);
    };
    await bad(['--shards', '2', '--out', join(dir, 'x')], /--shards: only applies with --emit/);
    await bad(['--emit', 'k8s', '--shards', '2', '--out', join(dir, 'x')], /--image: is required with --emit k8s/);
    await bad(['--emit', 'slurm', '--shards', '2', '--image', 'a', '--out', join(dir, 'x')], /--image: does not apply to --emit slurm/);
    await bad(['--emit', 'slurm', '--out', join(dir, 'x')], /--shards: is required/);
    await bad(['--emit', 'slurm', '--shards', '2', '--shard', '0/2', '--out', join(dir, 'x')], /--shard: is set per task/);
    await bad(['--emit', 'slurm', '--shards', '2'], /--out: is required/);
  });
});
