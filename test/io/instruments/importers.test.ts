import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../../../pipelines/analyze.js';
import { parseRegistry } from '../../../src/config/registry.js';
import { openTelemetry } from '../../../src/io/instruments/importers.js';
import { ImportError, RejectionLog } from '../../../src/io/instruments/rejections.js';
import { parseTimestamp_ms, timestampOf } from '../../../src/io/wire/timestamp.js';
import { iso, type Sample } from '../../../src/domain/sample.js';

const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string | Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

async function readAll(path: string, options = {}): Promise<{ samples: Sample[]; rejections: RejectionLog; format: string }> {
  const rejections = new RejectionLog();
  const f = await openTelemetry(path, rejections, options);
  const samples: Sample[] = [];
  for await (const b of f.batches) samples.push(...b);
  return { samples, rejections, format: f.format };
}

describe('timestamps', () => {
  it('parses ISO-8601 forms and epoch milliseconds like Date.parse', () => {
    for (const t of [
      '2026-11-25T10:00:00.000Z',
      '2026-11-25T10:00:00Z',
      '2026-11-25T23:59:59.5Z',
      '2026-11-25T10:00:00.123456Z',
      '2026-11-25T11:00:00+01:00',
    ]) {
      expect(parseTimestamp_ms(t)).toBe(Date.parse(t.replace('.123456', '.123')));
    }
    expect(parseTimestamp_ms('1764064800000')).toBe(1764064800000);
    expect(parseTimestamp_ms('2026-13-45T99:00:00Z')).toBeNaN();
    expect(parseTimestamp_ms('yesterday')).toBeNaN();
  });

  it('refuses times no Date can hold and days that do not exist, so nothing downstream can throw on them', () => {
    for (const t of ['9999999999999999', '2026-02-30T00:00:00Z', '2026-02-30T00:00:00.000Z', '2025-02-29T12:00:00+01:00', '+275760-09-13T00:00:00.001Z']) {
      expect(parseTimestamp_ms(t)).toBeNaN();
    }
    expect(timestampOf(1e20)).toBeNaN();
    expect(timestampOf(-8.64e15 - 1)).toBeNaN();
    expect(timestampOf(8.64e15)).toBe(8.64e15);
    expect(parseTimestamp_ms('2024-02-29T00:00:00Z')).toBe(Date.parse('2024-02-29T00:00:00Z'));
    expect(iso(1e20)).toMatch(/not a valid time/);
  });
});

