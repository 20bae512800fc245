/** The cell registry (SPEC §4), read from YAML and validated with messages that name the key at fault. */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { CELL_DEFAULTS, type CellConfig } from '../domain/cell.js';

const range = z
  .object({ min: z.number(), max: z.number() })
  .strict()
  .refine((r) => r.min < r.max, { message: 'min must be below max' });

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
    staleAfterS: z.number().positive().optional(),
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

/** "cells.1.areaCm2: Expected number, received string" — a message a person can act on. */
export function formatZodError(error: z.ZodError, prefix = ''): string {
  return error.issues.map((i) => `${prefix}${i.path.join('.') || '(top level)'}: ${i.message}`).join('\n');
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export async function loadRegistry(path: string): Promise<Map<string, CellConfig>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${path}: cannot read the cell registry (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseRegistry(text, path);
}

export function parseRegistry(text: string, path = 'cells.yaml'): Map<string, CellConfig> {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new ConfigError(`${path}: not valid YAML: ${(e as Error).message}`);
  }
  const r = registrySchema.safeParse(doc);
  if (!r.success) throw new ConfigError(`${path}: invalid cell registry\n${formatZodError(r.error, '  ')}`);
  const cells = new Map<string, CellConfig>();
  for (const c of r.data) {
    if (cells.has(c.id)) throw new ConfigError(`${path}: cell "${c.id}" is listed twice`);
    cells.set(c.id, c);
  }
  return cells;
}

export function loadRegistrySync(path: string): Map<string, CellConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${path}: cannot read the cell registry (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseRegistry(text, path);
}
