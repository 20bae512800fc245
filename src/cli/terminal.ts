/**
 * What the CLI draws on a terminal or prints to a log while it works: durations, message rates, the monitor's status
 * line, and a block of status lines redrawn in place under the log.
 */

/** 75 → "1 min 15 s", 4000 → "1 h 7 min". */
export function formatDuration(s: number): string {
  if (s < 60) return `${Math.ceil(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/**
 * Events per second over a sliding window, from readings of a counter: the rate over the readings of the last
 * `window_ms` (the oldest one kept at or before the window's start). A minute in which 20 messages arrived reads
 * 0.33/s on every line of it, not 0 on the line after a quiet 2 s.
 */
export class SlidingRate {
  private readonly readings: [number, number][] = [];
  constructor(private readonly window_ms: number) {}

  /** Adds the counter's value at `t_ms` and gives the rate per second over the window ending there. */
  add(t_ms: number, count: number): number {
    this.readings.push([t_ms, count]);
    while (this.readings.length > 2 && this.readings[1]![0] <= t_ms - this.window_ms) this.readings.shift();
    const [t0, c0] = this.readings[0]!;
    return t_ms > t0 ? ((count - c0) * 1000) / (t_ms - t0) : 0;
  }
}

/** A rate for people: 2 significant digits below 10 (`0.33`, `4.5`), whole numbers with separators above (`12,400`). */
export function formatRate(perSecond: number): string {
  if (!(perSecond > 0)) return '0';
  if (perSecond < 10) return String(Number(perSecond.toPrecision(2)));
  return Math.round(perSecond).toLocaleString('en');
}

/** `status: 3 cells (2 stable, 1 polarization), 0.33 messages/s, 1 alert`. */
export function statusLine(cells: Iterable<{ readonly regime: string; readonly alerts: number }>, perSecond: number): string {
  const byRegime = new Map<string, number>();
  let n = 0;
  let alerts = 0;
  for (const c of cells) {
    byRegime.set(c.regime, (byRegime.get(c.regime) ?? 0) + 1);
    alerts += c.alerts;
    n++;
  }
  const regimes = [...byRegime].map(([r, k]) => `${k} ${r}`).join(', ');
  const rate = formatRate(perSecond);
  return `status: ${n} ${n === 1 ? 'cell' : 'cells'}${regimes.length > 0 ? ` (${regimes})` : ''}, ${rate} ${rate === '1' ? 'message' : 'messages'}/s, ${alerts} ${alerts === 1 ? 'alert' : 'alerts'}`;
}

/**
 * A block of status lines at the bottom of a terminal, redrawn in place, with log lines printed above it: the block
 * is erased, the line written, the block drawn again, so the two never run into each other. Not on a terminal, the
 * block is printed as plain lines each time it is drawn.
 */
export class StatusBlock {
  private shown: string[] = [];
  private drawn = 0;
  constructor(
    private readonly tty: boolean,
    private readonly write: (text: string) => void,
  ) {}

  private erase(): string {
    // Up to the block's first line, then clear to the end of the screen.
    return this.drawn > 0 ? `\x1b[${this.drawn}A\r\x1b[J` : '';
  }

  private render(): string {
    this.drawn = this.shown.length;
    return this.shown.map((l) => l + '\n').join('');
  }

  draw(lines: string[]): void {
    this.shown = lines;
    if (!this.tty) return this.write(lines.join('\n') + '\n');
    this.write(this.erase() + this.render());
  }

  above(line: string): void {
    if (!this.tty || this.drawn === 0) return this.write(line + '\n');
    this.write(this.erase() + line + '\n' + this.render());
  }

  /** Leave the last block on screen and write below it from now on. */
  done(): void {
    this.drawn = 0;
    this.shown = [];
  }
}
