/**
 * Slide- and paper-ready figures of a cell: the composite "Fig. 2" (voltage with the regimes shaded, current density,
 * contact fraction and j_local) and each report panel, as SVG (text outlined: no font needed to open it) and PNG at a
 * chosen resolution (its pixels-per-inch written in the file). ECharts renders SVG in Node; resvg outlines the text
 * with a sans-serif font file and rasterizes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { auxOption, contactOption, halfCycleOption, ratioOption, resistanceOption, voltageOption, type ChartLook, type ReportCell } from './charts.js';
import { figure2, type Figure2Context, type FigureWidth } from './figure2.js';

export type FigureFormat = 'png' | 'svg';

export interface FigureOptions {
  readonly formats: readonly FigureFormat[];
  /** PNG resolution in pixels per inch (300 for print, 150 for slides). */
  readonly dpi: number;
  /** A .ttf/.otf sans-serif font; found among the usual system fonts when absent. */
  readonly fontFile?: string;
  /** Fig. 2's width: a journal's single (85 mm) or double (180 mm) column, or mm. The panels are 180 mm wide. */
  readonly width?: FigureWidth;
}

export const DEFAULT_FIGURE_OPTIONS: FigureOptions = { formats: ['png', 'svg'], dpi: 300, width: 'double' };

/** A cell as the report has it: the chart data, and the summary and alerts Fig. 2's caption and shading need. */
export type FigureCell = ReportCell & { readonly summary?: Record<string, unknown>; readonly alerts?: readonly Record<string, unknown>[] };

/**
 * Soft-short episodes in hours since t0: from each raised alert's onset to its clearing, a short, or the end of the
 * run.
 */
export function softShortWindows(c: Pick<ReportCell, 't0_ms' | 'duration_h' | 'segments'>, alerts: readonly Record<string, unknown>[]): [number, number][] {
  const h = (iso: unknown): number | null => (typeof iso === 'string' && Number.isFinite(Date.parse(iso)) ? (Date.parse(iso) - c.t0_ms) / 3.6e6 : null);
  const windows: [number, number][] = [];
  let open: number | null = null;
  const shortStarts = c.segments.filter((g) => g.regime === 'short' || g.regime === 'isolated-short').map((g) => (g.start_ms - c.t0_ms) / 3.6e6);
  for (const a of alerts) {
    if (a['code'] !== 'soft-short') continue;
    if (a['state'] === 'raised' && open === null) open = h(a['onset']) ?? h(a['t']);
    else if (a['state'] === 'cleared' && open !== null) {
      windows.push([open, h(a['t']) ?? c.duration_h]);
      open = null;
    }
  }
  if (open !== null) {
    const from = open;
    windows.push([from, Math.min(c.duration_h, ...shortStarts.filter((x) => x > from))]);
  }
  return windows;
}

/** What Fig. 2 needs beyond the chart data, from the cell's summary and alerts. */
export function figure2Context(c: FigureCell): Figure2Context {
  const s = c.summary ?? {};
  const h = (iso: unknown): number | null => (typeof iso === 'string' && Number.isFinite(Date.parse(iso)) ? (Date.parse(iso) - c.t0_ms) / 3.6e6 : null);
  const softShorts = c.softShorts ?? softShortWindows(c, c.alerts ?? []);
  return {
    rRef25_ohm: typeof s['rRef25_ohm'] === 'number' ? s['rRef25_ohm'] : null,
    rRefSource: typeof s['rRefSource'] === 'string' ? s['rRefSource'] : null,
    calibratedAt_h: h(s['calibratedAt']),
    softShorts,
    notSymmetric: s['symmetric'] === false ? String(s['notSymmetricReason'] ?? 'see the alerts') : null,
  };
}

/**
 * Why a panel of a cell would be empty, in one line that stands in for it (in the page; no file is drawn for it);
 * null when it has something to draw.
 */
