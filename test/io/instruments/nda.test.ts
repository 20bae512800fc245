/**
 * The Neware `.nda` reader against its twin: NewareNDA's reference output of the same real files (its regression
 * references, test/fixtures/real/SOURCES.md). Voltage, current and temperature are compared record by record to
 * float32 (the reference's precision); times against the instrument's dates and test clock; and `analyze` of the
 * `.nda` gives the events of the canonical CSV of those samples.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../../../pipelines/analyze.js';
import type { CellEvent } from '../../../src/domain/events.js';
import type { Sample } from '../../../src/domain/sample.js';
import { openTelemetry } from '../../../src/io/instruments/importers.js';
import { openNda } from '../../../src/io/instruments/nda.js';
import { RejectionLog } from '../../../src/io/instruments/rejections.js';

const fixtures = join(__dirname, '../../fixtures/real/neware');
const dir = mkdtempSync(join(tmpdir(), 'cw-nda-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface TwinRow {
  readonly index: number;
  readonly step: number;
  readonly time_s: number;
  readonly voltage_V: number;
  readonly current_mA: number;
  /** The record's date: UTC, or the wall clock as if UTC for version 29's zone-less dates. */
  readonly date_ms: number;
  readonly temperature_C: number | undefined;
}

function readTwin(name: string): TwinRow[] {
  const [header, ...lines] = readFileSync(join(fixtures, `${name}.NewareNDA.csv`), 'utf8')
    .trim()
    .split('\n');
  const col = header!.split(',');
  const at = (n: string): number => col.indexOf(n);
  return lines.map((l) => {
    const f = l.split(',');
    const date = f[at('Timestamp')]!;
    const t1 = at('T1') >= 0 ? f[at('T1')] : undefined;
    return {
      index: Number(f[at('Index')]),
      step: Number(f[at('Step')]),
      time_s: Number(f[at('Time')]),
      voltage_V: Number(f[at('Voltage')]),
      current_mA: Number(f[at('Current(mA)')]),
      date_ms: Date.parse(date.includes('T') ? date : `${date.replace(' ', 'T')}Z`),
      temperature_C: t1 === undefined || t1 === '' ? undefined : Number(t1),
    };
  });
}

/**
 * The times the documented rule gives the twin's rows, written out again here: the previous time plus the test
 * clock's step (the step time itself on a version-29 step's first row), or the date when that leads by over 2 s.
 */
function twinTimes(rows: readonly TwinRow[], version: 29 | 130): number[] {
  const out: number[] = [];
  let exact = NaN;
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    const prev = rows[k - 1];
    // The reference holds times as float32 seconds; the record's own step is what the clock adds.
    const step_s = prev === undefined ? 0 : version === 29 && r.step !== prev.step ? r.time_s : r.time_s - prev.time_s;
    const counted = exact + Math.max(0, step_s) * 1000;
    exact = Number.isNaN(exact) || r.date_ms > counted + 2000 ? r.date_ms : counted;
    let t = Math.round(exact);
    if (k > 0 && t <= out[k - 1]!) t = out[k - 1]! + 1;
    out.push(t);
  }
  return out;
}

async function samplesOf(path: string, rejections = new RejectionLog(), notes: string[] = []): Promise<Sample[]> {
  const file = await openTelemetry(path, rejections, { timeZone: 'UTC', onNote: (m) => notes.push(m) });
  expect(file.format).toBe('nda');
  const out: Sample[] = [];
  for await (const b of file.batches) out.push(...b);
  return out;
}

const FILES: { name: string; version: 29 | 130; bts91: boolean; rows: number; temperature: boolean }[] = [
  { name: 'new_nda_file', version: 29, bts91: false, rows: 439, temperature: false },
  { name: '2-1-6_61[07005012]', version: 130, bts91: false, rows: 15_567, temperature: false },
  { name: 'TestFile', version: 130, bts91: true, rows: 6670, temperature: true },
];

