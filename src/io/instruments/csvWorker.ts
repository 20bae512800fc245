/**
 * Worker thread that reads and decodes a canonical CSV file beside the detection, on another core.
 * Columns are transferred (not copied) to the reading thread; at most CREDITS batches are in flight, so a
 * fast reader never gets far ahead of a slow analysis and memory stays bounded.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CsvDecoder, type CsvDecoderOptions, type RowColumns } from './csvRows.js';
import { readLineBatches } from './textLines.js';
import { ImportError } from './rejections.js';

export const CREDITS = 4;

export type CsvWorkerMessage =
  | { readonly type: 'rows'; readonly rows: RowColumns }
  | { readonly type: 'end'; readonly sawHeader: boolean }
  | { readonly type: 'error'; readonly detail: string; readonly importError: boolean };

const port = parentPort;
if (port !== null) {
  const options = workerData as CsvDecoderOptions;
  let credits = CREDITS;
  let wake: (() => void) | null = null;
  // Each message from the reading thread returns one credit: it has taken a batch.
  port.on('message', () => {
    credits++;
    wake?.();
    wake = null;
  });
  const send = (m: CsvWorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

  (async () => {
    const decoder = new CsvDecoder(options);
    for await (const lines of readLineBatches(options.path)) {
      const rows = decoder.decode(lines);
      while (credits === 0) await new Promise<void>((r) => (wake = r));
      credits--;
      const buffers = [rows.t_ms, rows.voltage_V, rows.current_mA, rows.pressure_MPa, rows.temperature_C, rows.cellIndex].map((a) => a.buffer as ArrayBuffer);
      send({ type: 'rows', rows }, buffers);
    }
    send({ type: 'end', sawHeader: decoder.sawHeader });
  })().catch((e: unknown) =>
    send(
      e instanceof ImportError
        ? { type: 'error', detail: e.detail, importError: true }
        : { type: 'error', detail: (e as NodeJS.ErrnoException).code ?? (e as Error).message, importError: false },
    ),
  );
}
