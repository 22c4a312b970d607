// The browser entry (src/browser.ts) must never reach Dawn (the `webgpu` package), src/gpu/node-webgpu.ts or a node:
// module: a page bundling it would otherwise fail or ship a native addon. The graph is that of the emitted JavaScript
// (each file transpiled as tsc emits it), so imports used only as types do not count, and dynamic imports do.
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

interface Reach {
  /** Every source file reached, repository-relative. */
  files: Set<string>;
  /** Bare specifiers (packages, node: modules) and who imports them. */
  packages: Map<string, string[]>;
  /** Files whose emitted code has an import() or require() the graph cannot follow. */
  opaque: string[];
  /** How each file was first reached (for the failure message). */
  parent: Map<string, string>;
}

const emittedCache = new Map<string, string>();
/** The JavaScript tsc emits for a source file (imports used only as types are gone). */
function emitted(file: string): string {
  let js = emittedCache.get(file);
  if (js === undefined) {
    const source = readFileSync(join(repoRoot, file), 'utf8');
    js = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, isolatedModules: true },
    }).outputText;
    emittedCache.set(file, js);
  }
  return js;
}

/** The files and packages that the emitted JavaScript of `entry` imports, transitively (static and dynamic imports). */
function reachFrom(entry: string): Reach {
  const r: Reach = { files: new Set(), packages: new Map(), opaque: [], parent: new Map() };
  const queue = [entry];
  r.files.add(entry);
  while (queue.length > 0) {
    const file = queue.shift()!;
    const js = emitted(file);
    const { importedFiles } = ts.preProcessFile(js, true, true);
    // import(x) or require(x) with anything but a string literal: a bundler cannot see what it loads.
    if (/\bimport\s*\(\s*[^'"`\s]/.test(js) || /\brequire\s*\(/.test(js)) r.opaque.push(file);
    for (const { fileName: spec } of importedFiles) {
      if (spec.startsWith('.')) {
        const to = relative(repoRoot, resolve(repoRoot, dirname(file), spec));
        if (!existsSync(join(repoRoot, to))) throw new Error(`${file} imports ${spec}, which does not exist`);
        if (!r.files.has(to)) {
          r.files.add(to);
          r.parent.set(to, file);
          queue.push(to);
        }
      } else {
        r.packages.set(spec, [...(r.packages.get(spec) ?? []), file]);
      }
    }
  }
  return r;
}

/** entry -> ... -> file, for a failure message. */
function chain(r: Reach, file: string): string {
  const path = [file];
  for (let f = r.parent.get(file); f; f = r.parent.get(f)) path.unshift(f);
  return path.join(' -> ');
}

const nodeBuiltins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

describe('the browser entry', () => {
  const r = reachFrom('src/browser.ts');

  it('reaches the engine and every model', () => {
    expect(r.files).toContain('src/engine/engine.ts');
    expect(r.files).toContain('src/models/index.ts');
    expect(r.files).toContain('src/gpu/context.ts');
  });

  it('reaches no node: module, no Dawn and not src/gpu/node-webgpu.ts', () => {
    const bad: string[] = [];
    for (const [spec, from] of r.packages) {
      if (spec.startsWith('node:') || nodeBuiltins.has(spec) || spec === 'webgpu' || spec.startsWith('webgpu/')) {
        bad.push(`${spec} (imported by ${from.map((f) => chain(r, f)).join('; ')})`);
      }
    }
    for (const f of ['src/gpu/node-webgpu.ts', 'src/gpu/node-provider.ts', 'src/index.ts', 'src/io/result-dir.ts', 'src/io/cleanup-link.ts']) {
      if (r.files.has(f)) bad.push(`${f} (${chain(r, f)})`);
    }
    for (const f of r.files) if (f.startsWith('src/cli/')) bad.push(`${f} (${chain(r, f)})`);
    expect(bad).toEqual([]);
  });

  it('has no import() or require() a bundler cannot follow', () => {
    expect(r.opaque.map((f) => chain(r, f))).toEqual([]);
  });

  it('imports no package at all (a page needs nothing but ei-engine)', () => {
    expect([...r.packages.keys()]).toEqual([]);
  });

  it('the Node entry does install Dawn (so the test above would see it)', () => {
    const n = reachFrom('src/index.ts');
    expect(n.files).toContain('src/gpu/node-webgpu.ts');
    expect(n.files).toContain('src/gpu/node-provider.ts');
    expect([...n.packages.keys()].filter((p) => p.startsWith('node:'))).toContain('node:fs');
  });
});
