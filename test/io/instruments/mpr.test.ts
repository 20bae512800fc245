/**
 * The `.mpr` reader against ground truth: each real binary file and the `.mpt` text export EC-Lab (or BT-Lab) made
 * of the same run. Every column both hold is compared row by row: stored float32 values to float32 precision,
 * float64 values to the export's 16 digits, times to the export's precision plus 1 µs; flags and counters exactly.
 */
import { existsSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../../pipelines/analyze.js';
import { assumedCell } from '../../../src/domain/cell.js';
import type { Sample } from '../../../src/domain/sample.js';
import { openTelemetry } from '../../../src/io/instruments/importers.js';
import { RejectionLog } from '../../../src/io/instruments/rejections.js';
import { writeMpr, writeMpt } from '../../../src/sim/ecLab.js';
import { openMpr, readMprRows, type MprFile } from '../../../src/io/instruments/mpr.js';
import type { AlertEvent } from '../../../src/domain/events.js';
import type { ImpedanceBlock } from '../../../src/domain/impedance.js';

// The real files are GPL/CeCILL data held beside the repository (../shared), not in it: without them these tests
// are skipped, and say so.
const real = join(__dirname, '../../../../shared/data/real');
const haveReal = existsSync(join(real, 'mpr'));
const TWINS: [string, string][] = [
  ...['bcd.issue_241', 'mb.issue_149', 'HAC_NH3_01_02_GCPL_C04', 'ocv', 'peis', 'ca', 'cv'].map((s): [string, string] => [`mpr/${s}.mpr`, `mpr/${s}.mpt`]),
  ['mpr/gcpl.issue_211.mpr', 'gcpl.issue_211.mpt'],
  ['mpr/gcpl.pr_182.1.mpr', 'gcpl.pr_182.1.mpt'],
  ['mb.mpr', 'mb.mpt'],
];

interface MptTable {
  readonly names: string[];
  readonly rows: string[][];
  readonly start_ms: number | undefined;
  readonly absoluteTime: boolean;
}

function readMptTable(path: string): MptTable {
  const text = readFileSync(path, 'latin1');
  const lines = text.split(/\r?\n/);
  const m = /Nb header lines\s*:\s*(\d+)/.exec(text);
  const headerLines = m ? Number(m[1]) : 1;
  const names = lines[headerLines - 1]!.split('\t').map((s) => s.trim());
  const rows = lines
    .slice(headerLines)
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
  const s = /Acquisition started on : (\d\d)\/(\d\d)\/(\d{4}) (\d\d):(\d\d):(\d\d(?:\.\d+)?)/.exec(text);
  const start_ms = s ? Date.UTC(+s[3]!, +s[1]! - 1, +s[2]!, +s[4]!, +s[5]!, 0) + Math.round(parseFloat(s[6]!) * 1000) : undefined;
  return { names, rows, start_ms, absoluteTime: /Time format : Absolute/.test(text) };
}

const num = (s: string): number => +s.replace(',', '.');
/** `MM/DD/YYYY HH:MM:SS.ffff` → epoch ms (read as UTC, like the acquisition start). */
const absolute_ms = (s: string): number => {
  const m = /(\d\d)\/(\d\d)\/(\d{4}) (\d\d):(\d\d):(\d\d(?:\.\d+)?)/.exec(s)!;
  return Date.UTC(+m[3]!, +m[1]! - 1, +m[2]!, +m[4]!, +m[5]!, 0) + parseFloat(m[6]!) * 1000;
};
/** Half a unit of the last printed digit. */
const printedHalfUnit = (s: string): number => {
  const m = /^-?\d+[.,]?(\d*)(?:E([+-]\d+))?$/i.exec(s.trim());
  if (m === null) return 0;
  return 0.5 * 10 ** (-(m[1]?.length ?? 0) + (m[2] === undefined ? 0 : Number(m[2])));
};

async function allRows(file: MprFile): Promise<Float64Array[]> {
  const out = file.columns.map(() => [] as number[]);
  for await (const block of readMprRows(file, file.columns, 0, 500)) block.values.forEach((v, c) => out[c]!.push(...v));
  return out.map((v) => Float64Array.from(v));
}

describe.skipIf(!haveReal)('EC-Lab .mpr reader against the .mpt export of the same run (../shared/data/real)', () => {
  for (const [mprName, mptName] of TWINS) {
    it(`${mprName}: every shared column equal row by row, and the same acquisition start`, async () => {
      const file = await openMpr(join(real, mprName));
      const mpt = readMptTable(join(real, mptName));
      expect(file.rows).toBe(file.points);
      expect(file.rows).toBe(mpt.rows.length);
      const values = await allRows(file);
      let compared = 0;
      for (let c = 0; c < file.columns.length; c++) {
        const col = file.columns[c]!;
        const k = [col.name, ...col.aliases].map((n) => mpt.names.indexOf(n)).find((i) => i >= 0);
        if (k === undefined) continue;
        compared++;
        for (let r = 0; r < file.rows; r++) {
          const text: string = mpt.rows[r]![k] ?? '';
          const got = values[c]![r]!;
          if (col.name === 'time/s' && mpt.absoluteTime) {
            expect(Math.abs(mpt.start_ms! + got * 1000 - absolute_ms(text)), `${col.name} row ${r}`).toBeLessThanOrEqual(0.05 + 1e-3);
            continue;
          }
          const want = num(text);
          const tol =
            col.name === 'time/s'
              ? printedHalfUnit(text) + 1e-6
              : col.type === 'f4'
                ? Math.abs(want) * 1.2e-7 + 1e-38
                : col.type === 'f8'
                  ? Math.max(printedHalfUnit(text), Math.abs(want) * 1e-15)
                  : 0;
          if (Math.abs(got - want) > tol) expect.fail(`${mprName} ${col.name} row ${r + 1}: .mpr ${got}, .mpt ${text} (tolerance ${tol})`);
        }
      }
      const names = file.columns.map((c) => c.name);
      expect(names).toContain('time/s');
      // Every stored column has its twin in the export (by name or an older/newer EC-Lab name).
      expect(compared).toBe(file.columns.length);
      if (file.startLocal_ms !== undefined || mpt.start_ms !== undefined) expect(Math.abs(file.startLocal_ms! - mpt.start_ms!)).toBeLessThan(1);
    });
  }

  it('refuses a file that is not an .mpr, an unknown column id, and a truncated header with one clear line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-mpr-'));
    const good = readFileSync(join(real, 'mpr/ocv.mpr'));
    const notMpr = join(dir, 'not.mpr');
    writeFileSync(notMpr, 'EC-Lab ASCII FILE\n');
    await expect(openMpr(notMpr)).rejects.toThrow(/not a readable EC-Lab \.mpr file: no "BIO-LOGIC MODULAR FILE" magic/);
    // ocv.mpr's column ids are 1, 3, 4, 6 from byte 5 of its data module. Unknown ids whose widths cannot be told
    // apart (a known column after two unknown ones) refuse the file, naming them.
    const unknown = Buffer.from(good);
    const dataAt = unknown.indexOf('VMP data') + 10 + 25 + 4 + 4 + 8;
    unknown.writeUInt16LE(998, dataAt + 5 + 0);
    unknown.writeUInt16LE(999, dataAt + 5 + 4);
    writeFileSync(join(dir, 'unknown.mpr'), unknown);
    await expect(openMpr(join(dir, 'unknown.mpr'))).rejects.toThrow(
      /column ids 998 \(column 1 of 4\), 999 \(column 3 of 4\) are not known and their widths cannot be told apart/,
    );
    writeFileSync(join(dir, 'cut.mpr'), good.subarray(0, 80));
    await expect(openMpr(join(dir, 'cut.mpr'))).rejects.toThrow(/no module header at byte 52|no data module/);
  });
});

