/**
 * The bridge's parts on their own: the journal's replay rules, file patterns and cell names, and one step of
 * following a file that is still being written (cut headers, cut rows, a settled last line, a replaced file).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BridgeJournal, JournalError } from '../../../src/io/bridge/journal.js';
import { cellFor, runName, techniqueNumber } from '../../../src/io/bridge/cells.js';
import { matchFiles, segmentPattern } from '../../../src/io/bridge/fileWatch.js';
import { RejectionLog } from '../../../src/io/instruments/rejections.js';
import { readTailStep } from '../../../src/io/bridge/tail.js';
import { writeMpt } from '../../../src/sim/ecLab.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'cw-bridge-unit-'));
const publish = (id: number, payload = `{"t":${id}}`) =>
  ({ cmd: 'publish', qos: 2, retain: false, dup: false, messageId: id, topic: 'cells/c1/ec', payload }) as never;
const put = (j: BridgeJournal, p: never): Promise<void> => new Promise((r, e) => j.put(p, (err) => (err ? e(err) : r())));
const mark = (offset: number) => ({ path: '/data/a.mpt', offset, signature: 'ab', cell: 'a', published: offset, lastSample_ms: null, meta: null });

describe('BridgeJournal', () => {
  it('keeps marked messages and offsets across a restart, drops messages no mark followed, and completes them', async () => {
    const path = join(dir(), 'j');
    const j = new BridgeJournal(path);
    void put(j, publish(1));
    void put(j, publish(2));
    await j.mark(mark(100));
    await put(j, { cmd: 'pubrel', qos: 2, messageId: 1 } as never);
    await new Promise<void>((r) => j.del({ messageId: 2 }, () => r()));
    // A step cut by a crash: its messages were written but its mark never was.
    await put(j, publish(3));
    await new Promise((r) => setImmediate(r));
    j.close(() => {});
    const again = new BridgeJournal(path);
    expect(again.files.get('/data/a.mpt')?.offset).toBe(100);
    expect(again.size).toBe(1);
    const stored: { cmd: string; messageId: number }[] = [];
    for await (const p of again.createStream() as unknown as AsyncIterable<{ cmd: string; messageId: number }>) stored.push(p);
    expect(stored.map((p) => [p.cmd, p.messageId])).toEqual([['pubrel', 1]]);
    // Rewritten at start: a third start sees the same (messages before marks, so the rewrite keeps them).
    again.close(() => {});
    expect(new BridgeJournal(path).size).toBe(1);
  });

  it('ignores a last line cut by a crash, and refuses a damaged journal with one line', () => {
    const path = join(dir(), 'j');
    writeFileSync(path, `P 7 2 0 "cells/c/ec" "{}"\nF ${JSON.stringify(mark(5))}\nP 8 2 0 "cells/c/e`);
    const j = new BridgeJournal(path);
    expect(j.size).toBe(1);
    expect(j.files.get('/data/a.mpt')?.offset).toBe(5);
    j.close(() => {});
    writeFileSync(path, `X 1\nF ${JSON.stringify(mark(5))}\n`);
    expect(() => new BridgeJournal(path)).toThrow(JournalError);
    expect(() => new BridgeJournal(path)).toThrow(/line 1: unknown record "X"; move the file away/);
  });

  it('waits for room: whenAtMost resolves once the broker has completed enough', async () => {
    const j = new BridgeJournal(join(dir(), 'j'));
    void put(j, publish(1));
    void put(j, publish(2));
    await j.mark(mark(2));
    let done = false;
    const room = j.whenAtMost(1).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    j.del({ messageId: 1 }, () => {});
    await room;
    expect(done).toBe(true);
  });
});

describe('file patterns and cell names', () => {
  it('matches names case-insensitively, * within a name and ** across folders', async () => {
    const d = dir();
    mkdirSync(join(d, 'run1', 'deep'), { recursive: true });
    for (const f of ['a.mpr', 'b.MPR', 'run1/c.mpr', 'run1/deep/d.mpr', 'run1/e.mpt', 'x.txt']) writeFileSync(join(d, f), '');
    expect((await matchFiles([`${d}/*.mpr`])).map((p) => p.slice(d.length + 1))).toEqual(['a.mpr', 'b.MPR']);
    expect((await matchFiles([`${d}/**/*.mpr`])).map((p) => p.slice(d.length + 1))).toEqual(['a.mpr', 'b.MPR', 'run1/c.mpr', 'run1/deep/d.mpr']);
    expect(await matchFiles([`${d}/missing/*.mpr`])).toEqual([]);
    expect(segmentPattern('NaSICON-07_*_C05.mpr').test('nasicon-07_02_GCPL_C05.mpr')).toBe(true);
  });

  it('names a cell after its EC-Lab run, so linked techniques stay one cell; mapping rules first', () => {
    expect(runName('D:/data/NaSICON-07_02_GCPL_C05.mpr')).toBe('NaSICON-07_C05');
    expect(runName('HAC_NH3_01_02_GCPL_C04.mpr')).toBe('HAC_NH3_01_C04');
    expect(runName('mb.mpr')).toBe('mb');
    expect(techniqueNumber('x_03_PEIS_C05.mpr')).toBe(3);
    expect(cellFor('/d/Na cell 7_02_GCPL_C01.mpt', undefined, [])).toBe('Na-cell-7_C01');
    const rules = [
      { file: 'NaSICON-07_*', cell: 'n7' },
      { channel: 6, cell: 'llzo-12' },
    ];
    expect(cellFor('/d/NaSICON-07_02_GCPL_C05.mpr', '5 (SN 1)', rules)).toBe('n7');
    expect(cellFor('/d/other_02_GCPL_C06.mpr', '6 (SN 24889)', rules)).toBe('llzo-12');
  });
});

describe('readTailStep', () => {
  const run = { start_ms: Date.UTC(2026, 0, 1), areaCm2: 0.5, limit_V: 8, channel: 1 };
  const rows = Array.from({ length: 50 }, (_, k) => ({ t_s: k, voltage_V: 0.07, current_mA: k < 25 ? 1 : -1 }));
  const options = { maxRows: 1000, maxBytes: 1 << 20, rejections: new RejectionLog(() => {}) };
  const at = (s: { next: number; signature: string }) => ({ offset: s.next, signature: s.signature });

  it('reads whole rows only, waits for a header still being written, and takes a settled last line', async () => {
    const d = dir();
    const whole = join(d, 'whole.mpt');
    await writeMpt(whole, run, rows);
    const bytes = readFileSync(whole);
    const path = join(d, 'run_02_GCPL_C02.mpt');
    // Half the header.
    writeFileSync(path, bytes.subarray(0, 150));
    expect((await readTailStep(path, undefined, options)).kind).toBe('waiting');
    // The header and a row and a half.
    const headerEnd = bytes.indexOf('I/mA\n') + 5;
    const rowEnd = bytes.indexOf(10, headerEnd) + 1;
    writeFileSync(path, bytes.subarray(0, rowEnd + 20));
    const first = await readTailStep(path, undefined, options);
    if (first.kind !== 'records') throw new Error(first.kind);
    expect(first.samples).toHaveLength(1);
    expect(first.next).toBe(rowEnd);
    expect(first.metadata.areaCm2).toBe(0.5);
    // The rest, but for the last newline: that line waits until the file has settled.
    writeFileSync(path, bytes.subarray(0, bytes.length - 1));
    const second = await readTailStep(path, at(first), options);
    if (second.kind !== 'records') throw new Error(second.kind);
    expect(second.samples).toHaveLength(48);
    const settled = await readTailStep(path, at(second), { ...options, settled: true });
    if (settled.kind !== 'records') throw new Error(settled.kind);
    expect(settled.samples.map((s) => s.t_ms)).toEqual([run.start_ms + 49_000]);
    // All together: the rows of the whole file, once each.
    expect([...first.samples, ...second.samples, ...settled.samples].map((s) => s.t_ms)).toEqual(rows.map((r) => run.start_ms + r.t_s * 1000));
  });

  it('follows a growing table a script writes (semicolons, decimal commas) row by row, each row once', async () => {
    const d = dir();
    const path = join(d, 'cell-3.csv');
    const start_ms = Date.UTC(2026, 0, 1);
    const line = (k: number): string => `${k * 10};${(0.07 + k / 1e4).toFixed(4).replace('.', ',')};${k < 30 ? '2,0' : '-2,0'}\n`;
    const header = 'Time (s);Voltage (V);Current (mA)\n';
    writeFileSync(path, header + Array.from({ length: 20 }, (_, k) => line(k)).join('') + '200;0,07');
    const first = await readTailStep(path, undefined, { ...options, start_ms });
    if (first.kind !== 'records') throw new Error(first.kind);
    expect(first.format).toBe('table');
    expect(first.samples.map((x) => x.t_ms)).toEqual(Array.from({ length: 20 }, (_, k) => start_ms + k * 10_000));
    expect(first.samples[3]).toMatchObject({ cell: 'cell-3', voltage_V: 0.0703, current_mA: 2 });
    writeFileSync(path, header + Array.from({ length: 40 }, (_, k) => line(k)).join(''));
    const second = await readTailStep(path, at(first), { ...options, start_ms });
    if (second.kind !== 'records') throw new Error(second.kind);
    expect(second.samples.map((x) => x.t_ms)).toEqual(Array.from({ length: 20 }, (_, k) => start_ms + (k + 20) * 10_000));
    expect(second.samples.at(-1)).toMatchObject({ voltage_V: 0.0739, current_mA: -2 });
  });

  it('follows a growing Neware .nda record by record, cut anywhere, each record once (real BTS 9.1 file)', async () => {
    const d = dir();
    const real = readFileSync(join(__dirname, '../../fixtures/real/neware/TestFile.nda'));
    const path = join(d, 'TestFile.nda');
    const whole = join(d, 'whole.nda');
    writeFileSync(whole, real);
    const o = { ...options, maxRows: 500, timeZone: 'UTC' };
    const all: number[] = [];
    let position: { offset: number; signature: string } | undefined;
    // BTSDA appends records as the test runs; the bridge sees the file at arbitrary lengths, mid-record included.
    for (const cut of [1030, 1024 + 56 * 3 + 17, 50_000, 123_457, 300_001, real.length]) {
      writeFileSync(path, real.subarray(0, cut));
      for (;;) {
        const step = await readTailStep(path, position, o);
        if (step.kind !== 'records') break;
        all.push(...step.samples.map((x) => x.t_ms));
        position = at(step);
        if (step.behind === 0) break;
      }
    }
    const reference = (await readTailStep(whole, undefined, { ...o, maxRows: 1e6 })) as { samples: { t_ms: number }[] };
    expect(reference.samples).toHaveLength(6670);
    expect(all).toEqual(reference.samples.map((x) => x.t_ms));
  });

  it('follows an Arbin .res row by row (real file), each row once', async () => {
    const d = dir();
    const path = join(d, 'arbin.res');
    writeFileSync(path, readFileSync(join(__dirname, '../../fixtures/real/arbin/20160805_test001_45_cc_01.res')));
    const o = { ...options, maxRows: 4000, timeZone: 'UTC' };
    const got: number[] = [];
    let position: { offset: number; signature: string } | undefined;
    for (;;) {
      const step = await readTailStep(path, position, o);
      if (step.kind !== 'records') throw new Error(step.kind);
      got.push(...step.samples.map((x) => x.t_ms));
      position = at(step);
      if (step.behind === 0) break;
    }
    const whole = await readTailStep(path, undefined, { ...o, maxRows: 1e6 });
    if (whole.kind !== 'records') throw new Error(whole.kind);
    expect(whole.samples).toHaveLength(10_261);
    expect(got).toEqual(whole.samples.map((x) => x.t_ms));
  });

  it('reads a Neware .ndax once it has settled (BTSDA writes it whole), in steps, each record once (real file)', async () => {
    const d = dir();
    const path = join(d, 'BTS85.ndax');
    const bytes = readFileSync(join(__dirname, '../../fixtures/real/neware/BTS85-36-6-5-110-20240424.steps1-3.ndax'));
    // Half written: the zip's directory, at its end, is not there yet.
    writeFileSync(path, bytes.subarray(0, 300_000));
    const o = { ...options, maxRows: 30_000 };
    expect(await readTailStep(path, undefined, o)).toMatchObject({
      kind: 'waiting',
      why: expect.stringMatching(/^an \.ndax is written whole when BTSDA saves/),
    });
    expect(await readTailStep(path, undefined, { ...o, settled: true })).toMatchObject({
      kind: 'waiting',
      why: expect.stringMatching(/the archive is incomplete/),
    });
    writeFileSync(path, bytes);
    const got: number[] = [];
    let position: { offset: number; signature: string } | undefined;
    for (;;) {
      const step = await readTailStep(path, position, { ...o, settled: true });
      if (step.kind !== 'records') throw new Error(step.kind);
      got.push(...step.samples.map((x) => x.t_ms));
      position = at(step);
      if (step.behind === 0) break;
    }
    expect(got).toHaveLength(113_333);
    expect(new Set(got).size).toBe(113_333);
    expect(got.every((t, k) => k === 0 || t > got[k - 1]!)).toBe(true);
  });

  it('dates a table of durations from its dates column, else from the file’s creation, else waits for start:', async () => {
    const d = dir();
    // Arbin's columns, no units in the headers, a date column: dated by it, the rows between by the test clock.
    const arbin = join(d, 'arbin-ch3.csv');
    const t0 = Date.UTC(2026, 2, 1, 8);
    writeFileSync(
      arbin,
      'Data_Point,Test_Time,DateTime,Current,Voltage\n' +
        Array.from({ length: 10 }, (_, k) => `${k + 1},${k * 10.5},${(t0 + k * 10_500) / 1000},0.002,0.07`).join('\n') +
        '\n',
    );
    const a = await readTailStep(arbin, undefined, { ...options, timeZone: 'UTC' });
    if (a.kind !== 'records') throw new Error(a.kind);
    expect(a.samples.map((x) => x.t_ms)).toEqual(Array.from({ length: 10 }, (_, k) => t0 + k * 10_500));
    expect(a.samples[0]).toMatchObject({ current_mA: 2, voltage_V: 0.07 });
    expect(a.notes.join('\n')).toMatch(/Arbin's export/);
    // Durations only: time 0 is the file's creation, said once.
    const plain = join(d, 'script.csv');
    writeFileSync(plain, 'Time (s);Voltage (V);Current (mA)\n' + Array.from({ length: 10 }, (_, k) => `${k * 10};0,07;2\n`).join(''));
    const created = Date.UTC(2026, 2, 1, 9);
    const p = await readTailStep(plain, undefined, { ...options, startIfUndated_ms: created });
    if (p.kind !== 'records') throw new Error(p.kind);
    expect(p.samples.map((x) => x.t_ms)).toEqual(Array.from({ length: 10 }, (_, k) => created + k * 10_000));
    expect(p.notes.join('\n')).toMatch(/time 0 is taken as the file's creation, 2026-03-01T09:00:00.000Z/);
    const undated = await readTailStep(plain, undefined, options);
    expect(undated).toMatchObject({ kind: 'waiting', why: expect.stringMatching(/give start: \(the test's start\)/) });
    // Headers no synonym knows: named by the watch rule's columns.
    const zeit = join(d, 'zeit.csv');
    writeFileSync(zeit, 'Zeit;Spannung;Strom\n' + Array.from({ length: 10 }, (_, k) => `${k * 10};0,07;2\n`).join(''));
    expect((await readTailStep(zeit, undefined, { ...options, start_ms: created })).kind).toBe('waiting');
    const named = await readTailStep(zeit, undefined, { ...options, start_ms: created, columns: { time: 'Zeit', voltage: 'Spannung', current: 'Strom' } });
    if (named.kind !== 'records') throw new Error(named.kind);
    expect(named.samples).toHaveLength(10);
  });

  it('reads an .xlsx once, whole, when it has settled: a workbook is written whole when saved', async () => {
    const d = dir();
    const path = join(d, 'landt-7.xlsx');
    const { default: ExcelJS } = await import('exceljs');
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('Record');
    sheet.addRow(['TestTime/s', 'Voltage/V', 'Current/mA']);
    for (let k = 0; k < 30; k++) sheet.addRow([k * 10, 0.07, 2]);
    await book.xlsx.writeFile(path);
    const o = { ...options, start_ms: Date.UTC(2026, 0, 1) };
    const early = await readTailStep(path, undefined, o);
    expect(early).toMatchObject({ kind: 'waiting', why: 'an .xlsx is complete only when saved: it is read once it has settled' });
    const whole = await readTailStep(path, undefined, { ...o, settled: true });
    if (whole.kind !== 'records') throw new Error(whole.kind);
    expect(whole.samples).toHaveLength(30);
    expect(whole.samples[29]).toMatchObject({ cell: 'landt-7', t_ms: Date.UTC(2026, 0, 1) + 290_000, voltage_V: 0.07, current_mA: 2 });
    const again = await readTailStep(path, at(whole), { ...o, settled: true });
    if (again.kind !== 'records') throw new Error(again.kind);
    expect(again.samples).toEqual([]);
  });

  it('sees a file replaced by another run, and one cut shorter than what was read', async () => {
    const d = dir();
    const path = join(d, 'a.mpt');
    await writeMpt(path, run, rows);
    const step = await readTailStep(path, undefined, options);
    if (step.kind !== 'records') throw new Error(step.kind);
    await writeMpt(path, { ...run, start_ms: run.start_ms + 86_400_000, channel: 3 }, rows.slice(0, 5));
    expect((await readTailStep(path, at(step), options)).kind).toBe('replaced');
    await writeMpt(path, run, rows.slice(0, 5));
    expect((await readTailStep(path, at(step), options)).kind).toBe('replaced');
  });
});
