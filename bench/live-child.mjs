// `cyclewatch run` under load, in its own process: connects to BROKER, waits for COUNT messages, prints
// {"msgs","s","msgsPerS","rssMB","cpuUsPerMsg"} measured from the first message to the last one processed.
// Usage: node bench/live-child.mjs MQTT_URL COUNT DATA_DIR [CLIENT_ID]
// With BENCH_WARMUP_MESSAGES=W in the environment the measure begins after the first W of the COUNT messages (the
// CPU per message of those W is reported as warmupCpuUsPerMsg).
// With CLIENT_ID the session is the same across runs (a backlog queued for it while it was down is drained).
import { runMonitor } from '../dist/pipelines/run.js';
import { parseRunConfig } from '../dist/src/config/loader.js';

const [url, count, dataDir, clientId = `bench-${process.pid}`] = process.argv.slice(2);
const want = Number(count);
const config = parseRunConfig(
  `mqtt: { url: "${url}", clientId: ${clientId}${process.env.BENCH_MQTT_YAML ?? ''} }\ndataDir: "${dataDir}"\nhttp: { port: 0 }\nalerts: { log: false }\nheaderWait_ms: 0\n${process.env.BENCH_RUN_YAML ?? ''}`,
  'bench.yaml',
);
const handle = await runMonitor(config, { log: () => {} });
const warmup = Number(process.env.BENCH_WARMUP_MESSAGES ?? 0);
let t0 = 0;
let n0 = 0;
let coldCpu = null; // CPU from the first message to the end of the warm-up
let peakRss = 0;
let cpu0 = process.cpuUsage();
// The count is read on a timer whose delay shrinks as the last message nears (2 ms at the end, at most 50 ms
// before): a fixed 2 ms poll woke the measured process 500 times a second, about 6 % of its CPU in a run, which
// the bare subscriber (counting in its message handler) does not carry.
let rssAt = 0;
const poll = () => {
  const n = handle.metrics.value('cyclewatch_messages_in_total');
  const now = performance.now();
  // RSS is read from /proc: at most every 100 ms (a quarter of a millisecond each in a busy run), and at the end.
  if (now - rssAt >= 100 || n >= want) {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    rssAt = now;
  }
  if (n > 0 && coldCpu === null) {
    coldCpu = { n, cpu: process.cpuUsage() };
  }
  if (n > warmup && t0 === 0) {
    t0 = now;
    n0 = n;
    cpu0 = process.cpuUsage();
    if (warmup > 0) {
      const c = process.cpuUsage(coldCpu.cpu);
      coldCpu = { n: n - coldCpu.n, us: c.user + c.system };
    }
  }
  if (n < want) {
    const perMs = t0 > 0 && now > t0 ? (n - n0) / (now - t0) : 0;
    const delay_ms = perMs > 0 ? Math.min(50, Math.max(2, (0.5 * (want - n)) / perMs)) : 2;
    setTimeout(poll, delay_ms);
    return;
  }
  const s = (now - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const measured = n - n0;
  const cpuUsPerMsg = +((cpu.user + cpu.system) / measured).toFixed(1);
  const warmupCpuUsPerMsg = warmup > 0 ? +(coldCpu.us / coldCpu.n).toFixed(1) : undefined;
  console.log(
    JSON.stringify({ msgs: measured, s: +s.toFixed(2), msgsPerS: Math.round(measured / s), rssMB: Math.round(peakRss / 1e6), cpuUsPerMsg, warmupCpuUsPerMsg }),
  );
  handle.close().then(() => process.exit(0));
};
if (want > 0) poll();
// Ready once subscribed: connected, plus a moment for the SUBACK.
while (handle.metrics.value('cyclewatch_mqtt_connected') !== 1) await new Promise((r) => setTimeout(r, 20));
await new Promise((r) => setTimeout(r, 300));
process.send?.('ready');
