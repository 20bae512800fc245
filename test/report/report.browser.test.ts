/**
 * The report as a person sees it: headless Chromium (Debian's) opens reports of a simulated loop run, a stable
 * ±0.07 V run, a CCD run and a multi-cell run. No console errors, every chart draws marks, the regime shading covers
 * the times the events say, each legend item has its series' drawn colour, axes follow the data with short tick
 * labels, zoom windows lie inside the run, the mouse wheel scrolls the page (Ctrl + wheel zooms), and screenshots
 * are kept in test-artifacts/ (git-ignored).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../pipelines/analyze.js';
import { registryPath, simulate } from '../../pipelines/simulate.js';
import { loadRegistry } from '../../src/config/registry.js';
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
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
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

  /**
   * Per chart: each legend item's icon colours against the colours its series is drawn with (lines, symbols,
   * shaded areas, marker lines), read from the rendered scene; every tick label of every axis; the zoom window.
   */
  async function inspect(page: Page) {
    return page.evaluate(() => {
      type El = { style?: { fill?: unknown; stroke?: unknown; text?: unknown }; type: string };
      type Group = { traverse: (f: (el: El) => void) => void };
      type Model = { id: string; name: string; getData: () => { count: () => number } };
      type Chart = {
        _componentsViews: ({
          type: string;
          getContentGroup?: () => { children: () => Group[] };
          markerGroupMap?: { get: (id: string) => { group: Group } | undefined };
        } | null)[];
        getModel: () => {
          getSeries: () => Model[];
          getComponent: (
            t: string,
            i: number,
          ) => { axis: { getViewLabels: () => { formattedLabel: string }[]; scale: { getExtent: () => number[] } } } | undefined;
        };
        getViewOfSeriesModel: (m: Model) => { group: Group };
        getOption: () => { xAxis: unknown[]; yAxis: unknown[]; series: { name: string; data: [number, number | null][] }[] };
      };
      const cw = (
        window as unknown as {
          __cyclewatch: { charts: { kind: string; zoom: [number, number] | null; cell: string; chart: Chart }[]; cells: { id: string; duration_h: number }[] };
        }
      ).__cyclewatch;
      const colour = (x: unknown): string | null =>
        typeof x === 'string' && !['none', 'transparent', '#fff', '#ffffff'].includes(x.toLowerCase()) ? x.toLowerCase() : null;
      return cw.charts.map((c) => {
        const views = c.chart._componentsViews.filter((v): v is NonNullable<typeof v> => v !== null);
        const legend = views.find((v) => v.type === 'legend.plain');
        const items = (legend?.getContentGroup?.().children() ?? []).map((g) => {
          let name = '';
          const colours = new Set<string>();
          g.traverse((el) => {
            if (el.type === 'text') name = String(el.style?.text ?? '');
            else if (el.type === 'path') {
              const k = colour(el.style?.stroke) ?? colour(el.style?.fill);
              if (k !== null) colours.add(k);
            }
          });
          return { name, colours: [...colours] };
        });
        const drawn: Record<string, string[]> = {};
        const points: Record<string, number> = {};
        for (const m of c.chart.getModel().getSeries()) {
          const set = new Set<string>();
          const add = (g: Group | undefined): void =>
            g?.traverse((el) => {
              if (el.type === 'text') return;
              for (const k of [colour(el.style?.stroke), colour(el.style?.fill)]) if (k !== null && k !== '#000') set.add(k);
            });
          add(c.chart.getViewOfSeriesModel(m).group);
          for (const v of views) if (v.type === 'markArea' || v.type === 'markLine') add(v.markerGroupMap?.get(m.id)?.group);
          drawn[m.name] = [...set];
          points[m.name] = m.getData().count();
        }
        const labels: string[] = [];
        for (const t of ['xAxis', 'yAxis'])
          for (let i = 0; i < 4; i++) {
            const a = c.chart.getModel().getComponent(t, i);
            if (a !== undefined) labels.push(...a.axis.getViewLabels().map((l) => l.formattedLabel));
          }
        const y = c.chart.getModel().getComponent('yAxis', 0)!.axis.scale.getExtent();
        const option = c.chart.getOption();
        const first = option.series[0]!.data.filter((p) => p[1] !== null) as [number, number][];
        return {
          kind: c.kind,
          cell: c.cell,
          zoom: c.zoom,
          duration_h: cw.cells.find((x) => x.id === c.cell)!.duration_h,
          items,
          drawn,
          points,
          labels,
          yExtent: y,
          firstSeries: {
            name: option.series[0]!.name,
            min: Math.min(...first.map((p) => p[1])),
            max: Math.max(...first.map((p) => p[1])),
            t0: first[0]?.[0],
            t1: first.at(-1)?.[0],
          },
        };
      });
    });
  }

  type Inspected = Awaited<ReturnType<typeof inspect>>;
  /** Significant digits of a tick label: `0.00278` → 3, `-17.5` → 3, `1000` → 1, `199.99111` → 8. */
  const significant = (label: string): number => {
    const m = label.replace(/^[-−]/, '').replace(/e.*$/i, '');
    const digits = m.includes('.') ? m.replace('.', '').replace(/^0+/, '') : m.replace(/^0+/, '').replace(/0+$/, '');
    return Math.max(1, digits.length);
  };

  function expectReadable(charts: Inspected): void {
    for (const c of charts) {
      const where = `${c.cell} ${c.kind}${c.zoom ? ' (zoom)' : ''}`;
      // Every legend item is drawn in its series' colour: a line, a symbol, a shaded band or a marker line of it.
      expect(c.items.length, where).toBeGreaterThan(0);
      for (const item of c.items) {
        expect(c.drawn[item.name], `${where}: legend item "${item.name}" has no series`).toBeDefined();
        expect(item.colours.length, `${where}: legend item "${item.name}" has no colour`).toBeGreaterThan(0);
        if (c.drawn[item.name]!.length === 0) {
          // Nothing of it is drawn (e.g. no point ever at the compliance limit): nothing to compare.
          expect(c.points[item.name], `${where}: "${item.name}" has data but draws nothing`).toBe(0);
          continue;
        }
        for (const k of item.colours) expect(c.drawn[item.name], `${where}: legend "${item.name}" ${k}`).toContain(k);
      }
      // Tick labels: at most 4 significant digits.
      expect(c.labels.length, where).toBeGreaterThan(2);
      for (const l of c.labels) expect(significant(l), `${where}: tick "${l}"`).toBeLessThanOrEqual(4);
      // Zoom windows inside the run.
      if (c.zoom !== null) {
        expect(c.zoom[0], where).toBeGreaterThanOrEqual(0);
        expect(c.zoom[1], where).toBeLessThanOrEqual(c.duration_h + 1e-9);
        expect(c.zoom[1] - c.zoom[0], where).toBeGreaterThan(0);
      }
    }
  }

  /** A simulated run's report, opened: no console error, and every chart readable (see expectReadable). */
  async function readableReport(name: string, scenarios: string[]): Promise<{ page: Page; charts: Inspected }> {
    const { page, errors } = await open(await report(name, scenarios, 10));
    const charts = await inspect(page);
    expect(errors).toEqual([]);
    expectReadable(charts);
    return { page, charts };
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
          areas: o.series
            .flatMap((x) => x.markArea?.data ?? [])
            .map((a) => [a[0].name, a[0].xAxis, a[1].xAxis] as [string, number, number])
            .sort((a, b) => a[1] - b[1]),
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
      'noiseOption',
      'auxOption',
      'halfCycleOption',
    ]);
    expect(charts.filter((c) => c.zoomed)).toHaveLength(2); // first short, and the loop
    for (const c of charts) expect(c.points, c.kind).toBeGreaterThan(10);
    const inspected = await inspect(page);
    expectReadable(inspected);
    // Every regime of the run has its legend item beside the voltage.
    expect(inspected[0]!.items.map((i) => i.name)).toEqual(['voltage', 'compliance ±8 V', 'learning', 'polarization', 'isolated short', 'short']);
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
    expect(inked.length).toBeGreaterThanOrEqual(8);
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

    // The mouse wheel over a chart scrolls the page and leaves the zoom alone; Ctrl + wheel zooms.
    await page.evaluate(() => window.scrollTo(0, 0));
    const main = page.locator('.chart.main').first();
    const box = (await main.boundingBox())!;
    const extent = () =>
      page.evaluate(() =>
        (
          window as unknown as {
            __cyclewatch: { charts: { chart: { getModel: () => { getComponent: (n: string) => { axis: { scale: { getExtent: () => number[] } } } } } }[] };
          }
        ).__cyclewatch.charts[0]!.chart.getModel()
          .getComponent('xAxis')
          .axis.scale.getExtent(),
      );
    await page.evaluate(() => {
      const c = (window as unknown as { __cyclewatch: { charts: { chart: { dispatchAction: (a: unknown) => void } }[] } }).__cyclewatch.charts[0]!.chart;
      c.dispatchAction({ type: 'dataZoom', start: 0, end: 100 });
    });
    const before = await extent();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, 300);
    await page.waitForFunction(() => window.scrollY > 0, undefined, { timeout: 5000 });
    expect(await page.evaluate(() => window.scrollY)).toBeGreaterThan(100);
    expect(await extent()).toEqual(before);
    const box2 = (await main.boundingBox())!;
    await page.mouse.move(box2.x + box2.width / 2, box2.y + box2.height / 2);
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, -600);
    await page.keyboard.up('Control');
    await page.waitForTimeout(300);
    const after = await extent();
    expect(after[1]! - after[0]!).toBeLessThan(before[1]! - before[0]!);
    await page.close();
  }, 120_000);

  /** Per time chart of the first cell (not the zoom windows): each plot area's page-x edges and x range. */
  async function geometry(page: Page) {
    return page.evaluate(() => {
      type Chart = {
        getDom: () => HTMLElement;
        getModel: () => {
          getComponent: (
            t: string,
            i: number,
          ) =>
            { coordinateSystem?: { getRect: () => { x: number; width: number } }; axis?: { type: string; scale: { getExtent: () => number[] } } } | undefined;
        };
      };
      const cw = (window as unknown as { __cyclewatch: { charts: { kind: string; cell: string; zoom: unknown; group: string | null; chart: Chart }[] } })
        .__cyclewatch;
      const first = cw.charts[0]!.cell;
      return cw.charts
        .filter((c) => c.cell === first && c.zoom === null)
        .map((c) => {
          const left = c.chart.getDom().getBoundingClientRect().left;
          const plots: { left: number; right: number; x: number[]; axis: string }[] = [];
          for (let k = 0; k < 4; k++) {
            const grid = c.chart.getModel().getComponent('grid', k);
            const x = c.chart.getModel().getComponent('xAxis', k);
            if (grid === undefined || x === undefined) break;
            const r = grid.coordinateSystem!.getRect();
            plots.push({ left: left + r.x, right: left + r.x + r.width, x: x.axis!.scale.getExtent(), axis: x.axis!.type });
          }
          return { kind: c.kind, group: c.group, plots };
        });
    });
  }

  it("a cell's time charts: plot areas line up on one x range, and zoom together", async () => {
    const { page, errors } = await open(await report('aligned', ['very-high-rate'], 10));
    const duration = await page.evaluate(() => (window as unknown as { __cyclewatch: { cells: { duration_h: number }[] } }).__cyclewatch.cells[0]!.duration_h);
    const charts = await geometry(page);
    expect(errors).toEqual([]);
    expect(charts.map((c) => c.kind)).toEqual(['voltageOption', 'contactOption', 'ratioOption', 'noiseOption', 'auxOption', 'halfCycleOption']);
    const plots = charts.flatMap((c) => c.plots);
    expect(plots.length).toBe(7); // the half cycles have two panels
    for (const p of plots) {
      // The same left and right pixel edge as the voltage's, to the pixel, and the whole run.
      expect(Math.abs(p.left - plots[0]!.left)).toBeLessThan(0.5);
      expect(Math.abs(p.right - plots[0]!.right)).toBeLessThan(0.5);
      expect(p.x[0]).toBe(0);
      expect(p.x[1]).toBeCloseTo(duration, 9);
    }
    expect(new Set(charts.map((c) => c.group))).toEqual(new Set(['cell-0']));
    // A zoom in one (the ratio chart, as a drag would) is a zoom in every other.
    await page.evaluate(() => {
      const cw = (window as unknown as { __cyclewatch: { charts: { kind: string; chart: { dispatchAction: (a: unknown) => void } }[] } }).__cyclewatch;
      cw.charts.find((c) => c.kind === 'ratioOption')!.chart.dispatchAction({ type: 'dataZoom', start: 20, end: 40 });
    });
    const zoomed = await geometry(page);
    for (const c of zoomed)
      for (const p of c.plots) {
        expect(p.x[0], c.kind).toBeCloseTo(0.2 * duration, 6);
        expect(p.x[1], c.kind).toBeCloseTo(0.4 * duration, 6);
      }
    await page
      .locator('section')
      .first()
      .screenshot({ path: join(artifacts, 'report-aligned.png') });
    await page.close();
  }, 120_000);

  const realDir = join(__dirname, '../../../shared/data/real');
  it.skipIf(!existsSync(join(realDir, 'mpr', 'ocv.mpr')))(
    'real files: an empty panel is one line saying why, and two half cycles are bars',
    async () => {
      const lines = async (file: string) => {
        const out = join(dir, file.replace(/[/.]/g, '_'));
        await analyze({ files: [join(realDir, file)], outDir: out, series: true });
        const { page, errors } = await open((await writeReport(out)).html);
        const empty = await page.$$eval('p.empty', (ps) => ps.map((p) => [p.getAttribute('data-kind'), p.textContent]));
        const kinds = await page.evaluate(() => (window as unknown as { __cyclewatch: { charts: { kind: string }[] } }).__cyclewatch.charts.map((c) => c.kind));
        expect(errors).toEqual([]);
        return { page, empty, kinds };
      };
      // A half-cell run with two half cycles: no contact, ratio, pressure or temperature; the half cycles as bars.
      const hac = await lines('mpr/HAC_NH3_01_02_GCPL_C04.mpr');
      expect(hac.empty).toEqual([
        ['contactOption', expect.stringMatching(/^No contact fraction or local current density: not a symmetric cell \(.+\)\.$/)],
        ['ratioOption', expect.stringMatching(/^No R_app \/ R_ref: not a symmetric cell/)],
        ['auxOption', 'No pressure or temperature telemetry.'],
      ]);
      expect(hac.kinds).toEqual(['voltageOption', 'halfCycleOption']);
      const bars = await hac.page.evaluate(() => {
        const c = (
          window as unknown as {
            __cyclewatch: {
              charts: {
                kind: string;
                chart: {
                  getOption: () => { xAxis: { type: string; data: string[] }[]; series: { type: string; data: (number | null)[] }[] };
                  getModel: () => { getSeries: () => { getData: () => { getItemLayout: (i: number) => { width: number; height: number } } }[] };
                };
              }[];
            };
          }
        ).__cyclewatch.charts.find((x) => x.kind === 'halfCycleOption')!.chart;
        const o = c.getOption();
        const layout = c.getModel().getSeries()[0]!.getData();
        return { axis: o.xAxis[0]!, series: o.series.map((x) => x.type), first: o.series[0]!.data, size: [0, 1].map((i) => layout.getItemLayout(i)) };
      });
      expect(bars.axis.type).toBe('category');
      expect(bars.axis.data).toHaveLength(2);
      expect(bars.axis.data[0]).toMatch(/^half cycle 0 \(0\.\d+–0\.\d+ h\)/); // the index events.jsonl gives
      expect(bars.series[0]).toBe('bar');
      // Bars a reader sees: tens of pixels wide and tall.
      for (const b of bars.size) {
        expect(b.width).toBeGreaterThan(20);
        expect(Math.abs(b.height)).toBeGreaterThan(20);
      }
      await hac.page
        .locator('section')
        .first()
        .screenshot({ path: join(artifacts, 'report-two-half-cycles.png') });
      await hac.page.close();
      // An open-circuit run: no half cycles at all.
      const ocv = await lines('mpr/ocv.mpr');
      expect(ocv.empty.map((e) => e[0])).toEqual(['contactOption', 'ratioOption', 'auxOption', 'halfCycleOption']);
      expect(ocv.empty.at(-1)![1]).toMatch(/^No half cycles/);
      expect(ocv.kinds).toEqual(['voltageOption']);
      await ocv.page.close();
    },
    120_000,
  );

  it('stable ±0.07 V run: the voltage axis follows the data (not ±8 V), the limit is named off scale', async () => {
    const { page, charts } = await readableReport('stable', ['control']);
    const v = charts.find((c) => c.kind === 'voltageOption' && c.zoom === null)!;
    const dataSpan = v.firstSeries.max - v.firstSeries.min;
    expect(v.firstSeries.max).toBeLessThan(0.5); // a ±0.07 V run (spikes included)
    expect(v.yExtent[0]).toBeLessThanOrEqual(v.firstSeries.min);
    expect(v.yExtent[1]).toBeGreaterThanOrEqual(v.firstSeries.max);
    expect(v.yExtent[1]! - v.yExtent[0]!).toBeLessThanOrEqual(1.2 * dataSpan);
    expect(v.items.map((i) => i.name)).toContain('compliance ±8 V (off scale)');
    expect(charts.filter((c) => c.zoom !== null)).toEqual([]); // no short, no window
    // The log view of |V| from the checkbox.
    await page.locator('input.abs-log').first().check();
    const log = await page.evaluate(
      () =>
        (
          window as unknown as { __cyclewatch: { charts: { chart: { getOption: () => { yAxis: { type: string }[] } } }[] } }
        ).__cyclewatch.charts[0]!.chart.getOption().yAxis[0]!.type,
    );
    expect(log).toBe('log');
    await page.screenshot({ path: join(artifacts, 'report-stable.png'), fullPage: true });
    await page.close();
  }, 120_000);

  it('CCD run: every chart readable, alert times on one line', async () => {
    const { page } = await readableReport('ccd', ['ccd']);
    const times = await page.$$eval('table.alerts td.time', (tds) => tds.map((t) => ({ text: t.textContent, h: t.getBoundingClientRect().height })));
    expect(times.length).toBeGreaterThan(0);
    for (const t of times) {
      expect(t.text).toMatch(/^\d+\.\d\d h · \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
      expect(t.h).toBeLessThan(30); // one line
    }
    await page.screenshot({ path: join(artifacts, 'report-ccd.png'), fullPage: true });
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
    expect(failureModes.map((m) => m?.split(' ')[0])).toEqual(['short-loop', 'short', 'none']);
    // The mode's own onset beside it: the loop from its first isolated short, not from the first compliance hit.
    expect(failureModes[0]).toMatch(/^short-loop from \d+(\.\d+)? h$/);
    await page.screenshot({ path: join(artifacts, 'report-fleet.png'), fullPage: false });
    await page.close();
  }, 120_000);
});
