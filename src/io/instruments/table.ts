/**
 * Any sensible table a lab exports (CSV, semicolon or tab separated, decimal point or comma): the columns found by
 * their header names across vendors (`Time (s)`, `Test_Time(s)`, `time/s`, `Voltage(V)`, `Ewe/V`, `Potential (V)`,
 * `Current(A)`, `I/mA`, `Temperature (°C)`, …), units read from the header or a units line below it and converted,
 * or the columns named by the user (`--columns time=…,voltage=…,current=…`). A file whose columns are not found is
 * answered with the headers it has and the `--columns` line to try.
 */
import { basename } from 'node:path';
import { LocalClock, parseLocalDateTime_ms } from '../../domain/labTime.js';
import { nextRecordTime, TEST_CLOCK_START, type TestClockState } from '../../domain/testClock.js';
import type { Sample } from '../../domain/sample.js';
import { timestampOf } from '../wire/timestamp.js';
import { ImportError, type RejectionLog } from './rejections.js';
import { chomp, readLineBatches } from './textLines.js';

/** `date`: the PC's date of each row, beside a test-time column (Maccor's `DPt Time`, Arbin's `DateTime`). */
export type Quantity = 'time' | 'voltage' | 'current' | 'cell' | 'temperature' | 'pressure' | 'date';

/** `--columns time=Test_Time(s),voltage=Voltage(V),current=Current(A)`: quantity → header name. */
export type ColumnNames = Partial<Record<Quantity, string>>;

export interface TableColumn {
  readonly index: number;
  readonly header: string;
  /** Multiplies a value into cyclewatch's unit (s, V, mA, °C, MPa). */
  readonly factor: number;
  readonly unit: string;
}

export interface TableLayout {
  readonly delimiter: ',' | ';' | '\t';
  readonly decimalComma: boolean;
  /** Lines before the first row of data (the header, and a units line if there is one). */
  readonly headLines: number;
  readonly headers: readonly string[];
  readonly columns: Partial<Record<Quantity, TableColumn>>;
  /** The instrument whose export this is, where its headers say so and imply units they leave out. */
  readonly vendor?: string;
  /** How the date column writes a day with slashes: `03/04/2024` is 4 March (m/d) or 3 April (d/m). */
  readonly slashDates?: 'm/d' | 'd/m';
}

const UNITS: Record<Exclude<Quantity, 'cell' | 'date'>, Record<string, number>> = {
  time: { s: 1, sec: 1, ms: 1e-3, min: 60, h: 3600, hr: 3600 },
  voltage: { v: 1, mv: 1e-3 },
  current: { a: 1000, ma: 1, ua: 1e-3, µa: 1e-3, μa: 1e-3, na: 1e-6 },
  temperature: { '°c': 1, c: 1, degc: 1, 'deg c': 1 },
  pressure: { mpa: 1, kpa: 1e-3, bar: 0.1, pa: 1e-6 },
};

/** What each quantity is called, across vendors, once the unit is taken off and the name lower-cased. */
const NAMES: Record<Quantity, RegExp> = {
  time: /^(test[ _]?time|total[ _]?time|cumulative[ _]?time|time|elapsed[ _]?time|relative[ _]?time|step[ _]?time|t|time_s|test)$/,
  voltage: /^(voltage|potential|ewe|ecell|cell[ _]?voltage|u|v|volts?)$/,
  current: /^(current|i|<i>|cell[ _]?current|amps?)$/,
  cell: /^(cell|cell[ _]?id|channel|channel[ _]?id|chan)$/,
  temperature: /^(temperature|aux[ _]?temperature|temp|t|t[ _]?cell|cell[ _]?temperature)(\s*\d+)?$/,
  pressure: /^(pressure|stack[ _]?pressure|force[ _]?pressure)$/,
  date: /^(date[ _]?time|datetime|dpt[ _]?time|absolute[ _]?time|real[ _]?time|system[ _]?time|date)$/,
};

/**
 * Where a table has several time columns, the one that runs through the test: Neware's CSV has `Time` (within the
 * step) before `Cumulative Time`; a step time is taken only when there is no other.
 */
const timeRank = (name: string): number => (/^(test|total|cumulative|elapsed|relative)/.test(name) ? 0 : /^step/.test(name) ? 2 : 1);

/** Names that are their unit: Maccor's `Amps`, `Volts`. */
const NAME_UNITS: Record<string, string> = { amps: 'a', amp: 'a', volts: 'v', volt: 'v' };

