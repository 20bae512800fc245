/**
 * Other cyclers' files, read with no flag, against their twins: a public reader's output of the same real file
 * (cellpy's regression goldens for an Arbin `.res` and a Neware CSV export; BEEP's parsed Maccor export), row by row,
 * and the same events as the canonical CSV of those samples. Sources and licences: test/fixtures/real/SOURCES.md.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../../../pipelines/analyze.js';
import type { CellEvent } from '../../../src/domain/events.js';
import type { Sample } from '../../../src/domain/sample.js';
import { openTelemetry } from '../../../src/io/instruments/importers.js';
import { RejectionLog } from '../../../src/io/instruments/rejections.js';

const real = join(__dirname, '../../fixtures/real');
const dir = mkdtempSync(join(tmpdir(), 'cw-vendors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function read(path: string, timeZone: string): Promise<{ format: string; samples: Sample[]; rejections: RejectionLog; notes: string[] }> {
  const rejections = new RejectionLog();
  const notes: string[] = [];
  const file = await openTelemetry(path, rejections, { timeZone, onNote: (m) => notes.push(m) });
  const samples: Sample[] = [];
  for await (const b of file.batches) samples.push(...b);
  return { format: file.format, samples, rejections, notes };
}

/** A twin CSV as rows of named strings. */
function csvRows(path: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const names = header!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, k) => [names[k]!, v])));
}

/** `2016-08-05 16:21:23.000` (a wall clock without a zone) or ISO with an offset → epoch ms (the former read as UTC). */
const dateOf = (text: string): number => Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);

/**
 * The documented rule (domain/testClock.ts) written out again: the previous time plus the test clock's step, or the
 * date when that leads by over 2 s.
 */
function ruleTimes(rows: readonly { date_ms: number; test_s: number }[]): number[] {
  const out: number[] = [];
  let exact = NaN;
  rows.forEach((r, k) => {
    const counted = exact + Math.max(0, k === 0 ? 0 : r.test_s - rows[k - 1]!.test_s) * 1000;
    exact = Number.isNaN(exact) || r.date_ms > counted + 2000 ? r.date_ms : counted;
    let t = Math.round(exact);
    if (k > 0 && t <= out[k - 1]!) t = out[k - 1]! + 1;
    out.push(t);
  });
  return out;
}

/** `analyze` of the vendor's file and of the canonical CSV of the same samples: the same events. */
async function sameEventsAsCanonical(path: string, samples: readonly Sample[], timeZone: string): Promise<CellEvent[]> {
  const csv = join(dir, `${samples[0]!.cell}.csv`);
  writeFileSync(
    csv,
    'timestamp,cell,voltage_V,current_mA,temperature_C\n' +
      samples.map((s) => `${new Date(s.t_ms).toISOString()},${s.cell},${s.voltage_V},${s.current_mA},${s.temperature_C ?? ''}`).join('\n') +
      '\n',
  );
  const key = (e: CellEvent): string => JSON.stringify(e);
  const canonical = await analyze({ files: [csv], timeZone });
  const vendor = await analyze({ files: [path], timeZone });
  expect(vendor.samples).toBe(samples.length);
  expect(vendor.rejections.total).toBe(0);
  expect(vendor.events.map(key)).toEqual(canonical.events.map(key));
  return vendor.events;
}

const relativelyEqual = (a: number, b: number, rel: number): boolean => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b)) + 1e-12;

describe('Arbin .res (MITS Pro, an Access database) against cellpy’s reading of the same file', () => {
  it('20160805_test001_45_cc_01.res: every data point, same events', async () => {
    const path = join(real, 'arbin/20160805_test001_45_cc_01.res');
    const { format, samples, rejections } = await read(path, 'UTC');
    expect(format).toBe('res');
    expect(rejections.total).toBe(0);
    const twin = csvRows(join(real, 'arbin/20160805_test001_45_cc_01.cellpy.csv'));
    expect(twin).toHaveLength(10_261);
    expect(samples).toHaveLength(twin.length);
    const times = ruleTimes(twin.map((r) => ({ date_ms: dateOf(r.date_time!), test_s: Number(r.test_time) })));
    let clockStepsBack = 0;
    for (let k = 0; k < twin.length; k++) {
      const s = samples[k]!;
      const r = twin[k]!;
      expect(s.voltage_V, `point ${r.data_point}`).toBe(Number(r.voltage));
      expect(relativelyEqual(s.current_mA! / 1000, Number(r.current), 1e-15), `point ${r.data_point}: ${s.current_mA} mA, ${r.current} A`).toBe(true);
      // cellpy's dates are to the second; the database's to the millisecond.
      expect(Math.abs(s.t_ms - times[k]!), `point ${r.data_point}`).toBeLessThan(1000);
      if (k > 0) {
        if (dateOf(r.date_time!) - dateOf(twin[k - 1]!.date_time!) < (Number(r.test_time) - Number(twin[k - 1]!.test_time)) * 1000 - 2000) clockStepsBack++;
      }
    }
    // The PC's clock stepped back 7 s twice during the run; the test clock carried the times through.
    expect(clockStepsBack).toBe(2);
    const events = await sameEventsAsCanonical(path, samples, 'UTC');
    expect(events.filter((e) => e.type === 'half-cycle')).toHaveLength(36);
  }, 60_000);

  it('aux_one_x_dx.res: the temperature of its one auxiliary channel (°C) joins its data points', async () => {
    const { samples, notes } = await read(join(real, 'arbin/aux_one_x_dx.res'), 'UTC');
    expect(samples).toHaveLength(7235);
    const temperatures = samples.map((s) => s.temperature_C);
    expect(temperatures.every((t) => t !== undefined && t > 20 && t < 40)).toBe(true);
    expect(temperatures[0]).toBeCloseTo(24.4066, 4);
    expect(notes.join('\n')).toMatch(/temperature from auxiliary channel 0/);
  });
});

