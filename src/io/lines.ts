import { createReadStream } from 'node:fs';

/**
 * Lines of a file as batches, streamed: memory stays bounded whatever the file's size.
 * Faster than `readline` because it hands out whole chunks of lines at once.
 */
export async function* readLineBatches(path: string, encoding: 'utf8' | 'latin1' = 'utf8'): AsyncGenerator<string[]> {
  const stream = createReadStream(path, { encoding, highWaterMark: 1 << 20 });
  let rest = '';
  for await (const chunk of stream as AsyncIterable<string>) {
    const text = rest + chunk;
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    yield lines;
  }
  if (rest.length > 0) yield [rest];
}

/** Strip a trailing carriage return (Windows exports). */
export function chomp(line: string): string {
  return line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
}
