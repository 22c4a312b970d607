// Reruns a regression list of `ei` invocations (a TSV: case, exit, wall, command, first line of stderr, first line of
// stdout, as recorded earlier) against this checkout, classifies each outcome and writes a TSV report.
//
//   npx tsx scripts/rerun-cli-cases.ts <cases.tsv> [--out report.tsv] [--timeout 60] [--only id,id,...] [--keep]
//
// Each command runs in order (later merges use earlier sweeps) through bash, with `npx ei` replaced by
// `node <repo>/bin/ei.js`, `OUT` by a scratch output folder and `TMP` by a scratch path; environment prefixes
// (EI_ADAPTER=foo ...) are kept. The working directory is a scratch folder holding a user file, so `--out .` or
// `--out ''` cannot touch the repository. Run as root, commands run as the unprivileged user `nobody` (setpriv), so
// that a case like `--out /` cannot delete anything that matters if the checkout has a bug.
//
// Set-ups the command column only names, built from the case ids:
//   o1 OUT/afile.txt a user file; o9 OUT/emptydir; o10 OUT/userdir with a user file; o11 OUT/exist1 an earlier ei result;
//   o12 OUT/myproject with config.json and a user file src/main.c; m12 OUT/mfile a user file; m6 OUT/mexist an earlier
//   merge result; m7 OUT/sA{0,1,2}copy copies of the shards OUT/swA-{0,1,2}; mc* damaged copies OUT/swA-1<X> of the
//   shard OUT/swA-1 (T a truncated row, V a changed value, R a removed row, G a garbage line, I a changed index,
//   H a changed header, E an empty file, N a NaN value, D a duplicated row, T2 the file cut inside its last number);
//   rerun3 first starts the same run and interrupts it with SIGINT (a k* signal case), then reruns it.
// User files of a set-up must survive the case: if one is gone or changed, the case is data-loss.
//
// Classes: ok (a valid baseline completed), clear-error (exit 2, 'ei: error:' naming a field, flag or path, and a
// 'fix:' line), unclear (exit 2 without those), internal-error (exit 1, 'internal error', a stack, a crash or an
// out-of-memory abort), hang (no exit within the timeout), silently-accepted (exit 0 for a bad input), data-loss
// (a user file gone or changed), wrongly-refused (exit 2 for a valid baseline), setup-failed (a set-up it needs
// could not be made). Rows whose case id appears again later in the file are superseded by the later row.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// ------------------------------------------------------------------------------------------ arguments

const usage = 'usage: npx tsx scripts/rerun-cli-cases.ts <cases.tsv> [--out report.tsv] [--timeout 60] [--only id,id,...] [--keep]';
const argv = process.argv.slice(2);
let casesPath: string | undefined;
let reportPath: string | undefined;
let timeoutS = 60;
let only: Set<string> | null = null;
let keep = false;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const value = () => {
    const v = argv[++i];
    if (v === undefined) fail(`${a} expects a value`);
    return v;
  };
  if (a === '--out') reportPath = value();
  else if (a === '--timeout') timeoutS = Number(value());
  else if (a === '--only') only = new Set(value().split(','));
  else if (a === '--keep') keep = true;
  else if (a === '-h' || a === '--help') {
    console.log(usage);
    process.exit(0);
  } else if (a.startsWith('-')) fail(`unknown option ${a}`);
  else if (casesPath === undefined) casesPath = a;
  else fail(`unexpected argument ${a}`);
}
if (!casesPath) fail('no cases file given');
if (!(timeoutS > 0)) fail('--timeout must be a positive number of seconds');

function fail(msg: string): never {
  console.error(`rerun-cli-cases: ${msg}\n${usage}`);
  process.exit(2);
}

// ------------------------------------------------------------------------------------------ the cases

interface Case {
  line: number;
  id: string;
  exit: number;
  wall: string;
  command: string;
  err1: string;
  out1: string;
  superseded?: boolean;
}