describe('Neware BTS CSV export against cellpy’s reading of the same file', () => {
  it('neware_uio.csv: the test’s time (Cumulative Time, not the step’s Time), A to mA, same events', async () => {
    const path = join(real, 'neware/neware_uio.csv');
    const { format, samples, rejections, notes } = await read(path, 'UTC');
    expect(format).toBe('table');
    expect(rejections.total).toBe(0);
    expect(notes.join('\n')).toMatch(/time "Cumulative Time"/);
    const twin = csvRows(join(real, 'neware/neware_uio.cellpy.csv'));
    expect(samples).toHaveLength(twin.length);
    const times = ruleTimes(twin.map((r) => ({ date_ms: dateOf(r.date_time!), test_s: Number(r.test_time) })));
    samples.forEach((s, k) => {
      const r = twin[k]!;
      expect(s.voltage_V).toBe(Number(r.voltage));
      expect(relativelyEqual(s.current_mA! / 1000, Number(r.current), 1e-15)).toBe(true);
      expect(s.t_ms, `data point ${r.data_point}`).toBe(times[k]);
    });
    await sameEventsAsCanonical(path, samples, 'UTC');
  }, 60_000);
});

describe('Maccor text export against BEEP’s reading of the same file', () => {
  it('a paused test: the 2 h pause from the dates (month/day/year, US Pacific), the rows between from the test clock', async () => {
    const path = join(real, 'maccor/PredictionDiagnostics_000151_paused.052');
    const { format, samples, rejections, notes } = await read(path, 'America/Los_Angeles');
    expect(format).toBe('table');
    expect(rejections.total).toBe(0);
    expect(notes.join('\n')).toMatch(
      /Maccor's export, time "Test \(Sec\)" \(s\), voltage "Volts" \(V\), current "Amps" \(A\), date "DPt Time"; dates read as month\/day\/year/,
    );
    const twin = csvRows(join(real, 'maccor/BEEPDatapath_maccor_paused_memloaded.csv'));
    expect(twin).toHaveLength(332);
    expect(samples).toHaveLength(twin.length);
    samples.forEach((s, k) => {
      const r = twin[k]!;
      // BEEP keeps float32.
      expect(relativelyEqual(s.voltage_V!, Number(r.voltage), 1e-7), `row ${k}`).toBe(true);
      expect(relativelyEqual(s.current_mA! / 1000, Number(r.current), 1e-7), `row ${k}`).toBe(true);
      // BEEP's dates (to the second, placed in US Pacific time): within a second of them.
      expect(Math.abs(s.t_ms - dateOf(r.date_time_iso!)), `row ${k}`).toBeLessThan(1000);
    });
    // One pause: 2 h by the dates, 0.02 s by the test clock; every other step is the test clock's 10 ms (20 ms once,
    // where the file has no Rec# 249835).
    const steps = samples.slice(1).map((s, k) => s.t_ms - samples[k]!.t_ms);
    const pause = steps.findIndex((d) => d > 60_000);
    expect(steps[pause]! / 3.6e6).toBeCloseTo(2, 3);
    expect(steps.filter((d, k) => k !== pause && d !== 10)).toEqual([20]);
    await sameEventsAsCanonical(path, samples, 'America/Los_Angeles');
  }, 60_000);
});

describe('Arbin CSV export (Arbin’s own, units left out of its headers)', () => {
  it('2017-05-09_test-TC-contact_CH33.csv: Current in A, DateTime in epoch seconds, every row', async () => {
    const path = join(real, 'arbin/2017-05-09_test-TC-contact_CH33.csv');
    const { samples, rejections, notes } = await read(path, 'UTC');
    expect(rejections.total).toBe(0);
    expect(notes.join('\n')).toMatch(
      /Arbin's export, time "Test_Time" \(s\), voltage "Voltage" \(V\), current "Current" \(A\), temperature "Temperature", date "DateTime"/,
    );
    const rows = csvRows(path);
    expect(samples).toHaveLength(rows.length);
    const times = ruleTimes(rows.map((r) => ({ date_ms: Number(r.DateTime) * 1000, test_s: Number(r.Test_Time) })));
    samples.forEach((s, k) => {
      const r = rows[k]!;
      expect(s.current_mA).toBe(Number(r.Current) * 1000);
      expect(s.voltage_V).toBe(Number(r.Voltage));
      expect(s.temperature_C).toBe(Number(r.Temperature));
      expect(s.t_ms).toBe(times[k]);
    });
    expect(new Date(samples[0]!.t_ms).toISOString()).toBe('2017-05-10T00:47:33.170Z');
    await sameEventsAsCanonical(path, samples, 'UTC');
  });
});
