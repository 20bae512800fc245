/**
 * EC-Lab files of a simulated run, in the layouts the importers read (src/io/instruments/mpr.ts documents the binary one):
 * a `.mpr` (old module headers, data module version 3: flags, time/s, Ewe/V, I/mA) and its `.mpt` text export.
 * For benchmarks and the tests of files that grow while they are read; not a replacement for EC-Lab.
 */
import { open } from 'node:fs/promises';

export interface EcLabRow {
  readonly t_s: number;
  readonly voltage_V: number;
  readonly current_mA: number;
}

export interface EcLabRun {
  /** Acquisition start (the instrument's local time, written as is). */
  readonly start_ms: number;
  readonly areaCm2: number;
  /** Control range ± this (V). */
  readonly limit_V: number;
  /** Zero-based channel. */
  readonly channel: number;
}

const TECHNIQUE_GCPL = 0x04;
const ROW_BYTES = 1 + 8 + 4 + 4;
const MAGIC = Buffer.concat([Buffer.from('BIO-LOGIC MODULAR FILE\x1a'.padEnd(48, ' '), 'latin1'), Buffer.alloc(4)]);

const pad = (s: string, n: number): Buffer => Buffer.from(s.padEnd(n, ' ').slice(0, n), 'latin1');
const mmddyy = (t_ms: number): string => {
  const d = new Date(t_ms);
  const two = (x: number): string => String(x).padStart(2, '0');
  return `${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${two(d.getUTCFullYear() % 100)}`;
};

function moduleHeader(short: string, long: string, length: number, version: number, t_ms: number): Buffer {
  const h = Buffer.alloc(6 + 51);
  h.write('MODULE', 0, 'latin1');
  pad(short, 10).copy(h, 6);
  pad(long, 25).copy(h, 16);
  h.writeUInt32LE(length, 41);
  h.writeUInt32LE(version, 45);
  h.write(mmddyy(t_ms), 49, 'latin1');
  return h;
}

/** The header and module layout of a `.mpr` holding `rows` rows; the rows follow at `rowsAt`. */
function mprParts(run: EcLabRun, rows: number): { head: Buffer; tail: Buffer } {
  const settings = Buffer.alloc(1024);
  settings[0] = TECHNIQUE_GCPL;
  settings.writeFloatLE(run.areaCm2, 529);
  const dataHeader = Buffer.alloc(406);
  dataHeader.writeUInt32LE(rows, 0);
  dataHeader[4] = 4;
  [1, 4, 6, 8].forEach((id, k) => dataHeader.writeUInt16LE(id, 5 + 2 * k));
  dataHeader[405] = 1;
  const log = Buffer.alloc(1024);
  log[9] = run.channel;
  log.writeDoubleLE(run.start_ms / 86_400_000 + 25569, 465);
  log.writeFloatLE(-run.limit_V, 504);
  log.writeFloatLE(run.limit_V, 508);
  const head = Buffer.concat([
    MAGIC,
    moduleHeader('VMP Set', 'VMP settings', settings.length, 0, run.start_ms),
    settings,
    moduleHeader('VMP data', 'VMP data', dataHeader.length + rows * ROW_BYTES, 3, run.start_ms),
    dataHeader,
  ]);
  const tail = Buffer.concat([moduleHeader('VMP LOG', 'VMP LOG', log.length, 0, run.start_ms), log]);
  return { head, tail };
}

function encodeRows(rows: readonly EcLabRow[]): Buffer {
  const b = Buffer.alloc(rows.length * ROW_BYTES);
  rows.forEach((r, k) => {
    const p = k * ROW_BYTES;
    b[p] = r.current_mA === 0 ? 0 : 1; // mode: 1 galvanostatic, 0 rest
    b.writeDoubleLE(r.t_s, p + 1);
    b.writeFloatLE(r.voltage_V, p + 9);
    b.writeFloatLE(r.current_mA, p + 13);
  });
  return b;
}

/** Write a complete `.mpr` of the rows. */
export async function writeMpr(path: string, run: EcLabRun, rows: readonly EcLabRow[]): Promise<void> {
  const { head, tail } = mprParts(run, rows.length);
  const fh = await open(path, 'w');
  try {
    await fh.write(head);
    for (let k = 0; k < rows.length; k += 65_536) await fh.write(encodeRows(rows.slice(k, k + 65_536)));
    await fh.write(tail);
  } finally {
    await fh.close();
  }
}

/** Write the `.mpt` text export EC-Lab would make of the same run. */
export async function writeMpt(path: string, run: EcLabRun, rows: readonly EcLabRow[]): Promise<void> {
  const d = new Date(run.start_ms);
  const two = (x: number): string => String(x).padStart(2, '0');
  const started = `${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
  const header = [
    'EC-Lab ASCII FILE',
    'Nb header lines : 10',
    '',
    'Galvanostatic Cycling with Potential Limitation',
    '',
    `Run on channel : ${run.channel + 1} (SN 1)`,
    `Ewe ctrl range : min = ${(-run.limit_V).toFixed(2)} V, max = ${run.limit_V.toFixed(2)} V`,
    `Electrode surface area : ${run.areaCm2.toFixed(3)} cm\u00b2`,
    `Acquisition started on : ${started}`,
    'mode\ttime/s\tEwe/V\tI/mA',
  ];
  const fh = await open(path, 'w');
  try {
    await fh.write(Buffer.from(header.join('\n') + '\n', 'latin1'));
    for (let k = 0; k < rows.length; k += 65_536) {
      const text = rows
        .slice(k, k + 65_536)
        .map(
          (r) =>
            `${r.current_mA === 0 ? 0 : 1}\t${r.t_s.toExponential(15)}\t${Math.fround(r.voltage_V).toExponential(7)}\t${Math.fround(r.current_mA).toExponential(7)}\n`,
        )
        .join('');
      await fh.write(Buffer.from(text, 'latin1'));
    }
  } finally {
    await fh.close();
  }
}
