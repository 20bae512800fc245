// Report of one run in its own process: analyze with display series, then write report.html.
// Usage: node bench/report-child.mjs FILE.csv CELLS.yaml OUTDIR -> {"analyze_s","report_s","bytes","render_s"}
import { existsSync } from 'node:fs';
import { analyze } from '../dist/pipelines/analyze.js';
import { loadRegistry } from '../dist/src/config/registry.js';
import { writeReport } from '../dist/src/report/html.js';

const [file, cells, out] = process.argv.slice(2);
let t = performance.now();
await analyze({ files: [file], registry: await loadRegistry(cells), outDir: out, series: true });
const analyze_s = (performance.now() - t) / 1000;
t = performance.now();
const r = await writeReport(out);
const report_s = (performance.now() - t) / 1000;
// Time for headless Chromium to load the page and draw every chart, when it is installed.
let render_s = null;
if (existsSync('/usr/bin/chromium')) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  t = performance.now();
  await page.goto(`file://${r.html}`);
  await page.waitForFunction(() => globalThis.__cyclewatch !== undefined);
  render_s = (performance.now() - t) / 1000;
  await browser.close();
}
console.log(
  JSON.stringify({
    analyze_s: +analyze_s.toFixed(2),
    report_s: +report_s.toFixed(2),
    bytes: r.bytes,
    render_s: render_s === null ? null : +render_s.toFixed(2),
  }),
);
