/** `cyclewatch demo`: simulated runs replayed through an embedded monitor, on this machine alone. */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { replay } from '../../../pipelines/replay.js';
import { runMonitor } from '../../../pipelines/run.js';
import { parseRunConfig } from '../../config/loader.js';
import { simulate, registryPath } from '../../../pipelines/simulate.js';
import { machineTimeZone } from '../../io/instruments/importers.js';
import { formatZoned } from '../../domain/labTime.js';
import { StatusBlock } from '../terminal.js';

export async function cmdDemo(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string', default: join('data', 'demo') } } });
  const dir = values.out;
  const tty = process.stderr.isTTY === true;
  const block = new StatusBlock(tty, (t) => void process.stderr.write(t));
  const zone = machineTimeZone();
  const log = (m: string): void => block.above(m);
  const csv = join(dir, 'demo.csv');
  log("demo: simulating the paper's runs (high rate, very high rate, CCD ramp)…");
  await simulate({ scenarios: ['high-rate', 'very-high-rate', 'ccd'], out: csv, dt_s: 10, duration_h: 120 });
  const config = parseRunConfig(
    `dataDir: ${JSON.stringify(dir)}\nembeddedBroker: { port: 0 }\nhttp: { port: 0 }\ncellsFile: ${JSON.stringify(registryPath(csv).split('/').pop())}\nmqtt: { clientId: cyclewatch-demo }\n`,
    join(dir, 'demo.yaml'),
  );
  const handle = await runMonitor(config, { log: (m) => log(`monitor: ${m}`) });
  const status = setInterval(() => {
    const lines = [...handle.cells].map(
      ([cell, c]) =>
        `${cell.padEnd(16)} ${c.regime.padEnd(13)} ${formatZoned(c.last_ms, zone).padEnd(20)}  ${String(c.samples).padStart(7)}  ${String(c.alerts).padStart(6)}`,
    );
    block.draw([`${'cell'.padEnd(16)} ${'regime'.padEnd(13)} ${'last sample'.padEnd(20)}  ${'samples'.padStart(7)}  ${'alerts'.padStart(6)}`, ...lines]);
  }, 1000);
  const r = await replay({ files: [csv], brokerUrl: handle.brokerUrl, speed: 'max', topicPrefix: 'cells', qos: 1, maxInFlight: 1000, log });
  const target = r.published;
  while (
    handle.metrics.value('cyclewatch_messages_in_total') + handle.metrics.value('cyclewatch_messages_rejected_total', { reason: 'duplicate' }) <
    target * 0.999
  )
    await new Promise((res) => setTimeout(res, 200));
  await new Promise((res) => setTimeout(res, 1000));
  clearInterval(status);
  await handle.close();
  block.done();
  log(`demo: replayed ${target.toLocaleString('en')} messages through the monitor.`);
  log(`demo: wrote ${join(dir, 'events.jsonl')} (regime changes, half cycles, alerts) and ${join(dir, 'lines')}/*.lp (InfluxDB line protocol)`);
  log(`demo: analyse the same run offline with: npx cyclewatch analyze ${csv} --cells ${registryPath(csv)} --out ${join(dir, 'analysis')}`);
  return 0;
}
