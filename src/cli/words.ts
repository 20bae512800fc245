/**
 * What the CLI prints about its work: the summary line per cell, counts with their plurals, progress, the monitor's
 * status line, and one line for each system error a lab meets.
 */
import { type AnalyzeProgress } from '../../pipelines/analyze.js';
import type { RunHandle } from '../../pipelines/run.js';
import { formatZoned, isAbsolute, labTime } from '../domain/labTime.js';
import type { CellSummary } from '../domain/detector/index.js';
import { SlidingRate, statusLine } from './terminal.js';

/**
 * A cell's result in one line: `c1: 5,481 samples over 45.1 h from 2023-11-09 14:03 CET (Europe/Berlin, option) ·
 * failure mode short after 25.10 h · …`. Times are hours since the cell's start; the start in the lab's zone.
 */
export function summaryLine(c: CellSummary): string {
  const start_ms = c.start === null ? NaN : Date.parse(c.start);
  const zone = c.timeZone ?? 'UTC';
  const dated = Number.isFinite(start_ms) && isAbsolute(start_ms);
  const source = c.configSources?.['timeZone'];
  const from = !Number.isFinite(start_ms)
    ? ''
    : dated
      ? ` from ${formatZoned(start_ms, zone)} (${zone}${source === undefined ? '' : `, ${source === 'machine' ? "this machine's zone" : source}`})`
      : ' (no start date in the data: times are hours since its start)';
  const symmetric = c.symmetric ? '' : ` · not a symmetric cell (${c.notSymmetricReason ?? 'no reason given'}): no regime calls`;
  return (
    `${c.cell}: ${c.samples.toLocaleString('en')} samples over ${c.duration_h.toFixed(1)} h${from}${symmetric}` +
    // A cell that is not symmetric has no failure mode or shorts to speak of: R_app = V/I means nothing there.
    (!c.symmetric
      ? ''
      : ` · failure mode ${c.failureMode}` +
        (c.failureModeOnset_h === null ? '' : ` from ${c.failureModeOnset_h.toFixed(2)} h`) +
        // The loop's (or the short's) onset is not the time to failure when the cell hit the limit long before.
        (c.timeToFailure_h === null || c.timeToFailure_h === c.failureModeOnset_h
          ? ''
          : ` · time to failure ${c.timeToFailure_h.toFixed(2)} h (first ${c.timeToFailureBasis})`) +
        ` · ${counted(c.shortCount, 'short')} (${c.isolatedShortCount} isolated)` +
        (c.softShortCount > 0 && c.firstSoftShort !== null && Number.isFinite(start_ms)
          ? ` · ${counted(c.softShortCount, 'soft short')} (first at ${labTime(Date.parse(c.firstSoftShort), start_ms, zone)})`
          : '') +
        (c.complianceForecast === null ? '' : ` · ${c.complianceForecast.text} (from the last sample)`)) +
    ` · ${counted(c.halfCycles, 'half cycle')}`
  );
}
/** `1 short`, `2 shorts`. */
export function counted(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}
/** The share of a file's rows that may be rejected before the file is taken for misread (see --salvage). */
export const MAX_REJECTED_SHARE = 0.05;
/** One line, rewritten in place on a terminal, one line per 10 s otherwise. */
export function progressPrinter(): (p: AnalyzeProgress) => void {
  const tty = process.stderr.isTTY;
  let last = 0;
  const t0 = performance.now();
  return (p) => {
    const now = performance.now();
    if (now - last < (tty ? 500 : 10_000)) return;
    last = now;
    const pct = p.size_bytes > 0 ? ((100 * p.bytesRead) / p.size_bytes).toFixed(0) : '?';
    const rate = Math.round(p.samples / ((now - t0) / 1000));
    const line = `analyze: file ${p.fileIndex + 1}/${p.files} ${pct}% · ${p.samples.toLocaleString('en')} samples · ${rate.toLocaleString('en')}/s`;
    process.stderr.write(tty ? `\r${line}\x1b[K` : line + '\n');
  };
}
export const figuresWritten = (paths: readonly string[]): string =>
  paths.length === 0 ? '' : ` and ${paths.length} figures (${paths.filter((p) => /\.fig2\./.test(p)).join(', ')} and each panel)`;
export const stamp = (m: string): string => `${new Date().toISOString()} ${m}`;
/** One line a person can act on for the system errors a lab meets (busy port, no broker, unwritable folder). */
export function systemErrorLine(e: NodeJS.ErrnoException & { address?: string; port?: number }): string | null {
  const where = e.address === undefined ? (e.path ?? '') : `${e.address}${e.port === undefined ? '' : `:${e.port}`}`;
  switch (e.code) {
    case 'EADDRINUSE':
      return `${where} is already in use (EADDRINUSE): another cyclewatch or broker runs there; set embeddedBroker.port, http.port, or mqtt.url to use that broker`;
    case 'ECONNREFUSED':
      return `nothing answers at ${where} (ECONNREFUSED): is the broker running, and is --broker / mqtt.url right?`;
    case 'ENOTFOUND':
      return `the host of ${(e as { hostname?: string }).hostname ?? where} is unknown (ENOTFOUND): check the URL`;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
    case 'ENOTDIR':
    case 'EISDIR':
    case 'ENOSPC':
      return `cannot write ${where} (${e.code}): choose a folder you can write to`;
    case 'ENOENT':
      return `${where} does not exist (ENOENT)`;
    default:
      return null;
  }
}
/**
 * A status line while the monitor runs: cells by regime, messages per second over the last minute, alerts. On a
 * terminal, one line redrawn every 2 s; in a log, a line a minute (and none while nothing arrives).
 */
export function statusReporter(handle: RunHandle, tty: boolean, log: (m: string) => void): { stop(): void } {
  const rate = new SlidingRate(60_000);
  let lastCount = handle.metrics.value('cyclewatch_messages_in_total');
  rate.add(performance.now(), lastCount);
  const timer = setInterval(
    () => {
      const count = handle.metrics.value('cyclewatch_messages_in_total');
      const quiet = count === lastCount;
      lastCount = count;
      const line = statusLine(handle.cells.values(), rate.add(performance.now(), count));
      if (tty) process.stderr.write(`\r\x1b[K${line}`);
      else if (!quiet) log(line);
    },
    tty ? 2000 : 60_000,
  );
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}
