/**
 * Rejected input, counted and logged: every row of a file or message from a broker that cyclewatch does not take is
 * one `Rejection` with its reason (domain/reject.ts), never silently lost.
 */
import type { RejectReason } from '../../domain/reject.js';

export interface Rejection {
  readonly source: string;
  readonly line?: number;
  readonly reason: RejectReason;
  readonly detail: string;
}

const KEEP_EXAMPLES = 20;

/** Counts of rejected input by reason, with the first examples for a person to look at. */
export class RejectionLog {
  readonly counts = new Map<RejectReason, number>();
  readonly examples: Rejection[] = [];
  /** Per source (a file, a cell): how many, by reason, and the first one. */
  readonly bySource = new Map<string, { count: number; byReason: Map<RejectReason, number>; first: Rejection }>();
  private readonly onFirst: ((r: Rejection) => void) | undefined;

  constructor(onFirstOfKind?: (r: Rejection) => void) {
    this.onFirst = onFirstOfKind;
  }

  reject(r: Rejection): void {
    const n = this.counts.get(r.reason) ?? 0;
    this.counts.set(r.reason, n + 1);
    if (this.examples.length < KEEP_EXAMPLES) this.examples.push(r);
    let src = this.bySource.get(r.source);
    if (src === undefined) this.bySource.set(r.source, (src = { count: 0, byReason: new Map(), first: r }));
    src.count++;
    src.byReason.set(r.reason, (src.byReason.get(r.reason) ?? 0) + 1);
    if (n === 0) this.onFirst?.(r);
  }

  get total(): number {
    let t = 0;
    for (const n of this.counts.values()) t += n;
    return t;
  }

  toJSON(): { total: number; byReason: Record<string, number>; examples: Rejection[] } {
    return { total: this.total, byReason: Object.fromEntries(this.counts), examples: this.examples };
  }
}

/** A file of which too many rows were rejected to trust what was read of it (see `--salvage`). */
export class RejectedRowsError extends Error {
  override name = 'RejectedRowsError';
}

/** An input the importer cannot read at all: unknown format, unreadable file, missing columns. */
export class ImportError extends Error {
  constructor(
    readonly path: string,
    /** What is wrong, without the path. */
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'ImportError';
  }
}
