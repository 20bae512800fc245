/** `cyclewatch bridge`: the cycler PC's files followed and published, until SIGINT/SIGTERM. */
import { parseArgs } from 'node:util';
import { loadBridgeConfig } from '../../config/loader.js';
import { runBridge } from '../../../pipelines/bridge.js';
import { redactUrl } from '../../config/schema.js';
import { UsageError, zoneOption } from '../args.js';
import { stamp } from '../words.js';
import { untilSignal } from './run.js';

export async function cmdBridge(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      watch: { type: 'string', multiple: true },
      broker: { type: 'string' },
      state: { type: 'string' },
      tz: { type: 'string' },
      'print-config': { type: 'boolean' },
    },
  });
  if (values.config === undefined && (values.watch ?? []).length === 0) throw new UsageError('bridge needs --watch GLOB (or a --config file with watch:)');
  const timeZone = zoneOption(values.tz);
  const config = loadBridgeConfig(values.config, { watch: values.watch, url: values.broker, stateFile: values.state, timeZone });
  if (values['print-config']) {
    const mqtt = { ...config.mqtt, url: redactUrl(config.mqtt.url), password: config.mqtt.password === undefined ? undefined : '***' };
    process.stdout.write(JSON.stringify({ ...config, mqtt }, null, 2) + '\n');
    return 0;
  }
  const log = (m: string): void => void process.stderr.write(stamp(m) + '\n');
  const handle = await runBridge(config, { log, timeZoneFromOption: timeZone !== undefined });
  log(
    `bridge: publishing to ${redactUrl(config.mqtt.url)} under ${config.mqtt.topicPrefix}/<cell>/…; /metrics on http://${config.http.host}:${handle.httpPort}; Ctrl-C to stop`,
  );
  const sig = await untilSignal();
  log(`${sig}: finishing the current step`);
  await handle.close();
  return 0;
}