export function emptyPanel(c: FigureCell, kind: string): string | null {
  const has = (name: string): boolean => (c.series[name] ?? []).some((p) => p[1] > 0);
  const s = c.summary ?? {};
  const why =
    s['symmetric'] === false
      ? `not a symmetric cell (${String(s['notSymmetricReason'])})`
      : typeof s['rRef25_ohm'] !== 'number'
        ? 'no reference resistance was learned'
        : 'no sample was judged';
  if (kind === 'contactOption' && !has('contactFraction') && !has('jLocal_mA_cm2') && !has('jLocalLowerBound_mA_cm2'))
    return `No contact fraction or local current density: ${why}.`;
  if (kind === 'ratioOption' && !has('ratio')) return `No R_app / R_ref: ${why}.`;
  if (kind === 'auxOption') {
    const p = (c.series['pressure_MPa'] ?? []).length > 0;
    const t = (c.series['temperature_C'] ?? []).length > 0;
    if (!p && !t) return 'No pressure or temperature telemetry.';
  }
  if (kind === 'halfCycleOption' && c.halfCycles.length === 0) return 'No half cycles: the current never ran long enough in one direction.';
  return null;
}

/** Sans-serif fonts looked for, with their family names. */
const FONT_CANDIDATES: readonly [string, string][] = [
  ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', 'DejaVu Sans'],
  ['/usr/share/fonts/dejavu/DejaVuSans.ttf', 'DejaVu Sans'],
  ['/usr/share/fonts/TTF/DejaVuSans.ttf', 'DejaVu Sans'],
  ['/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf', 'Liberation Sans'],
  ['/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf', 'Liberation Sans'],
  ['C:\\Windows\\Fonts\\arial.ttf', 'Arial'],
  ['/System/Library/Fonts/Supplemental/Arial.ttf', 'Arial'],
  ['/Library/Fonts/Arial.ttf', 'Arial'],
];

export class FigureFontError extends Error {}

/** The font file and family the figures are drawn with. */
export function figureFont(fontFile = process.env['CYCLEWATCH_FIGURE_FONT']): { file: string; family: string } {
  if (fontFile !== undefined && fontFile !== '') {
    if (!existsSync(fontFile)) throw new FigureFontError(`the figure font ${fontFile} does not exist (CYCLEWATCH_FIGURE_FONT)`);
    const family = fontFamilyOf(readFileSync(fontFile));
    if (family === null)
      throw new FigureFontError(`${fontFile} is not a TrueType/OpenType font with a family name (CYCLEWATCH_FIGURE_FONT: give a .ttf or .otf)`);
    return { file: fontFile, family };
  }
  const found = FONT_CANDIDATES.find(([file]) => existsSync(file));
  if (found === undefined) {
    throw new FigureFontError(
      'no sans-serif font found for the figures: install one (Debian/Ubuntu: apt-get install fonts-dejavu-core) or set CYCLEWATCH_FIGURE_FONT=/path/to/font.ttf',
    );
  }
  return { file: found[0], family: found[1] };
}

/**
 * The family name (name id 1) of a single TrueType/OpenType font: every text asks for it by that name, and resvg
 * finds the file's glyphs only under it.
 */
export function fontFamilyOf(font: Buffer): string | null {
  if (font.length < 12) return null;
  const tag = font.readUInt32BE(0);
  if (tag !== 0x00010000 && tag !== 0x4f54544f /* OTTO */ && tag !== 0x74727565 /* true */) return null;
  const tables = font.readUInt16BE(4);
  for (let k = 0; k < tables; k++) {
    const at = 12 + 16 * k;
    if (at + 16 > font.length) return null;
    if (font.toString('latin1', at, at + 4) !== 'name') continue;
    const name = font.readUInt32BE(at + 8);
    if (name + 6 > font.length) return null;
    const count = font.readUInt16BE(name + 2);
    const strings = name + font.readUInt16BE(name + 4);
    let mac: string | null = null;
    for (let r = 0; r < count; r++) {
      const rec = name + 6 + 12 * r;
      if (rec + 12 > font.length) return null;
      const [platform, , , id, length, offset] = [0, 2, 4, 6, 8, 10].map((o) => font.readUInt16BE(rec + o)) as [number, number, number, number, number, number];
      if (id !== 1 || strings + offset + length > font.length) continue;
      const raw = font.subarray(strings + offset, strings + offset + length);
      // Windows and Unicode records are UTF-16BE; Macintosh ones single-byte.
      if (platform === 3 || platform === 0) return Buffer.from(raw).swap16().toString('utf16le');
      mac ??= raw.toString('latin1');
    }
    return mac;
  }
  return null;
}

