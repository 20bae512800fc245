/**
 * Read pacing for a subscriber under load. A monitor that keeps up with a fast stream reads it in many small
 * pieces, a few messages each, and pays per piece: a wake-up, a journal write, an acknowledgement write, and a turn
 * of work on data that other processes pushed out of the CPU's caches meanwhile. When a read drained the socket
 * (the piece was small and nothing is buffered), reading stops for up to `pause_ms` so that the next messages
 * arrive as one batch. The wait ends early, at the first `step_ms` in which nothing more arrived: an idle stream,
 * or a broker that sends a window of unacknowledged messages and waits for their acknowledgements, is not slowed
 * down by more than a step. Adds at most `pause_ms` to a message's latency.
 *
 * The clock here only paces reads: what is read, and every decision taken on it, is the same at any pace.
 */
import type { Readable } from 'node:stream';

export interface ReadPacingOptions {
  /** The longest wait after a read that drained the socket. 0 disables pacing. */
  readonly pause_ms: number;
  /** The wait ends after a step in which nothing arrived. */
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
    let buffered = 0; // bytes waiting at the last step
    const step = (): void => {
      const length_bytes = this.stream.readableLength;
      if (length_bytes > buffered && this.now() - began_ms + this.step_ms <= this.o.pause_ms) {
        buffered = length_bytes;
        this.timer = setTimeout(step, this.step_ms);
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
