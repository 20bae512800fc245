/**
 * The batch view: the Weibull fit (domain/weibull.ts) recovers a known distribution, with and without censoring,
 * its intervals cover the truth and narrow with more cells; and `analyze` fits a registry group's cells
 * (domain/batch.ts) on simulated runs, survivors counted to their end.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../../pipelines/analyze.js';
import { registryPath, simulate } from '../../pipelines/simulate.js';
import { loadRegistry } from '../../src/config/registry.js';
import { fitWeibull, type Life } from '../../src/domain/weibull.js';
import { loadReportInput, renderReportHtml } from '../../src/report/html.js';

/** Lives drawn from Weibull(shape, scale) by the inverse CDF over an even grid of probabilities (deterministic). */
function lives(n: number, shape: number, scale: number, censorAt = Infinity): Life[] {
  return Array.from({ length: n }, (_, k) => {
    const u = (k + 0.5) / n;
    const t = scale * (-Math.log(1 - u)) ** (1 / shape);
    return t > censorAt ? { value: censorAt, failed: false } : { value: t, failed: true };
  });
}

describe('fitWeibull', () => {
  it('recovers shape 2 and scale 100 h from 400 lives, and from 400 censored at 120 h (a third survive)', () => {
    for (const data of [lives(400, 2, 100), lives(400, 2, 100, 120)]) {
      const f = fitWeibull(data)!;
      expect(f.shape.estimate).toBeGreaterThan(1.9);
      expect(f.shape.estimate).toBeLessThan(2.1);
      expect(f.scale.estimate).toBeGreaterThan(97);
      expect(f.scale.estimate).toBeLessThan(103);
      const median = 100 * Math.LN2 ** 0.5;
      const p10 = 100 * (-Math.log(0.9)) ** 0.5;
      expect(f.median.low).toBeLessThan(median);
      expect(f.median.high).toBeGreaterThan(median);
      expect(f.p10.low).toBeLessThan(p10);
      expect(f.p10.high).toBeGreaterThan(p10);
    }
    expect(fitWeibull(lives(400, 2, 100, 120))!.failures).toBe(Math.round(400 * (1 - Math.exp(-(1.2 ** 2)))));
  });

  it('is the maximum of the likelihood: no nearby shape and scale do better', () => {
    const data = [12, 30, 41, 55, 90].map((value) => ({ value, failed: true })).concat([{ value: 100, failed: false }]);
    const f = fitWeibull(data)!;
    const ll = (k: number, l: number): number =>
      data.reduce((a, d) => a + (d.failed ? Math.log(k / l) + (k - 1) * Math.log(d.value / l) : 0) - (d.value / l) ** k, 0);
    const best = ll(f.shape.estimate, f.scale.estimate);
    for (const [dk, dl] of [
      [1.01, 1],
      [0.99, 1],
      [1, 1.01],
      [1, 0.99],
      [1.01, 1.01],
      [0.99, 0.99],
    ] as const)
      expect(ll(f.shape.estimate * dk, f.scale.estimate * dl)).toBeLessThan(best);
  });

  it('gives wider intervals from fewer cells, and no fit from fewer than two failures or lives all alike', () => {
    const wide = fitWeibull(lives(6, 2, 100))!;
    const narrow = fitWeibull(lives(60, 2, 100))!;
    expect(wide.median.high / wide.median.low).toBeGreaterThan(narrow.median.high / narrow.median.low);
    expect(
      fitWeibull([
        { value: 10, failed: true },
        { value: 50, failed: false },
      ]),
    ).toBeNull();
    expect(fitWeibull([10, 10, 10].map((value) => ({ value, failed: true })))).toBeNull();
  });
});

describe('a registry group in analyze', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cw-batch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fits the group’s first shorts, the cell that never shorted surviving to its end, in summary.json and the report', async () => {
    const csv = join(dir, 'batch.csv');
    await simulate({ scenarios: ['hard-short', 'soft-short', 'very-high-rate', 'high-rate', 'onset'], out: csv, dt_s: 60, seed: 5 });
    const yaml = readFileSync(registryPath(csv), 'utf8').replace(/^( {2}- id: .*)$/gm, '$1\n    group: NZSP-B7');
    writeFileSync(registryPath(csv), yaml);
    const out = join(dir, 'out');
    const r = await analyze({ files: [csv], registry: await loadRegistry(registryPath(csv)), outDir: out });
    expect(r.batches).toHaveLength(1);
    const b = r.batches[0]!;
    expect(b.cells).toHaveLength(5);
    const shorts = r.summaries.filter((s) => s.firstShort_h !== null).map((s) => ({ value: s.firstShort_h!, failed: true }));
    const survivors = r.summaries.filter((s) => s.firstShort_h === null).map((s) => ({ value: s.duration_h, failed: false }));
    expect(b.timeToShort_h).toMatchObject({ shorted: 4, survived: 1 });
    expect(b.timeToShort_h.fit).toEqual(fitWeibull([...shorts, ...survivors]));
    expect(b.text).toMatch(/^5 cells, 4 shorted: Weibull shape [\d.]+ \([\d.]+–[\d.]+\), scale [\d.]+ \([\d.]+–[\d.]+\) h; median life /);
    const written = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { batches: { group: string }[] };
    expect(written.batches.map((x) => x.group)).toEqual(['NZSP-B7']);
    const html = await renderReportHtml(await loadReportInput(out));
    const section = /<section><h2>Batches<\/h2>[\s\S]*?<\/section>/.exec(html)![0];
    expect(section).toContain('NZSP-B7');
    expect(section).toContain('4 shorted, 1 survived to their end');
    expect(section).toContain(`${b.timeToShort_h.fit!.median.estimate.toPrecision(3)} <small>`);
  }, 120_000);
});