/** Exports that leave units out of their headers, known by headers no one else writes. */
const VENDORS: readonly { vendor: string; is: (names: readonly string[]) => boolean; units: Partial<Record<Quantity, string>>; slashDates?: 'm/d' }[] = [
  // Arbin's CSV and Excel exports of MITS Pro: Current in A, Voltage in V, Test_Time in s, DateTime in epoch s.
  {
    vendor: 'Arbin',
    is: (n) => n.includes('data_point') && (n.includes('test_time') || n.includes('step_index')),
    units: { current: 'a', voltage: 'v', time: 's' },
  },
  // Maccor's text export: `Rec#`, `Test (Sec)`, `Amps`, `Volts`, `DPt Time` in the US order.
  { vendor: 'Maccor', is: (n) => n.includes('rec#') && n.includes('dpt time'), units: {}, slashDates: 'm/d' },
];

/** A header as its name and unit: `Test_Time(s)` → test_time, s; `I/mA` → i, ma; `Voltage [V]` → voltage, v. */
export function nameAndUnit(header: string): { name: string; unit: string } {
  const h = header.trim().replace(/^"|"$/g, '').trim();
  const m = /^(.*?)\s*(?:\(([^()]*)\)|\[([^[\]]*)\])\s*$/.exec(h) ?? /^(.*?)\s*\/\s*([^/]+)$/.exec(h);
  const name = (m?.[1] ?? h).trim().toLowerCase();
  const unit = (m?.[2] ?? m?.[3] ?? '').trim().toLowerCase();
  return { name, unit };
}

/** A unit as people write it: `ma` → mA, `ua` → µA, `°c` → °C. */
const displayUnit = (u: string): string =>
  ({ s: 's', sec: 's', v: 'V', mv: 'mV', a: 'A', ma: 'mA', ua: 'µA', µa: 'µA', μa: 'µA', na: 'nA', '°c': '°C', c: '°C', degc: '°C', mpa: 'MPa', kpa: 'kPa' })[
    u
  ] ?? u;

const unitFactor = (q: Quantity, unit: string): number | undefined => (q === 'cell' || q === 'date' ? 1 : UNITS[q][unit.replace(/\s+/g, ' ')]);

/** The delimiter that splits the header into the most fields, and whether numbers use a decimal comma. */
function sniffDelimiter(lines: readonly string[]): { delimiter: ',' | ';' | '\t'; decimalComma: boolean } {
  const count = (s: string, d: string): number => s.split(d).length - 1;
  const header = lines[0] ?? '';
  const delimiter = (['\t', ';', ','] as const).reduce((best, d) => (count(header, d) > count(header, best) ? d : best), '\t' as ',' | ';' | '\t');
  // A comma between digits in the data, with another delimiter, is a decimal comma (a European spreadsheet).
  const decimalComma = delimiter !== ',' && lines.slice(1, 20).some((l) => /\d,\d/.test(l));
  return { delimiter, decimalComma };
}

const split = (line: string, d: string): string[] => line.split(d).map((f) => f.trim().replace(/^"(.*)"$/, '$1'));

/**
 * The layout of a table from its first lines, or why it is not one cyclewatch can read (with the `--columns` line
 * to try). Units come from the header (`Current(A)`), else from a units line under it (`s;V;mA`).
 */
export function sniffTable(lines: readonly string[], names: ColumnNames = {}): TableLayout | { readonly refused: string } {
  const first = sniffHeaderAt(lines, names);
  if (!('refused' in first)) return first;
  // A title or metadata line above the header (Maccor's "Today's Date …"): the first line the columns are found in.
  for (let skip = 1; skip < Math.min(lines.length - 1, 30); skip++) {
    const layout = sniffHeaderAt(lines.slice(skip), names);
    if (!('refused' in layout)) return { ...layout, headLines: layout.headLines + skip };
  }
  return first;
}

