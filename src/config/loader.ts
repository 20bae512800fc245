/**
 * Configuration of `cyclewatch run` (YAML, validated). `${VAR}` and `${VAR:-default}` are taken from the
 * environment; secrets may also come from files (`passwordFile`, `tokenFile`). Secrets never reach the log:
 * `redactConfig` (src/config/schema.ts) is what may be printed.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import type { CellConfig } from '../domain/cell.js';
import { bridgeConfigSchema, ConfigError, formatZodError, runConfigSchema, type BridgeConfig, type RunConfig } from './schema.js';
import { loadRegistrySync } from './registry.js';

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
  refuseExampleSecrets(path, { 'mqtt.password': c.mqtt.password, 'influx.token': c.influx?.token });
  c.alerts.webhooks = c.alerts.webhooks.filter((w) => w.url !== '');
  const registry = new Map<string, CellConfig>();
  if (c.cellsFile !== undefined) for (const [id, cell] of loadRegistrySync(resolve(base, c.cellsFile))) registry.set(id, cell);
  for (const cell of c.cells ?? []) registry.set(cell.id, cell);
  return { ...c, registry };
}

/** The placeholders of `.env.example` are refused: a deployment must not run on secrets published with the code. */
function refuseExampleSecrets(path: string, secrets: Record<string, string | undefined>): void {
  for (const [key, value] of Object.entries(secrets)) {
    if (value !== undefined && /^change-me/i.test(value)) {
      throw new ConfigError(`${path}: ${key} is still the placeholder from .env.example ("change-me…"): set a secret of your own in .env`);
    }
  }
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

/**
 * The bridge's configuration: the YAML file (if any) with `${VAR}` from the environment, then the command-line
 * values over it. `MQTT_PASSWORD` (or `mqtt.passwordFile`) gives the password, never the command line.
 */
export function loadBridgeConfig(
  path: string | undefined,
  overrides: { watch?: string[]; url?: string; stateFile?: string; timeZone?: string },
  env: NodeJS.ProcessEnv = process.env,
): BridgeConfig {
  let doc: Record<string, unknown> = {};
  if (path !== undefined) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new ConfigError(`${path}: cannot read the configuration (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    try {
      doc = (parse(text) ?? {}) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`${path}: not valid YAML: ${(e as Error).message}`);
    }
  }
  doc = interpolateEnv(doc, env) as Record<string, unknown>;
  const mqtt = { ...(doc['mqtt'] as Record<string, unknown> | undefined) };
  if (overrides.url !== undefined) mqtt['url'] = overrides.url;
  if (mqtt['password'] === undefined && mqtt['passwordFile'] === undefined && env['MQTT_PASSWORD'] !== undefined) mqtt['password'] = env['MQTT_PASSWORD'];
  if (mqtt['username'] === undefined && env['MQTT_USERNAME'] !== undefined) mqtt['username'] = env['MQTT_USERNAME'];
  const merged = {
    ...doc,
    mqtt,
    ...(overrides.watch !== undefined && overrides.watch.length > 0 ? { watch: overrides.watch } : {}),
    ...(overrides.stateFile !== undefined ? { stateFile: overrides.stateFile } : {}),
    ...(overrides.timeZone !== undefined ? { timeZone: overrides.timeZone } : {}),
  };
  const where = path ?? 'the command line';
  const r = bridgeConfigSchema.safeParse(merged);
  if (!r.success) throw new ConfigError(`${where}: invalid bridge configuration\n${formatZodError(r.error, '  ')}`);
  const c = r.data;
  if (c.mqtt.passwordFile !== undefined)
    c.mqtt.password = readSecret(resolve(path === undefined ? '.' : dirname(resolve(path)), c.mqtt.passwordFile), 'mqtt.passwordFile');
  return c;
}
