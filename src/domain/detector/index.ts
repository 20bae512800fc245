/**
 * The per-cell online detector: the state (state.ts), the per-sample step (step.ts), half-cycle accounting
 * (halfCycles.ts), the reference over a run (calibration.ts), alerts and the failure record (alerts.ts), and the
 * summary at the end of input (summary.ts). Each part owns a slice of one plain, checkpointable state per cell.
 */
export {
  createDetectorState,
  DEFAULT_DETECTOR_OPTIONS,
  DETECTOR_STATE_VERSION,
  isCurrentDetectorState,
  SHORT_COLLAPSE_RATIO,
  theoreticalReference25_ohm,
  type DerivedState,
  type DetectorOptions,
  type DetectorState,
  type Segment,
  type StepResult,
} from './state.js';
export { derivedState, stepDetector, stepScratch, type StepScratch } from './step.js';
export { formatOhm } from './alerts.js';
export { finishDetector, type CellSummary, type LabelledSegment } from './summary.js';
