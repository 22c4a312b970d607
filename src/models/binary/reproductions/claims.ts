// The claims table of the binary entropy reproductions: each claim of the abstract or of the spec's analytical reference, the
// criterion fixed before the run, the measured numbers with their network-to-network spread, and a verdict.
import type { Check } from '../../../report/checks.ts';
import type { ReportSection } from '../../../report/html.ts';

export type Verdict = 'confirmed' | 'not confirmed' | 'contradicted';

export interface Claim {
  /** The claim in the source's words (condensed). */
  claim: string;
  source: 'abstract' | 'spec analytical reference' | 'mechanism (issue)';
  /** The criterion, fixed in code before the run. */
  criterion: string;
  /** What counts as the opposite (contradicted). */
  opposite: string;
  /** Network-mean numbers. */
  measured: string;
  /** The same quantity in each network separately. */
  perNetwork: string;
  verdict: Verdict;
  /** A criterion this one replaces, and why; the replaced one is reported too. */
  note?: string;
}

/**
 * The verdict rule, the same for every claim: confirmed when the criterion holds for the network mean and for every network
 * separately; contradicted when the stated opposite holds for the mean and for every network; not confirmed otherwise (the
 * networks disagree, or neither holds).
 */
export function judge(mean: { holds: boolean; opposite: boolean }, perNetwork: readonly { holds: boolean; opposite: boolean }[]): Verdict {
  if (mean.holds && perNetwork.every((n) => n.holds)) return 'confirmed';
  if (mean.opposite && perNetwork.every((n) => n.opposite)) return 'contradicted';
  return 'not confirmed';
}

/** Builds a claim from a predicate evaluated on the network mean and on each network (index -1 = the mean). */
export function makeClaim<T>(
  c: Omit<Claim, 'verdict' | 'measured' | 'perNetwork'>,
  networks: number,
  value: (net: number) => T,
  holds: (v: T) => boolean,
  opposite: (v: T) => boolean,
  show: (v: T) => string,
): Claim {
  const mean = value(-1);
  const per = Array.from({ length: networks }, (_, r) => value(r));
  return {
    ...c,
    measured: show(mean),
    perNetwork: per.map((v, r) => `network ${r}: ${show(v)}`).join('; '),
    verdict: judge({ holds: holds(mean), opposite: opposite(mean) }, per.map((v) => ({ holds: holds(v), opposite: opposite(v) }))),
  };
}

/** The claims as the report's checks (pass = confirmed). */
export function claimsToChecks(claims: readonly Claim[]): Check[] {
  return claims.map((c) => ({ name: `${c.claim} [${c.verdict}]`, expected: c.criterion, measured: `${c.measured} (${c.perNetwork})`, pass: c.verdict === 'confirmed' }));
}

export function claimsSection(claims: readonly Claim[]): ReportSection {
  return {
    heading: 'Claims',
    text: 'Verdict rule: confirmed when the criterion holds for the network mean and for every network separately; contradicted when the stated opposite does; not confirmed otherwise.',
    table: { columns: ['claim', 'source', 'criterion', 'opposite', 'measured (mean)', 'per network', 'verdict'], rows: claims.map((c) => [c.claim + (c.note ? ` (${c.note})` : ''), c.source, c.criterion, c.opposite, c.measured, c.perNetwork, c.verdict]) },
  };
}
