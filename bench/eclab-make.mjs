// Writes the simulated long-term run (one cell) as EC-Lab .mpr and .mpt files beside it, once.
// Usage: node bench/eclab-make.mjs FILE.csv OUT_STEM
import { openTelemetry } from '../dist/src/io/instruments/importers.js';
import { RejectionLog } from '../dist/src/io/instruments/rejections.js';
import { writeMpr, writeMpt } from '../dist/src/sim/ecLab.js';

const [csv, stem] = process.argv.slice(2);
const f = await openTelemetry(csv, new RejectionLog());
const rows = [];
let start_ms = null;
for await (const b of f.batches)
  for (const s of b) {
    if (s.voltage_V === undefined || s.current_mA === undefined) continue;
    start_ms ??= s.t_ms;
    rows.push({ t_s: (s.t_ms - start_ms) / 1000, voltage_V: s.voltage_V, current_mA: s.current_mA });
  }
const run = { start_ms, areaCm2: 1, limit_V: 8, channel: 0 };
await writeMpr(`${stem}.mpr`, run, rows);
await writeMpt(`${stem}.mpt`, run, rows);
console.log(JSON.stringify({ rows: rows.length }));
