// Bridge throughput, through Debian's Mosquitto at QoS 2 with the journal on disk (the exactly-once path):
// (1) catching up with an 800 h backlog (the simulated long-term run as an EC-Lab .mpr, 2.88 M rows): rows/s from
//     the bridge's start until every row is handed over and completed by the broker; target ≥ 50,000 rows/s. A
//     subscriber counts the rows that reach it (rows read together travel as batch messages);
// (2) 100 .mpt files growing at 1 row/s each: the bridge's CPU over 60 s (utime + stime from /proc); target < 5 %
//     of one core, with every row published.
// Runs the built CLI (dist/). Needs mosquitto and the EC-Lab files bench/run.mjs writes into bench/.cache.
import { spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { writeMpt } from '../dist/src/sim/ecLab.js';
import { freePort, mosquitto } from './servers.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, 'bench', '.cache');
const backlog = join(cache, 'long-term-800h.eclab.mpr');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function bridge(dir, url, extra = '') {
  const port = await freePort();
  writeFileSync(
    join(dir, 'bridge.yaml'),
    [
      `watch: ["${join(dir, 'watch')}/*.mp?"]`,
      `mqtt: { url: "${url}", clientId: bench-${process.pid} }`,
      `stateFile: "${join(dir, 'bridge.journal')}"`,
      `http: { port: ${port} }`,
      'settleAfter_s: 1',
      extra,
    ].join('\n'),
  );
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_CPU_PROF] : []),
      join(root, 'bin', 'cyclewatch.js'),
      'bridge',
      '--config',
      join(dir, 'bridge.yaml'),
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const metric = async (name) => {
    try {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return text
        .split('\n')
        .filter((l) => l.startsWith(name))
        .reduce((s, l) => s + Number(l.split(' ').pop()), 0);
    } catch {
      return NaN;
    }
  };
  return { child, metric };
}

/** utime + stime of a process, in seconds. */
function cpu_s(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

if (!existsSync(backlog)) {
  console.log('\nBridge benchmark skipped: run `npm run bench` once so that bench/.cache holds the 800 h EC-Lab files');
  process.exit(0);
}
const broker = await mosquitto();
try {
  const ONLY = process.env.BENCH_BRIDGE_ONLY;
  // (1) backlog
  if (ONLY !== 'live') {
    const dir = mkdtempSync(join(tmpdir(), 'cw-bench-bridge-'));
    mkdirSync(join(dir, 'watch'));
    copyFileSync(backlog, join(dir, 'watch', 'backlog_02_GCPL_C01.mpr'));
    await sleep(1200); // settled: a copy that is complete
    // Rows delivered to a subscriber: each object of a batch starts with "t".
    const sub = await mqtt.connectAsync(broker.url, { clientId: `bench-sub-${process.pid}` });
    let received = 0;
    let messages = 0;
    sub.on('message', (_topic, payload) => {
      messages++;
      for (let at = payload.indexOf('{"t":'); at >= 0; at = payload.indexOf('{"t":', at + 5)) received++;
    });
    await sub.subscribeAsync('cells/+/ec', { qos: 1 });
    const t0 = performance.now();
    const b = await bridge(dir, broker.url);
    const total = 2878521;
    let rows = 0;
    for (;;) {
      await sleep(200);
      rows = await b.metric('cyclewatch_bridge_rows_published_total');
      const pending = await b.metric('cyclewatch_bridge_pending_messages');
      if (rows >= total && pending === 0) break;
      if (performance.now() - t0 > 600_000) break;
    }
    const s = (performance.now() - t0) / 1000;
    for (let k = 0; k < 50 && received < rows; k++) await sleep(100);
    await sub.endAsync();
    const peakRss = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${b.child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    b.child.kill('SIGTERM');
    await new Promise((r) => b.child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
    const rate = Math.round(rows / s);
    console.log(`\nBridge: 800 h backlog (.mpr, ${rows.toLocaleString('en')} rows) through Mosquitto at QoS 2, journal on disk`);
    console.log(`caught up in ${s.toFixed(1)} s: ${rate.toLocaleString('en')} rows/s, peak RSS ${Math.round(peakRss)} MB`);
    console.log(`a subscriber received ${received.toLocaleString('en')} rows in ${messages.toLocaleString('en')} messages`);
    console.log(`target: ≥ 50,000 rows/s, every row delivered → ${rows >= total && received === total && rate >= 50_000 ? 'met' : 'NOT met'}`);
  }
  if (ONLY !== 'backlog') {
    // (2) 100 files at 1 row/s
    const live = mkdtempSync(join(tmpdir(), 'cw-bench-bridge-live-'));
    mkdirSync(join(live, 'watch'));
    const FILES = 100;
    const start_ms = Date.parse('2026-01-01T00:00:00Z');
    const paths = [];
    for (let k = 0; k < FILES; k++) {
      const p = join(live, 'watch', `cell${String(k).padStart(3, '0')}_02_GCPL_C01.mpt`);
      await writeMpt(p, { start_ms, areaCm2: 1, limit_V: 8, channel: 0 }, []);
      paths.push(p);
    }
    const lb = await bridge(live, broker.url);
    let n = 0;
    const row = (t) => `1\t${t.toExponential(15)}\t${(0.07).toExponential(7)}\t${(2).toExponential(7)}\n`;
    const writer = setInterval(() => {
      for (const p of paths) appendFileSync(p, row(n));
      n++;
    }, 1000);
    await sleep(10_000); // warm-up: every file found and followed
    const c0 = cpu_s(lb.child.pid);
    const w0 = performance.now();
    await sleep(60_000);
    const used = cpu_s(lb.child.pid) - c0;
    const wall = (performance.now() - w0) / 1000;
    clearInterval(writer);
    await sleep(7000); // one more poll (every 5 s by default)
    const published = await lb.metric('cyclewatch_bridge_rows_published_total');
    lb.child.kill('SIGTERM');
    await new Promise((r) => lb.child.once('exit', r));
    rmSync(live, { recursive: true, force: true });
    const pct = (100 * used) / wall;
    console.log(
      `Bridge: ${FILES} files growing at 1 row/s each for ${Math.round(wall)} s: CPU ${pct.toFixed(1)} % of one core; ${published} of ${n * FILES} rows published`,
    );
    console.log(`target: < 5 % CPU, keeping up → ${pct < 5 && published === n * FILES ? 'met' : 'NOT met'}`);
  }
} finally {
  broker.stop();
}
