/**
 * Read pacing for a subscriber under load. A monitor that keeps up with a fast stream reads it in many small
 * pieces, a few messages each, and pays per piece: a wake-up, a journal write, an acknowledgement write, and a turn
 * of work on data that other processes pushed out of the CPU's caches meanwhile. When a read drained the socket
 * (the piece was small and nothing is buffered), reading stops for up to `pause_ms` so that the next messages
 * arrive as one batch. The wait ends early, at the first check at which nothing more arrived since the one before:
 * an idle stream, or a broker that sends a window of unacknowledged messages and waits for their acknowledgements,
 * is not slowed down by more than a step. The checks come at `step_ms`, 2×, 4×… after the wait began (each one a
 * wake-up of its own, so a steady stream costs a few per wait rather than one per step); a sender that stalls is
 * seen at most as late as the time already waited. Adds at most `pause_ms` to a message's latency.
 *
 * The clock here only paces reads: what is read, and every decision taken on it, is the same at any pace.
 */
import type { Readable } from 'node:stream';

export interface ReadPacingOptions {
  /** The longest wait after a read that drained the socket. 0 disables pacing. */
  readonly pause_ms: number;
  /** The first check, after which the interval between checks doubles: the wait ends at a check that found nothing new. */
  readonly step_ms?: number;
  /** A piece at least this large means more is waiting: no wait after it. */
  readonly fullRead_bytes?: number;
  readonly now?: () => number;
}

export class ReadPacing {
  private readonly step_ms: number;
  private readonly fullRead_bytes: number;
  private readonly now: () => number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Number of waits begun. */
  waits = 0;
  /** Number of checks made during waits (each one a wake-up). */
  checks = 0;

  constructor(
    private readonly stream: Readable,
    private readonly o: ReadPacingOptions,
  ) {
    this.step_ms = Math.min(o.step_ms ?? 1, o.pause_ms);
    this.fullRead_bytes = o.fullRead_bytes ?? 32 * 1024;
    this.now = o.now ?? (() => performance.now());
    stream.once('close', () => this.cancel());
  }

  /** Called after each piece read from the stream has been handled. */
  afterRead(bytes: number): void {
    if (this.o.pause_ms <= 0 || this.timer !== null || this.stream.destroyed) return;
    // Pieces buffered during a wait come out one by one when it ends: wait again only once all are handled.
    if (bytes >= this.fullRead_bytes || this.stream.readableLength > 0) return;
    this.waits++;
    this.stream.pause();
    const began_ms = this.now();
    let buffered = 0; // bytes waiting at the last check
    let checkAt_ms = this.step_ms; // since the wait began
    const step = (): void => {
      this.checks++;
      const length_bytes = this.stream.readableLength;
      const waited_ms = this.now() - began_ms;
      if (length_bytes > buffered && waited_ms < this.o.pause_ms) {
        buffered = length_bytes;
        checkAt_ms = Math.min(Math.max(2 * checkAt_ms, waited_ms + this.step_ms), this.o.pause_ms);
        this.timer = setTimeout(step, checkAt_ms - waited_ms);
        return;
      }
      this.timer = null;
      if (!this.stream.destroyed) this.stream.resume();
    };
    this.timer = setTimeout(step, this.step_ms);
  }

  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