function readCases(path: string): Case[] {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const header = lines[0].split('\t');
  const col = (name: string) => header.findIndex((h) => h.trim().toLowerCase().startsWith(name));
  const [cId, cExit, cWall, cCmd, cErr, cOut] = [col('case'), col('exit'), col('wall'), col('command'), col('first line of stderr'), col('first line of stdout')];
  if (cId < 0 || cCmd < 0) fail(`${path}: expected a header with 'case' and 'command' columns`);
  const cases = lines.slice(1).map((l, i): Case => {
    const f = l.split('\t');
    return { line: i + 2, id: f[cId], exit: Number(f[cExit]), wall: f[cWall] ?? '', command: f[cCmd] ?? '', err1: f[cErr] ?? '', out1: f[cOut] ?? '' };
  });
  const last = new Map<string, number>();
  cases.forEach((c, i) => last.set(c.id, i));
  cases.forEach((c, i) => (c.superseded = last.get(c.id) !== i));
  return cases;
}

/**
 * Bad inputs the recorded run completed (exit 0) anyway: their completing again is silently-accepted. Judged from the
 * ids and the recorded lines: parameters that do not apply to the chosen variant (b7, b11, b12, bk_all), options the
 * model ignores (n_m_100, n_r_100, b_T, b_T2, mp_steps, rp_steps), misspellings or non-f32 magnitudes taken as numbers
 * (pp20, pp25, bp20, rp17), --T that is not a whole number of steps (T8, T11, d9, hp_dt2, rp_tiny), an invalid
 * environment value (e7), an empty shard (sh6), damaged shards merged (mcV, mcN, mcD, mcT2), a merge written over its
 * own input (m7), an extra argument ignored (rq4), --adapter with --backend cpu (e4).
 */
const BAD_INPUT = new Set(['b7', 'b11', 'b12', 'bk_all', 'n_m_100', 'n_r_100', 'b_T', 'b_T2', 'mp_steps', 'rp_steps', 'e4', 'pp20', 'pp25', 'bp20', 'rp17', 'T8', 'T11', 'd9', 'hp_dt2', 'rp_tiny', 'e7', 'sh6', 'mcV', 'mcN', 'mcD', 'mcT2', 'm7', 'rq4']);
/**
 * Bad only because --T was not a whole number of steps: completing is right when the run lasted exactly --T (the
 * engine may adjust a default dt), which the result's config.json (steps x dt) shows.
 */
const T_NOT_A_MULTIPLE = new Set(['T8', 'T11', 'd9', 'hp_dt2', 'rp_tiny']);
/**
 * Either outcome is right: valid but huge requests recorded as a hang or crash (completing in time is as good as a
 * refusal); writing over an earlier ei result (o11, m6: replacing it or refusing without --force are both sound);
 * o12 (a folder with a config.json that ei did not write: completing is fine only if the user's files survive, which
 * the data-loss check decides); m7b (a valid merge once m7 no longer overwrites its input shard); pp27 (w = 1e30: the
 * potential leaves the f32 range, so a refusal is as right as a finite result); g13 (a grid over a choice parameter:
 * refused before, a sweep over the choices is as good).
 */
const EITHER = new Set(['nh_p_cpu', 'hp17', 'hp17e', 'hp17f', 'g5b', 'big2', 'o11', 'm6', 'o12', 'm7b', 'pp27', 'g13']);

type Expectation = 'ok' | 'refuse' | 'either';
function expectation(c: Case): Expectation {
  if (EITHER.has(c.id)) return 'either';
  if (c.exit === 0 && !BAD_INPUT.has(c.id)) return 'ok';
  return 'refuse';
}

// ------------------------------------------------------------------------------------------ scratch space and commands

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const scratch = mkdtempSync(join(tmpdir(), 'ei-rerun-'));
const OUT = join(scratch, 'OUT');
const TMP = join(scratch, 'TMP');
const cwd = join(scratch, 'cwd');
mkdirSync(OUT, { recursive: true });
mkdirSync(cwd, { recursive: true });
// The working directory looks like a user's folder: `--out .` or `--out ''` must not take it over.
const cwdNotes = { path: join(cwd, 'notes.txt'), content: 'a user file in the working directory\n' };
writeFileSync(cwdNotes.path, cwdNotes.content);

