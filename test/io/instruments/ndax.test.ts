/**
 * The Neware `.ndax` reader on real files (test/fixtures/real/SOURCES.md): the Unit27 example against NewareNDA's
 * reference output of it, record by record; the first three steps of a 192 h BTS 8.0 test against its own step file
 * (the programmed current and voltage limit); windows of a saved file give the whole; what cannot be read is named.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../../../pipelines/analyze.js';
import type { CellEvent, HalfCycleEvent } from '../../../src/domain/events.js';
import type { Sample } from '../../../src/domain/sample.js';
import { openTelemetry } from '../../../src/io/instruments/importers.js';
import { openNdax, stepFileProtocol } from '../../../src/io/instruments/ndax.js';
import { RejectionLog } from '../../../src/io/instruments/rejections.js';
import { zipEntries, zipEntryData } from '../../../src/io/instruments/zip.js';
import { loadReportInput, renderReportHtml } from '../../../src/report/html.js';

const fixtures = join(__dirname, '../../fixtures/real/neware');
const UNIT27 = join(fixtures, '123456789012_Unit27_Example_Data_File.ndax');
const BTS85 = join(fixtures, 'BTS85-36-6-5-110-20240424.steps1-3.ndax');
const dir = mkdtempSync(join(tmpdir(), 'cw-ndax-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function samplesOf(path: string, o: { rejections?: RejectionLog; notes?: string[]; range?: { from: number; until: number } } = {}): Promise<Sample[]> {
  const file = await openTelemetry(path, o.rejections ?? new RejectionLog(), { range: o.range, onNote: (m) => o.notes?.push(m) });
  expect(file.format).toBe('ndax');
  const out: Sample[] = [];
  for await (const b of file.batches) out.push(...b);
  return out;
}

/** A zip of stored entries (no CRC: the reader checks sizes), for archives the tests make. */
function zipOf(entries: readonly { name: string; data: Buffer }[], deflate = false): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let at = 0;
  for (const e of entries) {
    const body = deflate ? deflateRawSync(e.data) : e.data;
    const name = Buffer.from(e.name);
    // The local header and the directory entry share a run of fields (method … name length), 2 bytes further on in
    // the directory (APPNOTE §4.3.7, §4.3.12).
    const header = (bytes: number, signature: number, shared: number): Buffer => {
      const b = Buffer.alloc(bytes);
      b.writeUInt32LE(signature, 0);
      b.writeUInt16LE(deflate ? 8 : 0, shared);
      b.writeUInt32LE(body.length, shared + 10);
      b.writeUInt32LE(e.data.length, shared + 14);
      b.writeUInt16LE(name.length, shared + 18);
      return b;
    };
    const local = header(30, 0x04034b50, 8);
    const dir = header(46, 0x02014b50, 10);
    dir.writeUInt32LE(at, 42);
    parts.push(local, name, body);
    central.push(dir, name);
    at += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(at, 16);
  return Buffer.concat([...parts, cd, end]);
}