/** A figure's physical size: 180 mm wide (a full page width), its height by kind. */
const WIDTH_IN = 180 / 25.4;
const CSS_PX_PER_IN = 96;

interface Figure {
  readonly name: string;
  /** Its builder in CHART_BUILDERS. */
  readonly kind: string;
  readonly height_in: number;
  readonly option: (look: ChartLook) => Record<string, unknown>;
}

function figuresOf(c: FigureCell): Figure[] {
  const all: Figure[] = [
    { name: 'voltage', kind: 'voltageOption', height_in: 3, option: (look) => voltageOption(c, false, null, false, look) },
    { name: 'voltage-abs-log', kind: 'voltageOption', height_in: 3, option: (look) => voltageOption(c, false, null, true, look) },
    { name: 'contact', kind: 'contactOption', height_in: 3, option: (look) => contactOption(c, false, look) },
    { name: 'ratio', kind: 'ratioOption', height_in: 3, option: (look) => ratioOption(c, false, look) },
    ...((c.impedance?.length ?? 0) > 0
      ? [{ name: 'resistance', kind: 'resistanceOption', height_in: 3, option: (look: ChartLook) => resistanceOption(c, false, look) }]
      : []),
    { name: 'pressure-temperature', kind: 'auxOption', height_in: 3, option: (look) => auxOption(c, false, look) },
    { name: 'half-cycles', kind: 'halfCycleOption', height_in: 4, option: (look) => halfCycleOption(c, false, look) },
  ];
  // A panel with nothing to draw is no file: the page says why in one line.
  return all.filter((f) => emptyPanel(c, f.kind) === null);
}

export interface RenderedFigure {
  readonly name: string;
  /** ECharts' SVG, text as text (for checks); `svg` has it outlined. */
  readonly svgWithText: string;
  readonly svg: string;
  readonly png: Buffer;
  readonly widthPx: number;
  readonly heightPx: number;
  /** Fig. 2's caption draft (absent for the panels). */
  readonly caption?: string;
}

type EChartsSsr = {
  init: (
    dom: null,
    theme: null,
    o: { renderer: 'svg'; ssr: true; width: number; height: number },
  ) => { setOption: (o: unknown) => void; renderToSVGString: () => string; dispose: () => void };
};

