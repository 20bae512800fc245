/** What the per-cell monitoring chain emits: events, the derived series of each sample, and a result at the end. */
import type { CellSummary, DerivedState, LabelledSegment } from '../domain/detector/index.js';
import type { CellEvent } from '../domain/events.js';
import type { AlignedSample } from '../domain/sample.js';

export interface DerivedOutput {
  readonly type: 'derived';
  readonly cell: string;
  readonly sample: AlignedSample;
  readonly derived: DerivedState;
}

/** Emitted once when the cell's stream completes. */
export interface CellResult {
  readonly type: 'result';
  readonly cell: string;
  readonly summary: CellSummary;
  readonly segments: readonly LabelledSegment[];
}

export type DetectorOutput = CellEvent | DerivedOutput | CellResult;
