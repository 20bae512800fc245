// Publish-to-alert latency through a broker: TRIALS cells each go from stable to shorted; for each, the time
// from publishing the message that lets the detector decide (the first one past the short's detection time
// plus the re-ordering window) to the arrival of its `short` alert on cells/<cell>/alerts/events.
// Usage: node bench/latency-child.mjs MQTT_URL TRIALS DATA_DIR -> {"trials","p50_ms","p99_ms","max_ms"}
import mqtt from 'mqtt';
import { runMonitor } from '../dist/pipelines/run.js';
import { parseRunConfig } from '../dist/src/config/loader.js';

const [url, trialsText, dataDir] = process.argv.slice(2);
const trials = Number(trialsText);
const config = parseRunConfig(
  `mqtt: { url: "${url}", clientId: lat-${process.pid} }\ndataDir: "${dataDir}"\nhttp: { port: 0 }\nalerts: { log: false }\ncells: [${Array.from({ length: trials }, (_, k) => `{ id: lat-${k}, areaCm2: 1, thicknessCm: 0.23, sigmaSPerCm: 0.0065714 }`).join(', ')}]\n`,
  'lat.yaml',
);
const handle = await runMonitor(config, { log: () => {} });
while (handle.metrics.value('cyclewatch_mqtt_connected') !== 1) await new Promise((r) => setTimeout(r, 20));
const pubClient = mqtt.connect(url, { clientId: `lat-pub-${process.pid}` });
const alertClient = mqtt.connect(url, { clientId: `lat-alerts-${process.pid}` });
await Promise.all([new Promise((r) => pubClient.once('connect', r)), new Promise((r) => alertClient.once('connect', r))]);
await alertClient.subscribeAsync('cells/+/alerts/events', { qos: 1 });
await new Promise((r) => setTimeout(r, 300));

const t0 = Date.parse('2026-01-01T00:00:00Z');
const published = new Map(); // `${cell}|${t}` -> wall ms
const latencies = [];
alertClient.on('message', (_topic, payload) => {
  const now = performance.now();
  const a = JSON.parse(payload.toString());
  if (a.code !== 'short') return;
  const release = Date.parse(a.t) + 5000;
  for (let t = release; t < release + 10_000; t += 1000) {
    const at = published.get(`${a.cell}|${t}`);
    if (at !== undefined) {
      latencies.push(now - at);
      break;
    }
  }
});
for (let step = 0; step < 100; step++) {
  for (let k = 0; k < trials; k++) {
    const cell = `lat-${k}`;
    const t = t0 + step * 1000;
    // 0.07 V stable at 2 mA, then a hard short (1 mV): called by the reference-free collapse rule, as in the first
    // hours of a real run while R_ref is still being calibrated.
    const V = step < 40 ? 0.07 : 0.001;
    published.set(`${cell}|${t}`, performance.now());
    pubClient.publish(`cells/${cell}/ec`, JSON.stringify({ t: new Date(t).toISOString(), voltage_V: V, current_mA: 2 }), { qos: 1 });
  }
  await new Promise((r) => setTimeout(r, 20));
}
const deadline = performance.now() + 10_000;
while (latencies.length < trials && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
latencies.sort((a, b) => a - b);
if (latencies.length === 0) throw new Error('no short alert arrived: the detector did not call the shorts');
const q = (p) => +latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(1);
console.log(JSON.stringify({ trials: latencies.length, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: +latencies[latencies.length - 1].toFixed(1) }));
await pubClient.endAsync();
await alertClient.endAsync();
await handle.close();
process.exit(0);
