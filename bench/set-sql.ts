/**
 * Set-based statements for the baselines (the floor and the raw limit), written
 * by hand for each dialect rather than through the connector, so the baselines
 * stay what the database can do whatever the connector does.
 *
 * SQLite, as the store and the connector write them (store/sqlite-json-rows.ts):
 * - inserts: `insert ... select ... from json_each(?)`, the rows as one JSON
 *   parameter (node-sqlite3 binds each parameter on the JavaScript thread), as
 *   many rows per statement as the bound-parameter limit would allow;
 * - updates: `with v as materialized (select ... from json_each(?)) update t set ... from v where t.id = v.id`
 *   (UPDATE ... FROM needs SQLite >= 3.33; the bundled one is 3.52), chunked the same way;
 * - a VALUES list of bound parameters where JSON would not carry a value exactly.
 *
 * PostgreSQL: the same statements with `unnest` of one array parameter per
 * column in place of the VALUES list (`insert ... select * from unnest(?::text[], ...)`,
 * `with v(...) as (select * from unnest(...)) update ...`). Measured on this
 * machine, 1,000-row inserts into the bench table: 117,000 rows/s with unnest,
 * 38,000 with a 12,000-parameter VALUES list (its parse and bind cost per
 * parameter dominates), 25,000 with 5,000-row VALUES lists.
 */
import type { Knex } from 'knex';
import { isPostgres } from '../store/database-url';
import { sqliteInsertRows, sqliteValuesCte } from '../store/sqlite-json-rows';

export type SqlValue = string | number | boolean | null;
type Db = Knex | Knex.Transaction;

/** SQLITE_MAX_VARIABLE_NUMBER of the bundled SQLite (`pragma compile_options`: MAX_VARIABLE_NUMBER=32766). */
export const SQLITE_MAX_PARAMS = 32_766;

/** Rows of `columns` values that fit one SQLite statement beside `extra` other parameters. */
export const sqliteRowsPerStatement = (columns: number, extra = 0): number => Math.max(1, Math.floor((SQLITE_MAX_PARAMS - extra) / Math.max(1, columns)));

export interface ValuesColumn {
  name: string;
  /** PostgreSQL element type of the column's array. @default 'text' */
  type?: 'text' | 'integer' | 'boolean';
}

/** A PostgreSQL array literal of text elements: every element quoted, NULL bare. */
export function pgArray(values: readonly SqlValue[]): string {
  const element = (v: SqlValue): string => (v === null ? 'NULL' : `"${String(v).replace(/["\\]/g, (m) => `\\${m}`)}"`);
  return `{${values.map(element).join(',')}}`;
}

/** Column -> PostgreSQL type name (udt_name) of a table in the connection's schema, read once per connection config. */
const pgTypes = new WeakMap<object, Map<string, Promise<Map<string, string>>>>();

function pgColumnTypes(db: Db, table: string): Promise<Map<string, string>> {
  const config = db.client.config as object;
  const tables = pgTypes.get(config) ?? new Map<string, Promise<Map<string, string>>>();
  pgTypes.set(config, tables);
  let types = tables.get(table);
  if (!types) {
    types = db
      .raw('select column_name, udt_name from information_schema.columns where table_schema = current_schema() and table_name = ?', [table])
      .then((result: { rows: { column_name: string; udt_name: string }[] }) => new Map(result.rows.map((r) => [r.column_name, r.udt_name])));
    tables.set(table, types);
  }
  return types;
}

/** Inserts rows in as few statements as the dialect allows: one unnest per call on PostgreSQL, parameter-limit-sized VALUES lists on SQLite. */
export async function insertRows(db: Db, table: string, columns: readonly string[], rows: readonly (readonly SqlValue[])[]): Promise<void> {
  if (rows.length === 0) return;
  if (isPostgres(db)) {
    const types = await pgColumnTypes(db, table);
    const arrays = columns.map((c) => `?::${types.get(c) ?? 'text'}[]`);
    await db.raw(
      `insert into ${table} (${columns.join(', ')}) select * from unnest(${arrays.join(', ')})`,
      columns.map((_, j) => pgArray(rows.map((r) => r[j]))),
    );
    return;
  }
  const perStatement = sqliteRowsPerStatement(columns.length);
  for (let start = 0; start < rows.length; start += perStatement) {
    const part = rows.slice(start, start + perStatement);
    const source = sqliteInsertRows(columns, part);
    await db.raw(`insert into ${table} (${columns.join(', ')}) ${source.sql}`, source.bindings as Knex.RawBinding[]);
  }
}

/**
 * `with v(columns) as (<rows>) <statement>`, the rows as a VALUES list per parameter-limit-sized
 * chunk on SQLite and one unnest on PostgreSQL; `statement` refers to `v` and its own `bindings`
 * follow the rows'. Returns the rows the statement returns, if any.
 */
export async function withValues(
  db: Db,
  columns: readonly ValuesColumn[],
  rows: readonly (readonly SqlValue[])[],
  statement: string,
  bindings: readonly SqlValue[] = [],
): Promise<Record<string, unknown>[]> {
  if (rows.length === 0) return [];
  const names = columns.map((c) => c.name).join(', ');
  if (isPostgres(db)) {
    const arrays = columns.map((c) => `?::${c.type ?? 'text'}[]`).join(', ');
    const result = (await db.raw(`with v (${names}) as (select * from unnest(${arrays})) ${statement}`, [
      ...columns.map((_, j) => pgArray(rows.map((r) => r[j]))),
      ...bindings,
    ])) as { rows?: Record<string, unknown>[] };
    return result.rows ?? [];
  }
  const perStatement = sqliteRowsPerStatement(columns.length, bindings.length);
  const out: Record<string, unknown>[] = [];
  for (let start = 0; start < rows.length; start += perStatement) {
    const part = rows.slice(start, start + perStatement);
    const source = sqliteValuesCte(
      columns.map((c) => c.name),
      part,
    );
    const result: unknown = await db.raw(`with ${source.sql} ${statement}`, [...(source.bindings as SqlValue[]), ...bindings]);
    if (Array.isArray(result)) out.push(...(result as Record<string, unknown>[]));
  }
  return out;
}
