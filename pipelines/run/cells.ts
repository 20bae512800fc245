/**
 * The live monitor's cells: what each is (its registry entry, else what its file header says over the defaults, in
 * its lab's zone), the status table (regime, last sample, alerts), and the one wall-clock decision of the monitor:
 * the stale alert for a cell that stopped sending.
 */
import type { RunConfig } from '../../src/config/schema.js';
import { assumedCell, type CellConfig } from '../../src/domain/cell.js';
import type { AlertEvent } from '../../src/domain/events.js';
import type { Sample } from '../../src/domain/sample.js';
import { machineTimeZone } from '../../src/io/instruments/importers.js';
import type { Metrics } from '../../src/io/ops/metrics.js';
import type { CellMeta } from '../../src/io/wire/payload.js';
import type { CellPipelineState } from '../../src/operators/monitor.js';

/** What the monitor keeps per cell for its status table, /metrics and the stale alert. */
export interface CellStatus {
  regime: string;
  /** Event time of the last sample decided (ms). */
  last_ms: number;
  samples: number;
  alerts: number;
  /** Wall clock of the last sample received (ms), for the stale alert. */
  arrival_ms: number;
  stale: boolean;
}

export interface RunCells {
  /** The status table: every cell whose telemetry has arrived. */
  readonly cells: Map<string, CellStatus>;
  /** What each cell was judged with, decided at its first sample. */
  readonly cellConfigs: Map<string, CellConfig>;
  /** What the bridges read in each cell's file header. */
  readonly metas: Map<string, CellMeta>;
  resolveCell(id: string): CellConfig;
  /** A cell the registry does not list, with what its file header says (area, compliance) over the defaults. */
  resolveFromMeta(id: string): CellConfig;
  /** A sample taken on (live or from the journal): counted, its cell's arrival noted for the stale alert. */
  noteArrival(s: Sample): void;
  /** Raises the stale alert of each cell silent for longer than its limit at wall-clock time `t`. */
  checkStale(t: number): void;
}

export function runCells(o: {
  readonly config: RunConfig;
  readonly log: (m: string) => void;
  readonly now: () => number;
  readonly metrics: Metrics;
  readonly states: ReadonlyMap<string, CellPipelineState>;
  readonly raise: (a: AlertEvent) => void;
}): RunCells {
  const { config, log, now, metrics } = o;
  const cells = new Map<string, CellStatus>();
  const cellConfigs = new Map<string, CellConfig>();
  const metas = new Map<string, CellMeta>();
  let assumedLogged = 0;
  // The times people read (alert messages): the registry's zone, else the bridge's (the instrument's), else the lab's.
  const labZone = config.timeZone ?? machineTimeZone();
  log(
    `times in alert messages: hours since each cell's first sample and the wall clock in ${labZone} (${config.timeZone !== undefined ? 'timeZone: in the configuration' : "this machine's zone; set timeZone:"}), unless the registry or the bridge names the cell's own zone`,
  );
  const zoneOf = (id: string): string => metas.get(id)?.timeZone ?? labZone;
  const resolveFromMeta = (id: string): CellConfig => {
    const m = metas.get(id);
    return assumedCell(id, {
      ...(m?.areaCm2 != null ? { areaCm2: m.areaCm2 } : {}),
      ...(m?.complianceV != null ? { complianceV: m.complianceV } : {}),
      timeZone: zoneOf(id),
    });
  };
  const resolveCell = (id: string): CellConfig => {
    const listed = config.registry.get(id);
    let c = cellConfigs.get(id) ?? (listed === undefined || listed.timeZone !== undefined ? listed : { ...listed, timeZone: zoneOf(id) });
    if (c === undefined) {
      c = resolveFromMeta(id);
      // The first few by name, then a count now and then: thousands of new ids must not flood the log.
      if (++assumedLogged <= 10) {
        log(
          `cell "${id}" is not in the registry: assuming area ${c.areaCm2} cm², metal unknown, compliance ${c.complianceV} V; R_ref is calibrated on its first hours`,
        );
      } else if (assumedLogged % 1000 === 0) log(`${assumedLogged} cells not in the registry so far (each with the same assumptions)`);
    }
    cellConfigs.set(id, c);
    return c;
  };

  const messagesIn = metrics.counter(
    'cyclewatch_messages_in_total',
    'Valid telemetry samples received, each row of a batch message counted (duplicates and late ones are rejected after this)',
  );
  const noteArrival = (s: Sample): void => {
    messagesIn.inc();
    let c = cells.get(s.cell);
    if (c === undefined) {
      // Until its first judged sample: the regime it was restored in, else learning (a new cell learns first).
      const regime = o.states.get(s.cell)?.detector.regime.regime ?? 'learning';
      const status: CellStatus = { regime, last_ms: s.t_ms, samples: 0, alerts: 0, arrival_ms: now(), stale: false };
      cells.set(s.cell, (c = status));
      metrics.gauge(
        'cyclewatch_cell_last_sample_age_seconds',
        'Wall-clock seconds since the cell last sent telemetry',
        () => (now() - status.arrival_ms) / 1000,
        { cell: s.cell },
      );
    }
    c.arrival_ms = now();
    if (c.stale) {
      c.stale = false;
      o.raise({ type: 'alert', cell: s.cell, t_ms: c.arrival_ms, severity: 'info', code: 'stale', state: 'cleared', message: 'telemetry is arriving again' });
    }
  };

  const checkStale = (t: number): void => {
    for (const [cell, c] of cells) {
      if (c.stale) continue;
      const last = c.arrival_ms;
      const limit_s = resolveCell(cell).staleAfterS ?? config.alerts.staleAfter_s;
      if (t - last > limit_s * 1000) {
        c.stale = true;
        o.raise({
          type: 'alert',
          cell,
          t_ms: t,
          severity: 'warning',
          code: 'stale',
          state: 'raised',
          message: `no telemetry for ${Math.round((t - last) / 1000)} s (limit ${limit_s} s)`,
        });
      }
    }
  };

  return { cells, cellConfigs, metas, resolveCell, resolveFromMeta, noteArrival, checkStale };
}