function sniffHeaderAt(lines: readonly string[], names: ColumnNames): TableLayout | { readonly refused: string } {
  const { delimiter, decimalComma } = sniffDelimiter(lines);
  const headers = split(lines[0] ?? '', delimiter);
  const second = lines[1] === undefined ? [] : split(lines[1], delimiter);
  // A units line: as many fields as the header, none of them a number.
  const unitsLine = second.length === headers.length && second.every((f) => f === '' || !Number.isFinite(Number(f.replace(',', '.'))));
  const columns: Partial<Record<Quantity, TableColumn>> = {};
  const parsed = headers.map(nameAndUnit).map((p) => (p.unit === '' && NAME_UNITS[p.name] !== undefined ? { ...p, unit: NAME_UNITS[p.name]! } : p));
  const vendor = VENDORS.find((v) => v.is(parsed.map((p) => p.name)));
  for (const q of Object.keys(NAMES) as Quantity[]) {
    const wanted = names[q];
    const index =
      wanted !== undefined
        ? headers.findIndex((h) => h === wanted || h.toLowerCase() === wanted.toLowerCase())
        : // A name that fits with a unit that does not (`T (°C)` is no time) is another quantity's; a column is one quantity.
          (parsed
            .map((p, k) => ({ p, k }))
            .filter(
              ({ p, k }) =>
                NAMES[q].test(p.name) && (p.unit === '' || unitFactor(q, p.unit) !== undefined) && !Object.values(columns).some((c) => c.index === k),
            )
            .sort((a, b) => (q === 'time' ? timeRank(a.p.name) - timeRank(b.p.name) : 0) || a.k - b.k)[0]?.k ?? -1);
    if (wanted !== undefined && index < 0)
      return { refused: `--columns names "${wanted}" for ${q}, which is not in the header (found: ${headers.map((h) => `"${h}"`).join(', ')})` };
    if (index < 0) continue;
    const unit = parsed[index]!.unit || (unitsLine ? nameAndUnit(`x (${second[index] ?? ''})`).unit : '') || (vendor?.units[q] ?? '');
    // Without a unit, cyclewatch's own (s, V, mA); a time column of dates or hh:mm:ss needs none.
    const factor = unit === '' ? 1 : unitFactor(q, unit);
    if (factor === undefined)
      return {
        refused: `the unit "${unit}" of column "${headers[index]}" is not one of ${q === 'cell' || q === 'date' ? '' : Object.keys(UNITS[q]).join(', ')}`,
      };
    columns[q] = {
      index,
      header: headers[index]!,
      factor,
      unit: displayUnit(unit) || (q === 'time' ? 's' : q === 'voltage' ? 'V' : q === 'current' ? 'mA' : ''),
    };
  }
  // Dates alone (no test-time column): the dates are the times.
  if (columns.time === undefined && columns.date !== undefined) [columns.time, columns.date] = [columns.date, undefined];
  if (columns.time === undefined || columns.voltage === undefined || columns.current === undefined) {
    const missing = (['time', 'voltage', 'current'] as const).filter((q) => columns[q] === undefined);
    // A guess to start from: what was found, the other columns in their order for the rest.
    const used = new Set(Object.values(columns).map((c) => c.index));
    const free = headers.map((_, k) => k).filter((k) => !used.has(k));
    const guess = (['time', 'voltage', 'current'] as const).map((q) => `${q}=${headers[columns[q]?.index ?? free.shift() ?? 0] ?? '?'}`).join(',');
    return {
      refused: `no ${missing.join(', ')} column recognised among the headers ${headers.map((h) => `"${h}"`).join(', ')}: name them, e.g. --columns '${guess}'`,
    };
  }
  const dateColumn = columns.date ?? columns.time;
  const slashDates = vendor?.slashDates ?? slashOrder(lines.slice(unitsLine ? 2 : 1).map((l) => split(l, delimiter)[dateColumn.index] ?? ''));
  return { delimiter, decimalComma, headLines: unitsLine ? 2 : 1, headers, columns, vendor: vendor?.vendor, slashDates };
}

/** Which order a column's `a/b/yyyy` dates are in: d/m when a day above 12 comes first, else m/d; none without slashes. */
function slashOrder(values: readonly string[]): 'm/d' | 'd/m' | undefined {
  let seen = false;
  for (const v of values) {
    const m = /^(\d{1,2})\/(\d{1,2})\/\d{4}/.exec(v);
    if (m === null) continue;
    seen = true;
    if (+m[1]! > 12) return 'd/m';
    if (+m[2]! > 12) return 'm/d';
  }
  return seen ? 'm/d' : undefined;
}

/**
 * A date cell: `2024-03-04 10:00:00`, `03/04/2024 10:00:00` in the file's order, `04.03.2024 10:00:00`, an ISO instant
 * with its zone, or epoch seconds (Arbin); null otherwise.
 */
