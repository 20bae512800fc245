import { catchError, of, type Observable, type OperatorFunction } from 'rxjs';
import type { AlertEvent } from '../domain/events.js';
import type { CellConfig } from '../domain/cell.js';
import type { DetectorOptions, DetectorState, StepResult } from '../domain/detector.js';
import type { AlignedSample, Sample } from '../domain/sample.js';
import { alignAux, alignState, type AlignState } from './align.js';
import { detectCell, type DetectorOutput } from './detect.js';
import { perCell } from './perCell.js';
import { reorderState, reorderWithin, type OnReject, type ReorderState } from './reorder.js';
import { createDetectorState } from '../domain/detector.js';

/** Everything one cell's chain holds between samples: what a checkpoint saves. */
export interface CellPipelineState {
  readonly reorder: ReorderState;
  readonly align: AlignState;
  readonly detector: DetectorState;
}

export interface MonitorOptions {
  /** How late a message may arrive and still be put in its place (event time). */
  readonly reorderWindow_ms: number;
  /** How old a pressure or temperature reading may be and still be joined to a voltage sample. */
  readonly auxStaleness_ms: number;
  readonly detector: DetectorOptions;
  readonly derived: boolean;
  /** The cell's registry entry (or what is assumed for an unlisted cell). */
  readonly resolveCell: (id: string) => CellConfig;
  readonly onReject: OnReject;
  /** State to resume a cell from (a checkpoint); a fresh one otherwise. */
  readonly initialState?: (cell: string) => CellPipelineState | undefined;
  /** Per-cell hook after each sample (display series). */
  readonly onSample?: (cell: CellConfig) => ((x: AlignedSample, state: DetectorState, step: StepResult | null) => void) | undefined;
  /** Every cell's live state, kept up to date for checkpoints. */
  readonly states?: Map<string, CellPipelineState>;
  /**
   * Each sample admitted by re-ordering and de-duplication, as it arrives: what may be written as raw telemetry
   * (a rejected duplicate must never replace the good value in the database).
   */
  readonly onAccepted?: (s: Sample) => void;
}

/**
 * The monitoring chain every pipeline shares, live or offline: per cell, put samples in order, join
 * pressure and temperature, detect. Only the edges (where samples come from, where outputs go) differ.
 */
export function monitorCells(options: MonitorOptions): OperatorFunction<Sample, DetectorOutput> {
  return perCell((cell: string, samples: Observable<Sample>): Observable<DetectorOutput> => {
    const config = options.resolveCell(cell);
    const state = options.initialState?.(cell) ?? { reorder: reorderState(), align: alignState(), detector: createDetectorState(config) };
    options.states?.set(cell, state);
    return samples.pipe(
      reorderWithin(options.reorderWindow_ms, options.onReject, state.reorder, options.onAccepted),
      alignAux(options.auxStaleness_ms, options.onReject, state.align),
      detectCell(config, { detector: options.detector, derived: options.derived, initialState: state.detector, onSample: options.onSample?.(config) }),
      quarantineOnError(cell, () => state.detector.clock.last_ms),
    );
  });
}

/**
 * A cell whose chain throws (a defect, or state no code expected) is quarantined: one `cell-error` alert, then
 * nothing more from it, while every other cell goes on. Its later samples are still journalled and written raw.
 */
export function quarantineOnError(cell: string, last_ms: () => number): OperatorFunction<DetectorOutput, DetectorOutput> {
  return catchError((e: unknown) => {
    const t = last_ms();
    const alert: AlertEvent = {
      type: 'alert',
      cell,
      t_ms: Number.isFinite(t) ? t : 0,
      severity: 'critical',
      code: 'cell-error',
      state: 'raised',
      message: `detection stopped for this cell (${e instanceof Error ? e.message : String(e)}); the other cells go on`,
    };
    return of(alert);
  });
}
