/**
 * Fig. 2 as a journal prints it, rendered (PNG and SVG) for the loop, CCD and soft-short runs and the real jr862
 * (a Li | Li soft short, then a short) and mb (a stable symmetric cell) files, at single- and double-column width:
 * checked on the chart model and on the rendered SVG.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../pipelines/analyze.js';
import { registryPath, simulate } from '../../pipelines/simulate.js';
import { loadRegistry } from '../../src/config/registry.js';
import { formatOhm } from '../../src/domain/detector/index.js';
import { F_MARKED_ABOVE, figure2, MIN_TEXT_PX, roundAxis, siScale, textWidth } from '../../src/report/figure2.js';
import { OKABE_ITO } from '../../src/report/palette.js';
import { figure2Context, figureFont, pngPixelsPerInch, renderFigures, writeFigures, type FigureCell } from '../../src/report/figures.js';
import { haveFont } from './haveFont.js';
import { loadReportInput } from '../../src/report/html.js';

describe('Fig. 2 helpers', () => {
  it('chooses SI prefixes from the data', () => {
    expect(siScale(0.004, 'V')).toEqual({ factor: 1000, unit: 'mV' });
    expect(siScale(8, 'V')).toEqual({ factor: 1, unit: 'V' });
    expect(siScale(0.004, 'mA cm⁻²')).toEqual({ factor: 1000, unit: 'µA cm⁻²' });
    expect(siScale(2, 'mA cm⁻²')).toEqual({ factor: 1, unit: 'mA cm⁻²' });
  });

  it('ends axes on round ticks, and draws a constant series from zero (noise is no feature)', () => {
    expect(roundAxis([-3.372, 3.9])).toEqual({ min: -4, max: 4, interval: 2 });
    expect(roundAxis([0.393, 0.4, 0.408])).toEqual({ min: 0, max: 0.6, interval: 0.2 });
    expect(roundAxis([-0.408, -0.393])).toEqual({ min: -0.6, max: 0, interval: 0.2 });
    const a = roundAxis([0.05041, 0.02]);
    expect([a.min, a.max]).toEqual([0.02, 0.06]);
  });
});

describe.skipIf(!haveFont)('Fig. 2 for a journal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-fig2-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cells = new Map<string, FigureCell>();

  beforeAll(async () => {
    for (const [name, scenario] of [
      ['loop', 'very-high-rate'],
      ['ccd', 'ccd'],
      ['soft', 'soft-short'],
    ] as const) {
      const csv = join(dir, `${name}.csv`);
      await simulate({ scenarios: [scenario], out: csv, dt_s: 10, seed: 5 });
      await analyze({ files: [csv], registry: await loadRegistry(registryPath(csv)), outDir: join(dir, name), series: true });
    }
    const real = join(__dirname, '../fixtures/real/jr862_11_08_23_insitu-impedance-LiLi_1MLiTFSI_TEGDME-1mA_03_GCPL_C05.txt');
    await analyze({ files: [real], import: { cell: 'lili', setCurrent_mA: 0.4 }, outDir: join(dir, 'jr862'), series: true });
    await analyze({ files: [join(__dirname, '../../../shared/data/real/mb.mpr')], outDir: join(dir, 'mb'), series: true });
    for (const name of ['loop', 'ccd', 'soft', 'jr862', 'mb']) cells.set(name, (await loadReportInput(join(dir, name))).cells[0]!);
  }, 240_000);

  /** Every <text> of the SVG with its anchor point, size and estimated extent (rotated names run vertically). */
  function texts(svg: string): { text: string; x0: number; x1: number; y0: number; y1: number; size: number }[] {
    const out: { text: string; x0: number; x1: number; y0: number; y1: number; size: number }[] = [];
    for (const m of svg.matchAll(/<text([^>]*)>([^<]*)<\/text>/g)) {
      const attrs = m[1]!;
      const text = m[2]!.replace(/&gt;/g, '>').replace(/&lt;/g, '<').replace(/&amp;/g, '&');
      const size = Number(/font-size:([\d.]+)px/.exec(attrs)![1]);
      const anchor = /text-anchor="(\w+)"/.exec(attrs)?.[1] ?? 'start';
      const w = textWidth(text, size);
      const dx = Number(/ x="(-?[\d.]+)"/.exec(attrs)?.[1] ?? 0);
      const dy = Number(/ y="(-?[\d.]+)"/.exec(attrs)?.[1] ?? 0);
      const t = /translate\((-?[\d.]+) (-?[\d.]+)\)/.exec(attrs);
      const r = /matrix\(0,-1,1,0,(-?[\d.]+),(-?[\d.]+)\)/.exec(attrs);
      const from = anchor === 'middle' ? -w / 2 : anchor === 'end' ? -w : 0;
      if (r !== null) {
        // Rotated a quarter turn: the text's x runs upwards.
        const ex = Number(r[1]) + dy;
        const ey = Number(r[2]) - dx;
        out.push({ text, x0: ex - size / 2, x1: ex + size / 2, y0: ey - from - w, y1: ey - from, size });
      } else {
        const x = Number(t?.[1] ?? 0) + dx;
        const y = Number(t?.[2] ?? 0) + dy;
        out.push({ text, x0: x + from, x1: x + from + w, y0: y - size / 2, y1: y + size / 2, size });
      }
    }
    return out;
  }

  for (const name of ['loop', 'ccd', 'soft', 'jr862', 'mb'])
    for (const width of ['single', 'double'] as const)
      it(`${name}, ${width} column: panels on one time axis, typeset, inside the figure, ≥ 7 pt`, async () => {
        const cell = cells.get(name)!;
        const ctx = figure2Context(cell);
        const fig = figure2(cell, width, ctx, figureFont().family);
        const mm = width === 'single' ? 85 : 180;
        // The chart model: every panel the same left and right edge and the whole run, first to last sample.
        expect(new Set(fig.panels.map((p) => `${p[0]},${p[2]}`)).size).toBe(1);
        for (const x of fig.option['xAxis'] as Record<string, unknown>[]) {
          expect(x['min']).toBe(0);
          expect(x['max'] as number).toBeCloseTo(cell.duration_h, 4);
        }
        const [rendered] = await renderFigures(cell, { dpi: 300, width });
        const svg = rendered!.svgWithText;
        // The rendered plot areas (black frames): one per panel, the same left and right pixel edge.
        const frames = [...svg.matchAll(/<path d="M([\d.]+) ([\d.]+)l([\d.]+) 0l0 ([\d.]+)l-[\d.]+ 0Z"[^>]*stroke="#000"/g)].map((m) =>
          m.slice(1, 5).map(Number),
        );
        expect(frames).toHaveLength(fig.panels.length);
        expect(new Set(frames.map((f) => `${f[0]},${f[2]}`)).size).toBe(1);
        // The bottom axis: 0 h at the frames' left edge.
        const all = texts(svg);
        const bottom = Math.max(...frames.map((f) => f[1]! + f[3]!));
        const ticks = all.filter((t) => t.y0 > bottom && /^-?[\d.]+$/.test(t.text)).sort((a, b) => a.x0 - b.x0);
        expect(ticks[0]!.text).toBe('0');
        expect((ticks[0]!.x0 + ticks[0]!.x1) / 2).toBeCloseTo(frames[0]![0]!, 0);
        // Tick labels apart, and no text outside the figure.
        for (let k = 1; k < ticks.length; k++) expect(ticks[k]!.x0, `${ticks[k - 1]!.text} | ${ticks[k]!.text}`).toBeGreaterThan(ticks[k - 1]!.x1);
        for (const t of all) {
          expect(t.x0, t.text).toBeGreaterThanOrEqual(0);
          expect(t.x1, t.text).toBeLessThanOrEqual(fig.widthPx);
          expect(t.y0, t.text).toBeGreaterThanOrEqual(0);
          expect(t.y1, t.text).toBeLessThanOrEqual(fig.heightPx);
          expect(t.size, t.text).toBeGreaterThanOrEqual(MIN_TEXT_PX);
        }
        // Panel letters, italic quantities with upright units and subscripts.
        for (const letter of ['(a)', '(b)', ...(fig.panels.length > 2 ? ['(c)'] : [])]) expect(all.map((t) => t.text)).toContain(letter);
        expect(svg).toMatch(/font-style:italic;[^>]*>V<\/text>/);
        expect(svg).toMatch(/font-style:italic;[^>]*>j<\/text>/);
        if (fig.panels.length > 2) expect(svg).toMatch(/>local<\/text>/);
        // Print size: the width asked for at 300 dpi, and in the SVG handed out.
        expect(rendered!.widthPx).toBe(Math.round((mm / 25.4) * 300));
        expect(pngPixelsPerInch(rendered!.png)).toBe(300);
        expect(rendered!.svg).toMatch(new RegExp(`^<svg width="${mm}\\.0mm"`));
        expect(rendered!.svg).not.toMatch(/<text/);
      }, 60_000);

  it('picks units from the data: mV and µA cm⁻² for mb, V and mA cm⁻² for the loop', () => {
    const names = (c: FigureCell): string => JSON.stringify((figure2(c, 'double').option['yAxis'] as { name: string }[]).map((y) => y.name));
    expect(names(cells.get('mb')!)).toContain('{u| / mV}');
    expect(names(cells.get('mb')!)).toContain('{u| / µA cm⁻²}');
    expect(names(cells.get('loop')!)).toContain('{u| / V}');
    expect(names(cells.get('loop')!)).toContain('{u| / mA cm⁻²}');
  });

  it('draws a constant set current from zero, f never above 1 (marked where clipped), a soft short as such', () => {
    const jr = cells.get('jr862')!;
    const fig = figure2(jr, 'single', figure2Context(jr));
    const yAxis = fig.option['yAxis'] as Record<string, unknown>[];
    expect(yAxis[1]!['min']).toBe(0);
    const series = fig.option['series'] as { name: string; data: [number, number | null][]; markArea?: { data: unknown[] } }[];
    const f = series.find((s) => s.name === 'contact fraction')!;
    expect(Math.max(...f.data.map((p) => p[1] ?? 0))).toBeLessThanOrEqual(1);
    const above = (jr.series['contactFraction'] ?? []).filter((p) => p[1] > F_MARKED_ABOVE).length;
    expect(above).toBeGreaterThan(0);
    expect(series.find((s) => s.name === 'f > 1')!.data).toHaveLength(above);
    expect(fig.caption).toContain(`the ${above} above ${F_MARKED_ABOVE} as open circles`);
    // The soft short (23.8 h on) is shaded as a soft short, up to the short at 25.1 h.
    const soft = series.find((s) => s.name === 'soft short')!.markArea!.data as [{ xAxis: number }, { xAxis: number }][];
    expect(soft).toHaveLength(1);
    expect(soft[0]![0].xAxis).toBeCloseTo(23.8, 1);
    expect(soft[0]![1].xAxis).toBeCloseTo(25.1, 1);
    const simulated = figure2(cells.get('soft')!, 'double', figure2Context(cells.get('soft')!));
    expect((simulated.option['series'] as { name: string }[]).map((s) => s.name)).toContain('soft short');
  });

  it('keeps the legend compact at a single column: what no axis says, in two or more columns', () => {
    for (const name of ['jr862', 'loop', 'soft', 'ccd', 'mb']) {
      const fig = figure2(cells.get(name)!, 'single', figure2Context(cells.get(name)!));
      const legendTexts = (fig.option['graphic'] as { elements: { type: string; y: number; style: { text?: string } }[] }).elements.filter(
        (e) => e.type === 'text' && e.y < fig.panels[0]![1],
      );
      // Two columns at least: jr862's five items in 3 rows (they took 7, lines included, as one flowing line).
      const rows = new Set(legendTexts.map((e) => Math.round(e.y))).size;
      expect(rows, name).toBeLessThanOrEqual(Math.ceil(legendTexts.length / 2));
      if (name === 'jr862') expect(rows).toBe(3);
      // The panels' lines are named by their axes, not again in the legend; (c)'s two in their lines' colours.
      for (const line of ['voltage', 'current density', 'contact fraction', 'local current density'])
        expect(
          legendTexts.map((e) => e.style.text),
          name,
        ).not.toContain(line);
      const yAxis = fig.option['yAxis'] as { nameTextStyle: { color?: string } }[];
      if (yAxis.length === 4) expect(yAxis.slice(2).map((a) => a.nameTextStyle.color)).toEqual([OKABE_ITO.bluishGreen, OKABE_ITO.orange]);
    }
  });

  it('writes the caption draft beside the figure: what each panel shows, the regimes, R_ref and its source, the time zone', async () => {
    const cell = cells.get('loop')!;
    const paths = await writeFigures(cell, join(dir, 'loop-out'), { formats: ['png'], dpi: 150, width: 'single' });
    const caption = readFileSync(
      paths.find((p) => p.endsWith('.fig2.txt'))!,
      'utf8',
    );
    expect(caption).toMatch(/^Fig\. 2\. very-high-rate: \(a\) Cell voltage V \(V\) with the regimes the monitor called shaded: /);
    expect(caption).toMatch(/polarization \(orange\)/);
    expect(caption).toMatch(/\(b\) Set current density j\. \(c\) Effective contact fraction/);
    const s = cell.summary!;
    expect(caption).toContain(`R_ref = ${formatOhm(s['rRef25_ohm'] as number)} at 25 °C, calibrated on the cell's own plateau`);
    expect(caption).toMatch(/0 h = 2026-01-\d\d \d\d:\d\d UTC\.\n$/);
    expect(paths.some((p) => p.endsWith('.fig2.png'))).toBe(true);
    // A resistance of kilohms as people write it (mb's interface-dominated cell), not 1.34e+3 Ω.
    const mb = cells.get('mb')!;
    expect(figure2(mb, 'single', figure2Context(mb)).caption).toMatch(/R_ref = \d\.\d\d kΩ at 25 °C/);
  });
});