function wallOrEpoch(text: string, slashDates: 'm/d' | 'd/m' | undefined): { wall_ms: number } | { epoch_ms: number } | null {
  // `5/11/2021 3:40:24 PM` (Maccor), `21/10/2019 10:59:59.5` in the file's order; `01.03.2026 09:00:00` always
  // day.month.year, wherever dots are written (German, Russian, Polish… spreadsheets).
  const dated = /^(\d{1,2})([./])(\d{1,2})\2(\d{4})(?:\s+(\d{1,2}):(\d\d)(?::(\d\d(?:[.,]\d+)?))?\s*([AaPp][Mm])?)?$/.exec(text);
  if (dated !== null) {
    const dayFirst = dated[2] === '.' || slashDates === 'd/m';
    const [month, day] = dayFirst ? [dated[3]!, dated[1]!] : [dated[1]!, dated[3]!];
    let hour = +(dated[5] ?? 0);
    const half = dated[8]?.toUpperCase();
    if (half !== undefined && (hour < 1 || hour > 12)) return null;
    if (half !== undefined) hour = (hour % 12) + (half === 'PM' ? 12 : 0);
    const two = (x: string | number): string => String(x).padStart(2, '0');
    const clock =
      dated[5] === undefined ? '' : ` ${two(hour)}:${dated[6]}:${dated[7] === undefined ? '00' : dated[7].replace(',', '.').replace(/^(\d)(?=\.|$)/, '0$1')}`;
    const wall = parseLocalDateTime_ms(`${dated[4]}-${two(month)}-${two(day)}${clock}`);
    return Number.isFinite(wall) ? { wall_ms: wall } : null;
  }
  const wall = parseLocalDateTime_ms(text);
  if (Number.isFinite(wall)) return { wall_ms: wall };
  const n = Number(text);
  // Epoch seconds from 2001 on (a test time in seconds never reaches 1e9: 31 years).
  if (text !== '' && Number.isFinite(n) && n >= 1e9 && n < 1e11) return { epoch_ms: n * 1000 };
  // Only an ISO date-time with its zone is an instant; anything else left to Date.parse would be guessed (month
  // first, in this machine's zone).
  if (!/^\d{4}-\d\d-\d\dT[\d:.,]+(Z|[+-]\d\d:?\d\d)$/i.test(text)) return null;
  const t = timestampOf(text);
  return Number.isFinite(t) ? { epoch_ms: t } : null;
}

/** `time=Test_Time(s),voltage=Voltage(V),current=Current(A)` → the names; an error a person can act on otherwise. */
export function parseColumnNames(text: string): ColumnNames {
  const out: ColumnNames = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const q = part.slice(0, eq).trim() as Quantity;
    if (eq < 0 || !Object.hasOwn(NAMES, q))
      throw new Error(`--columns takes quantity=header pairs (time, voltage, current, cell, temperature, pressure, date), not "${part}"`);
    out[q] = part.slice(eq + 1).trim();
  }
  return out;
}

export interface TableOptions {
  readonly cell?: string;
  readonly columns?: ColumnNames;
  /** The lab's zone, for date-times without one. */
  readonly timeZone: string;
  /** Epoch ms of time 0 when times are durations (seconds, hh:mm:ss); 0 otherwise (hours since the start). */
  readonly start_ms?: number;
  /** Time 0 of durations when there is neither `start_ms` nor a date column (see ImportOptions). */
  readonly startIfUndated_ms?: number;
  readonly onNote?: (message: string) => void;
  /** Tail mode (`cyclewatch bridge`): the bytes [from, until) of a file still being written, after its header. */
  readonly range?: { readonly from: number; readonly until: number };
}

/** `12:34:56.7` or `1:02:03:04` (days) → seconds; NaN for anything else. */
function clockSeconds(text: string): number {
  const m = /^(?:(\d+)[:.-])?(\d+):(\d\d):(\d\d(?:[.,]\d+)?)$/.exec(text);
  if (m === null) return NaN;
  return ((+(m[1] ?? 0) * 24 + +m[2]!) * 60 + +m[3]!) * 60 + +m[4]!.replace(',', '.');
}

/** The zip magic an `.xlsx` starts with. */
export const XLSX_MAGIC = 'PK\x03\x04';

/** An `.xlsx` cell as table text: numbers as JavaScript writes them, dates as the wall clock they show. */
function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v);
  // exceljs gives a date cell as the wall clock it shows, read as UTC.
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString().slice(0, 23).replace('T', ' ');
  if (typeof v === 'object') {
    const o = v as { result?: unknown; richText?: { text: string }[]; text?: unknown };
    if ('result' in o) return cellText(o.result);
    if (Array.isArray(o.richText)) return o.richText.map((r) => r.text).join('');
    if (typeof o.text === 'string') return o.text;
  }
  return String(v).replace(/[\t\r\n]+/g, ' ');
}

