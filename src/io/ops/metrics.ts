/** Prometheus text exposition of the monitor's counters and gauges, and the /healthz, /metrics server. */
import { createServer, type Server } from 'node:http';

type Labels = Record<string, string>;

interface Family {
  help: string;
  type: 'counter' | 'gauge';
  values: Map<string, { labels: Labels; value: number | (() => number) }>;
}

const labelText = (l: Labels): string => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c))}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
};

export class Metrics {
  private readonly families = new Map<string, Family>();

  private family(name: string, help: string, type: Family['type']): Family {
    let f = this.families.get(name);
    if (f === undefined) this.families.set(name, (f = { help, type, values: new Map() }));
    return f;
  }

  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    const f = this.family(name, help, 'counter');
    const key = labelText(labels);
    const cur = f.values.get(key);
    if (cur === undefined) f.values.set(key, { labels, value: by });
    else if (typeof cur.value === 'number') cur.value += by;
  }

  /** A counter to increment on a hot path: its family and labels are looked up once, here. */
  counter(name: string, help: string, labels: Labels = {}): { inc(by?: number): void } {
    const f = this.family(name, help, 'counter');
    const key = labelText(labels);
    let cell = f.values.get(key);
    if (cell === undefined) f.values.set(key, (cell = { labels, value: 0 }));
    const c = cell;
    return {
      inc(by = 1) {
        if (typeof c.value === 'number') c.value += by;
      },
    };
  }

  /** A gauge read when scraped. */
  gauge(name: string, help: string, read: () => number, labels: Labels = {}): void {
    this.family(name, help, 'gauge').values.set(labelText(labels), { labels, value: read });
  }

  value(name: string, labels: Labels = {}): number {
    const v = this.families.get(name)?.values.get(labelText(labels))?.value;
    return v === undefined ? 0 : typeof v === 'number' ? v : v();
  }

  text(): string {
    let out = '';
    for (const [name, f] of this.families) {
      out += `# HELP ${name} ${f.help}\n# TYPE ${name} ${f.type}\n`;
      for (const { labels, value } of f.values.values()) out += `${name}${labelText(labels)} ${typeof value === 'number' ? value : value()}\n`;
    }
    return out;
  }
}

export function serveMetrics(metrics: Metrics, port: number, host: string, healthy: () => { ok: boolean; detail: Record<string, unknown> }): Promise<Server> {
  const server = createServer((req, res) => {
    // Read-only endpoints: a POST (an alert webhook pointed here by mistake) must not be taken as delivered.
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      res.end();
      return;
    }
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(metrics.text());
    } else if (req.url === '/healthz') {
      const h = healthy();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: h.ok ? 'ok' : 'degraded', ...h.detail }));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
