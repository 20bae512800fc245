// Reference floor for offline analysis speed (same as shared/bench/bare-csv.mjs, used when shared/ is absent):
// read a canonical CSV line by line, split each row, parse the timestamp and two numbers, keep one running value.
import fs from 'node:fs';
import readline from 'node:readline';
const t = performance.now();
const rl = readline.createInterface({ input: fs.createReadStream(process.argv[2]), crlfDelay: Infinity });
let n = 0,
  s = 0,
  ewma = 0;
let first = true;
for await (const line of rl) {
  if (first) {
    first = false;
    continue;
  }
  const p = line.split(',');
  const ts = Date.parse(p[0]);
  const v = +p[2];
  const i = +p[3];
  const r = v / i;
  ewma = ewma * 0.99 + 0.01 * r;
  s += ts & 1;
  n++;
}
const dt = (performance.now() - t) / 1000;
console.log(JSON.stringify({ rows: n, s: dt.toFixed(2), rowsPerS: Math.round(n / dt), rssMB: Math.round(process.memoryUsage().rss / 1e6) }));