describe('canonical CSV', () => {
  it('counts bad rows with their line numbers and keeps every good row around them', async () => {
    const path = file(
      'bad.csv',
      [
        'timestamp,cell,voltage_V,current_mA,pressure_MPa,temperature_C',
        '2026-01-01T00:00:00Z,c1,0.07,2,9,23',
        '2026-01-01T00:00:01Z,c1,abc,2,,',
        'not-a-time,c1,0.07,2,,',
        '2026-01-01T00:00:02Z,c1,0.071,2,,',
        '2026-01-01T00:00:03Z,c1,,,,',
        '2026-01-01T00:00:04Z,c2,0.5,-2,,24.5',
        '',
      ].join('\r\n'),
    );
    const { samples, rejections } = await readAll(path);
    expect(samples.map((s) => [s.cell, s.voltage_V])).toEqual([
      ['c1', 0.07],
      ['c1', 0.071],
      ['c2', 0.5],
    ]);
    expect(samples[2]!.temperature_C).toBe(24.5);
    expect(samples[1]!.pressure_MPa).toBeUndefined();
    expect(rejections.examples.map((r) => [r.line, r.reason])).toEqual([
      [3, 'bad-number'],
      [4, 'bad-timestamp'],
      [6, 'no-quantity'],
    ]);
  });

  it('reads UTF-8 cell names across chunk boundaries', async () => {
    const rows = ['timestamp,cell,voltage_V,current_mA,pressure_MPa,temperature_C'];
    for (let k = 0; k < 40_000; k++) rows.push(`${new Date(k * 1000).toISOString()},zelle-ä,0.07,2,,`);
    const { samples } = await readAll(file('utf8.csv', rows.join('\n')));
    expect(samples).toHaveLength(40_000);
    expect(new Set(samples.map((s) => s.cell))).toEqual(new Set(['zelle-ä']));
  });

  it('fails with a clear error on an unreadable file, an unknown format or a .mpr that is not one', async () => {
    await expect(readAll(join(dir, 'missing.csv'))).rejects.toThrow(/missing.csv: cannot read the file \(ENOENT\)/);
    await expect(readAll(file('x.dat', 'hello world\n'))).rejects.toThrow(/unknown format/);
    await expect(readAll(file('x.mpr', Buffer.from([0x42, 0x49, 0x4f, 0x00, 0x01])))).rejects.toThrow(
      /not a readable EC-Lab \.mpr file: no "BIO-LOGIC MODULAR FILE" magic/,
    );
    await expect(readAll(file('nots.csv', 'foo,bar\n1,2\n'))).rejects.toBeInstanceOf(ImportError);
  });

  it('reads a numeric time/time_s column as seconds since --start, never as epoch milliseconds', async () => {
    const start_ms = Date.UTC(2026, 2, 1, 8);
    for (const name of ['time', 'time_s']) {
      const path = file(`secs-${name}.csv`, `${name},cell,voltage_V,current_mA\n0,c1,0.07,2\n10,c1,0.071,2\n20.5,c1,0.072,2\n`);
      const { samples } = await readAll(path, { start_ms });
      expect(samples.map((s) => s.t_ms - start_ms)).toEqual([0, 10_000, 20_500]);
    }
    // Seconds beyond what a Date can hold are a bad timestamp, like any other impossible time.
    const far = await readAll(file('secs-far.csv', 'time_s,cell,voltage_V,current_mA\n0,c1,0.07,2\n1e20,c1,0.07,2\n'), { start_ms });
    expect(far.samples).toHaveLength(1);
    expect(Object.fromEntries(far.rejections.counts)).toEqual({ 'bad-timestamp': 1 });
    // Epoch milliseconds stay what they are in a timestamp column.
    const { samples } = await readAll(file('ms.csv', `timestamp,cell,voltage_V,current_mA\n${start_ms},c1,0.07,2\n`));
    expect(samples[0]!.t_ms).toBe(start_ms);
  });
});

describe('JSON Lines of MQTT messages', () => {
  it('decodes topic/payload captures, counts malformed lines and wrong types', async () => {
    const path = file(
      'cap.jsonl',
      [
        JSON.stringify({ topic: 'cells/c1/ec', payload: { t: '2026-01-01T00:00:00Z', voltage_V: 0.07, current_mA: 2 } }),
        JSON.stringify({ topic: 'cells/c1/pressure', payload: JSON.stringify({ t: 1767225601000, pressure_MPa: 9.1 }) }),
        '{not json',
        JSON.stringify({ topic: 'cells/c1/ec', payload: { t: '2026-01-01T00:00:02Z', voltage_V: '0.07', current_mA: 2 } }),
        JSON.stringify({ topic: 'cells/c1/temperature', payload: { t: '2026-01-01T00:00:03Z', temperature_C: 23.4 } }),
        JSON.stringify({ topic: 'other/c1/ec', payload: {} }),
      ].join('\n'),
    );
    const { samples, rejections, format } = await readAll(path);
    expect(format).toBe('jsonl');
    expect(samples.map((s) => [s.t_ms, s.voltage_V ?? s.pressure_MPa ?? s.temperature_C])).toEqual([
      [1767225600000, 0.07],
      [1767225601000, 9.1],
      [1767225603000, 23.4],
    ]);
    expect(Object.fromEntries(rejections.counts)).toEqual({ malformed: 1, 'bad-number': 1, 'unknown-topic': 1 });
  });
});

const shared = resolve(__dirname, '../../../../shared/data/real');
const fixture = resolve(__dirname, '../../fixtures/real/jr862_11_08_23_insitu-impedance-LiLi_1MLiTFSI_TEGDME-1mA_03_GCPL_C05.txt');

