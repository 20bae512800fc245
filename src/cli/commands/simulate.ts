/** `cyclewatch simulate`: a simulated run with its ground truth and registry. */
import { parseArgs } from 'node:util';
import { simulate, truthPath, registryPath } from '../../../pipelines/simulate.js';
import { parseTimestamp_ms } from '../../io/wire/timestamp.js';
import { SCENARIO_NAMES, SCENARIOS } from '../../sim/scenarios.js';
import { UsageError, positive, num } from '../args.js';

export async function cmdSimulate(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      dt: { type: 'string' },
      hours: { type: 'string' },
      start: { type: 'string' },
    },
  });
  if (values.scenario === undefined) throw new UsageError(`simulate needs --scenario (one of ${SCENARIO_NAMES.join(', ')})`);
  if (values.out === undefined) throw new UsageError('simulate needs --out FILE.csv');
  const scenarios = values.scenario.split(',').map((s) => s.trim());
  for (const s of scenarios) if (!(s in SCENARIOS)) throw new UsageError(`unknown scenario "${s}": choose from ${SCENARIO_NAMES.join(', ')}`);
  const dt = num(values.dt, '--dt');
  if (dt !== undefined && dt <= 0) throw new UsageError('--dt must be positive (seconds between samples)');
  const duration_h = positive(num(values.hours, '--hours'), '--hours', 'hours of the run');
  // By default the run ends now, so that dashboards opened on "the last days" show it.
  const start_ms =
    values.start !== undefined
      ? parseTimestamp_ms(values.start)
      : Date.now() - Math.max(...scenarios.map((s) => Math.min(duration_h ?? Infinity, SCENARIOS[s as keyof typeof SCENARIOS]!.duration_h))) * 3_600_000;
  if (!Number.isFinite(start_ms)) throw new UsageError(`--start expects an ISO-8601 time, got "${values.start}"`);
  const { rows } = await simulate({
    scenarios,
    out: values.out,
    seed: num(values.seed, '--seed'),
    dt_s: dt,
    duration_h,
    start_ms: Math.round(start_ms / 1000) * 1000,
    progress: (n) => process.stderr.write(`simulate: ${n.toLocaleString('en')} rows\n`),
  });
  process.stderr.write(
    `wrote ${rows.toLocaleString('en')} rows to ${values.out}, truth to ${truthPath(values.out)}, registry to ${registryPath(values.out)}\n`,
  );
  return 0;
}
