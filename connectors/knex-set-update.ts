/**
 * Updates of many rows of a table in one statement per chunk, each row only
 * where it still has the version it was read with, reporting which rows were
 * updated (`RETURNING`), so conflicts and missing rows are still told apart
 * per record. Rows that write the same columns share a statement:
 *
 * - SQLite: `WITH v(k, e, c0, ...) AS (VALUES (?, ?, ?), ...) UPDATE t SET a = v.c0 ... FROM v`
 *   (SQLite 3.33 and later), chunked under the parameter limit; the rows go as
 *   one JSON parameter (`json_each`) where JSON carries every value, else one
 *   bound value per cell;
 * - PostgreSQL: `UPDATE t SET a = v.a ... FROM jsonb_populate_recordset(null::t, ?) v`,
 *   one JSON parameter per chunk whose cells PostgreSQL converts to the columns'
 *   own types (untyped VALUES would be text, which an integer column refuses).
 *
 * Row by row is what the alternative costs: one round trip per record.
 */
import type { Knex } from 'knex';
import type { UpdateRecord } from './connector';
import { chunk } from '../common/collections';
import { isPostgres } from '../store/database-url';
import { sqliteValuesCte } from '../store/sqlite-json-rows';

export interface SetUpdateTarget {
  table: string;
  idColumn: string;
  modifiedOnColumn: string;
  /** The modified-on every updated row gets. */
  modifiedOn: string;
  /** Bound parameters one statement may carry. */
  maxParams: number;
}

/** Whether this database takes the statements above; others update row by row. */
export function supportsSetUpdate(knex: Knex): boolean {
  return isPostgres(knex) || /sqlite/i.test(String(knex.client.config.client));
}

/** Records grouped by the columns they write; each group's ids distinct (a repeated id goes to a later group). Linear. */
function groups(records: readonly UpdateRecord[], modifiedOnColumn: string): UpdateRecord[][] {
  const byColumns = new Map<string, { records: UpdateRecord[]; ids: Set<string> }[]>();
  for (const record of records) {
    const key = Object.keys(record.values)
      .filter((c) => c !== modifiedOnColumn)
      .sort()
      .join('\u0000');
    const rounds = byColumns.get(key) ?? [];
    // Repeats are rare: the first round nearly always takes the record.
    let round = rounds.find((r) => !r.ids.has(record.id));
    if (!round) rounds.push((round = { records: [], ids: new Set() }));
    round.records.push(record);
    round.ids.add(record.id);
    byColumns.set(key, rounds);
  }
  return [...byColumns.values()].flatMap((rounds) => rounds.map((r) => r.records));
}

function returnedIds(result: unknown, idColumn: string): string[] {
  const rows = Array.isArray(result) ? result : ((result as { rows?: unknown[] } | null)?.rows ?? []);
  return rows.map((r) => String((r as Record<string, unknown>)[idColumn]));
}

async function updateSqlite(
  db: Knex | Knex.Transaction,
  target: SetUpdateTarget,
  part: readonly UpdateRecord[],
  columns: readonly string[],
): Promise<string[]> {
  const { table, idColumn, modifiedOnColumn, modifiedOn } = target;
  const names = ['k', 'e', ...columns.map((_, i) => `c${i}`)];
  const tuples = part.map((record) => [record.id, record.expectedVersion ?? null, ...columns.map((c) => record.values[c])]);
  const source = sqliteValuesCte(names, tuples);
  const sets = columns.map((_, i) => `?? = v.c${i}`).join(', ');
  const sql =
    `with ${source.sql} update ?? set ${sets}${columns.length ? ', ' : ''}?? = ? from v ` + 'where ??.?? = v.k and (v.e is null or ??.?? = v.e) returning ??';
  const result: unknown = await db.raw(sql, [
    ...(source.bindings as Knex.Value[]),
    table,
    ...columns,
    modifiedOnColumn,
    modifiedOn,
    table,
    idColumn,
    table,
    modifiedOnColumn,
    idColumn,
  ]);
  return returnedIds(result, idColumn);
}

async function updatePostgres(
  db: Knex | Knex.Transaction,
  target: SetUpdateTarget,
  part: readonly UpdateRecord[],
  columns: readonly string[],
): Promise<string[]> {
  const { table, idColumn, modifiedOnColumn, modifiedOn } = target;
  // The row type's id column holds the record's id and its modified-on column the expected version (null: none).
  const rows = part.map((r) => ({ ...r.values, [idColumn]: r.id, [modifiedOnColumn]: r.expectedVersion ?? null }));
  const sets = columns.map(() => '?? = v.??').join(', ');
  const sql =
    `update ?? as t set ${sets}${columns.length ? ', ' : ''}?? = ? from jsonb_populate_recordset(null::??, ?::jsonb) as v ` +
    'where t.?? = v.?? and (v.?? is null or t.?? = v.??) returning t.??';
  const result: unknown = await db.raw(sql, [
    table,
    ...columns.flatMap((c) => [c, c]),
    modifiedOnColumn,
    modifiedOn,
    table,
    JSON.stringify(rows),
    idColumn,
    idColumn,
    modifiedOnColumn,
    modifiedOnColumn,
    modifiedOnColumn,
    idColumn,
  ]);
  return returnedIds(result, idColumn);
}

/** Updates the records; returns the ids of the rows updated (the others are missing or changed since they were read). */
export async function setUpdate(db: Knex | Knex.Transaction, target: SetUpdateTarget, records: readonly UpdateRecord[]): Promise<Set<string>> {
  const updated = new Set<string>();
  const postgres = isPostgres(db);
  for (const group of groups(records, target.modifiedOnColumn)) {
    const columns = Object.keys(group[0].values).filter((c) => c !== target.modifiedOnColumn);
    // PostgreSQL takes the chunk as one JSON value; SQLite too where JSON carries it, and the chunk stays bindable.
    const perStatement = postgres ? 1000 : Math.max(1, Math.floor((target.maxParams - 10) / (columns.length + 2)));
    for (const part of chunk(group, perStatement)) {
      const ids = postgres ? await updatePostgres(db, target, part, columns) : await updateSqlite(db, target, part, columns);
      for (const id of ids) updated.add(id);
    }
  }
  return updated;
}
