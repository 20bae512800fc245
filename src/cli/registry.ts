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
    metal: z.enum(['Na', 'Li']).default(CELL_DEFAULTS.metal),
    complianceV: z.number().positive().default(CELL_DEFAULTS.complianceV),
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

/** `cells: [...]`, or a bare list of cells. */
export const registrySchema = z
  .preprocess((doc) => (Array.isArray(doc) ? { cells: doc } : doc), z.object({ cells: z.array(cellSchema) }).strict())
  .transform((r) => r.cells);

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
