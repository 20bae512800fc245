/**
 * Simulated runs to a canonical CSV, with the ground truth and a cell registry beside it:
 * FILE.csv, FILE.truth.json, FILE.cells.yaml.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { stringify } from 'yaml';
import { formatCsvRow, CSV_HEADER } from '../src/io/instruments/csv.js';
import { SCENARIOS, simulatedCell } from '../src/sim/scenarios.js';
import type { CellConfig } from '../src/domain/cell.js';
import { DEFAULT_SIM_OPTIONS, emptyTruth, mergeByTime, simulateCell, type CellTruth, type LabRealities, type SimOptions } from '../src/sim/simulate.js';

export interface SimulateRequest {
  /** Scenario names; the same name twice gives two cells (ids `<name>`, `<name>-2`, …). */
  readonly scenarios: readonly string[];
  readonly out: string;
  readonly seed?: number;
  readonly dt_s?: number;
  /** Cut every scenario at this many hours (shorter ones keep their own length). */
  readonly duration_h?: number;
  readonly noise?: Partial<SimOptions['noise']>;
  /** Lab realities applied to every cell. */
  readonly lab?: LabRealities;
  /** Per cell (in the order of `scenarios`), realities added to `lab`: a mixed fleet's channels differ. */
  readonly cellLab?: readonly (LabRealities | undefined)[];
  /** The written registry's σ, d and A are the true ones times these factors (notebook values). */
  readonly registryError?: { readonly sigma?: number; readonly thickness?: number; readonly area?: number };
  /** Registry keys written for every cell (e.g. thermalLag_min, referenceMode). */
  readonly registry?: Partial<CellConfig>;
  /** First sample time; default 2026-01-01T00:00Z. */
  readonly start_ms?: number;
  readonly progress?: (rows: number) => void;
}

export function truthPath(csv: string): string {
  return csv.replace(/\.csv$/i, '') + '.truth.json';
}

export function registryPath(csv: string): string {
  return csv.replace(/\.csv$/i, '') + '.cells.yaml';
}

export async function simulate(req: SimulateRequest): Promise<{ rows: number; truth: CellTruth[] }> {
  const seen = new Map<string, number>();
  const truths: CellTruth[] = [];
  const generators = req.scenarios.map((name, i) => {
    const scenario = SCENARIOS[name];
    if (scenario === undefined) throw new Error(`unknown scenario "${name}": choose from ${Object.keys(SCENARIOS).join(', ')}`);
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    const cell = { ...simulatedCell(n === 1 ? name : `${name}-${n}`), ...scenario.cell };
    const options: SimOptions = {
      ...DEFAULT_SIM_OPTIONS,
      seed: (req.seed ?? DEFAULT_SIM_OPTIONS.seed) * 1000 + i,
      dt_s: req.dt_s ?? DEFAULT_SIM_OPTIONS.dt_s,
      duration_h: req.duration_h === undefined ? undefined : Math.min(req.duration_h, scenario.duration_h),
      noise: { ...DEFAULT_SIM_OPTIONS.noise, ...req.noise },
      start_ms: req.start_ms ?? DEFAULT_SIM_OPTIONS.start_ms,
      lab: { ...req.lab, ...req.cellLab?.[i] },
    };
    const e = req.registryError ?? {};
    const written: CellConfig = {
      ...cell,
      ...req.registry,
      sigmaSPerCm: cell.sigmaSPerCm === undefined ? undefined : cell.sigmaSPerCm * (e.sigma ?? 1),
      thicknessCm: cell.thicknessCm === undefined ? undefined : cell.thicknessCm * (e.thickness ?? 1),
      areaCm2: cell.areaCm2 * (e.area ?? 1),
    };
    const truth = emptyTruth(scenario, written, options);
    truths.push(truth);
    return simulateCell(scenario, cell, options, truth);
  });

  await mkdir(dirname(req.out), { recursive: true });
  const out = createWriteStream(req.out);
  out.write(CSV_HEADER + '\n');
  let rows = 0;
  let chunk = '';
  for (const s of mergeByTime(generators)) {
    chunk += formatCsvRow(s) + '\n';
    if (++rows % 10_000 === 0) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
      if (rows % 200_000 === 0) req.progress?.(rows);
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  await writeFile(truthPath(req.out), JSON.stringify(truths, null, 2) + '\n');
  await writeFile(registryPath(req.out), stringify({ cells: truths.map((t) => t.config) }));
  return { rows, truth: truths };
}
