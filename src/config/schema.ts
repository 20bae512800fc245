/**
 * The configuration contract shared by the command line and the pipelines: the cell registry and `run`
 * configuration schemas (validated with zod, defaults in one place), the monitoring chain's defaults used by
 * `analyze` and `run` alike, and what of a configuration is secret. Reading files and the environment is the
 * command line's business (src/cli).
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { CELL_DEFAULTS, type CellConfig } from '../domain/cell.js';
import { parseTimeZone } from '../domain/labTime.js';

/** The monitoring chain's defaults, the same offline and live. */
export const CHAIN_DEFAULTS = {
  /** Samples are held this long (event time) to put them in order and drop duplicates. */
  reorderWindow_ms: 5_000,
  /** A pressure or temperature reading older than this is not joined to an electrochemical sample. */
  auxStaleness_ms: 120_000,
} as const;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** "cells.1.areaCm2: Expected number, received string" — a message a person can act on. */
export function formatZodError(error: z.ZodError, prefix = ''): string {
  return error.issues.map((i) => `${prefix}${i.path.join('.') || '(top level)'}: ${i.message}`).join('\n');
}

/** An IANA zone name or a fixed offset, in its canonical spelling; the message names what is accepted. */
export const timeZoneSchema = z.string().transform((spec, ctx) => {
  try {
    return parseTimeZone(spec);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

const range = z
  .object({ min: z.number(), max: z.number() })
  .strict()
  .refine((r) => r.min < r.max, { message: 'min must be below max' });

/** A table's columns named by header, where its export's headers are not recognised (as --columns). */
const columnNamesSchema = z
  .object({
    time: z.string().min(1),
    voltage: z.string().min(1),
    current: z.string().min(1),
    cell: z.string().min(1).optional(),
    temperature: z.string().min(1).optional(),
    pressure: z.string().min(1).optional(),
    date: z.string().min(1).optional(),
  })
  .strict();

export const cellSchema = z
  .object({
    id: z
      .string()
      .min(1)
      .regex(/^[^/#+\s]+$/, 'a cell id cannot contain "/", "#", "+" or spaces (it is part of MQTT topics)'),
    areaCm2: z.number().positive().default(CELL_DEFAULTS.areaCm2),
    thicknessCm: z.number().positive().optional(),
    sigmaSPerCm: z.number().positive().optional(),
    activationEnergyEv: z.number().min(0).max(2).default(CELL_DEFAULTS.activationEnergyEv),
    metal: z.enum(['Na', 'Li']).optional(),
    // The product's cells are solid-state; a liquid cell says so (Eq. 1 is then not checked).
    electrolyte: z.enum(['solid', 'liquid']).default('solid'),
    complianceV: z.number().positive().default(CELL_DEFAULTS.complianceV),
    nominalTemperatureC: z.number().min(-100).max(400).default(CELL_DEFAULTS.nominalTemperatureC),
    thermalLag_min: z
      .number()
      .min(0)
      .max(24 * 60)
      .default(CELL_DEFAULTS.thermalLag_min),
    referenceMode: z.enum(['calibrated', 'configured']).default(CELL_DEFAULTS.referenceMode),
    pressureMPa: range.optional(),
    temperatureC: range.optional(),
    setCurrentMa: z.number().optional(),
    // A table's columns, where its export's headers are not recognised (as --columns): quantity → header.
    columns: columnNamesSchema.optional(),
    staleAfterS: z.number().positive().optional(),
    timeZone: timeZoneSchema.optional(),
    // Cells of one electrolyte batch or protocol: analyze fits their lives together (summary.json → batches).
    group: z.string().min(1).optional(),
  })
  .strict()
  .refine((c) => c.sigmaSPerCm === undefined || c.thicknessCm !== undefined, {
    message: 'sigmaSPerCm needs thicknessCm too (R_ref = d / (σ·A))',
    path: ['thicknessCm'],
  });

/** Registry-wide defaults, applied to every cell that does not set the key itself. */
const DEFAULTABLE = [
  'areaCm2',
  'thicknessCm',
  'sigmaSPerCm',
  'activationEnergyEv',
  'metal',
  'electrolyte',
  'complianceV',
  'nominalTemperatureC',
  'thermalLag_min',
  'referenceMode',
  'timeZone',
] as const;

function applyDefaults(doc: unknown): unknown {
  if (Array.isArray(doc)) return { cells: doc };
  if (doc === null || typeof doc !== 'object') return doc;
  const { defaults, cells, ...rest } = doc as { defaults?: unknown; cells?: unknown };
  if (defaults === undefined || defaults === null || typeof defaults !== 'object' || !Array.isArray(cells)) return doc;
  const unknown = Object.keys(defaults).filter((k) => !(DEFAULTABLE as readonly string[]).includes(k));
  if (unknown.length > 0) return { ...rest, cells, defaults: unknown }; // reported by the strict schema below
  return { ...rest, cells: cells.map((c: unknown) => (c !== null && typeof c === 'object' ? { ...defaults, ...c } : c)) };
}

/** `cells: [...]` (with optional `defaults: {...}` for all of them), or a bare list of cells. */
export const registrySchema = z.preprocess(applyDefaults, z.object({ cells: z.array(cellSchema) }).strict()).transform((r) => r.cells);

const tlsSchema = z
  .object({
    caFile: z.string().optional(),
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
    rejectUnauthorized: z.boolean().default(true),
  })
  .strict();

const severity = z.enum(['info', 'warning', 'critical']);

export const runConfigSchema = z
  .object({
    mqtt: z
      .object({
        url: z.string().url().optional(),
        clientId: z.string().min(1).default(`cyclewatch-${hostname()}`),
        username: z.string().optional(),
        password: z.string().optional(),
        passwordFile: z.string().optional(),
        topicPrefix: z.string().min(1).default('cells'),
        /**
         * 1: at least once, each message journalled before its PUBACK (repeats are dropped as duplicates). 2 is
         * refused: mqtt.js answers a QoS 2 PUBLISH (PUBREC) before the monitor sees it, at PUBREL, so a crash in
         * between would lose it. 0: at most once.
         */
        qos: z
          .union([z.literal(0), z.literal(1), z.literal(2)])
          .default(1)
          .refine((q) => q !== 2, {
            message:
              'qos 2 is not supported by the monitor: its MQTT client acknowledges a QoS 2 message (PUBREC) before the monitor can journal it, so a crash in between loses it; use qos: 1 (at least once: the monitor journals every message before acknowledging it and drops repeats)',
          }),
        /** MQTT 3.1.1 (4) or 5; EMQX, HiveMQ and AWS IoT speak both. */
        protocolVersion: z.union([z.literal(4), z.literal(5)], { message: 'mqtt.protocolVersion must be 4 (MQTT 3.1.1) or 5 (MQTT 5)' }).default(4),
        tls: tlsSchema.optional(),
        reconnectPeriod_ms: z.number().int().positive().default(1000),
        /** Under load, wait up to this long after a read that emptied the socket so messages arrive in batches. */
        readBatch_ms: z.number().int().min(0).max(100).default(5),
        /**
         * false: without the group commit (which wraps mqtt.js internals, see `io/mqtt/groupCommit.ts`): one journal
         * write per message, through mqtt.js's public API. For an mqtt.js that the group commit does not know.
         */
        groupCommit: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    embeddedBroker: z
      .object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(1883) })
      .strict()
      .prefault({}),
    influx: z
      .object({
        url: z.string().url(),
        token: z.string().optional(),
        tokenFile: z.string().optional(),
        org: z.string().default('cyclewatch'),
        bucket: z.string().default('cyclewatch'),
        batchSize: z.number().int().positive().default(5000),
        flushInterval_ms: z.number().int().positive().default(1000),
        maxRetries: z.number().int().min(0).default(3),
        minRetryDelay_ms: z.number().int().positive().default(500),
        maxRetryDelay_ms: z.number().int().positive().default(15_000),
        maxQueueLines: z.number().int().positive().default(200_000),
        spoolDir: z.string().optional(),
        spoolMaxBytes: z.number().int().positive().default(1_000_000_000),
        timeout_ms: z.number().int().positive().default(10_000),
        tls: tlsSchema.optional(),
      })
      .strict()
      .optional(),
    dataDir: z.string().default('./data'),
    cells: z.array(cellSchema).optional(),
    cellsFile: z.string().optional(),
    alerts: z
      .object({
        mqtt: z.boolean().default(true),
        log: z.boolean().default(true),
        staleAfter_s: z.number().positive().default(300),
        webhooks: z
          // An empty url (an unset ${VAR} in a deployment's file) is no webhook: dropped when the file is read.
          .array(
            z
              .object({ url: z.string().url().or(z.literal('')), format: z.enum(['json', 'slack']).default('json'), minSeverity: severity.default('warning') })
              .strict(),
          )
          .default([]),
      })
      .strict()
      .prefault({}),
    http: z
      .object({ port: z.number().int().min(0).max(65535).default(9464), host: z.string().default('127.0.0.1') })
      .strict()
      .prefault({}),
    shard: z
      .object({ index: z.number().int().min(0), count: z.number().int().positive() })
      .strict()
      .refine((s) => s.index < s.count, { message: 'shard index must be below count' })
      .default({ index: 0, count: 1 }),
    writeDerived: z.boolean().default(true),
    /** Checkpoints and the sample journal; `<dataDir>/state` by default. */
    stateDir: z.string().optional(),
    checkpointInterval_s: z.number().positive().default(30),
    /** Rejected messages are published here with the reason. */
    deadLetterTopic: z.string().min(1).default('cyclewatch/dead-letter'),
    /** Messages of cells the registry does not list: accepted (with assumptions) or rejected; by default rejected when the registry lists cells. */
    unknownCells: z.enum(['accept', 'reject']).optional(),
    /** At most this many cells the registry does not list are taken on; further ids are rejected (`too-many-cells`). */
    maxUnlistedCells: z.number().int().min(0).default(1000),
    /** Samples stamped further than this ahead of the wall clock are rejected as `future`. */
    maxFutureSkew_s: z.number().positive().default(3600),
    /**
     * How long (wall clock) the first samples of a cell the registry does not list wait for its header (the retained
     * `meta` a bridge publishes first), so its area and limits apply from the first sample. 0: no wait.
     */
    headerWait_ms: z.number().int().min(0).max(60_000).default(5_000),
    reorderWindow_ms: z.number().int().min(0).default(CHAIN_DEFAULTS.reorderWindow_ms),
    auxStaleness_ms: z.number().int().positive().default(CHAIN_DEFAULTS.auxStaleness_ms),
    /** The lab's zone for the times people read (alert messages) of cells whose registry entry sets none; default: this machine's. */
    timeZone: timeZoneSchema.optional(),
  })
  .strict();

export type RunConfig = z.infer<typeof runConfigSchema> & { readonly registry: ReadonlyMap<string, CellConfig> };

/** Which cell a watched file belongs to: the first rule that matches (file-name glob, or EC-Lab channel). */
const mappingRuleSchema = z
  .object({
    /** Glob on the file name (`*`, `?`), e.g. `NaSICON-07_*_C05.mpr`. */
    file: z.string().min(1).optional(),
    /** The EC-Lab channel number in the file's header (`Run on channel : 5`). */
    channel: z.number().int().positive().optional(),
    cell: z.string().min(1).max(64),
  })
  .strict()
  .refine((r) => r.file !== undefined || r.channel !== undefined, { message: 'a mapping rule needs `file` or `channel`' });

/**
 * A watched glob, with the zone its instrument writes local times in when it is not the bridge's, and the columns of
 * its tables when their headers are not recognised.
 */
const watchRuleSchema = z.union([
  z.string().min(1),
  z.object({ glob: z.string().min(1), timeZone: timeZoneSchema.optional(), columns: columnNamesSchema.optional() }).strict(),
]);

export const bridgeConfigSchema = z
  .object({
    /**
     * Files to follow: globs (`*`, `?`, `**` for any folders below), e.g. `D:/EC-Lab/Data/**\/*.mpr`, or
     * `{ glob, timeZone }` for an instrument whose PC keeps another zone.
     */
    watch: z
      .array(watchRuleSchema)
      .min(1, { message: 'give at least one folder pattern to watch (watch: ["D:/EC-Lab/Data/**/*.mpr"])' })
      .transform((ws) => ws.map((w) => (typeof w === 'string' ? { glob: w } : w))),
    /** The zone the instruments write their local times in (EC-Lab's start, absolute exports); default: this PC's. */
    timeZone: timeZoneSchema.optional(),
    mqtt: z
      .object({
        url: z.string().url().default('mqtt://127.0.0.1:1883'),
        clientId: z.string().min(1).default(`cyclewatch-bridge-${hostname()}`),
        username: z.string().optional(),
        password: z.string().optional(),
        passwordFile: z.string().optional(),
        topicPrefix: z.string().min(1).default('cells'),
        /**
         * 2: exactly once across crashes (the broker must keep QoS 2 order, as Mosquitto does); 1: at least once
         * (after a crash the monitor drops rows sent twice) — for brokers that do not, such as the embedded one.
         */
        qos: z.union([z.literal(1), z.literal(2)]).default(2),
        /**
         * Rows per message at most when the bridge is behind: consecutive rows of a cell go out as one JSON array of
         * SPEC §4 objects (`run` and `replay` captures read both). A row read alone is a plain object. 1 = always one
         * object per message, for other subscribers that take nothing else.
         */
        batchRows: z.number().int().min(1).max(200).default(100),
        tls: tlsSchema.optional(),
        reconnectPeriod_ms: z.number().int().positive().default(1000),
      })
      .strict()
      .prefault({}),
    /** The journal: offsets per file and the messages not yet completed by the broker (QoS 2). */
    stateFile: z.string().default('./cyclewatch-bridge.journal'),
    /** Seconds between looks at the files (a cycler logs a row every second at most: 5 s keeps 100 files cheap). */
    pollInterval_s: z.number().positive().default(5),
    /** A file that has not grown for this long while its run goes on raises a `stale-file` warning. */
    staleAfter_s: z.number().positive().default(900),
    /** A file unchanged for this long is complete as it is: its last line counts even without a newline. */
    settleAfter_s: z.number().positive().default(60),
    /** Rows read (and held unacknowledged) at most per step. */
    maxRowsPerStep: z.number().int().positive().default(500),
    /**
     * Messages handed over and not yet completed by the broker, at most (they wait on disk during an outage). Small on
     * purpose: Mosquitto looks up each QoS 2 release in a list of the client's unfinished messages.
     */
    maxBuffered: z.number().int().positive().max(60_000).default(2000),
    cells: z.array(mappingRuleSchema).default([]),
    /** Set current for exports without a current column, and the start for files whose header gives none. */
    setCurrent_mA: z.number().optional(),
    start: z.string().datetime({ offset: true }).optional(),
    http: z
      .object({ port: z.number().int().min(0).max(65535).default(9465), host: z.string().default('127.0.0.1') })
      .strict()
      .prefault({}),
    /** Seconds between status lines in the log. */
    statusInterval_s: z.number().positive().default(60),
  })
  .strict();

export type BridgeConfig = z.infer<typeof bridgeConfigSchema>;
export type MappingRule = z.infer<typeof mappingRuleSchema>;

const REDACTED = '***';

/** The configuration as it may be logged or dumped: passwords, tokens and webhook URLs hidden. */
export function redactConfig(c: RunConfig): Record<string, unknown> {
  const { registry, ...rest } = c;
  return {
    ...rest,
    cells: [...registry.keys()],
    mqtt: { ...c.mqtt, url: redactUrl(c.mqtt.url), password: c.mqtt.password === undefined ? undefined : REDACTED },
    influx: c.influx === undefined ? undefined : { ...c.influx, url: redactUrl(c.influx.url)!, token: c.influx.token === undefined ? undefined : REDACTED },
    alerts: { ...c.alerts, webhooks: c.alerts.webhooks.map((w) => ({ ...w, url: REDACTED })) },
  };
}

/** The password of a URL's user information (`mqtt://user:pw@host`), if any. */
function urlPassword(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const p = new URL(url).password;
    return p.length > 0 ? decodeURIComponent(p) : undefined;
  } catch {
    return undefined;
  }
}

/** A URL as it may be shown: its password hidden. */
export function redactUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@]*):[^@/]*@/i, `$1:${REDACTED}@`);
}

/** Every secret value of the configuration, to scrub from anything logged. */
export function secretsOf(c: RunConfig): string[] {
  const inUrls = [urlPassword(c.mqtt.url), urlPassword(c.influx?.url)].flatMap((p) => (p === undefined ? [] : [p, encodeURIComponent(p)]));
  return [c.mqtt.password, c.influx?.token, ...c.alerts.webhooks.map((w) => w.url), ...inUrls].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
}
