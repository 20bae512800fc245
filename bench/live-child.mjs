// `cyclewatch run` under load, in its own process: connects to BROKER, waits for COUNT messages, prints
// {"msgs","s","msgsPerS","rssMB","cpuUsPerMsg"} measured from the first message to the last one processed.
// Usage: node bench/live-child.mjs MQTT_URL COUNT DATA_DIR [CLIENT_ID]
// With CLIENT_ID the session is the same across runs (a backlog queued for it while it was down is drained).
import { runMonitor } from '../dist/pipelines/run.js';
import { parseRunConfig } from '../dist/src/cli/config.js';

const [url, count, dataDir, clientId = `bench-${process.pid}`] = process.argv.slice(2);
const want = Number(count);
const config = parseRunConfig(
  `mqtt: { url: "${url}", clientId: ${clientId}${process.env.BENCH_MQTT_YAML ?? ""} }\ndataDir: "${dataDir}"\nhttp: { port: 0 }\nalerts: { log: false }\nheaderWait_ms: 0\n${process.env.BENCH_RUN_YAML ?? ''}`,
  'bench.yaml',
);
const handle = await runMonitor(config, { log: () => {} });
let t0 = 0;
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
  if (n > 0 && t0 === 0) {
    t0 = now;
    cpu0 = process.cpuUsage();
  }
  if (n < want) {
    const perMs = t0 > 0 && now > t0 ? n / (now - t0) : 0;
    const delay_ms = perMs > 0 ? Math.min(50, Math.max(2, (0.5 * (want - n)) / perMs)) : 2;
    setTimeout(poll, delay_ms);
    return;
  }
  const s = (now - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuUsPerMsg = +((cpu.user + cpu.system) / n).toFixed(1);
  console.log(JSON.stringify({ msgs: n, s: +s.toFixed(2), msgsPerS: Math.round(n / s), rssMB: Math.round(peakRss / 1e6), cpuUsPerMsg }));
  handle.close().then(() => process.exit(0));
};
if (want > 0) poll();
// Ready once subscribed: connected, plus a moment for the SUBACK.
while (handle.metrics.value('cyclewatch_mqtt_connected') !== 1) await new Promise((r) => setTimeout(r, 20));
await new Promise((r) => setTimeout(r, 300));
process.send?.('ready');
