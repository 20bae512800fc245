/**
 * The per-sample lines as text, for assertions: the byte writers (src/io/influx/lineBytes.ts) write into a target
 * that keeps the one line written to it.
 */
import type { DerivedState } from '../../src/domain/detector/index.js';
import type { AlignedSample, Sample } from '../../src/domain/sample.js';
import { writeDerivedLine, writeTelemetryLine, type LineSlot, type LineTarget } from '../../src/io/influx/lineBytes.js';
import { decodeMessages, type Decoded } from '../../src/io/wire/payload.js';

/** A target that keeps the one line written to it as a string. */
export class StringLineTarget implements LineTarget {
  private readonly slot: LineSlot = { buf: Buffer.allocUnsafe(1024), at: 0 };
  line: string | null = null;

  reserveLine(_t_ms: number, maxBytes: number): LineSlot {
    if (this.slot.buf.length < maxBytes) this.slot.buf = Buffer.allocUnsafe(maxBytes);
    this.line = null;
    return this.slot;
  }

  commitLine(end: number): void {
    this.line = this.slot.buf.toString('utf8', 0, end);
  }
}

/** The `telemetry` line of a sample (null: it has no value to write). */
export function telemetryLine(s: Sample | AlignedSample): string | null {
  const t = new StringLineTarget();
  writeTelemetryLine(t, s);
  return t.line;
}

/** The `derived` line of a cell's derived state. */
export function derivedLine(cell: string, d: DerivedState): string {
  const t = new StringLineTarget();
  writeDerivedLine(t, cell, d);
  return t.line!;
}

/** One message through the live decoder (`decodeMessages`): its one sample, or its first rejection. */
export function decodeMessage(topic: string, payload: string | Uint8Array, prefix = 'cells'): Decoded {
  let out: Decoded | null = null;
  decodeMessages(
    topic,
    payload,
    prefix,
    (sample) => void (out ??= { ok: true, sample }),
    (reason, detail) => void (out ??= { ok: false, reason, detail }),
  );
  return out ?? { ok: false, reason: 'malformed', detail: 'no sample in the message' };
}
