/**
 * Every EC-Lab file in ../shared/data/real (and its mpr/ folder), analysed as a new user would: a cell that is not
 * symmetric says so first in its summary line and has no regime call or regime alert of any kind; a symmetric one
 * has a summary line with its failure mode; no contact fraction drawn above 1 unmarked in Fig. 2.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../../pipelines/analyze.js';
import { summaryLine } from '../../../src/cli/words.js';
import { figure2, F_MARKED_ABOVE } from '../../../src/report/figure2.js';

const real = resolve(__dirname, '../../../../shared/data/real');
const files = existsSync(real)
  ? [real, join(real, 'mpr')].flatMap((d) =>
      existsSync(d)
        ? readdirSync(d)
            .filter((f) => /\.(mpr|mpt)$/.test(f))
            .map((f) => join(d, f))
        : [],
    )
  : [];
/** Alerts that say something of the data, not of the cell's regime. */
const NOT_REGIME = new Set([
  'not-symmetric',
  'data-gap',
  'no-temperature',
  'reversed-polarity',
  'voltage-offset',
  'reference-mismatch',
  'reference-remeasured',
]);

describe.skipIf(files.length === 0)('every real file', () => {
  for (const file of files)
    it(`${file.slice(real.length + 1)}: one truth in the summary line, the events and the figure`, async () => {
      const r = await analyze({ files: [file], series: true });
      for (const s of r.summaries) {
        const line = summaryLine(s);
        const events = r.events.filter((e) => e.cell === s.cell);
        if (!s.symmetric) {
          expect(line).toMatch(new RegExp(`^${s.cell.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: [^·]+· not a symmetric cell \\(`));
          expect(line).not.toMatch(/failure mode|short/);
          expect(events.filter((e) => e.type === 'regime')).toEqual([]);
          expect(events.filter((e) => e.type === 'alert' && !NOT_REGIME.has(e.code)).map((e) => (e.type === 'alert' ? e.code : ''))).toEqual([]);
          expect(s.minContactFraction).toBeNull();
        } else expect(line).toMatch(/ · failure mode \w/);
        const series: Record<string, [number, number][]> = r.series?.find((c) => c.cell === s.cell)?.series ?? {};
        const f = series['contactFraction'] ?? [];
        if (!s.symmetric) expect(f).toEqual([]);
        const above = f.filter((p) => p[1] > F_MARKED_ABOVE).length;
        if (f.length > 0) {
          const t0 = f[0]![0];
          const cell = {
            id: s.cell,
            t0_ms: t0,
            duration_h: s.duration_h,
            complianceV: s.complianceV ?? 8,
            areaCm2: s.areaCm2 ?? 1,
            segments: [],
            halfCycles: [],
            series: Object.fromEntries(Object.entries(series).map(([k, pts]) => [k, pts.map(([t, v]) => [(t - t0) / 3.6e6, v] as [number, number])])),
          };
          const fig = figure2(cell, 'single');
          expect(fig.clipped).toBe(above);
        }
      }
    }, 60_000);
});
