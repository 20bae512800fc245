/**
 * BioLogic EC-Lab / BT-Lab binary `.mpr` files, read in a stream: module headers are walked with positional reads,
 * the settings and LOG modules (small) are read whole, and the data module's rows are decoded a block at a time,
 * so memory stays bounded whatever the run's length.
 *
 * Layout (no official documentation; established from public readers and checked against the `.mpt` exports of
 * the same runs in the twin tests):
 * - magic `BIO-LOGIC MODULAR FILE\x1a`, space-padded to 48 bytes, then 4 zero bytes;
 * - modules, each `MODULE` + header: short name (10), long name (25), then either length, version, date (8) or,
 *   from EC-Lab 11.50, 0xFFFFFFFF, length, version, an extra field, date;
 * - the data module: points (u32), columns (u8), column ids (u16 LE; from byte 5 in versions 2/3, byte 6 in
 *   version 0), rows from byte 405 (v2), 406 (v3) or 1007 (v0). A row holds its columns in id order; the flag
 *   ids (mode, ox/red, …) share one byte at the position of the first of them;
 * - the LOG module holds the acquisition start as an OLE date (days since 1899-12-30) at one of a few offsets.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { ImportError } from './rejections.js';

export const MPR_MAGIC = 'BIO-LOGIC MODULAR FILE\x1a';
const MAGIC_BYTES = 52;

type ColumnType = 'f4' | 'f8' | 'u1' | 'u2' | 'u4';
const SIZE: Record<ColumnType, number> = { f4: 4, f8: 8, u1: 1, u2: 2, u4: 4 };

/** Column ids → the names the `.mpt` export gives them (newer EC-Lab versions' names after the first) and type. */
const COLUMNS: Record<number, readonly [readonly string[], ColumnType]> = {
  4: [['time/s'], 'f8'],
  5: [['control/V/mA'], 'f4'],
  6: [['Ewe/V', 'Ecell/V'], 'f4'],
  7: [['dq/mA.h'], 'f8'],
  8: [['I/mA'], 'f4'],
  9: [['Ece/V'], 'f4'],
  11: [['<I>/mA'], 'f8'],
  13: [['(Q-Qo)/mA.h'], 'f8'],
  16: [['Analog IN 1/V'], 'f4'],
  17: [['Analog IN 2/V'], 'f4'],
  19: [['control/V'], 'f4'],
  20: [['control/mA'], 'f4'],
  23: [['dQ/mA.h'], 'f8'],
  24: [['cycle number'], 'f8'],
  26: [['Rapp/Ohm'], 'f4'],
  27: [['Ewe-Ece/V'], 'f4'],
  32: [['freq/Hz'], 'f4'],
  33: [['|Ewe|/V'], 'f4'],
  34: [['|I|/A'], 'f4'],
  35: [['Phase(Z)/deg'], 'f4'],
  36: [['|Z|/Ohm'], 'f4'],
  37: [['Re(Z)/Ohm'], 'f4'],
  38: [['-Im(Z)/Ohm'], 'f4'],
  39: [['I Range'], 'u2'],
  69: [['R/Ohm'], 'f4'],
  70: [['P/W'], 'f4'],
  74: [['|Energy|/W.h'], 'f8'],
  75: [['Analog OUT/V'], 'f4'],
  76: [['<I>/mA'], 'f4'],
  77: [['<Ewe>/V'], 'f4'],
  78: [['Cs-2/µF-2'], 'f4'],
  96: [['|Ece|/V'], 'f4'],
  98: [['Phase(Zce)/deg'], 'f4'],
  99: [['|Zce|/Ohm'], 'f4'],
  100: [['Re(Zce)/Ohm'], 'f4'],
  101: [['-Im(Zce)/Ohm'], 'f4'],
  123: [['Energy charge/W.h', 'Energy we charge/W.h'], 'f8'],
  124: [['Energy discharge/W.h', 'Energy we discharge/W.h'], 'f8'],
  125: [['Capacitance charge/µF'], 'f8'],
  126: [['Capacitance discharge/µF'], 'f8'],
  131: [['Ns'], 'u2'],
  163: [['|Estack|/V'], 'f4'],
  168: [['Rcmp/Ohm'], 'f4'],
  169: [['Cs/µF'], 'f4'],
  172: [['Cp/µF'], 'f4'],
  173: [['Cp-2/µF-2'], 'f4'],
  174: [['<Ewe>/V'], 'f4'],
  178: [['(Q-Qo)/C'], 'f4'],
  179: [['dQ/C'], 'f4'],
  211: [['Q charge/discharge/mA.h'], 'f8'],
  212: [['half cycle'], 'u4'],
  213: [['z cycle'], 'u4'],
  217: [['THD Ewe/%'], 'f4'],
  218: [['THD I/%'], 'f4'],
  220: [['NSD Ewe/%'], 'f4'],
  221: [['NSD I/%'], 'f4'],
  223: [['NSR Ewe/%'], 'f4'],
  224: [['NSR I/%'], 'f4'],
  230: [['|Ewe h2|/V'], 'f4'],
  231: [['|Ewe h3|/V'], 'f4'],
  232: [['|Ewe h4|/V'], 'f4'],
  233: [['|Ewe h5|/V'], 'f4'],
  234: [['|Ewe h6|/V'], 'f4'],
  235: [['|Ewe h7|/V'], 'f4'],
  236: [['|I h2|/A'], 'f4'],
  237: [['|I h3|/A'], 'f4'],
  238: [['|I h4|/A'], 'f4'],
  239: [['|I h5|/A'], 'f4'],
  240: [['|I h6|/A'], 'f4'],
  241: [['|I h7|/A'], 'f4'],
  242: [['|E2|/V'], 'f4'],
  430: [['Phase(Zwe-ce)/deg'], 'f4'],
  431: [['|Zwe-ce|/Ohm'], 'f4'],
  432: [['Re(Zwe-ce)/Ohm'], 'f4'],
  433: [['-Im(Zwe-ce)/Ohm'], 'f4'],
  434: [['(Q-Qo)/C'], 'f4'],
  435: [['dQ/C'], 'f4'],
  438: [['step time/s'], 'f8'],
  441: [['<Ecv>/V'], 'f4'],
  462: [['Temperature/°C'], 'f4'],
  467: [['Q charge/discharge/mA.h'], 'f8'],
  468: [['half cycle'], 'u4'],
  469: [['z cycle'], 'u4'],
  471: [['<Ece>/V'], 'f4'],
  473: [['THD Ewe/%'], 'f4'],
  474: [['THD I/%'], 'f4'],
  476: [['NSD Ewe/%'], 'f4'],
  477: [['NSD I/%'], 'f4'],
  479: [['NSR Ewe/%'], 'f4'],
  480: [['NSR I/%'], 'f4'],
  486: [['|Ewe h2|/V'], 'f4'],
  487: [['|Ewe h3|/V'], 'f4'],
  488: [['|Ewe h4|/V'], 'f4'],
  489: [['|Ewe h5|/V'], 'f4'],
  490: [['|Ewe h6|/V'], 'f4'],
  491: [['|Ewe h7|/V'], 'f4'],
  492: [['|I h2|/A'], 'f4'],
  493: [['|I h3|/A'], 'f4'],
  494: [['|I h4|/A'], 'f4'],
  495: [['|I h5|/A'], 'f4'],
  496: [['|I h6|/A'], 'f4'],
  497: [['|I h7|/A'], 'f4'],
  498: [['Q charge/mA.h'], 'f8'],
  499: [['Q discharge/mA.h'], 'f8'],
  500: [['step time/s'], 'f8'],
  501: [['Efficiency/%'], 'f8'],
  502: [['Capacity/mA.h'], 'f8'],
  505: [['Rdc/Ohm'], 'f4'],
};

