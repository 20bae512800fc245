/**
 * Large CSV files are decoded in a worker thread. The worker exists only as compiled JavaScript, so these tests
 * load the built importer (`npm test` builds it first) and compare it with the in-thread decoding of the sources.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as here from '../../../src/io/instruments/importers.js';
import { RejectionLog } from '../../../src/io/instruments/rejections.js';
import type { Sample } from '../../../src/domain/sample.js';

// @ts-expect-error -- compiled JavaScript, typed like its source
const built = (await import('../../../dist/src/io/instruments/importers.js')) as typeof here;

const dir = mkdtempSync(join(tmpdir(), 'cw-csvworker-'));

async function readAll(
  importer: typeof here,
  path: string,
  parseInWorker: boolean,
): Promise<{ samples: Sample[]; rejections: ReturnType<RejectionLog['toJSON']>; progress: number[] }> {
  const rejections = new RejectionLog();
  const progress: number[] = [];
  const file = await importer.openTelemetry(path, rejections, { parseInWorker, setCurrent_mA: 0.5, onProgress: (b) => progress.push(b) }, 'csv');
  const samples: Sample[] = [];
  for await (const batch of file.batches) samples.push(...batch);
  return { samples, rejections: rejections.toJSON(), progress };
}

/** Several cells in runs, a few bad rows of every kind, CRLF line ends: about 4.5 MB, several read chunks. */
function messyCsv(): string {
  const rows = ['timestamp,cell,voltage_V,current_mA,pressure_MPa,temperature_C'];
  const t0 = Date.UTC(2026, 0, 1);
  for (let k = 0; k < 90_000; k++) {
    const cell = `c${Math.floor(k / 700) % 5}`;
    const t = new Date(t0 + k * 1000).toISOString();
    if (k % 9973 === 5) rows.push(`2026-02-30T00:00:00Z,${cell},0.1,1,,`);
    else if (k % 7919 === 3) rows.push(`${t},${cell},0.1x,1,,`);
    else if (k % 6007 === 1) rows.push(`${t},${cell},,,,`);
    else if (k % 5003 === 2)
      rows.push(`${t},,0.05,,,`); // no cell: the file's name; no current: the set current
    else if (k % 4001 === 4) rows.push(`${t},${cell},,,7.5,24.9`);
    else rows.push(`${t},${cell},${(0.05 + (k % 100) * 1e-4).toFixed(6)},${k % 2 === 0 ? 1 : -1},,`);
  }
  return rows.join('\r\n') + '\r\n';
}

describe('CSV decoding in a worker thread', () => {
  it('gives the same samples, rejections (with line numbers) and progress as decoding in this thread', async () => {
    const path = join(dir, 'messy.csv');
    writeFileSync(path, messyCsv());
    const inWorker = await readAll(built, path, true);
    const inThread = await readAll(here, path, false);
    expect(inWorker.samples.length).toBeGreaterThan(89_000);
    expect(inWorker.samples).toEqual(inThread.samples);
    expect(inWorker.rejections).toEqual(inThread.rejections);
    expect(inWorker.rejections.byReason).toEqual({ 'bad-timestamp': 10, 'bad-number': 12, 'no-quantity': 15 });
    expect(inWorker.progress).toEqual(inThread.progress);
    expect(inWorker.progress.length).toBeGreaterThan(3);
    // The cell column wins; a row without one belongs to the file; a voltage without a current takes the set current.
    expect(new Set(inWorker.samples.map((s) => s.cell))).toEqual(new Set(['c0', 'c1', 'c2', 'c3', 'c4', 'messy']));
    const orphan = inWorker.samples.find((s) => s.cell === 'messy')!;
    expect(orphan.current_mA).toBe(0.5);
    const aux = inWorker.samples.find((s) => s.pressure_MPa !== undefined)!;
    expect(aux).toMatchObject({ voltage_V: undefined, current_mA: undefined, pressure_MPa: 7.5, temperature_C: 24.9 });
  });

  it('refuses a file without a usable header, or an empty one, with the same message as in this thread', async () => {
    const noTime = join(dir, 'no-time.csv');
    writeFileSync(noTime, 'cell,voltage_V\n' + 'c1,0.1\n'.repeat(10));
    const empty = join(dir, 'empty.csv');
    writeFileSync(empty, '\n\n');
    for (const path of [noTime, empty]) {
      const worker = readAll(built, path, true);
      const thread = readAll(here, path, false);
      await expect(thread).rejects.toThrow(/no timestamp column|the file is empty/);
      const message = await thread.then(
        () => '',
        (e: Error) => e.message,
      );
      await expect(worker).rejects.toThrow(message);
    }
  });

  it('stops its thread when the reader stops early', async () => {
    const path = join(dir, 'messy.csv');
    const file = await built.openTelemetry(path, new RejectionLog(), { parseInWorker: true }, 'csv');
    const first = await file.batches.next();
    expect(first.done).toBe(false);
    await file.batches.return(undefined);
    // A thread left running would keep the worker pool alive: the next read still works and ends.
    const again = await readAll(built, path, true);
    expect(again.samples.length).toBeGreaterThan(89_000);
  });
});
