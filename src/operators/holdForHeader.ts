import { asyncScheduler, Observable, type MonoTypeOperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';

export interface HoldForHeaderOptions<T> {
  readonly cellOf: (x: T) => string;
  /** Asked at a cell's first sample: whether it waits for its header (a cell the registry does not list). */
  readonly waits: (cell: string) => boolean;
  /** The cells whose header has arrived (a header's area and compliance are known by the time it is emitted). */
  readonly headers: Observable<string>;
  /** The longest a cell's first samples wait (scheduler time); then they go on without a header. */
  readonly maxWait_ms: number;
  /** The most samples held per cell; one more releases them. */
  readonly maxHeld: number;
  /** Releases everything held at once (before a checkpoint: held samples are in no cell's state). */
  readonly releaseNow?: Observable<unknown>;
  /** A cell's samples went on without its header (waited `maxWait_ms`, or `maxHeld` reached). */
  readonly onNoHeader?: (cell: string, held: number) => void;
  readonly scheduler?: SchedulerLike;
}

/**
 * Holds the first samples of a new cell until its header arrives, so that the area and limits it names apply from
 * the first sample: a header published (or delivered) just after the first rows would otherwise come too late for
 * the cell's configuration, which is fixed at its first sample. Bounded in time and count; every sample goes on, in
 * order. Cells that do not wait, and every sample after a cell's release, pass straight through.
 */
export function holdForHeader<T>(o: HoldForHeaderOptions<T>): MonoTypeOperatorFunction<T> {
  const scheduler = o.scheduler ?? asyncScheduler;
  return (source) =>
    new Observable<T>((subscriber) => {
      /** Cells decided: passing straight through. */
      const through = new Set<string>();
      /** Cells waiting: their samples in arrival order, and the timer that ends the wait. */
      const held = new Map<string, { samples: T[]; timer: Subscription }>();
      const release = (cell: string, withHeader: boolean): void => {
        const h = held.get(cell);
        through.add(cell);
        if (h === undefined) return;
        held.delete(cell);
        h.timer.unsubscribe();
        if (!withHeader) o.onNoHeader?.(cell, h.samples.length);
        for (const s of h.samples) subscriber.next(s);
      };
      const releaseAll = (): void => {
        for (const cell of [...held.keys()]) release(cell, false);
      };
      const headers = o.headers.subscribe({ next: (cell) => release(cell, true), error: (e: unknown) => subscriber.error(e) });
      const releases = o.releaseNow?.subscribe(() => releaseAll());
      const input = source.subscribe({
        next: (s) => {
          const cell = o.cellOf(s);
          if (through.has(cell)) return subscriber.next(s);
          const h = held.get(cell);
          if (h !== undefined) {
            h.samples.push(s);
            if (h.samples.length >= o.maxHeld) release(cell, false);
            return;
          }
          if (!o.waits(cell)) {
            through.add(cell);
            return subscriber.next(s);
          }
          const timer = scheduler.schedule(() => release(cell, false), o.maxWait_ms);
          held.set(cell, { samples: [s], timer });
        },
        error: (e: unknown) => {
          releaseAll();
          subscriber.error(e);
        },
        complete: () => {
          releaseAll();
          subscriber.complete();
        },
      });
      return () => {
        input.unsubscribe();
        headers.unsubscribe();
        releases?.unsubscribe();
        for (const h of held.values()) h.timer.unsubscribe();
      };
    });
}