describe.skipIf(!haveReal)('an .mpr column a newer EC-Lab added (../shared/data/real)', () => {
  it('is skipped with one note naming its id, its width taken from the data module, and every other column read as before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-mpr-new-'));
    const original = join(real, 'mpr/gcpl.issue_211.mpr');
    const before = await openMpr(original);
    // Make a column none of the samples need unknown: Ece/V (id 9, float32), column 13 of 18, or (Q-Qo)/mA.h (id
    // 13, float64), column 10; the ids are u16s from byte 6 of a version-0 data module.
    for (const [id, bytes] of [
      [9, 4],
      [13, 8],
    ] as const) {
      const k = before.columns.findIndex((c) => c.id === id); // every id is a column, the flags' included
      const buf = Buffer.from(readFileSync(original));
      const dataAt = before.modules.find((m) => m.name === 'VMP data')!.at;
      expect(buf.readUInt16LE(dataAt + 6 + 2 * k)).toBe(id);
      buf.writeUInt16LE(880, dataAt + 6 + 2 * k);
      const patched = join(dir, `new-${id}.mpr`);
      writeFileSync(patched, buf);
      const file = await openMpr(patched);
      expect(file.skipped).toEqual([{ id: 880, position: k + 1, bytes }]);
      expect(file.rowBytes).toBe(before.rowBytes);
      expect(file.columns.map((c) => [c.id, c.offset])).toEqual(before.columns.filter((c) => c.id !== id).map((c) => [c.id, c.offset]));
      const notes: string[] = [];
      const read = async (f: string, onNote?: (m: string) => void) => {
        const t = await openTelemetry(f, new RejectionLog(), { timeZone: 'UTC', ...(onNote ? { onNote } : {}) });
        const out: Sample[] = [];
        for await (const b of t.batches) out.push(...b);
        return out;
      };
      const samples = await read(patched, (m) => notes.push(m));
      expect(samples.map((x) => ({ ...x, cell: '' }))).toEqual((await read(original)).map((x) => ({ ...x, cell: '' })));
      expect(samples.length).toBe(2767);
      expect(notes.filter((m) => /column id 880 \(column \d+ of 18\) not known to this version: skipped \(\d bytes a row/.test(m))).toHaveLength(1);
    }
  });
});

