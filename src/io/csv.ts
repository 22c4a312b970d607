// CSV writing and reading for results tables, with number formatting that round-trips exactly.
import { ConfigError, ParameterError } from '../errors.ts';

/** A cell: numbers are written at full precision, strings quoted when needed, null as an empty field. */
export type CsvCell = number | string | null;

export interface CsvTable {
  columns: string[];
  rows: CsvCell[][];
}

// Text a reader would take for a number; strings that look like this are quoted so they stay strings.
const NUMBER_LIKE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?Infinity$|^NaN$/;

/**
 * Shortest text that parses back to exactly `x` (String(x) is the shortest round-trip form),
 * keeping the sign of -0 and writing NaN / Infinity / -Infinity literally.
 */
export function formatCsvNumber(x: number): string {
  if (Object.is(x, -0)) return '-0';
  return String(x);
}

function formatField(cell: CsvCell | undefined): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'number') return formatCsvNumber(cell);
  // Quoting empty and number-like strings keeps them strings on the way back in.
  if (cell === '' || NUMBER_LIKE.test(cell) || /[",\r\n]/.test(cell) || cell !== cell.trim()) {
    return `"${cell.replace(/"/g, '""')}"`;
  }
  return cell;
}

function formatHeader(name: string): string {
  return /[",\r\n]/.test(name) || name !== name.trim() ? `"${name.replace(/"/g, '""')}"` : name;
}

/**
 * The unit of a column that has one, as the header writes it: `<name>_<unit>` (`t_s`, `t_tau`). Columns whose name
 * already ends in their unit (`rateHz`, `entropyBits`) and dimensionless ones (counts, fractions, u units) take none.
 */
export type CsvUnits = Readonly<Record<string, string>>;

/**
 * A CSV document ('\n' line ends, trailing newline); every row must have one cell per column. `units` names the unit
 * of columns that have one: the header writes them as `<name>_<unit>` (every key must be a column).
 */
export function makeCsv(columns: string[], rows: readonly (readonly CsvCell[])[], units: CsvUnits = {}): string {
  if (columns.length === 0) throw new ParameterError('columns', 'is empty', 'give at least one column name');
  for (const [c, unit] of Object.entries(units)) {
    if (!columns.includes(c)) throw new ParameterError('units', `names '${c}', which is not a column`, `give units only for the columns ${columns.join(', ')}`);
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(unit)) throw new ParameterError('units', `'${unit}' for column '${c}' is not a unit name`, 'write a unit as letters and digits (s, tau, Hz)');
  }
  const header = columns.map((c) => (Object.hasOwn(units, c) ? `${c}_${units[c]}` : c));
  const seen = new Set<string>();
  for (const c of header) {
    if (seen.has(c)) throw new ParameterError('columns', `column '${c}' appears twice`, 'give every column a distinct name');
    seen.add(c);
  }
  const lines = [header.map(formatHeader).join(',')];
  rows.forEach((row, i) => {
    if (row.length !== columns.length) {
      throw new ParameterError(`rows[${i}]`, `has ${row.length} cells for ${columns.length} columns`, 'give every row one cell per column (null for a missing value)');
    }
    for (const cell of row) {
      if (cell !== null && typeof cell !== 'number' && typeof cell !== 'string') {
        throw new ParameterError(`rows[${i}]`, `contains a ${typeof cell} cell`, 'convert cells to number, string or null');
      }
    }
    lines.push(row.map(formatField).join(','));
  });
  return lines.join('\n') + '\n';
}

/**
 * Parses CSV text (RFC 4180 quoting, CRLF or LF, optional BOM). Unquoted number-like fields
 * become numbers, unquoted empty fields null, everything quoted stays a string.
 */
export function parseCsv(text: string, source = 'CSV'): CsvTable {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records: { cells: { text: string; quoted: boolean }[]; line: number }[] = [];
  let cells: { text: string; quoted: boolean }[] = [];
  let field = '';
  let quoted = false;
  let inQuotes = false;
  let line = 1;
  let recordLine = 1;
  let atFieldStart = true;
  const endField = () => {
    cells.push({ text: field, quoted });
    field = '';
    quoted = false;
    atFieldStart = true;
  };
  const endRecord = () => {
    endField();
    // A blank line (one empty unquoted field) is skipped rather than read as a row of nulls.
    if (!(cells.length === 1 && cells[0].text === '' && !cells[0].quoted)) records.push({ cells, line: recordLine });
    cells = [];
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && atFieldStart) {
      inQuotes = true;
      quoted = true;
      atFieldStart = false;
    } else if (ch === ',') endField();
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      if (quoted) throw new ConfigError(`${source} line ${line}: text after a closing quote`, 'double quotes inside a quoted field ("")');
      field += ch;
      atFieldStart = false;
    }
  }
  if (inQuotes) throw new ConfigError(`${source} line ${recordLine}: unterminated quoted field`, 'close the quote; the file may be truncated');
  if (field !== '' || quoted || cells.length > 0) endRecord();
  if (records.length === 0) return { columns: [], rows: [] };
  const columns = records[0].cells.map((c) => c.text);
  const rows = records.slice(1).map((r) => {
    if (r.cells.length !== columns.length) {
      throw new ConfigError(`${source} line ${r.line}: ${r.cells.length} fields, but the header has ${columns.length}`, 'the file may be truncated or hand-edited; regenerate it');
    }
    return r.cells.map((c): CsvCell => {
      if (c.quoted) return c.text;
      if (c.text === '') return null;
      if (NUMBER_LIKE.test(c.text)) return Number(c.text);
      return c.text;
    });
  });
  return { columns, rows };
}