/** Flag ids: bits of one shared byte. */
const FLAGS: Record<number, readonly [string, number]> = {
  1: ['mode', 0x03],
  2: ['ox/red', 0x04],
  3: ['error', 0x08],
  21: ['control changes', 0x10],
  31: ['Ns changes', 0x20],
  65: ['counter inc.', 0x80],
};

export interface MprColumn {
  readonly id: number;
  /** The name in `.mpt` exports; `aliases` are other versions' names for it. */
  readonly name: string;
  readonly aliases: readonly string[];
  /** Byte offset in a row. */
  readonly offset: number;
  readonly type: ColumnType | 'flag';
  readonly mask: number;
}

export interface MprModule {
  readonly name: string;
  readonly version: number;
  readonly date: string;
  /** The EC-Lab ≥ 11.50 module header (it also widens some technique parameters in the settings module). */
  readonly wideHeader: boolean;
  /** File offset of the module's data, and its length in bytes. */
  readonly at: number;
  readonly length: number;
}

export interface MprFile {
  readonly path: string;
  readonly size_bytes: number;
  readonly modules: readonly MprModule[];
  readonly dataVersion: number;
  /** Points the data module says it holds (the rows present are counted from its length: a growing file may lag). */
  readonly points: number;
  readonly columns: readonly MprColumn[];
  /**
   * Columns whose id is not known (a newer EC-Lab), stepped over: their width comes from the data module's own size,
   * `bytes` for each, or for all of them together when several end the row.
   */
  readonly skipped: readonly { readonly id: number; readonly position: number; readonly bytes: number }[];
  readonly rowBytes: number;
  /** File offset of the first row, and how many whole rows the file holds. */
  readonly rowsAt: number;
  readonly rows: number;
  /**
   * Acquisition start from the LOG module, if the file has one: the instrument PC's local wall clock (an OLE date
   * without a zone), as the epoch ms of that wall clock read as UTC; the importer converts it in the lab's zone.
   */
  readonly startLocal_ms: number | undefined;
  /** The settings module's bytes (technique, electrode) and the LOG module's first 4 KiB (channel, control range). */
  readonly settings: Buffer | null;
  readonly log: Buffer | null;
}

