/**
 * Every row of the store and of both test systems, to prove a run wrote
 * nothing, and the check that the tables themselves still exist (an injection
 * that got through would drop or empty one).
 */
import type { Knex } from 'knex';
import { TABLES } from '../../store/tables';
import type { Store } from '../../store/store';

export type Rows = Record<string, unknown>[];

export interface Snapshot {
  mappings: Rows;
  fieldMappings: Rows;
  couplings: Rows;
  jobs: Rows;
  jobErrors: Rows;
  customer: Rows;
  account: Rows;
}

export interface SystemsKnex {
  local: Knex;
  integration: Knex;
}

const all = (knex: Knex, table: string, orderBy: string): Promise<Rows> => knex(table).select().orderBy(orderBy);

export async function snapshot(store: Store, systems: SystemsKnex): Promise<Snapshot> {
  const [mappings, fieldMappings, couplings, jobs, jobErrors, customer, account] = await Promise.all([
    all(store.knex, TABLES.mappings, 'name'),
    store.knex(TABLES.fieldMappings).select().orderBy(['mapping_name', 'id']),
    all(store.knex, TABLES.couplings, 'id'),
    all(store.knex, TABLES.jobs, 'id'),
    all(store.knex, TABLES.jobErrors, 'id'),
    all(systems.local, 'customer', 'id'),
    all(systems.integration, 'account', 'id'),
  ]);
  return { mappings, fieldMappings, couplings, jobs, jobErrors, customer, account };
}

export function counts(s: Snapshot): Record<keyof Snapshot, number> {
  return Object.fromEntries(Object.entries(s).map(([k, rows]) => [k, (rows as Rows).length])) as Record<keyof Snapshot, number>;
}

/** Tables that must exist after anything a caller can send: the store's and both systems'. */
export async function missingTables(store: Store, systems: SystemsKnex): Promise<string[]> {
  const wanted: [Knex, string][] = [
    ...Object.values(TABLES).map((t): [Knex, string] => [store.knex, t]),
    [systems.local, 'customer'],
    [systems.integration, 'account'],
  ];
  const missing: string[] = [];
  for (const [knex, table] of wanted) if (!(await knex.schema.hasTable(table))) missing.push(table);
  return missing;
}
