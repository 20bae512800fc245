/**
 * The entries of a zip archive held in memory, from its central directory (PKWARE APPNOTE §4.3), stored or deflated.
 * Enough for instrument archives (Neware `.ndax`) that hold a few files; an archive still being written has no end
 * record yet, and says so.
 */
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflated. */
  readonly method: number;
  readonly compressedBytes: number;
  readonly bytes: number;
  /** Offset of the entry's local header. */
  readonly headerAt: number;
}

export class ZipError extends Error {}

const END_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
/** The end record is 22 bytes and a comment of at most 65,535. */
const END_SEARCH_BYTES = 22 + 0xffff;

/** The archive's entries by name. */
export function zipEntries(zip: Buffer): Map<string, ZipEntry> {
  let end = -1;
  for (let k = zip.length - 22; k >= Math.max(0, zip.length - END_SEARCH_BYTES); k--) {
    if (zip.readUInt32LE(k) === END_SIGNATURE) {
      end = k;
      break;
    }
  }
  if (end < 0) throw new ZipError('no end of central directory: the archive is incomplete (still being written?)');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  if (count === 0xffff || at === 0xffffffff) throw new ZipError('a ZIP64 archive with its directory beyond 4 GB or over 65,535 entries is not read');
  const entries = new Map<string, ZipEntry>();
  for (let k = 0; k < count; k++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw new ZipError(`central directory entry ${k + 1} of ${count} is damaged`);
    const nameBytes = zip.readUInt16LE(at + 28);
    const extraBytes = zip.readUInt16LE(at + 30);
    const name = zip.toString('utf8', at + 46, at + 46 + nameBytes);
    let bytes = zip.readUInt32LE(at + 24);
    let compressedBytes = zip.readUInt32LE(at + 20);
    let headerAt = zip.readUInt32LE(at + 42);
    // ZIP64 extended information (APPNOTE §4.5.3): the 64-bit values of the fields set to 0xffffffff, in this order.
    // Neware writes it for every entry, small ones too.
    for (let x = at + 46 + nameBytes; x + 4 <= at + 46 + nameBytes + extraBytes; x += 4 + zip.readUInt16LE(x + 2)) {
      if (zip.readUInt16LE(x) !== 0x0001) continue;
      let v = x + 4;
      const next = (): number => {
        const n = Number(zip.readBigUInt64LE(v));
        v += 8;
        return n;
      };
      if (bytes === 0xffffffff) bytes = next();
      if (compressedBytes === 0xffffffff) compressedBytes = next();
      if (headerAt === 0xffffffff) headerAt = next();
    }
    entries.set(name, { name, method: zip.readUInt16LE(at + 10), compressedBytes, bytes, headerAt });
    at += 46 + nameBytes + extraBytes + zip.readUInt16LE(at + 32);
  }
  return entries;
}

/** An entry's content. */
export function zipEntryData(zip: Buffer, e: ZipEntry): Buffer {
  const h = e.headerAt;
  if (h + 30 > zip.length || zip.readUInt32LE(h) !== LOCAL_SIGNATURE) throw new ZipError(`${e.name}: its local header is damaged`);
  const start = h + 30 + zip.readUInt16LE(h + 26) + zip.readUInt16LE(h + 28);
  const raw = zip.subarray(start, start + e.compressedBytes);
  if (raw.length < e.compressedBytes) throw new ZipError(`${e.name}: cut short`);
  const data = e.method === 0 ? raw : e.method === 8 ? inflateRawSync(raw) : null;
  if (data === null) throw new ZipError(`${e.name}: compression method ${e.method} is not read (stored and deflated are)`);
  if (data.length !== e.bytes) throw new ZipError(`${e.name}: ${data.length} bytes where the directory says ${e.bytes}`);
  return data;
}