/** Every figure of a cell, rendered. */
export async function renderFigures(c: FigureCell, o: Pick<FigureOptions, 'dpi' | 'fontFile' | 'width'> = DEFAULT_FIGURE_OPTIONS): Promise<RenderedFigure[]> {
  const font = figureFont(o.fontFile);
  const echarts = (await import('echarts')) as unknown as EChartsSsr;
  const { Resvg } = (await import('@resvg/resvg-js')) as unknown as {
    Resvg: new (svg: string, o: unknown) => { render: () => { asPng: () => Buffer; width: number; height: number }; toString: () => string };
  };
  const look: ChartLook = { font: font.family, fontSize: 11 };
  const out: RenderedFigure[] = [];
  const rasterize = (svgWithText: string, width_mm: number, height_mm: number): { svg: string; png: Buffer; width: number; height: number } => {
    const resvg = new Resvg(svgWithText, {
      fitTo: { mode: 'width', value: Math.round((width_mm / 25.4) * o.dpi) },
      font: { loadSystemFonts: false, fontFiles: [font.file], defaultFontFamily: font.family, sansSerifFamily: font.family },
      background: '#fff',
    });
    const image = resvg.render();
    // The outlined SVG keeps the figure's physical size for a paper's layout.
    const svg = resvg.toString().replace(/^<svg width="[\d.]+" height="[\d.]+"/, `<svg width="${width_mm.toFixed(1)}mm" height="${height_mm.toFixed(1)}mm"`);
    return { svg, png: withPixelsPerInch(image.asPng(), o.dpi), width: image.width, height: image.height };
  };
  {
    const fig = figure2(c, o.width ?? 'double', figure2Context(c), font.family);
    const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: fig.widthPx, height: fig.heightPx });
    chart.setOption(fig.option);
    const svgWithText = chart.renderToSVGString();
    chart.dispose();
    const r = rasterize(svgWithText, fig.width_mm, (fig.heightPx / 96) * 25.4);
    out.push({ name: 'fig2', svgWithText, svg: r.svg, png: r.png, widthPx: r.width, heightPx: r.height, caption: fig.caption });
  }
  for (const f of figuresOf(c)) {
    const width = Math.round(WIDTH_IN * CSS_PX_PER_IN);
    const height = Math.round(f.height_in * CSS_PX_PER_IN);
    const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
    const option = f.option(look);
    // ECharts estimates text widths in Node, narrower than the font resvg draws: legend items need room.
    if (option['legend'] !== undefined) option['legend'] = { ...(option['legend'] as object), itemGap: 24 };
    chart.setOption({ backgroundColor: '#fff', ...option });
    const svgWithText = chart.renderToSVGString();
    chart.dispose();
    const r = rasterize(svgWithText, WIDTH_IN * 25.4, f.height_in * 25.4);
    out.push({ name: f.name, svgWithText, svg: r.svg, png: r.png, widthPx: r.width, heightPx: r.height });
  }
  return out;
}

/** Writes `<base>.<figure>.<ext>` for each figure and format; returns the paths. */
export async function writeFigures(c: FigureCell, base: string, o: FigureOptions = DEFAULT_FIGURE_OPTIONS): Promise<string[]> {
  const paths: string[] = [];
  for (const f of await renderFigures(c, o)) {
    if (f.caption !== undefined) {
      await writeFile(`${base}.${f.name}.txt`, f.caption);
      paths.push(`${base}.${f.name}.txt`);
    }
    for (const format of o.formats) {
      const path = `${base}.${f.name}.${format}`;
      await writeFile(path, format === 'png' ? f.png : f.svg);
      paths.push(path);
    }
  }
  return paths;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A PNG with a `pHYs` chunk after its header: the resolution a layout program reads. */
export function withPixelsPerInch(png: Buffer, dpi: number): Buffer {
  const ppm = Math.round(dpi / 0.0254);
  const chunk = Buffer.alloc(4 + 4 + 9 + 4);
  chunk.writeUInt32BE(9, 0);
  chunk.write('pHYs', 4, 'latin1');
  chunk.writeUInt32BE(ppm, 8);
  chunk.writeUInt32BE(ppm, 12);
  chunk[16] = 1; // metre
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 17)), 17);
  // Signature (8) + IHDR (4 + 4 + 13 + 4).
  const at = 33;
  return Buffer.concat([png.subarray(0, at), chunk, png.subarray(at)]);
}

/** Pixels per inch of a PNG (from `pHYs`), or null. */
export function pngPixelsPerInch(png: Buffer): number | null {
  let at = 8;
  while (at + 8 <= png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    if (type === 'pHYs' && png[at + 16] === 1) return Math.round(png.readUInt32BE(at + 8) * 0.0254);
    if (type === 'IDAT') return null;
    at += 12 + length;
  }
  return null;
}