describe.skipIf(!haveReal)('.mpr in analyze (../shared/data/real)', () => {
  it('takes area, compliance, technique and channel from the header when the registry is silent, and says so', async () => {
    const r = await analyze({ files: [join(real, 'mpr/gcpl.pr_182.1.mpr')] });
    expect(r.summaries[0]!.configSources).toEqual({ areaCm2: 'header', complianceV: 'default', timeZone: 'machine' }); // no LOG module
    const g = await analyze({ files: [join(real, 'mpr/gcpl.issue_211.mpr')], timeZone: 'Europe/Paris' });
    expect(g.summaries[0]!.configSources).toEqual({ areaCm2: 'default', complianceV: 'header', timeZone: 'option' }); // area left at 0.001
    expect(g.summaries[0]!.timeZone).toBe('Europe/Paris');
    expect(g.summaries[0]!.instrument).toEqual({
      file: 'gcpl.issue_211.mpr',
      technique: 'Galvanostatic Cycling with Potential Limitation',
      channel: '8 (SN 21637)',
    });
    const m = await analyze({ files: [join(real, 'mb.mpt')] });
    expect(m.summaries[0]!.configSources).toEqual({ areaCm2: 'header', complianceV: 'header', timeZone: 'machine' });
    expect(m.summaries[0]).toMatchObject({ areaCm2: 0.5, complianceV: 10 }); // "Electrode surface area : 0.500", "±10.00 V"
    expect(g.summaries[0]).toMatchObject({ complianceV: 2.5 }); // "Ewe ctrl range : min = -2.50 V, max = 2.50 V"
    expect(m.summaries[0]!.instrument?.channel).toBe('5 (SN 24889)');
    // The registry wins over the header.
    const withRegistry = await analyze({ files: [join(real, 'mb.mpr')], registry: new Map([['mb', assumedCell('mb', { areaCm2: 0.8 })]]) });
    expect(withRegistry.summaries[0]!.configSources).toEqual({ areaCm2: 'registry', complianceV: 'registry', timeZone: 'machine' });
    expect(withRegistry.summaries[0]).toMatchObject({ areaCm2: 0.8, complianceV: 8 });
  });

  // gcpl.pr_182.1.mpt is a header-less export: only its .mpr says the electrode area (1.767 cm²), so both runs are
  // given that area here to compare like with like (the header's own use is checked below).
  for (const [stem, assumed] of [
    ['gcpl.issue_211', undefined],
    ['gcpl.pr_182.1', { areaCm2: 1.767 }],
  ] as const) {
    it(`${stem}.mpr gives the same events.jsonl, segments.jsonl and summary.json as its .mpt export`, async () => {
      const out = mkdtempSync(join(tmpdir(), `cw-twin-${stem}-`));
      const fromMpr = await analyze({ files: [join(real, `mpr/${stem}.mpr`)], outDir: join(out, 'mpr'), assumed });
      const fromMpt = await analyze({ files: [join(real, `${stem}.mpt`)], outDir: join(out, 'mpt'), assumed });
      expect(fromMpr.samples).toBe(fromMpt.samples);
      expect(fromMpr.samples).toBeGreaterThan(2000);
      // The outputs, as written (values rounded as they are for every file): the float32 values of the .mpr and the
      // 8 printed digits of the export give the same text.
      for (const f of ['events.jsonl', 'segments.jsonl']) expect(readFileSync(join(out, 'mpr', f), 'utf8')).toBe(readFileSync(join(out, 'mpt', f), 'utf8'));
      const summary = (d: string): unknown => {
        const all = JSON.parse(readFileSync(join(out, d, 'summary.json'), 'utf8')) as Record<string, unknown>;
        delete all['files']; // the input's own path
        // The file's own description differs (a header-less export names no technique); the analysis must not.
        // A header-less export has no protocol table either: compared where both files state one.
        for (const cell of Object.values(all['cells'] as Record<string, { instrument?: unknown; protocol?: unknown }>)) {
          delete cell.instrument;
          if (stem === 'gcpl.pr_182.1') delete cell.protocol;
        }
        return all;
      };
      expect(summary('mpr')).toEqual(summary('mpt'));
      expect(readFileSync(join(out, 'mpr', 'events.jsonl'), 'utf8')).toMatch(/not a symmetric cell/);
    });
  }

  it('keeps the impedance spectra inside a run: the same spectra and intercepts from the .mpr and its .mpt', async () => {
    const spectra = async (file: string): Promise<{ blocks: ImpedanceBlock[]; points: number }> => {
      const r = await analyze({ files: [join(real, file)] });
      return { blocks: r.impedanceBlocks, points: r.impedancePoints.length };
    };
    // mb: Li | LLZO, 8 spectra of 70 points from 1 MHz to 0.1 Hz between the half cycles.
    const mb = await spectra('mb.mpr');
    expect(mb.blocks.map((b) => b.points)).toEqual(Array(8).fill(70));
    expect(mb.points).toBe(560);
    const mbText = await spectra('mb.mpt');
    expect(mbText.blocks.map((b) => [b.start_ms, b.method])).toEqual(mb.blocks.map((b) => [b.start_ms, b.method]));
    mb.blocks.forEach((b, k) => expect(b.rHf_Ohm!).toBeCloseTo(mbText.blocks[k]!.rHf_Ohm!, 2));
    // The bulk arc of LLZO lies above 1 MHz: the intercept is the valley before the interface arc, below the DC
    // resistance the detector calibrated (R_ref 1.34 kΩ) and well above 0.
    for (const b of mb.blocks) {
      expect(b.method).toBe('arc-minimum');
      expect(b.rHf_Ohm!).toBeGreaterThan(900);
      expect(b.rHf_Ohm!).toBeLessThan(1100);
    }
    // A liquid cell with cable inductance: −Im(Z) crosses zero; the intercept lies between the two bracketing rows.
    const peis = await spectra('mpr/peis.mpr');
    expect(peis.blocks).toHaveLength(1);
    expect(peis.blocks[0]!.method).toBe('zero-crossing');
    const t = readMptTable(join(real, 'mpr/peis.mpt'));
    const [re, im] = ['Re(Z)/Ohm', '-Im(Z)/Ohm'].map((n) => t.names.indexOf(n));
    const rows = t.rows.map((r) => [Number(r[re!]), Number(r[im!])] as const);
    const k = rows.findIndex((r, i) => i > 0 && rows[i - 1]![1] <= 0 && r[1] > 0);
    expect(k).toBeGreaterThan(0);
    const [lo, hi] = [rows[k - 1]![0], rows[k]![0]].sort((a, b) => a - b);
    expect(peis.blocks[0]!.rHf_Ohm!).toBeGreaterThanOrEqual(lo!);
    expect(peis.blocks[0]!.rHf_Ohm!).toBeLessThanOrEqual(hi!);
    // Modulo Bat loops: one spectrum per loop, 13 points each, the same from both files.
    const loop = await spectra('mpr/mb.issue_149.mpr');
    const loopText = await spectra('mpr/mb.issue_149.mpt');
    expect(loop.blocks.length).toBeGreaterThan(10);
    expect(loop.blocks.map((b) => b.points)).toEqual(Array(loop.blocks.length).fill(13));
    expect(loopText.blocks.map((b) => [b.block, b.points, b.start_ms])).toEqual(loop.blocks.map((b) => [b.block, b.points, b.start_ms]));
  });

  it('writes the spectra beside the analysis and their summary into summary.json', async () => {
    const out = mkdtempSync(join(tmpdir(), 'cw-eis-'));
    await analyze({ files: [join(real, 'mb.mpr')], outDir: out });
    const blocks = readFileSync(join(out, 'impedance.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(blocks).toHaveLength(8);
    expect(blocks[0]).toMatchObject({ type: 'impedance', cell: 'mb', block: 0, points: 70, method: 'arc-minimum' });
    const csv = readFileSync(join(out, 'impedance.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('timestamp,cell,block,freq_Hz,ReZ_Ohm,minusImZ_Ohm');
    expect(csv).toHaveLength(561);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { cells: Record<string, { impedance: Record<string, number> }> };
    expect(summary.cells['mb']!.impedance).toMatchObject({ blocks: 8, rHfFirst_Ohm: blocks[0]!['rHf_Ohm'], rHfLast_Ohm: blocks[7]!['rHf_Ohm'] });
    // A cycling file without impedance writes no impedance files.
    const plain = mkdtempSync(join(tmpdir(), 'cw-eis-none-'));
    await analyze({ files: [join(real, 'mpr/gcpl.issue_211.mpr')], outDir: plain });
    expect(existsSync(join(plain, 'impedance.jsonl'))).toBe(false);
  });

  it('reads the programmed GCPL protocol from the .mpr settings as the .mpt header states it', async () => {
    // From each header: set current (a C-rate × the battery capacity where "Set I/C" says so), t1, EM.
    const want = {
      'gcpl.issue_211': [
        [0, 0, 0],
        [0.068, 4200, 0.5],
        [-0.068, 4200, -0.6],
      ],
      HAC_NH3_01_02_GCPL_C04: [
        [0, 0, 0],
        [0.3, 14400, 2.2],
        [-0.3, 36000, 0.9],
      ],
    };
    for (const [stem, steps] of Object.entries(want)) {
      const mpt = stem === 'gcpl.issue_211' ? `${stem}.mpt` : `mpr/${stem}.mpt`;
      for (const f of [`mpr/${stem}.mpr`, mpt]) {
        const file = await openTelemetry(join(real, f), new RejectionLog(() => {}));
        const got = file.metadata.protocol?.steps.map((s) => [s.current_mA, s.duration_s, s.voltageLimit_V]);
        expect(got, f).toEqual(steps);
        await file.batches.return(undefined);
      }
    }
    // The header-less export has no table; its .mpr does (C/10 of 2.217 mA·h, 35 h limits), in the older layout.
    const pr = await openTelemetry(join(real, 'mpr/gcpl.pr_182.1.mpr'), new RejectionLog(() => {}));
    expect(pr.metadata.protocol?.steps.map((s) => [s.current_mA, s.duration_s, s.setBy])).toEqual([
      [0, 0, 'I'],
      [-0.2217, 126000, 'C / N (N = 10)'],
      [0.2217, 126000, 'C / N (N = 10)'],
    ]);
    // Not GCPL: no protocol rather than a wrong one.
    for (const f of ['mb.mpr', 'mb.mpt', 'mpr/bcd.issue_241.mpr', 'mpr/peis.mpr', 'mpr/ocv.mpt']) {
      expect((await openTelemetry(join(real, f), new RejectionLog(() => {}))).metadata.protocol, f).toBeUndefined();
    }
  });

  it('warns at the start of the run when the programmed half cycle exceeds t_max, and reports the protocol', async () => {
    const small = assumedCell('gcpl.pr_182.1', { areaCm2: 0.01, metal: 'Na', electrolyte: 'solid' });
    const r = await analyze({ files: [join(real, 'mpr/gcpl.pr_182.1.mpr')], registry: new Map([['gcpl.pr_182.1', small]]) });
    const alerts = r.events.filter((e): e is AlertEvent => e.type === 'alert' && e.code === 'protocol-exceeds-tmax');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.t_ms).toBe(Date.parse(r.summaries[0]!.start!));
    expect(alerts[0]!.message).toMatch(/sequences 1, 2 run up to 2100\.0 min at 22\.2 mA\/cm², longer than t_max = 2\.4 min/);
    expect(r.summaries[0]!.protocol?.steps[1]).toMatchObject({ currentDensity_mA_cm2: 22.17, exceedsTMax: true });
    // The header's own area (1.767 cm²): 0.125 mA/cm², t_max ≈ 1200 h, no warning.
    const own = await analyze({ files: [join(real, 'mpr/gcpl.pr_182.1.mpr')], assumed: { metal: 'Na', electrolyte: 'solid' } });
    expect(own.events.some((e) => e.type === 'alert' && e.code === 'protocol-exceeds-tmax')).toBe(false);
    expect(own.summaries[0]!.protocol?.steps[1]!.tMax_s).toBeGreaterThan(1000 * 3600);
  });

  it('a half cell (a battery discharged, then charged) makes no call before a reversal tells it from reversed leads', async () => {
    const r = await analyze({ files: [join(real, 'mpr/bcd.issue_241.mpr')] });
    const s = r.summaries[0]!;
    expect(s.symmetric).toBe(false);
    const raised = r.events.filter((e): e is AlertEvent => e.type === 'alert' && e.state === 'raised').map((e) => e.code);
    expect(raised.filter((c) => c !== 'no-temperature')).toEqual(['not-symmetric']);
    expect(r.events.filter((e) => e.type === 'regime' && (e as { regime: string }).regime !== 'learning')).toEqual([]);
    expect([s.shortCount, s.softShortCount, s.minContactFraction]).toEqual([0, 0, null]);
  });

  it('refuses a truncated file with one line that says how much is there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-mpr-cut-'));
    const good = readFileSync(join(real, 'mpr/gcpl.issue_211.mpr'));
    const path = join(dir, 'cut.mpr');
    writeFileSync(path, good.subarray(0, 100_000));
    await expect(analyze({ files: [path] })).rejects.toThrow(/the file is truncated: \d+ of the 2767 points it announces are present/);
  });

  it('never crashes or hangs on truncated or bit-flipped files: a clear ImportError or samples', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-mpr-fuzz-'));
    const sources = ['mpr/ocv.mpr', 'mpr/peis.mpr', 'mpr/mb.issue_149.mpr', 'mpr/gcpl.issue_211.mpr'].map((f) => readFileSync(join(real, f)));
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let refused = 0;
    let read = 0;
    for (let k = 0; k < 150; k++) {
      const src = sources[k % sources.length]!;
      const bytes = Buffer.from(k % 2 === 0 ? src.subarray(0, Math.floor(random() * src.length)) : src);
      if (k % 2 === 1) for (let f = 0; f < 1 + Math.floor(random() * 8); f++) bytes[Math.floor(random() * bytes.length)]! ^= 1 << Math.floor(random() * 8);
      const path = join(dir, `f${k}.mpr`);
      writeFileSync(path, bytes);
      try {
        const r = await analyze({ files: [path], format: 'mpr', import: { setCurrent_mA: 1 } });
        expect(r.samples).toBeGreaterThanOrEqual(0);
        read++;
      } catch (e) {
        expect((e as Error).name).toBe('ImportError');
        expect((e as Error).message).not.toMatch(/\n/);
        refused++;
      }
    }
    expect(refused + read).toBe(150);
    expect(refused).toBeGreaterThan(10);
  }, 120_000);
});

