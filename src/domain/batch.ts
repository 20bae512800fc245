/**
 * The batch view (summary.json → batches, the report's fleet section): over the cells of one registry `group` (an
 * electrolyte batch, a protocol), the Weibull fit of their time to the first short — cells still unshorted at the
 * end of their runs counted as surviving that long — and of their CCD where they were ramped: the numbers a
 * paper's Table 2 and a lab's go/no-go need.
 */
import type { CellSummary } from './detector/summary.js';
import { fitWeibull, type Interval, type WeibullFit } from './weibull.js';

export interface BatchSummary {
  readonly group: string;
  readonly cells: readonly string[];
  /** Hours to the first short (failures), or the run's length (survivors). */
  readonly timeToShort_h: { readonly shorted: number; readonly survived: number; readonly fit: WeibullFit | null };
  /** CCD of the cells whose current was ramped and that shorted. */
  readonly ccd_mA_cm2: { readonly values: readonly number[]; readonly fit: WeibullFit | null };
  readonly text: string;
}

const v = (i: Interval, digits = 3): string => `${i.estimate.toPrecision(digits)} (${i.low.toPrecision(digits)}–${i.high.toPrecision(digits)})`;

/** One batch per group that has cells (cells without a group are not a batch). */
export function batchesOf(summaries: readonly CellSummary[], groupOf: (cell: string) => string | undefined): BatchSummary[] {
  const groups = new Map<string, CellSummary[]>();
  for (const s of summaries) {
    const g = groupOf(s.cell);
    if (g === undefined || !s.symmetric) continue;
    groups.set(g, [...(groups.get(g) ?? []), s]);
  }
  return [...groups].map(([group, cells]) => {
    const lives = cells.map((c) => (c.firstShort_h !== null ? { value: c.firstShort_h, failed: true } : { value: c.duration_h, failed: false }));
    const shorted = lives.filter((l) => l.failed).length;
    const fit = fitWeibull(lives);
    const ccds = cells.filter((c) => c.ccd_mA_cm2 !== null).map((c) => c.ccd_mA_cm2!);
    const ccdFit = fitWeibull(ccds.map((value) => ({ value, failed: true })));
    const text =
      fit === null
        ? `${cells.length} cells, ${shorted} shorted: too few shorts for a Weibull fit (two at least)`
        : `${cells.length} cells, ${shorted} shorted: Weibull shape ${v(fit.shape, 2)}, scale ${v(fit.scale)} h; ` +
          `median life ${v(fit.median)} h, 10 % fail by ${v(fit.p10)} h (90 % intervals)`;
    return {
      group,
      cells: cells.map((c) => c.cell),
      timeToShort_h: { shorted, survived: lives.length - shorted, fit },
      ccd_mA_cm2: { values: ccds, fit: ccdFit },
      text,
    };
  });
}
