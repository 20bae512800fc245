/**
 * Read pacing: after a read that drained the stream, reading waits while more keeps arriving (up to `pause_ms`),
 * so that it comes out as one batch; an idle stream or a stalled sender ends the wait after one step.
 */
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReadPacing } from '../../../src/io/mqtt/readPacing.js';

/** A stream read as `paceReads` reads the MQTT socket: each piece handled, then judged. */
function pacedStream(pause_ms: number, fullRead_bytes = 1000): { stream: PassThrough; pacing: ReadPacing; reads: { at_ms: number; bytes: number }[] } {
  const stream = new PassThrough();
  const pacing = new ReadPacing(stream, { pause_ms, step_ms: 1, fullRead_bytes, now: () => Date.now() });
  const reads: { at_ms: number; bytes: number }[] = [];
  const t0 = Date.now();
  stream.on('data', (chunk: Buffer) => {
    reads.push({ at_ms: Date.now() - t0, bytes: chunk.length });
    pacing.afterRead(chunk.length);
  });
  return { stream, pacing, reads };
}

/** Lets `resume()` (scheduled on the next tick) and the flow of buffered pieces run. */
const ticks = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => process.nextTick(r));
};

describe('ReadPacing', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits after a small read while more arrives, then hands over all of it at once', async () => {
    const { stream, pacing, reads } = pacedStream(5);
    stream.write(Buffer.alloc(10));
    await ticks();
    expect(reads).toEqual([{ at_ms: 0, bytes: 10 }]);
    expect(stream.isPaused()).toBe(true);
    // A piece every 1 ms: none is handed over before the 5 ms are up.
    for (let ms = 1; ms <= 4; ms++) {
      stream.write(Buffer.alloc(20));
      await vi.advanceTimersByTimeAsync(1);
      await ticks();
      expect(reads).toHaveLength(1);
    }
    await vi.advanceTimersByTimeAsync(1);
    await ticks();
    expect(reads.slice(1).map((r) => r.at_ms)).toEqual([5, 5, 5, 5]);
    expect(reads.slice(1).reduce((s, r) => s + r.bytes, 0)).toBe(80);
    // The last of them drained the stream: the next wait has begun.
    expect(pacing.waits).toBe(2);
    expect(stream.isPaused()).toBe(true);
  });

  it('checks a steady stream at 1, 2, 4, 8, 16 ms and at the end of the wait: a few wake-ups per wait, not one per step', async () => {
    const { stream, pacing, reads } = pacedStream(20);
    stream.write(Buffer.alloc(10));
    await ticks();
    for (let ms = 1; ms <= 20; ms++) {
      stream.write(Buffer.alloc(20)); // a piece every 1 ms, the whole wait long
      await vi.advanceTimersByTimeAsync(1);
      await ticks();
      if (ms < 20) expect(reads).toHaveLength(1);
    }
    expect(pacing.checks).toBe(6);
    expect(reads.slice(1).every((r) => r.at_ms === 20)).toBe(true);
    expect(reads.slice(1).reduce((s, r) => s + r.bytes, 0)).toBe(20 * 20);
  });

  it('a sender that stalls mid-wait is seen at the next check: no later than the time already waited', async () => {
    const { stream, reads } = pacedStream(50);
    stream.write(Buffer.alloc(10));
    await ticks();
    for (let ms = 1; ms <= 5; ms++) {
      stream.write(Buffer.alloc(20)); // 5 ms of a steady stream, then nothing (a window of unacknowledged messages)
      await vi.advanceTimersByTimeAsync(1);
      await ticks();
    }
    await vi.advanceTimersByTimeAsync(11);
    await ticks();
    // Checks at 1, 2, 4 and 8 ms found more each time; the one at 16 ms found nothing new and ended the wait.
    expect(reads.map((r) => r.at_ms)).toEqual([0, 16, 16, 16, 16, 16]);
  });

  it('ends the wait after one step in which nothing arrived (idle stream, or a sender waiting for acknowledgements)', async () => {
    const { stream, reads } = pacedStream(50);
    stream.write(Buffer.alloc(10));
    await ticks();
    stream.write(Buffer.alloc(10)); // arrives within the first step, then nothing more
    await vi.advanceTimersByTimeAsync(1);
    await ticks();
    expect(reads).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await ticks();
    expect(reads.map((r) => r.at_ms)).toEqual([0, 2]);
    // Then again: nothing arrives during the next wait, which ends after its first step.
    await vi.advanceTimersByTimeAsync(1);
    await ticks();
    expect(stream.isPaused()).toBe(false);
    stream.write(Buffer.alloc(10));
    await ticks();
    expect(reads.map((r) => r.at_ms)).toEqual([0, 2, 3]);
  });

  it('does not wait after a full read (more is waiting), nor while pieces are still buffered', async () => {
    const { stream, pacing, reads } = pacedStream(5, 1000);
    stream.write(Buffer.alloc(1000));
    await ticks();
    expect(stream.isPaused()).toBe(false);
    expect(pacing.waits).toBe(0);
    stream.write(Buffer.alloc(10));
    await ticks();
    expect(reads.map((r) => r.bytes)).toEqual([1000, 10]);
    expect(pacing.waits).toBe(1);
  });

  it('with pause_ms 0 reads every piece as it arrives', async () => {
    const { stream, pacing, reads } = pacedStream(0);
    for (let i = 0; i < 5; i++) {
      stream.write(Buffer.alloc(10));
      await ticks();
    }
    expect(reads).toHaveLength(5);
    expect(pacing.waits).toBe(0);
    expect(stream.isPaused()).toBe(false);
  });

  it('a stream destroyed during a wait is left alone (no timer, no resume)', async () => {
    const { stream } = pacedStream(5);
    stream.write(Buffer.alloc(10));
    await ticks();
    stream.destroy();
    await ticks();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10);
    expect(stream.destroyed).toBe(true);
  });
});
