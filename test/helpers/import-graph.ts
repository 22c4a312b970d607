// The static import graph of the sources: which file imports which, and whether only types.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export interface ImportEdge {
  from: string;
  /** Repository-relative path of a relative import, or the bare specifier of a package / node: module. */
  to: string;
  typeOnly: boolean;
  dynamic: boolean;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const staticImport = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]/gm;
const bareImport = /^\s*import\s+['"]([^'"]+)['"]/gm;
const dynamicImport = /import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every import of every file under `dirs` (relative to `root`). */
export function readImportGraph(root: string, dirs: readonly string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const d of dirs) {
    for (const file of walk(join(root, d))) {
      const from = relative(root, file);
      // Comments can mention imports; drop them first (line and block comments, not inside strings: good enough here).
      const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
      const target = (spec: string) => (spec.startsWith('.') ? relative(root, resolve(dirname(file), spec)) : spec);
      for (const m of text.matchAll(staticImport)) {
        // `import { type A, type B }` is type-only too.
        const names = m[3].replace(/^\{|\}$/g, '').split(',').map((x) => x.trim()).filter(Boolean);
        const typeOnly = Boolean(m[2]) || (m[3].startsWith('{') && names.length > 0 && names.every((x) => x.startsWith('type ')));
        edges.push({ from, to: target(m[4]), typeOnly, dynamic: false });
      }
      for (const m of text.matchAll(bareImport)) edges.push({ from, to: target(m[1]), typeOnly: false, dynamic: false });
      for (const m of text.matchAll(dynamicImport)) edges.push({ from, to: target(m[1]), typeOnly: false, dynamic: true });
    }
  }
  return edges;
}

/** The cycles of value imports among files (each as a path of files), at most `limit`. */
export function findCycles(edges: readonly ImportEdge[], limit = 10): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) if (!e.typeOnly) (next.get(e.from) ?? next.set(e.from, []).get(e.from)!).push(e.to);
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (f: string) => {
    if (cycles.length >= limit) return;
    state.set(f, 1);
    stack.push(f);
    for (const t of next.get(f) ?? []) {
      const s = state.get(t);
      if (s === 1) cycles.push([...stack.slice(stack.indexOf(t)), t]);
      else if (!s) visit(t);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of next.keys()) if (!state.get(f)) visit(f);
  return cycles;
}
