/**
 * The report as a person sees it: headless Chromium (Debian's) opens reports of a simulated loop run and of
 * a multi-cell run. No console errors, every chart draws marks, the regime shading covers the times the
 * events say, zoom works, and a screenshot is kept in test-artifacts/.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../pipelines/analyze.js';
import { registryPath, simulate } from '../../pipelines/simulate.js';
import { loadRegistry } from '../../src/cli/registry.js';
import { writeReport } from '../../src/report/html.js';

const CHROMIUM = '/usr/bin/chromium';
const run = existsSync(CHROMIUM) || process.env['CI'] !== undefined;
const artifacts = resolve(__dirname, '../../test-artifacts');

describe.skipIf(!run)('report in a browser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-report-'));
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function report(name: string, scenarios: string[], dt_s: number): Promise<string> {
    const csv = join(dir, `${name}.csv`);
    await simulate({ scenarios, out: csv, dt_s, seed: 9 });
    const out = join(dir, name);
    await analyze({ files: [csv], registry: await loadRegistry(registryPath(csv)), outDir: out, series: true });
    const r = await writeReport(out);
    return r.html;
  }

  async function open(path: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    // Offline: any request leaving the file is an error.
    await page.route(/^(?!file:)/, (route) => {
      errors.push(`network request to ${route.request().url()}`);
      return route.abort();
    });
    await page.goto(`file://${path}`);
    await page.waitForFunction(() => (window as unknown as { __cyclewatch?: unknown }).__cyclewatch !== undefined);
    return { page, errors };
  }

  it('loop run: draws every chart, shades the regimes where the events say, zooms', async () => {
    const path = await report('loop', ['very-high-rate'], 2);
    const { page, errors } = await open(path);
    const charts = await page.evaluate(() => {
      const cw = (
        window as unknown as {
          __cyclewatch: {
            charts: {
              kind: string;
              zoom: unknown;
              chart: { getOption: () => { series: { data: unknown[]; markArea?: { data: [{ name: string; xAxis: number }, { xAxis: number }][] } }[] } };
            }[];
          };
        }
      ).__cyclewatch;
      return cw.charts.map((c) => {
        const o = c.chart.getOption();
        return {
          kind: c.kind,
          zoomed: c.zoom !== null,
          points: o.series.reduce((n, s) => n + (s.data?.length ?? 0), 0),
          areas: o.series[0]?.markArea?.data?.map((a) => [a[0].name, a[0].xAxis, a[1].xAxis]) ?? [],
        };
      });
    });
    expect(errors).toEqual([]);
    expect(charts.map((c) => c.kind)).toEqual([
      'voltageOption',
      'voltageOption',
      'voltageOption',
      'contactOption',
      'ratioOption',
      'auxOption',
      'halfCycleOption',
    ]);
    expect(charts.filter((c) => c.zoomed)).toHaveLength(2); // first short, and the loop
    for (const c of charts) expect(c.points, c.kind).toBeGreaterThan(10);
    // Every canvas has drawn pixels, not only a blank surface.
    const inked = await page.evaluate(() =>
      [...document.querySelectorAll('.chart canvas')].map((cv) => {
        const canvas = cv as HTMLCanvasElement;
        const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
        return n;
      }),
    );
    expect(inked.length).toBeGreaterThanOrEqual(7);
    for (const n of inked) expect(n).toBeGreaterThan(1000);

    // The shading is the labelled segments: same regimes, same start and end times (hours).
    const segments = readFileSync(join(dir, 'loop', 'segments.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { regime: string; start: string; end: string });
    const t0 = Date.parse(segments[0]!.start);
    const expected = segments.filter((s) => s.regime !== 'stable').map((s) => [s.regime, (Date.parse(s.start) - t0) / 3.6e6, (Date.parse(s.end) - t0) / 3.6e6]);
    expect(charts[0]!.areas).toHaveLength(expected.length);
    charts[0]!.areas.forEach((a, k) => {
      expect(a[0]).toBe(expected[k]![0]);
      expect(a[1]).toBeCloseTo(expected[k]![1] as number, 6);
      expect(a[2]).toBeCloseTo(expected[k]![2] as number, 6);
    });

    // Zoom: the data zoom narrows the visible window of the main chart.
    const zoomed = await page.evaluate(() => {
      const chart = (
        window as unknown as {
          __cyclewatch: {
            charts: {
              chart: {
                dispatchAction: (a: unknown) => void;
                getModel: () => { getComponent: (n: string) => { axis: { scale: { getExtent: () => number[] } } } };
              };
            }[];
          };
        }
      ).__cyclewatch.charts[0]!.chart;
      const before = chart.getModel().getComponent('xAxis').axis.scale.getExtent();
      chart.dispatchAction({ type: 'dataZoom', start: 40, end: 60 });
      const after = chart.getModel().getComponent('xAxis').axis.scale.getExtent();
      return { before, after };
    });
    expect(zoomed.after[1]! - zoomed.after[0]!).toBeLessThan(0.3 * (zoomed.before[1]! - zoomed.before[0]!));
    await page.screenshot({ path: join(artifacts, 'report-loop.png'), fullPage: false });
    expect(statSync(join(artifacts, 'report-loop.png')).size).toBeGreaterThan(10_000);
    await page.close();
  }, 120_000);

  const real = join(__dirname, '../../../shared/data/real');
  it.skipIf(!existsSync(join(real, 'mb.mpr')))(
    'real Li | LLZO run with impedance spectra: R_app and R_hf drawn side by side',
    async () => {
      const out = join(dir, 'mb');
      await analyze({ files: [join(real, 'mb.mpr')], outDir: out, series: true });
      const { page, errors } = await open((await writeReport(out)).html);
      const resistance = await page.evaluate(() => {
        const cw = (
          window as unknown as {
            __cyclewatch: { charts: { kind: string; chart: { getOption: () => { series: { name: string; data: [number, number][] }[] } } }[] };
          }
        ).__cyclewatch;
        const c = cw.charts.find((x) => x.kind === 'resistanceOption');
        return c?.chart.getOption().series.map((s) => ({ name: s.name, data: s.data }));
      });
      expect(errors).toEqual([]);
      expect(resistance?.map((s) => s.name)).toEqual(['R_app = V/I', 'R_hf (impedance)']);
      const [rApp, rHf] = resistance!;
      expect(rHf!.data).toHaveLength(8);
      const blocks = readFileSync(join(out, 'impedance.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { rHf_Ohm: number });
      expect(rHf!.data.map((p) => p[1])).toEqual(blocks.map((b) => b.rHf_Ohm));
      // R_app is drawn from the start, before the reference is learned, and sits above the AC resistance.
      expect(rApp!.data[0]![0]).toBeLessThan(0.5);
      const median = [...rApp!.data.map((p) => p[1])].sort((a, b) => a - b)[Math.floor(rApp!.data.length / 2)]!;
      expect(median).toBeGreaterThan(1200);
      expect(median).toBeLessThan(1500);
      await page.locator('[data-kind="resistanceOption"]').screenshot({ path: join(artifacts, 'report-impedance.png') });
      await page.close();
    },
    120_000,
  );

  it('multi-cell run: a fleet overview and one section per cell, no console errors', async () => {
    const path = await report('fleet', ['high-rate', 'ccd', 'control'], 10);
    const { page, errors } = await open(path);
    const rows = await page.$$eval('section h2 + table tr', (trs) => trs.length);
    const sections = await page.$$eval('section[id^="cell-"]', (s) => s.map((x) => x.id));
    expect(errors).toEqual([]);
    expect(rows).toBe(4); // header + 3 cells
    expect(sections).toEqual(['cell-high-rate', 'cell-ccd', 'cell-control']);
    const failureModes = await page.$$eval('section[id^="cell-"] table.t2 tr:nth-child(2) td:nth-child(6)', (tds) => tds.map((t) => t.textContent));
    expect(failureModes).toEqual(['short-loop', 'short', 'none']);
    await page.screenshot({ path: join(artifacts, 'report-fleet.png'), fullPage: false });
    await page.close();
  }, 120_000);
});
