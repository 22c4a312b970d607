// A standalone HTML report (inline SVG and CSS, no scripts) gathering a run's figures, its measured-vs-expected table and its configuration.

/** A table cell; booleans render as pass / fail marks, numbers with 6 significant digits. */
export type ReportCell = string | number | boolean | null;

export interface ReportTable {
  columns: string[];
  rows: ReportCell[][];
  caption?: string;
}

export interface ReportSection {
  heading: string;
  /** Plain text; blank lines separate paragraphs. Escaped, never interpreted as HTML. */
  text?: string;
  /** An SVG string from src/report/svg.ts, inserted as is. */
  svg?: string;
  table?: ReportTable;
}

export interface ReportOptions {
  title: string;
  subtitle?: string;
  sections: ReportSection[];
  /** Configuration, seed, adapter, version...: shown in a table and embedded as JSON. */
  meta: Record<string, unknown>;
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Six significant digits: enough to compare with theory at a glance; the CSV keeps full precision. */
export function formatReportNumber(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '\u221E' : '\u2212\u221E';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-4) return x.toExponential(5).replace(/\.?0+e/, 'e');
  return String(Number(x.toPrecision(6)));
}

function cellHtml(cell: ReportCell): string {
  if (cell === null) return '<td class="empty">\u2014</td>';
  if (typeof cell === 'boolean') return cell ? '<td class="pass">\u2713 pass</td>' : '<td class="fail">\u2717 fail</td>';
  if (typeof cell === 'number') return `<td class="num${Number.isFinite(cell) ? '' : ' nonfinite'}">${escapeHtml(formatReportNumber(cell))}</td>`;
  return `<td>${escapeHtml(cell)}</td>`;
}

function tableHtml(t: ReportTable): string {
  const head = t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = t.rows.map((r) => `<tr>${r.map(cellHtml).join('')}</tr>`).join('\n');
  const caption = t.caption ? `<caption>${escapeHtml(t.caption)}</caption>` : '';
  return `<table>${caption}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

function metaValue(v: unknown): string {
  if (v === null || v === undefined) return '<span class="empty">\u2014</span>';
  if (typeof v === 'number') return escapeHtml(formatReportNumber(v));
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint') return escapeHtml(String(v));
  return `<pre>${escapeHtml(safeJson(v, 2))}</pre>`;
}

// JSON.stringify throws on bigint and cycles; a report must still be written.
function safeJson(v: unknown, indent?: number): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(
    v,
    (_k, x: unknown) => {
      if (typeof x === 'bigint') return x.toString();
      if (typeof x === 'number' && !Number.isFinite(x)) return String(x);
      if (typeof x === 'object' && x !== null) {
        if (seen.has(x)) return '[circular or repeated]';
        seen.add(x);
      }
      return x;
    },
    indent,
  ) ?? 'null';
}

function slug(text: string, i: number): string {
  return `s${i}-${text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40)}`;
}

const CSS = `
:root { color-scheme: light; }
body { font-family: Helvetica, Arial, sans-serif; margin: 0 auto; max-width: 960px; padding: 24px; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.1em; }
.subtitle { color: #555; margin-top: 0; }
h2 { font-size: 1.2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
nav ol { padding-left: 1.4em; columns: 2; }
figure { margin: 1em 0; }
figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
caption { text-align: left; color: #555; padding-bottom: 0.3em; }
th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; font-family: Menlo, Consolas, monospace; }
td.pass { color: #0a6e31; font-weight: bold; }
td.fail { color: #b00020; font-weight: bold; }
td.nonfinite { color: #b00020; }
.empty { color: #999; }
pre { margin: 0; font-size: 0.85em; white-space: pre-wrap; word-break: break-word; }
.meta th { width: 14em; }
footer { margin-top: 3em; color: #777; font-size: 0.85em; }
@media print { body { max-width: none; } nav { display: none; } h2 { break-after: avoid; } figure { break-inside: avoid; } }
`;

/** The report page as one HTML string; save it beside the CSV/JSON outputs. */
export function makeReportHtml(options: ReportOptions): string {
  const { title, subtitle, sections, meta } = options;
  const parts: string[] = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(title)}</h1>`,
  ];
  if (subtitle) parts.push(`<p class="subtitle">${escapeHtml(subtitle)}</p>`);
  if (sections.length > 3) {
    parts.push('<nav><ol>', ...sections.map((s, i) => `<li><a href="#${slug(s.heading, i)}">${escapeHtml(s.heading)}</a></li>`), '</ol></nav>');
  }
  sections.forEach((s, i) => {
    parts.push(`<section id="${slug(s.heading, i)}">`, `<h2>${escapeHtml(s.heading)}</h2>`);
    if (s.text) {
      for (const para of s.text.split(/\n\s*\n/)) if (para.trim()) parts.push(`<p>${escapeHtml(para.trim())}</p>`);
    }
    if (s.svg) parts.push(`<figure>${s.svg.trim()}</figure>`);
    if (s.table) parts.push(tableHtml(s.table));
    parts.push('</section>');
  });
  const entries = Object.entries(meta);
  parts.push(`<section id="run-metadata">`, '<h2>Run metadata</h2>');
  if (entries.length) {
    parts.push('<table class="meta"><tbody>', ...entries.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${metaValue(v)}</td></tr>`), '</tbody></table>');
  } else parts.push('<p class="empty">none recorded</p>');
  parts.push('</section>');
  // A data block, not a script: browsers do not run it, and tools can read the metadata back.
  // '<' is escaped so no value can close the element early.
  parts.push(`<script type="application/json" id="ei-meta">${safeJson(meta).replace(/</g, '\\u003c')}</script>`);
  parts.push('<footer>Generated by ei-engine. Figures are inline SVG; the numbers behind them are in the CSV/JSON files beside this report.</footer>');
  parts.push('</body>', '</html>');
  return parts.join('\n') + '\n';
}