/**
 * The first sheet of an `.xlsx` that reads as a table (a title or notes sheet before the data is common), streamed:
 * its first lines for the layout, then all its lines in batches, cells joined by tabs.
 */
async function xlsxSheet(
  path: string,
  columns: ColumnNames | undefined,
): Promise<{ first: string[]; batches: AsyncGenerator<string[]> } | { refused: string }> {
  const { default: ExcelJS } = await import('exceljs');
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, { worksheets: 'emit', sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore' });
  const refusals: string[] = [];
  for await (const sheet of reader as unknown as AsyncIterable<AsyncIterable<{ values: unknown[] }> & { name?: string }>) {
    const rows = sheet[Symbol.asyncIterator]();
    const first: string[] = [];
    while (first.length < 40) {
      const r = await rows.next();
      if (r.done === true) break;
      const line = r.value.values.slice(1).map(cellText).join('\t');
      if (line.replace(/\t/g, '').trim() !== '') first.push(line);
    }
    const layout = sniffTable(first, columns);
    if ('refused' in layout) {
      refusals.push(`sheet "${sheet.name ?? refusals.length + 1}": ${layout.refused}`);
      // Read through to the next sheet.
      for (let r = await rows.next(); r.done !== true; r = await rows.next());
      continue;
    }
    async function* batches(): AsyncGenerator<string[]> {
      yield first;
      let batch: string[] = [];
      for (let r = await rows.next(); r.done !== true; r = await rows.next()) {
        batch.push(r.value.values.slice(1).map(cellText).join('\t'));
        if (batch.length >= 4096) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    }
    return { first, batches: batches() };
  }
  return { refused: refusals.length > 0 ? refusals.join('; ') : 'no sheet with rows in the workbook' };
}

/**
 * Where a followed table's test clock stood at a byte offset: a bounded memo of a pure function of the rows before it
 * (rows written do not change as the file grows).
 */
const tableClocks = new Map<string, { at: number; clock: TestClockState; elapsed_s: number }>();
const TABLE_CLOCK_FILES = 256;

/** Rows of a table (text, or an `.xlsx`'s first sheet of data) as batches of samples; a bad row is counted with its line number and skipped. */
export async function* readTable(path: string, head: string, rejections: RejectionLog, o: TableOptions): AsyncGenerator<Sample[]> {
  const xlsx = head.startsWith(XLSX_MAGIC) ? await xlsxSheet(path, o.columns) : null;
  if (xlsx !== null && 'refused' in xlsx) throw new ImportError(path, xlsx.refused);
  const layout = sniffTable(xlsx?.first ?? head.split('\n').slice(0, 40).map(chomp), o.columns);
  if ('refused' in layout) throw new ImportError(path, layout.refused);
  const { delimiter, decimalComma, columns } = layout;
  const c = columns as Required<Pick<typeof columns, 'time' | 'voltage' | 'current'>> & typeof columns;
  const fileCell = o.cell ?? basename(path).replace(/\.[^.]*$/, '');
  const number = (s: string | undefined): number => (s === undefined || s === '' ? NaN : Number(decimalComma ? s.replace(',', '.') : s));
  const clock = new LocalClock(o.timeZone);
  const dateOf = (text: string): number => {
    const d = wallOrEpoch(text, layout.slashDates);
    return d === null ? NaN : 'wall_ms' in d ? clock.toUtc(d.wall_ms) : d.epoch_ms;
  };
  // A test-time column with the PC's dates beside it is dated by them, unless the user gives the start.
  const datedBy = o.start_ms === undefined ? columns.date : undefined;
  // A window of a growing file (the bridge) carries the clock on from where the last window of the file ended.
  const resumed = o.range !== undefined ? tableClocks.get(path) : undefined;
  let { clock: testClock, elapsed_s: prevElapsed_s } =
    resumed !== undefined && resumed.at === o.range?.from ? resumed : { clock: TEST_CLOCK_START, elapsed_s: 0 };
  let basis: 'dates' | 'durations' | null = null;
  let lineNo = 0;
  let out: Sample[] = [];
  if ((o.range?.from ?? 0) === 0)
    o.onNote?.(
      `${basename(path)}: a table (${delimiter === '\t' ? 'tab' : delimiter}-separated${decimalComma ? ', decimal comma' : ''}): ` +
        (layout.vendor !== undefined ? `${layout.vendor}'s export, ` : '') +
        (['time', 'voltage', 'current', 'cell', 'temperature', 'pressure', 'date'] as const)
          .filter((q) => columns[q] !== undefined)
          .map((q) => `${q} "${columns[q]!.header}"${columns[q]!.unit ? ` (${columns[q]!.unit})` : ''}`)
          .join(', ') +
        (layout.slashDates !== undefined ? `; dates read as ${layout.slashDates === 'm/d' ? 'month/day/year' : 'day/month/year'}` : ''),
    );
  const source = xlsx?.batches ?? readLineBatches(path, 'utf8', o.range === undefined ? undefined : { headerLines: layout.headLines, ...o.range });
  for await (const lines of source) {
    for (const raw of lines) {
      lineNo++;
      if (lineNo <= layout.headLines) continue;
      const line = chomp(raw);
      if (line.trim() === '') continue;
      const f = split(line, delimiter);
      const timeText = f[c.time.index] ?? '';
      let t_ms: number;
      const seconds = number(timeText);
      const clockTime_s = Number.isFinite(seconds) ? NaN : clockSeconds(timeText);
      if (Number.isFinite(seconds) || Number.isFinite(clockTime_s)) {
        // A number in the column's unit, or hh:mm:ss: a duration since the start.
        const elapsed_s = Number.isFinite(seconds) ? seconds * c.time.factor : clockTime_s;
        if (datedBy !== undefined) {
          // Beside the PC's dates: the test clock between rows, the dates across pauses (domain/testClock.ts).
          testClock = nextRecordTime(testClock, dateOf(f[datedBy.index] ?? ''), elapsed_s - prevElapsed_s);
          prevElapsed_s = elapsed_s;
          t_ms = testClock.last_ms;
          basis ??= 'dates';
        } else {
          t_ms = (o.start_ms ?? o.startIfUndated_ms ?? 0) + elapsed_s * 1000;
          basis ??= 'durations';
        }
      } else {
        t_ms = dateOf(timeText);
        basis ??= 'dates';
      }
      const voltage_V = number(f[c.voltage.index]) * c.voltage.factor;
      const current_mA = number(f[c.current.index]) * c.current.factor;
      if (!Number.isFinite(t_ms)) {
        rejections.reject({ source: path, line: lineNo, reason: 'bad-timestamp', detail: `time "${timeText}"` });
        continue;
      }
      if (!Number.isFinite(voltage_V) || !Number.isFinite(current_mA)) {
        rejections.reject({
          source: path,
          line: lineNo,
          reason: 'bad-number',
          detail: `voltage "${f[c.voltage.index] ?? ''}", current "${f[c.current.index] ?? ''}"`,
        });
        continue;
      }
      const aux = (q: 'temperature' | 'pressure'): number | undefined => {
        const col = columns[q];
        const x = col === undefined ? NaN : number(f[col.index]) * col.factor;
        return Number.isFinite(x) ? x : undefined;
      };
      out.push({
        cell: columns.cell !== undefined ? f[columns.cell.index] || fileCell : fileCell,
        t_ms,
        voltage_V,
        current_mA,
        pressure_MPa: aux('pressure'),
        temperature_C: aux('temperature'),
      });
      if (out.length >= 4096) {
        yield out;
        out = [];
      }
    }
  }
  if (out.length > 0) yield out;
  if (o.range !== undefined && datedBy !== undefined) {
    if (tableClocks.size >= TABLE_CLOCK_FILES) tableClocks.delete(tableClocks.keys().next().value!);
    tableClocks.set(path, { at: o.range.until, clock: testClock, elapsed_s: prevElapsed_s });
  }
  if (basis === 'durations' && o.start_ms === undefined && o.startIfUndated_ms !== undefined && (o.range?.from ?? 0) === 0)
    o.onNote?.(
      `${basename(path)}: times are durations and the file has no dates: time 0 is taken as the file's creation, ${new Date(o.startIfUndated_ms).toISOString()} (give start: to date them otherwise)`,
    );
  if (basis === 'durations' && o.start_ms === undefined && o.startIfUndated_ms === undefined)
    o.onNote?.(`${basename(path)}: times are durations since the start: outputs count hours from it (pass --start to date them)`);
}
