import type { CellSummary } from '../../src/domain/detector/index.js';
import type { CellEvent } from '../../src/domain/events.js';
import { eventToJson } from '../../src/io/outputs/analysisFiles.js';

/**
 * An analysis's event as events.jsonl holds it (with `elapsed_h` from its cell's first sample), to compare with what
 * a live monitor wrote for the same data.
 */
export function asWritten(r: { readonly summaries: readonly CellSummary[] }): (e: CellEvent) => Record<string, unknown> {
  const starts = new Map(r.summaries.map((s) => [s.cell, s.start === null ? undefined : Date.parse(s.start)]));
  return (e) => eventToJson(e, { start_ms: starts.get(e.cell) });
}