const fail = (path: string, what: string): never => {
  throw new ImportError(path, `not a readable EC-Lab .mpr file: ${what}`);
};

async function readAt(fh: FileHandle, at: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, at);
  return bytesRead === length ? buf : buf.subarray(0, bytesRead);
}

/** Walk the modules and decode the data module's header. Only headers, settings and LOG are read. */
export async function openMpr(path: string): Promise<MprFile> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new ImportError(path, `cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const size_bytes = (await fh.stat()).size;
    const magic = await readAt(fh, 0, MAGIC_BYTES);
    if (magic.length < MAGIC_BYTES || magic.subarray(0, MPR_MAGIC.length).toString('latin1') !== MPR_MAGIC) fail(path, 'no "BIO-LOGIC MODULAR FILE" magic');
    const modules: MprModule[] = [];
    let at = MAGIC_BYTES;
    while (at < size_bytes) {
      const h = await readAt(fh, at, 6 + 59);
      if (h.length < 6 + 51 || h.subarray(0, 6).toString('latin1') !== 'MODULE') fail(path, `no module header at byte ${at}`);
      const name = h.subarray(6, 16).toString('latin1').trim();
      const wide = h.length >= 65 && h.readUInt32LE(6 + 35) === 0xffffffff;
      const length = h.readUInt32LE(6 + (wide ? 39 : 35));
      const version = h.readUInt32LE(6 + (wide ? 43 : 39));
      const date = h.subarray(6 + (wide ? 51 : 43), 6 + (wide ? 59 : 51)).toString('latin1');
      const dataAt = at + 6 + (wide ? 59 : 51);
      modules.push({ name, version, date, wideHeader: wide, at: dataAt, length });
      at = dataAt + length;
    }
    const data = modules.find((m) => m.name === 'VMP data');
    if (data === undefined) return fail(path, `no data module (modules: ${modules.map((m) => m.name).join(', ') || 'none'})`);
    const head = await readAt(fh, data.at, Math.min(data.length, 1007));
    if (head.length < 5) fail(path, 'the data module ends inside its header');
    const points = head.readUInt32LE(0);
    const n = head[4]!;
    const idsAt = data.version === 0 ? 6 : 5;
    const rowsOffset =
      data.version === 0 ? 1007 : data.version === 2 ? 405 : data.version === 3 ? 406 : fail(path, `data module version ${data.version} is not known`);
    if (head.length < idsAt + 2 * n) fail(path, 'the data module ends inside its column list');
    const ids = Array.from({ length: n }, (_, k) => head.readUInt16LE(idsAt + 2 * k));
    // Vendor updates add columns. An unknown one has no size of its own, but the data module states its length and
    // row count: the row's size less the known columns' is the unknown one's width.
    const unknown = ids.flatMap((id, k) => (FLAGS[id] === undefined && COLUMNS[id] === undefined ? [k] : []));
    let unknownBytes = 0;
    if (unknown.length > 0) {
      const knownBytes =
        (ids.some((id) => FLAGS[id] !== undefined) ? 1 : 0) + ids.reduce((sum, id) => sum + (COLUMNS[id] === undefined ? 0 : SIZE[COLUMNS[id][1]]), 0);
      const stated = points > 0 ? (data.length - rowsOffset) / points : NaN;
      unknownBytes = stated - knownBytes;
      const named = unknown.map((k) => `${ids[k]} (column ${k + 1} of ${n})`).join(', ');
      const lastKnown = Math.max(-1, ...ids.flatMap((id, k) => (COLUMNS[id] !== undefined || FLAGS[id] !== undefined ? [k] : [])));
      if (!Number.isInteger(stated) || unknownBytes <= 0)
        return fail(path, `column id ${named} is not known and the data module does not give its width; please report it with the EC-Lab version`);
      if (unknown.length > 1 && unknown[0]! < lastKnown)
        return fail(path, `column ids ${named} are not known and their widths cannot be told apart; please report them with the EC-Lab version`);
      if (unknown.length === 1 && ![1, 2, 4, 8].includes(unknownBytes))
        return fail(path, `column id ${named} is not known and would be ${unknownBytes} bytes wide; please report it with the EC-Lab version`);
    }
    const columns: MprColumn[] = [];
    const skipped: { id: number; position: number; bytes: number }[] = [];
    let offset = 0;
    let flagsAt = -1;
    for (let k = 0; k < n; k++) {
      const id = ids[k]!;
      const flag = FLAGS[id];
      if (flag !== undefined) {
        if (flagsAt < 0) flagsAt = offset++;
        columns.push({ id, name: flag[0], aliases: [], offset: flagsAt, type: 'flag', mask: flag[1] });
        continue;
      }
      const known = COLUMNS[id];
      if (known === undefined) {
        // Several unknown ones end the row together: the first takes their common width, the others nothing.
        const bytes = k === unknown[0] ? unknownBytes : 0;
        skipped.push({ id, position: k + 1, bytes });
        offset += bytes;
        continue;
      }
      columns.push({ id, name: known[0][0]!, aliases: known[0].slice(1), offset, type: known[1], mask: 0 });
      offset += SIZE[known[1]];
    }
    const rowBytes = offset;
    const rowsAt = data.at + rowsOffset;
    const stored = Math.max(0, Math.min(data.at + data.length, size_bytes) - rowsAt);
    const rows = rowBytes > 0 ? Math.floor(stored / rowBytes) : 0;
    const setMod = modules.find((m) => m.name === 'VMP Set');
    const settings = setMod === undefined ? null : await readAt(fh, setMod.at, Math.min(setMod.length, 1 << 20));
    const logMod = modules.find((m) => m.name === 'VMP LOG');
    const log = logMod === undefined ? null : await readAt(fh, logMod.at, Math.min(logMod.length, 4096));
    const startLocal_ms = log === null ? undefined : oleStart_ms(log);
    return { path, size_bytes, modules, dataVersion: data.version, points, columns, skipped, rowBytes, rowsAt, rows, startLocal_ms, settings, log };
  } finally {
    await fh.close();
  }
}

/** The acquisition start in the LOG module: an OLE date, at one of the offsets EC-Lab versions have used. */
function oleStart_ms(log: Buffer): number | undefined {
  for (const at of [465, 469, 473, 585]) {
    if (at + 8 > log.length) continue;
    const days = log.readDoubleLE(at);
    // 1990 … 2100: anything else is not the date.
    if (days > 32874 && days < 73051) return Math.round((days - 25569) * 86_400_000 * 1000) / 1000;
  }
  return undefined;
}

/** Decoded rows: one array per requested column (in the order asked), `n` rows. */
export interface MprRows {
  readonly n: number;
  readonly values: readonly Float64Array[];
  /** Index of the first row of this block in the file. */
  readonly first: number;
}

/** The first column, in the file's order, with one of these names (or aliases); undefined if none. */
export function mprColumn(file: MprFile, ...names: string[]): MprColumn | undefined {
  return file.columns.find((c) => names.includes(c.name) || c.aliases.some((a) => names.includes(a)));
}

/**
 * Rows of the data module, `blockRows` at a time, decoding only the given columns. `from` skips rows already read
 * (a file being tailed); rows beyond the end of the file are left for a later call.
 */
export async function* readMprRows(file: MprFile, columns: readonly MprColumn[], from = 0, blockRows = 16_384): AsyncGenerator<MprRows> {
  const fh = await open(file.path, 'r');
  try {
    const size = (await fh.stat()).size;
    const end = Math.min(file.rowsAt + Math.max(file.rows, file.points) * file.rowBytes, size);
    const available = Math.floor(Math.max(0, end - file.rowsAt) / file.rowBytes);
    for (let first = from; first < available; first += blockRows) {
      const n = Math.min(blockRows, available - first);
      const buf = await readAt(fh, file.rowsAt + first * file.rowBytes, n * file.rowBytes);
      const whole = Math.floor(buf.length / file.rowBytes);
      const values = columns.map(() => new Float64Array(whole));
      for (let c = 0; c < columns.length; c++) {
        const col = columns[c]!;
        const out = values[c]!;
        const step = file.rowBytes;
        // One loop per type: the type test stays out of the per-row path.
        let p = col.offset;
        if (col.type === 'f8') for (let r = 0; r < whole; r++, p += step) out[r] = buf.readDoubleLE(p);
        else if (col.type === 'f4') for (let r = 0; r < whole; r++, p += step) out[r] = buf.readFloatLE(p);
        else if (col.type === 'u1') for (let r = 0; r < whole; r++, p += step) out[r] = buf[p]!;
        else if (col.type === 'u2') for (let r = 0; r < whole; r++, p += step) out[r] = buf.readUInt16LE(p);
        else if (col.type === 'u4') for (let r = 0; r < whole; r++, p += step) out[r] = buf.readUInt32LE(p);
        else {
          // mode is a two-bit number; the other flags are booleans
          const mask = col.mask;
          for (let r = 0; r < whole; r++, p += step) out[r] = mask === 0x03 ? buf[p]! & mask : (buf[p]! & mask) === 0 ? 0 : 1;
        }
      }
      yield { n: whole, values, first };
      if (whole < n) return;
    }
  } finally {
    await fh.close();
  }
}
