export { alignAux } from './align.js';
export { detectCell, type CellResult, type DerivedOutput, type DetectOptions, type DetectorOutput } from './detect.js';
export { perCell } from './perCell.js';
export { fromBatches } from './fromBatches.js';
export { monitorCells, type MonitorOptions } from './monitor.js';
export { reorderWithin, type OnReject } from './reorder.js';
