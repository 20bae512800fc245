/**
 * The exported figures of a loop run and a CCD run: the composite Fig. 2 and each panel, as PNG at the asked
 * resolution (pixels and the pHYs resolution a layout program reads) and as SVG with its text outlined, from the
 * files `analyze` writes.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../../pipelines/analyze.js';
import { registryPath, simulate } from '../../pipelines/simulate.js';
import { loadRegistry } from '../../src/config/registry.js';
import { figureFont, fontFamilyOf, pngPixelsPerInch, renderFigures } from '../../src/report/figures.js';
import { haveFont } from './haveFont.js';
import { loadReportInput, writeReport } from '../../src/report/html.js';
import { CHART_BUILDERS, regimeSeries } from '../../src/report/charts.js';
import { figure2 } from '../../src/report/figure2.js';

describe.skipIf(!haveFont)('exported figures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-figures-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function analysed(name: string, scenario: string): Promise<string> {
    const csv = join(dir, `${name}.csv`);
    await simulate({ scenarios: [scenario], out: csv, dt_s: 10, seed: 5 });
    const out = join(dir, name);
    await analyze({ files: [csv], registry: await loadRegistry(registryPath(csv)), outDir: out, series: true });
    return out;
  }

  const pngSize = (png: Buffer): [number, number] => [png.readUInt32BE(16), png.readUInt32BE(20)];

  it.each([
    ['loop', 'very-high-rate', ['compliance ±8 V', 'polarization', 'short', 'isolated short', 'lower bound']],
    ['ccd', 'ccd', ['learning', 'short']],
  ])(
    '%s run: Fig. 2 at 300 dpi with its legend, units and outlined sans-serif text',
    async (name, scenario, legend) => {
      const out = await analysed(name, scenario);
      const [cell] = (await loadReportInput(out)).cells;
      const figures = await renderFigures(cell!, { dpi: 300 });
      const fig2 = figures.find((f) => f.name === 'fig2')!;
      // 180 mm at 300 dpi (a double column, the default), and the file says 300 dpi.
      expect(pngSize(fig2.png)[0]).toBe(2126);
      expect([fig2.widthPx, fig2.heightPx]).toEqual(pngSize(fig2.png));
      expect(pngPixelsPerInch(fig2.png)).toBe(300);
      // Legend items, in the chosen sans-serif family.
      const { family } = figureFont();
      for (const label of legend) expect(fig2.svgWithText, label).toContain(`>${label}</text>`);
      // The time axis: hours since the start, and the start's date in the lab's zone (the analysis machine's here, UTC).
      expect(fig2.svgWithText).toMatch(/>time since start \/ h \(0 h = 2026-01-01 \d\d:\d\d UTC\)<\/text>/);
      const families = new Set([...fig2.svgWithText.matchAll(/font-family:([^;"]+)/g)].map((m) => m[1]));
      expect([...families]).toEqual([family]);
      // The SVG handed out needs no font: every glyph is a path, sized for a page (180 mm).
      expect(fig2.svg).not.toMatch(/<text|font-family/);
      expect(fig2.svg).toMatch(/^<svg width="180\.0mm" height="\d+\.\dmm"/);
      const texts = (fig2.svgWithText.match(/<text/g) ?? []).length;
      expect(texts).toBeGreaterThan(30);
      expect((fig2.svg.match(/<path/g) ?? []).length).toBeGreaterThan(texts);
      // The panels too, one per report chart.
      expect(figures.map((f) => f.name)).toEqual(['fig2', 'voltage', 'voltage-abs-log', 'contact', 'ratio', 'pressure-temperature', 'half-cycles']);
      for (const f of figures) {
        expect(f.png.subarray(1, 4).toString('latin1'), f.name).toBe('PNG');
        expect(pngSize(f.png)[0], f.name).toBe(2126);
      }
    },
    120_000,
  );

  it('takes the font a lab chooses, by the family name inside the file', async () => {
    const mono = '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf';
    expect(fontFamilyOf(readFileSync(figureFont().file))).toBe(figureFont().family);
    expect(fontFamilyOf(Buffer.from('not a font at all'))).toBeNull();
    if (!existsSync(mono)) return;
    const [cell] = (await loadReportInput(await analysed('mono', 'ccd'))).cells;
    const [fig2] = await renderFigures(cell!, { dpi: 72, fontFile: mono });
    expect(new Set([...fig2!.svgWithText.matchAll(/font-family:([^;"]+)/g)].map((m) => m[1]))).toEqual(new Set(['DejaVu Sans Mono']));
    // Glyphs found under that name: as many outlined paths as with the default font, none left as text.
    expect(fig2!.svg).not.toMatch(/<text/);
    expect((fig2!.svg.match(/<path/g) ?? []).length).toBeGreaterThan((fig2!.svgWithText.match(/<text/g) ?? []).length);
  }, 120_000);

  it('writes PNG and SVG files at a chosen resolution beside the report, named after the cell', async () => {
    const out = await analysed('slides', 'ccd');
    const r = await writeReport(out, { figures: { formats: ['png', 'svg'], dpi: 150 } });
    // Seven figures in two formats, and Fig. 2's caption draft.
    expect(r.figures).toHaveLength(15);
    const names = readdirSync(out).filter((f) => /\.(png|svg)$/.test(f));
    expect(names).toContain('ccd.fig2.png');
    expect(names).toContain('ccd.fig2.svg');
    const png = readFileSync(join(out, 'ccd.fig2.png'));
    expect(pngSize(png)[0]).toBe(1063);
    expect(pngPixelsPerInch(png)).toBe(150);
  }, 120_000);
});

describe('one time axis for every panel of a cell', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-axes-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('spans the whole run in Fig. 2 and in every chart, also where a panel has data over part of it (Li | Li soft short)', async () => {
    // The contact fraction exists only once R_ref is calibrated (8 h in) and while the cell is not shorted (25 h).
    const file = join(__dirname, '../fixtures/real/jr862_11_08_23_insitu-impedance-LiLi_1MLiTFSI_TEGDME-1mA_03_GCPL_C05.txt');
    await analyze({ files: [file], import: { cell: 'lili', setCurrent_mA: 0.4 }, outDir: dir, series: true });
    const [cell] = (await loadReportInput(dir)).cells;
    const f = cell!.series['contactFraction']!;
    expect(f[0]![0]).toBeGreaterThan(7);
    expect(f.at(-1)![0]).toBeLessThan(cell!.duration_h - 10);
    const spans = (o: Record<string, unknown>): [unknown, unknown][] =>
      ([] as Record<string, unknown>[]).concat(o['xAxis'] as Record<string, unknown>).map((x) => [x['min'], x['max']]);
    const whole: [unknown, unknown] = [0, cell!.duration_h];
    const rounded = ([a, b]: [unknown, unknown]): [unknown, unknown] => [a, Number((b as number).toFixed(4))];
    expect(spans(figure2(cell!, 'double').option).map(rounded)).toEqual([whole, whole, whole].map(rounded));
    for (const [name, build] of Object.entries(CHART_BUILDERS)) {
      const option = (build as (c: typeof cell, interactive: boolean) => Record<string, unknown>)(cell, false);
      if (name === 'halfCycleOption' && cell!.halfCycles.length <= 3) {
        // One half cycle, the whole run at 0.4 mA: a bar for it, not a point at the left edge of a 45 h axis.
        expect(option['xAxis']).toEqual({ type: 'category', data: ['half cycle 0 (0–45.09 h)'] });
        continue;
      }
      for (const s of spans(option)) expect(s, name).toEqual(whole);
    }
    // The page shades the soft short as Fig. 2 does: its own band, cut out of the polarization under it.
    const bands = regimeSeries(cell!).map((r) => ({
      name: r['name'],
      areas: (r['markArea'] as { data: [{ xAxis: number }, { xAxis: number }][] }).data.map((d): [number, number] => [d[0].xAxis, d[1].xAxis]),
    }));
    const soft = bands.find((b) => b.name === 'soft short')!.areas;
    expect(soft).toHaveLength(1);
    expect(soft[0]![0]).toBeCloseTo(23.8, 1);
    expect(soft[0]![1]).toBeCloseTo(25.1, 1);
    for (const [a, b] of bands.find((x) => x.name === 'polarization')!.areas) expect(b <= soft[0]![0] || a >= soft[0]![1], `polarization ${a}–${b}`).toBe(true);
  });
});
