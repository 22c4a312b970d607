// Unit tests of the progress bar: TTY redraw throttling, short non-TTY logs, finish/fail lines, silence.
import { describe, expect, it } from 'vitest';
import { createProgressBar, formatCount, formatDuration, type ProgressStream } from '../src/cli/progress.ts';
import { ParameterError } from '../src/errors.ts';

function fakeStream(isTTY: boolean, columns = 100): ProgressStream & { out: string[] } {
  const out: string[] = [];
  return { isTTY, columns, out, write: (s: string) => out.push(s) };
}

function fakeClock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('progress bar, not a TTY', () => {
  it('prints few plain lines for a fast run: nothing before 5 s, then once per 10%', () => {
    const stream = fakeStream(false);
    const clock = fakeClock();
    const bar = createProgressBar({ label: 'sweep', total: 1000, stream, unit: 'points', now: clock.now });
    for (let i = 1; i <= 1000; i++) {
      clock.advance(10); // 10 s in all, 1000 updates
      bar.update(i);
    }
    bar.finish();
    // Lines at t = 5 s (50%) and 10 s (100%), then the final line.
    expect(stream.out.length).toBe(3);
    expect(stream.out.every((l) => l.endsWith('\n') && !l.includes('\r') && !l.includes('\x1b'))).toBe(true);
    expect(stream.out[0]).toMatch(/^sweep: 50% \(500\/1000 points, 100 points\/s, ETA 5\.0 s\)\n$/);
    expect(stream.out[2]).toMatch(/^sweep: done, 1000 points in 10\.0 s/);
  });

  it('prints at most one line per 10% of a slow run, plus a heartbeat a minute', () => {
    const stream = fakeStream(false);
    const clock = fakeClock();
    const bar = createProgressBar({ label: 'run', total: 100, stream, unit: 'steps', now: clock.now });
    // 100 steps of 30 s: 50 minutes; 10% takes 5 minutes.
    for (let i = 1; i <= 100; i++) {
      for (let k = 0; k < 30; k++) {
        clock.advance(1000);
        bar.update(i - 1 + k / 30);
      }
      bar.update(i);
    }
    bar.finish();
    const lines = stream.out.length;
    // ~1 line a minute for 50 minutes, never one per update.
    expect(lines).toBeGreaterThanOrEqual(10);
    expect(lines).toBeLessThanOrEqual(55);
  });

  it('reports a failure with where it stopped, once', () => {
    const stream = fakeStream(false);
    const clock = fakeClock();
    const bar = createProgressBar({ label: 'run', total: 200, stream, now: clock.now });
    bar.update(50);
    clock.advance(2000);
    bar.fail('device lost');
    bar.fail('again');
    bar.finish();
    bar.update(100);
    expect(stream.out).toEqual(['run: failed at 25% (50/200 it) after 2.0 s: device lost\n']);
  });
});

describe('progress bar, TTY', () => {
  it('redraws one line at most 10 times a second and ends with a newline', () => {
    const stream = fakeStream(true, 100);
    const clock = fakeClock();
    const bar = createProgressBar({ label: 'sim', total: 10_000, stream, unit: 'steps', now: clock.now });
    for (let i = 1; i <= 10_000; i++) {
      clock.advance(1); // 10 s in all
      bar.update(i);
    }
    bar.finish();
    const redraws = stream.out.filter((s) => s.startsWith('\r') && !s.endsWith('\n'));
    expect(redraws.length).toBeGreaterThanOrEqual(95);
    expect(redraws.length).toBeLessThanOrEqual(101);
    for (const r of redraws) {
      expect(r.endsWith('\x1b[K')).toBe(true);
      expect(r.length - 4).toBeLessThan(100);
    }
    expect(redraws[50]).toBe('\rsim [###############---------------]   50% 5001/10000 steps  1.00k steps/s  ETA 5.0 s\x1b[K');
    expect(stream.out[stream.out.length - 1]).toMatch(/^\rsim: done, 10000 steps in 10\.0 s \(1\.00k steps\/s\)\x1b\[K\n$/);
  });

  it('fits narrow terminals without wrapping', () => {
    const stream = fakeStream(true, 40);
    const bar = createProgressBar({ label: 'a-very-long-label-for-a-narrow-terminal', total: 10, stream, now: fakeClock().now });
    bar.update(5);
    expect(stream.out[0].length - 4).toBeLessThanOrEqual(39);
  });
});

describe('progress bar options', () => {
  it('writes nothing when silent but still tracks progress', () => {
    const stream = fakeStream(true);
    const bar = createProgressBar({ label: 'q', total: 10, stream, silent: true });
    bar.update(3);
    expect(bar.done).toBe(3);
    bar.finish();
    expect(stream.out).toEqual([]);
  });

  it('accepts total 0 and rejects invalid totals', () => {
    const stream = fakeStream(false);
    createProgressBar({ label: 'z', total: 0, stream, now: fakeClock().now }).finish();
    expect(stream.out[0]).toMatch(/^z: done, 0 it/);
    expect(() => createProgressBar({ label: 'bad', total: -1, stream })).toThrow(ParameterError);
    expect(() => createProgressBar({ label: 'bad', total: NaN, stream })).toThrow(/progress total/);
  });

  it('formats durations and counts', () => {
    expect(formatDuration(950)).toBe('950 ms');
    expect(formatDuration(12_340)).toBe('12.3 s');
    expect(formatDuration(245_000)).toBe('4m05s');
    expect(formatDuration(7_380_000)).toBe('2h03m');
    expect(formatDuration(NaN)).toBe('--');
    expect(formatCount(850)).toBe('850');
    expect(formatCount(3.4)).toBe('3.40');
    expect(formatCount(12_345)).toBe('12.3k');
    expect(formatCount(4_560_000)).toBe('4.56M');
  });
});