describe('BioLogic EC-Lab exports (real files)', () => {
  it('reads the two-column Li|Li export (no current column) with the set current, all 76,807 rows', async () => {
    await expect(readAll(fixture)).rejects.toThrow(/no current column.*--set-current-mA/);
    const { samples, rejections, format } = await readAll(fixture, { setCurrent_mA: 0.4 });
    expect(format).toBe('mpt');
    expect(rejections.total).toBe(0);
    expect(samples).toHaveLength(76_807);
    expect(samples[0]!.t_ms).toBeCloseTo(907.6301776229229 * 1000, 6);
    expect(Math.max(...samples.map((s) => s.voltage_V!))).toBeCloseTo(0.663, 3);
  });

  it('finds the soft short of the Li|Li cell where the data show it (voltage falling from ~23 h), and no stable after it', async () => {
    const r = await analyze({ files: [fixture], import: { setCurrent_mA: 0.4 } });
    const s = r.summaries[0]!;
    // Every row analysed: points microseconds apart keep their own times.
    expect(s.samples).toBe(76_807);
    expect(s.rRefSource).toBe('calibrated');
    const start = Date.parse(s.start!);
    const hours = (t: number): number => (t - start) / 3.6e6;
    const soft = r.events.find((e) => e.type === 'alert' && e.code === 'soft-short' && e.state === 'raised');
    const short = r.events.find((e) => e.type === 'regime' && e.regime === 'short');
    const firstOnset = Math.min(...[soft, short].filter((e) => e !== undefined).map((e) => (e as { onset_ms: number }).onset_ms));
    expect(hours(firstOnset)).toBeGreaterThan(23.0);
    expect(hours(firstOnset)).toBeLessThan(24.8);
    // The cell never returns to its pre-short level: once shorted, no stable again, and it ends shorted.
    expect(short).toBeDefined();
    expect(r.segments.filter((x) => x.start_ms >= firstOnset).map((x) => x.regime)).not.toContain('stable');
    expect(s.finalRegime).toBe('short');
    expect(s.regimeDurations_h.learning).toBeGreaterThan(0);
  });

  it.skipIf(!existsSync(join(shared, 'mpr/ocv.mpr')))(
    'reads an open-circuit block without a current column as a rest, from the .mpt and the .mpr alike',
    async () => {
      const notes: string[] = [];
      const mpt = await readAll(resolve(shared, 'mpr/ocv.mpt'), { onNote: (n: string) => notes.push(n) });
      const mpr = await readAll(resolve(shared, 'mpr/ocv.mpr'), { onNote: (n: string) => notes.push(n) });
      expect(mpt.samples.length).toBe(602);
      expect(mpr.samples.length).toBe(602);
      expect(mpt.samples.every((s) => s.current_mA === 0) && mpr.samples.every((s) => s.current_mA === 0)).toBe(true);
      expect(mpr.samples.map((s) => s.t_ms)).toEqual(mpt.samples.map((s) => s.t_ms));
      expect(notes.filter((n) => /OCV\) block without a current column: read as a rest/.test(n))).toHaveLength(2);
    },
  );

  it('takes the set current of a current-less export from the cell registry when no flag is given', async () => {
    const registry = parseRegistry(`cells:\n  - id: jr862_11_08_23_insitu-impedance-LiLi_1MLiTFSI_TEGDME-1mA_03_GCPL_C05\n    setCurrentMa: 0.4\n`);
    const r = await analyze({ files: [fixture], registry });
    expect(r.summaries[0]!.samples).toBe(76_807);
    expect(r.assumedCells).toEqual([]);
  });

  const mb = join(shared, 'mb.mpt');
  it.skipIf(!existsSync(mb))('reads the Li|LLZO|Li Modulo Bat export (91-line header, I/mA) as stable, impedance rows as pauses', async () => {
    const { samples, rejections } = await readAll(mb);
    expect(rejections.total).toBe(0);
    expect(samples).toHaveLength(1588);
    expect(new Date(samples[0]!.t_ms).toISOString().slice(0, 10)).toBe('2021-08-23');
    const r = await analyze({ files: [mb] });
    const s = r.summaries[0]!;
    expect(s.samples).toBe(1588);
    expect(s.failureMode).toBe('none');
    expect(s.halfCycles).toBe(8);
    // All stable once calibrated: the one change is learning → stable.
    expect(r.events.filter((e) => e.type === 'regime').map((e) => (e as { regime: string }).regime)).toEqual(['stable']);
    expect(r.segments.map((x) => x.regime)).toEqual(['learning', 'stable']);
    // ASR ≈ 0.7 kΩ·cm² on 0.5 cm²: R ≈ 1.4 kΩ.
    expect(s.rRef25_ohm!).toBeGreaterThan(1000);
    expect(s.rRef25_ohm!).toBeLessThan(1600);
  });

  it.skipIf(!existsSync(mb))(
    'with the real LLZO σ in the registry, the Li|LLZO|Li cell is still stable: the interface resistance is measured, not assumed away',
    async () => {
      // LLZO tape: ~150 µm, σ ≈ 0.5 mS/cm, 0.5 cm²: d/(σA) = 60 Ω, while the cell measures ~1.35 kΩ (Li|LLZO interfaces).
      const registry = parseRegistry(
        'cells:\n  - { id: mb, areaCm2: 0.5, thicknessCm: 0.015, sigmaSPerCm: 0.0005, metal: Li, electrolyte: solid, complianceV: 5 }\n',
      );
      const r = await analyze({ files: [mb], registry });
      const s = r.summaries[0]!;
      expect(s.failureMode).toBe('none');
      expect(r.segments.map((x) => x.regime)).toEqual(['learning', 'stable']);
      expect(s.rRefSource).toBe('calibrated');
      expect(s.rRefTheoretical25_ohm!).toBeCloseTo(60, 6);
      expect(s.rRefCalibratedOverTheoretical!).toBeGreaterThan(15);
      const mismatch = r.events.filter((e) => e.type === 'alert' && e.code === 'reference-mismatch');
      expect(mismatch).toHaveLength(1);
      expect((mismatch[0] as { message: string }).message).toMatch(
        /registry σ, d, A imply R_ref = 60\.0 Ω, the cell measures 1\.\d\d kΩ at 25 °C .*using the measured value/,
      );
      // Trusting the registry instead (referenceMode: configured) is the old failure: polarization nearly throughout.
      const trusting = await analyze({
        files: [mb],
        registry: parseRegistry('cells:\n  - { id: mb, areaCm2: 0.5, thicknessCm: 0.015, sigmaSPerCm: 0.0005, referenceMode: configured }\n'),
      });
      expect(trusting.summaries[0]!.regimeDurations_h.polarization).toBeGreaterThan(0.5 * trusting.summaries[0]!.duration_h);
    },
  );

  for (const [name, rows] of [
    ['gcpl.issue_211.mpt', 2767],
    ['gcpl.pr_182.1.mpt', 2533],
  ] as const) {
    const path = join(shared, name);
    it.skipIf(!existsSync(path))(`reads ${name} (<I>/mA) without a rejected row`, async () => {
      const { samples, rejections } = await readAll(path);
      expect(rejections.total).toBe(0);
      expect(samples).toHaveLength(rows);
      expect(samples.some((s) => s.current_mA! < 0) && samples.some((s) => s.current_mA! > 0)).toBe(true);
    });

    it.skipIf(!existsSync(path))(`reports ${name} once as not a symmetric cell, with no regime calls and no fake failure`, async () => {
      const r = await analyze({ files: [path] });
      const s = r.summaries[0]!;
      expect(s.symmetric).toBe(false);
      expect(s.notSymmetricReason).toMatch(/rest voltage|crosses 0 V|keeps one sign/);
      expect(r.events.filter((e) => e.type === 'alert' && e.code === 'not-symmetric')).toHaveLength(1);
      expect(r.events.filter((e) => e.type === 'regime')).toEqual([]);
      expect(r.events.filter((e) => e.type === 'alert' && e.severity === 'critical')).toEqual([]);
      expect(r.segments.map((x) => x.regime)).toEqual(['not-symmetric']);
      expect(s.failureMode).toBe('none');
      expect(s.judged_h).toBe(0);
    });
  }
});
