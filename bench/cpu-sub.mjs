// A bare mqtt.js subscriber that parses each JSON payload and does nothing else, reporting its CPU time per message
// from the first message to the last: the floor for the monitor's CPU per message at a fixed rate.
// Usage: node bench/cpu-sub.mjs MQTT_URL EXPECTED_COUNT -> {"msgs","s","msgsPerS","rssMB","cpuUsPerMsg"}
// With BENCH_WARMUP_MESSAGES=W in the environment the measure begins after the first W of the messages (the CPU per
// message of those W is reported as warmupCpuUsPerMsg).
import mqtt from 'mqtt';

const [url, expected] = process.argv.slice(2);
const want = Number(expected);
const warmup = Number(process.env.BENCH_WARMUP_MESSAGES ?? 0);
let n = 0;
let t0 = 0;
let cpu0 = process.cpuUsage();
let cpuFirst = cpu0;
let warmupCpuUsPerMsg;
const c = mqtt.connect(url, { clientId: `cpu-sub-${process.pid}`, clean: true });
c.on('connect', () => c.subscribe('cells/+/ec', { qos: 1 }, () => process.send?.('ready')));
c.on('message', (_topic, payload) => {
  if (n === 0) cpuFirst = process.cpuUsage();
  if (n === warmup) {
    t0 = performance.now();
    cpu0 = process.cpuUsage();
    if (warmup > 0) {
      const w = process.cpuUsage(cpuFirst);
      warmupCpuUsPerMsg = +((w.user + w.system) / warmup).toFixed(1);
    }
  }
  JSON.parse(payload);
  if (++n === want) {
    const s = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const measured = n - warmup;
    const cpuUsPerMsg = +((cpu.user + cpu.system) / measured).toFixed(1);
    console.log(
      JSON.stringify({
        msgs: measured,
        s: +s.toFixed(2),
        msgsPerS: Math.round(measured / s),
        rssMB: Math.round(process.memoryUsage().rss / 1e6),
        cpuUsPerMsg,
        warmupCpuUsPerMsg,
      }),
    );
    c.end(true, () => process.exit(0));
  }
});
