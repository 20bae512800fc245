/**
 * Exponential back-off with jitter, one helper for every retry at the edges: MQTT reconnects, database writes,
 * webhook deliveries. Jitter spreads the retries of many clients that failed together (a broker or database
 * restart) so that they do not all come back in the same instant.
 */
export interface BackoffOptions {
  /** The first delay. */
  readonly initial_ms: number;
  /** No delay is longer than this. */
  readonly max_ms: number;
  /** Growth per attempt (2 by default). */
  readonly factor?: number;
  /** ± this fraction of randomness on each delay (0.2 by default; 0 for exact delays). */
  readonly jitter?: number;
}

export class Backoff {
  private current_ms: number;

  constructor(
    private readonly o: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {
    this.current_ms = o.initial_ms;
  }

  /** The delay before the next attempt; each call grows the one after it. */
  next(): number {
    const base = this.current_ms;
    this.current_ms = Math.min(this.o.max_ms, base * (this.o.factor ?? 2));
    const jitter = this.o.jitter ?? 0.2;
    return Math.min(this.o.max_ms, Math.round(base * (1 - jitter + 2 * jitter * this.random())));
  }

  /** After a success: the next failure starts again from the first delay. */
  reset(): void {
    this.current_ms = this.o.initial_ms;
  }
}

/** A pause; `unref` lets the process end during it (a retry that must not hold a shutdown). */
export const sleep = (ms: number, unref = false): Promise<void> =>
  new Promise((r) => {
    const t = setTimeout(r, ms);
    if (unref) t.unref();
  });
