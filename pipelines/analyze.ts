/**
 * Offline analysis: recorded telemetry files → the shared monitoring chain → events, segments, summary.
 */
import { concat, defer, lastValueFrom, mergeMap, tap, type Observable } from 'rxjs';
import { CHAIN_DEFAULTS } from '../src/config/schema.js';
import { assumedCell, type CellConfig } from '../src/domain/cell.js';
import { DEFAULT_DETECTOR_OPTIONS, type CellSummary, type DetectorOptions, type LabelledSegment } from '../src/domain/detector/index.js';
import type { CellEvent, HalfCycleEvent } from '../src/domain/events.js';
import { checkProtocol, protocolAlerts } from '../src/domain/protocol.js';
import { ImpedanceBlocks, type ImpedanceBlock, type ImpedancePoint } from '../src/domain/impedance.js';
import { classifyResistanceRise } from '../src/domain/resistanceRise.js';
import { batchesOf, type BatchSummary } from '../src/domain/batch.js';
import { iso, type Sample } from '../src/domain/sample.js';
import { writeAnalysis } from '../src/io/outputs/analysisFiles.js';
import { basename } from 'node:path';
import { defaultCellId, machineTimeZone, openTelemetry, type FileMetadata, type ImportOptions, type TelemetryFormat } from '../src/io/instruments/importers.js';
import type { TimeBasis } from '../src/io/instruments/csvRows.js';
import type { TimeZoneSource } from '../src/domain/labTime.js';
import { RejectedRowsError, RejectionLog, type Rejection } from '../src/io/instruments/rejections.js';
import type { RejectReason } from '../src/domain/reject.js';
import { fromBatches } from '../src/operators/fromBatches.js';
import { monitorCells } from '../src/operators/monitor.js';
import { CellSeries, type CellSeriesData } from '../src/domain/series.js';

export interface AnalyzeProgress {
  readonly file: string;
  readonly fileIndex: number;
  readonly files: number;
  readonly bytesRead: number;
  readonly size_bytes: number;
  readonly samples: number;
}

export interface AnalyzeOptions {
  readonly files: readonly string[];
  readonly format?: TelemetryFormat;
  readonly registry?: ReadonlyMap<string, CellConfig>;
  /** Applied to cells the registry does not list. */
  readonly assumed?: Partial<CellConfig>;
  readonly import?: ImportOptions;
  /**
   * The lab's zone given for this analysis (`--tz`): over the registry's per cell. Without either, this machine's
   * zone. Local instrument times are read in it, and the times people read are shown in it.
   */
  readonly timeZone?: string;
  readonly detector?: DetectorOptions;
  readonly reorderWindow_ms?: number;
  readonly auxStaleness_ms?: number;
  /** Where to write events.jsonl, segments.jsonl, summary.json; nothing is written without it. */
  readonly outDir?: string;
  /** Collect downsampled display series per cell (for the report). */
  readonly series?: boolean;
  readonly log?: (message: string) => void;
  readonly progress?: (p: AnalyzeProgress) => void;
  /**
   * A file with a larger share of its rows rejected is taken for misread (wrong format, time column or zone): the
   * analysis throws a RejectedRowsError naming the counts by reason and the first offending line, and writes
   * nothing. Undefined: no limit (`--salvage`).
   */
  readonly maxRejectedShare?: number;
}

/** One input file's rows: read, and rejected (by the importer, or by the chain while the file was being read). */
export interface FileRows {
  readonly path: string;
  readonly rows: number;
  readonly rejected: number;
  readonly byReason: Record<string, number>;
  readonly first: Rejection | null;
}

export interface AnalyzeResult {
  readonly events: CellEvent[];
  readonly segments: LabelledSegment[];
  readonly summaries: CellSummary[];
  /** The registry groups' batch view (domain/batch.ts). */
  readonly batches: BatchSummary[];
  readonly rejections: RejectionLog;
  readonly samples: number;
  readonly assumedCells: string[];
  readonly series: CellSeriesData[];
  /** Impedance spectra found inside the files, numbered per cell across files, in recording order. */
  readonly impedanceBlocks: ImpedanceBlock[];
  readonly impedancePoints: ImpedancePoint[];
  /** What each CSV file's time column was read as. */
  readonly timeColumns: ReadonlyMap<string, TimeBasis>;
  readonly files: readonly FileRows[];
}

