// A bare mqtt.js subscriber that parses each JSON payload and does nothing else, reporting its CPU time per message
// from the first message to the last: the floor for the monitor's CPU per message at a fixed rate.
// Usage: node bench/cpu-sub.mjs MQTT_URL EXPECTED_COUNT -> {"msgs","s","msgsPerS","rssMB","cpuUsPerMsg"}
import mqtt from 'mqtt';

const [url, expected] = process.argv.slice(2);
const want = Number(expected);
let n = 0;
let t0 = 0;
let cpu0 = process.cpuUsage();
const c = mqtt.connect(url, { clientId: `cpu-sub-${process.pid}`, clean: true });
c.on('connect', () => c.subscribe('cells/+/ec', { qos: 1 }, () => process.send?.('ready')));
c.on('message', (_topic, payload) => {
  if (n === 0) {
    t0 = performance.now();
    cpu0 = process.cpuUsage();
  }
  JSON.parse(payload);
  if (++n === want) {
    const s = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuUsPerMsg = +((cpu.user + cpu.system) / n).toFixed(1);
    console.log(JSON.stringify({ msgs: n, s: +s.toFixed(2), msgsPerS: Math.round(n / s), rssMB: Math.round(process.memoryUsage().rss / 1e6), cpuUsPerMsg }));
    c.end(true, () => process.exit(0));
  }
});
