// What a page shows of a run's outputs, shared by the embedded simulation and the models page: numbers formatted for
// reading, the numeric fields of a summary (with why a value is missing) and SVG figures as images.
import type { OutputFile, RunOutputs } from '../core/contract.ts';
import { makeSummaryJson } from '../io/summary-json.ts';

/** Pure: a number as a page shows it: integers whole, very large or small ones in exponent form, else 5 digits. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)) return v.toExponential(4);
  return String(Number(v.toPrecision(5)));
}

/** One numeric summary field: its path ('sim.mE'), its value as text, and why it is 'n/a' when it is not finite. */
export interface SummaryRow {
  field: string;
  value: string;
  why?: string;
}

/**
 * Pure: the numeric fields of `summary` in order (with `depth` 1 also those of objects nested one level, as 'sim.mE';
 * arrays are left out). A value that is not a finite number reads 'n/a', with the reason summary.json gives for it.
 */
export function makeSummaryRows(summary: Record<string, unknown>, explain?: RunOutputs['explainNonFinite'], depth = 0): SummaryRow[] {
  const text = makeSummaryJson(summary, explain ? (path) => explain(path) : undefined);
  const unavailable = (JSON.parse(text) as { unavailable?: Record<string, string> }).unavailable ?? {};
  const rows: SummaryRow[] = [];
  const visit = (obj: Record<string, unknown>, prefix: string, level: number) => {
    for (const [k, v] of Object.entries(obj)) {
      const field = prefix + k;
      if (typeof v === 'number') rows.push(Number.isFinite(v) ? { field, value: formatValue(v) } : { field, value: 'n/a', why: unavailable[field] });
      else if (level < depth && v && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)) visit(v as Record<string, unknown>, `${field}.`, level + 1);
    }
  };
  visit(summary, '', 0);
  return rows;
}

/** Pure: an `<img>` source for an SVG figure, so the browser renders it as a document and no markup enters the page. */
export function svgImageSource(file: OutputFile): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(file.content)}`;
}
