// Instrument readers' speed: each file decoded to samples again and again for at least a second (after one warm-up
// pass), in one process. Usage: node bench/readers-child.mjs FILE… -> one JSON line per file
// {"file","format","rows","passes","s","rowsPerS"}
import { basename } from 'node:path';
import { openTelemetry } from '../dist/src/io/instruments/importers.js';
import { RejectionLog } from '../dist/src/io/instruments/rejections.js';

async function pass(file) {
  const f = await openTelemetry(file, new RejectionLog(), { timeZone: 'UTC' });
  let rows = 0;
  for await (const b of f.batches) rows += b.length;
  return { format: f.format, rows };
}

for (const file of process.argv.slice(2)) {
  const { format, rows } = await pass(file);
  let passes = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1000 || passes < 1) {
    await pass(file);
    passes++;
  }
  const s = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ file: basename(file), format, rows, passes, s: +s.toFixed(2), rowsPerS: Math.round((rows * passes) / s) }));
}