const asNobody = process.getuid?.() === 0 && spawnSync('setpriv', ['--help'], { stdio: 'ignore' }).status === 0;
const NOBODY = 65534;

function chownTree(p: string): void {
  if (!asNobody) return;
  const st = lstatSync(p, { throwIfNoEntry: false });
  if (!st) return;
  chownSync(p, NOBODY, NOBODY);
  if (st.isDirectory()) for (const f of readdirSync(p)) chownTree(join(p, f));
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const eiCommand = `node ${q(join(repo, 'bin/ei.js'))}`;

/** The recorded command with `npx ei`, OUT and TMP replaced. */
function localCommand(cmd: string): string {
  return cmd
    .replace(/\bnpx ei\b/g, eiCommand)
    .replace(/(^|[\s='"])OUT(?=\/|$|[\s'"])/g, `$1${OUT}`)
    .replace(/(^|[\s='"])TMP(?=\/|$|[\s'"])/g, `$1${TMP}`);
}

interface RunResult {
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  ms: number;
  out: string;
  err: string;
}

/** Runs a shell command in its own process group; kills the group after `limitS`, or sends `interrupt` after `interruptAfterMs`. */
function runShell(cmd: string, limitS: number, interrupt?: { afterMs: number; signal: NodeJS.Signals }): Promise<RunResult> {
  const args = asNobody ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'bash', '-c', cmd] : ['bash', '-c', cmd];
  return new Promise((done) => {
    const t0 = performance.now();
    const child = spawn(args[0], args.slice(1), { cwd, detached: true, env: { ...process.env, HOME: scratch }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const cap = (s: string, d: Buffer) => (s.length < 1_000_000 ? s + d.toString() : s);
    child.stdout.on('data', (d: Buffer) => (out = cap(out, d)));
    child.stderr.on('data', (d: Buffer) => (err = cap(err, d)));
    let timedOut = false;
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGKILL');
    }, limitS * 1000);
    const intr = interrupt ? setTimeout(() => killGroup(interrupt.signal), interrupt.afterMs) : null;
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (intr) clearTimeout(intr);
      done({ code, signal, timedOut, ms: performance.now() - t0, out, err });
    });
  });
}

// ------------------------------------------------------------------------------------------ set-ups

/** A user file that must survive the case unchanged. */
interface Protected {
  path: string;
  content: string;
}

function userFile(path: string, content: string): Protected {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return { path, content };
}

async function makeResult(out: string): Promise<void> {
  const r = await runShell(`${eiCommand} run poisson --n 20 --steps 20 --set burnin=0 --backend cpu --quiet --out ${q(out)}`, 60);
  if (r.code !== 0 || !existsSync(join(out, 'config.json'))) throw new Error(`could not make an ei result in ${out}: ${r.err.split('\n')[0]}`);
}

function needShard(name: string): string {
  const p = join(OUT, name);
  if (!existsSync(join(p, 'sweep.csv'))) throw new Error(`${name} is missing (made by an earlier sweep case)`);
  return p;
}

/** Writes the damaged copies OUT/swA-1<X> of the shard OUT/swA-1. */
function makeDamagedShards(): void {
  const src = needShard('swA-1');
  const text = readFileSync(join(src, 'sweep.csv'), 'utf8');
  const lines = text.replace(/\n$/, '').split('\n');
  const [header, ...rows] = lines;
  const fields = (l: string) => l.split(',');
  const csv = (ls: string[]) => ls.join('\n') + '\n';
  const cols = fields(header);
  const numericCol = Math.max(cols.indexOf('meanU'), 3);
  const damage: Record<string, string> = {
    // A truncated row: the last row loses its last two fields.
    T: csv([header, ...rows.slice(0, -1), fields(rows[rows.length - 1]).slice(0, -2).join(',')]),
    // A changed value: the first row's meanU doubled.
    V: csv([header, fields(rows[0]).map((f, i) => (i === numericCol ? String(Number(f) * 2) : f)).join(','), ...rows.slice(1)]),
    // A removed row: the last one.
    R: csv([header, ...rows.slice(0, -1)]),
    // A garbage line appended.
    G: csv([header, ...rows, 'garbage,@@,!!']),
    // An index changed: the first row's index becomes 99.
    I: csv([header, ['99', ...fields(rows[0]).slice(1)].join(','), ...rows.slice(1)]),
    // A changed header: rateHz -> rate, rateHzTheory -> rateTheory.
    H: csv([cols.map((c) => (c === 'rateHz' ? 'rate' : c === 'rateHzTheory' ? 'rateTheory' : c)).join(','), ...rows]),
    // An empty file.
    E: '',
    // A NaN value in the first row.
    N: csv([header, fields(rows[0]).map((f, i) => (i === numericCol ? 'NaN' : f)).join(','), ...rows.slice(1)]),
    // A duplicated row.
    D: csv([header, ...rows, rows[rows.length - 1]]),
    // The file cut inside its last number (no final newline).
    T2: text.replace(/\n$/, '').slice(0, -3),
  };
  for (const [k, content] of Object.entries(damage)) {
    const dst = join(OUT, `swA-1${k}`);
    rmSync(dst, { recursive: true, force: true });
    cpSync(src, dst, { recursive: true });
    writeFileSync(join(dst, 'sweep.csv'), content);
  }
}

let damagedMade = false;

/** Prepares what case `c` needs; returns the user files it must not lose and notes. */
async function setUp(c: Case): Promise<{ protect: Protected[]; note: string[] }> {
  const protect: Protected[] = [];
  const note: string[] = [];
  const id = c.id;
  const changed = /^(o9|o11|m6|m7|mc.*|rerun3)$/.test(id);
  if (id === 'o1') protect.push(userFile(join(OUT, 'afile.txt'), 'user data in a file\n'));
  if (id === 'o9') mkdirSync(join(OUT, 'emptydir'), { recursive: true });
  if (id === 'o10') protect.push(userFile(join(OUT, 'userdir', 'thesis.tex'), '\\documentclass{article}\n'));
  if (id === 'o11') await makeResult(join(OUT, 'exist1'));
  if (id === 'o12') {
    protect.push(userFile(join(OUT, 'myproject', 'config.json'), '{ "project": "myproject", "version": 3 }\n'));
    protect.push(userFile(join(OUT, 'myproject', 'src', 'main.c'), 'int main(void) { return 0; }\n'));
  }
  if (id === 'm12') protect.push(userFile(join(OUT, 'mfile'), 'user data in a file\n'));
  if (id === 'm6') {
    const from = existsSync(join(OUT, 'mA', 'config.json')) ? join(OUT, 'mA') : null;
    if (from) cpSync(from, join(OUT, 'mexist'), { recursive: true });
    else await makeResult(join(OUT, 'mexist'));
  }
  if (id === 'm7') {
    for (const k of [0, 1, 2]) {
      const dst = join(OUT, `sA${k}copy`);
      rmSync(dst, { recursive: true, force: true });
      cpSync(needShard(`swA-${k}`), dst, { recursive: true });
    }
    // The merge writes into its own first input: the shard's data must not be replaced.
    const p = join(OUT, 'sA0copy', 'sweep.csv');
    protect.push({ path: p, content: readFileSync(p, 'utf8') });
  }
  if (/^mc/.test(id) && !damagedMade) {
    makeDamagedShards();
    damagedMade = true;
  }
  if (id === 'rerun3') {
    // k3: the same run, interrupted mid-way with SIGINT; the rerun below must then work.
    const k = await runShell(localCommand(c.command), 60, { afterMs: 2500, signal: 'SIGINT' });
    const left = readdirSync(OUT).filter((f) => f.startsWith('.kill3.partial'));
    note.push(`interrupted first run: ${k.timedOut ? 'did not stop on SIGINT' : `exit ${k.code ?? k.signal}`} after ${(k.ms / 1000).toFixed(1)} s${existsSync(join(OUT, 'kill3')) ? ', OUT/kill3 exists' : ''}${left.length ? `, left ${left.join(' ')}` : ', no partial folder left'}`);
  }
  if (protect.length || changed) chownTree(scratch);
  return { protect: [cwdNotes, ...protect], note };
}

// ------------------------------------------------------------------------------------------ classification

type Klass = 'ok' | 'clear-error' | 'unclear' | 'internal-error' | 'hang' | 'silently-accepted' | 'data-loss' | 'wrongly-refused' | 'setup-failed';
const classes: Klass[] = ['ok', 'clear-error', 'unclear', 'internal-error', 'hang', 'silently-accepted', 'data-loss', 'wrongly-refused', 'setup-failed'];

const STACK = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;
/** The refusal points at what is wrong: 'invalid X', a --flag, a path, a quoted value, an environment variable or model.param. */
const NAMES_FIELD = /invalid |--[A-Za-z]|\/|'[^']*'|\b[A-Z][A-Z0-9_]{2,}\b|\b[a-z]+\.[A-Za-z][A-Za-z0-9]*\b/;

function firstEiLine(err: string): string {
  const lines = err.split('\n').filter((l) => l.trim() !== '');
  return lines.find((l) => l.startsWith('ei: error:') || l.startsWith('ei: internal error')) ?? lines[0] ?? '';
}

function classify(c: Case, r: RunResult, lost: string[]): { klass: Klass; note: string[] } {
  const note: string[] = [];
  const exp = expectation(c);
  if (r.timedOut) return { klass: 'hang', note: [`no exit within ${timeoutS} s`] };
  if (lost.length) return { klass: 'data-loss', note: lost };
  const code = r.code;
  if (code === 1 || /internal error/.test(r.err) || STACK.test(r.err) || /OOMErrorHandler|heap out of memory|Aborted/.test(r.err) || code === null || (code !== 0 && code !== 2)) {
    if (code !== 1) note.push(code === null ? `killed by ${r.signal}` : `exit ${code}`);
    return { klass: 'internal-error', note };
  }
  if (code === 0) {
    if (T_NOT_A_MULTIPLE.has(c.id)) {
      const exact = ranExactlyT(c);
      if (exact.ok) return { klass: 'ok', note: [exact.note] };
      return { klass: 'silently-accepted', note: [exact.note] };
    }
    if (exp === 'refuse') return { klass: 'silently-accepted', note: [`a bad input completed (recorded exit ${c.exit})`] };
    return { klass: 'ok', note };
  }
  // exit 2
  const first = firstEiLine(r.err);
  if (exp === 'ok') note.push('a valid baseline was refused');
  // The message names what is wrong in its first line or in its fix line.
  const fix = r.err.split('\n').find((l) => /^\s*fix: /.test(l)) ?? '';
  const clear = first.startsWith('ei: error:') && fix !== '' && (NAMES_FIELD.test(first.slice('ei: error:'.length)) || NAMES_FIELD.test(fix.replace(/^\s*fix: /, '')));
  if (exp === 'ok') return { klass: 'wrongly-refused', note };
  if (!clear) {
    if (!first.startsWith('ei: error:')) note.push('first line is not ei: error:');
    else if (!/^\s*fix: /m.test(r.err)) note.push("no 'fix:' line");
    else note.push('names no field, flag or path');
  }
  return { klass: clear ? 'clear-error' : 'unclear', note };
}

/** Whether the completed run of a --T case lasted exactly --T (steps x dt from its config.json). */
function ranExactlyT(c: Case): { ok: boolean; note: string } {
  const T = Number(/--T\s+(\S+)/.exec(c.command)?.[1]);
  const out = /--out\s+OUT\/(\S+)/.exec(c.command)?.[1];
  const cfgPath = out ? join(OUT, out, 'config.json') : '';
  if (!Number.isFinite(T) || !out || !existsSync(cfgPath)) return { ok: false, note: 'completed; no config.json to check --T against' };
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { steps?: number; dt?: number };
  const ran = (cfg.steps ?? NaN) * (cfg.dt ?? NaN);
  const ok = Math.abs(ran - T) <= 1e-9 * T;
  return { ok, note: `ran ${cfg.steps} steps x dt ${cfg.dt} = ${ran} for --T ${T}${ok ? ' (exactly --T)' : ' (not --T)'}` };
}

/** The class the recorded outcome had (the recorded file keeps only first lines, so exit 2 is just 'refused'). */
function recordedClass(c: Case): string {
  if (c.exit === 0) return expectation(c) === 'refuse' ? 'silently-accepted' : 'ok';
  if (c.exit === 2) return expectation(c) === 'ok' ? 'wrongly-refused' : 'refused';
  if (c.exit === 124) return 'hang';
  return 'internal-error';
}

function lostFiles(protect: Protected[]): string[] {
  const lost: string[] = [];
  for (const p of protect) {
    const rel = p.path.replace(scratch + '/', '');
    if (!existsSync(p.path)) lost.push(`user file ${rel} is gone`);
    else if (lstatSync(p.path).isDirectory() || readFileSync(p.path, 'utf8') !== p.content) lost.push(`user file ${rel} was changed`);
  }
  return lost;
}

// ------------------------------------------------------------------------------------------ main

const tsvField = (s: string) => s.replace(/[\t\n\r]+/g, ' ').trim();
const firstLine = (s: string) => tsvField(s.split('\n').find((l) => l.trim() !== '') ?? '');

async function main(): Promise<void> {
  const cases = readCases(casesPath!);
  const rows: string[][] = [['case', 'class', 'expected', 'exit', 'wall_s', 'recorded_exit', 'recorded_class', 'command', 'first line of stderr', 'first line of stdout', 'note']];
  const counts = new Map<string, number>(classes.map((k) => [k, 0]));
  const transitions = new Map<string, number>();
  let superseded = 0;
  chownTree(scratch);
  console.error(`rerun-cli-cases: ${cases.length} rows from ${casesPath}; scratch ${scratch}${asNobody ? ' (commands run as nobody)' : ''}`);
  for (const c of cases) {
    if (only && !only.has(c.id)) continue;
    if (c.superseded) {
      superseded++;
      rows.push([c.id, 'superseded', '', '', '', String(c.exit), '', c.command, '', '', `line ${c.line}: the case is rerun from a later line`]);
      continue;
    }
    let klass: Klass;
    let note: string[] = [];
    let r: RunResult | null = null;
    try {
      const s = await setUp(c);
      note = s.note;
      r = await runShell(localCommand(c.command), timeoutS);
      const k = classify(c, r, lostFiles(s.protect));
      klass = k.klass;
      note.push(...k.note);
    } catch (e) {
      klass = 'setup-failed';
      note.push((e as Error).message);
    }
    counts.set(klass, (counts.get(klass) ?? 0) + 1);
    const from = recordedClass(c);
    transitions.set(`${from} -> ${klass}`, (transitions.get(`${from} -> ${klass}`) ?? 0) + 1);
    const unscratch = (s: string) => s.split(scratch + '/').join('').split(scratch).join('SCRATCH');
    rows.push([
      c.id, klass, expectation(c), r ? String(r.code ?? r.signal) : '', r ? (r.ms / 1000).toFixed(1) : '', String(c.exit), from, c.command,
      unscratch(r ? firstLine(r.err) : ''), unscratch(r ? firstLine(r.out) : ''), unscratch(tsvField(note.join('; '))),
    ]);
    console.error(`${c.id.padEnd(22)} ${klass.padEnd(18)} ${r ? `exit ${String(r.code ?? r.signal).padEnd(4)} ${(r.ms / 1000).toFixed(1).padStart(5)} s` : ''}  ${note.join('; ').slice(0, 120)}`);
  }
  const tsv = rows.map((r) => r.map(tsvField).join('\t')).join('\n') + '\n';
  if (reportPath) writeFileSync(reportPath, tsv);
  else process.stdout.write(tsv);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  console.error(`\nclasses (${total} cases${superseded ? `, ${superseded} superseded rows skipped` : ''}):`);
  for (const [k, n] of counts) if (n > 0) console.error(`  ${k.padEnd(18)} ${n}`);
  console.error('recorded -> now:');
  for (const [k, n] of [...transitions].sort((a, b) => b[1] - a[1])) console.error(`  ${k.padEnd(40)} ${n}`);
  if (reportPath) console.error(`report: ${reportPath}`);
}

try {
  await main();
} finally {
  if (keep) console.error(`scratch kept: ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}
