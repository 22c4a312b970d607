// summary.json without silent nulls: JSON.stringify writes NaN and +-Infinity as null, which a reader cannot tell from
// "not applicable". Here a value that is not a finite number is left out and listed under `unavailable` with the reason.

/** Why the value at `path` (e.g. ['instances', 0, 'cv']) is not a finite number, or undefined when the model cannot say. */
export type ExplainNonFinite = (path: readonly (string | number)[], value: number) => string | undefined;

/** The reason given when a model has no explanation: a sign of a bug, which the property tests look for. */
export const UNEXPLAINED = 'not a finite number (unexpected: please report this run)';

const OMIT = Symbol('omit');

/**
 * Pure: the JSON text of a summary. Non-finite numbers are omitted and explained under `unavailable` ({ 'a.b.0':
 * reason }); an array holding one is omitted whole (an array cannot have holes). Typed arrays become plain arrays.
 */
export function makeSummaryJson(summary: Record<string, unknown>, explain: ExplainNonFinite = () => undefined): string {
  const unavailable: Record<string, string> = {};
  const clean = (v: unknown, path: (string | number)[]): unknown => {
    if (typeof v === 'number') {
      if (Number.isFinite(v)) return v;
      unavailable[path.join('.')] = explain(path, v) ?? UNEXPLAINED;
      return OMIT;
    }
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) v = Array.from(v as unknown as ArrayLike<number>);
    if (Array.isArray(v)) {
      const bad = v.findIndex((x) => typeof x === 'number' && !Number.isFinite(x));
      if (bad >= 0) {
        unavailable[path.join('.')] = explain([...path, bad], v[bad] as number) ?? UNEXPLAINED;
        return OMIT;
      }
      const items = v.map((x, i) => clean(x, [...path, i]));
      return items.includes(OMIT) ? OMIT : items;
    }
    if (v && typeof v === 'object' && !(v instanceof Date)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const c = clean(x, [...path, k]);
        if (c !== OMIT) out[k] = c;
      }
      return out;
    }
    return v;
  };
  const body = clean(summary, []) as Record<string, unknown>;
  if (Object.keys(unavailable).length > 0) body.unavailable = unavailable;
  return JSON.stringify(body, null, 2) + '\n';
}
