// One offline analysis in its own process, so its peak RSS is its own: {"samples","s","samplesPerS","peakRssMB"}.
// Usage: node bench/analyze-child.mjs FILE.csv CELLS.yaml OUTDIR
import { analyze } from '../dist/pipelines/analyze.js';
import { loadRegistry } from '../dist/src/config/registry.js';

const [file, cells, out] = process.argv.slice(2);
const t0 = performance.now();
const r = await analyze({ files: [file], registry: await loadRegistry(cells), outDir: out });
const s = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    samples: r.samples,
    s: +s.toFixed(2),
    samplesPerS: Math.round(r.samples / s),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
