/** `cyclewatch analyze FILE… --out DIR`: detection on recorded telemetry, its files, the report and figures. */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, closestId } from '../../../pipelines/analyze.js';
import { registryPath } from '../../../pipelines/simulate.js';
import { FORMATS, machineTimeZone, type TelemetryFormat } from '../../io/instruments/importers.js';
import { describeTimeBasis } from '../../io/instruments/csvRows.js';
import { loadRegistry } from '../../config/registry.js';
import { writeReport } from '../../report/html.js';
import { UsageError, num, zoneOption, startOption, FIGURE_FLAGS, figureOptions, columnsOption, IMPORT_FLAGS } from '../args.js';
import { summaryLine, counted, MAX_REJECTED_SHARE, progressPrinter, figuresWritten } from '../words.js';

export async function cmdAnalyze(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      cells: { type: 'string' },
      ...IMPORT_FLAGS,
      salvage: { type: 'boolean' },
      'area-cm2': { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      'no-report': { type: 'boolean' },
      ...FIGURE_FLAGS,
    },
  });
  const timeZone = zoneOption(values.tz);
  const figures = figureOptions(values);
  if (positionals.length === 0) throw new UsageError('analyze needs at least one telemetry FILE');
  if (values.out === undefined) throw new UsageError('analyze needs --out DIR (where events.jsonl, segments.jsonl and summary.json go)');
  const format = values.format as TelemetryFormat | undefined;
  if (format !== undefined && !FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
  const start_ms = startOption(values.start, timeZone ?? machineTimeZone());
  const area = num(values['area-cm2'], '--area-cm2');
  const log = (m: string): void => {
    if (!values.quiet) process.stderr.write(`${m}\n`);
  };
  // The registry `simulate` writes beside its CSV (NAME.cells.yaml) is used when none is given.
  const beside = values.cells === undefined ? positionals.map((f) => registryPath(f)).filter((r, k) => r !== positionals[k] && existsSync(r)) : [];
  const registryFile = values.cells ?? beside[0];
  const registry = registryFile === undefined ? undefined : await loadRegistry(registryFile);
  if (values.cells === undefined && registryFile !== undefined) {
    log(
      `using the cell registry beside the data: ${registryFile}${beside.length > 1 ? ` (of ${beside.length} found; pass --cells to choose)` : ''} — pass --cells to use another`,
    );
  }
  if (registry === undefined) log('no --cells registry given: each cell is calibrated on its own data (see the assumptions below)');
  const t0 = performance.now();
  const result = await analyze({
    files: positionals,
    format,
    registry,
    assumed: area === undefined ? {} : { areaCm2: area },
    import: { cell: values.cell, setCurrent_mA: num(values['set-current-mA'], '--set-current-mA'), ...columnsOption(values.columns), start_ms },
    timeZone,
    maxRejectedShare: values.salvage ? undefined : MAX_REJECTED_SHARE,
    outDir: values.out,
    series: !values['no-report'],
    log,
    progress: values.quiet ? undefined : progressPrinter(),
  });
  if (result.summaries.length === 0) {
    process.stderr.write(
      `cyclewatch: no usable sample in ${positionals.join(', ')}${result.rejections.total > 0 ? ` (all ${result.rejections.total} rejected: ${JSON.stringify(result.rejections.toJSON().byReason)})` : ''}\n`,
    );
    return 3;
  }
  // The progress line stops at the end of the data: say what the last seconds are spent on.
  if (!values['no-report'] && !values.quiet) {
    process.stderr.write(
      `${process.stderr.isTTY ? '\r\x1b[K' : ''}writing ${join(values.out, 'report.html')}${figures ? ` and the figures (${figures.formats.join(', ')})` : ''}…\n`,
    );
  }
  const report = values['no-report'] ? null : await writeReport(values.out, { figures });
  const s = (performance.now() - t0) / 1000;
  if (process.stderr.isTTY && !values.quiet) process.stderr.write('\r\x1b[K');
  for (const [path, basis] of result.timeColumns) if (basis !== 'dates') log(`${path}: ${describeTimeBasis(basis, start_ms !== undefined)}`);
  for (const c of result.summaries) log(summaryLine(c));
  for (const b of result.batches) log(`batch ${b.group}: ${b.text}`);
  if (result.rejections.total > 0) log(`rejected ${result.rejections.total} lines/samples: ${JSON.stringify(result.rejections.toJSON().byReason)}`);
  if (registry !== undefined) {
    const seen = result.summaries.map((c) => c.cell);
    const unused = [...registry.keys()].filter((id) => !seen.includes(id));
    for (const id of unused) {
      const near = closestId(id, seen);
      log(`warning: ${registryFile} lists cell "${id}", which the data never mention${near === null ? '' : ` (did you mean "${near}"?)`}`);
    }
  }
  log(
    `wrote ${join(values.out, 'events.jsonl')}, segments.jsonl, summary.json${result.impedanceBlocks.length > 0 ? `, impedance.jsonl and impedance.csv (${counted(result.impedanceBlocks.length, 'spectrum', 'spectra')})` : ''}${report === null ? '' : `, report.html (${(report.bytes / 1e6).toFixed(1)} MB)${figuresWritten(report.figures)}`} in ${s.toFixed(1)} s`,
  );
  return 0;
}