export async function analyze(options: AnalyzeOptions): Promise<AnalyzeResult> {
  const log = options.log ?? (() => {});
  const rejections = new RejectionLog((r) =>
    log(`rejected (${r.reason}) ${r.source}${r.line === undefined ? '' : `:${r.line}`}: ${r.detail} — further ones of this kind are only counted`),
  );
  const assumedCells: string[] = [];
  // What instrument headers say, per cell id (single-cell EC-Lab files), and where each cell's values came from.
  const headers = new Map<string, FileMetadata & { file: string }>();
  const sources = new Map<string, Record<string, string>>();
  const configs = new Map<string, CellConfig>();
  /** A cell's zone and where it came from: the option, the registry, else this machine's. */
  const machineZone = machineTimeZone();
  const zoneOf = (id: string): { zone: string; source: TimeZoneSource } => {
    if (options.timeZone !== undefined) return { zone: options.timeZone, source: 'option' };
    const listed = options.registry?.get(id)?.timeZone;
    return listed !== undefined ? { zone: listed, source: 'registry' } : { zone: machineZone, source: 'machine' };
  };
  const resolveCell = (id: string): CellConfig => {
    const z = zoneOf(id);
    const registered = options.registry?.get(id);
    const known = registered === undefined ? undefined : { ...registered, timeZone: z.zone };
    const header = headers.get(id);
    if (known !== undefined) {
      sources.set(id, { areaCm2: 'registry', complianceV: 'registry', timeZone: z.source });
      if (header?.areaCm2 !== undefined && Math.abs(header.areaCm2 - known.areaCm2) > 0.01 * known.areaCm2) {
        log(`cell "${id}": the registry's area ${known.areaCm2} cm² is used; ${header.file}'s header says ${header.areaCm2} cm²`);
      }
      configs.set(id, known);
      return known;
    }
    // Registry (above) > options > the file's header > defaults.
    const fromHeader: Partial<CellConfig> = {
      ...(header?.areaCm2 !== undefined ? { areaCm2: header.areaCm2 } : {}),
      ...(header?.complianceV !== undefined ? { complianceV: header.complianceV } : {}),
    };
    const cell = assumedCell(id, { ...fromHeader, ...options.assumed, timeZone: z.zone });
    const source = (k: 'areaCm2' | 'complianceV') => (options.assumed?.[k] !== undefined ? 'option' : fromHeader[k] !== undefined ? 'header' : 'default');
    sources.set(id, { areaCm2: source('areaCm2'), complianceV: source('complianceV'), timeZone: z.source });
    assumedCells.push(id);
    configs.set(id, cell);
    // With a registry given, the likely cause is a misspelt id: name the closest one instead of asking for --cells.
    const listed = options.registry === undefined ? [] : [...options.registry.keys()];
    const near = closestId(id, listed);
    const hint =
      options.registry === undefined
        ? 'pass --cells cells.yaml to set them'
        : `the registry lists ${listed.length} other cell${listed.length === 1 ? '' : 's'}${near === null ? '' : `: did you mean "${near}"?`}`;
    log(
      `cell "${id}" is not in the registry: ${header !== undefined ? `from ${header.file}'s header ${header.technique ?? ''} ` : ''}assuming area ${cell.areaCm2} cm² (${source('areaCm2')}), metal ${cell.metal ?? 'unknown'}, compliance ${cell.complianceV} V (${source('complianceV')}), ` +
        `Ea ${cell.activationEnergyEv} eV, ${cell.nominalTemperatureC} °C without temperature telemetry; R_ref is calibrated on its first hours (${hint})`,
    );
    return cell;
  };

  let samples = 0;
  /** Samples each file gave, those of them the chain rejected, and the file being read (chain rejections count against it). */
  const samplesOfFile = new Map<string, number>();
  const chainRejectedOfFile = new Map<string, number>();
  let currentFile = options.files[0] ?? '';
  /** What each CSV file's time column was read as (stated in summary.json). */
  const timeColumns = new Map<string, TimeBasis>();
  // Spectra: numbered per file by the importer, renumbered per cell so several files of one cell do not collide.
  const impedanceBlocks: ImpedanceBlock[] = [];
  const impedancePoints: ImpedancePoint[] = [];
  const blocksPerCell = new Map<string, number>();
  const fileSpectra = () => {
    const acc = new ImpedanceBlocks();
    const base = new Map<string, number>();
    const keep = (b: ImpedanceBlock | null): void => {
      if (b === null) return;
      impedanceBlocks.push(b);
      blocksPerCell.set(b.cell, Math.max(blocksPerCell.get(b.cell) ?? 0, b.block + 1));
    };
    return {
      point: (p: ImpedancePoint): void => {
        if (!base.has(p.cell)) base.set(p.cell, blocksPerCell.get(p.cell) ?? 0);
        const q = { ...p, block: p.block + base.get(p.cell)! };
        impedancePoints.push(q);
        keep(acc.push(q));
      },
      end: (): void => keep(acc.end()),
    };
  };
  const fileSamples = (path: string, fileIndex: number): Observable<Sample> =>
    defer(async () => {
      const spectra = fileSpectra();
      // A single-cell file's local times are read in its cell's zone; a many-cell CSV's in the option's or this machine's.
      const fileCell = options.import?.cell ?? defaultCellId(path);
      currentFile = path;
      const file = await openTelemetry(
        path,
        rejections,
        {
          ...options.import,
          timeZone: zoneOf(fileCell).zone,
          onTimeBasis: (basis) => timeColumns.set(path, basis),
          // An export without a current column takes the set current from the flag, else from the registry.
          setCurrent_mA: options.import?.setCurrent_mA ?? options.registry?.get(options.import?.cell ?? defaultCellId(path))?.setCurrentMa,
          // A table's columns from the flag, else from the registry entry of the file's cell.
          columns: options.import?.columns ?? options.registry?.get(options.import?.cell ?? defaultCellId(path))?.columns,
          onNote: log,
          onImpedance: spectra.point,
          onProgress: (bytesRead) =>
            options.progress?.({ file: path, fileIndex, files: options.files.length, bytesRead, size_bytes: file.size_bytes, samples }),
        },
        options.format,
      );
      if (file.format === 'mpt' || file.format === 'mpr' || file.format === 'ndax')
        headers.set(options.import?.cell ?? defaultCellId(path), { ...file.metadata, file: basename(path) });
      return fromBatches(counted(path, file.batches, spectra.end));
    }).pipe(mergeMap((s) => s));

  // Counted a batch at a time, not by an operator on every sample.
  async function* counted(path: string, batches: AsyncIterable<Sample[]>, atEnd: () => void): AsyncGenerator<Sample[]> {
    for await (const b of batches) {
      samples += b.length;
      samplesOfFile.set(path, (samplesOfFile.get(path) ?? 0) + b.length);
      yield b;
    }
    atEnd();
  }

  const collectors: CellSeries[] = [];
  const events: CellEvent[] = [];
  const segments: LabelledSegment[] = [];
  const summaries: CellSummary[] = [];
  const onReject = (reason: RejectReason, s: Sample, detail: string): void => {
    chainRejectedOfFile.set(currentFile, (chainRejectedOfFile.get(currentFile) ?? 0) + 1);
    rejections.reject({ source: currentFile, reason, detail: `cell ${s.cell} ${iso(s.t_ms)}: ${detail}` });
  };

  await lastValueFrom(
    concat(...options.files.map(fileSamples)).pipe(
      monitorCells({
        reorderWindow_ms: options.reorderWindow_ms ?? CHAIN_DEFAULTS.reorderWindow_ms,
        auxStaleness_ms: options.auxStaleness_ms ?? CHAIN_DEFAULTS.auxStaleness_ms,
        detector: options.detector ?? DEFAULT_DETECTOR_OPTIONS,
        derived: false,
        resolveCell,
        onReject,
        onSample: options.series
          ? (cell) => {
              const s = new CellSeries(cell);
              collectors.push(s);
              return (x, state, step) => s.push(x, state, step);
            }
          : undefined,
      }),
      tap((out) => {
        if (out.type === 'result') {
          const header = headers.get(out.cell);
          summaries.push({
            ...out.summary,
            ...protocolOf(out.cell, out.summary.start),
            ...configOf(out.cell),
            ...impedanceSummary(out.cell),
            ...(header !== undefined ? { instrument: { file: header.file, technique: header.technique ?? null, channel: header.channel ?? null } } : {}),
          });
          segments.push(...out.segments);
        } else if (out.type !== 'derived' && out.type !== 'accepted') events.push(out);
      }),
    ),
    { defaultValue: undefined },
  );

  /** The area and compliance the cell was judged with, and where each came from. */
  function configOf(cell: string): Pick<CellSummary, 'areaCm2' | 'complianceV' | 'configSources' | 'timeZone'> {
    const config = configs.get(cell);
    return config === undefined
      ? {}
      : { areaCm2: config.areaCm2, complianceV: config.complianceV, timeZone: config.timeZone ?? machineZone, configSources: sources.get(cell) };
  }

  /** The header's programmed protocol against Eq. 1; its warnings are stamped at the run's first sample. */
  function protocolOf(cell: string, start: string | null): { protocol?: CellSummary['protocol'] } {
    const header = headers.get(cell);
    const config = configs.get(cell);
    if (header?.protocol === undefined || config === undefined) return {};
    const check = checkProtocol(header.protocol.steps, config);
    const alerts = start === null ? [] : protocolAlerts(cell, check, Date.parse(start));
    for (const a of alerts) log(`cell "${cell}": ${a.message}`);
    events.push(...alerts);
    if (config.metal === undefined && check.steps.some((s) => (s.duration_s ?? 0) > 0 && (s.currentDensity_mA_cm2 ?? 0) > 0)) {
      log(`cell "${cell}": the protocol's half cycles are not checked against t_max (Eq. 1): the metal is unknown (set metal: Na or Li in the registry)`);
    }
    const r = (x: number | null, digits: number): number | null => (x === null ? null : Number(x.toPrecision(digits)));
    const steps = check.steps.map((s) => ({ ...s, currentDensity_mA_cm2: r(s.currentDensity_mA_cm2, 6), tMax_s: r(s.tMax_s, 6) }));
    return { protocol: { source: 'header', technique: header.protocol.technique, ccdRamp: check.ccdRamp, steps } };
  }

  function impedanceSummary(cell: string): { impedance?: CellSummary['impedance'] } {
    const bs = impedanceBlocks.filter((b) => b.cell === cell);
    if (bs.length === 0) return {};
    const r = bs.map((b) => b.rHf_Ohm).filter((x): x is number => x !== null);
    // The half cycles' DC resistance at their plateaus beside the spectra's R_hf: which of the two rose.
    const dc = events
      .filter((e): e is HalfCycleEvent => e.type === 'half-cycle' && e.cell === cell && e.plateauAbsVoltage_V !== null && Math.abs(e.current_mA) > 0)
      .map((e) => ({ t_ms: (e.start_ms + e.end_ms) / 2, r_ohm: (e.plateauAbsVoltage_V! / Math.abs(e.current_mA)) * 1000 }));
    const ac = bs.filter((b) => b.rHf_Ohm !== null).map((b) => ({ t_ms: b.start_ms, r_ohm: b.rHf_Ohm! }));
    const rise = classifyResistanceRise(dc, ac);
    return {
      impedance: {
        blocks: bs.length,
        rHfFirst_Ohm: r[0] ?? null,
        rHfLast_Ohm: r.at(-1) ?? null,
        rHfMin_Ohm: r.length > 0 ? Math.min(...r) : null,
        rHfMax_Ohm: r.length > 0 ? Math.max(...r) : null,
        resistanceRise: rise,
      },
    };
  }

  const files: FileRows[] = options.files.map((path) => {
    const r = rejections.bySource.get(path);
    // Importer rejections are rows never given; the chain's are among the given ones.
    const chain = chainRejectedOfFile.get(path) ?? 0;
    const given = samplesOfFile.get(path) ?? 0;
    return {
      path,
      rows: given + (r?.count ?? 0) - chain,
      rejected: r?.count ?? 0,
      byReason: r === undefined ? {} : Object.fromEntries(r.byReason),
      first: r?.first ?? null,
    };
  });
  // With no sample at all the caller says so (nothing usable); with some, a file mostly rejected is a misread.
  if (options.maxRejectedShare !== undefined && samples > 0) {
    for (const f of files) {
      if (f.rows === 0 || f.rejected / f.rows <= options.maxRejectedShare) continue;
      const first = f.first === null ? '' : `; the first: ${f.first.line === undefined ? '' : `line ${f.first.line}: `}(${f.first.reason}) ${f.first.detail}`;
      throw new RejectedRowsError(
        `${f.path}: ${f.rejected.toLocaleString('en')} of its ${f.rows.toLocaleString('en')} rows rejected (${((100 * f.rejected) / f.rows).toFixed(1)} %, more than ${100 * options.maxRejectedShare} %): ${JSON.stringify(f.byReason)}${first}. ` +
          'What was read is not trusted and nothing was written: check --format, the time column (seconds since the start need --start to be dated) and --tz; --salvage analyses what is left anyway',
      );
    }
  }

  const batches = batchesOf(summaries, (cell) => options.registry?.get(cell)?.group);
  const series = collectors.map((c) => c.data());
  if (options.outDir !== undefined) {
    await writeAnalysis(options.outDir, {
      events,
      segments,
      summaries,
      series: options.series ? series : undefined,
      impedance: { blocks: impedanceBlocks, points: impedancePoints },
      meta: {
        files: options.files,
        samples,
        rejected: rejections.toJSON(),
        assumedCells,
        ...(timeColumns.size > 0 ? { timeColumns: Object.fromEntries(timeColumns) } : {}),
        ...(batches.length > 0 ? { batches } : {}),
      },
    });
  }
  return { events, segments, summaries, rejections, samples, assumedCells, series, impedanceBlocks, impedancePoints, timeColumns, files, batches };
}

/** The registered id nearest to `id` (edit distance at most a third of its length), or null. */
export function closestId(id: string, ids: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.max(1, Math.floor(id.length / 3)) + 1;
  for (const other of ids) {
    const d = editDistance(id.toLowerCase(), other.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [other, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}
