/**
 * The default reporter, plus one loud closing line when suites that need real servers were skipped (a machine
 * without Debian's mosquitto, victoria-metrics, influxdb or chromium): `npm test` must not pass silently there.
 */
import { relative } from 'node:path';
import { DefaultReporter } from 'vitest/reporters';
import { figureFont } from '../../src/report/figures.js';
import { which } from '../integration/servers.js';

/** The servers the integration, Grafana and browser suites start; a test skipped while all are here was filtered out. */
const missingServers = (): string[] => [
  ...['mosquitto', 'mosquitto_sub', 'victoria-metrics', 'influxd', 'chromium'].filter((c) => which(c) === null),
  ...(hasFigureFont() ? [] : ['a sans-serif font (fonts-dejavu-core)']),
];

function hasFigureFont(): boolean {
  try {
    figureFont();
    return true;
  } catch {
    return false;
  }
}

type Task = { mode?: string; name: string; tasks?: Task[]; type?: string };

function skipped(task: Task): number {
  if (task.tasks !== undefined) return task.tasks.reduce((n, t) => n + skipped(t), 0);
  return task.type === 'test' && task.mode === 'skip' ? 1 : 0;
}

export default class SkippedServersReporter extends DefaultReporter {
  override async onFinished(...args: Parameters<DefaultReporter['onFinished']>): Promise<void> {
    await super.onFinished(...args);
    const missing = missingServers();
    if (missing.length === 0) return;
    const files = (args[0] ?? this.ctx.state.getFiles()) as unknown as (Task & { filepath: string })[];
    const suites = files
      .filter((f) => /test\/(integration|grafana|report)\//.test(f.filepath))
      .map((f) => ({ file: relative(process.cwd(), f.filepath), n: skipped(f) }))
      .filter((s) => s.n > 0);
    if (suites.length === 0) return;
    const total = suites.reduce((n, s) => n + s.n, 0);
    this.ctx.logger.log(
      `\n\x1b[1;31mSKIPPED ${total} tests that need real servers (missing here: ${missing.join(', ')}) in: ${suites.map((s) => s.file).join(', ')} — install them with: npm run setup\x1b[0m`,
    );
  }
}
