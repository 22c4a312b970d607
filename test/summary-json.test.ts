// summary.json never holds a silent null: values that are not finite are left out and explained under `unavailable`.
import { describe, expect, it } from 'vitest';
import { UNEXPLAINED, makeSummaryJson } from '../src/io/summary-json.ts';

describe('makeSummaryJson', () => {
  it('omits NaN and Infinity with the model\'s reason, keeps finite values and real nulls', () => {
    const text = makeSummaryJson(
      { a: 1, b: NaN, nested: { c: Infinity, d: 2 }, list: [1, -Infinity], ok: [1, 2], typed: new Float64Array([0.5]), blowup: null },
      (path) => (path[0] === 'b' ? 'no spikes' : undefined),
    );
    expect(text).not.toMatch(/NaN|Infinity/);
    const s = JSON.parse(text);
    expect(s).toEqual({ a: 1, nested: { d: 2 }, ok: [1, 2], typed: [0.5], blowup: null, unavailable: { b: 'no spikes', 'nested.c': UNEXPLAINED, list: UNEXPLAINED } });
  });

  it('passes the offending array element to the explanation', () => {
    const seen: (string | number)[][] = [];
    makeSummaryJson({ xs: [1, 2, NaN] }, (path) => (seen.push([...path]), 'why'));
    expect(seen).toEqual([['xs', 2]]);
  });

  it('adds no unavailable field when every value is finite', () => {
    expect(JSON.parse(makeSummaryJson({ a: 0, b: [1e300] }))).toEqual({ a: 0, b: [1e300] });
  });
});
