// Reference floor for live throughput (same as shared/bench/bare-sub.mjs, used when shared/ is absent):
// a bare mqtt.js subscriber that parses each JSON payload and does nothing else.
// Usage: node floor-sub.mjs MQTT_URL EXPECTED_COUNT QOS -> {"msgs","s","msgsPerS","bad","rssMB"}
import mqtt from 'mqtt';
const [url = 'mqtt://127.0.0.1:18831', expected = '200000', qos = '1'] = process.argv.slice(2);
const want = +expected;
let n = 0,
  t0 = 0,
  bad = 0;
const c = mqtt.connect(url, { clientId: 'bare-sub', clean: true });
c.on('connect', () => c.subscribe('cells/+/ec', { qos: +qos }, () => (process.send ? process.send('ready') : console.error('ready'))));
c.on('message', (topic, payload) => {
  if (n === 0) t0 = performance.now();
  try {
    const m = JSON.parse(payload);
    if (typeof m.voltage_V !== 'number') bad++;
  } catch {
    bad++;
  }
  if (++n === want) {
    const s = (performance.now() - t0) / 1000;
    console.log(JSON.stringify({ msgs: n, s: +s.toFixed(2), msgsPerS: Math.round(n / s), bad, rssMB: Math.round(process.memoryUsage().rss / 1e6) }));
    c.end(true, () => process.exit(0));
  }
});
