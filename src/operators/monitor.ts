/**
 * The monitoring chain every pipeline shares, live or offline, and what it emits: per cell, samples put in order,
 * pressure and temperature joined, regimes detected; out come the accepted samples (on request), the derived series,
 * the events, and a result at the end.
 */
import { catchError, Observable, of, type OperatorFunction } from 'rxjs';
import type { AlertEvent, CellEvent } from '../domain/events.js';
import type { CellConfig } from '../domain/cell.js';
import {
  createDetectorState,
  derivedState,
  finishDetector,
  stepDetector,
  stepScratch,
  type CellSummary,
  type DerivedState,
  type DetectorOptions,
  type DetectorState,
  type LabelledSegment,
  type StepResult,
} from '../domain/detector/index.js';
import type { AlignedSample, Sample } from '../domain/sample.js';
import { alignSample, alignState, type AlignState } from './align.js';
import { perCell } from './perCell.js';
import { admitSample, releaseUpTo, reorderState, type OnReject, type ReorderState } from './reorder.js';

/**
 * A sample admitted by re-ordering and de-duplication, as it arrives: what may be written as raw telemetry (a rejected
 * duplicate must never replace the good value in the database). Emitted only when asked for (`accepted: true`).
 */
export interface AcceptedOutput {
  readonly type: 'accepted';
  readonly cell: string;
  readonly sample: Sample;
}

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

/** What the per-cell monitoring chain emits. */
export type DetectorOutput = CellEvent | AcceptedOutput | DerivedOutput | CellResult;

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
  /** Emit each admitted sample as it arrives (`accepted`), for the raw telemetry a live monitor writes. */
  readonly accepted?: boolean;
}

/**
 * The monitoring chain every pipeline shares, live or offline: per cell, put samples in order (`admitSample`),
 * join pressure and temperature (`alignSample`), detect (`stepDetector`). Only the edges (where samples come from,
 * where outputs go) differ: everything the chain decides leaves it downstream.
 */
export function monitorCells(options: MonitorOptions): OperatorFunction<Sample, DetectorOutput> {
  return perCell((cell: string, samples: Observable<Sample>): Observable<DetectorOutput> => {
    const config = options.resolveCell(cell);
    const state = options.initialState?.(cell) ?? { reorder: reorderState(), align: alignState(), detector: createDetectorState(config) };
    options.states?.set(cell, state);
    return samples.pipe(
      monitorCell(config, options, state),
      quarantineOnError(cell, () => state.detector.clock.last_ms),
    );
  });
}

/**
 * One cell's chain as one operator over the step functions `admitSample` and `alignSample` (their marble tests lift each alone):
 * it runs once per sample, and two subscriber hops less per sample is a measurable share of an analysis.
 */
export function monitorCell(config: CellConfig, o: MonitorOptions, state: CellPipelineState): OperatorFunction<Sample, DetectorOutput> {
  return (source) =>
    new Observable<DetectorOutput>((subscriber) => {
      const emit = (e: CellEvent): void => subscriber.next(e);
      const onSample = o.onSample?.(config);
      const det = state.detector;
      const work = stepScratch();
      // The derived output keeps its sample; without it nothing downstream keeps one, so one object serves all.
      const scratch = o.derived ? undefined : { cell: '', t_ms: 0, voltage_V: 0, current_mA: 0, pressure_MPa: undefined, temperature_C: undefined };
      const accepted = o.accepted === true ? (s: Sample): void => subscriber.next({ type: 'accepted', cell: s.cell, sample: s }) : undefined;
      const detect = (s: Sample): void => {
        const x = alignSample(state.align, o.auxStaleness_ms, s, o.onReject, scratch);
        if (x === null) return;
        const step = stepDetector(det, config, o.detector, x, emit, work);
        onSample?.(x, det, step);
        if (o.derived && step !== null) subscriber.next({ type: 'derived', cell: config.id, sample: x, derived: derivedState(det, config, step) });
      };
      return source.subscribe({
        next(s) {
          try {
            admitSample(state.reorder, o.reorderWindow_ms, s, o.onReject, accepted, detect);
          } catch (e) {
            // An error notification, not an exception thrown into the source: the chain decides what it costs.
            subscriber.error(e);
          }
        },
        error: (e) => subscriber.error(e),
        complete() {
          try {
            releaseUpTo(state.reorder, Infinity, detect);
            const { summary, segments } = finishDetector(det, config, o.detector, emit);
            subscriber.next({ type: 'result', cell: config.id, summary, segments });
          } catch (e) {
            subscriber.error(e);
            return;
          }
          subscriber.complete();
        },
      });
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
