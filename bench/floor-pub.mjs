// Publisher for live benchmarks (same as shared/bench/pub.mjs, used when shared/ is absent): COUNT telemetry
// messages on cells/<cell>/ec over CELLS cells at the given QoS, with a bounded number in flight.
// Usage: node floor-pub.mjs MQTT_URL COUNT QOS CELLS
import mqtt from 'mqtt';
const [url = 'mqtt://127.0.0.1:18831', count = '200000', qos = '1', cells = '64'] = process.argv.slice(2);
const c = mqtt.connect(url, { clientId: 'pub-' + process.pid });
c.setMaxListeners(0);
c.on('connect', async () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const N = +count,
    C = +cells;
  let inflight = 0;
  for (let i = 0; i < N; i++) {
    const cell = 'cell-' + String(i % C).padStart(2, '0');
    const p = JSON.stringify({ t: new Date(t0 + i * 1000).toISOString(), voltage_V: 0.0712 + Math.random() * 1e-3, current_mA: 2.0 });
    inflight++;
    c.publish(`cells/${cell}/ec`, p, { qos: +qos }, () => inflight--);
    if (inflight > 2000)
      await new Promise((r) => {
        const f = () => (inflight < 500 ? r() : setImmediate(f));
        f();
      });
  }
  const w = () => (inflight === 0 ? c.end() : setTimeout(w, 10));
  w();
});
