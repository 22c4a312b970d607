// A sharded sweep on a real Slurm cluster: Debian's slurm-wlm and munge (installed here when missing, as setup.sh
// installs chromium), a private munged, slurmctld and slurmd on 127.0.0.1 from a generated slurm.conf (one node, this
// machine's cores). The emitted submit.sh submits the 4-task array and its merge job; one task is cancelled mid-run,
// submit.sh is rerun (done shards skip, the cancelled one resumes its finished rows), and the merged sweep.csv equals
// the single-process sweep byte for byte. Every daemon this test started is stopped by its pid when it ends.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepRowsDirOf } from '../src/io/sweep-rows.ts';
import { ei } from './helpers/cli.ts';

const root = userInfo().uid === 0;
const sudo = !root && spawnSync('sudo', ['-n', 'true']).status === 0;
const canRun = root || sudo;
if (!canRun) {
  // Loud, and never in CI (CI runs as root): the cluster path stays unproven on this machine.
  if (process.env.CI) throw new Error('test/slurm.test.ts needs root or password-less sudo to install and start Slurm, and CI must run it');
  console.warn('\n*** test/slurm.test.ts SKIPPED: it needs root or password-less sudo to install slurm-wlm and start slurmctld / slurmd ***\n');
}
const asRoot = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) => execFileSync(root ? cmd : 'sudo', root ? args : ['-E', cmd, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const dir = mkdtempSync(join(tmpdir(), 'ei-slurm-'));
const conf = join(dir, 'slurm.conf');
const munge = join(dir, 'munge');
const node = hostname().split('.')[0];
// A private port pair, so a cluster already on this machine is left alone.
const port = 20000 + (process.pid % 20000);
const env = { ...process.env, SLURM_CONF: conf };
const sweep = ['sweep', 'poisson', '--grid', 'rIn=1000:3500:16', '--n', '1500', '--steps', '500', '--set', 'burnin=0', '--backend', 'cpu', '--max-batch', '1'];

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function until(what: string, ok: () => boolean, seconds: number): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out after ${seconds} s waiting for ${what}; slurmctld log:\n${readFileSync(join(dir, 'slurmctld.log'), 'utf8').slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const queueEmpty = () => sh('squeue', ['-h', '-o', '%i']).trim() === '';

beforeAll(async () => {
  if (!canRun) return;
  if (!existsSync('/usr/sbin/slurmctld') || !existsSync('/usr/sbin/munged')) {
    asRoot('apt-get', ['update', '-qq']);
    asRoot('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'slurm-wlm', 'munge'], { ...process.env, DEBIAN_FRONTEND: 'noninteractive' });
  }
  // munged refuses keys and sockets that others could write: a folder of its own, owned by the munge user.
  // The munge user must reach its folder inside ours (mkdtemp makes it 0700).
  chmodSync(dir, 0o755);
  // Clients connect to the socket in it: execute for all, writable by munge only.
  mkdirSync(munge, { mode: 0o711 });
  const id = (flag: string) => Number(execFileSync('id', [flag, 'munge'], { encoding: 'utf8' }).trim());
  asRoot('mungekey', ['--create', `--keyfile=${join(munge, 'munge.key')}`]);
  chownSync(munge, id('-u'), id('-g'));
  chmodSync(munge, 0o711);
  asRoot('chown', ['munge:munge', join(munge, 'munge.key')]);
  asRoot('runuser', ['-u', 'munge', '--', '/usr/sbin/munged', `--socket=${join(munge, 'socket')}`, `--key-file=${join(munge, 'munge.key')}`, `--log-file=${join(munge, 'munged.log')}`, `--pid-file=${join(munge, 'munged.pid')}`, `--seed-file=${join(munge, 'seed')}`]);
  for (const d of ['state', 'spool']) mkdirSync(join(dir, d));
  writeFileSync(
    conf,
    [
      'ClusterName=eitest',
      `SlurmctldHost=${node}(127.0.0.1)`,
      `SlurmctldPort=${port}`,
      `SlurmdPort=${port + 1}`,
      'SlurmUser=root',
      'AuthType=auth/munge',
      `AuthInfo=socket=${join(munge, 'socket')}`,
      `StateSaveLocation=${join(dir, 'state')}`,
      `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`,
      `SlurmdLogFile=${join(dir, 'slurmd.log')}`,
      // No cgroups or systemd in a container: process groups track the tasks.
      'ProctrackType=proctrack/pgid',
      'TaskPlugin=task/none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'MpiDefault=none',
      'ReturnToService=2',
      'KillWait=5',
      `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${Math.max(2, (await import('node:os')).availableParallelism())} State=UNKNOWN`,
      'PartitionName=ei Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
      '',
    ].join('\n'),
  );
  asRoot('/usr/sbin/slurmctld', ['-f', conf], env);
  asRoot('/usr/sbin/slurmd', ['-f', conf, '-N', node], env);
  await until('the node to come up idle', () => /idle/.test(sh('sinfo', ['-h', '-o', '%T'])), 60);
}, 300_000);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

afterAll(async () => {
  const pids: number[] = [];
  for (const pidFile of [join(dir, 'slurmd.pid'), join(dir, 'slurmctld.pid'), join(munge, 'munged.pid')]) {
    if (!existsSync(pidFile)) continue;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    pids.push(pid);
    try {
      if (root) process.kill(pid, 'SIGTERM');
      else asRoot('kill', [String(pid)]);
    } catch {
      // Already gone.
    }
  }
  // They write their logs until they exit.
  for (let t = 0; t < 100 && pids.some(alive); t++) await new Promise((r) => setTimeout(r, 100));
  if (root) rmSync(dir, { recursive: true, force: true });
  else spawnSync('sudo', ['-n', 'rm', '-rf', dir]);
});

describe.skipIf(!canRun)('ei sweep on a real Slurm cluster', () => {
  it('runs the emitted array and merge job; a task cancelled mid-run resumes on resubmission; the merge equals the single-process sweep', async () => {
    const whole = join(dir, 'whole');
    expect((await ei(...sweep, '--quiet', '--out', whole)).code).toBe(0);
    const sw = join(dir, 'sweep');
    expect((await ei(...sweep, '--shards', '4', '--emit', 'slurm', '--out', sw)).code).toBe(0);

    const first = sh('bash', [join(sw, 'submit.sh')]);
    const arrayId = /submitted array (\d+)/.exec(first)![1];
    const mergeId = first.trim().split('\n')[0].trim();
    // Cancel task 1 once it has finished a batch or two (its rows are on disk) but not the shard.
    const shard1 = join(sw, 'shards', 'shard-1');
    const rows = () => (existsSync(sweepRowsDirOf(shard1)) ? readdirSync(sweepRowsDirOf(shard1)).filter((f) => /^rows-\d+\.csv$/.test(f)).length : 0);
    await until('task 1 to finish a batch', () => rows() >= 1, 120);
    sh('scancel', [`${arrayId}_1`]);
    await until('the other tasks to end and task 1 to be cancelled', () => sh('squeue', ['-h', '-j', arrayId, '-o', '%i']).trim() === '', 120);
    expect(existsSync(join(shard1, 'summary.json'))).toBe(false);
    const kept = rows();
    expect(kept).toBeGreaterThanOrEqual(1);
    expect(kept).toBeLessThan(4);
    const status = await ei('sweep', '--status', sw, '--json');
    expect(status.code).toBe(3);
    expect(JSON.parse(status.out).status.map((s: { state: string }) => s.state)).toEqual(['done', 'missing', 'done', 'done']);
    // The merge job waits on a dependency that can no longer be met.
    sh('scancel', [mergeId]);

    sh('bash', [join(sw, 'submit.sh')]);
    await until('the resubmitted array and merge to finish', () => queueEmpty() && existsSync(join(sw, 'merged', 'summary.json')), 240);
    expect(readFileSync(join(sw, 'logs', 'shard-1.log'), 'utf8')).toMatch(new RegExp(`resuming: ${kept} of 4 rows are already finished`));
    expect(readFileSync(join(sw, 'logs', 'shard-0.log'), 'utf8')).toMatch(/nothing to run/);
    expect((await ei('sweep', '--status', sw)).code).toBe(0);
    expect(readFileSync(join(sw, 'merged', 'sweep.csv'), 'utf8')).toBe(readFileSync(join(whole, 'sweep.csv'), 'utf8'));
  }, 600_000);
});
