/**
 * Tables as labs export them — a European spreadsheet (semicolons, decimal commas), an Arbin-style CSV (current in A),
 * a TSV with a units line — read with no flag, and giving the same events as the canonical CSV of the same samples;
 * a table whose columns are not found is answered with its headers and the `--columns` line to try.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../../../pipelines/analyze.js';
import { registryPath, simulate } from '../../../pipelines/simulate.js';
import { loadRegistry, parseRegistry } from '../../../src/config/registry.js';
import type { CellEvent } from '../../../src/domain/events.js';
import type { Sample } from '../../../src/domain/sample.js';
import { openTelemetry } from '../../../src/io/instruments/importers.js';
import { RejectionLog } from '../../../src/io/instruments/rejections.js';
import { nameAndUnit, parseColumnNames, sniffTable } from '../../../src/io/instruments/table.js';

const dir = mkdtempSync(join(tmpdir(), 'cw-table-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a table’s layout from its first lines', () => {
  it('takes names and units from headers across vendors', () => {
    expect(nameAndUnit('Test_Time(s)')).toEqual({ name: 'test_time', unit: 's' });
    expect(nameAndUnit('Current (mA)')).toEqual({ name: 'current', unit: 'ma' });
    expect(nameAndUnit('I/mA')).toEqual({ name: 'i', unit: 'ma' });
    expect(nameAndUnit('Voltage [V]')).toEqual({ name: 'voltage', unit: 'v' });
    expect(nameAndUnit('"Temperature (°C)"')).toEqual({ name: 'temperature', unit: '°c' });
  });

  it('sniffs the delimiter, a decimal comma and a units line, and converts units', () => {
    const eu = sniffTable(['Time (s);Voltage (V);Current (mA)', '0;0,0712;2,0', '10;0,0713;2,0']);
    expect(eu).toMatchObject({ delimiter: ';', decimalComma: true, headLines: 1 });
    const arbin = sniffTable(['Data_Point,Test_Time(s),Step_Index,Current(A),Voltage(V)', '1,0,1,0.002,0.0712']);
    expect(arbin).toMatchObject({
      delimiter: ',',
      decimalComma: false,
      columns: { time: { index: 1 }, current: { index: 3, factor: 1000 }, voltage: { index: 4 } },
    });
    // `T (°C)` before the time: a temperature by its unit, not the time by its name.
    const tFirst = sniffTable(['T (°C),Time (s),U (V),I (mA)', '25,0,0.07,2']);
    expect(tFirst).toMatchObject({ columns: { temperature: { index: 0 }, time: { index: 1 }, voltage: { index: 2 }, current: { index: 3 } } });
    const tsv = sniffTable(['time\tpotential\tcurrent\ttemp', 'min\tmV\tµA\t°C', '0\t71.2\t2000\t25']);
    expect(tsv).toMatchObject({ delimiter: '\t', headLines: 2, columns: { time: { factor: 60 }, voltage: { factor: 1e-3 }, current: { factor: 1e-3 } } });
  });

  it('answers a table it cannot read with its headers and a --columns line, and takes that line', () => {
    const lines = ['Zeit;Spannung;Strom', '0;0,07;2'];
    const r = sniffTable(lines);
    expect(r).toEqual({
      refused: `no time, voltage, current column recognised among the headers "Zeit", "Spannung", "Strom": name them, e.g. --columns 'time=Zeit,voltage=Spannung,current=Strom'`,
    });
    const named = sniffTable(lines, parseColumnNames('time=Zeit,voltage=Spannung,current=Strom'));
    expect(named).toMatchObject({ columns: { time: { index: 0 }, voltage: { index: 1 }, current: { index: 2 } } });
    expect(() => parseColumnNames('zeit=Zeit')).toThrow(/quantity=header pairs/);
  });
});

describe('date columns', () => {
  it('reads dotted dates day.month.year in the lab’s zone, and refuses a date it would have to guess', async () => {
    const path = join(dir, 'dotted.csv');
    const dates = ['28.02.2026 23:59:30', '01.03.2026 00:00:00', '01.03.2026 00:00:30,5', '13.03.2026 09:00:00'];
    writeFileSync(path, `Datum;Spannung;Strom\n${dates.map((d) => `${d};0,07;1,84`).join('\n')}\nMarch 14 2026 09:00;0,07;1,84\n`);
    const rejections = new RejectionLog();
    const file = await openTelemetry(path, rejections, { timeZone: 'Europe/Berlin', columns: parseColumnNames('time=Datum,voltage=Spannung,current=Strom') });
    const samples: Sample[] = [];
    for await (const b of file.batches) samples.push(...b);
    // Berlin is UTC+1 in winter: each wall time an hour later than the instant.
    expect(samples.map((x) => new Date(x.t_ms).toISOString())).toEqual([
      '2026-02-28T22:59:30.000Z',
      '2026-02-28T23:00:00.000Z',
      '2026-02-28T23:00:30.500Z',
      '2026-03-13T08:00:00.000Z',
    ]);
    // "March 14 2026 09:00" has no order or zone a lab writes: one counted rejection, not a guess.
    expect(rejections.total).toBe(1);
  });
});

describe('tables from other instruments give the events of the canonical CSV of the same samples', () => {
  const comma = (x: number): string => String(x).replace('.', ',');

  it('European CSV, Arbin-style CSV, TSV with a units line, an .xlsx with the data on its second sheet; an unreadable one says what to try', async () => {
    const csv = join(dir, 'loop.csv');
    await simulate({ scenarios: ['very-high-rate'], out: csv, dt_s: 10, duration_h: 30, seed: 2 });
    const registry = await loadRegistry(registryPath(csv));
    const samples: Sample[] = [];
    for await (const b of (await openTelemetry(csv, new RejectionLog())).batches) samples.push(...b);
    // One clean series, as a cycler writes it: in order, one row per time, voltage and current present.
    const rows = samples
      .filter((s) => s.voltage_V !== undefined && s.current_mA !== undefined)
      .sort((a, b) => a.t_ms - b.t_ms)
      .filter((s, k, all) => k === 0 || s.t_ms !== all[k - 1]!.t_ms);
    const t0 = rows[0]!.t_ms;
    const cell = rows[0]!.cell;
    const canonical = join(dir, 'clean.csv');
    writeFileSync(
      canonical,
      'timestamp,cell,voltage_V,current_mA\n' + rows.map((s) => `${new Date(s.t_ms).toISOString()},${cell},${s.voltage_V},${s.current_mA}`).join('\n') + '\n',
    );
    const seconds = (s: Sample): number => (s.t_ms - t0) / 1000;
    const files: Record<string, string> = {
      'european.csv': 'Time (s);Voltage (V);Current (mA)\n' + rows.map((s) => `${seconds(s)};${comma(s.voltage_V!)};${comma(s.current_mA!)}`).join('\n'),
      'arbin.csv':
        'Data_Point,Test_Time(s),Step_Index,Current(A),Voltage(V)\n' +
        rows.map((s, k) => `${k + 1},${seconds(s)},1,${s.current_mA! / 1000},${s.voltage_V}`).join('\n'),
      'units.tsv': 'time\tpotential\tcurrent\nh\tV\tmA\n' + rows.map((s) => `${seconds(s) / 3600}\t${s.voltage_V}\t${s.current_mA}`).join('\n'),
    };
    const key = (e: CellEvent): string => JSON.stringify({ ...e, cell: '' });
    const reference = (await analyze({ files: [canonical], registry })).events.map(key);
    expect(reference.some((e) => e.includes('"regime":"isolated-short"'))).toBe(true);
    for (const [name, text] of Object.entries(files)) {
      const path = join(dir, name);
      writeFileSync(path, text + '\n');
      const notes: string[] = [];
      const r = await analyze({ files: [path], registry, import: { cell, start_ms: t0, timeZone: 'UTC' }, log: (m) => notes.push(m) });
      expect(r.samples, name).toBe(rows.length);
      expect(r.rejections.total, name).toBe(0);
      // Hours in the TSV: the same instants to within a millisecond; the decisions are the same.
      expect(r.events.map(key), name).toEqual(reference);
      expect(notes.join('\n'), name).toMatch(/a table \((;|,|tab)-separated/);
    }
    // A workbook with a notes sheet first and the data on the second, times as seconds and current in mA.
    const { default: ExcelJS } = await import('exceljs');
    const book = new ExcelJS.Workbook();
    book.addWorksheet('Info').addRows([
      ['Instrument', 'LANDT CT3002A'],
      ['Operator', 'lab 4'],
    ]);
    const data = book.addWorksheet('Record');
    data.addRow(['Index', 'TestTime/s', 'Voltage/V', 'Current/mA']);
    rows.forEach((s, k) => data.addRow([k + 1, seconds(s), s.voltage_V, s.current_mA]));
    const xlsx = join(dir, 'landt.xlsx');
    await book.xlsx.writeFile(xlsx);
    const fromXlsx = await analyze({ files: [xlsx], registry, import: { cell, start_ms: t0, timeZone: 'UTC' } });
    expect(fromXlsx.samples).toBe(rows.length);
    expect(fromXlsx.events.map(key)).toEqual(reference);

    const unknown = join(dir, 'zeit.csv');
    writeFileSync(unknown, 'Zeit;Spannung;Strom\n0;0,07;2\n');
    await expect(analyze({ files: [unknown], registry })).rejects.toThrow(
      /no time, voltage, current column recognised among the headers "Zeit", "Spannung", "Strom": name them, e\.g\. --columns 'time=Zeit,voltage=Spannung,current=Strom'/,
    );
    const named = await analyze({ files: [unknown], import: { columns: parseColumnNames('time=Zeit,voltage=Spannung,current=Strom') } });
    expect(named.samples).toBe(1);
    // Or the registry says it, for the file's cell.
    const fromRegistry = await analyze({
      files: [unknown],
      registry: parseRegistry('cells:\n  - id: zeit\n    columns: { time: Zeit, voltage: Spannung, current: Strom }\n'),
    });
    expect(fromRegistry.samples).toBe(1);
  }, 120_000);
});
