/**
 * Lines break at gaps in the data and nowhere else, on the display series of real files: a continuous Neware test
 * (whose display series alternates one-row and one-bucket steps) is one line; a test with pauses breaks at each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../../pipelines/analyze.js';
import type { Sample } from '../../src/domain/sample.js';
import { openTelemetry } from '../../src/io/instruments/importers.js';
import { RejectionLog } from '../../src/io/instruments/rejections.js';
import { withGaps } from '../../src/report/charts.js';
import { loadReportInput } from '../../src/report/html.js';

const neware = join(__dirname, '../fixtures/real/neware');
const dir = mkdtempSync(join(tmpdir(), 'cw-charts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function voltageLine(file: string): Promise<{ line: [number, number | null][]; samples: Sample[] }> {
  const out = join(dir, file);
  await analyze({ files: [join(neware, file)], outDir: out, series: true, timeZone: 'UTC' });
  const [cell] = (await loadReportInput(out)).cells;
  const samples: Sample[] = [];
  for await (const b of (await openTelemetry(join(neware, file), new RejectionLog(), { timeZone: 'UTC' })).batches) samples.push(...b);
  return { line: withGaps(cell!.series['voltage_V']!), samples };
}

/** The pauses longer than `min_s` between a file's rows, as [from, to] in hours since its first row. */
function pauses(samples: readonly Sample[], min_s: number): [number, number][] {
  const out: [number, number][] = [];
  for (let k = 1; k < samples.length; k++) {
    if (samples[k]!.t_ms - samples[k - 1]!.t_ms > min_s * 1000) out.push([samples[k - 1]!.t_ms, samples[k]!.t_ms]);
  }
  return out.map(([a, b]) => [(a - samples[0]!.t_ms) / 3.6e6, (b - samples[0]!.t_ms) / 3.6e6]);
}

describe('withGaps', () => {
  it('draws a continuous real test as one line (its display series steps one row, then one bucket)', async () => {
    const { line, samples } = await voltageLine('BTS85-36-6-5-110-20240424.steps1-3.ndax');
    expect(pauses(samples, 300)).toEqual([]);
    expect(line.length).toBeGreaterThan(1000);
    expect(line.filter((p) => p[1] === null)).toEqual([]);
  });

  it('breaks a real test at each of its pauses, and only there', async () => {
    const { line, samples } = await voltageLine('TestFile.nda');
    const paused = pauses(samples, 300);
    expect(paused.length).toBeGreaterThan(0);
    const breaks = line.filter((p) => p[1] === null).map((p) => p[0]);
    expect(breaks).toHaveLength(paused.length);
    breaks.forEach((t, k) => {
      expect(t).toBeGreaterThan(paused[k]![0]);
      expect(t).toBeLessThan(paused[k]![1]);
    });
  });
});
