/**
 * Configuration of `cyclewatch run` (YAML, validated). `${VAR}` and `${VAR:-default}` are taken from the
 * environment; secrets may also come from files (`passwordFile`, `tokenFile`). Secrets never reach the log:
 * `redactConfig` is what may be printed.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import type { CellConfig } from '../domain/cell.js';
import { cellSchema, ConfigError, formatZodError, loadRegistrySync } from './registry.js';

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
        qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1),
        tls: tlsSchema.optional(),
        reconnectPeriod_ms: z.number().int().positive().default(1000),
      })
      .strict()
      .default({ clientId: `cyclewatch-${hostname()}`, topicPrefix: 'cells', qos: 1, reconnectPeriod_ms: 1000 }),
    embeddedBroker: z
      .object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(1883) })
      .strict()
      .default({ host: '127.0.0.1', port: 1883 }),
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
          .array(z.object({ url: z.string().url(), format: z.enum(['json', 'slack']).default('json'), minSeverity: severity.default('warning') }).strict())
          .default([]),
      })
      .strict()
      .default({ mqtt: true, log: true, staleAfter_s: 300, webhooks: [] }),
    http: z
      .object({ port: z.number().int().min(0).max(65535).default(9464), host: z.string().default('127.0.0.1') })
      .strict()
      .default({ port: 9464, host: '127.0.0.1' }),
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
    reorderWindow_ms: z.number().int().min(0).default(5000),
    auxStaleness_ms: z.number().int().positive().default(120_000),
  })
  .strict();

export type RunConfig = z.infer<typeof runConfigSchema> & { readonly registry: ReadonlyMap<string, CellConfig> };

/** Replace `${VAR}` / `${VAR:-default}` in every string of the document; a missing variable names its key. */
export function interpolateEnv(doc: unknown, env: NodeJS.ProcessEnv, path: string[] = [], open = new Set<unknown>()): unknown {
  if (doc !== null && typeof doc === 'object') {
    // A YAML alias that contains itself would recurse for ever.
    if (open.has(doc)) throw new ConfigError(`${path.join('.') || '(top level)'}: a YAML alias refers to itself`);
    open.add(doc);
    try {
      if (Array.isArray(doc)) return doc.map((x, i) => interpolateEnv(x, env, [...path, String(i)], open));
      return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, interpolateEnv(v, env, [...path, k], open)]));
    } finally {
      open.delete(doc);
    }
  }
  if (typeof doc === 'string') {
    return doc.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      throw new ConfigError(`${path.join('.')}: environment variable ${name} is not set`);
    });
  }

  return doc;
}

function readSecret(file: string, key: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new ConfigError(`${key}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export function parseRunConfig(text: string | null, path = 'cyclewatch.yaml', env: NodeJS.ProcessEnv = process.env): RunConfig {
  let doc: unknown = {};
  if (text !== null) {
    try {
      doc = parse(text) ?? {};
    } catch (e) {
      throw new ConfigError(`${path}: not valid YAML: ${(e as Error).message}`);
    }
  }
  const r = runConfigSchema.safeParse(interpolateEnv(doc, env));
  if (!r.success) throw new ConfigError(`${path}: invalid configuration\n${formatZodError(r.error, '  ')}`);
  const c = r.data;
  const base = dirname(resolve(path));
  if (c.mqtt.passwordFile !== undefined) c.mqtt.password = readSecret(resolve(base, c.mqtt.passwordFile), 'mqtt.passwordFile');
  if (c.influx?.tokenFile !== undefined) c.influx.token = readSecret(resolve(base, c.influx.tokenFile), 'influx.tokenFile');
  const registry = new Map<string, CellConfig>();
  if (c.cellsFile !== undefined) for (const [id, cell] of loadRegistrySync(resolve(base, c.cellsFile))) registry.set(id, cell);
  for (const cell of c.cells ?? []) registry.set(cell.id, cell);
  return { ...c, registry };
}

export function loadRunConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): RunConfig {
  if (path === undefined) return parseRunConfig(null, 'defaults', env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${path}: cannot read the configuration (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseRunConfig(text, path, env);
}

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