describe('simulated EC-Lab files', () => {
  it('a written .mpr and its .mpt export read back as the same samples, with the header values', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-eclab-'));
    const run = { start_ms: Date.UTC(2026, 4, 1, 9, 30, 0, 250), areaCm2: 0.785, limit_V: 5, channel: 2 };
    const rows = Array.from({ length: 20_000 }, (_, k) => ({ t_s: k * 0.5, voltage_V: 0.07 * Math.sin(k / 900), current_mA: k % 7200 < 3600 ? 2 : -2 }));
    await writeMpr(join(dir, 'run.mpr'), run, rows);
    await writeMpt(join(dir, 'run.mpt'), run, rows);
    const read = async (f: string) => {
      // The simulated instrument's PC keeps UTC.
      const file = await openTelemetry(join(dir, f), new RejectionLog(), { timeZone: 'UTC' });
      const out: Sample[] = [];
      for await (const b of file.batches) out.push(...b);
      return { samples: out, metadata: file.metadata };
    };
    const mpr = await read('run.mpr');
    const mpt = await read('run.mpt');
    expect(mpr.samples).toHaveLength(20_000);
    expect(mpt.samples).toHaveLength(20_000);
    // The text export prints 8 digits of each float32 value: equal to float32 precision, times to the microsecond.
    let worst = 0;
    mpr.samples.forEach((s, k) => {
      const t = mpt.samples[k]!;
      if (s.cell !== t.cell || Math.abs(s.t_ms - t.t_ms) > 1e-3 || s.current_mA !== t.current_mA)
        expect.fail(`row ${k}: ${JSON.stringify(s)} vs ${JSON.stringify(t)}`);
      worst = Math.max(worst, Math.abs(s.voltage_V! - t.voltage_V!) / Math.max(1e-30, Math.abs(t.voltage_V!)));
    });
    expect(worst).toBeLessThan(1.2e-7);
    expect(mpr.samples[1]!.t_ms).toBe(run.start_ms + 500);
    expect(mpr.metadata).toEqual({
      areaCm2: 0.785,
      complianceV: 5,
      technique: 'Galvanostatic Cycling with Potential Limitation',
      channel: '3 (SN 0)',
      start_ms: run.start_ms,
      timeZone: 'UTC',
    });
    expect(mpt.metadata).toMatchObject({ areaCm2: 0.785, complianceV: 5, channel: '3 (SN 1)', start_ms: run.start_ms });
  });
});
