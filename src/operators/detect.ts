import { Observable, type OperatorFunction } from 'rxjs';
import type { CellConfig } from '../domain/cell.js';
import {
  createDetectorState,
  derivedState,
  finishDetector,
  stepDetector,
  type CellSummary,
  type DerivedState,
  type DetectorOptions,
  type DetectorState,
  type LabelledSegment,
  type StepResult,
} from '../domain/detector.js';
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

export interface DetectOptions {
  readonly detector: DetectorOptions;
  /** Also emit the derived series for every sample (the live sink writes it; offline analysis does not). */
  readonly derived: boolean;
  /** State to resume from (a checkpoint); a fresh state otherwise. */
  readonly initialState?: DetectorState;
  /** Called after each sample with the detector's state (e.g. to collect display series without allocating). */
  readonly onSample?: (x: AlignedSample, state: DetectorState, step: StepResult | null) => void;
}

/** Runs the domain detector over one cell's aligned samples, in event time. */
export function detectCell(cell: CellConfig, options: DetectOptions): OperatorFunction<AlignedSample, DetectorOutput> {
  return (source) =>
    new Observable<DetectorOutput>((subscriber) => {
      const state = options.initialState ?? createDetectorState(cell);
      const emit = (e: CellEvent): void => subscriber.next(e);
      return source.subscribe({
        next(x) {
          let step: StepResult | null;
          try {
            step = stepDetector(state, cell, options.detector, x, emit);
            options.onSample?.(x, state, step);
          } catch (e) {
            // An error notification, not an exception thrown into the source: the chain decides what it costs.
            subscriber.error(e);
            return;
          }
          if (options.derived && step !== null) subscriber.next({ type: 'derived', cell: cell.id, sample: x, derived: derivedState(state, cell, step) });
        },
        error: (e) => subscriber.error(e),
        complete() {
          const { summary, segments } = finishDetector(state, cell, options.detector, emit);
          subscriber.next({ type: 'result', cell: cell.id, summary, segments });
          subscriber.complete();
        },
      });
    });
}
