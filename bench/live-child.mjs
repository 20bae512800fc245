// `cyclewatch run` under load, in its own process: connects to BROKER, waits for COUNT messages, prints
// {"msgs","s","msgsPerS","rssMB","cpuUsPerMsg"} measured from the first message to the last one processed.
// Usage: node bench/live-child.mjs MQTT_URL COUNT DATA_DIR
import { runMonitor } from '../dist/pipelines/run.js';
import { parseRunConfig } from '../dist/src/cli/config.js';

const [url, count, dataDir] = process.argv.slice(2);
const want = Number(count);
const config = parseRunConfig(
  `mqtt: { url: "${url}", clientId: bench-${process.pid} }\ndataDir: "${dataDir}"\nhttp: { port: 0 }\nalerts: { log: false }\n`,
  'bench.yaml',
);
const handle = await runMonitor(config, { log: () => {} });
let t0 = 0;
let peakRss = 0;
let cpu0 = process.cpuUsage();
// Peak RSS sampled every 50 ms: reading it costs a system call and a parse of /proc, which the measured process
// should not carry at every 2 ms poll of the message count.
const rssPoll = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
const poll = setInterval(() => {
  const n = handle.metrics.value('cyclewatch_messages_in_total');
  if (n > 0 && t0 === 0) {
    t0 = performance.now();
    cpu0 = process.cpuUsage();
  }
  if (n >= want) {
    clearInterval(poll);
    clearInterval(rssPoll);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    const s = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuUsPerMsg = +((cpu.user + cpu.system) / n).toFixed(1);
    console.log(JSON.stringify({ msgs: n, s: +s.toFixed(2), msgsPerS: Math.round(n / s), rssMB: Math.round(peakRss / 1e6), cpuUsPerMsg }));
    handle.close().then(() => process.exit(0));
  }
}, 2);
// Ready once subscribed: connected, plus a moment for the SUBACK.
while (handle.metrics.value('cyclewatch_mqtt_connected') !== 1) await new Promise((r) => setTimeout(r, 20));
await new Promise((r) => setTimeout(r, 300));
process.send?.('ready');
