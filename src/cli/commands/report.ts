/** `cyclewatch report DIR`: the report page (and figures) rebuilt from an analysis folder. */
import { parseArgs } from 'node:util';
import { writeReport } from '../../report/html.js';
import { UsageError, zoneOption, FIGURE_FLAGS, figureOptions } from '../args.js';
import { figuresWritten } from '../words.js';

export async function cmdReport(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { tz: { type: 'string' }, ...FIGURE_FLAGS } });
  const timeZone = zoneOption(values.tz);
  const dir = positionals[0];
  if (dir === undefined) throw new UsageError('report needs the DIR of an earlier `cyclewatch analyze --out DIR`');
  const figures = figureOptions(values);
  let r: Awaited<ReturnType<typeof writeReport>>;
  try {
    r = await writeReport(dir, { figures, timeZone });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UsageError(
        `${dir} holds no analysis (${(e as NodeJS.ErrnoException).path ?? 'summary.json'} is missing): run cyclewatch analyze … --out ${dir} first`,
      );
    throw e;
  }
  process.stderr.write(`wrote ${r.html} (${(r.bytes / 1e6).toFixed(1)} MB)${figuresWritten(r.figures)}\n`);
  return 0;
}
