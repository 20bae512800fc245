import type { Observable, OperatorFunction } from 'rxjs';
import type { CellConfig } from '../domain/cell.js';
import type { DetectorOptions, DetectorState } from '../domain/detector.js';
import type { Sample } from '../domain/sample.js';
import { alignAux } from './align.js';
import { detectCell, type DetectorOutput } from './detect.js';
import { perCell } from './perCell.js';
import { reorderWithin, type OnReject } from './reorder.js';

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
  readonly initialState?: (cell: string) => DetectorState | undefined;
  readonly onState?: (state: DetectorState) => void;
}

/**
 * The monitoring chain every pipeline shares, live or offline: per cell, put samples in order, join
 * pressure and temperature, detect. Only the edges (where samples come from, where outputs go) differ.
 */
export function monitorCells(options: MonitorOptions): OperatorFunction<Sample, DetectorOutput> {
  return perCell((cell: string, samples: Observable<Sample>): Observable<DetectorOutput> =>
    samples.pipe(
      reorderWithin(options.reorderWindow_ms, options.onReject),
      alignAux(options.auxStaleness_ms, options.onReject),
      detectCell(options.resolveCell(cell), {
        detector: options.detector,
        derived: options.derived,
        initialState: options.initialState?.(cell),
        onState: options.onState,
      }),
    ),
  );
}