describe('Neware .nda against NewareNDA’s reference output of the same file', () => {
  for (const f of FILES) {
    it(`${f.name}.nda (version ${f.version}${f.bts91 ? ', BTS 9.1' : ''}): every record, same events`, async () => {
      const path = join(fixtures, `${f.name}.nda`);
      const layout = await openNda(path);
      expect({ version: layout.version, bts91: layout.bts91 }).toEqual({ version: f.version, bts91: f.bts91 });
      const twin = readTwin(f.name);
      expect(twin).toHaveLength(f.rows);
      const rejections = new RejectionLog();
      const notes: string[] = [];
      const samples = await samplesOf(path, rejections, notes);
      expect(rejections.total).toBe(0);
      expect(samples).toHaveLength(twin.length);
      const times = twinTimes(twin, f.version);
      for (let k = 0; k < twin.length; k++) {
        const s = samples[k]!;
        const r = twin[k]!;
        const where = `${f.name} index ${r.index}`;
        expect(Math.fround(s.voltage_V!), where).toBe(r.voltage_V);
        expect(Math.fround(s.current_mA!), where).toBe(r.current_mA);
        if (f.temperature) expect(Math.fround(s.temperature_C!), where).toBe(r.temperature_C);
        else expect(s.temperature_C, where).toBeUndefined();
        // The twin's clock is float32 seconds: 54,947 s holds to 4 ms.
        expect(Math.abs(s.t_ms - times[k]!), where).toBeLessThanOrEqual(f.version === 130 ? 4 : 1);
        if (k > 0) expect(s.t_ms, where).toBeGreaterThan(samples[k - 1]!.t_ms);
      }
      if (f.temperature) expect(notes.join('\n')).toMatch(/temperature from auxiliary channel 1/);

      // The samples just found equal to the twin's, as canonical CSV (version 29 holds exact 0.1 mV steps, which the
      // twin's float32 rounds): the same events.
      const csv = join(dir, `${f.name}.csv`);
      const cell = samples[0]!.cell;
      writeFileSync(
        csv,
        'timestamp,cell,voltage_V,current_mA,temperature_C\n' +
          samples.map((s) => `${new Date(s.t_ms).toISOString()},${cell},${s.voltage_V},${s.current_mA},${s.temperature_C ?? ''}`).join('\n') +
          '\n',
      );
      const key = (e: CellEvent): string => JSON.stringify(e);
      const fromTwin = await analyze({ files: [csv] });
      const fromNda = await analyze({ files: [path], timeZone: 'UTC' });
      expect(fromNda.samples).toBe(fromTwin.samples);
      expect(fromNda.events.map(key)).toEqual(fromTwin.events.map(key));
    }, 60_000);
  }

  it('dates the records by the test clock where the PC’s clock was set back during the run (TestFile: 165 s at index 4916)', async () => {
    const twin = readTwin('TestFile');
    const samples = await samplesOf(join(fixtures, 'TestFile.nda'));
    const lead = samples.map((s, k) => s.t_ms - twin[k]!.date_ms);
    const off = lead.flatMap((d, k) => (Math.abs(d) > 2000 ? [k] : []));
    // Before the clock was set back, every record is within 2 s of its date; from it on, the dates lag by one step.
    expect(twin[off[0]!]!.index).toBe(4916);
    expect(off).toEqual(Array.from({ length: off.length }, (_, k) => off[0]! + k));
    const lag = off.map((k) => lead[k]!);
    // The two clocks drift apart by 0.19 s over those 4.7 h (11 ppm).
    expect(Math.max(...lag) - Math.min(...lag)).toBeLessThan(500);
    expect(lag[0]).toBeGreaterThan(165_000);
    // Pauses, when the test clock stops, are taken from the dates: the run spans the dates' 15.3 h, not the clock's 10.5.
    const span_h = (samples.at(-1)!.t_ms - samples[0]!.t_ms) / 3.6e6;
    expect(span_h).toBeGreaterThan((twin.at(-1)!.time_s - twin[0]!.time_s) / 3600 + 1);
  });

  it('follows a growing file record by record: windows give the samples of the whole', async () => {
    for (const f of FILES) {
      const whole = await samplesOf(join(fixtures, `${f.name}.nda`));
      const layout = await openNda(join(fixtures, `${f.name}.nda`));
      const parts: Sample[] = [];
      const step = Math.ceil(layout.records / 7);
      for (let from = 0; from < layout.records; from += step) {
        const file = await openTelemetry(join(fixtures, `${f.name}.nda`), new RejectionLog(), { timeZone: 'UTC', range: { from, until: from + step } });
        for await (const b of file.batches) parts.push(...b);
      }
      // A window cut between a record and its auxiliary record loses that one temperature; nothing else differs.
      expect(
        parts.map((s) => [s.t_ms, s.voltage_V, s.current_mA]),
        f.name,
      ).toEqual(whole.map((s) => [s.t_ms, s.voltage_V, s.current_mA]));
    }
  });

  it('refuses what it cannot read, naming what it found', async () => {
    const bytes = readFileSync(join(fixtures, 'new_nda_file.nda'));
    const unknown = join(dir, 'v31.nda');
    const patched = Buffer.from(bytes);
    patched[14] = 31;
    writeFileSync(unknown, patched);
    await expect(openTelemetry(unknown, new RejectionLog())).rejects.toThrow(/Neware \.nda version 31 \(byte 14\) is not known/);
    const notNeware = join(dir, 'x.nda');
    copyFileSync(join(fixtures, 'TestFile.NewareNDA.csv'), notNeware);
    await expect(openTelemetry(notNeware, new RejectionLog())).rejects.toThrow(/not a readable Neware \.nda file/);
  });
});
