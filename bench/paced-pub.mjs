// A publisher at a fixed rate: COUNT telemetry messages on cells/<cell>/ec over CELLS cells at QoS 1, RATE per
// second (sent in 10 ms ticks), so that subscribers are compared on CPU per message, not on how fast they drain.
// Usage: node bench/paced-pub.mjs MQTT_URL COUNT RATE CELLS
import mqtt from 'mqtt';

const [url, count, rate, cells] = process.argv.slice(2);
const N = Number(count);
const perTick = Number(rate) / 100;
const c = mqtt.connect(url, { clientId: `paced-${process.pid}` });
c.on('connect', async () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const start = performance.now();
  let sent = 0;
  let acked = 0;
  while (sent < N) {
    // Catch up to where the clock says we should be: ticks that ran late are not lost.
    const due = Math.min(N, Math.floor(((performance.now() - start) / 10 + 1) * perTick));
    for (; sent < due; sent++) {
      const cell = 'cell-' + String(sent % Number(cells)).padStart(2, '0');
      const p = JSON.stringify({ t: new Date(t0 + sent * 1000).toISOString(), voltage_V: 0.0712 + Math.random() * 1e-3, current_mA: 2.0 });
      c.publish(`cells/${cell}/ec`, p, { qos: 1 }, () => acked++);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const w = () => (acked >= N ? c.end() : setTimeout(w, 10));
  w();
});
