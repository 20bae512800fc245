/** `cyclewatch run`: the live monitor until SIGINT/SIGTERM, with its status line. */
import { parseArgs } from 'node:util';
import { runMonitor } from '../../../pipelines/run.js';
import { loadRunConfig } from '../../config/loader.js';
import { redactConfig } from '../../config/schema.js';
import { parseShard } from '../args.js';
import { stamp, statusReporter } from '../words.js';

/** Resolves on SIGINT/SIGTERM. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
export async function cmdRun(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string', short: 'c' }, shard: { type: 'string' }, 'print-config': { type: 'boolean' } },
  });
  const config = loadRunConfig(values.config);
  const shard = parseShard(values.shard);
  if (shard !== undefined) config.shard = shard;
  const tty = process.stderr.isTTY === true;
  // On a terminal a log line first clears the status line drawn in place (see statusReporter).
  const log = (m: string): void => void process.stderr.write((tty ? '\r\x1b[K' : '') + stamp(m) + '\n');
  if (values['print-config']) {
    process.stdout.write(JSON.stringify(redactConfig(config), null, 2) + '\n');
    return 0;
  }
  if (values.config === undefined) log('no --config given: using the embedded defaults');
  const handle = await runMonitor(config, { log });
  log(
    `monitoring ${config.registry.size > 0 ? `${config.registry.size} registered cells` : 'every cell that publishes'} on ${handle.brokerUrl}; Ctrl-C to stop`,
  );
  // What to do next, for the first hour: where telemetry goes, one message to try, the demo.
  const prefix = config.mqtt.topicPrefix;
  const broker = new URL(handle.brokerUrl);
  log(`telemetry goes to ${prefix}/<cell>/ec (voltage_V, current_mA), ${prefix}/<cell>/pressure, ${prefix}/<cell>/temperature; try:`);
  log(
    `  mosquitto_pub -h ${broker.hostname} -p ${broker.port || 1883} -t '${prefix}/c1/ec' -m '{"t":"${new Date().toISOString()}","voltage_V":0.071,"current_mA":2.0}'`,
  );
  log('no cycler at hand? `npx cyclewatch demo` replays simulated cells through a monitor of its own');
  const status = statusReporter(handle, tty, log);
  const sig = await untilSignal();
  status.stop();
  log(`${sig}: flushing pending writes`);
  await handle.close();
  log(`stopped; ${handle.sink.stats.written} points written, ${handle.sink.stats.spooled} spooled, ${handle.sink.stats.dropped} dropped`);
  return 0;
}
