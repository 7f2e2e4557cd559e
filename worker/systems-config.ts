/**
 * The systems a standalone worker serves, from a JSON file (SYSTEMS_CONFIG) or
 * the demo's two SQLite databases. Each entry is a Knex table connector for now:
 * { "local": { "type": "knex", "databaseUrl": "postgres://...", "tables": { "customer": { "idColumn": "no" } } } }
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { z } from 'zod';
import type { Systems } from '../activities';
import { KnexTableConnector } from '../connectors/knex-table-connector';
import { knexConfigFromUrl } from '../store/database-url';
import { ConfigError } from './config';

const systemsFileSchema = z.record(
  z.string().min(1),
  z.strictObject({
    type: z.literal('knex'),
    databaseUrl: z.string().min(1),
    tables: z.record(z.string(), z.strictObject({ idColumn: z.string().optional(), modifiedOnColumn: z.string().optional() })).optional(),
  }),
);

export interface OpenedSystems {
  systems: Systems;
  knexes: Record<string, Knex>;
  close(): Promise<void>;
}

export function openKnexSystems(entries: Record<string, { databaseUrl: string; tables?: Record<string, { idColumn?: string; modifiedOnColumn?: string }> }>): OpenedSystems {
  const systems: Systems = {};
  const knexes: Record<string, Knex> = {};
  for (const [name, entry] of Object.entries(entries)) {
    const knex = knexFactory(knexConfigFromUrl({ databaseUrl: entry.databaseUrl }));
    knexes[name] = knex;
    systems[name] = new KnexTableConnector({ name, knex, tables: entry.tables });
  }
  return { systems, knexes, close: async () => { await Promise.all(Object.values(knexes).map((k) => k.destroy())); } };
}

export function demoSystems(dataDir: string): OpenedSystems {
  return openKnexSystems({
    local: { databaseUrl: `sqlite:${path.join(dataDir, 'demo-local.sqlite')}` },
    integration: { databaseUrl: `sqlite:${path.join(dataDir, 'demo-integration.sqlite')}` },
  });
}

export function systemsFromFile(file: string): OpenedSystems {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`SYSTEMS_CONFIG "${file}" cannot be read as JSON: ${(error as Error).message}.`);
  }
  const parsed = systemsFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`SYSTEMS_CONFIG "${file}": ${issue.path.join('.') || '(file)'} ${issue.message}.`);
  }
  return openKnexSystems(parsed.data);
}
