// `npm run bench`: offline analysis throughput and peak RSS against a bare CSV-reading floor, in the same run.
// Inputs are simulated long-term runs at 1 Hz (800 h = 2.88 M samples; 80 h for the memory comparison),
// generated once into bench/.cache. Each measurement is the best of REPS (5) alternating runs: this 2-core machine is noisy.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, 'bench', '.cache');
const REPS = Number(process.env.BENCH_REPS ?? 5);
// BENCH_ONLY=analyze runs the offline measurement alone (the report, live and bridge parts take minutes more);
// `node bench/bridge.mjs` runs the bridge part alone (BENCH_BRIDGE_ONLY=backlog|live, one of its two); `node
// bench/mqtt.mjs` the MQTT input's CPU per message at a fixed rate, backlog drain and floods of bad input.
const ONLY = process.env.BENCH_ONLY;
mkdirSync(cache, { recursive: true });
const sharedFloor = resolve(root, '..', 'shared', 'bench', 'bare-csv.mjs');
const floor = existsSync(sharedFloor) ? sharedFloor : join(root, 'bench', 'floor-csv.mjs');

function node(args) {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
}

function dataset(hours) {
  const csv = join(cache, `long-term-${hours}h.csv`);
  if (!existsSync(csv)) {
    process.stderr.write(`bench: simulating ${hours} h at 1 Hz into ${csv}\n`);
    node(['bin/cyclewatch.js', 'simulate', '--scenario', 'long-term', '--hours', String(hours), '--out', csv]);
  }
  return { csv, cells: csv.replace(/\.csv$/, '.cells.yaml') };
}

function measure(hours) {
  const { csv, cells } = dataset(hours);
  const out = join(cache, `out-${hours}h`);
  let best = null;
  let bestFloor = null;
  for (let k = 0; k < REPS; k++) {
    const f = JSON.parse(node([floor, csv]).trim().split('\n').pop());
    const c = JSON.parse(
      node([join(root, 'bench', 'analyze-child.mjs'), csv, cells, out])
        .trim()
        .split('\n')
        .pop(),
    );
    if (bestFloor === null || +f.s < +bestFloor.s) bestFloor = f;
    if (best === null || c.s < best.s) best = c;
    if (best.peakRssMB < c.peakRssMB) best = { ...best, peakRssMB: Math.max(best.peakRssMB, c.peakRssMB) };
  }
  rmSync(out, { recursive: true, force: true });
  return {
    hours,
    samples: best.samples,
    floor_s: +bestFloor.s,
    floorRowsPerS: bestFloor.rowsPerS,
    floorRssMB: bestFloor.rssMB,
    cyclewatch_s: best.s,
    samplesPerS: best.samplesPerS,
    peakRssMB: best.peakRssMB,
    ratio: +(best.s / +bestFloor.s).toFixed(2),
  };
}

const rows = [measure(80), measure(800)];
console.log('\nOffline analyze (simulated long-term run, 1 Hz), best of', REPS);
console.log('run    samples     floor s  floor/s     cyclewatch s  cyclewatch/s  time ratio  peak RSS MB (floor)');
for (const r of rows) {
  console.log(
    `${String(r.hours).padEnd(5)}h ${String(r.samples).padStart(9)}  ${r.floor_s.toFixed(2).padStart(7)}  ${String(r.floorRowsPerS).padStart(8)}  ${r.cyclewatch_s.toFixed(2).padStart(12)}  ${String(r.samplesPerS).padStart(12)}  ${r.ratio.toFixed(2).padStart(9)}×  ${String(r.peakRssMB).padStart(6)} (${r.floorRssMB})`,
  );
}
const [short, long] = rows;
console.log(`target: time ratio ≤ 1.5× at 800 h → ${long.ratio <= 1.5 ? 'met' : 'NOT met'} (${long.ratio}×)`);
console.log(`target: peak RSS flat in run length → 80 h ${short.peakRssMB} MB, 800 h ${long.peakRssMB} MB (${(long.peakRssMB / short.peakRssMB).toFixed(2)}×)`);

