import { isAscii } from 'node:buffer';
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Lines of a file as batches, streamed: memory stays bounded whatever the file's size.
 * Chunks are cut at their last newline, so a multi-byte UTF-8 character is never split, and pure-ASCII
 * chunks (the usual telemetry export) are decoded as Latin-1, which is the same text but much cheaper.
 */
export async function* readLineBatches(path: string, encoding: 'utf8' | 'latin1' = 'utf8', range?: LineRange): AsyncGenerator<string[]> {
  if (range !== undefined) {
    yield* readLineRange(path, encoding, range);
    return;
  }
  yield* linesOf(createReadStream(path, { highWaterMark: 1 << 20 }), encoding);
}

/** A byte stream's lines, a chunk at a time; a last line without its newline comes last. */
async function* linesOf(stream: AsyncIterable<Buffer>, encoding: 'utf8' | 'latin1'): AsyncGenerator<string[]> {
  let rest: Buffer | null = null;
  for await (const data of stream) {
    const chunk: Buffer = rest === null ? data : Buffer.concat([rest, data]);
    const cut = chunk.lastIndexOf(10);
    if (cut < 0) {
      rest = chunk;
      continue;
    }
    rest = cut + 1 < chunk.length ? chunk.subarray(cut + 1) : null;
    yield decode(chunk.subarray(0, cut), encoding).split('\n');
  }
  if (rest !== null && rest.length > 0) yield [decode(rest, encoding)];
}

function decode(bytes: Buffer, encoding: 'utf8' | 'latin1'): string {
  return encoding === 'latin1' || isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}

/** Strip a trailing carriage return (Windows exports). */
export function chomp(line: string): string {
  return line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
}

/** Windows up to this size are read in one synchronous call. */
const SMALL_WINDOW_BYTES = 1 << 20;

/** A window of a growing file: its first `headerLines` lines, then the whole lines in bytes [from, until). */
export interface LineRange {
  readonly headerLines: number;
  readonly from: number;
  readonly until: number;
}

/**
 * The header lines (which a decoder needs to make sense of any later line), then the lines of the window. The window
 * must start at a line start and end just after a newline: a file being written ends with a partial line, which
 * is left for the next window.
 */
async function* readLineRange(path: string, encoding: 'utf8' | 'latin1', r: LineRange): AsyncGenerator<string[]> {
  let headerEnd = 0;
  if (r.headerLines > 0) {
    const bytes = await firstLines(path, r.headerLines);
    const header = bytes.length === 0 ? [] : decode(bytes, encoding).split('\n').slice(0, r.headerLines);
    headerEnd = bytes.length;
    // A header still being written gives no lines at all: a decoder must never take half a header for a whole one.
    if (header.length < r.headerLines || headerEnd > r.until) return;
    yield header;
  }
  const from = Math.max(r.from, headerEnd);
  if (r.until <= from) return;
  // A window that ends without a newline ends at the end of a settled file: its last line is whole.
  if (r.until - from <= SMALL_WINDOW_BYTES) {
    // A follower's usual window (a few new rows): one read, no stream.
    const buf = Buffer.allocUnsafe(r.until - from);
    const fd = openSync(path, 'r');
    let bytesRead: number;
    try {
      bytesRead = readSync(fd, buf, 0, buf.length, from);
    } finally {
      closeSync(fd);
    }
    const text = decode(buf.subarray(0, bytesRead), encoding);
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    if (lines.length > 0) yield lines;
    return;
  }
  yield* linesOf(createReadStream(path, { start: from, end: r.until - 1, highWaterMark: 1 << 20 }), encoding);
}

/**
 * Where a window of whole lines starting at `from` ends: just after the last newline before `limit` (or the file's
 * end). `from` itself when no newline is there yet.
 */
export async function wholeLinesUntil(path: string, from: number, limit: number): Promise<number> {
  // Synchronous: a few small reads of a local file cost less than the promise machinery of a FileHandle, and a
  // follower does this for every file at every poll.
  const fd = openSync(path, 'r');
  try {
    const end = Math.min(fstatSync(fd).size, limit);
    // Backwards a window at a time: the last newline is usually within the last few hundred bytes.
    for (let hi = end; hi > from;) {
      const lo = Math.max(from, hi - 65_536);
      const buf = Buffer.allocUnsafe(hi - lo);
      const bytesRead = readSync(fd, buf, 0, buf.length, lo);
      const nl = buf.subarray(0, bytesRead).lastIndexOf(10);
      if (nl >= 0) return lo + nl + 1;
      hi = lo;
    }
    return from;
  } finally {
    closeSync(fd);
  }
}

/**
 * The bytes of a file's first `n` lines, newlines included (fewer when the file has fewer whole lines). Small reads:
 * a follower looks at a hundred headers every few seconds, and a large buffer each time is garbage to collect.
 */
export async function firstLines(path: string, n: number): Promise<Buffer> {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let lines = 0;
    let at = 0;
    for (let size = 16_384; ; size = Math.min(size * 2, 1 << 20)) {
      const buf = Buffer.allocUnsafe(size);
      const bytesRead = readSync(fd, buf, 0, size, at);
      if (bytesRead === 0) return Buffer.alloc(0);
      const got = buf.subarray(0, bytesRead);
      for (let k = got.indexOf(10); k >= 0; k = got.indexOf(10, k + 1)) {
        if (++lines === n) {
          chunks.push(got.subarray(0, k + 1));
          return Buffer.concat(chunks);
        }
      }
      chunks.push(got);
      at += bytesRead;
    }
  } finally {
    closeSync(fd);
  }
}
