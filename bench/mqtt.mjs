// The monitor's MQTT input, beside a bare mqtt.js subscriber (Debian's Mosquitto, QoS 1, 64 cells):
// - CPU time per message at a fixed 5,000 msg/s (target: ≤ 1.3× the bare subscriber's), alternating runs, in the
//   steady state: both processes first take a warm-up of as many messages (10 s), in which the JIT compiles and the
//   cells' detectors calibrate; its CPU per message is printed too, not judged (a monitor runs for weeks);
// - the drain rate of a backlog of 200,000 messages queued for its persistent session while it was down (≥ 100,000/s);
// - peak RSS under floods of bad input (target: < 2× its idle RSS): 200 batch messages of 5,461 empty rows each
//   (16 KiB, one rejection per row), and 1 GB of oversized packets (200 × 5 MB; the limit is 16 KiB).
// Usage: node bench/mqtt.mjs (after `tsc -p tsconfig.build.json`); part of `npm run bench`.
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { mosquitto } from './servers.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPS = Number(process.env.BENCH_REPS ?? 5);
const RATE = 5000;
const PACED = Number(process.env.BENCH_PACED_MESSAGES ?? 50_000);
const BACKLOG = Number(process.env.BENCH_BACKLOG_MESSAGES ?? 200_000);
const median = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];

const WARMUP_ENV = { ...process.env, BENCH_WARMUP_MESSAGES: String(PACED) };

function child(script, args, env = process.env) {
  const c = fork(script, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env });
  let out = '';
  c.stdout.on('data', (d) => (out += d));
  const ready = new Promise((r) => c.once('message', r));
  const done = new Promise((r, j) =>
    c.once('exit', (code, signal) => (code === 0 ? r(JSON.parse(out.trim().split('\n').pop())) : signal ? r(null) : j(new Error(`${script} exited ${code}`)))),
  );
  return { c, ready, done };
}
const run = (script, args) =>
  new Promise((r, j) =>
    spawn(process.execPath, [join(root, 'bench', script), ...args], { stdio: 'ignore' }).once('exit', (c) =>
      c === 0 ? r() : j(new Error(`${script} failed`)),
    ),
  );

const broker = await mosquitto();
try {
  // CPU per message at a fixed rate.
  const bare = [];
  const monitor = [];
  const warmup = { bare: [], monitor: [] };
  for (let k = 0; k < REPS; k++) {
    for (const kind of ['bare', 'monitor']) {
      const dataDir = mkdtempSync(join(tmpdir(), 'cw-bench-cpu-'));
      const { ready, done } =
        kind === 'bare'
          ? child(join(root, 'bench', 'cpu-sub.mjs'), [broker.url, String(2 * PACED)], WARMUP_ENV)
          : child(join(root, 'bench', 'live-child.mjs'), [broker.url, String(2 * PACED), dataDir], WARMUP_ENV);
      await ready;
      await run('paced-pub.mjs', [broker.url, String(2 * PACED), String(RATE), '64']);
      const r = await done;
      (kind === 'bare' ? bare : monitor).push(r.cpuUsPerMsg);
      warmup[kind].push(r.warmupCpuUsPerMsg);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const cpuRatio = median(monitor) / median(bare);
  console.log(`\nMQTT input (Mosquitto, QoS 1, 64 cells)`);
  console.log(
    `CPU per message at ${RATE} msg/s, steady state (${PACED} messages after as many of warm-up; medians of ${REPS}): monitor ${median(monitor)} µs, bare mqtt.js subscriber ${median(bare)} µs`,
  );
  console.log(`every run (µs/msg, in order): monitor ${monitor.join(' ')}; bare ${bare.join(' ')}`);
  console.log(
    `the warm-up before (first ${PACED} messages after start, not judged): monitor ${median(warmup.monitor)} µs, bare ${median(warmup.bare)} µs (${(median(warmup.monitor) / median(warmup.bare)).toFixed(2)}×)`,
  );
  console.log(`target: ≤ 1.3× the bare subscriber's CPU per message → ${cpuRatio <= 1.3 ? 'met' : 'NOT met'} (${cpuRatio.toFixed(2)})`);

  // Backlog drain: the session's queue filled while the monitor is down, then drained.
  const drains = [];
  for (let k = 0; k < REPS; k++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'cw-bench-drain-'));
    const clientId = `drain-${process.pid}-${k}`;
    const first = child(join(root, 'bench', 'live-child.mjs'), [broker.url, '0', dataDir, clientId]);
    await first.ready;
    first.c.kill('SIGKILL');
    await first.done;
    await run('floor-pub.mjs', [broker.url, String(BACKLOG), '1', '64']);
    const second = child(join(root, 'bench', 'live-child.mjs'), [broker.url, String(BACKLOG), dataDir, clientId]);
    const r = await second.done;
    drains.push(r.msgsPerS);
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(`backlog drain (${BACKLOG} queued while down; each run): ${drains.join(' ')} msg/s, median ${median(drains)}`);
  console.log(`target: drain ≥ 100,000 msg/s → ${median(drains) >= 100_000 ? 'met' : 'NOT met'} (median)`);

  // Floods of bad input.
  for (const flood of ['dead letters', 'oversized']) {
    const dataDir = mkdtempSync(join(tmpdir(), 'cw-bench-flood-'));
    const f = child(join(root, 'bench', 'flood-child.mjs'), [broker.url, dataDir]);
    await f.ready;
    const pub = mqtt.connect(broker.url, { clientId: `flood-pub-${process.pid}` });
    await new Promise((r) => pub.once('connect', r));
    const batch = '[' + Array.from({ length: 5461 }, () => '{}').join(',') + ']';
    const big = Buffer.alloc(5 * 1024 * 1024, ' ');
    for (let k = 0; k < 200; k++) await pub.publishAsync('cells/c0/ec', flood === 'oversized' ? big : batch, { qos: 1 });
    await pub.endAsync();
    await new Promise((r) => setTimeout(r, 2000));
    f.c.send('stop');
    const r = await f.done;
    rmSync(dataDir, { recursive: true, force: true });
    const what = flood === 'oversized' ? '200 × 5 MB oversized packets (1 GB)' : '200 batches of 5,461 empty rows';
    console.log(`flood of ${what}: RSS idle ${r.idleMB} MB, peak ${r.peakMB} MB; ${r.rejected} rejections, ${r.deadLettersSuppressed} dead letters held back`);
    console.log(`target: peak < 2× idle RSS → ${r.peakMB < 2 * r.idleMB ? 'met' : 'NOT met'} (${(r.peakMB / r.idleMB).toFixed(2)}×)`);
  }
} finally {
  broker.stop();
}
