/**
 * What every stored mapping depends on, and the check a save makes with it: a
 * mapping whose `dependsOn` (or lookups, which are dependencies too) would close a cycle is refused, naming the cycle,
 * because no full synchronization could ever order such mappings. A dependency
 * on a mapping not saved yet is allowed here (mappings are often imported one
 * by one, in any order); a full synchronization refuses it when it starts.
 */
import type { Knex } from 'knex';
import { describeCycle, findCycle, type DependencyNode } from '../domain/dependency-order';
import { InvalidMappingError } from '../domain/mapping';
import { isPostgres } from './database-url';
import { TABLES } from './tables';

/**
 * Key of the PostgreSQL advisory lock that serializes the dependency check of
 * concurrent saves: without it, two saves could each add one half of a cycle,
 * each checking a graph without the other's half. (SQLite serializes writing
 * transactions already.)
 */
const SAVE_LOCK_KEY = 0x6d617073; // "maps"

/** Every stored mapping's name and dependencies (`dependsOn` and the mappings its enabled lookups reference), in name order. */
export async function readDependencies(db: Knex | Knex.Transaction): Promise<DependencyNode[]> {
  const rows: { name: string; depends_on: string }[] = await db(TABLES.mappings).select('name', 'depends_on').orderBy('name');
  const lookups: { mapping_name: string; lookup: string }[] = await db(TABLES.fieldMappings)
    .select('mapping_name', 'lookup')
    .whereNotNull('lookup')
    .where('enabled', true);
  const referenced = new Map<string, string[]>();
  for (const l of lookups) {
    const target = (JSON.parse(String(l.lookup)) as { mapping: string }).mapping;
    if (target !== l.mapping_name) referenced.set(l.mapping_name, [...(referenced.get(l.mapping_name) ?? []), target]);
  }
  return rows.map((r) => ({
    name: String(r.name),
    dependsOn: [...new Set([...(JSON.parse(String(r.depends_on)) as string[]), ...(referenced.get(String(r.name)) ?? [])])],
  }));
}

/** Refuses, naming the cycle, a mapping whose dependencies would close one among the stored mappings. */
export async function refuseDependencyCycle(trx: Knex.Transaction, mapping: DependencyNode): Promise<void> {
  if (mapping.dependsOn.length === 0) return;
  if (isPostgres(trx)) await trx.raw('select pg_advisory_xact_lock(?)', [SAVE_LOCK_KEY]);
  const others = (await readDependencies(trx)).filter((n) => n.name !== mapping.name);
  const cycle = findCycle([...others, mapping], mapping.name);
  if (!cycle) return;
  throw new InvalidMappingError(
    `Mapping ${mapping.name} is invalid: dependsOn: the mappings would depend on each other in a cycle (${describeCycle(cycle)}); ` +
      `remove one of these dependencies.`,
  );
}
