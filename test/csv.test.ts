// Unit tests of CSV writing and reading: exact number round trip, quoting, and errors on malformed input.
import { describe, expect, it } from 'vitest';
import { formatCsvNumber, makeCsv, parseCsv } from '../src/io/csv.ts';
import { ConfigError, ParameterError } from '../src/errors.ts';

describe('makeCsv / parseCsv', () => {
  it('round-trips numbers exactly, including extremes and non-finite values', () => {
    const nums = [0, -0, 1, -1, 0.1, 1 / 3, Math.PI, 1e-300, 5e-324, 1.7976931348623157e308, 123456789012345680000, 2 ** 53 + 2, NaN, Infinity, -Infinity, 0.30000000000000004];
    const csv = makeCsv(['v'], nums.map((v) => [v]));
    const back = parseCsv(csv).rows.map((r) => r[0] as number);
    expect(back.length).toBe(nums.length);
    back.forEach((v, i) => expect(Object.is(v, nums[i]), `${nums[i]} -> ${v}`).toBe(true));
    expect(formatCsvNumber(0.1)).toBe('0.1');
    expect(formatCsvNumber(-0)).toBe('-0');
    expect(csv).toContain('\nNaN\n');
  });

  it('round-trips random doubles', () => {
    let s = 12345;
    const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const rows = Array.from({ length: 500 }, () => [rand() * 10 ** (rand() * 40 - 20), -rand(), Math.round(rand() * 1e6)]);
    const back = parseCsv(makeCsv(['a', 'b', 'c'], rows));
    expect(back.rows).toEqual(rows);
  });

  it('quotes strings that need it and keeps them strings', () => {
    const rows = [
      ['plain', 'a,b', 'say "hi"', 'line1\nline2', ''],
      ['1.5', 'NaN', ' padded ', 'cr\r\nlf', 'ünïcode'],
      [null, 3, null, -2.5e-7, 'x'],
    ];
    const csv = makeCsv(['name', 'with,comma', 'q"uote', 'multi', 'last'], rows);
    expect(csv.split('\n')[0]).toBe('name,"with,comma","q""uote",multi,last');
    expect(csv).toContain('"1.5","NaN"," padded "');
    const back = parseCsv(csv);
    expect(back.columns).toEqual(['name', 'with,comma', 'q"uote', 'multi', 'last']);
    expect(back.rows).toEqual(rows);
  });

  it('writes null as an empty field and reads it back as null', () => {
    const csv = makeCsv(['a', 'b'], [[null, 1]]);
    expect(csv).toBe('a,b\n,1\n');
    expect(parseCsv(csv).rows).toEqual([[null, 1]]);
  });

  it('reads CRLF, a BOM, a missing final newline and skips blank lines', () => {
    const back = parseCsv('\uFEFFa,b\r\n1,x\r\n\r\n2,"y"');
    expect(back).toEqual({ columns: ['a', 'b'], rows: [[1, 'x'], [2, 'y']] });
    expect(parseCsv('')).toEqual({ columns: [], rows: [] });
    expect(parseCsv('a,b\n')).toEqual({ columns: ['a', 'b'], rows: [] });
  });

  it('writes units into the header as <name>_<unit> and refuses units for missing columns or odd names', () => {
    expect(makeCsv(['step', 't', 'rateHz'], [[0, 0.001, 3]], { t: 's' }).split('\n')[0]).toBe('step,t_s,rateHz');
    expect(parseCsv(makeCsv(['t', 'x'], [[1, 2]], { t: 'tau' })).columns).toEqual(['t_tau', 'x']);
    expect(() => makeCsv(['t'], [], { time: 's' })).toThrow(/'time', which is not a column/);
    expect(() => makeCsv(['t'], [], { t: 'm/s' })).toThrow(/not a unit name/);
    // The suffixed name must not collide with another column.
    expect(() => makeCsv(['t', 't_s'], [], { t: 's' })).toThrow(/'t_s' appears twice/);
    // A column called like an Object prototype member is not mistaken for a unit.
    expect(makeCsv(['constructor'], [[1]]).split('\n')[0]).toBe('constructor');
  });

  it('rejects bad input with errors that name the problem', () => {
    expect(() => makeCsv(['a', 'b'], [[1]])).toThrow(ParameterError);
    expect(() => makeCsv(['a', 'b'], [[1]])).toThrow(/rows\[0\]/);
    expect(() => makeCsv(['a', 'a'], [])).toThrow(/twice/);
    expect(() => parseCsv('a,b\n1,2,3\n', 'out.csv')).toThrow(/out\.csv line 2: 3 fields/);
    expect(() => parseCsv('a\n"open\n')).toThrow(ConfigError);
    expect(() => parseCsv('a\n"x"y\n')).toThrow(/after a closing quote/);
  });
});
