import { isAscii } from 'node:buffer';
import { createReadStream } from 'node:fs';

/**
 * Lines of a file as batches, streamed: memory stays bounded whatever the file's size.
 * Chunks are cut at their last newline, so a multi-byte UTF-8 character is never split, and pure-ASCII
 * chunks (the usual telemetry export) are decoded as Latin-1, which is the same text but much cheaper.
 */
export async function* readLineBatches(path: string, encoding: 'utf8' | 'latin1' = 'utf8'): AsyncGenerator<string[]> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  let rest: Buffer | null = null;
  for await (const data of stream as AsyncIterable<Buffer>) {
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