// EC-Lab files: the same 800 h run as .mpr and as .mpt (written once into the cache), decoded to samples.
{
  const { csv } = dataset(800);
  const stem = join(cache, 'long-term-800h.eclab');
  if (!existsSync(`${stem}.mpr`) || !existsSync(`${stem}.mpt`)) {
    process.stderr.write(`bench: writing ${stem}.mpr and .mpt\n`);
    node(['--max-old-space-size=4096', join(root, 'bench', 'eclab-make.mjs'), csv, stem]);
  }
  const best = (file) => {
    let b = null;
    for (let k = 0; k < Math.min(REPS, 3); k++) {
      const r = JSON.parse(
        node([join(root, 'bench', 'eclab-child.mjs'), file])
          .trim()
          .split('\n')
          .pop(),
      );
      if (b === null || r.s < b.s) b = { ...r, peakRssMB: Math.max(r.peakRssMB, b?.peakRssMB ?? 0) };
    }
    return b;
  };
  const mpr = best(`${stem}.mpr`);
  const mpt = best(`${stem}.mpt`);
  console.log(`\nEC-Lab files, 800 h at 1 Hz (${mpr.samples} rows), decoded to samples, best of ${Math.min(REPS, 3)}`);
  console.log(
    `.mpr: ${mpr.s} s (${mpr.samplesPerS} rows/s, peak RSS ${mpr.peakRssMB} MB); .mpt: ${mpt.s} s (${mpt.samplesPerS} rows/s, peak RSS ${mpt.peakRssMB} MB)`,
  );
  console.log(`target: .mpr faster than .mpt → ${mpr.s < mpt.s && mpr.samples === mpt.samples ? 'met' : 'NOT met'} (${(mpt.s / mpr.s).toFixed(1)}×)`);
}

// Each instrument reader on the largest real test file of its format (test/fixtures/real), next to EC-Lab's.
{
  const real = join(root, 'test', 'fixtures', 'real');
  const sharedMpr = join(root, '..', 'shared', 'data', 'real', 'mpr', 'gcpl.pr_182.1.mpr');
  const files = [
    join(real, 'neware', '2-1-6_61[07005012].nda'),
    join(real, 'neware', 'TestFile.nda'),
    join(real, 'neware', 'BTS85-36-6-5-110-20240424.steps1-3.ndax'),
    join(real, 'arbin', '20160805_test001_45_cc_01.res'),
    join(real, 'neware', 'neware_uio.csv'),
    join(real, 'maccor', 'PredictionDiagnostics_000151_paused.052'),
    join(real, 'arbin', '2017-05-09_test-TC-contact_CH33.csv'),
    ...(existsSync(sharedMpr) ? [sharedMpr] : []),
  ];
  const lines = node([join(root, 'bench', 'readers-child.mjs'), ...files])
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  console.log('\nInstrument readers, real files, decoded to samples (repeated for ≥ 1 s in one process)');
  for (const r of lines)
    console.log(`${r.format.padEnd(6)} ${r.file.padEnd(48)} ${String(r.rows).padStart(6)} rows  ${r.rowsPerS.toLocaleString('en').padStart(10)} rows/s`);
  if (!existsSync(sharedMpr)) console.log('(EC-Lab .mpr: ../shared/data/real is not beside the repository; the 800 h .mpr above is the comparison)');
}

if (ONLY !== 'analyze') {
  const { csv, cells } = dataset(800);
  const out = join(cache, 'out-report');
  const r = JSON.parse(
    node([join(root, 'bench', 'report-child.mjs'), csv, cells, out])
      .trim()
      .split('\n')
      .pop(),
  );
  rmSync(out, { recursive: true, force: true });
  console.log('\nReport of the 800 h run (1 Hz)');
  console.log(`analyze with display series: ${r.analyze_s} s; report.html written in ${r.report_s} s; size ${(r.bytes / 1e6).toFixed(2)} MB (target < 5 MB)`);
  console.log(r.render_s === null ? 'browser render: skipped (no /usr/bin/chromium)' : `headless Chromium load and draw of every chart: ${r.render_s} s`);
}

if (ONLY === 'analyze') {
  // measured above only
} else if (['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].some((p) => existsSync(p))) {
  await import('./live.mjs');
  await import('./mqtt.mjs');
  await import('./bridge.mjs');
} else console.log('\nLive benchmark skipped: Debian mosquitto is not installed (apt-get install mosquitto).');
