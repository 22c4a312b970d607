// The "Checks" table every reproduction report starts with: claim, expected, measured, pass.
import type { ReportSection } from './html.ts';
import type { ReproductionOutcome } from '../reproduce/registry.ts';

export type Check = ReproductionOutcome['checks'][number];

export function checksSection(checks: readonly Check[]): ReportSection {
  return { heading: 'Checks', table: { columns: ['claim', 'expected', 'measured', 'pass'], rows: checks.map((k) => [k.name, k.expected, k.measured, k.pass]) } };
}
