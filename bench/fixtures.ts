/**
 * Benchmark fixtures: a local and an integration table with ten mapped text
 * fields, on SQLite files or PostgreSQL schemas, and the BENCH mapping.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Systems } from '../activities';
import { KnexTableConnector } from '../connectors/knex-table-connector';
import { sqliteConfig } from '../store/database-url';
import { Store } from '../store/store';
import type { MappingDefinition } from '../domain/mapping';
import { insertRows } from './set-sql';

const SEED_TRANSACTION = 50_000;

export const FIELDS = ['f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9', 'f10'];
export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function benchMapping(name = 'BENCH'): MappingDefinition {
  return {
    name,
    local: { system: 'local', table: 'src' },
    integration: { system: 'integration', table: 'dst' },
    direction: 'ToIntegrationTable',
    syncOnlyCoupledRecords: false,
    fields: FIELDS.map((f, i) => ({
      localField: f,
      integrationField: f,
      direction: 'Bidirectional' as const,
      ...(i === 0 ? { transformation: [{ type: 'trim' as const }] } : {}),
      ...(i < 2 ? { useForMatching: true, matchPriority: i } : {}),
    })),
  };
}

async function createTable(knex: Knex, table: string): Promise<void> {
  await knex.schema.dropTableIfExists(table);
  await knex.schema.createTable(table, (t) => {
    t.string('id', 64).primary();
    for (const f of FIELDS) t.string(f, 100).nullable();
    t.string('modified_on', 32).notNullable();
    t.index(['modified_on', 'id']);
  });
}

export interface BenchEnv {
  dialect: 'sqlite' | 'postgres';
  /** Folder of the SQLite files, so another process can open them. */
  dir: string | null;
  store: Store;
  local: Knex;
  integration: Knex;
  systems: Systems;
  close(): Promise<void>;
}

function knexSystems(local: Knex, integration: Knex): Systems {
  return {
    local: new KnexTableConnector({ name: 'local', knex: local }),
    integration: new KnexTableConnector({ name: 'integration', knex: integration }),
  };
}

/** The SQLite files of a bench environment, opened (by this or another process). */
export function openSqliteFiles(dir: string): { local: Knex; integration: Knex; store: Store; systems: Systems } {
  const local = knexFactory(sqliteConfig(path.join(dir, 'local.sqlite')));
  const integration = knexFactory(sqliteConfig(path.join(dir, 'integration.sqlite')));
  const store = new Store(knexFactory(sqliteConfig(path.join(dir, 'store.sqlite'))));
  return { local, integration, store, systems: knexSystems(local, integration) };
}

/** Fresh, empty tables and store for one measured run. */
export async function openBenchEnv(dialect: 'sqlite' | 'postgres'): Promise<BenchEnv> {
  let local: Knex;
  let integration: Knex;
  let store: Store;
  let dispose: () => Promise<void>;
  let dir: string | null = null;
  if (dialect === 'sqlite') {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'bench-'));
    dir = folder;
    ({ local, integration, store } = openSqliteFiles(folder));
    dispose = async () => rmSync(folder, { recursive: true, force: true });
  } else {
    const suffix = randomBytes(4).toString('hex');
    const schemas = [`bench_local_${suffix}`, `bench_int_${suffix}`, `bench_store_${suffix}`];
    const open = (schema: string): Knex => knexFactory({ client: 'pg', connection: POSTGRES_URL, searchPath: [schema], pool: { min: 0, max: 8 } });
    local = open(schemas[0]);
    integration = open(schemas[1]);
    await local.raw('create schema if not exists ??', [schemas[0]]);
    await integration.raw('create schema if not exists ??', [schemas[1]]);
    store = new Store(open(schemas[2]));
    dispose = async () => {
      const admin = knexFactory({ client: 'pg', connection: POSTGRES_URL, pool: { min: 0, max: 1 } });
      for (const s of schemas) await admin.raw('drop schema if exists ?? cascade', [s]);
      await admin.destroy();
    };
  }
  await store.migrate();
  await createTable(local, 'src');
  await createTable(integration, 'dst');
  await store.saveMapping(benchMapping());
  return {
    dialect,
    dir,
    store,
    local,
    integration,
    systems: knexSystems(local, integration),
    close: async () => {
      await local.destroy();
      await integration.destroy();
      await store.close();
      await dispose();
    },
  };
}

export function row(i: number, modifiedOn: string, variant = ''): Record<string, string> {
  const out: Record<string, string> = { id: `R${String(i).padStart(8, '0')}`, modified_on: modifiedOn };
  for (const [k, f] of FIELDS.entries()) out[f] = `${f}-${i}-${k}${variant}`;
  return out;
}

/** Inserts `count` source rows, in transactions of 50,000 and statements as large as the dialect allows (bench/set-sql.ts). */
export async function seed(
  knex: Knex,
  table: string,
  count: number,
  variant = '',
  idOffset = 0,
  shape: (r: Record<string, string>, i: number) => void = () => undefined,
): Promise<void> {
  const stamp = new Date(Date.now() - 60_000).toISOString();
  const columns = ['id', 'modified_on', ...FIELDS];
  for (let start = 0; start < count; start += SEED_TRANSACTION) {
    const rows: string[][] = [];
    for (let i = start; i < Math.min(count, start + SEED_TRANSACTION); i++) {
      const r = row(i + idOffset, stamp, variant);
      shape(r, i);
      rows.push(columns.map((c) => r[c]));
    }
    await knex.transaction((trx) => insertRows(trx, table, columns, rows));
  }
}
