// Dependencies point one way: each layer of src/ imports only the layers below it, models import neither the CLI nor
// the engine nor each other, only a model's WebGPU host files import src/gpu (and its wasm host files src/wasm), and no
// value imports form a cycle.
import { describe, expect, it } from 'vitest';
import { findCycles, readImportGraph, type ImportEdge } from './helpers/import-graph.ts';

const root = new URL('..', import.meta.url).pathname;
const edges = readImportGraph(root, ['src']);
const values = edges.filter((e) => !e.typeOnly);

/** Layers from the bottom; a value import goes to a lower layer or within its own folder (cli and embed: neither imports the other). */
const rank: Record<string, number> = { errors: -1, util: 0, rng: 1, analysis: 1, report: 1, io: 1, core: 2, gpu: 2, wasm: 2, models: 3, engine: 4, reproduce: 5, cli: 6, embed: 6, browser: 7, index: 8 };
const layerOf = (p: string) => (p.startsWith('src/') ? p.split('/')[1].replace(/\.ts$/, '') : null);
const modelOf = (p: string) => (p.startsWith('src/models/') && p.split('/').length > 3 ? p.split('/')[2] : null);
const show = (es: readonly ImportEdge[]) => es.map((e) => `${e.from} -> ${e.to}`);

describe('import direction', () => {
  it('reads a real graph (sanity: the scan finds the registry importing every model)', () => {
    const registry = values.filter((e) => e.from === 'src/models/index.ts' && modelOf(e.to)).map((e) => modelOf(e.to));
    expect(new Set(registry).size).toBeGreaterThanOrEqual(5);
  });

  it('every src layer imports only layers below it', () => {
    const wrong = values.filter((e) => {
      const a = layerOf(e.from);
      const b = layerOf(e.to);
      if (!a || !b || a === b) return false;
      if (!(a in rank) || !(b in rank)) return true;
      return rank[b] >= rank[a];
    });
    expect(show(wrong)).toEqual([]);
  });

  it('src/core and the utility layers use only pure modules of io (csv), never result folders or signals', () => {
    const wrong = values.filter((e) => ['core', 'analysis', 'report', 'rng', 'gpu', 'wasm'].includes(layerOf(e.from) ?? '') && e.to.startsWith('src/io/') && e.to !== 'src/io/csv.ts');
    expect(show(wrong)).toEqual([]);
  });

  it('models import neither the CLI, the engine, reproduce, result folders nor each other', () => {
    const wrong = values.filter((e) => {
      const m = modelOf(e.from);
      if (!m) return false;
      const other = modelOf(e.to);
      if (other && other !== m) return true;
      if (e.to === 'src/models/index.ts') return true;
      return ['cli', 'engine', 'reproduce'].includes(layerOf(e.to) ?? '') || (e.to.startsWith('src/io/') && e.to !== 'src/io/csv.ts');
    });
    expect(show(wrong)).toEqual([]);
  });

  it("only a model's WebGPU host files (webgpu-*.ts) import src/gpu", () => {
    const wrong = values.filter((e) => modelOf(e.from) && e.to.startsWith('src/gpu/') && !/\/webgpu-[^/]*\.ts$/.test(e.from));
    expect(show(wrong)).toEqual([]);
  });

  it("only a model's wasm host files (wasm-*.ts) import src/wasm", () => {
    const wrong = values.filter((e) => modelOf(e.from) && e.to.startsWith('src/wasm/') && !/\/wasm-[^/]*\.ts$/.test(e.from));
    expect(show(wrong)).toEqual([]);
  });

  it('the layers above the models reach them only through the registry (src/models/index.ts)', () => {
    const wrong = values.filter((e) => ['engine', 'cli', 'embed', 'reproduce', 'index', 'browser'].includes(layerOf(e.from) ?? '') && modelOf(e.to));
    expect(show(wrong)).toEqual([]);
  });

  it('no value imports form a cycle', () => {
    expect(findCycles(edges)).toEqual([]);
  });
});