describe('Neware .ndax', () => {
  it('Unit27 (ndc version 14, BTS 8.0) against NewareNDA’s reference output: every record, same events', async () => {
    const [header, ...lines] = readFileSync(UNIT27.replace(/\.ndax$/, '.NewareNDA.csv'), 'utf8')
      .trim()
      .split('\n');
    const col = header!.split(',');
    // The reference repeats the first record (its time written twice): one row per record index.
    const twin = new Map<number, string[]>();
    for (const l of lines) {
      const f = l.split(',');
      const index = Number(f[col.indexOf('Index')]);
      if (!twin.has(index)) twin.set(index, f);
    }
    expect(lines).toHaveLength(302);
    expect(twin.size).toBe(301);
    const notes: string[] = [];
    const rejections = new RejectionLog();
    const samples = await samplesOf(UNIT27, { rejections, notes });
    expect(rejections.total).toBe(0);
    expect(samples).toHaveLength(301);
    const offsets: number[] = [];
    for (const [index, f] of twin) {
      const s = samples[index - 1]!;
      const where = `index ${index}`;
      expect(Math.fround(s.voltage_V!), where).toBe(Number(f[col.indexOf('Voltage')]));
      expect(Math.fround(s.current_mA!), where).toBe(Number(f[col.indexOf('Current(mA)')]));
      expect(Math.fround(s.temperature_C!), where).toBe(Number(f[col.indexOf('T1')]));
      // 61 of every 62 records carry no time in the file: both readers put them on the line between their timed
      // neighbours. The reference's dates are whole seconds where the file has the milliseconds (422 ms here), and
      // it dates the records after the repeated first one 0.1 s early.
      offsets.push(s.t_ms - Date.parse(f[col.indexOf('Timestamp')]!));
      const twinTime_ms = Number(f[col.indexOf('Time')]) * 1000;
      expect(Math.abs(s.t_ms - samples[0]!.t_ms - twinTime_ms), where).toBeLessThanOrEqual(1);
    }
    expect(Math.min(...offsets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...offsets)).toBeLessThan(1000);
    expect(notes.join('\n')).toMatch(/temperature from auxiliary channel 1/);

    const csv = join(dir, 'unit27.csv');
    writeFileSync(
      csv,
      'timestamp,cell,voltage_V,current_mA,temperature_C\n' +
        samples.map((s) => `${new Date(s.t_ms).toISOString()},${s.cell},${s.voltage_V},${s.current_mA},${s.temperature_C}`).join('\n') +
        '\n',
    );
    const key = (e: CellEvent): string => JSON.stringify(e);
    const fromCsv = await analyze({ files: [csv] });
    const fromNdax = await analyze({ files: [UNIT27] });
    expect(fromNdax.samples).toBe(301);
    expect(fromNdax.events.map(key)).toEqual(fromCsv.events.map(key));
    expect(fromNdax.events.length).toBeGreaterThan(0);
  });

  it('a 192 h BTS 8.0 test’s first three steps: the current and voltage limit its step file programmed, times in order', async () => {
    const file = await openNdax(BTS85);
    expect(file.records).toBe(113_333);
    // TestInfo.xml: device 36, unit 0, channel 45 (BTS's "36-6-5" in the file name counts 8 channels a unit).
    expect(file.channel).toBe('36-0-45');
    // Step.xml: step 2 charges at 0.06644 mA to 3.4 V (34000 × 0.1 mV); step 3 discharges at the same current.
    const entries = zipEntries(readFileSync(BTS85));
    const steps = zipEntryData(readFileSync(BTS85), entries.get('Step.xml')!).toString('latin1');
    const set_mA = Number(/<Step2 [^>]*>[\s\S]*?<Curr Value="([\d.]+)"/.exec(steps)![1]);
    const stop_V = Number(/<Step2 [^>]*>[\s\S]*?<Stop_Volt Value="(\d+)"/.exec(steps)![1]) / 1e4;
    expect([set_mA, stop_V]).toEqual([0.06644, 3.4]);
    // The programmed steps, as EC-Lab's GCPL sequences: a rate test from 0.066 to 2.66 mA, to 3.4 V and 1.4 V.
    expect(file.protocol!.steps.slice(0, 2)).toEqual([
      { sequence: 2, current_mA: 0.06644, setBy: 'I', duration_s: null, voltageLimit_V: 3.4 },
      { sequence: 3, current_mA: -0.06644, setBy: 'I', duration_s: null, voltageLimit_V: 1.4 },
    ]);
    expect(Math.max(...file.protocol!.steps.map((x) => x.current_mA!))).toBe(2.65794);

    const rejections = new RejectionLog();
    const samples = await samplesOf(BTS85, { rejections });
    expect(rejections.total).toBe(0);
    expect(samples).toHaveLength(113_333);
    for (let k = 1; k < samples.length; k++) if (!(samples[k]!.t_ms > samples[k - 1]!.t_ms)) throw new Error(`record ${k + 1} not after ${k}`);
    const charging = samples.filter((s) => s.current_mA! > 0.01);
    const discharging = samples.filter((s) => s.current_mA! < -0.01);
    const mean = (xs: readonly Sample[]): number => xs.reduce((a, s) => a + s.current_mA!, 0) / xs.length;
    expect(Math.abs(mean(charging) / set_mA - 1)).toBeLessThan(0.002);
    expect(Math.abs(mean(discharging) / -set_mA - 1)).toBeLessThan(0.002);
    const peak = Math.max(...charging.map((s) => s.voltage_V!));
    expect(peak).toBeLessThanOrEqual(stop_V + 0.0005);
    expect(peak).toBeGreaterThan(stop_V - 0.001);

    // The two half cycles end where the step clock says: the dates and the step times agree to a second.
    const out = join(dir, 'bts85');
    const r = await analyze({ files: [BTS85], outDir: out });
    // The report states the programmed steps, each with the cut-off that ends it.
    const html = await renderReportHtml(await loadReportInput(out));
    expect(/<p>Programmed[^<]*/.exec(html)?.[0]).toMatch(
      /^<p>Programmed \(GCPL, from the file's header\): sequence 2: 0\.0664 mA \(0\.0664 mA cm⁻²\), to 3\.4 V · sequence 3: -0\.0664 mA \(0\.0664 mA cm⁻²\), to 1\.4 V ·/,
    );
    const hcs = r.events.filter((e): e is HalfCycleEvent => e.type === 'half-cycle');
    expect(hcs).toHaveLength(2);
    const stepEnd_s = (s: readonly Sample[]): number => (s.at(-1)!.t_ms - s[0]!.t_ms) / 1000;
    expect(Math.abs(hcs[0]!.duration_s - stepEnd_s(charging))).toBeLessThan(2);
    expect(Math.abs(hcs[1]!.duration_s - stepEnd_s(discharging))).toBeLessThan(2);
  });

  it('reads a symmetric cell’s time-limited half cycles from a step file, so the protocol is checked against t_max', async () => {
    const step = (id: number, type: number, limit: string): string =>
      `<Step${id} Step_ID="${id}" Step_Type="${type}"><Record><Main><Time Value="10000" /></Main></Record><Limit><Main>${limit}</Main></Limit></Step${id}>`;
    const xml = `<Step_Info Num="4">${step(1, 4, '<Time Value="60000" />')}${step(2, 1, '<Curr Value="1.84" /><Time Value="3600000" />')}${step(3, 2, '<Curr Value="1.84" /><Time Value="3600000" /><Stop_Volt Value="-80000" />')}${step(4, 5, '<Cycle_Count Value="100" />')}</Step_Info>`;
    expect(stepFileProtocol(xml)).toEqual({
      technique: 'GCPL',
      steps: [
        { sequence: 2, current_mA: 1.84, setBy: 'I', duration_s: 3600, voltageLimit_V: null },
        { sequence: 3, current_mA: -1.84, setBy: 'I', duration_s: 3600, voltageLimit_V: -8 },
      ],
    });
    expect(stepFileProtocol(step(1, 4, '<Time Value="60000" />'))).toBeUndefined();
  });

  it('windows of the file (the bridge) give the samples of the whole', async () => {
    const whole = await samplesOf(BTS85);
    const parts: Sample[] = [];
    const step = 16_001;
    for (let from = 0; from < whole.length; from += step) parts.push(...(await samplesOf(BTS85, { range: { from, until: from + step } })));
    expect(parts.length).toBe(whole.length);
    expect(parts.map((s) => s.t_ms)).toEqual(whole.map((s) => s.t_ms));
    expect(parts.map((s) => s.voltage_V)).toEqual(whole.map((s) => s.voltage_V));
  });

  it('refuses what it cannot read, naming what it found', async () => {
    const zip = readFileSync(UNIT27);
    const entries = zipEntries(zip);
    const contents = [...entries.values()].map((e) => ({ name: e.name, data: Buffer.from(zipEntryData(zip, e)) }));
    // The same archive written again (deflated, without ZIP64 fields) reads the same.
    const again = join(dir, 'again.ndax');
    writeFileSync(again, zipOf(contents, true));
    expect((await samplesOf(again)).map((s) => s.voltage_V)).toEqual((await samplesOf(UNIT27)).map((s) => s.voltage_V));

    const v17 = join(dir, 'v17.ndax');
    writeFileSync(v17, zipOf(contents.map((c) => (c.name === 'data.ndc' ? { ...c, data: Buffer.from(c.data).fill(17, 2, 3) } : c))));
    await expect(openTelemetry(v17, new RejectionLog())).rejects.toThrow(
      /data\.ndc is ndc file type 1, version 17 \(bytes 0 and 2\); version 14 with type 1 is known/,
    );

    const noData = join(dir, 'nodata.ndax');
    writeFileSync(noData, zipOf(contents.filter((c) => c.name !== 'data_runInfo.ndc')));
    await expect(openTelemetry(noData, new RejectionLog())).rejects.toThrow(/without Neware's data\.ndc and data_runInfo\.ndc \(entries: EditStep\.xml/);

    const partial = join(dir, 'partial.ndax');
    writeFileSync(partial, zip.subarray(0, zip.length - 100));
    await expect(openTelemetry(partial, new RejectionLog())).rejects.toThrow(/no end of central directory: the archive is incomplete/);
  });
});
