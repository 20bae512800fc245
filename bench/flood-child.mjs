// `cyclewatch run` under a flood of bad input, in its own process: reports its idle RSS once subscribed (IPC
// {idleMB}), samples RSS every 10 ms, and on the IPC message 'stop' prints {idleMB, peakMB, rejected, deadLetters}.
// Usage: node bench/flood-child.mjs MQTT_URL DATA_DIR
import { runMonitor } from '../dist/pipelines/run.js';
import { parseRunConfig } from '../dist/src/config/loader.js';

const [url, dataDir] = process.argv.slice(2);
const config = parseRunConfig(
  `mqtt: { url: "${url}", clientId: flood-${process.pid} }\ndataDir: "${dataDir}"\nhttp: { port: 0 }\nalerts: { log: false }\n`,
  'flood.yaml',
);
const handle = await runMonitor(config, { log: () => {} });
while (handle.metrics.value('cyclewatch_mqtt_connected') !== 1) await new Promise((r) => setTimeout(r, 20));
await new Promise((r) => setTimeout(r, 1000));
globalThis.gc?.();
const idle = process.memoryUsage.rss();
let peak = idle;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
process.on('message', async (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  const reasons = ['malformed', 'bad-number', 'bad-timestamp', 'no-quantity', 'no-current', 'unknown-topic', 'too-large'];
  const rejected = reasons.reduce((n, reason) => n + handle.metrics.value('cyclewatch_messages_rejected_total', { reason }), 0);
  console.log(
    JSON.stringify({
      idleMB: Math.round(idle / 1e6),
      peakMB: Math.round(peak / 1e6),
      rejected,
      deadLettersSuppressed: handle.metrics.value('cyclewatch_dead_letters_suppressed_total'),
    }),
  );
  await handle.close();
  process.exit(0);
});
process.send?.({ idleMB: Math.round(idle / 1e6) });
