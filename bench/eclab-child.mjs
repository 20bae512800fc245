// EC-Lab import speed: the same simulated run as a binary .mpr and as its .mpt text export, decoded to samples.
// Usage: node bench/eclab-child.mjs FILE -> {"samples","s","samplesPerS","peakRssMB"}
import { openTelemetry } from '../dist/src/io/instruments/importers.js';
import { RejectionLog } from '../dist/src/io/instruments/rejections.js';

const [file] = process.argv.slice(2);
const t0 = performance.now();
const f = await openTelemetry(file, new RejectionLog());
let samples = 0;
let check = 0;
for await (const b of f.batches) {
  samples += b.length;
  check += b[b.length - 1].voltage_V;
}
const s = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({ samples, s: +s.toFixed(2), samplesPerS: Math.round(samples / s), peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024), check }),
);
