// summary.json without what may differ between backends of one run (wall times, throughput, backend and threads):
// what is left must be equal when two backends compute the same bits.
export function stripRunFacts(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(stripRunFacts);
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).filter(([k]) => !/wall|throughput|perSecond|backend|threads/i.test(k)).map(([k, v]) => [k, stripRunFacts(v)]));
  return x;
}
